// Risk limits between the strategies and the executor: caps, exposure, unknown legs, the kill
// switch and automatic halts (issue 8 "Risk"). Pure logic with an injected file check.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
};

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

/// Applies a risk_config to intents. A halt (explicit, or automatic on an unknown-outcome burst or
/// too many unknown legs) refuses every intent until resume(); the kill switch refuses while its
/// file exists. Every halt is reported once through on_halt with its reason. Not thread-safe.
class risk_guard {
 public:
  using file_exists_fn = std::function<bool(const std::string& path)>;
  using halt_fn = std::function<void(std::string_view reason)>;

  explicit risk_guard(risk_config config, file_exists_fn file_exists = {}, halt_fn on_halt = {});

  /// Before planning: halt, kill switch, per-swap and per-day caps, unknown legs.
  risk_decision admit(const swap_intent& intent, wall_time now);
  /// After planning: the provider exposure the plan would add.
  risk_decision admit_plan(std::string_view intent_id, const std::vector<provider_spend>& spend);
  /// The intent is being executed: its spend counts against the day and the exposure.
  void opened(std::string_view intent_id, const swap_intent& intent,
              const std::vector<provider_spend>& spend, wall_time now);
  /// The intent ended: its exposure is released (the day's spend stays).
  void closed(std::string_view intent_id);
  /// A leg's outcome became unknown (or lost, frozen).
  void unknown_outcome(std::string_view client, wall_time now);
  /// A leg that was unknown reached a final state.
  void unknown_resolved(std::string_view client);

  void halt(std::string reason);
  void resume();
  bool halted() const noexcept { return halted_; }
  const std::string& halt_reason() const noexcept { return halt_reason_; }
  /// True while the kill switch file exists.
  bool kill_switch_on() const;
  std::size_t unknown_legs() const noexcept { return unknown_.size(); }
  decimal spent_today(std::string_view asset) const;
  decimal exposure(std::string_view provider, std::string_view asset) const;

 private:
  struct open_intent {
    std::vector<provider_spend> spend;
  };
  void roll_day(wall_time now);

  risk_config config_;
  file_exists_fn file_exists_;
  halt_fn on_halt_;
  bool halted_ = false;
  std::string halt_reason_;
  bool kill_reported_ = false;
  std::int64_t day_ = -1;
  std::map<std::string, decimal, std::less<>> day_spent_;
  std::map<std::string, open_intent, std::less<>> open_;
  std::map<std::string, bool, std::less<>> unknown_;
  std::deque<wall_time> unknown_times_;
};

}  // namespace swaprouter::strategies
