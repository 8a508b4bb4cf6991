// The StableStack emulator: the server side of the StableStack wire format
// (adapters/stablestack/wire.hpp) on the shared emulator server, priced from the simulated market.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/sim/emulator.hpp"
#include "adapters/sim/ledger.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/venue.hpp"

namespace swaprouter::stablestack {

/// Serves the StableStack API under /api on `server`, authenticated by x-api-key or
/// Authorization: Bearer (401 MISSING_TOKEN / INVALID_TOKEN in the documented envelope):
/// POST /instant-swaps (a firm quote, 15 s by default, in the double-nested data),
/// POST /swaps/{id}/refresh, POST /swaps (executes the latest unexpired quote for the same
/// customer, pair and amount; 400 INVALID_PARAMETER with details.reason otherwise), the
/// transaction reads by_ref_id, by_txid, by_customer_id (filters and pagination) and
/// GET /transactions, POST /wallets and GET /wallets (the project's balance read). 400/422
/// validation codes, 404 RESOURCE_NOT_FOUND, and 429 with Retry-After beyond the scenario's
/// rate_limits (keys are routes without /api, e.g. "/swaps").
///
/// Scopes: the merchant (no customer_id) holds the scenario's balances; a customer id gets its
/// own account, started with the same balances on first use (project). A swap freezes the
/// from amount and answers both legs PENDING; after the scenario's fill_delay the legs become
/// COMPLETED (balances move) or, per failure_rate, debit REVERSED and credit FAILED (the spend
/// is returned).
///
/// Admin: GET /_sim/ledger (balances per scope, quotes, transactions), GET/PUT /_sim/clock
/// {"offset_ms": N}. Thread-safety and lifetime as onek::emulator: one executor, construct
/// before server.start(), stop() before the executor stops.
class emulator final : public sim::provider_emulator {
 public:
  /// Throws std::invalid_argument for a configuration it cannot serve (unknown asset or
  /// rate-limit route).
  emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
           sim::provider_config config, sim::emulator_options options = {});

  wall_time now() const;
  void set_clock_offset(std::chrono::milliseconds offset);
  /// Life of a new or refreshed quote (default 15 s, as in the documented samples).
  void set_quote_ttl(std::chrono::milliseconds ttl);
  /// The merchant's balances (customer_id empty) or a customer's.
  sim::ledger& account(const std::string& customer_id = {});
  /// Number of swaps executed (each has two transactions).
  std::size_t swap_count() const;
  std::string ledger_json() const override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace swaprouter::stablestack
