// The `jobtrail` binary: replay, verify, rebuild, export/import, usage
// errors and the serve lifecycle, run as real processes.
#include <rapidjson/document.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "eventstore/rocks_event_log.h"
#include "tests/cli/subprocess.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

const std::string kBinary = JOBTRAIL_BINARY;

class CliTest : public StoreTest {
 protected:
  ProcessResult Jobtrail(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), kBinary);
    return RunProcess(args, input);
  }
  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

TEST_F(CliTest, ReplayTellsTheStoryInOrder) {
  const std::string id = WriteRetriedJob();
  store_.reset();  // the CLI needs the data directory to itself
  auto r = Jobtrail({"replay", "--data-dir", dir_, id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> expected = {
      "enqueued", "-> pending",  "started",  "-> running (attempt 1/3", "errored", "shot1.png",
      "retried",  "-> retrying", "started",  "-> running (attempt 2/3", "errored", "shot2.png",
      "retried",  "-> retrying", "started",  "-> running (attempt 3/3", "completed",
      "-> completed"};
  size_t at = 0;
  for (const auto& needle : expected) {
    const size_t found = r.out.find(needle, at);
    ASSERT_NE(found, std::string::npos) << "missing '" << needle << "' after offset " << at
                                        << " in:\n" << r.out;
    at = found + needle.size();
  }
  EXPECT_NE(r.out.find("worker-1"), std::string::npos);  // the actor
  EXPECT_NE(r.out.find("2024-01-15T10:30:00.000Z"), std::string::npos);
}

TEST_F(CliTest, ReplayJsonHasEventAndStateAfterEach) {
  const std::string id = WriteRetriedJob();
  store_.reset();
  auto r = Jobtrail({"replay", "--json", "--data-dir", dir_, id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 9u);
  const char* statuses[] = {"pending", "running", "running",  "retrying", "running",
                            "running", "retrying", "running", "completed"};
  for (size_t i = 0; i < lines.size(); ++i) {
    rapidjson::Document d;
    d.Parse(lines[i].c_str());
    ASSERT_FALSE(d.HasParseError()) << lines[i];
    EXPECT_EQ(d["event"]["version"].GetUint64(), i + 1);
    EXPECT_STREQ(d["state"]["status"].GetString(), statuses[i]);
  }
}

TEST_F(CliTest, VerifyPassesThenCatchesATamperedLog) {
  WriteRetriedJob();
  store_.reset();
  auto ok = Jobtrail({"verify", "--data-dir", dir_});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("ok:"), std::string::npos);

  {  // Rewrite one stored record's payload behind the log's back.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_ + "/log", &names).ok());
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_ + "/log", families, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* log_cf = nullptr;
    for (auto* h : handles) {
      if (h->GetName() == "log") log_cf = h;
    }
    ASSERT_NE(log_cf, nullptr);
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), log_cf));
    it->SeekToFirst();
    it->Next();
    ASSERT_TRUE(it->Valid());
    std::string value = it->value().ToString();
    value.back() ^= 0x01;
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), log_cf, it->key(), value).ok());
    it.reset();
    for (auto* h : handles) (void)raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  auto bad = Jobtrail({"verify", "--data-dir", dir_});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("FAILED"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("hash chain"), std::string::npos) << bad.out;
}

TEST_F(CliTest, RebuildReportsItsRate) {
  WriteRetriedJob();
  store_.reset();
  auto r = Jobtrail({"rebuild", "--data-dir", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rebuilt read models from 9 events"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events/s"), std::string::npos);
  EXPECT_EQ(Jobtrail({"verify", "--data-dir", dir_}).exit_code, 0);
}

TEST_F(CliTest, ExportThenImportReproducesTheHistory) {
  WriteRetriedJob();
  Enqueue("pdf", "bob");
  // An uploaded screenshot (inline bytes) and an expiry travel too.
  const std::string shot = Enqueue("form-fill", "carol");
  MustAppend(shot, Started{});
  Errored uploaded = Screenshot("captcha not solved", 9);
  uploaded.artifacts.push_back(
      Artifact{"page_source", "", "", "text/html", std::string("<html>\0\xff</html>", 15)});
  MustAppend(shot, uploaded);
  MustAppend(shot, Failed{});
  clock_.Advance(3'600'000);
  MaintenanceOptions cleanup;
  cleanup.cleanup_older_than_ms = 60'000;
  ASSERT_EQ(store_->RunMaintenance(cleanup).value().cleaned, 2u);
  store_.reset();
  auto exported = Jobtrail({"export", "--data-dir", dir_});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(Lines(exported.out).size(), 16u);
  EXPECT_NE(exported.out.find(R"("content_base64":"PGh0bWw+AP88L2h0bWw+")"), std::string::npos)
      << exported.out;
  EXPECT_NE(exported.out.find(R"("type":"expired")"), std::string::npos);

  const std::string other = MakeTempDir("jobtrail-import");
  auto imported = Jobtrail({"import", "--data-dir", other, "-"}, exported.out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("imported 16 event(s)"), std::string::npos) << imported.out;
  auto again = Jobtrail({"export", "--data-dir", other});
  EXPECT_EQ(again.out, exported.out);
  // Importing the same file twice appends nothing.
  auto twice = Jobtrail({"import", "--data-dir", other, "-"}, exported.out);
  EXPECT_EQ(twice.exit_code, 0);
  EXPECT_NE(twice.out.find("imported 0 event(s); 16 already present"), std::string::npos)
      << twice.out << twice.err;
  std::filesystem::remove_all(other);
}

TEST_F(CliTest, ImportRejectsAnIllegalTransitionAndStops) {
  store_.reset();
  const std::string line =
      R"({"event_id":"e1","job_id":"j1","version":1,"position":1,"timestamp":"2024-01-15T10:30:00.000Z","actor":"x","type":"completed","data":{}})";
  auto r = Jobtrail({"import", "--data-dir", dir_, "-"}, line + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":1:"), std::string::npos) << r.err;
}

TEST_F(CliTest, BadArgumentsExitTwoWithUsage) {
  store_.reset();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"replay", "--data-dir", dir_}, {"serve", "--bogus"},
           {"serve", "--threads", "0"},
           // 003's one route needs a bearer token in the seed too: nothing to open.
           {"serve", "--public-dialect", "003"}, {"serve", "--public-dialect", "all"}}) {
    auto r = Jobtrail(args);
    EXPECT_EQ(r.exit_code, 2) << "args: " << (args.empty() ? "" : args[0]) << "\n" << r.err;
    EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
  }
  auto help = Jobtrail({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("serve"), std::string::npos);
}

TEST_F(CliTest, MissingOrForeignDataDirIsAClearError) {
  store_.reset();
  auto missing = Jobtrail({"replay", "--data-dir", dir_ + "/nope", "some-job"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;

  const std::string foreign = MakeTempDir("jobtrail-foreign");
  std::ofstream(foreign + "/thesis.tex") << "\\documentclass{article}";
  auto r = Jobtrail({"verify", "--data-dir", foreign});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a jobtrail data directory"), std::string::npos) << r.err;
  std::filesystem::remove_all(foreign);

  auto unknown_job = Jobtrail({"replay", "--data-dir", dir_, "no-such-job"});
  EXPECT_EQ(unknown_job.exit_code, 1);
  EXPECT_NE(unknown_job.err.find("not found"), std::string::npos);
}

}  // namespace
}  // namespace jobtrail::testing
