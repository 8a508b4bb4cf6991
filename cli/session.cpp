#include "cli/session.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>

namespace swaprouter::cli {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value <= 0) return std::nullopt;
  const std::string_view unit(end, text.data() + text.size() - end);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  return std::nullopt;
}

crash_hook crash_hook_from_env() {
  const char* point = std::getenv("SWAPROUTER_CRASH_AT");
  if (point == nullptr || *point == '\0') return {};
  const std::string wanted(point);
  return [wanted](std::string_view at) {
    if (at == wanted) ::_exit(137);
  };
}

void simulation::start(boost::asio::io_context& ioc, const std::string& scenario_path) {
  scenario.emplace(load_scenario_file(scenario_path));
  fleet_options options;
  options.ephemeral_ports = true;
  emulators.emplace(ioc, *scenario, options);
  venues = connect_venues(ioc.get_executor(), *emulators);
  for (auto& v : venues) providers.push_back(v.venue.get());
}

void simulation::stop() {
  if (emulators) emulators->stop();
}

}  // namespace swaprouter::cli
