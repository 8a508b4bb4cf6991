// The FAULTS.md catalogue: one test per scenario (Faults.S01_... to Faults.S25_...), each run
// against the real emulators over loopback TLS with their fault hooks, the real adapters, the
// executor and a SQLite journal file, followed by the invariants I1-I5 (fault_world::
// check_invariants). Every credential is a sentinel ("SENTINEL-SECRET-<n>") that I4 looks for
// in the captured logs, the journal file, the metrics text and the status JSON.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <fstream>
#include <random>

#include "adapters/onek/client.hpp"
#include "adapters/onek/emulator.hpp"
#include "adapters/onek/parse.hpp"
#include "adapters/onek/wire.hpp"
#include "adapters/oxapay/parse.hpp"
#include "config/engine_config.hpp"
#include "engine/callback.hpp"
#include "engine/journal_vfs.hpp"
#include "engine/json_read.hpp"
#include "engine/pricing.hpp"
#include "tests/onek_samples.hpp"
#include "tests/oxapay_samples.hpp"
#include "tests/support/fault_fixture.hpp"
#include "tests/support/fault_scenario.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sim::fault_kind;
using testing::count_of;
using testing::crash_at;
using testing::fault_world;
using testing::intent_at;
using testing::killed;
using testing::pair_for;
using testing::patient_adapter;
using testing::phase_of_leg;
using testing::swaps_for;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

constexpr std::array<std::string_view, 4> providers{"onek", "kiiex", "stablestack", "oxapay"};

std::size_t swaps_of(fault_world& w, std::string_view provider) { return w.swaps(provider).size(); }

// 001k refuses a second swap with a custom_id it has; KIIEX refuses a ClientOrderId only while
// an open order holds it, and our IOC orders close at once: no deduplication to resend on.
bool dedupes(std::string_view provider) { return provider == "onek"; }

// The executor treats an error as an unknown outcome (never a rejection, never a safe retry).
bool ambiguous(const error& e) {
  if (e.kind == error_kind::rejected) return false;
  if (e.kind == error_kind::invalid_argument && !e.may_have_reached) return false;
  if (!e.may_have_reached &&
      (e.kind == error_kind::rate_limited || e.kind == error_kind::circuit_open)) {
    return false;
  }
  return true;
}

// The emulator's JSON for the 001k swap with custom_id `client`, with `edit` applied.
std::string onek_swap_json(
    fault_world& w, const client_id& client,
    const std::function<void(rapidjson::Value&, rapidjson::Document::AllocatorType&)>& edit) {
  auto& emu = dynamic_cast<onek::emulator&>(*w.provider("onek").emulator);
  rapidjson::Document doc;
  const std::string json = emu.ledger_json();
  doc.Parse(json.data(), json.size());
  for (auto& s : doc["swaps"].GetArray()) {
    if (!s["custom_id"].IsString() || client != s["custom_id"].GetString()) continue;
    if (edit) edit(s, doc.GetAllocator());
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> writer(out);
    s.Accept(writer);
    return {out.GetString(), out.GetSize()};
  }
  ADD_FAILURE() << "no 001k swap " << client;
  return "{}";
}

void set_string(rapidjson::Value& obj, const char* key, const std::string& value,
                rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a);
  if (obj.HasMember(key)) {
    obj[key] = v;
  } else {
    obj.AddMember(rapidjson::Value(key, a), v, a);
  }
}

std::optional<std::uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::strtoull(text, nullptr, 10);
}

constexpr std::array<std::string_view, 4> crash_points{
    "after_intent_commit", "after_request_write", "after_response_read", "before_state_commit"};

// Runs `i` at `provider` with an executor that dies at `point`, then restarts (new adapters,
// journal reopened) and reconciles with a new executor.
recovery_result crash_and_recover(fault_world& w, intent_record i, std::string_view provider,
                                  std::string_view point) {
  crash_at(w, i, provider, point);
  w.restart();
  auto restarted = w.make_executor();
  return w.run(restarted->recover());
}

// --- 1-5: lost answers and crashes around the create ---------------------------------------

TEST(Faults, S01_create_accepted_response_lost) {
  fault_world w("s01");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = "I-s01-" + std::string(p);
    w.fault(p, fault_world::create_route(p), fault_world::once(fault_kind::reset_after));
    const auto out = w.execute(intent_at(w, id, p), p);
    const client_id client = id + "-L0-A0";
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(w.requests(p, fault_world::create_route(p)), 1u) << "no second create";
    const auto phases = w.phases_of(client);
    ASSERT_GE(phases.size(), 4u);
    EXPECT_EQ(phases[2], leg_phase::unknown);
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::filled);
    EXPECT_EQ(swaps_of(w, p), 1u);
    EXPECT_EQ(swaps_for(w, p, client), 1u);
  }
  w.check_invariants();
}

TEST(Faults, S02_create_never_arrived) {
  fault_world w("s02");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = "I-s02-" + std::string(p);
    const client_id client = id + "-L0-A0";
    w.fault(p, fault_world::create_route(p), fault_world::once(fault_kind::reset_before));
    const auto started = std::chrono::steady_clock::now();
    const auto out = w.execute(intent_at(w, id, p), p);
    const auto phases = w.phases_of(client);
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases[2], leg_phase::unknown) << "unknown, not failed";
    EXPECT_EQ(count_of(phases, leg_phase::failed), 0u);
    if (dedupes(p)) {
      // Resubmitted only after the grace window, with the same client id.
      EXPECT_GE(std::chrono::steady_clock::now() - started, w.options.unknown_grace);
      EXPECT_TRUE(out.filled) << out.state;
      EXPECT_EQ(w.requests(p, fault_world::create_route(p)), 2u);
      EXPECT_EQ(swaps_for(w, p, client), 1u);
    } else {
      // No deduplication: never resent, left unknown and alarmed.
      EXPECT_EQ(out.state, "halted");
      EXPECT_EQ(w.requests(p, fault_world::create_route(p)), 1u);
      EXPECT_EQ(phase_of_leg(w, client), leg_phase::unknown);
      EXPECT_EQ(swaps_of(w, p), 0u);
    }
  }
  EXPECT_EQ(w.events("alarm").size(), 3u);
  w.check_invariants();
}

TEST(Faults, S03_crash_after_intent_before_send) {
  fault_world w("s03");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = "I-s03-" + std::string(p);
    const client_id client = id + "-L0-A0";
    const auto recovered = crash_and_recover(w, intent_at(w, id, p), p, "after_intent_commit");
    EXPECT_EQ(recovered.legs, 1u);
    // Looked up before any send: never sent, so cancelled; its remainder is re-planned, so the
    // intent ends with exactly one swap, under another client id.
    const auto legs = w.records().legs_of(id).value();
    ASSERT_FALSE(legs.empty());
    EXPECT_EQ(legs.front().client, client);
    EXPECT_EQ(legs.front().phase, leg_phase::cancelled);
    EXPECT_TRUE(legs.front().provider_ref.empty());
    std::size_t swapped = 0;
    for (const auto& leg : legs) swapped += leg.provider_ref.empty() ? 0 : 1;
    EXPECT_LE(swapped, 1u);
    if (dedupes(p)) {
      EXPECT_EQ(swaps_for(w, p, client), 0u);
    }
  }
  w.check_invariants();
}

TEST(Faults, S04_crash_after_send_before_response) {
  fault_world w("s04");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = "I-s04-" + std::string(p);
    const client_id client = id + "-L0-A0";
    const auto recovered = crash_and_recover(w, intent_at(w, id, p), p, "after_request_write");
    EXPECT_EQ(recovered.legs, 1u);
    EXPECT_EQ(recovered.adopted, 1u);
    EXPECT_EQ(w.requests(p, fault_world::create_route(p)), 1u);
    EXPECT_EQ(phase_of_leg(w, client), leg_phase::filled);
    EXPECT_EQ(swaps_of(w, p), 1u);
    EXPECT_EQ(swaps_for(w, p, client), 1u);
  }
  w.check_invariants();
}

TEST(Faults, S05_crash_after_response_before_commit) {
  fault_world w("s05");
  w.start();
  for (const auto point : {"after_response_read", "before_state_commit"}) {
    for (const auto p : providers) {
      SCOPED_TRACE(std::string(p) + " " + point);
      const std::string id = fmt::format("I-s05-{}-{}", p, point[0] == 'a' ? "read" : "commit");
      const client_id client = id + "-L0-A0";
      const std::size_t before = swaps_of(w, p);
      // Distinct amounts: a provider without client ids is searched by amount (two candidates
      // are inconsistent, S25).
      crash_and_recover(w, intent_at(w, id, p, point[0] == 'a' ? "100" : "101"), p, point);
      const auto leg = w.records().leg(client).value();
      ASSERT_TRUE(leg.has_value());
      EXPECT_EQ(leg->phase, leg_phase::filled);
      EXPECT_FALSE(leg->provider_ref.empty());
      EXPECT_EQ(swaps_of(w, p), before + 1);
      EXPECT_EQ(swaps_for(w, p, client), 1u) << "provider id recorded once";
    }
  }
  w.check_invariants();
}

// --- 6: power loss of the journal while intents are in flight ------------------------------

