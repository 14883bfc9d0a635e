#include "sim/patch.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace prescient::sim {
namespace {

// A field path in FieldsV1 elements: "f:spec", "k:{\"name\":\"c\"}" (map-list item by its keys),
// "v:\"x\"" (set item by value), "i:3" (list item by index; not produced here, understood).
using Path = std::vector<std::string>;
using PathSet = std::set<Path>;

bool IsSystemMetadataKey(const std::string& k) {
  return k == "name" || k == "namespace" || k == "uid" || k == "resourceVersion" || k == "generation" ||
         k == "creationTimestamp" || k == "managedFields" || k == "deletionTimestamp" || k == "selfLink";
}

// Fields no manager owns: apiVersion and kind at the root, identity and system metadata.
bool Skipped(const TypePath& tp, const std::string& key) {
  if (tp.empty()) return key == "apiVersion" || key == "kind";
  return tp.size() == 1 && tp[0] == "metadata" && IsSystemMetadataKey(key);
}

// Upstream's rendering of a path in conflict messages: .spec.containers[name="c"].image.
std::string PathString(const Path& p) {
  std::string s;
  for (const auto& e : p) {
    if (e.size() < 2 || e[1] != ':') {
      s += "." + e;
      continue;
    }
    std::string rest = e.substr(2);
    switch (e[0]) {
      case 'f':
        s += "." + rest;
        break;
      case 'k': {
        Json key = Json::parse(rest, nullptr, false);
        std::string parts;
        if (key.is_object()) {
          for (auto it = key.begin(); it != key.end(); ++it) {
            parts += (parts.empty() ? "" : ",") + it.key() + "=" + it->dump();
          }
        }
        s += "[" + parts + "]";
        break;
      }
      case 'v':
        s += "[=" + rest + "]";
        break;
      case 'i':
        s += "[" + rest + "]";
        break;
      default:
        s += "." + e;
    }
  }
  return s;
}

// The key object of a map-list item, with defaults for absent key fields; nullopt (and *why) when
// a key is missing or the item is not an object.
std::optional<Json> ItemKey(const Json& item, const ListType& lt, std::string* why) {
  if (!item.is_object()) {
    *why = "expected an object for an associative list item, got " + std::string(item.type_name());
    return std::nullopt;
  }
  Json key = Json::object();
  for (const auto& name : lt.keys) {
    auto it = item.find(name);
    if (it != item.end() && !it->is_null()) {
      if (!it->is_primitive()) {
        *why = "associative list with keys has an element whose key field \"" + name + "\" is not a scalar";
        return std::nullopt;
      }
      key[name] = *it;
    } else if (auto d = lt.key_defaults.find(name); d != lt.key_defaults.end()) {
      key[name] = *d;
    } else {
      *why = "associative list with keys has an element that omits key field \"" + name +
             "\" (and doesn't have default value)";
      return std::nullopt;
    }
  }
  return key;
}

// One list, indexed by FieldsV1 element. ok=false when the list cannot be treated by its type
// (a bad or duplicate item): callers then treat it as atomic, or refuse it (applied configs).
struct IndexedList {
  bool ok = true;
  std::string error;
  std::vector<std::string> order;               // elements in list order
  std::map<std::string, const Json*> items;     // element -> item
};

IndexedList IndexList(const Json& list, const ListType& lt) {
  IndexedList out;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    std::string elem;
    if (lt.kind == ListType::Kind::kSet) {
      if (!item.is_primitive()) {
        out.ok = false;
        out.error = "element " + std::to_string(i) + ": expected a scalar in a set, got " + item.type_name();
        return out;
      }
      elem = "v:" + item.dump();
    } else {
      std::string why;
      auto key = ItemKey(item, lt, &why);
      if (!key) {
        out.ok = false;
        out.error = "element " + std::to_string(i) + ": " + why;
        return out;
      }
      elem = "k:" + key->dump();
    }
    if (!out.items.emplace(elem, &item).second) {
      out.ok = false;
      out.error = "duplicate entries for key " + PathString({elem}).substr(0);
      return out;
    }
    out.order.push_back(elem);
  }
  return out;
}

// Walks values with their types. strict: a list that does not fit its type is an error (applied
// configurations) rather than atomic (stored objects, as upstream treats them).
struct Walker {
  const MergeTypes& types;
  bool strict;
  std::string error;  // first error (strict)
  TypePath tp;

  bool Granular(const Json& v) const { return v.is_object() && !v.empty() && !types.AtomicMapAt(tp); }

