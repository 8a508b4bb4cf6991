// The planner: the best admissible way to turn an intent into legs (DESIGN.md s.5).
#pragma once

#include <fmt/core.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/pricing.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

/// What to convert: spend exactly `amount` of spend_asset (side spend) or receive exactly
/// `amount` of receive_asset net (side receive).
struct swap_intent {
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal amount;
  decimal min_receive;               ///< spend side: the worst-case net must reach it
  std::optional<decimal> max_spend;  ///< receive side: never spend more
  std::optional<wall_time> deadline;
  std::vector<std::string> providers;  ///< allowed providers; empty = all
};

/// An asset already held at a provider: it funds cross-provider paths (and overrides a pricing's
/// `available` for that provider and asset).
struct held_balance {
  std::string provider;
  std::string asset;
  decimal amount;
};

struct planner_options {
  int max_hops = 2;  ///< 1..4
  bool split = true;
  std::chrono::milliseconds quote_max_age{5000};
  std::vector<held_balance> held;
  /// How many of the best candidate routes the split search combines (2^n subsets).
  std::size_t split_routes = 5;
  /// Accept a plan that places less than the whole spend when capacity runs out.
  bool allow_partial = false;
};

/// One leg of a route: the order to send and every figure of its price.
struct planned_leg {
  leg order;  ///< side spend, amount = spend, min_receive = worst-case net
  decimal gross;
  decimal fee;  ///< in the leg's receive asset
  decimal net;
  decimal worst_net;
  int levels = 0;
  bool firm = false;
  wall_time obtained_at{};
  std::optional<wall_time> valid_until;
};

/// A chain of legs, each spending what the previous one receives.
struct planned_route {
  std::vector<planned_leg> legs;
  decimal spend;
  decimal net;
  decimal worst_net;
  std::vector<std::string> limits_hit;  ///< e.g. "onek BTC-USDT max_spend"
};

/// Immutable text that plans share (a route's name, a common rejection reason): copying it
/// does not allocate, so a plan listing every rejected candidate costs no string copies. Reads
/// as a std::string.
class shared_text {
 public:
  shared_text();
  shared_text(std::string text);  // NOLINT(google-explicit-constructor): a string is a text
  shared_text(const char* text);  // NOLINT(google-explicit-constructor)
  // Copied, never moved from: a moved-from text still reads as the text.
  shared_text(const shared_text&) = default;
  shared_text& operator=(const shared_text&) = default;

  const std::string& str() const noexcept { return *text_; }
  operator const std::string&() const noexcept { return *text_; }  // NOLINT
  operator std::string_view() const noexcept { return *text_; }    // NOLINT
  bool empty() const noexcept { return text_->empty(); }

  friend bool operator==(const shared_text& a, const shared_text& b) noexcept {
    return *a.text_ == *b.text_;
  }
  friend bool operator==(const shared_text& a, std::string_view b) noexcept {
    return *a.text_ == b;
  }
  friend bool operator==(const shared_text& a, const std::string& b) noexcept {
    return *a.text_ == b;
  }
  friend bool operator==(const shared_text& a, const char* b) noexcept { return *a.text_ == b; }
  friend std::string operator+(std::string a, const shared_text& b) { return a += *b.text_; }
  friend std::string operator+(const char* a, const shared_text& b) { return a + *b.text_; }
  friend std::string operator+(const shared_text& a, std::string_view b) {
    std::string out = *a.text_;
    return out += b;
  }
  friend std::ostream& operator<<(std::ostream& out, const shared_text& t) {
    return out << *t.text_;
  }

 private:
  std::shared_ptr<const std::string> text_;
};

/// A candidate that is not in the plan, and why.
struct rejected_route {
  shared_text route;   ///< "onek: USDT->BTC, kiiex: BTC->COPM"
  shared_text reason;  ///< "stale: ...", "ttl: ...", "max_spend: ...", "outranked: ..."
};

struct asset_amount {
  std::string asset;
  decimal amount;
};

/// The planner's answer. routes is empty when no admissible plan exists; failure then says why
/// and rejected lists every candidate's reason.
struct plan {
  std::vector<planned_route> routes;
  decimal spend;
  decimal net;
  decimal worst_net;
  decimal unspent;  ///< intent amount minus spend (spend side)
  std::vector<asset_amount> fees;
  decimal effective_rate;  ///< net / spend, rounded down to 18 places
  std::vector<rejected_route> rejected;
  std::string failure;

  bool ok() const { return !routes.empty() && failure.empty(); }
};

