// Authorization matrix of the seed dialects (default: no --public-dialect):
// every dialect route × every kind of caller → the expected status, and no
// answer to anyone else shows owner A's job. A dialect route without a row
// fails CoversEveryDialectRoute. (The canonical routes: auth_matrix_test.cc;
// the read models' catch-up window: auth_catch_up_test.cc.)
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <set>

#include "http/dialects/routes.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

enum Caller { kNone, kWrongKey, kExpired, kWrongAudience, kReaderA, kReaderB, kWorker, kAdmin,
              kShareOther, kCallers };
const char* const kCallerNames[] = {"no credentials", "wrong key", "expired token",
                                    "wrong audience", "reader of owner A", "reader of owner B",
                                    "worker", "admin", "share token for another job"};

// How job A (owner alice) is made for a row, so that it is the dialect's.
enum class Scope { kNone, kForms000, kRun001, kScenes002, kPdf003, kRelay004 };

// A: allowed (not 401/403/404, below 500); U: 401; F: 403; H: 404 with
// byte for byte the body a job that does not exist gets (asked by admin).
struct Row {
  const char* method;
  const char* pattern;  // as mounted; {ref} is job A's id or captcha id
  const char* path;     // what is called: {ref} replaced
  Scope scope;
  const char* expected;
  const char* body;  // {ref} replaced
};

constexpr const char* kScenes =
    R"({"story":"Once upon a time a small fox found a lantern in the snowy woods.",)"
    R"("audience":"adults"})";

const Row kMatrix[] = {
    {"GET", "/api/job-status/{captchaId}", "/api/job-status/{ref}", Scope::kForms000,
     "UUUUAHAAH", ""},
    {"GET", "/api/jobs", "/api/jobs", Scope::kForms000, "UUUUAAAAF", ""},
    {"GET", "/api/jobs/stats", "/api/jobs/stats", Scope::kForms000, "UUUUFFFAF", ""},
    {"GET", "/v1/jobs/status", "/v1/jobs/status", Scope::kRun001, "UUUUFFAAF", ""},
    {"GET", "/v1/jobs/runs", "/v1/jobs/runs", Scope::kRun001, "UUUUAAAAF", ""},
    {"GET", "/v1/jobs/runs/{id}", "/v1/jobs/runs/{ref}", Scope::kRun001, "UUUUAHAAH", ""},
    {"POST", "/v1/jobs/trigger/{jobName}", "/v1/jobs/trigger/ExpireServers?wait=0",
     Scope::kRun001, "UUUUFFFAF", ""},
    {"POST", "/api/jobs/{kind}/start", "/api/jobs/scenes/start", Scope::kNone, "UUUUAAAAF",
     kScenes},
    {"GET", "/api/jobs/{kind}/status/{jobId}", "/api/jobs/scenes/status/{ref}",
     Scope::kScenes002, "UUUUAHAAH", ""},
    {"GET", "/api/jobs/health", "/api/jobs/health", Scope::kNone, "UUUUFFFAF", ""},
    {"GET", "/api/jobs/process", "/api/jobs/process", Scope::kNone, "UUUUFFFAF", ""},
    {"POST", "/api/jobs/process", "/api/jobs/process", Scope::kNone, "UUUUFFFAF", "{}"},
    // No webhook secret is configured: the route refuses every call itself.
    {"POST", "/api/cron/process-jobs", "/api/cron/process-jobs", Scope::kNone, "UUUUUUUUF",
     "{}"},
    // Seed 003 documents 403 "Access denied to this job" for another user's.
    {"GET", "/api/v1/books/jobs/{job_id}", "/api/v1/books/jobs/{ref}", Scope::kPdf003,
     "UUUUAFAAF", ""},
    {"POST", "/api/v1/flickr/jobs/status", "/api/v1/flickr/jobs/status", Scope::kRelay004,
     "UUUUAHAAH", R"({"job_id":"{ref}","user_id":"alice"})"},
    {"GET", "/api/v1/flickr/jobs/{jobId}", "/api/v1/flickr/jobs/{ref}", Scope::kRelay004,
     "UUUUAHAAH", ""},
    {"GET", "/api/v1/flickr/jobs/{jobId}/result", "/api/v1/flickr/jobs/{ref}/result",
     Scope::kRelay004, "UUUUAHAAH", ""},
};

