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
  // Seed 002's cron route checks x-webhook-secret against
  // SecurityOptions::webhook_secret (ApiContext::webhook_secret).
};

}  // namespace jobtrail::http
