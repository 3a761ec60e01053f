#include "http/cli/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <vector>

#include "http/cli/commands.h"

namespace jobtrail::cli {
namespace {

constexpr int kUsageError = 2;
constexpr const char* kDefaultDataDir = "./jobtrail-data";

void AddLogFlag(CLI::App* cmd, std::string& log) {
  cmd->add_option("--log", log,
                  "The event log: a postgresql:// URL for a log shared by several nodes "
                  "(create its schema with `jobtrail migrate`); default: the embedded "
                  "RocksDB log in <data-dir>/log")
      ->check(CLI::Validator(CheckLogUrl, "postgresql://URL", "LOG_URL"));
}

void AddStoreFlags(CLI::App* cmd, StoreFlags& flags) {
  flags.data_dir = kDefaultDataDir;
  cmd->add_option("--data-dir", flags.data_dir, "Data directory (log/ and views/)")
      ->capture_default_str();
  AddLogFlag(cmd, flags.log);
}

}  // namespace

int Run(int argc, char** argv) {
  CLI::App app{"jobtrail: an event-sourced job store with CQRS read models"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");

  ServeFlags serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP API");
  AddStoreFlags(serve_cmd, serve.store);
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--default-retry-policy", serve.store.default_retry_policy,
                        "Backoff for jobs the store retries: BACKOFF:BASE_MS[:MAX_MS[:JITTER]], "
                        "BACKOFF fixed or exponential (default exponential:1000:3600000:0.2)");
  serve_cmd->add_option("--retry-policy", serve.store.retry_policies,
                        "Per job type, repeatable: TYPE=BACKOFF:BASE_MS[:MAX_MS[:JITTER]]; a "
                        "job's own retry_* fields still win");
  serve_cmd->add_option("--retention", serve.store.retentions,
                        "Per job type, repeatable: TYPE=DURATION (e.g. report=30d) or TYPE=off. "
                        "Past it a job is gone from the API and the next maintenance pass "
                        "expires it (its events stay in the log). Default: pdf_chapter=7d");
  serve_cmd->add_option("--retention-failed", serve.store.failed_retentions,
                        "Per job type, repeatable: TYPE=DURATION for its failed and cancelled "
                        "jobs (keep failures longer than successes); default: --retention's");
  serve_cmd->add_option("--retention-count", serve.store.keep_newest,
                        "Per job type, repeatable: TYPE=N keeps the newest N jobs of the type; "
                        "maintenance expires older ones once they are final");
  serve_cmd->add_option("--archive-dir", serve.store.archive_dir,
                        "Compact the log: the events of expired jobs (retention, cleanup) move "
                        "to NDJSON files here, one per day, and leave the log; replay and "
                        "export --job read them back (off when unset)");
  serve_cmd->add_option("--archive-format", serve.store.archive_format,
                        "Archive files: gzip (.ndjson.gz) or ndjson")
      ->capture_default_str()
      ->check(CLI::IsMember({"gzip", "ndjson"}));
  serve_cmd->add_flag("--no-sync", serve.store.no_sync,
                      "Acknowledge writes before the log is fsynced (faster; a power loss "
                      "may lose the last writes, a process crash does not)");
  serve_cmd->add_option("--threads", serve.server.threads, "HTTP worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve_cmd->add_option("--max-body-bytes", serve.server.max_body_bytes,
                        "Largest request body accepted (413 above)")
      ->capture_default_str()
      ->check(CLI::Range(1024, 64 << 20));
  serve_cmd->add_option("--write-threads", serve.server.write_threads,
                        "Threads that run writes (every POST waits for fsync there, not on "
                        "the HTTP threads; concurrent writes share a group commit); 0: none")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  serve_cmd->add_option("--max-queued-writes", serve.server.max_queued_writes,
                        "Writes waiting for a write thread beyond this answer 503 OVERLOADED")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  serve_cmd->add_option("--max-projection-lag-ms", serve.server.max_projection_lag_ms,
                        "/readyz answers 503 (projection_lagging) while the read models lag "
                        "the log by more than this; 0: no bound")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{86400000}));
  serve_cmd->add_option("--max-batch-operations", serve.server.max_batch_operations,
                        "Operations in one POST /v1/batch (more: 413 BATCH_TOO_LARGE)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  serve_cmd->add_option("--cors-origin", serve.server.cors_origins,
                        "Origin allowed by CORS (repeatable; '*' for any)");
  serve_cmd->add_option("--backup-dir", serve.server.backup_dir,
                        "Directory for backups made over HTTP (POST /v1/admin/backup names "
                        "a sub-directory); unset: that route is off");
  serve_cmd->add_option("--tick-ms", serve.tick_ms,
                        "How often to expire leases and fire due schedules")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  bool no_access_log = false;
  serve_cmd->add_flag("--no-access-log", no_access_log, "Do not log one line per request");
  serve_cmd->add_option("--dialect-prefix", serve.server.dialects.prefix,
                        "Path prefix of the seed dialects (default: the seeds' own paths)");
  bool no_dialects = false;
  bool no_seed_001_schedules = false;
  serve_cmd->add_flag("--no-dialects", no_dialects, "Do not serve the five seed APIs");
  serve_cmd->add_flag("--no-seed-001-schedules", no_seed_001_schedules,
                      "Do not register seed 001's worker job types as schedules");
  std::vector<std::string> public_dialects;
  serve_cmd
      ->add_option("--public-dialect", public_dialects,
                   "Serve this seed's routes documented without authentication to anyone, "
                   "as the seed does for internal use (000, 001, 002 or 004; repeatable)")
      ->check(CLI::IsMember({"000", "001", "002", "004"}));
  serve_cmd->add_option("--dialect-000-queue", serve.server.dialects.forms_queue,
                        "The queue whose jobs seed 000's routes see")
      ->capture_default_str();
  serve_cmd->add_option("--dialect-003-type", serve.server.dialects.pdf_chapter_type,
                        "The job type seed 003's route sees")
      ->capture_default_str();
  serve_cmd->add_option("--dialect-004-queue", serve.server.dialects.relay_queue,
                        "The queue whose jobs seed 004's routes see")
      ->capture_default_str();
  serve_cmd->add_option("--long-poll-max-ms", serve.live.max_wait_ms,
                        "The longest a long-poll (?wait=SECONDS) waits")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  serve_cmd->add_option("--stream-heartbeat-ms", serve.live.heartbeat_ms,
                        "An idle event stream gets a comment line this often")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600000));
  serve_cmd->add_option("--stream-max-buffered-bytes", serve.live.max_buffered_bytes,
                        "Bytes held for one event stream's slow reader before it is dropped")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  serve_cmd->add_option("--max-streams", serve.live.max_streams,
                        "Event streams open at once (more: 503 OVERLOADED)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve_cmd->add_option("--max-long-polls", serve.live.max_waiters,
                        "Long-polls waiting at once (more are answered at once)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  AddSecurityFlags(serve_cmd, serve.security);
  webhooks::AddWebhookFlags(serve_cmd, serve.webhooks);

  StoreFlags store;
  std::string job_id;
  bool json = false;
  auto* replay_cmd = app.add_subcommand("replay", "Print a job's audit history, event by event");
  AddStoreFlags(replay_cmd, store);
  replay_cmd->add_option("JOB_ID", job_id, "The job")->required();
  replay_cmd->add_flag("--json", json, "One JSON object per event: the event and the state after it");

  auto* rebuild_cmd = app.add_subcommand("rebuild", "Drop and rebuild every read model from the log");
  AddStoreFlags(rebuild_cmd, store);
  auto* verify_cmd = app.add_subcommand(
      "verify", "Check the log (order, streams, decoding, hash chain) and the read models");
  AddStoreFlags(verify_cmd, store);

  uint64_t after = 0;
  auto* export_cmd = app.add_subcommand("export", "Write events as newline-delimited JSON");
  AddStoreFlags(export_cmd, store);
  export_cmd->add_option("--job", job_id, "Only this job's events");
  export_cmd->add_option("--after", after, "Only events after this global position");

  std::string file;
  auto* import_cmd = app.add_subcommand(
      "import", "Append events from an export file ('-' for stdin), validated like any write");
  AddStoreFlags(import_cmd, store);
  import_cmd->add_option("FILE", file, "NDJSON file from `jobtrail export`")->required();

  std::string migrate_log;
  auto* migrate_cmd = app.add_subcommand(
      "migrate", "Create or upgrade the schema of a shared PostgreSQL event log");
  AddLogFlag(migrate_cmd, migrate_log);
  migrate_cmd->get_option("--log")->required();

  std::string backup_to;
  auto* backup_cmd = app.add_subcommand(
      "backup", "Write a consistent copy of the data directory (works while the server runs)");
  AddStoreFlags(backup_cmd, store);
  backup_cmd->add_option("--to", backup_to, "The new directory for the copy (must not exist)")
      ->required();

  KeysFlags keys;
  keys.data_dir = kDefaultDataDir;
  std::string key_id;
  auto* keys_cmd = app.add_subcommand(
      "keys", "Manage API keys (<data-dir>/keys.json, or a shared log's with --log)");
  keys_cmd->require_subcommand(1);
  auto* keys_create = keys_cmd->add_subcommand(
      "create", "Create an API key and print it (once) on stdout");
  keys_create->add_option("--role", keys.role, "admin, worker or reader")
      ->required()
      ->check(CLI::IsMember({"admin", "worker", "reader"}));
  keys_create->add_option("--owner", keys.owner,
                          "The owner the key acts as (default: key-<id>)");
  keys_create->add_option("--label", keys.label, "A note for `keys list`");
  auto* keys_list = keys_cmd->add_subcommand("list", "List keys (never their secrets)");
  auto* keys_revoke = keys_cmd->add_subcommand("revoke", "Revoke a key by id");
  keys_revoke->add_option("ID", key_id, "The key's id (from `keys list`)")->required();
  for (auto* cmd : {keys_create, keys_list, keys_revoke}) {
    cmd->add_option("--data-dir", keys.data_dir, "Data directory (holds keys.json)")
        ->capture_default_str();
    cmd->add_option("--log", keys.log,
                    "A postgresql:// URL: the keys every node on that shared log uses "
                    "(run `jobtrail migrate` first)")
        ->check(CLI::Validator(CheckLogUrl, "postgresql://URL", "LOG_URL"));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "jobtrail: " << e.what() << "\n\n" << app.help();
    return kUsageError;
  }
  serve.server.access_log = !no_access_log;
  if (no_dialects) serve.server.dialects.enabled = false;
  if (no_seed_001_schedules) serve.server.dialects.seed_001_schedules = false;
  serve.server.dialects.public_dialects.insert(public_dialects.begin(), public_dialects.end());

  if (*serve_cmd) return Serve(serve);
  if (*replay_cmd) return Replay(store, job_id, json);
  if (*rebuild_cmd) return Rebuild(store);
  if (*verify_cmd) return Verify(store);
  if (*export_cmd) return Export(store, job_id, after);
  if (*import_cmd) return Import(store, file);
  if (*migrate_cmd) return Migrate(migrate_log);
  if (*backup_cmd) return Backup(store, backup_to);
  if (*keys_create) return KeysCreate(keys);
  if (*keys_list) return KeysList(keys);
  if (*keys_revoke) return KeysRevoke(keys, key_id);
  std::cerr << app.help();
  return kUsageError;
}

}  // namespace jobtrail::cli
