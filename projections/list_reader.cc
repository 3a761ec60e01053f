#include "projections/list_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "projections/job_store.h"
#include "projections/projector.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kMaxLimit = 1000;

// The index (or indexes) a list reads. Each job is in at most one of them.
struct IndexChoice {
  std::vector<std::pair<std::string_view, std::string>> indexes;  // dim, value
};

// The counts a list reads (the "n" rows), in the list's snapshot.
class Counts {
 public:
  Counts(rocksdb::DB* views, const rocksdb::ReadOptions& ro) : views_(views), ro_(ro) {}
  Result<uint64_t> Get(const std::string& key) const {
    std::string v;
    rocksdb::Status s = views_->Get(ro_, key, &v);
    if (s.IsNotFound()) return uint64_t{0};
    if (!s.ok() || v.size() != 8) return Internal("views: count unreadable");
    return vk::DecodeU64(v);
  }
  Result<uint64_t> Index(std::string_view dim, std::string_view value) const {
    return Get(vk::CountKey(dim, value));
  }
  // The jobs in any of `statuses`.
  Result<uint64_t> Statuses(const std::vector<JobStatus>& statuses) const {
    uint64_t n = 0;
    for (JobStatus st : statuses) {
      BOOST_OUTCOME_TRY(k, Index(vk::kDimStatus, StatusName(st)));
      n += k;
    }
    return n;
  }
  // The jobs of one type, queue or owner in any of `statuses`.
  Result<uint64_t> InStatuses(std::string_view dim, std::string_view value,
                              const std::vector<JobStatus>& statuses) const {
    uint64_t n = 0;
    for (JobStatus st : statuses) {
      BOOST_OUTCOME_TRY(k, Get(vk::StatusCountKey(dim, value, StatusName(st))));
      n += k;
    }
    return n;
  }

 private:
  rocksdb::DB* views_;
  const rocksdb::ReadOptions& ro_;
};

// The filters of `q` that have an index of their own, most selective by
// nature first (a reference names one job, an owner's jobs are a part of
// all, ...): the order ties are broken in.
std::vector<std::pair<std::string_view, std::string_view>> FilterIndexes(const ListQuery& q) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!q.external_ref.empty()) out.emplace_back(vk::kDimExternalRef, q.external_ref);
  if (!q.owner.empty()) out.emplace_back(vk::kDimOwner, q.owner);
  if (!q.type.empty()) out.emplace_back(vk::kDimType, q.type);
  if (!q.queue.empty()) out.emplace_back(vk::kDimQueue, q.queue);
  return out;
}

// The index a list walks: of those that hold every job the filters match,
// the one with the fewest jobs (their counts), so that a page costs reads
// in proportion to the smaller of, say, the owner's jobs and the failed
// ones, not always the owner's (every caller's own list is an owner's).
// The pages are the same whichever is walked: every created-time index
// orders its jobs alike (time, enqueue position, id).
Result<IndexChoice> ChooseIndex(const ListQuery& q, const Counts& counts) {
  // Several statuses are read as one index, their indexes merged; those
  // with no job are left out. Not only to save a seek: a status jobs only
  // pass through (pending, running) leaves its index full of deleted rows
  // until compaction, and seeking backwards over them cost an updated-time
  // page of every status 0.7-1.4 s at 300,000 jobs.
  auto merged = [&](const auto& statuses) -> Result<IndexChoice> {
    IndexChoice choice;
    for (JobStatus st : statuses) {
      BOOST_OUTCOME_TRY(n, counts.Index(vk::kDimStatus, StatusName(st)));
      if (n > 0) choice.indexes.emplace_back(vk::kDimStatus, StatusName(st));
    }
    return choice;
  };
  if (q.sort == SortField::kUpdated) {
    // Only the status indexes keep an updated-time order (an "all" one
    // would cost every event two more rows: issue 10).
    if (q.statuses.empty()) return merged(kAllStatuses);
    return merged(q.statuses);
  }
  const auto filters = FilterIndexes(q);
  if (filters.empty() && q.statuses.empty()) return IndexChoice{{{vk::kDimAll, ""}}};
  std::optional<IndexChoice> best;
  uint64_t fewest = 0;
  for (const auto& [dim, value] : filters) {
    BOOST_OUTCOME_TRY(n, counts.Index(dim, value));
    if (!best || n < fewest) {
      best = IndexChoice{{{dim, std::string(value)}}};
      fewest = n;
    }
  }
  if (!q.statuses.empty()) {
    BOOST_OUTCOME_TRY(n, counts.Statuses(q.statuses));
    if (!best || n < fewest) {
      BOOST_OUTCOME_TRY(by_status, merged(q.statuses));
      best = std::move(by_status);
    }
  }
  return std::move(*best);
}

