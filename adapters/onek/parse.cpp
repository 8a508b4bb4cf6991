#include "adapters/onek/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <utility>

#include "adapters/onek/wire.hpp"
#include "engine/json_read.hpp"

namespace swaprouter::onek {
namespace {

using json = json_value;
using fields = json_fields;

result<json_document> parse_json(std::string_view body, std::string_view what) {
  return parse_json_text(
      body, what, json_limits{.max_body_bytes = max_body_bytes, .max_depth = max_json_depth});
}

result<direction> read_direction(const json& v, std::string_view what, std::size_t index) {
  namespace f = wire::direction_field;
  fields in(v, what, index);
  direction d;
  d.provider = std::string(provider_id);
  d.code = in.text(f::code);
  d.spend_asset = in.text(f::spend_currency);
  d.receive_asset = in.text(f::receive_currency);
  d.enabled = in.boolean(f::is_enabled);
  d.spend_precision = static_cast<int>(in.integer(f::spend_precision, 0, decimal::scale));
  d.receive_precision = static_cast<int>(in.integer(f::receive_precision, 0, decimal::scale));
  d.fee_percent = in.amount(f::fee_percent);
  d.min_spend = in.amount(f::min_spend_amount);
  d.max_spend = in.optional_amount(f::max_spend_amount);
  d.min_receive = in.amount(f::min_receive_amount);
  d.max_receive = in.optional_amount(f::max_receive_amount);
  d.spend_rate_value = in.amount(f::spend_rate_value);
  d.receive_rate_value = in.amount(f::receive_rate_value);
  // Pricing divides by spend_rate_value, and a fee of 100 % or more leaves nothing to receive.
  if (!in.failed() && !d.spend_rate_value.is_positive()) in.set(f::spend_rate_value, "not > 0");
  if (!in.failed() && !d.receive_rate_value.is_positive()) {
    in.set(f::receive_rate_value, "not > 0");
  }
  if (!in.failed() && d.fee_percent >= decimal::from_int(100)) in.set(f::fee_percent, ">= 100");
  if (in.failed()) return in.failure();
  return d;
}

result<swap> read_swap(const json& v, std::string context) {
  namespace f = wire::swap_field;
  fields in(v, std::move(context));
  swap s;
  s.code = in.text(f::code);
  s.custom_id = in.optional_text(f::custom_id);
  s.direction = in.text(f::direction);
  s.spend_currency = in.text(f::spend_currency);
  s.receive_currency = in.text(f::receive_currency);
  s.spend_amount = in.amount(f::spend_amount);
  s.receive_amount = in.amount(f::receive_amount);
  s.amount_parameter = in.optional_text(f::amount_parameter);
  s.fee_amount = in.optional_amount(f::fee_amount).value_or(decimal{});
  s.fee_currency = in.optional_text(f::fee_currency);
  const auto spend_filled = in.optional_amount(f::spend_filled);
  const auto receive_filled = in.optional_amount(f::receive_filled);
  s.fills_reported = spend_filled.has_value() && receive_filled.has_value();
  s.spend_filled = spend_filled.value_or(decimal{});
  s.receive_filled = receive_filled.value_or(decimal{});
  s.spend_fee_filled = in.optional_amount(f::spend_fee_filled).value_or(decimal{});
  const auto receive_fee_filled = in.optional_amount(f::receive_fee_filled);
  s.receive_fee_reported = receive_fee_filled.has_value();
  s.receive_fee_filled = receive_fee_filled.value_or(decimal{});
  s.status = in.text(f::status);
  s.reason_code = in.optional_text(f::reason_code);
  s.reason_message = in.optional_text(f::reason_message);
  s.created_at = in.time(f::created_at);
  s.valid_till = in.optional_time(f::valid_till);
  // The seed's open sample names the expiry expires_at, its field table valid_till.
  if (!s.valid_till) s.valid_till = in.optional_time(f::expires_at);
  s.done_at = in.optional_time(f::done_at);
  s.cancel_requested_at = in.optional_time(f::cancel_requested_at);
  // Every other field (callback_url, rates, updated_at) is not used and not validated.
  if (in.failed()) return in.failure();
  return s;
}

result<balance> read_balance(const json& v, std::string context) {
  namespace f = wire::balance_field;
  fields in(v, std::move(context));
  balance b;
  b.asset = in.text(f::currency);
  b.available = in.amount(f::available);
  b.frozen = in.amount(f::frozen);
  if (in.failed()) return in.failure();
  return b;
}

// As read_array, `read` taking the element's place in parts (its context is written only for a
// problem).
template <class T, class Read>
result<std::vector<T>> read_array_at(std::string_view body, std::string_view what, Read read) {
  auto root = parse_json(body, what);
  if (!root) return std::unexpected(std::move(root.error()));
  std::string problem;
  const auto* items = as_array(*root, what, problem);
  if (items == nullptr) return fail(error_kind::bad_response, problem);
  std::vector<T> out;
  out.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = read((*items)[i], what, i);
    if (!item) return std::unexpected(std::move(item.error()));
    out.push_back(std::move(*item));
  }
  return out;
}

template <class T, class Read>
result<std::vector<T>> read_array(std::string_view body, std::string_view what, Read read) {
  return read_array_at<T>(body, what, [&](const json& v, std::string_view w, std::size_t i) {
    return read(v, fmt::format("{}[{}]", w, i));
  });
}

// Parses exactly `n` digits at `pos`, advancing it.
}  // namespace

