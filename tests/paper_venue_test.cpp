// Dry-run mode: the paper venue over the real adapters and emulators (loopback TLS) with a still
// market. The same intent executed on paper and for real fills the same amounts exactly, the
// paper ledger ends where the provider's ledger does, nothing that moves money reaches the
// provider, and the journal marks the intent dry-run. Then the paper venue's own rules:
// time-to-live, slippage bound, limits, balance, client-id deduplication.
#include "engine/paper_venue.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/kiiex/emulator.hpp"
#include "adapters/onek/emulator.hpp"
#include "adapters/oxapay/emulator.hpp"
#include "adapters/stablestack/emulator.hpp"
#include "cli/fleet.hpp"
#include "engine/executor.hpp"
#include "tests/support/memory_journal.hpp"
#include "tests/support/run_task.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::memory_journal;

// Fixed prices, no latency, fast fills: one direction per provider that the intent below uses.
constexpr std::string_view scenario_yaml = R"(
seed: 5
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    directions: [USDT-COPM]
    balances: {USDT: "10000", COPM: "1000000"}
    credentials:
      - access_key: paper-onek-key
        secret: paper-onek-secret
    fill_delay_ms: 50
  kiiex:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    directions: [USDT-COPM]
    balances: {USDT: "10000", COPM: "1000000"}
    credentials:
      - access_key: paper-kiiex-key
        secret: paper-kiiex-secret
    fill_delay_ms: 50
  stablestack:
    port: 0
    fee_percent: "0.2"
    spread: "0.1"
    directions: [USDT-USDC]
    balances: {USDT: "10000", USDC: "10000"}
    credentials:
      - access_key: paper-stablestack-key
        secret: unused
    fill_delay_ms: 50
  oxapay:
    port: 0
    fee_percent: "0.4"
    spread: "0.1"
    min_spend_usd: "5"
    directions: [USDT-TRX]
    balances: {USDT: "10000"}
    credentials:
      - access_key: paper-oxapay-key
        secret: unused
)";

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

struct pair_case {
  std::string provider;
  std::string receive;
};

class PaperVenue : public ::testing::Test {
 protected:
  PaperVenue() {
    loaded_.path = "paper_venue_test";
    loaded_.scenario = sim::parse_scenario(scenario_yaml, loaded_.path);
    loaded_.market = std::make_unique<sim::market>(loaded_.scenario.market());
    options_.poll_initial = 20ms;
    options_.poll_max = 100ms;
    options_.find_initial = 20ms;
    options_.find_max = 100ms;
    options_.unknown_grace = 300ms;
    options_.leg_ttl = 10s;
    options_.fanout = 2s;
    options_.planning.split = false;
    cli::fleet_options f;
    f.ephemeral_ports = true;
    fleet_.emplace(io_, loaded_, f);
    venues_ = cli::connect_venues(io_.get_executor(), *fleet_);
  }

