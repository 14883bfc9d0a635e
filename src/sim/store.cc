#include "sim/store.h"

#include "sim/builtin_defaults.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/log.h"
#include "sim/patch.h"
#include "sim/resources.h"
#include "sim/schema.h"
#include "sim/selectors.h"
#include "sim/yaml_json.h"

namespace prescient::sim {

std::string GroupVersionResource::GroupResource() const { return group.empty() ? resource : resource + "." + group; }
std::string GroupVersionResource::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

namespace gvr {
GroupVersionResource Core(std::string plural) { return {"", "v1", std::move(plural)}; }
}  // namespace gvr

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kCreate: return "CREATE";
    case Operation::kUpdate: return "UPDATE";
    case Operation::kDelete: return "DELETE";
  }
  return "UNKNOWN";
}

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
  }
  return "UNKNOWN";
}

std::optional<PatchType> PatchTypeFromContentType(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  if (base == "application/merge-patch+json") return PatchType::kMerge;
  if (base == "application/json-patch+json") return PatchType::kJson;
  if (base == "application/strategic-merge-patch+json") return PatchType::kStrategicMerge;
  if (base == "application/apply-patch+yaml" || base == "application/apply-patch+cbor") return PatchType::kApply;
  return std::nullopt;
}

namespace {

namespace fs = std::filesystem;
using JsonPtr = std::shared_ptr<const Json>;

Status Err(Code code, int http, const char* reason, std::string msg) {
  return Status(code, std::move(msg)).WithHttp(http, reason);
}

std::string ObjKey(std::string_view ns, std::string_view name) {
  std::string k;
  k.reserve(ns.size() + name.size() + 1);
  k.append(ns).append("/").append(name);
  return k;
}

const std::string& MetaString(const Json& obj, const char* field) {
  static const std::string kEmpty;
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return kEmpty;
  auto it = md->find(field);
  if (it == md->end() || !it->is_string()) return kEmpty;
  return it->get_ref<const std::string&>();
}

bool IsAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnumLower(s.front()) || !IsAlnumLower(s.back())) return false;
  for (char c : s) {
    if (!IsAlnumLower(c) && c != '-') return false;
  }
  return true;
}
// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !IsAlnumLower(label.front()) || !IsAlnumLower(label.back())) return false;
    for (char c : label) {
      if (!IsAlnumLower(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string RandomSuffix(std::mt19937_64& g, int n) {
  static const char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < n; ++i) s += kChars[g() % 27];
  return s;
}

std::string NewUid(std::mt19937_64& g) {
  uint64_t a = g(), b = g();
  char buf[40];
  snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
           static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
           static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// Everything but metadata (and status when it is a subresource), for generation bumps.
bool SpecChanged(const Json& a, const Json& b, bool status_sub) {
  std::set<std::string> keys;
  for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
  for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    if (k == "metadata" || k == "apiVersion" || k == "kind") continue;
    if (status_sub && k == "status") continue;
    auto ia = a.find(k), ib = b.find(k);
    if ((ia == a.end()) != (ib == b.end())) return true;
    if (ia != a.end() && *ia != *ib) return true;
  }
  return false;
}

bool HasFinalizer(const Json& obj, std::string_view f) {
  auto md = obj.find("metadata");
  if (md == obj.end()) return false;
  auto fin = md->find("finalizers");
  if (fin == md->end() || !fin->is_array()) return false;
  for (const auto& x : *fin) {
    if (x.is_string() && x.get_ref<const std::string&>() == f) return true;
  }
  return false;
}

bool HasFinalizers(const Json& obj) {
  auto md = obj.find("metadata");
  if (md == obj.end()) return false;
  auto fin = md->find("finalizers");
  return fin != md->end() && fin->is_array() && !fin->empty();
}

struct InvalidBuilder {
  std::vector<FieldError> errs;
  void Add(const std::string& field, const std::string& type, const std::string& detail, const std::string& reason) {
    FieldError e{field, type, field + ": " + type + (detail.empty() ? "" : ": " + detail), reason};
    errs.push_back(e);
  }
};

Status InvalidStatus(const ResourceInfo& info, const std::string& name, const std::vector<FieldError>& errs) {
  std::string msg = info.kind + (info.group.empty() ? "" : "." + info.group) + " \"" + name + "\" is invalid: ";
  if (errs.size() == 1) {
    msg += errs[0].detail;
  } else {
    msg += "[";
    for (size_t i = 0; i < errs.size(); ++i) msg += (i ? ", " : "") + errs[i].detail;
    msg += "]";
  }
  return Err(Code::kInvalid, 422, "Invalid", msg);
}

// How upstream names a type in server-side apply errors: "/v1, Kind=Pod", "example.com/v1, Kind=Widget".
std::string KindForErrors(const ResourceInfo& info) {
  return info.group + "/" + info.version + ", Kind=" + info.kind;
}

Status NotFound(const GroupVersionResource& r, std::string_view name) {
  return Err(Code::kNotFound, 404, "NotFound", r.GroupResource() + " \"" + std::string(name) + "\" not found");
}

// ---------------------------------------------------------------------------------------------

class StoreImpl;

class WatchImpl : public Watch, public std::enable_shared_from_this<WatchImpl> {
 public:
  WatchImpl(GroupVersionResource r, std::string skey, std::string ns, LabelSelector ls, FieldSelector fs,
            std::shared_ptr<std::atomic<int64_t>> published)
      : r_(std::move(r)), skey_(std::move(skey)), ns_(std::move(ns)), ls_(std::move(ls)), fs_(std::move(fs)),
        published_(std::move(published)) {}

  bool Drain(std::vector<Item>* out) override {
    std::lock_guard<std::mutex> l(mu_);
    while (!q_.empty()) {
      out->push_back(std::move(q_.front()));
      q_.pop_front();
    }
    return !closed_;
  }
  void SetNotify(std::function<void()> notify) override {
    std::lock_guard<std::mutex> l(mu_);
    notify_ = std::move(notify);
  }
  void WaitFor(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, timeout, [&] { return closed_ || !q_.empty(); });
  }
  void Close() override {
    std::function<void()> n;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) return;
      closed_ = true;
      n = notify_;
    }
    cv_.notify_all();
    if (n) n();
  }
  bool closed() const override {
    std::lock_guard<std::mutex> l(mu_);
    return closed_;
  }
  int64_t CurrentResourceVersion() const override { return published_->load(std::memory_order_acquire); }

  // Called with the store mutex held, in commit order.
  void Offer(EventType type, int64_t rv, const JsonPtr& obj, const JsonPtr& prev) {
    if (closed_flag_.load(std::memory_order_relaxed)) return;
    if (!ns_.empty() && MetaString(*obj, "namespace") != ns_) return;
    bool now = Matches(*obj);
    std::string t;
    if (type == EventType::kAdded) {
      if (!now) return;
      t = "ADDED";
    } else if (type == EventType::kDeleted) {
      if (!now) return;
      t = "DELETED";
    } else {
      bool before = prev && Matches(*prev);
      if (before && now) t = "MODIFIED";
      else if (now) t = "ADDED";
      else if (before) t = "DELETED";
      else return;
    }
    Push(Item{t, Present(obj), rv});
  }
  void PushError(Json status) {
    Push(Item{"ERROR", std::make_shared<const Json>(std::move(status)), 0});
    Close();
  }
  bool Matches(const Json& obj) const {
    if (!ls_.Empty()) {
      auto md = obj.find("metadata");
      static const Json kNull;
      const Json& labels = md != obj.end() && md->contains("labels") ? (*md)["labels"] : kNull;
      if (!ls_.Matches(labels)) return false;
    }
    return fs_.Empty() || fs_.Matches(obj);
  }
  JsonPtr Present(const JsonPtr& obj) const {
    if (r_.group == "events.k8s.io") return std::make_shared<const Json>(EventFromCore(*obj));
    auto it = obj->find("apiVersion");
    std::string want = r_.ApiVersion();
    if (it != obj->end() && it->is_string() && it->get_ref<const std::string&>() == want) return obj;
    auto copy = std::make_shared<Json>(*obj);
    (*copy)["apiVersion"] = want;
    return copy;
  }
  const std::string& storage_key() const { return skey_; }
  const std::string& ns() const { return ns_; }

 private:
  void Push(Item item) {
    std::function<void()> n;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_) return;
      if (q_.size() >= kMaxQueued) {
        // A consumer this far behind is dropped, as a real server drops slow watchers.
        closed_ = true;
        closed_flag_ = true;
      } else {
        q_.push_back(std::move(item));
      }
      n = notify_;
    }
    cv_.notify_all();
    if (n) n();
  }
  static constexpr size_t kMaxQueued = 1'000'000;
  GroupVersionResource r_;
  std::string skey_;
  std::string ns_;
  LabelSelector ls_;
  FieldSelector fs_;
  std::shared_ptr<std::atomic<int64_t>> published_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> q_;
  bool closed_ = false;
  std::atomic<bool> closed_flag_{false};
  std::function<void()> notify_;
};