TEST(Faults, S06_power_loss_journal) {
  // SWAPROUTER_POWER_SEED replays one seed; SWAPROUTER_POWER_SEEDS runs seeds 1..N (CI: 3, one
  // per power-loss mode). The seed picks the kill point and which unsynced writes survive.
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= env_number("SWAPROUTER_POWER_SEEDS").value_or(3); ++s) {
    seeds.push_back(s);
  }
  if (const auto one = env_number("SWAPROUTER_POWER_SEED")) seeds = {*one};
  constexpr int in_flight = 50;
  auto vfs = fault_vfs::install("faults-s06").value();
  fault_world w("s06");
  // The planner wants a price valid for at least its provider's p95 execution latency. The fifty
  // legs at once of a seed leave 001k one of up to seconds on a loaded machine, and a 001k listing
  // prices for 4 s from the previous seed's recovery: the next seed's plans found it valid for
  // 805 ms against a p95 of 811 (8 runs in 25 beside two other fault loops). Here a listing
  // prices for a minute (the prices never move): the power loss is what is tested.
  cli::adapter_tuning long_quotes;
  long_quotes.directions_max_age = std::chrono::minutes(1);
  w.options.planning.quote_max_age = std::chrono::minutes(2);
  w.start();
  w.retune_venue("onek", long_quotes);
  journal_options on_vfs;
  on_vfs.vfs = vfs->name();
  w.reopen_journal(on_vfs);
  for (const auto seed : seeds) {
    SCOPED_TRACE(fmt::format("power seed {}", seed));
    std::mt19937_64 rng(seed);
    // The machine stops after a random number of journal writes and syncs: anywhere from the
    // first intents to well into the responses of all 50.
    vfs->kill_after(vfs->operations() + 10 + rng() % (in_flight * 6));
    {
      auto exec = w.make_executor();
      std::vector<quoted_plan> plans;
      std::vector<intent_record> intents;
      for (int n = 0; n < in_flight; ++n) {
        const std::string p(providers[static_cast<std::size_t>(n) % providers.size()]);
        intents.push_back(intent_at(w, fmt::format("I-s06-{}-{}", seed, n), p));
        plans.push_back(w.plan(intents.back(), p));
      }
      // Fifty intents in flight at once on one engine thread.
      std::size_t done = 0;
      for (std::size_t n = 0; n < intents.size(); ++n) {
        asio::co_spawn(w.io(), exec->execute(intents[n], plans[n]),
                       [&](std::exception_ptr, execution_result) { ++done; });
      }
      w.io().restart();
      while (done < intents.size()) w.io().run_one();
    }
    EXPECT_TRUE(vfs->killed()) << "the machine stopped mid-run";
    // Power loss and reboot: every file closed, unsynced writes dropped or kept in part.
    w.close_journal();
    const auto mode = seed % 3 == 1   ? power_loss_mode::drop_unsynced
                      : seed % 3 == 2 ? power_loss_mode::keep_prefix
                                      : power_loss_mode::keep_subset;
    auto cycled = vfs->power_cycle(mode, seed);
    ASSERT_TRUE(cycled.has_value()) << describe(cycled.error());
    w.restart(on_vfs);
    w.retune_venue("onek", long_quotes);
    // The journal opens intact and every swap the emulators created has its leg (I2, I3).
    w.run(w.make_executor()->recover());
    w.check_invariants();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "power-loss seed " << seed << " failed; replay it with: "
                    << "SWAPROUTER_POWER_SEED=" << seed
                    << " faults_tests --gtest_filter=Faults.S06_power_loss_journal";
      break;
    }
  }
}

// --- 7-11: ambiguous answers, rejections, lags, transient errors, expiry ---------------------

TEST(Faults, S07_ambiguous_5xx_on_create) {
  fault_world w("s07");
  w.start();
  int n = 0;
  for (const auto p : providers) {
    for (const bool created : {true, false}) {
      SCOPED_TRACE(fmt::format("{} created={}", p, created));
      const std::string id = fmt::format("I-s07-{}-{}", p, n++);
      const client_id client = id + "-L0-A0";
      const std::size_t posts = w.requests(p, fault_world::create_route(p));
      sim::fault f = fault_world::once(fault_kind::status, "POST", created);
      f.status = created ? 502 : 503;
      w.fault(p, fault_world::create_route(p), f);
      const auto out = w.execute(intent_at(w, id, p), p);
      const auto phases = w.phases_of(client);
      ASSERT_GE(phases.size(), 3u);
      EXPECT_EQ(phases[2], leg_phase::unknown) << "no blind retry";
      if (created) {
        // Adopted by client id or from the provider's history: no second create.
        EXPECT_TRUE(out.filled) << out.state;
        EXPECT_EQ(w.requests(p, fault_world::create_route(p)), posts + 1);
        EXPECT_EQ(swaps_for(w, p, client), 1u);
      } else if (dedupes(p)) {
        EXPECT_TRUE(out.filled) << out.state;
        EXPECT_EQ(w.requests(p, fault_world::create_route(p)), posts + 2);
        EXPECT_EQ(swaps_for(w, p, client), 1u);
      } else {
        EXPECT_EQ(out.state, "halted");
        EXPECT_EQ(w.requests(p, fault_world::create_route(p)), posts + 1);
        EXPECT_EQ(phase_of_leg(w, client), leg_phase::unknown);
      }
    }
  }
  w.check_invariants();
}

TEST(Faults, S08_definite_rejection_vs_disguised_timeout) {
  fault_world w("s08");
  w.start();
  const std::string open(onek::wire::path::swap_open);
  struct row {
    std::string name;
    sim::fault fault;
    leg_phase third;  // the phase after submitting
  };
  std::vector<row> table;
  {
    sim::fault f = fault_world::once(fault_kind::status);
    f.status = 422;
    f.body = R"({"code":"validation.error","message":"amount is invalid"})";
    table.push_back({"documented_validation_error", f, leg_phase::rejected});
  }
  table.push_back({"disguised_timeout_400",
                   fault_world::once(fault_kind::timeout_400, "POST", true), leg_phase::unknown});
  {
    sim::fault f = fault_world::once(fault_kind::status);
    f.status = 401;
    f.body = R"({"code":"auth.failed","message":"not authorised"})";
    table.push_back({"unauthorised_401", f, leg_phase::unknown});
  }
  {
    sim::fault f = fault_world::once(fault_kind::status);
    f.status = 400;
    f.body = R"({"error":"upstream timeout, please retry"})";
    table.push_back({"undocumented_400", f, leg_phase::unknown});
  }
  for (const auto& r : table) {
    SCOPED_TRACE(r.name);
    const std::string id = "I-s08-" + r.name;
    w.fault("onek", open, r.fault);
    const auto out = w.execute(intent_at(w, id, "onek"), "onek");
    const auto phases = w.phases_of(id + "-L0-A0");
    ASSERT_GE(phases.size(), 3u);
    EXPECT_EQ(phases[2], r.third);
    EXPECT_TRUE(out.filled) << out.state;  // a rejection's remainder goes to StableStack
  }
  {
    // 429: nothing was done; the provider's Retry-After is waited out, never "rejected".
    SCOPED_TRACE("too_many_requests_429");
    sim::fault f = fault_world::once(fault_kind::status);
    f.status = 429;
    f.retry_after_seconds = 1;
    w.fault("onek", open, f);
    const auto out = w.execute(intent_at(w, "I-s08-429", "onek"), "onek");
    const auto phases = w.phases_of("I-s08-429-L0-A0");
    EXPECT_EQ(count_of(phases, leg_phase::rejected), 0u);
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(swaps_for(w, "onek", "I-s08-429-L0-A0"), 1u);
  }
  w.check_invariants();
}

// How each provider says it has no such swap: 001k, KIIEX and StableStack answer 404 with their
// error body; OxaPay's status is its history, which simply lacks the swap.
sim::fault not_found_answer(std::string_view p) {
  sim::fault f;
  f.kind = fault_kind::status;
  f.method = fault_world::status_method(p);
  f.status = 404;
  if (p == "onek") {
    f.body = R"({"code":"not_found","message":"swap not found"})";
  } else if (p == "kiiex") {
    f.body = R"({"result":false,"errormsg":"Resource Not Found","errorcode":104,)"
             R"("detail":"deposit ticket not found"})";
  } else if (p == "stablestack") {
    f.body = R"({"status":"failed","message":"transaction not found",)"
             R"("error":{"code":"RESOURCE_NOT_FOUND","message":"transaction not found"}})";
  } else {
    f.status = 200;
    f.body = R"({"data":{"list":[],"meta":{"page":1,"last_page":1,"total":0}},)"
             R"("message":"Operation completed successfully!","error":{},"status":200,)"
             R"("version":"1.0.0"})";
  }
  return f;
}

TEST(Faults, S09_not_found_lag_after_create) {
  fault_world w("s09");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    // Not found for longer than lost_after: lost, still polled, alarmed, then found.
    // Twelve polls at the fixture's 20..100 ms backoff outlast lost_after (400 ms).
    sim::fault lag = not_found_answer(p);
    lag.remaining = 12;
    w.fault(p, fault_world::status_route(p), lag);
    const std::string id = fmt::format("I-s09-{}", p);
    const client_id client = id + "-L0-A0";
    const auto out = w.execute(intent_at(w, id, p), p);
    const bool polled = w.provider(p).server->faults().list().empty();
    w.provider(p).server->faults().clear_all();
    const auto phases = w.phases_of(client);
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(phases.back(), leg_phase::filled);
    EXPECT_EQ(count_of(phases, leg_phase::failed), 0u) << "never marked failed";
    EXPECT_EQ(swaps_for(w, p, client), 1u);
    bool alarmed = false;
    for (const auto& e : w.events("alarm")) alarmed = alarmed || e.client == client;
    if (p == "oxapay") {
      // OxaPay's create answers the final swap: nothing to poll, so no lag to sit out.
      EXPECT_EQ(count_of(phases, leg_phase::lost), 0u);
      EXPECT_FALSE(alarmed);
    } else {
      EXPECT_TRUE(polled) << "polled through the whole lag";
      EXPECT_EQ(count_of(phases, leg_phase::lost), 1u);
      EXPECT_TRUE(alarmed);
    }
    // Asked directly while the provider lags: not found, an error the tracker keeps polling on.
    const auto leg_row = w.records().leg(client).value().value();
    w.fault(p, fault_world::status_route(p), not_found_answer(p));
    auto answer = w.run(w.venue_of(p).status(leg_ref{leg_row.provider_ref, leg_row.client}));
    w.provider(p).server->faults().clear_all();
    ASSERT_FALSE(answer.has_value());
    EXPECT_EQ(answer.error().kind, error_kind::not_found) << describe(answer.error());
  }
  w.check_invariants();
}

