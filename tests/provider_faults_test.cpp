// FAULTS.md scenarios where each provider behaves in its own way, run against the provider's
// emulator in the fault world (tests/support/fault_fixture.hpp): documented rejections against
// disguised timeouts in each provider's own error shape (8), transient status errors where the
// executor polls (10), settlements that differ from the quote (17), and provider records that
// must not be adopted (25): two candidates in the history of a provider without client ids (a
// swap the journal gives to another leg is none), a history entry of another pair or amount, a
// KIIEX order for another amount under our ClientOrderId. I1-I5 are checked after each.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "adapters/kiiex/emulator.hpp"
#include "adapters/oxapay/emulator.hpp"
#include "adapters/stablestack/wire.hpp"
#include "tests/support/fault_fixture.hpp"
#include "tests/support/fault_scenario.hpp"

namespace swaprouter {
namespace {

using namespace std::chrono_literals;
using sim::fault_kind;
using testing::alarms_for;
using testing::count_of;
using testing::crash_at;
using testing::creates;
using testing::fault_world;
using testing::intent_at;
using testing::patient_adapter;
using testing::phase_of_leg;
using testing::swaps_for;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

// StableStack's completed debit of `amount` USDT for swap `ref` and, `with_credit`, its credit of
// `credit_amount` in `credit`, as a page of GET /api/transactions or GET by_ref_id.
std::string stablestack_legs(std::string_view ref, std::string_view amount, std::string_view credit,
                             bool with_credit, std::string_view credit_amount = "400000.00") {
  const std::string at =
      fmt::format("{:%Y-%m-%dT%H:%M:%S}.000Z",
                  std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  const auto tx = [&](std::string_view n, std::string_view asset, std::string_view mode,
                      std::string_view value) {
    return fmt::format(
        R"({{"id":"tx-{0}-{1}","transaction_id":"TX{1}","asset_code":"{2}","amount":"{3}",)"
        R"("reference_id":"{0}","status":"COMPLETED","created_at":"{4}","updated_at":"{4}",)"
        R"("transaction_type":"INTERNAL TRANSFER","transaction_mode":"{5}","fee":null}})",
        ref, n, asset, value, at, mode);
  };
  std::string items = tx("1", "usdt", "DEBIT", amount);
  if (with_credit) items += "," + tx("2", credit, "CREDIT", credit_amount);
  return fmt::format(R"({{"status":"success","data":[{}],)"
                     R"("pagination":{{"total":{},"page":1,"limit":100,"totalPages":1}}}})",
                     items, with_credit ? 2 : 1);
}

// An OxaPay history page listing `items` (swap objects).
std::string oxapay_history(const std::string& items, int total) {
  return fmt::format(R"({{"data":{{"list":[{}],"meta":{{"page":1,"last_page":1,"total":{}}}}},)"
                     R"("message":"Operation completed successfully!","error":{{}},"status":200,)"
                     R"("version":"1.0.0"}})",
                     items, total);
}

std::string oxapay_swap(std::string_view track, std::string_view from, std::string_view to,
                        std::string_view amount) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return fmt::format(R"({{"track_id":"{}","from_currency":"{}","to_currency":"{}",)"
                     R"("from_amount":{},"to_amount":0.00150000,"rate":0.0000153,"date":{}}})",
                     track, from, to, amount, now);
}

sim::fault every_read(std::string method, std::string body) {
  sim::fault f = fault_world::once(fault_kind::status, std::move(method));
  f.status = 200;
  f.body = std::move(body);
  f.remaining = -1;
  return f;
}

// --- 8: only a documented rejection is one, in each provider's own error shape ----------------

struct answer_row {
  std::string name;
  sim::fault fault;
  leg_phase third;  // the phase after submitting
};

sim::fault answer(int status, std::string body, bool run_handler) {
  sim::fault f = fault_world::once(fault_kind::status, "POST", run_handler);
  f.status = status;
  f.body = std::move(body);
  return f;
}

// The documented validation refusal (nothing created), the same shape whose message says the
// request timed out (created), and the emulators' generic disguised timeout (created).
std::vector<answer_row> rejection_table(std::string_view p) {
  std::vector<answer_row> out;
  if (p == "kiiex") {
    out.push_back({"documented",
                   answer(200,
                          R"({"result":false,"errormsg":"Invalid Request",)"
                          R"("errorcode":100,"detail":"Quantity is invalid"})",
                          false),
                   leg_phase::rejected});
    out.push_back({"own_shape_timed_out",
                   answer(200,
                          R"({"result":false,"errormsg":"Invalid Request",)"
                          R"("errorcode":100,"detail":"request timed out, retry"})",
                          true),
                   leg_phase::unknown});
  } else if (p == "stablestack") {
    out.push_back({"documented",
                   answer(400,
                          R"({"status":"failed","message":"amount is invalid","error":)"
                          R"({"code":"INVALID_PARAMETER","message":"amount is invalid",)"
                          R"("details":{}}})",
                          false),
                   leg_phase::rejected});
    out.push_back({"own_shape_timed_out",
                   answer(400,
                          R"({"status":"failed","message":"upstream timed out","error":)"
                          R"({"code":"INVALID_PARAMETER","message":"upstream timed out",)"
                          R"("details":{}}})",
                          true),
                   leg_phase::unknown});
  } else {
    out.push_back({"documented",
                   answer(400,
                          R"({"data":{},"message":"Invalid amount","error":)"
                          R"({"type":"validation_error","key":"amount",)"
                          R"("message":"Invalid amount"},"status":400,)"
                          R"("version":"1.0.0"})",
                          false),
                   leg_phase::rejected});
    out.push_back({"own_shape_timed_out",
                   answer(400,
                          R"({"data":{},"message":"Request timed out","error":)"
                          R"({"type":"validation_error","key":"amount",)"
                          R"("message":"Request timed out"},"status":400,)"
                          R"("version":"1.0.0"})",
                          true),
                   leg_phase::unknown});
  }
  out.push_back({"generic_timeout_400", fault_world::once(fault_kind::timeout_400, "POST", true),
                 leg_phase::unknown});
  return out;
}

// Each row at provider `p`, one intent each; the rejection's remainder fills at 001k.
void rejections_at(std::string_view p) {
  fault_world w(fmt::format("pf-s08-{}", p));
  // The rejection's re-plan is the first contact with the other three providers (new TLS
  // connections, 001k's clock sync), on the one thread that also runs the four emulators. Past
  // the world's 2 s quote fan-out, 001k is left out of the re-plan and the remainder is alarmed,
  // not filled (a 001k listing held 2.1 s does it). No quote hangs here.
  w.options.fanout = 20s;
  w.start();
  for (const auto& r : rejection_table(p)) {
    SCOPED_TRACE(r.name);
    const std::string id = fmt::format("I-pf08-{}-{}", p, r.name);
    const client_id client = id + "-L0-A0";
    const std::size_t before = creates(w, p);
    const std::size_t onek_before = w.swaps("onek").size();
    w.fault(p, fault_world::create_route(p), r.fault);
    const auto out = w.execute(intent_at(w, id, p), p);
    EXPECT_TRUE(w.provider(p).server->faults().list().empty()) << "the answer was met";
    const auto phases = w.phases_of(client);
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases[2], r.third);
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(creates(w, p), before + 1) << "never resent";
    if (r.third == leg_phase::rejected) {
      // Nothing was created; the remainder is re-planned and fills at 001k.
      EXPECT_EQ(phase_of_leg(w, client), leg_phase::rejected);
      EXPECT_EQ(swaps_for(w, p, client), 0u);
      EXPECT_EQ(w.swaps("onek").size(), onek_before + 1);
    } else {
      // Created behind the disguised answer: adopted, the one swap.
      EXPECT_EQ(phase_of_leg(w, client), leg_phase::filled);
      EXPECT_EQ(swaps_for(w, p, client), 1u);
      EXPECT_EQ(w.swaps("onek").size(), onek_before);
    }
  }
  w.check_invariants();
}

TEST(ProviderFaults, S08_KiiexRejectionVsDisguisedTimeout) { rejections_at("kiiex"); }
TEST(ProviderFaults, S08_StableStackRejectionVsDisguisedTimeout) { rejections_at("stablestack"); }
TEST(ProviderFaults, S08_OxaPayRejectionVsDisguisedTimeout) { rejections_at("oxapay"); }

// --- 10: status polls that fail are not "not found" -----------------------------------------

// Ten status polls in a row answer 500, then ten are reset before an answer (a TLS reset).
void transient_status_errors_at(fault_world& w, std::string_view p) {
  // Backoff is not under test here: short, so that twenty failed polls take little time.
  w.options.poll_max = 40ms;
  int n = 0;
  for (const auto kind : {fault_kind::status, fault_kind::reset_before}) {
    SCOPED_TRACE(sim::to_string(kind));
    sim::fault f;
    f.kind = kind;
    f.status = 500;
    f.method = fault_world::status_method(p);
    f.remaining = 10;
    w.fault(p, fault_world::status_route(p), f);
    const std::string id = fmt::format("I-pf10-{}-{}", p, n++);
    const client_id client = id + "-L0-A0";
    const auto out = w.execute(intent_at(w, id, p), p);
    EXPECT_TRUE(w.provider(p).server->faults().list().empty())
        << "every injected poll failure happened";
    w.provider(p).server->faults().clear_all();
    EXPECT_TRUE(out.filled) << out.state << ": recovers when the provider does";
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::filled);
    const auto phases = w.phases_of(client);
    EXPECT_EQ(count_of(phases, leg_phase::lost), 0u) << "a poll error is not not-found";
    EXPECT_EQ(count_of(phases, leg_phase::failed), 0u);
    EXPECT_EQ(count_of(phases, leg_phase::unknown), 0u);
    EXPECT_EQ(swaps_for(w, p, client), 1u);
    EXPECT_EQ(alarms_for(w, client), 1u) << "ten failed polls in a row: one alarm";
  }
  w.check_invariants();
}

