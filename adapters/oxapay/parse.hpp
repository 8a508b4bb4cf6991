// OxaPay response parsing: envelopes -> engine values, every field validated.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue.hpp"

namespace swaprouter::oxapay {

/// The venue id of OxaPay in the engine.
inline constexpr std::string_view provider_id = "oxapay";

inline constexpr std::size_t max_body_bytes = 4u << 20;
inline constexpr int max_json_depth = 32;

/// A swap (POST /general/swap data, history items). Pure value.
struct swap {
  std::string track_id;
  std::string from_currency;
  std::string to_currency;
  decimal from_amount;
  decimal to_amount;
  decimal rate;
  wall_time date{};
  std::string type;  ///< history only; empty when absent
};

/// POST /general/swap/calculate data.
struct calculation {
  decimal to_amount;
  decimal rate;
  decimal amount;
};

/// One swap pair.
struct swap_pair {
  std::string from_currency;
  std::string to_currency;
  decimal min_amount;
};

/// A page of a list answer.
template <class T>
struct page {
  std::vector<T> list;
  int page_no = 1;
  int last_page = 1;
};

/// The error envelope as far as it could be read; never fails (a body of another shape gives
/// empty fields and a short printable excerpt as the message).
struct provider_error {
  std::string type;
  std::string key;
  std::string message;
  int status = 0;  ///< the envelope's status, 0 when absent
};

// The parse_* functions fail with kind bad_response naming the field; pure, thread-safe, never
// throw or recurse. Amounts are read from the number's text (or a decimal string) exactly.

result<swap> parse_swap(std::string_view body);
result<calculation> parse_calculation(std::string_view body);
/// POST /general/swap/rate data {rate}.
result<decimal> parse_rate(std::string_view body);
result<page<swap_pair>> parse_pairs(std::string_view body);
result<page<swap>> parse_history(std::string_view body);
/// GET /general/account/balance data: {"USDT": 10.5, ...}.
result<std::vector<balance>> parse_balances(std::string_view body);
provider_error parse_error_body(std::string_view body);

/// A swap the provider returned is final at once (no pending state): filled with its amounts.
leg_status to_leg_status(const swap& s, std::string_view client);

}  // namespace swaprouter::oxapay
