// A small, deterministic stand-in for libFuzzer's driver, so every fuzz entry point
// (LLVMFuzzerTestOneInput) also runs in the ordinary test suite, with gcc, and under ASan/UBSan.
//
// It runs the entry point over a committed seed corpus (files, or directories of files, in name
// order), then over -runs=N mutations of those seeds drawn from a fixed-seed PRNG: the same
// command line always feeds the same inputs, so a failure in CI reproduces locally. It has no
// coverage feedback; hack/fuzz.sh builds the real libFuzzer binaries (clang) for long runs, and
// this driver accepts the libFuzzer flags that make sense without it, so the two share command
// lines and crash files:
//   NAME [-runs=N] [-seed=S] [-max_len=N] [-max_total_time=SEC] [-dict=FILE] [PATH...]
// A single file argument with -runs=0 replays exactly that input (a crash file, say).
//
// When a mutated input crashes, its bytes are written to ./fuzz-crash-<pid>.bin (from a signal handler,
// or the sanitizer's death callback under ASan/UBSan) and the input's origin is printed, so the
// report says which seed and mutation number failed and how to rerun it.
//
// Single-threaded; links into one executable with exactly one LLVMFuzzerTestOneInput.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define PRESCIENT_FUZZ_REPLAY_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PRESCIENT_FUZZ_REPLAY_SANITIZED 1
#endif
#ifdef PRESCIENT_FUZZ_REPLAY_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

using Bytes = std::vector<uint8_t>;

// ---- crash reporting (async-signal-safe: only write/open/close on preallocated state) ----

const uint8_t* g_current = nullptr;
size_t g_current_size = 0;
char g_origin[512] = "";
char g_crash_path[64] = "";
char g_argv0[256] = "";
bool g_current_is_file = false;  // a seed: already on disk, nothing to save

void WriteAll(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w <= 0) return;
    c += w;
    n -= static_cast<size_t>(w);
  }
}
void Say(const char* s) { WriteAll(2, s, std::strlen(s)); }

void DumpCurrentInput() {
  if (g_current == nullptr) return;
  Say("\nfuzz_replay: crashed on ");
  Say(g_origin);
  int fd = g_current_is_file ? -1 : ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    WriteAll(fd, g_current, g_current_size);
    ::close(fd);
    Say("\nfuzz_replay: input saved to ");
    Say(g_crash_path);
    Say("; rerun it with: ");
    Say(g_argv0);
    Say(" -runs=0 ");
    Say(g_crash_path);
  }
  Say("\n");
  g_current = nullptr;  // once
}

void OnFatalSignal(int sig) {
  DumpCurrentInput();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void InstallCrashReporting(const char* argv0) {
  std::snprintf(g_crash_path, sizeof g_crash_path, "fuzz-crash-%d.bin", static_cast<int>(::getpid()));
  std::snprintf(g_argv0, sizeof g_argv0, "%s", argv0);
#ifdef PRESCIENT_FUZZ_REPLAY_SANITIZED
  // The sanitizers report SIGSEGV/SIGBUS/SIGFPE and their own findings, then call this; abort()
  // and __builtin_trap() (SIGABRT, SIGILL) they leave alone.
  __sanitizer_set_death_callback(DumpCurrentInput);
  for (int sig : {SIGABRT, SIGILL}) ::signal(sig, OnFatalSignal);
#else
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, OnFatalSignal);
#endif
}

// ---- deterministic PRNG and mutator ----

// SplitMix64: tiny, and the same sequence on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }

 private:
  uint64_t s_;
};

class Mutator {
 public:
  Mutator(Rng* rng, const std::vector<Bytes>* seeds, const std::vector<Bytes>* dict, size_t max_len)
      : rng_(*rng), seeds_(*seeds), dict_(*dict), max_len_(max_len) {}

  // Applies 1..8 stacked mutations (libFuzzer stacks a few too).
  void Mutate(Bytes* b) {
    size_t n = 1 + rng_.Below(8);
    for (size_t i = 0; i < n; ++i) MutateOnce(b);
    if (b->size() > max_len_) b->resize(max_len_);
  }

