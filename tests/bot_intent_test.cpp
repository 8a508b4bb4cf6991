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

// A bot over the fault world's emulators with no strategies, for intents given to submit().
struct intent_bot {
  explicit intent_bot(std::string name) : w(std::move(name)) {
    w.start();
    venues = w.venues();
    const event_sink world_sink = w.sink();
    exec = std::make_unique<executor>(venues, w.records(), w.options,
                                      [this, world_sink](const execution_event& e) {
                                        world_sink(e);
                                        if (running) running->observe(e);
                                      });
    strategies::bot_options options;
    options.tick = 100ms;
    options.drain = 15s;
    options.planning = w.options.planning;
    options.book = &w.book();
    strategies::bot_hooks hooks;
    // Stops after the first intent's end, whether executed or refused before anything was sent.
    hooks.on_decision = [this](const strategies::decision_event& d) {
      decided.push_back(d.outcome + ": " + d.detail);
      if (d.outcome != "intent" && running) running->stop("decided");
    };
    running = std::make_unique<strategies::bot>(
        std::vector<std::unique_ptr<strategies::strategy>>{}, risk, *exec, venues, options, hooks);
  }

  std::string run(const swap_intent& intent) {
    const std::string id = running->submit(intent, "http");
    w.run(running->run(60s));
    return id;
  }

  fault_world w;
  std::vector<venue*> venues;
  strategies::risk_guard risk{strategies::risk_config{}};
  std::unique_ptr<executor> exec;
  std::vector<std::string> decided;
  std::unique_ptr<strategies::bot> running;
};

// 150 USDC for USDT at 001k, spending at most `max_spend` USDT.
swap_intent receive_150_usdc(std::string_view max_spend) {
  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "USDC";
  intent.side = amount_side::receive;
  intent.amount = dec("150");
  intent.max_spend = dec(max_spend);
  intent.deadline = std::chrono::system_clock::now() + 30s;
  intent.providers = {"onek"};
  return intent;
}

// An exact-receive intent whose cap is below what 150 USDC costs (the fee and the spread take
// USDT on top of 150) is not planned: nothing is journaled or sent, and the decision says why.
TEST(BotIntent, AnExactReceiveIntentNeverSpendsMoreThanItsCap) {
  intent_bot b("bot-receive-cap");
  const std::string id = b.run(receive_150_usdc("150"));
  ASSERT_EQ(b.decided.size(), 1u);
  EXPECT_TRUE(b.decided[0].starts_with("no_plan: above maximum: the least spend 150.5"))
      << b.decided[0];
  EXPECT_TRUE(b.decided[0].ends_with(
      " exceeds 150; receive 150 USDC for USDT spending at most 150 USDT (submitted)"))
      << b.decided[0];
  EXPECT_FALSE(b.w.records().intent(id).value().has_value());
  EXPECT_EQ(b.w.requests("onek", fault_world::create_route("onek"), "POST"), 0u);
  EXPECT_EQ(b.running->submitted(id)->state, "no_plan");
}

// An intent to receive exactly 150 USDC for USDT (issue 6's exact-receive intents, which the
// quote command plans): the bot journals it on the receive side with its cap, says so in its
// decision, and the legs it executes deliver 150 USDC net, not what spending 150 USDT would.
TEST(BotIntent, AnExactReceiveIntentIsJournaledAsOneAndDeliversItsAmount) {
  intent_bot b("bot-receive");
  auto& w = b.w;
  const auto& decided = b.decided;
  const std::string id = b.run(receive_150_usdc("151"));

  ASSERT_EQ(decided.size(), 2u);
  EXPECT_TRUE(
      decided[0].starts_with("intent: receive 150 USDC for USDT spending at most 151 USDT "))
      << decided[0];
  EXPECT_TRUE(decided[1].starts_with("executed: done: ")) << decided[1];
  const auto record = w.records().intent(id).value();
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->side, amount_side::receive);
  EXPECT_EQ(record->amount, dec("150"));
  EXPECT_EQ(record->max_spend, dec("151"));
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
  EXPECT_LE(leg.amount, dec("151"));
  EXPECT_EQ(b.running->submitted(id)->state, "done");
  w.check_invariants();
}

}  // namespace
}  // namespace swaprouter
