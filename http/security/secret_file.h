#pragma once
// Reading secrets from where operators keep them (a file or an environment
// variable, never a command-line value: argv is visible in `ps`), and
// writing small private files atomically (temp file, fsync, rename, fsync
// of the directory), as projections/schedule_book.cc does.
//
// Error messages name the file or the variable, never the secret.
#include <string>

#include "domain/error.h"

namespace jobtrail::http {

// The file's contents with one trailing newline (or CRLF) removed.
// Errors: kNotFound (no such file), kInvalidArgument (empty), kInternal.
Result<std::string> ReadSecretFile(const std::string& path);
// The variable's value. Errors: kNotFound (unset), kInvalidArgument (empty).
Result<std::string> ReadSecretEnv(const std::string& name);

// The whole file. Errors: kNotFound, kInternal.
Result<std::string> ReadWholeFile(const std::string& path);
// Replaces `path` with `data` (mode `mode`) so that a crash leaves either
// the old or the new file. Errors: kInternal.
Result<void> WriteFileAtomically(const std::string& path, const std::string& data,
                                 int mode = 0600);

}  // namespace jobtrail::http
