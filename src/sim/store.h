// The sim's object store: the one place every Kubernetes object of prescient-sim lives, with the
// semantics of a real API server behind its HTTP surface (the HTTP layer in handler.h is a thin
// translation onto this API, so in-process controllers and HTTP clients see exactly the same
// behaviour):
//   - one global, strictly increasing resourceVersion stamped on every committed write;
//   - metadata.uid / creationTimestamp / generation (bumped on changes outside metadata and status);
//   - the status subresource (the main endpoint ignores `status`, UpdateStatus ignores the rest)
//     for resources that declare it;
//   - finalizers and deletionTimestamp; ownerReferences with background garbage collection;
//   - label and field selectors, paging (limit/continue), a bounded event history for watches
//     (410 Expired beyond it);
//   - merge, JSON (RFC 6902 incl. `test`) and apply patches;
//   - CustomResourceDefinitions: creating one registers its resources live (and deleting removes
//     them and their objects); custom resources are validated against the structural schema and
//     get schema defaults applied;
//   - admission hooks (mutating + validating, run inside the write, before commit) and change
//     subscriptions (delivered in commit order) for in-process controllers.
//
// Resources are named by group/version/plural (GroupVersionResource). Objects are stored once per
// group/plural (one storage version); the apiVersion of returned objects is the requested version.
// Errors are Status values carrying the HTTP code and Status reason a real server would answer
// (Status::http_code()/reason()), e.g. NotFound 404, AlreadyExists 409, Conflict 409, Invalid 422,
// Forbidden 403, Expired 410, BadRequest 400, UnsupportedMediaType 415.
//
// Thread-safety: every method is thread-safe. Writes are serialised by one mutex. Admission hooks
// run with that mutex held: they must not call Store methods, and read state through the
// StoreReader they are given. Subscription listeners run on the store's dispatch thread, in commit
// order, without the mutex held, so they may call back into the store (their own writes arrive as
// later events). Keep listeners short (enqueue work, don't do it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace prescient::sim {

using Json = nlohmann::json;

// Names a resource as the API does: group "" is the core group ("/api/v1").
struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;  // plural, lower case: "pods", "virtualmachines"
  bool operator==(const GroupVersionResource&) const = default;
  // "pods" for core, "virtualmachines.kubevirt.io" otherwise (the form used in error messages).
  std::string GroupResource() const;
  // "v1" or "kubevirt.io/v1".
  std::string ApiVersion() const;
};

// Handy names for the built-in resources.
namespace gvr {
GroupVersionResource Core(std::string plural);  // {"", "v1", plural}
inline const GroupVersionResource kPods{"", "v1", "pods"};
inline const GroupVersionResource kNodes{"", "v1", "nodes"};
inline const GroupVersionResource kNamespaces{"", "v1", "namespaces"};
inline const GroupVersionResource kEvents{"", "v1", "events"};
inline const GroupVersionResource kResourceQuotas{"", "v1", "resourcequotas"};
inline const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
inline const GroupVersionResource kSecrets{"", "v1", "secrets"};
inline const GroupVersionResource kServices{"", "v1", "services"};
inline const GroupVersionResource kEndpoints{"", "v1", "endpoints"};
inline const GroupVersionResource kPriorityClasses{"scheduling.k8s.io", "v1", "priorityclasses"};
inline const GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases"};
inline const GroupVersionResource kDeployments{"apps", "v1", "deployments"};
inline const GroupVersionResource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};
}  // namespace gvr

// Everything the server knows about one resource (built in, or from a CRD version).
struct ResourceInfo {
  std::string group;
  std::string version;  // this served version
  std::string plural;
  std::string singular;
  std::string kind;
  std::string list_kind;
  bool namespaced = true;
  bool status_subresource = false;
  bool scale_subresource = false;
  bool builtin = true;  // false for custom resources: no strategic merge patch, schema validation
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;  // discovery verbs
  Json schema;            // CRD openAPIV3Schema for this version (null for built-ins)
  Json printer_columns;   // CRD additionalPrinterColumns (array; null or empty for none)
  bool preserve_unknown_fields = false;  // schema root has x-kubernetes-preserve-unknown-fields
  GroupVersionResource Gvr() const { return {group, version, plural}; }
};

enum class Operation { kCreate, kUpdate, kDelete };
const char* OperationName(Operation op);  // "CREATE", "UPDATE", "DELETE"

// Read access for admission hooks (the store's mutex is held while they run).
class StoreReader {
 public:
  virtual ~StoreReader() = default;
  // nullptr when absent. The pointer is valid only during the hook.
  virtual const Json* Find(const GroupVersionResource& r, std::string_view ns, std::string_view name) const = 0;
  // Calls fn for every object of a resource in a namespace ("" = all namespaces / cluster scope).
  virtual void ForEach(const GroupVersionResource& r, std::string_view ns,
                       const std::function<void(const Json&)>& fn) const = 0;
};

