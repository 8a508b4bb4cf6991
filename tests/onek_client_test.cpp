// 001k client: exact signed requests, rate-table pricing, and the venue's behaviour against a
// scripted HTTP client (no sockets, fixed key and clocks).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "adapters/onek/client.hpp"
#include "adapters/onek/wire.hpp"
#include "onek_samples.hpp"

namespace swaprouter::onek {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr std::string_view test_access_key = "ak_test_0001";
constexpr std::string_view test_secret = "sk_test_secret";
constexpr std::int64_t server_ms = 1676541877000;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

// The documented signature computed independently of the code under test: OpenSSL's one-shot
// HMAC over access_key + path + timestamp + body.
std::string openssl_signature(std::string_view target, std::string_view timestamp,
                              std::string_view body) {
  const std::string message = std::string(test_access_key) + std::string(target) +
                              std::string(timestamp) + std::string(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), test_secret.data(), static_cast<int>(test_secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

request_builder make_builder() {
  return request_builder(std::string(test_access_key), hmac_sha256(test_secret));
}

template <class T>
T run(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(value));
  });
  io.run();
  return std::move(*out);
}

// ---------------------------------------------------------------------------------------------
// request_builder: exact requests

TEST(OnekRequest, KnownAnswerSignature) {
  // python3 -c "import hmac,hashlib;print(hmac.new(b'sk_test_secret',
  //   b'ak_test_0001/api/v1/balance1676541877000',hashlib.sha256).hexdigest())"
  constexpr std::string_view expected =
      "e3c35fd0c18446e2e4ec26e7a043bcd96b82364778b5d765309a90e1c12ff9e1";
  hmac_sha256 secret(test_secret);
  EXPECT_EQ(wire::signature(secret, test_access_key, "/api/v1/balance", "1676541877000", ""),
            expected);
  EXPECT_EQ(openssl_signature("/api/v1/balance", "1676541877000", ""), expected);
}

TEST(OnekRequest, StatusIsUnsigned) {
  auto builder = make_builder();
  const http_request r = builder.status();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/status");
  EXPECT_THAT(r.headers, ElementsAre(Pair("Accept", "application/json")));
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(builder.currency().target, "/api/v1/currency");
}

TEST(OnekRequest, Balance) {
  auto builder = make_builder();
  const http_request r = builder.balance(server_ms);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/balance");
  EXPECT_EQ(r.body, "");
  const std::string signature = openssl_signature("/api/v1/balance", "1676541877000", "");
  EXPECT_EQ(signature, "e3c35fd0c18446e2e4ec26e7a043bcd96b82364778b5d765309a90e1c12ff9e1");
  EXPECT_THAT(r.headers,
              ElementsAre(Pair("Accept", "application/json"), Pair("X-Access-Key", "ak_test_0001"),
                          Pair("X-Timestamp", "1676541877000"), Pair("X-Signature", signature)));
  EXPECT_EQ(builder.swap_directions(server_ms).target, "/api/v1/swap-directions");
}

TEST(OnekRequest, SwapListQueryEncodedAndSigned) {
  auto builder = make_builder();
  list_params params;
  params.custom_id = "intent/7 leg-0";
  params.limit = 2;
  auto r = builder.swap_list(params, server_ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/api/v1/swap?custom_id=intent%2F7%20leg-0&limit=2");
  EXPECT_EQ(r->body, "");
  // Over the path alone, as the seed's examples sign a GET with parameters: python3 hmac over
  // "ak_test_0001/api/v1/swap" + "1676541877000".
  const std::string signature = openssl_signature("/api/v1/swap", "1676541877000", "");
  EXPECT_EQ(signature, "04fef5a8df22bf506b30a9d169a46634b2276c7465a58da47e5c6c913d0bf140");
  EXPECT_THAT(r->headers,
              ElementsAre(Pair("Accept", "application/json"), Pair("X-Access-Key", "ak_test_0001"),
                          Pair("X-Timestamp", "1676541877000"), Pair("X-Signature", signature)));
}

TEST(OnekRequest, SwapListAllParametersInFixedOrder) {
  auto builder = make_builder();
  list_params params;
  params.offset = 400;
  params.limit = 200;
  params.end_at = wall_time{1673793015000ms};
  params.start_at = wall_time{1673793015250ms};
  params.direction = "BTC-USDT";
  params.status = "open";
  params.custom_id = "a&b=c";
  auto r = builder.swap_list(params, server_ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->target,
            "/api/v1/swap?custom_id=a%26b%3Dc&status=open&direction=BTC-USDT"
            "&start_at=2023-01-15T14%3A30%3A15.250Z&end_at=2023-01-15T14%3A30%3A15Z&limit=200"
            "&offset=400");
  EXPECT_EQ(find_header(r->headers, "X-Signature"),
            openssl_signature("/api/v1/swap", "1676541877000", ""));
  EXPECT_EQ(builder.swap_list({}, server_ms)->target, "/api/v1/swap");

  params = {};
  params.limit = 201;
  EXPECT_EQ(builder.swap_list(params, server_ms).error().kind, error_kind::invalid_argument);
  params.limit = 0;
  EXPECT_FALSE(builder.swap_list(params, server_ms).has_value());
  params = {};
  params.offset = 10001;
  EXPECT_FALSE(builder.swap_list(params, server_ms).has_value());
}

TEST(OnekRequest, SwapOpenSeedExample) {
  auto builder = make_builder();
  open_params params;
  params.direction = "BTC-USDT";
  params.side = amount_side::spend;
  params.amount = dec("0.01");
  params.precision = 8;
  params.callback_url = "https://example.com/callbacks/swaps";
  params.custom_id = "my-swap-123";
  params.time_to_live = 30000ms;
  auto r = builder.swap_open(params, server_ms);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/api/v1/swap/open");
  // The seed's example request, compact, in its field order.
  const std::string body =
      R"({"direction":"BTC-USDT","spend_amount":"0.01000000",)"
      R"("callback_url":"https://example.com/callbacks/swaps","custom_id":"my-swap-123",)"
      R"("time_to_live":30000})";
  EXPECT_EQ(r->body, body);
  const std::string signature = openssl_signature("/api/v1/swap/open", "1676541877000", body);
  // python3 hmac over "ak_test_0001/api/v1/swap/open1676541877000" + body
  EXPECT_EQ(signature, "5458091c9774e0e092ec7437f6a5aa8cdae89ec441f4fd861f9feca8f367816e");
  EXPECT_THAT(
      r->headers,
      ElementsAre(Pair("Accept", "application/json"), Pair("Content-Type", "application/json"),
                  Pair("X-Access-Key", "ak_test_0001"), Pair("X-Timestamp", "1676541877000"),
                  Pair("X-Signature", signature)));
}

TEST(OnekRequest, SwapOpenReceiveSideWithoutCallback) {
  auto builder = make_builder();
  open_params params;
  params.direction = "USDT-BTC";
  params.side = amount_side::receive;
  params.amount = dec("0.005");
  params.precision = 8;
  params.custom_id = "i-1\"x";
  params.time_to_live = 15000ms;
  auto r = builder.swap_open(params, 1);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body,
            R"({"direction":"USDT-BTC","receive_amount":"0.00500000","custom_id":"i-1\"x",)"
            R"("time_to_live":15000})");
  EXPECT_EQ(find_header(r->headers, "X-Timestamp"), "1");
  EXPECT_EQ(find_header(r->headers, "X-Signature"), openssl_signature(r->target, "1", r->body));
}

