#pragma once
// Seed 000, a form-filling job queue (RelianceJobQueue): jobs looked up by
// their captcha id (jobtrail's external reference), a paged list and
// stats, with {"success": ..., "data"|"message": ...} bodies. No auth.
//
//   GET /api/job-status/{captchaId}   GET /api/jobs   GET /api/jobs/stats
#include "http/dialects/options.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

void AddFormsDialect000(Router& router, ApiContext& context, const DialectOptions& options);

}  // namespace jobtrail::http
