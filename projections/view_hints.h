#pragma once
// Memtable insert hints for the read-model database (view_keys.h): the
// families of rows whose new keys land next to the previous key of the same
// family-and-prefix (list indexes ordered by time, claim ranks, lease
// deadlines, the per-minute history, the search's token rows by creation),
// each named by the prefix before its ordered part. RocksDB keeps one
// insert position per prefix and starts the next insert there instead of
// searching the skiplist from the top (memtable_insert_with_hint_prefix_
// extractor). Keys of other families (status records keyed by random job
// ids, counts, stats) are outside the domain and inserted as before.
#include <rocksdb/slice_transform.h>

#include <memory>

namespace jobtrail::view_keys {

std::shared_ptr<const rocksdb::SliceTransform> NewInsertHintPrefix();

}  // namespace jobtrail::view_keys
