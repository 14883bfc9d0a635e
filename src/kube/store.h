// The informer's cache: objects by "namespace/name" key, with named indexes (namespace, a label's
// value, or any function of the object) for ByIndex lookups. Objects are immutable shared pointers, so a
// reader keeps a consistent object even while the informer replaces it. Readers never block each other.
// Thread-safe: readers take a shared lock, the informer's writes an exclusive one.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/client.h"

namespace prescient::kube {

using ObjectPtr = std::shared_ptr<const Json>;
// The index values of one object (an object may appear under several values, or none).
using IndexFunc = std::function<std::vector<std::string>(const Json&)>;

inline constexpr char kNamespaceIndex[] = "namespace";
IndexFunc NamespaceIndex();
// Indexes by the value of label `key` (objects without the label are not indexed).
IndexFunc LabelIndex(std::string key);

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Adds (or replaces) an index and builds it over the objects already cached.
  void AddIndexer(const std::string& name, IndexFunc fn);

  ObjectPtr Get(const std::string& key) const;  // nullptr when absent
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> ListKeys() const;
  // Objects whose index `index` contains `value`; empty for an unknown index.
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  size_t size() const;

  // Mutations, used by the informer. Return the previous object (nullptr if none).
  ObjectPtr Upsert(const std::string& key, ObjectPtr obj);
  ObjectPtr Remove(const std::string& key);

 private:
  struct Index {
    IndexFunc fn;
    std::unordered_map<std::string, std::set<std::string>> keys_by_value;
  };
  void IndexLocked(const std::string& key, const Json* old_obj, const Json* new_obj);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr> items_;
  std::unordered_map<std::string, Index> indexes_;
};

}  // namespace prescient::kube
