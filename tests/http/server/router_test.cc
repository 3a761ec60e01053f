// Router: segment matching, literal segments beating parameters whatever
// the registration order, 404 vs 405.
#include "http/server/router.h"

#include <gtest/gtest.h>

namespace jobtrail::http {
namespace {

RouteHandler Named(std::string name) {
  return [name](const HttpRequest&) { return JsonResponse(200, name); };
}

std::string Call(const Router& router, const std::string& method, const std::string& path) {
  Router::Match m = router.Find(method, path);
  if (m.kind != Router::Match::Kind::kFound) return "";
  HttpRequest r;
  r.params = m.params;
  return router.handler(m.route_index)(r).body;
}

TEST(RouterTest, MatchesParametersAndExtractsThem) {
  Router router;
  router.Add("GET", "/v1/jobs/{id}/events", Named("events"));
  Router::Match m = router.Find("GET", "/v1/jobs/abc/events");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "abc");
  EXPECT_EQ(router.Find("GET", "/v1/jobs/abc").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/jobs/abc/events/x").kind, Router::Match::Kind::kNotFound);
  // Trailing and doubled slashes do not matter.
  EXPECT_EQ(router.Find("GET", "/v1/jobs/abc/events/").kind, Router::Match::Kind::kFound);
  EXPECT_EQ(router.Find("GET", "//v1/jobs//abc/events").kind, Router::Match::Kind::kFound);
}

TEST(RouterTest, LiteralSegmentsWinOverParametersInAnyOrder) {
  for (bool literal_first : {true, false}) {
    Router router;
    if (literal_first) router.Add("GET", "/v1/jobs/status", Named("dialect"));
    router.Add("GET", "/v1/jobs/{id}", Named("job"));
    if (!literal_first) router.Add("GET", "/v1/jobs/status", Named("dialect"));
    router.Add("GET", "/v1/{collection}/runs", Named("param-first"));
    router.Add("GET", "/v1/jobs/{id}/runs", Named("literal-first"));
    EXPECT_EQ(Call(router, "GET", "/v1/jobs/status"), "dialect");
    EXPECT_EQ(Call(router, "GET", "/v1/jobs/1234"), "job");
    // The leftmost difference decides: "jobs" (literal) beats {collection}.
    EXPECT_EQ(Call(router, "GET", "/v1/jobs/x/runs"), "literal-first");
    EXPECT_EQ(Call(router, "GET", "/v1/other/runs"), "param-first");
  }
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
  Router router;
  router.Add("POST", "/v1/jobs", Named("post"));
  router.Add("GET", "/v1/jobs", Named("get"));
  Router::Match m = router.Find("DELETE", "/v1/jobs");
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(router.Find("GET", "/v2/jobs").kind, Router::Match::Kind::kNotFound);
}

TEST(RouterTest, ReRegisteringReplaces) {
  Router router;
  EXPECT_TRUE(router.Add("GET", "/a/{x}", Named("one")));
  EXPECT_FALSE(router.Add("GET", "/a/{x}", Named("two")));
  EXPECT_EQ(router.size(), 1u);
  EXPECT_EQ(Call(router, "GET", "/a/1"), "two");
}

}  // namespace
}  // namespace jobtrail::http
