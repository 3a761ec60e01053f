#include "http/cli.h"

int main(int argc, char** argv) { return jobtrail::cli::Run(argc, argv); }
