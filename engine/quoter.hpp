// The shared quote path of `quote` and `swap`: fan out to every provider, collect each provider's
// pricing model for the pairs a plan can use, and plan (DESIGN.md s.3 "One normalised quote").
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "engine/pricing.hpp"
#include "engine/quote_book.hpp"
#include "engine/router.hpp"
#include "engine/venue.hpp"

namespace swaprouter {

/// A plan with the pricing models it was made from and the providers that could not price.
struct quoted_plan {
  plan result;
  std::vector<pricing> models;
  std::vector<rejected_route> unavailable;  ///< "provider: A->B" and why it has no price
};

/// Asks every venue in `venues` allowed by intent.providers (empty = all) for its pricing of
/// every pair a route of up to options.max_hops (1 or 2) legs can use, all at once, and plans
/// over the answers in when all answered or at `fanout`, whichever is first (a late answer is
/// dropped, a failed provider delays no one).
///
/// Which pairs a venue serves comes from its directions: with a `book`, the book's listing when
/// it is at most directions_max_age old (the quote poller keeps it so), so the decision path is
/// one round of amount-specific quotes; venues without one (and every venue without a book) are
/// asked for their directions first, at once, within `fanout`. With a book, every answer also
/// goes to it (prices, quote latency, failures, clock offsets) and the models are planned on our
/// clock (quote_book::localized: the provider's clock offset, its recent p95 execution latency).
/// Runs on the caller's executor; the venues (and the book) must outlive the call.
task<quoted_plan> quote_and_plan(std::span<venue* const> venues, swap_intent intent,
                                 planner_options options, std::chrono::milliseconds fanout,
                                 quote_book* book = nullptr);

/// Plans `intent` over the book's fresh models at `now` (of the providers intent.providers
/// allows; empty = all), without I/O: an estimate from the poller's prices, not the
/// amount-specific quotes an execution needs. No fresh model of a pair means no route through it.
/// Plans over the book's prepared market (quote_book::prepared): between two quote updates only
/// the per-intent part of planning runs.
quoted_plan plan_from_book(const quote_book& book, const swap_intent& intent,
                           const planner_options& options, wall_time now);

/// A probe's plan (a strategy deciding whether to act): plan_from_book when `book` is set and
/// yields a route, else quote_and_plan's fan-out (no book, or a book stale for this intent).
task<quoted_plan> estimate_plan(std::span<venue* const> venues, swap_intent intent,
                                planner_options options, std::chrono::milliseconds fanout,
                                quote_book* book = nullptr);

}  // namespace swaprouter
