#include "analysis/command_features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace prescient::analysis {
namespace {

bool In(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Programs whose first positional argument is a subcommand, with their global options that take a
// separate value (so `git -C dir push` finds "push").
struct SubcommandRule {
  std::initializer_list<std::string_view> programs;
  std::initializer_list<std::string_view> options_with_value;
};
const SubcommandRule kSubcommandRules[] = {
    {{"git"}, {"-C", "-c", "--git-dir", "--work-tree", "--namespace"}},
    {{"docker", "podman", "nerdctl"}, {"-H", "--host", "-c", "--context", "-l", "--log-level", "--config"}},
    {{"kubectl", "oc"}, {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server"}},
    {{"helm"}, {"-n", "--namespace", "--kube-context", "--kubeconfig"}},
    {{"aws"}, {"--region", "--profile", "--output", "--endpoint-url", "--query"}},
    {{"gcloud", "az", "gh", "terraform", "tofu", "systemctl", "openssl", "cargo", "go", "npm", "yarn",
      "pnpm", "pip", "pip3", "conda", "apt", "apt-get", "apt-cache", "dnf", "yum", "brew", "mvn",
      "gradle", "dotnet", "rustup", "snap", "flatpak", "virsh", "ip", "kubeadm", "etcdctl", "mc",
      "rclone", "restic", "borg", "zfs", "zpool", "btrfs", "ceph", "nix", "dpkg", "rpm", "make",
      "gmake", "ninja", "bazel", "cmake", "ctest", "redis-cli", "valkey-cli"},
     {"-C", "-f", "--file", "-h", "-p", "-a", "-n", "--build", "-j", "-l", "-o", "-r", "-u"}},
};
// Programs whose subcommand is two words (`aws s3 cp`, `docker compose up`).
bool TwoWordSubcommand(std::string_view program, std::string_view first) {
  if (program == "aws" || program == "gcloud" || program == "az") return true;
  if (program == "docker" || program == "podman")
    return In({"compose", "image", "container", "volume", "network", "system", "buildx", "builder"}, first);
  if (program == "kubectl" || program == "oc")
    return In({"rollout", "config", "top", "auth", "certificate", "create"}, first);
  return false;
}

std::string DetectSubcommand(const std::string& program, const std::vector<std::string>& argv) {
  // tar: mode and compression from the bundled first argument or the flags ("czf", "-xJf", "--zstd").
  if (program == "tar" || program == "bsdtar") {
    char mode = 0, comp = 0;
    for (size_t i = 1; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      const bool bundle = (i == 1 && !a.empty() && a[0] != '-') || (a.size() >= 2 && a[0] == '-' && a[1] != '-');
      if (bundle) {
        for (char c : a) {
          if (c == 'c' || c == 'x' || c == 't' || c == 'r' || c == 'u') mode = mode ? mode : c;
          if (c == 'z' || c == 'j' || c == 'J' || c == 'Z') comp = c;
        }
      } else if (a == "--create") mode = 'c';
      else if (a == "--extract" || a == "--get") mode = 'x';
      else if (a == "--list") mode = 't';
      else if (a == "--gzip" || a == "--gunzip") comp = 'z';
      else if (a == "--bzip2") comp = 'j';
      else if (a == "--xz") comp = 'J';
      else if (a == "--zstd") comp = 's';
      else if (StartsWith(a, "--use-compress-program") || a == "-I") comp = 'p';
    }
    std::string out;
    if (mode) out.push_back(mode);
    if (comp) {
      out.push_back('+');
      out.push_back(comp);
    }
    return out;
  }
  if (program == "pg_dump" || program == "pg_restore" || program == "pg_dumpall") {
    for (size_t i = 1; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "-F" || a == "--format") {
        if (i + 1 < argv.size()) return "format=" + argv[i + 1].substr(0, 1);
      } else if (StartsWith(a, "-F") && a.size() > 2) {
        return "format=" + a.substr(2, 1);
      } else if (StartsWith(a, "--format=") && a.size() > 9) {
        return "format=" + a.substr(9, 1);
      }
    }
    return program == "pg_dump" ? "format=p" : "";
  }
  if (program == "dd") return "";
  // Interpreters: the script or module is what runs.
  if (In({"python", "python2", "python3", "node", "nodejs", "ruby", "perl", "php", "Rscript", "bash",
          "sh", "dash", "zsh", "deno", "bun", "java"}, program) ||
      StartsWith(program, "python3.")) {
    for (size_t i = 1; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "-m" || a == "-jar") return i + 1 < argv.size() ? a + " " + argv[i + 1] : a;
      if (a == "-c" || a == "-e" || a == "-E" || a == "--eval") return "inline";
      if (!a.empty() && a[0] != '-') return std::string(Basename(a));
    }
    return "";
  }
  for (const SubcommandRule& rule : kSubcommandRules) {
    if (!In(rule.programs, program)) continue;
    std::string first;
    size_t i = 1;
    for (; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a.empty()) continue;
      if (a[0] == '-') {
        if (In(rule.options_with_value, a)) ++i;
        continue;
      }
      if ((program == "make" || program == "gmake") && a.find('=') != std::string::npos) continue;
      first = a;
      break;
    }
    if (first.empty()) return "";
    if (first.size() > 40) first = first.substr(0, 40);
    if (TwoWordSubcommand(program, first)) {
      for (size_t j = i + 1; j < argv.size(); ++j) {
        if (!argv[j].empty() && argv[j][0] != '-') return first + " " + argv[j].substr(0, 40);
      }
    }
    return first;
  }
  return "";
}

bool IsParallelismFlag(const std::string& program, std::string_view f) {
  if (In({"-j", "--jobs", "--threads", "-T", "--parallel", "-P", "--max-procs", "-@", "--workers",
          "--cpus", "-nt"}, f))
    return true;
  return f == "-p" && (program == "pigz" || program == "pbzip2" || program == "lbzip2");
}
bool IsLevelFlag(std::string_view f) { return In({"-N", "--level", "-l", "--compression-level", "-Z"}, f); }
bool IsSizeFlag(std::string_view f) {
  return In({"-S", "--buffer-size", "bs", "ibs", "obs", "--size", "-s", "-c", "--bytes", "--memory",
             "-m", "--block-size", "-b", "--limit", "--mem"}, f);
}
bool IsCountFlag(std::string_view f) {
  return In({"count", "-n", "--count", "--iterations", "-i", "--lines", "--rows", "--number",
             "--requests", "-r", "--loops", "--repeat"}, f);
}

void AddFlag(StageFeatures* st, std::string name) {
  if (name.size() > 40) name = name.substr(0, 40);
  st->flags.push_back(std::move(name));
}

void ExtractStage(const Stage& s, StageFeatures* st) {
  st->program = std::string(Basename(s.argv.empty() ? std::string_view() : std::string_view(s.argv[0])));
  if (st->program.size() > 64) st->program = st->program.substr(0, 64);
  st->subcommand = s.argv.empty() ? "" : DetectSubcommand(st->program, s.argv);
  st->wrappers = s.wrappers;
  st->piped_in = s.piped_in;
  const size_t n = s.argv.size();
  for (size_t i = 1; i < n; ++i) {
    const std::string& a = s.argv[i];
    double v = 0;
    bool unit = false;
    if (a.size() >= 2 && a[0] == '-') {
      if (a[1] == '-') {  // --name or --name=value
        const size_t eq = a.find('=');
        const std::string name = a.substr(0, eq);
        AddFlag(st, name);
        if (eq != std::string::npos) {
          const std::string value = a.substr(eq + 1);
          if (ParseNumberWithUnit(value, &v, &unit)) st->numbers.push_back({name, v, unit});
          else if (LooksLikePath(value)) st->paths.push_back(value);
        } else if (i + 1 < n && ParseNumberWithUnit(s.argv[i + 1], &v, &unit)) {
          st->numbers.push_back({name, v, unit});
          ++i;
        }
        continue;
      }
      if (ParseNumberWithUnit(std::string_view(a).substr(1), &v, &unit) && !unit) {  // -9, -19
        AddFlag(st, "-N");
        st->numbers.push_back({"-N", v, false});
        continue;
      }
      if (std::isalpha(static_cast<unsigned char>(a[1])) && a.size() > 2 &&
          ParseNumberWithUnit(std::string_view(a).substr(2), &v, &unit)) {  // -j8, -S100M
        const std::string name = a.substr(0, 2);
        AddFlag(st, name);
        st->numbers.push_back({name, v, unit});
        continue;
      }
      AddFlag(st, a);
      if (a.size() == 2 && i + 1 < n && ParseNumberWithUnit(s.argv[i + 1], &v, &unit)) {  // -n 5
        st->numbers.push_back({a, v, unit});
        ++i;
      }
      continue;
    }
    const size_t eq = a.find('=');
    if (eq != std::string::npos && eq > 0 && eq < 20 &&
        std::all_of(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(eq),
                    [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.'; })) {
      const std::string key = a.substr(0, eq);  // dd-style key=value
      const std::string value = a.substr(eq + 1);
      AddFlag(st, key + "=");
      if (ParseNumberWithUnit(value, &v, &unit)) st->numbers.push_back({key, v, unit});
      else if (LooksLikePath(value)) st->paths.push_back(value);
      continue;
    }
    if (ParseNumberWithUnit(a, &v, &unit)) {
      st->numbers.push_back({"", v, unit});
    } else if (LooksLikePath(a)) {
      st->paths.push_back(a);
    } else if (a != st->subcommand) {
      st->words.push_back(a);
    }
  }
  for (const Redirection& r : s.redirections) {
    const bool in = !r.op.empty() && r.op[0] == '<' && r.op != "<&";
    if (in) {
      ++st->input_redirects;
      if (r.op == "<") st->paths.push_back(r.target);
    } else if (r.op == ">" || r.op == ">>" || r.op == "&>" || r.op == "&>>" || r.op == ">|") {
      ++st->output_redirects;
      if ((r.fd == -1 || r.fd == 1) && r.target == "/dev/null") st->stdout_to_devnull = true;
      if (r.target != "/dev/null") st->paths.push_back(r.target);
    }
  }
  std::sort(st->flags.begin(), st->flags.end());
  st->flags.erase(std::unique(st->flags.begin(), st->flags.end()), st->flags.end());
  uint64_t h = Fnv1a64("");
  for (const std::string& f : st->flags) h = Fnv1a64(f, h ^ 0x9e3779b97f4a7c15ULL);
  st->flags_hash = h;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void AppendStageKey(const StageFeatures& st, bool detailed, std::string* out) {
  out->append(st.program);
  if (!st.subcommand.empty()) {
    out->push_back(':');
    out->append(st.subcommand);
  }
  if (!detailed) return;
  for (const std::string& f : st.flags) {
    out->push_back(' ');
    out->append(f);
    for (const NumericArg& n : st.numbers) {
      if (n.name == f || (n.name + "=") == f) {
        out->push_back('=');
        out->append(FormatNumber(n.value));
        break;
      }
    }
  }
  for (const NumericArg& n : st.numbers) {
    if (n.name.empty()) {
      out->push_back(' ');
      out->append(FormatNumber(n.value));
    }
  }
  // Positional words are data names (files without a dot, hosts, ids) for most programs and would
  // split history needlessly; for databases and interpreters they are the work itself (SQL text,
  // database names, inline code), so they are part of the key there (long ones hashed).
  const ProgramCategory cat = CategoryOf(st.program);
  const bool words_matter = cat == ProgramCategory::kDatabase || cat == ProgramCategory::kInterpreter;
  int kept = words_matter ? 0 : 1 << 20;
  for (const std::string& w : st.words) {
    if (++kept > 4) break;
    out->push_back(' ');
    if (w.size() <= 32) {
      out->append(w);
    } else {
      char buf[24];
      std::snprintf(buf, sizeof buf, "#%016llx", static_cast<unsigned long long>(Fnv1a64(w)));
      out->append(buf);
    }
  }
  if (st.input_redirects) out->append(" <");
  if (st.output_redirects) out->append(st.stdout_to_devnull ? " >null" : " >");
}

}  // namespace

uint64_t Fnv1a64(std::string_view text, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool ParseNumberWithUnit(std::string_view text, double* value, bool* has_unit) {
  if (text.empty() || text.size() > 24) return false;
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return false;
  const double v = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  std::string unit(text.substr(i));
  double mult = 1;
  bool u = false;
  if (!unit.empty()) {
    if (unit == "%") {
      mult = 1;
    } else {
      const char p = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
      const std::string rest = unit.substr(1);
      int power = 0;
      switch (p) {
        case 'K': power = 1; break;
        case 'M': power = 2; break;
        case 'G': power = 3; break;
        case 'T': power = 4; break;
        case 'P': power = 5; break;
        case 'B': power = 0; break;
        default: return false;
      }
      if (p == 'B' && !rest.empty()) return false;
      double base = 1024;
      if (rest == "B" || rest == "b") {
        base = 1000;  // KB, MB, GB: decimal (as dd and most tools read them)
      } else if (!(rest.empty() || rest == "i" || rest == "iB" || rest == "ib")) {
        return false;
      }
      mult = std::pow(base, power);
      u = true;
    }
  }
  *value = v * mult;
  *has_unit = u;
  return std::isfinite(*value);
}

bool LooksLikePath(std::string_view w) {
  if (w.empty() || w.size() > 4096) return false;
  if (w.find("://") != std::string_view::npos) return false;  // URLs are endpoints, not paths
  if (w.find('/') != std::string_view::npos || w[0] == '.' || w[0] == '~') return true;
  const size_t dot = w.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= w.size() || w.size() - dot - 1 > 5) return false;
  for (size_t k = dot + 1; k < w.size(); ++k) {
    if (!std::isalnum(static_cast<unsigned char>(w[k]))) return false;
  }
  return std::isalpha(static_cast<unsigned char>(w[dot + 1])) != 0;
}

ProgramCategory CategoryOf(std::string_view p) {
  static const std::unordered_map<std::string_view, ProgramCategory> kTable = [] {
    std::unordered_map<std::string_view, ProgramCategory> t;
    auto add = [&t](ProgramCategory c, std::initializer_list<std::string_view> names) {
      for (auto n : names) t.emplace(n, c);
    };
    using C = ProgramCategory;
    add(C::kCompression, {"gzip", "gunzip", "zcat", "pigz", "unpigz", "bzip2", "bunzip2", "bzcat",
                          "pbzip2", "lbzip2", "xz", "unxz", "xzcat", "lzma", "zstd", "unzstd", "zstdcat",
                          "pzstd", "lz4", "unlz4", "brotli", "zip", "unzip", "7z", "7za", "lzop", "compress"});
    add(C::kArchive, {"tar", "bsdtar", "cpio", "ar", "pax"});
    add(C::kHashing, {"sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "md5sum", "b2sum",
                      "cksum", "sum", "xxhsum", "b3sum", "crc32"});
    add(C::kText, {"sort", "uniq", "awk", "gawk", "mawk", "sed", "grep", "egrep", "fgrep", "rg", "cut",
                   "tr", "wc", "join", "paste", "head", "tail", "tac", "rev", "comm", "diff", "cmp",
                   "jq", "yq", "column", "fold", "fmt", "nl", "split", "csplit", "shuf", "base64",
                   "base32", "xxd", "od", "hexdump", "strings", "iconv", "bc", "seq", "factor", "numfmt"});
    add(C::kCompiler, {"gcc", "g++", "cc", "c++", "clang", "clang++", "rustc", "javac", "tsc", "ld",
                       "as", "gfortran", "nvcc", "cpp", "ghc", "ocamlopt", "swiftc", "zig"});
    add(C::kBuild, {"make", "gmake", "cmake", "ninja", "cargo", "go", "mvn", "gradle", "bazel", "meson",
                    "npm", "yarn", "pnpm", "pip", "pip3", "dotnet", "scons", "ctest"});
    add(C::kDatabase, {"psql", "pg_dump", "pg_dumpall", "pg_restore", "pgbench", "mysql", "mysqldump",
                       "mariadb", "mariadb-dump", "sqlite3", "mongosh", "mongo", "mongodump",
                       "mongorestore", "mongoexport", "mongoimport", "redis-cli", "redis-benchmark",
                       "valkey-cli", "clickhouse-client", "cqlsh", "duckdb", "createdb", "dropdb",
                       "vacuumdb", "reindexdb", "kafka-console-producer", "kafka-console-consumer",
                       "kafka-topics", "etcdctl"});
    add(C::kNetwork, {"curl", "wget", "rsync", "scp", "sftp", "ssh", "nc", "ncat", "netcat", "socat",
                      "aws", "gsutil", "rclone", "aria2c", "iperf3", "iperf", "ping", "dig", "nslookup",
                      "ab", "wrk", "hey", "s3cmd", "mc", "ftp", "lftp", "git"});
    add(C::kInterpreter, {"python", "python2", "python3", "node", "nodejs", "ruby", "perl", "php",
                          "Rscript", "R", "bash", "sh", "dash", "zsh", "ksh", "lua", "luajit", "java",
                          "deno", "bun", "julia", "tclsh"});
    add(C::kFilesystem, {"cp", "mv", "rm", "dd", "find", "du", "df", "ls", "ln", "mkdir", "rmdir", "touch",
                         "chmod", "chown", "stat", "sync", "truncate", "fallocate", "shred", "install",
                         "rsync", "tree", "file", "locate", "fio", "cat", "tee", "pv", "mktemp"});
    add(C::kContainer, {"docker", "podman", "nerdctl", "kubectl", "oc", "helm", "buildah", "skopeo",
                        "crictl", "ctr", "kind", "minikube", "virtctl"});
    add(C::kCrypto, {"openssl", "gpg", "gpg2", "age", "ssh-keygen", "certtool", "cryptsetup"});
    add(C::kMedia, {"ffmpeg", "ffprobe", "convert", "magick", "gm", "sox", "lame", "x264", "x265",
                    "pandoc", "pdftotext", "gs", "tesseract", "optipng", "jpegoptim", "cwebp"});
    add(C::kShellBuiltin, {"echo", "printf", "true", "false", "cd", "export", "set", "test", "[", "sleep",
                           "yes", "env", "pwd", "read", "wait", "exit", "unset", "source", "."});
    return t;
  }();
  std::string_view key = p;
  if (StartsWith(key, "python3.")) key = "python3";
  const auto it = kTable.find(key);
  return it == kTable.end() ? ProgramCategory::kUnknown : it->second;
}

CommandFeatures ExtractCommandFeatures(const ParsedCommand& parsed) {
  CommandFeatures f;
  f.truncated = parsed.truncated;
  f.connectors = parsed.connectors;
  f.stages.resize(parsed.stages.size());
  for (size_t i = 0; i < parsed.stages.size(); ++i) {
    const Stage& s = parsed.stages[i];
    StageFeatures& st = f.stages[i];
    ExtractStage(s, &st);
    f.max_subshell_depth = std::max(f.max_subshell_depth, s.subshell_depth);
    f.wrapper_count += static_cast<int>(s.wrappers.size());
    for (const std::string& w : s.wrappers) f.has_sudo = f.has_sudo || w == "sudo" || w == "doas";
    if (s.background) ++f.background;
    if (s.timeout_seconds > 0) f.timeout_seconds = std::max(f.timeout_seconds, s.timeout_seconds);
    f.flag_count += static_cast<int>(st.flags.size());
    f.path_count += static_cast<int>(st.paths.size());
    f.word_count += static_cast<int>(st.words.size());
    f.input_redirects += st.input_redirects;
    f.output_redirects += st.output_redirects;
    f.stdout_to_devnull = f.stdout_to_devnull || st.stdout_to_devnull;
    double bs = 0, count = 0;
    for (const NumericArg& n : st.numbers) {
      ++f.numeric_count;
      f.numeric_max = std::max(f.numeric_max, n.value);
      if (IsParallelismFlag(st.program, n.name)) f.parallelism = std::max(f.parallelism, n.value);
      if (IsLevelFlag(n.name)) f.compression_level = std::max(f.compression_level, n.value);
      if (n.has_unit || IsSizeFlag(n.name)) f.size_arg_bytes = std::max(f.size_arg_bytes, n.value);
      if (IsCountFlag(n.name)) f.count_arg = std::max(f.count_arg, n.value);
      if (n.name == "bs") bs = n.value;
      if (n.name == "count") count = n.value;
      if ((st.program == "head" || st.program == "tail") && (n.name == "-c" || n.name == "--bytes"))
        f.bytes_requested = std::max(f.bytes_requested, n.value);
    }
    if (st.program == "dd" && count > 0) f.bytes_requested = std::max(f.bytes_requested, (bs > 0 ? bs : 512) * count);
    for (const std::string& flag : st.flags) {
      if (flag == "--best") f.compression_level = std::max(f.compression_level, 9.0);
      if (flag == "--fast") f.compression_level = std::max(f.compression_level, 1.0);
    }
  }
  for (const Stage& s : parsed.stages) {
    for (size_t a = 1; a < s.argv.size(); ++a) {
      const std::string& w = s.argv[a];
      double v = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        const unsigned char ch = static_cast<unsigned char>(w[i]);
        if (std::isdigit(ch)) {
          if (v < 1e15) v = v * 10 + (ch - '0');
        } else {
          // "_" inside Python literals (5_120_000) continues a number
          if (!(ch == '_' && v > 0 && i + 1 < w.size() && std::isdigit(static_cast<unsigned char>(w[i + 1])))) {
            f.literal_max = std::max(f.literal_max, v);
            v = 0;
          }
        }
      }
      f.literal_max = std::max(f.literal_max, v);
    }
  }
  for (const std::string& c : parsed.connectors) {
    if (c == "|" || c == "|&") ++f.pipes;
    if (c == "&&" || c == "||") ++f.and_or;
  }
  // The main stage: the first one that does real work (not cd/echo/cat/export...).
  f.main_stage = 0;
  for (size_t i = 0; i < f.stages.size(); ++i) {
    const std::string& p = f.stages[i].program;
    const ProgramCategory c = CategoryOf(p);
    if (c != ProgramCategory::kShellBuiltin && p != "cat" && p != "pv" && p != "tee" && !p.empty()) {
      f.main_stage = static_cast<int>(i);
      break;
    }
  }
  if (!f.stages.empty()) {
    const StageFeatures& m = f.stages[static_cast<size_t>(f.main_stage)];
    f.program = m.program;
    f.subcommand = m.subcommand;
    f.category = CategoryOf(m.program);
  }
  for (size_t i = 0; i < f.stages.size(); ++i) {
    if (i > 0) {
      const std::string& c = f.connectors[i - 1];
      f.signature.append(" ").append(c).append(" ");
      f.shape.append(c);
    }
    AppendStageKey(f.stages[i], true, &f.signature);
    AppendStageKey(f.stages[i], false, &f.shape);
  }
  return f;
}

CommandFeatures AnalyzeCommand(std::string_view command) { return ExtractCommandFeatures(ParseCommand(command)); }

}  // namespace prescient::analysis
