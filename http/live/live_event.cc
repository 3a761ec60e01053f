#include "http/live/live_event.h"

#include <algorithm>
#include <variant>

#include "domain/job_view.h"
#include "projections/job_json.h"

namespace jobtrail::http::live {
namespace {

JobFacts FromSpec(const Enqueued& spec) {
  return JobFacts{true, spec.owner, spec.queue, spec.type};
}

template <typename T>
bool Contains(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

JobFacts FactsCache::For(const RecordedEvent& e) {
  if (const auto* spec = std::get_if<Enqueued>(&e.body)) {
    JobFacts facts = FromSpec(*spec);
    std::lock_guard lock(mu_);
    if (facts_.size() >= capacity_) facts_.clear();  // bounded; misses cost a read
    facts_[e.job_id] = facts;
    return facts;
  }
  {
    std::lock_guard lock(mu_);
    if (auto it = facts_.find(e.job_id); it != facts_.end()) return it->second;
  }
  JobFacts facts;
  if (auto job = store_.LoadJob(e.job_id, std::nullopt)) {
    facts = FromSpec(job.value().spec);
  } else if (admin_ != nullptr) {
    // Expired or past its retention: the log still has its first event.
    if (auto events = admin_->AuditHistory(e.job_id); events && !events.value().empty()) {
      if (const auto* spec = std::get_if<Enqueued>(&events.value().front().body)) {
        facts = FromSpec(*spec);
      }
    }
  }
  if (!facts.known) return facts;  // a failed read is not remembered
  std::lock_guard lock(mu_);
  if (facts_.size() >= capacity_) facts_.clear();
  facts_[e.job_id] = facts;
  return facts;
}

std::shared_ptr<const LiveEvent> MakeLiveEvent(FactsCache& facts, RecordedEvent e) {
  auto live = std::make_shared<LiveEvent>();
  live->facts = facts.For(e);
  live->json = RenderEventJson(e);
  live->event = std::move(e);
  return live;
}

std::optional<JobStatus> StatusEntered(const EventBody& body) {
  return StatusEnteredBy(KindOf(body));
}

bool EndsJob(const EventBody& body) {
  const EventKind kind = KindOf(body);
  return kind == EventKind::kCompleted || kind == EventKind::kFailed ||
         kind == EventKind::kCancelled || kind == EventKind::kExpired;
}

bool EventFilter::Matches(const LiveEvent& e) const {
  const bool need_facts = !queues.empty() || !types.empty() || !owners.empty();
  if (need_facts && !e.facts.known) return false;
  if (!queues.empty() && !Contains(queues, e.facts.queue)) return false;
  if (!types.empty() && !Contains(types, e.facts.type)) return false;
  if (!owners.empty() && !Contains(owners, e.facts.owner)) return false;
  if (!statuses.empty()) {
    const std::optional<JobStatus> entered = StatusEntered(e.event.body);
    if (!entered || !Contains(statuses, *entered)) return false;
  }
  return true;
}

bool MayReadInFeed(const Principal& p, const JobFacts& facts) {
  if (!p.authenticated() || p.share_link()) return false;
  if (p.admin()) return true;
  return facts.known && facts.owner == p.subject;
}

}  // namespace jobtrail::http::live
