// The Kubernetes API client interface (the LevelDB Env idea: everything that talks to the API server
// goes through this small interface, so tests, the operator and the agent can swap in FakeClient or a
// fault-injecting wrapper). Objects cross it as JSON; typed structs live one layer up (src/api), which
// converts at the edge. Implementations: NewRestClient() (rest_client.h, cpprestsdk over TLS) and
// FakeClient (fake_client.h, in memory).
// Thread-safety: Client implementations are thread-safe; a Cancellation may be cancelled from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kube/resource.h"

namespace prescient::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;        // "" = most recent (consistent read), "0" = any (served from cache)
  std::string resource_version_match;  // "", "NotOlderThan", "Exact"
  int64_t limit = 0;                   // 0 = no paging
  std::string continue_token;
  // Watch only:
  int timeout_seconds = 0;  // server-side watch duration; 0 = the server's default
  bool allow_watch_bookmarks = false;
};

struct ObjectList {
  std::vector<Json> items;
  std::string resource_version;  // metadata.resourceVersion of the list
  std::string continue_token;    // non-empty when more pages follow
};

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
};

enum class PatchType { kMerge, kJson, kApply };
const char* PatchContentType(PatchType t);

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
  std::string subresource;    // "status", "scale", ...
};

enum class PropagationPolicy { kDefault, kBackground, kForeground, kOrphan };

struct DeleteOptions {
  std::string precondition_uid;
  std::string precondition_resource_version;
  PropagationPolicy propagation = PropagationPolicy::kDefault;
  std::optional<int64_t> grace_period_seconds;
};

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };
const char* EventTypeName(EventType t);

struct WatchEvent {
  EventType type = EventType::kAdded;
  Json object;   // the object (for BOOKMARK only metadata.resourceVersion; for ERROR the Status)
  Status error;  // kError only: the decoded Status (410 -> Code::kExpired)
};

// Decodes one line of a watch stream ({"type":"ADDED","object":{...}}).
Result<WatchEvent> DecodeWatchEvent(std::string_view line);

// A shutdown signal for long calls (watches). Cancel() is idempotent and runs the registered callbacks
// once; callbacks registered after cancellation run immediately.
class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;
  void Cancel();
  bool cancelled() const;
  // Returns an id for Unregister().
  int Register(std::function<void()> callback);
  void Unregister(int id);

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  int next_id_ = 0;
  std::vector<std::pair<int, std::function<void()>>> callbacks_;
};

struct RawResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual Result<Json> Get(const ResourceType& type, const std::string& ns, const std::string& name) = 0;
  // One page (or everything when opts.limit == 0); see ListAll for following continue tokens.
  virtual Result<ObjectList> List(const ResourceType& type, const std::string& ns, const ListOptions& opts) = 0;
  // The namespace comes from obj.metadata.namespace.
  virtual Result<Json> Create(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) = 0;
  // PUT with obj.metadata.resourceVersion: a stale version is Code::kConflict.
  virtual Result<Json> Update(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) = 0;
  // PUT to the status subresource.
  virtual Result<Json> UpdateStatus(const ResourceType& type, const Json& obj, const WriteOptions& opts = {}) = 0;
  virtual Status Delete(const ResourceType& type, const std::string& ns, const std::string& name,
                        const DeleteOptions& opts = {}) = 0;
  // `patch` is the JSON body: an object for kMerge/kApply, an array of operations for kJson.
  virtual Result<Json> Patch(const ResourceType& type, const std::string& ns, const std::string& name, PatchType pt,
                             const Json& patch, const PatchOptions& opts = {}) = 0;

  // Called for each event in order; return false to end the watch.
  using WatchHandler = std::function<bool(WatchEvent&&)>;
  // Streams events until the server ends the watch (returns OK), the handler returns false (OK), the
  // cancellation fires (Code::kCancelled), or an error: an ERROR event (delivered to the handler first,
  // then returned: 410 is Code::kExpired) or a transport failure.
  virtual Status Watch(const ResourceType& type, const std::string& ns, const ListOptions& opts,
                       const WatchHandler& on_event, Cancellation* cancel = nullptr) = 0;

  // Any request, for endpoints without a typed verb (e.g. POST /admin/faults on prescient-sim).
  // `path` includes the query string. Non-2xx responses are returned as errors.
  virtual Result<RawResponse> Raw(const std::string& method, const std::string& path, const std::string& body = "",
                                  const std::string& content_type = "application/json") = 0;
};

// Lists everything, following continue tokens page by page (opts.limit defaults to 500). The list's
// resource_version is the first page's (the snapshot a watch should continue from).
Result<ObjectList> ListAll(Client& client, const ResourceType& type, const std::string& ns, ListOptions opts = {});

// "namespace/name", or "name" for cluster-scoped objects (the key used by caches and work queues).
std::string ObjectKey(const Json& obj);
// Splits a key back into namespace and name.
void SplitKey(const std::string& key, std::string* ns, std::string* name);

}  // namespace prescient::kube