// Every failed poll reaches the tracker, as in Faults.S10 for 001k.
TEST(ProviderFaults, S10_StableStackTransientStatusErrors) {
  fault_world w("pf-s10-stablestack");
  w.start();
  w.retune_venue("stablestack", patient_adapter());
  transient_status_errors_at(w, "stablestack");
}

TEST(ProviderFaults, S10_KiiexTransientStatusErrors) {
  fault_world w("pf-s10-kiiex");
  w.start();
  w.retune_venue("kiiex", patient_adapter());
  transient_status_errors_at(w, "kiiex");
}

// --- 17: the provider settles outside the quote ----------------------------------------------

// OxaPay's quote is indicative and its swap executes at once at the current rate: the rate
// falls 5 % between the quote and the swap.
TEST(ProviderFaults, S17_OxaPaySettlesOutsideTheQuote) {
  fault_world w("pf-s17-oxapay");
  w.start();
  sim::ledger& account = dynamic_cast<oxapay::emulator&>(*w.provider("oxapay").emulator).account();
  const decimal before = account.balance("BTC").available;
  const client_id client = "I-pf17-ox-L0-A0";
  const auto i = intent_at(w, "I-pf17-ox", "oxapay");
  auto quoted = w.plan(i, "oxapay");
  testing::move_rate(w, "USDT", "BTC", "0.95");
  auto exec = w.make_executor();
  const auto out = w.run(exec->execute(i, quoted));
  w.market().clear_rate("USDT", "BTC");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_LT(out.received, out.quoted_net);
  // Accounting uses what the provider reports: exactly what OxaPay credited.
  EXPECT_EQ(out.received, account.balance("BTC").available - before);
  const auto leg = w.records().leg(client).value().value();
  EXPECT_EQ(leg.phase, leg_phase::filled);
  EXPECT_EQ(leg.receive_filled, out.received);
  EXPECT_EQ(leg.spend_filled, dec("100"));
  EXPECT_EQ(leg.quoted_receive, out.quoted_net);
  // Recorded (a settled event with the reported amounts) and alarmed.
  bool settled = false;
  for (const auto& e : w.events("settled")) settled = settled || e.client == client;
  EXPECT_TRUE(settled);
  EXPECT_EQ(alarms_for(w, client), 1u);
  EXPECT_EQ(swaps_for(w, "oxapay", client), 1u);
  w.check_invariants();
}

