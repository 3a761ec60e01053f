// Authorization matrix: every canonical route × every kind of caller →
// the expected status, and no answer to one owner shows another owner's
// job. A new route fails CoversEveryRoute until it gets a row here (and in
// http/security/route_access.cc).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "http/v1/api_routes.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

// A: allowed (the route ran: not 401/403, and no 404 JOB_NOT_FOUND);
// U: 401; F: 403; H: 404 JOB_NOT_FOUND (hidden).
enum Caller { kNone, kWrongKey, kExpired, kWrongAudience, kReaderA, kReaderB, kWorker, kAdmin,
              kShareOther, kCallers };
const char* const kCallerNames[] = {"no credentials", "wrong key", "expired token",
                                    "wrong audience", "reader of owner A", "reader of owner B",
                                    "worker", "admin", "share token for another job"};

struct Row {
  const char* method;
  const char* pattern;
  const char* expected;  // one letter per Caller, in order
  const char* body;
};

// Job routes run on job A (owner alice).
const Row kMatrix[] = {
    {"GET", "/healthz", "AAAAAAAAA", ""},
    {"GET", "/readyz", "AAAAAAAAA", ""},
    {"GET", "/metrics", "UUUUFFFAF", ""},
    {"POST", "/v1/jobs", "UUUUFFAAF", R"({"type":"t"})"},
    {"GET", "/v1/jobs", "UUUUAAAAF", ""},
    {"GET", "/v1/jobs/{id}", "UUUUAHAAH", ""},
    {"GET", "/v1/jobs/{id}/events", "UUUUAHAAH", ""},
    {"GET", "/v1/jobs/{id}/result", "UUUUAHAAH", ""},
    {"GET", "/v1/jobs/{id}/logs", "UUUUAHAAH", ""},
    {"POST", "/v1/jobs/{id}/share", "UUUUAHFAH", "{}"},
    {"POST", "/v1/jobs/{id}/events", "UUUUFHAAH", R"({"type":"progressed","data":{"percent":5}})"},
    {"POST", "/v1/jobs/{id}/cancel", "UUUUFHAAH", "{}"},
    {"POST", "/v1/jobs/{id}/heartbeat", "UUUUFHAAH", R"({"worker_id":"w1"})"},
    {"GET", "/v1/events", "UUUUAAAAF", ""},
    {"GET", "/v1/stats", "UUUUFFFAF", ""},
    {"GET", "/v1/health", "UUUUFFAAF", ""},
    {"POST", "/v1/batch", "UUUUFFAAF", R"({"operations":[{"op":"enqueue","job":{"type":"t"}}]})"},
    {"POST", "/v1/queues/{queue}/claim", "UUUUFFAAF", R"({"worker_id":"w1"})"},
    {"POST", "/v1/maintenance", "UUUUFFFAF", "{}"},
    {"GET", "/v1/schedules", "UUUUFFAAF", ""},
    {"GET", "/v1/schedules/{name}", "UUUUFFAAF", ""},
    {"PUT", "/v1/schedules/{name}", "UUUUFFFAF", R"({"cron":"0 3 * * *","type":"t"})"},
    {"POST", "/v1/schedules/{name}/trigger", "UUUUFFFAF", "{}"},
    {"DELETE", "/v1/schedules/{name}", "UUUUFFFAF", ""},
    // The dashboard's (issue 14): operators only; its files for anyone.
    {"POST", "/v1/jobs/{id}/retry", "UUUUFFFAF", "{}"},
    {"POST", "/v1/jobs/bulk", "UUUUFFFAF", R"({"action":"cancel","dry_run":true})"},
    {"GET", "/v1/stats/series", "UUUUFFFAF", ""},
    {"GET", "/ui", "AAAAAAAAA", ""},
    {"GET", "/ui/{file}", "AAAAAAAAA", ""},
    // Backups (this server has no --backup-dir: an admin gets 422).
    {"POST", "/v1/admin/backup", "UUUUFFFAF", "{}"},
    {"GET", "/v1/admin/backups", "UUUUFFFAF", ""},
    {"GET", "/v1/admin/backups/{name}", "UUUUFFFAF", ""},
};

