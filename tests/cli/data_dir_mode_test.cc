// A data directory is its owner's alone: `jobtrail serve` and `jobtrail keys
// create` make it 0700 with every directory in it 0700 and every file 0600
// (RocksDB's files included), and the store makes the directory 0700 even
// under a permissive umask.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "projections/job_store.h"
#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

namespace fs = std::filesystem;

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Every directory 0700, every file without group or other bits.
void ExpectOwnerOnly(const fs::path& root) {
  EXPECT_EQ(ModeOf(root), 0700u) << root;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const mode_t mode = ModeOf(entry.path());
    if (entry.is_directory()) {
      EXPECT_EQ(mode, 0700u) << entry.path() << " is " << std::oct << mode;
    } else {
      ++files;
      EXPECT_EQ(mode & 0077u, 0u) << entry.path() << " is " << std::oct << mode;
    }
  }
  EXPECT_GT(files, 0u) << "nothing was written under " << root;
}

class DataDirModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / "jobtrail-mode-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    // A common umask, so that only jobtrail's own care makes the modes tight.
    previous_umask_ = umask(022);
  }
  void TearDown() override {
    umask(previous_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
  mode_t previous_umask_ = 0;
};

TEST_F(DataDirModeTest, ServeCreatesAnOwnerOnlyDataDirectory) {
  const fs::path data = fs::path(dir_) / "data";
  {
    ServerProcess server(data.string());
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    HttpResult r = client.Post("/v1/jobs", R"({"type":"secret","payload":{"ssn":"123"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_TRUE(WIFEXITED(server.Stop(SIGTERM)));
  }
  ExpectOwnerOnly(data);
}

TEST_F(DataDirModeTest, KeysCreateCreatesAnOwnerOnlyDataDirectory) {
  const fs::path data = fs::path(dir_) / "keys";
  const ProcessResult r =
      RunProcess({JOBTRAIL_BINARY, "keys", "create", "--role", "admin", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectOwnerOnly(data);
}

TEST_F(DataDirModeTest, TheStoreCreatesItsDirectoryOwnerOnly) {
  const fs::path data = fs::path(dir_) / "store";
  JobStoreOptions options;
  options.data_dir = data.string();
  auto store = JobStore::Open(options);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ(ModeOf(data), 0700u);
}

}  // namespace
}  // namespace jobtrail::testing
