// `jobtrail keys create|list|revoke`: API keys in <data-dir>/keys.json, or,
// with --log postgresql://..., in the configuration every node on that log
// shares (config/config_store.h; http/security/key_store.h). The key is
// printed once, alone on stdout, so that `KEY=$(jobtrail keys create ...)`
// works; everything else goes to stderr. Safe while servers run: changes
// are atomic read-modify-writes, and servers re-read the keys within a second.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "domain/clock.h"
#include "http/cli/commands.h"
#include "http/security/key_store.h"
#include "projections/job_json.h"

namespace jobtrail::cli {
namespace {

Millis Now() { return SystemClock().Now(); }

// keys.json lives in a data directory: make one (log/ and views/) if it
// is not there yet, so that the key can be created before the first
// `serve`, and a foreign directory is refused the same way serve refuses it.
// A directory that already has a log is left alone (a server may hold it).
// With --log the keys are in PostgreSQL: no directory is needed.
bool PrepareDir(const KeysFlags& flags) {
  if (!flags.log.empty()) return CheckSharedSchema(flags.log);
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(flags.data_dir) / "log", ec)) return true;
  StoreFlags store;
  store.data_dir = flags.data_dir;
  return OpenStore(store, /*create=*/true) != nullptr;
}

int Fail(const Error& e) {
  std::cerr << "jobtrail: " << e.message << "\n";
  return e.code == Code::kInvalidArgument ? 2 : 1;
}

}  // namespace

int KeysCreate(const KeysFlags& flags) {
  http::Role role;
  if (!http::ParseRole(flags.role, role)) {
    std::cerr << "jobtrail: --role must be admin, worker or reader\n";
    return 2;
  }
  if (!PrepareDir(flags)) return 1;
  auto config = ConfigFor(flags.log, flags.data_dir);
  std::optional<http::KeyStore::Created> created;
  auto stored = http::KeyStore::Edit(*config, [&](http::KeyStore& keys) -> Result<void> {
    BOOST_OUTCOME_TRY(made, keys.Create(role, flags.owner, flags.label, Now()));
    created = std::move(made);
    return Ok();
  });
  if (!stored) return Fail(stored.error());
  const http::ApiKeyRecord& r = created->record;
  std::cout << created->key << std::endl;
  std::cerr << fmt::format(
      "created key {} (role {}, owner {}) in {}. It is shown only this once: store it now.\n",
      r.id, http::RoleName(r.role), r.owner, config->Describe(config::Doc::kApiKeys));
  return 0;
}

int KeysList(const KeysFlags& flags) {
  if (!flags.log.empty() && !CheckSharedSchema(flags.log)) return 1;
  auto config = ConfigFor(flags.log, flags.data_dir);
  auto read = config->Read(config::Doc::kApiKeys);
  if (!read) return Fail(read.error());
  auto store = http::KeyStore::FromSnapshot(config->Describe(config::Doc::kApiKeys), read.value());
  if (!store) return Fail(store.error());
  std::cout << fmt::format("{:<16}  {:<6}  {:<24}  {:<24}  {:<24}  {}\n", "ID", "ROLE", "OWNER",
                           "CREATED", "REVOKED", "LABEL");
  for (const http::ApiKeyRecord& k : store.value().keys()) {
    std::cout << fmt::format("{:<16}  {:<6}  {:<24}  {:<24}  {:<24}  {}\n", k.id,
                             http::RoleName(k.role), k.owner, FormatTime(k.created_at),
                             k.revoked_at ? FormatTime(*k.revoked_at) : "-", k.label);
  }
  return 0;
}

int KeysRevoke(const KeysFlags& flags, const std::string& id) {
  if (!flags.log.empty() && !CheckSharedSchema(flags.log)) return 1;
  auto config = ConfigFor(flags.log, flags.data_dir);
  auto stored = http::KeyStore::Edit(
      *config, [&](http::KeyStore& keys) { return keys.Revoke(id, Now()); });
  if (!stored) {
    std::cerr << "jobtrail: " << stored.error().message << "\n";
    return 1;
  }
  std::cerr << "revoked key " << id
            << (config->shared() ? " (every node stops accepting it within a second)\n"
                                 : " (a running server stops accepting it within a second)\n");
  return 0;
}

}  // namespace jobtrail::cli