HttpResult Call(HttpClient& client, const std::string& method, const std::string& path,
                const std::string& body, std::vector<std::string> headers) {
  if (method == "GET") return client.Get(path, std::move(headers));
  if (method == "POST") return client.Post(path, body, std::move(headers));
  headers.push_back("Content-Type: application/json");
  return client.Request(method, path, body, std::move(headers));
}

constexpr const char* kAliceMarker = "alice-private-marker";

class AuthMatrixTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Start();
  }

  std::vector<std::string> Credentials(Caller c, const std::string& share_other) {
    switch (c) {
      case kNone: return {};
      case kWrongKey:
        return Bearer("jt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
      case kExpired: return Bearer(Jwt("alice", "admin", kAudience, -3600));
      case kWrongAudience: return Bearer(Jwt("alice", "admin", "someone-else"));
      case kReaderA: return Bearer(alice_key_);
      case kReaderB: return Bearer(Jwt("bob"));  // a JWT reader
      case kWorker: return Bearer(worker_key_);
      case kAdmin: return Bearer(admin_key_);
      case kShareOther: return {};  // the token goes into the query
      default: return {};
    }
    (void)share_other;
  }
};

TEST_F(AuthMatrixTest, CoversEveryRoute) {
  std::set<std::pair<std::string, std::string>> in_matrix;
  for (const Row& r : kMatrix) in_matrix.emplace(r.method, r.pattern);
  for (const auto& route : http::ApiRouteList()) {
    EXPECT_TRUE(in_matrix.count({route.method, route.pattern}))
        << route.method << " " << route.pattern << " has no row in the authorization matrix";
  }
}

TEST_F(AuthMatrixTest, EveryRouteForEveryCaller) {
  const std::string job_b = EnqueueFor("bob");
  const std::string share_b = ShareToken(job_b);
  for (const Row& row : kMatrix) {
    for (int c = 0; c < kCallers; ++c) {
      const Caller caller = Caller(c);
      // Writes get a fresh job A each, so earlier cells do not change the
      // outcome of later ones.
      const std::string job_a =
          EnqueueFor("alice", std::string(R"({"note":")") + kAliceMarker + "\"}");
      std::string path = row.pattern;
      if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, job_a);
      if (auto at = path.find("{queue}"); at != std::string::npos) path.replace(at, 7, "q-none");
      if (auto at = path.find("{name}"); at != std::string::npos) path.replace(at, 6, "nightly");
      if (caller == kShareOther) path += "?token=" + share_b;
      const auto headers = Credentials(caller, share_b);
      HttpResult r = Call(*client_, row.method, path, row.body, headers);
      const char want = row.expected[c];
      const std::string where = std::string(row.method) + " " + row.pattern + " as " +
                                kCallerNames[c] + ": " + std::to_string(r.status) + " " + r.body;
      switch (want) {
        case 'A':
          EXPECT_NE(r.status, 401) << where;
          EXPECT_NE(r.status, 403) << where;
          EXPECT_NE(r.ErrorCode(), "JOB_NOT_FOUND") << where;
          EXPECT_NE(r.status, 0) << where;
          EXPECT_LT(r.status, 500) << where;
          break;
        case 'U':
          EXPECT_EQ(r.status, 401) << where;
          EXPECT_TRUE(r.HasHeader("WWW-Authenticate")) << where;
          break;
        case 'F':
          EXPECT_EQ(r.status, 403) << where;
          EXPECT_EQ(r.ErrorCode(), "FORBIDDEN") << where;
          break;
        case 'H': {
          EXPECT_EQ(r.status, 404) << where;
          EXPECT_EQ(r.ErrorCode(), "JOB_NOT_FOUND") << where;
          // Byte for byte what a job that does not exist gets.
          std::string missing = row.pattern;
          const std::string ghost = "00000000-0000-4000-8000-000000000000";
          missing.replace(missing.find("{id}"), 4, ghost);
          HttpResult m = Call(*client_, row.method, missing, row.body, Bearer(admin_key_));
          std::string expected_body = m.body;
          for (size_t at; (at = expected_body.find(ghost)) != std::string::npos;) {
            expected_body.replace(at, ghost.size(), job_a);
          }
          EXPECT_EQ(r.body, expected_body) << where;
          break;
        }
      }
      // Nobody but alice, a worker or an admin ever sees alice's job.
      if (caller != kReaderA && caller != kWorker && caller != kAdmin) {
        EXPECT_EQ(r.body.find(kAliceMarker), std::string::npos) << where;
        EXPECT_EQ(r.body.find("\"alice\""), std::string::npos) << where;
      }
    }
  }
}

