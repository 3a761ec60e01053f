#include "projections/sorted_runs.h"

#include <fmt/format.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstring>

namespace jobtrail {
namespace {

uint64_t BigEndian8(std::string_view s, size_t from) {
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

char* SortedRun::Allocate(size_t n) {
  if (n > kBlockBytes) {
    large_.emplace_back(new char[n]);
    return large_.back().get();
  }
  if (blocks_.empty() || used_ + n > kBlockBytes) {
    if (!blocks_.empty()) ++block_;
    if (block_ == blocks_.size()) blocks_.emplace_back(new char[kBlockBytes]);
    used_ = 0;
  }
  char* at = blocks_[block_].get() + used_;
  used_ += n;
  return at;
}

void SortedRun::Clear() {
  // A bucket per value of a dimension with many values (external refs)
  // would pile up over runs: past a few thousand, start over.
  constexpr size_t kKeepBuckets = 4096;
  if (buckets_.size() > kKeepBuckets) {
    buckets_.clear();
    bucket_of_.clear();
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
  if (auto it = bucket_of_.find(prefix); it != bucket_of_.end()) {
    b = it->second;
  } else {
    b = buckets_.size();
    buckets_.push_back(Bucket{std::string(prefix), {}});
    bucket_of_.emplace(std::string(prefix), b);
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

Result<size_t> SortedRun::WriteTo(const rocksdb::Options& options, const std::string& path) {
  if (rows_ == 0) return size_t{0};
  auto key_of = [](const Entry& e) { return std::string_view(e.data, e.key_size); };
  auto same_key = [&](const Entry& a, const Entry& b) {
    return a.head1 == b.head1 && a.head2 == b.head2 && key_of(a) == key_of(b);
  };
  // Buckets in key order. A prefix that begins another bucket's prefix
  // would interleave with it: such buckets are sorted together on whole keys.
  std::vector<size_t> order(buckets_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return buckets_[a].prefix < buckets_[b].prefix; });

  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  rocksdb::Status s = writer.Open(path);
  if (!s.ok()) return WriteError(path, s);
  size_t written = 0;
  auto write_sorted = [&](std::vector<Entry>& entries) -> rocksdb::Status {
    for (size_t i = 0; i < entries.size(); ++i) {
      // Of equal keys (adjacent, in writing order) only the last counts.
      if (i + 1 < entries.size() && same_key(entries[i + 1], entries[i])) continue;
      const Entry& e = entries[i];
      const rocksdb::Slice key(e.data, e.key_size);
      rocksdb::Status st =
          e.deleted ? writer.Delete(key)
                    : writer.Put(key, rocksdb::Slice(e.data + e.key_size, e.value_size));
      if (!st.ok()) return st;
      ++written;
    }
    return rocksdb::Status::OK();
  };
  for (size_t i = 0; i < order.size() && s.ok();) {
    size_t j = i + 1;
    const std::string& prefix = buckets_[order[i]].prefix;
    while (j < order.size() && buckets_[order[j]].prefix.starts_with(prefix)) ++j;
    if (j == i + 1) {
      std::vector<Entry>& entries = buckets_[order[i]].entries;
      auto less = [&](const Entry& a, const Entry& b) {
        if (a.head1 != b.head1) return a.head1 < b.head1;
        if (a.head2 != b.head2) return a.head2 < b.head2;
        const int c = key_of(a).compare(key_of(b));
        return c != 0 ? c < 0 : a.seq < b.seq;
      };
      if (!std::is_sorted(entries.begin(), entries.end(), less)) {
        std::sort(entries.begin(), entries.end(), less);
      }
      s = write_sorted(entries);
    } else {
      std::vector<Entry> merged;
      for (size_t k = i; k < j; ++k) {
        auto& from = buckets_[order[k]].entries;
        merged.insert(merged.end(), from.begin(), from.end());
      }
      std::sort(merged.begin(), merged.end(), [&](const Entry& a, const Entry& b) {
        const int c = key_of(a).compare(key_of(b));
        return c != 0 ? c < 0 : a.seq < b.seq;
      });
      s = write_sorted(merged);
    }
    i = j;
  }
  if (!s.ok()) return WriteError(path, s);
  s = writer.Finish();
  if (!s.ok()) return WriteError(path, s);
  return written;
}

}  // namespace jobtrail
