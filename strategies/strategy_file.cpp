#include "strategies/strategy_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace swaprouter::strategies {
namespace {

using config::error_list;
using config::yaml_entry;
using config::yaml_reader;
using namespace std::chrono_literals;

constexpr auto max_duration = std::chrono::milliseconds(std::chrono::hours(24 * 366));

// The keys each kind takes besides the common ones.
const std::set<std::string_view>& kind_keys(strategy_kind kind) {
  static const std::set<std::string_view> convert{"amount", "interval"};
  static const std::set<std::string_view> threshold{"amount", "rate_at_least", "rate_at_most",
                                                    "cooldown"};
  static const std::set<std::string_view> rebalance{"provider", "min", "max", "target",
                                                    "max_spend"};
  static const std::set<std::string_view> twap{"total", "slices", "period"};
  switch (kind) {
    case strategy_kind::convert:
      return convert;
    case strategy_kind::threshold:
      return threshold;
    case strategy_kind::rebalance:
      return rebalance;
    case strategy_kind::twap:
      return twap;
  }
  return convert;
}

const std::set<std::string_view> common_keys{
    "kind",     "enabled",       "from", "to", "providers", "min_rate", "max_slippage_percent",
    "deadline", "cancel_on_stop"};

class sections_reader {
 public:
  sections_reader(const yaml_reader& r, error_list& errors, const config::engine_config& engine)
      : r_(r), errors_(errors), engine_(engine) {}

  std::vector<strategy_config> strategies(const yaml_entry& section) {
    std::vector<strategy_config> out;
    auto entries = r_.map_entries(
        section.value, yaml_reader::mark_of(section), section.path,
        [](std::string_view) { return true; }, &errors_);
    if (entries.empty()) r_.fail(section, "expected at least one strategy");
    for (const auto& e : entries) {
      errors_.attempt([&] { out.push_back(strategy(e)); });
    }
    return out;
  }

  risk_config risk(const yaml_entry& section) {
    risk_config out;
    for (const auto& e : r_.map_entries(section,
                                        {"max_per_swap", "max_per_day", "provider_exposure",
                                         "max_unknown_legs", "kill_switch", "halt_on_unknown",
                                         "halt_on_expired", "halt_on_429", "max_clock_jump",
                                         "max_circuit_open"},
                                        &errors_)) {
      errors_.attempt([&] {
        if (e.key == "max_per_swap") {
          out.max_per_swap = asset_amounts(e);
        } else if (e.key == "max_per_day") {
          out.max_per_day = asset_amounts(e);
        } else if (e.key == "provider_exposure") {
          for (const auto& p : r_.map_entries(
                   e.value, yaml_reader::mark_of(e), e.path, [](std::string_view) { return true; },
                   &errors_)) {
            errors_.attempt([&] {
              check_provider(yaml_reader::key_entry(p), p.key);
              out.provider_exposure[p.key] = asset_amounts(p);
            });
          }
        } else if (e.key == "max_unknown_legs") {
          // The guard halts once the count reaches it: 0 would halt at the first intent.
          out.max_unknown_legs = static_cast<int>(r_.integer(e, 1, 1000000));
        } else if (e.key == "kill_switch") {
          out.kill_switch = r_.non_empty_text(e);
        } else if (e.key == "halt_on_unknown") {
          burst(e, out.unknown_burst, out.unknown_window);
        } else if (e.key == "halt_on_expired") {
          burst(e, out.expired_burst, out.expired_window);
        } else if (e.key == "halt_on_429") {
          burst(e, out.rate_limited_burst, out.rate_limited_window);
        } else if (e.key == "max_clock_jump") {
          out.max_clock_jump = r_.duration(e, 1ms, max_duration);
        } else if (e.key == "max_circuit_open") {
          out.max_circuit_open = r_.duration(e, 1s, max_duration);
        }
      });
    }
    return out;
  }

 private:
  // {count: N, window: 60s}
  void burst(const yaml_entry& e, int& count, std::chrono::milliseconds& window) {
    for (const auto& h : r_.map_entries(e, {"count", "window"}, &errors_)) {
      errors_.attempt([&] {
        if (h.key == "count") count = static_cast<int>(r_.integer(h, 1, 1000000));
        if (h.key == "window") window = r_.duration(h, 1s, max_duration);
      });
    }
  }

  std::map<std::string, decimal, std::less<>> asset_amounts(const yaml_entry& e) {
    std::map<std::string, decimal, std::less<>> out;
    for (const auto& a : r_.map_entries(
             e.value, yaml_reader::mark_of(e), e.path, [](std::string_view) { return true; },
             &errors_)) {
      errors_.attempt([&] {
        asset(yaml_reader::key_entry(a), a.key);
        out[a.key] = r_.positive(a);
      });
    }
    return out;
  }

