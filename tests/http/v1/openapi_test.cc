// schemas/openapi.yaml documents exactly the routes the server registers:
// a route missing from the document, or a documented route the server does
// not have, fails the build's tests.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "http/v1/api_routes.h"
#include "http/live/live.h"
#include "http/webhooks/webhook_service.h"

namespace jobtrail::http {
namespace {

// "METHOD /path" for every operation under `paths:`. A line scan: path keys
// sit at two spaces of indentation, their operations at four.
std::set<std::string> DocumentedOperations(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << "cannot read " << file;
  const std::regex path_key(R"(^  (/[^:\s]*):\s*$)");
  const std::regex operation(R"(^    (get|put|post|delete|patch|options|head):\s*$)");
  std::set<std::string> out;
  std::string line;
  std::string current;
  bool in_paths = false;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = line.rfind("paths:", 0) == 0;
      current.clear();
      continue;
    }
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_key)) {
      current = m[1];
    } else if (!current.empty() && std::regex_match(line, m, operation)) {
      std::string method = m[1];
      for (char& c : method) c = char(std::toupper(static_cast<unsigned char>(c)));
      out.insert(method + " " + current);
    }
  }
  return out;
}

TEST(OpenApiTest, DocumentsExactlyTheRegisteredRoutes) {
  const auto documented = DocumentedOperations(JOBTRAIL_SOURCE_DIR "/schemas/openapi.yaml");
  std::set<std::string> registered;
  for (const RouteInfo& r : ApiRouteList()) registered.insert(r.method + " " + r.pattern);
  // `jobtrail serve` mounts the live module's routes too (http/live/).
  for (const RouteInfo& r : live::LiveRouteList()) registered.insert(r.method + " " + r.pattern);
  // ... and the webhooks module's (http/webhooks/).
  for (const RouteInfo& r : webhooks::WebhookRouteList()) {
    registered.insert(r.method + " " + r.pattern);
  }
  ASSERT_FALSE(registered.empty());
  for (const std::string& op : registered) {
    EXPECT_TRUE(documented.count(op)) << op << " is served but missing from openapi.yaml";
  }
  for (const std::string& op : documented) {
    EXPECT_TRUE(registered.count(op)) << op << " is documented but not served";
  }
}

TEST(OpenApiTest, IsOpenApi31AndNamesEveryErrorCode) {
  std::ifstream in(JOBTRAIL_SOURCE_DIR "/schemas/openapi.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("openapi: 3.1", 0), 0u);
  for (const char* code :
       {"INVALID_JSON", "INVALID_INPUT", "INVALID_PARAMETER", "INVALID_HEADER", "INVALID_JOB_ID",
        "INVALID_CURSOR", "JOB_NOT_FOUND", "VERSION_NOT_FOUND", "RESULT_NOT_AVAILABLE",
        "SCHEDULE_NOT_FOUND", "ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "VERSION_CONFLICT", "JOB_EXISTS",
        "IDEMPOTENCY_KEY_REUSED", "INVALID_TRANSITION", "NO_ATTEMPTS_LEFT", "ATTEMPT_MISMATCH",
        "PAYLOAD_TOO_LARGE", "BATCH_TOO_LARGE", "NOT_READY", "SHUTTING_DOWN", "INTERNAL"}) {
    EXPECT_NE(text.find(code), std::string::npos) << code << " is not documented";
  }
}

}  // namespace
}  // namespace jobtrail::http
