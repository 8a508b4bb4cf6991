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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/onek/client.hpp"
#include "adapters/onek/parse.hpp"
#include "cli/commands.hpp"
#include "cli/service.hpp"
#include "cli/session.hpp"
#include "engine/callback.hpp"
#include "engine/executor.hpp"
#include "engine/journal.hpp"
#include "engine/quote_poller.hpp"
#include "strategies/bot.hpp"
#include "strategies/strategy_file.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;

// A 001k callback carries the swap object GET /swap/{code} returns.
result<leg_status> onek_callback(std::string_view body) {
  auto parsed = onek::parse_swap(body);
  if (!parsed) return std::unexpected(parsed.error());
  return onek::to_leg_status(*parsed);
}

struct run_options {
  std::string file;
  std::string duration;
  bool simulate = false;
  bool dry_run = false;
  std::vector<std::string> paper_balances;
  std::string scenario;
  std::string db;
  std::string drain = "30s";
  std::string log_level = "info";
  std::string log_format = "human";
  std::string live_view = "auto";
  std::string listen;  ///< overrides engine.listen
};

int run_bot(const run_options& options) {
  const auto logging = setup_run_logging(options.log_format, options.log_level, options.live_view);
  if (!logging) return exit_usage;

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
  auto paper = parse_paper_balances(options.paper_balances);
  if (!paper) {
    std::fprintf(stderr, "swaprouter run: %s\n", paper.error().message.c_str());
    return exit_usage;
  }
  // The file is read without credentials to choose the mode (DESIGN.md s.3 "Modes": simulate
  // without credentials or with --simulate), then again with them when the mode reads them.
  auto load_file = [&](bool resolve) {
    config::load_options load;
    load.resolve_credentials = resolve;
    return strategies::load_strategy_file(options.file, load);
  };
  strategies::strategy_load_result loaded = load_file(false);
  const config::engine_config* configured = options.simulate ? nullptr : &loaded.file.engine;
  const run_mode chosen =
      loaded.ok() ? choose_mode(options.simulate, options.dry_run, configured) : run_mode::simulate;
  if (loaded.ok() && needs_credentials(chosen, configured)) loaded = load_file(true);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.what());
    return exit_usage;
  }
  const strategies::strategy_file& file = loaded.file;
  const std::string mode(to_string(chosen));
  std::printf("swaprouter run %s: mode %s, %zu strategies\n", options.file.c_str(), mode.c_str(),
              file.sections.strategies.size());
  std::fflush(stdout);

  const std::string db = options.db.empty() ? file.engine.engine.journal : options.db;
  // The listener, metrics and status watch the venues: the executor and the bot use the watched.
  // Checked before anything starts: a --listen off loopback is a usage error, not a run.
  auto watch = make_service_options(file, options.file, mode, options.listen, db, *logging);
  if (!watch) return exit_usage;
  auto locked = journal_lock::acquire(db);
  if (!locked) {
    std::fprintf(stderr, "swaprouter run: %s\n", locked.error().message.c_str());
    return exit_failure;
  }
  auto opened = journal::open(db);
  if (!opened) {
    std::fprintf(stderr, "swaprouter run: %s\n", describe(opened.error()).c_str());
    return exit_failure;
  }
  std::unique_ptr<journal> records = std::move(*opened);
  spdlog::info("journal {}", db);

  asio::io_context ioc(1);
  // Fault tests: the crash hook's transport points sit at the create request itself (declared
  // before the session, which it outlives).
  const crash_hook crash = crash_hook_from_env();
  submit_watch creates;
  provider_session session;
  try {
    session.start(ioc, chosen, options.simulate ? nullptr : &file.engine, options.scenario,
                  *paper, crash ? &creates : nullptr);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter run: %s\n", e.what());
    return e.exit_code();
  }
  for (const auto& where : session.describe()) spdlog::info("provider {}", where);
  bot_service service(ioc, std::move(*watch), *records);
  const std::span<venue* const> providers = service.monitor(session.venues());
  // Directions, prices and balances polled in the background: a decision is then one round of
  // amount-specific quotes (engine/quote_poller.hpp).
  quote_book_options book_options;
  book_options.quote_max_age = file.engine.engine.quote_max_age;
  quote_book book(book_options);
  service.watch_book(book);
  poll_clock poll_time;
  // Each provider's intervals and enabled assets as configured (the kind's defaults otherwise);
  // a provider missing from the file (simulated) keeps the poller's defaults.
  std::map<std::string, poll_settings, std::less<>> polling;
  for (const auto& p : file.engine.providers) {
    poll_settings& s = polling[p.name];
    s.directions = p.poll.directions;
    s.prices = p.poll.prices;
    s.balances = p.poll.balances;
    s.assets = p.assets;
  }
  quote_poller poller(providers, book, poll_time, {}, std::move(polling));

  execution_options execution;
  execution.book = &book;
  execution.crash = crash;
  execution.submits = crash ? &creates : nullptr;
  execution.dry_run = chosen == run_mode::dry_run;
  execution.fanout = file.engine.engine.fanout_deadline;
  execution.planning = planning_of(file.engine.engine);
  strategies::bot* running = nullptr;
  execution.admit_remainder = [&running](std::string_view intent_id,
                                         const plan& remainder) -> std::optional<std::string> {
    if (running == nullptr) return std::nullopt;
    return running->admit_remainder(intent_id, remainder);
  };
  executor exec(providers, *records, execution, [&running](const execution_event& e) {
    if (running != nullptr) running->observe(e);
  });

  strategies::risk_guard risk(file.sections.risk, {}, service.halt_sink());
  std::vector<std::unique_ptr<strategies::strategy>> kinds;
  for (const auto& s : file.sections.strategies) kinds.push_back(strategies::make_strategy(s));
  strategies::bot_options bot_opts;
  bot_opts.mode = mode;
  bot_opts.drain = *drain;
  bot_opts.fanout = execution.fanout;
  bot_opts.planning = execution.planning;
  bot_opts.book = &book;
  strategies::bot bot(std::move(kinds), risk, exec, providers, bot_opts, service.hooks());
  running = &bot;
  // Provider callbacks (001k): only hints that make the tracker fetch the leg now; on by default
  // in simulate, where the emulators reach the loopback listener.
  callback_options hinting;
  hinting.allow = file.engine.engine.callback_allow;
  callback_gate gate(exec, std::move(hinting));
  std::vector<std::pair<std::string, onek::client*>> calling_back;
  if (file.engine.engine.callbacks.value_or(chosen == run_mode::simulate)) {
    calling_back = session.onek_clients();
    for (const auto& [name, client] : calling_back) gate.add_provider(name, onek_callback);
    service.accept_callbacks(gate);
  }
  if (!service.start(bot, risk)) {
    session.stop();
    return exit_failure;
  }
  for (const auto& [name, client] : calling_back) {
    client->set_callback_url(service.url() + "/callbacks/" + name);
  }

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
  // Whole seconds: the journal keeps creation times to the millisecond, and a run's first intent
  // may share the second it started in.
  const wall_time run_started =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  poller.start(ioc.get_executor());
  asio::co_spawn(ioc, work(exec, bot, bound), [&](std::exception_ptr e, strategies::bot_summary s) {
    failure = e;
    if (!e) summary = std::move(s);
  });
  while (!summary && !failure && ioc.run_one() > 0) {
  }
  // Simulate mode: the journal of this run against the emulators' ledgers (I1, I2), before the
  // emulators stop.
  std::optional<ledger_check> ledgers;
  if (chosen == run_mode::simulate && session.emulators() != nullptr) {
    ledgers = check_ledgers(*session.emulators(), *records, run_started);
  }
  signals.cancel();
  poller.stop();
  service.stop();
  session.stop();
  ioc.poll();
  if (failure) std::rethrow_exception(failure);
  std::fputs(summary->format().c_str(), stdout);
  if (ledgers) {
    if (ledgers->disagreements.empty()) {
      std::printf("ledgers: %zu swaps at the emulators, %zu journaled legs with a provider "
                  "reference: journal and emulators agree\n",
                  ledgers->swaps, ledgers->legs);
    } else {
      std::printf("ledgers: journal and emulators DISAGREE (%zu swaps, %zu journaled legs):\n",
                  ledgers->swaps, ledgers->legs);
      for (const auto& d : ledgers->disagreements) std::printf("  %s\n", d.c_str());
    }
  }
  std::fflush(stdout);
  return ledgers && !ledgers->disagreements.empty() ? exit_failure : exit_ok;
}

}  // namespace

