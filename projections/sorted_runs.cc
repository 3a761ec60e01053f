#include "projections/sorted_runs.h"

#include <fmt/format.h>
#include <rocksdb/sst_file_writer.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <new>
#include <bit>
#include <cstring>
#include <thread>

namespace jobtrail {
namespace {

uint64_t BigEndian8(std::string_view s, size_t from) {
  if (from + 8 <= s.size()) {
    uint64_t v;
    std::memcpy(&v, s.data() + from, 8);
    return __builtin_bswap64(v);  // x86 and ARM Linux: little-endian
  }
  uint64_t v = 0;
  for (size_t i = from; i < from + 8; ++i) v = (v << 8) | (i < s.size() ? uint8_t(s[i]) : 0);
  return v;
}

Error WriteError(const std::string& path, const rocksdb::Status& s) {
  return Internal(fmt::format("views rebuild: writing {}: {}", path, s.ToString()));
}

}  // namespace

size_t SortPrefixLength(std::string_view key) {
  if (key.empty()) return 0;
  switch (key[0]) {
    case 'x': {  // "x" dim 0 value 0 sort | ts pos job
      const size_t dim_end = key.find('\0', 1);
      if (dim_end == std::string_view::npos) break;
      const size_t value_end = key.find('\0', dim_end + 1);
      if (value_end == std::string_view::npos || value_end + 2 > key.size()) break;
      return value_end + 2;
    }
    case 'q': {  // "q" queue 0 | rank ready job
      const size_t queue_end = key.find('\0', 1);
      if (queue_end == std::string_view::npos) break;
      return queue_end + 1;
    }
    default:
      break;
  }
  return 1;
}

void SortedRun::Unmap::operator()(char* p) const { (void)munmap(p, kBlockBytes); }

char* SortedRun::Allocate(size_t n) {
  if (n > kBlockBytes) {
    large_.emplace_back(new char[n]);
    return large_.back().get();
  }
  if (blocks_.empty() || used_ + n > kBlockBytes) {
    if (!blocks_.empty()) ++block_;
    if (block_ == blocks_.size()) {
      // Mapped with its pages at once: a page fault per 4 KiB as rows are
      // copied in cost more (~5% of a rebuild's CPU) than one call.
      void* block = mmap(nullptr, kBlockBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (block == MAP_FAILED) throw std::bad_alloc();
      blocks_.emplace_back(static_cast<char*>(block));
    }
    used_ = 0;
  }
  char* at = blocks_[block_].get() + used_;
  used_ += n;
  return at;
}

void SortedRun::SortBucket(std::vector<Entry>& entries, std::vector<Entry>& scratch) {
  auto key_of = [](const Entry& e) { return std::string_view(e.data, e.key_size); };
  auto less = [&](const Entry& a, const Entry& b) {
    if (a.head1 != b.head1) return a.head1 < b.head1;
    if (a.head2 != b.head2) return a.head2 < b.head2;
    const int c = key_of(a).compare(key_of(b));
    return c != 0 ? c < 0 : a.seq < b.seq;
  };
  if (std::is_sorted(entries.begin(), entries.end(), less)) return;
  scratch.resize(entries.size());
  RadixSort(entries.data(), entries.data() + entries.size(), scratch.data(), 0, less);
}

// Radix sort on the bits of head1 (word 0), then head2 (word 1), that the
// entries do not all share, a digit at a time from the top; ranges small
// enough, or equal in both heads, are sorted in full. A bucket holds
// millions of rows (search postings, most of them under a few terms), and
// comparison sorting them cost more than writing them.
template <typename Less>
void SortedRun::RadixSort(Entry* first, Entry* last, Entry* scratch, int word, const Less& less) {
  constexpr size_t kRadixFrom = 512;
  const size_t n = size_t(last - first);
  if (n < kRadixFrom) {
    std::sort(first, last, less);
    return;
  }
  auto head = [word](const Entry& e) { return word == 0 ? e.head1 : e.head2; };
  uint64_t lo = ~uint64_t{0}, hi = 0;
  for (const Entry* e = first; e != last; ++e) {
    lo = std::min(lo, head(*e));
    hi = std::max(hi, head(*e));
  }
  if (lo == hi) {
    if (word == 0) return RadixSort(first, last, scratch, 1, less);
    std::sort(first, last, less);
    return;
  }
  // Digits of up to 16 bits, fewer for a small range (its counters are
  // cleared for every range).
  const int bits = std::clamp(int(std::bit_width(n)) - 2, 8, 16);
  const int top = 63 - std::countl_zero(lo ^ hi);  // highest bit that differs
  const int shift = std::max(0, top + 1 - bits);
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  auto digit = [&](const Entry& e) { return size_t((head(e) >> shift) & mask); };
  std::vector<uint32_t> starts(size_t{1} << bits, 0);
  for (const Entry* e = first; e != last; ++e) ++starts[digit(*e)];
  uint32_t sum = 0;
  for (uint32_t& c : starts) sum += std::exchange(c, sum);
  std::vector<uint32_t> ends = starts;
  for (const Entry* e = first; e != last; ++e) scratch[ends[digit(*e)]++] = *e;
  std::memcpy(static_cast<void*>(first), scratch, n * sizeof(Entry));
  // Entries of one digit still differ in the bits below it (or, when the
  // digit reached bit 0, in the next word).
  const int next_word = shift == 0 ? word + 1 : word;
  for (size_t d = 0; d < starts.size(); ++d) {
    const size_t count = ends[d] - starts[d];
    if (count < 2) continue;
    if (next_word > 1) {
      std::sort(first + starts[d], first + ends[d], less);
    } else {
      RadixSort(first + starts[d], first + ends[d], scratch + starts[d], next_word, less);
    }
  }
}

void SortedRun::Clear() {
  // A bucket per value of a dimension with many values (external refs)
  // would pile up over runs: past a few thousand, start over.
  constexpr size_t kKeepBuckets = 4096;
  if (buckets_.size() > kKeepBuckets) {
    buckets_.clear();
    bucket_of_.clear();
    bucket_of_byte_.fill(kNoBucket);
  }
  for (Bucket& b : buckets_) b.entries.clear();
  large_.clear();
  block_ = 0;
  used_ = 0;
  bytes_ = 0;
  rows_ = 0;
}

void SortedRun::Add(std::string_view key, std::string_view value, bool deleted) {
  const std::string_view prefix = key.substr(0, SortPrefixLength(key));
  size_t b;
  // Most rows' prefix is their first byte: those buckets are found
  // without hashing.
  size_t& by_byte = prefix.size() == 1 ? bucket_of_byte_[uint8_t(prefix[0])] : no_byte_;
  if (by_byte != kNoBucket) {
    b = by_byte;
  } else if (auto it = bucket_of_.find(prefix); it != bucket_of_.end()) {
    b = it->second;
  } else {
    b = buckets_.size();
    buckets_.push_back(Bucket{std::string(prefix), {}});
    bucket_of_.emplace(std::string(prefix), b);
    if (prefix.size() == 1) by_byte = b;
  }
  char* data = Allocate(key.size() + value.size());
  std::memcpy(data, key.data(), key.size());
  if (!value.empty()) std::memcpy(data + key.size(), value.data(), value.size());
  Entry e;
  e.head1 = BigEndian8(key, prefix.size());
  e.head2 = BigEndian8(key, prefix.size() + 8);
  e.data = data;
  e.key_size = uint32_t(key.size());
  e.value_size = uint32_t(value.size());
  e.seq = uint32_t(rows_++);
  e.deleted = deleted;
  bytes_ += key.size() + value.size();
  buckets_[b].entries.push_back(e);
}

void SortedRun::Sort(size_t threads) {
  segments_.clear();
  merged_.clear();
  // Buckets in key order. A prefix that begins another bucket's prefix
  // would interleave with it: such buckets are sorted together on whole keys.
  std::vector<size_t> order;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (!buckets_[i].entries.empty()) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return buckets_[a].prefix < buckets_[b].prefix; });
  std::vector<std::vector<Entry>*> groups;  // in key order
  std::vector<bool> whole_keys;
  merged_.reserve(order.size());  // the groups point into it
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    const std::string& prefix = buckets_[order[i]].prefix;
    while (j < order.size() && buckets_[order[j]].prefix.starts_with(prefix)) ++j;
    if (j == i + 1) {
      groups.push_back(&buckets_[order[i]].entries);
      whole_keys.push_back(false);
    } else {
      std::vector<Entry>& merged = merged_.emplace_back();
      for (size_t k = i; k < j; ++k) {
        auto& from = buckets_[order[k]].entries;
        merged.insert(merged.end(), from.begin(), from.end());
      }
      groups.push_back(&merged);
      whole_keys.push_back(true);
    }
    i = j;
  }
  // Groups are sorted independently: by `threads` threads, largest first.
  std::vector<size_t> largest(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) largest[g] = g;
  std::sort(largest.begin(), largest.end(),
            [&](size_t a, size_t b) { return groups[a]->size() > groups[b]->size(); });
  std::atomic<size_t> next{0};
  auto work = [&](std::vector<Entry>& scratch) {
    for (size_t k; (k = next.fetch_add(1)) < largest.size();) {
      std::vector<Entry>& entries = *groups[largest[k]];
      if (!whole_keys[largest[k]]) {
        SortBucket(entries, scratch);
        continue;
      }
      std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
        const int c = std::string_view(a.data, a.key_size).compare({b.data, b.key_size});
        return c != 0 ? c < 0 : a.seq < b.seq;
      });
    }
  };
  std::vector<std::vector<Entry>> scratch(std::max<size_t>(threads, 1));
  scratch[0].swap(scratch_);
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < scratch.size(); ++t) helpers.emplace_back(work, std::ref(scratch[t]));
  work(scratch[0]);
  for (auto& t : helpers) t.join();
  scratch_.swap(scratch[0]);
  for (std::vector<Entry>* g : groups) segments_.emplace_back(*g);
}

