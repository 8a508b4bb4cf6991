// The executor with the real adapters against the real 001k and StableStack emulators over
// loopback TLS, with the emulators' fault hooks (FAULTS.md 1, 2, 7, 8, 9, 11), checking I1 (one
// swap per client id at the provider) and I2 (every swap the provider created is journaled)
// from the emulators' ledgers against the journal.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/onek/emulator.hpp"
#include "adapters/stablestack/client.hpp"
#include "adapters/stablestack/emulator.hpp"
#include "cli/fleet.hpp"
#include "engine/executor.hpp"
#include "tests/support/memory_journal.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::memory_journal;

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

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

class ExecutionIntegration : public ::testing::Test {
 protected:
  ExecutionIntegration() {
    loaded_.path = "execution_integration_test";
    loaded_.scenario = sim::parse_scenario(scenario_yaml, loaded_.path);
    loaded_.market = std::make_unique<sim::market>(loaded_.scenario.market());
    options_.poll_initial = 20ms;
    options_.poll_max = 100ms;
    options_.find_initial = 20ms;
    options_.find_max = 100ms;
    options_.unknown_grace = 300ms;
    options_.lost_after = 400ms;
    options_.leg_ttl = 10s;
    options_.fanout = 2s;
    options_.planning.split = false;
  }

  ~ExecutionIntegration() override {
    venues_.clear();
    if (fleet_) fleet_->stop();
    io_.restart();
    io_.run_for(200ms);
    fleet_.reset();
  }

  void start() {
    cli::fleet_options f;
    f.ephemeral_ports = true;
    fleet_.emplace(io_, loaded_, f);
    venues_ = cli::connect_venues(io_.get_executor(), *fleet_);
    // The StableStack API lists no directions: its client takes them from configuration, which
    // connect_venues does not pass yet.
    for (auto& v : venues_) {
      if (v.provider != "stablestack") continue;
      stablestack::client_options configured;
      direction d;
      d.provider = "stablestack";
      d.code = "USDT-USDC";
      d.spend_asset = "USDT";
      d.receive_asset = "USDC";
      d.enabled = true;
      configured.directions.push_back(d);
      v.venue = std::make_unique<stablestack::client>(*v.http, "stablestack-it-key", configured);
    }
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(work), [&](std::exception_ptr e, T value) {
      failure = e;
      if (!e) out = std::move(value);
    });
    io_.restart();
    while (!out && !failure) io_.run_one();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
  }

  cli::running_provider& provider(std::string_view name) {
    for (auto& p : fleet_->providers()) {
      if (p.name == name) return p;
    }
    throw std::logic_error("no provider");
  }

  std::vector<venue*> only(std::string_view name) {
    std::vector<venue*> out;
    for (auto& v : venues_) {
      if (v.provider == name) out.push_back(v.venue.get());
    }
    return out;
  }
  std::vector<venue*> all() {
    std::vector<venue*> out;
    for (auto& v : venues_) out.push_back(v.venue.get());
    return out;
  }

  intent_record intent(std::string id, std::string amount = "100") {
    intent_record i;
    i.id = std::move(id);
    i.spend_asset = "USDT";
    i.receive_asset = "USDC";
    i.amount = dec(amount);
    i.min_receive = dec("90");
    i.created_at = std::chrono::system_clock::now();
    i.deadline = i.created_at + 30s;
    return i;
  }

  // Runs `i` planned at `planned_at` only, executed with every venue available for re-plans.
  execution_result execute(intent_record i, std::string_view planned_at) {
    const std::vector<venue*> everyone = all();
    executor exec(everyone, journal_, options_);
    swap_intent asked;
    asked.spend_asset = i.spend_asset;
    asked.receive_asset = i.receive_asset;
    asked.amount = i.amount;
    asked.min_receive = i.min_receive;
    asked.providers.emplace_back(planned_at);
    auto quoted = run(quote_and_plan(everyone, asked, options_.planning, 2s));
    std::string why = quoted.result.failure;
    for (const auto& u : quoted.unavailable) why += "; " + u.route + ": " + u.reason;
    for (const auto& r : quoted.result.rejected) why += "; " + r.route + ": " + r.reason;
    EXPECT_TRUE(quoted.result.ok()) << why;
    return run(exec.execute(std::move(i), std::move(quoted)));
  }

  // 001k swaps by custom_id from /_sim/ledger.
  std::multiset<std::string> onek_swaps() {
    auto* emu = dynamic_cast<onek::emulator*>(provider("onek").emulator.get());
    rapidjson::Document doc;
    const std::string json = emu->ledger_json();
    doc.Parse(json.data(), json.size());
    std::multiset<std::string> out;
    for (const auto& s : doc["swaps"].GetArray()) {
      out.insert(s["custom_id"].IsString() ? s["custom_id"].GetString() : "");
    }
    return out;
  }

  std::size_t stablestack_swaps() {
    auto* emu = dynamic_cast<stablestack::emulator*>(provider("stablestack").emulator.get());
    rapidjson::Document doc;
    const std::string json = emu->ledger_json();
    doc.Parse(json.data(), json.size());
    return doc["swaps"].GetArray().Size();
  }

  std::size_t posts(std::string_view name, std::string_view route) {
    std::size_t n = 0;
    for (const auto& r : provider(name).server->requests()) {
      n += r.route == route && r.method == "POST" ? 1 : 0;
    }
    return n;
  }

  // I1 and I2 for 001k: every swap at the provider carries a journaled client id, once.
  void check_onek_invariants() {
    const auto swaps = onek_swaps();
    for (const auto& id : swaps) {
      EXPECT_EQ(swaps.count(id), 1u) << "I1: " << id;
      auto rec = journal_.leg(id);
      ASSERT_TRUE(rec.has_value());
      EXPECT_TRUE(rec->has_value()) << "I2: " << id;
    }
  }

  void fault(std::string_view name, std::string route, sim::fault f) {
    provider(name).server->faults().set(std::move(route), std::move(f));
  }

  static sim::fault once(sim::fault_kind kind, bool run_handler = false) {
    sim::fault f;
    f.kind = kind;
    f.remaining = 1;
    f.method = "POST";
    f.run_handler = run_handler;
    return f;
  }

  asio::io_context io_;
  cli::loaded_scenario loaded_;
  std::optional<cli::fleet> fleet_;
  std::vector<cli::simulated_venue> venues_;
  memory_journal journal_;
  execution_options options_;
};

