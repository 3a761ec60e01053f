#pragma once
// ApiError: a domain Error plus the JSON "details" of the one error body
// ({"error":{"code","message","details"}}). The HTTP layer's own checks
// (parsing, query parameters, headers) return ApiResult<T>; a Result<T> from
// the JobStore converts implicitly, so BOOST_OUTCOME_TRY works across both.
#include <cstdint>
#include <string>
#include <utility>

#include "domain/error.h"

namespace jobtrail::http {

struct ApiError {
  Error error;
  std::string details_json;  // a JSON value, or empty for null
  // A 429's Retry-After, for error bodies that repeat it (seed 002's).
  int64_t retry_after_seconds = 0;

  ApiError() = default;
  // Implicit on purpose: a JobStore error is an ApiError without details.
  ApiError(Error e, std::string details = {})  // NOLINT
      : error(std::move(e)), details_json(std::move(details)) {}
};

template <typename T>
using ApiResult =
    boost::outcome_v2::result<T, ApiError, boost::outcome_v2::policy::terminate>;

}  // namespace jobtrail::http
