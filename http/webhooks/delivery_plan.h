#pragma once
// What the log's events ask of the webhooks, as pure functions: which
// transition an event is, which subscriptions (and which job callback) it
// is for, the id of each delivery, and the body each delivery carries.
//
// A delivery is one event of one job for one target (a subscription or the
// job's callback_url); its id is a name-based UUID of the event's id and
// the target, so a restart that reads the same event again derives the same
// delivery and recognises its recorded attempts.
#include <optional>
#include <string>
#include <string_view>

#include "domain/job_event.h"
#include "domain/job_status.h"
#include "domain/job_view.h"
#include "http/webhooks/subscription_book.h"

namespace jobtrail::webhooks {

// The status an event moves its job to, for the events that change it
// (enqueued, started, retried, completed, failed, cancelled); nullopt for
// the others (progress, log lines, errors, expiry, webhook attempts).
std::optional<JobStatus> TransitionTo(EventKind kind);

// What the filters look at: the job's fixed facts, from its enqueued event.
struct JobFacts {
  std::string owner;
  std::string type;
  std::string queue;
  std::string callback_url;
};

// Does `subscription` want the event at `position` that moved a job with
// `facts` to `to`?
bool Wants(const Subscription& subscription, uint64_t position, JobStatus to,
           const JobFacts& facts);

// Does the job's own callback_url want a transition to `to`? Final states
// only.
inline bool CallbackWants(JobStatus to, const JobFacts& facts) {
  return IsFinal(to) && !facts.callback_url.empty();
}

// The target's name inside delivery ids: the subscription id, or "callback".
inline constexpr std::string_view kCallbackTarget = "callback";
std::string DeliveryId(std::string_view event_id, std::string_view target);

// {"delivery_id", "webhook_id" (null for a callback), "event": the event as
// GET /v1/jobs/{id}/events shows it, "job": the job's status document as of
// that event (GET /v1/jobs/{id}?at_version=N)}.
std::string RenderDeliveryBody(std::string_view delivery_id, std::string_view webhook_id,
                               const RecordedEvent& event, const JobView& job);

}  // namespace jobtrail::webhooks
