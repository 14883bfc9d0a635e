#include "kube/json_parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace prescient::kube {
namespace {

using Json = nlohmann::json;

// Same value and same types all the way down (nlohmann's == treats 1, 1u and 1.0 as equal).
bool Same(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::object: {
      if (a.size() != b.size()) return false;
      auto ib = b.begin();
      for (auto ia = a.begin(); ia != a.end(); ++ia, ++ib) {
        if (ia.key() != ib.key() || !Same(*ia, *ib)) return false;
      }
      return true;
    }
    case Json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!Same(a[i], b[i])) return false;
      }
      return true;
    case Json::value_t::number_float: {
      double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    default: return a == b;
  }
}

// ParseJson must give exactly what nlohmann gives: the same value with the same types, or a discarded
// value for both.
void ExpectAsNlohmann(const std::string& text) {
  Json expected = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  Json got = ParseJson(text);
  ASSERT_EQ(got.is_discarded(), expected.is_discarded()) << "text: " << text;
  if (!expected.is_discarded()) {
    EXPECT_TRUE(Same(got, expected)) << "text: " << text << "\ngot: " << got.dump();
  }
}

TEST(ParseJsonTest, EdgeCasesMatchNlohmann) {
  const std::vector<std::string> cases = {
      "{}", "[]", " { } ", "\t[ ]\r\n", "0", "-0", "1", "-1", "1.5", "-1.5e3", "1E+2", "1e-2", "0.0",
      "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "1e-400", "5e-324", "2.2250738585072014e-308",
      "0.1", "123456789012345678901234567890", "01", "-", "1.", ".5", "1e", "1e+", "+1", "--1", "0x10", "NaN",
      "Infinity", "true", "false", "null", "tru", "nul", "truex", "True", "\"\"", "\"abc\"",
      R"("a\"b\\c\/d\be\ff\ng\rh\ti")", R"("\u0041\u00e9\u4e2d")", R"("\ud83d\ude00")", R"("\uD83D\uDE00")",
      R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\ud83d\u0041")", R"("\u00")", R"("\u00zz")",
      R"("\x")", R"("\u0000")", "\"a\tb\"", "\"a\nb\"", std::string("\"a\0b\"", 5), "\"\x7f\"",
      "\"\xc3\xa9\"", "\"\xe4\xb8\xad\"", "\"\xf0\x9f\x98\x80\"", "\"\xc3\"", "\"\xc0\x80\"", "\"\xe0\x80\x80\"",
      "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xff\"", "\"\x80\"",
      "\xef\xbb\xbf{}", "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1},\"a\":[1]}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
      "{\"a\" 1}", "{\"a\":}", "{a:1}", "[1 2]", "[1,,2]", "{\"a\":1}x", "{} {}", "", " ", "[", "{", "\"abc",
      "[[[[[[[[]]]]]]]]", "{\"k\":[{\"x\":null,\"y\":[true,false,-3,4.25,\"s\"]}]}", "/*c*/{}", "{}\n",
  };
  for (const auto& c : cases) ExpectAsNlohmann(c);
  // Nesting deeper than the fast reader recurses is left to nlohmann, valid or not.
  ExpectAsNlohmann(std::string(500, '[') + std::string(500, ']'));
  ExpectAsNlohmann(std::string(500, '[') + std::string(499, ']'));
}

