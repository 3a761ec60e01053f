// The dashboard's page (http/ui/) from a real server with authentication
// on: served to anyone, locked down by its headers, holding no secret.
#include <gtest/gtest.h>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class UiPageTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Start();
  }
};

TEST_F(UiPageTest, ThePageIsServedWithoutCredentialsAndLocksItselfDown) {
  HttpResult redirect = client_->Get("/ui");
  EXPECT_EQ(redirect.status, 308);
  EXPECT_EQ(redirect.Header("Location"), "/ui/");
  HttpResult page = client_->Get("/ui/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page.body.find("app.js"), std::string::npos);
  HttpResult js = client_->Get("/ui/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_NE(js.Header("Content-Type").find("text/javascript"), std::string::npos);
  EXPECT_EQ(client_->Get("/ui/app.js", {"If-None-Match: " + js.Header("ETag")}).status, 304);
  EXPECT_EQ(client_->Get("/ui/secrets.txt").status, 404);
  EXPECT_EQ(client_->Get("/ui/..%2fkeys.json").status, 404);
  // Nothing the page is made of names a key or another secret.
  for (const char* f : {"/ui/", "/ui/app.js", "/ui/api.js"}) {
    HttpResult r = client_->Get(f);
    EXPECT_EQ(r.body.find(admin_key_), std::string::npos);
    EXPECT_EQ(r.body.find("share-secret"), std::string::npos);
  }
}

}  // namespace
}  // namespace jobtrail::testing
