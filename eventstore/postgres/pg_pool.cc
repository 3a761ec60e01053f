#include "eventstore/postgres/pg_pool.h"

namespace jobtrail::eventstore::pg_internal {
namespace {

constexpr const char* kColumns = "position, stream, version, event_id, data, hash";

StoreResult<pg::Conn> OpenReader(const std::string& url) {
  BOOST_OUTCOME_TRY(conn, pg::Connect(url, "jobtrail reader"));
  const std::string read_all = std::string("SELECT ") + kColumns +
                               " FROM jobtrail_events WHERE position >= $1::int8"
                               " ORDER BY position LIMIT $2::int8";
  const std::string read_stream = std::string("SELECT ") + kColumns +
                                  " FROM jobtrail_events WHERE stream = $1::bytea AND version"
                                  " >= $2::int8 ORDER BY version LIMIT $3::int8";
  BOOST_OUTCOME_TRY(pg::Prepare(conn.get(), kReadAll, read_all.c_str()));
  BOOST_OUTCOME_TRY(pg::Prepare(conn.get(), kReadStream, read_stream.c_str()));
  BOOST_OUTCOME_TRY(pg::Prepare(conn.get(), kStreamVersion,
                                "SELECT version FROM jobtrail_events WHERE stream = $1::bytea"
                                " ORDER BY version DESC LIMIT 1"));
  BOOST_OUTCOME_TRY(pg::Prepare(conn.get(), kReadHead,
                                "SELECT position, log_id::text FROM jobtrail_log_head"));
  return conn;
}

}  // namespace

ConnectionPool::ConnectionPool(std::string url, size_t max_connections)
    : url_(std::move(url)), max_(std::max<size_t>(1, max_connections)) {}

ConnectionPool::~ConnectionPool() {
  std::lock_guard lock(mu_);
  for (PGconn* c : idle_) PQfinish(c);
}

StoreResult<PGconn*> ConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
  if (!idle_.empty()) {
    PGconn* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  auto conn = OpenReader(url_);
  if (!conn) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return conn.error();
  }
  return conn.value().release();
}

void ConnectionPool::Release(PGconn* conn, bool broken) {
  std::lock_guard lock(mu_);
  if (broken) {
    PQfinish(conn);
    --open_;
  } else {
    idle_.push_back(conn);
  }
  cv_.notify_one();
}

}  // namespace jobtrail::eventstore::pg_internal
