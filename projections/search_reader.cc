#include "projections/search_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "projections/job_store.h"
#include "projections/projector.h"
#include "projections/search_keys.h"
#include "projections/search_terms.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace sk = search_keys;
namespace vk = view_keys;
namespace {

constexpr size_t kMaxLimit = 1000;
constexpr size_t kOrderBytes = vk::kIndexOrderBytes;

// One sorted source of candidates: a term's postings or a list index.
struct Source {
  std::string prefix;
  std::unique_ptr<rocksdb::Iterator> it;
};

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
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

// The leapfrog join over the sources, in one direction, within bounds.
class Intersection {
 public:
  Intersection(std::vector<Source> sources, bool descending, std::string lower,
               std::string upper)
      : sources_(std::move(sources)),
        descending_(descending),
        lower_(std::move(lower)),
        upper_(std::move(upper)) {}

  // Positions every source at its first candidate: after `start` (a suffix,
  // exclusive) when given, else at the bound.
  void Start(const std::string& start) {
    for (Source& s : sources_) {
      if (descending_) {
        const std::string from = start.empty() ? upper_ : start;
        if (from.empty()) {
          s.it->SeekForPrev(s.prefix + std::string(kOrderBytes + 1, '\xff'));
        } else {
          s.it->SeekForPrev(s.prefix + from);
          if (s.it->Valid() && s.it->key().ToStringView() == s.prefix + from) s.it->Prev();
        }
      } else {
        const std::string from = start.empty() ? lower_ : start;
        s.it->Seek(s.prefix + from);
        if (!start.empty() && s.it->Valid() && s.it->key().ToStringView() == s.prefix + from) {
          s.it->Next();
        }
      }
    }
  }

  // The next suffix every source holds, or nullopt when one runs out.
  Result<std::optional<std::string>> Next() {
    for (;;) {
      std::string target;
      for (Source& s : sources_) {
        if (!InRange(s)) {
          BOOST_OUTCOME_TRYV(CheckStatus(s));
          return std::optional<std::string>();
        }
        const std::string_view suffix = Suffix(s);
        if (target.empty() || (descending_ ? suffix < target : suffix > target)) {
          target.assign(suffix);
        }
      }
      bool agree = true;
      for (Source& s : sources_) {
        if (Suffix(s) == target) continue;
        agree = false;
        if (descending_) {
          s.it->SeekForPrev(s.prefix + target);
        } else {
          s.it->Seek(s.prefix + target);
        }
      }
      if (!agree) continue;
      for (Source& s : sources_) descending_ ? s.it->Prev() : s.it->Next();
      return std::optional<std::string>(std::move(target));
    }
  }

 private:
  bool InRange(const Source& s) const {
    if (!s.it->Valid() || !s.it->key().starts_with(s.prefix)) return false;
    const std::string_view suffix = Suffix(s);
    if (!lower_.empty() && suffix < lower_) return false;
    if (!upper_.empty() && suffix >= upper_) return false;
    return true;
  }
  static std::string_view Suffix(const Source& s) {
    return s.it->key().ToStringView().substr(s.prefix.size());
  }
  static Result<void> CheckStatus(const Source& s) {
    if (!s.it->status().ok()) return Internal(fmt::format("views: {}", s.it->status().ToString()));
    return Ok();
  }

  std::vector<Source> sources_;
  bool descending_;
  std::string lower_;  // inclusive; empty: none
  std::string upper_;  // exclusive; empty: none
};

}  // namespace

