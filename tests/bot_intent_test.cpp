// Intents given to the bot from outside (POST /intents -> bot::submit), against the emulators of
// the fault world (tests/support/fault_fixture.hpp) over loopback TLS, I1-I5 checked after.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "strategies/bot.hpp"
#include "tests/support/fault_fixture.hpp"

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using testing::fault_world;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

// An intent to receive exactly 150 USDC for USDT (issue 6's exact-receive intents, which the
// quote command plans): the bot journals it on the receive side, says so in its decision, and the
// legs it executes deliver 150 USDC net, not what spending 150 USDT would.
TEST(BotIntent, AnExactReceiveIntentIsJournaledAsOneAndDeliversItsAmount) {
  fault_world w("bot-receive");
  w.start();
  const std::vector<venue*> venues = w.venues();
  strategies::bot* running = nullptr;
  const event_sink world_sink = w.sink();
  executor exec(venues, w.records(), w.options, [&](const execution_event& e) {
    world_sink(e);
    if (running != nullptr) running->observe(e);
  });
  strategies::risk_guard risk(strategies::risk_config{});
  strategies::bot_options options;
  options.tick = 100ms;
  options.drain = 15s;
  options.planning = w.options.planning;
  options.book = &w.book();
  std::vector<std::string> decided;
  strategies::bot_hooks hooks;
  hooks.on_decision = [&](const strategies::decision_event& d) {
    decided.push_back(d.outcome + ": " + d.detail);
  };
  hooks.on_result = [&](std::string_view, const execution_result&) {
    if (running != nullptr) running->stop("executed");
  };
  strategies::bot bot({}, risk, exec, venues, options, hooks);
  running = &bot;

  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "USDC";
  intent.side = amount_side::receive;
  intent.amount = dec("150");
  intent.deadline = std::chrono::system_clock::now() + 30s;
  intent.providers = {"onek"};
  const std::string id = bot.submit(intent, "http");
  w.run(bot.run(60s));
  running = nullptr;

  ASSERT_EQ(decided.size(), 2u);
  EXPECT_TRUE(decided[0].starts_with("intent: receive 150 USDC for USDT min 0 ")) << decided[0];
  EXPECT_TRUE(decided[1].starts_with("executed: done: ")) << decided[1];
  const auto record = w.records().intent(id).value();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->side, amount_side::receive);
  EXPECT_EQ(record->amount, dec("150"));
  EXPECT_EQ(record->state, "done");
  const auto legs = w.records().legs_of(id).value();
  ASSERT_EQ(legs.size(), 1u);
  const leg_record& leg = legs.front();
  EXPECT_EQ(leg.phase, leg_phase::filled);
  EXPECT_EQ(leg.provider, "onek");
  EXPECT_EQ(leg.side, amount_side::spend);
  EXPECT_EQ(leg.spend_filled, leg.amount);
  // The journal's receive_filled is the net: 150, and no more than the spend's last place
  // (0.000001 USDT at about 1) can add.
  EXPECT_GE(leg.receive_filled, dec("150")) << leg.amount.to_string();
  EXPECT_LT(leg.receive_filled, dec("150.000002")) << leg.amount.to_string();
  EXPECT_TRUE(leg.fee_filled.is_positive());
  EXPECT_GT(leg.amount, dec("150")) << "the 0.25 % fee and the spread cost USDT on top";
  EXPECT_EQ(bot.submitted(id)->state, "done");
  w.check_invariants();
}

}  // namespace
}  // namespace swaprouter
