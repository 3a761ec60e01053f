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
constexpr size_t kOrderBytes = sk::kOrderBytes;

// One sorted source of candidates: a term's postings or a list index, or
// the union of several terms' postings (a two-byte query word). Ordered by
// the first kOrderBytes of their key suffixes (creation time, enqueue
// position), which name one job in every source.
struct Source {
  struct Member {
    std::string prefix;
    std::unique_ptr<rocksdb::Iterator> it;
  };
  std::vector<Member> members;
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

  // Positions every source at its first candidate: after `start` (order
  // bytes, exclusive) when given, else at the bound.
  void Start(const std::string& start) {
    for (Source& s : sources_) {
      for (Source::Member& m : s.members) {
        if (descending_) {
          if (!start.empty()) {
            SeekAtOrBefore(m, start);
            if (InRange(m) && Order(m) == start) m.it->Prev();
          } else if (!upper_.empty()) {
            m.it->SeekForPrev(m.prefix + upper_);  // rows at `upper_` sort after it
          } else {
            m.it->SeekForPrev(m.prefix + std::string(kOrderBytes + 1, '\xff'));
          }
        } else {
          const std::string& from = start.empty() ? lower_ : start;
          m.it->Seek(m.prefix + from);
          if (!start.empty() && InRange(m) && Order(m) == start) m.it->Next();
        }
      }
    }
  }

  // The next order bytes every source holds, or nullopt when one runs out.
  Result<std::optional<std::string>> Next() {
    for (;;) {
      std::string target;
      for (Source& s : sources_) {
        BOOST_OUTCOME_TRY(current, Current(s));
        if (!current) return std::optional<std::string>();
        if (target.empty() || (descending_ ? *current < target : *current > target)) {
          target.assign(*current);
        }
      }
      bool agree = true;
      for (Source& s : sources_) {
        BOOST_OUTCOME_TRY(current, Current(s));
        if (current && *current == target) continue;
        agree = false;
        for (Source::Member& m : s.members) {
          // A member out of range has run out in this direction: it stays.
          if (InRange(m) && (descending_ ? Order(m) > target : Order(m) < target)) {
            if (descending_) {
              SeekAtOrBefore(m, target);
            } else {
              m.it->Seek(m.prefix + target);
            }
          }
        }
      }
      if (!agree) continue;
      // Every member at the target moves on (a job may be in several of a
      // union's terms).
      for (Source& s : sources_) {
        for (Source::Member& m : s.members) {
          if (InRange(m) && Order(m) == target) descending_ ? m.it->Prev() : m.it->Next();
        }
      }
      return std::optional<std::string>(std::move(target));
    }
  }

 private:
  // The source's candidate: the first of its members' in this direction.
  Result<std::optional<std::string_view>> Current(const Source& s) const {
    std::optional<std::string_view> best;
    for (const Source::Member& m : s.members) {
      if (!InRange(m)) {
        if (!m.it->status().ok()) {
          return Internal(fmt::format("views: {}", m.it->status().ToString()));
        }
        continue;
      }
      const std::string_view order = Order(m);
      if (!best || (descending_ ? order > *best : order < *best)) best = order;
    }
    return best;
  }
  // The last row whose order bytes are at most `order`: a list index's row
  // carries the job id after them, so it seeks past them.
  static void SeekAtOrBefore(Source::Member& m, std::string_view order) {
    std::string key = m.prefix;
    key.append(order);
    key.push_back('\xff');
    m.it->SeekForPrev(key);
  }
  bool InRange(const Source::Member& m) const {
    if (!m.it->Valid() || !m.it->key().starts_with(m.prefix)) return false;
    const std::string_view key = m.it->key().ToStringView();
    if (key.size() < m.prefix.size() + kOrderBytes) return false;
    const std::string_view order = Order(m);
    if (!lower_.empty() && order < lower_) return false;
    if (!upper_.empty() && order >= upper_) return false;
    return true;
  }
  static std::string_view Order(const Source::Member& m) {
    return m.it->key().ToStringView().substr(m.prefix.size(), kOrderBytes);
  }

