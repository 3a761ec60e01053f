#include "eventstore/postgres/pg_connection.h"

#include <fmt/format.h>

#include <optional>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore::pg {
namespace kf = key_format;
namespace {

void PutI32(std::string& out, int32_t v) { kf::PutU32(out, uint32_t(v)); }

StoreError IoError(std::string message) {
  return StoreError{StoreCode::kIOError, std::move(message), 0};
}

// libpq messages end with a newline (sometimes two lines: ERROR + DETAIL).
std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

struct ConninfoFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

}  // namespace

void ArrayBuilder::Bytes(std::string_view v) {
  PutI32(body_, int32_t(v.size()));
  body_.append(v);
  ++count_;
}

void ArrayBuilder::Int8(uint64_t v) {
  PutI32(body_, 8);
  kf::PutU64(body_, v);
  ++count_;
}

void ArrayBuilder::Int4(uint32_t v) {
  PutI32(body_, 4);
  kf::PutU32(body_, v);
  ++count_;
}

// Header: dimensions, has-nulls flag, element type; then per dimension its
// length and lower bound (1). An empty array has no dimensions.
std::string ArrayBuilder::Finish() const {
  std::string out;
  out.reserve(20 + body_.size());
  PutI32(out, count_ == 0 ? 0 : 1);
  PutI32(out, 0);
  kf::PutU32(out, element_);
  if (count_ != 0) {
    PutI32(out, int32_t(count_));
    PutI32(out, 1);
  }
  out.append(body_);
  return out;
}

Params& Params::Bytes(std::string_view v) {
  values_.emplace_back(v);
  return *this;
}

Params& Params::Int8(uint64_t v) {
  std::string s;
  kf::PutU64(s, v);
  values_.push_back(std::move(s));
  return *this;
}

Params& Params::Array(const ArrayBuilder& a) {
  values_.push_back(a.Finish());
  return *this;
}

const char* const* Params::values() {
  pointers_.clear();
  lengths_.clear();
  formats_.assign(values_.size(), 1);
  for (const std::string& v : values_) {
    pointers_.push_back(v.data());
    lengths_.push_back(int(v.size()));
  }
  return pointers_.data();
}

StoreResult<void> CheckConnString(const std::string& url) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFree> options(PQconninfoParse(url.c_str(), &err));
  if (!options) {
    std::string message = err != nullptr ? Trim(err) : "out of memory";
    PQfreemem(err);
    return StoreError{StoreCode::kInvalidArgument,
                      fmt::format("not a PostgreSQL connection string: {}", message), 0};
  }
  return boost::outcome_v2::success();
}

std::string DescribeTarget(const std::string& url) {
  std::unique_ptr<PQconninfoOption, ConninfoFree> options(
      PQconninfoParse(url.c_str(), nullptr));
  if (!options) return "(unparsable connection string)";
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "user") user = o->val;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  std::string out;
  if (!user.empty()) out += user + "@";
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  return out;
}

StoreResult<Conn> Connect(const std::string& url, const char* application_name) {
  // Earlier keywords are defaults: the expanded URL (dbname) overrides them.
  // Keepalives: a server that vanished without a reset (a lost machine, a
  // partition) is noticed in about 10 s, so nothing waits on it for ever.
  // tcp_user_timeout bounds a request sent to such a server the same way
  // (else TCP retransmits for about 15 minutes).
  const char* keys[] = {"connect_timeout",  "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "fallback_application_name",
                        "dbname",           nullptr};
  const char* values[] = {"10", "5", "2", "3", "10000", application_name, url.c_str(), nullptr};
  Conn conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn) return IoError("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return StoreError{StoreCode::kUnavailable,
                      fmt::format("cannot connect to PostgreSQL at {}: {}", DescribeTarget(url),
                                  Trim(PQerrorMessage(conn.get()))),
                      0};
  }
  // Notices ("already exists, skipping") are not errors; libpq would print
  // them to stderr.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

std::string SqlState(const PGresult* result) {
  if (result == nullptr) return "";
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state != nullptr ? state : "";
}

bool LostServer(PGconn* conn, const PGresult* result) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return true;
  const std::string state = SqlState(result);
  if (state.empty()) return result == nullptr;  // no answer: the connection is gone
  // 08: connection exception. 57P01/02/03: admin shutdown, crash shutdown,
  // cannot connect now (starting up). 25006: read-only transaction (the
  // server was demoted to a standby).
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
         state == "57P03" || state == "25006";
}