  // The FieldsV1 node of a value: {} for a leaf; children for granular objects and typed lists
  // (list items carry "." since the item itself is owned).
  Json SetOf(const Json& v, const std::string& where) {
    Json out = Json::object();
    if (Granular(v)) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (Skipped(tp, it.key())) continue;
        tp.push_back(it.key());
        Json sub = SetOf(*it, where + "." + it.key());
        bool granular = Granular(*it);
        tp.pop_back();
        if (sub.empty() && granular) continue;  // only system fields inside
        out["f:" + it.key()] = std::move(sub);
      }
      return out;
    }
    if (!v.is_array() || v.empty()) return out;
    ListType lt = types.ListAt(tp);
    if (lt.kind == ListType::Kind::kAtomic) return out;
    IndexedList idx = IndexList(v, lt);
    if (!idx.ok) {
      if (strict && error.empty()) error = where + ": " + idx.error;
      return out;
    }
    tp.push_back("[]");
    for (const auto& elem : idx.order) {
      const Json& item = *idx.items[elem];
      Json sub = lt.kind == ListType::Kind::kMap ? SetOf(item, where + PathString({elem})) : Json::object();
      if (lt.kind == ListType::Kind::kMap) sub["."] = Json::object();
      out[elem] = std::move(sub);
    }
    tp.pop_back();
    return out;
  }

  // Applies an applied configuration onto a live value (maps key by key, lists by their type).
  Json Merge(const Json& lhs, const Json& rhs) {
    if (rhs.is_object() && lhs.is_object() && !types.AtomicMapAt(tp)) {
      Json out = lhs;
      for (auto it = rhs.begin(); it != rhs.end(); ++it) {
        if (it->is_null()) {
          out.erase(it.key());
          continue;
        }
        auto cur = out.find(it.key());
        tp.push_back(it.key());
        out[it.key()] = cur == out.end() ? *it : Merge(*cur, *it);
        tp.pop_back();
      }
      return out;
    }
    if (!rhs.is_array() || !lhs.is_array()) return rhs;
    ListType lt = types.ListAt(tp);
    if (lt.kind == ListType::Kind::kAtomic) return rhs;
    IndexedList l = IndexList(lhs, lt);
    IndexedList r = IndexList(rhs, lt);
    if (!l.ok || !r.ok) return rhs;
    // Items only in the live list keep their place; shared ones follow the applied order, merged;
    // new ones come where the applied list has them (structured-merge-diff's order).
    Json out = Json::array();
    std::set<std::string> done;
    size_t li = 0;
    tp.push_back("[]");
    for (const auto& elem : r.order) {
      while (li < l.order.size() && !r.items.count(l.order[li])) out.push_back(*l.items[l.order[li++]]);
      auto in_l = l.items.find(elem);
      if (in_l == l.items.end()) {
        out.push_back(*r.items[elem]);
      } else {
        out.push_back(lt.kind == ListType::Kind::kMap ? Merge(*in_l->second, *r.items[elem]) : *r.items[elem]);
      }
      done.insert(elem);
    }
    tp.pop_back();
    for (; li < l.order.size(); ++li) {
      if (!done.count(l.order[li]) && !r.items.count(l.order[li])) out.push_back(*l.items[l.order[li]]);
    }
    return out;
  }

  // Member paths (see Members) of value v at path p.
  void AddMembersOf(const Json& v, Path& p, PathSet* out);

  // Paths whose values differ: present in b (changed: added or modified) or only in a (removed).
  void Diff(const Json* a, const Json* b, Path& p, PathSet* changed, PathSet* removed) {
    if (a && b && *a == *b) return;
    if (a && b && Granular(*a) && Granular(*b)) {
      std::set<std::string> keys;
      for (auto it = a->begin(); it != a->end(); ++it) keys.insert(it.key());
      for (auto it = b->begin(); it != b->end(); ++it) keys.insert(it.key());
      for (const auto& k : keys) {
        if (Skipped(tp, k)) continue;
        auto ia = a->find(k);
        auto ib = b->find(k);
        p.push_back("f:" + k);
        tp.push_back(k);
        Diff(ia == a->end() ? nullptr : &*ia, ib == b->end() ? nullptr : &*ib, p, changed, removed);
        tp.pop_back();
        p.pop_back();
      }
      return;
    }
    if (a && b && a->is_array() && b->is_array()) {
      ListType lt = types.ListAt(tp);
      if (lt.kind != ListType::Kind::kAtomic) {
        IndexedList la = IndexList(*a, lt);
        IndexedList lb = IndexList(*b, lt);
        if (la.ok && lb.ok) {
          tp.push_back("[]");
          for (const auto& [elem, item] : la.items) {
            p.push_back(elem);
            auto in_b = lb.items.find(elem);
            if (in_b == lb.items.end()) {
              AddMembersOf(*item, p, removed);
            } else if (lt.kind == ListType::Kind::kMap) {
              Diff(item, in_b->second, p, changed, removed);
            }
            p.pop_back();
          }
          for (const auto& [elem, item] : lb.items) {
            if (la.items.count(elem)) continue;
            p.push_back(elem);
            AddMembersOf(*item, p, changed);
            p.pop_back();
          }
          tp.pop_back();
          return;
        }
      }
    }
    if (b == nullptr) {
      if (a != nullptr) AddMembersOf(*a, p, removed);
      return;
    }
    PathSet now;
    AddMembersOf(*b, p, &now);
    changed->insert(now.begin(), now.end());
    if (a != nullptr) {
      PathSet before;
      AddMembersOf(*a, p, &before);
      for (const auto& q : before) {
        if (!now.count(q)) removed->insert(q);
      }
    }
  }
};

