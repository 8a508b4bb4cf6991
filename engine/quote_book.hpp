// The quote book (DESIGN.md s.1, s.3): what the engine last learnt from every provider, kept by
// the quote poller and the on-demand fan-out, read by the planner and the status page.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/latency_histogram.hpp"
#include "engine/pricing.hpp"
#include "engine/result.hpp"
#include "engine/router.hpp"
#include "engine/venue.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

struct quote_book_options {
  /// A price older than this (engine.quote_max_age) is stale and never handed out.
  std::chrono::milliseconds quote_max_age{5000};
  /// Directions older than this are listed again on demand rather than trusted.
  std::chrono::milliseconds directions_max_age{std::chrono::minutes(10)};
  /// Latency percentiles are "recent": over the last `latency_window` to 2 x `latency_window`
  /// samples (two histograms, the older dropped when the newer fills).
  std::uint64_t latency_window = 1024;
};

/// One provider's failure, as the poller or a fan-out saw it.
struct book_failure {
  poll_kind kind = poll_kind::prices;
  error what;
  wall_time at{};  ///< our clock
};

/// What the book knows about one provider.
struct provider_view {
  std::string provider;
  std::optional<wall_time> directions_at;  ///< our clock
  std::size_t directions = 0;
  std::size_t prices = 0;              ///< entries, fresh or not
  std::optional<wall_time> prices_at;  ///< our clock, the latest put
  std::optional<wall_time> balances_at;
  std::optional<std::chrono::milliseconds> clock_offset;  ///< provider minus ours
  latency_summary quote_latency;
  latency_summary execution_latency;
  std::uint64_t failures = 0;              ///< since start
  std::uint64_t consecutive_failures = 0;  ///< since the last success of any kind
  std::optional<book_failure> last_failure;
};

/// Per provider: its directions, the latest pricing model of each direction with when it was
/// obtained (on the provider's clock, converted with the provider's clock offset when the venue
/// estimates one), its validity, its balances, its recent quote and execution latency
/// percentiles and its failures. A price is fresh while it is at most quote_max_age old and its
/// valid_until (if any) has not passed; a stale one is kept (the next poll replaces it) but never
/// handed out, nor is one of a pair its provider's latest listing (when it has one) does not
/// enable. Not thread-safe (not even its const members: prepared() fills a cache): used from
/// the engine's io_context thread.
class quote_book {
 public:
  explicit quote_book(quote_book_options options = {});

  const quote_book_options& options() const noexcept { return options_; }

  /// Replaces the provider's directions, listed at `now` (our clock).
  void set_directions(std::string_view provider, std::vector<direction> directions, wall_time now);
  /// The provider's latest directions whatever their age; nullptr when never listed.
  const std::vector<direction>* directions(std::string_view provider) const;
  /// The same, only when listed at most directions_max_age before `now`.
  const std::vector<direction>* fresh_directions(std::string_view provider, wall_time now) const;

  /// Keeps `model`, received at `now` (our clock), as the latest price of its provider and pair
  /// (spend, receive asset), with the provider's clock offset as the book knows it now.
  void put(pricing model, wall_time now);
  /// The latest price of the pair at `provider` on our clock (see localized), when fresh at `now`.
  std::optional<pricing> fresh(std::string_view provider, std::string_view spend_asset,
                               std::string_view receive_asset, wall_time now) const;
  /// Every fresh price on our clock, by provider then pair.
  std::vector<pricing> fresh_prices(wall_time now) const;
  /// `model` with obtained_at and valid_until moved from the provider's clock to ours (minus the
  /// provider's clock offset) and execution_p95 raised to the provider's recent p95 execution
  /// latency (rounded up to a millisecond): what the planner compares with our `now`.
  pricing localized(pricing model) const;
  /// Whether a model on our clock is fresh at `now`.
  bool is_fresh(const pricing& local, wall_time now) const;
  /// Every price of the book localized (fresh or not, in fresh_prices' order), prepared for the
  /// planner with fresh_for = quote_max_age: a plan over it at `now` is make_plan over
  /// fresh_prices(now) of the intent's allowed providers. Built on the first call after the
  /// prices (or a provider's execution latencies, which localized reads) changed, and kept until
  /// the next change, so that every plan between two quote updates shares the preparation, the
  /// route searches and the route bounds. The market is immutable and its plans are thread-safe:
  /// it may be used on any thread and outlive the book's next update.
  std::shared_ptr<const prepared_market> prepared() const;
  /// The routes the fan-out's plans over newly received quotes reuse (quote_and_plan): their
  /// topology rarely changes between two decisions, their prices always do.
  route_cache& decision_routes() noexcept { return decision_routes_; }

  /// Provider clock minus ours; nullopt forgets it (times are then taken as ours).
  void set_clock_offset(std::string_view provider, std::optional<std::chrono::milliseconds> offset);
  std::optional<std::chrono::milliseconds> clock_offset(std::string_view provider) const;

  /// One quote round trip (poller or fan-out) of `provider`.
  void record_quote_latency(std::string_view provider, std::chrono::nanoseconds latency);
  /// One execution round trip (a submit answered) of `provider`.
  void record_execution_latency(std::string_view provider, std::chrono::nanoseconds latency);
  latency_summary quote_latency(std::string_view provider) const;
  latency_summary execution_latency(std::string_view provider) const;

  void set_balances(std::string_view provider, std::vector<balance> balances, wall_time now);
  /// The provider's latest balances; nullptr when never read.
  const std::vector<balance>* balances(std::string_view provider) const;

  /// A failure of `kind` at `provider`; the latest is kept with counts.
  void record_failure(std::string_view provider, poll_kind kind, error what, wall_time now);
  /// Any success at `provider`: ends its run of consecutive failures.
  void record_success(std::string_view provider);

  /// What the book knows about `provider` (an empty view when nothing).
  provider_view view(std::string_view provider) const;
  /// Every provider the book has heard of, in name order.
  std::vector<std::string> providers() const;

 private:
  struct entry {
    pricing model;  // as the provider priced it: times on the provider's clock
    std::optional<std::chrono::milliseconds> clock_offset;
  };

  struct provider_data {
    std::vector<direction> directions;
    std::optional<wall_time> directions_at;
    // The pairs (keys of `prices`) the listing enables, once there is a listing.
    std::set<std::string, std::less<>> enabled;
    // By "spend\nreceive".
    std::map<std::string, entry, std::less<>> prices;
    std::optional<wall_time> prices_at;
    std::optional<std::chrono::milliseconds> clock_offset;
    recent_latency quotes;
    recent_latency executions;
    std::vector<balance> balances;
    std::optional<wall_time> balances_at;
    std::uint64_t failures = 0;
    std::uint64_t consecutive_failures = 0;
    std::optional<book_failure> last_failure;

    // Whether the pair of `prices` key `key` may be handed out: a direction the provider's
    // listing disables or dropped is no route, however young its last price.
    bool listed(std::string_view key) const { return !directions_at || enabled.contains(key); }
  };

  provider_data& data(std::string_view provider);
  const provider_data* find(std::string_view provider) const;
  pricing localized(const entry& e, const provider_data& d) const;

  quote_book_options options_;
  std::map<std::string, provider_data, std::less<>> providers_;
  // The planner's view of the prices; reset by every change that localized() would see.
  mutable std::shared_ptr<const prepared_market> prepared_;
  route_cache decision_routes_;
};

}  // namespace swaprouter
