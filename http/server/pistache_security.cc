#include "http/server/pistache_security.h"

#include <sys/socket.h>

#include <algorithm>
#include <sstream>

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;

constexpr const char* kSlotKey = "jobtrail.connection_slot";

std::string TypedValue(const PHttp::Header::Header& header) {
  // One stream a thread, emptied each time: building an ostringstream (and
  // its locale) for every typed header of every request was ~2% of the
  // server's CPU in the worker lifecycle (perf).
  thread_local std::ostringstream os;
  os.str(std::string());
  os.clear();
  header.write(os);
  return os.str();
}

constexpr auto kAnsweringStepId = Pistache::Meta::Hash::fnv1a("jobtrail.Answering");

}  // namespace

namespace Private = PHttp::Private;

// The request-line step, reporting kAnsweringStepId while the previous
// request is being answered: Pistache's timer applies no timeout to a step
// it does not know.
//
// On a connection that is discarding (after an oversized body), it consumes
// whatever arrived and empties the parser's buffer, which Pistache would
// otherwise grow until its own bare 413.
class GuardedRequestParser::AnswerAwareStep final : public Private::Step {
 public:
  AnswerAwareStep(PHttp::Request* request, std::unique_ptr<Private::Step> inner,
                  GuardedRequestParser* parser)
      : Step(request), inner_(std::move(inner)), parser_(parser) {}
  Private::StepId id() const override {
    return parser_->answering_.load() != 0 ? kAnsweringStepId : inner_->id();
  }
  Private::State apply(Pistache::StreamCursor& cursor) override {
    if (parser_->discarding_) {
      cursor.advance(cursor.remaining());
      parser_->PHttp::RequestParser::reset();  // buffer, cursor and request only
      return Private::State::Again;
    }
    return inner_->apply(cursor);
  }

 private:
  std::unique_ptr<Private::Step> inner_;
  GuardedRequestParser* parser_;
};

// The body step, refusing a declared Content-Length over the limit before
// Pistache reserves it or reads a byte of it.
class GuardedRequestParser::BodyLimitStep final : public Private::Step {
 public:
  BodyLimitStep(PHttp::Request* request, std::unique_ptr<Private::Step> inner,
                GuardedRequestParser* parser)
      : Step(request), inner_(std::move(inner)), parser_(parser) {}
  Private::StepId id() const override { return inner_->id(); }
  Private::State apply(Pistache::StreamCursor& cursor) override {
    auto length = message->headers().tryGet<PHttp::Header::ContentLength>();
    if (length && length->value() > parser_->limits_.max_body_bytes) {
      parser_->oversized_body_ = length->value();
      parser_->discarding_ = true;
      cursor.advance(cursor.remaining());
      return Private::State::Done;
    }
    return inner_->apply(cursor);
  }

 private:
  std::unique_ptr<Private::Step> inner_;
  GuardedRequestParser* parser_;
};

// The headers step, counting the lines and bytes it consumes. Pistache may
// parse the block over several calls (as bytes arrive); each call's
// consumed bytes are still in the buffer at the token's start.
class GuardedRequestParser::CountingStep final : public Private::Step {
 public:
  CountingStep(PHttp::Request* request, std::unique_ptr<Private::Step> inner,
               GuardedRequestParser* parser)
      : Step(request), inner_(std::move(inner)), parser_(parser) {}
  Private::StepId id() const override { return inner_->id(); }
  Private::State apply(Pistache::StreamCursor& cursor) override {
    if (OverLimits(cursor)) return Private::State::Done;
    Pistache::StreamCursor::Token consumed(cursor);
    const Private::State state = inner_->apply(cursor);
    const char* begin = consumed.rawText();
    const size_t n = consumed.size();
    size_t lines = size_t(std::count(begin, begin + n, '\n'));
    // The empty line that ends the block is no field.
    if (state == Private::State::Next && lines > 0) --lines;
    parser_->header_lines_ += lines;
    parser_->header_bytes_ += n;
    parser_->header_block_.append(begin, n);
    return state;
  }

 private:
  // Whether what has arrived of the block (up to its empty line) already
  // passes the limits; if so, it is counted, the input dropped, and the
  // connection set to discard.
  bool OverLimits(Pistache::StreamCursor& cursor) {
    const std::string_view input(cursor.offset(), cursor.remaining());
    size_t end = input.size();
    if (input.substr(0, 2) == "\r\n" || input.substr(0, 1) == "\n") {
      end = 0;
    } else if (size_t blank = input.find("\n\r\n"); blank != std::string_view::npos) {
      end = blank + 1;
    }
    const size_t lines = size_t(std::count(input.begin(), input.begin() + end, '\n'));
    const ParserLimits& limits = parser_->limits_;
    const bool over = (limits.max_header_lines > 0 &&
                       parser_->header_lines_ + lines > limits.max_header_lines) ||
                      (limits.max_header_bytes > 0 &&
                       parser_->header_bytes_ + end > limits.max_header_bytes);
    if (!over) return false;
    parser_->header_lines_ += lines;
    parser_->header_bytes_ += end;
    parser_->discarding_ = true;
    cursor.advance(cursor.remaining());
    return true;
  }


