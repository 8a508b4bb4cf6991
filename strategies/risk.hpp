// Risk limits between the strategies and the executor: caps, exposure, unknown legs, the kill
// switch and automatic halts on reliability signals (issue 8 "Risk"). Pure logic with an injected
// file check; the signals arrive with their time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/circuit_breaker.hpp"
#include "engine/decimal.hpp"
#include "engine/router.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter::strategies {

/// The `risk:` section of the strategy file.
struct risk_config {
  std::map<std::string, decimal, std::less<>> max_per_swap;  ///< by spend asset
  std::map<std::string, decimal, std::less<>> max_per_day;   ///< by spend asset, UTC day
  /// provider -> asset -> most of that asset spent in intents still open there.
  std::map<std::string, std::map<std::string, decimal, std::less<>>, std::less<>> provider_exposure;
  int max_unknown_legs = 3;
  /// While this file exists no new intent is admitted; tracking goes on.
  std::optional<std::string> kill_switch;
  /// This many unknown outcomes within unknown_window halt the bot until resumed.
  int unknown_burst = 3;
  std::chrono::milliseconds unknown_window{60000};
  /// This many expired legs (a quote's validity ran out before the provider executed it) within
  /// expired_window halt the bot.
  int expired_burst = 5;
  std::chrono::milliseconds expired_window{60000};
  /// This many HTTP 429 answers, all providers together, within rate_limited_window halt the bot.
  int rate_limited_burst = 20;
  std::chrono::milliseconds rate_limited_window{60000};
  /// A provider's clock offset estimate moving by more than this between two readings halts.
  std::chrono::milliseconds max_clock_jump{2000};
  /// A provider's circuit staying out of closed (open or half-open) longer than this halts.
  std::chrono::milliseconds max_circuit_open{120000};
};

/// Names of what halted the bot, as `risk_guard::halt_signal()` and the metrics label show them.
namespace halt_signals {
inline constexpr std::string_view operator_request = "operator";
inline constexpr std::string_view unknown_outcomes = "unknown_outcomes";
inline constexpr std::string_view unknown_legs = "unknown_legs";
inline constexpr std::string_view expired_quotes = "expired_quotes";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view clock_jump = "clock_jump";
inline constexpr std::string_view circuit_open = "circuit_open";
/// Every signal, in a fixed order (metrics export one series each).
inline constexpr std::string_view all[] = {operator_request, unknown_outcomes, unknown_legs,
                                           expired_quotes,   rate_limited,     clock_jump,
                                           circuit_open};
}  // namespace halt_signals

/// Whether an intent may go ahead, and if not why.
struct risk_decision {
  bool allowed = true;
  std::string reason;
};

/// The planned spend of an intent on one provider.
struct provider_spend {
  std::string provider;
  std::string asset;
  decimal amount;
};

/// What a plan puts at each provider: every leg's spend, a multi-hop route's later legs (the
/// middle asset, at their provider) included. Pure.
std::vector<provider_spend> spend_of(const plan& p);

/// What `intent` spends of its spend asset, as the per-swap and daily caps count it: its amount on
/// the spend side; for an exact-receive intent (its amount is what it receives) what `spend`
/// (spend_of its plan) puts of the spend asset, i.e. its routes' first legs, as a route never
/// comes back to an asset. Pure.
decimal intent_spend(const swap_intent& intent, const std::vector<provider_spend>& spend);

/// Applies a risk_config to intents. A halt (explicit, or automatic on a reliability signal: a
/// burst of unknown outcomes, too many unknown legs, a burst of expired legs or of 429s, a
/// clock-offset jump, a circuit open too long) refuses every intent until resume(); the kill
/// switch refuses while its file exists. Every halt is reported once through on_halt with its
/// reason, and keeps its signal name and time. Not thread-safe.
class risk_guard {
 public:
  using file_exists_fn = std::function<bool(const std::string& path)>;
  using halt_fn = std::function<void(std::string_view reason)>;

  explicit risk_guard(risk_config config, file_exists_fn file_exists = {}, halt_fn on_halt = {});