constexpr const char* kMarker = "alice-private-marker";
constexpr const char* kGhost = "00000000-0000-4000-8000-000000000000";
constexpr const char* kGhostCaptcha = "0123456789abcdef01234567";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class DialectAuthMatrixTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Start();
  }

  std::vector<std::string> Credentials(Caller c) {
    std::vector<std::string> h = {"X-Request-Id: req-matrix"};
    auto add = [&](const std::string& token) { h.push_back("Authorization: Bearer " + token); };
    switch (c) {
      case kWrongKey:
        add("jt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        break;
      case kExpired: add(Jwt("alice", "admin", kAudience, -3600)); break;
      case kWrongAudience: add(Jwt("alice", "admin", "someone-else")); break;
      case kReaderA: h.push_back("X-API-Key: " + alice_key_); break;  // seed 000's header
      case kReaderB: add(Jwt("bob")); break;
      case kWorker: add(worker_key_); break;
      case kAdmin: add(admin_key_); break;
      default: break;
    }
    return h;
  }

  HttpResult Call(const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::string> headers) {
    if (method == "GET") return client_->Get(path, std::move(headers));
    return client_->Post(path, body, std::move(headers));
  }

  // Job A for a row's scope; returns {job id, the reference its path uses}.
  std::pair<std::string, std::string> MakeJobA(Scope scope) {
    static int n = 0;
    const std::string captcha = fmt::format("507f1f77bcf86cd7{:08x}", ++n);
    std::string spec;
    switch (scope) {
      case Scope::kForms000:
        spec = R"("type":"reliance-form","queue":"forms","external_ref":")" + captcha + "\"";
        break;
      case Scope::kRun001: spec = R"("type":"EXPIRE_SERVERS","queue":"worker-jobs")"; break;
      case Scope::kScenes002: spec = R"("type":"scenes")"; break;
      case Scope::kPdf003: spec = R"("type":"pdf_chapter")"; break;
      case Scope::kRelay004: spec = R"("type":"flickr.test.echo","queue":"flickr_rest")"; break;
      case Scope::kNone: spec = R"("type":"report")"; break;
    }
    HttpResult r = client_->Post(
        "/v1/jobs",
        "{" + spec + R"(,"owner":"alice","payload":{"note":")" + kMarker + "\"}}",
        Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.Json()["job_id"].GetString();
    if (scope == Scope::kRelay004) {  // so that /result has one
      HttpResult done = client_->Post(
          "/v1/jobs/" + id + "/events",
          R"({"events":[{"type":"started"},{"type":"completed","data":{"result":{"ok":1}}}]})",
          Bearer(admin_key_));
      EXPECT_EQ(done.status, 200) << done.body;
    }
    return {id, scope == Scope::kForms000 ? captcha : id};
  }
};

TEST_F(DialectAuthMatrixTest, CoversEveryDialectRoute) {
  http::Router router;
  http::ApiContext context;
  context.UseStore(*store_);
  http::DialectOptions options;
  options.seed_001_schedules = false;
  ASSERT_TRUE(http::AddDialectRoutes(router, context, options));
  std::set<std::pair<std::string, std::string>> in_matrix;
  for (const Row& r : kMatrix) in_matrix.emplace(r.method, r.pattern);
  ASSERT_FALSE(context.route_access.empty());
  for (const auto& rule : context.route_access) {
    EXPECT_TRUE(in_matrix.count({rule.method, rule.pattern}))
        << rule.method << " " << rule.pattern << " has no row in the dialect matrix";
  }
}

