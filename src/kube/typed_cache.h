// A typed view of an informer: each object is decoded once, at the informer edge, into a plain struct T
// (e.g. api::CommandRun via api::CommandRunFromJson) and cached as std::shared_ptr<const T>, with
// typed handlers and indexes. Paired with InformerOptions::store_metadata_only, the JSON DOM is not
// kept at all, so a large cache costs about the struct's size (the informer benchmark measures both).
//
//   InformerOptions o;
//   o.store_metadata_only = true;
//   Informer runs(client, api::kCommandRuns, o);
//   TypedCache<api::CommandRun> cache(&runs, [](const Json& j) -> std::optional<api::CommandRun> {
//     api::FieldErrors errs;
//     return api::CommandRunFromJson(j, &errs);
//   });
//   runs.Start();
//
// Construct it (and add its handlers and indexers) before the informer starts. Thread-safe: readers
// take a shared lock; updates happen on the informer's thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/informer.h"

namespace prescient::kube {

template <typename T>
class TypedCache {
 public:
  using Ptr = std::shared_ptr<const T>;
  // nullopt: the object cannot be represented; it is left out of the cache (and removed if present).
  using Decoder = std::function<std::optional<T>(const Json&)>;
  using IndexFn = std::function<std::vector<std::string>(const T&)>;
  struct Handlers {
    std::function<void(const Ptr& obj)> on_add;
    std::function<void(const Ptr& old_obj, const Ptr& new_obj)> on_update;
    std::function<void(const Ptr& obj)> on_delete;
  };

  TypedCache(Informer* informer, Decoder decode) : decode_(std::move(decode)) {
    informer->AddEventHandlers(EventHandlers{
        [this](const ObjectPtr& o) { Upsert(*o); },
        [this](const ObjectPtr&, const ObjectPtr& o) { Upsert(*o); },
        [this](const ObjectPtr& o) { Remove(ObjectKey(*o)); }});
  }
  TypedCache(const TypedCache&) = delete;
  TypedCache& operator=(const TypedCache&) = delete;

  // Before the informer starts (handlers run on its thread without further locking).
  void AddHandlers(Handlers h) {
    std::unique_lock lock(mu_);
    handlers_.push_back(std::move(h));
  }
  void AddIndexer(const std::string& name, IndexFn fn) {
    std::unique_lock lock(mu_);
    Index& idx = indexes_[name];
    idx.fn = std::move(fn);
    idx.keys_by_value.clear();
    for (const auto& [key, obj] : items_) {
      for (auto& v : idx.fn(*obj)) idx.keys_by_value[v].insert(key);
    }
  }

  Ptr Get(const std::string& key) const {
    std::shared_lock lock(mu_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second;
  }
  std::vector<Ptr> List() const {
    std::shared_lock lock(mu_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& [k, v] : items_) out.push_back(v);
    return out;
  }
  std::vector<Ptr> ByIndex(const std::string& index, const std::string& value) const {
    std::shared_lock lock(mu_);
    std::vector<Ptr> out;
    auto idx = indexes_.find(index);
    if (idx == indexes_.end()) return out;
    auto keys = idx->second.keys_by_value.find(value);
    if (keys == idx->second.keys_by_value.end()) return out;
    for (const auto& k : keys->second) {
      if (auto it = items_.find(k); it != items_.end()) out.push_back(it->second);
    }
    return out;
  }
  size_t size() const {
    std::shared_lock lock(mu_);
    return items_.size();
  }

 private:
  struct Index {
    IndexFn fn;
    std::unordered_map<std::string, std::set<std::string>> keys_by_value;
  };

  void Reindex(const std::string& key, const T* old_obj, const T* new_obj) {
    for (auto& [name, idx] : indexes_) {
      std::vector<std::string> before = old_obj ? idx.fn(*old_obj) : std::vector<std::string>{};
      std::vector<std::string> after = new_obj ? idx.fn(*new_obj) : std::vector<std::string>{};
      if (old_obj && new_obj && before == after) continue;  // most updates leave the index values alone
      for (auto& v : before) {
        auto it = idx.keys_by_value.find(v);
        if (it == idx.keys_by_value.end()) continue;
        it->second.erase(key);
        if (it->second.empty()) idx.keys_by_value.erase(it);
      }
      for (auto& v : after) idx.keys_by_value[v].insert(key);
    }
  }

  void Upsert(const Json& obj) {
    const std::string key = ObjectKey(obj);
    std::optional<T> decoded = decode_(obj);
    if (!decoded) {
      Remove(key);
      return;
    }
    Ptr now = std::make_shared<const T>(std::move(*decoded));
    Ptr old;
    {
      std::unique_lock lock(mu_);
      Ptr& slot = items_[key];
      old = std::move(slot);
      slot = now;
      Reindex(key, old.get(), now.get());
    }
    for (auto& h : handlers_) {
      if (old) {
        if (h.on_update) h.on_update(old, now);
      } else if (h.on_add) {
        h.on_add(now);
      }
    }
  }

  void Remove(const std::string& key) {
    Ptr old;
    {
      std::unique_lock lock(mu_);
      auto it = items_.find(key);
      if (it == items_.end()) return;
      old = std::move(it->second);
      items_.erase(it);
      Reindex(key, old.get(), nullptr);
    }
    for (auto& h : handlers_) {
      if (h.on_delete) h.on_delete(old);
    }
  }

  Decoder decode_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Ptr> items_;
  std::unordered_map<std::string, Index> indexes_;
  std::vector<Handlers> handlers_;
};

}  // namespace prescient::kube
