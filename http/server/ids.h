#pragma once
// Identifier checks and generation for the HTTP layer.
#include <string>
#include <string_view>

namespace jobtrail::http {

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex digits of either case.
bool IsUuid(std::string_view text);

// A random version-4 UUID, lower case. Thread-safe.
std::string NewUuid();

// Whether a client's X-Request-Id is safe to echo and log: 1..128 visible
// ASCII characters, no spaces or quotes.
bool IsAcceptableRequestId(std::string_view text);

}  // namespace jobtrail::http
