// The strategy file: the engine configuration (docs/config.md) plus `strategies:` and `risk:`
// sections, read with the same reader and the same FILE:LINE:COLUMN: KEY.PATH errors
// (docs/strategies.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/engine_config.hpp"
#include "strategies/risk.hpp"
#include "strategies/strategy.hpp"

namespace swaprouter::strategies {

/// What the two sections hold once read.
struct strategy_sections {
  std::vector<strategy_config> strategies;  ///< in file order
  risk_config risk;
};

/// A whole strategy file.
struct strategy_file {
  config::engine_config engine;
  strategy_sections sections;
};

struct strategy_load_result {
  strategy_file file;
  std::vector<config::config_error> errors;
  bool ok() const noexcept { return errors.empty(); }
};

/// `base` with readers for `strategies:` and `risk:` that fill `*out` (which must outlive every
/// load made with the answer). `swaprouter check` loads with these so it validates strategy
/// files too.
config::load_options with_strategy_sections(std::shared_ptr<strategy_sections> out,
                                            config::load_options base = {});

/// Reads and validates a strategy file, every error reported.
strategy_load_result load_strategy_file(const std::string& path,
                                        const config::load_options& base = {});
/// The same for YAML text; `source` names it in errors.
strategy_load_result parse_strategy_file(std::string_view yaml,
                                         const std::string& source = "<string>",
                                         const config::load_options& base = {});

/// One line per strategy and one for the risk limits.
std::string describe(const strategy_sections& sections);

}  // namespace swaprouter::strategies
