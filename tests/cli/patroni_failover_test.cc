// The PostgreSQL primary lost under load, for real: etcd and two
// Patroni-managed PostgreSQL 15 nodes on loopback (a primary and its
// synchronous standby, started by the documented
// tests/eventstore/postgres/patroni/cluster.sh on free ports), two
// `jobtrail serve --log postgresql://A,B/jobs?target_session_attrs=read-write`
// processes, producers on both. Mid-run the primary's machine "dies": its
// Patroni and its postmaster get SIGKILL. Patroni promotes the standby once
// the leader key expires; the same jobtrail processes reconnect by
// themselves and take writes again. Checked: every answer was 201 or 503
// (never another status, never a dropped connection), every acknowledged
// write is in the new primary's log at the position it was acknowledged
// with, and both nodes show every acknowledged job; `jobtrail verify`
// finds the chain and a node's views sound.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <mutex>
#include <set>
#include <thread>

#include "eventstore/postgres/pg_connection.h"
#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

const std::string kScript =
    std::string(JOBTRAIL_SOURCE_DIR) + "/tests/eventstore/postgres/patroni/cluster.sh";
constexpr int kNodes = 2;               // jobtrail nodes
constexpr int kProducersPerNode = 2;
constexpr int kAcksBeforeKill = 40;     // acknowledged enqueues before the primary dies
constexpr int kAcksAfterFailover = 40;  // acknowledged through the new primary

// Ports nobody listens on now, all distinct, and outside the kernel's
// ephemeral range (ip_local_port_range, 32768-60999 on Debian): the
// cluster's processes bind them seconds later, and a port the kernel
// handed out for port 0 could meanwhile go to another test's server
// (every jobtrail test server binds port 0); ports below that range are
// only ever taken by name. Each is held open until all are found.
std::vector<int> FreePorts(size_t n) {
  std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> below_ephemeral(20000, 32000);
  std::vector<int> fds, ports;
  for (int tries = 0; ports.size() < n && tries < 1000; ++tries) {
    const int port = below_ephemeral(random);
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(uint16_t(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      continue;
    }
    fds.push_back(fd);
    ports.push_back(port);
  }
  for (int fd : fds) close(fd);
  return ports;
}

pid_t ReadPid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

// What the producers were told.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::string> acked;  // position -> job id (201s)
  size_t unavailable = 0;                  // 503s
  std::vector<std::string> wrong;          // anything else
};

class PatroniFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/jobtrail-patroni.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    cluster_dir_ = pattern;
    const std::vector<int> p = FreePorts(6);
    ASSERT_EQ(p.size(), 6u) << "no six free ports between 20000 and 32000";
    pg_ports_ = {p[2], p[3]};
    rest_ports_ = {p[4], p[5]};
    setenv("ETCD_PORT", std::to_string(p[0]).c_str(), 1);
    setenv("ETCD_PEER_PORT", std::to_string(p[1]).c_str(), 1);
    setenv("PG_PORTS", (std::to_string(p[2]) + " " + std::to_string(p[3])).c_str(), 1);
    setenv("REST_PORTS", (std::to_string(p[4]) + " " + std::to_string(p[5])).c_str(), 1);
    ProcessResult started = RunProcess({"/bin/bash", kScript, "start", cluster_dir_});
    started_ = true;
    ASSERT_EQ(started.exit_code, 0) << started.out << started.err << Logs();
    url_ = started.out.substr(0, started.out.find('\n'));
    ASSERT_EQ(url_.rfind("postgresql://", 0), 0u) << started.out;
    for (int i = 0; i < kNodes; ++i) {
      std::string dir = cluster_dir_ + "-node" + std::to_string(i);
      node_dirs_.push_back(dir);  // serve creates it (0700)
    }
  }
  void TearDown() override {
    for (auto& n : nodes_) n.reset();
    if (started_) {
      ProcessResult killed = RunProcess({"/bin/bash", kScript, "kill", cluster_dir_});
      EXPECT_EQ(killed.exit_code, 0) << killed.out << killed.err;
    }
    std::error_code ec;
    for (const std::string& d : node_dirs_) std::filesystem::remove_all(d, ec);
    std::filesystem::remove_all(cluster_dir_, ec);
  }
  // The tails of the Patroni logs, for failure messages.
  std::string Logs() {
    std::string out;
    for (int i = 1; i <= 2; ++i) {
      ProcessResult tail = RunProcess(
          {"/usr/bin/tail", "-n", "15", cluster_dir_ + "/pg" + std::to_string(i) + "/patroni.log"});
      out += "\n--- pg" + std::to_string(i) + " ---\n" + tail.out;
    }
    return out;
  }
  // Patroni's REST API: 200 on /primary from the primary only.
  bool IsPrimary(int pg) {
    HttpClient c("http://127.0.0.1:" + std::to_string(rest_ports_[pg]));
    return c.Get("/primary").status == 200;
  }

  std::string cluster_dir_;
  bool started_ = false;
  std::vector<int> pg_ports_, rest_ports_;
  std::string url_;
  std::vector<std::string> node_dirs_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

