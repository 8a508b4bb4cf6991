// StableStack response parsing: envelopes -> engine values, every field validated.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter::stablestack {

/// The venue id of StableStack in the engine.
inline constexpr std::string_view provider_id = "stablestack";

/// Bodies longer than this are refused before parsing (a 100-transaction page is about 100 KB).
inline constexpr std::size_t max_body_bytes = 4u << 20;
/// Nesting deeper than this is refused (the quote answer nests 4).
inline constexpr int max_json_depth = 32;

/// A firm quote (data.data of POST /instant-swaps and /swaps/{id}/refresh). Pure value.
struct firm_quote {
  std::string id;
  std::string from_currency;
  std::string to_currency;
  decimal quoted_price;
  std::string quoted_currency;
  decimal from_amount;
  decimal to_amount;
  bool confirmed = false;
  wall_time expires_at{};
  wall_time created_at{};
  wall_time updated_at{};
};

/// One ledger transaction (a swap leg). Nullable text fields read as empty.
struct transaction {
  std::string id;
  std::string sender_wallet_id;
  std::string receiver_wallet_id;
  std::string transaction_id;
  std::string asset_code;  ///< as sent (lower-case in the seed)
  decimal amount;
  std::string reference_id;
  std::string status;
  wall_time created_at{};
  wall_time updated_at{};
  std::string transaction_type;
  std::string transaction_mode;
  std::optional<decimal> exchange_rate;
  std::optional<decimal> fee;
  std::optional<decimal> balance;
  std::string reason;
  std::string customer_id;
};

/// POST /swaps data.
struct swap_result {
  transaction debit;
  transaction credit;
  std::string swap_id;
};

/// A page of a transaction listing; pagination is absent on by_ref_id and GET /transactions.
struct transaction_page {
  std::vector<transaction> items;
  std::optional<int> total_pages;
};

/// A wallet object.
struct wallet {
  std::string id;
  std::string currency;
  decimal balance;
  std::string customer_id;
};

/// An error envelope as far as it could be read. Never fails: a body that is not the documented
/// shape gives empty codes and a short printable excerpt as the message.
struct provider_error {
  std::string code;     ///< error.code
  std::string message;  ///< error.message, else message
  std::string reason;   ///< error.details.reason (project)
};

// The parse_* functions fail with kind bad_response and a message naming the field; they are
// pure, thread-safe, never throw and never recurse on any input. Each first checks the envelope's
// status is "success".

/// POST /instant-swaps and /swaps/{id}/refresh: {status, data:{status, message, data:<quote>}}.
result<firm_quote> parse_quote(std::string_view body);
/// POST /swaps: {status, data:{debitTransaction, creditTransaction, swapId}, message}.
result<swap_result> parse_swap(std::string_view body);
/// GET by_ref_id, by_customer_id, /transactions: {status, data:[...], pagination?}.
result<transaction_page> parse_transactions(std::string_view body);
/// GET by_txid: {status, data:<transaction>}.
result<transaction> parse_transaction(std::string_view body);
/// GET /wallets (project): {status, data:[<wallet>...]}; POST /wallets: {status, data:<wallet>}.
result<std::vector<wallet>> parse_wallets(std::string_view body);
result<wallet> parse_wallet(std::string_view body);
/// Any non-2xx body.
provider_error parse_error_body(std::string_view body);

/// The engine's state of a swap from its two legs: both COMPLETED -> filled; a FAILED or REVERSED
/// leg -> failed; both known and otherwise PENDING -> open; any other status -> unrecognised.
leg_state map_state(const transaction& debit, const transaction& credit);

/// The engine's view of a swap from its legs: ref = {swapId, client}, code "FROM-TO" in upper
/// case, amounts from the legs; filled amounts only when filled: the credit leg's amount is the
/// net (what was credited), its fee added back for the gross.
leg_status to_leg_status(const transaction& debit, const transaction& credit,
                         std::string_view client);

/// The debit and credit legs among `legs` for `swap_id`; bad_response unless exactly one of each.
result<swap_result> pair_legs(const std::vector<transaction>& legs, std::string_view swap_id);

}  // namespace swaprouter::stablestack
