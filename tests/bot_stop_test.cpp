// The bot's stop (issue 8 "Lifecycle"): on SIGINT/SIGTERM (bot::stop, which the signal handler of
// `swaprouter run` calls) the open legs of a strategy with cancel_on_stop are cancelled at their
// provider through the executor's tracker, journaled, and tracked to their final state within the
// drain; the legs of a strategy without it are only tracked. Against the 001k emulator over
// loopback TLS in the fault world (tests/support/fault_fixture.hpp), I1-I5 checked after.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/onek/emulator.hpp"
#include "adapters/sim/scenario.hpp"
#include "strategies/bot.hpp"
#include "tests/support/fault_fixture.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::fault_world;

// The fault world's 001k swaps fill 3 s after they open, so a stop finds them open.
void slow_onek_fills(sim::scenario& s) { s.providers.at("onek").fill_delay = 3s; }

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

strategies::strategy_config convert_once(std::string name, std::string_view amount,
                                         bool cancel_on_stop) {
  strategies::strategy_config c;
  c.common.name = std::move(name);
  c.common.kind = strategies::strategy_kind::convert;
  c.common.from = "USDT";
  c.common.to = "USDC";
  c.common.providers = {"onek"};
  c.common.max_slippage_percent = dec("1");
  c.common.deadline = 20s;
  c.common.cancel_on_stop = cancel_on_stop;
  c.convert.amount = dec(amount);
  return c;
}

// One swap of the 001k emulator's ledger: its final status and reason, and whether a cancel was
// requested.
struct onek_swap {
  std::string status;
  std::string reason;
  bool cancel_requested = false;
};

std::map<std::string, onek_swap> onek_swaps_by_client(fault_world& w) {
  auto* emulator = dynamic_cast<onek::emulator*>(w.provider("onek").emulator.get());
  EXPECT_NE(emulator, nullptr);
  std::map<std::string, onek_swap> out;
  if (emulator == nullptr) return out;
  const std::string json = emulator->ledger_json();
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError());
  for (const auto& s : doc["swaps"].GetArray()) {
    onek_swap swap;
    swap.status = s["status"].GetString();
    if (s["reason_code"].IsString()) swap.reason = s["reason_code"].GetString();
    swap.cancel_requested = s["cancel_requested_at"].IsString();
    out[s["custom_id"].GetString()] = swap;
  }
  return out;
}

task<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

// Two convert strategies on 001k, one with cancel_on_stop: both legs are open when the stop comes.
TEST(BotStop, CancelOnStopCancelsOpenLegsOthersAreTrackedToTheirFill) {
  fault_world w("bot-stop", testing::fault_scenario_yaml(), slow_onek_fills);
  w.start();
  const std::vector<venue*> venues = w.venues();

  strategies::bot* running = nullptr;
  int open_legs = 0;
  const event_sink world_sink = w.sink();
  executor exec(venues, w.records(), w.options, [&](const execution_event& e) {
    world_sink(e);
    if (e.kind == "phase" && !e.client.empty() && e.detail.starts_with("open")) ++open_legs;
    if (running != nullptr) running->observe(e);
  });

  std::vector<std::unique_ptr<strategies::strategy>> list;
  list.push_back(strategies::make_strategy(convert_once("cancels", "100", true)));
  list.push_back(strategies::make_strategy(convert_once("tracks", "200", false)));
  strategies::risk_guard risk(strategies::risk_config{});
  strategies::bot_options options;
  options.tick = 100ms;
  options.drain = 15s;
  options.planning = w.options.planning;
  options.book = &w.book();
  std::map<std::string, std::string> intent_of;  // strategy -> intent id
  strategies::bot_hooks hooks;
  hooks.on_decision = [&](const strategies::decision_event& d) {
    if (d.outcome == "intent") intent_of[d.strategy] = d.intent_id;
  };
  strategies::bot bot(std::move(list), risk, exec, venues, options, hooks);
  running = &bot;

  // The signal: once both legs are open at 001k (and their trackers wait between polls).
  bool stopped_with_open_legs = false;
  asio::co_spawn(
      w.io(),
      [&]() -> task<void> {
        while (open_legs < 2) co_await sleep_for(20ms);
        co_await sleep_for(200ms);
        stopped_with_open_legs = open_legs == 2;
        bot.stop("SIGTERM");
      },
      asio::detached);
  const auto summary = w.run(bot.run(60s));
  running = nullptr;

  ASSERT_TRUE(stopped_with_open_legs);
  ASSERT_EQ(intent_of.size(), 2u);
  const std::string cancelled_leg = intent_of["cancels"] + "-L0-A0";
  const std::string tracked_leg = intent_of["tracks"] + "-L0-A0";
  EXPECT_EQ(summary.open_intents, 0u);

  // The emulator got one cancel request, for the cancel_on_stop leg only.
  EXPECT_EQ(w.requests("onek", "/api/v1/swap/cancel"), 1u);
  const auto swaps = onek_swaps_by_client(w);
  ASSERT_EQ(swaps.size(), 2u);
  EXPECT_TRUE(swaps.at(cancelled_leg).cancel_requested);
  EXPECT_EQ(swaps.at(cancelled_leg).status, "failed");
  EXPECT_EQ(swaps.at(cancelled_leg).reason, "cancelled");
  EXPECT_FALSE(swaps.at(tracked_leg).cancel_requested);
  EXPECT_EQ(swaps.at(tracked_leg).status, "success");

  // The journal: the cancel request and the leg cancelled; nothing re-planned; the other filled.
  const auto cancels = w.events("cancel");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].client, cancelled_leg);
  EXPECT_EQ(cancels[0].detail, "stopping: cancel requested");
  EXPECT_EQ(w.phases_of(cancelled_leg),
            (std::vector<leg_phase>{leg_phase::planned, leg_phase::submitting, leg_phase::accepted,
                                    leg_phase::open, leg_phase::cancelled}));
  EXPECT_EQ(w.phases_of(tracked_leg).back(), leg_phase::filled);
  EXPECT_EQ(w.records().leg(intent_of["cancels"] + "-L1-A1").value(), std::nullopt);
  EXPECT_EQ(w.records().intent(intent_of["cancels"]).value()->state, "failed");
  EXPECT_EQ(w.records().intent(intent_of["tracks"]).value()->state, "done");
  ASSERT_EQ(summary.strategies.size(), 2u);
  EXPECT_EQ(summary.strategies[0].fills, 0u);
  EXPECT_EQ(summary.strategies[1].fills, 1u);

  // One log line for the stop of the intent and one for the cancel request, with both ids.
  const std::string logs = w.logs();
  EXPECT_NE(logs.find("stopping: intent=" + intent_of["cancels"] + " strategy=cancels"),
            std::string::npos)
      << logs;
  EXPECT_EQ(logs.find("stopping: intent=" + intent_of["tracks"]), std::string::npos) << logs;
  EXPECT_NE(logs.find("cancel intent=" + intent_of["cancels"] + " leg=" + cancelled_leg +
                      " stopping: cancel requested"),
            std::string::npos)
      << logs;
  w.check_invariants();
}

}  // namespace
}  // namespace swaprouter
