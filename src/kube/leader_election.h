// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a candidate takes the lease
// when it is free or has expired — judged by when *this* process last saw the record change (tolerant of
// clock skew between hosts), never by the timestamps in it — with a PUT carrying the observed
// resourceVersion, so of two racing candidates one gets 409 Conflict and loses. The leader renews every
// retry period; if it cannot renew within the renew deadline it stops leading. On Stop() a leader
// releases the lease (clears holderIdentity) so a successor need not wait for expiry.
// Thread-safe. Time comes from the injectable Clock (tests use FakeClock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "kube/client.h"

namespace prescient::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per process, e.g. "<hostname>_<random>"
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  Clock* clock = nullptr;  // nullptr = SystemClock()
  // Called on the elector's thread. on_stopped_leading runs when leadership is lost or released.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& leader)> on_new_leader;  // observed holder changed
  bool release_on_stop = true;
};

class LeaderElector {
 public:
  LeaderElector(Client* client, LeaderElectionConfig config);
  ~LeaderElector();  // Stop()s
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Runs the acquire/renew loop on a thread until Stop(). After losing the lease it campaigns again.
  void Start();
  // Stops campaigning; a leader calls on_stopped_leading and releases the lease.
  void Stop();

  bool IsLeader() const;
  std::string ObservedLeader() const;

  // One attempt to acquire or renew (what the loop calls every retry period). Public for tests.
  // Returns true when this candidate holds the lease afterwards.
  bool TryAcquireOrRenew();
  // Clears holderIdentity if this candidate holds the lease.
  Status Release();

 private:
  void Run();
  bool Sleep(std::chrono::milliseconds d);
  void SetLeading(bool leading);

  Client* client_;
  LeaderElectionConfig cfg_;
  Clock* clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool leading_ = false;
  Json observed_ = Json::object();  // last lease spec seen
  std::string observed_rv_;
  std::chrono::steady_clock::time_point observed_time_{};
  std::chrono::steady_clock::time_point last_renew_{};
  std::thread thread_;
};

}  // namespace prescient::kube
