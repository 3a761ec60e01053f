#pragma once
// The `jobtrail` command line: serve, replay, rebuild, verify, export,
// import. Returns the process exit code: 0 success, 1 a failed operation
// (or a verify that found damage), 2 bad arguments.
namespace jobtrail::cli {

int Run(int argc, char** argv);

}  // namespace jobtrail::cli
