#include "http/server/multipart_form.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace jobtrail::http {
namespace {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

void InitGMimeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

Error BadForm(std::string message) {
  return MakeError(Code::kInvalidArgument, "INVALID_INPUT", std::move(message));
}

std::string ContentTypeOf(GMimeObject* part) {
  GMimeContentType* type = g_mime_object_get_content_type(part);
  if (type == nullptr) return "text/plain";
  char* mime = g_mime_content_type_get_mime_type(type);
  std::string out = mime != nullptr ? mime : "text/plain";
  g_free(mime);
  return out;
}

// The part's content, transfer encoding undone.
std::string ContentOf(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return bytes == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace

bool IsMultipartForm(std::string_view content_type) {
  constexpr std::string_view kType = "multipart/form-data";
  if (content_type.size() < kType.size()) return false;
  return std::equal(kType.begin(), kType.end(), content_type.begin(), [](char a, char b) {
    return a == std::tolower(static_cast<unsigned char>(b));
  });
}

size_t CountBoundaryLines(std::string_view boundary, std::string_view body) {
  if (boundary.empty()) return 0;
  const std::string delimiter = "--" + std::string(boundary);
  size_t count = 0;
  for (size_t at = body.find(delimiter); at != std::string_view::npos;
       at = body.find(delimiter, at + delimiter.size())) {
    if (at == 0 || body[at - 1] == '\n') ++count;
  }
  return count;
}

Result<std::vector<FormField>> ParseMultipartForm(std::string_view content_type,
                                                  std::string_view body, size_t max_fields) {
  if (!IsMultipartForm(content_type)) return BadForm("the body is not multipart/form-data");
  for (char c : content_type) {
    if (c == '\r' || c == '\n') return BadForm("the Content-Type header is malformed");
  }
  InitGMimeOnce();
  // Count the parts before GMime builds them (each costs far more than its
  // bytes): only the header is parsed here, then the body is scanned once.
  {
    const std::string header(content_type);
    GPtr<GMimeContentType> type(g_mime_content_type_parse(nullptr, header.c_str()));
    const char* boundary =
        type ? g_mime_content_type_get_parameter(type.get(), "boundary") : nullptr;
    if (boundary == nullptr || *boundary == '\0') {
      return BadForm("the form's Content-Type has no boundary");
    }
    // The closing delimiter is one line more than the parts.
    if (CountBoundaryLines(boundary, body) > max_fields + 1) {
      return BadForm("the form has more than " + std::to_string(max_fields) + " fields");
    }
  }
  // GMime parses MIME entities: give it the header that says how to read
  // the body, then the body as sent.
  std::string entity = "Content-Type: ";
  entity.append(content_type);
  entity.append("\r\n\r\n");
  entity.append(body);
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeObject> root(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root || !GMIME_IS_MULTIPART(root.get())) {
    return BadForm("the form does not parse as multipart/form-data");
  }
  // (Asking the multipart for its boundary would make one up.)
  const char* boundary =
      g_mime_content_type_get_parameter(g_mime_object_get_content_type(root.get()), "boundary");
  if (boundary == nullptr || *boundary == '\0') {
    return BadForm("the form's Content-Type has no boundary");
  }
  auto* multipart = GMIME_MULTIPART(root.get());
  const int count = g_mime_multipart_get_count(multipart);
  if (count < 0 || size_t(count) > max_fields) {
    return BadForm("the form has more than " + std::to_string(max_fields) + " fields");
  }
  std::vector<FormField> fields;
  for (int i = 0; i < count; ++i) {
    GMimeObject* part = g_mime_multipart_get_part(multipart, i);
    if (part == nullptr || !GMIME_IS_PART(part)) {
      return BadForm("form fields must not be nested multiparts");
    }
    const char* name = g_mime_object_get_content_disposition_parameter(part, "name");
    if (name == nullptr || *name == '\0') return BadForm("a form field has no name");
    FormField field;
    field.name = name;
    if (const char* filename = g_mime_part_get_filename(GMIME_PART(part))) {
      field.filename = filename;
    }
    field.content_type = ContentTypeOf(part);
    field.data = ContentOf(GMIME_PART(part));
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace jobtrail::http