TEST(Faults, S10_transient_status_errors) {
  fault_world w("s10");
  w.start();
  // A 001k adapter with a short request deadline, so a dropped poll times out quickly, whose
  // provider-wide circuit (S19) lets every failed poll reach the tracker. Not shorter: the create
  // goes through it too, and one cut by a stalled machine is adopted final, never polled.
  w.retune_venue("onek", patient_adapter(1s));
  const std::string item = fault_world::status_route("onek");
  int n = 0;
  for (const auto kind : {fault_kind::status, fault_kind::reset_before, fault_kind::drop}) {
    SCOPED_TRACE(sim::to_string(kind));
    sim::fault f;
    f.kind = kind;
    f.status = 500;
    f.method = "GET";
    f.remaining = kind == fault_kind::drop ? 3 : 10;  // timeouts cost their deadline each
    w.fault("onek", item, f);
    const std::string id = fmt::format("I-s10-{}", n++);
    const auto out = w.execute(intent_at(w, id, "onek"), "onek");
    EXPECT_TRUE(w.provider("onek").server->faults().list().empty())
        << "every injected poll failure happened";
    EXPECT_TRUE(out.filled) << out.state << ": recovers when the provider does";
    const auto phases = w.phases_of(id + "-L0-A0");
    EXPECT_EQ(count_of(phases, leg_phase::lost), 0u) << "a poll error is not not-found";
    EXPECT_EQ(count_of(phases, leg_phase::failed), 0u);
    // Ten failed polls in a row raise one alarm; polling goes on.
    std::size_t alarms = 0;
    for (const auto& e : w.events("alarm")) alarms += e.client == id + "-L0-A0" ? 1 : 0;
    EXPECT_EQ(alarms, kind == fault_kind::drop ? 0u : 1u);
  }
  w.check_invariants();
}

TEST(Faults, S11_ttl_expiry_races) {
  fault_world w("s11");
  w.start();
  // The leg's time-to-live is shorter than 001k's 200 ms fill: 001k expires it; the remainder is
  // re-planned at StableStack within the intent's deadline.
  w.options.leg_ttl = 100ms;
  const auto out = w.execute(intent_at(w, "I-s11a", "onek"), "onek");
  const auto first = w.records().leg("I-s11a-L0-A0").value();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->phase == leg_phase::expired || first->phase == leg_phase::cancelled ||
              first->phase == leg_phase::failed)
      << to_string(first->phase);
  EXPECT_EQ(w.events("replan").size(), 1u);
  EXPECT_EQ(swaps_of(w, "stablestack"), 1u);
  EXPECT_TRUE(out.filled) << out.state;
  // A fill right at the deadline: either documented end, and a final phase never changes.
  w.options.leg_ttl = 200ms;
  for (int i = 0; i < 3; ++i) {
    const std::string id = fmt::format("I-s11-race{}", i);
    const auto raced = w.execute(intent_at(w, id, "onek"), "onek");
    EXPECT_TRUE(raced.filled) << raced.state;
  }
  const auto intents = w.records().intents(100).value();
  for (const auto& i : intents) {
    const auto legs = w.records().legs_of(i.id).value();
    for (const auto& leg : legs) {
      const auto phases = w.phases_of(leg.client);
      for (std::size_t k = 0; k + 1 < phases.size(); ++k) {
        EXPECT_FALSE(is_final(phases[k]))
            << leg.client << ": " << to_string(phases[k]) << " then " << to_string(phases[k + 1]);
      }
    }
  }
  w.check_invariants();
}

// --- 12-13: provider callbacks are hints; the authenticated re-fetch decides -----------------

result<leg_status> onek_callback(std::string_view body) {
  auto parsed = onek::parse_swap(body);
  if (!parsed) return std::unexpected(parsed.error());
  return onek::to_leg_status(*parsed);
}

// A 001k world whose adapter asks for callbacks to a loopback listener that hands them to a
// callback_gate, with polling slowed so that only hints make the tracker fetch early. The swap
// fills 1.5 s after it is opened, so that the callbacks a test sends on acceptance are handled
// (and their fetches answered "open") before the emulator's own final callback even on a loaded
// machine; with 200 ms a stall of that length let the fill overtake them.
struct callback_world {
  explicit callback_world(std::string name, callback_options gate_options = {},
                          std::chrono::milliseconds poll = 20s)
      : w(std::move(name), testing::fault_scenario_yaml(),
          [](sim::scenario& s) { s.providers.at("onek").fill_delay = 1500ms; }) {
    w.start();
    w.options.poll_initial = poll;
    w.options.poll_max = poll;
    sim::server_options so;
    so.admin_api = false;
    listener = std::make_unique<sim::server>(w.io().get_executor(), so);
    listener->route("POST", "/callbacks/onek", [this](const sim::sim_request& r) {
      if (gate) gate->receive("onek", r.remote_address, r.body);
      return sim::sim_response::json(200, "{}");
    });
    listener->start();
    onek::client_options o;
    o.callback_url = listener->base_url() + "/callbacks/onek";
    auto v = w.fresh_venue("onek");
    const auto& cred = w.credential("onek");
    auto client =
        std::make_unique<onek::client>(*v.http, cred.access_key, hmac_sha256(cred.secret), o);
    w.replace_venue("onek", std::move(v.http), std::move(client));
    const std::vector<venue*> everyone = w.venues();
    auto base = w.sink();
    exec = std::make_unique<executor>(
        everyone, w.records(), w.options, [this, base](const execution_event& e) {
          base(e);
          if (e.kind == "phase" && e.detail.starts_with("accepted") && on_accepted) {
            // After the current step: the tracker's first poll.
            asio::post(w.io(), [this, c = e.client] { on_accepted(c); });
          }
        });
    gate = std::make_unique<callback_gate>(*exec, std::move(gate_options));
    gate->add_provider("onek", onek_callback);
  }
  ~callback_world() {
    gate.reset();
    listener->stop();
  }

  // The 001k swap of `client` as its callback would carry it, with `status` and `receive`.
  std::string body(const client_id& client, const std::string& status,
                   std::optional<std::string> receive_filled = std::nullopt) {
    return onek_swap_json(w, client, [&](rapidjson::Value& s, auto& a) {
      s.RemoveMember("opened_by");
      s.RemoveMember("history");
      s.RemoveMember("callbacks");
      set_string(s, "status", status, a);
      if (receive_filled) set_string(s, "receive_filled", *receive_filled, a);
    });
  }

  std::size_t status_fetches() {
    return w.requests("onek", fault_world::status_route("onek"), "GET");
  }

  fault_world w;
  std::unique_ptr<sim::server> listener;
  std::unique_ptr<executor> exec;
  std::unique_ptr<callback_gate> gate;
  std::function<void(const client_id&)> on_accepted;
};

TEST(Faults, S12_duplicate_and_reordered_callbacks) {
  callback_world cw("s12");
  auto& w = cw.w;
  cw.on_accepted = [&](const client_id& client) {
    // The final state before the intermediate one, 20 times: one verifying fetch.
    const std::string early = cw.body(client, "success");
    for (int i = 0; i < 20; ++i) cw.gate->receive("onek", "127.0.0.1", early);
  };
  const auto out = w.execute(*cw.exec, intent_at(w, "I-s12", "onek"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  // A stale callback after the final state: nothing to fetch, nothing changes.
  EXPECT_EQ(cw.gate->receive("onek", "127.0.0.1", cw.body("I-s12-L0-A0", "open")),
            callback_verdict::settled_leg);
  EXPECT_EQ(cw.gate->count(callback_verdict::duplicate), 19u);
  // The premature claim and the emulator's real final callback.
  EXPECT_EQ(cw.gate->count(callback_verdict::hint), 2u);
  // The tracker's first poll, one fetch per distinct callback; the 20 s poll never came.
  EXPECT_EQ(cw.status_fetches(), 3u);
  // The final state is the provider API's, applied once.
  const auto leg = w.records().leg("I-s12-L0-A0").value();
  ASSERT_TRUE(leg.has_value());
  EXPECT_EQ(leg->phase, leg_phase::filled);
  EXPECT_EQ(count_of(w.phases_of("I-s12-L0-A0"), leg_phase::filled), 1u);
  EXPECT_EQ(w.events("settled").size(), 1u);
  w.check_invariants();
}

TEST(Faults, S13_forged_callback) {
  callback_options only_loopback;
  only_loopback.allow = {"127.0.0.1"};
  callback_world cw("s13", only_loopback);
  auto& w = cw.w;
  std::vector<callback_verdict> verdicts;
  cw.on_accepted = [&](const client_id& client) {
    // From an address not on the allow-list: refused unread.
    verdicts.push_back(cw.gate->receive("onek", "203.0.113.9", cw.body(client, "success")));
    // From an allowed address, claiming success with another amount: only a hint.
    verdicts.push_back(
        cw.gate->receive("onek", "127.0.0.1", cw.body(client, "success", "999999.99")));
    // For a leg that is not ours, and an oversize body.
    verdicts.push_back(cw.gate->receive(
        "onek", "127.0.0.1", R"({"code":"X1","custom_id":"I-not-ours-L0-A0","status":"success"})"));
    verdicts.push_back(cw.gate->receive("onek", "127.0.0.1", std::string(100000, '{')));
  };
  const auto out = w.execute(*cw.exec, intent_at(w, "I-s13", "onek"), "onek");
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[0], callback_verdict::not_allowed);
  EXPECT_EQ(verdicts[1], callback_verdict::hint);
  EXPECT_TRUE(verdicts[2] == callback_verdict::unknown_leg ||
              verdicts[2] == callback_verdict::unparseable)
      << to_string(verdicts[2]);
  EXPECT_EQ(verdicts[3], callback_verdict::too_large);
  EXPECT_TRUE(out.filled) << out.state;
  // The forged amount never reached the record: the API's settlement did.
  const auto leg = w.records().leg("I-s13-L0-A0").value();
  ASSERT_TRUE(leg.has_value());
  EXPECT_NE(leg->receive_filled, dec("999999.99"));
  EXPECT_EQ(leg->receive_filled, out.received);
  EXPECT_EQ(out.received, out.quoted_net);
  // Logged as security events.
  const std::string logs = w.logs();
  std::size_t security = 0;
  for (auto at = logs.find("security intent="); at != std::string::npos;
       at = logs.find("security intent=", at + 1)) {
    ++security;
  }
  EXPECT_GE(security, 3u) << logs;
  w.check_invariants();
}

// --- 14-16: hostile and truncated answers, decimal precision ----------------------------------

struct hostile_body {
  std::string name;
  sim::fault fault;
};

// Every hostile answer of FAULTS.md 14, as a 200 to the request (the handler does not run, so
// nothing is created by these).
std::vector<hostile_body> hostile_bodies(const std::string& method) {
  std::vector<hostile_body> out;
  const auto body = [&](std::string name, std::string text) {
    sim::fault f = fault_world::once(fault_kind::status, method);
    f.status = 200;
    f.body = std::move(text);
    out.push_back({std::move(name), std::move(f)});
  };
  body("deep_arrays", std::string(1000000, '['));
  std::string deep_object;
  for (int i = 0; i < 50000; ++i) deep_object += R"({"data":)";
  body("deep_objects", deep_object);
  body("huge_exponent",
       R"({"code":"S1","status":"success","spend_amount":1e400,"receive_amount":1e400,)"
       R"("data":{"track_id":"1","from_amount":1e400,"to_amount":1e400},"result":true})");
  const std::string digits300(300, '7');
  body("fraction_300_digits", R"({"code":"S1","status":"success","spend_amount":"0.)" + digits300 +
                                  R"(","data":{"track_id":"1","from_amount":0.)" + digits300 +
                                  R"(}})");
  body("nan", R"({"code":"S1","status":"success","spend_amount":NaN,"data":{"from_amount":NaN}})");
  body(
      "duplicate_keys",
      R"({"code":"S1","code":"S2","status":"open","status":"success","result":true,"result":false})");
  body("wrong_types",
       R"({"code":7,"custom_id":[],"status":true,"spend_amount":{},"data":"x","result":"yes"})");
  body("missing_fields", "{}");
  body("array_root", "[]");
  body("scalar_root", "\"success\"");
  body("invalid_utf8", "{\"code\":\"\xff\xfe\xfd\",\"status\":\"succ\xc3\x28ss\"}");
  body("nul_byte", std::string("{\"code\":\"a\0b\",\"status\":\"success\"}", 34));
  {
    sim::fault f = fault_world::once(fault_kind::oversize, method);
    f.size_bytes = std::size_t{100} << 20;
    out.push_back({"body_100_mb", f});
  }
  out.push_back({"endless_chunked", fault_world::once(fault_kind::endless_chunked, method)});
  return out;
}

