#include "projections/search_index.h"

#include <fmt/format.h>

#include <set>

#include "projections/search_keys.h"
#include "projections/search_terms.h"
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

std::set<std::string> TermsOfAll(const std::vector<std::string>& tokens, size_t from = 0) {
  std::set<std::string> terms;
  for (size_t i = from; i < tokens.size(); ++i) {
    for (std::string& t : search::TermsOf(tokens[i])) terms.insert(std::move(t));
  }
  return terms;
}

}  // namespace

void SearchIndex::Observe(const JobView& after, const RecordedEvent& event) {
  Pending& p = pending_[event.job_id];
  p.created_at = after.created_at;
  p.created_position = after.created_position;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Enqueued>) {
          p.is_new = true;
          p.texts.emplace_back(event.job_id, false);
          p.texts.emplace_back(body.external_ref, false);
          p.texts.emplace_back(body.type, false);
          p.texts.emplace_back(body.payload_json, true);
        } else if constexpr (std::is_same_v<T, Errored>) {
          p.texts.emplace_back(body.error_type, false);
          p.texts.emplace_back(body.message, false);
        } else if constexpr (std::is_same_v<T, Failed>) {
          p.texts.emplace_back(body.reason, false);
          p.texts.emplace_back(body.error_type, false);
        } else if constexpr (std::is_same_v<T, Logged>) {
          p.texts.emplace_back(body.message, false);
        } else if constexpr (std::is_same_v<T, Expired>) {
          p.expired = true;
        }
      },
      event.body);
}

Result<SearchIndex::Stored> SearchIndex::Load(rocksdb::DB* views, const std::string& job_id) {
  Stored stored;
  if (auto it = cache_.find(job_id); it != cache_.end()) {
    stored.found = true;
    stored.tokens = it->second;
    return stored;
  }
  std::string value;
  rocksdb::Status s = views->Get(rocksdb::ReadOptions(), sk::TokensKey(job_id), &value);
  if (s.IsNotFound()) return stored;
  if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  if (value.size() < 16) return DataLoss("views: a malformed search tokens row");
  stored.found = true;
  std::string_view rest = std::string_view(value).substr(16);
  while (!rest.empty()) {
    const size_t end = rest.find(' ');
    stored.tokens.emplace_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return stored;
}

Result<void> SearchIndex::Flush(rocksdb::DB* views, rocksdb::WriteBatch& batch) {
  rocksdb::Status status;
  auto put = [&](const std::string& k, const std::string& v) {
    if (status.ok()) status = batch.Put(k, v);
  };
  auto del = [&](const std::string& k) {
    if (status.ok()) status = batch.Delete(k);
  };
  std::map<std::string, Pending> pending;
  pending.swap(pending_);
  for (auto& [id, p] : pending) {
    Stored stored;
    if (!p.is_new) {
      BOOST_OUTCOME_TRY(loaded, Load(views, id));
      stored = std::move(loaded);
    }
    if (p.expired) {
      for (const std::string& term : TermsOfAll(stored.tokens)) {
        del(sk::PostingKey(term, p.created_at, p.created_position, id));
      }
      if (stored.found) del(sk::TokensKey(id));
      cache_.erase(id);
      continue;
    }
    search::TokenSet tokens;
    for (std::string& t : stored.tokens) (void)tokens.Add(std::move(t));
    const size_t before = tokens.tokens().size();
    for (const auto& [text, is_json] : p.texts) {
      if (tokens.full()) break;
      is_json ? search::TokenizeJsonValues(text, tokens) : search::Tokenize(text, tokens);
    }
    const std::vector<std::string>& all = tokens.tokens();
    if (all.size() == before && stored.found) continue;  // nothing new
    // Only terms the job did not have yet get a posting row.
    const std::set<std::string> old_terms =
        TermsOfAll(std::vector<std::string>(all.begin(), all.begin() + long(before)));
    for (const std::string& term : TermsOfAll(all, before)) {
      if (old_terms.count(term) == 0) {
        put(sk::PostingKey(term, p.created_at, p.created_position, id), "");
      }
    }
    std::string value = vk::EncodeU64(vk::SortableTime(p.created_at)) +
                        vk::EncodeU64(p.created_position) + Join(all);
    put(sk::TokensKey(id), value);
    if (cache_.size() >= kCacheLimit) cache_.clear();
    cache_[id] = all;
  }
  if (!status.ok()) return Internal(fmt::format("views: {}", status.ToString()));
  return Ok();
}

}  // namespace jobtrail