TEST_F(AuthMatrixTest, ListsAndTheFeedShowOnlyTheReadersOwnJobs) {
  const std::string a = EnqueueFor("alice", std::string(R"({"m":")") + kAliceMarker + "\"}");
  const std::string b = EnqueueFor("bob");
  HttpResult bob_list = client_->Get("/v1/jobs", Bearer(bob_key_));
  ASSERT_EQ(bob_list.status, 200) << bob_list.body;
  EXPECT_NE(bob_list.body.find(b), std::string::npos);
  EXPECT_EQ(bob_list.body.find(a), std::string::npos);
  EXPECT_EQ(bob_list.Json()["total"].GetUint64(), 1u);
  HttpResult asked_other = client_->Get("/v1/jobs?owner=alice", Bearer(bob_key_));
  ASSERT_EQ(asked_other.status, 200);
  EXPECT_EQ(asked_other.Json()["total"].GetUint64(), 0u);
  HttpResult feed = client_->Get("/v1/events?after=0&limit=100", Bearer(bob_key_));
  ASSERT_EQ(feed.status, 200);
  EXPECT_NE(feed.body.find(b), std::string::npos);
  EXPECT_EQ(feed.body.find(a), std::string::npos);
  EXPECT_EQ(feed.body.find(kAliceMarker), std::string::npos);
  HttpResult admin_list = client_->Get("/v1/jobs", Bearer(admin_key_));
  EXPECT_EQ(admin_list.Json()["total"].GetUint64(), 2u);
}

TEST_F(AuthMatrixTest, OwnerComesFromThePrincipalUnlessAnAdminSetsIt) {
  HttpResult w = client_->Post("/v1/jobs", R"({"type":"t"})", Bearer(worker_key_));
  ASSERT_EQ(w.status, 201) << w.body;
  const std::string id = w.Json()["job_id"].GetString();
  HttpResult doc = client_->Get("/v1/jobs/" + id, Bearer(admin_key_));
  EXPECT_EQ(std::string(doc.Json()["owner"].GetString()), "svc");
  HttpResult other = client_->Post("/v1/jobs", R"({"type":"t","owner":"alice"})",
                                    Bearer(worker_key_));
  EXPECT_EQ(other.status, 403) << other.body;
  HttpResult admin = client_->Post("/v1/jobs", R"({"type":"t"})", Bearer(admin_key_));
  const std::string admin_job = admin.Json()["job_id"].GetString();
  HttpResult admin_doc = client_->Get("/v1/jobs/" + admin_job, Bearer(admin_key_));
  EXPECT_EQ(std::string(admin_doc.Json()["owner"].GetString()), "ops");
}

TEST_F(AuthMatrixTest, TheAuditTrailNamesTheCallerWhateverXActorClaims) {
  auto actors = [&](const std::string& id) {
    std::vector<std::string> out;
    auto events = client_->Get("/v1/jobs/" + id + "/events", Bearer(admin_key_)).Json();
    for (const auto& e : events["events"].GetArray()) out.push_back(e["actor"].GetString());
    return out;
  };
  // A worker's X-Actor names its instance, under its own subject.
  HttpResult w = client_->Post("/v1/jobs", R"({"type":"t","queue":"audit"})",
                               {"Authorization: Bearer " + worker_key_, "X-Actor: ops"});
  ASSERT_EQ(w.status, 201) << w.body;
  const std::string id = w.Json()["job_id"].GetString();
  HttpResult claimed = client_->Post("/v1/queues/audit/claim", R"({"worker_id":"w7"})",
                                     Bearer(worker_key_));
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_EQ(client_->Post("/v1/jobs/" + id + "/events", R"({"type":"completed"})",
                          {"Authorization: Bearer " + worker_key_, "X-Actor: svc"})
                .status,
            200);
  EXPECT_EQ(actors(id), (std::vector<std::string>{"svc/ops", "svc/w7", "svc"}));
  // An admin (an operator, an import tool) writes under the name it gives.
  HttpResult a = client_->Post("/v1/jobs", R"({"type":"t"})",
                               {"Authorization: Bearer " + admin_key_, "X-Actor: importer"});
  ASSERT_EQ(a.status, 201);
  EXPECT_EQ(actors(a.Json()["job_id"].GetString()), (std::vector<std::string>{"importer"}));
  HttpResult plain = client_->Post("/v1/jobs", R"({"type":"t"})", Bearer(admin_key_));
  EXPECT_EQ(actors(plain.Json()["job_id"].GetString()), (std::vector<std::string>{"ops"}));
}