// StableStack's quote is firm, so its emulator never settles off the quote by itself: its status
// answers instead report the swap completed for 95 USDC (outside the tolerance), or for 40 of
// the 100 USDT (partly). The answers are installed once the create's answer is read, with the
// swap id it named.
TEST(ProviderFaults, S17_StableStackReportsAnotherSettlement) {
  fault_world w("pf-s17-stablestack");
  w.start();
  struct variant {
    std::string name;
    std::string debit;
    std::string credit;
  };
  for (const variant& v : {variant{"outside", "100", "95"}, variant{"partly", "40", "39.9"}}) {
    SCOPED_TRACE(v.name);
    const std::string id = "I-pf17-ss-" + v.name;
    const client_id client = id + "-L0-A0";
    const auto i = intent_at(w, id, "stablestack");
    auto quoted = w.plan(i, "stablestack");
    execution_options o = w.options;
    std::string ref;
    o.crash = [&](std::string_view at) {
      if (at != "after_response_read" || !ref.empty()) return;
      const auto swaps = w.swaps("stablestack");
      ASSERT_FALSE(swaps.empty());
      ref = swaps.back().ref;
      w.fault("stablestack", fault_world::status_route("stablestack"),
              every_read("GET", stablestack_legs(ref, v.debit, "usdc", true, v.credit)));
    };
    auto exec = w.make_executor(o);
    const auto out = w.run(exec->execute(i, quoted));
    w.provider("stablestack").server->faults().clear_all();
    ASSERT_FALSE(ref.empty());
    const auto leg = w.records().leg(client).value().value();
    EXPECT_EQ(leg.provider_ref, ref);
    EXPECT_EQ(leg.phase, leg_phase::filled);
    // Accounting uses what the provider reports.
    EXPECT_EQ(leg.spend_filled, dec(v.debit));
    EXPECT_EQ(leg.receive_filled, dec(v.credit));
    // Whether the unspent 60 USDT of "partly" is re-planned is the executor's policy for a
    // filled leg that spent less than its amount (not pinned here).
    if (v.name == "outside") {
      EXPECT_EQ(out.received, dec(v.credit));
    } else {
      EXPECT_GE(out.received, dec(v.credit));
    }
    bool settled = false;
    for (const auto& e : w.events("settled")) settled = settled || e.client == client;
    EXPECT_TRUE(settled) << "recorded";
    EXPECT_EQ(alarms_for(w, client), 1u) << "and alarmed";
    EXPECT_EQ(swaps_for(w, "stablestack", client), 1u) << "never resent";
  }
  w.check_invariants();
}

