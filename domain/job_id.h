#pragma once
// What a job id may be: 1 to 128 characters of ASCII letters, digits and
// '-', '_', '.', ':'. New jobs get UUIDs; ids given on enqueue or carried
// over by an import (another system's "invoice-2024-001", "bull:42") follow
// this rule, and every route that names a job accepts exactly these.
#include <cstddef>
#include <string_view>

namespace jobtrail {

inline constexpr size_t kMaxJobIdLength = 128;

inline bool IsValidJobId(std::string_view id) {
  if (id.empty() || id.size() > kMaxJobIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// For error messages.
inline constexpr std::string_view kJobIdRule =
    "1 to 128 characters of letters, digits, '-', '_', '.', ':'";

}  // namespace jobtrail
