// The collection suite: a seeded list of real commands (compression, sorting, hashing, archiving,
// compiling, databases, scripting, transfers over loopback, pipelines, coreutils) with varied flags
// and input sizes. Case i depends only on (seed, i), so a longer suite with the same seed starts
// with the same cases and a resumed collection skips exactly the runs already written.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prescient::collect {

struct CollectCase {
  std::string id;                    // "c000123" (the index, zero-padded)
  std::string program;               // what was run: "gzip", "gzip -d", "tar x", "sqlite3", "psql"...
  std::string family;                // "compression", "sorting", ...
  std::string command;               // shell command, run in the work directory
  std::vector<std::string> inputs;   // relative paths the command reads (prepared before, sized)
  std::string setup;                 // unmeasured shell run before the command ("" = none)
  std::optional<double> cpu_limit;   // cores; recorded as context.requested_cpus
  std::optional<int64_t> memory_limit;  // bytes; recorded as context.requested_memory_bytes
  int timeout_seconds = 180;
  std::string needs;                 // "" | "http" | "postgres": a local server the command talks to
};

struct SuiteEnv {
  int http_port = 0;          // python3 -m http.server serving <workdir>/data on 127.0.0.1
  int pg_port = 0;            // a local PostgreSQL on 127.0.0.1, 0 = none
  std::string pg_database = "bench";
};

CollectCase BuildCase(uint64_t seed, int index, const SuiteEnv& env);
std::vector<CollectCase> BuildSuite(uint64_t seed, int runs, const SuiteEnv& env);

}  // namespace prescient::collect
