#include "http/server/ids.h"

#include "projections/uuid.h"

namespace jobtrail::http {

bool IsUuid(std::string_view text) { return jobtrail::IsUuid(text); }

std::string NewUuid() { return RandomUuid(); }

bool IsAcceptableRequestId(std::string_view text) {
  if (text.empty() || text.size() > 128) return false;
  for (char c : text) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace jobtrail::http
