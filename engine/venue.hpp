// What the engine needs from a swap provider, in provider-neutral values (DESIGN.md s.4).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "engine/pricing.hpp"
#include "engine/result.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

template <class T>
using task = boost::asio::awaitable<T>;

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
  /// positively answered that it has none.
  virtual task<result<std::optional<leg_status>>> find(const client_id& id, const leg& leg) = 0;
  virtual task<result<leg_status>> cancel(const leg_ref& ref) = 0;
  virtual task<result<std::vector<balance>>> balances() = 0;
};

}  // namespace swaprouter
