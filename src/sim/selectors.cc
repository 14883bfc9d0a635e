#include "sim/selectors.h"

#include <cctype>

namespace prescient::sim {
namespace {

Status BadRequest(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)).WithHttp(400, "BadRequest"); }

bool IsLabelChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
}

bool ValidLabelValue(const std::string& v) {
  if (v.size() > 63) return false;
  for (char c : v) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return v.empty() || (std::isalnum(static_cast<unsigned char>(v.front())) &&
                       std::isalnum(static_cast<unsigned char>(v.back())));
}

bool ValidLabelKey(const std::string& k) {
  if (k.empty() || k.size() > 316) return false;
  auto slash = k.find('/');
  std::string name = slash == std::string::npos ? k : k.substr(slash + 1);
  if (slash != std::string::npos && (slash == 0 || k.find('/', slash + 1) != std::string::npos)) return false;
  return !name.empty() && ValidLabelValue(name);
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  bool Consume(std::string_view tok) {
    SkipSpace();
    if (s_.substr(i_, tok.size()) == tok) {
      i_ += tok.size();
      return true;
    }
    return false;
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  std::string Word() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && IsLabelChar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  size_t pos() const { return i_; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Status ParseError(std::string_view text, std::string why) {
  return BadRequest("unable to parse requirement: " + why + " in selector \"" + std::string(text) + "\"");
}

}  // namespace

bool LabelSelector::Matches(const nlohmann::json& labels) const {
  for (const auto& r : requirements) {
    const nlohmann::json* v = nullptr;
    if (labels.is_object()) {
      auto it = labels.find(r.key);
      if (it != labels.end() && it->is_string()) v = &*it;
    }
    switch (r.op) {
      case LabelRequirement::Op::kExists:
        if (!v) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (v) return false;
        break;
      case LabelRequirement::Op::kEquals:
      case LabelRequirement::Op::kIn: {
        if (!v) return false;
        bool found = false;
        for (const auto& x : r.values) found = found || v->get_ref<const std::string&>() == x;
        if (!found) return false;
        break;
      }
      case LabelRequirement::Op::kNotEquals:
      case LabelRequirement::Op::kNotIn: {
        if (!v) break;  // absent keys match != and notin, as upstream
        for (const auto& x : r.values) {
          if (v->get_ref<const std::string&>() == x) return false;
        }
        break;
      }
    }
  }
  return true;
}

Result<LabelSelector> ParseLabelSelector(std::string_view text) {
  LabelSelector sel;
  Lexer lx(text);
  if (lx.AtEnd()) return sel;
  for (;;) {
    LabelRequirement req;
    if (lx.Consume("!")) {
      req.op = LabelRequirement::Op::kDoesNotExist;
      req.key = lx.Word();
      if (!ValidLabelKey(req.key)) return ParseError(text, "invalid label key \"" + req.key + "\"");
    } else {
      req.key = lx.Word();
      if (!ValidLabelKey(req.key)) return ParseError(text, "invalid label key \"" + req.key + "\"");
      if (lx.Consume("==") || lx.Consume("=")) {
        req.op = LabelRequirement::Op::kEquals;
        req.values.push_back(lx.Word());
      } else if (lx.Consume("!=")) {
        req.op = LabelRequirement::Op::kNotEquals;
        req.values.push_back(lx.Word());
      } else if (lx.Peek() == ',' || lx.AtEnd()) {
        req.op = LabelRequirement::Op::kExists;
      } else {
        std::string word = lx.Word();
        if (word == "in") req.op = LabelRequirement::Op::kIn;
        else if (word == "notin") req.op = LabelRequirement::Op::kNotIn;
        else return ParseError(text, "expected one of '=', '==', '!=', 'in', 'notin' after \"" + req.key + "\"");
        if (!lx.Consume("(")) return ParseError(text, "expected '(' after '" + word + "'");
        for (;;) {
          req.values.push_back(lx.Word());
          if (lx.Consume(")")) break;
          if (!lx.Consume(",")) return ParseError(text, "expected ',' or ')' in value list");
        }
        if (req.values.size() == 1 && req.values[0].empty()) {
          return ParseError(text, "for 'in', 'notin' operators, values set can't be empty");
        }
      }
      for (const auto& v : req.values) {
        if (!ValidLabelValue(v)) return ParseError(text, "invalid label value \"" + v + "\"");
      }
    }
    sel.requirements.push_back(std::move(req));
    if (lx.AtEnd()) break;
    if (!lx.Consume(",")) return ParseError(text, "unexpected text at position " + std::to_string(lx.pos()));
  }
  return sel;
}

std::string FieldValue(const nlohmann::json& object, std::string_view path) {
  const nlohmann::json* cur = &object;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  if (cur->is_primitive()) return cur->dump();
  return "";
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const auto& r : requirements) {
    bool eq = FieldValue(object, r.field) == r.value;
    if (eq != r.equals) return false;
  }
  return true;
}

Result<FieldSelector> ParseFieldSelector(std::string_view text) {
  FieldSelector sel;
  size_t start = 0;
  std::string s(text);
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    std::string term = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? s.size() : comma + 1;
    // Trim.
    while (!term.empty() && std::isspace(static_cast<unsigned char>(term.front()))) term.erase(0, 1);
    while (!term.empty() && std::isspace(static_cast<unsigned char>(term.back()))) term.pop_back();
    if (term.empty()) continue;
    FieldRequirement r;
    size_t op;
    if ((op = term.find("!=")) != std::string::npos) {
      r.equals = false;
      r.field = term.substr(0, op);
      r.value = term.substr(op + 2);
    } else if ((op = term.find("==")) != std::string::npos) {
      r.field = term.substr(0, op);
      r.value = term.substr(op + 2);
    } else if ((op = term.find('=')) != std::string::npos) {
      r.field = term.substr(0, op);
      r.value = term.substr(op + 1);
    } else {
      return BadRequest("invalid selector: '" + std::string(text) + "'; can't understand '" + term + "'");
    }
    if (r.field.empty()) return BadRequest("invalid selector: '" + std::string(text) + "': empty field name");
    sel.requirements.push_back(std::move(r));
  }
  return sel;
}

}  // namespace prescient::sim
