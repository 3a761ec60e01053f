#pragma once
// Who is asking: the principal an authenticated request acts as.
//
//   admin   everything, every owner's jobs.
//   worker  a processing service: enqueue (jobs it then owns), claim,
//           append, heartbeat, cancel; reads any job by id (a claim hands
//           it whole documents anyway); lists and the feed show only the
//           jobs it owns.
//   reader  reads only, and only jobs whose owner is its subject.
// A share link is a reader scoped to one job (share_job), read-only.
//
// Plain value; no behaviour beyond the role checks below.
#include <string>
#include <string_view>

namespace jobtrail::http {

enum class Role { kReader = 0, kWorker = 1, kAdmin = 2 };

// How the principal proved who it is.
enum class CredentialKind { kNone, kApiKey, kJwt, kShareLink, kInsecure };

inline std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kWorker: return "worker";
    case Role::kReader: return "reader";
  }
  return "reader";
}

inline bool ParseRole(std::string_view name, Role& out) {
  if (name == "admin") out = Role::kAdmin;
  else if (name == "worker") out = Role::kWorker;
  else if (name == "reader") out = Role::kReader;
  else return false;
  return true;
}

struct Principal {
  Role role = Role::kReader;
  // The owner this principal acts as (a JWT's `sub`, an API key's owner).
  // Jobs it enqueues get this owner unless an admin names another.
  std::string subject;
  std::string key_id;     // API key id; empty otherwise
  std::string share_job;  // a share link: the one job it may read
  CredentialKind kind = CredentialKind::kNone;

  bool authenticated() const { return kind != CredentialKind::kNone; }
  bool admin() const { return authenticated() && role == Role::kAdmin; }
  bool worker_or_admin() const { return authenticated() && role >= Role::kWorker; }
  bool share_link() const { return kind == CredentialKind::kShareLink; }

  // May this principal see a job owned by `owner` (id `job_id`)?
  bool MayRead(std::string_view job_id, std::string_view owner) const {
    if (!authenticated()) return false;
    if (share_link()) return job_id == share_job;
    if (role >= Role::kWorker) return true;
    return owner == subject;
  }
  // Is this principal the job's owner, or an admin?
  bool OwnsOrAdmin(std::string_view owner) const {
    if (!authenticated() || share_link()) return false;
    return role == Role::kAdmin || owner == subject;
  }
};

}  // namespace jobtrail::http
