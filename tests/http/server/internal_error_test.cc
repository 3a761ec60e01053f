// A 500 tells the client only that something failed inside and which
// request it was; what failed (exception text, library messages with file
// paths, details) goes to the server log under that request id.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <stdexcept>

#include "http/server/error_mapping.h"
#include "http/server/request_handler.h"
#include "http/v1/metrics.h"

namespace jobtrail::http {
namespace {

constexpr const char* kSecret = "IO error: /var/lib/jobtrail/log/000012.log: No space left";

class InternalErrorTest : public ::testing::Test {
 protected:
  InternalErrorTest() {
    Router router;
    router.Add("GET", "/throws",
               [](const HttpRequest&) -> HttpResponse { throw std::runtime_error(kSecret); });
    // As a route's error value reaches the client (route_binding.h's Bind).
    router.Add("GET", "/internal", [](const HttpRequest&) {
      return ErrorResponse(ApiError(Internal(kSecret), R"({"path":"/var/lib/jobtrail"})"));
    });
    router.Add("GET", "/data-loss", [](const HttpRequest&) {
      return ErrorResponse(ApiError(MakeError(Code::kDataLoss, "CORRUPTION", kSecret)));
    });
    router.Add("GET", "/invalid", [](const HttpRequest&) {
      return ErrorResponse(InvalidField("payload.x", "must be a number"));
    });
    metrics_ = std::make_unique<Metrics>(router.routes());
    handler_ = std::make_unique<RequestHandler>(std::move(router), RequestHandler::Options{},
                                                metrics_.get());
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)));
  }
  ~InternalErrorTest() override { spdlog::set_default_logger(previous_); }

  HttpResponse Call(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.header = [](std::string_view name) -> std::optional<std::string> {
      if (name == "X-Request-Id") return "req-4711";
      return std::nullopt;
    };
    size_t route = 0;
    return handler_->Handle(r, route);
  }

  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RequestHandler> handler_;
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream log_;
};

rapidjson::Document Parse(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << r.body;
  return d;
}

TEST_F(InternalErrorTest, AnExceptionAnswersAGenericBodyWithTheRequestId) {
  const HttpResponse r = Call("/throws");
  EXPECT_EQ(r.status, 500);
  rapidjson::Document d = Parse(r);
  EXPECT_STREQ(d["error"]["code"].GetString(), "INTERNAL");
  EXPECT_NE(std::string(d["error"]["message"].GetString()).find("req-4711"), std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("No space left"), std::string::npos) << r.body;
  EXPECT_NE(log_.str().find("req-4711"), std::string::npos) << log_.str();
  EXPECT_NE(log_.str().find(kSecret), std::string::npos) << log_.str();
}

TEST_F(InternalErrorTest, AnInternalErrorValueKeepsItsMessageAndDetailsInTheLog) {
  const HttpResponse r = Call("/internal");
  EXPECT_EQ(r.status, 500);
  rapidjson::Document d = Parse(r);
  EXPECT_STREQ(d["error"]["code"].GetString(), "INTERNAL");
  EXPECT_TRUE(d["error"]["details"].IsNull()) << r.body;
  EXPECT_NE(std::string(d["error"]["message"].GetString()).find("req-4711"), std::string::npos);
  EXPECT_EQ(r.body.find("/var/lib"), std::string::npos) << r.body;
  EXPECT_NE(log_.str().find(kSecret), std::string::npos) << log_.str();
}

TEST_F(InternalErrorTest, DataLossIsCalledSoWithoutTheCause) {
  const HttpResponse r = Call("/data-loss");
  EXPECT_EQ(r.status, 500);
  rapidjson::Document d = Parse(r);
  EXPECT_STREQ(d["error"]["code"].GetString(),
               "DATA_LOSS");  // a documented code
  EXPECT_EQ(r.body.find("No space left"), std::string::npos) << r.body;
  EXPECT_NE(log_.str().find("CORRUPTION"), std::string::npos) << log_.str();
}

TEST_F(InternalErrorTest, ClientErrorsKeepTheirMessages) {
  const HttpResponse r = Call("/invalid");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("payload.x: must be a number"), std::string::npos) << r.body;
  EXPECT_EQ(log_.str(), "");
}

}  // namespace
}  // namespace jobtrail::http
