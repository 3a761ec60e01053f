#pragma once
// A rebuild's rows, gathered in memory and written out as one sorted SST
// file per run, which is ingested into the views database whole: no
// memtable, no WAL, and no flush or compaction of what a memtable would
// have held. Sorting is the cost of this path, so rows are bucketed by the
// part of their key that many rows share (view_keys.h: "j", "l", an index
// "x dim 0 value 0 sort", a claim queue "q queue 0") and sorted within a
// bucket on 16 bytes of the rest held inline; an index's rows arrive
// nearly in order already.
//
// Later writes of a key win over earlier ones in the same run, and later
// runs over earlier ones (they are ingested later). Not thread-safe.
#include <rocksdb/options.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/error.h"

namespace jobtrail {

class SortedRun {
 public:
  void Put(std::string_view key, std::string_view value) { Add(key, value, false); }
  void Delete(std::string_view key) { Add(key, {}, true); }
  // Bytes of keys and values held.
  size_t bytes() const { return bytes_; }
  size_t rows() const { return rows_; }
  // Empties the run but keeps its memory for the next one (fresh memory
  // costs a page fault per 4 KiB; a rebuild fills gigabytes).
  void Clear();

  // Sorts the rows and writes them with the views' options to `parts` SST
  // files of disjoint key ranges at once (`parts` threads), named
  // path_prefix-K.sst. Returns their paths (none for a run without rows).
  Result<std::vector<std::string>> WriteTo(const rocksdb::Options& options,
                                           const std::string& path_prefix, size_t parts);

 private:
  struct Entry {
    uint64_t head1 = 0;  // bytes [0, 8) after the bucket's prefix, big-endian
    uint64_t head2 = 0;  // bytes [8, 16)
    const char* data = nullptr;  // the key, then the value
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t seq = 0;  // order of writing: the last write of a key wins
    bool deleted = false;
  };
  struct Bucket {
    std::string prefix;
    std::vector<Entry> entries;
  };
  struct PrefixHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void Add(std::string_view key, std::string_view value, bool deleted);
  char* Allocate(size_t n);
  // Sorts each bucket (`threads` at once); segments_ are then the rows in
  // key order.
  void Sort(size_t threads);
  // Sorts one bucket's entries by (head1, head2, key, seq).
  static void SortBucket(std::vector<Entry>& entries, std::vector<Entry>& scratch);
  template <typename Less>
  static void RadixSort(Entry* first, Entry* last, Entry* scratch, int word, const Less& less);

  // Rows are copied into blocks of kBlockBytes (a row larger than that gets
  // a block of its own, in large_). Blocks are mapped, populated.
  static constexpr size_t kBlockBytes = size_t{8} << 20;
  struct Unmap {
    void operator()(char* p) const;
  };
  std::vector<std::unique_ptr<char, Unmap>> blocks_;
  size_t block_ = 0;  // the block being filled
  size_t used_ = 0;   // bytes of it used
  std::vector<std::unique_ptr<char[]>> large_;
  size_t bytes_ = 0;
  std::vector<Bucket> buckets_;
  std::unordered_map<std::string, size_t, PrefixHash, std::equal_to<>> bucket_of_;
  static constexpr size_t kNoBucket = ~size_t{0};
  std::array<size_t, 256> bucket_of_byte_ = MakeNoBuckets();  // one-byte prefixes
  size_t no_byte_ = kNoBucket;  // a slot that stays kNoBucket
  static std::array<size_t, 256> MakeNoBuckets() {
    std::array<size_t, 256> a;
    a.fill(kNoBucket);
    return a;
  }
  size_t rows_ = 0;
  std::vector<std::span<Entry>> segments_;
  std::vector<std::vector<Entry>> merged_;  // buckets sorted together
  std::vector<Entry> scratch_;              // SortBucket's (kept for the next run)
};

// The length of the prefix of `key` that SortedRun buckets by.
size_t SortPrefixLength(std::string_view key);

}  // namespace jobtrail
