#pragma once
// Webhook subscriptions, kept in <data-dir>/webhooks.json (mode 0600: it
// holds their secrets, which are needed in the clear to sign). Like
// schedules, a subscription is configuration beside the log, written
// atomically; what it causes is history (webhook_attempted events).
//
// Who sees what: a subscription belongs to the principal that created it
// (`created_by`); admins see and delete every subscription, anyone else
// only its own (another's answers 404 WEBHOOK_NOT_FOUND, as a missing one).
// What it receives is decided at creation: a non-admin's subscription is
// limited to the jobs it owns (`owner` = its subject), an admin's to one
// owner or, without one, to every job.
//
// Thread-safe: every method takes the book's mutex.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail::webhooks {

inline constexpr size_t kMaxSubscriptionsPerCreator = 100;
inline constexpr size_t kMaxSubscriptions = 10000;

struct Subscription {
  std::string id;  // "wh_" + 16 hex digits
  std::string url;
  std::string secret;
  std::string description;
  // Filters; an empty list matches everything. `statuses` are the statuses
  // a transition leads to (default: the final ones).
  std::string owner;  // "": any owner (admins only)
  std::vector<std::string> types;
  std::vector<std::string> queues;
  std::vector<JobStatus> statuses;
  std::string created_by;
  Millis created_at = 0;
  // Only events after this log position are delivered: the log's head when
  // the subscription was made, so that restarts never deliver older ones.
  uint64_t after_position = 0;
};

class SubscriptionBook {
 public:
  // Loads the book from `path` (a missing file: empty).
  // Errors: kDataLoss (a file that does not parse), kInternal.
  static Result<std::unique_ptr<SubscriptionBook>> Open(const std::string& path);

  // Stores a new subscription (its id must be unique) and saves the file.
  // Errors: kFailedPrecondition/TOO_MANY_WEBHOOKS, kInternal.
  Result<void> Add(const Subscription& subscription);
  // Errors: kNotFound/WEBHOOK_NOT_FOUND, kInternal.
  Result<void> Remove(std::string_view id);
  std::optional<Subscription> Get(std::string_view id) const;
  std::vector<Subscription> List() const;
  // Changes every time the set of subscriptions does (cheap to poll).
  uint64_t generation() const;

 private:
  explicit SubscriptionBook(std::string path) : path_(std::move(path)) {}
  Result<void> SaveLocked() const;

  std::string path_;
  mutable std::mutex mu_;
  std::vector<Subscription> subscriptions_;  // GUARDED_BY(mu_), by creation
  uint64_t generation_ = 0;                   // GUARDED_BY(mu_)
};

Error WebhookNotFound(std::string_view id);

}  // namespace jobtrail::webhooks
