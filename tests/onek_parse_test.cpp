// 001k response parsing: the seed's sample payloads and hostile bodies.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "adapters/onek/parse.hpp"
#include "onek_samples.hpp"

namespace swaprouter::onek {
namespace {

using namespace std::chrono_literals;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

wall_time utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// A direction object with one field replaced (or removed when `value` is empty).
std::string direction_with(std::string_view field, std::string_view value) {
  const std::string fields[][2] = {
      {"code", R"("BTC-USDT")"},
      {"spend_currency", R"("BTC")"},
      {"receive_currency", R"("USDT")"},
      {"is_enabled", "true"},
      {"spend_precision", "8"},
      {"receive_precision", "6"},
      {"fee_percent", R"("0.25")"},
      {"min_spend_amount", R"("0.001")"},
      {"max_spend_amount", R"("10")"},
      {"min_receive_amount", R"("29.48525")"},
      {"max_receive_amount", R"("294852.5")"},
      {"spend_rate_value", R"("1")"},
      {"receive_rate_value", R"("29485.25")"},
  };
  std::string out = "[{";
  bool first = true;
  for (const auto& [name, default_value] : fields) {
    std::string_view v = default_value;
    if (name == field) {
      if (value.empty()) continue;
      v = value;
    }
    if (!first) out += ',';
    first = false;
    out += '"' + name + "\":" + std::string(v);
  }
  return out + "}]";
}

void expect_bad(const auto& parsed, std::string_view needle = {}) {
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().kind, error_kind::bad_response) << parsed.error().message;
  if (!needle.empty()) {
    EXPECT_NE(parsed.error().message.find(needle), std::string::npos) << parsed.error().message;
  }
}

TEST(OnekParse, SeedDirectionsVerbatim) {
  auto parsed = parse_directions(samples::seed_directions);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  const direction& btc = (*parsed)[0];
  EXPECT_EQ(btc.provider, "onek");
  EXPECT_EQ(btc.code, "BTC-USDT");
  EXPECT_EQ(btc.spend_asset, "BTC");
  EXPECT_EQ(btc.receive_asset, "USDT");
  EXPECT_TRUE(btc.enabled);
  EXPECT_EQ(btc.spend_precision, 8);
  EXPECT_EQ(btc.receive_precision, 6);
  EXPECT_EQ(btc.fee_percent, dec("0.25"));
  EXPECT_EQ(btc.min_spend, dec("0.001"));
  EXPECT_EQ(btc.max_spend, dec("10"));
  EXPECT_EQ(btc.min_receive, dec("29.48525"));
  EXPECT_EQ(btc.max_receive, dec("294852.5"));
  // The sample's values as sent (VENUES.md: they contradict the field descriptions).
  EXPECT_EQ(btc.spend_rate_value, dec("29485.25"));
  EXPECT_EQ(btc.receive_rate_value, dec("1"));

  // USDT-BTC carries an undocumented "rate" field: tolerated and ignored.
  const direction& usdt = (*parsed)[1];
  EXPECT_EQ(usdt.code, "USDT-BTC");
  EXPECT_EQ(usdt.spend_precision, 6);
  EXPECT_EQ(usdt.receive_precision, 8);
  EXPECT_EQ(usdt.min_spend, dec("30"));
  EXPECT_EQ(usdt.max_spend, dec("300000"));
  EXPECT_EQ(usdt.min_receive, dec("0.001017"));
  EXPECT_EQ(usdt.max_receive, dec("10.17"));
  EXPECT_EQ(usdt.spend_rate_value, dec("29485.25"));
  EXPECT_EQ(usdt.receive_rate_value, dec("1"));
}

TEST(OnekParse, SeedOpenSwapVerbatim) {
  auto parsed = parse_swap(samples::seed_open_swap);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const swap& s = *parsed;
  EXPECT_EQ(s.code, "SWP123456");
  EXPECT_EQ(s.custom_id, "my-swap-123");
  EXPECT_EQ(s.direction, "BTC-USDT");
  EXPECT_EQ(s.spend_currency, "BTC");
  EXPECT_EQ(s.receive_currency, "USDT");
  EXPECT_EQ(s.spend_amount, dec("0.01"));
  EXPECT_EQ(s.receive_amount, dec("294.8525"));
  EXPECT_EQ(s.fee_amount, dec("0.73713125"));
  EXPECT_EQ(s.fee_currency, "USDT");
  EXPECT_FALSE(s.fills_reported);
  EXPECT_EQ(s.status, "open");
  EXPECT_EQ(s.reason_code, "");
  EXPECT_EQ(s.created_at, utc(2023, 1, 15, 14, 30, 15));
  // The open sample names the expiry expires_at.
  EXPECT_EQ(s.valid_till, utc(2023, 1, 15, 14, 30, 45));
  EXPECT_EQ(s.done_at, std::nullopt);

  const leg_status status = to_leg_status(s);
  EXPECT_EQ(status.state, leg_state::open);
  EXPECT_EQ(status.ref.provider_ref, "SWP123456");
  EXPECT_EQ(status.ref.client, "my-swap-123");
  EXPECT_EQ(status.direction_code, "BTC-USDT");
  EXPECT_EQ(status.spend_filled, decimal{});
  EXPECT_EQ(status.valid_until, utc(2023, 1, 15, 14, 30, 45));
}

TEST(OnekParse, SeedSwapListWithSuccess) {
  auto parsed = parse_swap_list(samples::seed_swap_list);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  const swap& s = parsed->front();
  EXPECT_EQ(s.amount_parameter, "spend");
  EXPECT_TRUE(s.fills_reported);
  EXPECT_EQ(s.spend_filled, dec("0.01"));
  EXPECT_EQ(s.receive_filled, dec("294.8525"));
  EXPECT_EQ(s.receive_fee_filled, dec("0.73713125"));
  EXPECT_EQ(s.spend_fee_filled, decimal{});
  EXPECT_EQ(s.valid_till, utc(2023, 1, 15, 14, 30, 45));
  EXPECT_EQ(s.done_at, utc(2023, 1, 15, 14, 35, 20));
  EXPECT_EQ(s.cancel_requested_at, std::nullopt);

  const leg_status status = to_leg_status(s);
  EXPECT_EQ(status.state, leg_state::filled);
  EXPECT_EQ(status.provider_status, "success");
  EXPECT_EQ(status.spend_amount, dec("0.01"));
  EXPECT_EQ(status.receive_amount, dec("294.8525"));
  EXPECT_EQ(status.spend_filled, dec("0.01"));
  EXPECT_EQ(status.receive_filled, dec("294.8525"));
  EXPECT_EQ(status.fee_filled, dec("0.73713125"));
}

// The engine's net (execution.hpp net_received) is receive_filled - fee_filled: a fee 001k charges
// in the spend currency must not come off the receive (0.75 USDT off 0.0009 BTC would leave
// nothing).
TEST(OnekParse, AFeeInTheSpendCurrencyDoesNotLowerTheReceive) {
  swap s;
  s.code = "SWP9";
  s.spend_currency = "USDT";
  s.receive_currency = "BTC";
  s.spend_amount = dec("30");
  s.receive_amount = dec("0.00090000");
  s.fee_amount = dec("0.75");
  s.fee_currency = "USDT";
  s.status = "success";
  EXPECT_EQ(receive_fee(s), decimal{});
  // Without *_filled fields: the swap's own amounts, and no fee off the receive.
  leg_status status = to_leg_status(s);
  EXPECT_EQ(status.state, leg_state::filled);
  EXPECT_EQ(status.receive_filled, dec("0.00090000"));
  EXPECT_EQ(status.fee_filled, decimal{});
  EXPECT_EQ(status.receive_filled - status.fee_filled, dec("0.0009"));
  // With them: spend_fee_filled is the spend's, receive_fee_filled the receive's.
  s.fills_reported = true;
  s.spend_filled = dec("30");
  s.receive_filled = dec("0.00090000");
  s.spend_fee_filled = dec("0.75");
  s.receive_fee_filled = decimal{};
  status = to_leg_status(s);
  EXPECT_EQ(status.fee_filled, decimal{});
  EXPECT_EQ(status.receive_filled - status.fee_filled, dec("0.0009"));
  // A fee in the receive currency, or one whose currency is not named, comes off the receive.
  s.fee_currency = "BTC";
  EXPECT_EQ(receive_fee(s), dec("0.75"));
  s.fee_currency.clear();
  EXPECT_EQ(receive_fee(s), dec("0.75"));
  s.fills_reported = false;
  s.fee_amount = dec("0.00000225");
  EXPECT_EQ(to_leg_status(s).fee_filled, dec("0.00000225"));
}

TEST(OnekParse, SeedBalancesVerbatim) {
  auto parsed = parse_balances(samples::seed_balances);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].asset, "BTC");
  EXPECT_EQ((*parsed)[0].available, dec("0.05"));
  EXPECT_EQ((*parsed)[0].frozen, decimal{});
  EXPECT_EQ((*parsed)[1].asset, "ETH");
  EXPECT_EQ((*parsed)[1].available, dec("1.25"));
  EXPECT_EQ((*parsed)[1].frozen, dec("0.5"));
  EXPECT_EQ((*parsed)[2].asset, "USDT");
  EXPECT_EQ((*parsed)[2].available, dec("1000"));
  EXPECT_EQ((*parsed)[2].frozen, dec("250"));
}