TEST(ParseJsonTest, FastReaderHandlesOrdinaryKubernetesObjects) {
  const std::string text =
      R"({"type":"MODIFIED","object":{"apiVersion":"prescient.dev/v1alpha1","kind":"CommandRun",)"
      R"("metadata":{"name":"build-1","namespace":"team-1","resourceVersion":"1234","generation":2,)"
      R"("labels":{"app":"ci"},"annotations":{"note":"a \u003c b \u0026 \"c\"\n"}},)"
      R"("spec":{"command":"make -j8","timeoutSeconds":3600,"env":[{"name":"CC","value":"gcc"}]},)"
      R"("status":{"phase":"Running","prediction":{"quantile":0.95,"durationSeconds":412.5},"usage":{"totals":{"diskReadBytes":-1}}}}})";
  Json fast;
  ASSERT_TRUE(ParseJsonFast(text, &fast));
  EXPECT_TRUE(Same(fast, Json::parse(text)));
  EXPECT_EQ(fast["object"]["metadata"]["annotations"]["note"], "a < b & \"c\"\n");
  EXPECT_TRUE(fast["object"]["metadata"]["generation"].is_number_unsigned());
  EXPECT_TRUE(fast["object"]["status"]["usage"]["totals"]["diskReadBytes"].is_number_integer());
  EXPECT_FALSE(fast["object"]["status"]["usage"]["totals"]["diskReadBytes"].is_number_unsigned());
  EXPECT_TRUE(fast["object"]["status"]["prediction"]["quantile"].is_number_float());
}

Json RandomValue(std::mt19937_64& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto random_string = [&] {
    std::string s;
    int n = pick(12);
    for (int i = 0; i < n; ++i) {
      uint32_t cp;
      switch (pick(6)) {
        case 0: cp = static_cast<uint32_t>(pick(0x20)); break;             // control characters
        case 1: cp = static_cast<uint32_t>(0x80 + pick(0x780)); break;     // two bytes
        case 2: cp = static_cast<uint32_t>(0x800 + pick(0xD000)); break;   // three bytes (no surrogates)
        case 3: cp = static_cast<uint32_t>(0x10000 + pick(0x100000)); break;  // four bytes
        default: cp = static_cast<uint32_t>(0x20 + pick(0x60)); break;     // ASCII incl. " and backslash
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
      char buf[32];  // encoded by nlohmann itself, from a \u escape

      if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\"\\u%04x\"", cp);
      } else {
        uint32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\"\\u%04x\\u%04x\"", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      }
      s += Json::parse(buf).get<std::string>();
    }
    return s;
  };
  int kind = depth > 4 ? pick(6) : pick(8);
  switch (kind) {
    case 0: return nullptr;
    case 1: return pick(2) == 0;
    case 2: return static_cast<int64_t>(rng()) >> pick(64);
    case 3: return static_cast<uint64_t>(rng()) >> pick(64);
    case 4: {
      double d = std::ldexp(static_cast<double>(rng() >> 11), pick(200) - 100 - 53);
      return pick(2) ? d : -d;
    }
    case 5: return random_string();
    case 6: {
      Json a = Json::array();
      for (int i = pick(5); i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (int i = pick(5); i > 0; --i) o[random_string()] = RandomValue(rng, depth + 1);
      return o;
    }
  }
}

TEST(ParseJsonTest, RandomDocumentsRoundTripThroughTheFastReader) {
  std::mt19937_64 rng(20261128);
  for (int i = 0; i < 300; ++i) {
    Json v = RandomValue(rng, 0);
    for (const std::string& text : {v.dump(), v.dump(2), v.dump(-1, ' ', /*ensure_ascii=*/true)}) {
      Json fast;
      ASSERT_TRUE(ParseJsonFast(text, &fast)) << text;
      ASSERT_TRUE(Same(fast, Json::parse(text))) << text;
    }
  }
}

TEST(ParseJsonTest, MutatedDocumentsMatchNlohmann) {
  std::mt19937_64 rng(7);
  const char kBytes[] = "{}[]\",:\\u0123456789abcdefABCDEF.eE+- \t\n\x01\x7f\x80\xbf\xc3\xe0\xed\xf0\xf4\xff";
  for (int i = 0; i < 1500; ++i) {
    std::string text = RandomValue(rng, 0).dump(static_cast<int>(rng() % 2) - 1, ' ', rng() % 2 == 0);
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0 && !text.empty(); --m) {
      size_t at = rng() % text.size();
      char b = kBytes[rng() % (sizeof kBytes - 1)];
      switch (rng() % 3) {
        case 0: text[at] = b; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), b); break;
        default: text.erase(at, 1); break;
      }
    }
    ExpectAsNlohmann(text);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace prescient::kube
