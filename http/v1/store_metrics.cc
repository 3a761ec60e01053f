// The store's part of /metrics: the log (position, group commits, syncs,
// pending appends), the read models (projected position, lag in events and
// seconds, projection state and errors), storage health of both databases,
// readiness, the write queue and claims. README's Operations section lists
// each with its meaning; keep the two in step.
#include <fmt/format.h>

#include <iterator>

#include "http/v1/metrics.h"

namespace jobtrail::http {
namespace {

// All read models are applied by one projector, in one batch with one
// checkpoint (projections/README.md): one series, model="views".
constexpr std::string_view kModel = "views";

void Histogram(std::string& out, std::string_view name, std::string_view help,
               const eventstore::HistogramSnapshot& h) {
  MetricHeader(out, name, "histogram", help);
  auto it = std::back_inserter(out);
  uint64_t cumulative = 0;
  for (size_t b = 0; b < h.bounds.size() && b < h.buckets.size(); ++b) {
    cumulative += h.buckets[b];
    fmt::format_to(it, "{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds[b], cumulative);
  }
  if (h.buckets.size() > h.bounds.size()) cumulative += h.buckets.back();
  fmt::format_to(it, "{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  fmt::format_to(it, "{}_sum {:.6f}\n", name, h.sum);
  fmt::format_to(it, "{}_count {}\n", name, cumulative);
}

void Storage(std::string& out, std::string_view db, const eventstore::StorageHealth& h,
             bool first) {
  auto it = std::back_inserter(out);
  if (first) {
    MetricHeader(out, "jobtrail_storage_writable", "gauge",
           "1 while the database can write; 0 after a full disk or an I/O error, until it "
           "recovers by itself.");
  }
  fmt::format_to(it, "jobtrail_storage_writable{{db=\"{}\"}} {}\n", db, h.writable ? 1 : 0);
}

}  // namespace

void RenderStoreMetrics(std::string& out, const ProjectionProgress& p, const StoreVitals& v,
                        const Readiness& readiness, size_t write_queue_depth) {
  auto it = std::back_inserter(out);
  MetricHeader(out, "jobtrail_log_position", "gauge", "Last position committed to the event log.");
  fmt::format_to(it, "jobtrail_log_position {}\n", p.log_position);
  MetricHeader(out, "jobtrail_log_pending_appends", "gauge",
         "Appends queued for or being written by the log's group commit.");
  fmt::format_to(it, "jobtrail_log_pending_appends {}\n", v.pending_appends);
  Histogram(out, "jobtrail_log_group_commit_events",
            "Events written per group commit (one WriteBatch for every append waiting).",
            v.group_events);
  Histogram(out, "jobtrail_log_sync_seconds",
            "Time of one WAL sync (one fsync covers every group written before it).",
            v.sync_seconds);

  MetricHeader(out, "jobtrail_projected_position", "gauge",
         "Last log position applied to the read models.");
  fmt::format_to(it, "jobtrail_projected_position{{model=\"{}\"}} {}\n", kModel,
                 p.projected_position);
  MetricHeader(out, "jobtrail_projection_lag_events", "gauge",
         "Events committed to the log but not yet applied to the read models.");
  fmt::format_to(it, "jobtrail_projection_lag_events{{model=\"{}\"}} {}\n", kModel,
                 p.log_position > p.projected_position ? p.log_position - p.projected_position
                                                       : 0);
  MetricHeader(out, "jobtrail_projection_lag_seconds", "gauge",
         "How long the oldest event not yet in the read models has been committed; 0 when "
         "caught up.");
  fmt::format_to(it, "jobtrail_projection_lag_seconds{{model=\"{}\"}} {:.3f}\n", kModel,
                 double(p.lag_ms) / 1000.0);
  MetricHeader(out, "jobtrail_projection_state", "gauge",
         "1 for the projection's current state: running, blocked (storage), failed (stopped "
         "for good).");
  for (ProjectionState s :
       {ProjectionState::kRunning, ProjectionState::kBlocked, ProjectionState::kFailed}) {
    fmt::format_to(it, "jobtrail_projection_state{{model=\"{}\",state=\"{}\"}} {}\n", kModel,
                   ProjectionStateName(s), p.state == s ? 1 : 0);
  }
  MetricHeader(out, "jobtrail_projection_errors_total", "counter",
         "Batches the projection failed to apply (retried while blocked).");
  fmt::format_to(it, "jobtrail_projection_errors_total{{model=\"{}\"}} {}\n", kModel,
                 v.projection_errors);

  MetricHeader(out, "jobtrail_ready", "gauge",
         "1 when /readyz answers 200 (caught up, within the lag bound, writable).");
  fmt::format_to(it, "jobtrail_ready {}\n", readiness.ready ? 1 : 0);
  MetricHeader(out, "jobtrail_writable", "gauge",
         "1 while writes are taken; 0 while they answer 503 STORAGE_UNAVAILABLE or "
         "PROJECTION_FAILED.");
  fmt::format_to(it, "jobtrail_writable {}\n", readiness.writable ? 1 : 0);
  Storage(out, "log", v.log_storage, true);
  Storage(out, "read_models", v.views_storage, false);
  MetricHeader(out, "jobtrail_storage_failures_total", "counter",
         "Times a database became unwritable (full disk, I/O error).");
  fmt::format_to(it, "jobtrail_storage_failures_total{{db=\"log\"}} {}\n",
                 v.log_storage.failures);
  fmt::format_to(it, "jobtrail_storage_failures_total{{db=\"read_models\"}} {}\n",
                 v.views_storage.failures);
  MetricHeader(out, "jobtrail_storage_recoveries_total", "counter",
         "Times a database could write again after a failure, without a restart.");
  fmt::format_to(it, "jobtrail_storage_recoveries_total{{db=\"log\"}} {}\n",
                 v.log_storage.recoveries);
  fmt::format_to(it, "jobtrail_storage_recoveries_total{{db=\"read_models\"}} {}\n",
                 v.views_storage.recoveries);
  MetricHeader(out, "jobtrail_storage_background_errors_total", "counter",
         "Background errors RocksDB reported (flushes, compactions, WAL, MANIFEST).");
  fmt::format_to(it, "jobtrail_storage_background_errors_total{{db=\"log\"}} {}\n",
                 v.log_storage.background_errors);
  fmt::format_to(it, "jobtrail_storage_background_errors_total{{db=\"read_models\"}} {}\n",
                 v.views_storage.background_errors);

  MetricHeader(out, "jobtrail_write_queue_depth", "gauge",
         "HTTP writes waiting for a write thread (over --max-queued-writes: 503 OVERLOADED).");
  fmt::format_to(it, "jobtrail_write_queue_depth {}\n", write_queue_depth);
  MetricHeader(out, "jobtrail_jobs_claimed_total", "counter",
         "Jobs handed out by claims (each got a started event and a lease).");
  fmt::format_to(it, "jobtrail_jobs_claimed_total {}\n", v.jobs_claimed);
  MetricHeader(out, "jobtrail_claims_per_second", "gauge",
         "Jobs claimed per second over the last 10 whole seconds.");
  fmt::format_to(it, "jobtrail_claims_per_second {:.1f}\n", v.claims_per_second);
}

}  // namespace jobtrail::http
