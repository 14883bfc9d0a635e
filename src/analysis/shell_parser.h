// Shell-aware parsing of a command string into the stages that will actually run: quotes,
// escapes, pipelines, `&&` `||` `;` `&`, redirections, leading NAME=value assignments and
// subshells, with wrappers (sudo, env, nice, ionice, timeout, time, xargs, nohup, stdbuf, taskset,
// chrt, exec, command, `sh -c`/`bash -c`) unwrapped so each stage names the real program.
//
// Any input is safe: work is linear in the input and bounded by the caps below (tokens, stages,
// token length, `sh -c` nesting); anything beyond a cap is dropped and `truncated` is set.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prescient::analysis {

struct ParseLimits {
  size_t max_tokens = 4096;        // words + operators over the whole command, nested scripts included
  size_t max_stages = 64;
  size_t max_token_bytes = 4096;   // longer words are cut (the rest is skipped, linear time)
  int max_nesting = 4;             // `sh -c "sh -c ..."` depth
};

struct Redirection {
  int fd = -1;              // explicit fd ("2>"), -1 when implicit
  std::string op;           // "<", ">", ">>", ">&", "<<", "<<<", "&>", "&>>", "<>", ">|"
  std::string target;       // file, fd number or here-word
};

// One simple command after unwrapping: `FOO=1 sudo nice -n 5 gzip -9 f > f.gz` becomes
// env {FOO=1}, wrappers {sudo, nice}, argv {gzip, -9, f}, redirections {> f.gz}.
struct Stage {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Redirection> redirections;
  std::vector<std::string> wrappers;   // outermost first
  double timeout_seconds = 0;          // from `timeout DURATION`, 0 when absent
  int subshell_depth = 0;              // inside ( ... ) or $( ... ) or sh -c
  bool piped_in = false;               // reads the previous stage's stdout
  bool background = false;             // ended by `&`
};

struct ParsedCommand {
  std::vector<Stage> stages;
  std::vector<std::string> connectors;  // between consecutive stages: "|", "|&", "&&", "||", ";", "&"
  bool truncated = false;               // a cap was hit
  bool unbalanced = false;              // unterminated quote or parenthesis (parsed best-effort)
};

// Word-level tokens, for callers that need them (and the fuzz target).
struct Token {
  enum Kind { kWord, kOperator } kind = kWord;
  std::string text;      // unquoted text for words
  bool quoted = false;   // any part was quoted (a quoted "|" is a word, not a pipe)
  size_t quote_start = std::string::npos;  // offset in `text` where quoting first began
};

std::vector<Token> Tokenize(std::string_view command, const ParseLimits& limits, bool* truncated,
                            bool* unbalanced);

ParsedCommand ParseCommand(std::string_view command, const ParseLimits& limits = ParseLimits());

// "/usr/bin/python3" -> "python3".
std::string_view Basename(std::string_view path);

}  // namespace prescient::analysis
