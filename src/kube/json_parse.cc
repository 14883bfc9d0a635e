#include "kube/json_parse.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace prescient::kube {
namespace {

using Json = nlohmann::json;

// Bytes a string can hold as they are: printable ASCII except '"' and '\\'.
constexpr std::array<bool, 256> MakePlainTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}
constexpr std::array<bool, 256> kPlain = MakePlainTable();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* s) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A recursive-descent reader of RFC 8259 JSON. Every method returns false when the text is invalid or
// outside what this reader handles; the caller then defers to nlohmann, so "false" never needs a
// message or a precise reason.
class FastReader {
 public:
  FastReader(const char* p, const char* end) : p_(p), end_(end) {}

  bool Document(Json* out) {
    // A UTF-8 byte-order mark: nlohmann skips it; leave such text to nlohmann.
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) return false;
    SkipWhitespace();
    if (!Value(out, 0)) return false;
    SkipWhitespace();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 128;  // deeper documents go to nlohmann, which does not recurse

  void SkipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Value(Json* out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return Object(out, depth);
      case '[': return Array(out, depth);
      case '"': {
        std::string s;
        if (!String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case 't': return Literal("true", out, Json(true));
      case 'f': return Literal("false", out, Json(false));
      case 'n': return Literal("null", out, Json(nullptr));
      default: return Number(out);
    }
  }

  bool Literal(const char* word, Json* out, Json value) {
    size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    *out = std::move(value);
    return true;
  }

  bool Object(Json* out, int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '{'
    *out = Json::object();
    auto& object = out->get_ref<Json::object_t&>();
    SkipWhitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!String(&key)) return false;
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipWhitespace();
      // A repeated key keeps the last value, as nlohmann's parser does.
      Json& slot = object.try_emplace(std::move(key)).first->second;
      if (!Value(&slot, depth + 1)) return false;
      SkipWhitespace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return true;
    }
  }

  bool Array(Json* out, int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '['
    *out = Json::array();
    auto& array = out->get_ref<Json::array_t&>();
    SkipWhitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      array.emplace_back();
      if (!Value(&array.back(), depth + 1)) return false;
      SkipWhitespace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return true;
    }
  }

  // At the opening quote; reads the string into `s`, with no spare capacity (a cached object keeps these
  // strings, and appending would round most of them up).
  bool String(std::string* s) {
    ++p_;
    const char* start = p_;
    while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
    if (p_ != end_ && *p_ == '"') {  // the common case: nothing to decode
      *s = std::string(start, p_);
      ++p_;
      return true;
    }
    p_ = start;
    if (!Decode(s)) return false;
    s->shrink_to_fit();
    return true;
  }

  bool Decode(std::string* s) {
    for (;;) {
      const char* run = p_;
      while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
      s->append(run, p_);
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!Escape(s)) return false;
      } else if (c < 0x20) {
        return false;  // control characters must be escaped
      } else if (!Utf8Sequence(s)) {
        return false;
      }
    }
  }

  bool Escape(std::string* s) {
    ++p_;  // '\\'
    if (p_ == end_) return false;
    const char e = *p_++;
    switch (e) {
      case '"': s->push_back('"'); return true;
      case '\\': s->push_back('\\'); return true;
      case '/': s->push_back('/'); return true;
      case 'b': s->push_back('\b'); return true;
      case 'f': s->push_back('\f'); return true;
      case 'n': s->push_back('\n'); return true;
      case 'r': s->push_back('\r'); return true;
      case 't': s->push_back('\t'); return true;
      case 'u': break;
      default: return false;
    }
    uint32_t cp;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate without a high one
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, s);
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(p_[i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // One well-formed UTF-8 sequence of 2 to 4 bytes (RFC 3629: no overlong forms, no surrogates,
  // nothing above U+10FFFF), copied as it is.
  bool Utf8Sequence(std::string* s) {
    const auto b = [&](int i) { return static_cast<unsigned char>(p_[i]); };
    const unsigned char c = b(0);
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ < len) return false;
    if (b(1) < lo || b(1) > hi) return false;
    for (int i = 2; i < len; ++i) {
      if (b(i) < 0x80 || b(i) > 0xBF) return false;
    }
    s->append(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  bool Number(Json* out) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && IsDigit(*p_)) ++p_;
    } else {
      return false;
    }
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !IsDigit(*p_)) return false;
      while (p_ != end_ && IsDigit(*p_)) ++p_;
      is_float = true;
    }
    // Integers that do not fit (nlohmann reads them as floats) and floats out of range go to nlohmann.
    if (!is_float && negative) {
      int64_t v;
      auto r = std::from_chars(start, p_, v);
      if (r.ec != std::errc() || r.ptr != p_) return false;
      *out = v;
      return true;
    }
    if (!is_float) {
      uint64_t v;
      auto r = std::from_chars(start, p_, v);
      if (r.ec != std::errc() || r.ptr != p_) return false;
      *out = v;
      return true;
    }
    double d;
    auto r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(d)) return false;
    *out = d;
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool ParseJsonFast(std::string_view text, nlohmann::json* out) {
#if defined(JSON_DIAGNOSTICS) && JSON_DIAGNOSTICS
  // nlohmann's diagnostics mode keeps parent pointers that only its own parser sets.
  (void)text;
  (void)out;
  return false;
#endif
  FastReader reader(text.data(), text.data() + text.size());
  return reader.Document(out);
}

nlohmann::json ParseJson(std::string_view text) {
  nlohmann::json out;
  if (ParseJsonFast(text, &out)) return out;
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace prescient::kube