TEST(Faults, S14_hostile_json_bodies) {
  fault_world w("s14");
  w.start();
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    // A filled swap to ask the status of, and the order of another to submit.
    const std::string base_id = fmt::format("I-s14-{}", p);
    ASSERT_TRUE(w.execute(intent_at(w, base_id, p), p).filled);
    const auto base = w.records().leg(base_id + "-L0-A0").value().value();
    const auto quoted = w.plan(intent_at(w, base_id + "-x", p), p);
    ASSERT_FALSE(quoted.result.routes.empty());
    const leg order = quoted.result.routes.front().legs.front().order;
    const std::size_t swaps_before = swaps_of(w, p);
    int n = 0;
    for (const auto& h : hostile_bodies("POST")) {
      SCOPED_TRACE("create " + h.name);
      // A fresh adapter each time: no circuit or budget left over from the previous answer.
      auto v = w.fresh_venue(p);
      w.fault(p, fault_world::create_route(p), h.fault);
      const client_id id = fmt::format("S14-{}-{}", p, n++);
      auto answer = w.run(v.venue->submit(order, id));
      ASSERT_FALSE(answer.has_value()) << "a hostile answer was taken as a swap";
      EXPECT_TRUE(ambiguous(answer.error())) << describe(answer.error());
      EXPECT_TRUE(w.provider(p).server->faults().list().empty()) << "the request went out";
      w.provider(p).server->faults().clear_all();
    }
    EXPECT_EQ(swaps_of(w, p), swaps_before);
    for (const auto& h : hostile_bodies(fault_world::status_method(p))) {
      SCOPED_TRACE("status " + h.name);
      auto v = w.fresh_venue(p);
      w.fault(p, fault_world::status_route(p), h.fault);
      auto answer = w.run(v.venue->status(leg_ref{base.provider_ref, base.client}));
      EXPECT_FALSE(answer.has_value()) << "a hostile status was taken as a state";
      w.provider(p).server->faults().clear_all();
    }
    {
      // Malformed JSON after the swap was created: unknown, then adopted, never a second create.
      SCOPED_TRACE("executor");
      const std::string id = fmt::format("I-s14-{}-created", p);
      w.fault(p, fault_world::create_route(p),
              fault_world::once(fault_kind::malformed_json, "POST", true));
      const auto out = w.execute(intent_at(w, id, p), p);
      const auto phases = w.phases_of(id + "-L0-A0");
      ASSERT_GE(phases.size(), 3u);
      EXPECT_EQ(phases[2], leg_phase::unknown) << "unknown, not failed";
      EXPECT_TRUE(out.filled) << out.state;
      EXPECT_EQ(swaps_for(w, p, id + "-L0-A0"), 1u);
    }
  }
  w.check_invariants();
}

TEST(Faults, S15_truncated_tls_response) {
  fault_world w("s15");
  w.start();
  for (const auto p : providers) {
    for (const auto kind : {fault_kind::truncated_body, fault_kind::truncated_chunked}) {
      SCOPED_TRACE(fmt::format("{} {}", p, sim::to_string(kind)));
      const std::string id = fmt::format("I-s15-{}-{}", p, sim::to_string(kind));
      const client_id client = id + "-L0-A0";
      // The create's answer is cut after the swap was made, and so is a status answer.
      w.fault(p, fault_world::create_route(p), fault_world::once(kind, "POST"));
      w.fault(p, fault_world::status_route(p),
              fault_world::once(kind, fault_world::status_method(p)));
      const auto out = w.execute(intent_at(w, id, p), p);
      EXPECT_TRUE(w.provider(p).server->faults().list().empty()) << "both cuts were met";
      w.provider(p).server->faults().clear_all();
      const auto phases = w.phases_of(client);
      ASSERT_GE(phases.size(), 3u);
      EXPECT_EQ(phases[2], leg_phase::unknown) << "never parsed as success";
      EXPECT_TRUE(out.filled) << out.state;
      EXPECT_EQ(swaps_for(w, p, client), 1u);
      // A cut status answer of the filled swap, asked directly: an error, never a state.
      const auto filled = w.records().leg(client).value().value();
      auto v = w.fresh_venue(p);
      w.fault(p, fault_world::status_route(p),
              fault_world::once(kind, fault_world::status_method(p)));
      auto answer = w.run(v.venue->status(leg_ref{filled.provider_ref, filled.client}));
      EXPECT_FALSE(answer.has_value()) << "a truncated status was taken as a state";
      EXPECT_TRUE(w.provider(p).server->faults().list().empty()) << "the status call was cut";
      w.provider(p).server->faults().clear_all();
    }
  }
  w.check_invariants();
}

TEST(Faults, S16_decimal_precision_properties) {
  fault_world w("s16");
  w.start();
  std::mt19937_64 rng(16);
  std::size_t priced_count = 0;
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    for (int k = 0; k < 24; ++k) {
      // 10..2000 with 0..14 random decimal places.
      std::string text = std::to_string(10 + rng() % 1990);
      const int places = static_cast<int>(rng() % 15);
      if (places > 0) {
        text += '.';
        for (int d = 0; d < places; ++d) text += static_cast<char>('0' + rng() % 10);
      }
      SCOPED_TRACE(text);
      const decimal amount = dec(text);
      quote_request q;
      q.spend_asset = "USDT";
      q.receive_asset = pair_for(p).receive;
      q.amount = amount;
      auto model = w.run(w.venue_of(p).pricing_for(q));
      ASSERT_TRUE(model.has_value()) << describe(model.error());
      const auto priced = price_spend(*model, amount);
      if (!priced) continue;  // a limit: reported, never rounded into range
      ++priced_count;
      // The spend used is the amount rounded down to the provider's precision.
      EXPECT_LE(priced->spend, amount);
      EXPECT_LT(amount - priced->spend, spend_unit(*model));
      EXPECT_EQ(priced->spend, priced->spend.round(model->spend_precision, rounding::down));
      // The net is exact at the receive precision and never above gross - fee (the safe side).
      EXPECT_EQ(priced->net, priced->net.round(model->receive_precision, rounding::down));
      EXPECT_LE(priced->net, priced->gross - priced->fee);
      if (model->model != pricing_model::order_book) {
        EXPECT_LT(priced->gross - priced->fee - priced->net, receive_unit(*model));
      }
      const auto worst = price_spend(worst_case(*model), amount);
      if (worst) {
        EXPECT_LE(worst->net, priced->net);
      }
      if (!model->firm) {
        const auto more = price_spend(*model, priced->spend + spend_unit(*model));
        if (more) {
          EXPECT_GE(more->net, priced->net) << "more spend never receives less";
        }
      }
    }
  }
  EXPECT_GE(priced_count, 60u);

  // 0.29 / 0.01 and its increments, exactly.
  EXPECT_EQ(dec("0.29").div(dec("0.01"), rounding::down).value(), dec("29"));
  EXPECT_EQ(dec("0.29").mul(dec("100"), rounding::down).value(), dec("29"));
  EXPECT_EQ(dec("0.29").round_to_increment(dec("0.01"), rounding::down).value(), dec("0.29"));
  {
    quote_request q;
    q.spend_asset = "USDT";
    q.receive_asset = "USDC";
    q.amount = dec("100");
    pricing m = w.run(w.venue_of("onek").pricing_for(q)).value();
    m.spend_precision = 2;
    m.spend_increment = dec("0.01");
    m.min_spend = dec("0.01");
    m.min_receive = decimal{};
    const auto at = price_spend(m, dec("0.29"));
    ASSERT_TRUE(at.has_value());
    EXPECT_EQ(at->spend, dec("0.29"));
  }
  // 18 places exact; a 19th refused or rounded only in the direction asked; 28 digits an error.
  EXPECT_EQ(dec("0.123456789012345678").to_string(), "0.123456789012345678");
  EXPECT_FALSE(decimal::parse("0.1234567890123456789").has_value());
  EXPECT_EQ(decimal::parse("0.1234567890123456789", rounding::down).value(),
            dec("0.123456789012345678"));
  EXPECT_EQ(decimal::parse("0.1234567890123456789", rounding::up).value(),
            dec("0.123456789012345679"));
  EXPECT_FALSE(decimal::parse("1234567890123456789012345678").has_value());
  EXPECT_FALSE(dec("123456789012").mul(dec("123456789012"), rounding::down).has_value());
  EXPECT_EQ(dec("2.5E+3"), dec("2500"));
  EXPECT_EQ(dec("1e-8"), dec("0.00000001"));
  // Numbers vs strings: 001k amounts are strings (a number is refused), OxaPay's are numbers,
  // read from their text (0.0001054 stays exact, an exponent is exact too).
  std::string onek_number(onek::samples::seed_open_swap);
  onek_number.replace(onek_number.find(R"("0.01000000")"), 12, "0.01000000");
  EXPECT_FALSE(onek::parse_swap(onek_number).has_value());
  const auto ox = oxapay::parse_swap(oxapay::samples::seed_swap);
  ASSERT_TRUE(ox.has_value());
  EXPECT_EQ(ox->to_amount, dec("0.0001054"));
  std::string ox_exponent(oxapay::samples::seed_swap);
  ox_exponent.replace(ox_exponent.find("0.0001054000"), 12, "1.054e-4");
  const auto ox2 = oxapay::parse_swap(ox_exponent);
  if (ox2) {
    EXPECT_EQ(ox2->to_amount, dec("0.0001054"));
  }
  std::string ox_long(oxapay::samples::seed_swap);
  ox_long.replace(ox_long.find("0.0001054000"), 12, "0." + std::string(300, '9'));
  const auto ox3 = oxapay::parse_swap(ox_long);
  if (ox3) {
    EXPECT_LT(ox3->to_amount, dec("1")) << "rounded toward the safe side, if at all";
  }

  // Through execution: each provider settles exactly as quoted, spending exactly what was asked.
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = fmt::format("I-s16-{}", p);
    const auto out = w.execute(intent_at(w, id, p, "123.29"), p);
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(out.received, out.quoted_net);
    EXPECT_EQ(out.spent, dec("123.29"));
  }
  // An amount finer than the provider's precision, at every provider (firm quotes included): each
  // model has the precision the provider priced at, and the spend is rounded down to it (the dust
  // stays unspent, never rounded up).
  for (const auto p : providers) {
    SCOPED_TRACE(fmt::format("fine {}", p));
    const decimal fine = dec("123.456789123456789");
    quote_request q;
    q.spend_asset = "USDT";
    q.receive_asset = pair_for(p).receive;
    q.amount = fine;
    const auto model = w.run(w.venue_of(p).pricing_for(q));
    ASSERT_TRUE(model.has_value()) << describe(model.error());
    EXPECT_LT(model->spend_precision, decimal::scale);
    const auto priced = price_spend(*model, fine);
    ASSERT_TRUE(priced.has_value());
    EXPECT_EQ(priced->spend, fine.round(model->spend_precision, rounding::down));
    // Through the planner and the executor: the settlement is exactly the quote.
    const auto i = intent_at(w, fmt::format("I-s16-fine-{}", p), p, fine.to_string());
    const auto out = w.execute(i, p);
    EXPECT_EQ(out.received, out.quoted_net);
    EXPECT_LT(out.spent, fine);
    EXPECT_EQ(out.spent, fine.round(model->spend_precision, rounding::down));
  }
  w.check_invariants();
}