TEST_F(PatroniFailoverTest, ThePrimaryDiesUnderLoadAndNoAcknowledgedWriteIsLost) {
  ProcessResult migrated = RunProcess({JOBTRAIL_BINARY, "migrate", "--log", url_});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.out << migrated.err;
  // cluster.sh bootstraps pg1 first: it is the primary, pg2 its sync standby.
  ASSERT_TRUE(IsPrimary(0)) << Logs();
  std::vector<std::string> bases;
  for (int i = 0; i < kNodes; ++i) {
    nodes_.push_back(std::make_unique<ServerProcess>(
        node_dirs_[i], std::vector<std::string>{"--insecure-no-auth", "--log", url_}));
    ASSERT_FALSE(nodes_.back()->base().empty());
    bases.push_back(nodes_.back()->base());
  }

  Answers answers;
  std::atomic<bool> producing{true};
  std::vector<std::thread> producers;
  for (int node = 0; node < kNodes; ++node) {
    for (int p = 0; p < kProducersPerNode; ++p) {
      producers.emplace_back([&, node] {
        HttpClient c(bases[node]);
        while (producing.load()) {
          HttpResult r = c.Post("/v1/jobs", R"({"type":"load","queue":"load"})");
          std::lock_guard lock(answers.mu);
          if (r.status == 201) {
            answers.acked[std::stoull(r.Header("X-Log-Position"))] =
                r.Json()["job_id"].GetString();
          } else if (r.status == 503) {
            ++answers.unavailable;
          } else {
            answers.wrong.push_back(std::to_string(r.status) + " " + r.error + " " + r.body);
            producing = false;
          }
          answers.cv.notify_all();
        }
      });
    }
  }
  auto wait_acks = [&](size_t n) {
    std::unique_lock lock(answers.mu);
    return answers.cv.wait_for(lock, std::chrono::seconds(120), [&] {
      return answers.acked.size() >= n || !answers.wrong.empty();
    });
  };
  ASSERT_TRUE(wait_acks(kAcksBeforeKill)) << Logs();

  // The primary's machine dies: Patroni (else it would restart PostgreSQL
  // and keep the leader key) and the postmaster, at once.
  const pid_t patroni = ReadPid(cluster_dir_ + "/pg1/pid");
  const pid_t postmaster = ReadPid(cluster_dir_ + "/pg1/data/postmaster.pid");
  ASSERT_GT(patroni, 0);
  ASSERT_GT(postmaster, 0);
  size_t acked_at_kill = 0;
  {
    std::lock_guard lock(answers.mu);
    ASSERT_EQ(kill(patroni, SIGKILL), 0);
    ASSERT_EQ(kill(postmaster, SIGKILL), 0);
    acked_at_kill = answers.acked.size();
  }
  // Writes resume through the same processes once pg2 is promoted.
  const bool resumed = wait_acks(acked_at_kill + kAcksAfterFailover);
  producing = false;
  for (std::thread& t : producers) t.join();
  ASSERT_TRUE(resumed) << Logs();
  {
    std::lock_guard lock(answers.mu);
    EXPECT_TRUE(answers.wrong.empty()) << answers.wrong.front();
  }
  EXPECT_TRUE(IsPrimary(1)) << Logs();
  RecordProperty("acknowledged", int(answers.acked.size()));
  RecordProperty("unavailable_answers", int(answers.unavailable));

  // Every acknowledged write is in the new primary's log, at its position.
  auto conn = eventstore::pg::Connect(url_, "failover test");
  ASSERT_TRUE(conn) << conn.error().message;
  auto rows = eventstore::pg::Exec(conn.value().get(),
                                   "SELECT position, stream FROM jobtrail_events", nullptr, "log");
  ASSERT_TRUE(rows) << rows.error().message;
  std::map<uint64_t, std::string> log;
  uint64_t head = 0;
  for (int i = 0; i < PQntuples(rows.value().get()); ++i) {
    const uint64_t position = eventstore::pg::GetU64(rows.value().get(), i, 0);
    log[position] = std::string(eventstore::pg::GetBytes(rows.value().get(), i, 1));
    head = std::max(head, position);
  }
  for (const auto& [position, job] : answers.acked) {
    ASSERT_EQ(log.count(position), 1u) << "acknowledged position " << position << " is lost";
    EXPECT_EQ(log[position], job) << "position " << position;
  }
  // And every node shows every acknowledged job.
  const std::string at_head = "?min_position=" + std::to_string(head);
  for (const std::string& base : bases) {
    HttpClient c(base);
    ASSERT_EQ(c.Get("/v1/stats" + at_head).status, 200) << base;
    for (const auto& [position, job] : answers.acked) {
      ASSERT_EQ(c.Get("/v1/jobs/" + job).status, 200) << base << " " << job;
    }
  }
  const int stopped = nodes_[0]->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0);
  nodes_[0].reset();
  ProcessResult verified =
      RunProcess({JOBTRAIL_BINARY, "verify", "--data-dir", node_dirs_[0], "--log", url_});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

}  // namespace
}  // namespace jobtrail::testing
