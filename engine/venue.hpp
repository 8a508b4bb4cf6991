// What the engine needs from a swap provider, in provider-neutral values (DESIGN.md s.4).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/circuit_breaker.hpp"
#include "engine/pricing.hpp"
#include "engine/result.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

template <class T>
using task = boost::asio::awaitable<T>;

/// What the quote poller asks of a provider on its own schedule.
enum class poll_kind : std::uint8_t { directions, prices, balances };

/// Where a venue reads time; tests replace both.
struct venue_clocks {
  std::function<wall_time()> wall = [] { return std::chrono::system_clock::now(); };
  std::function<std::chrono::steady_clock::time_point()> steady = [] {
    return std::chrono::steady_clock::now();
  };
};

/// What a venue's own reliability machinery shows now, for metrics, status and the risk manager.
struct venue_health {
  std::optional<circuit_state> circuit;  ///< nullopt when the venue keeps no circuit
  /// Provider clock minus ours; nullopt when unknown or not measured by this venue.
  std::optional<std::chrono::milliseconds> clock_offset;
  std::uint64_t rate_limited = 0;  ///< HTTP 429 answers since start
};

/// The planner's model of a price() answer for a request of `asked` (what venue::pricing_for
/// gives): a rate valid at the quoted amount only, the fee inside it, at the spend precision the
/// provider rounded `asked` to. Pure.
pricing quote_pricing(quote q, decimal asked);

/// Asked by venue::find() about a provider swap: true when the journal gives `provider_ref` to
/// another leg; find() never offers such a swap. Empty: none known.
using held_swaps = std::function<bool(std::string_view provider_ref)>;

/// What find() answers when `provider`'s history in its window runs past the `pages` it reads:
/// neither "none" (the swap may be on a page left unread) nor the one match found (a second
/// candidate may be), but an error (bad_response) that leaves the leg unknown.
error unread_history(std::string_view provider, int pages);

/// One provider, seen by the engine. Implementations build, sign and parse provider requests and
/// keep their own rate budget, circuit and clock offset. Not thread-safe: used from one executor.
class venue {
 public:
  virtual ~venue() = default;
  virtual std::string_view id() const = 0;
  virtual venue_traits traits() const = 0;
  virtual task<result<std::vector<direction>>> directions() = 0;
  virtual task<result<quote>> price(const quote_request& request) = 0;
  /// The provider's pricing model for the pair of `request`, for the planner (DESIGN.md s.3): a
  /// rate-table row (001k), an order book (KIIEX), a firm quote for `request.amount`
  /// (StableStack) or an indicative rate (OxaPay), with limits, precision and validity. The
  /// default prices `request` with price() and models the answer as a rate valid at that amount
  /// only; providers override it with their real model.
  virtual task<result<pricing>> pricing_for(const quote_request& request);
  virtual task<result<leg_status>> submit(const leg& leg, const client_id& id) = 0;
  virtual task<result<leg_status>> status(const leg_ref& ref) = 0;
  /// Looks a leg up by our client id after an ambiguous outcome: nullopt only when the provider
  /// positively answered that it has none. Providers searched by pair, amount and time never
  /// count a swap `held` names as a candidate.
  virtual task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                                       const held_swaps& held) = 0;
  virtual task<result<leg_status>> cancel(const leg_ref& ref) = 0;
  virtual task<result<std::vector<balance>>> balances() = 0;
  /// The venue's circuit, clock offset and 429 count as they are now; no request. The default
  /// knows none of them.
  virtual venue_health health() const { return {}; }
  /// How long the quote poller should wait before its next request of `kind` so that at least
  /// `reserve` requests of the provider's local rate budget stay for execution and tracking: zero
  /// when it may ask now, or when the provider keeps no local budget (the default).
  virtual std::chrono::steady_clock::duration poll_wait(poll_kind kind,
                                                        std::int64_t reserve) const {
    (void)kind;
    (void)reserve;
    return {};
  }
};

/// A venue that wraps another: every call goes to `inner` unless the wrapper overrides it. For
/// decorators that change a few calls (dry-run fills, quote monitoring). The forwarding calls hand
/// back the inner venue's own awaitable, so they add no coroutine frame; `inner` must outlive the
/// wrapper.
class forwarding_venue : public venue {
 public:
  explicit forwarding_venue(venue& inner) : inner_(inner) {}

  std::string_view id() const override { return inner_.id(); }
  venue_traits traits() const override { return inner_.traits(); }
  task<result<std::vector<direction>>> directions() override { return inner_.directions(); }
  task<result<quote>> price(const quote_request& request) override {
    return inner_.price(request);
  }
  task<result<pricing>> pricing_for(const quote_request& request) override {
    return inner_.pricing_for(request);
  }
  task<result<leg_status>> submit(const leg& leg, const client_id& id) override {
    return inner_.submit(leg, id);
  }
  task<result<leg_status>> status(const leg_ref& ref) override { return inner_.status(ref); }
  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg,
                                               const held_swaps& held) override {
    return inner_.find(id, leg, held);
  }
  task<result<leg_status>> cancel(const leg_ref& ref) override { return inner_.cancel(ref); }
  task<result<std::vector<balance>>> balances() override { return inner_.balances(); }
  venue_health health() const override { return inner_.health(); }
  std::chrono::steady_clock::duration poll_wait(poll_kind kind,
                                                std::int64_t reserve) const override {
    return inner_.poll_wait(kind, reserve);
  }

  venue& inner() noexcept { return inner_; }

 protected:
  venue& inner_;
};

}  // namespace swaprouter
