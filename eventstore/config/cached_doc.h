#pragma once
// CachedDoc<T>: one configuration document, parsed into a T and kept in
// memory, re-checked against its store when the copy is older than
// `max_age`. How nodes learn of each other's changes is this read-through:
// a check costs one version lookup (a stat, or a one-row primary-key read
// in PostgreSQL) and the document is fetched and parsed only when its
// version moved. A node's own writes are installed at once (Install), so
// it reads them back immediately.
//
// On a failed check or a document that no longer parses, the previous copy
// stays in use and the failure is logged once per streak (never the text).
// With max_age > 0, a thread that finds another already re-checking uses
// the current copy instead of waiting (the hot path of authentication
// never queues behind a slow database).
//
// Thread-safe.
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "eventstore/config/config_store.h"

namespace jobtrail::config {

template <typename T>
class CachedDoc {
 public:
  using Parse = std::function<Result<T>(const Snapshot&)>;

  CachedDoc(std::shared_ptr<ConfigStore> store, Doc doc, Parse parse,
            std::chrono::milliseconds max_age)
      : store_(std::move(store)), doc_(doc), parse_(std::move(parse)), max_age_(max_age) {}

  // The first read: its errors are returned (a damaged document stops a
  // start rather than being ignored).
  Result<void> Load() {
    BOOST_OUTCOME_TRY(snap, store_->Read(doc_));
    return Install(snap);
  }

  // The current value (never null after a successful Load).
  std::shared_ptr<const T> Get() {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      if (max_age_.count() > 0 && now - checked_ < max_age_) return value_;
    }
    std::unique_lock refresh(refresh_mu_, std::defer_lock);
    if (max_age_.count() > 0) {
      if (!refresh.try_lock()) return Current();
    } else {
      refresh.lock();
    }
    Refresh(now);
    return Current();
  }

  // Installs a snapshot this node just wrote (or read). Errors: the parse's.
  Result<void> Install(const Snapshot& snap) {
    BOOST_OUTCOME_TRY(parsed, parse_(snap));
    std::lock_guard lock(mu_);
    value_ = std::make_shared<const T>(std::move(parsed));
    version_ = snap.version;
    checked_ = std::chrono::steady_clock::now();
    return Ok();
  }

  ConfigStore& store() const { return *store_; }

 private:
  std::shared_ptr<const T> Current() {
    std::lock_guard lock(mu_);
    return value_;
  }

  // Called with refresh_mu_ held.
  void Refresh(std::chrono::steady_clock::time_point now) {
    std::string known;
    {
      std::lock_guard lock(mu_);
      known = version_;
    }
    auto version = store_->Version(doc_);
    if (version && version.value() == known) {
      std::lock_guard lock(mu_);
      checked_ = now;
      failing_ = false;
      return;
    }
    Result<void> fresh = version ? Result<void>(Ok()) : Result<void>(version.error());
    if (version) {
      auto snap = store_->Read(doc_);
      fresh = snap ? Install(snap.value()) : Result<void>(snap.error());
    }
    std::lock_guard lock(mu_);
    checked_ = now;  // a failure is retried after max_age, not at every call
    if (fresh) {
      failing_ = false;
      return;
    }
    if (!failing_) {
      spdlog::error("cannot re-read {}: {}; keeping the copy read before",
                    store_->Describe(doc_), fresh.error().message);
    }
    failing_ = true;
  }

  std::shared_ptr<ConfigStore> store_;
  Doc doc_;
  Parse parse_;
  std::chrono::milliseconds max_age_;

  std::mutex refresh_mu_;  // one re-check at a time
  std::mutex mu_;
  std::shared_ptr<const T> value_;             // GUARDED_BY(mu_)
  std::string version_;                        // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point checked_{};  // GUARDED_BY(mu_)
  bool failing_ = false;                       // GUARDED_BY(mu_)
};

}  // namespace jobtrail::config
