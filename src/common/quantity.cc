#include "common/quantity.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace prescient {
namespace {

struct Suffix {
  std::string_view text;
  double factor;
};

constexpr Suffix kSuffixes[] = {
    {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
    {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
    {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
    {"P", 1e15}, {"E", 1e18},
};

Result<double> ParseToDouble(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return InvalidArgument("empty quantity");
  if (s.size() > 64) return InvalidArgument("quantity too long");
  // Split number and suffix.
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool digits = false, dot = false;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
    if (s[i] == '.') dot = true; else digits = true;
    ++i;
  }
  if (!digits) return InvalidArgument("quantity \"" + std::string(text) + "\" does not start with a number");
  std::string number(s.substr(0, i));
  std::string_view suffix = s.substr(i);
  double factor = 1.0;
  if (!suffix.empty()) {
    if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
      // Decimal exponent: 1e3, 2E-2.
      std::string_view exp = suffix.substr(1);
      size_t j = 0;
      if (exp[0] == '+' || exp[0] == '-') ++j;
      if (j == exp.size()) return InvalidArgument("quantity \"" + std::string(text) + "\" has a bad exponent");
      for (size_t k = j; k < exp.size(); ++k)
        if (exp[k] < '0' || exp[k] > '9') return InvalidArgument("quantity \"" + std::string(text) + "\" has a bad exponent");
      int e = std::stoi(std::string(exp));
      if (e > 18 || e < -9) return InvalidArgument("quantity \"" + std::string(text) + "\" is out of range");
      factor = std::pow(10.0, e);
    } else {
      bool found = false;
      for (const auto& sfx : kSuffixes) {
        if (suffix == sfx.text) {
          factor = sfx.factor;
          found = true;
          break;
        }
      }
      if (!found) return InvalidArgument("quantity \"" + std::string(text) + "\" has unknown suffix \"" + std::string(suffix) + "\"");
    }
  }
  double v = std::strtod(number.c_str(), nullptr) * factor;
  if (!std::isfinite(v) || std::fabs(v) > 9.2e15) return InvalidArgument("quantity \"" + std::string(text) + "\" is out of range");
  return v;
}

}  // namespace

Result<int64_t> ParseQuantityMilli(std::string_view text) {
  auto v = ParseToDouble(text);
  if (!v.ok()) return v.status();
  double milli = *v * 1000.0;
  // Round up, tolerating floating-point noise ("0.1" * 1000 = 100.00000000000001).
  return static_cast<int64_t>(std::ceil(milli - 1e-6));
}

Result<int64_t> ParseQuantity(std::string_view text) {
  auto v = ParseToDouble(text);
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(std::ceil(*v - 1e-6));
}

std::string FormatCpuMilli(int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return std::to_string(milli) + "m";
}

std::string FormatBytes(int64_t bytes) {
  static constexpr std::pair<const char*, int64_t> kUnits[] = {
      {"Ti", 1LL << 40}, {"Gi", 1LL << 30}, {"Mi", 1LL << 20}, {"Ki", 1LL << 10}};
  if (bytes == 0) return "0";
  for (const auto& [name, size] : kUnits) {
    if (bytes % size == 0) return std::to_string(bytes / size) + name;
  }
  return std::to_string(bytes);
}

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

}  // namespace prescient