  ~PaperVenue() override {
    venues_.clear();
    fleet_->stop();
    io_.restart();
    io_.run_for(200ms);
    fleet_.reset();
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  venue& real(std::string_view name) {
    for (auto& v : venues_) {
      if (v.provider == name) return *v.venue;
    }
    throw std::logic_error("no venue");
  }

  // Swaps (001k, StableStack, OxaPay) or orders (KIIEX) in the emulator's /_sim/ledger.
  std::size_t ledger_entries(std::string_view name) {
    for (auto& p : fleet_->providers()) {
      if (p.name != name) continue;
      const std::string json = ledger_of(p);
      rapidjson::Document doc;
      doc.Parse(json.data(), json.size());
      const char* key = doc.HasMember("orders") ? "orders" : "swaps";
      return doc[key].GetArray().Size();
    }
    return 0;
  }

  static std::string ledger_of(cli::running_provider& p);

  decimal balance_of(std::vector<balance> list, std::string_view asset) {
    for (const auto& b : list) {
      if (b.asset == asset) return b.available;
    }
    return {};
  }

  intent_record intent(std::string id, std::string receive) {
    intent_record i;
    i.id = std::move(id);
    i.spend_asset = "USDT";
    i.receive_asset = std::move(receive);
    i.amount = dec("100");
    i.min_receive = dec("0.01");
    i.created_at = std::chrono::system_clock::now();
    i.deadline = i.created_at + 30s;
    return i;
  }

  leg spend_leg(std::string provider, std::string receive, std::string amount) {
    leg l;
    l.provider = std::move(provider);
    l.spend_asset = "USDT";
    l.receive_asset = std::move(receive);
    l.amount = dec(amount);
    l.time_to_live = 10s;
    return l;
  }

  asio::io_context io_;
  cli::loaded_scenario loaded_;
  std::optional<cli::fleet> fleet_;
  std::vector<cli::simulated_venue> venues_;
  execution_options options_;
};

std::string PaperVenue::ledger_of(cli::running_provider& p) {
  return p.emulator ? p.emulator->ledger_json() : "{}";
}

TEST_F(PaperVenue, DryRunFillsMatchTheProvidersOwnFillsExactly) {
  for (const pair_case& c : {pair_case{"onek", "COPM"}, pair_case{"kiiex", "COPM"},
                             pair_case{"stablestack", "USDC"}, pair_case{"oxapay", "TRX"}}) {
    SCOPED_TRACE(c.provider);
    venue& provider = real(c.provider);
    paper_options paper_opts;
    paper_opts.latency = false;
    paper_venue paper(provider, paper_opts);
    const std::size_t swaps_before = ledger_entries(c.provider);

    memory_journal paper_journal;
    execution_options dry = options_;
    dry.dry_run = true;
    const std::vector<venue*> on_paper{&paper};
    executor paper_exec(on_paper, paper_journal, dry);
    const auto on_paper_result = run(paper_exec.run(intent("P-" + c.provider, c.receive)));
    ASSERT_TRUE(on_paper_result.filled) << on_paper_result.state;
    EXPECT_TRUE(paper_journal.intent("P-" + c.provider).value()->dry_run);
    // Quotes only: nothing that moves money reached the provider.
    EXPECT_EQ(ledger_entries(c.provider), swaps_before);

    memory_journal real_journal;
    const std::vector<venue*> for_real{&provider};
    executor real_exec(for_real, real_journal, options_);
    const auto real_result = run(real_exec.run(intent("R-" + c.provider, c.receive)));
    ASSERT_TRUE(real_result.filled) << real_result.state;
    EXPECT_FALSE(real_journal.intent("R-" + c.provider).value()->dry_run);
    EXPECT_EQ(ledger_entries(c.provider), swaps_before + 1);

    EXPECT_EQ(on_paper_result.spent, real_result.spent);
    EXPECT_EQ(on_paper_result.received, real_result.received);
    ASSERT_EQ(on_paper_result.legs.size(), 1u);
    ASSERT_EQ(real_result.legs.size(), 1u);
    EXPECT_EQ(on_paper_result.legs[0].fee_filled, real_result.legs[0].fee_filled);
    EXPECT_TRUE(on_paper_result.received.is_positive());

    // The paper ledger started from the provider's balances and ends where the provider's does.
    const auto paper_balances = run(paper.balances()).value();
    const auto real_balances = run(provider.balances()).value();
    EXPECT_EQ(balance_of(paper_balances, "USDT"), balance_of(real_balances, "USDT"));
    EXPECT_EQ(balance_of(paper_balances, c.receive), balance_of(real_balances, c.receive));
  }
}

TEST_F(PaperVenue, AFillAfterTheTimeToLiveExpires) {
  paper_options o;
  o.latency = false;
  // Each reading of the clock is a second later than the one before.
  auto t = std::make_shared<wall_time>(std::chrono::system_clock::now());
  o.clock = [t] { return *t += 1s; };
  o.balances = std::vector<balance>{{"USDT", dec("1000"), {}}};
  paper_venue paper(real("onek"), o);
  leg l = spend_leg("onek", "COPM", "100");
  l.time_to_live = 500ms;
  const auto answer = run(paper.submit(l, "C-ttl")).value();
  EXPECT_EQ(answer.state, leg_state::expired);
  EXPECT_TRUE(answer.spend_filled.is_zero());
  EXPECT_EQ(balance_of(run(paper.balances()).value(), "USDT"), dec("1000"));
}

TEST_F(PaperVenue, SlippageBoundLimitsAndBalanceAreTheProvidersRules) {
  paper_options o;
  o.latency = false;
  o.balances = std::vector<balance>{{"USDT", dec("150"), {}}};
  paper_venue paper(real("onek"), o);
  quote_request ask;
  ask.spend_asset = "USDT";
  ask.receive_asset = "COPM";
  ask.amount = dec("100");
  const quote q = run(paper.price(ask)).value();

  // A net below the leg's minimum is not filled.
  leg tight = spend_leg("onek", "COPM", "100");
  tight.min_receive = q.receive_net + dec("1");
  EXPECT_EQ(run(paper.submit(tight, "C-slip")).value().state, leg_state::cancelled);

  // Exactly the quote's net fills, at the provider's precision, and is deduplicated.
  leg fair = spend_leg("onek", "COPM", "100");
  fair.min_receive = q.receive_net;
  const auto filled = run(paper.submit(fair, "C-fill")).value();
  EXPECT_EQ(filled.state, leg_state::filled);
  EXPECT_EQ(filled.spend_filled, q.spend_amount);
  EXPECT_EQ(net_received(filled, 8), q.receive_net);
  EXPECT_EQ(run(paper.submit(fair, "C-fill")).value().ref.provider_ref, filled.ref.provider_ref);
  const auto found = run(paper.find("C-fill", fair, {})).value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ref.provider_ref, filled.ref.provider_ref);
  EXPECT_EQ(run(paper.status(filled.ref)).value().state, leg_state::filled);
  EXPECT_FALSE(run(paper.find("C-none", fair, {})).value().has_value());
  const auto balances = run(paper.balances()).value();
  EXPECT_EQ(balance_of(balances, "USDT"), dec("50"));
  EXPECT_EQ(balance_of(balances, "COPM"), q.receive_net);

  // What the paper balance cannot pay for fails; what the provider's limits refuse is rejected.
  EXPECT_EQ(run(paper.submit(spend_leg("onek", "COPM", "60"), "C-poor")).value().state,
            leg_state::failed);
  const auto below = run(paper.submit(spend_leg("onek", "COPM", "0.0001"), "C-small"));
  ASSERT_FALSE(below.has_value());
  EXPECT_EQ(below.error().kind, error_kind::rejected);
  EXPECT_FALSE(below.error().may_have_reached);
  EXPECT_EQ(ledger_entries("onek"), 0u);
  EXPECT_TRUE(paper.traits().client_id);
}

}  // namespace
}  // namespace swaprouter
