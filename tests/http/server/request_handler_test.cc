// RequestHandler without a socket: the catch point, draining, the body
// limit, request ids and CORS on every kind of answer.
#include "http/server/request_handler.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <stdexcept>

#include "http/v1/metrics.h"

namespace jobtrail::http {
namespace {

std::string ErrorCode(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("error")) return "";
  return d["error"]["code"].GetString();
}

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class RequestHandlerTest : public ::testing::Test {
 protected:
  RequestHandlerTest() {
    Router router;
    router.Add("GET", "/throws", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("boom");
    });
    router.Add("GET", "/throws-int", [](const HttpRequest&) -> HttpResponse { throw 42; });
    router.Add("POST", "/echo", [](const HttpRequest& r) {
      return JsonResponse(200, std::string(r.body));
    });
    metrics_ = std::make_unique<Metrics>(router.routes());
    RequestHandler::Options options;
    options.max_body_bytes = 16;
    options.cors_origins = {"*"};
    handler_ = std::make_unique<RequestHandler>(std::move(router), options, metrics_.get());
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& body = "", std::string origin = "https://x.example") {
    body_ = body;
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body_;
    r.header = [origin](std::string_view name) -> std::optional<std::string> {
      if (name == "Origin") return origin;
      return std::nullopt;
    };
    size_t route = 0;
    HttpResponse out = handler_->Handle(r, route);
    handler_->Record(r, out, route, 0.001);
    return out;
  }

  std::string body_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RequestHandler> handler_;
};

TEST_F(RequestHandlerTest, AnExceptionBecomesA500ErrorBody) {
  for (const char* path : {"/throws", "/throws-int"}) {
    HttpResponse r = Call("GET", path);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(ErrorCode(r), "INTERNAL");
    EXPECT_EQ(r.body.find("boom"), std::string::npos) << "internals leak to the client";
    EXPECT_EQ(HeaderOf(r, "X-Request-Id").size(), 36u);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "https://x.example");
  }
  // And the handler keeps serving.
  EXPECT_EQ(Call("POST", "/echo", "{}").status, 200);
}

TEST_F(RequestHandlerTest, BodyLimitAppliesBeforeAnyRoute) {
  EXPECT_EQ(Call("POST", "/echo", std::string(16, 'x')).status, 200);
  HttpResponse r = Call("POST", "/echo", std::string(17, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorCode(r), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(Call("POST", "/elsewhere", std::string(17, 'x')).status, 413);
}

TEST_F(RequestHandlerTest, RejectAnswers503WithTheUsualHeaders) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/echo";
  r.header = [](std::string_view name) -> std::optional<std::string> {
    if (name == "Origin") return "https://x.example";
    if (name == "X-Request-Id") return "req-7";
    return std::nullopt;
  };
  size_t route = 0;
  HttpResponse out = handler_->Reject(
      r, ApiError(MakeError(Code::kUnavailable, "SHUTTING_DOWN", "bye")), route);
  EXPECT_EQ(out.status, 503);
  EXPECT_EQ(ErrorCode(out), "SHUTTING_DOWN");
  EXPECT_EQ(HeaderOf(out, "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(out, "X-Request-Id"), "req-7");
  EXPECT_EQ(HeaderOf(out, "Access-Control-Allow-Origin"), "https://x.example");
}

TEST(RequestHandlerProxies, TheClientAddressComesFromEveryForwardedForLine) {
  Router router;
  router.Add("GET", "/who", [](const HttpRequest& r) { return JsonResponse(200, r.client_address); });
  RequestHandler::Options options;
  auto proxies = TrustedProxies::Parse({"127.0.0.1"});
  ASSERT_TRUE(proxies);
  options.trusted_proxies = std::move(proxies).value();
  RequestHandler handler(std::move(router), options, nullptr);
  HttpRequest r;
  r.method = "GET";
  r.path = "/who";
  r.client_address = "127.0.0.1";
  // The client's own line came first; the proxy added a line of its own.
  r.header = [](std::string_view name) -> std::optional<std::string> {
    if (name == "X-Forwarded-For") return "1.1.1.1";
    return std::nullopt;
  };
  r.header_lines = [](std::string_view name) -> std::vector<std::string> {
    if (name == "X-Forwarded-For") return {"1.1.1.1", "198.51.100.7"};
    return {};
  };
  size_t route = 0;
  EXPECT_EQ(handler.Handle(r, route).body, "198.51.100.7");
}

TEST_F(RequestHandlerTest, MetricsCountEveryAnswerByRoute) {
  Call("GET", "/throws");
  Call("POST", "/echo", "{}");
  Call("GET", "/missing");
  Call("OPTIONS", "/echo");
  const std::string text = metrics_->Render({}, {}, {}, {});
  EXPECT_NE(text.find(R"(route="/throws",status="500"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(route="/echo",status="200"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(route="preflight",status="204"} 1)"), std::string::npos);
}

}  // namespace
}  // namespace jobtrail::http
