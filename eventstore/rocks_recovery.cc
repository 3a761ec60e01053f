#include "eventstore/rocks_recovery.h"

#include <algorithm>

namespace jobtrail::eventstore {

std::string StorageReason(const rocksdb::Status& s) {
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::SubCode::kSpaceLimit) return "no_space";
  if (s.IsCorruption()) return "corruption";
  return "io_error";
}

struct RocksRecovery::State {
  std::string name;
  std::shared_ptr<rocksdb::Logger> log;
  std::atomic<bool> writable{true};
  std::mutex mu;
  std::condition_variable cv;  // health changed, or stop
  bool stop = false;              // GUARDED_BY(mu)
  bool pending = false;           // GUARDED_BY(mu): something to resume from
  uint64_t generation = 0;        // GUARDED_BY(mu): failures seen so far
  StorageHealth health;           // GUARDED_BY(mu)

  // Records a failure; `stops_writes` for hard errors and foreground ones.
  void Record(const rocksdb::Status& s, bool stops_writes, const char* where) {
    bool first = false;
    {
      std::lock_guard lock(mu);
      pending = true;
      ++generation;
      if (stops_writes && health.writable) {
        health.writable = false;
        health.reason = StorageReason(s);
        health.detail = s.ToString();
        ++health.failures;
        writable.store(false, std::memory_order_release);
        first = true;
      }
    }
    cv.notify_all();
    if (first) {
      rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, log,
                   "%s cannot write (%s, %s): %s; writes are refused (503 "
                   "STORAGE_UNAVAILABLE) and retried until it can",
                   name.c_str(), StorageReason(s).c_str(), where, s.ToString().c_str());
    }
  }
};

class RocksRecovery::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  const char* Name() const override { return "JobtrailRecovery"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    using Severity = rocksdb::Status::Severity;
    // An I/O error while writing is "fatal" in RocksDB's table (DB::Resume
    // refuses it), a full disk "hard". The recovery is the same for both:
    // flush the memtables into new files, start a new WAL. Corruption and
    // lost data stay unrecoverable.
    if (!error->IsCorruption() && error->severity() == Severity::kFatalError &&
        error->IsIOError()) {
      *error = rocksdb::Status(*error, Severity::kHardError);
    }
    {
      std::lock_guard lock(state_->mu);
      ++state_->health.background_errors;
    }
    const bool stops = error->severity() >= Severity::kHardError;
    state_->Record(*error, stops, ReasonName(reason));
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    // RecoveryThread resumes; two recoveries at once would race.
    if (auto_recovery != nullptr) *auto_recovery = false;
  }

 private:
  static const char* ReasonName(rocksdb::BackgroundErrorReason r) {
    switch (r) {
      case rocksdb::BackgroundErrorReason::kFlush: return "flushing a memtable";
      case rocksdb::BackgroundErrorReason::kCompaction: return "compacting";
      case rocksdb::BackgroundErrorReason::kWriteCallback: return "writing the WAL";
      case rocksdb::BackgroundErrorReason::kMemTable: return "writing a memtable";
      case rocksdb::BackgroundErrorReason::kManifestWrite: return "writing the MANIFEST";
      case rocksdb::BackgroundErrorReason::kFlushNoWAL: return "flushing a memtable";
      case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL: return "writing the MANIFEST";
    }
    return "in the background";
  }
  std::shared_ptr<State> state_;
};

RocksRecovery::RocksRecovery(std::string name, std::shared_ptr<rocksdb::Logger> log)
    : state_(std::make_shared<State>()), writable_(state_->writable) {
  state_->name = std::move(name);
  state_->log = std::move(log);
}

RocksRecovery::~RocksRecovery() { Stop(); }

void RocksRecovery::Configure(rocksdb::DBOptions& options) {
  options.listeners.push_back(std::make_shared<Listener>(state_));
  options.max_bgerror_resume_count = 0;  // RocksDB's retry thread: ours instead
  if (state_->log) options.info_log = state_->log;
}

void RocksRecovery::Start(std::function<rocksdb::Status()> resume) {
  resume_ = std::move(resume);
  {
    std::lock_guard lock(state_->mu);
    state_->stop = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void RocksRecovery::Stop() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RocksRecovery::ReportFailure(const rocksdb::Status& s) {
  state_->Record(s, /*stops_writes=*/true, "a foreground write");
}

StorageHealth RocksRecovery::Health() const {
  std::lock_guard lock(state_->mu);
  return state_->health;
}

bool RocksRecovery::WaitWritable(std::chrono::steady_clock::time_point deadline,
                                 const std::atomic<bool>* stop) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_until(lock, deadline, [&] {
    return state_->health.writable || state_->stop || (stop != nullptr && stop->load());
  });
  return state_->health.writable;
}

void RocksRecovery::Wake() {
  { std::lock_guard lock(state_->mu); }
  state_->cv.notify_all();
}

void RocksRecovery::Run() {
  State& st = *state_;
  auto backoff = kFirstRetry;
  uint64_t attempts = 0;
  std::unique_lock lock(st.mu);
  for (;;) {
    st.cv.wait(lock, [&] { return st.stop || st.pending; });
    if (st.stop) return;
    // Let the failure settle (RocksDB is still handling it) and do not spin
    // on a disk that stays full.
    const auto next = std::chrono::steady_clock::now() + backoff;
    st.cv.wait_until(lock, next, [&] { return st.stop; });
    if (st.stop) return;
    const uint64_t generation = st.generation;
    lock.unlock();
    rocksdb::Status s = resume_();
    ++attempts;
    lock.lock();
    if (s.ok() && st.generation == generation) {
      st.pending = false;
      if (!st.health.writable) {
        st.health.writable = true;
        ++st.health.recoveries;
        st.writable.store(true, std::memory_order_release);
        rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, st.log,
                     "%s writes again after %llu attempt(s)", st.name.c_str(),
                     static_cast<unsigned long long>(attempts));
      }
      st.health.reason.clear();
      st.health.detail.clear();
      attempts = 0;
      backoff = kFirstRetry;
      lock.unlock();
      st.cv.notify_all();
      lock.lock();
      continue;
    }
    if (!s.ok()) {
      if (attempts == 1 || attempts % 30 == 0) {
        rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, st.log,
                     "%s still cannot write (attempt %llu): %s", st.name.c_str(),
                     static_cast<unsigned long long>(attempts), s.ToString().c_str());
      }
      if (st.health.writable) {
        // A background error that did not stop writes (a soft one) whose
        // resume failed: keep trying, writes go on meanwhile.
      } else if (s.IsCorruption() || s.severity() >= rocksdb::Status::Severity::kFatalError) {
        st.health.reason = StorageReason(s);
        st.health.detail = s.ToString();
      }
    }
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxRetry);
  }
}

}  // namespace jobtrail::eventstore
