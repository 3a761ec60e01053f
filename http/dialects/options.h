#pragma once
// Options of the seed dialects (SPEC §5 "Dialects"): the five seed APIs
// answered at their documented paths, next to the canonical /v1 API.
//
// Each dialect sees only its own jobs (the scope below), so it never lists,
// counts or answers another dialect's or /v1's jobs. Routes a seed documents
// without authentication need credentials unless the operator opts in to
// the seed's internal-use behaviour for that dialect (public_dialects).
#include <set>
#include <string>
#include <string_view>

namespace jobtrail::http {

struct DialectOptions {
  bool enabled = true;
  // Prepended to every dialect path ("" mounts them at the seeds' own
  // paths, e.g. "/api/jobs"; "/compat" gives "/compat/api/jobs").
  std::string prefix;
  // Seed 001: register its five worker job types as schedules at start
  // (existing schedules of the same name are left as they are).
  bool seed_001_schedules = true;
  // Seed 002's cron route checks x-webhook-secret against
  // SecurityOptions::webhook_secret (ApiContext::webhook_secret).

  // The dialects' scopes. 001 sees runs of registered schedule types and
  // 002 its five kinds (job types of the same names); these are the others.
  std::string forms_queue = "forms";             // 000: the form queue's jobs
  std::string pdf_chapter_type = "pdf_chapter";  // 003: jobs of this type
  std::string relay_queue = "flickr_rest";       // 004: the relay queue's jobs

  // Seeds ("000", "001", "002", "004") whose routes documented without
  // authentication answer anyone, as the seed does for internal use:
  // 000's status, list and stats; 001's status, runs and run; 002's job
  // status and starts of the kinds that take no user; 004's POST status
  // (the owner named in the body). Off by default: those routes need
  // credentials, and a reader sees only its own jobs.
  std::set<std::string, std::less<>> public_dialects;

  bool IsPublic(std::string_view seed) const { return public_dialects.count(seed) > 0; }
};

}  // namespace jobtrail::http