// Every member of a FieldsV1 set: nodes that are leaves ({}) or carry ".".
void MembersRec(const Json& node, Path& prefix, PathSet* out) {
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == ".") continue;
    prefix.push_back(it.key());
    if (!it->is_object() || it->empty() || it->contains(".")) out->insert(prefix);
    MembersRec(*it, prefix, out);
    prefix.pop_back();
  }
}

PathSet Members(const Json& set) {
  PathSet out;
  Path p;
  MembersRec(set, p, &out);
  return out;
}

void Walker::AddMembersOf(const Json& v, Path& p, PathSet* out) {
  Json node = SetOf(v, "");
  if (node.empty() || node.contains(".")) out->insert(p);
  MembersRec(node, p, out);
}

// The FieldsV1 tree of a set of member paths: a member with children carries ".".
Json SetFromMembers(const PathSet& members) {
  Json root = Json::object();
  for (const auto& p : members) {
    Json* cur = &root;
    for (const auto& e : p) cur = &(*cur)[e];
    if (cur->is_null()) *cur = Json::object();
  }
  for (const auto& p : members) {
    Json* cur = &root;
    for (const auto& e : p) cur = &(*cur)[e];
    if (!cur->empty() && !cur->contains(".")) (*cur)["."] = Json::object();
  }
  return root;
}

// Whether p names one of the key fields of a map-list item (k:{"name":..}/f:name).
bool IsKeyField(const Path& p) {
  if (p.size() < 2 || p[p.size() - 2].rfind("k:", 0) != 0 || p.back().rfind("f:", 0) != 0) return false;
  Json key = Json::parse(p[p.size() - 2].substr(2), nullptr, false);
  return key.is_object() && key.contains(p.back().substr(2));
}

// Whether any member of a set is p or lies under it.
bool HasAtOrUnder(const PathSet& set, const Path& p) {
  auto it = set.lower_bound(p);
  return it != set.end() && it->size() >= p.size() && std::equal(p.begin(), p.end(), it->begin());
}

// Resolves path p in an object; with parent/slot to erase it. null when absent.
struct Located {
  Json* parent = nullptr;
  Json* value = nullptr;
  std::string field;     // parent is an object
  size_t index = 0;      // parent is an array
};

Located Locate(Json* obj, const Path& p, const MergeTypes& types) {
  Located loc;
  Json* cur = obj;
  TypePath tp;
  for (const auto& e : p) {
    if (e.size() < 2 || e[1] != ':') return {};
    std::string rest = e.substr(2);
    if (e[0] == 'f') {
      if (!cur->is_object()) return {};
      auto it = cur->find(rest);
      if (it == cur->end()) return {};
      loc.parent = cur;
      loc.field = rest;
      cur = &*it;
      tp.push_back(rest);
      continue;
    }
    if (!cur->is_array()) return {};
    Json* found = nullptr;
    size_t index = 0;
    if (e[0] == 'i') {
      char* end = nullptr;
      unsigned long n = std::strtoul(rest.c_str(), &end, 10);
      if (end == rest.c_str() || *end != '\0' || n >= cur->size()) return {};
      index = n;
      found = &(*cur)[n];
    } else {
      Json want = Json::parse(rest, nullptr, false);
      if (want.is_discarded()) return {};
      ListType lt = types.ListAt(tp);
      for (size_t i = 0; i < cur->size() && found == nullptr; ++i) {
        std::string why;
        if (e[0] == 'v' && (*cur)[i] == want) found = &(*cur)[i];
        if (e[0] == 'k') {
          auto key = ItemKey((*cur)[i], lt, &why);
          if (key && *key == want) found = &(*cur)[i];
        }
        if (found) index = i;
      }
    }
    if (found == nullptr) return {};
    loc.parent = cur;
    loc.field.clear();
    loc.index = index;
    cur = found;
    tp.push_back("[]");
  }
  loc.value = cur;
  return loc;
}

void Erase(Json* obj, const Path& p, const MergeTypes& types) {
  Located loc = Locate(obj, p, types);
  if (loc.value == nullptr || loc.parent == nullptr) return;
  if (loc.parent->is_object()) {
    loc.parent->erase(loc.field);
  } else if (loc.parent->is_array()) {
    loc.parent->erase(loc.index);
  }
}

Json* FindEntry(Json& mf, const std::string& manager, const std::string& op, const std::string& sub) {
  for (auto& e : mf) {
    if (!e.is_object()) continue;
    if (e.value("manager", "") == manager && e.value("operation", "") == op && e.value("subresource", "") == sub) {
      return &e;
    }
  }
  return nullptr;
}