constexpr std::string_view onek_open = "/api/v1/swap/open";
constexpr std::string_view ss_swaps = "/api/swaps";

TEST_F(ExecutionIntegration, OnekFillsAndSettlesTheNet) {
  start();
  const auto out = execute(intent("I-fill"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(out.received, out.quoted_net);
  EXPECT_TRUE(journal_.events("alarm").empty());
  EXPECT_EQ(onek_swaps().count("I-fill-L0-A0"), 1u);
  check_onek_invariants();
}

TEST_F(ExecutionIntegration, OnekCreatedThenResetIsAdoptedNotResent) {  // FAULTS.md 1
  start();
  fault("onek", std::string(onek_open), once(sim::fault_kind::reset_after));
  const auto out = execute(intent("I-f1"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(posts("onek", onek_open), 1u);
  EXPECT_EQ(journal_.phases_of("I-f1-L0-A0")[2], leg_phase::unknown);
  check_onek_invariants();
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
  check_onek_invariants();
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
  check_onek_invariants();
}

TEST_F(ExecutionIntegration, DisguisedTimeoutIsUnknownAndAValidationErrorRejected) {  // FAULTS 8
  start();
  fault("onek", std::string(onek_open), once(sim::fault_kind::timeout_400, true));
  const auto disguised = execute(intent("I-f8a"), "onek");
  EXPECT_EQ(journal_.phases_of("I-f8a-L0-A0")[2], leg_phase::unknown);
  EXPECT_TRUE(disguised.filled);

  sim::fault invalid = once(sim::fault_kind::status);
  invalid.status = 422;
  invalid.body = R"({"code":"validation.error","message":"amount is invalid"})";
  fault("onek", std::string(onek_open), invalid);
  const auto rejected = execute(intent("I-f8b"), "onek");
  EXPECT_EQ(journal_.phases_of("I-f8b-L0-A0")[2], leg_phase::rejected);
  // The remainder goes to StableStack.
  EXPECT_TRUE(rejected.filled);
  EXPECT_EQ(stablestack_swaps(), 1u);
  check_onek_invariants();
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
  const auto phases = journal_.phases_of("I-f9-L0-A0");
  EXPECT_EQ(phases.back(), leg_phase::filled);
  EXPECT_EQ(std::count(phases.begin(), phases.end(), leg_phase::failed), 0);
  EXPECT_EQ(std::count(phases.begin(), phases.end(), leg_phase::lost), 1);
  check_onek_invariants();
}

TEST_F(ExecutionIntegration, OnekTtlExpiryIsCancelledAndTheRemainderReplanned) {  // FAULTS 11
  options_.leg_ttl = 100ms;  // shorter than the 200 ms fill: 001k expires the swap
  start();
  const auto out = execute(intent("I-f11"), "onek");
  const auto first = journal_.leg("I-f11-L0-A0").value();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->phase == leg_phase::expired || first->phase == leg_phase::cancelled)
      << to_string(first->phase);
  EXPECT_EQ(journal_.events("replan").size(), 1u);
  EXPECT_EQ(stablestack_swaps(), 1u);
  EXPECT_TRUE(out.filled) << out.state;
  check_onek_invariants();
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
  EXPECT_EQ(journal_.leg("I-s2-L0-A0").value()->phase, leg_phase::unknown);
  EXPECT_FALSE(journal_.events("alarm").empty());
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
      const std::vector<venue*> everyone = all();
      executor doomed(everyone, journal_, crashing);
      auto i = intent(id);
      swap_intent asked;
      asked.spend_asset = i.spend_asset;
      asked.receive_asset = i.receive_asset;
      asked.amount = i.amount;
      asked.min_receive = i.min_receive;
      asked.providers.emplace_back("onek");
      auto quoted = run(quote_and_plan(everyone, asked, options_.planning, 2s));
      ASSERT_TRUE(quoted.result.ok());
      EXPECT_THROW(run(doomed.execute(i, quoted)), killed);
    }
    const std::vector<venue*> everyone = all();
    executor restarted(everyone, journal_, options_);
    const auto recovered = run(restarted.recover());
    EXPECT_EQ(recovered.legs, 1u);
    const auto leg = journal_.leg(id + "-L0-A0").value();
    ASSERT_TRUE(leg.has_value());
    if (point == "after_intent_commit") {
      EXPECT_EQ(leg->phase, leg_phase::cancelled);
      EXPECT_EQ(onek_swaps().count(id + "-L0-A0"), 0u);
    } else {
      EXPECT_EQ(leg->phase, leg_phase::filled);
      EXPECT_EQ(onek_swaps().count(id + "-L0-A0"), 1u);
      EXPECT_FALSE(leg->provider_ref.empty());
    }
    check_onek_invariants();
  }
  EXPECT_EQ(posts("onek", onek_open), 3u);
}

}  // namespace
}  // namespace swaprouter
