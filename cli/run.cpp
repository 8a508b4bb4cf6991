// `swaprouter run FILE`: the bot. Loads the strategy file, picks the mode, runs the strategies on
// one io_context until a signal or --duration, and prints the summary.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "engine/executor.hpp"
#include "engine/journal.hpp"
#include "strategies/bot.hpp"
#include "strategies/strategy_file.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;

struct run_options {
  std::string file;
  std::string duration;
  bool simulate = false;
  std::string scenario;
  std::string db;
  std::string drain = "30s";
  std::string log_level = "info";
};

// Simulate when asked, or when no provider has credentials (DESIGN.md s.3 "Modes").
std::string choose_mode(const config::engine_config& engine, bool simulate) {
  if (simulate) return "simulate";
  for (const auto& p : engine.providers) {
    if (p.enabled && p.credentials) return "live";
  }
  return "simulate";
}

int run_bot(const run_options& options) {
  auto logger = spdlog::stderr_color_mt("run");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));

  std::optional<std::chrono::milliseconds> duration;
  if (!options.duration.empty()) {
    duration = parse_duration(options.duration);
    if (!duration) {
      std::fprintf(stderr, "swaprouter run: --duration needs a value like 60s, 1500ms or 2m\n");
      return exit_usage;
    }
  }
  const auto drain = parse_duration(options.drain);
  if (!drain) {
    std::fprintf(stderr, "swaprouter run: --drain needs a value like 30s\n");
    return exit_usage;
  }
  // Credentials are read only in live mode, which is not available yet: a demo file needs none.
  config::load_options load;
  load.resolve_credentials = false;
  strategies::strategy_load_result loaded = strategies::load_strategy_file(options.file, load);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.what());
    return exit_usage;
  }
  const strategies::strategy_file& file = loaded.file;
  const std::string mode = choose_mode(file.engine, options.simulate);
  std::printf("swaprouter run %s: mode %s, %zu strategies\n", options.file.c_str(), mode.c_str(),
              file.sections.strategies.size());
  std::fflush(stdout);
  if (mode != "simulate") {
    std::fprintf(stderr,
                 "swaprouter run: %s mode is not available yet; use --simulate (or remove the "
                 "credentials) to run against the built-in emulators\n",
                 mode.c_str());
    return exit_usage;
  }

  const std::string db = options.db.empty() ? file.engine.engine.journal : options.db;
  auto opened = journal::open(db);
  if (!opened) {
    std::fprintf(stderr, "swaprouter run: %s\n", describe(opened.error()).c_str());
    return exit_failure;
  }
  std::unique_ptr<journal> records = std::move(*opened);
  spdlog::info("journal {}", db);

  asio::io_context ioc(1);
  simulation sim;
  try {
    sim.start(ioc, options.scenario);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter run: %s\n", e.what());
    return e.exit_code();
  }
  for (const auto& v : sim.venues) spdlog::info("provider {} (emulator)", v.provider);

  execution_options execution;
  execution.crash = crash_hook_from_env();
  execution.fanout = file.engine.engine.fanout_deadline * 8;
  execution.planning.max_hops = file.engine.engine.max_hops;
  execution.planning.split = file.engine.engine.split;
  execution.planning.quote_max_age = file.engine.engine.quote_max_age;
  strategies::bot* running = nullptr;
  executor exec(sim.providers, *records, execution, [&running](const execution_event& e) {
    if (running != nullptr) running->observe(e);
  });

  strategies::risk_guard risk(file.sections.risk, {}, [](std::string_view reason) {
    spdlog::warn("halt: {}; no new intents, tracking continues", reason);
  });
  std::vector<std::unique_ptr<strategies::strategy>> kinds;
  for (const auto& s : file.sections.strategies) kinds.push_back(strategies::make_strategy(s));
  strategies::bot_options bot_opts;
  bot_opts.mode = mode;
  bot_opts.drain = *drain;
  bot_opts.fanout = execution.fanout;
  bot_opts.planning = execution.planning;
  strategies::bot bot(std::move(kinds), risk, exec, sim.providers, bot_opts);
  running = &bot;

  // First signal: stop new intents and drain; second: leave at once (every journal write is a
  // committed transaction, so the journal stays consistent and a restart reconciles).
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int signals_seen = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int number) {
        if (ec) return;
        if (++signals_seen > 1) {
          std::fprintf(stderr, "swaprouter run: second signal, exiting now\n");
          ::_exit(exit_failure);
        }
        bot.stop(number == SIGINT ? "SIGINT" : "SIGTERM");
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  std::optional<strategies::bot_summary> summary;
  std::exception_ptr failure;
  const auto bound = duration.value_or(std::chrono::hours(24 * 365 * 100));
  auto work = [](executor& e, strategies::bot& b,
                 std::chrono::milliseconds limit) -> task<strategies::bot_summary> {
    // Restart first: nothing new is sent before every unfinished leg is reconciled.
    recovery_result recovered = co_await e.recover();
    if (recovered.legs > 0) {
      spdlog::info("recovered {} unfinished legs ({} adopted, {} unknown)", recovered.legs,
                   recovered.adopted, recovered.unknown);
    }
    co_return co_await b.run(limit);
  };
  asio::co_spawn(ioc, work(exec, bot, bound), [&](std::exception_ptr e, strategies::bot_summary s) {
    failure = e;
    if (!e) summary = std::move(s);
  });
  while (!summary && !failure && ioc.run_one() > 0) {
  }
  signals.cancel();
  sim.stop();
  ioc.poll();
  if (failure) std::rethrow_exception(failure);
  std::fputs(summary->format().c_str(), stdout);
  std::fflush(stdout);
  return exit_ok;
}

}  // namespace

subcommand add_run_command(CLI::App& parent) {
  auto options = std::make_shared<run_options>();
  CLI::App* app = parent.add_subcommand(
      "run",
      "Run the bot: the strategies of a strategy file until SIGINT/SIGTERM or --duration, then "
      "print a summary. Exit 0 on a clean stop, 2 for bad input or an unavailable mode.");
  app->add_option("file", options->file, "Strategy file (docs/strategies.md)")->required();
  app->add_option("--duration", options->duration, "Run this long, e.g. 60s, 2m");
  app->add_flag("--simulate", options->simulate,
                "Run against the built-in emulators (the default without credentials)");
  app->add_option("--scenario", options->scenario,
                  "Scenario of the emulators (default config/scenario.yaml)");
  app->add_option("--db", options->db, "Journal file (default: engine.journal of the file)");
  app->add_option("--drain", options->drain,
                  "After a stop, track open intents at most this long (default 30s)");
  app->add_option("--log-level", options->log_level, "trace, debug, info, warn, error");
  return subcommand{app, [options] { return run_bot(*options); }};
}

}  // namespace swaprouter::cli
