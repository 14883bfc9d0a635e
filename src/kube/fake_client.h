// An in-memory Client for unit tests of anything that talks to the API (operator, agent, CLI): objects
// per resource type, one global increasing resourceVersion, uid/creationTimestamp/generation stamping,
// optimistic concurrency (409 on a stale resourceVersion, AlreadyExists on create), the status
// subresource (the main endpoint ignores status, /status ignores the rest), finalizers and
// deletionTimestamp, merge / JSON (incl. test) / apply patches, label and field (metadata.name,
// metadata.namespace) selectors, paging, and watches replayed from a bounded history (410 Expired
// when a watch starts before it). Faults are injected with a hook that may fail any call.
// It does not validate schemas, run admission, or garbage-collect owned objects.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/client.h"

namespace prescient::kube {

class FakeClient : public Client {
 public:
  explicit FakeClient(Clock* clock = nullptr, size_t history_size = 10'000);
  ~FakeClient() override;

  Result<Json> Get(const ResourceType& type, const std::string& ns, const std::string& name) override;
  Result<ObjectList> List(const ResourceType& type, const std::string& ns, const ListOptions& opts) override;
  Result<Json> Create(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) override;
  Result<Json> Update(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) override;
  Result<Json> UpdateStatus(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) override;
  Status Delete(const ResourceType& type, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}) override;
  Result<Json> Patch(const ResourceType& type, const std::string& ns, const std::string& name, PatchType pt,
                     const Json& patch, const PatchOptions& opts = {}) override;
  // Ends when cancelled, when the handler returns false, after opts.timeout_seconds of the clock, or on
  // CloseWatches(). resourceVersion "" or "0" first replays the current objects as ADDED.
  Status Watch(const ResourceType& type, const std::string& ns, const ListOptions& opts, const WatchHandler& on_event,
               Cancellation* cancel = nullptr) override;
  Result<RawResponse> Raw(const std::string& method, const std::string& path, const std::string& body = "",
                          const std::string& content_type = "application/json") override;

  // Called before every operation with the verb ("get", "list", "create", "update", "updatestatus",
  // "delete", "patch", "watch", "raw"), the type, namespace and name; a non-OK status is returned
  // instead of performing the call.
  using Hook = std::function<Status(const std::string& verb, const ResourceType& type, const std::string& ns,
                                    const std::string& name)>;
  void SetHook(Hook hook);
  // Fails the next `times` calls of `verb` with `status`.
  void FailNext(const std::string& verb, Status status, int times = 1);
  // Answers Raw() calls (default: 200 with "{}").
  void SetRawHandler(std::function<Result<RawResponse>(const std::string& method, const std::string& path,
                                                       const std::string& body)> handler);

  // Ends all open watches cleanly (as a server dropping connections does).
  void CloseWatches();
  // Forgets watch history up to now: watches from an older resourceVersion get 410.
  void CompactHistory();
  // Sends a BOOKMARK at the current resourceVersion to every open watch.
  void Bookmark();

  int64_t CurrentResourceVersion() const;
  // Number of calls per verb so far (faulted ones included).
  int Calls(const std::string& verb) const;
  size_t OpenWatches() const;

 private:
  struct Stored {
    std::map<std::string, Json> objects;  // key "ns/name" -> object
  };
  struct HistoryEvent {
    std::string type_key;
    EventType type;
    Json object;
    int64_t rv;
  };
  Status Before(const std::string& verb, const ResourceType& type, const std::string& ns, const std::string& name);
  Result<Json> WriteLocked(const ResourceType& type, Json obj, const std::string& mode);
  void RecordLocked(const std::string& type_key, EventType t, const Json& obj);
  Result<Json> PutLocked(const ResourceType& type, const Json& obj, bool status_only);
  Result<Json> DeleteLocked(const ResourceType& type, const std::string& key, const DeleteOptions& opts);

  Clock* clock_;
  size_t history_size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Stored> store_;  // by type key (group/resource)
  std::deque<HistoryEvent> history_;
  int64_t rv_ = 100;
  int64_t compacted_rv_ = 0;  // watches must start at or after this
  int64_t uid_counter_ = 0;
  uint64_t close_generation_ = 0;
  uint64_t bookmark_generation_ = 0;
  size_t open_watches_ = 0;
  Hook hook_;
  std::map<std::string, std::deque<Status>> fail_next_;
  std::map<std::string, int> calls_;
  std::function<Result<RawResponse>(const std::string&, const std::string&, const std::string&)> raw_handler_;
};

// Matches a label selector ("a=b,c!=d,e,!f,g in (x,y),h notin (z)") against labels. A malformed selector
// is an error. Shared with anything that evaluates selectors locally.
Result<bool> MatchLabels(const std::string& selector, const Json& labels);

}  // namespace prescient::kube