// Walks the indexes of an IndexChoice, of one sort, as one index: in the
// order of their keys' suffixes (time, log position, job id), within
// [lower, upper) of suffixes, after the suffix `after` when it is given.
class IndexWalk {
 public:
  IndexWalk(rocksdb::DB* views, const rocksdb::ReadOptions& ro, const IndexChoice& choice,
            char sort, bool descending)
      : descending_(descending) {
    for (const auto& [dim, value] : choice.indexes) {
      parts_.push_back(Part{vk::IndexPrefix(dim, value, sort),
                            std::unique_ptr<rocksdb::Iterator>(views->NewIterator(ro))});
    }
  }

  void Start(std::string_view lower, std::string_view upper, std::string_view after) {
    lower_ = lower;
    upper_ = upper;
    for (Part& p : parts_) {
      rocksdb::Iterator& it = *p.it;
      if (descending_) {
        const std::string from = p.prefix + std::string(after.empty() ? upper : after);
        it.SeekForPrev(from);
        if (it.Valid() && it.key().ToStringView() == from) it.Prev();
      } else if (!after.empty()) {
        const std::string from = p.prefix + std::string(after);
        it.Seek(from);
        if (it.Valid() && it.key().ToStringView() == from) it.Next();
      } else {
        it.Seek(p.prefix + std::string(lower));
      }
    }
    Pick();
  }
  bool Valid() const { return current_ != nullptr; }
  // Order bytes then the job id.
  std::string_view suffix() const {
    return current_->it->key().ToStringView().substr(current_->prefix.size());
  }
  std::string_view job_id() const { return suffix().substr(vk::kIndexOrderBytes); }
  void Next() {
    descending_ ? current_->it->Prev() : current_->it->Next();
    Pick();
  }
  rocksdb::Status status() const {
    for (const Part& p : parts_) {
      if (!p.it->status().ok()) return p.it->status();
    }
    return rocksdb::Status::OK();
  }

 private:
  struct Part {
    std::string prefix;  // "x" dim 0x00 value 0x00 sort
    std::unique_ptr<rocksdb::Iterator> it;
  };
  bool InRange(const Part& p) const {
    if (!p.it->Valid()) return false;
    const std::string_view key = p.it->key().ToStringView();
    if (!key.starts_with(p.prefix)) return false;
    const std::string_view s = key.substr(p.prefix.size());
    return s >= std::string_view(lower_) && s < std::string_view(upper_);
  }
  // The next part in the walk's order: the smallest suffix ascending, the
  // largest descending (suffixes end in the job id: never equal).
  void Pick() {
    current_ = nullptr;
    for (Part& p : parts_) {
      if (!InRange(p)) continue;
      if (current_ == nullptr) {
        current_ = &p;
        continue;
      }
      const std::string_view s = p.it->key().ToStringView().substr(p.prefix.size());
      if (descending_ ? s > suffix() : s < suffix()) current_ = &p;
    }
  }

  bool descending_;
  std::string lower_, upper_;
  std::vector<Part> parts_;
  Part* current_ = nullptr;
};

bool Matches(const ListQuery& q, const StatusDocument& d) {
  if (!q.statuses.empty() &&
      std::find(q.statuses.begin(), q.statuses.end(), d.status) == q.statuses.end()) {
    return false;
  }
  if (!q.type.empty() && d.type != q.type) return false;
  if (!q.queue.empty() && d.queue != q.queue) return false;
  if (!q.owner.empty() && d.owner != q.owner) return false;
  if (!q.external_ref.empty() && d.external_ref != q.external_ref) return false;
  if (q.created_after && d.created_at < *q.created_after) return false;
  if (q.created_before && d.created_at >= *q.created_before) return false;
  return true;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}
std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

// Cursor: sort char, direction char, then the index key suffix (8-byte time
// + job id) of the last item returned.
std::string MakeCursor(const ListQuery& q, std::string_view suffix) {
  std::string raw;
  raw.push_back(q.sort == SortField::kCreated ? 'c' : 'u');
  raw.push_back(q.descending ? 'd' : 'a');
  raw.append(suffix);
  return ToHex(raw);
}

