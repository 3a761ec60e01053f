#include "http/webhooks/feed_tap.h"

namespace jobtrail::webhooks {

void FeedTap::Observe(const RecordedEvent& event, const JobView& job) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (!attached_) {
      seen_ = event.position;
      return;
    }
    if (!observed_) {
      // Nothing before this event was observed since Attach (the read
      // models may have held it already): the log has to tell.
      observed_ = true;
      if (covered_from_ + 1 < event.position) covered_from_ = event.position - 1;
    }
    seen_ = event.position;
    const EventKind kind = KindOf(event.body);
    const std::optional<JobStatus> to = TransitionTo(kind);
    const bool wanted =
        kind == EventKind::kWebhookAttempted ||
        (to && ((wanted_ & (1u << unsigned(*to))) != 0 ||
                (IsFinal(*to) && !job.spec.callback_url.empty())));
    if (!wanted) return;
    if (kept_.size() >= capacity_) {
      // Behind: forget what is kept; the log has it.
      kept_.clear();
      covered_from_ = event.position;
      return;
    }
    TapEvent e;
    e.position = event.position;
    e.job_id = event.job_id;
    e.event_id = event.event_id;
    e.version = event.version;
    e.kind = kind;
    e.facts = {job.spec.owner, job.spec.type, job.spec.queue, job.spec.callback_url};
    if (const auto* attempt = std::get_if<WebhookAttempted>(&event.body)) e.attempt = *attempt;
    kept_.push_back(std::move(e));
    wake = wake_;
  }
  if (wake) wake();
}

void FeedTap::Want(JobStatus status) {
  std::lock_guard lock(mu_);
  wanted_ |= 1u << unsigned(status);
}

void FeedTap::Attach(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  attached_ = true;
  observed_ = false;
  covered_from_ = seen_;
  kept_.clear();
  wake_ = std::move(wake);
}

void FeedTap::Detach() {
  std::lock_guard lock(mu_);
  attached_ = false;
  kept_.clear();
  wake_ = nullptr;
}

bool FeedTap::Take(uint64_t after, std::vector<TapEvent>& out, uint64_t& seen) {
  std::lock_guard lock(mu_);
  if (!attached_ || !observed_ || after < covered_from_) return false;
  for (TapEvent& e : kept_) {
    if (e.position > after) out.push_back(std::move(e));
  }
  kept_.clear();
  seen = std::max(seen_, after);
  return true;
}

}  // namespace jobtrail::webhooks
