// A venue decorator that watches the quotes passing through it: round-trip latency, the freshest
// quote and its net rate per pair, errors. The bot's metrics, /status and the live view read it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/latency_histogram.hpp"
#include "engine/venue.hpp"

namespace swaprouter::observability {

/// The freshest quote of one pair at one provider.
struct pair_quote {
  std::string pair;                      ///< "SPEND/RECEIVE", e.g. "USDT/COPM"
  wall_time received_at{};               ///< our clock, when the answer arrived
  std::optional<wall_time> obtained_at;  ///< the provider's clock, when it reports one
  decimal amount;                        ///< the spend amount priced
  std::optional<decimal> net_rate;  ///< net receive per unit spent at `amount`; none if unpriced
};

/// What a monitored_venue has seen since it was made.
struct venue_stats {
  std::uint64_t quotes = 0;             ///< successful price() and pricing_for() answers
  std::uint64_t quote_errors = 0;       ///< failed ones
  std::optional<wall_time> last_quote;  ///< our clock, the last successful one
  bool last_quote_failed = false;       ///< the latest quote call failed
  std::string last_error;               ///< describe() of the latest failure (no secret in it)
  latency_histogram latency;            ///< every quote round trip, failed ones included
  std::map<std::string, pair_quote, std::less<>> pairs;  ///< by pair
};

/// Forwards every call to `inner` (forwarding_venue) and records price() and pricing_for() round trips. The
/// observer, when set, sees each round trip (provider, latency, whether it succeeded) as it ends.
/// Single-threaded like the venue it wraps; `inner` must outlive it.
class monitored_venue final : public forwarding_venue {
 public:
  using clock = std::chrono::steady_clock;
  using quote_observer =
      std::function<void(std::string_view provider, std::chrono::nanoseconds elapsed, bool ok)>;

  explicit monitored_venue(venue& inner, quote_observer observer = {});

  task<result<quote>> price(const quote_request& request) override;
  task<result<pricing>> pricing_for(const quote_request& request) override;

  const venue_stats& stats() const noexcept { return stats_; }

 private:
  void record(const quote_request& request, clock::time_point started, bool ok,
              std::optional<wall_time> obtained_at, std::optional<decimal> net_rate,
              std::string_view error_text);

  quote_observer observer_;
  venue_stats stats_;
};

/// "USDT/COPM" for spending USDT into COPM.
std::string pair_name(std::string_view spend_asset, std::string_view receive_asset);

}  // namespace swaprouter::observability