TEST(OnekParse, Status) {
  auto parsed = parse_status(R"({
"timestamp": 1676541877000

})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->time_since_epoch(), 1676541877000ms);
  expect_bad(parse_status(R"({"timestamp": "1676541877000"})"), "status.timestamp");
  expect_bad(parse_status(R"({"timestamp": 1676541877000.5})"), "status.timestamp");
  expect_bad(parse_status(R"({"timestamp": -1})"), "status.timestamp");
  expect_bad(parse_status(R"({"timestamp": 99999999999999999999999})"), "status.timestamp");
  expect_bad(parse_status(R"({"time": 1})"), "status.timestamp: missing");
  expect_bad(parse_status("[]"), "expected an object");
}

TEST(OnekParse, NullMaxMeansNoLimit) {
  auto parsed = parse_directions(direction_with("max_spend_amount", "null"));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->front().max_spend, std::nullopt);
  parsed = parse_directions(direction_with("max_receive_amount", ""));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->front().max_receive, std::nullopt);
  ASSERT_TRUE(parse_directions(direction_with("", "")).has_value());
}

TEST(OnekParse, DirectionFieldsValidated) {
  // Missing required fields name the field.
  expect_bad(parse_directions(direction_with("fee_percent", "")),
             "swap_directions[0].fee_percent: missing");
  expect_bad(parse_directions(direction_with("code", "")), "swap_directions[0].code: missing");
  // Wrong types.
  expect_bad(parse_directions(direction_with("fee_percent", "0.25")),
             "fee_percent: expected a decimal string, got a number");
  expect_bad(parse_directions(direction_with("is_enabled", R"("true")")), "is_enabled");
  expect_bad(parse_directions(direction_with("spend_precision", R"("8")")), "spend_precision");
  expect_bad(parse_directions(direction_with("spend_precision", "8.5")), "spend_precision");
  expect_bad(parse_directions(direction_with("spend_precision", "19")), "spend_precision");
  expect_bad(parse_directions(direction_with("spend_precision", "-1")), "spend_precision");
  expect_bad(parse_directions(direction_with("code", "null")), "code");
  expect_bad(parse_directions(direction_with("code", R"("")")), "code: empty");
  expect_bad(parse_directions(direction_with("min_spend_amount", "{}")), "min_spend_amount");
  expect_bad(parse_directions(direction_with("min_spend_amount", "null")), "min_spend_amount");
  // Values.
  expect_bad(parse_directions(direction_with("min_spend_amount", R"("-1")")), "negative");
  expect_bad(parse_directions(direction_with("spend_rate_value", R"("0")")), "spend_rate_value");
  expect_bad(parse_directions(direction_with("fee_percent", R"("100")")), "fee_percent");
  expect_bad(parse_directions(direction_with("fee_percent", R"("abc")")), "not a decimal");
  expect_bad(parse_directions(direction_with("fee_percent", R"("")")), "not a decimal");
  // Shape.
  expect_bad(parse_directions("{}"), "expected an array");
  expect_bad(parse_directions("[1]"), "swap_directions[0]: expected an object");
}