Result<ListPage> ReadSearchPage(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                                const ListQuery& q) {
  if (q.limit == 0 || q.limit > kMaxLimit) {
    return InvalidArgument(fmt::format("limit must be between 1 and {}", kMaxLimit));
  }
  if (q.sort != SortField::kCreated) {
    return InvalidArgument("a search sorts by creation time only");
  }
  if (q.text.size() > search::kMaxQueryBytes) {
    return InvalidArgument(fmt::format("q must be at most {} bytes", search::kMaxQueryBytes));
  }
  const std::vector<search::QueryWord> words = search::ParseQuery(q.text);
  if (words.empty()) {
    return InvalidArgument(fmt::format("q has no word of {} or more letters or digits",
                                       search::kMinWordLength));
  }
  if (words.size() > search::kMaxQueryWords) {
    return InvalidArgument(fmt::format("q has more than {} words", search::kMaxQueryWords));
  }

  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::vector<Source> sources;
  auto add = [&](std::string prefix) {
    for (const Source& s : sources) {
      if (s.prefix == prefix) return;
    }
    sources.push_back(Source{std::move(prefix), std::unique_ptr<rocksdb::Iterator>(views->NewIterator(ro))});
  };
  for (const search::QueryWord& w : words) add(sk::PostingPrefix(w.term));
  const std::pair<std::string_view, const std::string*> filters[] = {
      {vk::kDimExternalRef, &q.external_ref},
      {vk::kDimOwner, &q.owner},
      {vk::kDimType, &q.type},
      {vk::kDimQueue, &q.queue}};
  for (const auto& [dim, value] : filters) {
    if (!value->empty()) add(vk::IndexPrefix(dim, *value, 'c'));
  }
  const bool one_status = q.statuses.size() == 1;
  if (one_status) add(vk::IndexPrefix(vk::kDimStatus, StatusName(q.statuses[0]), 'c'));
  const bool check_status = q.statuses.size() > 1;
  const bool check_tokens =
      std::any_of(words.begin(), words.end(), [](const auto& w) { return w.needs_check; });

  std::string start;
  if (!q.cursor.empty()) {
    auto raw = FromHex(q.cursor);
    if (!raw || raw->size() < 2 + kOrderBytes || (*raw)[0] != 'c' ||
        (*raw)[1] != (q.descending ? 'd' : 'a')) {
      return MakeError(Code::kInvalidArgument, "INVALID_CURSOR",
                       "cursor is not one this list returned for the same sort order");
    }
    start = raw->substr(2);
  }
  std::string lower, upper;
  if (q.created_after) lower = vk::EncodeU64(vk::SortableTime(*q.created_after));
  if (q.created_before) upper = vk::EncodeU64(vk::SortableTime(*q.created_before));
  Intersection join(std::move(sources), q.descending, lower, upper);
  join.Start(start);

  // Whether a candidate every source holds is a match: the checks the
  // sources cannot make. Reads the status record only when asked to.
  auto accept = [&](std::string_view job_id, std::optional<StatusDocument>* doc_out)
      -> Result<bool> {
    if (check_tokens) {
      std::string tokens;
      rocksdb::Status s = views->Get(ro, sk::TokensKey(job_id), &tokens);
      if (s.IsNotFound()) return false;
      if (!s.ok() || tokens.size() < kOrderBytes) return Internal("views: search tokens unreadable");
      const std::string_view list = std::string_view(tokens).substr(kOrderBytes);
      for (const search::QueryWord& w : words) {
        if (w.needs_check && !search::AnyTokenStartsWith(list, w.word)) return false;
      }
    }
    if (!check_status && doc_out == nullptr) return true;
    std::string value;
    rocksdb::Status s = views->Get(ro, vk::JobKey(job_id), &value);
    if (s.IsNotFound()) return false;  // expired in the same batch as its postings
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
    BOOST_OUTCOME_TRY(doc, DecodeStatusRecord(value));
    if (check_status &&
        std::find(q.statuses.begin(), q.statuses.end(), doc.status) == q.statuses.end()) {
      return false;
    }
    if (doc_out != nullptr) *doc_out = std::move(doc);
    return true;
  };

  ListPage page;
  size_t to_skip = q.cursor.empty() ? q.skip : 0;
  uint64_t matched = 0;
  std::string last_suffix;
  for (;;) {
    BOOST_OUTCOME_TRY(next, join.Next());
    if (!next) break;
    const std::string_view job_id = std::string_view(*next).substr(kOrderBytes);
    const bool on_page = to_skip == 0 && page.items_json.size() < q.limit;
    std::optional<StatusDocument> doc;
    BOOST_OUTCOME_TRY(ok, accept(job_id, on_page ? &doc : nullptr));
    if (!ok) continue;
    ++matched;
    if (to_skip > 0) {
      --to_skip;
    } else if (on_page) {
      page.items_json.push_back(std::move(doc->json));
      page.ids.emplace_back(job_id);
      page.statuses.push_back(doc->status);
      last_suffix = *next;
    } else {
      page.has_more = true;
    }
    // Beyond the ceiling, with the page full, the count stops: `total` is
    // then a lower bound.
    if (page.has_more && matched > kMaxSearchCount) {
      page.total_exact = false;
      break;
    }
  }
  page.total = matched;
  if (page.has_more) {
    std::string raw = "c";
    raw.push_back(q.descending ? 'd' : 'a');
    raw += last_suffix;
    page.next_cursor = ToHex(raw);
  }
  return page;
}

}  // namespace jobtrail
