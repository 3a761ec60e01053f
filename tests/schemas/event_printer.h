#pragma once
// gtest printers for events, so a failed comparison names the field that
// differs instead of dumping object bytes. Found by ADL.
#include <cstdio>
#include <optional>
#include <ostream>
#include <string_view>
#include <variant>

#include "domain/job_event.h"

namespace jobtrail {
namespace event_printer_internal {

inline void Quoted(std::ostream* os, std::string_view s) {
  *os << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *os << '\\' << c;
    } else if (c >= 0x20 && c < 0x7f) {
      *os << c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      *os << hex;
    }
  }
  *os << '"';
}

template <typename T>
void Opt(std::ostream* os, const std::optional<T>& v) {
  if (v) {
    *os << *v;
  } else {
    *os << "unset";
  }
}

inline void Pairs(std::ostream* os, const Labels& pairs) {
  *os << '{';
  for (const auto& [k, v] : pairs) {
    Quoted(os, k);
    *os << ':';
    Quoted(os, v);
    *os << ' ';
  }
  *os << '}';
}

}  // namespace event_printer_internal

inline void PrintTo(EventKind kind, std::ostream* os) {
  *os << EventKindName(kind);
}
inline void PrintTo(LogLevel level, std::ostream* os) {
  *os << LogLevelName(level);
}

inline void PrintTo(const ItemCounts& c, std::ostream* os) {
  using event_printer_internal::Opt;
  *os << "{processed=";
  Opt(os, c.processed);
  *os << " total=";
  Opt(os, c.total);
  *os << " failed=";
  Opt(os, c.failed);
  *os << '}';
}

inline void PrintTo(const Artifact& a, std::ostream* os) {
  using event_printer_internal::Quoted;
  *os << "{kind=";
  Quoted(os, a.kind);
  *os << " url=";
  Quoted(os, a.url);
  *os << " key=";
  Quoted(os, a.key);
  *os << " content_type=";
  Quoted(os, a.content_type);
  *os << " bytes=";
  Quoted(os, a.bytes);
  *os << '}';
}

inline void PrintTo(const Enqueued& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "Enqueued{type=";
  Quoted(os, e.type);
  *os << " queue=";
  Quoted(os, e.queue);
  *os << " owner=";
  Quoted(os, e.owner);
  *os << " external_ref=";
  Quoted(os, e.external_ref);
  *os << " payload_json=";
  Quoted(os, e.payload_json);
  *os << " priority=" << e.priority << " max_attempts=" << e.max_attempts
      << " run_at=";
  Opt(os, e.run_at);
  *os << " labels=";
  Pairs(os, e.labels);
  *os << " idempotency_key=";
  Quoted(os, e.idempotency_key);
  *os << " unique_key=";
  Quoted(os, e.unique_key);
  *os << " retry_backoff=";
  Quoted(os, e.retry_backoff);
  *os << " retry_base_delay_ms=";
  Opt(os, e.retry_base_delay_ms);
  *os << " retry_max_delay_ms=";
  Opt(os, e.retry_max_delay_ms);
  *os << " callback_url=";
  Quoted(os, e.callback_url);
  *os << '}';
}

inline void PrintTo(const Started& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "Started{attempt=" << e.attempt << " worker_id=";
  Quoted(os, e.worker_id);
  *os << " lease_deadline=";
  Opt(os, e.lease_deadline);
  *os << '}';
}

inline void PrintTo(const Progressed& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "Progressed{percent=";
  Opt(os, e.percent);
  *os << " message=";
  Quoted(os, e.message);
  *os << " step=";
  Quoted(os, e.step);
  *os << " items=";
  PrintTo(e.items, os);
  *os << '}';
}

inline void PrintTo(const Logged& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "Logged{level=";
  PrintTo(e.level, os);
  *os << " message=";
  Quoted(os, e.message);
  *os << " details_json=";
  Quoted(os, e.details_json);
  *os << " subjects=";
  Pairs(os, e.subjects);
  *os << '}';
}

inline void PrintTo(const Errored& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "Errored{attempt=" << e.attempt << " error_type=";
  Quoted(os, e.error_type);
  *os << " message=";
  Quoted(os, e.message);
  *os << " stack=";
  Quoted(os, e.stack);
  *os << " stage=";
  Quoted(os, e.stage);
  *os << " artifacts=[";
  for (const Artifact& a : e.artifacts) PrintTo(a, os);
  *os << "]}";
}

inline void PrintTo(const Retried& e, std::ostream* os) {
  *os << "Retried{attempt=" << e.attempt << " next_run_at=" << e.next_run_at
      << " backoff_ms=" << e.backoff_ms << '}';
}

inline void PrintTo(const Completed& e, std::ostream* os) {
  *os << "Completed{result_json=";
  event_printer_internal::Quoted(os, e.result_json);
  *os << " items=";
  PrintTo(e.items, os);
  *os << '}';
}

inline void PrintTo(const Failed& e, std::ostream* os) {
  using event_printer_internal::Quoted;
  *os << "Failed{reason=";
  Quoted(os, e.reason);
  *os << " error_type=";
  Quoted(os, e.error_type);
  *os << " stack=";
  Quoted(os, e.stack);
  *os << '}';
}

inline void PrintTo(const Cancelled& e, std::ostream* os) {
  using event_printer_internal::Quoted;
  *os << "Cancelled{reason=";
  Quoted(os, e.reason);
  *os << " by=";
  Quoted(os, e.by);
  *os << '}';
}

inline void PrintTo(const Expired& e, std::ostream* os) {
  *os << "Expired{reason=";
  event_printer_internal::Quoted(os, e.reason);
  *os << '}';
}

inline void PrintTo(const WebhookAttempted& e, std::ostream* os) {
  using namespace event_printer_internal;
  *os << "WebhookAttempted{delivery_id=";
  Quoted(os, e.delivery_id);
  *os << " webhook_id=";
  Quoted(os, e.webhook_id);
  *os << " event_version=" << e.event_version << " event_type=";
  Quoted(os, e.event_type);
  *os << " attempt=" << e.attempt << " status_code=" << e.status_code << " error=";
  Quoted(os, e.error);
  *os << " duration_ms=" << e.duration_ms
      << " outcome=" << WebhookOutcomeName(e.outcome) << " next_attempt_at=";
  Opt(os, e.next_attempt_at);
  *os << '}';
}

inline void PrintTo(const EventBody& body, std::ostream* os) {
  std::visit([os](const auto& b) { PrintTo(b, os); }, body);
}

inline void PrintTo(const RecordedEvent& e, std::ostream* os) {
  using event_printer_internal::Quoted;
  *os << "RecordedEvent{event_id=";
  Quoted(os, e.event_id);
  *os << " job_id=";
  Quoted(os, e.job_id);
  *os << " version=" << e.version << " position=" << e.position
      << " timestamp=" << e.timestamp << " actor=";
  Quoted(os, e.actor);
  *os << " body=";
  PrintTo(e.body, os);
  *os << '}';
}

}  // namespace jobtrail
