// Sample payloads for the OxaPay tests: the seed's swap answer verbatim
// (/work/shared/seeds/003_e66a8d7cf76defe6.txt) and the documented shapes of VENUES.md 3.1-3.2.
#pragma once

#include <string_view>

namespace swaprouter::oxapay::samples {

inline constexpr std::string_view seed_swap = R"json({
"data": {
"track_id": "393831199",
"from_currency": "USDT",
"to_currency": "BTC",
"from_amount": 10.0000000000,
"to_amount": 0.0001054000,
"rate": 94876.66034156,
"date": 1736508792
},
"message": "Operation completed successfully!",
"error": {},
"status": 200,
"version": "1.0.0"
})json";

inline constexpr std::string_view documented_error =
    R"json({"data":{},"message":"Validation failed","error":{"type":"validation_error","key":"lifetime","message":"The lifetime field must be an integer."},"status":400,"version":"1.0.0"})json";

inline constexpr std::string_view pairs =
    R"json({"data":{"list":[{"from_currency":"USDT","to_currency":"TRX","min_amount":5},{"from_currency":"BTC","to_currency":"USDT","min_amount":0.00005}],"meta":{"page":1,"last_page":1,"total":2}},"message":"Operation completed successfully!","error":{},"status":200,"version":"1.0.0"})json";

inline constexpr std::string_view history =
    R"json({"data":{"list":[{"track_id":"393831001","from_currency":"USDT","to_currency":"TRX","from_amount":10.00000000,"to_amount":39.80000000,"rate":3.98,"date":1736508792,"type":"swapByApi"}],"meta":{"page":1,"last_page":1,"total":1}},"message":"Operation completed successfully!","error":{},"status":200,"version":"1.0.0"})json";

inline constexpr std::string_view balances =
    R"json({"data":{"USDT":10.5,"BTC":0.0022866845},"message":"Operation completed successfully!","error":{},"status":200,"version":"1.0.0"})json";

}  // namespace swaprouter::oxapay::samples