subcommand add_run_command(CLI::App& parent) {
  auto options = std::make_shared<run_options>();
  CLI::App* app = parent.add_subcommand(
      "run",
      "Run the bot: the strategies of a strategy file until SIGINT/SIGTERM or --duration, then "
      "print a summary. Exit 0 on a clean stop, 2 for bad input.");
  app->add_option("file", options->file, "Strategy file (docs/strategies.md)")->required();
  app->add_option("--duration", options->duration, "Run this long, e.g. 60s, 2m");
  app->add_flag("--simulate", options->simulate,
                "Run against the built-in emulators (the default without credentials)");
  app->add_flag("--dry-run", options->dry_run,
                "Real quotes (the emulators' without credentials), fills in a local paper ledger; "
                "journal rows marked dry-run");
  app->add_option("--paper-balance", options->paper_balances,
                  "Dry-run starting balance [PROVIDER:]ASSET=AMOUNT, repeatable (default: the "
                  "provider's real balances)");
  app->add_option("--scenario", options->scenario,
                  "Scenario of the emulators (default config/scenario.yaml)");
  app->add_option("--db", options->db, "Journal file (default: engine.journal of the file)");
  app->add_option("--drain", options->drain,
                  "After a stop, track open intents at most this long (default 30s)");
  app->add_option("--log-level", options->log_level, "trace, debug, info, warn, error");
  app->add_option("--log-format", options->log_format,
                  "human (default) or json: one JSON object per line on standard error");
  app->add_option("--listen", options->listen,
                  "HOST:PORT of the listener (metrics, status, control API), loopback only; port 0 "
                  "picks a free one (default: engine.listen of the file)");
  app->add_option("--live-view", options->live_view,
                  "auto (default: when standard output is a terminal), on or off");
  return subcommand{app, [options] { return run_bot(*options); }};
}

}  // namespace swaprouter::cli