Result<std::vector<std::string>> SortedRun::WriteTo(const rocksdb::Options& options,
                                                    const std::string& path_prefix,
                                                    size_t parts) {
  if (rows_ == 0) return std::vector<std::string>{};
  Sort(parts);
  auto same_key = [](const Entry& a, const Entry& b) {
    return a.head1 == b.head1 && a.head2 == b.head2 &&
           std::string_view(a.data, a.key_size) == std::string_view(b.data, b.key_size);
  };
  // Cuts into `parts` ranges of about equal cost to write, never between
  // two writes of one key (they are adjacent, in one segment). A row costs
  // the SST writer about as much as kRowCost bytes: ranges of equal bytes
  // took twice as long for the small search rows as for the status records.
  constexpr size_t kRowCost = 128;
  struct Cut {
    size_t segment = 0;
    size_t index = 0;
  };
  std::vector<Cut> cuts{Cut{}};
  const size_t share = (bytes_ + kRowCost * rows_) / std::max<size_t>(parts, 1) + 1;
  size_t seen = 0;
  for (size_t sg = 0; sg < segments_.size() && parts > 1; ++sg) {
    const std::span<Entry> entries = segments_[sg];
    for (size_t i = 0; i < entries.size(); ++i) {
      if (seen >= share * cuts.size() && (i == 0 || !same_key(entries[i - 1], entries[i]))) {
        cuts.push_back(Cut{sg, i});
      }
      seen += entries[i].key_size + entries[i].value_size + kRowCost;
    }
  }
  cuts.push_back(Cut{segments_.size(), 0});

  std::vector<std::string> paths;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) paths.push_back(fmt::format("{}-{}.sst", path_prefix, k));
  std::vector<rocksdb::Status> statuses(paths.size());
  auto write_part = [&](size_t k) {
    // Keep what is written in the page cache: it is read again soon.
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, nullptr,
                                  /*invalidate_page_cache=*/false);
    rocksdb::Status s = writer.Open(paths[k]);
    for (size_t sg = cuts[k].segment; s.ok() && sg <= cuts[k + 1].segment && sg < segments_.size();
         ++sg) {
      const std::span<Entry> entries = segments_[sg];
      const size_t from = sg == cuts[k].segment ? cuts[k].index : 0;
      const size_t to = sg == cuts[k + 1].segment ? cuts[k + 1].index : entries.size();
      for (size_t i = from; i < to && s.ok(); ++i) {
        // The rows were sorted by reference: fetch ahead what is about to
        // be read, or each row costs a cache miss.
        constexpr size_t kAhead = 8;
        if (i + kAhead < to) __builtin_prefetch(entries[i + kAhead].data);
        // Of equal keys (adjacent, in writing order) only the last counts.
        if (i + 1 < entries.size() && same_key(entries[i + 1], entries[i])) continue;
        const Entry& e = entries[i];
        const rocksdb::Slice key(e.data, e.key_size);
        s = e.deleted ? writer.Delete(key)
                      : writer.Put(key, rocksdb::Slice(e.data + e.key_size, e.value_size));
      }
    }
    if (s.ok()) s = writer.Finish();
    statuses[k] = s;
  };
  std::vector<std::thread> helpers;
  for (size_t k = 1; k < paths.size(); ++k) helpers.emplace_back(write_part, k);
  write_part(0);
  for (auto& t : helpers) t.join();
  for (size_t k = 0; k < paths.size(); ++k) {
    if (!statuses[k].ok()) return WriteError(paths[k], statuses[k]);
  }
  return paths;
}

}  // namespace jobtrail