  /// Before planning: halt, kill switch, unknown legs, and the per-swap and per-day caps on a
  /// spend-side intent's amount (an exact-receive intent's spend is known from its plan only:
  /// admit_spend).
  risk_decision admit(const swap_intent& intent, wall_time now);
  /// After planning: the per-swap and per-day caps on what an exact-receive intent's plan spends
  /// (intent_spend); a spend-side intent is admitted (admit() checked its amount).
  risk_decision admit_spend(const swap_intent& intent, const std::vector<provider_spend>& spend,
                            wall_time now);
  /// After planning: the provider exposure the plan would add.
  risk_decision admit_plan(std::string_view intent_id, const std::vector<provider_spend>& spend);
  /// A remainder of open intent `intent_id` re-planned by the executor: refused while halted or
  /// while the kill switch is on, and where `spend` would take a provider past its exposure cap;
  /// admitted, it counts against the exposure until the intent closes. The day's spend already
  /// holds the whole intent.
  risk_decision admit_remainder(std::string_view intent_id,
                                const std::vector<provider_spend>& spend);
  /// The intent is being executed: its spend (intent_spend) counts against the day, `spend`
  /// against the exposure.
  void opened(std::string_view intent_id, const swap_intent& intent,
              const std::vector<provider_spend>& spend, wall_time now);
  /// The intent ended: its exposure is released. The day's spend keeps what it `spent` as the
  /// providers settled it (the whole amount when not known, or when it started another day).
  void closed(std::string_view intent_id, std::optional<decimal> spent = std::nullopt);
  /// A leg's outcome became unknown (or lost, frozen).
  void unknown_outcome(std::string_view client, wall_time now);
  /// A leg that was unknown reached a final state.
  void unknown_resolved(std::string_view client);
  /// A leg expired at its provider before it executed.
  void quote_expired(std::string_view client, wall_time now);
  /// `count` more HTTP 429 answers from `provider` (count 0 only ages the window).
  void rate_limited(std::string_view provider, std::uint64_t count, wall_time now);
  /// A reading of `provider`'s clock offset estimate (provider minus ours).
  void clock_offset(std::string_view provider, std::chrono::milliseconds offset, wall_time now);
  /// A reading of `provider`'s circuit state.
  void circuit(std::string_view provider, circuit_state state, wall_time now);

  /// An operator's halt (signal "operator") at the system clock's now.
  void halt(std::string reason);
  /// A halt by `signal` (one of halt_signals) at `now`; ignored while already halted.
  void halt(std::string_view signal, std::string reason, wall_time now);
  /// Clears the halt and the burst windows; a circuit still open gets a full period again.
  void resume();
  bool halted() const noexcept { return halted_; }
  const std::string& halt_reason() const noexcept { return halt_reason_; }
  /// What caused the current halt (one of halt_signals); empty unless halted.
  const std::string& halt_signal() const noexcept { return halt_signal_; }
  std::optional<wall_time> halted_at() const noexcept { return halted_at_; }
  const risk_config& config() const noexcept { return config_; }
  /// True while the kill switch file exists.
  bool kill_switch_on() const;
  std::size_t unknown_legs() const noexcept { return unknown_.size(); }
  decimal spent_today(std::string_view asset) const;
  decimal exposure(std::string_view provider, std::string_view asset) const;

 private:
  struct open_intent {
    std::vector<provider_spend> spend;
    std::string asset;  // counted in day_spent_ of `day`
    decimal amount;
    std::int64_t day = -1;
  };
  /// Counts within a sliding window.
  struct burst {
    std::deque<std::pair<wall_time, std::uint64_t>> entries;
    std::uint64_t total = 0;
    /// Adds `count` at `now`, forgets entries older than `window`; the total within it.
    std::uint64_t add(wall_time now, std::uint64_t count, std::chrono::milliseconds window);
    void clear() noexcept {
      entries.clear();
      total = 0;
    }
  };
  void roll_day(wall_time now);
  /// The per-swap and per-day caps on spending `amount` of `asset` today.
  risk_decision check_caps(const std::string& asset, decimal amount, wall_time now);

  risk_config config_;
  file_exists_fn file_exists_;
  halt_fn on_halt_;
  bool halted_ = false;
  std::string halt_reason_;
  std::string halt_signal_;
  std::optional<wall_time> halted_at_;
  bool kill_reported_ = false;
  std::int64_t day_ = -1;
  std::map<std::string, decimal, std::less<>> day_spent_;
  std::map<std::string, open_intent, std::less<>> open_;
  std::map<std::string, bool, std::less<>> unknown_;
  burst unknown_times_;
  burst expired_times_;
  burst rate_limited_times_;
  std::string last_rate_limited_;  // provider of the latest 429, for the halt reason
  std::map<std::string, std::chrono::milliseconds, std::less<>> clock_offsets_;
  std::map<std::string, wall_time, std::less<>> circuit_not_closed_since_;
};

}  // namespace swaprouter::strategies
