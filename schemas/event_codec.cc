#include "schemas/event_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "schemas/events.capnp.h"

namespace jobtrail {
namespace {

namespace cs = ::jobtrail::schema;

// Every decoding failure, whatever its cause, is this one error
// (event_codec.h): callers switch on the reason.
Error Corruption(std::string message) {
  return MakeError(Code::kDataLoss, "CORRUPTION", std::move(message));
}

kj::StringPtr Txt(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }
std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

template <typename Box>
void SetBox(Box box, int64_t v) { box.setValue(v); }

void PutPairs(capnp::List<cs::Pair>::Builder out, const Labels& pairs) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    out[i].setKey(Txt(pairs[i].first));
    out[i].setValue(Txt(pairs[i].second));
  }
}
Labels GetPairs(capnp::List<cs::Pair>::Reader in) {
  Labels out;
  out.reserve(in.size());
  for (auto p : in) out.emplace_back(Str(p.getKey()), Str(p.getValue()));
  return out;
}

void PutItems(cs::ItemCounts::Builder b, const ItemCounts& c) {
  if (c.processed) b.initProcessed().setValue(*c.processed);
  if (c.total) b.initTotal().setValue(*c.total);
  if (c.failed) b.initFailed().setValue(*c.failed);
}
ItemCounts GetItems(cs::ItemCounts::Reader r) {
  ItemCounts c;
  if (r.hasProcessed()) c.processed = r.getProcessed().getValue();
  if (r.hasTotal()) c.total = r.getTotal().getValue();
  if (r.hasFailed()) c.failed = r.getFailed().getValue();
  return c;
}

struct BodyEncoder {
  cs::Event::Body::Builder b;

  void operator()(const Enqueued& e) {
    auto o = b.initEnqueued();
    o.setType(Txt(e.type));
    o.setQueue(Txt(e.queue));
    o.setOwner(Txt(e.owner));
    o.setExternalRef(Txt(e.external_ref));
    o.setPayloadJson(Txt(e.payload_json));
    o.setPriority(e.priority);
    o.setMaxAttempts(e.max_attempts);
    if (e.run_at) o.initRunAtMs().setValue(*e.run_at);
    PutPairs(o.initLabels(e.labels.size()), e.labels);
    o.setIdempotencyKey(Txt(e.idempotency_key));
    o.setUniqueKey(Txt(e.unique_key));
    o.setRetryBackoff(Txt(e.retry_backoff));
    if (e.retry_base_delay_ms) o.initRetryBaseDelayMs().setValue(*e.retry_base_delay_ms);
    if (e.retry_max_delay_ms) o.initRetryMaxDelayMs().setValue(*e.retry_max_delay_ms);
    o.setCallbackUrl(Txt(e.callback_url));
  }
  void operator()(const Started& e) {
    auto o = b.initStarted();
    o.setAttempt(e.attempt);
    o.setWorkerId(Txt(e.worker_id));
    if (e.lease_deadline) o.initLeaseDeadlineMs().setValue(*e.lease_deadline);
  }
  void operator()(const Progressed& e) {
    auto o = b.initProgressed();
    if (e.percent) o.initPercent().setValue(*e.percent);
    o.setMessage(Txt(e.message));
    o.setStep(Txt(e.step));
    PutItems(o.initItems(), e.items);
    if (e.lease_deadline) o.initLeaseDeadlineMs().setValue(*e.lease_deadline);
  }
  void operator()(const Logged& e) {
    auto o = b.initLogged();
    o.setLevel(static_cast<cs::LogLevel>(static_cast<int>(e.level)));
    o.setMessage(Txt(e.message));
    o.setDetailsJson(Txt(e.details_json));
    PutPairs(o.initSubjects(e.subjects.size()), e.subjects);
  }
  void operator()(const Errored& e) {
    auto o = b.initErrored();
    o.setAttempt(e.attempt);
    o.setErrorType(Txt(e.error_type));
    o.setMessage(Txt(e.message));
    o.setStack(Txt(e.stack));
    o.setStage(Txt(e.stage));
    auto list = o.initArtifacts(e.artifacts.size());
    for (size_t i = 0; i < e.artifacts.size(); ++i) {
      const Artifact& a = e.artifacts[i];
      list[i].setKind(Txt(a.kind));
      list[i].setUrl(Txt(a.url));
      list[i].setKey(Txt(a.key));
      list[i].setContentType(Txt(a.content_type));
      list[i].setBytes(capnp::Data::Reader(
          reinterpret_cast<const kj::byte*>(a.bytes.data()), a.bytes.size()));
    }
  }
  void operator()(const Retried& e) {
    auto o = b.initRetried();
    o.setAttempt(e.attempt);
    o.setNextRunAtMs(e.next_run_at);
    o.setBackoffMs(e.backoff_ms);
  }
  void operator()(const Completed& e) {
    auto o = b.initCompleted();
    o.setResultJson(Txt(e.result_json));
    PutItems(o.initItems(), e.items);
  }
  void operator()(const Failed& e) {
    auto o = b.initFailed();
    o.setReason(Txt(e.reason));
    o.setErrorType(Txt(e.error_type));
    o.setStack(Txt(e.stack));
  }
  void operator()(const Cancelled& e) {
    auto o = b.initCancelled();
    o.setReason(Txt(e.reason));
    o.setBy(Txt(e.by));
  }
  void operator()(const Expired& e) { b.initExpired().setReason(Txt(e.reason)); }
  void operator()(const WebhookAttempted& e) {
    auto o = b.initWebhookAttempted();
    o.setDeliveryId(Txt(e.delivery_id));
    o.setWebhookId(Txt(e.webhook_id));
    o.setEventVersion(e.event_version);
    o.setEventType(Txt(e.event_type));
    o.setAttempt(e.attempt);
    o.setStatusCode(e.status_code);
    o.setError(Txt(e.error));
    o.setDurationMs(e.duration_ms);
    o.setOutcome(static_cast<cs::WebhookOutcome>(static_cast<int>(e.outcome)));
    if (e.next_attempt_at) o.initNextAttemptAtMs().setValue(*e.next_attempt_at);
  }
};