TEST_F(DialectAuthMatrixTest, EveryDialectRouteForEveryCaller) {
  const std::string job_b = EnqueueFor("bob");
  const std::string share_b = ShareToken(job_b);
  for (const Row& row : kMatrix) {
    for (int c = 0; c < kCallers; ++c) {
      const Caller caller = Caller(c);
      const auto [job_a, ref] = MakeJobA(row.scope);
      std::string path = Replace(row.path, "{ref}", ref);
      const std::string body = Replace(row.body, "{ref}", ref);
      if (caller == kShareOther) {
        path += (path.find('?') == std::string::npos ? "?token=" : "&token=") + share_b;
      }
      HttpResult r = Call(row.method, path, body, Credentials(caller));
      const std::string where = std::string(row.method) + " " + row.pattern + " as " +
                                kCallerNames[c] + ": " + std::to_string(r.status) + " " +
                                r.body;
      switch (row.expected[c]) {
        case 'A':
          EXPECT_NE(r.status, 0) << where;
          EXPECT_NE(r.status, 401) << where;
          EXPECT_NE(r.status, 403) << where;
          EXPECT_NE(r.status, 404) << where;
          EXPECT_LT(r.status, 500) << where;
          break;
        case 'U': EXPECT_EQ(r.status, 401) << where; break;
        case 'F': EXPECT_EQ(r.status, 403) << where; break;
        case 'H': {
          EXPECT_EQ(r.status, 404) << where;
          // Byte for byte what a job that does not exist gets.
          const std::string ghost = row.scope == Scope::kForms000 ? kGhostCaptcha : kGhost;
          HttpResult m = Call(row.method, Replace(row.path, "{ref}", ghost),
                              Replace(row.body, "{ref}", ghost), Credentials(kAdmin));
          EXPECT_EQ(m.status, 404) << m.body;
          EXPECT_EQ(r.body, Replace(m.body, ghost, ref)) << where;
          break;
        }
      }
      if (caller != kReaderA && caller != kWorker && caller != kAdmin) {
        EXPECT_EQ(r.body.find(kMarker), std::string::npos) << where;
        EXPECT_EQ(r.body.find("alice"), std::string::npos) << where;
      }
    }
  }
}

// Each dialect sees only its own jobs: another dialect's (or a plain /v1
// job) is never listed, counted or answered.
TEST_F(DialectAuthMatrixTest, EachDialectSeesOnlyItsOwnJobs) {
  const auto admin = Credentials(kAdmin);
  const auto [form, captcha] = MakeJobA(Scope::kForms000);
  const auto [scenes, scenes_id] = MakeJobA(Scope::kScenes002);
  const auto [pdf, pdf_id] = MakeJobA(Scope::kPdf003);
  const auto [relay, relay_id] = MakeJobA(Scope::kRelay004);
  const auto [run, run_id] = MakeJobA(Scope::kRun001);
  // A plain /v1 job that carries a captcha id, in another queue.
  HttpResult other = client_->Post(
      "/v1/jobs", R"({"type":"reliance-form","external_ref":"507f1f77bcf86cd799439099"})",
      Bearer(admin_key_));
  ASSERT_EQ(other.status, 201);
  const std::string plain = other.Json()["job_id"].GetString();

  HttpResult list = client_->Get("/api/jobs", admin);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json()["pagination"]["total"].GetUint64(), 1u) << list.body;
  EXPECT_NE(list.body.find(form), std::string::npos);
  HttpResult stats = client_->Get("/api/jobs/stats", admin);
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(stats.Json()["data"]["total"].GetUint64(), 1u) << stats.body;
  EXPECT_EQ(client_->Get("/api/job-status/507f1f77bcf86cd799439099", admin).status, 404);

  HttpResult runs = client_->Get("/v1/jobs/runs", admin);
  ASSERT_EQ(runs.status, 200);
  EXPECT_NE(runs.body.find(run), std::string::npos);
  for (const std::string& id : {form, scenes, pdf, relay, plain}) {
    EXPECT_EQ(runs.body.find(id), std::string::npos) << id;
    EXPECT_EQ(client_->Get("/v1/jobs/runs/" + id, admin).status, 404) << id;
  }
  for (const std::string& id : {form, pdf, relay, run, plain}) {
    EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + id, admin).status, 404) << id;
  }
  for (const std::string& id : {form, scenes, pdf, run, plain}) {
    EXPECT_EQ(client_->Get("/api/v1/flickr/jobs/" + id, admin).status, 404) << id;
    EXPECT_EQ(client_->Post("/api/v1/flickr/jobs/status",
                            R"({"job_id":")" + id + R"(","user_id":"alice"})", admin)
                  .status,
              404)
        << id;
  }
  for (const std::string& id : {form, scenes, relay, run, plain}) {
    EXPECT_EQ(client_->Get("/api/v1/books/jobs/" + id, admin).status, 404) << id;
  }
  EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + scenes, admin).status, 200);
  EXPECT_EQ(client_->Get("/api/v1/books/jobs/" + pdf, admin).status, 200);
  EXPECT_EQ(client_->Get("/api/v1/flickr/jobs/" + relay, admin).status, 200);
}

