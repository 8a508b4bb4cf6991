#include "strategies/strategy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace swaprouter::strategies {
namespace {

constexpr std::array<std::string_view, 4> kind_names{"convert", "threshold", "rebalance", "twap"};

// Rounded down: the minimum receive is value less it, so that minimum rounds up (never more
// slippage than configured).
decimal percent_of(decimal value, decimal percent) {
  return value.mul_div(percent, decimal::from_int(100), rounding::down).value_or(value);
}

class convert_strategy final : public strategy {
 public:
  convert_strategy(strategy_common common, convert_config config)
      : strategy(std::move(common)), config_(config) {}

  std::vector<probe> probes(wall_time now, const market_view&) const override {
    if (!due(now)) return {};
    return {make_probe(config_.amount)};
  }

  std::optional<swap_intent> on_tick(const market_view& view) override {
    if (!due(view.now)) {
      set_reason(done_ ? "done" : "waiting for the next interval");
      return std::nullopt;
    }
    const probe_answer* answer = view.find(common_.from, common_.to, config_.amount);
    if (answer == nullptr) {
      set_reason("no quote");
      return std::nullopt;
    }
    auto intent = make_intent(*answer, view.now, "convert " + config_.amount.to_string());
    if (intent) last_ = view.now;
    return intent;
  }

  void settled(bool executed, wall_time now, std::optional<decimal> spent) override {
    strategy::settled(executed, now, spent);
    if (!executed) {
      last_.reset();  // nothing was sent: try again at the next tick
    } else if (!config_.interval) {
      done_ = true;
    }
  }

 private:
  bool due(wall_time now) const {
    if (done_ || in_flight_) return false;
    if (!last_) return true;
    return config_.interval && now - *last_ >= *config_.interval;
  }

  convert_config config_;
  std::optional<wall_time> last_;
  bool done_ = false;
};

class threshold_strategy final : public strategy {
 public:
  threshold_strategy(strategy_common common, threshold_config config)
      : strategy(std::move(common)), config_(config) {}

  std::vector<probe> probes(wall_time now, const market_view&) const override {
    if (!ready(now)) return {};
    return {make_probe(config_.amount)};
  }

  std::optional<swap_intent> on_tick(const market_view& view) override {
    if (!ready(view.now)) {
      set_reason("cooling down");
      return std::nullopt;
    }
    const probe_answer* answer = view.find(common_.from, common_.to, config_.amount);
    if (answer == nullptr || !answer->ok) {
      set_reason("no quote");
      return std::nullopt;
    }
    if (config_.rate_at_least && answer->rate < *config_.rate_at_least) {
      set_reason(fmt::format("rate {} below the limit {}", answer->rate.to_string(),
                             config_.rate_at_least->to_string()));
      return std::nullopt;
    }
    if (config_.rate_at_most && answer->rate > *config_.rate_at_most) {
      set_reason(fmt::format("rate {} above the limit {}", answer->rate.to_string(),
                             config_.rate_at_most->to_string()));
      return std::nullopt;
    }
    auto intent = make_intent(*answer, view.now,
                              fmt::format("rate {} crossed the limit", answer->rate.to_string()));
    if (intent) last_ = view.now;
    return intent;
  }

  void settled(bool executed, wall_time now, std::optional<decimal> spent) override {
    strategy::settled(executed, now, spent);
    if (!executed) last_.reset();
  }

 private:
  bool ready(wall_time now) const {
    return !in_flight_ && (!last_ || now - *last_ >= config_.cooldown);
  }

  threshold_config config_;
  std::optional<wall_time> last_;
};

class rebalance_strategy final : public strategy {
 public:
  rebalance_strategy(strategy_common common, rebalance_config config)
      : strategy(std::move(common)), config_(config) {
    // A swap elsewhere would not move the balance kept on the provider: probes and intents stay
    // there.
    if (config_.provider) common_.providers = {*config_.provider};
    if (!config_.target) {
      config_.target = (config_.min + config_.max)
                           .div(decimal::from_int(2), rounding::down)
                           .value_or(config_.min);
    }
  }

  std::vector<probe> probes(wall_time, const market_view& view) const override {
    if (in_flight_ || stale(view)) return {};
    const decimal held = balance(view);
    if (held < config_.min) return {make_probe(config_.max_spend)};
    if (held > config_.max)
      return {sell_probe(std::min(held - *config_.target, config_.max_spend))};
    return {};
  }

  std::string_view watched_provider() const override {
    return config_.provider ? std::string_view(*config_.provider) : std::string_view();
  }

