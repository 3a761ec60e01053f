#include <sys/stat.h>

#include "http/cli/cli.h"

int main(int argc, char** argv) {
  // A data directory holds every job's payloads, results and errors, the API
  // keys' hashes and the share-link key: only its owner may read it. This
  // umask makes every directory jobtrail creates 0700 and every file 0600,
  // RocksDB's own files included (RocksDB has no mode option).
  umask(077);
  return jobtrail::cli::Run(argc, argv);
}