void DropEmpty(Json& mf) {
  Json out = Json::array();
  for (auto& e : mf) {
    if (!e.is_object()) continue;
    auto it = e.find("fieldsV1");
    if (it != e.end() && it->is_object() && !it->empty()) out.push_back(std::move(e));
  }
  mf = std::move(out);
}

Json WithoutManagedFields(const Json& obj) {
  Json out = obj;
  if (out.is_object()) {
    auto md = out.find("metadata");
    if (md != out.end() && md->is_object()) md->erase("managedFields");
  }
  return out;
}

std::string Manager(const Json& entry) {
  auto it = entry.find("manager");
  return it != entry.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Json ApplyMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json result = target.is_object() ? target : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      result.erase(it.key());
    } else {
      auto cur = result.find(it.key());
      result[it.key()] = ApplyMergePatch(cur == result.end() ? Json() : *cur, *it);
    }
  }
  return result;
}

Result<Json> ApplyJsonPatch(const Json& target, const Json& ops) {
  if (!ops.is_array()) {
    return Status(Code::kInvalidArgument, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        .WithHttp(400, "BadRequest");
  }
  try {
    return target.patch(ops);
  } catch (const std::exception& e) {
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.other_error.501] ..."; keep the human part.
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return Status(Code::kInvalid, "the server rejected our request due to an error in our request: " + what)
        .WithHttp(422, "Invalid");
  }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

namespace {

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A value as Go's %v prints the decoded JSON, for upstream's error messages (map[k:v k2:v2]).
std::string GoValue(const Json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {  // nlohmann keeps keys sorted, as Go prints them
      s += (first ? "" : " ") + it.key() + ":" + GoValue(*it);
      first = false;
    }
    return s + "]";
  }
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + GoValue(v[i]);
    return s + "]";
  }
  return v.dump();
}

// Go's type of a decoded JSON value: what upstream compares to decide merge vs replace.
std::string GoType(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "map[string]interface {}";
    case Json::value_t::array: return "[]interface {}";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "int64";
    case Json::value_t::number_float: return "float64";
    default: return "%!s(<nil>)";
  }
}

Status SmpBadRequest(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)).WithHttp(400, "BadRequest"); }
// Errors upstream returns as plain Go errors: the API server answers them with 500.
Status SmpFailure(std::string msg) { return Status(Code::kInternal, std::move(msg)).WithHttp(500, "InternalError"); }
Status NoMergeKey(const Json& item, const std::string& key) {
  return SmpFailure("map: " + GoValue(item) + " does not contain declared merge key: " + key);
}

// "$setElementOrder/containers" -> "containers"; false when there is no "/<field>".
bool DirectiveField(const std::string& key, std::string_view prefix, std::string* field) {
  auto slash = key.find('/');
  if (slash == std::string::npos || std::string_view(key).substr(0, slash) != prefix) return false;
  *field = key.substr(slash + 1);
  return true;
}

// Upstream's removeDirectives for values taken from the patch as they are: a map carrying $patch
// goes (nullopt), and so do list items that do; any other "$" key is dropped too (decoding into
// the typed object drops it upstream).
std::optional<Json> Clean(const Json& v) {
  if (v.is_object()) {
    if (v.contains(kPatchDirective)) return std::nullopt;
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (StartsWith(it.key(), "$")) continue;
      if (auto c = Clean(*it)) out[it.key()] = std::move(*c);
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) {
      if (auto c = Clean(e)) out.push_back(std::move(*c));
    }
    return out;
  }
  return v;
}

// Upstream drops null fields from values it takes from the patch whole.
Json DiscardNulls(const Json& v) {
  if (v.is_object()) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it->is_null()) out[it.key()] = DiscardNulls(*it);
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(DiscardNulls(e));
    return out;
  }
  return v;
}

enum class ElemKind { kNone, kObject, kScalar };

// What a list's items are, across the live list and the patch's: all of one Go type, never lists.
Result<ElemKind> ElementKind(const Json& a, const Json& b) {
  std::string type;
  for (const Json* list : {&a, &b}) {
    if (!list->is_array()) continue;
    for (const auto& v : *list) {
      std::string t = GoType(v);
      if (type.empty()) {
        if (v.is_array()) {
          return Status(Code::kInvalid, "the server rejected our request due to an error in our request: lists of lists are not supported")
              .WithHttp(422, "Invalid");
        }
        type = t;
      } else if (t != type) {
        return SmpFailure("list element types are not identical: [" + GoValue(a) + " " + GoValue(b) + "]");
      }
    }
  }
  if (type.empty()) return ElemKind::kNone;
  return type == "map[string]interface {}" ? ElemKind::kObject : ElemKind::kScalar;
}

// What identifies an item for ordering: its merge key's value (objects) or itself (scalars).
const Json& Identity(const Json& item, const std::string& key, ElemKind kind) {
  static const Json kNull;
  if (kind != ElemKind::kObject) return item;
  if (!item.is_object()) return kNull;
  auto it = item.find(key);
  return it == item.end() ? kNull : *it;
}

