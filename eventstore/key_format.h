#pragma once
// The on-disk layout of the RocksDB event log. Described in
// eventstore/FORMAT.md; change both together, and only compatibly.
//
// Column families:
//   default  "format" -> kFormatMarker  (identifies a jobtrail data directory)
//            "head"   -> u64 BE position | 32-byte hash of the last record
//                        (written with every append, so dropping the last
//                        records shows as a log shorter than its head)
//   log      position (u64 BE)                          -> record
//   streams  u32 BE length | stream | version (u64 BE)  -> position (u64 BE)
//   ids      event id                                   -> id entry
// record   = u32 BE stream length | stream | u64 BE version
//          | u32 BE event-id length | event id | 32-byte chain hash | data
// id entry = u64 BE position | u32 BE index in its append | u32 BE events in
//            that append (lets a retried append be told from a partial reuse)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore::key_format {

inline constexpr std::string_view kFormatKey = "format";
inline constexpr std::string_view kFormatMarker = "jobtrail-eventlog-v1";
inline constexpr std::string_view kHeadKey = "head";
// Compaction (FORMAT.md, "Compaction"): where the archive is, and the
// position up to which expired streams have been looked for.
inline constexpr std::string_view kArchiveDirKey = "archive_dir";
inline constexpr std::string_view kCompactedKey = "compacted";
inline constexpr std::string_view kArchivedThroughKey = "archived_through";  // highest archived
inline constexpr std::string_view kLogFamily = "log";
inline constexpr std::string_view kStreamsFamily = "streams";
inline constexpr std::string_view kIdsFamily = "ids";
inline constexpr size_t kHashSize = 32;
inline constexpr size_t kPositionKeySize = 8;

void PutU64(std::string& out, uint64_t v);
void PutU32(std::string& out, uint32_t v);
uint64_t GetU64(std::string_view in);  // in.size() >= 8
uint32_t GetU32(std::string_view in);  // in.size() >= 4

std::string PositionKey(uint64_t position);
std::string StreamPrefix(std::string_view stream);
std::string StreamKey(std::string_view stream, uint64_t version);
void StreamKeyInto(std::string_view stream, uint64_t version, std::string& out);  // replaces out

// The fields of one record, as views; what EncodeRecord writes.
struct RecordView {
  std::string_view stream;
  uint64_t version = 0;
  std::string_view event_id;
  std::string_view hash;  // kHashSize bytes
  std::string_view data;
};

std::string EncodeRecord(const StoredEvent& event);
// Replaces `out` with the encoding of `record`; reuses out's capacity.
void EncodeRecordInto(const RecordView& record, std::string& out);
// Parses a record in place (views into `record`); nullopt if malformed.
std::optional<RecordView> ParseRecord(std::string_view record);
// Parses a record stored under `position`; nullopt if it is malformed.
std::optional<StoredEvent> DecodeRecord(uint64_t position, std::string_view record);

struct Head {
  uint64_t position = 0;
  std::string hash;
};
std::string EncodeHead(uint64_t position, std::string_view hash);
std::optional<Head> DecodeHead(std::string_view value);

// A gap record: the value under a range's first position in `log` once the
// records first..last were archived: a stream length no stream has, then
// u64 last | 32-byte hash of the record at last.
inline constexpr uint32_t kGapMarker = 0xFFFFFFFF;
inline constexpr size_t kGapValueSize = 4 + 8 + kHashSize;
bool IsGapValue(std::string_view value);
std::string EncodeGap(uint64_t last, std::string_view hash);
std::optional<Gap> DecodeGap(uint64_t first, std::string_view value);

// A stream's tombstone: once the stream was archived, its one entry left in
// `streams`, under version 1: u64 position of its last version | u64 last
// version | archive ref (archive.h). A plain index entry is the u64
// position alone.
inline constexpr size_t kTombstoneHeaderSize = 16;
inline bool IsTombstoneValue(std::string_view value) { return value.size() > kPositionKeySize; }
// The last version of a tombstone (IsTombstoneValue, size checked).
inline uint64_t TombstoneLastVersion(std::string_view value) { return GetU64(value.substr(8)); }

struct IdEntry {
  uint64_t position = 0;
  uint32_t index = 0;  // 0 for the first event of an append
  uint32_t count = 0;  // events in that append
};
inline constexpr size_t kIdEntrySize = 16;
std::string EncodeIdEntry(const IdEntry& entry);
void EncodeIdEntryInto(const IdEntry& entry, std::string& out);  // replaces out
std::optional<IdEntry> DecodeIdEntry(std::string_view value);

}  // namespace jobtrail::eventstore::key_format
