// Names with control characters (domain/names.h) are refused on every write
// path with 400 INVALID_INPUT and change nothing: a NUL in a type, queue or
// external_ref used to end up in index keys, where lists then answered 500
// and a queue's claims starved.
#include <gtest/gtest.h>

#include <string>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class ApiNamesTest : public ServerTest {
 protected:
  uint64_t Total(const std::string& query = "") {
    HttpResult r = client_->Get("/v1/jobs" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    auto doc = r.Json();
    return doc.HasParseError() ? 0 : doc["total"].GetUint64();
  }
  void ExpectInvalidInput(const HttpResult& r, const std::string& where) {
    EXPECT_EQ(r.status, 400) << where << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_INPUT") << where << ": " << r.body;
  }
};

TEST_F(ApiNamesTest, EnqueuesWithAControlCharacterInANameAreRefused) {
  const std::string good = Enqueue(R"({"type":"form","queue":"forms","external_ref":"r1"})");
  for (const char* body : {
           R"({"type":"form\u0000x","queue":"forms"})",
           R"({"type":"form","queue":"forms\u0000"})",
           R"({"type":"form","queue":"forms","external_ref":"r1\u0000"})",
           R"({"type":"form","queue":"fo\nrms"})",
           R"({"type":"form\u001b[31m","queue":"forms"})",
           R"({"type":"form","queue":"forms","unique_key":"k\u0000"})",
       }) {
    ExpectInvalidInput(client_->Post("/v1/jobs", body), body);
    const std::string batch =
        std::string(R"({"operations":[{"op":"enqueue","job":)") + body + "}]}";
    HttpResult b = client_->Post("/v1/batch", batch);
    ASSERT_EQ(b.status, 200) << body << ": " << b.body;  // per-operation results
    auto doc = b.Json();
    EXPECT_EQ(doc["failed"].GetInt(), 1) << b.body;
    EXPECT_EQ(doc["results"][0]["status"].GetInt(), 400) << b.body;
    EXPECT_EQ(std::string(doc["results"][0]["body"]["error"]["code"].GetString()),
              "INVALID_INPUT");
  }
  // Nothing changed: one job, lists answer, the queue's claims work.
  EXPECT_EQ(Total(), 1u);
  EXPECT_EQ(Total("?queue=forms"), 1u);
  EXPECT_EQ(Total("?type=form"), 1u);
  HttpResult claimed = client_->Post("/v1/queues/forms/claim", R"({"worker_id":"w1"})");
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_NE(claimed.body.find(good), std::string::npos) << claimed.body;
}

TEST_F(ApiNamesTest, SchedulesClaimsAndListFiltersRefuseThemToo) {
  ExpectInvalidInput(
      client_->Request("PUT", "/v1/schedules/nightly",
                       R"({"cron":"0 3 * * *","type":"report\u0000"})",
                       {"Content-Type: application/json"}),
      "schedule type");
  ExpectInvalidInput(
      client_->Request("PUT", "/v1/schedules/nightly",
                       R"({"cron":"0 3 * * *","type":"report","queue":"q\u0007"})",
                       {"Content-Type: application/json"}),
      "schedule queue");
  EXPECT_EQ(client_->Get("/v1/schedules/nightly").status, 404);
  ExpectInvalidInput(client_->Post("/v1/queues/forms%00x/claim", R"({"worker_id":"w1"})"),
                     "claim");
  for (const char* q : {"?type=a%00b", "?queue=%00", "?owner=x%0A", "?external_ref=%7F"}) {
    HttpResult r = client_->Get(std::string("/v1/jobs") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_PARAMETER") << q;
  }
}

}  // namespace
}  // namespace jobtrail::testing
