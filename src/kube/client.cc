#include "kube/client.h"

#include "kube/api_error.h"
#include "kube/json_parse.h"

namespace prescient::kube {

const char* PatchContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
    case EventType::kBookmark: return "BOOKMARK";
    case EventType::kError: return "ERROR";
  }
  return "UNKNOWN";
}

Result<WatchEvent> DecodeWatchEvent(std::string_view line) {
  Json j = ParseJson(line);
  if (!j.is_object()) {
    return InvalidArgument("watch stream: a line is not a JSON object: " + std::string(line.substr(0, 120)));
  }
  auto t = j.find("type");
  auto o = j.find("object");
  if (t == j.end() || !t->is_string() || o == j.end() || !o->is_object()) {
    return InvalidArgument("watch stream: event without type or object: " + std::string(line.substr(0, 120)));
  }
  const std::string& type = t->get_ref<const std::string&>();
  WatchEvent ev;
  if (type == "ADDED") {
    ev.type = EventType::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = EventType::kModified;
  } else if (type == "DELETED") {
    ev.type = EventType::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = EventType::kBookmark;
  } else if (type == "ERROR") {
    ev.type = EventType::kError;
  } else {
    return InvalidArgument("watch stream: unknown event type \"" + type + "\"");
  }
  ev.object = std::move(*o);
  if (ev.type == EventType::kError) ev.error = StatusFromObject(ev.object, "watch ERROR event");
  return ev;
}

void Cancellation::Cancel() {
  std::vector<std::pair<int, std::function<void()>>> run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    run.swap(callbacks_);
  }
  for (auto& [id, cb] : run) cb();
}

bool Cancellation::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

int Cancellation::Register(std::function<void()> callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cancelled_) {
      callbacks_.emplace_back(++next_id_, std::move(callback));
      return next_id_;
    }
  }
  callback();
  return 0;
}

void Cancellation::Unregister(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
    if (it->first == id) {
      callbacks_.erase(it);
      return;
    }
  }
}

Result<ObjectList> ListAll(Client& client, const ResourceType& type, const std::string& ns, ListOptions opts) {
  if (opts.limit <= 0) opts.limit = 500;
  ObjectList all;
  for (;;) {
    auto page = client.List(type, ns, opts);
    if (!page.ok()) return page.status();
    for (auto& item : page->items) all.items.push_back(std::move(item));
    // The first page's version: a real server serves every page from that snapshot, and with a
    // server that does not (pages read at later versions), watching from the first page's version
    // replays whatever changed meanwhile instead of missing it.
    if (all.resource_version.empty()) all.resource_version = page->resource_version;
    if (page->continue_token.empty()) break;
    opts.continue_token = page->continue_token;
    // The continue token carries the snapshot's resourceVersion; the server rejects both together.
    opts.resource_version.clear();
    opts.resource_version_match.clear();
  }
  return all;
}

std::string ObjectKey(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  std::string name, ns;
  if (auto it = m->find("name"); it != m->end() && it->is_string()) name = it->get<std::string>();
  if (auto it = m->find("namespace"); it != m->end() && it->is_string()) ns = it->get<std::string>();
  return ns.empty() ? name : ns + "/" + name;
}

void SplitKey(const std::string& key, std::string* ns, std::string* name) {
  auto slash = key.find('/');
  if (slash == std::string::npos) {
    ns->clear();
    *name = key;
  } else {
    *ns = key.substr(0, slash);
    *name = key.substr(slash + 1);
  }
}

}  // namespace prescient::kube
