// Dry-run mode (DESIGN.md s.3 "Modes"): a venue that reads a real provider's quotes but fills
// swaps in a local paper ledger with the provider's own fees, limits, precision and time-to-live.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/latency_histogram.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

struct paper_options {
  /// Starting balances of the ledger. Unset: read once from the provider's own balances()
  /// before the first fill or balance read.
  std::optional<std::vector<balance>> balances;
  /// Before a fill, wait the provider's measured quote latency (the round trip a real submit
  /// would take). Tests that compare amounts turn it off.
  bool latency = true;
  /// Where created_at and the time-to-live are read; the system clock when empty.
  std::function<wall_time()> clock;
};

/// Wraps a real venue for dry-run: id, traits, directions, price and pricing_for pass through
/// (price and pricing_for are timed: their median is the measured latency). submit() fills
/// locally from a fresh price() for the leg's side and amount, so every fee, limit and precision
/// rule is the provider adapter's own: a quote outside the limits is rejected as the provider
/// would; a fill that arrives after the leg's time-to-live is expired; one whose net is below the
/// leg's min_receive is cancelled unfilled (the slippage bound); one the paper balance cannot pay
/// for fails (insufficient_funds). A fill debits the spend and credits the net receive. status,
/// find, cancel and balances answer from the paper ledger, which deduplicates by client id (so
/// traits().client_id is true) and lives in memory only. Nothing that moves money reaches the
/// provider. Not thread-safe: one executor; `inner` must outlive it.
class paper_venue final : public forwarding_venue {
 public:
  explicit paper_venue(venue& inner, paper_options options = {});

  venue_traits traits() const override;
  task<result<quote>> price(const quote_request& request) override;
  task<result<pricing>> pricing_for(const quote_request& request) override;
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override;
  task<result<leg_status>> status(const leg_ref& ref) override;
  /// By client id in the paper ledger: `held` is not needed.
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override;
  /// Paper swaps are final at once: answers the swap's status unchanged.
  task<result<leg_status>> cancel(const leg_ref& ref) override;
  task<result<std::vector<balance>>> balances() override;

  /// The median of the last 32 to 64 quote latencies through this venue; zero before the first.
  std::chrono::milliseconds measured_latency() const;
  /// Every paper swap, in submission order.
  const std::vector<leg_status>& swaps() const noexcept { return swaps_; }

 private:
  task<result<void>> ensure_balances();
  void record_latency(std::chrono::steady_clock::duration took);
  wall_time now() const;
  leg_status& keep(leg_status status);

  paper_options options_;
  std::optional<std::map<std::string, decimal, std::less<>>> available_;
  std::vector<leg_status> swaps_;
  std::map<client_id, std::size_t, std::less<>> by_client_;
  std::map<std::string, std::size_t, std::less<>> by_ref_;
  recent_latency latencies_;
};

}  // namespace swaprouter
