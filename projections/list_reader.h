#pragma once
// Answers ListQuery from the list indexes (projections/view_keys.h).
//
// The most selective filter picks the index (external ref, owner, type,
// queue, one status, else all jobs); the remaining filters are checked on
// each candidate's status record. A page costs what it reads: with one
// indexed filter (or none) that is the page itself. Totals come from the
// per-index counters; only queries that combine filters, or narrow by
// created time, count by walking their index.
//
// Pages are keyset-paginated: the cursor is the last item's sort key, so
// jobs arriving meanwhile never shift a page (no skipped or repeated
// items when sorting by creation time).
#include <rocksdb/db.h>

#include "domain/error.h"
#include "projections/list_query.h"

namespace jobtrail {

Result<ListPage> ReadListPage(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                              const ListQuery& query);

}  // namespace jobtrail
