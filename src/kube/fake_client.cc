#include "kube/fake_client.h"

#include <cstdio>
#include <sstream>

#include "kube/timed_wait.h"

namespace prescient::kube {
namespace {

std::string TypeKey(const ResourceType& t) { return t.group + "/" + t.resource; }

std::string Key(const ResourceType& t, const std::string& ns, const std::string& name) {
  return t.namespaced ? ns + "/" + name : name;
}

std::string Meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

Status ApiError(Code code, int http, const char* reason, const std::string& message) {
  return Status(code, message).WithHttp(http, reason);
}

Status NotFound(const ResourceType& t, const std::string& name) {
  return ApiError(Code::kNotFound, 404, "NotFound", t.GroupResource() + " \"" + name + "\" not found");
}

Json WithoutMetaAndStatus(const Json& obj) {
  Json j = obj;
  j.erase("metadata");
  j.erase("status");
  return j;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitSelector(const std::string& sel) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : sel) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(Trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!Trim(cur).empty() || !parts.empty()) parts.push_back(Trim(cur));
  return parts;
}

bool FieldMatches(const std::string& selector, const Json& obj, Status* err) {
  for (const auto& part : SplitSelector(selector)) {
    if (part.empty()) continue;
    bool neg = false;
    std::string field, value;
    size_t p;
    if ((p = part.find("!=")) != std::string::npos) {
      neg = true;
      field = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 2));
    } else if ((p = part.find("==")) != std::string::npos) {
      field = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 2));
    } else if ((p = part.find('=')) != std::string::npos) {
      field = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 1));
    } else {
      *err = ApiError(Code::kInvalidArgument, 400, "BadRequest", "invalid field selector \"" + selector + "\"");
      return false;
    }
    std::string actual;
    if (field == "metadata.name") {
      actual = Meta(obj, "name");
    } else if (field == "metadata.namespace") {
      actual = Meta(obj, "namespace");
    } else {
      *err = ApiError(Code::kInvalidArgument, 400, "BadRequest",
                      "field label not supported: " + field);
      return false;
    }
    if ((actual == value) == neg) return false;
  }
  return true;
}

}  // namespace

Result<bool> MatchLabels(const std::string& selector, const Json& labels) {
  auto get = [&](const std::string& k) -> const Json* {
    if (!labels.is_object()) return nullptr;
    auto it = labels.find(k);
    return it == labels.end() ? nullptr : &*it;
  };
  auto bad = [&](const std::string& why) {
    return Status(Code::kInvalidArgument, "invalid label selector \"" + selector + "\": " + why).WithHttp(400, "BadRequest");
  };
  const auto parts = SplitSelector(selector);
  for (const auto& part : parts) {
    if (part.empty()) return bad("empty requirement");
  }
  for (const auto& part : parts) {
    size_t p;
    if (part[0] == '!') {
      if (get(Trim(part.substr(1)))) return false;
      continue;
    }
    auto set_op = [&](const std::string& op, bool in) -> Result<bool> {
      size_t at = part.find(op);
      std::string key = Trim(part.substr(0, at));
      std::string rest = Trim(part.substr(at + op.size()));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return bad("expected (values) after " + op);
      std::vector<std::string> values;
      std::stringstream ss(rest.substr(1, rest.size() - 2));
      std::string v;
      while (std::getline(ss, v, ',')) values.push_back(Trim(v));
      const Json* actual = get(key);
      bool found = false;
      if (actual && actual->is_string()) {
        for (const auto& x : values) found = found || x == actual->get<std::string>();
      }
      return in ? found : !found;
    };
    if (part.find(" notin ") != std::string::npos) {
      auto r = set_op(" notin ", false);
      if (!r.ok()) return r.status();
      if (!*r) return false;
      continue;
    }
    if (part.find(" in ") != std::string::npos) {
      auto r = set_op(" in ", true);
      if (!r.ok()) return r.status();
      if (!*r) return false;
      continue;
    }
    bool neg = false;
    std::string key, value;
    if ((p = part.find("!=")) != std::string::npos) {
      neg = true;
      key = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 2));
    } else if ((p = part.find("==")) != std::string::npos) {
      key = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 2));
    } else if ((p = part.find('=')) != std::string::npos) {
      key = Trim(part.substr(0, p));
      value = Trim(part.substr(p + 1));
    } else {
      if (part.find_first_of(" ()") != std::string::npos) return bad("cannot parse \"" + part + "\"");
      if (!get(part)) return false;
      continue;
    }
    if (key.empty()) return bad("empty key");
    const Json* actual = get(key);
    bool eq = actual && actual->is_string() && actual->get<std::string>() == value;
    if (eq == neg) return false;
  }
  return true;
}

