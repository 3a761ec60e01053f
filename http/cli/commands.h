#pragma once
// The subcommands behind jobtrail::cli::Run, one function each. Each opens
// the store itself and returns an exit code; errors go to stderr.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/app/http_server.h"
#include "http/cli/security_flags.h"
#include "http/live/live_options.h"
#include "http/webhooks/webhook_flags.h"

namespace jobtrail::cli {

struct StoreFlags {
  std::string data_dir;
  std::string log;  // a postgresql:// URL; empty: the embedded log in data_dir
  bool no_sync = false;
  std::string default_retry_policy;         // BACKOFF:BASE_MS[:MAX_MS[:JITTER]]
  std::vector<std::string> retry_policies;  // TYPE=BACKOFF:BASE_MS[...]
  std::vector<std::string> retentions;      // TYPE=DURATION, or TYPE=off
  std::vector<std::string> failed_retentions;  // TYPE=DURATION for failed/cancelled jobs
  std::vector<std::string> keep_newest;        // TYPE=N
  std::string archive_dir;                  // log compaction into it; empty: off
  std::string archive_format = "gzip";      // gzip or ndjson
};

struct ServeFlags {
  StoreFlags store;
  std::string listen = "127.0.0.1:8080";
  int tick_ms = 1000;  // how often leases are checked and schedules fired
  http::ServerOptions server;
  SecurityFlags security;
  http::live::LiveOptions live;  // long-polls and event streams
  webhooks::WebhookFlags webhooks;
};

struct KeysFlags {
  std::string data_dir;
  std::string log;  // a postgresql:// URL: the keys every node on that log shares
  std::string role;
  std::string owner;
  std::string label;
};

int Serve(const ServeFlags& flags);
int Replay(const StoreFlags& store, const std::string& job_id, bool json);
int Rebuild(const StoreFlags& store);
int Verify(const StoreFlags& store);
int Export(const StoreFlags& store, const std::string& job_id, uint64_t after);
int Import(const StoreFlags& store, const std::string& file);
int Backup(const StoreFlags& store, const std::string& to);  // backup.cc
int KeysCreate(const KeysFlags& flags);
int KeysList(const KeysFlags& flags);
int KeysRevoke(const KeysFlags& flags, const std::string& id);

// `jobtrail migrate --log URL` and the shared log's plumbing (cli_log.cc).
int Migrate(const std::string& log_url);
// "" if `url` names a log jobtrail can use, else why not (for --log).
std::string CheckLogUrl(const std::string& url);
// Sets options.open_log and options.config for flags.log (a shared
// PostgreSQL log; its nodes share their configuration there too).
void UseSharedLog(const StoreFlags& flags, JobStoreOptions& options);
// Connects and checks that the shared log's schema is this build's; prints
// why not (e.g. "run jobtrail migrate") and returns false otherwise.
bool CheckSharedSchema(const std::string& log_url);
// Where a node's configuration (API keys, schedules, the share-link key)
// lives: the shared configuration in PostgreSQL for a `log` URL, else the
// files in `data_dir` (config/config_store.h).
std::shared_ptr<config::ConfigStore> ConfigFor(const std::string& log, const std::string& data_dir);

// Opens an existing data directory (never creates one, except for serve
// and import). Prints the error and returns null on failure.
// `observer` (serve: the webhooks' tap) is told of every projected event.
std::unique_ptr<JobStore> OpenStore(const StoreFlags& flags, bool create,
                                    ProjectionObserver* observer = nullptr);
// Opens an existing data directory read-only, beside a server that may be
// running on it (JobStoreOptions::read_only). Prints the error and returns
// null on failure.
std::unique_ptr<JobStore> OpenReader(const StoreFlags& flags);

}  // namespace jobtrail::cli