// KIIEX's order is IOC with its limit at the quote's worst price, so a fall of 5 % between the
// quote and the order cannot settle outside the quote: the order is cancelled unfilled, nothing
// moves at KIIEX, and the remainder is re-planned (at 001k, at the new rate).
TEST(ProviderFaults, S17_KiiexNeverSettlesOutsideItsLimit) {
  fault_world w("pf-s17-kiiex");
  w.start();
  sim::ledger& account = dynamic_cast<kiiex::emulator&>(*w.provider("kiiex").emulator).account();
  const decimal usdt_before = account.balance("USDT").available;
  const decimal copm_before = account.balance("COPM").available;
  const client_id client = "I-pf17-kx-L0-A0";
  const auto i = intent_at(w, "I-pf17-kx", "kiiex");
  auto quoted = w.plan(i, "kiiex");
  testing::move_rate(w, "USDT", "COPM", "0.95");
  auto exec = w.make_executor();
  const auto out = w.run(exec->execute(i, quoted));
  w.market().clear_rate("USDT", "COPM");
  const auto leg = w.records().leg(client).value().value();
  EXPECT_EQ(leg.phase, leg_phase::cancelled);
  EXPECT_EQ(leg.spend_filled, decimal{});
  EXPECT_EQ(leg.receive_filled, decimal{});
  EXPECT_EQ(account.balance("USDT").available, usdt_before);
  EXPECT_EQ(account.balance("COPM").available, copm_before);
  EXPECT_EQ(alarms_for(w, client), 0u);
  EXPECT_EQ(w.events("replan").size(), 1u);
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_EQ(w.swaps("onek").size(), 1u);
  w.check_invariants();
}

