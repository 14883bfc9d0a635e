#include "placement/reservation.h"

#include <fnmatch.h>

#include <algorithm>
#include <regex>
#include <tuple>

namespace prescient::placement {

bool GlobMatches(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

ReservationMatch MatchReservation(const api::ResourceReservation& r, const api::CommandRun& run, api::Time now) {
  ReservationMatch m;
  auto no = [&](const char* reason, std::string message) {
    m.reason = reason;
    m.message = "reservation " + r.metadata.name + ": " + std::move(message);
    return m;
  };
  if (r.metadata.ns != run.metadata.ns) return no("ReservationNotFound", "is in another namespace");
  if (r.status.phase == api::ReservationPhase::kExpired || r.status.phase == api::ReservationPhase::kFailed)
    return no("ReservationInactive", std::string("is ") + api::ReservationPhaseName(r.status.phase));
  if (r.spec.window) {
    if (r.spec.window->start && now < *r.spec.window->start) return no("ReservationNotActive", "its window has not started");
    if (r.spec.window->end && now >= *r.spec.window->end) return no("ReservationNotActive", "its window has ended");
  }
  if (!r.spec.users.empty()) {
    const std::string user = run.spec.user.value_or("");
    if (std::find(r.spec.users.begin(), r.spec.users.end(), user) == r.spec.users.end())
      return no("ReservationUserMismatch", user.empty() ? "names users and the run has no spec.user"
                                                        : "does not list user \"" + user + "\"");
  }
  if (r.spec.command_pattern) {
    const std::string line = run.spec.CommandLine();
    bool match = false;
    if (r.spec.command_pattern_syntax == api::PatternSyntax::kGlob) {
      match = GlobMatches(*r.spec.command_pattern, line);
    } else {
      try {
        match = std::regex_match(line, std::regex(*r.spec.command_pattern, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        return no("ReservationInvalid", "its commandPattern is not a valid regular expression");
      }
    }
    if (!match) return no("ReservationCommandMismatch", "the command does not match commandPattern \"" +
                                                            *r.spec.command_pattern + "\"");
  }
  m.ok = true;
  return m;
}

ReservationChoice ChooseReservation(const api::CommandRun& run, const std::vector<api::ResourceReservation>& reservations,
                                    api::Time now) {
  ReservationChoice c;
  if (run.spec.reservation_name) {
    for (const auto& r : reservations) {
      if (r.metadata.ns != run.metadata.ns || r.metadata.name != *run.spec.reservation_name) continue;
      ReservationMatch m = MatchReservation(r, run, now);
      if (!m.ok) {
        c.error_reason = m.reason;
        c.error_message = m.message;
        return c;
      }
      c.reservation = r.Key();
      return c;
    }
    c.error_reason = "ReservationNotFound";
    c.error_message = "reservation " + *run.spec.reservation_name + " does not exist in namespace " + run.metadata.ns;
    return c;
  }
  // No name: only reservations that select runs (by users or pattern) pick them up on their own.
  const api::ResourceReservation* best = nullptr;
  for (const auto& r : reservations) {
    if (r.spec.users.empty() && !r.spec.command_pattern) continue;
    if (r.status.phase != api::ReservationPhase::kBound) continue;
    if (!MatchReservation(r, run, now).ok) continue;
    if (best == nullptr || std::make_tuple(-r.spec.priority.value_or(0), r.metadata.name) <
                               std::make_tuple(-best->spec.priority.value_or(0), best->metadata.name))
      best = &r;
  }
  if (best != nullptr) c.reservation = best->Key();
  return c;
}

}  // namespace prescient::placement
