#include "kube/informer.h"

#include <random>
#include <unordered_set>

#include "common/log.h"
#include "kube/timed_wait.h"

namespace prescient::kube {
namespace {

std::string ResourceVersionOf(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto rv = m->find("resourceVersion");
  if (rv == m->end() || !rv->is_string()) return "";
  return rv->get<std::string>();
}

}  // namespace

Informer::Informer(Client* client, ResourceType type, InformerOptions options)
    : client_(client),
      type_(std::move(type)),
      opts_(std::move(options)),
      clock_(opts_.clock ? opts_.clock : &SystemClock()) {}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandlers(EventHandlers handlers) {
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  if (synced_.load() && handlers.on_add) {
    for (const auto& obj : store_.List()) handlers.on_add(obj);
  }
  handlers_.push_back(std::move(handlers));
}

void Informer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return synced_.load() || stopping_; });
  return synced_.load();
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

Informer::Stats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool Informer::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !WaitUntil(clock_, lock, cv_, clock_->Monotonic() + d, [&] { return stopping_; });
}

ObjectPtr Informer::Prepare(Json&& obj) {
  if (opts_.transform) opts_.transform(&obj);
  return std::make_shared<const Json>(std::move(obj));
}

ObjectPtr Informer::ForStore(const ObjectPtr& obj) const {
  if (!opts_.store_metadata_only) return obj;
  Json slim = Json::object();
  for (const char* f : {"apiVersion", "kind"}) {
    if (auto it = obj->find(f); it != obj->end()) slim[f] = *it;
  }
  if (auto m = obj->find("metadata"); m != obj->end() && m->is_object()) {
    Json& meta = slim["metadata"] = Json::object();
    for (const char* f : {"namespace", "name", "uid", "resourceVersion"}) {
      if (auto it = m->find(f); it != m->end()) meta[f] = *it;
    }
  }
  return std::make_shared<const Json>(std::move(slim));
}

Status Informer::ListAndReplace(const std::string& resource_version) {
  ListOptions lo;
  lo.label_selector = opts_.label_selector;
  lo.field_selector = opts_.field_selector;
  lo.resource_version = resource_version;
  lo.limit = opts_.page_size;
  auto list = ListAll(*client_, type_, opts_.ns, lo);
  if (!list.ok()) return list.status();
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  std::unordered_set<std::string> seen;
  seen.reserve(list->items.size());
  for (auto& item : list->items) {
    ObjectPtr obj = Prepare(std::move(item));
    std::string key = ObjectKey(*obj);
    seen.insert(key);
    ObjectPtr old = store_.Upsert(key, ForStore(obj));
    if (!old) {
      for (auto& h : handlers_) {
        if (h.on_add) h.on_add(obj);
      }
    } else if (ResourceVersionOf(*old) != ResourceVersionOf(*obj)) {
      for (auto& h : handlers_) {
        if (h.on_update) h.on_update(old, obj);
      }
    }
  }
  for (const auto& key : store_.ListKeys()) {
    if (seen.count(key)) continue;
    ObjectPtr old = store_.Remove(key);
    for (auto& h : handlers_) {
      if (h.on_delete && old) h.on_delete(old);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    rv_ = list->resource_version;
    ++stats_.lists;
    synced_.store(true);
    cv_.notify_all();
  }
  return Status::Ok();
}

void Informer::Apply(WatchEvent&& ev) {
  if (ev.type == EventType::kError) return;  // the watch call returns it as its status
  std::string rv = ResourceVersionOf(ev.object);
  if (ev.type == EventType::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) rv_ = rv;
    return;
  }
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  ObjectPtr obj = Prepare(std::move(ev.object));
  const std::string key = ObjectKey(*obj);
  const bool deleted = ev.type == EventType::kDeleted;
  ObjectPtr old = deleted ? store_.Remove(key) : store_.Upsert(key, ForStore(obj));
  // The event is applied once the cache has it: a handler (or anyone it wakes) that then reads
  // LastResourceVersion() sees this event's version, never an older one.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) rv_ = std::move(rv);
    ++stats_.events;
  }
  for (auto& h : handlers_) {
    if (deleted) {
      if (h.on_delete) h.on_delete(obj);
    } else if (old) {
      if (h.on_update) h.on_update(old, obj);
    } else if (h.on_add) {
      h.on_add(obj);
    }
  }
}

void Informer::Run() {
  log::Logger logger("kube.informer", {{"resource", type_.GroupResource()}, {"namespace", opts_.ns}});
  Backoff backoff(opts_.backoff);
  std::mt19937_64 rng(std::random_device{}());
  bool need_list = true;
  std::string list_rv = "0";  // the first list may be served from the watch cache
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (need_list) {
      Status st = ListAndReplace(list_rv);
      if (!st.ok()) {
        if (cancel_.cancelled()) return;
        if (st.code() == Code::kExpired) list_rv.clear();
        auto d = backoff.Next();
        logger.Warn("list failed; retrying", {{"error", st.ToString()}, {"retry_in_ms", d.count()}});
        if (!Sleep(d)) return;
        continue;
      }
      need_list = false;
    }
    ListOptions wo;
    wo.label_selector = opts_.label_selector;
    wo.field_selector = opts_.field_selector;
    wo.allow_watch_bookmarks = true;
    std::uniform_int_distribution<int64_t> timeout(opts_.min_watch_timeout.count(),
                                                   std::max(opts_.min_watch_timeout, opts_.max_watch_timeout).count());
    wo.timeout_seconds = static_cast<int>(timeout(rng));
    {
      std::lock_guard<std::mutex> lock(mu_);
      wo.resource_version = rv_;
      ++stats_.watches;
    }
    uint64_t delivered = 0;
    auto started = clock_->Monotonic();
    Status st = client_->Watch(type_, opts_.ns, wo, [&](WatchEvent&& ev) {
      if (ev.type != EventType::kError) ++delivered;
      Apply(std::move(ev));
      return true;
    }, &cancel_);
    if (cancel_.cancelled()) return;
    if (st.ok()) {
      // A clean end (timeoutSeconds, or the server closing): watch again at once, unless the server
      // keeps closing empty watches immediately, which would spin.
      if (delivered > 0 || clock_->Monotonic() - started >= std::chrono::seconds(1)) {
        backoff.Reset();
        continue;
      }
      if (!Sleep(backoff.Next())) return;
      continue;
    }
    if (st.code() == Code::kExpired) {
      logger.Info("watch resourceVersion expired; relisting", {{"resourceVersion", wo.resource_version}});
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.expired;
      need_list = true;
      list_rv.clear();  // a consistent list: the cached "0" may be older than what we saw
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.watch_errors;
    }
    if (delivered > 0) backoff.Reset();
    auto d = backoff.Next();
    logger.Warn("watch failed; reconnecting", {{"error", st.ToString()}, {"retry_in_ms", d.count()}});
    if (!Sleep(d)) return;
  }
}

}  // namespace prescient::kube
