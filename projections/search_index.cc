#include "projections/search_index.h"

#include <fmt/format.h>

#include <algorithm>

#include "projections/search_keys.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace sk = search_keys;
namespace vk = view_keys;
namespace {

constexpr size_t kCacheLimit = 20000;

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

// The distinct terms of tokens[from, to), sorted (views into the tokens).
std::vector<std::string_view> TermsOfRange(const std::vector<std::string>& tokens, size_t from,
                                           size_t to) {
  std::vector<std::string_view> terms;
  terms.reserve(2 * (to - from));
  for (size_t i = from; i < to; ++i) {
    const search::TokenTerms t = search::TermsOf(tokens[i]);
    for (size_t k = 0; k < t.count; ++k) terms.push_back(t.term[k]);
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

// Puts (or deletes) the posting of each term, the key built in one buffer.
template <typename Op>
void EachPosting(const std::vector<std::string_view>& terms, const SearchJob& job, Op op) {
  const std::string order = sk::OrderBytes(job.created_at, job.created_position);
  std::string key;
  for (std::string_view term : terms) {
    key.assign(sk::kPostingPrefix);
    key.append(term);
    key.push_back('\0');
    key.append(order);
    op(key);
  }
}

}  // namespace

void AddEventWords(const RecordedEvent& event, search::TokenSet& tokens) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Enqueued>) {
          search::Tokenize(event.job_id, tokens);
          search::Tokenize(body.external_ref, tokens);
          search::Tokenize(body.type, tokens);
          search::TokenizeJsonValues(body.payload_json, tokens);
        } else if constexpr (std::is_same_v<T, Errored>) {
          search::Tokenize(body.error_type, tokens);
          search::Tokenize(body.message, tokens);
        } else if constexpr (std::is_same_v<T, Failed>) {
          search::Tokenize(body.reason, tokens);
          search::Tokenize(body.error_type, tokens);
        } else if constexpr (std::is_same_v<T, Logged>) {
          search::Tokenize(body.message, tokens);
        }
      },
      event.body);
}

void WriteSearchRows(const SearchJob& job, const std::vector<std::string>& tokens, size_t stored,
                     bool in_views, RowSink& sink) {
  if (tokens.size() == stored && in_views) return;  // nothing new
  // Only terms the job did not have yet get a posting row.
  const std::vector<std::string_view> old_terms = TermsOfRange(tokens, 0, stored);
  std::vector<std::string_view> new_terms = TermsOfRange(tokens, stored, tokens.size());
  if (!old_terms.empty()) {
    std::erase_if(new_terms, [&](std::string_view t) {
      return std::binary_search(old_terms.begin(), old_terms.end(), t);
    });
  }
  EachPosting(new_terms, job, [&](const std::string& key) { sink.Put(key, ""); });
  sink.Put(sk::TokensKey(job.created_position), sk::TokensValue(job.job_id, Join(tokens)));
}

void RemoveSearchRows(const SearchJob& job, const std::vector<std::string>& tokens,
                      size_t stored, RowSink& sink) {
  EachPosting(TermsOfRange(tokens, 0, stored), job,
              [&](const std::string& key) { sink.Delete(key); });
  sink.Delete(sk::TokensKey(job.created_position));
}

Result<void> SearchIndex::Load(rocksdb::DB* views, const std::string& job_id, Pending& into) {
  if (auto it = cache_.find(job_id); it != cache_.end()) {
    for (const std::string& t : it->second) (void)into.tokens.Add(t);
    into.in_views = true;
    into.stored = into.tokens.tokens().size();
    return Ok();
  }
  std::string value;
  rocksdb::Status s =
      views->Get(rocksdb::ReadOptions(), sk::TokensKey(into.created_position), &value);
  if (s.IsNotFound()) return Ok();
  if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  std::string_view id, rest;
  if (!sk::SplitTokensValue(value, id, rest) || id != job_id) {
    return DataLoss("views: a malformed search tokens row");
  }
  while (!rest.empty()) {
    const size_t end = rest.find(' ');
    (void)into.tokens.Add(std::string(rest.substr(0, end)));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  into.in_views = true;
  into.stored = into.tokens.tokens().size();
  return Ok();
}

namespace {

// Whether AddEventWords can add a word for this event, or the event
// removes the job from the index: the other events (started, progress,
// completed, ...) leave a job's rows as they are, so the projector need not
// read its stored words back for them (it did, for every event: 3-4% of
// the server's CPU in the worker-protocol lifecycle).
bool TouchesSearchRows(const RecordedEvent& event) {
  return std::holds_alternative<Enqueued>(event.body) ||
         std::holds_alternative<Errored>(event.body) ||
         std::holds_alternative<Failed>(event.body) ||
         std::holds_alternative<Logged>(event.body) ||
         std::holds_alternative<Expired>(event.body);
}

}  // namespace

Result<void> SearchIndex::Observe(rocksdb::DB* views, const JobView& after,
                                  const RecordedEvent& event) {
  if (!TouchesSearchRows(event)) return Ok();
  auto [it, fresh] = pending_.try_emplace(event.job_id);
  Pending& p = it->second;
  if (fresh) {
    p.created_at = after.created_at;
    p.created_position = after.created_position;
    // A job enqueued in this batch has nothing stored yet.
    if (event.version > 1) {
      BOOST_OUTCOME_TRYV(Load(views, event.job_id, p));
    }
  }
  if (std::holds_alternative<Expired>(event.body)) p.expired = true;
  AddEventWords(event, p.tokens);
  return Ok();
}

void SearchIndex::Flush(RowSink& sink) {
  for (auto& [id, p] : pending_) {
    const SearchJob job{id, p.created_at, p.created_position};
    const std::vector<std::string>& tokens = p.tokens.tokens();
    if (p.expired) {
      // Enqueued and expired in one batch: nothing was stored.
      if (p.in_views) RemoveSearchRows(job, tokens, p.stored, sink);
      flushed_.emplace_back(id, std::nullopt);
      continue;
    }
    WriteSearchRows(job, tokens, p.stored, p.in_views, sink);
    flushed_.emplace_back(id, std::move(p.tokens).Take());
  }
  pending_.clear();
}

void SearchIndex::Committed() {
  for (auto& [id, tokens] : flushed_) {
    if (!tokens) {
      cache_.erase(id);
      continue;
    }
    if (cache_.size() >= kCacheLimit) cache_.clear();
    cache_[id] = std::move(*tokens);
  }
  flushed_.clear();
}

}  // namespace jobtrail
