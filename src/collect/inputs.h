// Deterministic input data for the collection suite: text, numbers, CSV, JSON lines, log lines,
// random binary, directory trees of small files, generated C/C++ programs and make projects,
// SQLite databases and compressed or archived copies of all of these. Every input is a pure
// function of (seed, name), created on first use under <workdir>/data and reused afterwards (so a
// resumed collection measures the same files). Not thread-safe: prepare inputs from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::collect {

// Size classes for generated files: 4 KiB × 8^k … up to 256 MiB.
constexpr int kSizeClasses = 9;
int64_t SizeClassBytes(int k);  // 0: 4 KiB, 1: 32 KiB, 2: 256 KiB, 3: 1 MiB, 4: 4 MiB, 5: 16 MiB, 6: 64 MiB, 7: 128 MiB, 8: 256 MiB

// A deterministic PRNG (splitmix64), the one used for the suite and the data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next();
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  double Uniform() { return static_cast<double>(Next() >> 11) / static_cast<double>(1ULL << 53); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }

 private:
  uint64_t s_;
};

class InputCatalog {
 public:
  InputCatalog(std::string workdir, uint64_t seed);
  // Makes sure the input at `relative` ("data/text-3.txt", "data/tree-500") exists, creating it
  // (and what it is derived from) when missing. The name says what to build; see inputs.cc.
  Status Ensure(const std::string& relative);
  // Total bytes of regular files at `relative` (a file, or a directory recursively).
  int64_t SizeOf(const std::string& relative) const;
  const std::string& workdir() const { return workdir_; }

 private:
  Status Build(const std::string& relative, const std::string& path);
  std::string workdir_;
  uint64_t seed_;
};

// True when `relative` names an input the catalog knows how to build.
bool KnownInput(const std::string& relative);

// Runs a shell command for preparation (not measured). Error includes its exit status.
Status RunSetupShell(const std::string& command, const std::string& workdir);

}  // namespace prescient::collect
