// The shared quote path of `quote` and `swap`: fan out to every provider, collect each provider's
// pricing model for the pairs a plan can use, and plan (DESIGN.md s.3 "One normalised quote").
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "engine/pricing.hpp"
#include "engine/router.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// A plan with the pricing models it was made from and the providers that could not price.
struct quoted_plan {
  plan result;
  std::vector<pricing> models;
  std::vector<rejected_route> unavailable;  ///< "provider: A->B" and why it has no price
};

/// Asks every venue in `venues` allowed by intent.providers (empty = all) at once for its
/// directions, then for its pricing of every pair a route of up to options.max_hops (1 or 2) legs
/// can use, each fan-out bounded by `fanout`; plans over the answers at the time they arrive.
/// Runs on the caller's executor; the venues must outlive the call.
task<quoted_plan> quote_and_plan(std::span<venue* const> venues, swap_intent intent,
                                 planner_options options, std::chrono::milliseconds fanout);

}  // namespace swaprouter
