#pragma once
// Query strings and request headers to typed values. Every error is a 400
// naming the parameter (INVALID_PARAMETER, with the allowed values in
// details where there is a fixed set) or the header (INVALID_HEADER).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "domain/job_event.h"
#include "http/api_error.h"
#include "http/http_types.h"
#include "projections/list_query.h"

namespace jobtrail::http {

inline constexpr size_t kDefaultListLimit = 50;
inline constexpr size_t kMaxListLimit = 1000;
// Skipping walks every skipped entry of the index: a ceiling keeps one
// request from walking all of it (a cursor pages without walking).
inline constexpr uint64_t kMaxListSkip = 10'000;
inline constexpr size_t kDefaultFeedLimit = 100;
inline constexpr size_t kMaxFeedLimit = 1000;

// %XX and (in queries) '+' decoding; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
// Errors: INVALID_PARAMETER for any parameter not in `allowed`. (A repeated
// parameter cannot be seen: Pistache keeps the first; lists are
// comma-separated.)
ApiResult<void> CheckParameters(const HttpRequest& request,
                                std::initializer_list<std::string_view> allowed);

// GET /v1/jobs: status (comma-separated), type, queue, owner, external_ref,
// created_after, created_before, sort (created|updated), order (asc|desc),
// limit (1..1000), skip (0..kMaxListSkip), cursor.
ApiResult<ListQuery> ParseListQuery(const HttpRequest& request);

// ?name=N with min <= N <= max; nullopt when absent. The list's limit and
// skip use it, and so do the dialects' paging parameters.
// Errors: INVALID_PARAMETER.
ApiResult<std::optional<uint64_t>> ParseUintParameter(const HttpRequest& request,
                                                      std::string_view name, uint64_t min,
                                                      uint64_t max);

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
