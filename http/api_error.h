#pragma once
// ApiError: a domain Error plus the JSON "details" of the one error body
// ({"error":{"code","message","details"}}). The HTTP layer's own checks
// (parsing, query parameters, headers) return ApiResult<T>; a Result<T> from
// the JobStore converts implicitly, so BOOST_OUTCOME_TRY works across both.
#include <string>
#include <utility>

#include "domain/error.h"

namespace jobtrail::http {

struct ApiError {
  Error error;
  std::string details_json;  // a JSON value, or empty for null

  ApiError() = default;
  // Implicit on purpose: a JobStore error is an ApiError without details.
  ApiError(Error e, std::string details = {})  // NOLINT
      : error(std::move(e)), details_json(std::move(details)) {}
};

template <typename T>
using ApiResult =
    boost::outcome_v2::result<T, ApiError, boost::outcome_v2::policy::terminate>;

}  // namespace jobtrail::http