FakeClient::FakeClient(Clock* clock, size_t history_size)
    : clock_(clock ? clock : &SystemClock()), history_size_(history_size) {}

FakeClient::~FakeClient() { CloseWatches(); }

void FakeClient::SetHook(Hook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
}

void FakeClient::FailNext(const std::string& verb, Status status, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < times; ++i) fail_next_[verb].push_back(status);
}

void FakeClient::SetRawHandler(
    std::function<Result<RawResponse>(const std::string&, const std::string&, const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  raw_handler_ = std::move(handler);
}

Status FakeClient::Before(const std::string& verb, const ResourceType& type, const std::string& ns,
                          const std::string& name) {
  Hook hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[verb];
    auto it = fail_next_.find(verb);
    if (it != fail_next_.end() && !it->second.empty()) {
      Status st = it->second.front();
      it->second.pop_front();
      return st;
    }
    hook = hook_;
  }
  return hook ? hook(verb, type, ns, name) : Status::Ok();
}

void FakeClient::RecordLocked(const std::string& type_key, EventType t, const Json& obj) {
  history_.push_back(HistoryEvent{type_key, t, obj, rv_});
  while (history_.size() > history_size_) {
    compacted_rv_ = history_.front().rv;
    history_.pop_front();
  }
  cv_.notify_all();
}

