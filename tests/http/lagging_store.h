#pragma once
// A JobStore whose read models lag behind its log, deterministically: every
// call goes to a real store, except that the jobs in `lagging` are not yet
// in the read models — Status, StatusJson, Logs and FindByExternalRef answer
// JOB_NOT_FOUND for them and lists leave them out — while the log (LoadJob,
// History, AuditHistory, writes) has them. That is a server right after a
// restart with rebuilt views, frozen in the middle of its catch-up.
#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "projections/job_store.h"

namespace jobtrail::testing {

class LaggingStore : public JobStore {
 public:
  explicit LaggingStore(std::unique_ptr<JobStore> real) : real_(std::move(real)) {}

  std::set<std::string, std::less<>> lagging;  // set before serving

  Result<WriteOutcome> Enqueue(EnqueueRequest r) override { return real_->Enqueue(std::move(r)); }
  Result<WriteOutcome> Append(AppendRequest r) override { return real_->Append(std::move(r)); }
  std::vector<Result<WriteOutcome>> WriteMany(std::vector<WriteCommand> c) override {
    return real_->WriteMany(std::move(c));
  }
  Result<ClaimOutcome> AppendAndClaim(std::vector<AppendRequest> a,
                                      const ClaimRequest& r) override {
    return real_->AppendAndClaim(std::move(a), r);
  }
  Result<WebhookAttemptPage> WebhookAttempts(std::string_view id, uint64_t before,
                                             size_t limit) override {
    return real_->WebhookAttempts(id, before, limit);
  }
  Result<EventPage> ReadHistory(std::string_view id, uint64_t after, size_t limit) override {
    return real_->ReadHistory(id, after, limit);  // from the log, like History
  }
  Result<std::string> StatusJson(std::string_view id) override {
    if (Lags(id)) return Missing(id);
    return real_->StatusJson(id);
  }
  Result<StatusDocument> Status(std::string_view id) override {
    if (Lags(id)) return Missing(id);
    return real_->Status(id);
  }
  Result<JobView> LoadJob(std::string_view id, std::optional<uint64_t> v) override {
    return real_->LoadJob(id, v);
  }
  Result<std::vector<RecordedEvent>> History(std::string_view id) override {
    return real_->History(id);
  }
  Result<std::vector<RecordedEvent>> AuditHistory(std::string_view id) override {
    return real_->AuditHistory(id);
  }
  Result<JobLogs> Logs(std::string_view id, LogLevel level) override {
    if (Lags(id)) return Missing(id);
    return real_->Logs(id, level);
  }
  Result<std::string> FindByExternalRef(std::string_view ref) override {
    auto id = real_->FindByExternalRef(ref);
    if (id && Lags(id.value())) return NotFound("JOB_NOT_FOUND", "no job with that reference");
    return id;
  }
  Result<std::vector<RecordedEvent>> Feed(uint64_t after, size_t limit) override {
    return real_->Feed(after, limit);
  }
  Result<ListPage> List(const ListQuery& q) override {
    BOOST_OUTCOME_TRY(page, real_->List(q));
    const size_t before = page.items_json.size();
    std::erase_if(page.items_json, [&](const std::string& json) {
      return std::any_of(lagging.begin(), lagging.end(), [&](const std::string& id) {
        return json.find("\"" + id + "\"") != std::string::npos;
      });
    });
    page.total -= std::min<uint64_t>(page.total, before - page.items_json.size());
    return page;
  }
  Result<std::vector<ClaimedJob>> Claim(const ClaimRequest& r) override { return real_->Claim(r); }
  Result<HeartbeatOutcome> Heartbeat(const HeartbeatRequest& r) override {
    return real_->Heartbeat(r);
  }
  Result<MaintenanceReport> RunMaintenance(const MaintenanceOptions& o) override {
    return real_->RunMaintenance(o);
  }
  Result<std::vector<ScheduleView>> ListSchedules() override { return real_->ListSchedules(); }
  Result<ScheduleView> GetSchedule(std::string_view n) override { return real_->GetSchedule(n); }
  Result<ScheduleView> PutSchedule(ScheduleSpec s) override {
    return real_->PutSchedule(std::move(s));
  }
  Result<void> DeleteSchedule(std::string_view n) override { return real_->DeleteSchedule(n); }
  Result<WriteOutcome> TriggerSchedule(std::string_view n, const std::string& actor) override {
    return real_->TriggerSchedule(n, actor);
  }
  Result<size_t> RunDueSchedules() override { return real_->RunDueSchedules(); }
  StatsSnapshot Stats() override { return real_->Stats(); }
  HealthReport Health() override { return real_->Health(); }
  StoreVitals Vitals() override { return real_->Vitals(); }
  ProjectionProgress Progress() override {
    ProjectionProgress p = real_->Progress();
    if (!lagging.empty()) p.ready = false;
    return p;
  }
  const Clock& clock() const override { return real_->clock(); }
  Result<void> Rebuild(const std::function<void(uint64_t, uint64_t)>& progress) override {
    return real_->Rebuild(progress);
  }
  Result<VerifyReport> Verify(const std::function<void(uint64_t, uint64_t)>& progress) override {
    return real_->Verify(progress);
  }

 private:
  bool Lags(std::string_view id) const { return lagging.count(id) > 0; }
  static Error Missing(std::string_view id) {
    return NotFound("JOB_NOT_FOUND", "job '" + std::string(id) + "' not found");
  }
  std::unique_ptr<JobStore> real_;
};

}  // namespace jobtrail::testing
