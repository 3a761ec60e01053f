#pragma once
// Shared by the ops tests: a temp directory, the `jobtrail` binary as a
// subprocess, and "is every acknowledged write in this data directory?".
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/subprocess.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / "jobtrail-ops-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static ProcessResult Jobtrail(std::vector<std::string> args) {
    args.insert(args.begin(), JOBTRAIL_BINARY);
    return RunProcess(args);
  }

  // Job id -> the highest version among the job's events in `data_dir`, read
  // by `jobtrail export` (which works beside a running server too).
  static std::map<std::string, uint64_t> ExportedVersions(const std::string& data_dir) {
    std::map<std::string, uint64_t> versions;
    ProcessResult r = Jobtrail({"export", "--data-dir", data_dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      rapidjson::Document d;
      d.Parse(line.c_str());
      if (d.HasParseError() || !d.HasMember("job_id") || !d.HasMember("version")) {
        ADD_FAILURE() << "export line: " << line;
        continue;
      }
      uint64_t& v = versions[d["job_id"].GetString()];
      v = std::max<uint64_t>(v, d["version"].GetUint64());
    }
    return versions;
  }

  // Every acknowledged write (job id, version) is in `data_dir`.
  static void ExpectAllIn(const std::string& data_dir,
                          const std::map<std::string, uint64_t>& acknowledged) {
    const auto found = ExportedVersions(data_dir);
    size_t lost = 0;
    for (const auto& [job, version] : acknowledged) {
      auto it = found.find(job);
      if (it == found.end() || it->second < version) {
        if (++lost <= 5) {
          ADD_FAILURE() << job << ": acknowledged at version " << version << ", found "
                        << (it == found.end() ? 0 : it->second);
        }
      }
    }
    EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged jobs";
  }

  static uint64_t Writes(const std::map<std::string, uint64_t>& acknowledged) {
    uint64_t n = 0;
    for (const auto& [job, version] : acknowledged) n += version;
    return n;
  }

  // Polls /readyz (bounded by a count): true once the read models caught up.
  static bool WaitReady(HttpClient& client) {
    for (int i = 0; i < 20000; ++i) {
      if (client.Get("/readyz").status == 200) return true;
      std::this_thread::yield();
    }
    return false;
  }

  std::string dir_;
};

}  // namespace jobtrail::testing
