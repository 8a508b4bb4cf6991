// What the executor and the tracker share: the events they report, their tunables, the providers
// by name, and the journal-backed record of every leg change (DESIGN.md s.3 "Outcomes",
// "Durability", "Time-to-live"; FAULTS.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "engine/decimal.hpp"
#include "engine/journal.hpp"
#include "engine/router.hpp"
#include "engine/submit_watch.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

class quote_book;

/// One step of an execution, reported as it happens (one log line each). Phase changes, alarms
/// and settlements are journaled too; polling noise (poll errors, waits) is reported only.
struct execution_event {
  wall_time time{};
  std::string intent_id;
  client_id client;  ///< empty for intent-level events
  std::string kind;  ///< intent, phase, submit, find, poll_error, cancel, replan, settled, alarm
  std::string detail;
};

/// Receives every event on the engine thread; must not block.
using event_sink = std::function<void(const execution_event&)>;

/// Tunables of execution and tracking. Durations are on the steady clock.
struct execution_options {
  /// Status polling: the first wait, doubled per poll up to poll_max, each drawn within
  /// +- jitter_percent.
  std::chrono::milliseconds poll_initial{200};
  std::chrono::milliseconds poll_max{5000};
  int jitter_percent = 20;
  /// A leg the provider keeps answering "not found" for this long is lost: still polled, alarmed.
  std::chrono::milliseconds lost_after{30000};
  /// This many poll errors in a row raise one alarm (polling goes on).
  int poll_errors_alarm = 10;
  /// Tracking of a leg stops (with an alarm; restart reconciles it) this long after its deadline.
  std::chrono::milliseconds track_after_deadline{120000};
  /// After an unknown outcome: find() with this backoff until found or the grace window passes
  /// (after two lookups at least, however long the first took).
  std::chrono::milliseconds find_initial{250};
  std::chrono::milliseconds find_max{4000};
  std::chrono::milliseconds unknown_grace{10000};
  /// Resubmissions with the same client id after the grace window, deduplicating providers only,
  /// before the leg's deadline; over the leg's life (a restart counts those journaled before it).
  int max_resubmits = 1;
  /// Re-plans of unfilled remainders, within the intent's deadline.
  int max_replans = 3;
  /// A leg's time-to-live when the intent's deadline allows more.
  std::chrono::milliseconds leg_ttl{30000};
  /// A settlement further than this from the quote (percent of the quoted net) is alarmed.
  decimal settle_tolerance_percent = decimal::from_raw(decimal::from_int(1).raw() / 2);
  /// Fan-out deadline of each (re-)quote.
  std::chrono::milliseconds fanout{2000};
  planner_options planning;
  /// When set, (re-)quotes take directions from it and feed it, and every answered submit adds
  /// to its provider's execution latency (quote_and_plan). Must outlive the executor.
  quote_book* book = nullptr;
  std::uint64_t seed = 1;  ///< jitter draws
  /// Fault tests only (FAULTS.md 3-5): runs at each named point; crash_hook (submit_watch.hpp).
  crash_hook crash;
  /// With `crash`: armed around each venue::submit so a provider's watched HTTP client reports
  /// after_request_write and after_response_read at the create request's real moments. For a
  /// provider it does not watch both points are run when submit returns. Must outlive the
  /// executor.
  submit_watch* submits = nullptr;
  /// When set, asked about each re-planned remainder's plan before any of its legs is journaled;
  /// an answer is the reason it is refused (the remainder is left unplaced and alarmed). The bot
  /// checks its risk limits here: a remainder's new providers meet their exposure caps as the
  /// intent's first plan did.
  std::function<std::optional<std::string>(std::string_view intent_id, const plan& remainder)>
      admit_remainder;
  /// Dry-run mode (the venues are paper venues): every intent is journaled with dry_run set, and
  /// restart reconciles only intents of the same mode (a live run never asks a provider about a
  /// paper leg, nor a dry run about a real one).
  bool dry_run = false;
};

/// The providers by id. The venues must outlive every user of the directory.
class venue_directory {
 public:
  venue_directory() = default;
  explicit venue_directory(std::span<venue* const> venues);
  venue* find(std::string_view provider) const;
  std::span<venue* const> all() const { return all_; }

 private:
  std::vector<venue*> all_;
  std::map<std::string, venue*, std::less<>> by_id_;
};

/// The journal-backed record of leg changes and the event stream, shared by executor and tracker.
/// Every change is journaled before it is reported; a failed journal write is alarmed, marks the
/// log broken (no new submissions may start) and keeps the in-memory record going. Not
/// thread-safe: one engine thread.
class execution_log {
 public:
  execution_log(journal& j, event_sink sink, execution_options options);

  /// Sets `leg.phase` and journals the leg with `cause`; false when the journal refused it.
  bool set_phase(leg_record& leg, leg_phase phase, std::string_view cause);
  /// Journals the leg's other fields (provider_ref, status, fills) without a phase change.
  bool save(leg_record& leg, std::string_view cause);
  /// Journals and reports an alarm.
  void alarm(const leg_record& leg, std::string_view detail);
  void alarm(std::string_view intent_id, std::string_view detail);
  /// Journals and reports a notable fact of kind `kind`.
  void note(std::string_view intent_id, std::string_view client, std::string_view kind,
            std::string_view detail);
  /// Reports without journaling (polling noise).
  void report(std::string_view intent_id, std::string_view client, std::string_view kind,
              std::string_view detail);
  void set_intent_state(std::string_view intent_id, std::string_view state, std::string_view cause);

  /// Applies a provider's view of a leg: reference, raw status, phase (unrecognised stays open
  /// and is alarmed), fills; on a final state records the settlement (net received =
  /// receive_filled - fee_filled rounded down to `receive_precision`, the rule of every adapter)
  /// and alarms a partial fill or a settlement outside the tolerance of quoted_receive. A final
  /// phase never changes again (a later disagreeing answer is alarmed).
  void apply(leg_record& leg, const leg_status& status, int receive_precision);

  /// Runs the crash hook at `point`.
  void crash_point(std::string_view point) const;

  bool broken() const noexcept { return broken_; }
  journal& records() noexcept { return journal_; }
  const execution_options& options() const noexcept { return options_; }
  /// `base` within +- jitter_percent.
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);

 private:
  journal& journal_;
  event_sink sink_;
  execution_options options_;
  bool broken_ = false;
  std::mt19937_64 rng_;
};

/// The phase a provider state maps to.
leg_phase phase_of(leg_state state) noexcept;

/// Net received of a final status: receive_filled - fee_filled, rounded down to
/// `receive_precision` (001k reports the gross and the exact fee; the other adapters report the
/// net with a zero fee or the fee in the received asset).
decimal net_received(const leg_status& status, int receive_precision);

/// What the planner is asked for a journaled intent: its pair, side, amount, minimum and
/// deadline, over every provider.
swap_intent planner_intent(const intent_record& intent);

/// " (fee F ASSET included)" when the leg's spend includes a fee in its spend asset, else empty:
/// the settled event and `swaprouter journal` write it alike.
std::string spend_fee_included(const leg_record& leg);

}  // namespace swaprouter
