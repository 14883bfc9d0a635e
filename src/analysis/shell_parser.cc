#include "analysis/shell_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace prescient::analysis {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 2 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

class Tokenizer {
 public:
  Tokenizer(std::string_view s, const ParseLimits& limits) : s_(s), limits_(limits) {}

  std::vector<Token> Run(bool* truncated, bool* unbalanced) {
    const size_t n = s_.size();
    while (i_ < n) {
      if (out_.size() >= limits_.max_tokens) {
        truncated_ = true;
        break;
      }
      const char c = s_[i_];
      if (IsBlank(c)) {
        Flush();
        ++i_;
      } else if (c == '\n') {
        Flush();
        Op(";");
        ++i_;
        if (!heredoc_delim_.empty()) SkipHeredocBody();
      } else if (c == '#' && !in_word_) {
        while (i_ < n && s_[i_] != '\n') ++i_;
      } else if (c == '\\') {
        if (i_ + 1 < n) {
          if (s_[i_ + 1] != '\n') {
            MarkQuoted();
            Push(s_[i_ + 1]);
          }
          i_ += 2;
        } else {
          ++i_;
        }
      } else if (c == '\'') {
        SingleQuoted();
      } else if (c == '$' && i_ + 1 < n && s_[i_ + 1] == '\'') {
        ++i_;
        AnsiCQuoted();
      } else if (c == '"') {
        DoubleQuoted();
      } else if (c == '$' && i_ + 1 < n && (s_[i_ + 1] == '(' || s_[i_ + 1] == '{')) {
        CopyBalanced();
      } else if (c == '`') {
        CopyBackquoted();
      } else if (c == '|' || c == '&' || c == ';' || c == '(' || c == ')' || c == '<' || c == '>') {
        Operator();
      } else {
        Push(c);
        ++i_;
      }
    }
    Flush();
    if (truncated) *truncated = *truncated || truncated_;
    if (unbalanced) *unbalanced = *unbalanced || unbalanced_;
    return std::move(out_);
  }

