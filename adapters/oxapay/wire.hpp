// OxaPay wire format: everything the client and the emulator share. Paths, headers, JSON field
// names and error vocabulary. Source: the seed (/work/shared/seeds/003_e66a8d7cf76defe6.txt,
// POST /v1/general/swap) and VENUES.md Part 2 section 3; choices where the documents are silent
// are marked "project" (VENUES.md Part 1 "OxaPay").
#pragma once

#include <string_view>

namespace swaprouter::oxapay::wire {

inline constexpr std::string_view base_path = "/v1";

namespace path {
/// POST executes a swap at once; GET is the swap history.
inline constexpr std::string_view swap = "/v1/general/swap";
inline constexpr std::string_view rate = "/v1/general/swap/rate";            ///< POST
inline constexpr std::string_view calculate = "/v1/general/swap/calculate";  ///< POST
inline constexpr std::string_view pairs = "/v1/general/swap/pairs";          ///< GET
inline constexpr std::string_view balance = "/v1/general/account/balance";   ///< GET ?currency=
}  // namespace path

namespace header {
inline constexpr std::string_view api_key = "general_api_key";
inline constexpr std::string_view retry_after = "Retry-After";
}  // namespace header

/// Decimal places of a swap amount in any currency (project: the API documents none; balances
/// come with up to 10). The emulator refuses more, the client rounds down to it by default.
inline constexpr int amount_places = 8;

/// Every answer: {"data":{...}|{}, "message", "error":{"type","key","message"}|{}, "status":<HTTP
/// status mirrored>, "version"}.
namespace envelope {
inline constexpr std::string_view data = "data";
inline constexpr std::string_view message = "message";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view type = "type";
inline constexpr std::string_view key = "key";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view version = "version";
}  // namespace envelope

inline constexpr std::string_view api_version = "1.0.0";

/// error.type values (project: the documents show the shape, not the vocabulary).
namespace error_type {
inline constexpr std::string_view validation = "validation_error";  ///< 400, key = the field
inline constexpr std::string_view business = "business_error";      ///< 400: min, balance
inline constexpr std::string_view authentication = "authentication_error";  ///< 401
inline constexpr std::string_view not_found = "not_found";                  ///< 404
inline constexpr std::string_view rate_limit = "rate_limit_error";          ///< 429
inline constexpr std::string_view internal = "internal_error";              ///< 5xx
}  // namespace error_type

/// error.message texts of the swap refusals, from the legacy result-code table (VENUES.md 3.1).
namespace error_text {
inline constexpr std::string_view invalid_from = "Invalid fromCurrency";  // 121
inline constexpr std::string_view invalid_to = "Invalid toCurrency";      // 122
inline constexpr std::string_view same_currency =
    "fromCurrency and toCurrency are the same";                                   // 123
inline constexpr std::string_view below_minimum = "Amount is below the minimum";  // 127
inline constexpr std::string_view insufficient_balance = "Insufficient balance";  // 130
}  // namespace error_text

/// Request bodies: {"amount": <number>, "from_currency", "to_currency"} (swap, calculate),
/// {"from_currency", "to_currency"} (rate). Amounts are JSON numbers.
namespace request_field {
inline constexpr std::string_view amount = "amount";
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
}  // namespace request_field

/// The swap object (POST /general/swap data, GET /general/swap list items). Amounts and rate are
/// JSON numbers; date is unix seconds. Project: rate is units of to_currency per 1 from_currency
/// as the field descriptions say (the seed's USDT->BTC sample numbers contradict them; the
/// descriptions win, as for 001k). History items add "type" (swapByApi for API swaps).
namespace swap_field {
inline constexpr std::string_view track_id = "track_id";
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
inline constexpr std::string_view from_amount = "from_amount";
inline constexpr std::string_view to_amount = "to_amount";
inline constexpr std::string_view rate = "rate";
inline constexpr std::string_view date = "date";
inline constexpr std::string_view type = "type";
}  // namespace swap_field

/// POST /general/swap/calculate data {to_amount, rate, amount}; /rate data {rate}.
namespace calculate_field {
inline constexpr std::string_view to_amount = "to_amount";
inline constexpr std::string_view rate = "rate";
inline constexpr std::string_view amount = "amount";
}  // namespace calculate_field

/// GET /general/swap/pairs data {list:[{from_currency, to_currency, min_amount}], meta}.
namespace pair_field {
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
inline constexpr std::string_view min_amount = "min_amount";  ///< in from_currency
}  // namespace pair_field

namespace list_field {
inline constexpr std::string_view list = "list";
inline constexpr std::string_view meta = "meta";
inline constexpr std::string_view page = "page";
inline constexpr std::string_view last_page = "last_page";
inline constexpr std::string_view total = "total";
}  // namespace list_field

/// GET /general/swap query: track_id, type, from_currency, to_currency, from_date, to_date (unix
/// s), sort_by (create_date|amount), sort_type (asc|desc), page, size.
namespace history_query {
inline constexpr std::string_view track_id = "track_id";
inline constexpr std::string_view type = "type";
inline constexpr std::string_view from_currency = "from_currency";
inline constexpr std::string_view to_currency = "to_currency";
inline constexpr std::string_view from_date = "from_date";
inline constexpr std::string_view to_date = "to_date";
inline constexpr std::string_view sort_by = "sort_by";
inline constexpr std::string_view sort_type = "sort_type";
inline constexpr std::string_view page = "page";
inline constexpr std::string_view size = "size";
}  // namespace history_query

/// History type values (swap-history page); the emulator's swaps are all swapByApi.
inline constexpr std::string_view swap_type_api = "swapByApi";
inline constexpr std::string_view swap_type_auto_convert = "autoConvert";
inline constexpr std::string_view swap_type_manual = "manualSwap";
inline constexpr int history_size_default = 10;
inline constexpr int history_size_max = 200;  ///< project

}  // namespace swaprouter::oxapay::wire