TEST(OnekParse, HostileNumbers) {
  expect_bad(parse_directions(direction_with("fee_percent", R"("1e400")")), "fee_percent");
  // RapidJSON refuses a number beyond double's range even when it hands numbers over as text.
  expect_bad(parse_directions(direction_with("spend_precision", "1e400")), "swap_directions");
  expect_bad(parse_directions(direction_with("fee_percent", "1e400")), "swap_directions");
  expect_bad(parse_directions(direction_with("spend_precision", "1e2")), "spend_precision");
  expect_bad(parse_directions(direction_with("fee_percent", "1E-2")), "fee_percent");
  // NaN and Infinity are not JSON.
  expect_bad(parse_directions(direction_with("fee_percent", "NaN")), "invalid JSON");
  expect_bad(parse_directions(direction_with("fee_percent", "-Infinity")), "invalid JSON");
  expect_bad(parse_directions(direction_with("fee_percent", R"("NaN")")), "not a decimal");
  const std::string long_fraction = "\"0." + std::string(300, '1') + "\"";
  expect_bad(parse_directions(direction_with("fee_percent", long_fraction)), "fee_percent");
  const std::string huge = "\"" + std::string(300, '9') + "\"";
  expect_bad(parse_directions(direction_with("max_spend_amount", huge)), "max_spend_amount");
}

