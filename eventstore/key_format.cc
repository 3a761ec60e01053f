#include "eventstore/key_format.h"

namespace jobtrail::eventstore::key_format {

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
}
uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(in[i]);
  return v;
}
uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | uint8_t(in[i]);
  return v;
}

std::string PositionKey(uint64_t position) {
  std::string key;
  PutU64(key, position);
  return key;
}

std::string StreamPrefix(std::string_view stream) {
  std::string key;
  key.reserve(4 + stream.size() + 8);
  PutU32(key, uint32_t(stream.size()));
  key.append(stream);
  return key;
}

std::string StreamKey(std::string_view stream, uint64_t version) {
  std::string key = StreamPrefix(stream);
  PutU64(key, version);
  return key;
}

std::string EncodeRecord(const StoredEvent& e) {
  std::string out;
  out.reserve(4 + e.stream.size() + 8 + 4 + e.event_id.size() + kHashSize + e.data.size());
  PutU32(out, uint32_t(e.stream.size()));
  out.append(e.stream);
  PutU64(out, e.version);
  PutU32(out, uint32_t(e.event_id.size()));
  out.append(e.event_id);
  out.append(e.hash);
  out.append(e.data);
  return out;
}

std::optional<StoredEvent> DecodeRecord(uint64_t position, std::string_view in) {
  StoredEvent e;
  e.position = position;
  if (in.size() < 4) return std::nullopt;
  const uint32_t stream_len = GetU32(in);
  in.remove_prefix(4);
  if (in.size() < size_t(stream_len) + 8 + 4) return std::nullopt;
  e.stream.assign(in.substr(0, stream_len));
  in.remove_prefix(stream_len);
  e.version = GetU64(in);
  in.remove_prefix(8);
  const uint32_t id_len = GetU32(in);
  in.remove_prefix(4);
  if (in.size() < size_t(id_len) + kHashSize) return std::nullopt;
  e.event_id.assign(in.substr(0, id_len));
  in.remove_prefix(id_len);
  e.hash.assign(in.substr(0, kHashSize));
  in.remove_prefix(kHashSize);
  e.data.assign(in);
  return e;
}

}  // namespace jobtrail::eventstore::key_format