TEST(OnekRequest, SwapOpenRefusesWhatItWouldHaveToRound) {
  auto builder = make_builder();
  open_params good;
  good.direction = "BTC-USDT";
  good.amount = dec("0.01");
  good.precision = 8;
  good.custom_id = "id-1";
  ASSERT_TRUE(builder.swap_open(good, server_ms).has_value());
  const auto refused = [&](auto change) {
    open_params p = good;
    change(p);
    auto r = builder.swap_open(p, server_ms);
    return !r.has_value() && r.error().kind == error_kind::invalid_argument;
  };
  EXPECT_TRUE(refused([](open_params& p) { p.amount = dec("0.010000001"); }));
  EXPECT_TRUE(refused([](open_params& p) { p.amount = decimal{}; }));
  EXPECT_TRUE(refused([](open_params& p) { p.amount = dec("-1"); }));
  EXPECT_TRUE(refused([](open_params& p) { p.precision = 19; }));
  EXPECT_TRUE(refused([](open_params& p) { p.time_to_live = 0ms; }));
  EXPECT_TRUE(refused([](open_params& p) { p.custom_id = ""; }));
  EXPECT_TRUE(refused([](open_params& p) { p.custom_id = "has space"; }));
  EXPECT_TRUE(refused([](open_params& p) { p.custom_id = std::string(129, 'a'); }));
  EXPECT_TRUE(refused([](open_params& p) { p.direction = "../balance"; }));
  EXPECT_TRUE(refused([](open_params& p) { p.callback_url = "http://x/\n"; }));
}

TEST(OnekRequest, SwapCancel) {
  auto builder = make_builder();
  auto r = builder.swap_cancel("SWP123456", server_ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/api/v1/swap/cancel");
  EXPECT_EQ(r->body, R"({"code":"SWP123456"})");
  const std::string signature =
      openssl_signature("/api/v1/swap/cancel", "1676541877000", R"({"code":"SWP123456"})");
  EXPECT_EQ(signature, "c6d21e601d598d3d166dd0a0943079f4771ab306950fa19970ece7c03f8fa280");
  EXPECT_THAT(
      r->headers,
      ElementsAre(Pair("Accept", "application/json"), Pair("Content-Type", "application/json"),
                  Pair("X-Access-Key", "ak_test_0001"), Pair("X-Timestamp", "1676541877000"),
                  Pair("X-Signature", signature)));
  EXPECT_FALSE(builder.swap_cancel("", server_ms).has_value());
}

TEST(OnekRequest, SwapItem) {
  auto builder = make_builder();
  auto r = builder.swap_item("SWP123456", server_ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->target, "/api/v1/swap/SWP123456");
  EXPECT_EQ(find_header(r->headers, "X-Signature"),
            openssl_signature("/api/v1/swap/SWP123456", "1676541877000", ""));
  for (std::string_view bad : {"", "../balance", "a/b", "a?b", "a b", "a%2F"}) {
    auto refused = builder.swap_item(bad, server_ms);
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error().kind, error_kind::invalid_argument);
  }
}

TEST(OnekRequest, UrlEncode) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a b/c?d&e=f+g%"), "a%20b%2Fc%3Fd%26e%3Df%2Bg%25");
  EXPECT_EQ(url_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(url_encode(""), "");
}

// ---------------------------------------------------------------------------------------------
// price_rate_table

// BTC-USDT with the rate proportion as VENUES.md reads the field descriptions (spend 1 BTC,
// receive 29485.25 USDT); the seed's sample sends the two values the other way round.
direction btc_usdt() {
  direction d;
  d.provider = "onek";
  d.code = "BTC-USDT";
  d.spend_asset = "BTC";
  d.receive_asset = "USDT";
  d.enabled = true;
  d.spend_precision = 8;
  d.receive_precision = 6;
  d.fee_percent = dec("0.25");
  d.min_spend = dec("0.001");
  d.max_spend = dec("10");
  d.min_receive = dec("29.48525");
  d.max_receive = dec("294852.5");
  d.spend_rate_value = dec("1");
  d.receive_rate_value = dec("29485.25");
  return d;
}

// The seed's USDT-BTC sample as sent (consistent with its descriptions).
direction usdt_btc() {
  auto parsed = parse_directions(samples::seed_directions);
  return parsed.value().at(1);
}

quote_request spend(const direction& d, std::string_view amount) {
  return quote_request{.spend_asset = d.spend_asset,
                       .receive_asset = d.receive_asset,
                       .side = amount_side::spend,
                       .amount = dec(amount)};
}

quote_request receive(const direction& d, std::string_view amount) {
  return quote_request{.spend_asset = d.spend_asset,
                       .receive_asset = d.receive_asset,
                       .side = amount_side::receive,
                       .amount = dec(amount)};
}

TEST(OnekPricing, SeedSwapSample) {
  const wall_time at{1673793015000ms};
  auto q = price_rate_table(btc_usdt(), spend(btc_usdt(), "0.01"), at);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->provider, "onek");
  EXPECT_EQ(q->direction_code, "BTC-USDT");
  EXPECT_EQ(q->side, amount_side::spend);
  EXPECT_EQ(q->spend_amount, dec("0.01"));
  EXPECT_EQ(q->receive_gross, dec("294.8525"));
  EXPECT_EQ(q->fee, dec("0.73713125"));
  EXPECT_EQ(q->fee_asset, "USDT");
  EXPECT_EQ(q->receive_net, dec("294.115368"));
  EXPECT_EQ(q->model, pricing_model::rate_table);
  EXPECT_FALSE(q->firm);
  EXPECT_EQ(q->obtained_at, at);
  EXPECT_EQ(q->valid_until, std::nullopt);
}

