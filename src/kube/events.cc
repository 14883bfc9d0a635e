#include "kube/events.h"

#include <cinttypes>
#include <cstdio>

#include "common/log.h"

namespace prescient::kube {
namespace {

std::string Meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

}  // namespace

ApiEventRecorder::ApiEventRecorder(Client* client, std::string component, Clock* clock, std::string host)
    : client_(client), component_(std::move(component)), clock_(clock ? clock : &SystemClock()), host_(std::move(host)) {}

void ApiEventRecorder::Record(const Json& object, const std::string& type, const std::string& reason,
                              const std::string& message) {
  const std::string ns = Meta(object, "namespace").empty() ? "default" : Meta(object, "namespace");
  const std::string name = Meta(object, "name");
  const std::string uid = Meta(object, "uid");
  const std::string kind = object.value("kind", "");
  const std::string now = FormatRfc3339(clock_->Now());
  const std::string dedup = kind + "\x1f" + ns + "\x1f" + name + "\x1f" + uid + "\x1f" + type + "\x1f" + reason + "\x1f" + message;
  log::Logger logger("kube.events", {{"namespace", ns}, {"name", name}});

  std::unique_lock<std::mutex> lock(mu_);
  auto it = seen_.find(dedup);
  if (it != seen_.end()) {
    Seen s = it->second;
    Json patch = {{"count", s.count + 1}, {"lastTimestamp", now}};
    lock.unlock();
    auto r = client_->Patch(resources::kEvent, s.ns, s.name, PatchType::kMerge, patch);
    lock.lock();
    if (r.ok()) {
      seen_[dedup].count = s.count + 1;
      return;
    }
    if (r.status().code() != Code::kNotFound) {
      logger.Warn("could not update event", {{"reason", reason}, {"error", r.status().ToString()}});
      return;
    }
    seen_.erase(dedup);  // the Event expired on the server: write a new one
  }
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%" PRIx64,
                static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          clock_->Now().time_since_epoch()).count()));
  std::string event_name = (name.empty() ? "object" : name) + suffix;
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", event_name}, {"namespace", ns}}},
             {"involvedObject",
              {{"apiVersion", object.value("apiVersion", "")},
               {"kind", kind},
               {"namespace", Meta(object, "namespace")},
               {"name", name},
               {"uid", uid},
               {"resourceVersion", Meta(object, "resourceVersion")}}},
             {"type", type},
             {"reason", reason},
             {"message", message},
             {"count", 1},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"source", {{"component", component_}}},
             {"reportingComponent", component_},
             {"reportingInstance", host_}};
  if (!host_.empty()) ev["source"]["host"] = host_;
  lock.unlock();
  auto r = client_->Create(resources::kEvent, ev);
  lock.lock();
  if (!r.ok()) {
    logger.Warn("could not write event", {{"reason", reason}, {"error", r.status().ToString()}});
    return;
  }
  seen_[dedup] = Seen{ns, event_name, 1};
}

void FakeEventRecorder::Record(const Json& object, const std::string& type, const std::string& reason,
                               const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = ObjectKey(object);
  std::string kind = object.value("kind", "");
  for (auto& e : events_) {
    if (e.object_key == key && e.kind == kind && e.type == type && e.reason == reason && e.message == message) {
      ++e.count;
      return;
    }
  }
  events_.push_back(RecordedEvent{key, kind, type, reason, message, 1});
}

std::vector<RecordedEvent> FakeEventRecorder::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

bool FakeEventRecorder::Has(const std::string& object_key, const std::string& reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : events_) {
    if (e.object_key == object_key && e.reason == reason) return true;
  }
  return false;
}

}  // namespace prescient::kube
