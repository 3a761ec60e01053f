// Times the API cannot write back (before year 0000, after 9999, such as
// int64's extremes) are refused at input with 400, so none is stored and
// every answer that shows a time stays RFC 3339.
#include <string>

#include "projections/job_json.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class TimeBoundsApiTest : public ServerTest {
 protected:
  void ExpectInvalid(const HttpResult& r, const std::string& code, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.ErrorCode(), code) << r.body;
    EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
  }
};

TEST_F(TimeBoundsApiTest, Int64ExtremesAreRefusedAtInput) {
  for (const char* t : {"9223372036854775807", "-9223372036854775808", "253402300800000",
                        "\"9999-12-31T23:59:59.999-01:00\""}) {
    SCOPED_TRACE(t);
    ExpectInvalid(client_->Post("/v1/jobs", std::string(R"({"type":"t","run_at":)") + t + "}"),
                  "INVALID_INPUT", "run_at");
    const std::string id = Enqueue();
    ExpectInvalid(
        Append(id, std::string(R"({"type":"started","data":{"lease_deadline":)") + t + "}}"),
        "INVALID_INPUT", "lease_deadline");
    ExpectInvalid(Append(id, std::string(R"({"type":"retried","data":{"next_run_at":)") + t + "}}"),
                  "INVALID_INPUT", "next_run_at");
  }
  ExpectInvalid(client_->Get("/v1/jobs?created_after=-9223372036854775808"), "INVALID_PARAMETER",
                "created_after");
  ExpectInvalid(client_->Get("/v1/jobs?created_before=9223372036854775807"), "INVALID_PARAMETER",
                "created_before");
}

TEST_F(TimeBoundsApiTest, TheLatestWritableTimeIsAcceptedAndShown) {
  const std::string id = Enqueue(R"({"type":"t","run_at":)" + std::to_string(kLatestTime) + "}");
  HttpResult r = client_->Get("/v1/jobs/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(r.Json()["run_at"].GetString(), "9999-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace jobtrail::testing
