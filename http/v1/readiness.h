#pragma once
// Readiness, decided in one place for /readyz and the jobtrail_ready gauge:
// an instance is ready when its read models have caught up since start,
// are being kept up (the projection runs, within --max-projection-lag-ms of
// the log), and the store can write (the log and the read models have
// storage). Otherwise `reason` says which, in a stable word.
#include <cstdint>
#include <string>

#include "projections/job_reads.h"

namespace jobtrail::http {

struct Readiness {
  bool ready = false;
  bool writable = false;  // writes are taken (storage and projection)
  // Empty when ready; else "projection_failed", "storage_unavailable",
  // "catching_up" or "projection_lagging".
  std::string reason;
};

// `max_lag_ms` 0: no bound on the projection's lag.
Readiness Assess(const ProjectionProgress& progress, const StoreVitals& vitals,
                 uint64_t max_lag_ms);

// The readiness document ({"ready", "writable", "reason", positions, lag,
// projection state, storage state}), also the details of a 503 NOT_READY.
std::string RenderReadiness(const Readiness& r, const ProjectionProgress& progress,
                            const StoreVitals& vitals);

}  // namespace jobtrail::http