TEST(OnekPricing, SpendRoundedDownToPrecision) {
  auto q = price_rate_table(btc_usdt(), spend(btc_usdt(), "0.0100000099"), {});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->spend_amount, dec("0.01"));
  EXPECT_EQ(q->receive_net, dec("294.115368"));

  q = price_rate_table(usdt_btc(), spend(usdt_btc(), "100"), {});
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->receive_gross, dec("0.003391526271610381"));
  EXPECT_EQ(q->fee, dec("0.000008478815679026"));
  EXPECT_EQ(q->receive_net, dec("0.00338304"));
}

// Exact receive: the amount is the net wanted; the quote prices the gross submit() sends (the
// smallest at receive_precision whose net covers it) and the spend 001k charges for that gross.
TEST(OnekPricing, ExactReceivePricesTheGrossThatCoversTheNet) {
  auto q = price_rate_table(btc_usdt(), receive(btc_usdt(), "294.115368"), {});
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->side, amount_side::receive);
  EXPECT_EQ(q->spend_amount, dec("0.01"));
  EXPECT_EQ(q->receive_gross, dec("294.8525"));
  EXPECT_EQ(q->fee, dec("0.73713125"));
  EXPECT_EQ(q->receive_net, dec("294.115368"));

  // 0.00501253 would net 0.00499999; the spend is 0.00501254 x 29485.25 rounded up to 6 places.
  q = price_rate_table(usdt_btc(), receive(usdt_btc(), "0.005"), {});
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->receive_gross, dec("0.00501254"));
  EXPECT_EQ(q->fee, dec("0.00001253135"));
  EXPECT_EQ(q->receive_net, dec("0.005"));
  EXPECT_EQ(q->spend_amount, dec("147.795996"));

  // A receive finer than the precision is rounded up: 294.1153601 needs 294.115361.
  q = price_rate_table(btc_usdt(), receive(btc_usdt(), "294.1153601"), {});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->receive_gross, dec("294.852493"));
  EXPECT_EQ(q->receive_net, dec("294.115361"));

  // Property over many targets: the gross is at receive_precision, covers the target and one unit
  // less would not; the spend is the smallest whose own gross reaches it.
  for (const direction& d : {btc_usdt(), usdt_btc()}) {
    const decimal unit_receive =
        decimal::from_raw(d.receive_precision == 8 ? 10000000000 : 1000000000000);
    const decimal unit_spend =
        decimal::from_raw(d.spend_precision == 8 ? 10000000000 : 1000000000000);
    for (std::string_view target : {"30", "31.5", "100.000001", "1234.567891", "29000.1", "0.0011",
                                    "0.00123457", "1.7", "9.99999999"}) {
      auto wanted = price_rate_table(d, receive(d, target), {});
      if (!wanted) {
        EXPECT_EQ(wanted.error().kind, error_kind::rejected) << d.code << " " << target;
        continue;
      }
      const decimal gross = wanted->receive_gross;
      EXPECT_EQ(gross.round(d.receive_precision, rounding::down), gross) << d.code << " " << target;
      EXPECT_GE(wanted->receive_net, dec(target)) << d.code << " " << target;
      EXPECT_EQ(wanted->receive_net,
                (gross - wanted->fee).round(d.receive_precision, rounding::down));
      const decimal less = gross - unit_receive;
      const decimal less_fee = less.mul_div(d.fee_percent, dec("100"), rounding::up).value();
      EXPECT_LT((less - less_fee).round(d.receive_precision, rounding::down), dec(target))
          << d.code << " " << target;
      const decimal spend_gross =
          wanted->spend_amount.mul_div(d.receive_rate_value, d.spend_rate_value, rounding::down)
              .value();
      EXPECT_GE(spend_gross, gross) << d.code << " " << target;
      const decimal below = (wanted->spend_amount - unit_spend)
                                .mul_div(d.receive_rate_value, d.spend_rate_value, rounding::down)
                                .value();
      EXPECT_LT(below, gross) << d.code << " " << target;
      // Spending the charged amount outright would net at least as much.
      auto forward = price_rate_table(d, spend(d, wanted->spend_amount.to_string()), {});
      ASSERT_TRUE(forward.has_value());
      EXPECT_GE(forward->receive_net, wanted->receive_net);
    }
  }
}

