// Parsing JSON text into nlohmann::json on the informer's hot path (every watch event and list page).
// nlohmann's own parser spends most of its time in a character-at-a-time lexer (it also records every
// character for error messages); ParseJson reads the text directly and builds the same DOM about twice
// as fast. It is a front end, not a second JSON library: the result is the value nlohmann::json::parse
// would produce (same types: non-negative integers unsigned, negative ones signed, the last of
// duplicate keys wins), and any text it does not handle itself (invalid JSON, invalid UTF-8, lone
// surrogates, numbers out of range, nesting deeper than 128, a byte-order mark) is handed to
// nlohmann::json::parse, so errors and edge cases behave exactly as nlohmann's. Pure; thread-safe.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace prescient::kube {

// The value, or a discarded value (is_discarded()) when `text` is not valid JSON, as
// nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false) returns.
nlohmann::json ParseJson(std::string_view text);

// The fast reader alone, for tests: false when it leaves `text` to nlohmann (`out` is then unspecified).
bool ParseJsonFast(std::string_view text, nlohmann::json* out);

}  // namespace prescient::kube
