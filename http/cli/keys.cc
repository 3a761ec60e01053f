// `jobtrail keys create|list|revoke`: API keys in <data-dir>/keys.json
// (http/key_store.h). The key is printed once, alone on stdout, so that
// `KEY=$(jobtrail keys create ...)` works; everything else goes to stderr.
// Safe while the server runs: it re-reads the file when it changes.
#include <fmt/format.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "domain/clock.h"
#include "http/cli/commands.h"
#include "http/security/key_store.h"
#include "projections/job_json.h"

namespace jobtrail::cli {
namespace {

// Serializes concurrent `keys` commands on one data directory.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Millis Now() { return SystemClock().Now(); }

// keys.json lives in a data directory: make one (log/ and views/) if it
// is not there yet, so that the key can be created before the first
// `serve`, and a foreign directory is refused the same way serve refuses it.
// A directory that already has a log is left alone (a server may hold it).
bool PrepareDir(const std::string& data_dir) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(data_dir) / "log", ec)) return true;
  StoreFlags store;
  store.data_dir = data_dir;
  return OpenStore(store, /*create=*/true) != nullptr;
}

}  // namespace

int KeysCreate(const KeysFlags& flags) {
  http::Role role;
  if (!http::ParseRole(flags.role, role)) {
    std::cerr << "jobtrail: --role must be admin, worker or reader\n";
    return 2;
  }
  if (!PrepareDir(flags.data_dir)) return 1;
  FileLock lock(http::KeyStore::PathIn(flags.data_dir) + ".lock");
  if (!lock.ok()) {
    std::cerr << "jobtrail: cannot lock the keys file\n";
    return 1;
  }
  auto store = http::KeyStore::Load(http::KeyStore::PathIn(flags.data_dir));
  if (!store) {
    std::cerr << "jobtrail: " << store.error().message << "\n";
    return 1;
  }
  auto created = store.value().Create(role, flags.owner, flags.label, Now());
  if (!created) {
    std::cerr << "jobtrail: " << created.error().message << "\n";
    return created.error().code == Code::kInvalidArgument ? 2 : 1;
  }
  if (auto saved = store.value().Save(); !saved) {
    std::cerr << "jobtrail: " << saved.error().message << "\n";
    return 1;
  }
  const http::ApiKeyRecord& r = created.value().record;
  std::cout << created.value().key << std::endl;
  std::cerr << fmt::format(
      "created key {} (role {}, owner {}). It is shown only this once: store it now.\n", r.id,
      http::RoleName(r.role), r.owner);
  return 0;
}

int KeysList(const KeysFlags& flags) {
  auto store = http::KeyStore::Load(http::KeyStore::PathIn(flags.data_dir));
  if (!store) {
    std::cerr << "jobtrail: " << store.error().message << "\n";
    return 1;
  }
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
  FileLock lock(http::KeyStore::PathIn(flags.data_dir) + ".lock");
  auto store = http::KeyStore::Load(http::KeyStore::PathIn(flags.data_dir));
  if (!store) {
    std::cerr << "jobtrail: " << store.error().message << "\n";
    return 1;
  }
  if (auto revoked = store.value().Revoke(id, Now()); !revoked) {
    std::cerr << "jobtrail: " << revoked.error().message << "\n";
    return 1;
  }
  if (auto saved = store.value().Save(); !saved) {
    std::cerr << "jobtrail: " << saved.error().message << "\n";
    return 1;
  }
  std::cerr << "revoked key " << id << " (a running server stops accepting it within a second)\n";
  return 0;
}

}  // namespace jobtrail::cli