// The planner prices 001k from pricing_of(direction); it must agree with what the adapter quotes
// (and the emulator settles) to the last digit.
TEST(OnekPricing, PlannerModelAgreesWithTheAdapterQuote) {
  std::mt19937_64 rng(42);
  for (const direction& d : {btc_usdt(), usdt_btc()}) {
    const pricing model = pricing_of(d, {});
    EXPECT_EQ(model.model, pricing_model::rate_table);
    EXPECT_TRUE(model.exact_receive);
    for (int i = 0; i < 2000; ++i) {
      const decimal low = d.min_spend;
      const decimal high = d.max_spend.value_or(decimal::from_int(1000));
      const auto span = static_cast<std::uint64_t>((high - low).raw() / 1'000'000'000);
      const decimal amount =
          low + decimal::from_raw(static_cast<int128>(rng() % (span + 1)) * 1'000'000'000);
      auto q = price_rate_table(d, spend(d, amount.to_string()), {});
      auto p = price_spend(model, amount);
      ASSERT_EQ(q.has_value(), p.has_value()) << d.code << " " << amount.to_string();
      if (!q) continue;
      EXPECT_EQ(p->spend, q->spend_amount) << d.code << " " << amount.to_string();
      EXPECT_EQ(p->gross, q->receive_gross) << d.code << " " << amount.to_string();
      EXPECT_EQ(p->net, q->receive_net) << d.code << " " << amount.to_string();
    }
  }
}

TEST(OnekPricing, Limits) {
  const auto rejected = [](const direction& d, const quote_request& r, std::string_view why) {
    auto q = price_rate_table(d, r, {});
    ASSERT_FALSE(q.has_value());
    EXPECT_EQ(q.error().kind, error_kind::rejected);
    EXPECT_THAT(q.error().message, HasSubstr(why));
  };
  const direction d = btc_usdt();
  rejected(d, spend(d, "0.00099999"), "below min_spend_amount");
  rejected(d, spend(d, "10.00000001"), "above max_spend_amount");
  rejected(d, spend(d, "0.000000001"), "rounds to 0");
  ASSERT_TRUE(price_rate_table(d, spend(d, "0.001"), {}).has_value());
  ASSERT_TRUE(price_rate_table(d, spend(d, "10"), {}).has_value());
  // The receive limits apply to the gross.
  direction tight = d;
  tight.min_spend = decimal{};
  tight.max_spend.reset();
  tight.min_receive = dec("300");
  rejected(tight, spend(tight, "0.01"), "below min_receive_amount");
  tight.min_receive = dec("294.8525");
  EXPECT_TRUE(price_rate_table(tight, spend(tight, "0.01"), {}).has_value());
  tight.max_receive = dec("294.85");
  rejected(tight, spend(tight, "0.01"), "above max_receive_amount");
  // No max: no limit.
  tight.max_receive.reset();
  tight.min_receive = decimal{};
  EXPECT_TRUE(price_rate_table(tight, spend(tight, "1000"), {}).has_value());
  // Exact receive beyond the limits.
  rejected(d, receive(d, "300000"), "above max_spend_amount");

  direction disabled = d;
  disabled.enabled = false;
  rejected(disabled, spend(d, "0.01"), "disabled");
  direction zero_rate = d;
  zero_rate.spend_rate_value = decimal{};
  rejected(zero_rate, spend(d, "0.01"), "unusable");

  auto wrong = price_rate_table(d, spend(usdt_btc(), "100"), {});
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().kind, error_kind::invalid_argument);
  auto negative = price_rate_table(d, spend(d, "-1"), {});
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().kind, error_kind::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// client against a scripted http_client

// Answers GET /status itself (with the next of `status_times`, else `server_time_ms`) and every
// other request with the next scripted answer; records everything sent.
class scripted_http final : public http_client {
 public:
  boost::asio::awaitable<result<http_response>> send(http_request request,
                                                     std::chrono::steady_clock::duration) override {
    sent.push_back(request);
    if (request.target == "/api/v1/status") {
      std::int64_t now = server_time_ms;
      if (!status_times.empty()) {
        now = status_times.front();
        status_times.pop_front();
      }
      co_return http_response{
          .status = 200, .headers = {}, .body = fmt::format(R"({{"timestamp": {}}})", now)};
    }
    if (script.empty()) co_return fail(error_kind::internal, "unscripted " + request.target);
    auto next = std::move(script.front());
    script.pop_front();
    co_return next;
  }
  boost::asio::awaitable<void> warm(std::size_t) override { co_return; }
  http_client_stats stats() const override { return {}; }
  const http_endpoint& endpoint() const override { return endpoint_; }

  void answer(int status, std::string body, http_headers headers = {}) {
    script.emplace_back(
        http_response{.status = status, .headers = std::move(headers), .body = std::move(body)});
  }
  void fail_with(error_kind kind) { script.emplace_back(fail(kind, "scripted transport error")); }

  // Requests other than GET /status.
  std::vector<http_request> calls() const {
    std::vector<http_request> out;
    for (const auto& r : sent) {
      if (r.target != "/api/v1/status") out.push_back(r);
    }
    return out;
  }
  std::size_t count(std::string_view target) const {
    std::size_t n = 0;
    for (const auto& r : sent) n += r.target == target ? 1 : 0;
    return n;
  }

  std::vector<http_request> sent;
  std::deque<result<http_response>> script;
  std::deque<std::int64_t> status_times;
  std::int64_t server_time_ms = server_ms;

 private:
  http_endpoint endpoint_;
};

constexpr std::string_view directions_body = R"([
{"code":"BTC-USDT","spend_currency":"BTC","receive_currency":"USDT","is_enabled":true,
 "spend_precision":8,"receive_precision":6,"fee_percent":"0.25","min_spend_amount":"0.00100000",
 "max_spend_amount":"10.00000000","min_receive_amount":"29.485250",
 "max_receive_amount":"294852.500000","spend_rate_value":"1","receive_rate_value":"29485.25"}])";

class OnekClient : public ::testing::Test {
 protected:
  OnekClient() {
    // Our wall clock is 2.5 s behind the provider's: signatures must use the provider's.
    wall_ = wall_time{std::chrono::milliseconds(server_ms) - 2500ms};
    options_.callback_url = "https://example.com/callbacks/swaps";
  }

  client& make() {
    client_clocks clocks;
    clocks.wall = [this] { return wall_; };
    clocks.steady = [this] { return steady_; };
    client_.emplace(http_, std::string(test_access_key), hmac_sha256(test_secret), options_,
                    clocks);
    return *client_;
  }

  static leg btc_leg(std::string_view amount = "0.01") {
    leg l;
    l.provider = "onek";
    l.direction_code = "BTC-USDT";
    l.spend_asset = "BTC";
    l.receive_asset = "USDT";
    l.side = amount_side::spend;
    l.amount = dec(amount);
    l.time_to_live = 30000ms;
    return l;
  }

  static void expect_signed(const http_request& r, std::string_view timestamp) {
    EXPECT_EQ(find_header(r.headers, "X-Access-Key"), test_access_key);
    EXPECT_EQ(find_header(r.headers, "X-Timestamp"), timestamp);
    // The path component only: a GET's query is not signed.
    const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    EXPECT_EQ(find_header(r.headers, "X-Signature"), openssl_signature(path, timestamp, r.body));
  }

  scripted_http http_;
  wall_time wall_;
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  client_options options_;
  std::optional<client> client_;
};

TEST_F(OnekClient, Traits) {
  client& c = make();
  EXPECT_EQ(c.id(), "onek");
  const venue_traits t = c.traits();
  EXPECT_FALSE(t.firm_quotes);
  EXPECT_TRUE(t.cancel);
  EXPECT_TRUE(t.client_id);
  EXPECT_TRUE(t.exact_receive);
}

