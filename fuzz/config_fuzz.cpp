// The YAML loaders: the engine configuration ('a') and the strategy file ('b', the same plus
// `strategies:` and `risk:`), from text. Credentials are checked for form only (no file is ever
// opened) and every ${VAR} reads as a fixed value (no process environment).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "config/engine_config.hpp"
#include "fuzz/fuzz_support.hpp"
#include "strategies/strategy_file.hpp"

namespace sf = swaprouter::fuzz;
namespace config = swaprouter::config;

namespace {

config::load_options options() {
  config::load_options o;
  o.resolve_credentials = false;
  o.env = [](const std::string& name) -> std::optional<std::string> {
    if (name.starts_with("UNSET")) return std::nullopt;
    return "127.0.0.1";
  };
  return o;
}

void check_errors(const std::vector<config::config_error>& errors) {
  for (const auto& e : errors) {
    sf::require(e.line() >= 0 && e.column() >= 0, "config error at a negative position");
    sf::require(!e.message().empty(), "config error without a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = sf::split(data, size, 2);
  if (in.which == 0) {
    const auto loaded = config::parse_engine_config(in.body, "<fuzz>", options());
    check_errors(loaded.errors);
    if (loaded.ok()) (void)config::describe(loaded.config);
  } else {
    const auto loaded = swaprouter::strategies::parse_strategy_file(in.body, "<fuzz>", options());
    check_errors(loaded.errors);
    if (loaded.ok()) {
      (void)config::describe(loaded.file.engine);
      (void)swaprouter::strategies::describe(loaded.file.sections);
    }
  }
  return 0;
}
