// The 001k emulator: the server side of the 001k API/v1 wire format (adapters/onek/wire.hpp) on the
// shared emulator server, priced from the simulated market.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/sim/ledger.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "adapters/sim/emulator.hpp"
#include "engine/venue.hpp"

namespace swaprouter::onek {

/// Serves the 001k API under /api/v1 on `server`: GET /status and GET /currency without
/// authentication; GET /balance, GET /swap-directions, POST /swap/open, POST /swap/cancel,
/// GET /swap and GET /swap/{code} signed as documented (X-Access-Key, X-Timestamp within 5 s of the
/// emulator's clock, X-Signature over the request-target exactly as received). Every documented
/// auth error code, key permissions, IP allow-list, inactive key or user; 400/422 validation, 404,
/// and 429 with Retry-After beyond the documented per-key, per-endpoint limits (sliding window).
/// Errors are {"code","message"} with the codes in wire.hpp.
///
/// Swaps are priced from `market` with the direction's spread and fee (VENUES.md Part 1 "001k"),
/// freeze their spend in the account ledger while open, and end asynchronously on steady timers:
/// success after the fill delay, or failed with reason expired (time_to_live shorter than the fill
/// delay), cancelled (a cancel requested before the fill takes effect after the cancel delay),
/// insufficient_funds, or provider_error (random, by failure_rate). A final state is POSTed to the
/// swap's callback_url (loopback URLs only; others are refused at open).
///
/// Admin routes on the same server: GET /_sim/ledger (balances and every swap with its status
/// history and callbacks), GET /_sim/clock, PUT or POST /_sim/clock {"offset_ms": N} (the
/// emulator's wall clock runs N ms ahead of the host's).
///
/// Thread-safety: everything runs on `executor`, which must be the server's, on one thread.
/// Construct before server.start(); `market` and `server` must outlive the emulator; call stop()
/// (or destroy it) before the executor's context stops running for a clean shutdown.
class emulator final : public sim::provider_emulator {
 public:
  /// Registers the routes, the before-route hook, the ledger and the scenario's faults on
  /// `server`. Throws std::invalid_argument for a configuration the emulator cannot serve (a
  /// direction whose assets the market lacks, an unknown rate-limit endpoint).
  emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
           sim::provider_config config, sim::emulator_options options = {});

  /// The emulator's wall clock: the host's plus the offset.
  wall_time now() const;
  std::chrono::milliseconds clock_offset() const;
  void set_clock_offset(std::chrono::milliseconds offset);

  /// The account's balances.
  sim::ledger& account();
  std::string ledger_json() const override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace swaprouter::onek
