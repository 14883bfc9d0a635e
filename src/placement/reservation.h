// Reservation matching: whether a CommandRun may draw on a ResourceReservation (same namespace,
// its user among the reservation's users, its command matching commandPattern, now inside the
// window, the reservation Bound), and which reservation a run draws on: the one it names, or else
// the highest-priority reservation whose users or commandPattern select it. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "api/types.h"

namespace prescient::placement {

struct ReservationMatch {
  bool ok = false;
  std::string reason;   // CamelCase, when not ok
  std::string message;  // what does not match
};

ReservationMatch MatchReservation(const api::ResourceReservation& reservation, const api::CommandRun& run,
                                  api::Time now);

// The shell glob of commandPattern (fnmatch without flags: `*` also crosses `/`), whole string.
bool GlobMatches(const std::string& pattern, const std::string& text);

struct ReservationChoice {
  std::string reservation;  // "ns/name"; "" when the run draws on none
  // Set when the run names a reservation it may not use (missing, not matching): the run gets a
  // False condition with this reason and is not placed.
  std::string error_reason;
  std::string error_message;
};

ReservationChoice ChooseReservation(const api::CommandRun& run, const std::vector<api::ResourceReservation>& reservations,
                                    api::Time now);

}  // namespace prescient::placement
