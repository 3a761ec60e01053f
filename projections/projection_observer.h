#pragma once
// A seam for code that follows the log as the projector applies it (the
// webhook dispatcher), so that it need not read and decode every event a
// second time.
//
// Contract: called on the projection thread, after a batch of events has
// been committed to the read models, once per event, in position order;
// `job` is the event's job as that batch left it (its enqueued spec — type,
// queue, owner, callback_url — is what it was enqueued with). A batch that
// fails is not observed (it is applied again, and observed then). The
// observer sees only what is projected after the store opened: events the
// read models already held are never observed. It must be quick and never
// block (it holds up the read models) and must not call back into the store.
#include "domain/job_event.h"
#include "domain/job_view.h"

namespace jobtrail {

class ProjectionObserver {
 public:
  virtual ~ProjectionObserver() = default;
  virtual void Observe(const RecordedEvent& event, const JobView& job) = 0;
};

}  // namespace jobtrail
