#include "sim/patch.h"

#include <set>
#include <vector>

namespace prescient::sim {
namespace {

using Path = std::vector<std::string>;

bool IsSystemMetadataKey(const std::string& k) {
  return k == "name" || k == "namespace" || k == "uid" || k == "resourceVersion" || k == "generation" ||
         k == "creationTimestamp" || k == "managedFields" || k == "deletionTimestamp" || k == "selfLink";
}

Json FieldSetRec(const Json& v, int depth, bool in_metadata) {
  Json out = Json::object();
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    if (depth == 0 && (k == "apiVersion" || k == "kind")) continue;
    if (in_metadata && IsSystemMetadataKey(k)) continue;
    if (it->is_object() && !it->empty()) {
      Json sub = FieldSetRec(*it, depth + 1, depth == 0 && k == "metadata");
      if (!sub.empty()) out["f:" + k] = std::move(sub);  // empty: only system fields inside
    } else {
      out["f:" + k] = Json::object();
    }
  }
  return out;
}

void Leaves(const Json& set, Path& prefix, std::vector<Path>* out) {
  for (auto it = set.begin(); it != set.end(); ++it) {
    if (it.key().rfind("f:", 0) != 0) continue;
    prefix.push_back(it.key().substr(2));
    if (it->is_object() && !it->empty()) Leaves(*it, prefix, out);
    else out->push_back(prefix);
    prefix.pop_back();
  }
}

std::vector<Path> LeavesOf(const Json& set) {
  std::vector<Path> out;
  Path p;
  if (set.is_object()) Leaves(set, p, &out);
  return out;
}

// Whether a set owns path p: the node exists, or an ancestor is a leaf.
bool Owns(const Json& set, const Path& p) {
  const Json* cur = &set;
  for (const auto& k : p) {
    if (!cur->is_object()) return false;
    if (cur != &set && cur->empty()) return true;  // ancestor leaf: atomic
    auto it = cur->find("f:" + k);
    if (it == cur->end()) return false;
    cur = &*it;
  }
  return true;
}

void RemovePath(Json* set, const Path& p, size_t i = 0) {
  if (!set->is_object() || i >= p.size()) return;
  auto it = set->find("f:" + p[i]);
  if (it == set->end()) return;
  if (i + 1 == p.size()) {
    set->erase(it);
    return;
  }
  RemovePath(&*it, p, i + 1);
  if (it->empty()) set->erase(it);
}

void AddPath(Json* set, const Path& p) {
  Json* cur = set;
  for (const auto& k : p) {
    if (!cur->is_object()) *cur = Json::object();
    cur = &(*cur)["f:" + k];
  }
  if (cur->is_null()) *cur = Json::object();
}

const Json* ValueAt(const Json& obj, const Path& p) {
  const Json* cur = &obj;
  for (const auto& k : p) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void EraseValue(Json* obj, const Path& p, size_t i = 0) {
  if (!obj->is_object() || i >= p.size()) return;
  auto it = obj->find(p[i]);
  if (it == obj->end()) return;
  if (i + 1 == p.size()) {
    obj->erase(it);
    return;
  }
  EraseValue(&*it, p, i + 1);
}

std::string PathString(const Path& p) {
  std::string s;
  for (const auto& k : p) s += "." + k;
  return s;
}

Json& ManagedFields(Json* obj) {
  Json& md = (*obj)["metadata"];
  if (!md.is_object()) md = Json::object();
  Json& mf = md["managedFields"];
  if (!mf.is_array()) mf = Json::array();
  return mf;
}

Json* FindEntry(Json& mf, const std::string& manager, const std::string& op, const std::string& sub) {
  for (auto& e : mf) {
    if (e.value("manager", "") == manager && e.value("operation", "") == op &&
        e.value("subresource", "") == sub) {
      return &e;
    }
  }
  return nullptr;
}

void DropEmpty(Json& mf) {
  Json out = Json::array();
  for (auto& e : mf) {
    auto it = e.find("fieldsV1");
    if (it != e.end() && it->is_object() && !it->empty()) out.push_back(std::move(e));
  }
  mf = std::move(out);
}

void Diff(const Json* a, const Json* b, Path& prefix, int depth, bool in_md, std::vector<Path>* changed,
          std::vector<Path>* removed) {
  if (a && b && a->is_object() && b->is_object()) {
    std::set<std::string> keys;
    for (auto it = a->begin(); it != a->end(); ++it) keys.insert(it.key());
    for (auto it = b->begin(); it != b->end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      if (depth == 0 && (k == "apiVersion" || k == "kind")) continue;
      if (in_md && IsSystemMetadataKey(k)) continue;
      auto ia = a->find(k);
      auto ib = b->find(k);
      prefix.push_back(k);
      Diff(ia == a->end() ? nullptr : &*ia, ib == b->end() ? nullptr : &*ib, prefix, depth + 1,
           depth == 0 && k == "metadata", changed, removed);
      prefix.pop_back();
    }
    return;
  }
  if (b == nullptr) {
    if (a != nullptr) removed->push_back(prefix);
    return;
  }
  if (a != nullptr && *a == *b) return;
  if (b->is_object() && !b->empty()) {
    for (auto& leaf : LeavesOf(FieldSetRec(*b, depth, in_md))) {
      Path full = prefix;
      full.insert(full.end(), leaf.begin(), leaf.end());
      changed->push_back(std::move(full));
    }
  } else {
    changed->push_back(prefix);
  }
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

Json FieldSetOf(const Json& config) {
  if (!config.is_object()) return Json::object();
  return FieldSetRec(config, 0, false);
}

Result<Json> ServerSideApply(const ApplyRequest& rq) {
  Json live = rq.live ? *rq.live : Json::object();
  Json new_set = FieldSetOf(*rq.config);
  Json& mf = ManagedFields(&live);
  Json* mine = FindEntry(mf, rq.manager, "Apply", "");
  Json old_set = mine ? mine->value("fieldsV1", Json::object()) : Json::object();

  // Conflicts: fields others own whose live value differs from the applied one.
  std::vector<std::pair<std::string, Path>> conflicts;
  auto new_leaves = LeavesOf(new_set);
  for (const auto& p : new_leaves) {
    const Json* want = ValueAt(*rq.config, p);
    const Json* have = ValueAt(live, p);
    if (have != nullptr && want != nullptr && *have == *want) continue;
    for (auto& e : mf) {
      if (e.value("manager", "") == rq.manager) continue;
      auto fs = e.find("fieldsV1");
      if (fs == e.end() || !Owns(*fs, p)) continue;
      if (rq.force) {
        RemovePath(&*fs, p);
      } else {
        conflicts.emplace_back(e.value("manager", ""), p);
      }
    }
  }
  if (!conflicts.empty()) {
    std::string msg = "Apply failed with " + std::to_string(conflicts.size()) +
                      (conflicts.size() == 1 ? " conflict: " : " conflicts: ");
    if (conflicts.size() == 1) {
      msg += "conflict with \"" + conflicts[0].first + "\" using " + rq.api_version + ": " +
             PathString(conflicts[0].second);
    } else {
      for (size_t i = 0; i < conflicts.size(); ++i) {
        msg += (i ? "\n" : "") + std::string("conflict with \"") + conflicts[i].first + "\" using " +
               rq.api_version + ": " + PathString(conflicts[i].second);
      }
    }
    return Status(Code::kConflict, msg).WithHttp(409, "Conflict");
  }

  // Fields this manager no longer applies and nobody else owns go away.
  for (const auto& p : LeavesOf(old_set)) {
    if (Owns(new_set, p)) continue;
    bool other = false;
    for (auto& e : mf) {
      if (e.value("manager", "") == rq.manager && e.value("operation", "") == "Apply") continue;
      auto fs = e.find("fieldsV1");
      if (fs != e.end() && Owns(*fs, p)) other = true;
    }
    if (!other) EraseValue(&live, p);
  }
  Json saved_mf = mf;
  live["metadata"].erase("managedFields");
  Json merged = ApplyMergePatch(live, *rq.config);
  merged["metadata"]["managedFields"] = saved_mf;
  Json& mf2 = merged["metadata"]["managedFields"];
  mine = FindEntry(mf2, rq.manager, "Apply", "");
  Json entry = {{"manager", rq.manager},       {"operation", "Apply"}, {"apiVersion", rq.api_version},
                {"time", rq.timestamp},        {"fieldsType", "FieldsV1"}, {"fieldsV1", new_set}};
  if (mine) *mine = entry;
  else mf2.push_back(entry);
  DropEmpty(mf2);
  return merged;
}

void RecordUpdateOwnership(const Json* old_obj, Json* new_obj, const std::string& manager,
                           const std::string& api_version, const std::string& timestamp,
                           const std::string& subresource) {
  if (manager.empty()) return;
  // A client that edits managedFields itself (kubectl's client-side to server-side apply
  // migration does) keeps what it wrote.
  const Json* old_mf = old_obj ? ValueAt(*old_obj, {"metadata", "managedFields"}) : nullptr;
  const Json* new_mf = ValueAt(*new_obj, {"metadata", "managedFields"});
  if (new_mf != nullptr && (old_mf == nullptr || *old_mf != *new_mf) && !new_mf->empty()) return;
  Json mf = old_mf ? *old_mf : Json::array();
  std::vector<Path> changed, removed;
  Path prefix;
  Json empty = Json::object();
  Diff(old_obj ? old_obj : &empty, new_obj, prefix, 0, false, &changed, &removed);
  if (changed.empty() && removed.empty()) {
    (*new_obj)["metadata"]["managedFields"] = mf;
    if (mf.empty()) (*new_obj)["metadata"].erase("managedFields");
    return;
  }
  for (auto& e : mf) {
    auto fs = e.find("fieldsV1");
    if (fs == e.end()) continue;
    bool is_me = e.value("manager", "") == manager && e.value("operation", "") == "Update" &&
                 e.value("subresource", "") == subresource;
    for (const auto& p : removed) RemovePath(&*fs, p);
    if (!is_me) {
      for (const auto& p : changed) RemovePath(&*fs, p);
    }
  }
  Json* mine = FindEntry(mf, manager, "Update", subresource);
  if (!mine) {
    Json e = {{"manager", manager}, {"operation", "Update"}, {"apiVersion", api_version},
              {"time", timestamp},  {"fieldsType", "FieldsV1"}, {"fieldsV1", Json::object()}};
    if (!subresource.empty()) e["subresource"] = subresource;
    mf.push_back(e);
    mine = &mf.back();
  }
  (*mine)["time"] = timestamp;
  for (const auto& p : changed) AddPath(&(*mine)["fieldsV1"], p);
  DropEmpty(mf);
  if (mf.empty()) {
    (*new_obj)["metadata"].erase("managedFields");
  } else {
    (*new_obj)["metadata"]["managedFields"] = mf;
  }
}

}  // namespace prescient::sim
