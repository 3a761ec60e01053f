#pragma once
// multipart/form-data request bodies (RFC 7578), parsed with GMime: seed
// 002's cartoonize start is documented as FormData (a File and two texts).
//
// Only the form's top level is read: each part's field name (its
// Content-Disposition "name"), its file name and media type if it has them,
// and its content with any Content-Transfer-Encoding undone.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"

namespace jobtrail::http {

struct FormField {
  std::string name;
  std::optional<std::string> filename;  // set for file fields
  std::string content_type;             // "text/plain" when the part has none
  std::string data;
};

// Is `content_type` (a Content-Type header value) multipart/form-data?
bool IsMultipartForm(std::string_view content_type);

// How many lines of `body` start with "--" + boundary: every part's
// delimiter and the closing one (RFC 2046 5.1.1), so at least the number
// of parts. One pass, no allocation.
size_t CountBoundaryLines(std::string_view boundary, std::string_view body);

// Errors: kInvalidArgument/INVALID_INPUT for a body that is not a form with
// a boundary, a part without a field name, or more than `max_fields` parts.
// The parts are counted (CountBoundaryLines) before GMime builds any: a
// 900 KB body of tiny parts used to cost ~110 MB of parts before the count.
Result<std::vector<FormField>> ParseMultipartForm(std::string_view content_type,
                                                  std::string_view body,
                                                  size_t max_fields = 64);

}  // namespace jobtrail::http
