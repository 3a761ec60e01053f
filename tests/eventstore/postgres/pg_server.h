#pragma once
// A real PostgreSQL server for tests: initdb into a fresh temp dir, then
// postgres on a free loopback port, run as the unprivileged `postgres` user
// when the tests run as root (PostgreSQL refuses root), stopped (fast) and
// removed at the end. Binaries: /usr/lib/postgresql/15/bin (postgresql-15).
//
// Two ways in:
//   - under ctest, the fixture `postgres` (pg_fixture_main.cc) starts one
//     server for the whole run and names its state file in the environment
//     variable JOBTRAIL_PG_FIXTURE; every test creates its own database on it;
//   - a test binary run by hand starts its own server on first use and
//     stops it at exit.
// If the server cannot start, every test that needs it fails with the
// reason (the server log's last lines); none is skipped.
#include <memory>
#include <string>
#include <vector>

namespace jobtrail::testing_pg {

class PgServer {
 public:
  // Creates the cluster and starts it. On failure returns null and sets
  // *error to what went wrong.
  static std::unique_ptr<PgServer> Start(std::string* error);
  // Adopts a running server described by a state file (see Save).
  static std::unique_ptr<PgServer> Load(const std::string& state_file, std::string* error);
  ~PgServer();  // Stop() unless released

  // Writes dir and port to `state_file`; the server then outlives this
  // object (Release) until a Load()ed one is stopped.
  bool Save(const std::string& state_file, std::string* error);
  void Release() { owned_ = false; }
  // pg_ctl stop -m fast, then removes the directory. Returns false (and
  // sets *error) if the server would not stop.
  bool Stop(std::string* error);

  // An outage: stops the server at once (pg_ctl stop -m immediate, as a
  // crash would: every connection cut), keeping its files; Resume() starts
  // it again on the same port. Both return false and set *error on failure.
  bool Halt(std::string* error);
  bool Resume(std::string* error);

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // postgresql://jobtrail@127.0.0.1:PORT/DB (trust authentication).
  std::string Url(const std::string& db) const;

 private:
  PgServer() = default;
  std::string dir_;  // holds data/ and server.log
  int port_ = 0;
  bool owned_ = true;
};

// Runs a command (argv[0] looked up in PATH), optionally as the postgres
// user; returns its exit status and sets *output to its stdout+stderr.
int RunCommand(const std::vector<std::string>& argv, bool as_postgres, std::string* output);

}  // namespace jobtrail::testing_pg
