// `swaprouter swap`: plan, execute and track one intent to its end, printing every step.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "engine/executor.hpp"
#include "engine/journal.hpp"
#include "engine/json_read.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct swap_options {
  std::string from;
  std::string to;
  std::string spend;
  std::string receive;
  std::string max_spend;
  std::string min_receive = "0";
  std::string deadline = "60s";
  bool simulate = false;
  bool dry_run = false;
  std::string config;
  std::vector<std::string> paper_balances;
  std::string scenario;
  std::string db;
  bool json = false;
};

std::string intent_id_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return fmt::format("I{}-{}", ms, ::getpid());
}

void print_event(const execution_event& e, bool json) {
  std::string line;
  if (json) {
    json_out j;
    j.begin_object();
    j.key("time");
    j.time(e.time);
    j.field("event", e.kind);
    j.field("intent", e.intent_id);
    j.field("client_id", e.client);
    j.field("detail", e.detail);
    j.end_object();
    line = j.take();
  } else {
    line = fmt::format("{} {:<10} {:<22} {}", format_iso_timestamp(e.time), e.kind,
                       e.client.empty() ? e.intent_id : e.client, e.detail);
  }
  std::puts(line.c_str());
  std::fflush(stdout);
}

void print_mode(run_mode mode, const std::vector<std::string>& providers, bool json) {
  if (json) {
    json_out j;
    j.begin_object();
    j.field("mode", to_string(mode));
    j.key("providers");
    j.begin_array();
    for (const auto& p : providers) j.str(p);
    j.end_array();
    j.end_object();
    std::puts(j.take().c_str());
  } else {
    std::printf("mode %s\n", std::string(to_string(mode)).c_str());
    for (const auto& p : providers) std::printf("provider %s\n", p.c_str());
  }
  std::fflush(stdout);
}

void print_result(const execution_result& r, const intent_record& intent, bool json) {
  std::string fees;
  for (const auto& f : r.fees) {
    fees += fmt::format("{}{} {}", fees.empty() ? "" : ", ", f.amount.to_string(), f.asset);
  }
  if (json) {
    json_out j;
    j.begin_object();
    j.field("intent", r.intent_id);
    j.field("state", r.state);
    j.key("filled");
    j.boolean(r.filled);
    j.field("spent", r.spent.to_string());
    j.field("spend_asset", intent.spend_asset);
    j.field("received", r.received.to_string());
    j.field("receive_asset", intent.receive_asset);
    j.key("fees");
    j.begin_array();
    for (const auto& f : r.fees) {
      j.begin_object();
      j.field("asset", f.asset);
      j.field("amount", f.amount.to_string());
      j.end_object();
    }
    j.end_array();
    j.field("quoted_net", r.quoted_net.to_string());
    j.field("quoted_rate", r.quoted_rate.to_string());
    j.field("effective_rate", r.effective_rate.to_string());
    j.end_object();
    std::puts(j.take().c_str());
    return;
  }
  std::printf(
      "result: %s (%s)\n  spent     %s %s\n  received  %s %s (quoted %s)\n  fees      %s\n"
      "  rate      %s effective, %s quoted\n",
      r.state.c_str(), r.filled ? "filled" : "not filled", r.spent.to_string().c_str(),
      intent.spend_asset.c_str(), r.received.to_string().c_str(), intent.receive_asset.c_str(),
      r.quoted_net.to_string().c_str(), fees.empty() ? "none" : fees.c_str(),
      r.effective_rate.to_string().c_str(), r.quoted_rate.to_string().c_str());
}