// --- 25: records that must not be adopted ----------------------------------------------------

// Alarms of any leg that call a provider record inconsistent.
std::size_t inconsistent_alarms(fault_world& w) {
  std::size_t n = 0;
  for (const auto& e : w.events("alarm")) {
    n += e.detail.find("inconsistent") != std::string::npos ? 1 : 0;
  }
  return n;
}

// StableStack and OxaPay keep no client id: after a restart the adapter no longer knows which
// swaps it made, so they are searched by pair, amount and time. A swap of the same amount the
// journal gives to another leg (an earlier convert, an equal TWAP slice) is no candidate: the
// leg whose answer was lost is adopted with its own swap, not frozen.
TEST(ProviderFaults, S25_AnotherLegsSwapIsNoCandidateAfterARestart) {
  fault_world w("pf-s25-held");
  w.start();
  for (const std::string_view p : {"stablestack", "oxapay"}) {
    SCOPED_TRACE(p);
    const std::string first_id = fmt::format("I-pf25-{}-first", p);
    ASSERT_TRUE(w.execute(intent_at(w, first_id, p, "77"), p).filled);
    const auto first = w.records().leg(first_id + "-L0-A0").value().value();
    ASSERT_FALSE(first.provider_ref.empty());
    const auto other_swap = [&](const std::set<std::string>& known) {
      std::string ref;
      for (const auto& s : w.swaps(p)) {
        if (!known.contains(s.ref)) ref = s.ref;
      }
      return ref;
    };

    // The swap is made, the process dies before its answer reaches the journal; the restart
    // looks the leg up among two swaps of 77 USDT.
    const std::string id = fmt::format("I-pf25-{}-second", p);
    const client_id client = id + "-L0-A0";
    crash_at(w, intent_at(w, id, p, "77"), p, "after_response_read");
    ASSERT_EQ(w.swaps(p).size(), 2u);
    const std::string second_swap = other_swap({first.provider_ref});
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::submitting);
    w.restart();
    const auto recovered = w.run(w.make_executor()->recover());
    EXPECT_EQ(recovered.adopted, 1u);
    EXPECT_EQ(recovered.frozen, 0u);
    const auto second = w.records().leg(client).value().value();
    EXPECT_EQ(second.phase, leg_phase::filled);
    EXPECT_EQ(second.provider_ref, second_swap);
    EXPECT_EQ(count_of(w.phases_of(client), leg_phase::frozen), 0u);
    EXPECT_EQ(alarms_for(w, client), 0u);
    EXPECT_EQ(creates(w, p), 2u) << "never resent";
    EXPECT_EQ(swaps_for(w, p, client), 1u);
    EXPECT_EQ(swaps_for(w, p, first.client), 1u);
    EXPECT_EQ(w.records().leg_by_ref(p, first.provider_ref).value().value().client, first.client);

    // The same while running: a new process's adapter, the create's answer lost; reconcile
    // searches three swaps of 77 USDT, two of them journaled.
    w.restart();
    const std::string third_id = fmt::format("I-pf25-{}-third", p);
    const client_id third_client = third_id + "-L0-A0";
    w.fault(p, fault_world::create_route(p), fault_world::once(fault_kind::reset_after));
    EXPECT_TRUE(w.execute(intent_at(w, third_id, p, "77"), p).filled);
    const auto phases = w.phases_of(third_client);
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases[2], leg_phase::unknown);
    EXPECT_EQ(count_of(phases, leg_phase::frozen), 0u);
    ASSERT_EQ(w.swaps(p).size(), 3u);
    const auto third = w.records().leg(third_client).value().value();
    EXPECT_EQ(third.phase, leg_phase::filled);
    EXPECT_EQ(third.provider_ref, other_swap({first.provider_ref, second_swap}));
    EXPECT_EQ(alarms_for(w, third_client), 0u);
    EXPECT_EQ(creates(w, p), 3u) << "never resent";
  }
  EXPECT_EQ(inconsistent_alarms(w), 0u);
  w.check_invariants();
}

