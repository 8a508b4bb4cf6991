// `swaprouter simulate`: the built-in provider emulators on loopback, per a scenario file.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "adapters/sim/market.hpp"
#include "cli/commands.hpp"
#include "cli/fleet.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

struct simulate_options {
  std::string scenario;
  bool plain = false;
};

// A private directory for the CA certificate of this run.
fs::path make_run_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/swaprouter-simulate-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a run directory from " + pattern);
  }
  return pattern;
}

void print_line(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Advances the market every `tick` so that the emulators' prices move in real time.
asio::awaitable<void> run_market(sim::market& market, asio::steady_timer& timer,
                                 std::chrono::milliseconds tick) {
  for (;;) {
    timer.expires_after(tick);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    market.advance(tick);
  }
}

int run_simulate(const simulate_options& options) {
  auto logger = spdlog::stderr_color_mt("simulate");
  spdlog::set_default_logger(logger);

  asio::io_context ioc(1);
  std::optional<loaded_scenario> loaded;
  std::optional<fleet> emulators;
  try {
    loaded.emplace(load_scenario_file(options.scenario));
    spdlog::info("scenario {} (seed {}, volatility {} per sqrt(s))", loaded->path,
                 loaded->scenario.seed, loaded->scenario.volatility);
    fleet_options fleet_opts;
    fleet_opts.plain = options.plain;
    emulators.emplace(ioc, *loaded, fleet_opts);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter simulate: %s\n", e.what());
    return e.exit_code();
  }
  sim::market& market = *loaded->market;

  fs::path run_dir;
  if (emulators->ca()) {
    run_dir = make_run_dir();
    const fs::path ca_path = run_dir / "ca.pem";
    if (!emulators->ca()->write_ca_pem(ca_path.string())) {
      std::fprintf(stderr, "swaprouter simulate: cannot write %s\n", ca_path.c_str());
      return exit_failure;
    }
    print_line("ca " + ca_path.string());
  }
  for (const auto& provider : emulators->providers()) {
    print_line("provider " + provider.name + " " + provider.base_url());
    spdlog::info("provider {} at {} (admin API {}/_sim/ledger)", provider.name, provider.base_url(),
                 provider.server->base_url());
  }
  if (emulators->providers().empty()) {
    spdlog::warn("no provider emulator is enabled in {}", loaded->path);
  }
  const sim::scenario& scenario = loaded->scenario;

  asio::steady_timer ticker(ioc);
  if (scenario.tick.count() > 0) {
    asio::co_spawn(ioc, run_market(market, ticker, scenario.tick), asio::detached);
  }

  bool stop_requested = false;
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    stop_requested = true;
  });
  spdlog::info("running; Ctrl-C or SIGTERM stops");
  while (!stop_requested && ioc.run_one() > 0) {
  }

  // A second Ctrl-C during the drain below ends the process at once.
  signals.clear();
  ticker.cancel();
  emulators->stop();
  // Bounded drain: in-flight callbacks end by their own timeouts, but never hold the exit longer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ioc.run_one_until(deadline) > 0) {
  }
  emulators.reset();
  if (!run_dir.empty()) {
    std::error_code ec;
    fs::remove_all(run_dir, ec);
  }
  spdlog::info("stopped");
  return exit_ok;
}

}  // namespace

subcommand add_simulate_command(CLI::App& parent) {
  auto options = std::make_shared<simulate_options>();
  CLI::App* app = parent.add_subcommand(
      "simulate",
      "Start the built-in provider emulators on loopback and run until SIGINT/SIGTERM. "
      "Prints 'ca <path>' (TLS) and 'provider <name> <base-url>' per provider.");
  app->add_option("--scenario", options->scenario,
                  "Scenario file (docs/scenario.md). Default: config/scenario.yaml in the working "
                  "directory, else beside the executable or its parent directories, else in the "
                  "source tree");
  app->add_flag("--plain", options->plain, "Serve plain HTTP instead of TLS");
  return subcommand{app, [options] { return run_simulate(*options); }};
}

}  // namespace swaprouter::cli
