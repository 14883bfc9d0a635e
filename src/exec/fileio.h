// Small file helpers for the execution core: whole-file reads and writes of kernel interface files
// (cgroupfs, procfs) with errors that name the path and errno. Thread-safe (no shared state).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace prescient::exec {

Result<std::string> ReadTextFile(const std::string& path);
// Writes `text` with a single write(2) (kernel files expect one write per value).
Status WriteTextFile(const std::string& path, const std::string& text);
bool PathExists(const std::string& path);
// Names of the subdirectories of `dir` (not recursive, no "." or "..").
Result<std::vector<std::string>> ListSubdirs(const std::string& dir);
// "text: strerror(errno)".
std::string ErrnoText(const std::string& what, int err);

}  // namespace prescient::exec