TEST_F(OnekClient, SignsWithTheProviderClock) {
  client& c = make();
  http_.answer(200, std::string(samples::seed_balances));
  auto balances = run(c.balances());
  ASSERT_TRUE(balances.has_value()) << balances.error().message;
  EXPECT_EQ(balances->size(), 3u);
  EXPECT_EQ(c.clock_offset(), 2500ms);
  ASSERT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(http_.sent[0].target, "/api/v1/status");
  EXPECT_EQ(find_header(http_.sent[0].headers, "X-Signature"), "");
  const http_request& r = http_.sent[1];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/api/v1/balance");
  EXPECT_THAT(r.headers,
              ElementsAre(Pair("Accept", "application/json"), Pair("X-Access-Key", "ak_test_0001"),
                          Pair("X-Timestamp", "1676541877000"),
                          Pair("X-Signature",
                               "e3c35fd0c18446e2e4ec26e7a043bcd96b82364778b5d765309a"
                               "90e1c12ff9e1")));
}

struct mapping_case {
  int status;
  std::string body;
  http_headers headers;
  error_kind kind;
  std::string provider_code;
};

TEST_F(OnekClient, ErrorMappingOnReads) {
  const std::vector<mapping_case> cases = {
      {401,
       R"({"code":"signature.invalid","message":"The signature does not match"})",
       {},
       error_kind::auth,
       "signature.invalid"},
      {401,
       R"({"code":"access_key.invalid","message":"x"})",
       {},
       error_kind::auth,
       "access_key.invalid"},
      {403,
       R"({"code":"access_key.ip_whitelist","message":"x"})",
       {},
       error_kind::auth,
       "access_key.ip_whitelist"},
      {403, "Forbidden", {}, error_kind::auth, ""},
      {400,
       R"({"code":"validation.invalid","message":"bad"})",
       {},
       error_kind::rejected,
       "validation.invalid"},
      {422, R"({"code":"x","message":"y"})", {}, error_kind::rejected, "x"},
      {400, "<html>bad request</html>", {}, error_kind::rejected, ""},
      {404, R"({"code":"not_found","message":"no"})", {}, error_kind::not_found, "not_found"},
      {500, R"({"code":"internal","message":"boom"})", {}, error_kind::http_status, "internal"},
      {503, "", {}, error_kind::http_status, ""},
      {429,
       R"({"code":"rate_limit.exceeded","message":"slow down"})",
       {{"Retry-After", "7"}},
       error_kind::rate_limited,
       "rate_limit.exceeded"},
  };
  for (const mapping_case& m : cases) {
    http_ = scripted_http{};
    client& c = make();
    http_.answer(m.status, m.body, m.headers);
    auto r = run(c.balances());
    ASSERT_FALSE(r.has_value()) << m.status;
    EXPECT_EQ(r.error().kind, m.kind) << m.status << " " << m.body;
    EXPECT_EQ(r.error().provider_code, m.provider_code) << m.status;
    EXPECT_EQ(r.error().http_status, m.status);
    EXPECT_FALSE(r.error().may_have_reached);
    EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr("ak_test_0001")));
    EXPECT_EQ(http_.count("/api/v1/balance"), 1u) << m.status;
  }
  // Transport errors pass through on reads.
  http_ = scripted_http{};
  client& c = make();
  http_.fail_with(error_kind::timeout);
  auto r = run(c.balances());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, error_kind::timeout);
}

TEST_F(OnekClient, TooManyRequestsOpensTheCircuit) {
  client& c = make();
  http_.answer(429, R"({"code":"rate_limit.exceeded","message":"slow down"})",
               {{"Retry-After", "7"}});
  auto first = run(c.balances());
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().kind, error_kind::rate_limited);
  EXPECT_EQ(first.error().retry_after_seconds, 7);
  EXPECT_EQ(c.circuit(), circuit_state::open);

  // The whole provider is closed: another endpoint fails fast, nothing is sent.
  const std::size_t sent = http_.sent.size();
  auto second = run(c.directions());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, error_kind::circuit_open);
  EXPECT_EQ(second.error().retry_after_seconds, 7);
  EXPECT_FALSE(second.error().may_have_reached);
  auto open = run(c.submit(btc_leg(), "my-swap-123"));
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().kind, error_kind::circuit_open);
  EXPECT_EQ(http_.sent.size(), sent);

  // After Retry-After one probe goes out; its success closes the circuit.
  steady_ += 7s;
  http_.answer(200, std::string(samples::seed_balances));
  auto third = run(c.balances());
  ASSERT_TRUE(third.has_value()) << third.error().message;
  EXPECT_EQ(c.circuit(), circuit_state::closed);
}

TEST_F(OnekClient, TimestampRejectionResyncsAndRetriesOnce) {
  client& c = make();
  http_.status_times = {server_ms, server_ms + 60000};
  http_.answer(401, R"({"code":"timestamp.invalid","message":"too far"})");
  http_.answer(200, std::string(samples::seed_balances));
  auto r = run(c.balances());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(http_.sent.size(), 4u);
  EXPECT_EQ(http_.sent[0].target, "/api/v1/status");
  expect_signed(http_.sent[1], "1676541877000");
  EXPECT_EQ(http_.sent[2].target, "/api/v1/status");
  // The old offset was dropped: the retry is signed on the provider's new clock.
  expect_signed(http_.sent[3], "1676541937000");
  EXPECT_EQ(c.clock_offset(), 62500ms);

  // A second rejection in a row is returned, not retried again.
  http_.answer(401, R"({"code":"timestamp.invalid","message":"too far"})");
  http_.answer(401, R"({"code":"timestamp.invalid","message":"still"})");
  auto again = run(c.balances());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, error_kind::auth);
  EXPECT_EQ(again.error().provider_code, "timestamp.invalid");
  EXPECT_EQ(http_.count("/api/v1/balance"), 4u);
  EXPECT_EQ(http_.count("/api/v1/status"), 3u);
}

TEST_F(OnekClient, SubmitSendsTheExactSwap) {
  client& c = make();
  http_.answer(200, std::string(directions_body));
  http_.answer(200, std::string(samples::seed_open_swap));
  auto r = run(c.submit(btc_leg("0.0100000099"), "my-swap-123"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->state, leg_state::open);
  EXPECT_EQ(r->ref.provider_ref, "SWP123456");
  EXPECT_EQ(r->ref.client, "my-swap-123");
  EXPECT_EQ(r->valid_until, wall_time{1673793045000ms});
  const auto calls = http_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].target, "/api/v1/swap-directions");
  const http_request& open = calls[1];
  EXPECT_EQ(open.method, "POST");
  EXPECT_EQ(open.target, "/api/v1/swap/open");
  // Rounded down to the direction's 8 places.
  EXPECT_EQ(open.body,
            R"({"direction":"BTC-USDT","spend_amount":"0.01000000",)"
            R"("callback_url":"https://example.com/callbacks/swaps","custom_id":"my-swap-123",)"
            R"("time_to_live":30000})");
  expect_signed(open, "1676541877000");
  EXPECT_EQ(find_header(open.headers, "Content-Type"), "application/json");
}

