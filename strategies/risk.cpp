#include "strategies/risk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <utility>

namespace swaprouter::strategies {

risk_guard::risk_guard(risk_config config, file_exists_fn file_exists, halt_fn on_halt)
    : config_(std::move(config)),
      file_exists_(std::move(file_exists)),
      on_halt_(std::move(on_halt)) {
  if (!file_exists_) {
    file_exists_ = [](const std::string& path) {
      std::error_code ec;
      return std::filesystem::exists(path, ec);
    };
  }
}

bool risk_guard::kill_switch_on() const {
  return config_.kill_switch && file_exists_(*config_.kill_switch);
}

void risk_guard::roll_day(wall_time now) {
  const auto day = std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
  if (day != day_) {
    day_ = day;
    day_spent_.clear();
  }
}

std::vector<provider_spend> spend_of(const plan& p) {
  std::vector<provider_spend> out;
  for (const auto& route : p.routes) {
    for (const auto& leg : route.legs) {
      out.push_back(provider_spend{leg.order.provider, leg.order.spend_asset, leg.order.amount});
    }
  }
  return out;
}

decimal intent_spend(const swap_intent& intent, const std::vector<provider_spend>& spend) {
  if (intent.side == amount_side::spend) return intent.amount;
  decimal out;
  for (const auto& s : spend) {
    if (s.asset == intent.spend_asset) out += s.amount;
  }
  return out;
}

risk_decision risk_guard::admit(const swap_intent& intent, wall_time now) {
  if (halted_) return {false, "halted: " + halt_reason_};
  if (kill_switch_on()) {
    // Reported once per time it is switched on, not at every refused intent.
    if (!kill_reported_ && on_halt_) on_halt_("kill switch " + *config_.kill_switch + " exists");
    kill_reported_ = true;
    return {false, "kill switch " + *config_.kill_switch + " exists"};
  }
  kill_reported_ = false;
  if (static_cast<int>(unknown_.size()) >= config_.max_unknown_legs) {
    halt(halt_signals::unknown_legs,
         fmt::format("{} unknown legs (max {})", unknown_.size(), config_.max_unknown_legs), now);
    return {false, "halted: " + halt_reason_};
  }
  // An exact-receive intent's amount is what it receives: its spend is checked on its plan.
  if (intent.side != amount_side::spend) return {};
  return check_caps(intent.spend_asset, intent.amount, now);
}

risk_decision risk_guard::admit_spend(const swap_intent& intent,
                                      const std::vector<provider_spend>& spend, wall_time now) {
  if (intent.side == amount_side::spend) return {};
  return check_caps(intent.spend_asset, intent_spend(intent, spend), now);
}

risk_decision risk_guard::check_caps(const std::string& asset, decimal amount, wall_time now) {
  if (auto cap = config_.max_per_swap.find(asset);
      cap != config_.max_per_swap.end() && amount > cap->second) {
    return {false, fmt::format("{} {} above the per-swap cap {}", amount.to_string(), asset,
                               cap->second.to_string())};
  }
  roll_day(now);
  if (auto cap = config_.max_per_day.find(asset); cap != config_.max_per_day.end()) {
    // An amount near decimal's range overflows the sum: above any cap, refused (not thrown).
    const std::optional<decimal> after = spent_today(asset).try_add(amount);
    if (!after || *after > cap->second) {
      return {false,
              fmt::format("{} {} would bring today's spend to {}, above the daily cap {}",
                          amount.to_string(), asset, after ? after->to_string() : "beyond range",
                          cap->second.to_string())};
    }
  }
  return {};
}

risk_decision risk_guard::admit_plan(std::string_view, const std::vector<provider_spend>& spend) {
  std::map<std::pair<std::string, std::string>, decimal> added;
  for (const auto& s : spend) added[{s.provider, s.asset}] += s.amount;
  for (const auto& [key, amount] : added) {
    auto p = config_.provider_exposure.find(key.first);
    if (p == config_.provider_exposure.end()) continue;
    auto cap = p->second.find(key.second);
    if (cap == p->second.end()) continue;
    const std::optional<decimal> after = exposure(key.first, key.second).try_add(amount);
    if (!after || *after > cap->second) {
      return {false, fmt::format("{} exposure would reach {} {}, above its cap {}", key.first,
                                 after ? after->to_string() : "beyond range", key.second,
                                 cap->second.to_string())};
    }
  }
  return {};
}

risk_decision risk_guard::admit_remainder(std::string_view intent_id,
                                          const std::vector<provider_spend>& spend) {
  if (halted_) return {false, "halted: " + halt_reason_};
  if (kill_switch_on()) return {false, "kill switch " + *config_.kill_switch + " exists"};
  risk_decision d = admit_plan(intent_id, spend);
  if (!d.allowed) return d;
  if (auto it = open_.find(intent_id); it != open_.end()) {
    it->second.spend.insert(it->second.spend.end(), spend.begin(), spend.end());
  }
  return d;
}

void risk_guard::opened(std::string_view intent_id, const swap_intent& intent,
                        const std::vector<provider_spend>& spend, wall_time now) {
  roll_day(now);
  const decimal amount = intent_spend(intent, spend);
  day_spent_[intent.spend_asset] += amount;
  open_[std::string(intent_id)] = open_intent{spend, intent.spend_asset, amount, day_};
}

void risk_guard::closed(std::string_view intent_id, std::optional<decimal> spent) {
  auto it = open_.find(intent_id);
  if (it == open_.end()) return;
  // The day's spend is what was spent: the part of the amount an intent did not spend (rejected,
  // expired, partly filled) is given back to the day it was counted in, and what it paid beyond
  // the amount (a fee charged in the spend asset, on top: KIIEX) is added to it.
  const open_intent& o = it->second;
  if (spent && o.day == day_) {
    auto& today = day_spent_[o.asset];
    if (*spent < o.amount) {
      today = std::max(today - (o.amount - std::max(*spent, decimal{})), decimal{});
    } else {
      // Near decimal's range the sum cannot grow: today's spend is already beyond every cap.
      today = today.try_add(*spent - o.amount).value_or(today);
    }
  }
  open_.erase(it);
}

std::uint64_t risk_guard::burst::add(wall_time now, std::uint64_t count,
                                     std::chrono::milliseconds window) {
  if (count > 0) {
    entries.emplace_back(now, count);
    total += count;
  }
  while (!entries.empty() && now - entries.front().first > window) {
    total -= entries.front().second;
    entries.pop_front();
  }
  return total;
}

void risk_guard::unknown_outcome(std::string_view client, wall_time now) {
  unknown_[std::string(client)] = true;
  const auto within = unknown_times_.add(now, 1, config_.unknown_window);
  if (!halted_ && within >= static_cast<std::uint64_t>(config_.unknown_burst)) {
    halt(halt_signals::unknown_outcomes,
         fmt::format("{} unknown outcomes within {}s", within,
                     config_.unknown_window.count() / 1000),
         now);
  }
}

void risk_guard::quote_expired(std::string_view client, wall_time now) {
  const auto within = expired_times_.add(now, 1, config_.expired_window);
  if (!halted_ && within >= static_cast<std::uint64_t>(config_.expired_burst)) {
    halt(halt_signals::expired_quotes,
         fmt::format("{} legs expired before executing within {}s (last: leg {})", within,
                     config_.expired_window.count() / 1000, client),
         now);
  }
}

void risk_guard::rate_limited(std::string_view provider, std::uint64_t count, wall_time now) {
  if (count > 0) last_rate_limited_ = std::string(provider);
  const auto within = rate_limited_times_.add(now, count, config_.rate_limited_window);
  if (!halted_ && count > 0 && within >= static_cast<std::uint64_t>(config_.rate_limited_burst)) {
    halt(halt_signals::rate_limited,
         fmt::format("{} HTTP 429 answers within {}s (last from {})", within,
                     config_.rate_limited_window.count() / 1000, last_rate_limited_),
         now);
  }
}

void risk_guard::clock_offset(std::string_view provider, std::chrono::milliseconds offset,
                              wall_time now) {
  auto it = clock_offsets_.find(provider);
  if (it == clock_offsets_.end()) {
    clock_offsets_.emplace(std::string(provider), offset);
    return;
  }
  const auto before = it->second;
  it->second = offset;
  const auto jump = offset > before ? offset - before : before - offset;
  if (!halted_ && jump > config_.max_clock_jump) {
    halt(halt_signals::clock_jump,
         fmt::format("{} clock offset jumped from {} ms to {} ms (max change {} ms)", provider,
                     before.count(), offset.count(), config_.max_clock_jump.count()),
         now);
  }
}

void risk_guard::circuit(std::string_view provider, circuit_state state, wall_time now) {
  if (state == circuit_state::closed) {
    if (auto it = circuit_not_closed_since_.find(provider); it != circuit_not_closed_since_.end()) {
      circuit_not_closed_since_.erase(it);
    }
    return;
  }
  auto [it, added] = circuit_not_closed_since_.try_emplace(std::string(provider), now);
  const auto open_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second);
  if (!added && !halted_ && open_for > config_.max_circuit_open) {
    halt(halt_signals::circuit_open,
         fmt::format("{} circuit {} for {}s (max {}s)", provider, to_string(state),
                     open_for.count() / 1000, config_.max_circuit_open.count() / 1000),
         now);
  }
}

