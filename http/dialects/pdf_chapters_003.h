#pragma once
// Seed 003, PDF chapter jobs: one polling route behind a bearer token,
// FastAPI-style {"detail": ...} errors, snake_case bodies.
//
//   GET /api/v1/books/jobs/{job_id}
//
// 401 {"detail":"Could not validate credentials"} without valid
// credentials (authenticator.h), 404 for an unknown job, 403 for another
// user's job, and 200 for a failed job. CORS headers come with every
// answer, errors included (request_handler.h adds them).
#include "http/dialects/options.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

// Jobs of this type are gone (404) this long after their creation, as the
// seed's TTL index removes them: `jobtrail serve` sets this as the type's
// retention (JobStoreOptions::retention_by_type; --retention changes it).
inline constexpr std::string_view kPdfChapterJobType = "pdf_chapter";
inline constexpr int64_t kPdfChapterRetentionMs = 7LL * 24 * 3'600'000;

void AddPdfChaptersDialect003(Router& router, ApiContext& context,
                              const DialectOptions& options);

}  // namespace jobtrail::http
