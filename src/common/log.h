// The one structured logger: JSON lines on stderr, one object per line with ts, level, logger,
// msg, and any key/value fields (controllers always pass namespace and name). Verbosity follows
// zap's convention (--zap-log-level=debug|info|error or a number: higher numbers are more verbose).
// Thread-safe: each line is formatted then written under a mutex.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace prescient::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Fields = nlohmann::json;  // an object: {{"namespace", ns}, {"name", n}}

void SetLevel(Level level);
Level GetLevel();
// Parses "debug", "info", "warn", "error" or zap-style integers ("1" = debug, "0" = info).
bool ParseLevel(std::string_view text, Level* out);
// Writes to a sink other than stderr (tests). nullptr restores stderr.
void SetSink(void (*sink)(const std::string& line));

void Write(Level level, std::string_view logger, std::string_view msg, const Fields& fields);

class Logger {
 public:
  explicit Logger(std::string name, Fields base = Fields::object())
      : name_(std::move(name)), base_(std::move(base)) {}
  // A child logger carrying extra fields on every line.
  Logger With(const Fields& extra) const;
  void Debug(std::string_view msg, const Fields& f = Fields::object()) const { Emit(Level::kDebug, msg, f); }
  void Info(std::string_view msg, const Fields& f = Fields::object()) const { Emit(Level::kInfo, msg, f); }
  void Warn(std::string_view msg, const Fields& f = Fields::object()) const { Emit(Level::kWarn, msg, f); }
  void Error(std::string_view msg, const Fields& f = Fields::object()) const { Emit(Level::kError, msg, f); }

 private:
  void Emit(Level level, std::string_view msg, const Fields& f) const;
  std::string name_;
  Fields base_;
};

}  // namespace prescient::log