/// Plans `intent` over `quotes` at `now` (the clock of obtained_at and valid_until: the quote book
/// converts provider times with its clock offsets). Candidates: direct directions, same-provider
/// paths up to max_hops, and paths that continue at another provider holding the intermediate
/// asset (its held balance bounds that leg). Each route is priced exactly; a split over up to
/// split_routes routes is chosen by enumerating subsets, filling each by marginal rate and pricing
/// the best exactly (branch and bound on an upper bound of every subset). Admission: quote age
/// <= quote_max_age, remaining validity >= the provider's p95 execution latency, worst-case net
/// >= intent.min_receive. A direction is used by at most one leg of a plan. Pure and thread-safe.
///
/// Rejected reasons: when a plan exists, a route whose best rate times the amount cannot beat the
/// plan's net is never bounded or priced and reads "outranked: its best rate cannot beat the
/// plan"; a route that was bounded reads its bound failure, "limit: ..." or "outranked: the plan
/// nets more" (its whole-amount failure is not priced). Without a plan every route is bounded and
/// priced for the whole amount, and its reason names the rule it broke. Ties between routes of
/// equal best rate, and between plans of equal net and spend, go to the one found first.
plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
               const planner_options& options, wall_time now);

/// What planning over a set of quotes needs that no intent changes, computed once per quote
/// update instead of once per plan: the interned provider and asset names, the quotes indexed by
/// spend asset, each quote's first linear segment, and, filled in on the first plan of each
/// (spend asset, receive asset, max_hops, held balances), that pair's candidate routes with their
/// best rates, spend bounds, linear models and names. Nothing in it depends on an amount or on
/// the clock: admission (age, TTL, deadline, allowed providers) stays per plan.
///
/// Immutable once built except for the per-pair routes: a route set is searched without a lock
/// and published under the market's lock, and a route's bound, linear model and name are each
/// computed once, under its route set's lock, then only read. Plans over one prepared market may
/// run on several threads. Moving it keeps every reference into it valid (a moved-from market
/// may only be assigned or destroyed); it cannot be copied.
class prepared_market {
 public:
  /// Refers to `quotes`, which must outlive the market and stay unchanged.
  explicit prepared_market(std::span<const pricing> quotes);
  /// Owns `quotes` (an rvalue, so that a vector lvalue is referred to, never copied). With
  /// `fresh_for`, a plan leaves out, as if they were not in the market (no rejected route names
  /// them), the quotes obtained more than `fresh_for` before its `now` or whose valid_until is
  /// not after it, and those of providers the intent does not allow: what
  /// quote_book::fresh_prices and plan_from_book hand the planner.
  explicit prepared_market(std::vector<pricing>&& quotes,
                           std::optional<std::chrono::milliseconds> fresh_for = std::nullopt);
  prepared_market(prepared_market&&) noexcept;
  prepared_market& operator=(prepared_market&&) noexcept;
  ~prepared_market();

  std::span<const pricing> quotes() const noexcept;
  /// Whether a plan at `now` keeps quote i (always, without fresh_for); the intent's allowed
  /// providers aside.
  bool fresh(std::size_t i, wall_time now) const noexcept;

  struct state;

 private:
  friend plan make_plan(const swap_intent& intent, const prepared_market& market,
                        const planner_options& options, wall_time now);
  std::unique_ptr<state> state_;
};

/// make_plan over a prepared market: the same plan, field by field, as make_plan over its quotes
/// (over the fresh ones of the allowed providers when it was built with fresh_for), without
/// preparing them again. Thread-safe.
plan make_plan(const swap_intent& intent, const prepared_market& market,
               const planner_options& options, wall_time now);

/// What successive plans over fresh quotes of one market topology share: the topology (which
/// provider quotes which spend and receive asset, quote by quote, in order), its interned names,
/// its index by spend asset and, per (intent pair, max_hops, held balances), the candidate
/// routes and their names. Directions change slowly and prices every decision, so a decision
/// that plans over newly received quotes (quote_and_plan, the bench's decision loop) keeps one
/// of these and redoes only what depends on prices: rates, bounds, linear models, admission.
/// A plan over quotes of another topology replaces what the cache holds. Not thread-safe: one
/// cache per caller (the quote book keeps one for its fan-outs).
class route_cache {
 public:
  route_cache();
  route_cache(route_cache&&) noexcept;
  route_cache& operator=(route_cache&&) noexcept;
  ~route_cache();

  /// Whether the cache holds the topology of `quotes` (the next plan over them reuses it).
  bool holds(std::span<const pricing> quotes) const;

 private:
  friend plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
                        const planner_options& options, wall_time now, route_cache& cache);
  std::unique_ptr<prepared_market::state> state_;
};

/// make_plan over `quotes`, reusing the topology and route searches `cache` kept from earlier
/// plans when `quotes` have the same topology (else the cache is rebuilt from them): the same
/// plan, field by field, as make_plan(intent, quotes, options, now). `quotes` need only live for
/// the call.
plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
               const planner_options& options, wall_time now, route_cache& cache);

}  // namespace swaprouter

template <>
struct fmt::formatter<swaprouter::shared_text> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const swaprouter::shared_text& t, Context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(t.str()), ctx);
  }
};
