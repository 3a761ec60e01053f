#include "projections/schedule_book.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "domain/names.h"
#include "projections/projector.h"  // StorageUnavailable

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

}  // namespace

std::string_view CatchUpName(CatchUp c) { return c == CatchUp::kOnce ? "once" : "skip"; }
std::optional<CatchUp> ParseCatchUp(std::string_view name) {
  if (name == "once") return CatchUp::kOnce;
  if (name == "skip") return CatchUp::kSkip;
  return std::nullopt;
}

Result<std::unique_ptr<ScheduleBook>> ScheduleBook::Open(const std::string& path, Millis now) {
  std::unique_ptr<ScheduleBook> book(new ScheduleBook(path));
  std::ifstream in(path);
  if (!in) return book;  // no schedules yet
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document d;
  d.Parse(text.str().c_str());
  auto bad = [&](const std::string& why) {
    return DataLoss(fmt::format("{}: {}", path, why));
  };
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
    if (!s.next_run_at) s.next_run_at = cron_expr.value().NextAfter(now);
    // Missed while down: "skip" moves on to the next future run; "once"
    // keeps the oldest missed run due, so it fires once now.
    if (s.spec.catch_up == CatchUp::kSkip && s.next_run_at && *s.next_run_at <= now) {
      s.next_run_at = cron_expr.value().NextAfter(now);
    }
    book->schedules_.push_back(std::move(s));
  }
  std::sort(book->schedules_.begin(), book->schedules_.end(),
            [](const Schedule& a, const Schedule& b) { return a.spec.name < b.spec.name; });
  return book;
}

std::vector<Schedule> ScheduleBook::List() const {
  std::lock_guard lock(mu_);
  return schedules_;
}

Result<Schedule> ScheduleBook::Get(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& s : schedules_) {
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
  std::lock_guard lock(mu_);
  Schedule s;
  s.spec = std::move(spec);
  s.next_run_at = cron.NextAfter(now);
  auto it = std::find_if(schedules_.begin(), schedules_.end(),
                         [&](const Schedule& x) { return x.spec.name == s.spec.name; });
  if (it != schedules_.end()) {
    s.last_fired_at = it->last_fired_at;
    s.last_job_id = it->last_job_id;
    *it = s;
  } else {
    schedules_.push_back(s);
    std::sort(schedules_.begin(), schedules_.end(),
              [](const Schedule& a, const Schedule& b) { return a.spec.name < b.spec.name; });
  }
  BOOST_OUTCOME_TRYV(SaveLocked());
  return s;
}

Result<void> ScheduleBook::Remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(schedules_.begin(), schedules_.end(),
                         [&](const Schedule& x) { return x.spec.name == name; });
  if (it == schedules_.end()) return ScheduleNotFound(name);
  schedules_.erase(it);
  return SaveLocked();
}

std::vector<std::pair<Schedule, Millis>> ScheduleBook::Due(Millis now) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<Schedule, Millis>> due;
  for (const auto& s : schedules_) {
    if (s.next_run_at && *s.next_run_at <= now) due.emplace_back(s, *s.next_run_at);
  }
  return due;
}

Result<void> ScheduleBook::MarkFired(std::string_view name, Millis fired_for, Millis now,
                                     const std::string& job_id) {
  std::lock_guard lock(mu_);
  for (auto& s : schedules_) {
    if (s.spec.name != name) continue;
    BOOST_OUTCOME_TRY(cron, CronExpression::Parse(s.spec.cron, s.spec.time_zone));
    s.last_fired_at = fired_for;
    s.last_job_id = job_id;
    // One run per tick: a schedule that fell behind does not fire a burst.
    s.next_run_at = cron.NextAfter(std::max(fired_for, now));
    return SaveLocked();
  }
  return ScheduleNotFound(name);
}

Result<void> ScheduleBook::SaveLocked() const {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("schedules");
  w.StartArray();
  for (const auto& s : schedules_) {
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
  const std::string tmp = path_ + ".tmp";
  // A full or failing disk is temporary (503 STORAGE_UNAVAILABLE, like the
  // log's); anything else is a 500 naming the file in the server log.
  auto failed = [&](const char* what) -> Error {
    const int err = errno;
    ::unlink(tmp.c_str());  // give the room back
    if (err == ENOSPC || err == EDQUOT || err == EIO) return StorageUnavailable();
    return Internal(fmt::format("cannot {} {}: {}", what, tmp, std::strerror(err)));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return failed("create");
  const char* data = buf.GetString();
  size_t left = buf.GetSize();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n <= 0) {
      if (n == 0) errno = EIO;
      Error e = failed("write");
      ::close(fd);
      return e;
    }
    data += n;
    left -= size_t(n);
  }
  if (::fsync(fd) != 0) {
    Error e = failed("sync");
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) return failed("rename");
  return Ok();
}

}  // namespace jobtrail