TEST_F(OnekClient, SubmitAmbiguousOutcomesAreNeverResent) {
  struct ambiguous {
    std::optional<int> status;  // nullopt: transport error
    std::string body;
    error_kind transport = error_kind::timeout;
    bool may_have_reached = true;
  };
  const std::vector<ambiguous> cases = {
      {500, R"({"code":"internal","message":"boom"})"},
      {502, "<html>Bad Gateway</html>"},
      {503, ""},
      {std::nullopt, "", error_kind::timeout},
      {std::nullopt, "", error_kind::reset},
      {std::nullopt, "", error_kind::truncated},
      {std::nullopt, "", error_kind::connect, false},
      {400, R"({"code":"gateway.timeout","message":"upstream"})"},
      {400, R"({"code":"error","message":"Request timed out"})"},
      {400, "timeout"},
      {404, R"({"code":"not_found","message":"?"})"},
      {401, "Unauthorized"},
      {409, R"({"code":"conflict","message":"?"})"},
      {200, "{not json"},
      {200, R"({"code":"SWP1"})"},
      {201, std::string(samples::seed_swap_list)},
  };
  for (const ambiguous& a : cases) {
    http_ = scripted_http{};
    client& c = make();
    http_.answer(200, std::string(directions_body));
    if (a.status) {
      http_.answer(*a.status, a.body);
    } else {
      http_.fail_with(a.transport);
    }
    auto r = run(c.submit(btc_leg(), "my-swap-123"));
    ASSERT_FALSE(r.has_value()) << a.body;
    EXPECT_EQ(r.error().kind, error_kind::unknown_outcome)
        << a.status.value_or(0) << " " << a.body << ": " << r.error().message;
    EXPECT_EQ(r.error().may_have_reached, a.may_have_reached) << a.body;
    EXPECT_EQ(http_.count("/api/v1/swap/open"), 1u) << a.body;
  }
}