size_t IndexIn(const Json& list, const Json& item, const std::string& key, ElemKind kind) {
  const Json& id = Identity(item, key, kind);
  for (size_t i = 0; i < list.size(); ++i) {
    if (Identity(list[i], key, kind) == id) return i;
  }
  return SIZE_MAX;
}

// Upstream's element order: the patch's items in `patch_order`, the live-only items in the live
// order, interleaved so that a live-only item goes before a patch item it preceded in the live list.
Result<Json> NormalizeOrder(const Json& merged, const Json& patch_order, const Json& server_order,
                            const std::string& key, ElemKind kind) {
  std::vector<Json> patch_items, server_only;
  for (const auto& v : merged) {
    if (kind == ElemKind::kObject && (!v.is_object() || !v.contains(key))) return NoMergeKey(v, key);
    (IndexIn(patch_order, v, key, kind) != SIZE_MAX ? patch_items : server_only).push_back(v);
  }
  if (kind == ElemKind::kObject) {
    for (const auto& v : patch_order) {
      if (!v.is_object() || !v.contains(key)) return NoMergeKey(v, key);
    }
  }
  auto by = [&key, kind](const Json* order) {
    return [order, &key, kind](const Json& l, const Json& r) {
      return IndexIn(*order, l, key, kind) < IndexIn(*order, r, key, kind);
    };
  };
  std::stable_sort(patch_items.begin(), patch_items.end(), by(&patch_order));
  std::stable_sort(server_only.begin(), server_only.end(), by(&server_order));
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < server_only.size() || j < patch_items.size()) {
    if (j >= patch_items.size()) {
      out.push_back(std::move(server_only[i++]));
    } else if (i >= server_only.size()) {
      out.push_back(std::move(patch_items[j++]));
    } else {
      size_t li = IndexIn(server_order, server_only[i], key, kind);
      size_t ri = IndexIn(server_order, patch_items[j], key, kind);
      if (li != SIZE_MAX && ri != SIZE_MAX && li < ri) {
        out.push_back(std::move(server_only[i++]));
      } else {
        out.push_back(std::move(patch_items[j++]));
      }
    }
  }
  return out;
}

struct StrategicMerger {
  const MergeTypes& types;
  TypePath tp;

  std::string Where() const {
    std::string s;
    for (const auto& p : tp) s += (s.empty() || p == "[]" ? "" : ".") + p;
    return s.empty() ? "<root>" : s;
  }

