// `jobtrail serve`: open the store, serve HTTP until SIGTERM/SIGINT, then
// shut down in order (stop accepting, finish requests, close RocksDB).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <cstdio>
#include <iostream>

#include "domain/retry_policy.h"
#include "http/cli/commands.h"
#include "http/dialects/pdf_chapters_003.h"
#include "http/security/rate_limiter.h"
#include "http/live/live.h"
#include "http/webhooks/webhook_service.h"

namespace jobtrail::cli {
namespace {

bool ParseListen(const std::string& listen, std::string& host, uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned long value = 0;
  try {
    size_t used = 0;
    value = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || value > 65535) return false;
  } catch (const std::exception&) {
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

std::unique_ptr<JobStore> OpenReader(const StoreFlags& flags) {
  JobStoreOptions options;
  options.data_dir = flags.data_dir;
  options.create_if_missing = false;
  options.read_only = true;
  // A node on a shared log: no secondary of an embedded log to open; the
  // CLI opens the node's views itself (the node must be stopped).
  if (!flags.log.empty()) {
    options.read_only = false;
    UseSharedLog(flags, options);
  }
  auto store = JobStore::Open(options);
  if (!store) {
    std::cerr << "jobtrail: cannot open data directory '" << flags.data_dir
              << "': " << store.error().message << "\n";
    return nullptr;
  }
  return std::move(store).value();
}

std::unique_ptr<JobStore> OpenStore(const StoreFlags& flags, bool create,
                                    ProjectionObserver* observer) {
  JobStoreOptions options;
  options.observer = observer;
  options.data_dir = flags.data_dir;
  options.archive_dir = flags.archive_dir;
  options.archive_gzip = flags.archive_format != "ndjson";
  options.sync = !flags.no_sync;
  options.create_if_missing = create;
  UseSharedLog(flags, options);
  auto policies = [&]() -> Result<void> {
    if (!flags.default_retry_policy.empty()) {
      BOOST_OUTCOME_TRY(policy, ParseRetryPolicy(flags.default_retry_policy));
      options.default_retry = policy;
    }
    for (const std::string& item : flags.retry_policies) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("--retry-policy wants TYPE=BACKOFF:BASE_MS[:MAX_MS[:JITTER]], got '" +
                               item + "'");
      }
      BOOST_OUTCOME_TRY(policy, ParseRetryPolicy(item.substr(eq + 1)));
      options.retry_by_type[item.substr(0, eq)] = policy;
    }
    // Seed 003's chapter jobs are kept 7 days (its TTL index), unless told.
    options.retention_by_type[std::string(http::kPdfChapterJobType)] =
        http::kPdfChapterRetentionMs;
    for (const std::string& item : flags.retentions) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("--retention wants TYPE=DURATION (e.g. report=30d) or TYPE=off, "
                               "got '" + item + "'");
      }
      const std::string type = item.substr(0, eq);
      if (item.substr(eq + 1) == "off") {
        options.retention_by_type.erase(type);
        continue;
      }
      BOOST_OUTCOME_TRY(retention, http::ParseDuration(item.substr(eq + 1)));
      options.retention_by_type[type] = retention;
    }
    for (const std::string& item : flags.failed_retentions) {
      const auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("--retention-failed wants TYPE=DURATION (e.g. report=90d), got '" +
                               item + "'");
      }
      BOOST_OUTCOME_TRY(retention, http::ParseDuration(item.substr(eq + 1)));
      options.failed_retention_by_type[item.substr(0, eq)] = retention;
    }
    for (const std::string& item : flags.keep_newest) {
      const auto eq = item.find('=');
      uint64_t n = 0;
      const std::string count = eq == std::string::npos ? "" : item.substr(eq + 1);
      const bool digits = !count.empty() && count.size() <= 12 &&
                          count.find_first_not_of("0123456789") == std::string::npos;
      if (eq == 0 || !digits || (n = std::stoull(count)) == 0) {
        return InvalidArgument("--retention-count wants TYPE=N with N >= 1 (e.g. report=1000), "
                               "got '" + item + "'");
      }
      options.keep_newest_by_type[item.substr(0, eq)] = n;
    }
    return Ok();
  }();
  if (!policies) {
    std::cerr << "jobtrail: " << policies.error().message << "\n";
    return nullptr;
  }
  auto store = JobStore::Open(options);
  if (!store) {
    std::cerr << "jobtrail: cannot open data directory '" << flags.data_dir
              << "': " << store.error().message << "\n";
    return nullptr;
  }
  return std::move(store).value();
}