  std::vector<Source> sources_;
  bool descending_;
  std::string lower_;  // inclusive; empty: none
  std::string upper_;  // exclusive; empty: none
};

// The prefix just past every key that starts with `prefix`, or "" for none.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && uint8_t(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = char(uint8_t(prefix.back()) + 1);
  return prefix;
}

// The terms a two-byte word reads: itself (two-byte tokens) and every
// kShortPrefix-byte term that starts with it, one seek each (a long
// prefix term sorts right after its short one and is skipped with it).
Result<std::vector<std::string>> ShortTermsUnder(rocksdb::DB* views, const rocksdb::ReadOptions& ro,
                                                 std::string_view word) {
  std::vector<std::string> terms;
  const std::string range = std::string(sk::kPostingPrefix) + std::string(word);
  std::unique_ptr<rocksdb::Iterator> it(views->NewIterator(ro));
  for (it->Seek(range); it->Valid() && it->key().starts_with(range);) {
    const std::string_view key = it->key().ToStringView();
    const size_t zero = key.find('\0', sk::kPostingPrefix.size());
    if (zero == std::string_view::npos) return DataLoss("views: a malformed search posting");
    const std::string_view term = key.substr(sk::kPostingPrefix.size(), zero - 1);
    const std::string_view head = term.substr(0, search::kShortPrefix);
    if (term.size() <= search::kShortPrefix) terms.emplace_back(term);
    // Past every term that starts with `head` (its long terms too).
    const std::string next = PrefixEnd(std::string(sk::kPostingPrefix) + std::string(head));
    if (term.size() < search::kShortPrefix) {
      it->Seek(std::string(key.substr(0, zero)) + '\x01');  // past the two-byte term's rows
    } else if (next.empty()) {
      break;
    } else {
      it->Seek(next);
    }
  }
  if (!it->status().ok()) return Internal(fmt::format("views: {}", it->status().ToString()));
  return terms;
}

// The candidates' tokens rows ("v" + enqueue position). Candidates come in
// creation order, which is mostly enqueue order: when they are dense (a
// rare 10-letter word whose first 6 letters have 10,000 candidates, jobs
// enqueued one after the other) one iterator steps from row to row, which
// costs far less than a point read each; sparse ones are point reads.
class TokensRows {
 public:
  TokensRows(rocksdb::DB* views, const rocksdb::ReadOptions& ro, bool descending)
      : views_(views), ro_(ro), it_(views->NewIterator(ro)), descending_(descending) {}

  // The row of `position`; nullopt when there is none.
  Result<std::optional<std::string_view>> Find(uint64_t position) {
    const std::string key = sk::TokensKey(position);
    if (InRows()) {
      const uint64_t at = vk::DecodeU64(it_->key().ToStringView().substr(sk::kTokensPrefix.size()));
      if (at == position) return Value();
      if (Near(at, position)) {
        // A few rows ahead at most: step (a row passed over is not there).
        for (uint64_t steps = 0; steps < kMaxSteps; ++steps) {
          descending_ ? it_->Prev() : it_->Next();
          if (!InRows()) break;
          const int c = it_->key().compare(key);
          if (c == 0) return Value();
          if (descending_ ? c < 0 : c > 0) return std::optional<std::string_view>();
        }
        return Seek(key);
      }
    }
    // Near the last point read: the candidates are dense, the iterator
    // takes over from here.
    if (last_read_ && Near(*last_read_, position)) {
      last_read_.reset();
      return Seek(key);
    }
    last_read_ = position;
    rocksdb::Status s = views_->Get(ro_, key, &value_);
    if (s.IsNotFound()) return std::optional<std::string_view>();
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
    return std::optional<std::string_view>(value_);
  }

 private:
  static constexpr uint64_t kMaxSteps = 4;
  // Is `to` at most kMaxSteps positions after `from` in this direction?
  bool Near(uint64_t from, uint64_t to) const {
    return descending_ ? from > to && from - to <= kMaxSteps : to > from && to - from <= kMaxSteps;
  }
  bool InRows() const { return it_->Valid() && it_->key().starts_with(sk::kTokensPrefix); }
  std::optional<std::string_view> Value() const { return it_->value().ToStringView(); }
  Result<std::optional<std::string_view>> Seek(const std::string& key) {
    descending_ ? it_->SeekForPrev(key) : it_->Seek(key);
    if (!it_->Valid()) {
      if (!it_->status().ok()) return Internal(fmt::format("views: {}", it_->status().ToString()));
      return std::optional<std::string_view>();
    }
    if (it_->key() != key) return std::optional<std::string_view>();
    return Value();
  }

