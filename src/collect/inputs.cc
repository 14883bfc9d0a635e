#include "collect/inputs.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace prescient::collect {

namespace fs = std::filesystem;

int64_t SizeClassBytes(int k) {
  static const int64_t kBytes[kSizeClasses] = {4LL << 10, 32LL << 10, 256LL << 10, 1LL << 20, 4LL << 20,
                                               16LL << 20, 64LL << 20, 128LL << 20, 256LL << 20};
  return kBytes[k < 0 ? 0 : (k >= kSizeClasses ? kSizeClasses - 1 : k)];
}

uint64_t Rng::Next() {
  uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

uint64_t Fnv(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// A vocabulary of pronounceable pseudo-words; text draws from it with a skewed distribution so
// that compression ratios, uniq counts and grep hit rates look like real text.
const std::vector<std::string>& Vocabulary() {
  static const std::vector<std::string> v = [] {
    static const char* kSyl[] = {"ka", "lo", "mi", "ne", "ru", "sta", "tor", "vel", "qui", "ban", "der", "fo",
                                 "gar", "hin", "jo", "pel", "ser", "ti", "um", "wex", "yor", "zi", "an", "en"};
    Rng r(42);
    std::vector<std::string> out;
    for (int i = 0; i < 4096; ++i) {
      std::string w;
      int n = 1 + static_cast<int>(r.Below(4));
      for (int j = 0; j < n; ++j) w += kSyl[r.Below(24)];
      out.push_back(w);
    }
    return out;
  }();
  return v;
}

const std::string& Word(Rng& r) {
  double u = r.Uniform();
  return Vocabulary()[static_cast<size_t>(4095.0 * u * u * u)];
}

class Writer {
 public:
  explicit Writer(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {}
  ~Writer() {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void Put(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), f_);
    n_ += static_cast<int64_t>(s.size());
  }
  void Put(const char* s, size_t n) {
    std::fwrite(s, 1, n, f_);
    n_ += static_cast<int64_t>(n);
  }
  int64_t written() const { return n_; }

 private:
  FILE* f_;
  int64_t n_ = 0;
};

std::string TextLine(Rng& r) {
  std::string line;
  int words = 4 + static_cast<int>(r.Below(12));
  for (int i = 0; i < words; ++i) {
    if (i) line += ' ';
    line += Word(r);
  }
  line += '\n';
  return line;
}

Status GenerateFile(const std::string& kind, int64_t bytes, Rng& r, const std::string& path) {
  Writer w(path);
  if (!w.ok()) return InternalError("cannot create input " + path);
  static const char* kCategories[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
  static const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
  static const char* kStatus[] = {"200", "200", "200", "200", "304", "404", "500"};
  int64_t row = 0;
  std::string buf;
  if (kind == "bin") {
    std::vector<uint64_t> block(8192);
    while (w.written() < bytes) {
      for (auto& x : block) x = r.Next();
      size_t n = std::min<int64_t>(bytes - w.written(), static_cast<int64_t>(block.size() * 8));
      w.Put(reinterpret_cast<const char*>(block.data()), n);
    }
    return Status::Ok();
  }
  if (kind == "mixed") {  // alternating random, repetitive and text blocks: medium compressibility
    std::vector<uint64_t> block(512);
    while (w.written() < bytes) {
      uint64_t which = r.Below(3);
      std::string chunk;
      if (which == 0) {
        for (auto& x : block) x = r.Next();
        chunk.assign(reinterpret_cast<const char*>(block.data()), block.size() * 8);
      } else if (which == 1) {
        chunk.assign(4096, static_cast<char>('A' + r.Below(26)));
      } else {
        while (chunk.size() < 4096) chunk += TextLine(r);
      }
      size_t n = std::min<int64_t>(bytes - w.written(), static_cast<int64_t>(chunk.size()));
      w.Put(chunk.data(), n);
    }
    return Status::Ok();
  }
  while (w.written() < bytes) {
    buf.clear();
    if (kind == "text") {
      buf = TextLine(r);
    } else if (kind == "nums") {
      buf = std::to_string(r.Below(1000000000)) + "\n";
    } else if (kind == "csv") {
      if (row == 0) buf = "id,name,category,value,score\n";
      buf += std::to_string(row) + "," + Word(r) + "," + kCategories[r.Below(8)] + "," +
             std::to_string(r.Below(100000)) + "," + std::to_string(r.Below(1000) / 10.0).substr(0, 5) + "\n";
    } else if (kind == "json") {
      buf = "{\"id\":" + std::to_string(row) + ",\"name\":\"" + Word(r) + "\",\"category\":\"" + kCategories[r.Below(8)] +
            "\",\"value\":" + std::to_string(r.Below(1000)) + ",\"tags\":[\"" + Word(r) + "\",\"" + Word(r) +
            "\"],\"active\":" + (r.Below(2) ? "true" : "false") + "}\n";
    } else if (kind == "log") {
      char line[256];
      std::snprintf(line, sizeof line, "10.%d.%d.%d - - [28/Nov/2026:%02d:%02d:%02d +0000] \"%s /%s/%s HTTP/1.1\" %s %d\n",
                    static_cast<int>(r.Below(256)), static_cast<int>(r.Below(256)), static_cast<int>(r.Below(256)),
                    static_cast<int>(row / 3600 % 24), static_cast<int>(row / 60 % 60), static_cast<int>(row % 60),
                    kMethods[r.Below(6)], Word(r).c_str(), Word(r).c_str(), kStatus[r.Below(7)],
                    static_cast<int>(r.Below(50000)));
      buf = line;
    } else {
      return InvalidArgument("unknown input kind \"" + kind + "\"");
    }
    ++row;
    w.Put(buf);
  }
  return Status::Ok();
}

// A C program with n functions doing integer work (compile time grows with n and -O).
void GenerateCProgram(int n, Rng& r, Writer& w) {
  w.Put("#include <stdio.h>\n#include <stdlib.h>\n\n");
  for (int i = 0; i < n; ++i) {
    int a = static_cast<int>(r.Below(97)) + 1, b = static_cast<int>(r.Below(89)) + 1;
    w.Put("static long f" + std::to_string(i) + "(long x) {\n  long s = 0;\n  for (int i = 0; i < " +
          std::to_string(8 + r.Below(64)) + "; ++i) {\n    s += (x * " + std::to_string(a) + " + i) % " +
          std::to_string(b) + ";\n    if (s > 100000) s -= x;\n  }\n  return s;\n}\n");
  }
  w.Put("int main(int argc, char** argv) {\n  long x = argc, t = 0;\n");
  for (int i = 0; i < n; ++i) w.Put("  t += f" + std::to_string(i) + "(x + " + std::to_string(i) + ");\n");
  w.Put("  printf(\"%ld\\n\", t);\n  return 0;\n}\n");
}

void GenerateCppTemplates(int n, Rng& r, Writer& w) {
  w.Put("#include <map>\n#include <string>\n#include <vector>\n#include <algorithm>\n#include <iostream>\n\n"
        "template <int N> struct Fib { static constexpr long value = Fib<N - 1>::value + Fib<N - 2>::value; };\n"
        "template <> struct Fib<0> { static constexpr long value = 0; };\n"
        "template <> struct Fib<1> { static constexpr long value = 1; };\n"
        "template <typename T, int K> struct Box { std::vector<T> v; T sum() const { T s{}; for (auto& x : v) s += x * K; return s; } };\n\n");
  for (int i = 0; i < n; ++i) {
    std::string t = r.Below(2) ? "long" : "double";
    w.Put("long g" + std::to_string(i) + "() {\n  Box<" + t + ", " + std::to_string(i % 50 + 1) + "> b;\n  std::map<std::string, " +
          t + "> m;\n  for (int i = 0; i < 10; ++i) { b.v.push_back(i); m[std::to_string(i)] = i; }\n"
          "  std::sort(b.v.begin(), b.v.end());\n  return static_cast<long>(b.sum()) + Fib<" +
          std::to_string(10 + i % 40) + ">::value + static_cast<long>(m.size());\n}\n");
  }
  w.Put("int main() {\n  long t = 0;\n");
  for (int i = 0; i < n; ++i) w.Put("  t += g" + std::to_string(i) + "();\n");
  w.Put("  std::cout << t << std::endl;\n}\n");
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "<prefix><digits><suffix>" → m[1] = digits.
bool MatchNumbered(const std::string& name, const std::string& prefix, const std::string& suffix,
                   std::vector<std::string>* m) {
  if (name.rfind(prefix, 0) != 0 || !EndsWith(name, suffix) || name.size() < prefix.size() + suffix.size()) return false;
  std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!AllDigits(digits)) return false;
  *m = {name, digits};
  return true;
}

// "<kind>-<D>.<ext>" with the kind's own extension → m[1] = kind, m[2] = D (one digit).
bool MatchPlain(const std::string& name, std::vector<std::string>* m) {
  static const std::pair<const char*, const char*> kKinds[] = {{"text", ".txt"}, {"nums", ".txt"}, {"csv", ".csv"},
                                                               {"json", ".jsonl"}, {"log", ".log"}, {"bin", ".bin"},
                                                               {"mixed", ".dat"}};
  for (const auto& [kind, ext] : kKinds) {
    std::string prefix = std::string(kind) + "-";
    if (name.size() == prefix.size() + 1 + std::string(ext).size() && name.rfind(prefix, 0) == 0 &&
        EndsWith(name, ext) && std::isdigit(static_cast<unsigned char>(name[prefix.size()]))) {
      *m = {name, kind, name.substr(prefix.size(), 1)};
      return true;
    }
  }
  return false;
}

// "tree-<N>.<archive>" → m[1] = "tree-N", m[2] = archive kind.
bool MatchTreeArchive(const std::string& name, std::vector<std::string>* m) {
  for (const char* kind : {"tar.gz", "tar.zst", "tar.xz", "tar", "zip"}) {
    std::string ext = std::string(".") + kind;
    if (!EndsWith(name, ext)) continue;
    std::string base = name.substr(0, name.size() - ext.size());
    std::vector<std::string> n;
    if (!MatchNumbered(base, "tree-", "", &n)) return false;
    *m = {name, base, kind};
    return true;
  }
  return false;
}

// "<base>.<compression>" → m[1] = base, m[2] = compression.
bool MatchDerived(const std::string& name, std::vector<std::string>* m) {
  for (const char* ext : {"gz", "bz2", "xz", "zst", "lz4", "lzma", "b64"}) {
    std::string suffix = std::string(".") + ext;
    if (EndsWith(name, suffix) && name.size() > suffix.size()) {
      *m = {name, name.substr(0, name.size() - suffix.size()), ext};
      return true;
    }
  }
  return false;
}

// "repo-tree-<N>" → m[1] = "tree-N".
bool MatchRepo(const std::string& name, std::vector<std::string>* m) {
  if (name.rfind("repo-", 0) != 0) return false;
  std::vector<std::string> n;
  if (!MatchNumbered(name.substr(5), "tree-", "", &n)) return false;
  *m = {name, name.substr(5)};
  return true;
}

}  // namespace

Status RunSetupShell(const std::string& command, const std::string& workdir) {
  std::string full = "cd '" + workdir + "' && ( " + command + " ) >/dev/null 2>&1";
  int rc = std::system(full.c_str());
  if (rc != 0)
    return InternalError("preparation command failed (status " + std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) +
                         "): " + command);
  return Status::Ok();
}

bool KnownInput(const std::string& relative) {
  std::vector<std::string> m;
  std::string name = fs::path(relative).filename().string();
  return MatchPlain(name, &m) || MatchTreeArchive(name, &m) || MatchDerived(name, &m) ||
         MatchNumbered(name, "tree-", "", &m) || MatchNumbered(name, "prog-", ".c", &m) ||
         MatchNumbered(name, "tmpl-", ".cpp", &m) || MatchNumbered(name, "proj-", "", &m) ||
         MatchNumbered(name, "db-", ".sqlite", &m) || MatchRepo(name, &m);
}

InputCatalog::InputCatalog(std::string workdir, uint64_t seed) : workdir_(std::move(workdir)), seed_(seed) {}

int64_t InputCatalog::SizeOf(const std::string& relative) const {
  std::error_code ec;
  fs::path p = fs::path(workdir_) / relative;
  if (fs::is_regular_file(p, ec)) return static_cast<int64_t>(fs::file_size(p, ec));
  int64_t total = 0;
  if (fs::is_directory(p, ec))
    for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  return total;
}

Status InputCatalog::Ensure(const std::string& relative) {
  std::string path = workdir_ + "/" + relative;
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::Ok();
  fs::create_directories(fs::path(path).parent_path(), ec);
  // Build under a temporary name and rename, so an interrupted build is never mistaken for done.
  std::string tmp = path + ".partial";
  fs::remove_all(tmp, ec);
  if (Status s = Build(relative, tmp); !s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  fs::rename(tmp, path, ec);
  if (ec) return InternalError("rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

Status InputCatalog::Build(const std::string& rel, const std::string& path) {
  Rng r(seed_ ^ Fnv(rel));
  std::vector<std::string> m;  // m[1], m[2]: the parts of the name a recipe needs
  std::string name = fs::path(rel).filename().string();
  std::string dir = fs::path(rel).parent_path().string();
  if (MatchPlain(name, &m)) {
    return GenerateFile(m[1], SizeClassBytes(std::stoi(m[2])), r, path);
  }
  if (MatchTreeArchive(name, &m)) {
    std::string tree = dir + "/" + m[1];
    if (Status s = Ensure(tree); !s.ok()) return s;
    std::string kind = m[2], tmp = rel + ".partial";
    std::string cmd = kind == "tar"       ? "tar cf " + tmp + " -C " + dir + " " + m[1]
                      : kind == "tar.gz"  ? "tar czf " + tmp + " -C " + dir + " " + m[1]
                      : kind == "tar.zst" ? "tar --zstd -cf " + tmp + " -C " + dir + " " + m[1]
                      : kind == "tar.xz"  ? "tar -I 'xz -1 -T2' -cf " + tmp + " -C " + dir + " " + m[1]
                                          : "cd " + dir + " && zip -qr partial-" + name + " " + m[1] + " && mv partial-" + name + " " +
                                                fs::path(tmp).filename().string();
    return RunSetupShell(cmd, workdir_);
  }
  if (MatchDerived(name, &m)) {
    std::string base = dir + "/" + m[1];
    if (Status s = Ensure(base); !s.ok()) return s;
    std::string ext = m[2];
    // Fast settings: these only prepare inputs (decompression cost hardly depends on the level).
    std::string tool = ext == "gz" ? "gzip -3 -c" : ext == "bz2" ? "bzip2 -1 -c" : ext == "xz" ? "xz -1 -T2 -c"
                     : ext == "zst" ? "zstd -q -3 -T2 -c" : ext == "lz4" ? "lz4 -q -c" : ext == "lzma" ? "lzma -1 -c" : "base64";
    return RunSetupShell(tool + " " + base + " > " + rel + ".partial", workdir_);
  }
  if (MatchNumbered(name, "tree-", "", &m)) {
    int n = std::stoi(m[1]);
    for (int i = 0; i < n; ++i) {
      std::string sub = path + "/d" + std::to_string(i % 17) + "/s" + std::to_string(i % 5);
      std::error_code ec;
      fs::create_directories(sub, ec);
      static const char* kExt[] = {".txt", ".log", ".md", ".c", ".json"};
      Writer w(sub + "/f" + std::to_string(i) + kExt[r.Below(5)]);
      if (!w.ok()) return InternalError("cannot create files under " + sub);
      double u = r.Uniform();
      int64_t size = 100 + static_cast<int64_t>(65536.0 * u * u * u);
      while (w.written() < size) w.Put(TextLine(r));
    }
    return Status::Ok();
  }
  if (MatchNumbered(name, "prog-", ".c", &m)) {
    Writer w(path);
    if (!w.ok()) return InternalError("cannot create " + path);
    GenerateCProgram(std::stoi(m[1]), r, w);
    return Status::Ok();
  }
  if (MatchNumbered(name, "tmpl-", ".cpp", &m)) {
    Writer w(path);
    if (!w.ok()) return InternalError("cannot create " + path);
    GenerateCppTemplates(std::stoi(m[1]), r, w);
    return Status::Ok();
  }
  if (MatchNumbered(name, "proj-", "", &m)) {
    int n = std::stoi(m[1]);
    std::error_code ec;
    fs::create_directories(path, ec);
    std::string objs;
    for (int i = 0; i < n; ++i) {
      Writer w(path + "/m" + std::to_string(i) + ".c");
      if (!w.ok()) return InternalError("cannot create " + path);
      int fns = 20 + static_cast<int>(r.Below(120));
      for (int f = 0; f < fns; ++f)
        w.Put("long m" + std::to_string(i) + "_" + std::to_string(f) + "(long x) { long s = 0; for (int i = 0; i < " +
              std::to_string(10 + r.Below(50)) + "; ++i) s += (x ^ i) * " + std::to_string(r.Below(1000) + 1) +
              " % 7919; return s; }\n");
      w.Put("long mod" + std::to_string(i) + "(void) { return m" + std::to_string(i) + "_0(" + std::to_string(i) + "); }\n");
      objs += " m" + std::to_string(i) + ".o";
    }
    {
      Writer w(path + "/main.c");
      for (int i = 0; i < n; ++i) w.Put("long mod" + std::to_string(i) + "(void);\n");
      w.Put("#include <stdio.h>\nint main(void) { long t = 0;\n");
      for (int i = 0; i < n; ++i) w.Put("  t += mod" + std::to_string(i) + "();\n");
      w.Put("  printf(\"%ld\\n\", t); return 0; }\n");
    }
    Writer mk(path + "/Makefile");
    mk.Put("CFLAGS ?= -O2\nOBJS =" + objs + " main.o\napp: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
           "clean:\n\trm -f app $(OBJS)\n");
    return Status::Ok();
  }
  if (MatchNumbered(name, "db-", ".sqlite", &m)) {
    long n = std::stol(m[1]);
    std::string sql =
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, category INTEGER, value REAL, payload TEXT);"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
        std::to_string(n) +
        ") INSERT INTO items SELECT x, 'item' || x, abs(random()) % 100, abs(random()) % 100000 / 7.0, hex(randomblob(24)) FROM c;";
    return RunSetupShell("sqlite3 " + rel + ".partial \"" + sql + "\"", workdir_);
  }
  if (MatchRepo(name, &m)) {
    std::string tree = dir + "/" + m[1];
    if (Status s = Ensure(tree); !s.ok()) return s;
    std::string tmp = rel + ".partial";
    return RunSetupShell("git init -q " + tmp + " && cp -r " + tree + "/. " + tmp + "/ && git -C " + tmp +
                             " add -A && git -C " + tmp + " -c user.name=collect -c user.email=collect@localhost commit -qm init",
                         workdir_);
  }
  return InvalidArgument("no recipe for input \"" + rel + "\"");
}

}  // namespace prescient::collect