  std::unique_ptr<Private::Step> inner_;
  GuardedRequestParser* parser_;
};

GuardedRequestParser::GuardedRequestParser(const ParserLimits& limits)
    : PHttp::RequestParser(limits.max_request_bytes), limits_(limits) {
  // allSteps: request line, headers, body (ParserImpl<Request>'s order).
  allSteps[0] = std::make_unique<AnswerAwareStep>(&request, std::move(allSteps[0]), this);
  allSteps[1] = std::make_unique<CountingStep>(&request, std::move(allSteps[1]), this);
  allSteps[2] = std::make_unique<BodyLimitStep>(&request, std::move(allSteps[2]), this);
}

void GuardedRequestParser::reset() {
  PHttp::RequestParser::reset();
  header_lines_ = 0;
  header_bytes_ = 0;
  header_block_.clear();
  oversized_body_ = 0;  // discarding_ stays: the unread body is still coming
  // answering_ stays: Pistache resets the parser right after handing the
  // request over, long before a WorkPool thread answers it.
}

std::shared_ptr<GuardedRequestParser> GuardedParser(
    const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  if (!peer) return nullptr;
  return std::dynamic_pointer_cast<GuardedRequestParser>(PHttp::Handler::getParser(peer));
}

std::shared_ptr<void> ConnectionLimiter::Acquire(const std::string& address) {
  {
    std::lock_guard lock(mu_);
    size_t& n = open_[address];
    if (n >= max_) return nullptr;
    ++n;
  }
  // The slot releases itself when the last reference goes.
  struct Slot {
    std::shared_ptr<ConnectionLimiter> limiter;
    std::string address;
    ~Slot() {
      if (limiter) limiter->Release(address);
    }
  };
  auto slot = std::make_shared<Slot>();
  slot->limiter = shared_from_this();
  slot->address = address;
  return slot;
}

void ConnectionLimiter::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

size_t ConnectionLimiter::open(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  return it == open_.end() ? 0 : it->second;
}

void SetUpConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer, const ParserLimits& limits,
                     ConnectionLimiter* limiter) {
  peer->putData(PHttp::Handler::ParserData, std::make_shared<GuardedRequestParser>(limits));
  if (limiter == nullptr) return;
  auto slot = limiter->Acquire(peer->address().host());
  if (slot) {
    // Released when Pistache drops the peer, however the connection ends.
    peer->putData(kSlotKey, std::move(slot));
  } else {
    // The reactor sees end-of-stream and removes the peer as usual.
    ::shutdown(peer->fd(), SHUT_RDWR);
  }
}

void FillRequestShape(const PHttp::Request& req, const GuardedRequestParser* parser,
                      HttpRequest& out) {
  out.client_address = req.address().host();
  size_t url = req.resource().size();
  const auto& q = req.query();
  for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
    url += it->first.size() + it->second.size() + 2;
  }
  out.url_bytes = url;
  size_t count = 0;
  size_t bytes = 0;
  for (const auto& [name, raw] : req.headers().rawList()) {
    ++count;
    bytes += name.size() + raw.value().size() + 4;
  }
  for (const auto& typed : req.headers().list()) {
    ++count;
    bytes += std::string_view(typed->name()).size() + 4;
  }
  // The parsed collection holds one entry per name; the parser saw them all.
  out.header_count = parser ? std::max(count, parser->header_lines()) : count;
  out.header_bytes = parser ? std::max(bytes, parser->header_bytes()) : bytes;
}

std::vector<std::string> FieldLines(std::string_view block, std::string_view name) {
  std::vector<std::string> values;
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
      v.remove_suffix(1);
    }
    return v;
  };
  while (!block.empty()) {
    const size_t eol = block.find('\n');
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 1);
    const size_t colon = line.find(':');
    if (colon != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < colon && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(line[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) values.emplace_back(trim(line.substr(colon + 1)));
  }
  return values;
}

std::optional<std::string> HeaderValue(const PHttp::Header::Collection& headers,
                                       std::string_view name) {
  const std::string key(name);
  if (auto raw = headers.tryGetRaw(key)) return raw->value();
  if (auto typed = headers.tryGet(key)) return TypedValue(*typed);
  return std::nullopt;
}

void CopyHeaders(const PHttp::Header::Collection& headers,
                 std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [name, raw] : headers.rawList()) out.emplace_back(name, raw.value());
  for (const auto& typed : headers.list()) out.emplace_back(typed->name(), TypedValue(*typed));
}

}  // namespace jobtrail::http
