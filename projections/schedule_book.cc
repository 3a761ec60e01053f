#include "projections/schedule_book.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <chrono>

#include "domain/names.h"

namespace jobtrail {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

Error ScheduleNotFound(std::string_view name) {
  return NotFound("SCHEDULE_NOT_FOUND", fmt::format("schedule '{}' not found", name));
}

std::optional<std::string> Str(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember(key) || !v[key].IsString()) return std::nullopt;
  return std::string(v[key].GetString(), v[key].GetStringLength());
}
std::optional<Millis> Ms(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember(key) || !v[key].IsInt64()) return std::nullopt;
  return v[key].GetInt64();
}

void SortByName(std::vector<Schedule>& schedules) {
  std::sort(schedules.begin(), schedules.end(),
            [](const Schedule& a, const Schedule& b) { return a.spec.name < b.spec.name; });
}

// The stored document as it is (a missing next run computed from
// `opened_at`); no catch-up applied.
Result<std::vector<Schedule>> ParseBook(const config::Snapshot& snap, const std::string& where,
                                        Millis opened_at) {
  std::vector<Schedule> out;
  if (!snap.exists) return out;  // no schedules yet
  rapidjson::Document d;
  d.Parse(snap.text.data(), snap.text.size());
  auto bad = [&](const std::string& why) { return DataLoss(fmt::format("{}: {}", where, why)); };
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("schedules") ||
      !d["schedules"].IsArray()) {
    return bad("not a schedule file");
  }
  for (const auto& v : d["schedules"].GetArray()) {
    if (!v.IsObject()) return bad("a schedule is not an object");
    ScheduleSpec spec;
    auto name = Str(v, "name");
    auto cron = Str(v, "cron");
    if (!name || !cron) return bad("a schedule lacks name or cron");
    spec.name = *name;
    spec.cron = *cron;
    spec.display_name = Str(v, "display_name").value_or(spec.name);
    spec.time_zone = Str(v, "time_zone").value_or("UTC");
    spec.job_type = Str(v, "job_type").value_or(spec.name);
    spec.queue = Str(v, "queue").value_or("default");
    spec.payload_json = Str(v, "payload_json").value_or("");
    spec.max_attempts = v.HasMember("max_attempts") && v["max_attempts"].IsInt()
                            ? v["max_attempts"].GetInt()
                            : 1;
    auto catch_up = ParseCatchUp(Str(v, "catch_up").value_or("once"));
    if (!catch_up) return bad("unknown catch_up");
    spec.catch_up = *catch_up;
    auto cron_expr = CronExpression::Parse(spec.cron, spec.time_zone);
    if (!cron_expr) return bad(cron_expr.error().message);
    Schedule s;
    s.spec = std::move(spec);
    s.next_run_at = Ms(v, "next_run_at");
    s.last_fired_at = Ms(v, "last_fired_at");
    s.last_job_id = Str(v, "last_job_id").value_or("");
    if (!s.next_run_at) s.next_run_at = cron_expr.value().NextAfter(opened_at);
    out.push_back(std::move(s));
  }
  SortByName(out);
  return out;
}

// This node's view: runs of "skip" schedules missed before it opened move
// on to the next run after that; "once" keeps the oldest missed run due,
// so it fires once now.
void ApplyCatchUp(std::vector<Schedule>& schedules, Millis opened_at) {
  for (Schedule& s : schedules) {
    if (s.spec.catch_up != CatchUp::kSkip || !s.next_run_at || *s.next_run_at > opened_at) {
      continue;
    }
    auto cron = CronExpression::Parse(s.spec.cron, s.spec.time_zone);
    if (cron) s.next_run_at = cron.value().NextAfter(opened_at);
  }
}

