// The real `jobtrail serve` on a real small filesystem that fills up: the
// test mounts a 64 MiB tmpfs, takes 40 MiB of it with a ballast file, lets
// the server's writes fill the rest, checks the disk-full contract
// (disk_full_scenario.h), deletes the ballast and checks that writes come
// back without a restart; then `jobtrail verify` passes and a restart
// shows every acknowledged job.
//
// Mounting needs CAP_SYS_ADMIN (CI runs as root in a container that has
// it). Where mount(2) is refused the test says so on stdout and runs the
// same scenario on the fault-injecting filesystem instead (the project
// allows no skipped tests); disk_full_test.cc always runs that one too.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tests/cli/subprocess.h"
#include "tests/eventstore/faulty_disk_fs.h"
#include "tests/http/live_server.h"
#include "tests/cli/server_process.h"
#include "tests/ops/disk_full_scenario.h"

namespace jobtrail::testing {
namespace {

constexpr size_t kTmpfsMiB = 64;

// A size-limited tmpfs at a fresh directory, unmounted (lazily) at the end.
class Tmpfs {
 public:
  Tmpfs() {
    dir_ = MakeHttpTempDir("jobtrail-tmpfs");
    const std::string size = "size=" + std::to_string(kTmpfsMiB) + "m,mode=0700";
    if (mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, size.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Fills `path` with `mib` MiB (real pages on tmpfs).
bool WriteBallast(const std::string& path, size_t mib) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return false;
  std::string block(1 << 20, 'b');
  bool ok = true;
  for (size_t i = 0; i < mib && ok; ++i) {
    ok = write(fd, block.data(), block.size()) == ssize_t(block.size());
  }
  return close(fd) == 0 && ok;
}

// With 10 MiB left the event log's WAL meets the full disk (the read
// models' 16 MiB memtable never gets to flush); with 24 MiB left the read
// models' first flush may meet it too, before or after the log.
class TmpfsDiskFullTest : public LiveServerTest,
                          public ::testing::WithParamInterface<std::pair<size_t, const char*>> {
 protected:
  void SetUp() override { dir_ = MakeHttpTempDir("jobtrail-ops"); }
};

TEST_P(TmpfsDiskFullTest, RealServerOnAFullTmpfsRefusesWritesAndRecoversByItself) {
  const size_t ballast_mib = GetParam().first;
  const std::string must_be_full = GetParam().second;
  Tmpfs tmpfs;
  if (!tmpfs.mounted()) {
    std::printf(
        "[ NOTE ] cannot mount a tmpfs here (mount: %s; it needs CAP_SYS_ADMIN): running the "
        "disk-full scenario on the fault-injecting filesystem instead\n",
        tmpfs.error().c_str());
    auto [fs, env] = testing_fs::FaultyDiskFs::Make();
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.access_log = false;
    options_.security.auth.insecure_no_auth = true;
    store_env_ = env.get();
    Start();
    auto out = RunDiskFullScenario(
        *client_, dir_, [&] { fs->Fail(rocksdb::IOStatus::NoSpace("injected")); },
        [&] { fs->Heal(); }, 2048, 20);
    EXPECT_TRUE(out.recovered);
    Stop();
    return;
  }
  const std::string ballast = tmpfs.dir() + "/ballast";
  ASSERT_TRUE(WriteBallast(ballast, ballast_mib));
  const std::string data = tmpfs.dir() + "/data";
  DiskFullOutcome out;
  {
    ServerProcess server(data);
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    ASSERT_TRUE(Eventually([&] { return client.Get("/readyz").status == 200; }));
    std::string metrics_when_full;
    out = RunDiskFullScenario(
        client, data, [] {},
        [&] {
          metrics_when_full = client.Get("/metrics").body;
          ASSERT_EQ(unlink(ballast.c_str()), 0);
        },
        150 * 1024, 2000);
    std::printf("[ tmpfs ] %d writes of 150 KiB filled the %zu MiB left; the server refused "
                "the next with 503 and took writes again once the ballast was deleted\n",
                out.writes_before_full, kTmpfsMiB - ballast_mib);
    if (!must_be_full.empty()) {
      EXPECT_NE(
          metrics_when_full.find("jobtrail_storage_writable{db=\"" + must_be_full + "\"} 0"),
          std::string::npos)
          << "expected the " << must_be_full << " database to meet the full disk";
    }
    // The process never went down: it shuts down cleanly.
    const int status = server.Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << status;
  }
  ProcessResult verify = RunProcess({JOBTRAIL_BINARY, "verify", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  ServerProcess again(data);
  HttpClient client(again.base());
  ASSERT_TRUE(Eventually([&] { return client.Get("/readyz").status == 200; }));
  for (const std::string& id : out.acked) {
    EXPECT_EQ(client.Get("/v1/jobs/" + id).status, 200) << "acknowledged job " << id << " lost";
  }
  again.Stop(SIGTERM);
}

INSTANTIATE_TEST_SUITE_P(
    Ballast, TmpfsDiskFullTest,
    ::testing::Values(std::pair<size_t, const char*>{54, "log"},
                      std::pair<size_t, const char*>{40, ""}),
    [](const auto& info) { return std::to_string(kTmpfsMiB - info.param.first) + "MiBLeft"; });

}  // namespace
}  // namespace jobtrail::testing