// Two swaps of the same pair and amount whose answers both died with their process: the journal
// tells neither's leg, so each leg has two candidates after the restart. Frozen and alarmed,
// never resent, not even after another restart.
TEST(ProviderFaults, S25_TwoCandidatesInTheHistoryAreFrozenNeverResent) {
  fault_world w("pf-s25-two");
  w.start();
  std::size_t frozen = 0;
  for (const std::string_view p : {"stablestack", "oxapay"}) {
    SCOPED_TRACE(p);
    std::vector<client_id> clients;
    for (const std::string_view n : {"a", "b"}) {
      const std::string id = fmt::format("I-pf25-{}-two-{}", p, n);
      clients.push_back(id + "-L0-A0");
      crash_at(w, intent_at(w, id, p, "77"), p, "after_response_read");
    }
    EXPECT_EQ(w.swaps(p).size(), 2u);
    w.restart();
    const auto recovered = w.run(w.make_executor()->recover());
    frozen += 2;
    EXPECT_EQ(recovered.frozen, frozen) << "both of this provider's legs and the earlier ones";
    EXPECT_EQ(recovered.adopted, 0u);
    for (const auto& client : clients) {
      SCOPED_TRACE(client);
      EXPECT_EQ(phase_of_leg(w, client), leg_phase::frozen) << "not adopted";
      EXPECT_TRUE(w.records().leg(client).value().value().provider_ref.empty());
      EXPECT_EQ(alarms_for(w, client), 1u);
    }
    EXPECT_EQ(creates(w, p), 2u) << "never resent";
    // Not even after a restart.
    w.restart();
    const auto again = w.run(w.make_executor()->recover());
    EXPECT_EQ(again.frozen, frozen);
    EXPECT_EQ(creates(w, p), 2u);
    EXPECT_EQ(w.swaps(p).size(), 2u);
  }
  w.check_invariants();
}