Error BadCursor() {
  return MakeError(Code::kInvalidArgument, "INVALID_CURSOR",
                   "cursor is not one this list returned for the same sort order");
}

}  // namespace

Result<ListPage> ReadListPage(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                              const ListQuery& q) {
  if (q.limit == 0 || q.limit > kMaxLimit) {
    return InvalidArgument(fmt::format("limit must be between 1 and {}", kMaxLimit));
  }
  const char sort = q.sort == SortField::kCreated ? 'c' : 'u';

  // Bounds on the order bytes (time first): created-time bounds narrow a
  // created-time index; an updated-time index is filtered on each job.
  std::string lower, upper;
  if (sort == 'c' && q.created_after) lower = vk::EncodeU64(vk::SortableTime(*q.created_after));
  if (sort == 'c' && q.created_before) {
    upper = vk::EncodeU64(vk::SortableTime(*q.created_before));
  } else {
    upper.assign(9, '\xff');
  }
  std::string after;  // exclusive bound from the cursor
  if (!q.cursor.empty()) {
    auto raw = FromHex(q.cursor);
    if (!raw || raw->size() < 2 + vk::kIndexOrderBytes || (*raw)[0] != sort ||
        (*raw)[1] != (q.descending ? 'd' : 'a')) {
      return BadCursor();
    }
    after = raw->substr(2);
  }

  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  const Counts counts(views, ro);
  BOOST_OUTCOME_TRY(index, ChooseIndex(q, counts));
  // Totals: counters when they answer the whole filter (the chosen,
  // smallest, index is walked otherwise).
  const auto filters = FilterIndexes(q);
  std::optional<uint64_t> counted;
  if (!q.created_after && !q.created_before) {
    if (filters.empty()) {
      BOOST_OUTCOME_TRY(n, q.statuses.empty() ? counts.Index(vk::kDimAll, "")
                                              : counts.Statuses(q.statuses));
      counted = n;
    } else if (filters.size() == 1 && q.statuses.empty()) {
      BOOST_OUTCOME_TRY(n, counts.Index(filters[0].first, filters[0].second));
      counted = n;
    } else if (filters.size() == 1 && filters[0].first != vk::kDimExternalRef) {
      BOOST_OUTCOME_TRY(n, counts.InStatuses(filters[0].first, filters[0].second, q.statuses));
      counted = n;
    }
  }

  IndexWalk walk(views, ro, index, sort, q.descending);
  // Nothing matches: no index need be walked to find that out (an owner
  // with a million jobs and no failed one, among a million failed).
  if (!counted || *counted > 0) walk.Start(lower, upper, after);

  ListPage page;
  size_t to_skip = q.cursor.empty() ? q.skip : 0;
  std::string last_suffix;
  for (; walk.Valid(); walk.Next()) {
    const std::string_view job_id = walk.job_id();
    std::string value;
    rocksdb::Status s = views->Get(ro, vk::JobKey(job_id), &value);
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
    BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
    if (!Matches(q, doc)) continue;
    if (to_skip > 0) {
      --to_skip;
      continue;
    }
    if (page.items_json.size() == q.limit) {
      page.has_more = true;
      break;
    }
    page.items_json.push_back(std::move(doc.json));
    page.ids.emplace_back(job_id);
    page.statuses.push_back(doc.status);
    last_suffix.assign(walk.suffix());
  }
  if (const rocksdb::Status s = walk.status(); !s.ok()) {
    return Internal(fmt::format("views: {}", s.ToString()));
  }
  if (page.has_more) page.next_cursor = MakeCursor(q, last_suffix);

  if (counted) {
    page.total = *counted;
  } else {
    // Combined filters: count by walking the chosen index (any order).
    uint64_t total = 0;
    IndexWalk count_walk(views, ro, index, sort, false);
    for (count_walk.Start(lower, upper, ""); count_walk.Valid(); count_walk.Next()) {
      std::string value;
      rocksdb::Status s = views->Get(ro, vk::JobKey(count_walk.job_id()), &value);
      if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
      BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
      if (Matches(q, doc)) ++total;
    }
    if (const rocksdb::Status s = count_walk.status(); !s.ok()) {
      return Internal(fmt::format("views: {}", s.ToString()));
    }
    page.total = total;
  }
  return page;
}

}  // namespace jobtrail
