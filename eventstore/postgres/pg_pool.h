#pragma once
// Read connections of the PostgreSQL log: a bounded pool of connections
// with the read statements prepared on each. A connection that broke is
// dropped, and a read that failed on a broken connection is tried once
// more on a fresh one (reads are idempotent; after a server restart every
// idle connection is broken, and the first read on each should not fail).
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "eventstore/postgres/pg_connection.h"

namespace jobtrail::eventstore::pg_internal {

// Names of the statements prepared on every pooled connection.
inline constexpr const char* kReadAll = "jt_read_all";
inline constexpr const char* kReadStream = "jt_read_stream";
inline constexpr const char* kStreamVersion = "jt_stream_version";
inline constexpr const char* kReadHead = "jt_read_head";

class ConnectionPool {
 public:
  ConnectionPool(std::string url, size_t max_connections);
  ~ConnectionPool();

  // Runs `read` on a pooled connection (opening one if none is idle and
  // fewer than the maximum are open; else waiting for one).
  template <typename T>
  StoreResult<T> Run(const std::function<StoreResult<T>(PGconn*)>& read) {
    StoreResult<T> result = StoreError{StoreCode::kIOError, "not run", 0};
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto lease = Acquire();
      if (!lease) return lease.error();
      PGconn* conn = lease.value();
      result = read(conn);
      const bool broken = PQstatus(conn) != CONNECTION_OK;
      Release(conn, broken);
      if (result || !broken) break;
    }
    return result;
  }

 private:
  StoreResult<PGconn*> Acquire();
  void Release(PGconn* conn, bool broken);

  std::string url_;
  size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PGconn*> idle_;  // GUARDED_BY(mu_)
  size_t open_ = 0;            // GUARDED_BY(mu_), idle and leased
};

}  // namespace jobtrail::eventstore::pg_internal