// --- 17-19: settlements, clocks, rate limits ---------------------------------------------------

// StableStack's firm quote and OxaPay's calculated rate are for 123.456789 / 123.45678912 USDT
// when asked for 123.456789123456789 (their precision): their max is below the intent's amount
// by less than one spend unit, and the plan spends the rounded amount and reports the dust as
// unspent, as it does for 001k's and KIIEX's rate models (it used to find no route).
TEST(Faults, S16_fine_amount_at_quoted_provider) {
  fault_world w("s16q");
  w.start();
  for (const auto p : {"stablestack", "oxapay"}) {
    SCOPED_TRACE(p);
    const decimal fine = dec("123.456789123456789");
    const auto i = intent_at(w, fmt::format("I-s16q-{}", p), p, fine.to_string());
    const auto quoted = w.plan(i, p, true);
    ASSERT_TRUE(quoted.result.ok()) << quoted.result.failure;
    EXPECT_EQ(quoted.result.spend, fine.round(p == std::string_view("oxapay") ? 8 : 6,
                                             rounding::down));
    EXPECT_EQ(quoted.result.unspent, fine - quoted.result.spend);
    auto exec = w.make_executor();
    const auto out = w.run(exec->execute(i, quoted));
    EXPECT_EQ(out.received, out.quoted_net);
    EXPECT_EQ(out.spent, quoted.result.spend);
  }
  w.check_invariants();
}

TEST(Faults, S17_settled_amount_mismatch) {
  fault_world w("s17");
  w.start();
  auto& emu = dynamic_cast<onek::emulator&>(*w.provider("onek").emulator);
  const decimal usdc_before = emu.account().balance("USDC").available;
  const auto i = intent_at(w, "I-s17", "onek");
  auto quoted = w.plan(i, "onek");
  // 001k's rate falls 5 % between the quote and the swap: it settles outside the tolerance.
  testing::move_rate(w, "USDT", "USDC", "0.95");
  auto exec = w.make_executor();
  const auto out = w.run(exec->execute(i, quoted));
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_LT(out.received, out.quoted_net);
  // Accounting uses what the provider reports: exactly what 001k credited.
  const decimal usdc_after = emu.account().balance("USDC").available;
  EXPECT_EQ(out.received, usdc_after - usdc_before);
  const auto leg = w.records().leg("I-s17-L0-A0").value().value();
  EXPECT_EQ(leg.receive_filled, out.received);
  EXPECT_EQ(leg.quoted_receive, out.quoted_net);
  // The discrepancy is recorded and alarmed.
  bool alarmed = false;
  for (const auto& e : w.events("alarm")) alarmed = alarmed || e.client == "I-s17-L0-A0";
  EXPECT_TRUE(alarmed);
  w.market().clear_rate("USDT", "USDC");

  // Partial settlement: 001k reports success having executed only 40 of the 100 USDT (and a
  // matching share of the USDC). The status fault is installed once the create's answer is read,
  // so every poll sees the provider's partial record.
  {
    const client_id client = "I-s17-part-L0-A0";
    const auto part = intent_at(w, "I-s17-part", "onek");
    auto part_quoted = w.plan(part, "onek");
    std::string spend_filled;
    std::string receive_filled;
    execution_options o = w.options;
    bool installed = false;
    o.crash = [&](std::string_view at) {
      if (at != "after_response_read" || installed) return;
      installed = true;
      sim::fault f;
      f.kind = fault_kind::status;
      f.method = "GET";
      f.status = 200;
      f.body = onek_swap_json(w, client, [&](rapidjson::Value& sw, auto& a) {
        sw.RemoveMember("opened_by");
        sw.RemoveMember("history");
        sw.RemoveMember("callbacks");
        const auto share = [](const rapidjson::Value& v) {
          return dec(v.GetString()).mul(dec("0.4"), rounding::down).value().round(2,
                                                                                  rounding::down);
        };
        spend_filled = share(sw["spend_amount"]).to_string();
        receive_filled = share(sw["receive_amount"]).to_string();
        set_string(sw, "status", "success", a);
        set_string(sw, "spend_filled", spend_filled, a);
        set_string(sw, "receive_filled", receive_filled, a);
        set_string(sw, "spend_fee_filled", "0.1", a);
        set_string(sw, "receive_fee_filled", "0.1", a);
      });
      w.fault("onek", fault_world::status_route("onek"), f);
    };
    auto part_exec = w.make_executor(o);
    const auto part_out = w.run(part_exec->execute(part, part_quoted));
    w.provider("onek").server->faults().clear_all();
    ASSERT_TRUE(installed);
    ASSERT_EQ(dec(spend_filled), dec("40"));
    const auto part_leg = w.records().leg(client).value().value();
    EXPECT_EQ(part_leg.phase, leg_phase::partially_filled);
    // Accounting uses what the provider reports: 40 spent, the reported USDC less its fee.
    EXPECT_EQ(part_leg.spend_filled, dec("40"));
    EXPECT_EQ(part_leg.receive_filled, dec(receive_filled) - dec("0.1"));
    EXPECT_EQ(part_leg.fee_filled, dec("0.1"));
    EXPECT_GE(part_out.received, part_leg.receive_filled);
    // Recorded (a settled event with the reported amounts) and alarmed.
    bool settled = false;
    for (const auto& e : w.events("settled")) settled = settled || e.client == client;
    EXPECT_TRUE(settled);
    bool part_alarmed = false;
    for (const auto& e : w.events("alarm")) part_alarmed = part_alarmed || e.client == client;
    EXPECT_TRUE(part_alarmed);
    EXPECT_EQ(swaps_for(w, "onek", client), 1u) << "the short fill is not resubmitted blindly";
  }
  w.check_invariants();
}

