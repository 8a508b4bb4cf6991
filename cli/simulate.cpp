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

#include "adapters/kiiex/emulator.hpp"
#include "adapters/onek/emulator.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "cli/commands.hpp"
#include "engine/cert_authority.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

struct simulate_options {
  std::string scenario;
  bool plain = false;
};

// Where the default scenario is looked for, in order: the working directory, beside the
// executable (installed or in a build tree such as build/dev/), then the source tree it was built
// from.
std::vector<fs::path> default_scenario_candidates() {
  std::vector<fs::path> out{fs::current_path() / "config" / "scenario.yaml"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = exe.parent_path();
    out.push_back(dir / "config" / "scenario.yaml");
    out.push_back(dir.parent_path() / "config" / "scenario.yaml");
    out.push_back(dir.parent_path().parent_path() / "config" / "scenario.yaml");
    out.push_back(dir.parent_path() / "share" / "swaprouter" / "scenario.yaml");
  }
#ifdef SWAPROUTER_SOURCE_DIR
  out.push_back(fs::path(SWAPROUTER_SOURCE_DIR) / "config" / "scenario.yaml");
#endif
  return out;
}

std::optional<std::string> find_default_scenario() {
  for (const auto& candidate : default_scenario_candidates()) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  }
  return std::nullopt;
}

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

// Provider emulators by scenario name; a provider joins `simulate` with one line here.
std::unique_ptr<sim::provider_emulator> make_emulator(std::string_view name,
                                                      asio::any_io_executor executor,
                                                      sim::server& server, sim::market& market,
                                                      const sim::provider_config& config,
                                                      const sim::emulator_options& options) {
  if (name == "onek") {
    return std::make_unique<onek::emulator>(executor, server, market, config, options);
  }
  if (name == "kiiex") {
    return std::make_unique<kiiex::emulator>(executor, server, market, config, options);
  }
  return nullptr;
}

bool has_emulator(std::string_view name) { return name == "onek" || name == "kiiex"; }

// One running emulator and its server; destroyed emulator first (it refers to the server).
struct running_provider {
  std::string name;
  std::unique_ptr<sim::server> server;
  std::unique_ptr<sim::provider_emulator> emulator;
  void stop() {
    if (emulator) emulator->stop();
    if (server) server->stop();
  }
};

int run_simulate(const simulate_options& options) {
  auto logger = spdlog::stderr_color_mt("simulate");
  spdlog::set_default_logger(logger);

  std::string scenario_path = options.scenario;
  if (scenario_path.empty()) {
    auto found = find_default_scenario();
    if (!found) {
      std::string looked;
      for (const auto& c : default_scenario_candidates()) looked += "\n  " + c.string();
      std::fprintf(stderr, "swaprouter simulate: no scenario given and none found at:%s\n",
                   looked.c_str());
      return exit_usage;
    }
    scenario_path = *found;
  }

  sim::scenario scenario;
  std::optional<sim::market> market;
  try {
    scenario = sim::load_scenario(scenario_path);
    market.emplace(scenario.market());
  } catch (const sim::scenario_error& e) {
    std::fprintf(stderr, "swaprouter simulate: %s\n", e.what());
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "swaprouter simulate: %s: %s\n", scenario_path.c_str(), e.what());
    return exit_usage;
  }
  spdlog::info("scenario {} (seed {}, volatility {} per sqrt(s))", scenario_path, scenario.seed,
               scenario.volatility);

  asio::io_context ioc(1);
  std::optional<cert_authority> ca;
  std::optional<issued_cert> leaf;
  fs::path run_dir;
  const bool any_tls =
      !options.plain && std::any_of(scenario.providers.begin(), scenario.providers.end(),
                                    [](const auto& p) { return p.second.enabled && p.second.tls; });
  if (any_tls) {
    ca = cert_authority::generate("swaprouter simulate CA");
    leaf = ca->issue(cert_options{});
    run_dir = make_run_dir();
    const fs::path ca_path = run_dir / "ca.pem";
    if (!ca->write_ca_pem(ca_path.string())) {
      std::fprintf(stderr, "swaprouter simulate: cannot write %s\n", ca_path.c_str());
      return exit_failure;
    }
    print_line("ca " + ca_path.string());
  }

  std::vector<running_provider> running;
  running.reserve(sim::provider_names.size());
  std::uint64_t seed_offset = 0;
  for (const auto name : sim::provider_names) {
    ++seed_offset;
    const sim::provider_config* config = scenario.find_provider(name);
    if (config == nullptr) continue;
    if (!config->enabled) {
      spdlog::info("provider {} disabled in the scenario", name);
      continue;
    }
    if (!has_emulator(name)) {
      spdlog::warn("provider {} has no emulator yet; skipped", name);
      continue;
    }
    sim::server_options server_options;
    server_options.port = config->port;
    if (config->tls && !options.plain) server_options.tls = leaf;
    server_options.latency = config->latency;
    server_options.seed = scenario.seed + seed_offset;
    running_provider provider;
    provider.name = std::string(name);
    try {
      provider.server = std::make_unique<sim::server>(ioc.get_executor(), server_options);
      sim::emulator_options emulator_options;
      emulator_options.seed = scenario.seed + seed_offset;
      if (ca) emulator_options.callback_ca_pem = ca->ca_pem();
      provider.emulator = make_emulator(name, ioc.get_executor(), *provider.server, *market,
                                        *config, emulator_options);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "swaprouter simulate: %s: %s\n", scenario_path.c_str(), e.what());
      return exit_usage;
    }
    try {
      provider.server->start();
    } catch (const boost::system::system_error& e) {
      std::fprintf(stderr,
                   "swaprouter simulate: provider %s cannot listen on 127.0.0.1:%u (%s; set "
                   "providers.%s.port in %s)\n",
                   provider.name.c_str(), static_cast<unsigned>(config->port),
                   e.code().message().c_str(), provider.name.c_str(), scenario_path.c_str());
      return exit_failure;
    }
    const std::string base =
        provider.server->base_url() + std::string(provider.emulator->base_path());
    print_line("provider " + provider.name + " " + base);
    spdlog::info("provider {} at {} (admin API {}/_sim/ledger)", provider.name, base,
                 provider.server->base_url());
    running.push_back(std::move(provider));
  }
  if (running.empty()) spdlog::warn("no provider emulator is enabled in {}", scenario_path);

  asio::steady_timer ticker(ioc);
  if (scenario.tick.count() > 0) {
    asio::co_spawn(ioc, run_market(*market, ticker, scenario.tick), asio::detached);
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
  for (auto& provider : running) provider.stop();
  // Bounded drain: in-flight callbacks end by their own timeouts, but never hold the exit longer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ioc.run_one_until(deadline) > 0) {
  }
  running.clear();
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
      "Start the built-in provider emulators on loopback (001k now) and run until SIGINT/SIGTERM. "
      "Prints 'ca <path>' (TLS) and 'provider <name> <base-url>' per provider.");
  app->add_option("--scenario", options->scenario,
                  "Scenario file (docs/scenario.md). Default: config/scenario.yaml in the working "
                  "directory, else beside the executable or its parent directories, else in the "
                  "source tree");
  app->add_flag("--plain", options->plain, "Serve plain HTTP instead of TLS");
  return subcommand{app, [options] { return run_simulate(*options); }};
}

}  // namespace swaprouter::cli
