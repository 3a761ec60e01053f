#include "eventstore/internal/store_errors.h"
#include "eventstore/archive.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore {
namespace fs = std::filesystem;
namespace {

using internal::Corruption;
using internal::IoError;

StoreError Damaged(const ArchiveRef& ref, std::string_view why) {
  return StoreError{StoreCode::kCorruption,
                    fmt::format("archive {} at {}: {}", ref.file, ref.offset, why), 0};
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                int(bytes.size()));
  out.resize(size_t(n));
  return out;
}

std::optional<std::string> Unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                int(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;  // EVP_DecodeBlock counts '=' as zero bytes
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i) ++padding;
  out.resize(size_t(n) - padding);
  return out;
}

// One gzip member holding `text`.
std::optional<std::string> Gzip(std::string_view text) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&zs, uLong(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

std::optional<std::string> Gunzip(std::string_view member) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(member.data()));
  zs.avail_in = uInt(member.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  const bool whole = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  if (!whole) return std::nullopt;
  return out;
}

std::string Today(ArchiveCompression compression) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("events-{:04}-{:02}-{:02}.ndjson{}", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, compression == ArchiveCompression::kGzip ? ".gz" : "");
}

bool SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::optional<ArchivedRecord> ParseLine(std::string_view line) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto str = [&](const char* key) -> std::optional<std::string_view> {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  auto u64 = [&](const char* key) -> std::optional<uint64_t> {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd() || !it->value.IsUint64()) return std::nullopt;
    return it->value.GetUint64();
  };
  auto position = u64("position"), version = u64("version");
  auto stream = str("stream"), event_id = str("event_id");
  auto hash_hex = str("hash"), prev_hex = str("prev_hash"), data64 = str("data");
  if (!position || !version || !stream || !event_id || !hash_hex || !prev_hex || !data64) {
    return std::nullopt;
  }
  auto hash = Unhex(*hash_hex), prev = Unhex(*prev_hex);
  auto data = Unbase64(*data64);
  if (!hash || !prev || !data || hash->size() != key_format::kHashSize ||
      prev->size() != key_format::kHashSize) {
    return std::nullopt;
  }
  ArchivedRecord r;
  r.event.position = *position;
  r.event.stream = std::string(*stream);
  r.event.version = *version;
  r.event.event_id = std::string(*event_id);
  r.event.hash = std::move(*hash);
  r.event.data = std::move(*data);
  r.prev_hash = std::move(*prev);
  return r;
}

}  // namespace

Archive::Archive(std::string dir, ArchiveCompression compression, ArchiveRenderer renderer)
    : dir_(std::move(dir)), compression_(compression), renderer_(std::move(renderer)) {}

std::string Archive::Line(const ArchivedRecord& r) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto string = [&](const char* key, std::string_view value) {
    w.Key(key);
    w.String(value.data(), rapidjson::SizeType(value.size()));
  };
  w.StartObject();
  w.Key("position");
  w.Uint64(r.event.position);
  string("stream", r.event.stream);
  w.Key("version");
  w.Uint64(r.event.version);
  string("event_id", r.event.event_id);
  string("hash", Hex(r.event.hash));
  string("prev_hash", Hex(r.prev_hash));
  string("data", Base64(r.event.data));
  if (renderer_) {
    const std::string event = renderer_(r.event);
    if (!event.empty()) {
      w.Key("event");
      w.RawValue(event.data(), event.size(), rapidjson::kObjectType);
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

StoreResult<std::vector<ArchiveRef>> Archive::Write(
    const std::vector<std::vector<ArchivedRecord>>& streams) const {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    fs::create_directories(dir_, ec);
    if (!ec) fs::permissions(dir_, fs::perms::owner_all, ec);  // every job's data
    if (ec) return IoError(fmt::format("cannot create the archive directory: {}", ec.message()));
  }
  const std::string name = Today(compression_);
  const std::string path = (fs::path(dir_) / name).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool created = fd >= 0;
  if (!created && errno == EEXIST) fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return IoError(fmt::format("archive {}: {}", name, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError(fmt::format("archive {}: {}", name, std::strerror(errno)));
  // A torn segment from a crash may end the file: nothing refers to it,
  // and new segments start after it.
  uint64_t offset = uint64_t(st.st_size);
  std::vector<ArchiveRef> refs;
  std::string bytes;
  for (const auto& records : streams) {
    std::string text;
    for (const ArchivedRecord& r : records) text += Line(r);
    if (compression_ == ArchiveCompression::kGzip) {
      auto packed = Gzip(text);
      if (!packed) return IoError("archive: gzip failed");
      text = std::move(*packed);
    }
    refs.push_back(ArchiveRef{name, offset + bytes.size(), text.size()});
    bytes += text;
  }
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(fmt::format("archive {}: {}", name, std::strerror(errno)));
    done += size_t(n);
  }
  if (::fdatasync(fd) != 0) {
    return IoError(fmt::format("archive {}: sync: {}", name, std::strerror(errno)));
  }
  if (created && !SyncDirectory(dir_)) return IoError("archive: syncing the directory failed");
  return refs;
}

StoreResult<std::vector<ArchivedRecord>> Archive::Read(const ArchiveRef& ref) const {
  if (ref.file.find('/') != std::string::npos || ref.file.empty() || ref.file[0] == '.') {
    return Damaged(ref, "not a file name");
  }
  const std::string path = (fs::path(dir_) / ref.file).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return StoreError{StoreCode::kNotFound,
                        fmt::format("archive file {} is missing from {}", ref.file, dir_), 0};
    }
    return IoError(fmt::format("archive {}: {}", ref.file, std::strerror(errno)));
  }
  std::string bytes(ref.length, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, off_t(ref.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  ::close(fd);
  if (done != bytes.size()) return Damaged(ref, "the file ends before the segment does");
  if (ref.file.size() > 3 && ref.file.compare(ref.file.size() - 3, 3, ".gz") == 0) {
    auto text = Gunzip(bytes);
    if (!text) return Damaged(ref, "not a gzip member");
    bytes = std::move(*text);
  }
  std::vector<ArchivedRecord> records;
  size_t start = 0;
  while (start < bytes.size()) {
    const size_t end = bytes.find('\n', start);
    if (end == std::string::npos) return Damaged(ref, "a line is cut short");
    auto record = ParseLine(std::string_view(bytes).substr(start, end - start));
    if (!record) return Damaged(ref, "a line is not an archived record");
    records.push_back(std::move(*record));
    start = end + 1;
  }
  return records;
}

void EncodeArchiveRef(const ArchiveRef& ref, std::string& out) {
  key_format::PutU32(out, uint32_t(ref.file.size()));
  out += ref.file;
  key_format::PutU64(out, ref.offset);
  key_format::PutU64(out, ref.length);
}

std::optional<ArchiveRef> DecodeArchiveRef(std::string_view in) {
  if (in.size() < 4) return std::nullopt;
  const uint32_t n = key_format::GetU32(in);
  if (in.size() != 4 + size_t(n) + 16) return std::nullopt;
  ArchiveRef ref;
  ref.file = std::string(in.substr(4, n));
  ref.offset = key_format::GetU64(in.substr(4 + n));
  ref.length = key_format::GetU64(in.substr(4 + n + 8));
  return ref;
}

}  // namespace jobtrail::eventstore
