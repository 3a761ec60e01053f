#include "http/v1/query_parsing.h"

#include <fmt/format.h>

#include "domain/job_id.h"
#include "domain/names.h"
#include "http/server/error_mapping.h"
#include "http/server/ids.h"
#include "http/server/json_writer.h"
#include "http/v1/request_parsing.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

std::string StatusesJson() {
  JsonWriter w;
  w.StartArray();
  for (JobStatus s : kAllStatuses) w.String(StatusName(s));
  w.EndArray();
  return w.Take();
}

ApiResult<std::optional<Millis>> TimeParam(const HttpRequest& request,
                                           std::string_view name) {
  const std::string* text = request.Query(name);
  if (text == nullptr) return std::optional<Millis>();
  auto t = ParseTime(*text);
  if (!t) {
    return InvalidParameter(
        name, fmt::format("must be an RFC 3339 time or milliseconds since the epoch, got '{}'",
                          *text));
  }
  return std::optional<Millis>(*t);
}

ApiResult<std::vector<JobStatus>> StatusList(std::string_view text) {
  std::vector<JobStatus> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string_view::npos) j = text.size();
    const std::string_view name = text.substr(i, j - i);
    auto status = ParseStatus(name);
    if (!status) {
      return InvalidParameter("status", fmt::format("unknown status '{}'", name),
                              StatusesJson());
    }
    out.push_back(*status);
    i = j + 1;
  }
  return out;
}

std::string_view StripWeak(std::string_view tag) {
  if (tag.size() >= 2 && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
    tag = tag.substr(1, tag.size() - 2);
  }
  return tag;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ApiResult<ListQuery> ParseListQuery(const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(
      request, {"status", "type", "queue", "owner", "external_ref", "created_after",
                "created_before", "sort", "order", "limit", "skip", "cursor"}));
  ListQuery q;
  if (const std::string* status = request.Query("status")) {
    BOOST_OUTCOME_TRY(statuses, StatusList(*status));
    q.statuses = std::move(statuses);
  }
  // Names are index key parts: one with a control character names nothing
  // (domain/names.h) and must not reach a key prefix.
  for (auto [name, field] : {std::pair{"type", &q.type}, std::pair{"queue", &q.queue},
                             std::pair{"owner", &q.owner},
                             std::pair{"external_ref", &q.external_ref}}) {
    const std::string* v = request.Query(name);
    if (v == nullptr) continue;
    if (!IsValidName(*v)) {
      return InvalidParameter(name, fmt::format("must be at most {} bytes without control "
                                                "characters", kMaxNameLength));
    }
    *field = *v;
  }
  BOOST_OUTCOME_TRY(after, TimeParam(request, "created_after"));
  BOOST_OUTCOME_TRY(before, TimeParam(request, "created_before"));
  q.created_after = after;
  q.created_before = before;
  if (const std::string* sort = request.Query("sort")) {
    if (*sort == "created") {
      q.sort = SortField::kCreated;
    } else if (*sort == "updated") {
      q.sort = SortField::kUpdated;
    } else {
      return InvalidParameter("sort", fmt::format("unknown sort field '{}'", *sort),
                              AllowedJson({"created", "updated"}));
    }
  }
  if (const std::string* order = request.Query("order")) {
    if (*order != "asc" && *order != "desc") {
      return InvalidParameter("order", fmt::format("unknown order '{}'", *order),
                              AllowedJson({"asc", "desc"}));
    }
    q.descending = *order == "desc";
  }
  BOOST_OUTCOME_TRY(limit, ParseUintParameter(request, "limit", 1, kMaxListLimit));
  BOOST_OUTCOME_TRY(skip, ParseUintParameter(request, "skip", 0, 1'000'000'000));
  if (skip.value_or(0) > kMaxListSkip) {
    return InvalidParameter(
        "skip", fmt::format("must be at most {}, got {}: page further with cursor (each "
                            "page's next_cursor), which does not walk the skipped jobs",
                            kMaxListSkip, *skip));
  }
  q.limit = limit.value_or(kDefaultListLimit);
  q.skip = skip.value_or(0);
  if (const std::string* cursor = request.Query("cursor")) q.cursor = *cursor;
  return q;
}

ApiResult<FeedQuery> ParseFeedQuery(const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"after", "limit"}));
  FeedQuery q;
  BOOST_OUTCOME_TRY(after, ParseUintParameter(request, "after", 0, UINT64_MAX));
  BOOST_OUTCOME_TRY(limit, ParseUintParameter(request, "limit", 1, kMaxFeedLimit));
  q.after = after.value_or(0);
  q.limit = limit.value_or(kDefaultFeedLimit);
  return q;
}

ApiResult<std::string> JobIdParam(const HttpRequest& request) {
  const std::string* id = request.Param("id");
  if (id == nullptr || !IsValidJobId(*id)) {
    JsonWriter d;
    d.StartObject().Field("parameter", "id").EndObject();
    return ApiError(MakeError(Code::kInvalidArgument, "INVALID_JOB_ID",
                              fmt::format("a job id is {}", kJobIdRule)),
                    d.Take());
  }
  return *id;
}

ApiResult<std::optional<uint64_t>> ParseAtVersion(const HttpRequest& request) {
  return ParseUintParameter(request, "at_version", 1, UINT64_MAX);
}

ApiResult<LogLevel> ParseMinLevel(const HttpRequest& request) {
  const std::string* text = request.Query("level");
  if (text == nullptr) return LogLevel::kTrace;
  auto level = ParseLogLevel(*text);
  if (!level) {
    return InvalidParameter("level", fmt::format("unknown log level '{}'", *text),
                            LogLevelsJson());
  }
  return *level;
}

ApiResult<std::optional<uint64_t>> ParseIfMatch(const HttpRequest& request) {
  auto header = request.Header("If-Match");
  if (!header) return std::optional<uint64_t>();
  const std::string_view text = Trim(*header);
  if (text == "*") return std::optional<uint64_t>();
  auto v = ParseUint(StripWeak(text));
  if (!v) {
    return InvalidHeader("If-Match",
                         fmt::format("must be the job's version as its ETag gives it "
                                     "(e.g. \"3\"), got '{}'",
                                     text));
  }
  return std::optional<uint64_t>(*v);
}

bool IfNoneMatchHits(const HttpRequest& request, uint64_t version) {
  auto header = request.Header("If-None-Match");
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view tag = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag == "*") return true;
    if (auto v = ParseUint(StripWeak(tag)); v && *v == version) return true;
  }
  return false;
}

std::string VersionETag(uint64_t version) { return fmt::format("\"{}\"", version); }

}  // namespace jobtrail::http