 private:
  void MutateOnce(Bytes* b) {
    switch (rng_.Below(11)) {
      case 0:  // erase a range
        if (!b->empty()) {
          size_t at = rng_.Below(b->size());
          size_t len = 1 + rng_.Below(std::min<size_t>(16, b->size() - at));
          b->erase(b->begin() + at, b->begin() + at + len);
        }
        break;
      case 1: {  // insert random bytes
        size_t at = rng_.Below(b->size() + 1);
        size_t len = 1 + rng_.Below(4);
        for (size_t i = 0; i < len; ++i) b->insert(b->begin() + at, static_cast<uint8_t>(rng_.Next()));
        break;
      }
      case 2: {  // insert a run of one byte
        size_t at = rng_.Below(b->size() + 1);
        b->insert(b->begin() + at, 1 + rng_.Below(64), Interesting());
        break;
      }
      case 3:  // change a byte
        if (!b->empty()) (*b)[rng_.Below(b->size())] = static_cast<uint8_t>(rng_.Next());
        break;
      case 4:  // flip a bit
        if (!b->empty()) (*b)[rng_.Below(b->size())] ^= static_cast<uint8_t>(1u << rng_.Below(8));
        break;
      case 5:  // an interesting byte
        if (!b->empty()) (*b)[rng_.Below(b->size())] = Interesting();
        break;
      case 6:  // replace an ASCII number with an interesting one
        ChangeAsciiNumber(b);
        break;
      case 7: {  // duplicate a range of itself elsewhere
        if (b->empty()) break;
        size_t from = rng_.Below(b->size());
        size_t len = 1 + rng_.Below(std::min<size_t>(64, b->size() - from));
        Bytes part(b->begin() + from, b->begin() + from + len);
        b->insert(b->begin() + rng_.Below(b->size() + 1), part.begin(), part.end());
        break;
      }
      case 8: {  // crossover: splice in part of another seed
        if (seeds_.empty()) break;
        const Bytes& other = seeds_[rng_.Below(seeds_.size())];
        if (other.empty()) break;
        size_t from = rng_.Below(other.size());
        size_t len = 1 + rng_.Below(other.size() - from);
        size_t at = rng_.Below(b->size() + 1);
        if (rng_.OneIn(2) && at < b->size()) {
          b->erase(b->begin() + at, b->begin() + std::min(b->size(), at + len));
        }
        b->insert(b->begin() + at, other.begin() + from, other.begin() + from + len);
        break;
      }
      case 9:
      case 10: {  // a dictionary token, inserted or overwriting
        if (dict_.empty()) {
          MutateOnce(b);
          break;
        }
        const Bytes& tok = dict_[rng_.Below(dict_.size())];
        size_t at = rng_.Below(b->size() + 1);
        if (rng_.OneIn(2) && at + tok.size() <= b->size()) {
          std::copy(tok.begin(), tok.end(), b->begin() + at);
        } else {
          b->insert(b->begin() + at, tok.begin(), tok.end());
        }
        break;
      }
    }
  }

  uint8_t Interesting() {
    static const uint8_t kBytes[] = {0, 1, 0x7f, 0x80, 0xff, '\n', '"', '\\', '{', '[', '%', '\'', ' ', '-', '.'};
    return kBytes[rng_.Below(sizeof kBytes)];
  }

  void ChangeAsciiNumber(Bytes* b) {
    if (b->empty()) return;
    size_t start = rng_.Below(b->size());
    while (start < b->size() && !std::isdigit((*b)[start])) ++start;
    if (start == b->size()) return;
    size_t end = start;
    while (end < b->size() && std::isdigit((*b)[end])) ++end;
    static const char* kNumbers[] = {"0", "1", "-1", "2147483647", "2147483648", "4294967296",
                                     "9223372036854775807", "99999999999999999999", "1e308", "0.5"};
    std::string_view num = kNumbers[rng_.Below(std::size(kNumbers))];
    b->erase(b->begin() + start, b->begin() + end);
    b->insert(b->begin() + start, num.begin(), num.end());
  }

  Rng& rng_;
  const std::vector<Bytes>& seeds_;
  const std::vector<Bytes>& dict_;
  size_t max_len_;
};

// ---- inputs ----

