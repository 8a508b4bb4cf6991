// The KIIEX emulator: the server side of the AlphaPoint APEX wire format (adapters/kiiex/wire.hpp)
// on the shared emulator server, with an order book per instrument built from the market model.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/sim/emulator.hpp"
#include "adapters/sim/ledger.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/decimal.hpp"
#include "engine/venue.hpp"

namespace swaprouter::kiiex {

/// KIIEX specifics of the emulator; the scenario's `providers.kiiex.kiiex` block overrides them
/// (settings_for, docs/scenario.md).
struct emulator_settings {
  std::int64_t oms_id = 1;
  std::int64_t user_id = 7;     ///< the UserId every credential logs in as (one user, one account)
  std::int64_t account_id = 9;  ///< that user's AccountId
  std::string user_name = "kiiex-demo";
  /// Demo password of the username/password login (never a real one).
  std::string password = "kiiex-demo-password-not-real";
  int lockout_failures = 5;         ///< failed logins in a row that lock the user
  bool order_status_array = false;  ///< GetOrderStatus answers [order] (KIIDOC) instead of order
  int book_levels = 10;             ///< price levels per side
  decimal level_step_percent = decimal::from_raw(int128{50'000'000'000'000'000});  ///< 0.05 %
  decimal level_usd = decimal::from_int(1000);  ///< level i holds (i + 1) x this, in USD at mid
  /// Consumed liquidity comes back this long after an instrument's last trade.
  std::chrono::milliseconds replenish{1000};
  int significant_price_digits = 8;  ///< PriceIncrement keeps this many digits of the mid
  /// Rows one GetTradesHistory answer holds at most, whatever its Depth; 0: no limit (APX4: no
  /// Depth, every trade). A server-side page size the document does not state, to test paging.
  int trades_page_limit = 0;
  /// The taker fee is charged in the product the order gives (APEX lets the operator choose),
  /// on top of what it trades, instead of taken from the product received.
  bool fee_in_spent_product = false;
};

/// The defaults with the overrides of `config.kiiex` applied. Pure.
emulator_settings settings_for(const sim::provider_config& config);

/// Serves the KIIEX API under /ap on `server` (POST with a JSON body, GET with query
/// parameters): AuthenticateUser (API key + HMAC in headers, body or query; username/password
/// via Authorization Basic or body; lockout after repeated failures), every other call with the
/// session token as aptoken or Authorization: Bearer (errorcode 20 "Not Authorized" with HTTP 401
/// otherwise; tokens expire after the scenario's session idle timeout / max age); market data
/// (GetInstruments, GetInstrument, GetProducts, GetLevel1, GetLevel1SummaryMin, GetL2Snapshot,
/// GetOrderFee); trading (SendOrder, CancelOrder, GetOrderStatus, GetOpenOrders,
/// GetOrdersHistory, GetTradesHistory, GetAccountPositions); deposit and withdraw tickets
/// (CreateDepositTicket, GetDepositTicket(s), CreateWithdrawTicket, GetWithdrawTicket(s),
/// GetWithdrawTicketByVerifyCode) in the seed's lower-camel ticket shape with APX4 status names.
///
/// Tickets move the ledger after the scenario's fill delay: a deposit ticket is New (counted in
/// PendingDeposits) and becomes FullyProcessed, crediting its amount; a withdraw ticket holds its
/// amount at once (Hold, PendingWithdraws) and becomes FullyProcessed, debiting it. API-key users
/// skip the e-mailed 2FA confirmation (APX4), so no ticket waits for one; the VerifyCode the
/// e-mail would carry is in GET /_sim/ledger. Ticket errors are the generic shape with the HTTP
/// status of seed 001: 400 for invalid input (errorcode 100; a withdrawal beyond the available
/// balance has detail "Insufficient Balance", KIIDOC), 404 when no ticket matches (errorcode 104).
///
/// Each scenario direction "BASE-QUOTE" is one instrument (Symbol BASEQUOTE) tradable both ways.
/// Its book has `book_levels` levels per side around the market mid (spread and steps in
/// emulator_settings), quantities that replenish after trades; orders are accepted at once
/// (funds held) and matched after the scenario's fill delay with the arithmetic of book.hpp: IOC
/// remainders cancel, FOK is all-or-nothing, limit prices are respected, the taker fee is taken
/// from the product received (or paid in the product given, on top of what the order trades and
/// held with it, under fee_in_spent_product), and a GTC limit remainder stays Working (held) until
/// cancelled.
///
/// Thread-safety: everything runs on `executor`, which must be the server's, on one thread.
/// Construct before server.start(); `market` and `server` must outlive the emulator.
class emulator final : public sim::provider_emulator {
 public:
  /// Throws std::invalid_argument for a configuration it cannot serve (unknown asset).
  emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
           sim::provider_config config, sim::emulator_options options = {},
           emulator_settings settings = {});

  std::string ledger_json() const override;
  /// The account's balances (available + frozen = AlphaPoint Amount, frozen = Hold).
  sim::ledger& account();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace swaprouter::kiiex
