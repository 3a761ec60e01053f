#include "eventstore/key_format.h"

namespace jobtrail::eventstore::key_format {

void PutU64(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i, v >>= 8) buf[i] = char(v & 0xff);
  out.append(buf, sizeof(buf));
}
void PutU32(std::string& out, uint32_t v) {
  char buf[4];
  for (int i = 3; i >= 0; --i, v >>= 8) buf[i] = char(v & 0xff);
  out.append(buf, sizeof(buf));
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
  std::string key;
  StreamKeyInto(stream, version, key);
  return key;
}

void StreamKeyInto(std::string_view stream, uint64_t version, std::string& out) {
  out.clear();
  out.reserve(4 + stream.size() + 8);
  PutU32(out, uint32_t(stream.size()));
  out.append(stream);
  PutU64(out, version);
}

void EncodeRecordInto(const RecordView& r, std::string& out) {
  out.clear();
  out.reserve(4 + r.stream.size() + 8 + 4 + r.event_id.size() + kHashSize + r.data.size());
  PutU32(out, uint32_t(r.stream.size()));
  out.append(r.stream);
  PutU64(out, r.version);
  PutU32(out, uint32_t(r.event_id.size()));
  out.append(r.event_id);
  out.append(r.hash);
  out.append(r.data);
}

std::string EncodeRecord(const StoredEvent& e) {
  std::string out;
  EncodeRecordInto({e.stream, e.version, e.event_id, e.hash, e.data}, out);
  return out;
}

std::optional<RecordView> ParseRecord(std::string_view in) {
  RecordView r;
  if (in.size() < 4) return std::nullopt;
  const uint32_t stream_len = GetU32(in);
  in.remove_prefix(4);
  if (in.size() < size_t(stream_len) + 8 + 4) return std::nullopt;
  r.stream = in.substr(0, stream_len);
  in.remove_prefix(stream_len);
  r.version = GetU64(in);
  in.remove_prefix(8);
  const uint32_t id_len = GetU32(in);
  in.remove_prefix(4);
  if (in.size() < size_t(id_len) + kHashSize) return std::nullopt;
  r.event_id = in.substr(0, id_len);
  in.remove_prefix(id_len);
  r.hash = in.substr(0, kHashSize);
  in.remove_prefix(kHashSize);
  r.data = in;
  return r;
}

std::optional<StoredEvent> DecodeRecord(uint64_t position, std::string_view in) {
  auto r = ParseRecord(in);
  if (!r) return std::nullopt;
  StoredEvent e;
  e.position = position;
  e.stream.assign(r->stream);
  e.version = r->version;
  e.event_id.assign(r->event_id);
  e.hash.assign(r->hash);
  e.data.assign(r->data);
  return e;
}

std::string EncodeHead(uint64_t position, std::string_view hash) {
  std::string out;
  out.reserve(8 + kHashSize);
  PutU64(out, position);
  out.append(hash);
  return out;
}

std::optional<Head> DecodeHead(std::string_view value) {
  if (value.size() != 8 + kHashSize) return std::nullopt;
  return Head{GetU64(value), std::string(value.substr(8))};
}

std::string EncodeIdEntry(const IdEntry& entry) {
  std::string out;
  EncodeIdEntryInto(entry, out);
  return out;
}

void EncodeIdEntryInto(const IdEntry& entry, std::string& out) {
  out.clear();
  PutU64(out, entry.position);
  PutU32(out, entry.index);
  PutU32(out, entry.count);
}

std::optional<IdEntry> DecodeIdEntry(std::string_view value) {
  if (value.size() != kIdEntrySize) return std::nullopt;
  IdEntry entry{GetU64(value), GetU32(value.substr(8)), GetU32(value.substr(12))};
  if (entry.position == 0 || entry.count == 0 || entry.index >= entry.count) return std::nullopt;
  return entry;
}

bool IsGapValue(std::string_view value) {
  return value.size() == kGapValueSize && GetU32(value) == kGapMarker;
}

std::string EncodeGap(uint64_t last, std::string_view hash) {
  std::string out;
  PutU32(out, kGapMarker);
  PutU64(out, last);
  out.append(hash);
  return out;
}

std::optional<Gap> DecodeGap(uint64_t first, std::string_view value) {
  if (!IsGapValue(value)) return std::nullopt;
  Gap gap;
  gap.first = first;
  gap.last = GetU64(value.substr(4));
  gap.last_hash = std::string(value.substr(12, kHashSize));
  if (gap.last < first) return std::nullopt;
  return gap;
}

}  // namespace jobtrail::eventstore::key_format
