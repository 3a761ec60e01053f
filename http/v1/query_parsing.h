#pragma once
// The canonical API's query strings and request headers to typed values
// (lists, the feed, job ids, versions, ETags). Every error is a 400 naming
// the parameter (INVALID_PARAMETER, with the allowed values in details where
// there is a fixed set) or the header (INVALID_HEADER). The generic pieces
// (percent-decoding, unknown parameters, bounded integers) are in
// http/server/query_params.h, which this header brings along.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/job_event.h"
#include "http/server/api_error.h"
#include "http/server/http_types.h"
#include "http/server/query_params.h"
#include "projections/list_query.h"

namespace jobtrail::http {

inline constexpr size_t kDefaultListLimit = 50;
inline constexpr size_t kMaxListLimit = 1000;
// Skipping walks every skipped entry of the index: a ceiling keeps one
// request from walking all of it (a cursor pages without walking).
inline constexpr uint64_t kMaxListSkip = 10'000;
inline constexpr size_t kDefaultFeedLimit = 100;
inline constexpr size_t kMaxFeedLimit = 1000;


// GET /v1/jobs: status (comma-separated), type, queue, owner, external_ref,
// created_after, created_before, sort (created|updated), order (asc|desc),
// limit (1..1000), skip (0..kMaxListSkip), cursor.
ApiResult<ListQuery> ParseListQuery(const HttpRequest& request);

struct FeedQuery {
  uint64_t after = 0;
  size_t limit = kDefaultFeedLimit;
};
ApiResult<FeedQuery> ParseFeedQuery(const HttpRequest& request);

// The {id} path parameter. Errors: 400 INVALID_JOB_ID if it is not a UUID.
ApiResult<std::string> JobIdParam(const HttpRequest& request);

// ?at_version=N (N >= 1); nullopt when absent.
ApiResult<std::optional<uint64_t>> ParseAtVersion(const HttpRequest& request);
// ?level=WARN; TRACE (everything) when absent.
ApiResult<LogLevel> ParseMinLevel(const HttpRequest& request);

// If-Match: a version as the ETag carries it ("7", 7 or W/"7"); nullopt when
// absent or "*".
ApiResult<std::optional<uint64_t>> ParseIfMatch(const HttpRequest& request);
// Whether If-None-Match names `version` (or is "*").
bool IfNoneMatchHits(const HttpRequest& request, uint64_t version);
// The ETag for a stream version: "\"7\"".
std::string VersionETag(uint64_t version);

}  // namespace jobtrail::http
