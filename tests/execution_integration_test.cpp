// The executor with the real adapters against the real 001k and StableStack emulators over
// loopback TLS, with the emulators' fault hooks (FAULTS.md 1, 2, 7, 8, 9, 11), in the world the
// fault catalogue uses (tests/support/fault_fixture.hpp): a SQLite journal file and I1-I5 checked
// from the emulators' ledgers against the journal.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/support/fault_fixture.hpp"

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using testing::fault_world;

// Fixed prices (volatility 0), no latency: 001k USDT-USDC at fee 0.25 %, StableStack at 0.2 %.
constexpr std::string_view scenario_yaml = R"(
seed: 11
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    min_spend_usd: "1"
    directions: [USDT-USDC]
    balances: {USDT: "100000", USDC: "100000"}
    credentials:
      - access_key: onek-it-key
        secret: onek-it-secret
    fill_delay_ms: 200
    cancel_delay_ms: 50
  stablestack:
    port: 0
    fee_percent: "0.2"
    spread: "0.1"
    directions: [USDT-USDC]
    balances: {USDT: "100000", USDC: "100000"}
    credentials:
      - access_key: stablestack-it-key
        secret: unused
    fill_delay_ms: 200
)";

class ExecutionIntegration : public ::testing::Test {
 protected:
  void start() { w_.start(); }

  intent_record intent(std::string id, std::string amount = "100") {
    return w_.intent(std::move(id), "USDT", "USDC", std::move(amount), "90");
  }

  // Runs `i` planned at `planned_at` only, executed with every venue available for re-plans.
  execution_result execute(intent_record i, std::string_view planned_at) {
    return w_.execute(std::move(i), planned_at);
  }

  // 001k swaps by custom_id from its ledger.
  std::multiset<std::string> onek_swaps() {
    std::multiset<std::string> out;
    for (const auto& s : w_.swaps("onek")) out.insert(s.client);
    return out;
  }
  std::size_t stablestack_swaps() { return w_.swaps("stablestack").size(); }
  std::size_t posts(std::string_view name, std::string_view route) {
    return w_.requests(name, route);
  }
  void fault(std::string_view name, std::string route, sim::fault f) {
    w_.fault(name, std::move(route), std::move(f));
  }
  static sim::fault once(sim::fault_kind kind, bool run_handler = false) {
    return fault_world::once(kind, "POST", run_handler);
  }

  fault_world w_{"execution_integration", scenario_yaml};
  execution_options& options_ = w_.options;
};

constexpr std::string_view onek_open = "/api/v1/swap/open";
constexpr std::string_view ss_swaps = "/api/swaps";