TEST(Faults, S18_clock_skew_and_jumps) {
  fault_world w("s18");
  w.start();
  // Our wall clock as the 001k adapter sees it, under the test's control.
  auto our_skew = std::make_shared<std::atomic<std::int64_t>>(0);
  onek::client_clocks clocks;
  clocks.wall = [our_skew] {
    return std::chrono::system_clock::now() + std::chrono::milliseconds(our_skew->load());
  };
  auto v = w.fresh_venue("onek");
  const auto& cred = w.credential("onek");
  auto client = std::make_unique<onek::client>(*v.http, cred.access_key, hmac_sha256(cred.secret),
                                               onek::client_options{}, clocks);
  onek::client* adapter = client.get();
  w.replace_venue("onek", std::move(v.http), std::move(client));
  auto& emu = dynamic_cast<onek::emulator&>(*w.provider("onek").emulator);
  const auto rejected = [&] {
    std::size_t n = 0;
    for (const auto& r : w.provider("onek").server->requests()) n += r.status == 401 ? 1 : 0;
    return n;
  };

  // The provider's clock 10 s ahead: the first signature already uses the sampled offset.
  emu.set_clock_offset(10s);
  EXPECT_TRUE(w.execute(intent_at(w, "I-s18-ahead", "onek"), "onek").filled);
  ASSERT_TRUE(adapter->clock_offset().has_value());
  EXPECT_GE(*adapter->clock_offset(), 9s);
  EXPECT_LE(*adapter->clock_offset(), 11s);
  EXPECT_EQ(rejected(), 0u);

  // Now 10 s behind: the kept offset is 20 s wrong; the timestamp rejection (nothing executed)
  // resyncs and the same request is re-signed once.
  emu.set_clock_offset(-10s);
  EXPECT_TRUE(w.execute(intent_at(w, "I-s18-behind", "onek"), "onek").filled);
  EXPECT_GE(*adapter->clock_offset(), -11s);
  EXPECT_LE(*adapter->clock_offset(), -9s);
  EXPECT_GE(rejected(), 1u);
  EXPECT_EQ(swaps_for(w, "onek", "I-s18-behind-L0-A0"), 1u);

  // Our wall clock steps back an hour: the same resync, still one swap per client id.
  our_skew->store(-3600 * 1000);
  const std::size_t before = rejected();
  EXPECT_TRUE(w.execute(intent_at(w, "I-s18-step", "onek"), "onek").filled);
  EXPECT_GE(rejected(), before + 1);
  EXPECT_GE(*adapter->clock_offset(), 3589s);
  EXPECT_LE(*adapter->clock_offset(), 3591s);
  EXPECT_EQ(swaps_for(w, "onek", "I-s18-step-L0-A0"), 1u);
  EXPECT_EQ(swaps_of(w, "onek"), 3u);

  // Time-to-live is a duration from the steady clock: the provider's expiry is the leg's TTL
  // after creation on its own clock, whatever our wall clock said.
  rapidjson::Document doc;
  const std::string ledger = emu.ledger_json();
  doc.Parse(ledger.data(), ledger.size());
  for (const auto& s : doc["swaps"].GetArray()) {
    const auto created = parse_iso_timestamp(s["created_at"].GetString()).value();
    const auto expires = parse_iso_timestamp(s["expires_at"].GetString()).value();
    EXPECT_GT(expires - created, 5s) << s["custom_id"].GetString();
    EXPECT_LE(expires - created, w.options.leg_ttl) << s["custom_id"].GetString();
  }
  w.check_invariants();
}

TEST(Faults, S19_rate_limit_and_ban) {
  fault_world w("s19");
  w.start();
  const std::string item = fault_world::status_route("onek");
  const auto log_of = [&] { return w.provider("onek").server->requests(); };
  // Every request after the 429 arrived no earlier than the Retry-After allowed.
  const auto nothing_before = [&](std::chrono::system_clock::time_point until) {
    const auto log = log_of();
    std::optional<std::chrono::system_clock::time_point> limited;
    for (const auto& r : log) {
      if (r.status == 429) {
        limited = r.time;
        continue;
      }
      if (limited) {
        EXPECT_GE(r.time, until) << r.method << " " << r.target;
      }
    }
    EXPECT_TRUE(limited.has_value());
  };

  // Seconds form, on a status poll: the tracker waits it out.
  {
    sim::fault f = fault_world::once(fault_kind::status, "GET");
    f.status = 429;
    f.retry_after_seconds = 7;
    w.fault("onek", item, f);
    w.provider("onek").server->clear_requests();
    EXPECT_TRUE(w.execute(intent_at(w, "I-s19-seconds", "onek"), "onek").filled);
    std::optional<std::chrono::system_clock::time_point> at;
    for (const auto& r : log_of()) {
      if (r.status == 429) at = r.time;
    }
    ASSERT_TRUE(at.has_value());
    nothing_before(*at + 7s);
  }
  // HTTP-date form, on one adapter: the circuit is open for the whole provider, every endpoint.
  {
    const auto base = w.records().leg("I-s19-seconds-L0-A0").value().value();
    const auto quoted = w.plan(intent_at(w, "I-s19-x", "onek"), "onek");
    const leg order = quoted.result.routes.front().legs.front().order;
    auto v = w.fresh_venue("onek");
    // An HTTP-date has whole seconds: the next one at least 7 s away.
    const auto until =
        std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now() + 7s);
    sim::fault f = fault_world::once(fault_kind::status, "GET");
    f.status = 429;
    f.retry_after_date = sim::format_http_date(until);
    w.fault("onek", item, f);
    w.provider("onek").server->clear_requests();
    auto limited = w.run(v.venue->status(leg_ref{base.provider_ref, base.client}));
    ASSERT_FALSE(limited.has_value());
    EXPECT_EQ(limited.error().kind, error_kind::rate_limited);
    const std::size_t sent = log_of().size();
    auto balances = w.run(v.venue->balances());
    ASSERT_FALSE(balances.has_value());
    EXPECT_FALSE(balances.error().may_have_reached);
    auto created = w.run(v.venue->submit(order, "I-s19-never-L0-A0"));
    ASSERT_FALSE(created.has_value());
    EXPECT_FALSE(created.error().may_have_reached) << describe(created.error());
    EXPECT_EQ(log_of().size(), sent) << "nothing sent while the circuit is open";
    // After the date, the provider is asked again.
    std::optional<result<leg_status>> again;
    for (int i = 0; i < 120 && !(again && again->has_value()); ++i) {
      w.run_for(100ms);
      again = w.run(v.venue->status(leg_ref{base.provider_ref, base.client}));
    }
    ASSERT_TRUE(again && again->has_value());
    nothing_before(until);
  }
  // A long ban on create: nothing is sent until the intent's deadline, so the leg is cancelled
  // (not unknown) and its remainder re-planned at another provider.
  {
    sim::fault f = fault_world::once(fault_kind::status, "POST");
    f.status = 429;
    f.retry_after_seconds = 24 * 3600;
    w.fault("onek", fault_world::create_route("onek"), f);
    const std::size_t posts = w.requests("onek", fault_world::create_route("onek"));
    const auto out = w.execute(intent_at(w, "I-s19-ban", "onek"), "onek");
    EXPECT_EQ(w.requests("onek", fault_world::create_route("onek")), posts + 1);
    EXPECT_EQ(phase_of_leg(w, "I-s19-ban-L0-A0"), leg_phase::cancelled);
    EXPECT_EQ(swaps_for(w, "onek", "I-s19-ban-L0-A0"), 0u);
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(swaps_of(w, "stablestack"), 1u);
  }
  // A burst of polls and direction reads: the adapter's budget (below the documented limits)
  // refuses locally, so the emulator's own limiter never answers 429.
  {
    const auto base = w.records().leg("I-s19-seconds-L0-A0").value().value();
    auto v = w.fresh_venue("onek");
    w.provider("onek").server->clear_requests();
    std::size_t done = 0;
    std::size_t refused = 0;
    std::size_t late = 0;
    std::size_t opened = 0;
    // Coroutines keep a reference to their argument: it must outlive them.
    const leg_ref ref{base.provider_ref, base.client};
    for (int i = 0; i < 150; ++i) {
      asio::co_spawn(w.io(), v.venue->status(ref), [&](std::exception_ptr, result<leg_status> r) {
        ++done;
        // A poll the budget let through may still outlast its deadline on a loaded machine (a
        // hundred TLS handshakes at once under ASan), or reach the emulator more than 5 s after
        // it was signed (401 timestamp.invalid): not a local refusal; whatever of it reached the
        // emulator is counted with its requests below. Enough of those in a row open the
        // provider's circuit, whose refusals are local too.
        if (r) return;
        const bool stale = r.error().kind == error_kind::auth &&
                           r.error().message.find("timestamp.invalid") != std::string::npos;
        if (r.error().kind == error_kind::timeout || stale) {
          ++late;
          return;
        }
        EXPECT_FALSE(r.error().may_have_reached) << describe(r.error());
        if (r.error().kind == error_kind::circuit_open) {
          ++opened;
          return;
        }
        EXPECT_EQ(r.error().kind, error_kind::rate_limited) << describe(r.error());
        ++refused;
      });
    }
    for (int i = 0; i < 30; ++i) {
      asio::co_spawn(w.io(), v.venue->directions(),
                     [&](std::exception_ptr, result<std::vector<direction>> r) {
                       ++done;
                       if (!r) ++refused;
                     });
    }
    w.io().restart();
    while (done < 180) w.io().run_one();
    std::size_t items = 0;
    std::size_t directions = 0;
    for (const auto& r : log_of()) {
      EXPECT_NE(r.status, 429) << r.target;
      items += r.route == item ? 1 : 0;
      directions += r.route == onek::wire::path::swap_directions ? 1 : 0;
    }
    EXPECT_GT(refused, 0u);
    if (opened > 0) EXPECT_GT(late, 0u) << "the circuit opened with every poll answered";
    EXPECT_LE(items, 300u / 3 + 2);  // the adapter's burst: a third of the documented minute
    EXPECT_LE(directions, 30u / 3 + 2);
  }
  w.check_invariants();
}

// --- 20-22: TLS impostors, redirects, secrets --------------------------------------------------

TEST(Faults, S20_tls_mitm_variants) {
  fault_world w("s20");
  w.start();
  const auto quoted = w.plan(intent_at(w, "I-s20", "onek"), "onek");
  const leg order = quoted.result.routes.front().legs.front().order;
  for (const std::string variant :
       {"self_signed", "wrong_host", "expired", "untrusted_ca", "ip_without_sni"}) {
    SCOPED_TRACE(variant);
    sim::server_options so;
    cert_options leaf;
    std::string host = "127.0.0.1";
    if (variant == "self_signed") {
      so.tls = cert_authority::self_signed(leaf);
    } else if (variant == "wrong_host") {
      leaf.dns_names = {"wrong.example"};
      leaf.ip_addresses = {};
      so.tls = w.ca().issue(leaf);  // the right chain, another host
    } else if (variant == "expired") {
      leaf.not_before_offset = -std::chrono::hours(48);
      leaf.valid_for = std::chrono::hours(24);
      so.tls = w.ca().issue(leaf);
    } else if (variant == "untrusted_ca") {
      so.tls = cert_authority::generate("impostor CA").issue(leaf);
    } else {
      // Valid only for a name: a client connecting to an IP cannot send it as SNI nor match it.
      leaf.ip_addresses = {};
      so.tls = w.ca().issue(leaf);
    }
    // The real 001k emulator behind the bad certificate.
    sim::server impostor(w.io().get_executor(), so);
    onek::emulator emu(w.io().get_executor(), impostor, w.market(), *w.provider("onek").config);
    impostor.start();
    http_endpoint e = w.endpoint("onek");
    e.host = host;
    e.port = impostor.port();
    auto http = make_http_client(w.io().get_executor(), e);
    const auto& cred = w.credential("onek");
    onek::client client(*http, cred.access_key, hmac_sha256(cred.secret));
    auto listed = w.run(client.directions());
    ASSERT_FALSE(listed.has_value());
    EXPECT_EQ(listed.error().kind, error_kind::tls) << describe(listed.error());
    auto created = w.run(client.submit(order, "I-s20-L0-A0"));
    ASSERT_FALSE(created.has_value());
    EXPECT_FALSE(created.error().may_have_reached) << describe(created.error());
    w.run_for(50ms);
    // Fails closed: no handshake completed, no request read, so no key or signature header.
    EXPECT_EQ(impostor.stats().tls_handshakes, 0u);
    EXPECT_EQ(impostor.stats().requests_received, 0u);
    EXPECT_TRUE(impostor.requests().empty());
    EXPECT_EQ(swaps_of(w, "onek"), 0u);
    emu.stop();
    impostor.stop();
    w.run_for(50ms);
  }
  w.check_invariants();
}

