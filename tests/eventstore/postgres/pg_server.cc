#include "tests/eventstore/postgres/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace jobtrail::testing_pg {
namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

// A port nobody listens on right now (the kernel's pick for port 0). Another
// process may take it before postgres binds it: Start() then retries.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += "    " + all[i] + "\n";
  }
  return out.empty() ? "    (no server log)\n" : out;
}

bool RunningAsRoot() { return geteuid() == 0; }

}  // namespace

int RunCommand(const std::vector<std::string>& argv, bool as_postgres, std::string* output) {
  std::vector<std::string> full;
  if (as_postgres && RunningAsRoot()) full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  char out_path[] = "/tmp/jobtrail-pg-cmd.XXXXXX";
  const int out_fd = mkstemp(out_path);
  if (out_fd < 0) {
    *output = "mkstemp failed";
    return -1;
  }
  unlink(out_path);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    // The server started below must not hold the test's files or sockets.
    for (int fd = 3; fd < 4096; ++fd) close(fd);
    std::vector<char*> args;
    for (std::string& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = -1;
  if (pid > 0) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::string text;
  lseek(out_fd, 0, SEEK_SET);
  char buf[4096];
  for (ssize_t n; (n = read(out_fd, buf, sizeof(buf))) > 0;) text.append(buf, size_t(n));
  close(out_fd);
  *output = text;
  if (pid < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::unique_ptr<PgServer> PgServer::Start(std::string* error) {
  char pattern[] = "/tmp/jobtrail-pg.XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    *error = "cannot create a temp dir for PostgreSQL";
    return nullptr;
  }
  std::unique_ptr<PgServer> server(new PgServer());
  server->dir_ = pattern;
  if (RunningAsRoot()) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      *error = "running as root, and there is no `postgres` user to run PostgreSQL as "
               "(install postgresql-15: .ci/install-deps)";
      return nullptr;
    }
    if (chown(pattern, pw->pw_uid, pw->pw_gid) != 0) {
      *error = std::string("cannot chown ") + pattern + " to postgres";
      return nullptr;
    }
  }
  const std::string data = server->dir_ + "/data";
  std::string out;
  if (access((kBin + "initdb").c_str(), X_OK) != 0) {
    *error = "no " + kBin + "initdb: install postgresql-15 (.ci/install-deps)";
    return nullptr;
  }
  if (RunCommand({kBin + "initdb", "-D", data, "-A", "trust", "-U", "jobtrail", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions"},
                 true, &out) != 0) {
    *error = "initdb failed:\n" + out;
    return nullptr;
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    if (server->Resume(error)) return server;
  }
  return nullptr;
}

bool PgServer::Resume(std::string* error) {
  const std::string log = dir_ + "/server.log";
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_ +
                              " -c listen_addresses=127.0.0.1 -c max_connections=200";
  std::string out;
  if (RunCommand({kBin + "pg_ctl", "-D", dir_ + "/data", "-l", log, "-w", "-t", "60", "-o",
                  options, "start"},
                 true, &out) == 0) {
    return true;
  }
  *error = "PostgreSQL would not start (pg_ctl: " + out + "); server log:\n" + Tail(log, 20);
  return false;
}

bool PgServer::Halt(std::string* error) {
  std::string out;
  if (RunCommand({kBin + "pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "-t", "60",
                  "stop"},
                 true, &out) == 0) {
    return true;
  }
  *error = "pg_ctl stop -m immediate failed: " + out;
  return false;
}

std::unique_ptr<PgServer> PgServer::Load(const std::string& state_file, std::string* error) {
  std::ifstream in(state_file);
  std::unique_ptr<PgServer> server(new PgServer());
  server->owned_ = false;
  if (!(in >> server->dir_ >> server->port_)) {
    *error = "no PostgreSQL fixture state in '" + state_file +
             "' (did the fixture test postgres_server_start run and pass?)";
    return nullptr;
  }
  return server;
}

bool PgServer::Save(const std::string& state_file, std::string* error) {
  std::ofstream out(state_file, std::ios::trunc);
  out << dir_ << "\n" << port_ << "\n";
  out.close();
  if (!out) {
    *error = "cannot write '" + state_file + "'";
    return false;
  }
  return true;
}

bool PgServer::Stop(std::string* error) {
  std::string out;
  const int rc = RunCommand(
      {kBin + "pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "-t", "60", "stop"}, true, &out);
  std::error_code ec;
  if (rc != 0 && std::filesystem::exists(dir_ + "/data/postmaster.pid", ec)) {
    *error = "pg_ctl stop failed: " + out;
    return false;
  }
  std::filesystem::remove_all(dir_, ec);
  return true;
}

PgServer::~PgServer() {
  if (!owned_) return;
  std::string error;
  (void)Stop(&error);  // at exit, nothing left to report to
}

std::string PgServer::Url(const std::string& db) const {
  return "postgresql://jobtrail@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

}  // namespace jobtrail::testing_pg
