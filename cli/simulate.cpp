// `swaprouter simulate`: the built-in provider emulators on loopback, per a scenario file.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
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
  bool any_port = false;
  std::string ca_out;
  std::string config_out;
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

// A YAML double-quoted scalar (JSON string syntax).
std::string yaml_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Writes `text` to `path` readable by its owner only, as the configuration loader requires of
// credential files.
bool write_private(const fs::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) ok = false;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0 && ok;
}

// Writes an engine configuration (docs/config.md) for the running emulators: base URLs, the CA
// file, and each provider's scenario credential as owner-only files in `run_dir` (removed when
// simulate stops). Written to a temporary name and renamed, so a reader never sees half a file.
void write_config(const fs::path& path, fleet& emulators, const sim::market& market,
                  const fs::path& run_dir, const std::string& ca_path) {
  std::string yaml =
      "# Written by `swaprouter simulate --config-out` for its running emulators; valid while "
      "it runs.\nproviders:\n";
  for (const auto& provider : emulators.providers()) {
    const sim::credential_config* credential = swap_credential(*provider.config);
    if (credential == nullptr) continue;
    auto secret_file = [&](std::string_view field, std::string_view value) {
      const fs::path file = run_dir / fmt::format("{}-{}", provider.name, field);
      if (!write_private(file, value)) {
        throw std::runtime_error("cannot write " + file.string());
      }
      return fmt::format("      {}: {{file: {}}}\n", field, yaml_quote(file.string()));
    };
    yaml += fmt::format("  {}:\n    base_url: {}\n", provider.name,
                        yaml_quote(provider.base_url()));
    if (!ca_path.empty() && provider.server->tls()) {
      yaml += fmt::format("    ca_file: {}\n", yaml_quote(ca_path));
    }
    yaml += "    credentials:\n";
    if (provider.name == "onek") {
      yaml += secret_file("access_key", credential->access_key);
      yaml += secret_file("secret", credential->secret);
    } else if (provider.name == "kiiex") {
      yaml += secret_file("api_key", credential->access_key);
      yaml += secret_file("user_id",
                          std::to_string(kiiex::settings_for(*provider.config).user_id));
      yaml += secret_file("secret", credential->secret);
    } else {
      yaml += secret_file("api_key", credential->access_key);
    }
    if (provider.name == "stablestack") {
      yaml += "    directions:\n";
      for (const auto& d : stablestack_directions(*provider.config, market)) {
        yaml += fmt::format(
            "      - {{code: {}, spend_precision: {}, receive_precision: {}, min_spend: {}",
            yaml_quote(d.code), d.spend_precision, d.receive_precision,
            yaml_quote(d.min_spend.to_string()));
        if (d.max_spend) yaml += ", max_spend: " + yaml_quote(d.max_spend->to_string());
        yaml += "}\n";
      }
    }
  }
  const fs::path temporary = path.string() + ".tmp";
  if (!write_private(temporary, yaml)) throw std::runtime_error("cannot write " + path.string());
  fs::rename(temporary, path);
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
    fleet_opts.ephemeral_ports = options.any_port;
    emulators.emplace(ioc, *loaded, fleet_opts);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter simulate: %s\n", e.what());
    return e.exit_code();
  }
  sim::market& market = *loaded->market;

  fs::path run_dir;
  std::string ca_file;
  if (emulators->ca() || !options.config_out.empty()) run_dir = make_run_dir();
  if (emulators->ca()) {
    const fs::path ca_path = run_dir / "ca.pem";
    ca_file = ca_path.string();
    for (const std::string& out : {ca_file, options.ca_out}) {
      if (out.empty()) continue;
      if (!emulators->ca()->write_ca_pem(out)) {
        std::fprintf(stderr, "swaprouter simulate: cannot write %s\n", out.c_str());
        return exit_failure;
      }
    }
    print_line("ca " + ca_path.string());
  }
  for (const auto& provider : emulators->providers()) {
    print_line("provider " + provider.name + " " + provider.base_url());
    print_line("admin " + provider.name + " " + provider.server->base_url() + "/_sim");
    spdlog::info("provider {} at {} (admin API {}/_sim/ledger)", provider.name, provider.base_url(),
                 provider.server->base_url());
  }
  if (!options.config_out.empty()) {
    try {
      write_config(options.config_out, *emulators, market, run_dir, ca_file);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "swaprouter simulate: --config-out: %s\n", e.what());
      return exit_failure;
    }
    print_line("config " + options.config_out);
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
      "Prints 'ca <path>' (TLS), 'provider <name> <base-url>' and 'admin <name> <admin-url>' "
      "per provider.");
  app->add_option("--scenario", options->scenario,
                  "Scenario file (docs/scenario.md). Default: config/scenario.yaml in the working "
                  "directory, else beside the executable or its parent directories, else in the "
                  "source tree");
  app->add_flag("--plain", options->plain, "Serve plain HTTP instead of TLS");
  app->add_flag("--any-port", options->any_port,
                "Listen on free ports the system picks instead of the scenario's (printed, and "
                "in --config-out), so a run never collides with another");
  app->add_option("--ca-out", options->ca_out,
                  "Also write the emulators' CA certificate (PEM) to this file");
  app->add_option("--config-out", options->config_out,
                  "Write an engine configuration (docs/config.md) for the running emulators: "
                  "base URLs, CA file and credential files (removed when simulate stops); "
                  "prints 'config <path>' when written");
  return subcommand{app, [options] { return run_simulate(*options); }};
}

}  // namespace swaprouter::cli