TEST(Faults, S21_redirect_and_ssrf) {
  fault_world w("s21");
  w.start();
  // Two traps a redirect or a body could point at: HTTPS with a trusted certificate, and plain.
  sim::server_options tls_options;
  tls_options.admin_api = false;
  tls_options.tls = w.ca().issue(cert_options{});
  sim::server tls_trap(w.io().get_executor(), tls_options);
  sim::server_options plain_options;
  plain_options.admin_api = false;
  sim::server plain_trap(w.io().get_executor(), plain_options);
  for (auto* trap : {&tls_trap, &plain_trap}) {
    trap->route("GET", "/steal",
                [](const sim::sim_request&) { return sim::sim_response::json(200, "{}"); });
    trap->start();
  }
  for (const auto p : providers) {
    SCOPED_TRACE(p);
    const std::string id = fmt::format("I-s21-{}", p);
    // The create is answered 302 to another host after the swap was made; a status poll 302
    // from https to http.
    sim::fault create = fault_world::once(fault_kind::redirect, "POST", true);
    create.body = tls_trap.base_url() + std::string(fault_world::create_route(p));
    w.fault(p, fault_world::create_route(p), create);
    sim::fault poll = fault_world::once(fault_kind::redirect, fault_world::status_method(p));
    poll.body = plain_trap.base_url() + "/steal";
    w.fault(p, fault_world::status_route(p), poll);
    const auto out = w.execute(intent_at(w, id, p), p);
    w.provider(p).server->faults().clear_all();
    EXPECT_TRUE(out.filled) << out.state;
    EXPECT_EQ(w.phases_of(id + "-L0-A0")[2], leg_phase::unknown);
    EXPECT_EQ(w.requests(p, fault_world::create_route(p)), 1u);
    EXPECT_EQ(swaps_for(w, p, id + "-L0-A0"), 1u);
  }
  {
    // URLs inside an otherwise valid 001k answer are data, never followed.
    const auto base = w.records().leg("I-s21-onek-L0-A0").value().value();
    sim::fault f = fault_world::once(fault_kind::status, "GET");
    f.status = 200;
    f.body = onek_swap_json(w, base.client, [&](rapidjson::Value& s, auto& a) {
      s.RemoveMember("opened_by");
      set_string(s, "callback_url", plain_trap.base_url() + "/steal", a);
      set_string(s, "next", tls_trap.base_url() + "/steal", a);
      set_string(s, "location", "http://127.0.0.1:1/steal", a);
    });
    w.fault("onek", fault_world::status_route("onek"), f);
    auto answer = w.run(w.venue_of("onek").status(leg_ref{base.provider_ref, base.client}));
    ASSERT_TRUE(answer.has_value()) << describe(answer.error());
    EXPECT_EQ(answer->state, leg_state::filled);
  }
  w.run_for(50ms);
  // No request to any host but the configured ones, and only to routes they serve.
  EXPECT_EQ(tls_trap.stats().connections_accepted, 0u);
  EXPECT_EQ(plain_trap.stats().connections_accepted, 0u);
  for (const auto p : providers) {
    for (const auto& r : w.provider(p).server->requests()) {
      EXPECT_FALSE(r.route.empty()) << p << " " << r.method << " " << r.target;
    }
  }
  tls_trap.stop();
  plain_trap.stop();
  w.check_invariants();
}

TEST(Faults, S22_secret_leak_sentinel) {
  fault_world w("s22");
  w.start();
  // Error paths: a 001k key the provider does not know, and a secret it does not share.
  {
    auto v = w.fresh_venue("onek");
    auto wrong = std::make_unique<onek::client>(*v.http, "SENTINEL-SECRET-11",
                                                hmac_sha256("SENTINEL-SECRET-12"));
    auto answer = w.run(wrong->balances());
    ASSERT_FALSE(answer.has_value());
    EXPECT_EQ(answer.error().kind, error_kind::auth);
    spdlog::error("balances: {}", describe(answer.error()));
    auto listed = w.run(wrong->directions());
    ASSERT_FALSE(listed.has_value());
    spdlog::error("directions: {}", describe(listed.error()));
  }
  // A provider that echoes our key back in its error bodies, on a create and on a poll.
  {
    sim::fault echo = fault_world::once(fault_kind::status, "POST");
    echo.status = 401;
    echo.body = R"({"code":"auth.failed","message":"key SENTINEL-SECRET-1 lacks allow_swap"})";
    w.fault("onek", fault_world::create_route("onek"), echo);
    sim::fault poll = fault_world::once(fault_kind::status, "GET");
    poll.status = 500;
    poll.body = R"({"code":"internal","message":"SENTINEL-SECRET-1 SENTINEL-SECRET-2"})";
    w.fault("onek", fault_world::status_route("onek"), poll);
    const auto out = w.execute(intent_at(w, "I-s22-echo", "onek"), "onek");
    EXPECT_TRUE(out.filled) << out.state;
  }
  // StableStack and OxaPay authenticate with the key alone: a 401 for an unknown one.
  for (const auto p : {"stablestack", "oxapay"}) {
    sim::fault echo = fault_world::once(fault_kind::status, "POST");
    echo.status = 401;
    echo.body = R"({"status":"error","message":"x-api-key SENTINEL-SECRET-5 SENTINEL-SECRET-7"})";
    w.fault(p, fault_world::create_route(p), echo);
    const auto out = w.execute(intent_at(w, fmt::format("I-s22-{}", p), p), p);
    EXPECT_FALSE(out.state.empty());
  }
  // A secrets file readable by others is refused at start, without printing its content.
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("swaprouter-faults-s22-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
    const auto path = dir / name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path.string();
  };
  const std::string open_key = write("open.key", "SENTINEL-SECRET-15\n", 0644);
  const std::string closed_key = write("closed.key", "SENTINEL-SECRET-15\n", 0600);
  const auto config = [&](const std::string& key) {
    return write("config.yaml",
                 "providers:\n  oxapay:\n    base_url: https://127.0.0.1:1\n    credentials:\n"
                 "      api_key: {file: " +
                     key + "}\n",
                 0600);
  };
  const auto refused = config::load_engine_config(config(open_key));
  ASSERT_EQ(refused.errors.size(), 1u);
  const std::string why = refused.errors.front().what();
  EXPECT_NE(why.find("readable by its owner only"), std::string::npos) << why;
  EXPECT_EQ(why.find(testing::sentinel_marker), std::string::npos) << why;
  spdlog::error("config: {}", why);
  const auto accepted = config::load_engine_config(config(closed_key));
  EXPECT_TRUE(accepted.ok());
  std::filesystem::remove_all(dir);
  // The sentinels are found nowhere: logs (trace level), journal, metrics, status.
  w.check_invariants();
}

// --- 23: restart storm -------------------------------------------------------------------------

// A random network fault on a create or a status call.
std::optional<std::pair<std::string, sim::fault>> random_fault(std::mt19937_64& rng,
                                                               std::string_view p) {
  const bool on_create = rng() % 2 == 0;
  const std::string route = on_create ? fault_world::create_route(p) : fault_world::status_route(p);
  const std::string method = on_create ? "POST" : fault_world::status_method(p);
  sim::fault f = fault_world::once(fault_kind::status, method);
  switch (rng() % 10) {
    case 0:
      f.kind = fault_kind::reset_after;
      break;
    case 1:
      f.kind = fault_kind::reset_before;
      break;
    case 2:
      f.status = 502;
      f.run_handler = true;
      break;
    case 3:
      f.status = 503;
      break;
    case 4:
      f.kind = fault_kind::truncated_body;
      break;
    case 5:
      f.kind = fault_kind::truncated_chunked;
      break;
    case 6:
      f.kind = fault_kind::timeout_400;
      f.run_handler = true;
      break;
    case 7:
      f.kind = fault_kind::malformed_json;
      break;
    default:
      return std::nullopt;
  }
  return std::make_pair(route, f);
}

