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
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/fleet.hpp"
#include "cli/plan_format.hpp"
#include "engine/fanout.hpp"
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
  int max_hops = 2;
  bool no_split = false;
  int fanout_ms = 2000;
};

struct pair_key {
  std::string spend;
  std::string receive;
  auto operator<=>(const pair_key&) const = default;
};

// The pairs a plan of up to `max_hops` (1 or 2) legs can use: the direct pair and, through every
// asset some provider takes from `from` and some provider turns into `to`, both hops.
std::set<pair_key> pairs_to_price(const std::vector<direction>& all, const swap_intent& intent,
                                  int max_hops) {
  std::set<pair_key> out{{intent.spend_asset, intent.receive_asset}};
  if (max_hops < 2) return out;
  std::set<std::string> from_first;
  std::set<std::string> into_last;
  for (const auto& d : all) {
    if (!d.enabled) continue;
    if (d.spend_asset == intent.spend_asset) from_first.insert(d.receive_asset);
    if (d.receive_asset == intent.receive_asset) into_last.insert(d.spend_asset);
  }
  for (const auto& middle : from_first) {
    if (middle == intent.receive_asset || !into_last.contains(middle)) continue;
    out.insert({intent.spend_asset, middle});
    out.insert({middle, intent.receive_asset});
  }
  return out;
}

struct quote_outcome {
  plan result;
  std::vector<rejected_route> unavailable;  ///< providers that did not price a pair, and why
};

task<quote_outcome> quote_once(std::vector<simulated_venue>& venues, swap_intent intent,
                               planner_options options, std::chrono::milliseconds fanout) {
  quote_outcome out;
  // Directions first (cached by the adapters), then every provider's pricing for every pair it
  // serves, all at once.
  std::vector<fanout_call<std::vector<direction>>> direction_calls;
  for (auto& v : venues) {
    venue* provider = v.venue.get();
    direction_calls.push_back({v.provider, [provider] { return provider->directions(); }});
  }
  auto listed =
      co_await fan_out(std::move(direction_calls), std::chrono::steady_clock::now() + fanout);
  std::vector<direction> all;
  for (auto& answer : listed) {
    if (!answer.value) {
      out.unavailable.push_back(
          {answer.provider, "no directions: " + describe(answer.value.error())});
      continue;
    }
    all.insert(all.end(), answer.value->begin(), answer.value->end());
  }
  const auto pairs = pairs_to_price(all, intent, options.max_hops);

  std::vector<fanout_call<pricing>> pricing_calls;
  for (std::size_t i = 0; i < venues.size(); ++i) {
    if (!listed[i].value) continue;
    venue* provider = venues[i].venue.get();
    for (const auto& pair : pairs) {
      const bool served =
          std::any_of(listed[i].value->begin(), listed[i].value->end(), [&](const direction& d) {
            return d.spend_asset == pair.spend && d.receive_asset == pair.receive;
          });
      if (!served) continue;
      quote_request request{pair.spend, pair.receive, intent.side, intent.amount};
      // Only the hop whose amount the intent fixes is priced for that amount; the others get the
      // provider's model as such (a firm quote needs an amount, so it prices the intent's).
      const bool fixed_hop = intent.side == amount_side::spend
                                 ? pair.spend == intent.spend_asset
                                 : pair.receive == intent.receive_asset;
      if (!fixed_hop) request.side = amount_side::spend;
      pricing_calls.push_back(
          {fmt::format("{}: {}->{}", venues[i].provider, pair.spend, pair.receive),
           [provider, request] { return provider->pricing_for(request); }});
    }
  }
  auto priced =
      co_await fan_out(std::move(pricing_calls), std::chrono::steady_clock::now() + fanout);
  std::vector<pricing> models;
  for (auto& answer : priced) {
    if (!answer.value) {
      out.unavailable.push_back({answer.provider, describe(answer.value.error())});
      continue;
    }
    models.push_back(std::move(*answer.value));
  }
  out.result = make_plan(intent, models, options, std::chrono::system_clock::now());
  co_return out;
}

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
  if (!options.config.empty() && !options.simulate) {
    std::fprintf(stderr,
                 "swaprouter quote: live quoting from --config is not available yet; use "
                 "--simulate\n");
    return exit_usage;
  }

  planner_options planning;
  planning.max_hops = options.max_hops;
  planning.split = !options.no_split;

  asio::io_context ioc(1);
  std::optional<loaded_scenario> loaded;
  std::optional<fleet> emulators;
  try {
    loaded.emplace(load_scenario_file(options.scenario));
    fleet_options fleet_opts;
    fleet_opts.ephemeral_ports = true;
    emulators.emplace(ioc, *loaded, fleet_opts);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter quote: %s\n", e.what());
    return e.exit_code();
  }
  auto venues = connect_venues(ioc.get_executor(), *emulators);

  std::optional<quote_outcome> outcome;
  std::exception_ptr failure;
  asio::co_spawn(ioc,
                 quote_once(venues, intent, planning, std::chrono::milliseconds(options.fanout_ms)),
                 [&](std::exception_ptr e, quote_outcome result) {
                   failure = e;
                   if (!e) outcome = std::move(result);
                 });
  while (!outcome && !failure && ioc.run_one() > 0) {
  }
  emulators->stop();
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
  app->add_option("--from", options->from, "Asset to spend, e.g. USDT")->required();
  app->add_option("--to", options->to, "Asset to receive, e.g. COPM")->required();
  auto* spend = app->add_option("--spend", options->spend, "Exact amount to spend");
  auto* receive = app->add_option("--receive", options->receive, "Exact net amount to receive");
  spend->excludes(receive);
  receive->excludes(spend);
  app->add_option("--config", options->config, "Engine configuration (docs/config.md)");
  app->add_flag("--simulate", options->simulate,
                "Quote the built-in emulators (the default without a configuration)");
  app->add_option("--scenario", options->scenario,
                  "Scenario of the emulators (default config/scenario.yaml)");
  app->add_flag("--json", options->json, "Print the plan as JSON");
  app->add_option("--max-hops", options->max_hops, "Legs per route, 1 or 2")
      ->check(CLI::Range(1, 2));
  app->add_flag("--no-split", options->no_split, "Never split across providers");
  app->add_option("--fanout-ms", options->fanout_ms, "Fan-out deadline in milliseconds")
      ->check(CLI::Range(1, 60000));
  app->callback([spend, receive] {
    if (spend->count() + receive->count() != 1) {
      throw CLI::ValidationError("one of --spend or --receive is required");
    }
  });
  return subcommand{app, [options] { return run_quote(*options); }};
}

}  // namespace swaprouter::cli