// The create never reached the provider, whose history then shows a swap of our amount for
// another pair, or one of our pair for another amount. Neither is adopted; nothing is resent.
TEST(ProviderFaults, S25_HistoryOfAnotherPairOrAmountIsNotAdopted) {
  fault_world w("pf-s25-other");
  // The grace window is not under test: short, for the three windows and the restart's.
  w.options.unknown_grace = 150ms;
  w.start();
  const std::string ss_list(stablestack::wire::path::transactions);
  {
    // StableStack lists the debit of a swap of 100 USDT whose credit is COPM: inconsistent.
    SCOPED_TRACE("stablestack other pair");
    const client_id client = "I-pf25-ss-pair-L0-A0";
    w.fault("stablestack", fault_world::create_route("stablestack"),
            fault_world::once(fault_kind::reset_before));
    w.fault("stablestack", ss_list, every_read("GET", stablestack_legs("F-1", "100", "", false)));
    w.fault("stablestack", fault_world::status_route("stablestack"),
            every_read("GET", stablestack_legs("F-1", "100", "copm", true)));
    const auto out = w.execute(intent_at(w, "I-pf25-ss-pair", "stablestack"), "stablestack");
    w.provider("stablestack").server->faults().clear_all();
    EXPECT_FALSE(out.filled);
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::frozen);
    EXPECT_TRUE(w.records().leg(client).value().value().provider_ref.empty());
    EXPECT_EQ(alarms_for(w, client), 1u);
  }
  {
    // A debit of 99 USDT is no candidate for a leg of 100: nothing found, never resent.
    SCOPED_TRACE("stablestack other amount");
    const client_id client = "I-pf25-ss-amount-L0-A0";
    const std::size_t reads =
        w.requests("stablestack", fault_world::status_route("stablestack"), "GET");
    w.fault("stablestack", fault_world::create_route("stablestack"),
            fault_world::once(fault_kind::reset_before));
    w.fault("stablestack", ss_list, every_read("GET", stablestack_legs("F-2", "99", "", false)));
    const auto out = w.execute(intent_at(w, "I-pf25-ss-amount", "stablestack"), "stablestack");
    w.provider("stablestack").server->faults().clear_all();
    EXPECT_EQ(out.state, "halted");
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::unknown);
    EXPECT_EQ(alarms_for(w, client), 1u);
    EXPECT_EQ(w.requests("stablestack", fault_world::status_route("stablestack"), "GET"), reads)
        << "the other amount's swap was not even read";
  }
  EXPECT_EQ(creates(w, "stablestack"), 2u);
  EXPECT_EQ(w.swaps("stablestack").size(), 0u);
  {
    // OxaPay's history (its filters are hints) answers a swap of our amount into USDC and one of
    // our pair for 99 USDT.
    SCOPED_TRACE("oxapay other pair and amount");
    const client_id client = "I-pf25-ox-L0-A0";
    w.fault("oxapay", fault_world::create_route("oxapay"),
            fault_world::once(fault_kind::reset_before));
    w.fault("oxapay", fault_world::status_route("oxapay"),
            every_read("GET", oxapay_history(oxapay_swap("F-3", "USDT", "USDC", "100") + "," +
                                                 oxapay_swap("F-4", "USDT", "BTC", "99"),
                                             2)));
    const auto out = w.execute(intent_at(w, "I-pf25-ox", "oxapay"), "oxapay");
    w.provider("oxapay").server->faults().clear_all();
    EXPECT_EQ(out.state, "halted");
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::unknown);
    EXPECT_TRUE(w.records().leg(client).value().value().provider_ref.empty());
    EXPECT_EQ(alarms_for(w, client), 1u);
    EXPECT_EQ(creates(w, "oxapay"), 1u);
  }
  w.restart();
  const auto recovered = w.run(w.make_executor()->recover());
  EXPECT_EQ(recovered.frozen, 1u);
  EXPECT_EQ(creates(w, "stablestack"), 2u);
  EXPECT_EQ(creates(w, "oxapay"), 1u);
  w.check_invariants();
}

// KIIEX holds an order under our ClientOrderId for another amount (placed by something else
// with the same id): it is not our leg's order. Frozen, alarmed, never resent.
TEST(ProviderFaults, S25_KiiexOrderForAnotherAmountIsFrozen) {
  fault_world w("pf-s25-kiiex");
  w.start();
  const auto i = intent_at(w, "I-pf25-kx", "kiiex");
  const client_id client = "I-pf25-kx-L0-A0";
  auto quoted = w.plan(i, "kiiex");
  leg other = quoted.result.routes.front().legs.front().order;
  other.amount = dec("50");
  other.min_receive = dec("100000");
  ASSERT_TRUE(w.run(w.venue_of("kiiex").submit(other, client)).has_value());
  w.run_for(300ms);  // the planted order fills
  w.fault("kiiex", fault_world::create_route("kiiex"), fault_world::once(fault_kind::reset_before));
  auto exec = w.make_executor();
  const auto out = w.run(exec->execute(i, quoted));
  EXPECT_FALSE(out.filled);
  EXPECT_EQ(phase_of_leg(w, client), leg_phase::frozen) << "not adopted";
  EXPECT_TRUE(w.records().leg(client).value().value().provider_ref.empty());
  EXPECT_EQ(alarms_for(w, client), 1u);
  EXPECT_EQ(creates(w, "kiiex"), 2u) << "the planted order and ours, none resent";
  w.restart();
  const auto recovered = w.run(w.make_executor()->recover());
  EXPECT_EQ(recovered.frozen, 1u);
  EXPECT_EQ(creates(w, "kiiex"), 2u);
  w.check_invariants();
}

}  // namespace
}  // namespace swaprouter
