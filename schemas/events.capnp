# The on-disk format of jobtrail's events (SPEC §2).
#
# Evolution rule: only ever ADD fields (with the next ordinal) or add union
# members. Never renumber, retype or remove. Every event ever written must
# stay readable: tests/data/events/ holds one golden event per kind from each
# released schema version and schema_golden_test re-reads them every build.
@0x8750612adb071784;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("jobtrail::schema");

# Optional scalars are boxed: a null pointer means "not set".
struct Int64Box { value @0 :Int64; }
struct Float64Box { value @0 :Float64; }

struct Pair {
  key @0 :Text;
  value @1 :Text;
}

struct Artifact {
  kind @0 :Text;          # "screenshot", "page_source", ...
  url @1 :Text;
  key @2 :Text;
  contentType @3 :Text;
  bytes @4 :Data;         # inline content, small
}

struct ItemCounts {
  processed @0 :Int64Box;
  total @1 :Int64Box;
  failed @2 :Int64Box;
}

enum LogLevel {
  trace @0;
  info @1;
  warn @2;
  error @3;
  fatal @4;
}

struct Enqueued {
  type @0 :Text;
  queue @1 :Text;
  owner @2 :Text;
  externalRef @3 :Text;
  payloadJson @4 :Text;
  priority @5 :Int32;
  maxAttempts @6 :Int32;
  runAtMs @7 :Int64Box;
  labels @8 :List(Pair);
  idempotencyKey @9 :Text;
  uniqueKey @10 :Text;
  retryBackoff @11 :Text;
  retryBaseDelayMs @12 :Int64Box;
  retryMaxDelayMs @13 :Int64Box;
  callbackUrl @14 :Text;          # added in v3
}

struct Started {
  attempt @0 :Int32;
  workerId @1 :Text;
  leaseDeadlineMs @2 :Int64Box;
}

struct Progressed {
  percent @0 :Float64Box;
  message @1 :Text;
  step @2 :Text;
  items @3 :ItemCounts;
  leaseDeadlineMs @4 :Int64Box;   # a heartbeat extending the lease
}

struct Logged {
  level @0 :LogLevel;
  message @1 :Text;
  detailsJson @2 :Text;
  subjects @3 :List(Pair);
}

struct Errored {
  attempt @0 :Int32;
  errorType @1 :Text;
  message @2 :Text;
  stack @3 :Text;
  stage @4 :Text;
  artifacts @5 :List(Artifact);
}

struct Retried {
  attempt @0 :Int32;
  nextRunAtMs @1 :Int64;
  backoffMs @2 :Int64;
}

struct Completed {
  resultJson @0 :Text;
  items @1 :ItemCounts;
}

struct Failed {
  reason @0 :Text;
  errorType @1 :Text;
  stack @2 :Text;
}

struct Cancelled {
  reason @0 :Text;
  by @1 :Text;
}

# Added in v2: the job's retention ran out; read models drop the job.
struct Expired {
  reason @0 :Text;
}

# Added in v3: one attempt to deliver a webhook about an earlier event of
# the job (http/webhooks/). Changes nothing of the job but its version.
enum WebhookOutcome {
  delivered @0;
  retrying @1;
  gaveUp @2;
}

struct WebhookAttempted {
  deliveryId @0 :Text;
  webhookId @1 :Text;             # empty: the job's callback_url
  eventVersion @2 :UInt64;
  eventType @3 :Text;
  attempt @4 :Int32;
  statusCode @5 :Int32;
  error @6 :Text;
  durationMs @7 :Int64;
  outcome @8 :WebhookOutcome;
  nextAttemptAtMs @9 :Int64Box;
}

# One event: the envelope and exactly one body.
# globalPosition is assigned by the event log when the event is committed;
# the stored copy carries 0 and the log's record key is authoritative
# (eventstore/key_format.h). The decoder fills it from the record.
struct Event {
  eventId @0 :Text;
  jobId @1 :Text;
  streamVersion @2 :UInt64;
  globalPosition @3 :UInt64;
  timestampMs @4 :Int64;
  actor @5 :Text;
  body :union {
    enqueued @6 :Enqueued;
    started @7 :Started;
    progressed @8 :Progressed;
    logged @9 :Logged;
    errored @10 :Errored;
    retried @11 :Retried;
    completed @12 :Completed;
    failed @13 :Failed;
    cancelled @14 :Cancelled;
    expired @15 :Expired;
    webhookAttempted @16 :WebhookAttempted;
  }
}
