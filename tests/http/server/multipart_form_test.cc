// multipart/form-data parsing (http/server/multipart_form.h) on bodies as browsers
// and curl send them, and on broken ones.
#include <gtest/gtest.h>

#include <string>

#include "http/server/multipart_form.h"

namespace jobtrail::http {
namespace {

constexpr const char* kType = "multipart/form-data; boundary=----jt7MA4YWxkTrZu0gW";

std::string Part(const std::string& headers, const std::string& content) {
  return "------jt7MA4YWxkTrZu0gW\r\n" + headers + "\r\n\r\n" + content + "\r\n";
}
const std::string kEnd = "------jt7MA4YWxkTrZu0gW--\r\n";

TEST(MultipartForm, TextAndBinaryFileFields) {
  const std::string image("\x89PNG\r\n\x1a\n\0\x01\xff--boundary-like\r\n", 27);
  const std::string body =
      Part("Content-Disposition: form-data; name=\"prompt\"", "a smiling fox") +
      Part("Content-Disposition: form-data; name=\"style\"", "anime") +
      Part("Content-Disposition: form-data; name=\"image\"; filename=\"fox.png\"\r\n"
           "Content-Type: image/png",
           image) +
      kEnd;
  auto fields = ParseMultipartForm(kType, body);
  ASSERT_TRUE(fields) << fields.error().ToString();
  ASSERT_EQ(fields.value().size(), 3u);
  EXPECT_EQ(fields.value()[0].name, "prompt");
  EXPECT_EQ(fields.value()[0].data, "a smiling fox");
  EXPECT_FALSE(fields.value()[0].filename);
  EXPECT_EQ(fields.value()[1].data, "anime");
  const FormField& file = fields.value()[2];
  EXPECT_EQ(file.name, "image");
  EXPECT_EQ(file.filename, "fox.png");
  EXPECT_EQ(file.content_type, "image/png");
  EXPECT_EQ(file.data, image);  // every byte, NULs and CRLFs included
}

TEST(MultipartForm, TransferEncodingIsUndoneAndEmptyFieldsKept) {
  const std::string body =
      Part("Content-Disposition: form-data; name=\"note\"\r\n"
           "Content-Transfer-Encoding: base64",
           "aGVsbG8gd29ybGQ=") +
      Part("Content-Disposition: form-data; name=\"empty\"", "") + kEnd;
  auto fields = ParseMultipartForm(kType, body);
  ASSERT_TRUE(fields) << fields.error().ToString();
  ASSERT_EQ(fields.value().size(), 2u);
  EXPECT_EQ(fields.value()[0].data, "hello world");
  EXPECT_EQ(fields.value()[1].data, "");
  EXPECT_EQ(fields.value()[1].content_type, "text/plain");
}

TEST(MultipartForm, ContentTypeIsRecognisedCaseInsensitively) {
  EXPECT_TRUE(IsMultipartForm("Multipart/Form-Data; boundary=x"));
  EXPECT_FALSE(IsMultipartForm("application/json"));
  EXPECT_FALSE(IsMultipartForm("multipart/mixed; boundary=x"));
  EXPECT_FALSE(IsMultipartForm(""));
}

TEST(MultipartForm, BrokenFormsAreInvalidInput) {
  const std::string good = Part("Content-Disposition: form-data; name=\"a\"", "1") + kEnd;
  auto expect_invalid = [](const Result<std::vector<FormField>>& r, const char* what) {
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << what;
    EXPECT_EQ(r.error().reason, "INVALID_INPUT") << what;
  };
  expect_invalid(ParseMultipartForm("application/json", good), "not a form");
  expect_invalid(ParseMultipartForm("multipart/form-data", good), "no boundary");
  expect_invalid(ParseMultipartForm("multipart/form-data; boundary=x\r\nX-Evil: 1", good),
                 "header injection");
  expect_invalid(ParseMultipartForm(kType, Part("Content-Disposition: form-data", "1") + kEnd),
                 "field without a name");
  expect_invalid(ParseMultipartForm(kType, Part("Content-Type: text/plain", "1") + kEnd),
                 "no Content-Disposition");
  std::string many;
  for (int i = 0; i < 5; ++i) {
    many += Part("Content-Disposition: form-data; name=\"f" + std::to_string(i) + "\"", "x");
  }
  expect_invalid(ParseMultipartForm(kType, many + kEnd, 4), "too many fields");
  const std::string nested =
      Part("Content-Disposition: form-data; name=\"n\"\r\n"
           "Content-Type: multipart/mixed; boundary=inner",
           "--inner\r\nContent-Type: text/plain\r\n\r\nx\r\n--inner--") +
      kEnd;
  expect_invalid(ParseMultipartForm(kType, nested), "nested multipart");
}

TEST(MultipartForm, PartsAreCountedFromBoundaryLinesBeforeAnyIsBuilt) {
  const std::string b = "----jt7MA4YWxkTrZu0gW";
  EXPECT_EQ(CountBoundaryLines(b, Part("Content-Disposition: form-data; name=\"a\"", "x") +
                                      Part("Content-Disposition: form-data; name=\"b\"", "y") +
                                      kEnd),
            3u);
  // Only at the start of a line: the boundary inside content is not one.
  EXPECT_EQ(CountBoundaryLines(b, "x------jt7MA4YWxkTrZu0gW\r\n"), 0u);
  EXPECT_EQ(CountBoundaryLines("", "--\r\n"), 0u);
  // 20,000 tiny parts (about the 900 KB that cost 110 MB): refused by the
  // count, with the same answer as any form with too many fields.
  std::string flood;
  for (int i = 0; i < 20'000; ++i) flood += Part("Content-Disposition: form-data; name=\"f\"", "");
  flood += kEnd;
  auto r = ParseMultipartForm(kType, flood);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "INVALID_INPUT");
  EXPECT_NE(r.error().message.find("more than 64 fields"), std::string::npos);
}

TEST(MultipartForm, GarbageNeverCrashes) {
  // Truncated, empty and unterminated bodies: an error or a form, never a crash.
  const std::string body = Part("Content-Disposition: form-data; name=\"a\"", "1") + kEnd;
  for (size_t n = 0; n <= body.size(); ++n) {
    auto r = ParseMultipartForm(kType, body.substr(0, n));
    if (r) {
      for (const FormField& f : r.value()) EXPECT_FALSE(f.name.empty());
    }
  }
}

}  // namespace
}  // namespace jobtrail::http