  std::optional<swap_intent> on_tick(const market_view& view) override {
    if (in_flight_) {
      set_reason("a swap is in flight");
      return std::nullopt;
    }
    if (stale(view)) {
      set_reason("balances read before its last swap settled: waiting for a fresh read");
      return std::nullopt;
    }
    const decimal held = balance(view);
    if (held >= config_.min && held <= config_.max) {
      set_reason(fmt::format("{} {} within [{}, {}]", held.to_string(), common_.to,
                             config_.min.to_string(), config_.max.to_string()));
      return std::nullopt;
    }
    if (held < config_.min) {
      const probe_answer* answer = view.find(common_.from, common_.to, config_.max_spend);
      if (answer == nullptr || !answer->ok || !answer->rate.is_positive()) {
        set_reason("no quote");
        return std::nullopt;
      }
      // Spend what buys the shortfall at the quoted rate, at most max_spend.
      const decimal shortfall = *config_.target - held;
      decimal spend = shortfall.div(answer->rate, rounding::up).value_or(config_.max_spend);
      // Six places: every provider's precision takes them, so the planner spends it all. Never
      // more than the source held where the swap goes.
      const decimal available =
          view.balance(common_.from, config_.provider.value_or("")).round(6, rounding::down);
      spend = std::min({spend.round(6, rounding::up), config_.max_spend, available});
      if (!spend.is_positive()) {
        set_reason(fmt::format("{} {} below {}: no {} to spend", held.to_string(), common_.to,
                               config_.min.to_string(), common_.from));
        return std::nullopt;
      }
      probe_answer sized = *answer;
      sized.asked.amount = spend;
      sized.net = spend.mul(answer->rate, rounding::down).value_or(decimal{});
      sized.worst_net =
          answer->worst_net.mul_div(spend, config_.max_spend, rounding::down).value_or(decimal{});
      return make_intent(sized, view.now,
                         fmt::format("{} {} below {}: buy {}", held.to_string(), common_.to,
                                     config_.min.to_string(), shortfall.to_string()));
    }
    const decimal surplus = std::min(held - *config_.target, config_.max_spend);
    const probe_answer* answer = view.find(common_.to, common_.from, surplus);
    if (answer == nullptr || !answer->ok) {
      set_reason("no quote");
      return std::nullopt;
    }
    auto intent = make_intent(*answer, view.now,
                              fmt::format("{} {} above {}: sell {}", held.to_string(), common_.to,
                                          config_.max.to_string(), surplus.to_string()));
    return intent;
  }

  void settled(bool executed, wall_time now, std::optional<decimal> spent) override {
    strategy::settled(executed, now, spent);
    if (executed) last_swap_ = now;
  }

 private:
  decimal balance(const market_view& view) const {
    return view.balance(common_.to, config_.provider.value_or(""));
  }
  // Balances read before the last swap settled do not show it: deciding on them would buy (or
  // sell) the same shortfall again.
  bool stale(const market_view& view) const {
    return last_swap_ && (!view.balances_at || *view.balances_at <= *last_swap_);
  }
  probe sell_probe(decimal amount) const {
    probe p{common_.to, common_.from, amount, common_.providers};
    return p;
  }

  rebalance_config config_;
  std::optional<wall_time> last_swap_;  // when its last executed intent settled
};

class twap_strategy final : public strategy {
 public:
  twap_strategy(strategy_common common, twap_config config)
      : strategy(std::move(common)), config_(config) {}

  std::vector<probe> probes(wall_time now, const market_view&) const override {
    if (!due(now)) return {};
    return {make_probe(slice_amount())};
  }

  std::optional<swap_intent> on_tick(const market_view& view) override {
    if (!start_) start_ = view.now;
    if (!due(view.now)) {
      set_reason(done() ? "every slice sent"
                        : fmt::format("slice {}/{} not due", sent_ + 1, config_.slices));
      return std::nullopt;
    }
    const decimal amount = slice_amount();
    const probe_answer* answer = view.find(common_.from, common_.to, amount);
    if (answer == nullptr) {
      set_reason("no quote");
      return std::nullopt;
    }
    auto intent = make_intent(
        *answer, view.now,
        fmt::format("slice {}/{} of {}", sent_ + 1, config_.slices, config_.total.to_string()));
    return intent;
  }

  void settled(bool executed, wall_time now, std::optional<decimal> spent) override {
    strategy::settled(executed, now, spent);
    if (!executed) return;
    // What a slice did not spend (rejected, expired, partly filled) is spread over the slices
    // left; an outcome not known counts as spent in full, so the total is never exceeded. The
    // slice in flight is the one slice_amount() still answers: nothing it reads moved meanwhile.
    const decimal slice = slice_amount();
    spent_ += spent ? std::min(*spent, slice) : slice;
    ++sent_;
  }

