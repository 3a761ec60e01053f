#include "projections/search_index.h"

#include <fmt/format.h>

#include <set>

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

std::set<std::string> TermsOfRange(const std::vector<std::string>& tokens, size_t from,
                                   size_t to) {
  std::set<std::string> terms;
  for (size_t i = from; i < to; ++i) {
    for (std::string& t : search::TermsOf(tokens[i])) terms.insert(std::move(t));
  }
  return terms;
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
  const std::set<std::string> old_terms = TermsOfRange(tokens, 0, stored);
  for (const std::string& term : TermsOfRange(tokens, stored, tokens.size())) {
    if (old_terms.count(term) == 0) {
      sink.Put(sk::PostingKey(term, job.created_at, job.created_position, job.job_id), "");
    }
  }
  sink.Put(sk::TokensKey(job.job_id), vk::EncodeU64(vk::SortableTime(job.created_at)) +
                                          vk::EncodeU64(job.created_position) + Join(tokens));
}

void RemoveSearchRows(const SearchJob& job, const std::vector<std::string>& tokens,
                      size_t stored, RowSink& sink) {
  for (const std::string& term : TermsOfRange(tokens, 0, stored)) {
    sink.Delete(sk::PostingKey(term, job.created_at, job.created_position, job.job_id));
  }
  sink.Delete(sk::TokensKey(job.job_id));
}

Result<void> SearchIndex::Load(rocksdb::DB* views, const std::string& job_id, Pending& into) {
  if (auto it = cache_.find(job_id); it != cache_.end()) {
    for (const std::string& t : it->second) (void)into.tokens.Add(t);
    into.in_views = true;
    into.stored = into.tokens.tokens().size();
    return Ok();
  }
  std::string value;
  rocksdb::Status s = views->Get(rocksdb::ReadOptions(), sk::TokensKey(job_id), &value);
  if (s.IsNotFound()) return Ok();
  if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  if (value.size() < 16) return DataLoss("views: a malformed search tokens row");
  std::string_view rest = std::string_view(value).substr(16);
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

Result<void> SearchIndex::Observe(rocksdb::DB* views, const JobView& after,
                                  const RecordedEvent& event) {
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