Result<Json> FakeClient::Get(const ResourceType& type, const std::string& ns, const std::string& name) {
  if (Status st = Before("get", type, ns, name); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  auto& objs = store_[TypeKey(type)].objects;
  auto it = objs.find(Key(type, ns, name));
  if (it == objs.end()) return NotFound(type, name);
  return it->second;
}

Result<ObjectList> FakeClient::List(const ResourceType& type, const std::string& ns, const ListOptions& opts) {
  if (Status st = Before("list", type, ns, ""); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  ObjectList out;
  out.resource_version = std::to_string(rv_);
  auto& objs = store_[TypeKey(type)].objects;
  auto it = opts.continue_token.empty() ? objs.begin() : objs.upper_bound(opts.continue_token);
  for (; it != objs.end(); ++it) {
    const Json& obj = it->second;
    if (type.namespaced && !ns.empty() && Meta(obj, "namespace") != ns) continue;
    if (!opts.label_selector.empty()) {
      Json labels = obj["metadata"].value("labels", Json::object());
      auto m = MatchLabels(opts.label_selector, labels);
      if (!m.ok()) return m.status();
      if (!*m) continue;
    }
    if (!opts.field_selector.empty()) {
      Status err;
      bool ok = FieldMatches(opts.field_selector, obj, &err);
      if (!err.ok()) return err;
      if (!ok) continue;
    }
    if (opts.limit > 0 && static_cast<int64_t>(out.items.size()) == opts.limit) {
      out.continue_token = std::prev(it)->first;
      break;
    }
    out.items.push_back(obj);
  }
  return out;
}

Result<Json> FakeClient::Create(const ResourceType& type, const Json& obj_in, const WriteOptions& opts) {
  std::string ns = Meta(obj_in, "namespace"), name = Meta(obj_in, "name");
  if (Status st = Before("create", type, ns, name); !st.ok()) return st;
  if (name.empty()) {
    return ApiError(Code::kInvalid, 422, "Invalid", type.GroupResource() + ": metadata.name: Required value");
  }
  if (type.namespaced && ns.empty()) {
    return ApiError(Code::kInvalid, 422, "Invalid", type.GroupResource() + ": metadata.namespace: Required value");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& objs = store_[TypeKey(type)].objects;
  std::string key = Key(type, ns, name);
  if (objs.count(key)) {
    return ApiError(Code::kAlreadyExists, 409, "AlreadyExists",
                    type.GroupResource() + " \"" + name + "\" already exists");
  }
  Json obj = obj_in;
  obj["apiVersion"] = type.ApiVersion();
  obj["kind"] = type.kind;
  if (!type.namespaced) obj["metadata"].erase("namespace");
  char uid[64];
  std::snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012lld", static_cast<long long>(++uid_counter_));
  obj["metadata"]["uid"] = uid;
  obj["metadata"]["creationTimestamp"] = FormatRfc3339(clock_->Now());
  obj["metadata"]["generation"] = 1;
  obj["metadata"].erase("deletionTimestamp");
  if (opts.dry_run) return obj;
  obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
  objs[key] = obj;
  RecordLocked(TypeKey(type), EventType::kAdded, obj);
  return obj;
}

Result<Json> FakeClient::PutLocked(const ResourceType& type, const Json& obj_in, bool status_only) {
  std::string ns = type.namespaced ? Meta(obj_in, "namespace") : "";
  std::string name = Meta(obj_in, "name");
  auto& objs = store_[TypeKey(type)].objects;
  std::string key = Key(type, ns, name);
  auto it = objs.find(key);
  if (it == objs.end()) return NotFound(type, name);
  Json& cur = it->second;
  std::string rv = Meta(obj_in, "resourceVersion");
  if (!rv.empty() && rv != Meta(cur, "resourceVersion")) {
    return ApiError(Code::kConflict, 409, "Conflict",
                    "Operation cannot be fulfilled on " + type.GroupResource() + " \"" + name +
                        "\": the object has been modified; please apply your changes to the latest version and try again");
  }
  Json next = cur;
  if (status_only) {
    if (obj_in.contains("status")) {
      next["status"] = obj_in["status"];
    } else {
      next.erase("status");
    }
  } else {
    Json keep_status = cur.contains("status") ? cur["status"] : Json();
    Json meta = cur["metadata"];
    // Writable metadata fields.
    for (const char* f : {"labels", "annotations", "finalizers", "ownerReferences"}) {
      if (obj_in.contains("metadata") && obj_in["metadata"].contains(f)) {
        meta[f] = obj_in["metadata"][f];
      } else {
        meta.erase(f);
      }
    }
    next = obj_in;
    next["metadata"] = meta;
    next["apiVersion"] = type.ApiVersion();
    next["kind"] = type.kind;
    if (keep_status.is_null()) {
      next.erase("status");
    } else {
      next["status"] = keep_status;
    }
    if (cur.contains("metadata") && cur["metadata"].contains("deletionTimestamp")) {
      auto& fin = next["metadata"]["finalizers"];
      auto& old_fin = cur["metadata"]["finalizers"];
      if (fin.is_array()) {
        for (const auto& f : fin) {
          bool existed = false;
          if (old_fin.is_array()) {
            for (const auto& o : old_fin) existed = existed || o == f;
          }
          if (!existed) {
            return ApiError(Code::kForbidden, 403, "Forbidden",
                            "no new finalizers can be added if the object is being deleted");
          }
        }
      }
    }
    if (WithoutMetaAndStatus(next) != WithoutMetaAndStatus(cur)) {
      next["metadata"]["generation"] = cur["metadata"].value("generation", 1) + 1;
    }
  }
  if (next == cur) return cur;  // a no-op write does not bump the resourceVersion
  next["metadata"]["resourceVersion"] = std::to_string(++rv_);
  bool deleting = next["metadata"].contains("deletionTimestamp");
  auto fin = next["metadata"].find("finalizers");
  if (deleting && (fin == next["metadata"].end() || !fin->is_array() || fin->empty())) {
    objs.erase(it);
    RecordLocked(TypeKey(type), EventType::kDeleted, next);
    return next;
  }
  cur = next;
  RecordLocked(TypeKey(type), EventType::kModified, cur);
  return cur;
}

Result<Json> FakeClient::Update(const ResourceType& type, const Json& obj, const WriteOptions&) {
  if (Status st = Before("update", type, Meta(obj, "namespace"), Meta(obj, "name")); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  return PutLocked(type, obj, false);
}

Result<Json> FakeClient::UpdateStatus(const ResourceType& type, const Json& obj, const WriteOptions&) {
  if (Status st = Before("updatestatus", type, Meta(obj, "namespace"), Meta(obj, "name")); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  return PutLocked(type, obj, true);
}

Result<Json> FakeClient::DeleteLocked(const ResourceType& type, const std::string& key, const DeleteOptions& opts) {
  auto& objs = store_[TypeKey(type)].objects;
  auto it = objs.find(key);
  std::string ns, name;
  SplitKey(key, &ns, &name);
  if (it == objs.end()) return NotFound(type, name);
  Json& cur = it->second;
  if (!opts.precondition_uid.empty() && opts.precondition_uid != Meta(cur, "uid")) {
    return ApiError(Code::kConflict, 409, "Conflict", "Precondition failed: UID in precondition: " +
                                                          opts.precondition_uid + ", UID in object meta: " + Meta(cur, "uid"));
  }
  if (!opts.precondition_resource_version.empty() &&
      opts.precondition_resource_version != Meta(cur, "resourceVersion")) {
    return ApiError(Code::kConflict, 409, "Conflict",
                    "Precondition failed: ResourceVersion in precondition: " + opts.precondition_resource_version +
                        ", ResourceVersion in object meta: " + Meta(cur, "resourceVersion"));
  }
  auto fin = cur["metadata"].find("finalizers");
  if (fin != cur["metadata"].end() && fin->is_array() && !fin->empty()) {
    if (!cur["metadata"].contains("deletionTimestamp")) {
      cur["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_->Now());
      cur["metadata"]["resourceVersion"] = std::to_string(++rv_);
      RecordLocked(TypeKey(type), EventType::kModified, cur);
    }
    return cur;
  }
  Json gone = cur;
  gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
  objs.erase(it);
  RecordLocked(TypeKey(type), EventType::kDeleted, gone);
  return gone;
}

Status FakeClient::Delete(const ResourceType& type, const std::string& ns, const std::string& name,
                          const DeleteOptions& opts) {
  if (Status st = Before("delete", type, ns, name); !st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  auto r = DeleteLocked(type, Key(type, ns, name), opts);
  return r.ok() ? Status::Ok() : r.status();
}

Result<Json> FakeClient::Patch(const ResourceType& type, const std::string& ns, const std::string& name, PatchType pt,
                               const Json& patch, const PatchOptions& opts) {
  if (Status st = Before("patch", type, ns, name); !st.ok()) return st;
  if (pt == PatchType::kApply && opts.field_manager.empty()) {
    return ApiError(Code::kInvalidArgument, 400, "BadRequest",
                    "PATCH " + type.GroupResource() + " \"" + name + "\": fieldManager is required for apply patch");
  }
  if (!opts.subresource.empty() && opts.subresource != "status") {
    return ApiError(Code::kNotFound, 404, "NotFound", "subresource " + opts.subresource + " not supported by FakeClient");
  }
  std::unique_lock<std::mutex> lock(mu_);
  auto& objs = store_[TypeKey(type)].objects;
  auto it = objs.find(Key(type, ns, name));
  if (it == objs.end()) {
    if (pt != PatchType::kApply) return NotFound(type, name);
    Json obj = patch;
    obj["metadata"]["name"] = name;
    if (type.namespaced) obj["metadata"]["namespace"] = ns;
    lock.unlock();
    return Create(type, obj);
  }
  Json next = it->second;
  if (pt == PatchType::kJson) {
    if (!patch.is_array()) {
      return ApiError(Code::kInvalidArgument, 400, "BadRequest", "JSON patch must be an array of operations");
    }
    try {
      next = next.patch(patch);
    } catch (const Json::exception& e) {
      std::string what = e.what();
      if (what.find("test") != std::string::npos) {
        return ApiError(Code::kConflict, 409, "Conflict", "JSON patch test operation failed: " + what);
      }
      return ApiError(Code::kInvalid, 422, "Invalid", "JSON patch cannot be applied: " + what);
    }
  } else {
    if (!patch.is_object()) return ApiError(Code::kInvalidArgument, 400, "BadRequest", "patch body must be an object");
    next.merge_patch(patch);
  }
  // A patch carrying metadata.resourceVersion is a precondition, like a PUT.
  if (patch.is_object() && patch.contains("metadata") && patch["metadata"].contains("resourceVersion")) {
    next["metadata"]["resourceVersion"] = patch["metadata"]["resourceVersion"];
  } else {
    next["metadata"]["resourceVersion"] = it->second["metadata"]["resourceVersion"];
  }
  return PutLocked(type, next, opts.subresource == "status");
}

Status FakeClient::Watch(const ResourceType& type, const std::string& ns, const ListOptions& opts,
                         const WatchHandler& on_event, Cancellation* cancel) {
  // A CloseWatches() from the moment the call starts ends it, as a server dropping connections drops
  // one still being opened. (Reading the generation later let a watch that passed Before() just before
  // a test blocked watches and closed them stay open.)
  uint64_t close_gen_at_start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    close_gen_at_start = close_generation_;
  }
  if (Status st = Before("watch", type, ns, ""); !st.ok()) return st;
  const std::string tk = TypeKey(type);
  auto matches = [&](const Json& obj, Status* err) {
    if (type.namespaced && !ns.empty() && Meta(obj, "namespace") != ns) return false;
    if (!opts.label_selector.empty()) {
      Json labels = obj.contains("metadata") ? obj["metadata"].value("labels", Json::object()) : Json::object();
      auto m = MatchLabels(opts.label_selector, labels);
      if (!m.ok()) {
        *err = m.status();
        return false;
      }
      if (!*m) return false;
    }
    if (!opts.field_selector.empty() && !FieldMatches(opts.field_selector, obj, err)) return false;
    return true;
  };
  std::unique_lock<std::mutex> lock(mu_);
  int reg = 0;
  if (cancel) {
    lock.unlock();
    reg = cancel->Register([this] {
      std::lock_guard<std::mutex> l(mu_);
      cv_.notify_all();
    });
    lock.lock();
  }
  struct Cleanup {
    Cancellation* c;
    int id;
    std::unique_lock<std::mutex>* lock;
    ~Cleanup() {
      if (c) {
        bool held = lock->owns_lock();
        if (held) lock->unlock();
        c->Unregister(id);
        if (held) lock->lock();
      }
    }
  } cleanup{cancel, reg, &lock};
  ++open_watches_;
  struct Count {
    size_t* n;
    ~Count() { --*n; }
  } count{&open_watches_};

  std::vector<WatchEvent> initial;
  int64_t from = 0;
  // The history no longer holds everything after `from`: 410 Expired, as an ERROR event, then returned.
  auto expired = [&] {
    Json st = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"reason", "Expired"},
               {"code", 410}, {"message", "too old resource version: " + std::to_string(from) + " (" +
                                              std::to_string(compacted_rv_) + ")"}};
    WatchEvent ev{EventType::kError, st, Status(Code::kExpired, st["message"].get<std::string>()).WithHttp(410, "Expired")};
    Status err = ev.error;
    lock.unlock();
    on_event(std::move(ev));
    lock.lock();
    return err;
  };
  if (opts.resource_version.empty() || opts.resource_version == "0") {
    for (const auto& [k, obj] : store_[tk].objects) {
      Status err;
      if (matches(obj, &err)) initial.push_back(WatchEvent{EventType::kAdded, obj, Status()});
      if (!err.ok()) return err;
    }
    from = rv_;
  } else {
    from = std::atoll(opts.resource_version.c_str());
    if (from < compacted_rv_) return expired();
  }
  const uint64_t close_gen = close_gen_at_start;
  uint64_t bookmark_gen = bookmark_generation_;
  auto deadline = clock_->Monotonic() + std::chrono::seconds(opts.timeout_seconds > 0 ? opts.timeout_seconds : 1'000'000);
  for (auto& ev : initial) {
    lock.unlock();
    bool more = on_event(std::move(ev));
    lock.lock();
    if (!more) return Status::Ok();
  }
  for (;;) {
    // A watch that fell behind the history (CompactHistory, or more writes than it holds) has lost events.
    if (from < compacted_rv_) return expired();
    // Deliver history after `from`.
    std::vector<WatchEvent> batch;
    for (const auto& h : history_) {
      if (h.rv <= from) continue;
      from = h.rv;
      if (h.type_key != tk) continue;
      Status err;
      if (matches(h.object, &err)) batch.push_back(WatchEvent{h.type, h.object, Status()});
      if (!err.ok()) return err;
    }
    if (opts.allow_watch_bookmarks && bookmark_gen != bookmark_generation_) {
      bookmark_gen = bookmark_generation_;
      batch.push_back(WatchEvent{EventType::kBookmark,
                                 Json{{"kind", type.kind},
                                      {"apiVersion", type.ApiVersion()},
                                      {"metadata", {{"resourceVersion", std::to_string(rv_)}}}},
                                 Status()});
      from = rv_;
    }
    for (auto& ev : batch) {
      lock.unlock();
      bool more = on_event(std::move(ev));
      lock.lock();
      if (!more) return Status::Ok();
    }
    if (cancel && cancel->cancelled()) return Status(Code::kCancelled, "watch cancelled");
    if (close_gen != close_generation_) return Status::Ok();
    // Wake for anything after what this watch has looked at (`from`, `bookmark_gen`), not after what
    // is current now: a write that landed while the lock was released to deliver the batch above
    // must not wait for the next write (that race lost the last event of a burst and timed out
    // informer tests).
    bool woke = WaitUntil(clock_, lock, cv_, deadline, [&] {
      return rv_ > from || (opts.allow_watch_bookmarks && bookmark_gen != bookmark_generation_) ||
             close_gen != close_generation_ || (cancel && cancel->cancelled());
    });
    if (!woke) return Status::Ok();  // timeoutSeconds passed
  }
}

Result<RawResponse> FakeClient::Raw(const std::string& method, const std::string& path, const std::string& body,
                                    const std::string&) {
  static const ResourceType kNone{};
  if (Status st = Before("raw", kNone, "", path); !st.ok()) return st;
  std::function<Result<RawResponse>(const std::string&, const std::string&, const std::string&)> h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    h = raw_handler_;
  }
  if (h) return h(method, path, body);
  return RawResponse{200, "{}", "application/json"};
}

void FakeClient::CloseWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++close_generation_;
  cv_.notify_all();
}

void FakeClient::CompactHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  history_.clear();
  compacted_rv_ = rv_;
}

void FakeClient::Bookmark() {
  std::lock_guard<std::mutex> lock(mu_);
  ++bookmark_generation_;
  cv_.notify_all();
}

int64_t FakeClient::CurrentResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

int FakeClient::Calls(const std::string& verb) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

size_t FakeClient::OpenWatches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_watches_;
}

}  // namespace prescient::kube