 private:
  void MarkQuoted() {
    if (!quoted_) quote_start_ = cur_.size();
    quoted_ = true;
  }
  void Push(char c) {
    in_word_ = true;
    if (cur_.size() < limits_.max_token_bytes) {
      cur_.push_back(c);
    } else {
      truncated_ = true;
    }
  }
  void Flush() {
    if (!in_word_) return;
    if (out_.size() < limits_.max_tokens) {
      if (heredoc_pending_) {
        heredoc_delim_ = cur_;
        heredoc_pending_ = false;
      }
      out_.push_back(Token{Token::kWord, std::move(cur_), quoted_, quoted_ ? quote_start_ : std::string::npos});
    } else {
      truncated_ = true;
    }
    cur_.clear();
    in_word_ = false;
    quoted_ = false;
  }
  void Op(std::string op) {
    Flush();
    if (out_.size() < limits_.max_tokens) {
      out_.push_back(Token{Token::kOperator, std::move(op), false, std::string::npos});
    } else {
      truncated_ = true;
    }
  }
  // Skips the lines of a here-document up to the line equal to its delimiter.
  void SkipHeredocBody() {
    const size_t n = s_.size();
    while (i_ < n) {
      size_t end = s_.find('\n', i_);
      if (end == std::string_view::npos) end = n;
      std::string_view line = s_.substr(i_, end - i_);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
      i_ = end < n ? end + 1 : n;
      if (line == heredoc_delim_) break;
    }
    heredoc_delim_.clear();
  }
  void SingleQuoted() {
    in_word_ = true;
    MarkQuoted();
    ++i_;
    const size_t close = s_.find('\'', i_);
    const size_t end = close == std::string_view::npos ? s_.size() : close;
    for (size_t k = i_; k < end; ++k) Push(s_[k]);
    if (close == std::string_view::npos) unbalanced_ = true;
    i_ = close == std::string_view::npos ? s_.size() : close + 1;
  }
  void AnsiCQuoted() {  // at the quote after '$'
    in_word_ = true;
    MarkQuoted();
    ++i_;
    const size_t n = s_.size();
    while (i_ < n && s_[i_] != '\'') {
      if (s_[i_] == '\\' && i_ + 1 < n) {
        const char e = s_[i_ + 1];
        Push(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        i_ += 2;
      } else {
        Push(s_[i_++]);
      }
    }
    if (i_ >= n) unbalanced_ = true;
    i_ = std::min(n, i_ + 1);
  }
  void DoubleQuoted() {
    in_word_ = true;
    MarkQuoted();
    ++i_;
    const size_t n = s_.size();
    while (i_ < n && s_[i_] != '"') {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < n &&
          (s_[i_ + 1] == '$' || s_[i_ + 1] == '`' || s_[i_ + 1] == '"' || s_[i_ + 1] == '\\' ||
           s_[i_ + 1] == '\n')) {
        if (s_[i_ + 1] != '\n') Push(s_[i_ + 1]);
        i_ += 2;
      } else if (c == '$' && i_ + 1 < n && (s_[i_ + 1] == '(' || s_[i_ + 1] == '{')) {
        CopyBalanced();
      } else if (c == '`') {
        CopyBackquoted();
      } else {
        Push(c);
        ++i_;
      }
    }
    if (i_ >= n) unbalanced_ = true;
    i_ = std::min(n, i_ + 1);
  }
  // Copies `$( ... )` or `${ ... }` verbatim into the current word; nesting and quotes inside are
  // tracked so a ')' in a quoted string does not end it. Linear: every byte is visited once.
  void CopyBalanced() {
    const char open = s_[i_ + 1];
    const char close = open == '(' ? ')' : '}';
    Push('$');
    Push(open);
    i_ += 2;
    int depth = 1;
    char quote = 0;
    const size_t n = s_.size();
    while (i_ < n && depth > 0) {
      const char c = s_[i_];
      if (quote) {
        if (c == '\\' && quote == '"' && i_ + 1 < n) {
          Push(c);
          ++i_;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\\' && i_ + 1 < n) {
        Push(c);
        ++i_;
      } else if (c == open) {
        ++depth;
      } else if (c == close) {
        --depth;
      }
      Push(s_[i_]);
      ++i_;
    }
    if (depth > 0) unbalanced_ = true;
  }
  void CopyBackquoted() {
    Push('`');
    ++i_;
    const size_t close = s_.find('`', i_);
    const size_t end = close == std::string_view::npos ? s_.size() : close;
    for (size_t k = i_; k < end; ++k) Push(s_[k]);
    if (close == std::string_view::npos) {
      unbalanced_ = true;
      i_ = s_.size();
    } else {
      Push('`');
      i_ = close + 1;
    }
  }
  bool At(std::string_view lit) const { return s_.substr(i_, lit.size()) == lit; }
  void Operator() {
    const char c = s_[i_];
    // "2>" / "1<": a short all-digit unquoted word directly before a redirection is its fd.
    std::string fd;
    if ((c == '<' || c == '>') && in_word_ && !quoted_ && AllDigits(cur_)) {
      fd = std::move(cur_);
      cur_.clear();
      in_word_ = false;
    }
    // Process substitution <( ... ) / >( ... ) is a word (a path to a pipe).
    if ((c == '<' || c == '>') && i_ + 1 < s_.size() && s_[i_ + 1] == '(') {
      Flush();
      Push(c);
      ++i_;
      // Reuse the $( ) copier by pretending the '(' is preceded by '$'.
      const size_t n = s_.size();
      int depth = 0;
      while (i_ < n) {
        if (s_[i_] == '(') ++depth;
        if (s_[i_] == ')') --depth;
        Push(s_[i_++]);
        if (depth == 0) break;
      }
      if (depth != 0) unbalanced_ = true;
      Flush();
      return;
    }
    static const char* kOps[] = {"&>>", "<<<", "<<-", "||", "|&", "&&", "&>", ";;", "<<", "<>", "<&",
                                 ">>", ">&", ">|", "|", "&", ";", "(", ")", "<", ">"};
    for (const char* op : kOps) {
      if (At(op)) {
        std::string text = op;
        i_ += text.size();
        if (text == ";;") text = ";";
        if (text == "<<-") text = "<<";
        if (text == "<<") heredoc_pending_ = true;
        Op(fd + text);
        return;
      }
    }
    Push(c);  // unreachable with the table above, kept for safety
    ++i_;
  }

  std::string_view s_;
  const ParseLimits& limits_;
  size_t i_ = 0;
  std::vector<Token> out_;
  std::string cur_;
  bool in_word_ = false;
  bool quoted_ = false;
  size_t quote_start_ = std::string::npos;
  bool truncated_ = false;
  bool unbalanced_ = false;
  bool heredoc_pending_ = false;
  std::string heredoc_delim_;
};

bool IsConnector(const std::string& op) {
  return op == "|" || op == "|&" || op == "&&" || op == "||" || op == ";" || op == "&";
}

bool IsAssignment(const Token& t) {
  if (t.kind != Token::kWord) return false;
  const size_t eq = t.text.find('=');
  if (eq == std::string::npos || eq == 0 || eq >= t.quote_start) return false;
  if (!(std::isalpha(static_cast<unsigned char>(t.text[0])) || t.text[0] == '_')) return false;
  for (size_t k = 0; k < eq; ++k) {
    const unsigned char ch = t.text[k];
    if (!(std::isalnum(ch) || ch == '_')) return false;
  }
  return true;
}

bool IsKeyword(const std::string& w) {
  static const char* kWords[] = {"{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done",
                                 "while", "until", "esac", "in"};
  return std::any_of(std::begin(kWords), std::end(kWords), [&](const char* k) { return w == k; });
}

bool Contains(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// Parses "30", "1.5m", "2h" (timeout's DURATION) into seconds; 0 when not a duration.
double ParseDurationSeconds(std::string_view text) {
  if (text.empty()) return 0;
  std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !(v >= 0) || v > 1e9) return 0;
  const std::string unit(end);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  if (unit == "d") return v * 86400;
  return 0;
}

// Index of the first argument after a wrapper's options. `with_arg` lists options taking a
// separate value; `--opt=value` and attached short values ("-n10") need no listing.
size_t SkipOptions(const std::vector<std::string>& argv, size_t i,
                   std::initializer_list<std::string_view> with_arg) {
  while (i < argv.size()) {
    const std::string& a = argv[i];
    if (a == "--") return i + 1;
    if (a.size() < 2 || a[0] != '-') return i;
    if (Contains(with_arg, a)) {
      i += 2;
    } else {
      ++i;
    }
  }
  return i;
}

class Parser {
 public:
  Parser(const ParseLimits& limits, ParsedCommand* out) : limits_(limits), out_(out) {}