  Result<Json> MergeMap(Json original, Json patch) {
    if (auto d = patch.find(kPatchDirective); d != patch.end()) {
      if (*d == "replace") {
        patch.erase(std::string(kPatchDirective));
        return Clean(patch).value_or(Json::object());
      }
      if (*d == "delete") return Json::object();
      return SmpFailure("unknown patch type: " + GoValue(*d) + " in map: " + GoValue(patch));
    }
    if (!original.is_object()) original = Json::object();

    if (auto rk = patch.find(kRetainKeysDirective); rk != patch.end()) {
      Json keys = *rk;
      patch.erase(std::string(kRetainKeysDirective));
      if (!keys.is_array()) return SmpBadRequest("invalid patch format of retainKeys");
      std::set<std::string> keep;
      for (const auto& k : keys) {
        if (k.is_string()) keep.insert(k.get<std::string>());
      }
      for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it->is_null() || StartsWith(it.key(), kDeleteFromPrimitiveListPrefix) ||
            StartsWith(it.key(), kSetElementOrderPrefix)) {
          continue;
        }
        if (!keep.count(it.key())) return SmpBadRequest("invalid patch format of retainKeys");
      }
      for (auto it = original.begin(); it != original.end();) {
        it = keep.count(it.key()) ? std::next(it) : original.erase(it);
      }
    }

    std::vector<std::string> orders;
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (StartsWith(it.key(), kSetElementOrderPrefix)) orders.push_back(it.key());
    }
    for (const auto& key : orders) {
      Status s = SetElementOrder(original, patch, key);
      if (!s.ok()) return s;
    }

    for (auto it = patch.begin(); it != patch.end(); ++it) {
      std::string key = it.key();
      bool delete_list = false;
      if (StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
        if (!DirectiveField(it.key(), kDeleteFromPrimitiveListPrefix, &key)) {
          return SmpBadRequest("invalid patch format of primitive list");
        }
        delete_list = true;
      } else if (StartsWith(key, "$")) {
        continue;  // an unknown directive: dropped, as decoding into the typed object drops it
      }
      const Json& pv = *it;
      if (pv.is_null()) {
        original.erase(key);
        continue;
      }
      auto cur = original.find(key);
      if (cur == original.end() || GoType(*cur) != GoType(pv)) {
        if (delete_list) continue;
        if (auto v = Clean(DiscardNulls(pv))) {
          original[key] = std::move(*v);
        } else {
          original.erase(key);
        }
        continue;
      }
      tp.push_back(key);
      Result<Json> merged = Json();
      if (pv.is_object()) {
        merged = MergeMap(*cur, pv);
      } else if (pv.is_array()) {
        PatchStrategy st = types.StrategyAt(tp);
        if (st.merge || delete_list) {
          merged = MergeSlice(*cur, pv, st, delete_list);
        } else {
          merged = Clean(pv).value_or(Json::array());
        }
      } else if (!delete_list) {
        merged = pv;
      } else {
        merged = *cur;
      }
      tp.pop_back();
      if (!merged.ok()) return merged.status();
      original[key] = std::move(*merged);
    }
    return original;
  }

  Result<Json> MergeSlice(const Json& original, const Json& patch, const PatchStrategy& st, bool delete_list) {
    if (original.empty() && patch.empty()) return original;
    auto kind = ElementKind(original, patch);
    if (!kind.ok()) return kind.status();
    const std::string& key = st.merge_key;
    if (*kind != ElemKind::kObject) {
      Json merged = Json::array();
      if (delete_list) {
        for (const auto& v : original) {
          if (std::find(patch.begin(), patch.end(), v) == patch.end()) merged.push_back(v);
        }
        return merged;
      }
      for (const Json* list : {&original, &patch}) {
        for (const auto& v : *list) {
          if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
        }
      }
      return NormalizeOrder(merged, patch, original, "", *kind);
    }
    if (key.empty()) return SmpFailure("cannot merge lists without merge key for " + Where());

    // Items carrying $patch: delete (by merge key), replace (the list becomes the patch's other
    // items), merge (refused, as upstream).
    Json live = original;
    Json items = Json::array();
    bool replace = false;
    for (const auto& v : patch) {
      auto d = v.find(kPatchDirective);
      if (d == v.end()) {
        items.push_back(v);
      } else if (*d == "delete") {
        auto k = v.find(key);
        if (k == v.end()) return NoMergeKey(v, key);
        Json kept = Json::array();
        for (auto& e : live) {
          if (!(e.is_object() && e.contains(key) && e[key] == *k)) kept.push_back(std::move(e));
        }
        live = std::move(kept);
      } else if (*d == "replace") {
        replace = true;
      } else if (*d == "merge") {
        return SmpFailure("merging lists cannot yet be specified in the patch");
      } else {
        return SmpFailure("unknown patch type: " + GoValue(*d) + " in map: " + GoValue(v));
      }
    }
    if (replace) {
      live = Json::array();
      for (const auto& v : items) {
        if (auto c = Clean(v)) live.push_back(std::move(*c));
      }
      items = Json::array();
    }
    Json merged = live;
    tp.push_back("[]");
    for (const auto& v : items) {
      auto k = v.find(key);
      if (k == v.end()) {
        tp.pop_back();
        return NoMergeKey(v, key);
      }
      auto found = std::find_if(merged.begin(), merged.end(),
                                [&](const Json& e) { return e.is_object() && e.contains(key) && e[key] == *k; });
      if (found != merged.end()) {
        auto m = MergeMap(*found, v);
        if (!m.ok()) {
          tp.pop_back();
          return m.status();
        }
        *found = std::move(*m);
      } else if (auto c = Clean(v)) {
        merged.push_back(std::move(*c));
      }
    }
    tp.pop_back();
    return NormalizeOrder(merged, items, live, key, ElemKind::kObject);
  }

  // $setElementOrder/<field>: merges the field's list (if the patch has one) and orders it.
  Status SetElementOrder(Json& original, Json& patch, const std::string& directive) {
    Json order = patch[directive];
    patch.erase(directive);
    if (!order.is_array()) return SmpFailure("expected a []interface {}, but received a " + GoType(order));
    std::string field;
    if (!DirectiveField(directive, kSetElementOrderPrefix, &field)) {
      return SmpBadRequest("invalid patch format of setElementOrder list");
    }
    auto in_orig = original.find(field);
    auto in_patch = patch.find(field);
    bool has_orig = in_orig != original.end(), has_patch = in_patch != patch.end();
    if (has_orig && !in_orig->is_array()) return SmpFailure("expected a []interface {}, but received a " + GoType(*in_orig));
    if (has_patch && !in_patch->is_array()) return SmpFailure("expected a []interface {}, but received a " + GoType(*in_patch));
    if (!has_orig && !has_patch) return Status::Ok();
    const Json empty = Json::array();
    const Json& orig_list = has_orig ? *in_orig : empty;
    const Json& patch_list = has_patch ? *in_patch : empty;
    tp.push_back(field);
    PatchStrategy st = types.StrategyAt(tp);
    const std::string& key = st.merge_key;

    // The patch's items (deletions aside) must appear in the order list in the same order.
    size_t pi = 0, oi = 0;
    std::vector<const Json*> non_delete;
    for (const auto& v : patch_list) {
      if (!key.empty()) {
        if (!v.is_object()) {
          tp.pop_back();
          return SmpFailure("expected a map[string]interface {}, but received a " + GoType(v));
        }
        if (v.value(std::string(kPatchDirective), Json()) == "delete") continue;
      }
      non_delete.push_back(&v);
    }
    while (pi < non_delete.size() && oi < order.size()) {
      const Json& p = *non_delete[pi];
      if (p.is_object() && p.contains(kPatchDirective)) {
        ++pi;
        continue;
      }
      bool equal;
      if (key.empty()) {
        equal = p == order[oi];
      } else {
        if (!p.contains(key)) {
          tp.pop_back();
          return NoMergeKey(p, key);
        }
        if (!order[oi].is_object() || !order[oi].contains(key)) {
          tp.pop_back();
          return NoMergeKey(order[oi], key);
        }
        equal = p[key] == order[oi][key];
      }
      if (equal) ++pi;
      ++oi;
    }
    if (pi < non_delete.size() && oi >= order.size()) {
      tp.pop_back();
      return SmpFailure("The order in patch list:\n" + GoValue(patch_list) + "\n doesn't match " +
                        std::string(kSetElementOrderPrefix) + " list:\n" + GoValue(order) + "\n");
    }

    Result<Json> merged = Json::array();
    if (has_orig && !has_patch) {
      merged = orig_list;
    } else if (!has_orig) {
      merged = Clean(patch_list).value_or(Json::array());
    } else if (st.merge) {
      merged = MergeSlice(orig_list, patch_list, st, false);
    } else {
      merged = Clean(patch_list).value_or(Json::array());
    }
    tp.pop_back();
    if (!merged.ok()) return merged.status();
    auto kind = ElementKind(orig_list, patch_list);
    if (!kind.ok()) return kind.status();
    if (*kind == ElemKind::kNone) {
      original[field] = std::move(*merged);
    } else {
      auto ordered = NormalizeOrder(*merged, order, orig_list, key, *kind);
      if (!ordered.ok()) return ordered.status();
      original[field] = std::move(*ordered);
    }
    patch.erase(field);
    return Status::Ok();
  }
};

}  // namespace

