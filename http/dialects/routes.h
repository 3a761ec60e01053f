#pragma once
// The seed dialects (SPEC §5): each seed's API, mounted at its documented
// paths (under DialectOptions::prefix) beside the canonical /v1 API.
#include "domain/error.h"
#include "http/dialects/options.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

// Registers every dialect's routes, and seed 001's default schedules when
// options.seed_001_schedules. Call before serving. Errors: those of
// JobStore::PutSchedule.
Result<void> AddDialectRoutes(Router& router, ApiContext& context,
                              const DialectOptions& options);

}  // namespace jobtrail::http
