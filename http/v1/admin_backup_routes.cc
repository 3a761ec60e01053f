// Backups over HTTP, for admins (no row in route_access.cc: admin-only):
//   POST /v1/admin/backup            {"name": "..."} -> 202 and the status
//   GET  /v1/admin/backups           every backup in the directory
//   GET  /v1/admin/backups/{name}    one backup's status (poll until done)
// The directory is the operator's (`serve --backup-dir`); a request names
// only a sub-directory (BackupJobs::ValidName).
#include <rapidjson/document.h>

#include "http/v1/api_routes.h"
#include "http/v1/backup_jobs.h"
#include "http/server/error_mapping.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/query_parsing.h"
#include "http/v1/route_binding.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

std::string StatusUrl(const std::string& name) { return "/v1/admin/backups/" + name; }

void WriteStatus(JsonWriter& w, const BackupStatus& s) {
  w.StartObject().Field("name", s.name).Field("status", s.state);
  w.StringOrNull("phase", s.phase);
  w.Key("started_at");
  s.started_at ? w.String(FormatTime(*s.started_at)) : w.Null();
  w.Key("finished_at");
  s.finished_at ? w.String(FormatTime(*s.finished_at)) : w.Null();
  w.Field("log_position", s.log_position).Field("views_position", s.views_position);
  w.StringOrNull("error_code", s.error_code);
  w.Field("status_url", StatusUrl(s.name)).EndObject();
}

ApiResult<BackupJobs*> Backups(ApiContext& ctx) {
  if (!ctx.backups) {
    return ApiError(MakeError(Code::kFailedPrecondition, "BACKUP_NOT_CONFIGURED",
                              "backups over HTTP are off: start the server with --backup-dir"));
  }
  return ctx.backups.get();
}

ApiResult<HttpResponse> StartBackup(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  if (request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc.SetObject();
  } else {
    BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  }
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(name, r.String("name", 100));
  BOOST_OUTCOME_TRYV(r.Finish());
  if (name && name->empty()) return InvalidField("name", "name must not be empty");
  BOOST_OUTCOME_TRY(backups, Backups(ctx));
  auto started = backups->Start(name.value_or(""));
  if (!started) {
    if (started.error().code == Code::kInvalidArgument) {
      return InvalidField("name", started.error().message);
    }
    return ApiError(started.error());
  }
  JsonWriter w;
  WriteStatus(w, started.value());
  HttpResponse out = JsonResponse(202, w.Take());
  out.With("Location", StatusUrl(started.value().name));
  return out;
}

ApiResult<HttpResponse> GetBackup(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(backups, Backups(ctx));
  const std::string* name = request.Param("name");
  BOOST_OUTCOME_TRY(status, backups->Get(name != nullptr ? *name : ""));
  JsonWriter w;
  WriteStatus(w, status);
  HttpResponse out = JsonResponse(200, w.Take());
  out.With("Cache-Control", "no-store");
  return out;
}

ApiResult<HttpResponse> ListBackups(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(backups, Backups(ctx));
  JsonWriter w;
  w.StartObject().Key("backups").StartArray();
  for (const BackupStatus& s : backups->List()) WriteStatus(w, s);
  w.EndArray().EndObject();
  HttpResponse out = JsonResponse(200, w.Take());
  out.With("Cache-Control", "no-store");
  return out;
}

}  // namespace

void AddAdminRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/admin/backup", Bind(ctx, StartBackup));
  router.Add("GET", "/v1/admin/backups", Bind(ctx, ListBackups));
  router.Add("GET", "/v1/admin/backups/{name}", Bind(ctx, GetBackup));
}

}  // namespace jobtrail::http