Result<EventBody> DecodeBody(cs::Event::Body::Reader b) {
  switch (b.which()) {
    case cs::Event::Body::ENQUEUED: {
      auto r = b.getEnqueued();
      Enqueued e;
      e.type = Str(r.getType());
      e.queue = Str(r.getQueue());
      e.owner = Str(r.getOwner());
      e.external_ref = Str(r.getExternalRef());
      e.payload_json = Str(r.getPayloadJson());
      e.priority = r.getPriority();
      e.max_attempts = r.getMaxAttempts();
      if (r.hasRunAtMs()) e.run_at = r.getRunAtMs().getValue();
      e.labels = GetPairs(r.getLabels());
      e.idempotency_key = Str(r.getIdempotencyKey());
      e.unique_key = Str(r.getUniqueKey());
      e.retry_backoff = Str(r.getRetryBackoff());
      if (r.hasRetryBaseDelayMs()) e.retry_base_delay_ms = r.getRetryBaseDelayMs().getValue();
      if (r.hasRetryMaxDelayMs()) e.retry_max_delay_ms = r.getRetryMaxDelayMs().getValue();
      e.callback_url = Str(r.getCallbackUrl());
      return EventBody{std::move(e)};
    }
    case cs::Event::Body::STARTED: {
      auto r = b.getStarted();
      Started e;
      e.attempt = r.getAttempt();
      e.worker_id = Str(r.getWorkerId());
      if (r.hasLeaseDeadlineMs()) e.lease_deadline = r.getLeaseDeadlineMs().getValue();
      return EventBody{std::move(e)};
    }
    case cs::Event::Body::PROGRESSED: {
      auto r = b.getProgressed();
      Progressed e;
      if (r.hasPercent()) e.percent = r.getPercent().getValue();
      e.message = Str(r.getMessage());
      e.step = Str(r.getStep());
      e.items = GetItems(r.getItems());
      if (r.hasLeaseDeadlineMs()) e.lease_deadline = r.getLeaseDeadlineMs().getValue();
      return EventBody{std::move(e)};
    }
    case cs::Event::Body::LOGGED: {
      auto r = b.getLogged();
      Logged e;
      const int level = static_cast<int>(r.getLevel());
      if (level < 0 || level > 4) {
        return Corruption(fmt::format("unknown log level {}", level));
      }
      e.level = static_cast<LogLevel>(level);
      e.message = Str(r.getMessage());
      e.details_json = Str(r.getDetailsJson());
      e.subjects = GetPairs(r.getSubjects());
      return EventBody{std::move(e)};
    }
    case cs::Event::Body::ERRORED: {
      auto r = b.getErrored();
      Errored e;
      e.attempt = r.getAttempt();
      e.error_type = Str(r.getErrorType());
      e.message = Str(r.getMessage());
      e.stack = Str(r.getStack());
      e.stage = Str(r.getStage());
      for (auto a : r.getArtifacts()) {
        auto bytes = a.getBytes();
        e.artifacts.push_back(Artifact{
            Str(a.getKind()), Str(a.getUrl()), Str(a.getKey()),
            Str(a.getContentType()),
            std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size())});
      }
      return EventBody{std::move(e)};
    }
    case cs::Event::Body::RETRIED: {
      auto r = b.getRetried();
      return EventBody{Retried{r.getAttempt(), r.getNextRunAtMs(), r.getBackoffMs()}};
    }
    case cs::Event::Body::COMPLETED: {
      auto r = b.getCompleted();
      return EventBody{Completed{Str(r.getResultJson()), GetItems(r.getItems())}};
    }
    case cs::Event::Body::FAILED: {
      auto r = b.getFailed();
      return EventBody{Failed{Str(r.getReason()), Str(r.getErrorType()), Str(r.getStack())}};
    }
    case cs::Event::Body::CANCELLED: {
      auto r = b.getCancelled();
      return EventBody{Cancelled{Str(r.getReason()), Str(r.getBy())}};
    }
    case cs::Event::Body::EXPIRED:
      return EventBody{Expired{Str(b.getExpired().getReason())}};
    case cs::Event::Body::WEBHOOK_ATTEMPTED: {
      auto r = b.getWebhookAttempted();
      const int outcome = static_cast<int>(r.getOutcome());
      if (outcome < 0 || outcome > 2) {
        return Corruption(fmt::format("unknown webhook outcome {}", outcome));
      }
      WebhookAttempted e;
      e.delivery_id = Str(r.getDeliveryId());
      e.webhook_id = Str(r.getWebhookId());
      e.event_version = r.getEventVersion();
      e.event_type = Str(r.getEventType());
      e.attempt = r.getAttempt();
      e.status_code = r.getStatusCode();
      e.error = Str(r.getError());
      e.duration_ms = r.getDurationMs();
      e.outcome = static_cast<WebhookOutcome>(outcome);
      if (r.hasNextAttemptAtMs()) e.next_attempt_at = r.getNextAttemptAtMs().getValue();
      return EventBody{std::move(e)};
    }
  }
  // A union member added by a newer schema than this binary knows.
  return Corruption(
      fmt::format("unknown event kind {}", static_cast<int>(b.which())));
}

}  // namespace