TEST_F(OnekClient, SubmitDefiniteAnswers) {
  struct definite {
    int status;
    std::string body;
    error_kind kind;
  };
  const std::vector<definite> cases = {
      {400, R"({"code":"insufficient_funds","message":"Not enough BTC"})", error_kind::rejected},
      {422, R"({"code":"validation.invalid","message":"spend_amount below minimum"})",
       error_kind::rejected},
      {401, R"({"code":"signature.invalid","message":"The signature does not match"})",
       error_kind::auth},
      {403, R"({"code":"access_key.inactive","message":"disabled"})", error_kind::auth},
      {429, R"({"code":"rate_limit.exceeded","message":"slow"})", error_kind::rate_limited},
  };
  for (const definite& d : cases) {
    http_ = scripted_http{};
    client& c = make();
    http_.answer(200, std::string(directions_body));
    http_.answer(d.status, d.body);
    auto r = run(c.submit(btc_leg(), "my-swap-123"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, d.kind) << d.body;
    EXPECT_FALSE(r.error().may_have_reached);
    EXPECT_EQ(http_.count("/api/v1/swap/open"), 1u);
  }
}

TEST_F(OnekClient, SubmitInconsistentAnswerIsUnknown) {
  client& c = make();
  http_.answer(200, std::string(directions_body));
  http_.answer(200, std::string(samples::seed_open_swap));
  auto r = run(c.submit(btc_leg(), "another-id"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, error_kind::unknown_outcome);
  EXPECT_THAT(r.error().message, HasSubstr("inconsistent"));
  EXPECT_TRUE(r.error().may_have_reached);
}

TEST_F(OnekClient, SubmitTimestampRejectionIsResignedOnce) {
  client& c = make();
  http_.status_times = {server_ms, server_ms + 3000};
  http_.answer(200, std::string(directions_body));
  http_.answer(401, R"({"code":"timestamp.invalid","message":"too far"})");
  http_.answer(200, std::string(samples::seed_open_swap));
  auto r = run(c.submit(btc_leg(), "my-swap-123"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto calls = http_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].target, "/api/v1/swap/open");
  EXPECT_EQ(calls[2].target, "/api/v1/swap/open");
  EXPECT_EQ(calls[1].body, calls[2].body);
  expect_signed(calls[1], "1676541877000");
  expect_signed(calls[2], "1676541880000");
}

TEST_F(OnekClient, SubmitRefusesLocallyWithoutSending) {
  client& c = make();
  http_.answer(200, std::string(directions_body));
  auto unknown = run(c.submit(
      [] {
        leg l = btc_leg();
        l.direction_code = "ETH-USDT";
        return l;
      }(),
      "id-1"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().kind, error_kind::rejected);
  auto dust = run(c.submit(btc_leg("0.000000001"), "id-2"));
  ASSERT_FALSE(dust.has_value());
  EXPECT_EQ(dust.error().kind, error_kind::invalid_argument);
  auto bad_id = run(c.submit(btc_leg(), "has space"));
  ASSERT_FALSE(bad_id.has_value());
  EXPECT_EQ(bad_id.error().kind, error_kind::invalid_argument);
  EXPECT_EQ(http_.count("/api/v1/swap/open"), 0u);
}

// The leg fixes the net (294.1 USDT); POST /swap/open carries the gross whose net covers it:
// 294.837093 - 0.7370927325 = 294.1000002675, rounded down 294.100000 (294.837092 would net
// 294.099999).
TEST_F(OnekClient, ExactReceiveSubmitSendsTheGrossForTheNet) {
  std::string created(samples::seed_open_swap);
  created.replace(created.find(R"("direction")"), 0, R"("amount_parameter": "receive", )");
  created.replace(created.find("294.85250000"), 12, "294.837093");
  created.replace(created.find("0.73713125"), 10, "0.7370927325");
  leg l = btc_leg();
  l.side = amount_side::receive;
  l.amount = dec("294.1");

  client& c = make();
  http_.answer(200, std::string(directions_body));
  http_.answer(200, created);
  auto r = run(c.submit(l, "my-swap-123"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->receive_amount, dec("294.837093"));
  EXPECT_EQ(http_.calls().back().body,
            R"({"direction":"BTC-USDT","receive_amount":"294.837093",)"
            R"("callback_url":"https://example.com/callbacks/swaps","custom_id":"my-swap-123",)"
            R"("time_to_live":30000})");

  // The answer must echo the gross sent...
  std::string other_gross(created);
  other_gross.replace(other_gross.find("294.837093"), 10, "294.837094");
  http_.answer(200, other_gross);
  auto wrong = run(c.submit(l, "my-swap-123"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().kind, error_kind::unknown_outcome);
  EXPECT_THAT(wrong.error().message, HasSubstr("gross"));

  // ...and net at least what the leg wants.
  std::string bigger_fee(created);
  bigger_fee.replace(bigger_fee.find("0.7370927325"), 12, "0.7370940000");
  http_.answer(200, bigger_fee);
  auto short_net = run(c.submit(l, "my-swap-123"));
  ASSERT_FALSE(short_net.has_value());
  EXPECT_EQ(short_net.error().kind, error_kind::unknown_outcome);
  EXPECT_THAT(short_net.error().message, HasSubstr("net"));
  // A fee charged in the spend currency (BTC here) does not come off the receive.
  std::string spend_fee(bigger_fee);
  spend_fee.replace(spend_fee.find(R"("fee_currency": "USDT")"), 22, R"("fee_currency": "BTC")");
  http_.answer(200, spend_fee);
  auto whole_net = run(c.submit(l, "my-swap-123"));
  ASSERT_TRUE(whole_net.has_value()) << whole_net.error().message;
  EXPECT_EQ(whole_net->receive_amount, dec("294.837093"));

  // find() accepts the swap by its net: the gross sent depended on the fee at the time.
  std::string listed = "[" + created + "]";
  http_.answer(200, listed);
  auto found = run(c.find("my-swap-123", l, {}));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, "SWP123456");
  leg more = l;
  more.amount = dec("294.100001");
  http_.answer(200, listed);
  auto short_find = run(c.find("my-swap-123", more, {}));
  ASSERT_FALSE(short_find.has_value());
  EXPECT_THAT(short_find.error().message, HasSubstr("inconsistent"));
}

TEST_F(OnekClient, FindByCustomId) {
  client& c = make();
  http_.answer(200, "[]");
  auto none = run(c.find("intent-7-leg-0", btc_leg(), {}));
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_EQ(*none, std::nullopt);
  const http_request list = http_.calls().back();
  EXPECT_EQ(list.method, "GET");
  EXPECT_EQ(list.target, "/api/v1/swap?custom_id=intent-7-leg-0&limit=2");
  expect_signed(list, "1676541877000");

  http_.answer(200, std::string(samples::seed_swap_list));
  auto one = run(c.find("my-swap-123", btc_leg(), {}));
  ASSERT_TRUE(one.has_value()) << one.error().message;
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->state, leg_state::filled);
  EXPECT_EQ((*one)->ref.provider_ref, "SWP123456");
}

TEST_F(OnekClient, FindRefusesInconsistentRecords) {
  client& c = make();
  std::string swap_object(samples::seed_swap_list);
  swap_object = swap_object.substr(1, swap_object.rfind(']') - 1);
  http_.answer(200, "[" + swap_object + "," + swap_object + "]");
  auto two = run(c.find("my-swap-123", btc_leg(), {}));
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().kind, error_kind::bad_response);
  EXPECT_THAT(two.error().message, HasSubstr("inconsistent"));

  leg other = btc_leg();
  other.direction_code = "USDT-BTC";
  http_.answer(200, std::string(samples::seed_swap_list));
  auto direction = run(c.find("my-swap-123", other, {}));
  ASSERT_FALSE(direction.has_value());
  EXPECT_THAT(direction.error().message, HasSubstr("inconsistent"));

  http_.answer(200, std::string(samples::seed_swap_list));
  auto amount = run(c.find("my-swap-123", btc_leg("0.02"), {}));
  ASSERT_FALSE(amount.has_value());
  EXPECT_THAT(amount.error().message, HasSubstr("inconsistent"));

  http_.answer(200, std::string(samples::seed_swap_list));
  auto id = run(c.find("my-swap-124", btc_leg(), {}));
  ASSERT_FALSE(id.has_value());
  EXPECT_THAT(id.error().message, HasSubstr("inconsistent"));

  http_.answer(500, "");
  auto failed = run(c.find("my-swap-123", btc_leg(), {}));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, error_kind::http_status);
}

TEST_F(OnekClient, StatusAndCancel) {
  client& c = make();
  std::string swap_object(samples::seed_swap_list);
  swap_object = swap_object.substr(1, swap_object.rfind(']') - 1);
  http_.answer(200, swap_object);
  auto status = run(c.status(leg_ref{.provider_ref = "SWP123456", .client = "my-swap-123"}));
  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ(status->state, leg_state::filled);
  EXPECT_EQ(http_.calls().back().target, "/api/v1/swap/SWP123456");
  expect_signed(http_.calls().back(), "1676541877000");

  http_.answer(404, R"({"code":"not_found","message":"no such swap"})");
  auto missing = run(c.status(leg_ref{.provider_ref = "SWP999", .client = ""}));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, error_kind::not_found);

  std::string cancelled(samples::seed_open_swap);
  cancelled.replace(cancelled.find(R"("done_at": null)"), 15,
                    R"("done_at": null, "cancel_requested_at": "2023-01-15T14:30:20Z")");
  http_.answer(200, cancelled);
  auto cancel = run(c.cancel(leg_ref{.provider_ref = "SWP123456", .client = "my-swap-123"}));
  ASSERT_TRUE(cancel.has_value()) << cancel.error().message;
  EXPECT_EQ(cancel->state, leg_state::open);
  EXPECT_EQ(cancel->cancel_requested_at, wall_time{1673793020000ms});
  const http_request request = http_.calls().back();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v1/swap/cancel");
  EXPECT_EQ(request.body, R"({"code":"SWP123456"})");
  expect_signed(request, "1676541877000");

  auto bad = run(c.status(leg_ref{.provider_ref = "../balance", .client = ""}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, error_kind::invalid_argument);
}

TEST_F(OnekClient, LocalBudgetRefusesWithoutSending) {
  client& c = make();
  // /swap-directions: 30 per minute, as a burst of 10 and one more every 3 s.
  for (int i = 0; i < 10; ++i) {
    http_.answer(200, std::string(directions_body));
    ASSERT_TRUE(run(c.directions()).has_value()) << i;
  }
  auto refused = run(c.directions());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::rate_limited);
  EXPECT_EQ(refused.error().retry_after_seconds, 3);
  EXPECT_FALSE(refused.error().may_have_reached);
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 10u);
  // Other endpoints have their own buckets; the local refusal does not open the circuit.
  EXPECT_EQ(c.circuit(), circuit_state::closed);
  steady_ += 3s;
  http_.answer(200, std::string(directions_body));
  EXPECT_TRUE(run(c.directions()).has_value());
}

