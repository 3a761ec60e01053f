#pragma once
// The archive of compacted streams: what RocksEventLog::ArchiveStreams
// takes out of the log. A directory of NDJSON files, one per UTC day
// (`events-2024-01-15.ndjson`, or `.ndjson.gz` with gzip), only ever
// appended to. Each archived stream is one segment of one file - a run of
// lines, one per event in version order; with gzip each segment is a gzip
// member of its own (a .gz file is then a valid multi-member gzip stream,
// so `zcat` reads it whole) - and the stream's tombstone in the log says
// where (ArchiveRef), so reading a stream back is one seek.
//
// A line carries every field of the record and the hash of the record
// before it in the log, so the archive proves its own part of the hash
// chain (log_verifier.h):
//   {"position":7,"stream":"job-1","version":3,"event_id":"e-7",
//    "hash":"<64 hex>","prev_hash":"<64 hex>","data":"<base64>",
//    "event":{...}}
// "event" is the event as people read it (the renderer's JSON; absent
// without one): the archive stays readable with jq and zcat alone.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {

enum class ArchiveCompression { kNone, kGzip };

struct ArchiveRef {
  std::string file;  // a file name inside the archive directory
  uint64_t offset = 0;
  uint64_t length = 0;
};

using ArchivedRecord = ArchivedEvent;

// The event as JSON text for people (an object), or "" for none.
using ArchiveRenderer = std::function<std::string(const StoredEvent&)>;

class Archive {
 public:
  Archive(std::string dir, ArchiveCompression compression, ArchiveRenderer renderer);

  const std::string& dir() const { return dir_; }

  // Appends one segment per stream (records in version order) to today's
  // file and makes them durable (fdatasync; the directory too when the file
  // is new) before returning where each went. Errors: kIOError.
  StoreResult<std::vector<ArchiveRef>> Write(
      const std::vector<std::vector<ArchivedRecord>>& streams) const;
  // One segment's records. Errors: kNotFound (the file is gone),
  // kCorruption (the bytes there are not a segment), kIOError.
  StoreResult<std::vector<ArchivedRecord>> Read(const ArchiveRef& ref) const;

 private:
  std::string Line(const ArchivedRecord& record) const;

  std::string dir_;
  ArchiveCompression compression_;
  ArchiveRenderer renderer_;
};

// Encodes/decodes the ref kept in a stream's tombstone.
void EncodeArchiveRef(const ArchiveRef& ref, std::string& out);  // appends
std::optional<ArchiveRef> DecodeArchiveRef(std::string_view in);

}  // namespace jobtrail::eventstore