  void ParseText(std::string_view text, int depth, int subshell_base, const Stage* outer,
                 std::string connector_before) {
    ParseLimits lim = limits_;
    lim.max_tokens = budget_;
    bool truncated = false, unbalanced = false;
    std::vector<Token> tokens = Tokenizer(text, lim).Run(&truncated, &unbalanced);
    budget_ -= std::min(budget_, tokens.size());
    if (truncated) out_->truncated = true;
    if (unbalanced) out_->unbalanced = true;
    ParseTokens(tokens, depth, subshell_base, outer, std::move(connector_before));
  }

 private:
  void ParseTokens(const std::vector<Token>& tokens, int depth, int subshell_base, const Stage* outer,
                   std::string connector) {
    Stage cur;
    int paren = subshell_base;
    bool skip_to_separator = false;
    for (size_t k = 0; k < tokens.size(); ++k) {
      const Token& t = tokens[k];
      if (t.kind == Token::kOperator) {
        if (IsConnector(t.text)) {
          skip_to_separator = false;
          cur.background = t.text == "&";
          Finish(&cur, depth, paren, outer, &connector);
          connector = t.text;
        } else if (t.text == "(") {
          if (cur.argv.empty()) ++paren;
        } else if (t.text == ")") {
          Finish(&cur, depth, paren, outer, &connector);
          paren = std::max(subshell_base, paren - 1);
        } else {
          Redirection r;
          size_t p = 0;
          while (p < t.text.size() && std::isdigit(static_cast<unsigned char>(t.text[p]))) ++p;
          if (p > 0) r.fd = std::atoi(t.text.substr(0, p).c_str());
          r.op = t.text.substr(p);
          if (k + 1 < tokens.size() && tokens[k + 1].kind == Token::kWord) r.target = tokens[++k].text;
          cur.redirections.push_back(std::move(r));
        }
        continue;
      }
      if (skip_to_separator) continue;
      if (cur.argv.empty() && IsAssignment(t)) {
        const size_t eq = t.text.find('=');
        cur.env.emplace_back(t.text.substr(0, eq), t.text.substr(eq + 1));
      } else if (cur.argv.empty() && !t.quoted && IsKeyword(t.text)) {
        // shell grammar words carry no resource information
      } else if (cur.argv.empty() && !t.quoted && (t.text == "for" || t.text == "case" || t.text == "select")) {
        skip_to_separator = true;  // `for x in a b c;` — the loop header is not a command
      } else {
        cur.argv.push_back(t.text);
      }
    }
    Finish(&cur, depth, paren, outer, &connector);
  }