  rocksdb::DB* views_;
  const rocksdb::ReadOptions& ro_;
  std::unique_ptr<rocksdb::Iterator> it_;
  bool descending_;
  std::optional<uint64_t> last_read_;
  std::string value_;
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
  std::vector<std::vector<std::string>> seen;  // each source once
  auto add = [&](const std::vector<std::string>& prefixes) {
    if (std::find(seen.begin(), seen.end(), prefixes) != seen.end()) return;
    seen.push_back(prefixes);
    Source source;
    for (const std::string& prefix : prefixes) {
      source.members.push_back(
          {prefix, std::unique_ptr<rocksdb::Iterator>(views->NewIterator(ro))});
    }
    sources.push_back(std::move(source));
  };
  bool no_match = false;
  for (const search::QueryWord& w : words) {
    if (!w.every_short_term) {
      add({sk::PostingPrefix(w.term)});
      continue;
    }
    BOOST_OUTCOME_TRY(terms, ShortTermsUnder(views, ro, w.term));
    if (terms.empty()) no_match = true;  // no token starts with the word
    std::vector<std::string> prefixes;
    for (const std::string& t : terms) prefixes.push_back(sk::PostingPrefix(t));
    add(prefixes);
  }
  const std::pair<std::string_view, const std::string*> filters[] = {
      {vk::kDimExternalRef, &q.external_ref},
      {vk::kDimOwner, &q.owner},
      {vk::kDimType, &q.type},
      {vk::kDimQueue, &q.queue}};
  for (const auto& [dim, value] : filters) {
    if (!value->empty()) add({vk::IndexPrefix(dim, *value, 'c')});
  }
  const bool one_status = q.statuses.size() == 1;
  if (one_status) add({vk::IndexPrefix(vk::kDimStatus, StatusName(q.statuses[0]), 'c')});
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
    start = raw->substr(2, kOrderBytes);
  }
  std::string lower, upper;
  if (q.created_after) lower = vk::EncodeU64(vk::SortableTime(*q.created_after));
  if (q.created_before) upper = vk::EncodeU64(vk::SortableTime(*q.created_before));
  Intersection join(std::move(sources), q.descending, lower, upper);
  join.Start(start);

  // Whether a candidate every source holds is a match: the checks the
  // sources cannot make. Reads the job's tokens row (which names it) only
  // when a word must be checked or the job is on the page, and its status
  // record only when it is on the page or several statuses are asked for.
  TokensRows tokens_rows(views, ro, q.descending);
  auto accept = [&](std::string_view order, std::string* job_id,
                    std::optional<StatusDocument>* doc_out) -> Result<bool> {
    if (!check_tokens && !check_status && doc_out == nullptr) return true;
    BOOST_OUTCOME_TRY(tokens_value, tokens_rows.Find(vk::DecodeU64(order.substr(8))));
    if (!tokens_value) return false;
    std::string_view id, list;
    if (!sk::SplitTokensValue(*tokens_value, id, list)) {
      return DataLoss("views: a malformed search tokens row");
    }
    for (const search::QueryWord& w : words) {
      if (w.needs_check && !search::AnyTokenStartsWith(list, w.word)) return false;
    }
    job_id->assign(id);
    if (!check_status && doc_out == nullptr) return true;
    std::string value;
    rocksdb::Status s = views->Get(ro, vk::JobKey(*job_id), &value);
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
  std::string job_id;
  while (!no_match) {
    BOOST_OUTCOME_TRY(next, join.Next());
    if (!next) break;
    const bool on_page = to_skip == 0 && page.items_json.size() < q.limit;
    std::optional<StatusDocument> doc;
    BOOST_OUTCOME_TRY(ok, accept(*next, &job_id, on_page ? &doc : nullptr));
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