TEST_F(AuthMatrixTest, ShareLinksReadOneJobOnlyAndExpire) {
  const std::string a = EnqueueFor("alice");
  const std::string b = EnqueueFor("bob");
  // Alice shares her own job; bob may not share it.
  HttpResult own = client_->Post("/v1/jobs/" + a + "/share", R"({"ttl_seconds":60})",
                                 Bearer(alice_key_));
  ASSERT_EQ(own.status, 201) << own.body;
  const std::string token = own.Json()["token"].GetString();
  EXPECT_NE(std::string(own.Json()["url"].GetString()).find("?token="), std::string::npos);
  EXPECT_EQ(client_->Post("/v1/jobs/" + a + "/share", "{}", Bearer(bob_key_)).status, 404);

  for (const char* suffix : {"", "/result", "/events", "/logs"}) {
    HttpResult r = client_->Get("/v1/jobs/" + a + suffix + "?token=" + token);
    EXPECT_NE(r.status, 401) << suffix << r.body;
    EXPECT_NE(r.ErrorCode(), "JOB_NOT_FOUND") << suffix << r.body;
  }
  // Not for another job, not for writes, not for lists.
  EXPECT_EQ(client_->Get("/v1/jobs/" + b + "?token=" + token).status, 404);
  EXPECT_EQ(client_->Post("/v1/jobs/" + a + "/cancel?token=" + token, "{}").status, 404);
  EXPECT_EQ(client_->Get("/v1/jobs?token=" + token).status, 403);
  // A tampered token is no token.
  std::string bad = token;
  bad[8] = bad[8] == 'A' ? 'B' : 'A';
  EXPECT_EQ(client_->Get("/v1/jobs/" + a + "?token=" + bad).status, 401);
  // Expiry follows the store's clock.
  clock_.Advance(61 * 1000);
  EXPECT_EQ(client_->Get("/v1/jobs/" + a + "?token=" + token).status, 401);
}

TEST_F(AuthMatrixTest, RevokedKeysAndJwtRolesAndKeysAddedWhileRunning) {
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer(revoked_key_)).status, 401);
  EXPECT_EQ(client_->Get("/v1/stats", Bearer(Jwt("carol", "admin"))).status, 200);
  EXPECT_EQ(client_->Get("/v1/stats", Bearer(Jwt("carol"))).status, 403);
  EXPECT_EQ(client_->Get("/v1/jobs", {"X-API-Key: " + alice_key_}).status, 200);
  // A key created by `jobtrail keys create` while the server runs works
  // within about a second (the keys are re-read when they change: the
  // file, or the shared configuration on PostgreSQL).
  std::string fresh;
  auto keys = http::KeyStore::Edit(*config_, [&](http::KeyStore& keys) -> Result<void> {
    BOOST_OUTCOME_TRY(made, keys.Create(http::Role::kReader, "dave", "", clock_.Now()));
    fresh = made.key;
    return Ok();
  });
  ASSERT_TRUE(keys) << keys.error().ToString();
  bool accepted = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepted && std::chrono::steady_clock::now() < deadline) {
    accepted = client_->Get("/v1/jobs", Bearer(fresh)).status == 200;
  }
  EXPECT_TRUE(accepted);
}

}  // namespace
}  // namespace jobtrail::testing
