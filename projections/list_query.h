#pragma once
// A query over the list indexes (SPEC §4) and the page it answers.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail {

enum class SortField { kCreated, kUpdated };

struct ListQuery {
  std::vector<JobStatus> statuses;  // empty: any
  std::string type;                 // empty: any (likewise below)
  std::string queue;
  std::string owner;
  std::string external_ref;
  std::optional<Millis> created_after;   // inclusive
  std::optional<Millis> created_before;  // exclusive
  SortField sort = SortField::kCreated;
  bool descending = true;
  size_t limit = 50;    // 1..1000
  size_t skip = 0;      // offset, for clients that page by number
  std::string cursor;   // opaque, from ListPage::next_cursor; wins over skip
  // Search words (search_terms.h): only jobs with a token starting with
  // each word, newest first, from the search index (search_reader.h).
  std::string text;
};

struct ListPage {
  std::vector<std::string> items_json;  // status documents, in order
  uint64_t total = 0;                   // jobs matching the filters
  bool has_more = false;
  std::string next_cursor;  // empty when !has_more
  // False when `total` is a lower bound: a search counts at most
  // kMaxSearchCount matches.
  bool total_exact = true;
  std::vector<std::string> ids;      // the items' job ids, in order
  std::vector<JobStatus> statuses;   // and their statuses
};

}  // namespace jobtrail