Result<Json> ApplyStrategicMergePatch(const Json& target, const Json& patch, const MergeTypes& types) {
  if (!patch.is_object()) {
    return SmpBadRequest("json: cannot unmarshal " + std::string(patch.type_name()) +
                         " into Go value of type map[string]interface {}");
  }
  StrategicMerger m{types, {}};
  return m.MergeMap(target.is_object() ? target : Json::object(), patch);
}

Json FieldSetOf(const Json& config, const MergeTypes& types) {
  if (!config.is_object()) return Json::object();
  Walker w{types, false, "", {}};
  return w.SetOf(config, "");
}

Result<Json> ServerSideApply(const ApplyRequest& rq) {
  static const MergeTypes kUntyped;
  const MergeTypes& types = rq.types ? *rq.types : kUntyped;
  Json live = rq.live ? WithoutManagedFields(*rq.live) : Json::object();
  Json config = WithoutManagedFields(*rq.config);
  Json mf = Json::array();
  if (rq.live) {
    const Json* md = rq.live->contains("metadata") ? &(*rq.live)["metadata"] : nullptr;
    if (md && md->is_object() && md->contains("managedFields") && (*md)["managedFields"].is_array()) {
      mf = (*md)["managedFields"];
    }
  }

  // The applied configuration's fields; a list that does not fit its type is refused, with
  // upstream's wording (and, as upstream, a 500).
  Walker strict{types, true, "", {}};
  PathSet applied = Members(strict.SetOf(config, ""));
  if (!strict.error.empty()) {
    return Status(Code::kInternal, "failed to create typed patch object (" + rq.kind_for_errors + "): " + strict.error)
        .WithHttp(500, "InternalError");
  }

  Json* mine = FindEntry(mf, rq.manager, "Apply", "");
  PathSet previously = mine ? Members(mine->value("fieldsV1", Json::object())) : PathSet();
  std::vector<std::pair<Json*, PathSet>> others;  // every other entry with its members
  for (auto& e : mf) {
    if (!e.is_object() || &e == mine) continue;
    others.emplace_back(&e, Members(e.value("fieldsV1", Json::object())));
  }

  // Fields this manager applied before and no longer applies go, unless someone else owns them
  // (or something under them).
  // Shallow paths first: an item goes as a whole before its fields are looked at. The key fields of
  // an item that stays stay with it.
  Json pruned = live;
  for (const Path& p : previously) {
    if (applied.count(p) || IsKeyField(p)) continue;
    bool kept = HasAtOrUnder(applied, p);
    for (const auto& o : others) kept = kept || HasAtOrUnder(o.second, p);
    if (!kept) Erase(&pruned, p, types);
  }
  Walker w{types, false, "", {}};
  Json merged = w.Merge(pruned, config);

  // Conflicts: fields another manager owns whose value this apply changes.
  PathSet changed, removed;
  Path root;
  w.Diff(&live, &merged, root, &changed, &removed);
  changed.insert(removed.begin(), removed.end());
  std::vector<std::pair<std::string, Path>> conflicts;
  for (auto& [entry, members] : others) {
    // The same manager's own Update entry (kubectl's client-side migration) is not a conflict.
    if (Manager(*entry) == rq.manager) continue;
    for (const auto& p : changed) {
      if (!members.count(p)) continue;
      if (rq.force) {
        members.erase(p);
      } else {
        conflicts.emplace_back(Manager(*entry), p);
      }
    }
  }
  if (!conflicts.empty()) {
    std::string msg = "Apply failed with " + std::to_string(conflicts.size()) +
                      (conflicts.size() == 1 ? " conflict: " : " conflicts: ");
    for (size_t i = 0; i < conflicts.size(); ++i) {
      msg += (i ? "\n" : "") + std::string("conflict with \"") + conflicts[i].first + "\" using " +
             rq.api_version + ": " + PathString(conflicts[i].second);
    }
    return Status(Code::kConflict, msg).WithHttp(409, "Conflict");
  }
  if (rq.force) {
    for (auto& [entry, members] : others) (*entry)["fieldsV1"] = SetFromMembers(members);
  }
  Json entry = {{"manager", rq.manager},       {"operation", "Apply"},     {"apiVersion", rq.api_version},
                {"time", rq.timestamp},        {"fieldsType", "FieldsV1"}, {"fieldsV1", SetFromMembers(applied)}};
  if (mine) {
    *mine = std::move(entry);
  } else {
    mf.push_back(std::move(entry));
  }
  DropEmpty(mf);
  if (!merged.contains("metadata") || !merged["metadata"].is_object()) merged["metadata"] = Json::object();
  merged["metadata"]["managedFields"] = std::move(mf);
  return merged;
}

