#pragma once
// The dispatcher's shortcut to the log: a ProjectionObserver that keeps, of
// the events the projector commits, only those webhooks may care about —
// transitions to a status some subscription wants, final transitions of
// jobs with a callback_url, webhook attempts — with the job's facts
// attached. Without it the dispatcher reads and decodes every event of the
// log a second time and looks each finished job's enqueue up (about a tenth
// of a busy server's throughput, bench/webhooks/overhead.sh).
//
// It is a cache, never the truth: it covers the log only from a position on
// (`covered_from`), and whenever it cannot keep up (its queue is full) it
// drops what it holds and covers again from there. The dispatcher takes from
// it while its cursor is inside the covered range and reads the log itself
// otherwise.
//
// The wanted statuses only grow (a superset is safe: the dispatcher filters
// again); they are set before a subscription can see its first event, and
// the tap covers nothing observed before Attach().
//
// Thread-safe: Observe on the projection thread, the rest on the
// dispatcher's.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/job_status.h"
#include "http/webhooks/delivery_plan.h"
#include "projections/projection_observer.h"

namespace jobtrail::webhooks {

// What the dispatcher needs of one event.
struct TapEvent {
  uint64_t position = 0;
  std::string job_id;
  std::string event_id;
  uint64_t version = 0;
  EventKind kind = EventKind::kEnqueued;
  JobFacts facts;
  std::optional<WebhookAttempted> attempt;
};

class FeedTap final : public ProjectionObserver {
 public:
  explicit FeedTap(size_t capacity = 65536) : capacity_(capacity) {}

  void Observe(const RecordedEvent& event, const JobView& job) override;

  // Adds statuses to those kept.
  void Want(JobStatus status);
  // Starts covering: from the next event observed on.
  void Attach(std::function<void()> wake);
  // Stops calling `wake` (before its owner goes away).
  void Detach();

  // The kept events after `after`, if the tap covers every event from there
  // to what it has seen (`seen`, the position the caller may move its cursor
  // to); false when it does not (the caller reads the log instead).
  bool Take(uint64_t after, std::vector<TapEvent>& out, uint64_t& seen);

 private:
  const size_t capacity_;
  std::mutex mu_;
  bool attached_ = false;        // GUARDED_BY(mu_)
  bool observed_ = false;        // GUARDED_BY(mu_): an event since Attach
  uint64_t covered_from_ = 0;    // GUARDED_BY(mu_): events after it are known
  uint64_t seen_ = 0;            // GUARDED_BY(mu_): last position observed
  unsigned wanted_ = 0;          // GUARDED_BY(mu_): bit per JobStatus
  std::deque<TapEvent> kept_;    // GUARDED_BY(mu_)
  std::function<void()> wake_;   // GUARDED_BY(mu_)
};

}  // namespace jobtrail::webhooks
