#pragma once
// The error vocabulary shared by domain/, schemas/, projections/ and http/.
//
// Codes follow Abseil's canonical set; use them as Abseil documents:
//   kInvalidArgument    the input is malformed whatever the state (bad field).
//   kNotFound           the job (or event, or key) does not exist.
//   kAlreadyExists      a create found the thing already there.
//   kFailedPrecondition the input is fine but the job's state refuses it
//                       (an illegal transition).
//   kAborted            a concurrency conflict: the expected version is stale.
//   kResourceExhausted  a limit was hit (body size, rate limit).
//   kUnauthenticated / kPermissionDenied  who is asking / may they.
//   kUnavailable        try again later (shutting down, not ready).
//   kDataLoss           stored data is corrupt or the hash chain is broken.
//   kInternal           a bug or an I/O failure we did not classify.
// `reason` is the stable machine-readable code a client can switch on
// ("INVALID_TRANSITION", "VERSION_CONFLICT", ...); `message` is for humans.
#include <boost/outcome.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace jobtrail {

enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,
  kResourceExhausted,
  kUnauthenticated,
  kPermissionDenied,
  kUnavailable,
  kDataLoss,
  kInternal,
};

std::string_view CodeName(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string reason;   // stable, SCREAMING_SNAKE_CASE
  std::string message;  // human readable, never contains secrets

  std::string ToString() const;
};

// A wrong-kind access (value() of an error) terminates: it is a programmer
// error, never something user input can reach.
template <typename T>
using Result =
    boost::outcome_v2::result<T, Error, boost::outcome_v2::policy::terminate>;

// `return Ok();` from a Result<void> function.
inline auto Ok() { return boost::outcome_v2::success(); }

inline Error MakeError(Code code, std::string reason, std::string message) {
  return Error{code, std::move(reason), std::move(message)};
}
inline Error InvalidArgument(std::string message) {
  return MakeError(Code::kInvalidArgument, "INVALID_INPUT", std::move(message));
}
inline Error NotFound(std::string reason, std::string message) {
  return MakeError(Code::kNotFound, std::move(reason), std::move(message));
}
inline Error Internal(std::string message) {
  return MakeError(Code::kInternal, "INTERNAL", std::move(message));
}
inline Error DataLoss(std::string message) {
  return MakeError(Code::kDataLoss, "DATA_LOSS", std::move(message));
}

}  // namespace jobtrail

