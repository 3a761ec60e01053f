#include "projections/claim_index.h"

namespace jobtrail {

void ClaimIndex::Unlink(Queue& q, const Entry& e) {
  q.waiting.erase(WaitingKey{e.ready_at, -int64_t{e.priority}, e.seq, e.job_id});
  q.ready.erase(ReadyKey{-int64_t{e.priority}, e.ready_at, e.seq, e.job_id});
}

void ClaimIndex::Upsert(std::string_view queue, Entry entry) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  if (it == queues_.end()) it = queues_.emplace(std::string(queue), Queue{}).first;
  Queue& q = it->second;
  if (auto old = q.by_id.find(entry.job_id); old != q.by_id.end()) {
    Unlink(q, old->second);
    q.by_id.erase(old);
  }
  // Every entry starts waiting; Take promotes the ones whose time came.
  q.waiting.emplace(entry.ready_at, -int64_t{entry.priority}, entry.seq, entry.job_id);
  std::string id = entry.job_id;
  q.by_id.emplace(std::move(id), std::move(entry));
}

void ClaimIndex::AddAll(std::string_view queue, std::vector<Entry> entries) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  if (it == queues_.end()) it = queues_.emplace(std::string(queue), Queue{}).first;
  Queue& q = it->second;
  q.by_id.reserve(q.by_id.size() + entries.size());
  for (Entry& entry : entries) {
    if (auto old = q.by_id.find(entry.job_id); old != q.by_id.end()) {
      Unlink(q, old->second);
      q.by_id.erase(old);
    }
    q.waiting.emplace_hint(q.waiting.end(), entry.ready_at, -int64_t{entry.priority}, entry.seq,
                           entry.job_id);
    std::string id = entry.job_id;
    q.by_id.emplace(std::move(id), std::move(entry));
  }
}

void ClaimIndex::Remove(std::string_view queue, std::string_view job_id) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  if (it == queues_.end()) return;
  Queue& q = it->second;
  auto found = q.by_id.find(std::string(job_id));
  if (found == q.by_id.end()) return;
  Unlink(q, found->second);
  q.by_id.erase(found);
  if (q.by_id.empty()) queues_.erase(it);
}

std::vector<ClaimIndex::Entry> ClaimIndex::Take(std::string_view queue, Millis now, size_t max) {
  std::vector<Entry> out;
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  if (it == queues_.end()) return out;
  Queue& q = it->second;
  while (!q.waiting.empty() && std::get<0>(*q.waiting.begin()) <= now) {
    auto node = q.waiting.extract(q.waiting.begin());
    auto& [ready_at, priority, seq, id] = node.value();
    q.ready.emplace(priority, ready_at, seq, std::move(id));
  }
  while (out.size() < max && !q.ready.empty()) {
    auto node = q.ready.extract(q.ready.begin());
    auto found = q.by_id.find(std::get<3>(node.value()));
    if (found == q.by_id.end()) continue;  // cannot happen: both change together
    out.push_back(std::move(found->second));
    q.by_id.erase(found);
  }
  if (q.by_id.empty()) queues_.erase(it);
  return out;
}

size_t ClaimIndex::Size(std::string_view queue) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.by_id.size();
}

void ClaimIndex::Clear() {
  std::lock_guard lock(mu_);
  queues_.clear();
}

}  // namespace jobtrail