std::string EncodeEvent(const RecordedEvent& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<cs::Event>();
  root.setEventId(Txt(event.event_id));
  root.setJobId(Txt(event.job_id));
  root.setStreamVersion(event.version);
  root.setGlobalPosition(event.position);
  root.setTimestampMs(event.timestamp);
  root.setActor(Txt(event.actor));
  std::visit(BodyEncoder{root.initBody()}, event.body);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<RecordedEvent> DecodeEvent(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Corruption(fmt::format(
        "event of {} bytes is not a whole number of words", bytes.size()));
  }
  // Cap'n Proto reads word-aligned memory; stored bytes carry no alignment
  // promise. Unaligned bytes are copied into a buffer of this thread's,
  // reused (an allocation per event showed in rebuild profiles).
  const size_t count = bytes.size() / sizeof(capnp::word);
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), count);
  } else {
    thread_local std::unique_ptr<uint64_t[]> scratch;
    thread_local size_t scratch_words = 0;
    if (scratch_words < count) {
      scratch_words = std::max(count, size_t{64});
      scratch.reset(new uint64_t[scratch_words]);
    }
    std::memcpy(scratch.get(), bytes.data(), bytes.size());
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(scratch.get()), count);
  }
  try {
    // Cap'n Proto's default traversal limit (64 MiB) lets a few hundred
    // bytes claim millions of zero-sized list elements, each of which we
    // would copy out (found by tests/fuzz). A message we wrote is read about
    // once over, so twice its own size is plenty; more is an attack or junk.
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 2 + 64;
    options.nestingLimit = 16;
    capnp::FlatArrayMessageReader reader(words, options);
    auto root = reader.getRoot<cs::Event>();
    RecordedEvent out;
    out.event_id = Str(root.getEventId());
    out.job_id = Str(root.getJobId());
    out.version = root.getStreamVersion();
    out.position = root.getGlobalPosition();
    out.timestamp = root.getTimestampMs();
    out.actor = Str(root.getActor());
    auto body = DecodeBody(root.getBody());
    if (!body) return body.error();
    out.body = std::move(body).value();
    return out;
  } catch (const kj::Exception& e) {
    return Corruption(
        fmt::format("event does not decode: {}", e.getDescription().cStr()));
  }
}

}  // namespace jobtrail
