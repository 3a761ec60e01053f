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

std::unique_ptr<JobStore> OpenStore(const StoreFlags& flags, bool create) {
  JobStoreOptions options;
  options.data_dir = flags.data_dir;
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

  auto store = OpenStore(flags.store, /*create=*/true);
  if (!store) return 1;
  if (!ResolveSecurity(flags.security, flags.store.data_dir, server.security)) {
    return 2;
  }
  // Long-polls and event streams (http/live/).
  http::live::EnableLive(server, flags.live);
  auto started = http::HttpServer::Start(*store, server);
  if (!started) {
    std::cerr << "jobtrail: cannot serve on " << flags.listen << ": "
              << started.error().message << "\n";
    return 1;
  }
  auto http_server = std::move(started).value();
  std::printf("jobtrail listening on http://%s:%u\n", server.host.c_str(),
              unsigned(http_server->port()));
  std::fflush(stdout);
  // Logged after the "listening on" line: scripts read that line first.
  if (flags.store.no_sync) {
    spdlog::warn("--no-sync: writes are acknowledged before the log is fsynced");
  }
  spdlog::info("serving {} from data directory {}", flags.listen, flags.store.data_dir);
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
        spdlog::error("maintenance pass failed: {}", m.error().ToString());
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
      if (auto fired = store->RunDueSchedules(); !fired) {
        spdlog::error("schedules: {}", fired.error().ToString());
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
  store.reset();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace jobtrail::cli