class StoreImpl : public Store, public StoreReader {
 public:
  explicit StoreImpl(const StoreOptions& o)
      : clock_(o.clock ? o.clock : &SystemClock()), history_max_(o.watch_history), data_dir_(o.data_dir),
        rng_(std::random_device{}()), published_(std::make_shared<std::atomic<int64_t>>(0)) {
    for (auto& r : BuiltinResources()) builtin_.push_back(r);
    RebuildResources();
  }

  ~StoreImpl() override {
    CloseAllWatches();
    {
      std::lock_guard<std::mutex> l(dmu_);
      stop_dispatch_ = true;
    }
    dcv_.notify_all();
    if (dispatcher_.joinable()) dispatcher_.join();
    std::lock_guard<std::mutex> l(mu_);
    if (wal_) {
      fflush(wal_);
      fsync(fileno(wal_));
      fclose(wal_);
      wal_ = nullptr;
    }
  }

  Status Init() {
    if (!data_dir_.empty()) {
      Status s = Load();
      if (!s.ok()) return s;
    }
    std::lock_guard<std::mutex> l(mu_);
    // The default namespaces exist on every cluster.
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      if (!FindLocked("/namespaces", ObjKey("", ns))) {
        Json obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
        auto r = CreateLocked(gvr::kNamespaces, "", std::move(obj), WriteOptions{});
        if (!r.ok()) return r.status();
      }
    }
    history_floor_ = history_.empty() ? rv_ : history_.front().rv - 1;
    dispatcher_ = std::thread([this] { DispatchLoop(); });
    return Status::Ok();
  }

  // ---- StoreReader ----
  const Json* Find(const GroupVersionResource& r, std::string_view ns, std::string_view name) const override {
    auto p = FindLocked(StorageKey(r), ObjKey(ns, name));
    return p ? p.get() : nullptr;
  }
  void ForEach(const GroupVersionResource& r, std::string_view ns,
               const std::function<void(const Json&)>& fn) const override {
    auto t = tables_.find(StorageKey(r));
    if (t == tables_.end()) return;
    if (ns.empty()) {
      for (const auto& [k, v] : t->second) fn(*v);
      return;
    }
    std::string prefix = std::string(ns) + "/";
    for (auto it = t->second.lower_bound(prefix); it != t->second.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      fn(*it->second);
    }
  }

  // ---- Store ----
  Result<Json> Create(const GroupVersionResource& r, std::string_view ns, Json obj, const WriteOptions& o) override {
    std::lock_guard<std::mutex> l(mu_);
    auto res = CreateLocked(r, ns, std::move(obj), o);
    if (!res.ok()) return res.status();
    return PresentCopy(r, **res);
  }

  Result<Json> Get(const GroupVersionResource& r, std::string_view ns, std::string_view name) const override {
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    auto p = FindLocked(StorageKey(r), ObjKey(info->namespaced ? ns : "", name));
    if (!p) return NotFound(r, name);
    return PresentCopy(r, *p);
  }

  Result<Json> Update(const GroupVersionResource& r, std::string_view ns, Json obj, const WriteOptions& o) override {
    std::lock_guard<std::mutex> l(mu_);
    auto res = UpdateLocked(r, ns, std::move(obj), o, "", /*record_ownership=*/true);
    if (!res.ok()) return res.status();
    return PresentCopy(r, **res);
  }

  Result<Json> UpdateStatus(const GroupVersionResource& r, std::string_view ns, Json obj,
                            const WriteOptions& o) override {
    std::lock_guard<std::mutex> l(mu_);
    auto res = UpdateLocked(r, ns, std::move(obj), o, "status", true);
    if (!res.ok()) return res.status();
    return PresentCopy(r, **res);
  }

  Result<Json> Patch(const GroupVersionResource& r, std::string_view ns, std::string_view name, PatchType type,
                     std::string_view body, std::string_view subresource, const WriteOptions& o) override {
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    if (!info->namespaced) ns = "";
    std::string sub(subresource);
    if (!sub.empty() && sub != "status") return Err(Code::kNotFound, 404, "NotFound", "the server could not find the requested resource");
    if (sub == "status" && !info->status_subresource) {
      return Err(Code::kNotFound, 404, "NotFound", "the server could not find the requested resource");
    }
    if (type == PatchType::kStrategicMerge && !info->builtin) {
      return Err(Code::kUnsupported, 415, "UnsupportedMediaType",
                 "the body of the request was in an unknown format - accepted media types include: "
                 "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    }
    if (type == PatchType::kApply && o.field_manager.empty()) {
      return Err(Code::kInvalidArgument, 400, "BadRequest",
                 "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests");
    }
    Result<Json> parsed = type == PatchType::kApply ? ParseJsonOrYaml(body) : ParseJsonStrict(body);
    if (!parsed.ok()) return parsed.status();
    Json patch = std::move(*parsed);
    if ((type == PatchType::kMerge || type == PatchType::kStrategicMerge || type == PatchType::kApply) &&
        !patch.is_object()) {
      return Err(Code::kInvalidArgument, 400, "BadRequest",
                 "json: cannot unmarshal " + std::string(patch.type_name()) + " into Go value of type map[string]interface {}");
    }
    std::string skey = StorageKey(r);
    auto cur = FindLocked(skey, ObjKey(ns, name));
    std::string now = FormatRfc3339(clock_->Now());
    if (!cur) {
      if (type != PatchType::kApply) return NotFound(r, name);
      // Server-side apply creates what is missing.
      if (!patch.contains("metadata") || !patch["metadata"].is_object()) patch["metadata"] = Json::object();
      std::string pname = patch["metadata"].value("name", "");
      if (pname.empty()) patch["metadata"]["name"] = std::string(name);
      else if (pname != name) return NameMismatch(pname, name);
      MergeTypes types = MergeTypes::For(*info);
      ApplyRequest ar{nullptr, &patch, o.field_manager, r.ApiVersion(), o.force, now, &types, KindForErrors(*info)};
      auto applied = ServerSideApply(ar);
      if (!applied.ok()) return applied.status();
      Json obj = std::move(*applied);
      if (r.group == "events.k8s.io") obj = EventToCore(obj);
      auto res = CreateLocked(r, ns, std::move(obj), o, /*record_ownership=*/false);
      if (!res.ok()) return res.status();
      if (o.created) *o.created = true;
      return PresentCopy(r, **res);
    }
    Json live = PresentCopy(r, *cur);
    Json next;
    switch (type) {
      case PatchType::kMerge:
        next = ApplyMergePatch(live, patch);
        break;
      case PatchType::kStrategicMerge: {
        MergeTypes types = MergeTypes::For(*info);
        auto res = ApplyStrategicMergePatch(live, patch, types);
        if (!res.ok()) return res.status();
        next = std::move(*res);
        break;
      }
      case PatchType::kJson: {
        auto res = ApplyJsonPatch(live, patch);
        if (!res.ok()) return res.status();
        next = std::move(*res);
        break;
      }
      case PatchType::kApply: {
        std::string pname = patch.contains("metadata") && patch["metadata"].is_object() ? patch["metadata"].value("name", "") : "";
        if (!pname.empty() && pname != name) return NameMismatch(pname, name);
        MergeTypes types = MergeTypes::For(*info);
        ApplyRequest ar{&live, &patch, o.field_manager, r.ApiVersion(), o.force, now, &types, KindForErrors(*info)};
        auto res = ServerSideApply(ar);
        if (!res.ok()) return res.status();
        next = std::move(*res);
        break;
      }
    }
    if (!next.is_object()) return Err(Code::kInvalidArgument, 400, "BadRequest", "the patch produced a non-object");
    if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = Json::object();
    // Identity cannot be patched away.
    next["metadata"]["name"] = std::string(name);
    if (info->namespaced) next["metadata"]["namespace"] = std::string(ns);
    if (r.group == "events.k8s.io") next = EventToCore(next);
    auto res = UpdateLocked(r, ns, std::move(next), o, sub, type != PatchType::kApply);
    if (!res.ok()) return res.status();
    return PresentCopy(r, **res);
  }

  Result<Json> Delete(const GroupVersionResource& r, std::string_view ns, std::string_view name,
                      const DeleteOptions& o) override {
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    if (!info->namespaced) ns = "";
    std::string skey = StorageKey(r);
    std::string key = ObjKey(ns, name);
    auto cur = FindLocked(skey, key);
    if (!cur) return NotFound(r, name);
    if (o.precondition_uid && *o.precondition_uid != MetaString(*cur, "uid")) {
      return Err(Code::kConflict, 409, "Conflict",
                 "Operation cannot be fulfilled on " + r.GroupResource() + " \"" + std::string(name) +
                     "\": Precondition failed: UID in precondition: " + *o.precondition_uid +
                     ", UID in object meta: " + MetaString(*cur, "uid"));
    }
    if (o.precondition_resource_version && *o.precondition_resource_version != MetaString(*cur, "resourceVersion")) {
      return Err(Code::kConflict, 409, "Conflict",
                 "Operation cannot be fulfilled on " + r.GroupResource() + " \"" + std::string(name) +
                     "\": Precondition failed: ResourceVersion in precondition: " + *o.precondition_resource_version +
                     ", ResourceVersion in object meta: " + MetaString(*cur, "resourceVersion"));
    }
    AdmissionRequest ar{Operation::kDelete, &*info, "", std::string(ns), std::string(name), nullptr, cur.get(),
                        o.dry_run, this};
    for (auto& h : hooks_) {
      Status s = h(ar);
      if (!s.ok()) return s;
    }
    if (o.dry_run) return PresentCopy(r, *cur);
    Propagation prop = o.propagation.value_or(Propagation::kBackground);
    bool is_ns = skey == "/namespaces";
    if (is_ns || prop == Propagation::kForeground || HasFinalizers(*cur)) {
      if (!cur->contains("metadata") || !(*cur)["metadata"].contains("deletionTimestamp")) {
        Json next = *cur;
        next["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_->Now());
        next["metadata"]["deletionGracePeriodSeconds"] = 0;
        if (prop == Propagation::kForeground && !HasFinalizer(next, "foregroundDeletion")) {
          next["metadata"]["finalizers"].push_back("foregroundDeletion");
        }
        if (is_ns) next["status"]["phase"] = "Terminating";
        if (next["metadata"].contains("generation")) {
          next["metadata"]["generation"] = next["metadata"]["generation"].get<int64_t>() + 1;
        }
        auto stored = Commit(EventType::kModified, skey, key, std::move(next), cur);
        if (is_ns) {
          DeleteNamespaceContents(std::string(name));
          auto still = FindLocked(skey, key);
          if (still && !HasFinalizers(*still)) {
            if (NamespaceEmpty(std::string(name))) {
              Remove(skey, key, still, Propagation::kBackground);
              return PresentCopy(r, *still);
            }
          }
          return PresentCopy(r, *stored);
        }
        if (prop == Propagation::kForeground) {
          CollectDependents(MetaString(*stored, "uid"), Propagation::kForeground);
          auto again = FindLocked(skey, key);
          if (again) {
            MaybeFinishForeground(again, skey, key);
            auto last = FindLocked(skey, key);
            return PresentCopy(r, last ? *last : *again);
          }
        }
        return PresentCopy(r, *stored);
      }
      return PresentCopy(r, *cur);
    }
    Json last = *Remove(skey, key, cur, prop);
    return PresentCopy(r, last);
  }

  Result<ListResult> List(const GroupVersionResource& r, std::string_view ns, const ListOptions& o) const override {
    auto ls = ParseLabelSelector(o.label_selector);
    if (!ls.ok()) return ls.status();
    auto fsel = ParseFieldSelector(o.field_selector);
    if (!fsel.ok()) return fsel.status();
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    Status fs_ok = CheckFieldSelector(r, &*fsel);
    if (!fs_ok.ok()) return fs_ok;
    if (!info->namespaced) ns = "";
    std::string start_after;
    int64_t snapshot_rv = 0;  // a continued list serves the state at its first page's resourceVersion
    if (!o.continue_token.empty()) {
      auto tok = DecodeContinue(o.continue_token);
      if (!tok.ok()) return tok.status();
      start_after = tok->key;
      snapshot_rv = tok->rv;
      if (snapshot_rv > rv_) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   "continue key is not valid: resourceVersion " + std::to_string(snapshot_rv) + " is in the future");
      }
      if (snapshot_rv > 0 && snapshot_rv < history_floor_) {
        // As upstream once etcd compacted the revision: start a new list, or go on from the current
        // state with InconsistentContinueToken (the Status's metadata.continue).
        return Err(Code::kExpired, 410, "Expired", kInconsistentContinueMessage);
      }
    } else if (!o.resource_version.empty() && o.resource_version != "0") {
      char* end = nullptr;
      long long want = std::strtoll(o.resource_version.c_str(), &end, 10);
      if (end == o.resource_version.c_str() || *end != '\0' || want < 0) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   "invalid resource version \"" + o.resource_version + "\"");
      }
    }
    ListResult out;
    if (snapshot_rv <= 0) snapshot_rv = rv_;
    out.resource_version = snapshot_rv;
    std::string skey = StorageKey(r);
    auto t = tables_.find(skey);
    static const Table kEmpty;
    const Table& table = t == tables_.end() ? kEmpty : t->second;
    // The objects changed since the snapshot, as they were then (null: absent then). Walking the
    // history newest first, the oldest change after the snapshot has the last word.
    Table then;
    for (auto h = history_.rbegin(); h != history_.rend() && h->rv > snapshot_rv; ++h) {
      if (h->skey != skey) continue;
      then[ObjKey(MetaString(*h->obj, "namespace"), MetaString(*h->obj, "name"))] =
          h->type == EventType::kAdded ? nullptr : h->prev;
    }
    std::string prefix = ns.empty() ? "" : std::string(ns) + "/";
    auto first = [&](const Table& tb) { return start_after.empty() ? tb.lower_bound(prefix) : tb.upper_bound(start_after); };
    auto it = first(table);
    auto ov = first(then);
    WatchImpl matcher(r, "", std::string(ns), std::move(*ls), std::move(*fsel), published_);
    int64_t remaining = 0;
    // Merge the current table with the overlay, in key order.
    while (it != table.end() || ov != then.end()) {
      const std::string* key;
      JsonPtr obj;
      if (ov == then.end() || (it != table.end() && it->first < ov->first)) {
        key = &it->first;
        obj = it->second;
        ++it;
      } else {
        if (it != table.end() && it->first == ov->first) ++it;
        key = &ov->first;
        obj = ov->second;
        ++ov;
      }
      if (!prefix.empty() && key->rfind(prefix, 0) != 0) break;
      if (!obj || !matcher.Matches(*obj)) continue;
      if (o.limit > 0 && static_cast<int64_t>(out.items.size()) >= o.limit) {
        ++remaining;
        continue;
      }
      out.items.push_back(PresentCopy(r, *obj));
      if (o.limit > 0 && static_cast<int64_t>(out.items.size()) == o.limit) {
        out.continue_token = EncodeContinue(*key, snapshot_rv);
      }
    }
    if (remaining == 0) {
      out.continue_token.clear();
    } else {
      out.remaining_item_count = remaining;
    }
    return out;
  }

  Result<Json> BindPod(std::string_view ns, std::string_view name, std::string_view node) override {
    std::lock_guard<std::mutex> l(mu_);
    std::string key = ObjKey(ns, name);
    auto cur = FindLocked("/pods", key);
    if (!cur) return NotFound(gvr::kPods, name);
    const Json& spec = cur->contains("spec") ? (*cur)["spec"] : Json();
    std::string bound = spec.is_object() ? spec.value("nodeName", "") : "";
    if (!bound.empty()) {
      return Err(Code::kConflict, 409, "Conflict",
                 "Operation cannot be fulfilled on pods/binding \"" + std::string(name) + "\": pod " +
                     std::string(name) + " is already assigned to node \"" + bound + "\"");
    }
    if (cur->contains("metadata") && (*cur)["metadata"].contains("deletionTimestamp")) {
      return Err(Code::kConflict, 409, "Conflict",
                 "Operation cannot be fulfilled on pods/binding \"" + std::string(name) + "\": pod " +
                     std::string(name) + " is being deleted, cannot be assigned to a host");
    }
    Json next = *cur;
    next["spec"]["nodeName"] = std::string(node);
    Json cond = {{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                 {"lastTransitionTime", FormatRfc3339(clock_->Now())}};
    Json conds = Json::array();
    if (next.contains("status") && next["status"].contains("conditions")) {
      for (const auto& c : next["status"]["conditions"]) {
        if (c.value("type", "") != "PodScheduled") conds.push_back(c);
      }
    }
    conds.push_back(cond);
    next["status"]["conditions"] = conds;
    const ResourceInfo* info = ResourcePtr(gvr::kPods);
    AdmissionRequest ar{Operation::kUpdate, &*info, "binding", std::string(ns), std::string(name), &next, cur.get(),
                        false, this};
    for (auto& h : hooks_) {
      Status s = h(ar);
      if (!s.ok()) return s;
    }
    auto stored = Commit(EventType::kModified, "/pods", key, std::move(next), cur);
    return PresentCopy(gvr::kPods, *stored);
  }

  Result<std::shared_ptr<Watch>> StartWatch(const GroupVersionResource& r, std::string_view ns,
                                            const WatchOptions& o) override {
    auto ls = ParseLabelSelector(o.label_selector);
    if (!ls.ok()) return ls.status();
    auto fsel = ParseFieldSelector(o.field_selector);
    if (!fsel.ok()) return fsel.status();
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    Status fs_ok = CheckFieldSelector(r, &*fsel);
    if (!fs_ok.ok()) return fs_ok;
    if (!info->namespaced) ns = "";
    std::string skey = StorageKey(r);
    auto w = std::make_shared<WatchImpl>(r, skey, std::string(ns), std::move(*ls), std::move(*fsel), published_);
    if (o.resource_version.empty() || o.resource_version == "0") {
      auto t = tables_.find(skey);
      if (t != tables_.end()) {
        std::string prefix = ns.empty() ? "" : std::string(ns) + "/";
        for (auto it = t->second.lower_bound(prefix); it != t->second.end(); ++it) {
          if (!prefix.empty() && it->first.rfind(prefix, 0) != 0) break;
          w->Offer(EventType::kAdded, rv_, it->second, nullptr);
        }
      }
    } else {
      char* end = nullptr;
      long long from = std::strtoll(o.resource_version.c_str(), &end, 10);
      if (end == o.resource_version.c_str() || *end != '\0' || from < 0) {
        return Err(Code::kInvalidArgument, 400, "BadRequest", "invalid resource version \"" + o.resource_version + "\"");
      }
      if (from < history_floor_) {
        return Err(Code::kExpired, 410, "Expired",
                   "too old resource version: " + o.resource_version + " (" + std::to_string(history_floor_ + 1) + ")");
      }
      for (const auto& e : history_) {
        if (e.rv <= from || e.skey != skey) continue;
        w->Offer(e.type, e.rv, e.obj, e.prev);
      }
    }
    watches_.push_back(w);
    return std::shared_ptr<Watch>(w);
  }

  int Subscribe(ChangeListener listener, bool replay_existing) override {
    std::lock_guard<std::mutex> l(mu_);
    int id;
    {
      std::lock_guard<std::mutex> dl(dmu_);
      id = next_sub_id_++;
      listeners_[id] = std::make_shared<Listener>(Listener{std::move(listener), enqueued_});
      if (replay_existing) {
        for (const auto& [skey, table] : tables_) {
          GroupVersionResource r = StorageGvr(skey);
          for (const auto& [k, v] : table) {
            dqueue_.push_back(Dispatch{ChangeEvent{EventType::kAdded, rv_, r, v}, id});
            ++enqueued_;
          }
        }
      }
    }
    dcv_.notify_all();
    return id;
  }

  void Unsubscribe(int id) override {
    std::lock_guard<std::mutex> dl(dmu_);
    listeners_.erase(id);
  }

  void WaitForDispatch() override {
    std::unique_lock<std::mutex> dl(dmu_);
    uint64_t target = enqueued_;
    dcv_.wait(dl, [&] { return delivered_ >= target || stop_dispatch_; });
  }

  void AddAdmissionHook(AdmissionHook hook) override {
    std::lock_guard<std::mutex> l(mu_);
    hooks_.push_back(std::move(hook));
  }

  std::optional<ResourceInfo> FindResource(const GroupVersionResource& r) const override {
    std::lock_guard<std::mutex> l(mu_);
    const ResourceInfo* p = ResourcePtr(r);
    if (!p) return std::nullopt;
    return *p;
  }

  std::shared_ptr<const ResourceInfo> FindResourceShared(const GroupVersionResource& r) const override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = resources_.find(r.group + "/" + r.version + "/" + r.resource);
    return it == resources_.end() ? nullptr : it->second;
  }

  std::optional<ResourceInfo> FindKind(std::string_view api_version, std::string_view kind) const override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, info] : resources_) {
      std::string av = info->group.empty() ? info->version : info->group + "/" + info->version;
      if (av == api_version && info->kind == kind) return *info;
    }
    return std::nullopt;
  }

  std::vector<ResourceInfo> Resources() const override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<ResourceInfo> out;
    for (const auto& [k, info] : resources_) out.push_back(*info);
    return out;
  }

  int64_t ResourcesGeneration() const override { return resources_gen_.load(); }
  int64_t CurrentResourceVersion() const override { return published_->load(); }

  void SetWatchHistory(size_t events) override {
    std::lock_guard<std::mutex> l(mu_);
    history_max_ = events;
    TrimHistory();
  }

  void CloseAllWatches() override {
    std::vector<std::shared_ptr<WatchImpl>> ws;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& w : watches_) {
        if (auto s = w.lock()) ws.push_back(s);
      }
      watches_.clear();
    }
    for (auto& w : ws) w->Close();
  }

  Status Flush() override {
    std::lock_guard<std::mutex> l(mu_);
    if (data_dir_.empty()) return Status::Ok();
    return WriteSnapshotLocked();
  }

 private:
  struct HistEntry {
    EventType type;
    int64_t rv;
    std::string skey;
    JsonPtr obj;
    JsonPtr prev;
  };
  struct Dispatch {
    ChangeEvent event;
    int target;  // -1: every listener
    uint64_t seq = 0;
  };
  struct Listener {
    ChangeListener fn;
    uint64_t min_seq;  // broadcast events queued before the subscription are not for it
  };
  using Table = std::map<std::string, JsonPtr>;

  // ---- resources ----
  void RebuildResources() {
    resources_.clear();
    for (const auto& r : builtin_) resources_[r.group + "/" + r.version + "/" + r.plural] = std::make_shared<const ResourceInfo>(r);
    for (const auto& [crd, infos] : crd_resources_) {
      for (const auto& r : infos) resources_[r.group + "/" + r.version + "/" + r.plural] = std::make_shared<const ResourceInfo>(r);
    }
    resources_gen_.fetch_add(1);
  }

  const ResourceInfo* ResourcePtr(const GroupVersionResource& r) const {
    auto it = resources_.find(r.group + "/" + r.version + "/" + r.resource);
    return it == resources_.end() ? nullptr : it->second.get();
  }

  // The GVR of storage key (its storage/first served version).
  GroupVersionResource StorageGvr(const std::string& skey) const {
    auto slash = skey.find('/');
    std::string group = skey.substr(0, slash), plural = skey.substr(slash + 1);
    for (const auto& [k, info] : resources_) {
      if (info->group == group && info->plural == plural) {
        auto c = crd_storage_version_.find(skey);
        if (c != crd_storage_version_.end()) return {group, c->second, plural};
        return info->Gvr();
      }
    }
    return {group, "v1", plural};
  }

  static Status UnknownResource(const GroupVersionResource& r) {
    return Err(Code::kNotFound, 404, "NotFound",
               "the server could not find the requested resource (" + r.GroupResource() + ")");
  }

  static Status NameMismatch(const std::string& body_name, std::string_view url_name) {
    return Err(Code::kInvalidArgument, 400, "BadRequest",
               "the name of the object (" + body_name + ") does not match the name on the URL (" +
                   std::string(url_name) + ")");
  }

  Status CheckFieldSelector(const GroupVersionResource& r, FieldSelector* fs) const {
    for (auto& req : fs->requirements) {
      if (!FieldSelectorSupported(r, req.field)) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   "field label not supported: " + req.field);
      }
      req.field = StorageFieldPath(r, req.field);
    }
    return Status::Ok();
  }

  void RegisterCrd(const Json& crd) {
    auto infos = ResourcesFromCrd(crd);
    std::string name = MetaString(crd, "name");
    if (!infos.ok()) {
      crd_resources_.erase(name);
    } else {
      crd_resources_[name] = *infos;
      for (const auto& v : crd["spec"]["versions"]) {
        if (v.value("storage", false)) {
          crd_storage_version_[crd["spec"]["group"].get<std::string>() + "/" +
                               crd["spec"]["names"]["plural"].get<std::string>()] = v["name"].get<std::string>();
        }
      }
    }
    RebuildResources();
  }

  // ---- helpers ----
  JsonPtr FindLocked(const std::string& skey, const std::string& key) const {
    auto t = tables_.find(skey);
    if (t == tables_.end()) return nullptr;
    auto it = t->second.find(key);
    return it == t->second.end() ? nullptr : it->second;
  }

  Json PresentCopy(const GroupVersionResource& r, const Json& stored) const {
    if (r.group == "events.k8s.io") return EventFromCore(stored);
    Json out = stored;
    out["apiVersion"] = r.ApiVersion();
    return out;
  }

  static Result<Json> ParseJsonStrict(std::string_view body) {
    auto j = Json::parse(body, nullptr, false);
    if (j.is_discarded()) {
      // Reuse the YAML/JSON parser's message (it names the position).
      auto r = ParseJsonOrYaml(body);
      if (!r.ok()) return r.status();
      return Err(Code::kInvalidArgument, 400, "BadRequest", "error decoding patch: invalid JSON");
    }
    return j;
  }

  // A continue token: base64url of {"v":"sim/v1","k":<last key returned>,"rv":<the list's snapshot>}.
  // Public for InconsistentContinueToken.
 public:
  struct ContinueToken {
    std::string key;
    int64_t rv = 0;  // 0: none (tokens from before snapshots were kept); -1: the current state
  };
  static std::string EncodeContinue(const std::string& key, int64_t rv) {
    static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string in = Json({{"v", "sim/v1"}, {"k", key}, {"rv", rv}}).dump(), out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
      uint32_t n = (uint8_t)in[i] << 16 | (uint8_t)in[i + 1] << 8 | (uint8_t)in[i + 2];
      out += kB64[n >> 18];
      out += kB64[(n >> 12) & 63];
      out += kB64[(n >> 6) & 63];
      out += kB64[n & 63];
    }
    if (i < in.size()) {
      uint32_t n = (uint8_t)in[i] << 16 | (i + 1 < in.size() ? (uint8_t)in[i + 1] << 8 : 0);
      out += kB64[n >> 18];
      out += kB64[(n >> 12) & 63];
      if (i + 1 < in.size()) out += kB64[(n >> 6) & 63];
    }
    return out;
  }

  static Result<ContinueToken> DecodeContinue(const std::string& tok) {
    std::string out;
    uint32_t buf = 0;
    int bits = 0;
    for (char c : tok) {
      int v;
      if (c >= 'A' && c <= 'Z') v = c - 'A';
      else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
      else if (c >= '0' && c <= '9') v = c - '0' + 52;
      else if (c == '-' || c == '+') v = 62;
      else if (c == '_' || c == '/') v = 63;
      else if (c == '=') continue;
      else return Err(Code::kInvalidArgument, 400, "BadRequest", "continue key is not valid: illegal base64 data");
      buf = buf << 6 | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += static_cast<char>((buf >> bits) & 0xff);
      }
    }
    auto j = Json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("k") || !j["k"].is_string()) {
      return Err(Code::kInvalidArgument, 400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version sim/v1)");
    }
    ContinueToken out_tok;
    out_tok.key = j["k"].get<std::string>();
    if (j.contains("rv")) {
      // -1: an inconsistent continuation (InconsistentContinueToken) served from the current state.
      if (!j["rv"].is_number_integer() || j["rv"].get<int64_t>() < -1) {
        return Err(Code::kInvalidArgument, 400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version sim/v1)");
      }
      out_tok.rv = j["rv"].get<int64_t>();
    }
    return out_tok;
  }

 private:
  // ---- the write paths (mu_ held) ----
  Result<JsonPtr> CreateLocked(const GroupVersionResource& r, std::string_view ns_in, Json obj, const WriteOptions& o,
                               bool record_ownership = true) {
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    if (!obj.is_object()) return Err(Code::kInvalidArgument, 400, "BadRequest", "the object must be a JSON object");
    if (!obj.contains("metadata") || obj["metadata"].is_null()) obj["metadata"] = Json::object();
    if (!obj["metadata"].is_object()) return Err(Code::kInvalidArgument, 400, "BadRequest", "metadata must be an object");
    Json& md = obj["metadata"];
    std::string ns(ns_in);
    if (info->namespaced) {
      std::string body_ns = md.contains("namespace") && md["namespace"].is_string() ? md["namespace"].get<std::string>() : "";
      if (ns.empty()) ns = body_ns.empty() ? "default" : body_ns;
      if (!body_ns.empty() && body_ns != ns) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   "the namespace of the provided object does not match the namespace sent on the request");
      }
      md["namespace"] = ns;
      auto nsobj = FindLocked("/namespaces", ObjKey("", ns));
      if (!nsobj) return NotFound(gvr::kNamespaces, ns);
      if ((*nsobj)["metadata"].contains("deletionTimestamp")) {
        return Err(Code::kForbidden, 403, "Forbidden",
                   r.GroupResource() + " \"" + (md.contains("name") ? md["name"].get<std::string>() : "") +
                       "\" is forbidden: unable to create new content in namespace " + ns +
                       " because it is being terminated");
      }
    } else {
      md.erase("namespace");
      ns.clear();
    }
    obj["apiVersion"] = r.group == "events.k8s.io" ? "v1" : r.ApiVersion();
    if (r.group == "events.k8s.io") obj["kind"] = "Event";
    else obj["kind"] = info->kind;
    std::string skey = StorageKey(r);
    std::string name = md.contains("name") && md["name"].is_string() ? md["name"].get<std::string>() : "";
    if (name.empty()) {
      std::string gen = md.contains("generateName") && md["generateName"].is_string() ? md["generateName"].get<std::string>() : "";
      if (gen.empty()) {
        return InvalidStatus(*info, "", {FieldError{"metadata.name", "Required value",
                                                    "metadata.name: Required value: name or generateName is required",
                                                    "FieldValueRequired"}});
      }
      for (int i = 0; i < 10; ++i) {
        name = gen + RandomSuffix(rng_, 5);
        if (!FindLocked(skey, ObjKey(ns, name))) break;
      }
      md["name"] = name;
    }
    bool label_name = skey == "/namespaces";
    if (!(label_name ? IsDnsLabel(name) : IsDnsSubdomain(name)) && skey != "/events") {
      return InvalidStatus(*info, name,
                           {FieldError{"metadata.name", "Invalid value",
                                       "metadata.name: Invalid value: \"" + name + "\": a lowercase RFC 1123 " +
                                           (label_name ? "label" : "subdomain") +
                                           " must consist of lower case alphanumeric characters, '-' or '.', and must "
                                           "start and end with an alphanumeric character",
                                       "FieldValueInvalid"}});
    }
    std::string key = ObjKey(ns, name);
    if (FindLocked(skey, key)) {
      return Err(Code::kAlreadyExists, 409, "AlreadyExists", r.GroupResource() + " \"" + name + "\" already exists");
    }
    std::string now = FormatRfc3339(clock_->Now());
    md.erase("resourceVersion");
    md.erase("deletionTimestamp");
    md.erase("deletionGracePeriodSeconds");
    md["uid"] = NewUid(rng_);
    md["creationTimestamp"] = now;
    md["generation"] = 1;
    if (md.contains("finalizers") && md["finalizers"].is_array() && md["finalizers"].empty()) md.erase("finalizers");
    Status s = PrepareObject(*info, r, nullptr, &obj, o);
    if (!s.ok()) return s;
    if (skey == "/namespaces") {
      obj["spec"]["finalizers"] = Json::array({"kubernetes"});
      obj["status"] = {{"phase", "Active"}};
    } else if (skey == "/pods") {
      Json status = {{"phase", "Pending"}};
      obj["status"] = status;
    } else if (!info->builtin && info->status_subresource) {
      obj.erase("status");
    } else if (skey == "apiextensions.k8s.io/customresourcedefinitions") {
      Status v = ValidateCrd(obj);
      if (!v.ok()) return v;
      Status c = CheckCrdConflicts(obj);
      if (!c.ok()) return c;
      SetCrdEstablished(&obj, now);
    }
    AdmissionRequest ar{Operation::kCreate, info, "", ns, name, &obj, nullptr, o.dry_run, this};
    for (auto& h : hooks_) {
      Status hs = h(ar);
      if (!hs.ok()) return hs;
    }
    if (record_ownership) {
      MergeTypes types = MergeTypes::For(*info);
      RecordUpdateOwnership(nullptr, &obj, o.field_manager, r.ApiVersion(), now, "", &types);
    }
    if (o.dry_run) return std::make_shared<const Json>(std::move(obj));
    auto stored = Commit(EventType::kAdded, skey, key, std::move(obj), nullptr);
    if (skey == "apiextensions.k8s.io/customresourcedefinitions") RegisterCrd(*stored);
    return stored;
  }

  Status CheckCrdConflicts(const Json& crd) {
    // Another CRD serving the same kind in the same group would make the kind ambiguous.
    const std::string group = crd["spec"]["group"].get<std::string>();
    const std::string kind = crd["spec"]["names"]["kind"].get<std::string>();
    auto t = tables_.find("apiextensions.k8s.io/customresourcedefinitions");
    if (t == tables_.end()) return Status::Ok();
    for (const auto& [k, v] : t->second) {
      if (MetaString(*v, "name") == MetaString(crd, "name")) continue;
      if ((*v)["spec"].value("group", "") == group && (*v)["spec"]["names"].value("kind", "") == kind) {
        return Err(Code::kInvalid, 422, "Invalid",
                   "CustomResourceDefinition.apiextensions.k8s.io \"" + MetaString(crd, "name") +
                       "\" is invalid: spec.names.kind: Invalid value: \"" + kind + "\": kind is already in use");
      }
    }
    return Status::Ok();
  }

  // Defaults, pruning and schema validation for custom resources; light checks for built-ins.
  Status PrepareObject(const ResourceInfo& info, const GroupVersionResource& r, const Json* old, Json* obj,
                       const WriteOptions& o) {
    (void)old;
    Json& md = (*obj)["metadata"];
    const std::string name = md.value("name", "");
    InvalidBuilder ib;
    for (const char* m : {"labels", "annotations"}) {
      if (!md.contains(m)) continue;
      if (md[m].is_null()) {
        md.erase(m);
        continue;
      }
      if (!md[m].is_object()) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   std::string("metadata.") + m + ": must be a map of strings");
      }
      for (auto it = md[m].begin(); it != md[m].end(); ++it) {
        if (!it->is_string()) {
          return Err(Code::kInvalidArgument, 400, "BadRequest",
                     std::string("json: cannot unmarshal ") + it->type_name() + " into Go struct field ObjectMeta.metadata." +
                         m + " of type string");
        }
      }
    }
    if (md.contains("finalizers") && !md["finalizers"].is_array()) {
      return Err(Code::kInvalidArgument, 400, "BadRequest", "metadata.finalizers: must be a list of strings");
    }
    if (md.contains("ownerReferences")) {
      if (!md["ownerReferences"].is_array()) {
        return Err(Code::kInvalidArgument, 400, "BadRequest", "metadata.ownerReferences: must be a list");
      }
      for (size_t i = 0; i < md["ownerReferences"].size(); ++i) {
        const Json& ref = md["ownerReferences"][i];
        std::string p = "metadata.ownerReferences[" + std::to_string(i) + "]";
        if (!ref.is_object()) {
          ib.Add(p, "Invalid value", "must be an object", "FieldValueInvalid");
          continue;
        }
        for (const char* f : {"apiVersion", "kind", "name", "uid"}) {
          if (!ref.contains(f) || !ref[f].is_string() || ref[f].get<std::string>().empty()) {
            ib.Add(p + "." + f, "Invalid value", "\"\": " + std::string(f) + " must not be empty", "FieldValueInvalid");
          }
        }
      }
    }
    if (info.builtin) ApplyBuiltinDefaults(r.group, r.resource, obj);
    if (!info.builtin) {
      const Json& schema = info.schema;
      if (schema.is_object()) {
        ApplySchemaDefaults(schema, obj);
        auto unknown = PruneUnknownFields(schema, obj);
        if (!unknown.empty()) {
          if (o.field_validation == FieldValidation::kStrict) {
            std::string msg;
            for (const auto& u : unknown) msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + u + "\"";
            return Err(Code::kInvalidArgument, 400, "BadRequest", "strict decoding error: " + msg);
          }
          if (o.field_validation == FieldValidation::kWarn && o.warnings) {
            for (const auto& u : unknown) o.warnings->push_back("unknown field \"" + u + "\"");
          }
        }
        auto errs = ValidateAgainstSchema(schema, *obj);
        for (auto& e : errs) ib.errs.push_back(e);
      }
    } else if (r.resource == "pods" && r.group.empty()) {
      const Json* spec = obj->contains("spec") ? &(*obj)["spec"] : nullptr;
      if (!spec || !spec->is_object() || !spec->contains("containers") || !(*spec)["containers"].is_array() ||
          (*spec)["containers"].empty()) {
        ib.Add("spec.containers", "Required value", "", "FieldValueRequired");
      }
    } else if (r.resource == "priorityclasses") {
      if (!obj->contains("value") || !(*obj)["value"].is_number_integer()) ib.Add("value", "Required value", "", "FieldValueRequired");
    }
    if (!ib.errs.empty()) return InvalidStatus(info, name, ib.errs);
    return Status::Ok();
  }

  Result<JsonPtr> UpdateLocked(const GroupVersionResource& r, std::string_view ns_in, Json obj, const WriteOptions& o,
                               const std::string& sub, bool record_ownership) {
    const ResourceInfo* info = ResourcePtr(r);
    if (!info) return UnknownResource(r);
    if (sub == "status" && !info->status_subresource) {
      return Err(Code::kNotFound, 404, "NotFound", "the server could not find the requested resource");
    }
    if (!obj.is_object()) return Err(Code::kInvalidArgument, 400, "BadRequest", "the object must be a JSON object");
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
    std::string name = obj["metadata"].value("name", "");
    std::string ns = info->namespaced ? std::string(ns_in) : "";
    if (info->namespaced) {
      std::string body_ns = obj["metadata"].value("namespace", "");
      if (ns.empty()) ns = body_ns;
      if (!body_ns.empty() && body_ns != ns) {
        return Err(Code::kInvalidArgument, 400, "BadRequest",
                   "the namespace of the provided object does not match the namespace sent on the request");
      }
    }
    if (name.empty()) {
      return InvalidStatus(*info, "", {FieldError{"metadata.name", "Required value", "metadata.name: Required value: name is required", "FieldValueRequired"}});
    }
    std::string skey = StorageKey(r);
    std::string key = ObjKey(ns, name);
    auto cur = FindLocked(skey, key);
    if (!cur) return NotFound(r, name);
    const Json& old = *cur;
    std::string want_rv = obj["metadata"].value("resourceVersion", "");
    if (!want_rv.empty() && want_rv != MetaString(old, "resourceVersion")) {
      return Err(Code::kConflict, 409, "Conflict",
                 "Operation cannot be fulfilled on " + r.GroupResource() + " \"" + name +
                     "\": the object has been modified; please apply your changes to the latest version and try again");
    }
    std::string now = FormatRfc3339(clock_->Now());
    Json next;
    if (sub == "status") {
      next = old;
      if (obj.contains("status")) next["status"] = obj["status"];
      else next.erase("status");
      // Ownership records written by the client on the status endpoint are ignored.
    } else {
      next = std::move(obj);
      if (info->status_subresource) {
        if (old.contains("status")) next["status"] = old["status"];
        else next.erase("status");
      }
    }
    Json& md = next["metadata"];
    const Json& omd = old["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
      if (omd.contains(k)) md[k] = omd[k];
      else md.erase(k);
    }
    md["name"] = name;
    if (info->namespaced) md["namespace"] = ns;
    else md.erase("namespace");
    md.erase("resourceVersion");
    next["apiVersion"] = old["apiVersion"];
    next["kind"] = old["kind"];
    if (md.contains("finalizers") && md["finalizers"].is_array() && md["finalizers"].empty()) md.erase("finalizers");
    if (omd.contains("deletionTimestamp") && md.contains("finalizers")) {
      std::set<std::string> had;
      if (omd.contains("finalizers")) {
        for (const auto& f : omd["finalizers"]) had.insert(f.is_string() ? f.get<std::string>() : f.dump());
      }
      Json added = Json::array();
      for (const auto& f : md["finalizers"]) {
        if (!had.count(f.is_string() ? f.get<std::string>() : f.dump())) added.push_back(f);
      }
      if (!added.empty()) {
        return InvalidStatus(*info, name,
                             {FieldError{"metadata.finalizers", "Forbidden",
                                         "metadata.finalizers: Forbidden: no new finalizers can be added if the object "
                                         "is being deleted, found new finalizers " + added.dump(),
                                         "FieldValueForbidden"}});
      }
    }
    if (sub != "status" || !info->builtin) {
      Status s = PrepareObject(*info, r, &old, &next, o);
      if (!s.ok()) return s;
    }
    if (skey == "apiextensions.k8s.io/customresourcedefinitions" && sub != "status") {
      Status v = ValidateCrd(next);
      if (!v.ok()) return v;
      if (old["spec"].value("group", "") != next["spec"].value("group", "") ||
          old["spec"]["names"].value("plural", "") != next["spec"]["names"].value("plural", "")) {
        return InvalidStatus(*info, name, {FieldError{"spec.group", "Invalid value", "spec.group: Invalid value: field is immutable", "FieldValueInvalid"}});
      }
      next["status"] = old.value("status", Json::object());
      SetCrdEstablished(&next, now);
    }
    // Generation follows changes outside metadata (and status, when it is a subresource).
    if (SpecChanged(old, next, info->status_subresource || skey == "/pods")) {
      md["generation"] = omd.value("generation", int64_t{1}) + 1;
    }
    AdmissionRequest ar{Operation::kUpdate, info, sub, ns, name, &next, cur.get(), o.dry_run, this};
    for (auto& h : hooks_) {
      Status hs = h(ar);
      if (!hs.ok()) return hs;
    }
    if (record_ownership) {
      MergeTypes types = MergeTypes::For(*info);
      RecordUpdateOwnership(&old, &next, o.field_manager, r.ApiVersion(), now, sub, &types);
    }
    // A no-op write changes nothing, not even the resourceVersion.
    {
      Json cmp = old;
      cmp["metadata"].erase("resourceVersion");
      cmp["apiVersion"] = next["apiVersion"];
      if (cmp == next) return cur;
    }
    if (o.dry_run) return std::make_shared<const Json>(std::move(next));
    bool finish = next["metadata"].contains("deletionTimestamp") && !HasFinalizers(next);
    auto stored = Commit(EventType::kModified, skey, key, std::move(next), cur);
    if (skey == "apiextensions.k8s.io/customresourcedefinitions") RegisterCrd(*stored);
    if (finish) {
      if (skey == "/namespaces" && !NamespaceEmpty(name)) return stored;
      Remove(skey, key, stored, Propagation::kBackground);
    }
    return stored;
  }

  // Removes an object for good, then runs what follows a removal: garbage collection of
  // dependents, foreground owners, terminating namespaces, CRD cleanup.
  JsonPtr Remove(const std::string& skey, const std::string& key, const JsonPtr& cur, Propagation prop) {
    Json last = *cur;
    auto removed = Commit(EventType::kDeleted, skey, key, std::move(last), cur);
    std::string uid = MetaString(*removed, "uid");
    if (skey == "apiextensions.k8s.io/customresourcedefinitions") {
      const Json& spec = (*removed)["spec"];
      std::string cr_key = spec.value("group", "") + "/" + spec["names"].value("plural", "");
      auto t = tables_.find(cr_key);
      if (t != tables_.end()) {
        std::vector<std::pair<std::string, JsonPtr>> all(t->second.begin(), t->second.end());
        for (auto& [k, v] : all) Commit(EventType::kDeleted, cr_key, k, Json(*v), v);
      }
      crd_resources_.erase(MetaString(*removed, "name"));
      crd_storage_version_.erase(cr_key);
      RebuildResources();
    }
    if (prop == Propagation::kOrphan) {
      OrphanDependents(uid);
    } else {
      CollectDependents(uid, Propagation::kBackground);
    }
    // Foreground owners waiting for this dependent.
    if (auto md = removed->find("metadata"); md != removed->end() && md->contains("ownerReferences")) {
      for (const auto& ref : (*md)["ownerReferences"]) {
        if (!ref.is_object()) continue;
        auto loc = by_uid_.find(ref.value("uid", ""));
        if (loc == by_uid_.end()) continue;
        auto owner = FindLocked(loc->second.first, loc->second.second);
        if (owner) MaybeFinishForeground(owner, loc->second.first, loc->second.second);
      }
    }
    std::string ns = MetaString(*removed, "namespace");
    if (!ns.empty()) {
      auto nsobj = FindLocked("/namespaces", ObjKey("", ns));
      if (nsobj && (*nsobj)["metadata"].contains("deletionTimestamp") && !HasFinalizers(*nsobj) && NamespaceEmpty(ns)) {
        Remove("/namespaces", ObjKey("", ns), nsobj, Propagation::kBackground);
      }
    }
    return removed;
  }

  std::vector<std::pair<std::string, std::string>> DependentsOf(const std::string& uid) const {
    std::vector<std::pair<std::string, std::string>> out;
    if (uid.empty()) return out;
    for (const auto& [skey, table] : tables_) {
      for (const auto& [k, v] : table) {
        auto md = v->find("metadata");
        if (md == v->end()) continue;
        auto refs = md->find("ownerReferences");
        if (refs == md->end() || !refs->is_array()) continue;
        for (const auto& ref : *refs) {
          if (ref.is_object() && ref.value("uid", "") == uid) {
            out.emplace_back(skey, k);
            break;
          }
        }
      }
    }
    return out;
  }

  void CollectDependents(const std::string& uid, Propagation prop) {
    for (const auto& [skey, k] : DependentsOf(uid)) {
      auto dep = FindLocked(skey, k);
      if (!dep) continue;
      // With another owner still present, only the dangling reference goes.
      bool other_owner = false;
      Json refs = Json::array();
      for (const auto& ref : (*dep)["metadata"]["ownerReferences"]) {
        if (ref.value("uid", "") == uid) continue;
        refs.push_back(ref);
        if (by_uid_.count(ref.value("uid", ""))) other_owner = true;
      }
      bool owner_alive = by_uid_.count(uid) > 0;
      if (other_owner && !owner_alive) {
        Json next = *dep;
        next["metadata"]["ownerReferences"] = refs;
        Commit(EventType::kModified, skey, k, std::move(next), dep);
        continue;
      }
      if (HasFinalizers(*dep) || prop == Propagation::kForeground) {
        if (!(*dep)["metadata"].contains("deletionTimestamp")) {
          Json next = *dep;
          next["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_->Now());
          next["metadata"]["deletionGracePeriodSeconds"] = 0;
          bool fg = prop == Propagation::kForeground && !DependentsOf(MetaString(*dep, "uid")).empty();
          if (fg && !HasFinalizer(next, "foregroundDeletion")) next["metadata"]["finalizers"].push_back("foregroundDeletion");
          auto stored = Commit(EventType::kModified, skey, k, std::move(next), dep);
          if (fg) CollectDependents(MetaString(*stored, "uid"), Propagation::kForeground);
          else if (!HasFinalizers(*stored)) Remove(skey, k, stored, Propagation::kBackground);
        }
        continue;
      }
      Remove(skey, k, dep, Propagation::kBackground);
    }
  }

  void OrphanDependents(const std::string& uid) {
    for (const auto& [skey, k] : DependentsOf(uid)) {
      auto dep = FindLocked(skey, k);
      if (!dep) continue;
      Json next = *dep;
      Json refs = Json::array();
      for (const auto& ref : next["metadata"]["ownerReferences"]) {
        if (ref.value("uid", "") != uid) refs.push_back(ref);
      }
      if (refs.empty()) next["metadata"].erase("ownerReferences");
      else next["metadata"]["ownerReferences"] = refs;
      Commit(EventType::kModified, skey, k, std::move(next), dep);
    }
  }

  void MaybeFinishForeground(const JsonPtr& owner, const std::string& skey, const std::string& key) {
    if (!(*owner)["metadata"].contains("deletionTimestamp") || !HasFinalizer(*owner, "foregroundDeletion")) return;
    if (!DependentsOf(MetaString(*owner, "uid")).empty()) return;
    Json next = *owner;
    Json fins = Json::array();
    for (const auto& f : next["metadata"]["finalizers"]) {
      if (f != "foregroundDeletion") fins.push_back(f);
    }
    if (fins.empty()) next["metadata"].erase("finalizers");
    else next["metadata"]["finalizers"] = fins;
    auto stored = Commit(EventType::kModified, skey, key, std::move(next), owner);
    if (!HasFinalizers(*stored)) Remove(skey, key, stored, Propagation::kBackground);
  }

  bool NamespaceEmpty(const std::string& ns) const {
    std::string prefix = ns + "/";
    for (const auto& [skey, table] : tables_) {
      auto it = table.lower_bound(prefix);
      if (it != table.end() && it->first.rfind(prefix, 0) == 0) return false;
    }
    return true;
  }

  void DeleteNamespaceContents(const std::string& ns) {
    std::string prefix = ns + "/";
    std::vector<std::pair<std::string, std::string>> victims;
    for (const auto& [skey, table] : tables_) {
      for (auto it = table.lower_bound(prefix); it != table.end() && it->first.rfind(prefix, 0) == 0; ++it) {
        victims.emplace_back(skey, it->first);
      }
    }
    for (const auto& [skey, k] : victims) {
      auto obj = FindLocked(skey, k);
      if (!obj) continue;
      if (HasFinalizers(*obj)) {
        if (!(*obj)["metadata"].contains("deletionTimestamp")) {
          Json next = *obj;
          next["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_->Now());
          next["metadata"]["deletionGracePeriodSeconds"] = 0;
          Commit(EventType::kModified, skey, k, std::move(next), obj);
        }
      } else {
        Remove(skey, k, obj, Propagation::kBackground);
      }
    }
  }

  // Stamps the next resourceVersion, stores (or removes), records history, logs to the WAL, and
  // fans the event out to watches and subscribers.
  JsonPtr Commit(EventType type, const std::string& skey, const std::string& key, Json obj, const JsonPtr& prev) {
    int64_t rv = ++rv_;
    obj["metadata"]["resourceVersion"] = std::to_string(rv);
    auto stored = std::make_shared<const Json>(std::move(obj));
    Table& table = tables_[skey];
    std::string uid = MetaString(*stored, "uid");
    if (type == EventType::kDeleted) {
      table.erase(key);
      by_uid_.erase(uid);
    } else {
      table[key] = stored;
      if (!uid.empty()) by_uid_[uid] = {skey, key};
    }
    history_.push_back(HistEntry{type, rv, skey, stored, prev});
    TrimHistory();
    AppendWal(type, rv, skey, *stored);
    // Fan out to watches of this storage key; drop closed ones as we go.
    for (size_t i = 0; i < watches_.size();) {
      auto w = watches_[i].lock();
      if (!w || w->closed()) {
        watches_[i] = watches_.back();
        watches_.pop_back();
        continue;
      }
      if (w->storage_key() == skey) w->Offer(type, rv, stored, prev);
      ++i;
    }
    {
      std::lock_guard<std::mutex> dl(dmu_);
      if (!listeners_.empty()) {
        dqueue_.push_back(Dispatch{ChangeEvent{type, rv, StorageGvr(skey), stored}, -1, enqueued_});
        ++enqueued_;
      }
    }
    dcv_.notify_all();
    published_->store(rv, std::memory_order_release);
    return stored;
  }

  void TrimHistory() {
    while (history_.size() > history_max_) {
      history_floor_ = history_.front().rv;
      history_.pop_front();
    }
  }

  void DispatchLoop() {
    std::unique_lock<std::mutex> dl(dmu_);
    for (;;) {
      dcv_.wait(dl, [&] { return stop_dispatch_ || !dqueue_.empty(); });
      if (stop_dispatch_) return;
      Dispatch d = std::move(dqueue_.front());
      dqueue_.pop_front();
      std::vector<std::shared_ptr<Listener>> targets;
      if (d.target >= 0) {
        auto it = listeners_.find(d.target);
        if (it != listeners_.end()) targets.push_back(it->second);
      } else {
        for (auto& [id, l] : listeners_) {
          if (d.seq >= l->min_seq) targets.push_back(l);
        }
      }
      dl.unlock();
      for (auto& l : targets) l->fn(d.event);
      dl.lock();
      ++delivered_;
      dcv_.notify_all();
    }
  }

  // ---- persistence ----
  void AppendWal(EventType type, int64_t rv, const std::string& skey, const Json& obj) {
    if (!wal_) return;
    Json line = {{"rv", rv}, {"t", type == EventType::kDeleted ? "D" : "P"}, {"k", skey}, {"o", obj}};
    std::string s = line.dump();
    s += '\n';
    if (fwrite(s.data(), 1, s.size(), wal_) != s.size()) {
      log::Logger("sim.store").Error("write-ahead log write failed", {{"dir", data_dir_}});
    }
    fflush(wal_);
    if (++wal_entries_ >= kCompactEvery) {
      Status st = WriteSnapshotLocked();
      if (!st.ok()) log::Logger("sim.store").Error("snapshot failed", {{"error", st.ToString()}});
    }
  }

  Status WriteSnapshotLocked() {
    std::string tmp = data_dir_ + "/snapshot.json.tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (!f) return InternalError("cannot write " + tmp + ": " + strerror(errno));
    std::string header = Json({{"rv", rv_}, {"format", "prescient-sim/v1"}}).dump() + "\n";
    fwrite(header.data(), 1, header.size(), f);
    for (const auto& [skey, table] : tables_) {
      for (const auto& [k, v] : table) {
        std::string line = Json({{"k", skey}, {"o", *v}}).dump() + "\n";
        fwrite(line.data(), 1, line.size(), f);
      }
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    fclose(f);
    if (!ok) return InternalError("cannot write " + tmp + ": " + strerror(errno));
    if (rename(tmp.c_str(), (data_dir_ + "/snapshot.json").c_str()) != 0) {
      return InternalError("cannot rename " + tmp + ": " + strerror(errno));
    }
    if (wal_) fclose(wal_);
    wal_ = fopen((data_dir_ + "/wal.log").c_str(), "w");
    if (!wal_) return InternalError("cannot open " + data_dir_ + "/wal.log: " + strerror(errno));
    wal_entries_ = 0;
    return Status::Ok();
  }

  Status Load() {
    std::error_code ec;
    fs::create_directories(data_dir_, ec);
    if (ec) return InvalidArgument("cannot create data dir " + data_dir_ + ": " + ec.message());
    std::lock_guard<std::mutex> l(mu_);
    std::string snap = data_dir_ + "/snapshot.json";
    std::ifstream in(snap);
    std::string line;
    int lineno = 0;
    if (in) {
      while (std::getline(in, line)) {
        ++lineno;
        auto j = Json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          return InvalidArgument(snap + ":" + std::to_string(lineno) + ": not a JSON object (corrupt snapshot)");
        }
        if (lineno == 1) {
          rv_ = j.value("rv", int64_t{0});
          continue;
        }
        LoadObject(j.value("k", ""), std::make_shared<const Json>(std::move(j["o"])));
      }
    }
    std::string walp = data_dir_ + "/wal.log";
    std::ifstream win(walp);
    lineno = 0;
    int64_t replayed = 0;
    while (win && std::getline(win, line)) {
      ++lineno;
      auto j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        if (win.peek() == EOF) break;  // a torn final write from a crash
        return InvalidArgument(walp + ":" + std::to_string(lineno) + ": not a JSON object (corrupt log)");
      }
      int64_t rv = j.value("rv", int64_t{0});
      if (rv <= rv_) continue;
      rv_ = rv;
      std::string skey = j.value("k", "");
      auto obj = std::make_shared<const Json>(std::move(j["o"]));
      if (j.value("t", "") == "D") {
        std::string key = ObjKey(MetaString(*obj, "namespace"), MetaString(*obj, "name"));
        tables_[skey].erase(key);
        by_uid_.erase(MetaString(*obj, "uid"));
      } else {
        LoadObject(skey, obj);
      }
      ++replayed;
    }
    auto t = tables_.find("apiextensions.k8s.io/customresourcedefinitions");
    if (t != tables_.end()) {
      for (const auto& [k, v] : t->second) RegisterCrd(*v);
    }
    published_->store(rv_);
    log::Logger("sim.store").Info("loaded state", {{"dir", data_dir_}, {"resourceVersion", rv_}, {"walEntries", replayed}});
    if (replayed == 0 && in.is_open()) {
      // A clean shutdown left the snapshot current: append to the (empty) log instead of rewriting it.
      wal_ = fopen(walp.c_str(), "a");
      if (!wal_) return InternalError("cannot open " + walp + ": " + strerror(errno));
      return Status::Ok();
    }
    return WriteSnapshotLocked();
  }

  void LoadObject(const std::string& skey, JsonPtr obj) {
    std::string key = ObjKey(MetaString(*obj, "namespace"), MetaString(*obj, "name"));
    std::string uid = MetaString(*obj, "uid");
    if (!uid.empty()) by_uid_[uid] = {skey, key};
    tables_[skey][key] = std::move(obj);
  }

  static constexpr int64_t kCompactEvery = 200'000;

  Clock* clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Table> tables_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> by_uid_;
  std::vector<ResourceInfo> builtin_;
  std::map<std::string, std::vector<ResourceInfo>> crd_resources_;  // by CRD name
  std::map<std::string, std::string> crd_storage_version_;          // storage key -> version
  std::map<std::string, std::shared_ptr<const ResourceInfo>> resources_;
  std::atomic<int64_t> resources_gen_{0};
  int64_t rv_ = 0;
  std::deque<HistEntry> history_;
  size_t history_max_;
  int64_t history_floor_ = 0;
  std::vector<std::weak_ptr<WatchImpl>> watches_;
  std::vector<AdmissionHook> hooks_;
  std::string data_dir_;
  FILE* wal_ = nullptr;
  int64_t wal_entries_ = 0;
  std::mt19937_64 rng_;
  std::shared_ptr<std::atomic<int64_t>> published_;

  std::mutex dmu_;
  std::condition_variable dcv_;
  std::deque<Dispatch> dqueue_;
  std::map<int, std::shared_ptr<Listener>> listeners_;
  int next_sub_id_ = 1;
  uint64_t enqueued_ = 0;
  uint64_t delivered_ = 0;
  bool stop_dispatch_ = false;
  std::thread dispatcher_;
};

}  // namespace

const char* const kInconsistentContinueMessage =
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show up in the list.";

std::string InconsistentContinueToken(std::string_view expired_token) {
  auto tok = StoreImpl::DecodeContinue(std::string(expired_token));
  if (!tok.ok()) return "";
  return StoreImpl::EncodeContinue(tok->key, -1);
}


Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto s = std::make_unique<StoreImpl>(options);
  Status st = s->Init();
  if (!st.ok()) return st;
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace prescient::sim
