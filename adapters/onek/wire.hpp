// 001k ("onek") wire format: everything the client and the emulator share. Paths, headers, JSON
// field names, status and error codes, documented limits and the request signature. Source: the
// 001k API/v1 document (/work/shared/seeds/004_e52f202ba4b5e8ab.txt) and VENUES.md Part 1 "001k"
// where the document is silent (marked "project" below).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace swaprouter {
class hmac_sha256;
}  // namespace swaprouter

namespace swaprouter::onek::wire {

/// Every endpoint lives under this prefix; the signed path includes it.
inline constexpr std::string_view base_path = "/api/v1";

/// Full request paths as sent and signed. GET /swap/{code} is swap_list + "/" + code.
namespace path {
inline constexpr std::string_view status = "/api/v1/status";  ///< no auth; {"timestamp": ms}
inline constexpr std::string_view balance = "/api/v1/balance";
inline constexpr std::string_view currency = "/api/v1/currency";  ///< no auth
inline constexpr std::string_view swap_directions = "/api/v1/swap-directions";
inline constexpr std::string_view swap_open = "/api/v1/swap/open";      ///< POST
inline constexpr std::string_view swap_cancel = "/api/v1/swap/cancel";  ///< POST
inline constexpr std::string_view swap_list = "/api/v1/swap";           ///< GET, query below
inline constexpr std::string_view swap_item_prefix = "/api/v1/swap/";   ///< GET + {code}
}  // namespace path

/// GET /swap/{code}. The code is inserted verbatim: 001k codes are [A-Za-z0-9] ("SWP123456"); the
/// client refuses a code with any other character rather than escaping it.
inline std::string swap_item_path(std::string_view code) {
  std::string out(path::swap_item_prefix);
  out += code;
  return out;
}

/// Request and response header names.
namespace header {
inline constexpr std::string_view access_key = "X-Access-Key";
inline constexpr std::string_view timestamp = "X-Timestamp";  ///< decimal ms since the epoch
inline constexpr std::string_view signature = "X-Signature";  ///< lowercase hex
inline constexpr std::string_view content_type = "Content-Type";
inline constexpr std::string_view retry_after = "Retry-After";  ///< seconds or HTTP-date on 429
}  // namespace header

inline constexpr std::string_view json_content_type = "application/json";

/// GET /status answer.
namespace status_field {
inline constexpr std::string_view timestamp = "timestamp";  ///< integer ms since the epoch
}

/// One element of the GET /swap-directions array. Unknown extra fields (the seed's USDT-BTC sample
/// has "rate") are tolerated. Amounts and rates are JSON strings; precisions are integers;
/// max_* may be null (no limit, VENUES.md).
namespace direction_field {
inline constexpr std::string_view code = "code";
inline constexpr std::string_view spend_currency = "spend_currency";
inline constexpr std::string_view receive_currency = "receive_currency";
inline constexpr std::string_view is_enabled = "is_enabled";
inline constexpr std::string_view spend_precision = "spend_precision";
inline constexpr std::string_view receive_precision = "receive_precision";
inline constexpr std::string_view fee_percent = "fee_percent";
inline constexpr std::string_view min_spend_amount = "min_spend_amount";
inline constexpr std::string_view max_spend_amount = "max_spend_amount";
inline constexpr std::string_view min_receive_amount = "min_receive_amount";
inline constexpr std::string_view max_receive_amount = "max_receive_amount";
inline constexpr std::string_view spend_rate_value = "spend_rate_value";
inline constexpr std::string_view receive_rate_value = "receive_rate_value";
inline constexpr std::string_view rate = "rate";  ///< informational only, never used for pricing
}  // namespace direction_field

/// The swap object (answer of /swap/open, /swap/cancel, /swap/{code}, elements of GET /swap).
/// Required by the client: code, direction, spend_currency, receive_currency, spend_amount,
/// receive_amount, status, created_at. Everything else is optional or nullable; the *_filled
/// amounts are absent in the seed's open sample and read as 0 then. The expiry is "valid_till"
/// (field table, list sample) or "expires_at" (open sample): the client reads valid_till first,
/// then expires_at; the emulator sends both (project).
namespace swap_field {
inline constexpr std::string_view code = "code";
inline constexpr std::string_view custom_id = "custom_id";
inline constexpr std::string_view callback_url = "callback_url";
inline constexpr std::string_view direction = "direction";
inline constexpr std::string_view spend_currency = "spend_currency";
inline constexpr std::string_view receive_currency = "receive_currency";
inline constexpr std::string_view spend_amount = "spend_amount";
inline constexpr std::string_view receive_amount = "receive_amount";  ///< gross, before the fee
inline constexpr std::string_view spend_rate = "spend_rate";
inline constexpr std::string_view receive_rate = "receive_rate";
inline constexpr std::string_view rate = "rate";
inline constexpr std::string_view amount_parameter = "amount_parameter";  ///< "spend"|"receive"
inline constexpr std::string_view fee_amount = "fee_amount";
inline constexpr std::string_view fee_currency = "fee_currency";
inline constexpr std::string_view spend_filled = "spend_filled";
inline constexpr std::string_view receive_filled = "receive_filled";
inline constexpr std::string_view spend_fee_filled = "spend_fee_filled";
inline constexpr std::string_view receive_fee_filled = "receive_fee_filled";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view reason_code = "reason_code";
inline constexpr std::string_view reason_message = "reason_message";
inline constexpr std::string_view created_at = "created_at";
inline constexpr std::string_view updated_at = "updated_at";
inline constexpr std::string_view done_at = "done_at";
inline constexpr std::string_view valid_till = "valid_till";
inline constexpr std::string_view expires_at = "expires_at";
inline constexpr std::string_view cancel_requested_at = "cancel_requested_at";
}  // namespace swap_field

/// Values of swap_field::amount_parameter.
namespace amount_parameter {
inline constexpr std::string_view spend = "spend";
inline constexpr std::string_view receive = "receive";
}  // namespace amount_parameter

/// One element of the GET /balance array (a bare array, one object per currency).
namespace balance_field {
inline constexpr std::string_view currency = "currency";
inline constexpr std::string_view available = "available";
inline constexpr std::string_view frozen = "frozen";
inline constexpr std::string_view updated_at = "updated_at";
}  // namespace balance_field

/// POST /swap/open body. The client sends compact JSON in exactly this field order: direction,
/// spend_amount | receive_amount (exactly one), callback_url (optional), custom_id, time_to_live.
/// Amounts are JSON strings with exactly the direction's spend / receive precision digits;
/// time_to_live is an integer (ms). The signature covers the body bytes exactly as received: the
/// emulator must verify over the raw body, never a re-serialised one (the seed's own Python
/// example sends json.dumps output with spaces).
/// receive_amount (project decision, the seed is silent): the GROSS amount to receive, before the
/// fee, exactly like the swap object's receive_amount (the seed's swap charges fee_amount on top
/// of its receive_amount). The provider charges spend = receive_amount * spend_rate_value /
/// receive_rate_value rounded up to spend_precision, and credits receive_amount - fee rounded
/// down to receive_precision; the swap object echoes receive_amount with amount_parameter
/// "receive". A client that wants a net amount converts it first (onek::client::submit).
/// The answer echoes custom_id: the client treats a swap without it, or with another direction or
/// amount, as inconsistent. A second open with a used custom_id returns the existing swap
/// (200, VENUES.md).
namespace open_field {
inline constexpr std::string_view direction = "direction";
inline constexpr std::string_view spend_amount = "spend_amount";
inline constexpr std::string_view receive_amount = "receive_amount";
inline constexpr std::string_view callback_url = "callback_url";
inline constexpr std::string_view custom_id = "custom_id";
inline constexpr std::string_view time_to_live = "time_to_live";
}  // namespace open_field

/// POST /swap/cancel body: {"code": "..."} (the client always sends the code; custom_id is the
/// documented alternative, code wins when both are present).
namespace cancel_field {
inline constexpr std::string_view code = "code";
inline constexpr std::string_view custom_id = "custom_id";
}  // namespace cancel_field

/// GET /swap query parameters. The client sends them in this order, each only when set:
/// custom_id, status, direction, start_at, end_at, limit, offset; values percent-encoded (every
/// byte except A-Z a-z 0-9 - . _ ~ as %XX, uppercase hex). The signature does not cover them
/// (wire::signature).
namespace list_query {
inline constexpr std::string_view custom_id = "custom_id";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view direction = "direction";
inline constexpr std::string_view start_at = "start_at";
inline constexpr std::string_view end_at = "end_at";
inline constexpr std::string_view limit = "limit";
inline constexpr std::string_view offset = "offset";
}  // namespace list_query

inline constexpr int list_limit_default = 100;
inline constexpr int list_limit_max = 200;
inline constexpr int list_offset_max = 10000;  ///< beyond it: an error (400, project)

/// Swap status strings ("Swap Status Values"). Anything else is unknown to the client: not final,
/// alarmed (VENUES.md).
namespace swap_status {
inline constexpr std::string_view open = "open";
inline constexpr std::string_view success = "success";
inline constexpr std::string_view failed = "failed";
}  // namespace swap_status

/// reason_code values of a failed swap. expired and cancelled mean nothing was executed; the
/// client maps every other code to "failed" (project; the document names none explicitly).
namespace reason {
inline constexpr std::string_view expired = "expired";
inline constexpr std::string_view cancelled = "cancelled";
inline constexpr std::string_view insufficient_funds = "insufficient_funds";
inline constexpr std::string_view direction_disabled = "direction_disabled";
inline constexpr std::string_view limit_exceeded = "limit_exceeded";
}  // namespace reason

/// Error body (project assumption, VENUES.md): {"code": "<error code>", "message": "<text>"}.
namespace error_field {
inline constexpr std::string_view code = "code";
inline constexpr std::string_view message = "message";
}  // namespace error_field

/// Documented authentication error codes ("2.6 Authentication Errors"). Project: the *.missed,
/// *.invalid codes answer 401; access_key.inactive, access_key.ip_whitelist, user.inactive and a
/// missing permission answer 403.
namespace auth_error {
inline constexpr std::string_view access_key_missed = "access_key.missed";
inline constexpr std::string_view timestamp_missed = "timestamp.missed";
inline constexpr std::string_view signature_missed = "signature.missed";
inline constexpr std::string_view timestamp_invalid = "timestamp.invalid";
inline constexpr std::string_view access_key_invalid = "access_key.invalid";
inline constexpr std::string_view access_key_inactive = "access_key.inactive";
inline constexpr std::string_view access_key_ip_whitelist = "access_key.ip_whitelist";
inline constexpr std::string_view user_inactive = "user.inactive";
inline constexpr std::string_view signature_invalid = "signature.invalid";
}  // namespace auth_error

/// Non-auth error codes (project: the document shows none). The client keys only on the HTTP
/// status for these; the codes are for logs.
namespace error_code {
inline constexpr std::string_view permission_denied = "permission.denied";  ///< 403
inline constexpr std::string_view validation = "validation.invalid";        ///< 400 / 422
inline constexpr std::string_view not_found = "not_found";                  ///< 404
inline constexpr std::string_view rate_limited = "rate_limit.exceeded";     ///< 429
inline constexpr std::string_view internal = "internal";                    ///< 5xx
}  // namespace error_code

/// Documented per-endpoint rate limits, requests per minute per access key; each endpoint has its
/// own bucket (GET /swap/{code} is one endpoint for every code).
namespace rate_limit_per_minute {
inline constexpr int swap_directions = 30;
inline constexpr int balance = 30;
inline constexpr int currency = 10;
inline constexpr int swap_open = 300;
inline constexpr int swap_cancel = 300;
inline constexpr int swap_list = 300;
inline constexpr int swap_item = 300;
/// /status has no documented limit: the emulator does not limit it; the client keeps itself to
/// this many (project).
inline constexpr int status = 30;
}  // namespace rate_limit_per_minute

/// Default time_to_live of a swap when the request omits it.
inline constexpr std::chrono::milliseconds default_time_to_live{30000};
/// The server rejects X-Timestamp further than this from its clock (timestamp.invalid).
inline constexpr std::chrono::milliseconds max_timestamp_skew{5000};

/// The request signature: lowercase hex of HMAC-SHA256(secret, access_key + path + timestamp_ms +
/// body). path is the path component of the target as sent ("/api/v1/swap"), without the query:
/// "the request path is the full path component of the URL", and the seed's Python, PHP and
/// JavaScript examples sign "/api/v1" + endpoint and add the query parameters afterwards (VENUES.md
/// Part 1 says the query is signed too; the provider's own document and examples say otherwise).
/// body is "" for GET and the exact JSON bytes for POST. Thread-safety: as hmac_sha256 (one keyed
/// object per thread).
std::string signature(hmac_sha256& keyed_secret, std::string_view access_key, std::string_view path,
                      std::string_view timestamp_ms, std::string_view body);

}  // namespace swaprouter::onek::wire