  std::string asset(const yaml_entry& e, std::string code) {
    if (!config::is_asset_code(code)) {
      r_.fail(e, "an asset code is 2 to 12 upper-case letters or digits, got '" + code + "'");
    }
    return code;
  }

  // With providers configured, a strategy may only name those; without (simulate), the
  // emulators are named after their kinds.
  void check_provider(const yaml_entry& e, const std::string& name) {
    if (!engine_.providers.empty()) {
      if (engine_.find_provider(name) == nullptr) {
        r_.fail(e, "unknown provider '" + name + "' (not under providers:)");
      }
      return;
    }
    if (!config::parse_provider_kind(name)) {
      r_.fail(e, "unknown provider '" + name + "' (onek, kiiex, stablestack or oxapay)");
    }
  }

  strategy_config strategy(const yaml_entry& s) {
    strategy_config out;
    out.common.name = s.key;
    if (!s.value.IsMap()) r_.fail(s, "expected a mapping with kind: and its keys");
    const YAML::Node kind_node = s.value["kind"];
    if (!kind_node) r_.fail(s, "missing required field kind (convert, threshold, rebalance, twap)");
    std::optional<strategy_kind> kind;
    const auto& all = kind_keys(strategy_kind::convert);
    (void)all;
    auto entries = r_.map_entries(
        s.value, yaml_reader::mark_of(s), s.path,
        [](std::string_view key) {
          if (common_keys.contains(key)) return true;
          for (auto k : {strategy_kind::convert, strategy_kind::threshold, strategy_kind::rebalance,
                         strategy_kind::twap}) {
            if (kind_keys(k).contains(key)) return true;
          }
          return false;
        },
        &errors_);
    for (const auto& e : entries) {
      if (e.key != "kind") continue;
      const std::string name = r_.text(e);
      kind = parse_strategy_kind(name);
      if (!kind) {
        r_.fail(e, "unknown strategy kind '" + name + "' (convert, threshold, rebalance, twap)");
      }
      out.common.kind = *kind;
    }
    std::set<std::string> seen;
    for (const auto& e : entries) {
      seen.insert(e.key);
      errors_.attempt([&] {
        if (!common_keys.contains(e.key) && !kind_keys(*kind).contains(e.key)) {
          r_.fail(yaml_reader::key_entry(e),
                  fmt::format("not a key of a {} strategy", to_string(*kind)));
        }
        field(e, out);
      });
    }
    auto require = [&](std::string_view key) {
      if (!seen.contains(std::string(key))) {
        errors_.add(r_.error_at(yaml_reader::mark_of(s), s.path,
                                fmt::format("missing required field {}", key)));
      }
    };
    require("from");
    require("to");
    switch (*kind) {
      case strategy_kind::convert:
      case strategy_kind::threshold:
        require("amount");
        break;
      case strategy_kind::rebalance:
        require("min");
        require("max");
        require("max_spend");
        break;
      case strategy_kind::twap:
        require("total");
        require("slices");
        require("period");
        break;
    }
    if (*kind == strategy_kind::threshold && !out.threshold.rate_at_least &&
        !out.threshold.rate_at_most) {
      errors_.add(r_.error_at(yaml_reader::mark_of(s), s.path,
                              "a threshold needs rate_at_least or rate_at_most"));
    }
    const auto& band = out.threshold;
    if (*kind == strategy_kind::threshold && band.rate_at_least && band.rate_at_most &&
        *band.rate_at_least > *band.rate_at_most) {
      // Both must hold to fire: such a threshold would never fire.
      errors_.add(r_.error_at(
          yaml_reader::mark_of(s), s.path,
          fmt::format("rate_at_least {} is above rate_at_most {}: it never "
                      "fires",
                      band.rate_at_least->to_string(), band.rate_at_most->to_string())));
    }
    if (*kind == strategy_kind::rebalance) {
      const auto& rb = out.rebalance;
      if (rb.min > rb.max || (rb.target && (*rb.target < rb.min || *rb.target > rb.max))) {
        errors_.add(r_.error_at(yaml_reader::mark_of(s), s.path, "need min <= target <= max"));
      }
    }
    if (seen.contains("from") && out.common.from == out.common.to) {
      errors_.add(r_.error_at(yaml_reader::mark_of(s), s.path, "from and to are the same asset"));
    }
    return out;
  }

