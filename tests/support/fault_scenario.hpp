// What the FAULTS.md tests (tests/faults_test.cpp, tests/provider_faults_test.cpp) share over the
// fault world: each provider's intent in the fault scenario, and what a leg left behind (its
// swaps, phase, alarms), a rate that moves between a quote and its swap, patient adapters, and an
// executor that dies at a crash point.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/fault_fixture.hpp"

namespace swaprouter::testing {

/// What each provider converts in the fault scenario, and a minimum per USDT spent far below
/// any price.
struct pair_of {
  std::string receive;
  std::string min_per_usdt;
};
inline pair_of pair_for(std::string_view provider) {
  if (provider == "kiiex") return {"COPM", "2000"};
  if (provider == "oxapay") return {"BTC", "0.000005"};
  return {"USDC", "0.9"};
}

/// An intent spending `amount` USDT for the provider's receive asset, with its minimum.
inline intent_record intent_at(fault_world& w, std::string id, std::string_view provider,
                               std::string amount = "100") {
  const pair_of p = pair_for(provider);
  const decimal min = decimal::parse(amount)
                          .value()
                          .mul(decimal::parse(p.min_per_usdt).value(), rounding::down)
                          .value()
                          .round(8, rounding::down);
  return w.intent(std::move(id), "USDT", p.receive, std::move(amount), min.to_string());
}

/// The provider's swaps of a leg: those carrying its client id, or the one its journal row holds
/// (KIIEX keeps a number for the client id, StableStack and OxaPay none).
inline std::size_t swaps_for(fault_world& w, std::string_view provider, const client_id& client) {
  std::size_t n = 0;
  auto leg = w.records().leg(client);
  const std::string ref = leg && *leg ? (*leg)->provider_ref : std::string();
  for (const auto& s : w.swaps(provider)) {
    n += s.client == client || (!ref.empty() && s.ref == ref) ? 1 : 0;
  }
  return n;
}

/// The leg's journaled phase; planned when it has no row.
inline leg_phase phase_of_leg(fault_world& w, const client_id& client) {
  auto leg = w.records().leg(client);
  if (!leg || !*leg) return leg_phase::planned;
  return (*leg)->phase;
}

inline std::size_t count_of(const std::vector<leg_phase>& phases, leg_phase p) {
  return static_cast<std::size_t>(std::count(phases.begin(), phases.end(), p));
}

/// Alarm events naming the leg.
inline std::size_t alarms_for(fault_world& w, const client_id& client) {
  std::size_t n = 0;
  for (const auto& e : w.events("alarm")) n += e.client == client ? 1 : 0;
  return n;
}

/// Create requests the provider received.
inline std::size_t creates(fault_world& w, std::string_view provider) {
  return w.requests(provider, fault_world::create_route(provider));
}

/// Sets the spend -> receive rate to `factor` times its mid, as a move between a quote and its
/// swap; `w.market().clear_rate(spend, receive)` restores it.
inline void move_rate(fault_world& w, std::string_view spend, std::string_view receive,
                      std::string_view factor) {
  const decimal mid = w.market().mid_rate(spend, receive).value();
  const auto moved = mid.mul(decimal::parse(factor).value(), rounding::down);
  ASSERT_TRUE(moved.has_value());
  ASSERT_TRUE(w.market().set_rate(spend, receive, *moved));
}

/// Adapters whose provider-wide circuit lets twenty failures in a row reach the executor (the
/// default opens after 5 and holds the polls for seconds), with `request_timeout` when given.
inline cli::adapter_tuning patient_adapter(
    std::optional<std::chrono::milliseconds> request_timeout = std::nullopt) {
  cli::adapter_tuning t;
  t.request_timeout = request_timeout;
  circuit_breaker_config c;
  c.failure_threshold = 20;
  t.circuit = c;
  return t;
}

/// The crash hook's "kill -9" in process: nothing after the point runs; the journal keeps what
/// was committed.
struct killed {
  std::string point;
};

/// Executes `i` at `provider` with an executor that dies at `point`; no restart.
inline void crash_at(fault_world& w, const intent_record& i, std::string_view provider,
                     std::string_view point) {
  execution_options crashing = w.options;
  const std::string at(point);
  crashing.crash = [at](std::string_view here) {
    if (here == at) throw killed{at};
  };
  auto doomed = w.make_executor(crashing);
  auto quoted = w.plan(i, provider);
  EXPECT_THROW(w.run(doomed->execute(i, quoted)), killed) << point;
}

}  // namespace swaprouter::testing
