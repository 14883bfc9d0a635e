// Kubernetes Events (core/v1) about objects, as `kubectl describe` shows them. Repeats of the same
// event (same object, type, reason and message) bump count and lastTimestamp on the existing Event
// instead of creating new ones. EventRecorder is the interface controllers take; ApiEventRecorder
// writes to the API, FakeEventRecorder records in memory for tests.
// Thread-safe. Recording never fails the caller: API errors are logged.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/client.h"

namespace prescient::kube {

inline constexpr char kEventNormal[] = "Normal";
inline constexpr char kEventWarning[] = "Warning";

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `object` is the involved object (its apiVersion, kind, metadata.{namespace,name,uid,resourceVersion}
  // are used). `reason` is CamelCase ("Allocated"), `message` a human sentence.
  virtual void Record(const Json& object, const std::string& type, const std::string& reason,
                      const std::string& message) = 0;
};

class ApiEventRecorder : public EventRecorder {
 public:
  // `component` is the event source ("prescient-operator"); `host` optional.
  ApiEventRecorder(Client* client, std::string component, Clock* clock = nullptr, std::string host = "");
  void Record(const Json& object, const std::string& type, const std::string& reason,
              const std::string& message) override;

 private:
  struct Seen {
    std::string ns, name;
    int count = 0;
  };
  Client* client_;
  std::string component_;
  Clock* clock_;
  std::string host_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // dedup key -> event written
};

struct RecordedEvent {
  std::string object_key;  // namespace/name of the involved object
  std::string kind;
  std::string type;
  std::string reason;
  std::string message;
  int count = 1;
};

class FakeEventRecorder : public EventRecorder {
 public:
  void Record(const Json& object, const std::string& type, const std::string& reason,
              const std::string& message) override;
  std::vector<RecordedEvent> Events() const;
  // True when an event with this reason was recorded for the object key.
  bool Has(const std::string& object_key, const std::string& reason) const;

 private:
  mutable std::mutex mu_;
  std::vector<RecordedEvent> events_;
};

}  // namespace prescient::kube