struct AdmissionRequest {
  Operation op;
  const ResourceInfo* resource;  // never null
  std::string subresource;       // "", "status" or "binding"
  std::string ns;
  std::string name;
  // The object about to be stored (create/update): a hook may change it (mutating admission).
  // nullptr on delete.
  Json* object;
  // The stored object before this write (update/delete); nullptr on create.
  const Json* old_object;
  bool dry_run = false;
  const StoreReader* reader;
};

// Returns Ok to admit, or an error Status to refuse the write (the Status reaches the client
// as-is, e.g. Status(Code::kForbidden, "pods \"p\" is forbidden: exceeded quota: ...")
// .WithHttp(403, "Forbidden")). Hooks run in the order they were added, for every resource: check
// request.resource and return Ok quickly for ones you don't care about.
using AdmissionHook = std::function<Status(AdmissionRequest& request)>;

enum class EventType { kAdded, kModified, kDeleted };
const char* EventTypeName(EventType t);  // "ADDED", "MODIFIED", "DELETED"

// One committed change. `object` is the object after the change (for DELETED, the last state with
// the deletion's resourceVersion). Shared and immutable: copy it before changing it.
struct ChangeEvent {
  EventType type;
  int64_t resource_version;
  GroupVersionResource resource;  // the storage version's GVR
  std::shared_ptr<const Json> object;
};

using ChangeListener = std::function<void(const ChangeEvent& event)>;

enum class FieldValidation { kStrict, kWarn, kIgnore };

struct WriteOptions {
  std::string field_manager;  // required for apply patches
  bool dry_run = false;
  FieldValidation field_validation = FieldValidation::kStrict;  // unknown/duplicate fields in CRs
  bool force = false;                                            // apply patch: take over conflicting fields
  // Out: validation warnings (FieldValidation::kWarn) to pass on as Warning headers.
  std::vector<std::string>* warnings = nullptr;
  // Out: set to true when an apply patch created the object.
  bool* created = nullptr;
};

enum class PatchType { kMerge, kJson, kStrategicMerge, kApply };
// From a Content-Type; nullopt when it is none of the four.
std::optional<PatchType> PatchTypeFromContentType(std::string_view content_type);

enum class Propagation { kBackground, kForeground, kOrphan };

struct DeleteOptions {
  std::optional<Propagation> propagation;  // default: Background (Orphan for nothing here)
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  bool dry_run = false;
};

struct ListOptions {
  std::string label_selector;  // "a=b,c!=d,e in (x,y),f notin (z),g,!h"
  std::string field_selector;  // "metadata.name=x,spec.nodeName!=" (supported fields per resource)
  int64_t limit = 0;           // 0: no paging
  std::string continue_token;
  // "" or "0": the latest state; otherwise must be within the history window (else 410).
  std::string resource_version;
};

struct ListResult {
  std::vector<Json> items;  // sorted by namespace/name
  int64_t resource_version = 0;
  std::string continue_token;  // empty when this is the last page
  int64_t remaining_item_count = -1;  // -1 when unknown/not paged
};

// For the Status of a 410 on a list continued with `expired_token`: a token that continues after
// the same object from the current state instead of the expired snapshot (as upstream's token
// with resourceVersion -1; the list may then be inconsistent). "" when the token is not valid.
std::string InconsistentContinueToken(std::string_view expired_token);
// Upstream's message for that 410.
extern const char* const kInconsistentContinueMessage;

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  // "" : start with synthetic ADDED events for the current state (as a real server does for
  // resourceVersion unset); "0": same; N: every event with RV > N (410 if N left the history).
  std::string resource_version;
  bool send_initial_events_for_unset = true;
};

// A watch on one resource (optionally one namespace). Events are queued in commit order; the
// consumer drains them. Thread-safe.
class Watch {
 public:
  virtual ~Watch() = default;
  struct Item {
    std::string type;   // "ADDED", "MODIFIED", "DELETED", "ERROR" (Status object; watch ends)
    std::shared_ptr<const Json> object;
    int64_t resource_version = 0;
  };
  // Moves pending events into `out` (appends); returns false once the watch is closed and drained.
  virtual bool Drain(std::vector<Item>* out) = 0;
  // Called (from any thread, possibly with internal locks held: only post work from it) when
  // events become available or the watch closes. Set once, before draining.
  virtual void SetNotify(std::function<void()> notify) = 0;
  // Blocks until events are available, the watch closes, or the timeout passes.
  virtual void WaitFor(std::chrono::milliseconds timeout) = 0;
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  // The latest resourceVersion the store has committed (for bookmarks).
  virtual int64_t CurrentResourceVersion() const = 0;
};

struct StoreOptions {
  Clock* clock = nullptr;        // timestamps; SystemClock() when null
  size_t watch_history = 10000;  // committed events kept for watches/lists from an older RV
  std::string data_dir;          // "" = in memory; else snapshot + write-ahead log here
};