int Serve(const ServeFlags& flags) {
  http::ServerOptions server = flags.server;
  if (!ParseListen(flags.listen, server.host, server.port)) {
    std::cerr << "jobtrail: --listen must be HOST:PORT, got '" << flags.listen << "'\n";
    return 2;
  }
  // Block the shutdown signals in every thread we start; this thread waits
  // for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Declared before the store, which tells it of every projected event.
  webhooks::FeedTap tap;
  auto store = OpenStore(flags.store, /*create=*/true,
                         flags.webhooks.disabled ? nullptr : &tap);
  if (!store) return 1;
  if (!ResolveSecurity(flags.security, ConfigFor(flags.store.log, flags.store.data_dir),
                       server.security)) {
    return 2;
  }
  // Long-polls and event streams (http/live/).
  http::live::EnableLive(server, flags.live);
  // Outgoing webhooks (http/webhooks/): their routes are mounted on the
  // server, their dispatcher runs beside it.
  std::unique_ptr<webhooks::WebhookService> hooks;
  if (!flags.webhooks.disabled) {
    auto options = webhooks::ResolveWebhookOptions(flags.webhooks, flags.store.data_dir);
    if (!options) {
      std::cerr << "jobtrail: " << options.error().message << "\n";
      return 2;
    }
    options.value().dispatch.tap = &tap;
    auto opened = webhooks::WebhookService::Open(*store, std::move(options).value());
    if (!opened) {
      std::cerr << "jobtrail: cannot set up webhooks: " << opened.error().message << "\n";
      return 1;
    }
    hooks = std::move(opened).value();
    server.mounts.push_back(
        [&hooks](http::Router& router, http::ApiContext& context) { hooks->Mount(router, context); });
  }
  auto started = http::HttpServer::Start(*store, server);
  if (!started) {
    std::cerr << "jobtrail: cannot serve on " << flags.listen << ": "
              << started.error().message << "\n";
    return 1;
  }
  auto http_server = std::move(started).value();
  if (hooks) hooks->Start();
  std::printf("jobtrail listening on http://%s:%u\n", server.host.c_str(),
              unsigned(http_server->port()));
  std::fflush(stdout);
  // Logged after the "listening on" line: scripts read that line first.
  if (flags.store.no_sync) {
    spdlog::warn("--no-sync: writes are acknowledged before the log is fsynced");
  }
  spdlog::info("serving {} from data directory {}", flags.listen, flags.store.data_dir);
  if (flags.webhooks.allow_private) {
    spdlog::warn("--webhook-allow-private: webhooks may reach loopback and private addresses");
  }
  if (flags.server.dialects.enabled) {
    for (const std::string& seed : flags.server.dialects.public_dialects) {
      spdlog::warn("--public-dialect {}: that seed's undocumented-auth routes answer anyone "
                   "(README, Seed dialects)", seed);
    }
  }

  // The store keeps time on its own: expire leases, fire due schedules.
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool stopping = false;
  std::thread ticker([&] {
    std::unique_lock lock(tick_mu);
    while (!tick_cv.wait_for(lock, std::chrono::milliseconds(flags.tick_ms),
                             [&] { return stopping; })) {
      lock.unlock();
      MaintenanceOptions tick;
      tick.count_due = false;  // nobody reads the counts of a tick
      if (auto m = store->RunMaintenance(tick); !m) {
        // A full disk is logged once by the store, not at every tick.
        if (m.error().reason != "STORAGE_UNAVAILABLE") {
          spdlog::error("maintenance pass failed: {}", m.error().ToString());
        }
      } else {
        if (m.value().leases_expired > 0) {
          spdlog::info("maintenance: {} lease(s) expired ({} retried, {} failed)",
                       m.value().leases_expired, m.value().retried, m.value().failed);
        }
        if (m.value().expired > 0) {
          spdlog::info("maintenance: {} job(s) past their retention expired",
                       m.value().expired);
        }
      }
      if (auto fired = store->RunDueSchedules();
          !fired && fired.error().reason != "STORAGE_UNAVAILABLE") {
        spdlog::error("schedules: {}", fired.error().ToString());
      }
      if (auto compacted = store->CompactLog(); !compacted) {
        spdlog::error("log compaction: {}", compacted.error().ToString());
      } else if (compacted.value().jobs_archived > 0) {
        spdlog::info("log compaction: {} expired job(s), {} event(s) archived ({} bytes)",
                     compacted.value().jobs_archived, compacted.value().events_archived,
                     compacted.value().archive_bytes);
      }
      lock.lock();
    }
  });

  int received = 0;
  sigwait(&signals, &received);
  {
    std::lock_guard lock(tick_mu);
    stopping = true;
  }
  tick_cv.notify_all();
  ticker.join();
  spdlog::info("received {}, shutting down", received == SIGTERM ? "SIGTERM" : "SIGINT");
  http_server->Shutdown();
  http_server.reset();
  if (hooks) hooks->Stop();  // before the store: it appends attempt records
  hooks.reset();
  store.reset();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace jobtrail::cli
