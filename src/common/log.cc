#include "common/log.h"

#include "common/clock.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace prescient::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<void (*)(const std::string&)> g_sink{nullptr};
std::mutex g_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string Timestamp() { return FormatRfc3339Micro(std::chrono::system_clock::now()); }
}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
Level GetLevel() { return static_cast<Level>(g_level.load()); }

bool ParseLevel(std::string_view t, Level* out) {
  if (t == "debug" || t == "1" || t == "2" || t == "3" || t == "4" || t == "5") *out = Level::kDebug;
  else if (t == "info" || t == "0") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error" || t == "panic" || t == "dpanic") *out = Level::kError;
  else return false;
  return true;
}

void SetSink(void (*sink)(const std::string&)) { g_sink = sink; }

void Write(Level level, std::string_view logger, std::string_view msg, const Fields& fields) {
  if (static_cast<int>(level) < g_level.load()) return;
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = Timestamp();
  line["level"] = LevelName(level);
  if (!logger.empty()) line["logger"] = logger;
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(g_mu);
  if (auto* sink = g_sink.load()) {
    sink(text);
  } else {
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

Logger Logger::With(const Fields& extra) const {
  Fields merged = base_;
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) merged[it.key()] = it.value();
  }
  return Logger(name_, merged);
}

void Logger::Emit(Level level, std::string_view msg, const Fields& f) const {
  if (static_cast<int>(level) < g_level.load()) return;
  if (base_.empty()) {
    Write(level, name_, msg, f);
    return;
  }
  Fields merged = base_;
  if (f.is_object()) {
    for (auto it = f.begin(); it != f.end(); ++it) merged[it.key()] = it.value();
  }
  Write(level, name_, msg, merged);
}

}  // namespace prescient::log
