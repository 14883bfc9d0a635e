#include "exec/fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace prescient::exec {

std::string ErrnoText(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

Result<std::string> ReadTextFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    Status s(err == ENOENT ? Code::kNotFound : Code::kInternal, ErrnoText("open " + path, err));
    return s;
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      // A process that exits while we read its /proc files yields ESRCH: report it as NotFound.
      return Status(err == ESRCH ? Code::kNotFound : Code::kInternal, ErrnoText("read " + path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  // O_TRUNC as a shell's `>` does: ignored by cgroupfs, and right for ordinary files (tests).
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Status(err == ENOENT ? Code::kNotFound : Code::kInternal, ErrnoText("open " + path, err));
  }
  ssize_t n;
  do {
    n = ::write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return InternalError(ErrnoText("write \"" + text + "\" to " + path, err));
  if (static_cast<size_t>(n) != text.size()) return InternalError("short write to " + path);
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<std::string>> ListSubdirs(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    int err = errno;
    return Status(err == ENOENT ? Code::kNotFound : Code::kInternal, ErrnoText("opendir " + dir, err));
  }
  std::vector<std::string> out;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    out.push_back(std::move(n));
  }
  ::closedir(d);
  return out;
}

}  // namespace prescient::exec