class Store {
 public:
  // Opens the store: registers the built-in resources, loads data_dir (snapshot + WAL replay,
  // re-registering CRDs) when given. Errors name the file and what is wrong in it.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  virtual ~Store() = default;

  // --- Objects. `ns` is ignored ("") for cluster-scoped resources. ---
  // Creates obj (metadata.name or generateName required). Returns the stored object.
  virtual Result<Json> Create(const GroupVersionResource& r, std::string_view ns, Json obj,
                              const WriteOptions& o = {}) = 0;
  virtual Result<Json> Get(const GroupVersionResource& r, std::string_view ns, std::string_view name) const = 0;
  // Replaces the object (PUT). A non-empty metadata.resourceVersion must match (else 409 Conflict).
  // With a status subresource the incoming status is ignored (the stored one is kept).
  virtual Result<Json> Update(const GroupVersionResource& r, std::string_view ns, Json obj,
                              const WriteOptions& o = {}) = 0;
  // PUT on /status: only `status` changes (metadata.resourceVersion checked when set).
  virtual Result<Json> UpdateStatus(const GroupVersionResource& r, std::string_view ns, Json obj,
                                    const WriteOptions& o = {}) = 0;
  // PATCH. subresource is "" or "status". Strategic merge on custom resources: 415; on built-ins it
  // merges lists by upstream's patch strategies (ApplyStrategicMergePatch in patch.h). Apply
  // patches create a missing object and need o.field_manager.
  virtual Result<Json> Patch(const GroupVersionResource& r, std::string_view ns, std::string_view name,
                             PatchType type, std::string_view body, std::string_view subresource,
                             const WriteOptions& o = {}) = 0;
  // DELETE. With finalizers: sets deletionTimestamp and returns the object (still present);
  // otherwise removes it and returns the last state. Dependents (ownerReferences) are garbage
  // collected in the background (Background), before the owner goes (Foreground), or kept (Orphan).
  virtual Result<Json> Delete(const GroupVersionResource& r, std::string_view ns, std::string_view name,
                              const DeleteOptions& o = {}) = 0;
  // A continue token whose snapshot has left the watch history answers 410 Expired with
  // upstream's "inconsistent continue" message; the Status's metadata.continue must then carry
  // InconsistentContinueToken(that token), which goes on from the current state.
  virtual Result<ListResult> List(const GroupVersionResource& r, std::string_view ns,
                                  const ListOptions& o = {}) const = 0;
  // POST pods/<name>/binding: sets spec.nodeName (409 if already bound) and the PodScheduled
  // condition. Admission hooks see op kUpdate, subresource "binding", the bound pod as object.
  virtual Result<Json> BindPod(std::string_view ns, std::string_view name, std::string_view node) = 0;

  // --- Watches and subscriptions ---
  // ns "" watches all namespaces. Errors: 410 Expired when the RV left the history, 400 for bad
  // selectors, 404 for unknown resources.
  virtual Result<std::shared_ptr<Watch>> StartWatch(const GroupVersionResource& r, std::string_view ns,
                                                    const WatchOptions& o) = 0;
  // Every committed change of every resource, in commit order, on the dispatch thread. With
  // replay_existing, first one synthetic ADDED event per object existing at subscription time
  // (consistent with what follows). Returns an id for Unsubscribe.
  virtual int Subscribe(ChangeListener listener, bool replay_existing = true) = 0;
  virtual void Unsubscribe(int id) = 0;
  // Blocks until every change committed before the call has been delivered to all listeners.
  virtual void WaitForDispatch() = 0;
  virtual void AddAdmissionHook(AdmissionHook hook) = 0;

  // --- Resources and state ---
  // Resolves a served group/version/plural (built-in or CRD); nullopt when unknown.
  virtual std::optional<ResourceInfo> FindResource(const GroupVersionResource& r) const = 0;
  // The same without copying the (possibly large) schema; null when unknown.
  virtual std::shared_ptr<const ResourceInfo> FindResourceShared(const GroupVersionResource& r) const {
    auto info = FindResource(r);
    return info ? std::make_shared<const ResourceInfo>(std::move(*info)) : nullptr;
  }
  // Resolves a kind in an apiVersion ("kubevirt.io/v1", "VirtualMachine").
  virtual std::optional<ResourceInfo> FindKind(std::string_view api_version, std::string_view kind) const = 0;
  // Every served resource version, sorted by group, version, plural.
  virtual std::vector<ResourceInfo> Resources() const = 0;
  // Changes each time the set of served resources changes (CRD created/updated/deleted).
  virtual int64_t ResourcesGeneration() const = 0;
  virtual int64_t CurrentResourceVersion() const = 0;
  // Shrinks (or grows) the watch history window now; older events are dropped.
  virtual void SetWatchHistory(size_t events) = 0;
  // Closes every open watch (fault injection: "drop watches").
  virtual void CloseAllWatches() = 0;
  // Writes a snapshot and truncates the WAL (data_dir only); also flushes the WAL to disk.
  virtual Status Flush() = 0;
};

}  // namespace prescient::sim
