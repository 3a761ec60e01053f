#pragma once
// `jobtrail serve`'s security flags and how they become SecurityOptions.
// Secrets are named by file or environment variable only, never given as
// values on the command line (argv is visible to every local user), and
// never logged or printed.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "eventstore/config/config_store.h"
#include "http/security/security_options.h"

namespace jobtrail::cli {

struct SecurityFlags {
  bool insecure_no_auth = false;
  std::string jwt_hs256_secret_file;
  std::string jwt_hs256_secret_env;
  std::string jwt_rs256_public_key_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string jwt_role_claim = "role";
  std::string share_secret_file;
  std::string share_secret_env;
  std::string webhook_secret_file;
  std::string webhook_secret_env;
  std::vector<std::string> rate_limits;  // NAME=RULE
  bool no_rate_limit = false;
  http::SecurityOptions options;  // limits and timeouts, set directly by flags
};

void AddSecurityFlags(CLI::App* serve, SecurityFlags& flags);

// Reads the secrets, checks the rules, and fills `out` (auth, rates,
// limits, webhook secret). API keys and the share-link key come from
// `config` (files in the data directory, or the shared configuration of
// nodes on one PostgreSQL log). Prints the problem and returns false on error.
bool ResolveSecurity(const SecurityFlags& flags, std::shared_ptr<config::ConfigStore> config,
                     http::SecurityOptions& out);

}  // namespace jobtrail::cli
