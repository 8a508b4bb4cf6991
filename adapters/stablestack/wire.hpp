// StableStack wire format: everything the client and the emulator share. Paths, headers, JSON
// field names, status and error codes. Source: the seed
// (/work/shared/seeds/002_160f800bdbb6dda2.txt, POST /swaps) and VENUES.md Part 2 section 2; where
// the documents are silent the choice is marked "project" (VENUES.md Part 1 "StableStack").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace swaprouter::stablestack::wire {

/// Every endpoint lives under this prefix (api-reference pages: https://<host>/api/<path>).
inline constexpr std::string_view base_path = "/api";

namespace path {
inline constexpr std::string_view instant_swaps = "/api/instant-swaps";  ///< POST: firm quote
inline constexpr std::string_view swaps = "/api/swaps";                  ///< POST: execute
/// POST /api/swaps/{id}/refresh: prefix + id + suffix.
inline constexpr std::string_view refresh_prefix = "/api/swaps/";
inline constexpr std::string_view refresh_suffix = "/refresh";
inline constexpr std::string_view by_ref_id = "/api/customers/transactions/by_ref_id/";
inline constexpr std::string_view by_txid = "/api/customers/transactions/by_txid/";
inline constexpr std::string_view by_customer_id = "/api/customers/transactions/by_customer_id/";
inline constexpr std::string_view transactions = "/api/transactions";  ///< GET: merchant list
/// POST creates a wallet (documented). GET lists the scope's wallets with their balances: the
/// project's assumption, since the documents show no balance read beyond the wallet object.
/// Query customer_id selects a customer's wallets; absent = the merchant's.
inline constexpr std::string_view wallets = "/api/wallets";
}  // namespace path

/// Route patterns as the emulator registers them; also the scenario's rate_limits keys without
/// "/api" ("/instant-swaps", "/swaps/{id}/refresh", ...).
namespace route {
inline constexpr std::string_view refresh = "/api/swaps/{id}/refresh";
inline constexpr std::string_view by_ref_id = "/api/customers/transactions/by_ref_id/{id}";
inline constexpr std::string_view by_txid = "/api/customers/transactions/by_txid/{id}";
inline constexpr std::string_view by_customer_id =
    "/api/customers/transactions/by_customer_id/{id}";
}  // namespace route

inline std::string refresh_path(std::string_view id) {
  return std::string(path::refresh_prefix) + std::string(id) + std::string(path::refresh_suffix);
}

namespace header {
/// Every endpoint page: x-api-key. The general auth page says Authorization: Bearer; the
/// emulator accepts both (VENUES.md 2.2), the client sends x-api-key.
inline constexpr std::string_view api_key = "x-api-key";
inline constexpr std::string_view authorization = "Authorization";
inline constexpr std::string_view retry_after = "Retry-After";
}  // namespace header

/// The envelope: success {"status":"success","data":...,"message"?}; failure
/// {"status":"failed","message","error":{"code","message","details"}} (VENUES.md 2.3).
namespace envelope {
inline constexpr std::string_view status = "status";
inline constexpr std::string_view data = "data";
inline constexpr std::string_view message = "message";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view code = "code";
inline constexpr std::string_view details = "details";
inline constexpr std::string_view pagination = "pagination";
inline constexpr std::string_view success = "success";
inline constexpr std::string_view failed = "failed";
}  // namespace envelope

/// Documented error codes (VENUES.md 2.3). Project: a swap refused for a missing or expired quote
/// or an insufficient balance is 400 INVALID_PARAMETER with details.reason naming why.
namespace error_code {
inline constexpr std::string_view invalid_token = "INVALID_TOKEN";
inline constexpr std::string_view missing_token = "MISSING_TOKEN";
inline constexpr std::string_view invalid_credentials = "INVALID_CREDENTIALS";
inline constexpr std::string_view invalid_parameter = "INVALID_PARAMETER";
inline constexpr std::string_view missing_required_field = "MISSING_REQUIRED_FIELD";
inline constexpr std::string_view invalid_format = "INVALID_FORMAT";
inline constexpr std::string_view resource_not_found = "RESOURCE_NOT_FOUND";
inline constexpr std::string_view endpoint_not_found = "ENDPOINT_NOT_FOUND";
/// Project: the documents name the 429 status but no code.
inline constexpr std::string_view rate_limited = "RATE_LIMIT_EXCEEDED";
inline constexpr std::string_view internal = "INTERNAL_ERROR";
}  // namespace error_code

/// details.reason values of a refused POST /swaps (project).
namespace reason {
inline constexpr std::string_view no_quote = "quote_not_found";
inline constexpr std::string_view quote_expired = "quote_expired";
inline constexpr std::string_view insufficient_balance = "insufficient_balance";
}  // namespace reason

/// POST /instant-swaps body {customer_id?, from_currency, to_currency, amount}; POST /swaps the
/// same; POST /swaps/{id}/refresh uses from_amount instead of amount. Amounts are JSON strings.
namespace request_field {
inline constexpr std::string_view customer_id = "customer_id";
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
inline constexpr std::string_view amount = "amount";
inline constexpr std::string_view from_amount = "from_amount";
inline constexpr std::string_view currency = "currency";  ///< POST /wallets
inline constexpr std::string_view network = "network";
inline constexpr std::string_view description = "description";
}  // namespace request_field

