#include "strategies/risk.hpp"

#include <fmt/format.h>

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
    halt(fmt::format("{} unknown legs (max {})", unknown_.size(), config_.max_unknown_legs));
    return {false, "halted: " + halt_reason_};
  }
  const std::string& asset = intent.spend_asset;
  if (auto cap = config_.max_per_swap.find(asset);
      cap != config_.max_per_swap.end() && intent.amount > cap->second) {
    return {false, fmt::format("{} {} above the per-swap cap {}", intent.amount.to_string(), asset,
                               cap->second.to_string())};
  }
  roll_day(now);
  if (auto cap = config_.max_per_day.find(asset); cap != config_.max_per_day.end()) {
    const decimal after = spent_today(asset) + intent.amount;
    if (after > cap->second) {
      return {false, fmt::format("{} {} would bring today's spend to {}, above the daily cap {}",
                                 intent.amount.to_string(), asset, after.to_string(),
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
    const decimal after = exposure(key.first, key.second) + amount;
    if (after > cap->second) {
      return {false, fmt::format("{} exposure would reach {} {}, above its cap {}", key.first,
                                 after.to_string(), key.second, cap->second.to_string())};
    }
  }
  return {};
}

void risk_guard::opened(std::string_view intent_id, const swap_intent& intent,
                        const std::vector<provider_spend>& spend, wall_time now) {
  roll_day(now);
  day_spent_[intent.spend_asset] += intent.amount;
  open_[std::string(intent_id)] = open_intent{spend};
}

void risk_guard::closed(std::string_view intent_id) {
  if (auto it = open_.find(intent_id); it != open_.end()) open_.erase(it);
}

void risk_guard::unknown_outcome(std::string_view client, wall_time now) {
  unknown_[std::string(client)] = true;
  unknown_times_.push_back(now);
  while (!unknown_times_.empty() && now - unknown_times_.front() > config_.unknown_window) {
    unknown_times_.pop_front();
  }
  if (!halted_ && static_cast<int>(unknown_times_.size()) >= config_.unknown_burst) {
    halt(fmt::format("{} unknown outcomes within {}s", unknown_times_.size(),
                     config_.unknown_window.count() / 1000));
  }
}

void risk_guard::unknown_resolved(std::string_view client) {
  if (auto it = unknown_.find(client); it != unknown_.end()) unknown_.erase(it);
}

void risk_guard::halt(std::string reason) {
  if (halted_) return;
  halted_ = true;
  halt_reason_ = std::move(reason);
  if (on_halt_) on_halt_(halt_reason_);
}

void risk_guard::resume() {
  halted_ = false;
  halt_reason_.clear();
  unknown_times_.clear();
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