  void Finish(Stage* cur, int depth, int paren, const Stage* outer, std::string* connector) {
    if (cur->argv.empty() && cur->redirections.empty() && cur->env.empty()) {
      *cur = Stage();
      return;
    }
    // `( ... ) > log`: redirections after a subshell apply to it; give them to its last stage.
    if (cur->argv.empty() && cur->env.empty() && !out_->stages.empty()) {
      Stage& last = out_->stages.back();
      last.redirections.insert(last.redirections.end(), cur->redirections.begin(), cur->redirections.end());
      *cur = Stage();
      connector->clear();
      return;
    }
    Stage s = std::move(*cur);
    *cur = Stage();
    s.subshell_depth = paren;
    if (outer != nullptr) {  // stages of `sh -c SCRIPT` inherit the wrapping command's context
      s.wrappers.insert(s.wrappers.begin(), outer->wrappers.begin(), outer->wrappers.end());
      s.env.insert(s.env.begin(), outer->env.begin(), outer->env.end());
      if (s.timeout_seconds == 0) s.timeout_seconds = outer->timeout_seconds;
    }
    Unwrap(std::move(s), depth, *connector);
    connector->clear();
  }

  void Append(Stage s, const std::string& connector) {
    if (out_->stages.size() >= limits_.max_stages) {
      out_->truncated = true;
      return;
    }
    if (!out_->stages.empty()) {
      const std::string c = connector.empty() ? ";" : connector;
      s.piped_in = c == "|" || c == "|&";
      out_->connectors.push_back(c);
    }
    out_->stages.push_back(std::move(s));
  }