TEST(OnekParse, HostileStructure) {
  // A million-deep array: refused at depth 33, no recursion, no crash.
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  expect_bad(parse_directions(deep), "nested deeper than 32");
  const std::string deep_objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += R"({"a":)";
    s += "1";
    s += std::string(100000, '}');
    return s;
  }();
  expect_bad(parse_swap(deep_objects), "nested deeper");
  // 32 levels are fine as JSON (and then the wrong shape).
  expect_bad(parse_directions(std::string(32, '[') + std::string(32, ']')),
             "swap_directions[0]: expected an object");
  expect_bad(parse_directions(std::string(33, '[') + std::string(33, ']')), "nested deeper");
  // Duplicate keys would otherwise let one reader see another value than the next.
  expect_bad(parse_status(R"({"timestamp": 1, "timestamp": 2})"), "duplicate key");
  expect_bad(parse_directions(direction_with("fee_percent", R"("0.25","fee_percent":"0")")),
             "duplicate key");
  // Invalid UTF-8 inside a string; a NUL byte; trailing garbage; empty; truncated.
  expect_bad(parse_directions(direction_with("code", "\"BTC\xff\xfe\"")), "invalid JSON");
  expect_bad(parse_directions(direction_with("code", "\"\xc3\x28\"")), "invalid JSON");
  expect_bad(parse_status(std::string("{\"timestamp\": 1}\0garbage", 24)), "NUL");
  expect_bad(parse_status(R"({"timestamp": 1} x)"), "invalid JSON");
  expect_bad(parse_status(""), "invalid JSON");
  expect_bad(parse_swap(samples::seed_open_swap.substr(0, 120)), "invalid JSON");
  expect_bad(parse_status("<html>502 Bad Gateway</html>"), "invalid JSON");
  // Too large: refused before parsing.
  const std::string big = "[" + std::string(max_body_bytes, ' ') + "]";
  expect_bad(parse_balances(big), "exceeds");
  // Many values: bounded.
  std::string wide = "[";
  for (int i = 0; i < 300000; ++i) wide += "0,";
  wide += "0]";
  expect_bad(parse_balances(wide), "too many values");
}

