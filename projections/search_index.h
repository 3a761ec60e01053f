#pragma once
// Keeps the search index (search_keys.h) as the projector applies events:
// the words an event adds to its job (search_terms.h) become posting rows,
// and a job that expires takes its rows with it. Only events that carry
// text touch it (enqueued, errored, failed, logged); the others cost
// nothing.
//
// A pure function of the log, whatever the batching: a job's tokens are
// merged in event order up to kMaxTokensPerJob, so a live server and a
// rebuild write the same rows.
//
// Not thread-safe: owned by the Projector, used on its thread.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/job_view.h"

namespace jobtrail {

class SearchIndex {
 public:
  // Notes what `event` (already applied: `after` is the job with it) adds.
  void Observe(const JobView& after, const RecordedEvent& event);
  // Adds the rows of everything observed since the last call to `batch`,
  // reading the jobs' stored tokens (the state before the batch) from
  // `views`. Errors: kInternal (I/O), kDataLoss (a malformed row).
  Result<void> Flush(rocksdb::DB* views, rocksdb::WriteBatch& batch);

 private:
  struct Pending {
    bool is_new = false;   // enqueued in this batch: nothing stored yet
    bool expired = false;  // leaves the index
    Millis created_at = 0;
    uint64_t created_position = 0;
    // In event order; `second`: the text is a JSON document (a payload).
    std::vector<std::pair<std::string, bool>> texts;
  };
  struct Stored {
    bool found = false;
    std::vector<std::string> tokens;
  };
  Result<Stored> Load(rocksdb::DB* views, const std::string& job_id);

  std::map<std::string, Pending> pending_;  // ordered: a deterministic batch
  // Tokens of recently indexed jobs, so a job that logs a lot is not read
  // back for every batch. Cleared when it grows past its limit.
  std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace jobtrail