// One seeded storm: `swaps` intents across the providers with random faults, about half of them
// killed at a random hook point and restarted over the same journal file; about half of the
// restarts die too, at a hook point they reach (a re-planned remainder, a resent or resumed leg),
// and are restarted again. Answers the number of kills.
int run_storm(std::uint64_t seed, int swaps) {
  fault_world w(fmt::format("s23-{}", seed), testing::fault_scenario_yaml(), [](sim::scenario& s) {
    for (auto& [name, p] : s.providers) p.fill_delay = 50ms;
  });
  w.start();
  std::mt19937_64 rng(seed);
  w.options.seed = seed;
  int kills = 0;
  for (int n = 0; n < swaps; ++n) {
    const std::string_view p = providers[rng() % providers.size()];
    const std::string amount = fmt::format("{}.{:02}", 10 + rng() % 190, rng() % 100);
    const std::string id = fmt::format("I-st{}-{}", seed, n);
    if (auto f = random_fault(rng, p)) w.fault(p, f->first, f->second);
    const bool crash = rng() % 2 == 0;
    const std::string point(crash_points[rng() % crash_points.size()]);
    execution_options o = w.options;
    if (crash) {
      o.crash = [point](std::string_view here) {
        if (here == point) throw killed{point};
      };
    }
    bool died = false;
    {
      auto exec = w.make_executor(o);
      const auto i = intent_at(w, id, p, amount);
      // A provider whose circuit the faults opened has no price: the intent fails, journaled.
      auto quoted = w.plan(i, p, true);
      try {
        w.run(exec->execute(i, quoted));
      } catch (const killed&) {
        died = true;
      }
    }
    w.provider(p).server->faults().clear_all();
    // A restart may die too, at any point it reaches, until one gets through.
    while (died) {
      ++kills;
      w.restart();
      execution_options again = w.options;
      const std::string at(crash_points[rng() % crash_points.size()]);
      if (rng() % 2 == 0) {
        again.crash = [at](std::string_view here) {
          if (here == at) throw killed{at};
        };
      }
      try {
        w.run(w.make_executor(again)->recover());
        died = false;
      } catch (const killed&) {
        died = true;
      }
    }
  }
  // A last restart settles whatever is left, then every invariant must hold.
  w.restart();
  w.run(w.make_executor()->recover());
  w.check_invariants();
  return kills;
}

TEST(Faults, S23_restart_storm) {
  // SWAPROUTER_STORM_SEED replays one seed; SWAPROUTER_STORM_SWAPS sets the swaps per seed
  // (scripts/restart-storm.sh runs many seeds with 100 swaps each).
  std::vector<std::uint64_t> seeds{1, 2};
  if (const auto one = env_number("SWAPROUTER_STORM_SEED")) seeds = {*one};
  const int swaps = static_cast<int>(env_number("SWAPROUTER_STORM_SWAPS").value_or(16));
  for (const auto seed : seeds) {
    SCOPED_TRACE(fmt::format("storm seed {}", seed));
    const int kills = run_storm(seed, swaps);
    EXPECT_GT(kills, 0);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "restart storm seed " << seed << " failed; replay it with: "
                    << "SWAPROUTER_STORM_SEED=" << seed << " SWAPROUTER_STORM_SWAPS=" << swaps
                    << " faults_tests --gtest_filter=Faults.S23_restart_storm";
      break;
    }
  }
}

// --- 24-25: journal failures, inconsistent provider records -----------------------------------

TEST(Faults, S24_journal_write_failure) {
  auto vfs = fault_vfs::install("faults-s24").value();
  fault_world w("s24");
  w.start();
  journal_options on_vfs;
  on_vfs.vfs = vfs->name();
  w.reopen_journal(on_vfs);
  const std::string open = fault_world::create_route("onek");
  // Disk full at the intent commit: nothing is sent.
  vfs->fail_writes(1000, io_fault::disk_full);
  const auto refused = w.execute(intent_at(w, "I-s24a", "onek"), "onek");
  vfs->fail_writes(0, io_fault::disk_full);
  EXPECT_EQ(refused.state, "failed");
  EXPECT_EQ(w.requests("onek", open), 0u);
  EXPECT_FALSE(w.records().intent("I-s24a").value().has_value());
  // An I/O error from the moment the create's answer is read.
  execution_options o = w.options;
  o.crash = [&](std::string_view at) {
    if (at == "after_response_read") vfs->fail_writes(1000000, io_fault::io_error);
  };
  auto exec = w.make_executor(o);
  w.execute(*exec, intent_at(w, "I-s24b", "onek"), "onek");
  EXPECT_TRUE(exec->log().broken());
  EXPECT_EQ(w.requests("onek", open), 1u);
  EXPECT_NE(w.logs().find("journal write failed"), std::string::npos) << "alarmed";
  // The disk recovers, but this engine sends nothing new: only a restart resumes.
  vfs->fail_writes(0, io_fault::io_error);
  const auto after = w.execute(*exec, intent_at(w, "I-s24c", "onek"), "onek");
  EXPECT_FALSE(after.filled);
  EXPECT_EQ(w.requests("onek", open), 1u);
  exec.reset();
  // Restart: reconciliation adopts the swap whose states never reached the journal.
  w.restart(on_vfs);
  const auto recovered = w.run(w.make_executor()->recover());
  EXPECT_GE(recovered.legs, 1u);
  const auto leg = w.records().leg("I-s24b-L0-A0").value();
  ASSERT_TRUE(leg.has_value());
  EXPECT_EQ(leg->phase, leg_phase::filled);
  EXPECT_FALSE(leg->provider_ref.empty());
  EXPECT_EQ(swaps_for(w, "onek", "I-s24b-L0-A0"), 1u);
  EXPECT_EQ(w.requests("onek", open), 1u);
  w.check_invariants();
  w.close_journal();
}

TEST(Faults, S25_inconsistent_provider_record) {
  fault_world w("s25");
  w.start();
  const std::string open = fault_world::create_route("onek");
  const std::string list(onek::wire::path::swap_list);
  // (a) The provider holds a swap under our client id for another amount.
  {
    const auto i = intent_at(w, "I-s25a", "onek");
    auto quoted = w.plan(i, "onek");
    leg other = quoted.result.routes.front().legs.front().order;
    other.amount = dec("50");
    ASSERT_TRUE(w.run(w.venue_of("onek").submit(other, "I-s25a-L0-A0")).has_value());
    w.fault("onek", open, fault_world::once(fault_kind::reset_before));
    auto exec = w.make_executor();
    w.run(exec->execute(i, quoted));
  }
  // (b) Two swaps for one id, and (c) one for another pair, in the lookup's answer.
  const auto listed = [&](const client_id& client, std::vector<std::string> directions) {
    std::string body = "[";
    int n = 0;
    for (const auto& d : directions) {
      if (n > 0) body += ',';
      body += onek_swap_json(w, "I-s25a-L0-A0", [&](rapidjson::Value& s, auto& a) {
        s.RemoveMember("opened_by");
        set_string(s, "custom_id", client, a);
        set_string(s, "code", fmt::format("FORGED{}", n), a);
        set_string(s, "direction", d, a);
        if (d != "USDT-USDC") set_string(s, "receive_currency", "COPM", a);
        set_string(s, "spend_amount", "100.00", a);
      });
      ++n;
    }
    return body + "]";
  };
  for (const auto& [id, directions] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"I-s25b", {"USDT-USDC", "USDT-USDC"}}, {"I-s25c", {"USDT-COPM"}}}) {
    SCOPED_TRACE(id);
    w.fault("onek", open, fault_world::once(fault_kind::reset_before));
    sim::fault lookup = fault_world::once(fault_kind::status, "GET");
    lookup.status = 200;
    lookup.body = listed(id + "-L0-A0", directions);
    lookup.remaining = -1;
    w.fault("onek", list, lookup);
    w.execute(intent_at(w, id, "onek"), "onek");
    w.provider("onek").server->faults().clear_all();
  }
  const std::size_t posts = w.requests("onek", open);
  EXPECT_EQ(posts, 4u);  // the planted swap and one create per intent, none resent
  for (const std::string id : {"I-s25a", "I-s25b", "I-s25c"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(phase_of_leg(w, id + "-L0-A0"), leg_phase::frozen) << "not adopted";
    bool alarmed = false;
    for (const auto& e : w.events("alarm")) alarmed = alarmed || e.client == id + "-L0-A0";
    EXPECT_TRUE(alarmed);
  }
  // Never resubmitted, not even after a restart.
  w.restart();
  const auto recovered = w.run(w.make_executor()->recover());
  EXPECT_EQ(recovered.frozen, 3u);
  EXPECT_EQ(w.requests("onek", open), posts);

  // (d) StableStack keeps no client ids: after a restart, a lookup by amount and time finds the
  // swap another leg of the same amount holds. It is not adopted a second time; the leg that
  // was never sent is cancelled.
  ASSERT_TRUE(w.execute(intent_at(w, "I-s25d-held", "stablestack", "77"), "stablestack").filled);
  const auto held = w.records().leg("I-s25d-held-L0-A0").value().value();
  crash_and_recover(w, intent_at(w, "I-s25d", "stablestack", "77"), "stablestack",
                    "after_intent_commit");
  const auto leg = w.records().leg("I-s25d-L0-A0").value().value();
  EXPECT_EQ(leg.phase, leg_phase::cancelled);
  EXPECT_TRUE(leg.provider_ref.empty());
  EXPECT_EQ(w.records().leg_by_ref("stablestack", held.provider_ref).value().value().client,
            held.client);
  w.check_invariants();
}

TEST(Faults, S13_callback_flood_is_not_journaled_callback_by_callback) {
  // 400 distinct forged claims about one leg within a second (the default allow-list lets any
  // address in; client ids are guessable): beyond the hint rate they are refused, and the flood
  // must not become one journal transaction per callback.
  callback_options gate_options;
  gate_options.hints_per_second = 5;
  // The emulator's own final callback is beyond the rate too: the poll finds the fill.
  callback_world cw("s13f", gate_options, 2s);
  // The gate's clock stands still: the whole flood falls in one second however slowly the
  // machine runs it (the bound below is a count, not a time).
  cw.gate = std::make_unique<callback_gate>(*cw.exec, gate_options,
                                            [at = callback_gate::clock::now()] { return at; });
  cw.gate->add_provider("onek", onek_callback);
  auto& w = cw.w;
  cw.on_accepted = [&](const client_id& client) {
    for (int i = 0; i < 400; ++i) {
      cw.gate->receive("onek", "127.0.0.1",
                       cw.body(client, "success", std::to_string(1000 + i) + ".5"));
    }
  };
  const auto out = w.execute(*cw.exec, intent_at(w, "I-s13f", "onek"), "onek");
  EXPECT_TRUE(out.filled) << out.state;
  EXPECT_GE(cw.gate->count(callback_verdict::rate_limited), 390u);
  const auto events = w.records().events_of("I-s13f").value();
  const auto security = std::count_if(events.begin(), events.end(),
                                      [](const journal_event& e) { return e.kind == "security"; });
  EXPECT_EQ(security, 5) << security << " security rows for one flood";
  w.check_invariants();
}

}  // namespace
}  // namespace swaprouter