TEST_F(ExecutionIntegration, OnekFillsAndSettlesTheNet) {
  start();
  const auto out = execute(intent("I-fill"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(out.received, out.quoted_net);
  EXPECT_TRUE(w_.events("alarm").empty());
  EXPECT_EQ(onek_swaps().count("I-fill-L0-A0"), 1u);
  w_.check_invariants();
}

// What `run` prints at the end of a simulate run: the run's journal against the emulators'
// ledgers. A swap made behind the journal's back, and a journaled reference no emulator has, are
// both named.
TEST_F(ExecutionIntegration, LedgerCheckAgreesAndNamesWhatTheJournalDoesNotKnow) {
  start();
  const wall_time since =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(execute(intent("I-ledger"), "onek").filled);
  cli::ledger_check agreed = cli::check_ledgers(w_.emulators(), w_.records(), since);
  EXPECT_EQ(agreed.swaps, 1u);
  EXPECT_EQ(agreed.legs, 1u);
  EXPECT_TRUE(agreed.disagreements.empty()) << agreed.disagreements.front();
  // Intents of an earlier run are not this run's: none counted.
  const cli::ledger_check later =
      cli::check_ledgers(w_.emulators(), w_.records(), since + std::chrono::hours(1));
  EXPECT_EQ(later.legs, 0u);
  ASSERT_EQ(later.disagreements.size(), 1u);

  // A swap at 001k that no journaled leg knows of (I2), made with a venue of its own.
  auto fresh = w_.fresh_venue("onek");
  const auto p = w_.plan(intent("I-behind"), "onek");
  ASSERT_TRUE(p.result.ok()) << p.result.failure;
  const leg behind = p.result.routes.front().legs.front().order;
  auto made = w_.run(fresh.venue->submit(behind, "behind-the-journal"));
  ASSERT_TRUE(made.has_value()) << made.error().message;
  const cli::ledger_check found = cli::check_ledgers(w_.emulators(), w_.records(), since);
  EXPECT_EQ(found.swaps, 2u);
  ASSERT_EQ(found.disagreements.size(), 1u);
  EXPECT_EQ(found.disagreements.front(),
            "onek: swap " + made->ref.provider_ref + " is not in the journal");
}

TEST_F(ExecutionIntegration, OnekCreatedThenResetIsAdoptedNotResent) {  // FAULTS.md 1
  start();
  fault("onek", std::string(onek_open), once(sim::fault_kind::reset_after));
  const auto out = execute(intent("I-f1"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(posts("onek", onek_open), 1u);
  EXPECT_EQ(w_.phases_of("I-f1-L0-A0")[2], leg_phase::unknown);
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, OnekNeverArrivedIsResentAfterTheGraceWithTheSameId) {  // FAULTS.md 2
  start();
  fault("onek", std::string(onek_open), once(sim::fault_kind::reset_before));
  const auto started = std::chrono::steady_clock::now();
  const auto out = execute(intent("I-f2"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_GE(std::chrono::steady_clock::now() - started, options_.unknown_grace);
  EXPECT_EQ(posts("onek", onek_open), 2u);
  EXPECT_EQ(onek_swaps().count("I-f2-L0-A0"), 1u);
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, Onek5xxWithAndWithoutCreationIsReconciled) {  // FAULTS.md 7
  start();
  sim::fault created = once(sim::fault_kind::status, true);
  created.status = 502;
  fault("onek", std::string(onek_open), created);
  const auto with = execute(intent("I-f7a"), "onek");
  EXPECT_TRUE(with.filled);
  EXPECT_EQ(posts("onek", onek_open), 1u);

  sim::fault not_created = once(sim::fault_kind::status, false);
  not_created.status = 503;
  fault("onek", std::string(onek_open), not_created);
  const auto without = execute(intent("I-f7b"), "onek");
  EXPECT_TRUE(without.filled);
  EXPECT_EQ(posts("onek", onek_open), 3u);  // the second intent's create was resent once
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, DisguisedTimeoutIsUnknownAndAValidationErrorRejected) {  // FAULTS 8
  start();
  fault("onek", std::string(onek_open), once(sim::fault_kind::timeout_400, true));
  const auto disguised = execute(intent("I-f8a"), "onek");
  EXPECT_EQ(w_.phases_of("I-f8a-L0-A0")[2], leg_phase::unknown);
  EXPECT_TRUE(disguised.filled);

  sim::fault invalid = once(sim::fault_kind::status);
  invalid.status = 422;
  invalid.body = R"({"code":"validation.error","message":"amount is invalid"})";
  fault("onek", std::string(onek_open), invalid);
  const auto rejected = execute(intent("I-f8b"), "onek");
  EXPECT_EQ(w_.phases_of("I-f8b-L0-A0")[2], leg_phase::rejected);
  // The remainder goes to StableStack.
  EXPECT_TRUE(rejected.filled);
  EXPECT_EQ(stablestack_swaps(), 1u);
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, NotFoundLagIsTrackedNeverFailed) {  // FAULTS.md 9
  start();
  sim::fault lag;
  lag.kind = sim::fault_kind::status;
  lag.status = 404;
  lag.body = R"({"code":"not_found","message":"swap not found"})";
  lag.method = "GET";
  lag.remaining = 40;
  fault("onek", "/api/v1/swap/{code}", lag);
  const auto out = execute(intent("I-f9"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  const auto phases = w_.phases_of("I-f9-L0-A0");
  EXPECT_EQ(phases.back(), leg_phase::filled);
  EXPECT_EQ(std::count(phases.begin(), phases.end(), leg_phase::failed), 0);
  EXPECT_EQ(std::count(phases.begin(), phases.end(), leg_phase::lost), 1);
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, OnekTtlExpiryIsCancelledAndTheRemainderReplanned) {  // FAULTS 11
  options_.leg_ttl = 100ms;  // shorter than the 200 ms fill: 001k expires the swap
  start();
  const auto out = execute(intent("I-f11"), "onek");
  const auto first = w_.records().leg("I-f11-L0-A0").value();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->phase == leg_phase::expired || first->phase == leg_phase::cancelled)
      << to_string(first->phase);
  EXPECT_EQ(w_.events("replan").size(), 1u);
  EXPECT_EQ(stablestack_swaps(), 1u);
  EXPECT_TRUE(out.filled) << out.state;
  w_.check_invariants();
}

TEST_F(ExecutionIntegration, StableStackCreatedThenResetIsAdoptedFromHistory) {  // FAULTS.md 1
  start();
  fault("stablestack", std::string(ss_swaps), once(sim::fault_kind::reset_after));
  const auto out = execute(intent("I-s1"), "stablestack");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(posts("stablestack", ss_swaps), 1u);
  EXPECT_EQ(stablestack_swaps(), 1u);
}

TEST_F(ExecutionIntegration, StableStackNeverArrivedIsNeverResent) {  // FAULTS.md 2
  start();
  fault("stablestack", std::string(ss_swaps), once(sim::fault_kind::reset_before));
  const auto out = execute(intent("I-s2"), "stablestack");
  EXPECT_FALSE(out.filled);
  EXPECT_EQ(out.state, "halted");
  EXPECT_EQ(posts("stablestack", ss_swaps), 1u);
  EXPECT_EQ(stablestack_swaps(), 0u);
  EXPECT_EQ(w_.records().leg("I-s2-L0-A0").value()->phase, leg_phase::unknown);
  EXPECT_FALSE(w_.events("alarm").empty());
}

struct killed {
  std::string point;
};

// FAULTS.md 3-5 in process: the crash hook throws at its point (nothing after it runs, the
// journal keeps what was committed), then a new executor over the same journal reconciles.
TEST_F(ExecutionIntegration, RestartAfterACrashAtEveryHookPointLeavesOneSwap) {
  start();
  int n = 0;
  for (const std::string point : {"after_intent_commit", "after_request_write",
                                  "after_response_read", "before_state_commit"}) {
    SCOPED_TRACE(point);
    const std::string id = "I-crash" + std::to_string(n++);
    execution_options crashing = options_;
    crashing.crash = [point](std::string_view at) {
      if (at == point) throw killed{point};
    };
    {
      auto doomed = w_.make_executor(crashing);
      const auto i = intent(id);
      auto quoted = w_.plan(i, "onek");
      ASSERT_TRUE(quoted.result.ok());
      EXPECT_THROW(w_.run(doomed->execute(i, quoted)), killed);
    }
    w_.restart();
    const auto recovered = w_.run(w_.make_executor()->recover());
    EXPECT_EQ(recovered.legs, 1u);
    const auto leg = w_.records().leg(id + "-L0-A0").value();
    ASSERT_TRUE(leg.has_value());
    if (point == "after_intent_commit") {
      EXPECT_EQ(leg->phase, leg_phase::cancelled);
      EXPECT_EQ(onek_swaps().count(id + "-L0-A0"), 0u);
    } else {
      EXPECT_EQ(leg->phase, leg_phase::filled);
      EXPECT_EQ(onek_swaps().count(id + "-L0-A0"), 1u);
      EXPECT_FALSE(leg->provider_ref.empty());
    }
    w_.check_invariants();
  }
  EXPECT_EQ(posts("onek", onek_open), 3u);
}

}  // namespace
}  // namespace swaprouter