std::string SerializeBook(const std::vector<Schedule>& schedules) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("schedules");
  w.StartArray();
  for (const auto& s : schedules) {
    w.StartObject();
    auto str = [&](const char* k, const std::string& v) {
      w.Key(k);
      w.String(v.c_str(), rapidjson::SizeType(v.size()));
    };
    str("name", s.spec.name);
    str("display_name", s.spec.display_name);
    str("cron", s.spec.cron);
    str("time_zone", s.spec.time_zone);
    str("job_type", s.spec.job_type);
    str("queue", s.spec.queue);
    str("payload_json", s.spec.payload_json);
    w.Key("max_attempts");
    w.Int(s.spec.max_attempts);
    str("catch_up", std::string(CatchUpName(s.spec.catch_up)));
    if (s.next_run_at) {
      w.Key("next_run_at");
      w.Int64(*s.next_run_at);
    }
    if (s.last_fired_at) {
      w.Key("last_fired_at");
      w.Int64(*s.last_fired_at);
    }
    str("last_job_id", s.last_job_id);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string_view CatchUpName(CatchUp c) { return c == CatchUp::kOnce ? "once" : "skip"; }
std::optional<CatchUp> ParseCatchUp(std::string_view name) {
  if (name == "once") return CatchUp::kOnce;
  if (name == "skip") return CatchUp::kSkip;
  return std::nullopt;
}

ScheduleBook::ScheduleBook(std::shared_ptr<config::ConfigStore> store, Millis opened_at)
    : opened_at_(opened_at),
      doc_(store, config::Doc::kSchedules,
           [where = store->Describe(config::Doc::kSchedules),
            opened_at](const config::Snapshot& snap) -> Result<std::vector<Schedule>> {
             BOOST_OUTCOME_TRY(book, ParseBook(snap, where, opened_at));
             ApplyCatchUp(book, opened_at);
             return book;
           },
           std::chrono::milliseconds(0)) {}

Result<std::unique_ptr<ScheduleBook>> ScheduleBook::Open(
    std::shared_ptr<config::ConfigStore> store, Millis now) {
  std::unique_ptr<ScheduleBook> book(new ScheduleBook(std::move(store), now));
  BOOST_OUTCOME_TRYV(book->doc_.Load());
  return book;
}

std::shared_ptr<const ScheduleBook::Schedules> ScheduleBook::Current() const {
  return doc_.Get();
}

Result<void> ScheduleBook::Edit(const std::function<Result<bool>(Schedules&)>& edit) {
  const std::string where = doc_.store().Describe(config::Doc::kSchedules);
  BOOST_OUTCOME_TRY(
      stored, doc_.store().Update(
                  config::Doc::kSchedules,
                  [&](const config::Snapshot& current) -> Result<std::optional<std::string>> {
                    BOOST_OUTCOME_TRY(book, ParseBook(current, where, opened_at_));
                    BOOST_OUTCOME_TRY(changed, edit(book));
                    if (!changed) return std::optional<std::string>();
                    SortByName(book);
                    return std::optional<std::string>(SerializeBook(book));
                  }));
  return doc_.Install(stored);
}

std::vector<Schedule> ScheduleBook::List() const { return *Current(); }

Result<Schedule> ScheduleBook::Get(std::string_view name) const {
  for (const auto& s : *Current()) {
    if (s.spec.name == name) return s;
  }
  return ScheduleNotFound(name);
}

Result<Schedule> ScheduleBook::Put(ScheduleSpec spec, Millis now) {
  if (!ValidName(spec.name)) {
    return InvalidArgument("schedule name must be 1 to 128 of [A-Za-z0-9_.-]");
  }
  if (spec.display_name.empty()) spec.display_name = spec.name;
  if (spec.job_type.empty()) spec.job_type = spec.name;
  if (spec.queue.empty()) spec.queue = "default";
  // The runs it enqueues carry these names (names.h).
  BOOST_OUTCOME_TRYV(CheckName("type", spec.job_type));
  BOOST_OUTCOME_TRYV(CheckName("queue", spec.queue));
  if (spec.max_attempts < 1 || spec.max_attempts > 1000) {
    return InvalidArgument("max_attempts must be between 1 and 1000");
  }
  BOOST_OUTCOME_TRY(cron, CronExpression::Parse(spec.cron, spec.time_zone));
  Schedule s;
  s.spec = std::move(spec);
  s.next_run_at = cron.NextAfter(now);
  BOOST_OUTCOME_TRYV(Edit([&](Schedules& book) -> Result<bool> {
    auto it = std::find_if(book.begin(), book.end(),
                           [&](const Schedule& x) { return x.spec.name == s.spec.name; });
    if (it != book.end()) {
      s.last_fired_at = it->last_fired_at;
      s.last_job_id = it->last_job_id;
      *it = s;
    } else {
      book.push_back(s);
    }
    return true;
  }));
  return s;
}

Result<void> ScheduleBook::Remove(std::string_view name) {
  return Edit([&](Schedules& book) -> Result<bool> {
    auto it = std::find_if(book.begin(), book.end(),
                           [&](const Schedule& x) { return x.spec.name == name; });
    if (it == book.end()) return ScheduleNotFound(name);
    book.erase(it);
    return true;
  });
}

std::vector<std::pair<Schedule, Millis>> ScheduleBook::Due(Millis now) const {
  std::vector<std::pair<Schedule, Millis>> due;
  for (const auto& s : *Current()) {
    if (s.next_run_at && *s.next_run_at <= now) due.emplace_back(s, *s.next_run_at);
  }
  return due;
}

Result<void> ScheduleBook::MarkFired(std::string_view name, Millis fired_for, Millis now,
                                     const std::string& job_id) {
  return Edit([&](Schedules& book) -> Result<bool> {
    for (auto& s : book) {
      if (s.spec.name != name) continue;
      // Another node fired this run (or a later one) and moved it on.
      if (s.next_run_at && *s.next_run_at > fired_for) return false;
      BOOST_OUTCOME_TRY(cron, CronExpression::Parse(s.spec.cron, s.spec.time_zone));
      s.last_fired_at = fired_for;
      s.last_job_id = job_id;
      // One run per tick: a schedule that fell behind does not fire a burst.
      s.next_run_at = cron.NextAfter(std::max(fired_for, now));
      return true;
    }
    return ScheduleNotFound(name);
  });
}

}  // namespace jobtrail
