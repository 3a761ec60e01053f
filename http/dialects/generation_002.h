#pragma once
// Seed 002, background generation jobs (storybook, auto-story, scenes,
// cartoonize, image): start a job of a kind with its documented body
// (validated by a JSON Schema per kind), poll its status, the system's
// health, and maintenance passes run on demand or by an external cron.
//
//   POST /api/jobs/{kind}/start        GET /api/jobs/{kind}/status/{jobId}
//   GET  /api/jobs/health              GET|POST /api/jobs/process
//   POST /api/cron/process-jobs        (x-webhook-secret)
//
// Errors answer {"error": message, "code": CODE} with its codes
// (JOB_NOT_FOUND, INVALID_INPUT, RATE_LIMIT_EXCEEDED, UNAUTHORIZED, ...).
#include "http/dialects/options.h"
#include "http/server/api_error.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

void AddGenerationDialect002(Router& router, ApiContext& context,
                             const DialectOptions& options);

// The maintenance routes of the same seed (dialect_generation_002_ops.cc).
void AddGenerationOpsDialect002(Router& router, ApiContext& context,
                                const DialectOptions& options);

// Retries a started job gets: what configSummary.maxRetries says, and what
// every job's own maxRetries says (its max_attempts is this plus one).
inline constexpr int32_t kGenerationMaxRetries = 3;

// The seed's error body for `e` (shared by both halves).
std::string GenerationErrorBody002(const ApiError& e, const HttpRequest& request, Millis now);

}  // namespace jobtrail::http
