// Strategy kinds: pure decisions from a view of the market, balances and time to swap intents
// (DESIGN.md s.1 "Strategy::on_tick"). No I/O, no clock of their own: the bot fills the view.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/router.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter::strategies {

/// The strategy kinds of the strategy file.
enum class strategy_kind { convert, threshold, rebalance, twap };
std::string_view to_string(strategy_kind kind);
std::optional<strategy_kind> parse_strategy_kind(std::string_view name);

/// What every kind shares: the pair, the providers it may use and its price protection.
struct strategy_common {
  std::string name;
  strategy_kind kind = strategy_kind::convert;
  bool enabled = true;
  std::string from;                    ///< spend asset
  std::string to;                      ///< receive asset
  std::vector<std::string> providers;  ///< empty = every provider
  /// Least net rate (`to` per `from`) accepted; the intent's min_receive is amount * it. A
  /// rebalance's sell of `to` back into `from` pays at most this price: min_receive amount / it.
  std::optional<decimal> min_rate;
  /// Most slippage accepted from the quoted net, in percent: min_receive = net * (1 - it/100).
  std::optional<decimal> max_slippage_percent;
  /// Each intent's deadline, from its creation.
  std::chrono::milliseconds deadline{60000};
  /// When the bot stops (SIGINT/SIGTERM or the end of --duration), the legs of this strategy's
  /// open intents are asked to cancel where their provider can cancel, instead of only being
  /// tracked to their end.
  bool cancel_on_stop = false;
};

/// `convert`: spend `amount` of `from` once, or every `interval`.
struct convert_config {
  decimal amount;
  std::optional<std::chrono::milliseconds> interval;
};

/// `threshold`: spend `amount` when the best net rate is at least `rate_at_least` (or at most
/// `rate_at_most`), then wait `cooldown`.
struct threshold_config {
  decimal amount;
  std::optional<decimal> rate_at_least;
  std::optional<decimal> rate_at_most;
  std::chrono::milliseconds cooldown{60000};
};

/// `rebalance`: keep the balance of `to` on `provider` (or in total over every provider when
/// unset) within [min, max]: below min, buy back up to `target` spending `from`; above max, sell
/// the surplus down to `target` into `from`. Each swap spends at most `max_spend` and what is held
/// of the asset spent (on `provider`, where its swaps then go).
struct rebalance_config {
  std::optional<std::string> provider;
  decimal min;
  decimal max;
  std::optional<decimal> target;  ///< default: the middle of the band
  decimal max_spend;              ///< in the asset spent, per swap
};

/// `twap`: spend `total` in `slices` equal parts evenly over `period`, each routed on its own; what
/// a slice did not spend is spread over the slices left.
struct twap_config {
  decimal total;
  int slices = 1;
  std::chrono::milliseconds period{60000};
};

/// One strategy of the file.
struct strategy_config {
  strategy_common common;
  convert_config convert;
  threshold_config threshold;
  rebalance_config rebalance;
  twap_config twap;
};

/// What a strategy wants priced before it decides: the best plan for spending `amount`.
struct probe {
  std::string spend_asset;
  std::string receive_asset;
  decimal amount;
  std::vector<std::string> providers;
};

/// The best plan found for a probe (ok = false when no route).
struct probe_answer {
  probe asked;
  bool ok = false;
  decimal net;        ///< expected net receive
  decimal worst_net;  ///< worst case
  decimal rate;       ///< net / amount
};

/// A held balance: `provider` empty means nothing (totals are summed by the strategy).
struct balance_entry {
  std::string provider;
  std::string asset;
  decimal available;
};

/// What a strategy sees at a tick.
struct market_view {
  wall_time now{};
  std::vector<probe_answer> quotes;
  std::vector<balance_entry> balances;
  /// When `balances` were read (the read's start); unset when none were.
  std::optional<wall_time> balances_at;

  /// The answer for a probe of this pair and amount, or nullptr.
  const probe_answer* find(std::string_view spend, std::string_view receive, decimal amount) const;
  /// The balance of `asset` on `provider`, or over every provider when `provider` is empty.
  decimal balance(std::string_view asset, std::string_view provider = {}) const;
};

/// A strategy instance: asks for probes, then decides on the answers. At most one intent of a
/// strategy is in flight: after on_tick answers an intent, it answers nothing until settled().
/// Not thread-safe.
class strategy {
 public:
  virtual ~strategy() = default;

  const strategy_common& common() const noexcept { return common_; }
  const std::string& name() const noexcept { return common_.name; }
  strategy_kind kind() const noexcept { return common_.kind; }

  /// What to price at `now` (empty: nothing to decide now).
  virtual std::vector<probe> probes(wall_time now, const market_view& balances) const = 0;
  /// The decision at a tick: an intent to execute, or nothing (last_reason() says why).
  virtual std::optional<swap_intent> on_tick(const market_view& view) = 0;
  /// The intent answered last has ended; `executed` when it reached a provider (filled or not),
  /// false when risk or planning refused it before anything was sent. `spent`: what it spent as
  /// the providers settled it, when that is known (nullopt: unknown, count it all as spent).
  virtual void settled(bool executed, wall_time now, std::optional<decimal> spent = std::nullopt);

  bool in_flight() const noexcept { return in_flight_; }
  /// The provider whose balances the strategy reads (rebalance on one provider), else empty.
  virtual std::string_view watched_provider() const { return {}; }
  /// Why the last tick answered what it did, for the log ("rate 3985 below minimum 3990").
  const std::string& last_reason() const noexcept { return reason_; }

 protected:
  explicit strategy(strategy_common common) : common_(std::move(common)) {}
  /// An intent spending `amount` priced by `answer`, or nothing when the answer breaks the
  /// strategy's minimum rate (the reason is recorded).
  std::optional<swap_intent> make_intent(const probe_answer& answer, wall_time now,
                                         std::string why);
  probe make_probe(decimal amount) const;
  void set_reason(std::string reason) { reason_ = std::move(reason); }

  strategy_common common_;
  bool in_flight_ = false;
  std::string reason_;
};

/// Makes the strategy a configuration describes.
std::unique_ptr<strategy> make_strategy(const strategy_config& config);

}  // namespace swaprouter::strategies
