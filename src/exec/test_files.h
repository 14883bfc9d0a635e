// Test-only file helpers shared by the tests of src/exec and the stages built on it (collect,
// agent): a temporary directory removed with everything in it when the test ends, and a
// whole-file read. Header-only; not for production code. Thread-compatible.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace prescient::exec::testing {

class TempDir {
 public:
  // `prefix` names the directory under the system's temporary directory (prefix-XXXXXX).
  explicit TempDir(const std::string& prefix = "prescient-test") {
    std::string t = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(t.data()) != nullptr) path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Empty when the directory could not be created.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The file's bytes ("" when it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace prescient::exec::testing
