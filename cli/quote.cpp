// `swaprouter quote`: fan out to every provider, plan the best route, print it.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/fleet.hpp"
#include "cli/plan_format.hpp"
#include "cli/session.hpp"
#include "engine/quoter.hpp"
#include "engine/router.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct quote_options {
  std::string from;
  std::string to;
  std::string spend;
  std::string receive;
  std::string config;
  bool simulate = false;
  std::string scenario;
  bool json = false;
  // Unset: the configuration's (or its default without --config).
  std::optional<int> max_hops;
  bool no_split = false;
  std::optional<int> fanout_ms;
};

int run_quote(const quote_options& options) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("quote"));
  spdlog::set_level(spdlog::level::warn);
  swap_intent intent;
  intent.spend_asset = options.from;
  intent.receive_asset = options.to;
  const bool by_spend = !options.spend.empty();
  intent.side = by_spend ? amount_side::spend : amount_side::receive;
  const std::string& amount_text = by_spend ? options.spend : options.receive;
  auto amount = decimal::parse(amount_text);
  if (!amount || !amount->is_positive()) {
    std::fprintf(stderr, "swaprouter quote: --%s: not a positive decimal: %s\n",
                 by_spend ? "spend" : "receive", amount_text.c_str());
    return exit_usage;
  }
  intent.amount = *amount;
  if (options.from == options.to) {
    std::fprintf(stderr, "swaprouter quote: --from and --to are the same asset\n");
    return exit_usage;
  }
  // Quoting moves no money: dry-run would quote exactly as live does.
  const auto setup = setup_command("quote", options.config, options.simulate, false);
  if (!setup) return exit_usage;

  planner_options planning = planning_of(setup->engine());
  if (options.max_hops) planning.max_hops = *options.max_hops;
  if (options.no_split) planning.split = false;
  const std::chrono::milliseconds fanout = options.fanout_ms
                                               ? std::chrono::milliseconds(*options.fanout_ms)
                                               : setup->engine().fanout_deadline;

  asio::io_context ioc(1);
  provider_session session;
  try {
    session.start(ioc, setup->mode, setup->providers(), options.scenario);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter quote: %s\n", e.what());
    return e.exit_code();
  }
  if (!options.json) {
    std::printf("mode %s\n", std::string(to_string(setup->mode)).c_str());
    std::fflush(stdout);
  }
  std::vector<venue*>& providers = session.venues();
  std::optional<quoted_plan> outcome;
  std::exception_ptr failure;
  asio::co_spawn(ioc, quote_and_plan(providers, intent, planning, fanout),
                 [&](std::exception_ptr e, quoted_plan result) {
                   failure = e;
                   if (!e) outcome = std::move(result);
                 });
  while (!outcome && !failure && ioc.run_one() > 0) {
  }
  session.stop();
  ioc.poll();
  if (failure) std::rethrow_exception(failure);

  plan& p = outcome->result;
  p.rejected.insert(p.rejected.end(), outcome->unavailable.begin(), outcome->unavailable.end());
  const auto now = std::chrono::system_clock::now();
  const std::string text =
      options.json ? format_plan_json(intent, p, now) + "\n" : format_plan_table(intent, p, now);
  std::fputs(text.c_str(), stdout);
  return p.ok() ? exit_ok : exit_no_route;
}

}  // namespace

subcommand add_quote_command(CLI::App& parent) {
  auto options = std::make_shared<quote_options>();
  CLI::App* app = parent.add_subcommand(
      "quote",
      "Ask every provider at once, plan the best route (direct, multi-hop or split) and print "
      "it. Exit 0 with a plan, 3 when no route exists, 2 for bad input.");
  add_pair_options(*app, options->from, options->to);
  add_amount_options(*app, options->spend, options->receive);
  app->add_option("--config", options->config,
                  "Engine configuration (docs/config.md): quotes its providers that have "
                  "credentials");
  app->add_flag("--simulate", options->simulate,
                "Quote the built-in emulators (the default without credentials)");
  app->add_option("--scenario", options->scenario,
                  "Scenario of the emulators (default config/scenario.yaml)");
  app->add_flag("--json", options->json, "Print the plan as JSON");
  app->add_option("--max-hops", options->max_hops,
                  "Legs per route, 1 to 4 (default: the configuration's max_hops, 2)")
      ->check(CLI::Range(1, 4));
  app->add_flag("--no-split", options->no_split,
                "Never split across providers (as the configuration's split: false)");
  app->add_option("--fanout-ms", options->fanout_ms,
                  "Fan-out deadline in milliseconds (default: the configuration's "
                  "fanout_deadline, 2s)")
      ->check(CLI::Range(1, 60000));
  return subcommand{app, [options] { return run_quote(*options); }};
}

}  // namespace swaprouter::cli