bool ReadFile(const std::filesystem::path& p, Bytes* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// libFuzzer dictionary format: one token per line, `name="value"` or `"value"`, with \\, \" and
// \xAB escapes; '#' starts a comment line.
bool ParseDictionary(const std::string& path, std::vector<Bytes>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read dictionary " + path;
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    size_t open = line.find('"');
    size_t close = line.rfind('"');
    if (open == std::string::npos || close <= open) {
      *error = path + ":" + std::to_string(lineno) + ": expected a quoted token";
      return false;
    }
    Bytes tok;
    for (size_t i = open + 1; i < close; ++i) {
      char c = line[i];
      if (c == '\\' && i + 1 < close) {
        char e = line[++i];
        if (e == 'x' && i + 2 < close && std::isxdigit(line[i + 1]) && std::isxdigit(line[i + 2])) {
          tok.push_back(static_cast<uint8_t>(std::stoi(line.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else if (e == '\\' || e == '"') {
          tok.push_back(static_cast<uint8_t>(e));
        } else {
          *error = path + ":" + std::to_string(lineno) + ": unknown escape \\" + e;
          return false;
        }
      } else {
        tok.push_back(static_cast<uint8_t>(c));
      }
    }
    out->push_back(std::move(tok));
  }
  return true;
}

struct Options {
  uint64_t runs = 1000;
  uint64_t seed = 1;
  size_t max_len = 4096;
  double max_total_time = 0;  // seconds; 0 = no cap
  std::string dict;
  std::vector<std::string> paths;
};

bool ParseFlag(std::string_view arg, std::string_view name, std::string* value) {
  if (arg.size() < name.size() + 2 || arg[0] != '-' || arg.substr(1, name.size()) != name ||
      arg[name.size() + 1] != '=') {
    return false;
  }
  *value = std::string(arg.substr(name.size() + 2));
  return true;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string v;
    try {
      if (ParseFlag(a, "runs", &v)) {
        o->runs = std::stoull(v);
      } else if (ParseFlag(a, "seed", &v)) {
        o->seed = std::stoull(v);
      } else if (ParseFlag(a, "max_len", &v)) {
        o->max_len = std::stoull(v);
      } else if (ParseFlag(a, "max_total_time", &v)) {
        o->max_total_time = std::stod(v);
      } else if (ParseFlag(a, "dict", &v)) {
        o->dict = v;
      } else if (!a.empty() && a[0] == '-') {
        std::cerr << "fuzz_replay: ignoring flag " << a << " (only libFuzzer binaries use it)\n";
      } else {
        o->paths.emplace_back(a);
      }
    } catch (const std::exception&) {
      std::cerr << "fuzz_replay: bad value in " << a << "\n";
      return false;
    }
  }
  return true;
}

void RunOne(const Bytes& input, const std::string& origin, bool is_file) {
  g_current_is_file = is_file;
  std::snprintf(g_origin, sizeof g_origin, "%s", origin.c_str());
  // An exact-size heap copy, as libFuzzer passes it, so ASan sees reads one past the end.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size() + (input.empty() ? 1 : 0)]);
  std::copy(input.begin(), input.end(), copy.get());
  g_current = copy.get();
  g_current_size = input.size();
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  InstallCrashReporting(argv[0]);
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);

  std::vector<Bytes> seeds;
  std::vector<std::string> names;
  for (const std::string& p : o.paths) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.emplace_back(p);
    }
    for (const auto& f : files) {
      Bytes b;
      if (!ReadFile(f, &b)) {
        std::cerr << "fuzz_replay: cannot read " << f << "\n";
        return 2;
      }
      seeds.push_back(std::move(b));
      names.push_back(f.string());
    }
  }
  std::vector<Bytes> dict;
  if (!o.dict.empty()) {
    std::string error;
    if (!ParseDictionary(o.dict, &dict, &error)) {
      std::cerr << "fuzz_replay: " << error << "\n";
      return 2;
    }
  }
  if (seeds.empty() && o.runs > 0) {
    seeds.emplace_back();  // mutate from nothing
    names.emplace_back("(empty input)");
  }

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (size_t i = 0; i < seeds.size(); ++i) RunOne(seeds[i], "seed " + names[i], true);

  Rng rng(o.seed);
  Mutator mutator(&rng, &seeds, &dict, std::max<size_t>(o.max_len, 1));
  uint64_t done = 0;
  for (; done < o.runs; ++done) {
    if (o.max_total_time > 0 && elapsed() > o.max_total_time) break;
    size_t base = rng.Below(seeds.size());
    Bytes input = seeds[base];
    mutator.Mutate(&input);
    std::ostringstream origin;
    origin << "mutation " << done << " of seed " << names[base] << " (-seed=" << o.seed << ")";
    RunOne(input, origin.str(), false);
  }
  std::cerr << "fuzz_replay: " << seeds.size() << " seed input(s) and " << done << " of " << o.runs
            << " mutation(s) passed in " << elapsed() << " s (-seed=" << o.seed << ", "
            << dict.size() << " dictionary tokens)";
  if (done < o.runs) std::cerr << "; stopped at -max_total_time=" << o.max_total_time;
  std::cerr << "\n";
  return 0;
}