TEST(OnekParse, SwapFieldsValidated) {
  std::string body(samples::seed_open_swap);
  const auto replace = [&](std::string_view from, std::string_view to) {
    std::string copy = body;
    copy.replace(copy.find(from), from.size(), to);
    return copy;
  };
  expect_bad(parse_swap(replace(R"("status": "open")", R"("status": 1)")), "swap.status");
  expect_bad(parse_swap(replace(R"("code": "SWP123456",)", "")), "swap.code: missing");
  expect_bad(parse_swap(replace(R"("spend_amount": "0.01000000")", R"("spend_amount": 0.01)")),
             "swap.spend_amount");
  expect_bad(parse_swap(replace(R"("created_at": "2023-01-15T14:30:15Z")",
                                R"("created_at": "yesterday")")),
             "swap.created_at");
  expect_bad(parse_swap(replace(R"("done_at": null)", R"("done_at": 5)")), "swap.done_at");
  expect_bad(parse_swap(replace(R"("reason_code": null)", R"("reason_code": [])")),
             "swap.reason_code");
  expect_bad(parse_swap_list(R"([{"code": "x"}])"), "swaps[0].direction: missing");
  auto empty = parse_swap_list("[]");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(OnekParse, Timestamps) {
  EXPECT_EQ(parse_timestamp("2023-01-15T14:30:15Z"), utc(2023, 1, 15, 14, 30, 15));
  EXPECT_EQ(parse_timestamp("2023-01-15T14:30:15.250Z"), utc(2023, 1, 15, 14, 30, 15) + 250ms);
  EXPECT_EQ(parse_timestamp("2023-01-15T14:30:15.123456789123Z"),
            utc(2023, 1, 15, 14, 30, 15) + 123456789ns);
  EXPECT_EQ(parse_timestamp("2023-01-15T16:30:15+02:00"), utc(2023, 1, 15, 14, 30, 15));
  EXPECT_EQ(parse_timestamp("2023-01-15T09:00:15-0530"), utc(2023, 1, 15, 14, 30, 15));
  EXPECT_EQ(parse_timestamp("2023-01-15T14:30:15.5+00:00"), utc(2023, 1, 15, 14, 30, 15) + 500ms);
  EXPECT_EQ(parse_timestamp("2024-02-29T00:00:00Z"), utc(2024, 2, 29, 0, 0, 0));
  for (std::string_view bad :
       {"", "2023-01-15", "2023-01-15T14:30:15", "2023-01-15 14:30:15Z", "2023-13-15T14:30:15Z",
        "2023-02-29T14:30:15Z", "2023-01-15T24:00:00Z", "2023-01-15T14:60:00Z",
        "2023-01-15T14:30:15.Z", "2023-01-15T14:30:15Zjunk", "2023-01-15T14:30:15+2",
        "2023-01-15T14:30:15+25:00", "9999-01-15T14:30:15Z", "x023-01-15T14:30:15Z"}) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
  EXPECT_EQ(format_timestamp(utc(2023, 1, 15, 14, 30, 15)), "2023-01-15T14:30:15Z");
  EXPECT_EQ(format_timestamp(utc(2023, 1, 15, 14, 30, 15) + 42ms), "2023-01-15T14:30:15.042Z");
  EXPECT_EQ(parse_timestamp(format_timestamp(utc(2023, 1, 15, 14, 30, 15) + 42ms)),
            utc(2023, 1, 15, 14, 30, 15) + 42ms);
}

TEST(OnekParse, StateMapping) {
  swap s;
  s.spend_amount = dec("0.01");
  s.receive_amount = dec("294.8525");
  const auto state = [&](std::string_view status, std::string_view reason = {}) {
    s.status = status;
    s.reason_code = reason;
    return map_state(s);
  };
  EXPECT_EQ(state("open"), leg_state::open);
  EXPECT_EQ(state("success"), leg_state::filled);
  EXPECT_EQ(state("failed", "expired"), leg_state::expired);
  EXPECT_EQ(state("failed", "cancelled"), leg_state::cancelled);
  EXPECT_EQ(state("failed", "insufficient_funds"), leg_state::failed);
  EXPECT_EQ(state("failed"), leg_state::failed);
  EXPECT_EQ(state("pending"), leg_state::unrecognised);
  EXPECT_EQ(state("SUCCESS"), leg_state::unrecognised);
  EXPECT_EQ(state(""), leg_state::unrecognised);

  // All-or-nothing swaps: success is filled unless the provider reports both sides short.
  s.fills_reported = true;
  s.spend_filled = dec("0.01");
  s.receive_filled = dec("294.8525");
  EXPECT_EQ(state("success"), leg_state::filled);
  s.receive_filled = dec("290");
  EXPECT_EQ(state("success"), leg_state::filled);
  s.spend_filled = dec("0.005");
  EXPECT_EQ(state("success"), leg_state::partially_filled);
  const leg_status partial = to_leg_status(s);
  EXPECT_EQ(partial.spend_filled, dec("0.005"));
  EXPECT_EQ(partial.receive_filled, dec("290"));
}

TEST(OnekParse, ErrorBodies) {
  auto e = parse_error_body(
      R"({"code": "signature.invalid", "message": "The signature does not match"})");
  EXPECT_EQ(e.code, "signature.invalid");
  EXPECT_EQ(e.message, "The signature does not match");
  e = parse_error_body(R"({"code": 20, "message": "x"})");
  EXPECT_EQ(e.code, "20");
  e = parse_error_body("<html><body>502 Bad Gateway</body></html>");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "<html><body>502 Bad Gateway</body></html>");
  e = parse_error_body(R"({"error": "Unauthorized IP"})");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, R"({"error": "Unauthorized IP"})");
  e = parse_error_body("line1\nline2\x1b[31m\xff");
  EXPECT_EQ(e.message, "line1?line2?[31m?");
  e = parse_error_body(std::string(1000, 'a'));
  EXPECT_EQ(e.message.size(), 203u);
  e = parse_error_body("");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "");
}