result<wall_time> parse_timestamp(std::string_view text) { return parse_iso_timestamp(text); }

std::string format_timestamp(wall_time time) { return format_iso_timestamp(time); }

result<wall_time> parse_status(std::string_view body) {
  auto root = parse_json(body, "status");
  if (!root) return std::unexpected(std::move(root.error()));
  fields in(*root, "status");
  // Upper bound keeps milliseconds * 10^6 inside wall_time's 64-bit nanoseconds (year 2255).
  const std::int64_t ms = in.integer(wire::status_field::timestamp, 0, 9'000'000'000'000);
  if (in.failed()) return in.failure();
  return wall_time{std::chrono::duration_cast<wall_time::duration>(std::chrono::milliseconds{ms})};
}

result<std::vector<direction>> parse_directions(std::string_view body) {
  return read_array_at<direction>(body, "swap_directions", read_direction);
}

result<swap> parse_swap(std::string_view body) {
  auto root = parse_json(body, "swap");
  if (!root) return std::unexpected(std::move(root.error()));
  return read_swap(*root, "swap");
}

result<std::vector<swap>> parse_swap_list(std::string_view body) {
  return read_array<swap>(body, "swaps", read_swap);
}

result<std::vector<balance>> parse_balances(std::string_view body) {
  return read_array<balance>(body, "balances", read_balance);
}

provider_error parse_error_body(std::string_view body) {
  constexpr std::size_t code_chars = 64;
  constexpr std::size_t message_chars = 200;
  provider_error out;
  auto root = parse_json(body, "error");
  if (root && root->type == json::kind::object) {
    namespace f = wire::error_field;
    const json* code = root->member(f::code);
    const json* message = root->member(f::message);
    if (code != nullptr && (code->type == json::kind::string || code->type == json::kind::number)) {
      out.code = excerpt(code->text, code_chars);
    }
    if (message != nullptr && message->type == json::kind::string) {
      out.message = excerpt(message->text, message_chars);
    }
    if (!out.code.empty() || !out.message.empty()) return out;
  }
  out.message = excerpt(body, message_chars);
  return out;
}

leg_state map_state(const swap& s) {
  namespace st = wire::swap_status;
  if (s.status == st::open) return leg_state::open;
  if (s.status == st::success) {
    const bool short_fill =
        s.fills_reported && s.spend_filled < s.spend_amount && s.receive_filled < s.receive_amount;
    return short_fill ? leg_state::partially_filled : leg_state::filled;
  }
  if (s.status == st::failed) {
    // Fills on a failed swap are money that moved: the engine accounts expired, cancelled and
    // failed as nothing spent and would re-plan the whole amount.
    if (s.spend_filled.is_positive() || s.receive_filled.is_positive()) {
      return leg_state::partially_filled;
    }
    if (s.reason_code == wire::reason::expired) return leg_state::expired;
    if (s.reason_code == wire::reason::cancelled) return leg_state::cancelled;
    return leg_state::failed;
  }
  return leg_state::unrecognised;
}

decimal receive_fee(const swap& s) {
  return s.fee_currency.empty() || s.fee_currency == s.receive_currency ? s.fee_amount : decimal{};
}

leg_status to_leg_status(const swap& s) {
  leg_status out;
  out.ref.provider_ref = s.code;
  out.ref.client = s.custom_id;
  out.state = map_state(s);
  out.provider_status = excerpt(s.status, 64);
  out.direction_code = s.direction;
  out.spend_amount = s.spend_amount;
  out.receive_amount = s.receive_amount;
  out.spend_filled = s.spend_filled;
  out.receive_filled = s.receive_filled;
  out.fee_filled = s.receive_fee_filled;
  // Fills without the fee taken from them: the fee still came off the gross receive_filled.
  if (s.fills_reported && !s.receive_fee_reported) {
    const decimal fee = receive_fee(s);
    out.fee_filled = fee.mul_div(s.receive_filled, s.receive_amount, rounding::up).value_or(fee);
  }
  // A success without *_filled fields: 001k swaps are all-or-nothing, so success executed the
  // swap's own amounts and fee.
  if (out.state == leg_state::filled && !s.fills_reported) {
    out.spend_filled = s.spend_amount;
    out.receive_filled = s.receive_amount;
    out.fee_filled = receive_fee(s);
  }
  out.reason_code = excerpt(s.reason_code, 64);
  out.reason_message = excerpt(s.reason_message, 200);
  out.created_at = s.created_at;
  out.valid_until = s.valid_till;
  out.cancel_requested_at = s.cancel_requested_at;
  return out;
}

}  // namespace swaprouter::onek