  void field(const yaml_entry& e, strategy_config& out) {
    auto& c = out.common;
    const auto& k = e.key;
    if (k == "kind") return;
    if (k == "enabled") c.enabled = r_.boolean(e);
    if (k == "from") c.from = asset(e, r_.text(e));
    if (k == "to") c.to = asset(e, r_.text(e));
    if (k == "providers") {
      if (!e.value.IsSequence()) r_.fail(e, "expected a list of provider names");
      for (std::size_t i = 0; i < e.value.size(); ++i) {
        const yaml_entry item = yaml_reader::item(e, i);
        errors_.attempt([&] {
          std::string name = r_.non_empty_text(item);
          check_provider(item, name);
          c.providers.push_back(std::move(name));
        });
      }
    }
    if (k == "min_rate") c.min_rate = r_.positive(e);
    if (k == "max_slippage_percent") {
      const decimal p = r_.non_negative(e);
      if (p > decimal::from_int(100)) r_.fail(e, "a percentage is at most 100");
      c.max_slippage_percent = p;
    }
    if (k == "deadline") c.deadline = r_.duration(e, 1s, max_duration);
    if (k == "cancel_on_stop") c.cancel_on_stop = r_.boolean(e);
    if (k == "amount") {
      out.convert.amount = r_.positive(e);
      out.threshold.amount = out.convert.amount;
    }
    if (k == "interval") out.convert.interval = r_.duration(e, 1s, max_duration);
    if (k == "rate_at_least") out.threshold.rate_at_least = r_.positive(e);
    if (k == "rate_at_most") out.threshold.rate_at_most = r_.positive(e);
    if (k == "cooldown") out.threshold.cooldown = r_.duration(e, 0ms, max_duration);
    if (k == "provider") {
      std::string name = r_.non_empty_text(e);
      check_provider(e, name);
      out.rebalance.provider = std::move(name);
    }
    if (k == "min") out.rebalance.min = r_.non_negative(e);
    if (k == "max") out.rebalance.max = r_.positive(e);
    if (k == "target") out.rebalance.target = r_.non_negative(e);
    if (k == "max_spend") out.rebalance.max_spend = r_.positive(e);
    if (k == "total") out.twap.total = r_.positive(e);
    if (k == "slices") out.twap.slices = static_cast<int>(r_.integer(e, 1, 10000));
    if (k == "period") out.twap.period = r_.duration(e, 1s, max_duration);
  }

  const yaml_reader& r_;
  error_list& errors_;
  const config::engine_config& engine_;
};

strategy_load_result finish(config::load_result loaded, const strategy_sections& sections) {
  strategy_load_result out;
  out.file.engine = std::move(loaded.config);
  out.file.sections = sections;
  out.errors = std::move(loaded.errors);
  return out;
}

}  // namespace

config::load_options with_strategy_sections(std::shared_ptr<strategy_sections> out,
                                            config::load_options base) {
  base.sections["strategies"] = [out](const yaml_entry& section, const yaml_reader& reader,
                                      error_list& errors, const config::engine_config& so_far) {
    sections_reader r(reader, errors, so_far);
    out->strategies = r.strategies(section);
  };
  base.sections["risk"] = [out](const yaml_entry& section, const yaml_reader& reader,
                                error_list& errors, const config::engine_config& so_far) {
    sections_reader r(reader, errors, so_far);
    out->risk = r.risk(section);
  };
  return base;
}

strategy_load_result load_strategy_file(const std::string& path, const config::load_options& base) {
  auto sections = std::make_shared<strategy_sections>();
  auto loaded = config::load_engine_config(path, with_strategy_sections(sections, base));
  return finish(std::move(loaded), *sections);
}

strategy_load_result parse_strategy_file(std::string_view yaml, const std::string& source,
                                         const config::load_options& base) {
  auto sections = std::make_shared<strategy_sections>();
  auto loaded = config::parse_engine_config(yaml, source, with_strategy_sections(sections, base));
  return finish(std::move(loaded), *sections);
}

std::string describe(const strategy_sections& sections) {
  std::string out;
  for (const auto& s : sections.strategies) {
    out += fmt::format("strategy {}: {} {} -> {}{}{}\n", s.common.name, to_string(s.common.kind),
                       s.common.from, s.common.to, s.common.enabled ? "" : " (disabled)",
                       s.common.cancel_on_stop ? " (cancel on stop)" : "");
  }
  const auto& r = sections.risk;
  out += fmt::format("risk: {} per-swap caps, {} daily caps, max {} unknown legs, kill switch {}\n",
                     r.max_per_swap.size(), r.max_per_day.size(), r.max_unknown_legs,
                     r.kill_switch.value_or("none"));
  return out;
}

}  // namespace swaprouter::strategies
