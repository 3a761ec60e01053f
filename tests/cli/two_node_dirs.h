#pragma once
// Two nodes' data directories beside one test database: the fixture of the
// process tests that run two `jobtrail serve --log postgresql://...` (or a
// server and a CLI) on one PostgreSQL log. The directories are named but not
// created: serve creates its data directory itself (0700).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli/subprocess.h"
#include "tests/eventstore/postgres/pg_test_db.h"

namespace jobtrail::testing {

class TwoNodeDirsTest : public ::testing::Test {
 protected:
  explicit TwoNodeDirsTest(bool migrate, std::string prefix)
      : db_(migrate), prefix_(std::move(prefix)) {}

  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    for (std::string* dir : {&dir_a_, &dir_b_}) {
      *dir = (std::filesystem::temp_directory_path() / (prefix_ + "-XXXXXX")).string();
      ASSERT_NE(mkdtemp(dir->data()), nullptr);
      std::filesystem::remove(*dir);  // serve creates it (0700)
    }
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_a_, ec);
    std::filesystem::remove_all(dir_b_, ec);
  }
  // The jobtrail binary with `args`, to its exit.
  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), JOBTRAIL_BINARY);
    return RunProcess(args);
  }

  testing_pg::TestDatabase db_;
  std::string dir_a_, dir_b_;

 private:
  std::string prefix_;
};

}  // namespace jobtrail::testing
