#pragma once
// Memtable insert hints for the read-model database (view_keys.h). Most
// rows land next to the previous one of their kind: list indexes ordered
// by time and claim ranks within their prefix; and within a projector batch, written in key order, every
// family's rows one after another. RocksDB keeps one insert position per
// prefix (memtable_insert_with_hint_prefix_extractor) and starts the next
// insert of that prefix there instead of searching the skiplist from the
// top. Single keys (checkpoint, stats, the format) take no hint, nor any
// family that is ever cut by DeleteRange (the per-minute history): see
// view_hints.cc, RocksDB 7.8 mixes those hints up.
#include <rocksdb/slice_transform.h>

#include <memory>

namespace jobtrail::view_keys {

std::shared_ptr<const rocksdb::SliceTransform> NewInsertHintPrefix();

}  // namespace jobtrail::view_keys
