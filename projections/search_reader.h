#pragma once
// Answers a ListQuery with search words (ListQuery::text) from the search
// index (search_keys.h), never by reading jobs that do not match.
//
// Every word's postings and every list index the filters name (external
// ref, owner, type, queue, one status) are sorted by creation time with the
// same order bytes, so the page is their intersection, walked as a
// leapfrog join: each source seeks to the newest candidate the others
// allow. A page costs its matches plus the seeks between them; a job is
// read (its status record) only when it matches. Words longer than the
// indexed prefixes are checked against the job's tokens; several statuses
// are checked on the status record.
//
// Sorted by creation time only (newest first unless ascending); the cursor
// has the list's format. `total` counts matches up to kMaxSearchCount
// (total_exact false beyond).
#include <rocksdb/db.h>

#include "domain/error.h"
#include "projections/list_query.h"

namespace jobtrail {

inline constexpr uint64_t kMaxSearchCount = 1000;

// Errors: kInvalidArgument/INVALID_INPUT (no words, too many, sort by
// update time), INVALID_CURSOR; kInternal (I/O).
Result<ListPage> ReadSearchPage(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                                const ListQuery& query);

}  // namespace jobtrail