void RecordUpdateOwnership(const Json* old_obj, Json* new_obj, const std::string& manager,
                           const std::string& api_version, const std::string& timestamp,
                           const std::string& subresource, const MergeTypes* types) {
  if (manager.empty()) return;
  static const MergeTypes kUntyped;
  auto mf_of = [](const Json* obj) -> const Json* {
    if (obj == nullptr || !obj->is_object()) return nullptr;
    auto md = obj->find("metadata");
    if (md == obj->end() || !md->is_object()) return nullptr;
    auto mf = md->find("managedFields");
    return mf == md->end() ? nullptr : &*mf;
  };
  // A client that edits managedFields itself (kubectl's client-side to server-side apply
  // migration does) keeps what it wrote.
  const Json* old_mf = mf_of(old_obj);
  const Json* new_mf = mf_of(new_obj);
  if (new_mf != nullptr && (old_mf == nullptr || *old_mf != *new_mf) && !new_mf->empty()) return;
  Json mf = old_mf && old_mf->is_array() ? *old_mf : Json::array();
  PathSet changed, removed;
  {
    Walker w{types ? *types : kUntyped, false, "", {}};
    Json before = old_obj ? WithoutManagedFields(*old_obj) : Json::object();
    Json after = WithoutManagedFields(*new_obj);
    Path root;
    w.Diff(&before, &after, root, &changed, &removed);
  }
  if (!changed.empty() || !removed.empty()) {
    for (auto& e : mf) {
      if (!e.is_object()) continue;
      bool is_me = Manager(e) == manager && e.value("operation", "") == "Update" &&
                   e.value("subresource", "") == subresource;
      PathSet members = Members(e.value("fieldsV1", Json::object()));
      size_t before = members.size();
      for (const auto& p : removed) members.erase(p);
      if (!is_me) {
        for (const auto& p : changed) members.erase(p);
      }
      if (members.size() != before) e["fieldsV1"] = SetFromMembers(members);
    }
    Json* mine = FindEntry(mf, manager, "Update", subresource);
    if (!mine) {
      Json e = {{"manager", manager}, {"operation", "Update"}, {"apiVersion", api_version},
                {"time", timestamp},  {"fieldsType", "FieldsV1"}, {"fieldsV1", Json::object()}};
      if (!subresource.empty()) e["subresource"] = subresource;
      mf.push_back(std::move(e));
      mine = &mf.back();
    }
    (*mine)["time"] = timestamp;
    PathSet members = Members(mine->value("fieldsV1", Json::object()));
    members.insert(changed.begin(), changed.end());
    (*mine)["fieldsV1"] = SetFromMembers(members);
    DropEmpty(mf);
  }
  if (!(*new_obj)["metadata"].is_object()) (*new_obj)["metadata"] = Json::object();
  if (mf.empty()) {
    (*new_obj)["metadata"].erase("managedFields");
  } else {
    (*new_obj)["metadata"]["managedFields"] = std::move(mf);
  }
}

}  // namespace prescient::sim
