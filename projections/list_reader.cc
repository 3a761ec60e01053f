#include "projections/list_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "projections/job_store.h"
#include "projections/projector.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kMaxLimit = 1000;

struct IndexChoice {
  std::string_view dim;
  std::string value;
  bool covers_status = false;  // the index alone satisfies the status filter
};

IndexChoice ChooseIndex(const ListQuery& q) {
  const bool one_status = q.statuses.size() == 1;
  if (q.sort == SortField::kUpdated) {
    // Only "all" and "status" keep an updated-time order.
    if (one_status) return {vk::kDimStatus, std::string(StatusName(q.statuses[0])), true};
    return {vk::kDimAll, "", q.statuses.empty()};
  }
  if (!q.external_ref.empty()) return {vk::kDimExternalRef, q.external_ref, q.statuses.empty()};
  if (!q.owner.empty()) return {vk::kDimOwner, q.owner, q.statuses.empty()};
  if (!q.type.empty()) return {vk::kDimType, q.type, q.statuses.empty()};
  if (!q.queue.empty()) return {vk::kDimQueue, q.queue, q.statuses.empty()};
  if (one_status) return {vk::kDimStatus, std::string(StatusName(q.statuses[0])), true};
  return {vk::kDimAll, "", q.statuses.empty()};
}

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
  const IndexChoice index = ChooseIndex(q);
  const char sort = q.sort == SortField::kCreated ? 'c' : 'u';
  const std::string prefix = vk::IndexPrefix(index.dim, index.value, sort);

  std::string lower = prefix, upper = prefix;
  if (sort == 'c' && q.created_after) lower += vk::EncodeU64(vk::SortableTime(*q.created_after));
  if (sort == 'c' && q.created_before) {
    upper += vk::EncodeU64(vk::SortableTime(*q.created_before));
  } else {
    upper.append(9, '\xff');
  }
  std::string start;  // exclusive bound from the cursor
  if (!q.cursor.empty()) {
    auto raw = FromHex(q.cursor);
    if (!raw || raw->size() < 2 + vk::kIndexOrderBytes || (*raw)[0] != sort || (*raw)[1] != (q.descending ? 'd' : 'a')) {
      return BadCursor();
    }
    start = prefix + raw->substr(2);
  }

  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(views->NewIterator(ro));
  auto in_range = [&] {
    if (!it->Valid()) return false;
    const auto key = it->key().ToStringView();
    return key.starts_with(prefix) && key >= std::string_view(lower) && key < std::string_view(upper);
  };
  if (q.descending) {
    if (!start.empty()) {
      it->SeekForPrev(start);
      if (it->Valid() && it->key().ToStringView() == start) it->Prev();
    } else {
      it->SeekForPrev(upper);
      if (it->Valid() && it->key().ToStringView() == upper) it->Prev();
    }
  } else {
    if (!start.empty()) {
      it->Seek(start);
      if (it->Valid() && it->key().ToStringView() == start) it->Next();
    } else {
      it->Seek(lower);
    }
  }
  auto advance = [&] { q.descending ? it->Prev() : it->Next(); };

  ListPage page;
  size_t to_skip = q.cursor.empty() ? q.skip : 0;
  std::string last_suffix;
  for (; in_range(); advance()) {
    const std::string_view key = it->key().ToStringView();
    const std::string_view job_id = key.substr(prefix.size() + vk::kIndexOrderBytes);
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
    last_suffix.assign(key.substr(prefix.size()));
  }
  if (!it->status().ok()) return Internal(fmt::format("views: {}", it->status().ToString()));
  if (page.has_more) page.next_cursor = MakeCursor(q, last_suffix);

  // Totals: a counter when one index answers the whole filter.
  auto counter = [&](std::string_view dim, std::string_view value) -> Result<uint64_t> {
    std::string v;
    rocksdb::Status s = views->Get(ro, vk::CountKey(dim, value), &v);
    if (s.IsNotFound()) return uint64_t{0};
    if (!s.ok() || v.size() != 8) return Internal("views: count unreadable");
    return vk::DecodeU64(v);
  };
  const int filters = int(!q.type.empty()) + int(!q.queue.empty()) + int(!q.owner.empty()) +
                      int(!q.external_ref.empty());
  if (!q.created_after && !q.created_before && filters == 0) {
    uint64_t total = 0;
    if (q.statuses.empty()) {
      BOOST_OUTCOME_TRY(n, counter(vk::kDimAll, ""));
      total = n;
    } else {
      for (JobStatus st : q.statuses) {
        BOOST_OUTCOME_TRY(n, counter(vk::kDimStatus, StatusName(st)));
        total += n;
      }
    }
    page.total = total;
  } else if (!q.created_after && !q.created_before && filters == 1 && q.statuses.empty()) {
    const IndexChoice by_filter = ChooseIndex(ListQuery{.type = q.type,
                                                        .queue = q.queue,
                                                        .owner = q.owner,
                                                        .external_ref = q.external_ref});
    BOOST_OUTCOME_TRY(n, counter(by_filter.dim, by_filter.value));
    page.total = n;
  } else {
    // Combined filters: count by walking the chosen index.
    uint64_t total = 0;
    std::unique_ptr<rocksdb::Iterator> walk(views->NewIterator(ro));
    for (walk->Seek(lower); walk->Valid() && walk->key().starts_with(prefix) &&
                            walk->key().ToStringView() < std::string_view(upper);
         walk->Next()) {
      const std::string_view job_id = walk->key().ToStringView().substr(prefix.size() + vk::kIndexOrderBytes);
      std::string value;
      rocksdb::Status s = views->Get(ro, vk::JobKey(job_id), &value);
      if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
      BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
      if (Matches(q, doc)) ++total;
    }
    page.total = total;
  }
  return page;
}

}  // namespace jobtrail
