// The ctest fixture `postgres`: `jobtrail_pg_fixture start STATE` starts
// one PostgreSQL for the whole test run and writes its directory and port
// to STATE; `jobtrail_pg_fixture stop STATE` stops it and removes it. A
// server left behind by an interrupted run (its STATE still there) is
// stopped first.
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/eventstore/postgres/pg_server.h"

using jobtrail::testing_pg::PgServer;

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::fprintf(stderr, "usage: %s start|stop STATE_FILE\n", argv[0]);
    return 2;
  }
  const std::string state = argv[2];
  std::string error;
  std::error_code ec;
  if (std::filesystem::exists(state, ec)) {
    if (auto old = PgServer::Load(state, &error)) {
      if (!old->Stop(&error)) std::fprintf(stderr, "stopping %s: %s\n", state.c_str(), error.c_str());
    }
    std::filesystem::remove(state, ec);
  }
  if (std::string(argv[1]) == "stop") return 0;

  auto server = PgServer::Start(&error);
  if (!server) {
    std::fprintf(stderr, "FAILED to start PostgreSQL for the tests: %s\n", error.c_str());
    return 1;
  }
  if (!server->Save(state, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;  // ~PgServer stops it
  }
  server->Release();
  std::printf("PostgreSQL for the tests: %s (dir %s)\n", server->Url("postgres").c_str(),
              server->dir().c_str());
  return 0;
}
