#include "kube/store.h"

#include <mutex>

namespace prescient::kube {

IndexFunc NamespaceIndex() {
  return [](const Json& obj) -> std::vector<std::string> {
    auto m = obj.find("metadata");
    if (m == obj.end() || !m->is_object()) return {};
    auto ns = m->find("namespace");
    if (ns == m->end() || !ns->is_string()) return {};
    return {ns->get<std::string>()};
  };
}

IndexFunc LabelIndex(std::string key) {
  return [key = std::move(key)](const Json& obj) -> std::vector<std::string> {
    auto m = obj.find("metadata");
    if (m == obj.end() || !m->is_object()) return {};
    auto labels = m->find("labels");
    if (labels == m->end() || !labels->is_object()) return {};
    auto v = labels->find(key);
    if (v == labels->end() || !v->is_string()) return {};
    return {v->get<std::string>()};
  };
}

void Store::AddIndexer(const std::string& name, IndexFunc fn) {
  std::unique_lock lock(mu_);
  Index& idx = indexes_[name];
  idx.fn = std::move(fn);
  idx.keys_by_value.clear();
  for (const auto& [key, obj] : items_) {
    for (auto& v : idx.fn(*obj)) idx.keys_by_value[v].insert(key);
  }
}

void Store::IndexLocked(const std::string& key, const Json* old_obj, const Json* new_obj) {
  for (auto& [name, idx] : indexes_) {
    std::vector<std::string> before = old_obj ? idx.fn(*old_obj) : std::vector<std::string>{};
    std::vector<std::string> after = new_obj ? idx.fn(*new_obj) : std::vector<std::string>{};
    if (old_obj && new_obj && before == after) continue;  // most updates leave an object's index values alone
    for (auto& v : before) {
      auto it = idx.keys_by_value.find(v);
      if (it == idx.keys_by_value.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) idx.keys_by_value.erase(it);
    }
    for (auto& v : after) idx.keys_by_value[v].insert(key);
  }
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

std::vector<std::string> Store::ListKeys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.keys_by_value.find(value);
  if (keys == idx->second.keys_by_value.end()) return out;
  for (const auto& k : keys->second) {
    auto it = items_.find(k);
    if (it != items_.end()) out.push_back(it->second);
  }
  return out;
}

size_t Store::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

ObjectPtr Store::Upsert(const std::string& key, ObjectPtr obj) {
  std::unique_lock lock(mu_);
  ObjectPtr& slot = items_[key];
  ObjectPtr old = std::move(slot);
  slot = std::move(obj);
  if (!indexes_.empty()) IndexLocked(key, old.get(), slot.get());
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = std::move(it->second);
  items_.erase(it);
  if (!indexes_.empty()) IndexLocked(key, old.get(), nullptr);
  return old;
}

}  // namespace prescient::kube