int run_swap(const swap_options& options) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("swap"));
  spdlog::set_level(spdlog::level::warn);
  const bool by_spend = !options.spend.empty();
  auto amount = decimal::parse(by_spend ? options.spend : options.receive);
  auto minimum = decimal::parse(options.min_receive);
  const auto deadline = parse_duration(options.deadline);
  // --max-spend is optional; given, it must be a positive amount.
  std::optional<decimal> cap;
  bool cap_ok = true;
  if (!options.max_spend.empty()) {
    auto parsed = decimal::parse(options.max_spend);
    cap_ok = parsed && parsed->is_positive();
    if (cap_ok) cap = *parsed;
  }
  if (!amount || !amount->is_positive() || !minimum || minimum->is_negative() || !deadline ||
      !cap_ok || options.from == options.to) {
    std::fprintf(stderr,
                 "swaprouter swap: need --from and --to (different assets), a positive --spend "
                 "or --receive (with --receive, a positive --max-spend if any), a non-negative "
                 "--min-receive and a --deadline like 60s\n");
    return exit_usage;
  }

  auto paper = parse_paper_balances(options.paper_balances);
  if (!paper) {
    std::fprintf(stderr, "swaprouter swap: %s\n", paper.error().message.c_str());
    return exit_usage;
  }
  const auto setup = setup_command("swap", options.config, options.simulate, options.dry_run);
  if (!setup) return exit_usage;
  // The configured journal with --config; in memory for a quick simulated swap.
  const std::string db = !options.db.empty() ? options.db
                         : setup->config     ? setup->config->engine.journal
                                             : std::string(":memory:");
  auto locked = journal_lock::acquire(db);
  if (!locked) {
    std::fprintf(stderr, "swaprouter swap: %s\n", locked.error().message.c_str());
    return exit_failure;
  }
  auto opened = journal::open(db);
  if (!opened) {
    std::fprintf(stderr, "swaprouter swap: %s\n", describe(opened.error()).c_str());
    return exit_failure;
  }
  std::unique_ptr<journal> records = std::move(*opened);

  asio::io_context ioc(1);
  // Fault tests: the crash hook's transport points sit at the create request itself (declared
  // before the session, which it outlives).
  const crash_hook crash = crash_hook_from_env();
  submit_watch creates;
  provider_session session;
  try {
    session.start(ioc, setup->mode, setup->providers(), options.scenario, *paper,
                  crash ? &creates : nullptr);
  } catch (const fleet_error& e) {
    std::fprintf(stderr, "swaprouter swap: %s\n", e.what());
    return e.exit_code();
  }
  std::vector<venue*>& providers = session.venues();
  const bool json = options.json;
  print_mode(setup->mode, session.describe(), json);

  execution_options execution;
  execution.crash = crash;
  execution.submits = crash ? &creates : nullptr;
  execution.dry_run = setup->mode == run_mode::dry_run;
  execution.fanout = setup->engine().fanout_deadline;
  execution.planning = planning_of(setup->engine());
  executor exec(providers, *records, execution,
                [json](const execution_event& e) { print_event(e, json); });

  intent_record intent;
  intent.id = intent_id_now();
  intent.spend_asset = options.from;
  intent.receive_asset = options.to;
  intent.side = by_spend ? amount_side::spend : amount_side::receive;
  intent.amount = *amount;
  intent.min_receive = *minimum;
  intent.max_spend = cap;
  intent.created_at = std::chrono::system_clock::now();
  intent.deadline = intent.created_at + *deadline;
  intent.origin = "cli";
  intent.dry_run = execution.dry_run;

  std::optional<execution_result> outcome;
  std::exception_ptr failure;
  auto work = [](executor& e, intent_record i) -> task<execution_result> {
    // Restart first: nothing new is sent before every unfinished leg is reconciled.
    co_await e.recover();
    co_return co_await e.run(std::move(i));
  };
  asio::co_spawn(ioc, work(exec, intent), [&](std::exception_ptr e, execution_result r) {
    failure = e;
    if (!e) outcome = std::move(r);
  });
  while (!outcome && !failure && ioc.run_one() > 0) {
  }
  session.stop();
  ioc.poll();
  if (failure) std::rethrow_exception(failure);
  print_result(*outcome, intent, json);
  return outcome->filled ? exit_ok : exit_failure;
}

}  // namespace

subcommand add_swap_command(CLI::App& parent) {
  auto options = std::make_shared<swap_options>();
  CLI::App* app = parent.add_subcommand(
      "swap",
      "Plan, execute and track one swap to its end, printing every step and the result. Exit 0 "
      "only when filled, 1 otherwise, 2 for bad input.");
  add_pair_options(*app, options->from, options->to);
  CLI::Option* receive = add_amount_options(*app, options->spend, options->receive);
  app->add_option("--max-spend", options->max_spend, "With --receive: never spend more")
      ->needs(receive);
  app->add_option("--min-receive", options->min_receive, "Least net amount to accept");
  app->add_option("--deadline", options->deadline, "Overall deadline, e.g. 60s, 1500ms, 2m");
  app->add_option("--config", options->config,
                  "Engine configuration (docs/config.md): live with its providers' credentials");
  app->add_flag("--simulate", options->simulate,
                "Execute against the built-in emulators (the default without credentials)");
  app->add_flag("--dry-run", options->dry_run,
                "Real quotes, fills in a local paper ledger (journal rows marked dry-run)");
  app->add_option("--paper-balance", options->paper_balances,
                  "Dry-run starting balance [PROVIDER:]ASSET=AMOUNT, repeatable (default: the "
                  "provider's real balances)");
  app->add_option("--scenario", options->scenario,
                  "Scenario of the emulators (default config/scenario.yaml)");
  app->add_option("--db", options->db,
                  "Journal file (default: engine.journal of --config, else in memory)");
  app->add_flag("--json", options->json, "One JSON object per event and for the result");
  return subcommand{app, [options] { return run_swap(*options); }};
}

}  // namespace swaprouter::cli
