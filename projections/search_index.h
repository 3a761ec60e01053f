#pragma once
// Keeps the search index (search_keys.h) as the projector applies events:
// the words an event adds to its job (search_terms.h) become posting rows,
// and a job that expires takes its rows with it. Only events that carry
// text add words (enqueued, errored, failed, logged); the others cost
// nothing.
//
// A job's words are a pure function of its events: tokens merged in event
// order up to kMaxTokensPerJob. The rows that take the views from the
// tokens stored to the tokens now are written by WriteSearchRows, which the
// live projector (SearchIndex) and the rebuild (rebuild.cc, which folds the
// tokens beside the job) both call, so a live server and a rebuild write
// the same rows whatever the batching.
#include <rocksdb/db.h>

#include <optional>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

#include "domain/error.h"
#include "domain/job_view.h"
#include "projections/search_terms.h"
#include "projections/view_rows.h"

namespace jobtrail {

// Adds the words `event` brings to its job to `tokens`, in order.
void AddEventWords(const RecordedEvent& event, search::TokenSet& tokens);

// Which job the rows are of: what their keys hold.
struct SearchJob {
  std::string_view job_id;
  Millis created_at = 0;
  uint64_t created_position = 0;
  static SearchJob Of(const JobView& j) { return {j.job_id, j.created_at, j.created_position}; }
};

// The rows that turn the job's stored words (tokens[0, stored), in the
// views when `in_views`) into all of `tokens`: a posting per new term and
// the tokens row. Nothing when nothing is new.
void WriteSearchRows(const SearchJob& job, const std::vector<std::string>& tokens, size_t stored,
                     bool in_views, RowSink& sink);
// Removes every row of the job's stored words (tokens[0, stored)).
void RemoveSearchRows(const SearchJob& job, const std::vector<std::string>& tokens,
                      size_t stored, RowSink& sink);

// The live side: the projector's batches. Not thread-safe: owned by the
// Projector, used on its thread.
class SearchIndex {
 public:
  // Adds what `event` (already applied: `after` is the job with it) brings,
  // reading the job's stored words (the state before the batch) from
  // `views` the first time the batch touches it.
  // Errors: kInternal (I/O), kDataLoss (a malformed row).
  Result<void> Observe(rocksdb::DB* views, const JobView& after, const RecordedEvent& event);
  // Writes the rows of every job observed since the last call to `sink`
  // (a job whose expiry was observed leaves the index).
  void Flush(RowSink& sink);
  // The rows of the last Flush are in the views: they may be read back from
  // memory from now on.
  void Committed();

 private:
  struct Pending {
    Millis created_at = 0;
    uint64_t created_position = 0;
    bool expired = false;
    search::TokenSet tokens;
    size_t stored = 0;
    bool in_views = false;
  };
  Result<void> Load(rocksdb::DB* views, const std::string& job_id, Pending& into);

  std::unordered_map<std::string, Pending> pending_;
  // What the last Flush wrote (nullopt: removed), for Committed().
  std::vector<std::pair<std::string, std::optional<std::vector<std::string>>>> flushed_;
  // Tokens of recently indexed jobs, so a job that logs a lot is not read
  // back for every batch. Cleared when it grows past its limit.
  std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace jobtrail