 private:
  // Slice k (0-based) is due at start + k * period / slices.
  bool due(wall_time now) const {
    if (in_flight_ || done()) return false;
    if (!start_) return true;
    return now - *start_ >= config_.period * sent_ / config_.slices;
  }
  // Every slice sent, or everything spent before the last (a total too small to split).
  bool done() const { return sent_ >= config_.slices || spent_ >= config_.total; }
  // What is left to spend, spread evenly over the slices left (six places, rounded down), the
  // last taking the rest: the total is spent exactly, and what a slice did not spend is made up
  // by every later slice, not by the next alone (which a per-swap cap might then refuse at every
  // tick).
  decimal slice_amount() const {
    const decimal left = config_.total - spent_;
    const int slices_left = config_.slices - sent_;
    if (slices_left <= 1) return left;
    const decimal part = left.div(decimal::from_int(slices_left), rounding::down)
                             .value_or(left)
                             .round(6, rounding::down);
    // Less than a millionth a slice: the whole rest at once rather than empty slices.
    return part.is_positive() ? part : left;
  }

  twap_config config_;
  decimal spent_;  // by the slices settled, as far as known
  std::optional<wall_time> start_;
  int sent_ = 0;
};

}  // namespace

std::string_view to_string(strategy_kind kind) {
  return kind_names[static_cast<std::size_t>(kind)];
}

std::optional<strategy_kind> parse_strategy_kind(std::string_view name) {
  for (std::size_t i = 0; i < kind_names.size(); ++i) {
    if (kind_names[i] == name) return static_cast<strategy_kind>(i);
  }
  return std::nullopt;
}

const probe_answer* market_view::find(std::string_view spend, std::string_view receive,
                                      decimal amount) const {
  for (const auto& q : quotes) {
    if (q.asked.spend_asset == spend && q.asked.receive_asset == receive &&
        q.asked.amount == amount) {
      return &q;
    }
  }
  return nullptr;
}

decimal market_view::balance(std::string_view asset, std::string_view provider) const {
  decimal total;
  for (const auto& b : balances) {
    if (b.asset == asset && (provider.empty() || b.provider == provider)) total += b.available;
  }
  return total;
}

void strategy::settled(bool, wall_time, std::optional<decimal>) { in_flight_ = false; }

probe strategy::make_probe(decimal amount) const {
  probe p{common_.from, common_.to, amount, common_.providers};
  return p;
}

std::optional<swap_intent> strategy::make_intent(const probe_answer& answer, wall_time now,
                                                 std::string why) {
  if (!answer.ok) {
    set_reason("no route");
    return std::nullopt;
  }
  const decimal amount = answer.asked.amount;
  decimal min_receive;
  if (common_.min_rate) {
    // min_rate is a price in `to` per `from`. A buy of `to` receives at least amount x it; a sell
    // of `to` back into `from` (a rebalance above its band) pays at most it, so receives at least
    // amount / it. Its own rate (`from` per `to`) never compares with it.
    const bool sell = answer.asked.spend_asset == common_.to;
    const auto least = sell ? amount.div(*common_.min_rate, rounding::up)
                            : amount.mul(*common_.min_rate, rounding::up);
    min_receive = least.value_or(decimal{});
    if (!least || answer.net < min_receive) {
      set_reason(sell ? fmt::format("{} {} for {} {}: a price above the limit of {} {} per {}",
                                    answer.net.to_string(), common_.from, amount.to_string(),
                                    common_.to, common_.min_rate->to_string(), common_.to,
                                    common_.from)
                      : fmt::format("rate {} below the minimum {}", answer.rate.to_string(),
                                    common_.min_rate->to_string()));
      return std::nullopt;
    }
  }
  if (common_.max_slippage_percent) {
    const decimal floor = answer.net - percent_of(answer.net, *common_.max_slippage_percent);
    min_receive = std::max(min_receive, floor);
  }
  swap_intent intent;
  intent.spend_asset = answer.asked.spend_asset;
  intent.receive_asset = answer.asked.receive_asset;
  intent.amount = amount;
  intent.min_receive = min_receive;
  intent.deadline = now + common_.deadline;
  intent.providers = common_.providers;
  in_flight_ = true;
  set_reason(std::move(why));
  return intent;
}

std::unique_ptr<strategy> make_strategy(const strategy_config& config) {
  switch (config.common.kind) {
    case strategy_kind::convert:
      return std::make_unique<convert_strategy>(config.common, config.convert);
    case strategy_kind::threshold:
      return std::make_unique<threshold_strategy>(config.common, config.threshold);
    case strategy_kind::rebalance:
      return std::make_unique<rebalance_strategy>(config.common, config.rebalance);
    case strategy_kind::twap:
      return std::make_unique<twap_strategy>(config.common, config.twap);
  }
  return nullptr;
}

}  // namespace swaprouter::strategies