// A failed swap that reports fills moved money: the engine accounts failed, expired and cancelled
// legs as nothing spent and re-plans their whole amount, so such a swap is a partial fill
// reporting what moved, whatever its reason_code.
TEST(OnekParse, AFailedSwapThatReportsFillsIsAPartialFill) {
  swap s;
  s.status = "failed";
  s.spend_amount = dec("0.01");
  s.receive_amount = dec("294.8525");
  s.fee_amount = dec("0.73713125");
  s.fee_currency = "USDT";
  s.receive_currency = "USDT";
  s.fills_reported = true;
  s.receive_fee_reported = true;
  for (const std::string_view reason : {"expired", "cancelled", "insufficient_funds", ""}) {
    SCOPED_TRACE(reason);
    s.reason_code = reason;
    s.spend_filled = dec("0.004");
    s.receive_filled = dec("117.941");
    s.receive_fee_filled = dec("0.2948525");
    EXPECT_EQ(map_state(s), leg_state::partially_filled);
    const leg_status status = to_leg_status(s);
    EXPECT_EQ(status.state, leg_state::partially_filled);
    EXPECT_EQ(status.spend_filled, dec("0.004"));
    EXPECT_EQ(status.receive_filled, dec("117.941"));
    EXPECT_EQ(status.fee_filled, dec("0.2948525"));
    // Only the spend reported gone is money moved too.
    s.receive_filled = decimal{};
    s.receive_fee_filled = decimal{};
    EXPECT_EQ(map_state(s), leg_state::partially_filled);
    // Nothing filled: the reason decides, as before.
    s.spend_filled = decimal{};
    EXPECT_NE(map_state(s), leg_state::partially_filled);
  }
}

// Fills reported without receive_fee_filled (absent or null): the fee still came off the gross
// receive_filled. Read as 0, the engine's net would be the gross (0.73713125 USDT too much).
TEST(OnekParse, FillsWithoutTheirFeeKeepTheSwapsFee) {
  const std::string body(samples::seed_swap_list);
  const std::string fee_field = R"("receive_fee_filled": "0.73713125",)";
  for (const std::string replacement : {"", R"("receive_fee_filled": null,)"}) {
    SCOPED_TRACE(replacement);
    std::string edited = body;
    edited.replace(edited.find(fee_field), fee_field.size(), replacement);
    auto parsed = parse_swap_list(edited);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    leg_status status = to_leg_status(parsed->front());
    EXPECT_EQ(status.state, leg_state::filled);
    EXPECT_EQ(status.receive_filled, dec("294.8525"));
    EXPECT_EQ(status.fee_filled, dec("0.73713125"));
    // A partial fill takes the fee's share of what it received, rounded up (toward less net).
    swap partial = parsed->front();
    partial.spend_filled = dec("0.004");
    partial.receive_filled = dec("117.941");
    status = to_leg_status(partial);
    EXPECT_EQ(status.state, leg_state::partially_filled);
    EXPECT_EQ(status.fee_filled, dec("0.2948525"));
  }
  // A spend-currency fee still takes nothing from the receive.
  std::string spend_fee = body;
  spend_fee.replace(spend_fee.find(fee_field), fee_field.size(), "");
  spend_fee.replace(spend_fee.find(R"("fee_currency": "USDT")"), 22, R"("fee_currency": "BTC")");
  auto parsed = parse_swap_list(spend_fee);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(to_leg_status(parsed->front()).fee_filled, decimal{});
}

}  // namespace
}  // namespace swaprouter::onek