TEST_F(OnekClient, PriceUsesCachedDirections) {
  options_.directions_max_age = 10s;
  client& c = make();
  http_.answer(200, std::string(directions_body));
  const quote_request request{.spend_asset = "BTC",
                              .receive_asset = "USDT",
                              .side = amount_side::spend,
                              .amount = dec("0.01")};
  auto first = run(c.price(request));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->receive_net, dec("294.115368"));
  EXPECT_EQ(first->obtained_at, wall_time{std::chrono::milliseconds(server_ms)});
  EXPECT_EQ(first->valid_until, wall_time{std::chrono::milliseconds(server_ms) + 10s});
  auto second = run(c.price(request));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 1u);

  steady_ += 11s;
  http_.answer(200, std::string(directions_body));
  ASSERT_TRUE(run(c.price(request)).has_value());
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 2u);

  auto none = run(c.price(quote_request{.spend_asset = "ETH",
                                        .receive_asset = "USDT",
                                        .side = amount_side::spend,
                                        .amount = dec("1")}));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, error_kind::rejected);

  http_.answer(200, "not json");
  steady_ += 11s;
  auto broken = run(c.price(request));
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().kind, error_kind::bad_response);
}

// A price read from a listing near the end of its validity (obtained + directions_max_age, 4 s)
// would have less left than a provider's p95 execution latency, and the planner would refuse it:
// within directions_refresh_lead (1 s) of that end, a price lists the directions again.
TEST_F(OnekClient, APriceRefreshesTheListingWithinTheLeadOfItsValidity) {
  client& c = make();
  const quote_request request{.spend_asset = "BTC",
                              .receive_asset = "USDT",
                              .side = amount_side::spend,
                              .amount = dec("0.01")};
  http_.answer(200, std::string(directions_body));
  auto first = run(c.pricing_for(request));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->valid_until, wall_time{std::chrono::milliseconds(server_ms) + 4s});
  steady_ += 3s;
  ASSERT_TRUE(run(c.pricing_for(request)).has_value());
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 1u) << "3 s old: 1 s of validity left";
  steady_ += 1ms;
  http_.answer(200, std::string(directions_body));
  ASSERT_TRUE(run(c.pricing_for(request)).has_value());
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 2u) << "less than 1 s left: listed again";
  steady_ += 3001ms;
  http_.answer(200, std::string(directions_body));
  ASSERT_TRUE(run(c.price(request)).has_value());
  EXPECT_EQ(http_.count("/api/v1/swap-directions"), 3u) << "price() refreshes as pricing_for()";
}

// FAULTS.md 25 on the receive side: the gross sent is the smallest whose net covers the leg, so a
// listed swap whose net is a unit or more beyond it is another amount, never adopted; before and
// after the directions are read (a restart finds before anything is priced).
TEST_F(OnekClient, FindNeverAdoptsAReceiveSwapOfAnotherAmount) {
  const auto listed = [](std::string_view gross, std::string_view fee) {
    std::string created(samples::seed_open_swap);
    created.replace(created.find(R"("direction")"), 0, R"("amount_parameter": "receive", )");
    created.replace(created.find("294.85250000"), 12, gross);
    created.replace(created.find("0.73713125"), 10, fee);
    return "[" + created + "]";
  };
  leg l = btc_leg();
  l.side = amount_side::receive;
  l.amount = dec("294.1");
  client& c = make();
  for (const bool directions_read : {false, true}) {
    SCOPED_TRACE(directions_read);
    if (directions_read) {
      http_.answer(200, std::string(directions_body));
      ASSERT_TRUE(run(c.directions()).has_value());
    }
    // The gross submit() sends for 294.1 net (ExactReceiveSubmitSendsTheGrossForTheNet).
    http_.answer(200, listed("294.837093", "0.7370927325"));
    auto same = run(c.find("my-swap-123", l, {}));
    ASSERT_TRUE(same.has_value()) << same.error().message;
    ASSERT_TRUE(same->has_value());
    // Twice the amount: 588.2 net for a leg of 294.1.
    http_.answer(200, listed("589.674186", "1.474185465"));
    auto twice = run(c.find("my-swap-123", l, {}));
    ASSERT_FALSE(twice.has_value()) << "adopted " << (*twice)->receive_amount.to_string();
    EXPECT_EQ(twice.error().kind, error_kind::bad_response);
    EXPECT_THAT(twice.error().message, HasSubstr("inconsistent"));
    // One unit of gross more than submit() sends is another amount too.
    http_.answer(200, listed("294.837094", "0.737092735"));
    auto unit_more = run(c.find("my-swap-123", l, {}));
    ASSERT_FALSE(unit_more.has_value());
    EXPECT_THAT(unit_more.error().message, HasSubstr("inconsistent"));
  }
}

// FAULTS.md 25 "another pair": a record whose currencies are not the leg's is not adopted, even
// under the leg's direction code.
TEST_F(OnekClient, FindNeverAdoptsASwapOfAnotherPair) {
  client& c = make();
  std::string other(samples::seed_swap_list);
  const std::string usdt = R"("receive_currency": "USDT")";
  other.replace(other.find(usdt), usdt.size(), R"("receive_currency": "USDC")");
  http_.answer(200, other);
  auto found = run(c.find("my-swap-123", btc_leg(), {}));
  ASSERT_FALSE(found.has_value()) << "adopted " << (*found)->ref.provider_ref;
  EXPECT_EQ(found.error().kind, error_kind::bad_response);
  EXPECT_THAT(found.error().message, HasSubstr("inconsistent"));
  // The same record with the leg's pair is adopted.
  http_.answer(200, std::string(samples::seed_swap_list));
  auto same = run(c.find("my-swap-123", btc_leg(), {}));
  ASSERT_TRUE(same.has_value()) << same.error().message;
  ASSERT_TRUE(same->has_value());
}

}  // namespace
}  // namespace swaprouter::onek
