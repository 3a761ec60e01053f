#pragma once
// The Pistache side of the security layer, kept out of the adapter:
// per-address connection limits, the request fields the gate checks
// (client address, target length, header count and bytes), and header
// lookups that also see the headers Pistache parses into typed objects
// (Authorization, Host, User-Agent, ...), which tryGetRaw does not return.
#include <pistache/http.h>
#include <pistache/peer.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/server/http_types.h"

namespace jobtrail::http {

// Counts open connections per client address. Thread-safe.
class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  explicit ConnectionLimiter(size_t max_per_address) : max_(max_per_address) {}
  // A slot held for the connection's life (released when the last copy is
  // dropped), or null when `address` already has the maximum.
  std::shared_ptr<void> Acquire(const std::string& address);
  size_t open(const std::string& address) const;

 private:
  void Release(const std::string& address);

  const size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;  // GUARDED_BY(mu_)
};

// Pistache's request parser with two additions, both made by wrapping its
// parse steps (the only part of the parser a subclass can reach):
//
// - It counts the header block as received: every field line and every
//   byte. Pistache keeps one entry per header name, so counting the parsed
//   collection let a client repeat one name 60,000 times (927 KB) past
//   --max-headers and --max-header-bytes.
// - It tells Pistache's idle-peer timer that a request is being answered.
//   Pistache resets the parser when onRequest returns, and its timer then
//   judges a peer that has not been answered yet by the header timeout
//   (and the body timeout), measured from that reset: a write still running
//   on the WorkPool after --header-timeout-ms got a bare 408 and its
//   connection closed while the work completed. While Answering() is set,
//   the first step reports an id the timer does not know, and the timer
//   leaves the peer alone; the header and body timeouts then cover only
//   the receiving of a request, as documented.
// - It refuses a body by its Content-Length before reading it: a request
//   declaring more than `max_body_bytes` reaches the handler with no body
//   and oversized_body() set (the handler answers its own 413, in the
//   route's shape, with CORS headers), and the rest of that connection's
//   input is discarded. Pistache itself reserved the declared size first
//   and answered bodies past its buffer with a bare text/plain 413.
//   The header block is held to the same bound: once it has more lines or
//   bytes than the request gate allows, parsing stops, the request reaches
//   the handler at once (the gate answers 431 by the counts) and the rest
//   of the connection is discarded, instead of Pistache parsing up to its
//   whole buffer (1 MB) of header lines first.
struct ParserLimits {
  size_t max_request_bytes = 0;  // Pistache's buffer
  size_t max_body_bytes = 0;
  size_t max_header_lines = 0;
  size_t max_header_bytes = 0;
};

class GuardedRequestParser final : public Pistache::Http::RequestParser {
 public:
  explicit GuardedRequestParser(const ParserLimits& limits);

  // The current request's header block so far (reset with the parser).
  size_t header_lines() const { return header_lines_; }
  size_t header_bytes() const { return header_bytes_; }
  // The header block's raw text as received (Pistache's collection keeps
  // one value per name; this keeps every line, for list-valued fields).
  const std::string& header_block() const { return header_block_; }
  // The current request's declared body size when it was over the limit
  // and not read; 0 otherwise. Once set, the connection only discards.
  size_t oversized_body() const { return oversized_body_; }
  // Whether the rest of the connection's input is being thrown away (after
  // an oversized body or header block): its answer must close it.
  bool discarding() const { return discarding_; }

  // From the request's hand-over to the handler until its answer is on its
  // way (ResponseWriter::send has marked the peer idle). Any thread.
  // BeginAnswering returns the request's token for EndAnswering, which
  // clears the mark only if no later request on the connection set it
  // meanwhile: the answer's bytes leave before EndAnswering runs on the
  // WorkPool thread, and a client on a keep-alive connection may send its
  // next request, and the reactor hand it over, in between. Cleared
  // unconditionally, that next request lost its mark, and a write of it
  // that waited seconds (a failover) got a bare 408 from Pistache's timer.
  uint64_t BeginAnswering() {
    const uint64_t token = next_answer_.fetch_add(1) + 1;
    answering_.store(token);
    return token;
  }
  void EndAnswering(uint64_t token) {
    uint64_t expected = token;
    answering_.compare_exchange_strong(expected, 0);
  }

  void reset() override;

 private:
  class AnswerAwareStep;
  class CountingStep;
  class BodyLimitStep;

  const ParserLimits limits_;

  size_t header_lines_ = 0;  // reactor thread only
  size_t header_bytes_ = 0;
  std::string header_block_;
  size_t oversized_body_ = 0;  // reactor thread only
  bool discarding_ = false;    // the connection's input is thrown away
  std::atomic<uint64_t> answering_{0};  // the token of the request being answered; 0: none
  std::atomic<uint64_t> next_answer_{0};
};

// The peer's parser, or null when it is not ours (never, in this server).
std::shared_ptr<GuardedRequestParser> GuardedParser(
    const std::shared_ptr<Pistache::Tcp::Peer>& peer);

// What Http::Handler::onConnection does (a request parser for the peer),
// plus the connection limit: over the limit, the socket is shut down at
// once (the client sees the connection closed; nothing is read from it).
// `limiter` may be null (no limit).
void SetUpConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer, const ParserLimits& limits,
                     ConnectionLimiter* limiter);

// Client address, target length, header count and bytes. `parser` (may be
// null) gives the header block as received; without it, or if it saw less,
// the parsed headers are counted.
void FillRequestShape(const Pistache::Http::Request& req, const GuardedRequestParser* parser,
                      HttpRequest& out);

// Every value of field `name` (case-insensitive) in a raw header block, one
// per field line, in arrival order, without surrounding whitespace.
std::vector<std::string> FieldLines(std::string_view block, std::string_view name);

// A header's value whether Pistache kept it raw or typed.
std::optional<std::string> HeaderValue(const Pistache::Http::Header::Collection& headers,
                                       std::string_view name);
// Every header (raw and typed) as name/value pairs.
void CopyHeaders(const Pistache::Http::Header::Collection& headers,
                 std::vector<std::pair<std::string, std::string>>& out);

}  // namespace jobtrail::http
