// An informer keeps a local cache of one resource type in step with the API server, the way
// client-go's reflector does: list (resourceVersion=0, pages of 500), then watch from the list's
// resourceVersion with bookmarks and a timeoutSeconds drawn in [300, 600] s, tracking the latest
// resourceVersion; a 410 Expired relists (and reports objects that vanished meanwhile as deletes);
// failures reconnect with backoff (800 ms doubling to 30 s, jittered). Handlers run on the informer's
// own thread, in event order, after the cache has been updated; keep them short (enqueue a key).
// Thread-safe: Start/Stop from any thread; the store may be read concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/backoff.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/store.h"

namespace prescient::kube {

struct EventHandlers {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  // The last known state of the object (the cached one when the delete was noticed on a relist).
  std::function<void(const ObjectPtr& obj)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  BackoffPolicy backoff{std::chrono::milliseconds(800), std::chrono::milliseconds(30'000), 2.0, 1.0};
  Clock* clock = nullptr;  // nullptr = SystemClock()
  // Applied to each object before it is cached, e.g. to drop metadata.managedFields and save memory.
  std::function<void(Json*)> transform;
  // Keep only the identity (apiVersion, kind, metadata.namespace/name/uid/resourceVersion) in the
  // informer's store; handlers still receive whole objects (an update's old object is then the
  // identity-only one). For a TypedCache (typed_cache.h) that keeps the decoded form and its own
  // indexes, so the JSON DOM, which costs several times the JSON size, is not kept as well.
  bool store_metadata_only = false;
};

class Informer {
 public:
  Informer(Client* client, ResourceType type, InformerOptions options = {});
  ~Informer();  // Stop()s
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before or after Start(). A handler added after the first list first receives every cached object
  // as an add (identity-only objects under store_metadata_only: add those handlers before Start()).
  void AddEventHandlers(EventHandlers handlers);
  void AddIndexer(const std::string& name, IndexFunc fn) { store_.AddIndexer(name, std::move(fn)); }

  void Start();
  // Cancels the watch, wakes any backoff sleep and joins the thread. Idempotent.
  void Stop();

  // True once the first list has been applied.
  bool HasSynced() const { return synced_.load(); }
  // Waits (real time) until synced or the timeout passes or the informer stops.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  const Store& store() const { return store_; }
  const ResourceType& type() const { return type_; }
  std::string LastResourceVersion() const;

  struct Stats {
    uint64_t lists = 0;
    uint64_t watches = 0;
    uint64_t expired = 0;  // 410s that forced a relist
    uint64_t watch_errors = 0;
    uint64_t events = 0;  // ADDED/MODIFIED/DELETED applied from watches
  };
  Stats stats() const;

 private:
  void Run();
  Status ListAndReplace(const std::string& resource_version);
  void Apply(WatchEvent&& ev);
  bool Sleep(std::chrono::milliseconds d);  // false when stopping
  ObjectPtr Prepare(Json&& obj);
  ObjectPtr ForStore(const ObjectPtr& obj) const;

  Client* client_;
  ResourceType type_;
  InformerOptions opts_;
  Clock* clock_;
  Store store_;

  mutable std::mutex mu_;  // rv_, stats_, stopping_, handlers_ list
  mutable std::condition_variable cv_;
  std::string rv_;
  Stats stats_;
  bool stopping_ = false;
  bool started_ = false;
  std::atomic<bool> synced_{false};

  std::mutex dispatch_mu_;  // serialises cache updates + handler calls with handler registration
  std::vector<EventHandlers> handlers_;
  Cancellation cancel_;
  std::thread thread_;
};

}  // namespace prescient::kube