// A share link reads its one job, on the dialects too, and nothing else:
// no starts (which used to create jobs owned by "share:<id>"), no lists.
TEST_F(DialectAuthMatrixTest, ShareLinksReadTheirJobAndCreateNothing) {
  const auto [scenes, scenes_id] = MakeJobA(Scope::kScenes002);
  const auto [relay, relay_id] = MakeJobA(Scope::kRelay004);
  const std::string to_scenes = ShareToken(scenes);
  const std::string to_relay = ShareToken(relay);
  EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + scenes + "?token=" + to_scenes).status,
            200);
  EXPECT_EQ(client_->Get("/api/v1/flickr/jobs/" + relay + "?token=" + to_relay).status, 200);
  EXPECT_EQ(client_->Get("/api/v1/flickr/jobs/" + relay + "?token=" + to_scenes).status, 404);
  for (const char* kind : {"storybook", "scenes"}) {
    HttpResult start =
        client_->Post(fmt::format("/api/jobs/{}/start?token={}", kind, to_scenes), kScenes);
    EXPECT_EQ(start.status, 403) << kind << ": " << start.body;
  }
  HttpResult all = client_->Get("/v1/jobs?limit=100", Bearer(admin_key_));
  EXPECT_EQ(all.Json()["total"].GetUint64(), 2u) << all.body;
  EXPECT_EQ(all.body.find("share:"), std::string::npos);
  // Also with the seed opened: anonymous starts work, a share link's do not.
  options_.dialects.public_dialects = {"002"};
  Stop();
  Start();
  EXPECT_EQ(client_->Post("/api/jobs/scenes/start?token=" + to_scenes, kScenes).status, 403);
  EXPECT_EQ(client_->Post("/api/jobs/scenes/start", kScenes).status, 200);
  // Wrong or expired credentials are refused, not taken for none.
  for (const std::string& token :
       {std::string("not-a-token"), Jwt("alice", "", kAudience, -3600)}) {
    HttpResult r = client_->Post("/api/jobs/scenes/start", kScenes, Bearer(token));
    EXPECT_EQ(r.status, 401) << r.body;
  }
  HttpResult after = client_->Get("/v1/jobs?limit=100", Bearer(admin_key_));
  EXPECT_EQ(after.Json()["total"].GetUint64(), 3u) << after.body;
}

// --public-dialect: the seed's internal-use behaviour, still within scope.
TEST_F(DialectAuthMatrixTest, PublicDialectsAnswerAnyoneWithinTheirScope) {
  const auto [form, captcha] = MakeJobA(Scope::kForms000);
  const auto [relay, relay_id] = MakeJobA(Scope::kRelay004);
  const auto [run, run_id] = MakeJobA(Scope::kRun001);
  options_.dialects.public_dialects = {"000", "001", "004"};
  Stop();
  Start();
  EXPECT_EQ(client_->Get("/api/job-status/" + captcha).status, 200);
  EXPECT_EQ(client_->Get("/api/jobs").status, 200);
  EXPECT_EQ(client_->Get("/api/jobs/stats").status, 200);
  EXPECT_EQ(client_->Get("/v1/jobs/runs/" + run).status, 200);
  EXPECT_EQ(client_->Post("/api/v1/flickr/jobs/status",
                          R"({"job_id":")" + relay + R"(","user_id":"alice"})")
                .status,
            200);
  EXPECT_EQ(client_->Post("/api/v1/flickr/jobs/status",
                          R"({"job_id":")" + relay + R"(","user_id":"bob"})")
                .status,
            404);
  // Not opened: 002, and the admin routes of the opened ones.
  EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + relay).status, 401);
  EXPECT_EQ(client_->Get("/api/jobs/health").status, 401);
  EXPECT_EQ(client_->Post("/v1/jobs/trigger/ExpireServers?wait=0", "").status, 401);
}

}  // namespace
}  // namespace jobtrail::testing
