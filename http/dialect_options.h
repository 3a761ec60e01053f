#pragma once
// Options of the seed dialects (SPEC §5 "Dialects"): the five seed APIs
// answered at their documented paths, next to the canonical /v1 API.
#include <string>

namespace jobtrail::http {

struct DialectOptions {
  bool enabled = true;
  // Prepended to every dialect path ("" mounts them at the seeds' own
  // paths, e.g. "/api/jobs"; "/compat" gives "/compat/api/jobs").
  std::string prefix;
  // Seed 001: register its five worker job types as schedules at start
  // (existing schedules of the same name are left as they are).
  bool seed_001_schedules = true;
  // Seed 002: the x-webhook-secret that POST /api/cron/process-jobs
  // requires. Empty: the cron route answers 401 to everyone.
  std::string webhook_secret;
};

}  // namespace jobtrail::http