void risk_guard::unknown_resolved(std::string_view client) {
  if (auto it = unknown_.find(client); it != unknown_.end()) unknown_.erase(it);
}

void risk_guard::halt(std::string reason) {
  halt(halt_signals::operator_request, std::move(reason), std::chrono::system_clock::now());
}

void risk_guard::halt(std::string_view signal, std::string reason, wall_time now) {
  if (halted_) return;
  halted_ = true;
  halt_reason_ = std::move(reason);
  halt_signal_ = std::string(signal);
  halted_at_ = now;
  if (on_halt_) on_halt_(halt_reason_);
}

void risk_guard::resume() {
  halted_ = false;
  halt_reason_.clear();
  halt_signal_.clear();
  halted_at_.reset();
  unknown_times_.clear();
  expired_times_.clear();
  rate_limited_times_.clear();
  // A circuit still open is timed afresh from its next reading.
  circuit_not_closed_since_.clear();
}

decimal risk_guard::spent_today(std::string_view asset) const {
  auto it = day_spent_.find(asset);
  return it == day_spent_.end() ? decimal{} : it->second;
}

decimal risk_guard::exposure(std::string_view provider, std::string_view asset) const {
  decimal total;
  for (const auto& [id, o] : open_) {
    for (const auto& s : o.spend) {
      if (s.provider == provider && s.asset == asset) total += s.amount;
    }
  }
  return total;
}

}  // namespace swaprouter::strategies
