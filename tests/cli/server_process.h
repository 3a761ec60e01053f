#pragma once
// The real `jobtrail serve` binary as a subprocess on 127.0.0.1:0, for tests
// that need the whole program (flags, signals, restarts). Needs
// JOBTRAIL_BINARY, the path of the built binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace jobtrail::testing {

// One `jobtrail serve` process. Its first stdout line announces the port.
class ServerProcess {
 public:
  // `extra_args` follow the data directory and listen address; the default
  // runs without authentication.
  explicit ServerProcess(const std::string& data_dir,
                         std::vector<std::string> extra_args = {"--insecure-no-auth"}) {
    std::vector<std::string> argv = {JOBTRAIL_BINARY, "serve",       "--data-dir",     data_dir,
                                     "--listen",      "127.0.0.1:0", "--no-access-log"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execv(JOBTRAIL_BINARY, args.data());
      _exit(127);
    }
    close(out[1]);
    fd_ = out[0];
    // Read the announcement byte by byte (a blocking read: it ends with the
    // line or with EOF if the server dies).
    std::string line;
    char c;
    while (read(fd_, &c, 1) == 1 && c != '\n') line += c;
    const std::string prefix = "jobtrail listening on http://";
    EXPECT_EQ(line.rfind(prefix, 0), 0u) << "unexpected first line: " << line;
    if (line.rfind(prefix, 0) == 0) base_ = "http://" + line.substr(prefix.size());
    // Keep draining stdout so the server never blocks on a full pipe.
    drain_ = std::thread([fd = fd_] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
  }
  ~ServerProcess() {
    if (pid_ > 0) Stop(SIGKILL);
  }

  const std::string& base() const { return base_; }

  // Sends `sig` and waits for the exit; returns the wait status.
  int Stop(int sig) {
    int status = 0;
    kill(pid_, sig);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    drain_.join();
    close(fd_);
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string base_;
  std::thread drain_;
};

}  // namespace jobtrail::testing
