#include "http/v1/readiness.h"

#include "http/server/json_writer.h"

namespace jobtrail::http {

Readiness Assess(const ProjectionProgress& p, const StoreVitals& v, uint64_t max_lag_ms) {
  Readiness r;
  const bool storage = v.log_storage.writable && v.views_storage.writable;
  r.writable = storage && p.state == ProjectionState::kRunning;
  if (p.state == ProjectionState::kFailed) {
    r.reason = "projection_failed";
  } else if (!storage || p.state == ProjectionState::kBlocked) {
    r.reason = "storage_unavailable";
  } else if (!p.ready) {
    r.reason = "catching_up";
  } else if (max_lag_ms > 0 && p.lag_ms > max_lag_ms) {
    r.reason = "projection_lagging";
  }
  r.ready = r.reason.empty();
  return r;
}

namespace {

std::string_view StorageWord(const eventstore::StorageHealth& h) {
  return h.writable ? std::string_view("ok") : std::string_view(h.reason);
}

}  // namespace

std::string RenderReadiness(const Readiness& r, const ProjectionProgress& p,
                            const StoreVitals& v) {
  JsonWriter d;
  d.StartObject().Field("ready", r.ready).Field("writable", r.writable);
  if (!r.ready) d.Field("reason", r.reason);
  d.Field("log_position", p.log_position)
      .Field("projected_position", p.projected_position)
      .Field("lag_events",
             p.log_position > p.projected_position ? p.log_position - p.projected_position
                                                   : uint64_t{0})
      .Field("lag_ms", p.lag_ms)
      .Field("projection", ProjectionStateName(p.state));
  // Stable words only ("ok", "no_space", "io_error", "corruption",
  // "no_primary" for a shared log without a primary): this
  // route answers anyone, so no file names or library messages.
  d.Key("storage")
      .StartObject()
      .Field("log", StorageWord(v.log_storage))
      .Field("read_models", StorageWord(v.views_storage))
      .EndObject();
  d.EndObject();
  return d.Take();
}

}  // namespace jobtrail::http