/// The quote in data.data of POST /instant-swaps and /swaps/{id}/refresh (double-nested data).
namespace quote_field {
inline constexpr std::string_view id = "id";
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
inline constexpr std::string_view quoted_price = "quoted_price";
inline constexpr std::string_view quoted_currency = "quoted_currency";
inline constexpr std::string_view from_amount = "from_amount";
inline constexpr std::string_view to_amount = "to_amount";  ///< what is credited (VENUES.md 2.4)
inline constexpr std::string_view confirmed = "confirmed";
inline constexpr std::string_view expires_at = "expires_at";
inline constexpr std::string_view created_at = "created_at";
inline constexpr std::string_view updated_at = "updated_at";
inline constexpr std::string_view user = "user";
}  // namespace quote_field

/// POST /swaps data.
namespace swap_field {
inline constexpr std::string_view debit = "debitTransaction";
inline constexpr std::string_view credit = "creditTransaction";
inline constexpr std::string_view swap_id = "swapId";
}  // namespace swap_field

/// The transaction object (seed sample; the GET endpoints add the recipient_* and bank fields).
namespace tx_field {
inline constexpr std::string_view id = "id";
inline constexpr std::string_view sender_wallet_id = "sender_wallet_id";
inline constexpr std::string_view receiver_wallet_id = "receiver_wallet_id";
inline constexpr std::string_view transaction_id = "transaction_id";
inline constexpr std::string_view asset_code = "asset_code";  ///< lower-case ("usdt")
inline constexpr std::string_view amount = "amount";          ///< 8 dp string
inline constexpr std::string_view reference_id = "reference_id";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view created_at = "created_at";
inline constexpr std::string_view updated_at = "updated_at";
inline constexpr std::string_view network = "network";
inline constexpr std::string_view crypto_transaction_id = "crypto_transaction_id";
inline constexpr std::string_view transaction_type = "transaction_type";
inline constexpr std::string_view transaction_mode = "transaction_mode";
inline constexpr std::string_view exchange_rate = "exchange_rate";
inline constexpr std::string_view fee = "fee";
inline constexpr std::string_view withdrawal_recipient_name = "withdrawal_recipient_name";
inline constexpr std::string_view balance = "balance";
inline constexpr std::string_view reason = "reason";
inline constexpr std::string_view customer_id = "customer_id";
inline constexpr std::string_view recipient_currency = "recipient_currency";
inline constexpr std::string_view recipient_country = "recipient_country";
inline constexpr std::string_view bank_name = "bank_name";
inline constexpr std::string_view bank_code = "bank_code";
inline constexpr std::string_view address = "address";
inline constexpr std::string_view bank_account = "bank_account";
inline constexpr std::string_view merchant_id = "merchant_id";
}  // namespace tx_field

namespace tx_status {
inline constexpr std::string_view pending = "PENDING";
inline constexpr std::string_view completed = "COMPLETED";
inline constexpr std::string_view failed = "FAILED";
inline constexpr std::string_view reversed = "REVERSED";
}  // namespace tx_status

inline constexpr std::string_view internal_transfer = "INTERNAL TRANSFER";
namespace tx_mode {
inline constexpr std::string_view debit = "DEBIT";
inline constexpr std::string_view credit = "CREDIT";
}  // namespace tx_mode

/// Listing filters (by_customer_id documented; GET /transactions takes the same: project).
/// Dates are YYYY-MM-DD (UTC, inclusive); limit at most 100.
namespace list_query {
inline constexpr std::string_view search = "search";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view transaction_type = "transaction_type";
inline constexpr std::string_view transaction_mode = "transaction_mode";
inline constexpr std::string_view currency = "currency";
inline constexpr std::string_view start_date = "start_date";
inline constexpr std::string_view end_date = "end_date";
inline constexpr std::string_view page = "page";
inline constexpr std::string_view limit = "limit";
inline constexpr std::string_view customer_id = "customer_id";  ///< GET /wallets (project)
}  // namespace list_query

namespace pagination_field {
inline constexpr std::string_view total = "total";
inline constexpr std::string_view page = "page";
inline constexpr std::string_view limit = "limit";
inline constexpr std::string_view total_pages = "totalPages";
}  // namespace pagination_field

inline constexpr int list_limit_default = 20;
inline constexpr int list_limit_max = 100;

/// The wallet object (POST /wallets, and the project's GET /wallets list).
namespace wallet_field {
inline constexpr std::string_view id = "id";
inline constexpr std::string_view asset_type = "asset_type";  ///< "STABLECOIN" | "FIAT"
inline constexpr std::string_view currency = "currency";
inline constexpr std::string_view balance = "balance";
inline constexpr std::string_view description = "description";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view created_at = "created_at";
inline constexpr std::string_view updated_at = "updated_at";
inline constexpr std::string_view customer_id = "customer_id";
inline constexpr std::string_view addresses = "addresses";
}  // namespace wallet_field

/// Quote life: expires_at - created_at is 15 s in the documented samples.
inline constexpr std::chrono::milliseconds default_quote_ttl{15000};
/// Ledger amounts are 8 dp strings ("0.13000000").
inline constexpr int ledger_places = 8;

}  // namespace swaprouter::stablestack::wire
