#pragma once
// Seed 004, API relay jobs (a BullMQ-style queue): the job's state,
// return value, failure reason and stack trace in a
// {request_id, data, error} envelope.
//
//   POST /api/v1/flickr/jobs/status       {job_id, user_id} (as documented)
//   GET  /api/v1/flickr/jobs/{jobId}         the GET form it proposes, owner
//   GET  /api/v1/flickr/jobs/{jobId}/result  from the bearer token
//
// Another user's job answers exactly as an unknown one (404
// ERR_JOB_NOT_FOUND): ownership never reveals that a job exists.
#include "http/dialects/options.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

void AddApiRelayDialect004(Router& router, ApiContext& context,
                           const DialectOptions& options);

}  // namespace jobtrail::http