StoreError Failure(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string message;
  if (result != nullptr && PQresultErrorMessage(result)[0] != '\0') {
    message = Trim(PQresultErrorMessage(result));
  } else if (conn != nullptr) {
    message = Trim(PQerrorMessage(conn));
  }
  if (message.empty()) message = "no answer from the server";
  const std::string state = SqlState(result);
  if (!state.empty()) message += fmt::format(" (SQLSTATE {})", state);
  return StoreError{LostServer(conn, result) ? StoreCode::kUnavailable : StoreCode::kIOError,
                    fmt::format("{}: {}", what, message), 0};
}

namespace {

StoreResult<Result> Check(PGconn* conn, PGresult* raw, std::string_view what) {
  Result r(raw);
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failure(conn, r.get(), what);
  }
  return r;
}

}  // namespace

StoreResult<Result> Exec(PGconn* conn, const char* sql, Params* params, std::string_view what) {
  Params none;
  Params& p = params != nullptr ? *params : none;
  const char* const* values = p.values();
  return Check(conn,
               PQexecParams(conn, sql, p.size(), nullptr, values, p.lengths(), p.formats(), 1),
               what);
}

StoreResult<Result> ExecPrepared(PGconn* conn, const char* name, Params* params,
                                 std::string_view what) {
  Params none;
  Params& p = params != nullptr ? *params : none;
  const char* const* values = p.values();
  return Check(conn,
               PQexecPrepared(conn, name, p.size(), values, p.lengths(), p.formats(), 1),
               what);
}

StoreResult<void> Prepare(PGconn* conn, const char* name, const char* sql) {
  BOOST_OUTCOME_TRY(Check(conn, PQprepare(conn, name, sql, 0, nullptr),
                          fmt::format("preparing {}", name)));
  return boost::outcome_v2::success();
}

void Pipeline::Prepared(const char* name, Params params) {
  items_.push_back(Item{name, nullptr, std::move(params)});
}

void Pipeline::Sql(const char* sql, Params params) {
  items_.push_back(Item{nullptr, sql, std::move(params)});
}

StoreResult<std::vector<Result>> Pipeline::Run(std::string_view what) {
  std::vector<Result> results;
  if (PQenterPipelineMode(conn_) != 1) return Failure(conn_, nullptr, what);
  bool sent = true;
  for (Item& item : items_) {
    const char* const* values = item.params.values();
    const int ok =
        item.name != nullptr
            ? PQsendQueryPrepared(conn_, item.name, item.params.size(), values,
                                  item.params.lengths(), item.params.formats(), 1)
            : PQsendQueryParams(conn_, item.sql, item.params.size(), nullptr, values,
                                item.params.lengths(), item.params.formats(), 1);
    if (ok != 1) {
      sent = false;
      break;
    }
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    // The connection is unusable (send failed): the caller resets it.
    return Failure(conn_, nullptr, what);
  }
  std::optional<StoreError> error;
  for (size_t i = 0; i < items_.size(); ++i) {
    Result r(PQgetResult(conn_));
    if (!r) return Failure(conn_, nullptr, what);  // lost the connection
    const ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !error) {
      error = Failure(conn_, r.get(), what);
    }
    results.push_back(std::move(r));
    // Each statement's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  Result sync(PQgetResult(conn_));
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    return Failure(conn_, sync.get(), what);
  }
  if (PQexitPipelineMode(conn_) != 1) return Failure(conn_, nullptr, what);
  if (error) return *error;
  return results;
}

// A field of another width (a NULL, a schema not ours) reads as 0 rather
// than past the value.
uint64_t GetU64(const PGresult* r, int row, int col) {
  const std::string_view v = GetBytes(r, row, col);
  return v.size() == 8 ? kf::GetU64(v) : 0;
}

uint32_t GetU32(const PGresult* r, int row, int col) {
  const std::string_view v = GetBytes(r, row, col);
  return v.size() == 4 ? kf::GetU32(v) : 0;
}

std::string_view GetBytes(const PGresult* r, int row, int col) {
  return std::string_view(PQgetvalue(r, row, col), size_t(PQgetlength(r, row, col)));
}

bool IsNull(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) == 1; }

}  // namespace jobtrail::eventstore::pg
