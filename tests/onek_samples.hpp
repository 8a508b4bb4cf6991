// 001k sample payloads from the provider document
// (/work/shared/seeds/004_e52f202ba4b5e8ab.txt), shared by the onek adapter tests.
#pragma once

#include <ostream>
#include <string_view>

#include "engine/decimal.hpp"

namespace swaprouter {
// Readable decimals in gtest failure messages.
inline void PrintTo(const decimal& d, std::ostream* os) { *os << d.to_string(); }
}  // namespace swaprouter

namespace swaprouter::onek::samples {

// Seed 004, verbatim (page headers and footers between its lines left out).
inline constexpr std::string_view seed_directions = R"json([
{

"code": "BTC-USDT",
"spend_currency": "BTC",
"receive_currency": "USDT",
"is_enabled": true,
"spend_precision": 8,
"receive_precision": 6,
"fee_percent": "0.25",
"min_spend_amount": "0.00100000",
"max_spend_amount": "10.00000000",
"min_receive_amount": "29.485250",
"max_receive_amount": "294852.500000",
"spend_rate_value": "29485.25",
"receive_rate_value": "1.00000000"

},
{

"code": "USDT-BTC",
"spend_currency": "USDT",
"receive_currency": "BTC",
"is_enabled": true,
"spend_precision": 6,
"receive_precision": 8,
"rate": "0.00003390",
"fee_percent": "0.25",
"min_spend_amount": "30.000000",
"max_spend_amount": "300000.000000",
"min_receive_amount": "0.00101700",
"max_receive_amount": "10.17000000",
"spend_rate_value": "29485.25",
"receive_rate_value": "1.00000000"

}
])json";

// Seed 004, verbatim (page headers and footers between its lines left out).
inline constexpr std::string_view seed_open_swap = R"json({
"code": "SWP123456",
"custom_id": "my-swap-123",
"callback_url": "https://example.com/callbacks/swaps",
"direction": "BTC-USDT",
"spend_currency": "BTC",
"receive_currency": "USDT",
"spend_amount": "0.01000000",
"receive_amount": "294.85250000",
"fee_amount": "0.73713125",
"fee_currency": "USDT",
"rate": "29485.25",
"status": "open",
"reason_code": null,
"reason_message": null,
"created_at": "2023-01-15T14:30:15Z",
"updated_at": "2023-01-15T14:30:15Z",
"done_at": null,
"expires_at": "2023-01-15T14:30:45Z"

})json";

// Seed 004, verbatim (page headers and footers between its lines left out).
inline constexpr std::string_view seed_swap_list = R"json([
{

"code": "SWP123456",
"custom_id": "my-swap-123",
"callback_url": "https://example.com/callbacks/swaps",
"direction": "BTC-USDT",
"spend_currency": "BTC",
"receive_currency": "USDT",
"spend_rate": "1.0000000",
"receive_rate": "29485.25000000",
"spend_amount": "0.01000000",
"receive_amount": "294.85250000",
"amount_parameter": "spend",
"fee_amount": "0.73713125",
"fee_currency": "USDT",
"spend_filled": "0.01000000",
"receive_filled": "294.85250000",
"spend_fee_filled": "0.00000000",
"receive_fee_filled": "0.73713125",
"status": "success",
"reason_code": null,
"reason_message": null,
"created_at": "2023-01-15T14:30:15Z",
"updated_at": "2023-01-15T14:35:20Z",
"done_at": "2023-01-15T14:35:20Z",
"valid_till": "2023-01-15T14:30:45Z",
"cancel_requested_at": null

}
])json";

// Seed 004, verbatim (page headers and footers between its lines left out).
inline constexpr std::string_view seed_balances = R"json([
{

"currency": "BTC",
"available": "0.05000000",
"frozen": "0.00000000",
"updated_at": "2023-01-15T14:30:15Z"

},
{

"currency": "ETH",
"available": "1.25000000",

"frozen": "0.50000000",
"updated_at": "2023-01-15T14:30:15Z"

},
{

"currency": "USDT",
"available": "1000.00000000",
"frozen": "250.00000000",
"updated_at": "2023-01-15T14:30:15Z"

}
])json";

}  // namespace swaprouter::onek::samples
