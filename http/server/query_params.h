#pragma once
// Query parameters as every route family reads them: percent-decoding,
// refusing unknown parameters, bounded integers. Errors are 400
// INVALID_PARAMETER naming the parameter (with the allowed values in
// details where there is a fixed set).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "http/server/api_error.h"
#include "http/server/http_types.h"

namespace jobtrail::http {

// %XX and (in queries) '+' decoding; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
// Errors: INVALID_PARAMETER for any parameter not in `allowed`. (A repeated
// parameter cannot be seen: Pistache keeps the first; lists are
// comma-separated.)
ApiResult<void> CheckParameters(const HttpRequest& request,
                                std::initializer_list<std::string_view> allowed);
// ?name=N with min <= N <= max; nullopt when absent. The list's limit and
// skip use it, and so do the dialects' paging parameters.
// Errors: INVALID_PARAMETER.
ApiResult<std::optional<uint64_t>> ParseUintParameter(const HttpRequest& request,
                                                      std::string_view name, uint64_t min,
                                                      uint64_t max);

// A plain decimal (no sign, no spaces); nullopt otherwise.
std::optional<uint64_t> ParseUint(std::string_view text);
// ["a","b"]: the allowed values, for an error's details.
std::string AllowedJson(std::initializer_list<std::string_view> values);

}  // namespace jobtrail::http