  // Strips wrappers off the front of argv; `sh -c SCRIPT` is parsed recursively in place.
  void Unwrap(Stage s, int depth, const std::string& connector) {
    for (int guard = 0; guard < 32 && !s.argv.empty(); ++guard) {
      std::vector<std::string>& a = s.argv;
      const std::string name(Basename(a[0]));
      size_t cmd = 0;
      if (name == "sudo" || name == "doas") {
        cmd = SkipOptions(a, 1, {"-u", "-g", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-h"});
      } else if (name == "env") {
        cmd = SkipOptions(a, 1, {"-u", "-C", "-S", "--unset", "--chdir", "--split-string"});
        while (cmd < a.size()) {
          Token t{Token::kWord, a[cmd], false, std::string::npos};
          if (!IsAssignment(t)) break;
          const size_t eq = a[cmd].find('=');
          s.env.emplace_back(a[cmd].substr(0, eq), a[cmd].substr(eq + 1));
          ++cmd;
        }
      } else if (name == "nice") {
        cmd = SkipOptions(a, 1, {"-n", "--adjustment"});
      } else if (name == "ionice") {
        cmd = SkipOptions(a, 1, {"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"});
      } else if (name == "timeout") {
        cmd = SkipOptions(a, 1, {"-s", "-k", "--signal", "--kill-after"});
        if (cmd < a.size()) s.timeout_seconds = ParseDurationSeconds(a[cmd++]);
      } else if (name == "time") {
        cmd = SkipOptions(a, 1, {"-f", "-o", "--format", "--output"});
      } else if (name == "nohup" || name == "builtin") {
        cmd = SkipOptions(a, 1, {});
      } else if (name == "exec") {
        cmd = SkipOptions(a, 1, {"-a"});
      } else if (name == "command") {
        if (a.size() > 1 && (a[1] == "-v" || a[1] == "-V")) break;  // a lookup, not a run
        cmd = SkipOptions(a, 1, {});
      } else if (name == "stdbuf") {
        cmd = SkipOptions(a, 1, {"-i", "-o", "-e"});
      } else if (name == "taskset" || name == "chrt") {
        cmd = SkipOptions(a, 1, {});
        if (cmd < a.size()) ++cmd;  // the CPU mask / priority
      } else if (name == "numactl") {
        cmd = SkipOptions(a, 1, {"-N", "-m", "-C", "-p", "-i", "-P"});
      } else if (name == "xargs") {
        cmd = SkipOptions(a, 1, {"-n", "-P", "-I", "-L", "-d", "-s", "-E", "-a", "--max-args",
                                 "--max-procs", "--replace", "--delimiter", "--arg-file", "--max-lines"});
        if (cmd >= a.size()) {  // xargs with no command runs echo
          s.wrappers.push_back(name);
          a = {"echo"};
          break;
        }
      } else if (name == "sh" || name == "bash" || name == "dash" || name == "zsh" || name == "ksh") {
        size_t i = 1;
        const std::string* script = nullptr;
        while (i < a.size() && a[i].size() >= 2 && (a[i][0] == '-' || a[i][0] == '+')) {
          if (a[i] == "-o" || a[i] == "+o") {
            i += 2;
            continue;
          }
          if (a[i][0] == '-' && a[i][1] != '-' && a[i].find('c') != std::string::npos) {
            if (i + 1 < a.size()) script = &a[i + 1];
            break;
          }
          ++i;
        }
        if (script == nullptr) break;  // `bash script.sh`: the shell is the program
        if (depth + 1 > limits_.max_nesting) {
          out_->truncated = true;
          break;
        }
        Stage outer;
        outer.wrappers = s.wrappers;
        outer.wrappers.push_back(name + " -c");
        outer.env = s.env;
        outer.timeout_seconds = s.timeout_seconds;
        const size_t before = out_->stages.size();
        ParseText(*script, depth + 1, s.subshell_depth + 1, &outer, connector);
        // Redirections on `sh -c` apply to the script as a whole: give them to its last stage.
        if (out_->stages.size() > before) {
          Stage& last = out_->stages.back();
          last.redirections.insert(last.redirections.end(), s.redirections.begin(), s.redirections.end());
          last.background = last.background || s.background;
          if (before < out_->stages.size()) {
            out_->stages[before].piped_in = connector == "|" || connector == "|&";
          }
        }
        return;
      } else {
        break;
      }
      if (cmd >= a.size()) break;  // a bare wrapper (`time`, `sudo -l`) is itself the program
      s.wrappers.push_back(name);
      a.erase(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(cmd));
    }
    Append(std::move(s), connector);
  }

  const ParseLimits& limits_;
  ParsedCommand* out_;
  size_t budget_ = 0;

 public:
  void SetBudget(size_t b) { budget_ = b; }
};

}  // namespace

std::string_view Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::vector<Token> Tokenize(std::string_view command, const ParseLimits& limits, bool* truncated,
                            bool* unbalanced) {
  return Tokenizer(command, limits).Run(truncated, unbalanced);
}

ParsedCommand ParseCommand(std::string_view command, const ParseLimits& limits) {
  ParsedCommand out;
  Parser p(limits, &out);
  p.SetBudget(limits.max_tokens);
  p.ParseText(command, 0, 0, nullptr, "");
  return out;
}

}  // namespace prescient::analysis
