// What a parsed command says about its resource needs, before it runs: per stage the program,
// its subcommand (git push, docker build, tar create+gzip, pg_dump format), normalised flags,
// numeric arguments with units (-j8, --threads=4, bs=1M, count=100, 10G, -9), path-like and other
// positional arguments, redirections; and three stable keys used to aggregate history:
//   signature  program, subcommand, flags with their values and non-path words of every stage
//              (paths dropped, so `gzip -9 a.bin` and `gzip -9 b.bin` share history);
//   shape      program and subcommand of every stage, no flags (`tar:c+z`, `sort|uniq`);
//   program    the main program (the first stage that is not cd/cat/echo/...).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/shell_parser.h"

namespace prescient::analysis {

struct NumericArg {
  std::string name;      // flag ("-j", "--threads"), key ("bs"), or "" for a positional number
  double value = 0;      // with units applied: "1M" -> 1048576, "10G" -> 10737418240
  bool has_unit = false; // a size suffix was present (K, M, G, T, KiB, MB, ...)
};

struct StageFeatures {
  std::string program;                 // basename of argv[0]
  std::string subcommand;              // "" when the program has none
  std::vector<std::string> flags;      // normalised names, sorted and unique ("-N" for -9)
  std::vector<NumericArg> numbers;
  std::vector<std::string> paths;      // path-like arguments and redirection targets
  std::vector<std::string> words;      // other positional arguments
  std::vector<std::string> wrappers;
  uint64_t flags_hash = 0;             // FNV-1a over the sorted flag names
  int input_redirects = 0;
  int output_redirects = 0;
  bool stdout_to_devnull = false;
  bool piped_in = false;
};

// Coarse family of a program, from a fixed table; lets the model share what it learned about
// gzip with pigz, about g++ with clang++. Values are stable (they are model features).
enum class ProgramCategory : int {
  kUnknown = 0, kCompression = 1, kArchive = 2, kHashing = 3, kText = 4, kCompiler = 5,
  kBuild = 6, kDatabase = 7, kNetwork = 8, kInterpreter = 9, kFilesystem = 10, kContainer = 11,
  kCrypto = 12, kMedia = 13, kShellBuiltin = 14,
};
ProgramCategory CategoryOf(std::string_view program);

struct CommandFeatures {
  std::vector<StageFeatures> stages;
  std::vector<std::string> connectors;
  std::string signature;
  std::string shape;
  std::string program;             // main program
  std::string subcommand;          // of the main program's stage
  ProgramCategory category = ProgramCategory::kUnknown;
  int main_stage = 0;
  int pipes = 0;                   // "|" connectors
  int and_or = 0;                  // "&&" / "||"
  int background = 0;
  int max_subshell_depth = 0;
  int wrapper_count = 0;
  bool has_sudo = false;
  double timeout_seconds = 0;      // from `timeout`, 0 when absent
  // Semantic numeric slots (0 when absent), maxima over all stages.
  double parallelism = 0;          // -j, --jobs, -T, --threads, -P, -p (pigz), -@
  double compression_level = 0;    // -1 .. -22, --level, --best (9), --fast (1)
  double size_arg_bytes = 0;       // largest argument carrying a size unit or a size flag
  double count_arg = 0;            // count=, -n, --count, --iterations
  double bytes_requested = 0;      // dd bs*count, head -c N
  double numeric_max = 0;
  int numeric_count = 0;
  // Largest integer literal anywhere in the words, quoted code included (`range(5120000)`,
  // `1 .. 6400000`, `LIMIT 1000`): scripts state their problem size there.
  double literal_max = 0;
  int flag_count = 0;
  int path_count = 0;
  int word_count = 0;
  int input_redirects = 0;
  int output_redirects = 0;
  bool stdout_to_devnull = false;
  bool truncated = false;
};

CommandFeatures ExtractCommandFeatures(const ParsedCommand& parsed);
// ParseCommand + ExtractCommandFeatures.
CommandFeatures AnalyzeCommand(std::string_view command);

// "8" -> 8, "1M" -> 1048576, "10G", "1.5k", "4GiB", "100MB" (decimal) -> bytes; "50%" -> 50.
// Returns false for anything else ("8x", "abc", "1.2.3").
bool ParseNumberWithUnit(std::string_view text, double* value, bool* has_unit);

// A path-like argument: contains '/', starts with '.' or '~', or ends in a short extension.
bool LooksLikePath(std::string_view word);

uint64_t Fnv1a64(std::string_view text, uint64_t seed = 1469598103934665603ULL);

}  // namespace prescient::analysis
