#include "http/webhooks/delivery_plan.h"

#include <algorithm>

#include "http/server/json_writer.h"
#include "projections/job_json.h"
#include "projections/uuid.h"

namespace jobtrail::webhooks {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::optional<JobStatus> TransitionTo(EventKind kind) { return StatusEnteredBy(kind); }

bool Wants(const Subscription& s, uint64_t position, JobStatus to, const JobFacts& facts) {
  if (position <= s.after_position) return false;
  if (std::find(s.statuses.begin(), s.statuses.end(), to) == s.statuses.end()) return false;
  if (!s.owner.empty() && s.owner != facts.owner) return false;
  return Contains(s.types, facts.type) && Contains(s.queues, facts.queue);
}

std::string DeliveryId(std::string_view event_id, std::string_view target) {
  std::string name(event_id);
  name.push_back('/');
  name.append(target);
  return NameUuid("jobtrail-webhook-delivery", name);
}

std::string RenderDeliveryBody(std::string_view delivery_id, std::string_view webhook_id,
                               const RecordedEvent& event, const JobView& job) {
  http::JsonWriter w;
  w.StartObject()
      .Field("delivery_id", delivery_id)
      .StringOrNull("webhook_id", webhook_id)
      .RawField("event", RenderEventJson(event))
      .RawField("job", RenderJobJson(job))
      .EndObject();
  return w.Take();
}

}  // namespace jobtrail::webhooks
