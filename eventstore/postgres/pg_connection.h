#pragma once
// A thin layer over libpq: owned connections and results, binary statement
// parameters (arrays included), binary result fields, and libpq failures
// turned into StoreErrors. Everything the PostgreSQL log sends is binary,
// so stream names, event ids and data go through unescaped and unchanged.
//
// Never logs or returns the connection URL: it may carry a password.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/store_error.h"

namespace jobtrail::eventstore::pg {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultClearer>;

// Type OIDs (fixed in PostgreSQL's catalog, pg_type.dat).
inline constexpr Oid kBytea = 17;
inline constexpr Oid kInt8 = 20;
inline constexpr Oid kInt4 = 23;

// A one-dimensional array in PostgreSQL's binary format.
class ArrayBuilder {
 public:
  explicit ArrayBuilder(Oid element) : element_(element) {}
  void Bytes(std::string_view v);
  void Int8(uint64_t v);
  void Int4(uint32_t v);
  size_t size() const { return count_; }
  Oid element() const { return element_; }
  std::string Finish() const;  // the wire bytes

 private:
  Oid element_;
  size_t count_ = 0;
  std::string body_;  // the elements, each length-prefixed
};

// The parameters of one statement, all sent in binary format.
class Params {
 public:
  Params& Bytes(std::string_view v);
  Params& Int8(uint64_t v);
  Params& Array(const ArrayBuilder& a);
  int size() const { return int(values_.size()); }
  // Pointers into the stored values; valid until the next change.
  const char* const* values();
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// Checks the syntax of a connection URL or conninfo string without
// connecting. Returns the libpq message on failure.
StoreResult<void> CheckConnString(const std::string& url);
// "user@host:port/dbname" of a connection string, never its password.
std::string DescribeTarget(const std::string& url);

// Connects (blocking). The URL's own settings win over the defaults given
// here (a connect timeout, TCP keepalives so a dead peer is noticed, the
// application name). kUnavailable on failure: no server of the URL could
// be reached or, with target_session_attrs=read-write, none takes writes
// (a failover in progress); it recovers by itself.
StoreResult<Conn> Connect(const std::string& url, const char* application_name);

// True if a failure means the server went away or cannot take writes now
// (the connection broke, SQLSTATE class 08, an administrator or crash
// shutdown, a server starting up or read-only after a failover), rather
// than something wrong with the request.
bool LostServer(PGconn* conn, const PGresult* result);

// The error of a failed call on `conn` (with `result`, if any), with the
// server's message and SQLSTATE, prefixed by `what`: kUnavailable if
// LostServer (retry later), else kIOError.
StoreError Failure(PGconn* conn, const PGresult* result, std::string_view what);
// The SQLSTATE of a failed result ("" if none).
std::string SqlState(const PGresult* result);

// Runs one statement outside pipeline mode, binary results. Succeeds on
// PGRES_COMMAND_OK and PGRES_TUPLES_OK.
StoreResult<Result> Exec(PGconn* conn, const char* sql, Params* params, std::string_view what);
StoreResult<Result> ExecPrepared(PGconn* conn, const char* name, Params* params,
                                 std::string_view what);
StoreResult<void> Prepare(PGconn* conn, const char* name, const char* sql);

// Several statements sent at once and answered in one round trip (libpq's
// pipeline mode). Queue statements, then Run() once; the connection leaves
// pipeline mode again before Run() returns.
class Pipeline {
 public:
  explicit Pipeline(PGconn* conn) : conn_(conn) {}
  // Queues a prepared statement (or, with `sql_text`, an unnamed one).
  void Prepared(const char* name, Params params);
  void Sql(const char* sql, Params params = {});
  // Sends everything and a sync, reads every answer. On the first failed
  // statement returns its error (the ones after it were skipped by the
  // server). Results are in the order queued.
  StoreResult<std::vector<Result>> Run(std::string_view what);

 private:
  struct Item {
    const char* name = nullptr;  // prepared statement, or
    const char* sql = nullptr;   // unnamed statement text
    Params params;
  };
  PGconn* conn_;
  std::vector<Item> items_;
};

// Binary result fields.
uint64_t GetU64(const PGresult* r, int row, int col);  // int8
uint32_t GetU32(const PGresult* r, int row, int col);  // int4
std::string_view GetBytes(const PGresult* r, int row, int col);  // bytea
bool IsNull(const PGresult* r, int row, int col);

}  // namespace jobtrail::eventstore::pg
