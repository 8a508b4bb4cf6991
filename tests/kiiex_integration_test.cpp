// The real KIIEX client against the real KIIEX emulator over loopback TLS: one io_context runs
// both. Prices are fixed (volatility 0, USDT-COPM pinned at 4000), so every amount is exact.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "adapters/kiiex/client.hpp"
#include "adapters/kiiex/emulator.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/cert_authority.hpp"
#include "engine/hmac.hpp"
#include "engine/http.hpp"
#include "engine/json_read.hpp"
#include "tests/support/loopback_tls.hpp"
#include "tests/support/request_log.hpp"
#include "tests/support/run_task.hpp"
#include "tests/support/run_together.hpp"

namespace swaprouter::kiiex {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view test_key = "kiiex-it-key";
constexpr std::string_view test_secret = "kiiex-it-secret";

constexpr std::string_view scenario_yaml = R"(
seed: 7
volatility: 0
tick_ms: 0
rates:
  USDT-COPM: "4000"
providers:
  kiiex:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    min_spend_usd: "1"
    directions: [USDT-COPM]
    balances: {USDT: "100000", COPM: "100000000"}
    credentials:
      - access_key: kiiex-it-key
        secret: kiiex-it-secret
    fill_delay_ms: 100
)";

using test_support::test_ca;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

decimal tolerant(decimal net) { return net.mul(dec("0.999"), rounding::down).value(); }

class KiiexIntegration : public ::testing::Test {
 protected:
  KiiexIntegration()
      : scenario_(sim::parse_scenario(scenario_yaml, "kiiex_integration_test")),
        config_(*scenario_.find_provider("kiiex")) {}

  ~KiiexIntegration() override {
    client_.reset();
    http_.reset();
    if (emulator_) emulator_->stop();
    if (server_) server_->stop();
    io_.restart();
    io_.run_for(500ms);
    emulator_.reset();
    server_.reset();
  }

  void start(std::string_view secret = test_secret, client_options tuning = {}) {
    market_.emplace(scenario_.market());
    sim::server_options options;
    options.tls = test_ca().issue(cert_options{});
    options.seed = scenario_.seed;
    server_.emplace(io_.get_executor(), std::move(options));
    emulator_.emplace(io_.get_executor(), *server_, *market_, config_, sim::emulator_options{},
                      settings_);
    server_->start();
    http_endpoint e = test_support::loopback_tls(server_->port());
    e.pool_size = 2;
    http_ = make_http_client(io_.get_executor(), e);
    client_.emplace(*http_, std::string(test_key), "7", hmac_sha256(secret), std::move(tuning));
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  static asio::awaitable<bool> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
    co_return true;
  }

  // Starts `call` once the server has taken in a request it holds back (an injected fault): a
  // call that begins while another is suspended at a known point.
  template <class T>
  asio::awaitable<T> once_held(asio::awaitable<T> call) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (server_->stats().faults_injected == 0) {
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return co_await std::move(call);
  }

  static asio::awaitable<result<leg_status>> poll_final(client& c, leg_ref ref) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < 200; ++i) {
      auto status = co_await c.status(ref);
      if (!status || is_final(status->state)) co_return status;
      timer.expires_after(25ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return fail(error_kind::timeout, "the order did not reach a final state");
  }

  result<quote> price(std::string_view spend, std::string_view receive, std::string_view amount) {
    const quote_request r{std::string(spend), std::string(receive), amount_side::spend,
                          dec(amount)};
    return run(client_->price(r));
  }

  static leg leg_for(const quote& q, decimal amount, decimal min_receive) {
    leg l;
    l.provider = "kiiex";
    l.direction_code = q.direction_code;
    l.spend_asset = q.spend_asset;
    l.receive_asset = q.receive_asset;
    l.amount = amount;
    l.min_receive = min_receive;
    return l;
  }

  result<leg_status> submit(const leg& l, std::string_view id) {
    const client_id cid(id);
    return run(client_->submit(l, cid));
  }

  static asio::awaitable<result<http_response>> send(http_client& http, http_request request) {
    const std::chrono::steady_clock::duration timeout = 5s;
    co_return co_await http.send(std::move(request), timeout);
  }

  // A wire call on a session of the test's own: what the API answers, not what the client makes
  // of it.
  http_response raw(std::string_view name, std::string body) {
    request_builder builder(std::string(test_key), "7", hmac_sha256(test_secret));
    if (raw_token_.empty()) {
      auto answer = run(send(*http_, builder.authenticate("42")));
      EXPECT_TRUE(answer.has_value());
      auto login = parse_login(answer.value().body);
      EXPECT_TRUE(login.has_value() && login->authenticated);
      raw_token_ = login.value().session_token;
    }
    auto answer = run(send(*http_, builder.call(name, std::move(body), raw_token_)));
    EXPECT_TRUE(answer.has_value()) << name;
    return answer.value();
  }

  // One parsed JSON answer of `name`, requiring `status`.
  json_document raw_json(std::string_view name, std::string body, int status = 200) {
    const http_response r = raw(name, std::move(body));
    EXPECT_EQ(r.status, status) << name << ": " << r.body;
    auto parsed = parse_json_text(r.body, name);
    EXPECT_TRUE(parsed.has_value()) << r.body;
    return parsed ? std::move(*parsed) : json_document();
  }

  std::int64_t product_id(std::string_view symbol) {
    auto products = parse_products(raw("GetProducts", R"({"OMSId":1})").body);
    EXPECT_TRUE(products.has_value());
    for (const auto& p : products.value()) {
      if (p.symbol == symbol) return p.product_id;
    }
    ADD_FAILURE() << "no product " << symbol;
    return 0;
  }

  position position_of(std::string_view symbol) {
    auto positions = parse_positions(
        raw("GetAccountPositions", R"({"OMSId":1,"AccountId":9,"IncludePending":true})").body);
    EXPECT_TRUE(positions.has_value());
    for (const auto& p : positions.value()) {
      if (p.product_symbol == symbol) return p;
    }
    ADD_FAILURE() << "no position " << symbol;
    return {};
  }

  order order_status(std::int64_t order_id) {
    auto o =
        parse_order_status(raw("GetOrderStatus", request_builder::order_body(1, 9, order_id)).body);
    EXPECT_TRUE(o.has_value());
    return o.value_or(order{});
  }

  std::vector<trade> trades_of(std::int64_t order_id) {
    auto t =
        parse_trades(raw("GetTradesHistory", request_builder::order_body(1, 9, order_id)).body);
    EXPECT_TRUE(t.has_value());
    return t.value_or(std::vector<trade>{});
  }

  sim::ledger_entry ledger(std::string_view asset) { return emulator_->account().balance(asset); }

  sim::scenario scenario_;
  sim::provider_config config_;
  emulator_settings settings_;
  asio::io_context io_;
  std::optional<sim::market> market_;
  std::optional<sim::server> server_;
  std::optional<emulator> emulator_;
  std::unique_ptr<http_client> http_;
  std::optional<client> client_;
  std::string raw_token_;
};

std::string text_of(const json_value& object, std::string_view key) {
  const json_value* v = object.member(key);
  return v == nullptr ? std::string() : std::string(v->text);
}

decimal amount_of(const json_value& object, std::string_view key) {
  const json_value* v = object.member(key);
  return v == nullptr ? decimal{} : decimal::parse(v->text).value_or(dec("-1"));
}

// The two directions of the scenario's one instrument, USDTCOPM, as directions() lists them: the
// buy (spend COPM) at the best offer, then the sell (spend USDT) at the best bid; mid 4000 with a
// 0.1 % spread, MinimumQuantity 1 USDT.
void expect_scenario_directions(const result<std::vector<direction>>& dirs) {
  ASSERT_TRUE(dirs.has_value()) << describe(dirs.error());
  ASSERT_EQ(dirs->size(), 2u);
  const direction& buy = dirs->at(0);
  EXPECT_EQ(buy.provider, "kiiex");
  EXPECT_EQ(buy.code, "COPM-USDT");
  EXPECT_EQ(buy.spend_asset, "COPM");
  EXPECT_EQ(buy.receive_asset, "USDT");
  EXPECT_TRUE(buy.enabled);
  EXPECT_EQ(buy.fee_percent, dec("0.25"));
  EXPECT_EQ(buy.spend_precision, 2);
  EXPECT_EQ(buy.receive_precision, 6);
  EXPECT_EQ(buy.min_receive, dec("1"));
  EXPECT_EQ(buy.spend_rate_value, dec("4002"));
  EXPECT_EQ(buy.receive_rate_value, dec("1"));
  const direction& sell = dirs->at(1);
  EXPECT_EQ(sell.code, "USDT-COPM");
  EXPECT_EQ(sell.spend_asset, "USDT");
  EXPECT_EQ(sell.receive_asset, "COPM");
  EXPECT_TRUE(sell.enabled);
  EXPECT_EQ(sell.fee_percent, dec("0.25"));
  EXPECT_EQ(sell.spend_precision, 6);
  EXPECT_EQ(sell.receive_precision, 2);
  EXPECT_EQ(sell.min_spend, dec("1"));
  EXPECT_EQ(sell.spend_rate_value, dec("1"));
  EXPECT_EQ(sell.receive_rate_value, dec("3998"));
}

// The sell side's model: ten bids, best first, 0.05 % (2 COPM) apart, level i holding
// (i + 1) x 1000 USDT.
void expect_sell_model(const result<pricing>& p) {
  ASSERT_TRUE(p.has_value()) << describe(p.error());
  EXPECT_EQ(p->provider, "kiiex");
  EXPECT_EQ(p->direction_code, "USDT-COPM");
  EXPECT_EQ(p->model, pricing_model::order_book);
  EXPECT_EQ(p->book.side, book_side::sell);
  EXPECT_EQ(p->fee_percent, dec("0.25"));
  EXPECT_EQ(p->min_spend, dec("1"));
  ASSERT_EQ(p->book.levels.size(), 10u);
  EXPECT_EQ(p->book.levels.front().price, dec("3998"));
  EXPECT_EQ(p->book.levels.front().quantity, dec("1000"));
  EXPECT_EQ(p->book.levels.back().price, dec("3980"));
  EXPECT_EQ(p->book.levels.back().quantity, dec("10000"));
}

// Overlapping calls on one client while its market list is replaced (markets_max_age 0: every
// call refreshes it). The first directions() and pricing_for() share one refresh; the first
// GetLevel1 is held back, and once the server holds it a second directions() and pricing_for()
// start, sharing a refresh that replaces the list while the first directions() is suspended in its
// walk over the markets: walking markets_ itself there read freed memory (ASan found it;
// directions() walks a copy).
TEST_F(KiiexIntegration, OverlappingCallsWhileTheMarketListIsReplaced) {
  client_options tuning;
  tuning.markets_max_age = std::chrono::steady_clock::duration::zero();
  start(test_secret, tuning);
  server_->faults().set("/ap/GetLevel1", sim::delay_once(300ms));
  const quote_request sell{"USDT", "COPM", amount_side::spend, dec("2500")};
  auto [first, first_model, second, second_model] = test_support::run_together(
      io_, client_->directions(), client_->pricing_for(sell), once_held(client_->directions()),
      once_held(client_->pricing_for(sell)));
  expect_scenario_directions(first);
  expect_sell_model(first_model);
  expect_scenario_directions(second);
  expect_sell_model(second_model);
  // Two refreshes, each shared by two calls, and one login shared by all.
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/GetInstruments"), 2u);
  EXPECT_EQ(client_->login_count(), 1);
  // And the same again one at a time.
  expect_scenario_directions(run(client_->directions()));
  expect_sell_model(run(client_->pricing_for(sell)));
}

// status() of a filled order overlapping a directions() that replaces the market list while the
// status waits for GetTradesHistory (held back): status_of() once kept a pointer into the list
// across that wait and read the received product through it.
TEST_F(KiiexIntegration, StatusWhileTheMarketListIsReplaced) {
  start();
  auto q = price("USDT", "COPM", "2500");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto s = submit(leg_for(*q, dec("2500"), tolerant(q->receive_net)), "it-overlap-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  ASSERT_EQ(done->state, leg_state::filled);
  server_->faults().set("/ap/GetTradesHistory", sim::delay_once(300ms));
  auto [status, dirs] =
      test_support::run_together(io_, client_->status(s->ref), client_->directions());
  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ(status->state, leg_state::filled);
  EXPECT_EQ(status->direction_code, "USDT-COPM");
  EXPECT_EQ(status->spend_filled, dec("2500"));
  EXPECT_EQ(status->receive_filled, q->receive_gross);
  EXPECT_EQ(status->fee_filled, q->fee);
  ASSERT_TRUE(dirs.has_value()) << describe(dirs.error());
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ(dirs->at(1).code, "USDT-COPM");
}

// APX4 GetInstruments lists active instruments unless "InstrumentState" says "Both" (or
// "Inactive"). The client asks for both: an instrument disabled while an order of ours is on it
// must stay known, or that order's status could not be read (status_of finds no instrument); its
// directions show it disabled.
TEST_F(KiiexIntegration, GetInstrumentsListsDisabledInstrumentsOnlyWhenAsked) {
  config_.directions.at(0).enabled = false;
  start();
  const json_document active = raw_json("GetInstruments", R"({"OMSId":1})");
  ASSERT_EQ(active.type, json_value::kind::array);
  EXPECT_TRUE(active.items.empty());
  for (const std::string_view state : {"Both", "Inactive"}) {
    const json_document listed = raw_json(
        "GetInstruments", R"({"OMSId":1,"InstrumentState":")" + std::string(state) + R"("})");
    ASSERT_EQ(listed.type, json_value::kind::array);
    ASSERT_EQ(listed.items.size(), 1u) << state;
    EXPECT_EQ(text_of(listed.items[0], "Symbol"), "USDTCOPM");
    const json_value* disabled = listed.items[0].member("IsDisable");
    ASSERT_NE(disabled, nullptr);
    EXPECT_TRUE(disabled->flag);
  }
  auto dirs = run(client_->directions());
  ASSERT_TRUE(dirs.has_value()) << describe(dirs.error());
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_FALSE(dirs->at(0).enabled);
  EXPECT_FALSE(dirs->at(1).enabled);
  // Nothing is priced there: no fee estimate is asked for it.
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/GetOrderFee"), 0u);
}

TEST_F(KiiexIntegration, SellQuoteEqualsFillAndBalancesMoveExactly) {
  start();
  auto q = price("USDT", "COPM", "2500");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->spend_amount, dec("2500"));
  auto before = emulator_->account().balance("COPM").available;
  // A 0.1 % slippage tolerance: the limit (the average price that nets exactly min_receive) lies
  // below the deepest level the quote reached, so on a still book the fill is the quote.
  auto s = submit(leg_for(*q, dec("2500"), tolerant(q->receive_net)), "it-sell-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->state, leg_state::open);
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->spend_filled, q->spend_amount);
  EXPECT_EQ(done->receive_filled, q->receive_gross);
  EXPECT_EQ(done->fee_filled, q->fee);
  EXPECT_EQ(emulator_->account().balance("COPM").available - before, q->receive_net);
  EXPECT_EQ(emulator_->account().balance("USDT").available, dec("97500"));
  auto b = run(client_->balances());
  ASSERT_TRUE(b.has_value()) << b.error().message;
  for (const auto& x : *b) {
    if (x.asset == "USDT") {
      EXPECT_EQ(x.available, dec("97500"));
    }
  }
}

// A buy is a market order by Value with the slippage bound as LimitPrice: on a still book it walks
// the same levels as the quote, so the fill is the quote to the last unit, and the exchange holds
// exactly the amount, never more.
TEST_F(KiiexIntegration, BuyQuoteEqualsFillAndNeverSpendsMoreThanItsAmount) {
  start();
  const decimal amount = dec("10000000");
  auto q = price("COPM", "USDT", "10000000");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  const decimal copm_before = emulator_->account().balance("COPM").available;
  const decimal usdt_before = emulator_->account().balance("USDT").available;
  auto s = submit(leg_for(*q, amount, tolerant(q->receive_net)), "it-buy-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->spend_filled, q->spend_amount);
  EXPECT_LE(done->spend_filled, amount);
  EXPECT_EQ(done->receive_filled, q->receive_gross);
  EXPECT_EQ(done->fee_filled, q->fee);
  EXPECT_EQ(copm_before - emulator_->account().balance("COPM").available, q->spend_amount);
  EXPECT_EQ(emulator_->account().balance("USDT").available - usdt_before, q->receive_net);
  EXPECT_EQ(emulator_->account().balance("COPM").frozen, dec("0"));
}

TEST_F(KiiexIntegration, IocPartialFillWithinTheSlippageBound) {
  start();
  // One level's worth (1000 USDT at the best bid) sets the bound: nothing below that price.
  auto first_level = price("USDT", "COPM", "1000");
  ASSERT_TRUE(first_level.has_value()) << first_level.error().message;
  const decimal min_receive = first_level->receive_net.mul(dec("2.5"), rounding::down).value();
  auto s = submit(leg_for(*first_level, dec("2500"), min_receive), "it-ioc-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::partially_filled);
  EXPECT_EQ(done->spend_filled, dec("1000"));
  EXPECT_EQ(done->receive_filled, first_level->receive_gross);
  EXPECT_EQ(emulator_->account().balance("USDT").available, dec("99000"));
  EXPECT_EQ(emulator_->account().balance("USDT").frozen, dec("0"));
}

// An exchange whose GetTradesHistory answers fewer trades than the Depth asked (a page of 2 here)
// and a sell that takes three levels, so three trades: the client reads the next page from
// StartIndex 2 and settles on all three. With one page allowed it reports an error, not a part.
TEST_F(KiiexIntegration, TradesBeyondOnePageAllCount) {
  settings_.trades_page_limit = 2;
  start();
  auto q = price("USDT", "COPM", "5000");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto s = submit(leg_for(*q, dec("5000"), tolerant(q->receive_net)), "it-pages-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->spend_filled, dec("5000"));
  EXPECT_EQ(done->receive_filled, q->receive_gross);
  EXPECT_EQ(done->fee_filled, q->fee);
  const std::size_t before = test_support::count_requests(*server_, "/ap/GetTradesHistory");
  auto again = run(client_->status(s->ref));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->receive_filled, q->receive_gross);
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/GetTradesHistory") - before, 2u);
  client_options one_page;
  one_page.trades_max_pages = 1;
  client limited(*http_, std::string(test_key), "7", hmac_sha256(test_secret), one_page);
  auto cut = run(limited.status(s->ref));
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().kind, error_kind::bad_response) << cut.error().message;
}

// The same page cap set in the scenario file (providers.kiiex.kiiex.trades_page_limit) reaches
// the emulator through settings_for: the three trades of that sell take two pages to read.
TEST_F(KiiexIntegration, TradesPageLimitFromTheScenarioFile) {
  const sim::scenario paged = sim::parse_scenario(
      std::string(scenario_yaml) + "    kiiex: {trades_page_limit: 2}\n", "paged.yaml");
  config_ = *paged.find_provider("kiiex");
  settings_ = settings_for(config_);
  EXPECT_EQ(settings_.trades_page_limit, 2);
  start();
  auto q = price("USDT", "COPM", "5000");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto s = submit(leg_for(*q, dec("5000"), tolerant(q->receive_net)), "it-paged-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->receive_filled, q->receive_gross);
  const std::size_t before = test_support::count_requests(*server_, "/ap/GetTradesHistory");
  auto again = run(client_->status(s->ref));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->receive_filled, q->receive_gross);
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/GetTradesHistory") - before, 2u);
}

// An operator who charges the fee in the product an order gives (APEX lets them; the scenario's
// fee_in_spent_product): a sell of USDT pays its fee in USDT and a buy by Value pays it in COPM,
// each on top of what it trades. What the leg spent is what the ledger debited, its receive what
// the ledger credited, whole.
TEST_F(KiiexIntegration, AFeeInTheProductGivenIsInWhatTheLegSpent) {
  const sim::scenario charged = sim::parse_scenario(
      std::string(scenario_yaml) + "    kiiex: {fee_in_spent_product: true}\n", "fee.yaml");
  config_ = *charged.find_provider("kiiex");
  settings_ = settings_for(config_);
  ASSERT_TRUE(settings_.fee_in_spent_product);
  start();

  auto sell = price("USDT", "COPM", "2500");
  ASSERT_TRUE(sell.has_value()) << sell.error().message;
  decimal usdt_before = ledger("USDT").available;
  decimal copm_before = ledger("COPM").available;
  auto s = submit(leg_for(*sell, dec("2500"), tolerant(sell->receive_net)), "it-fee-sell");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto sold = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(sold.has_value()) << sold.error().message;
  EXPECT_EQ(sold->state, leg_state::filled);
  // 0.25 % of 2500, each trade's fee rounded up at USDT's places.
  EXPECT_GE(sold->spend_fee_filled, dec("6.25"));
  EXPECT_LT(sold->spend_fee_filled, dec("6.26"));
  EXPECT_EQ(sold->spend_filled, dec("2500") + sold->spend_fee_filled);
  EXPECT_EQ(usdt_before - ledger("USDT").available, sold->spend_filled);
  EXPECT_EQ(sold->fee_filled, dec("0"));
  EXPECT_EQ(sold->receive_filled, sell->receive_gross);
  EXPECT_EQ(ledger("COPM").available - copm_before, sold->receive_filled);
  EXPECT_EQ(ledger("USDT").frozen, dec("0"));

  auto buy = price("COPM", "USDT", "10000000");
  ASSERT_TRUE(buy.has_value()) << buy.error().message;
  usdt_before = ledger("USDT").available;
  copm_before = ledger("COPM").available;
  auto b = submit(leg_for(*buy, dec("10000000"), tolerant(buy->receive_net)), "it-fee-buy");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  auto bought = run(poll_final(*client_, b->ref));
  ASSERT_TRUE(bought.has_value()) << bought.error().message;
  EXPECT_EQ(bought->state, leg_state::filled);
  const decimal buy_fee = buy->spend_amount.mul(dec("0.0025"), rounding::up).value();
  EXPECT_GE(bought->spend_fee_filled, buy_fee);
  EXPECT_LT(bought->spend_fee_filled, buy_fee + dec("0.01"));
  EXPECT_EQ(bought->spend_filled, buy->spend_amount + bought->spend_fee_filled);
  EXPECT_EQ(copm_before - ledger("COPM").available, bought->spend_filled);
  EXPECT_EQ(bought->fee_filled, dec("0"));
  EXPECT_EQ(ledger("USDT").available - usdt_before, bought->receive_filled);
  EXPECT_EQ(ledger("COPM").frozen, dec("0"));
}

TEST_F(KiiexIntegration, SessionExpiryAndRelogin) {
  config_.session.idle_timeout = 200ms;
  start();
  ASSERT_TRUE(run(client_->balances()).has_value());
  EXPECT_EQ(client_->login_count(), 1);
  run(pause(300ms));
  auto again = run(client_->balances());
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(client_->login_count(), 2);
}

// Two calls overlapping on an expired session: the first one's refusal is held back, the second
// is refused, logs in again and succeeds; the first, refused later, retries on that new session
// instead of replacing it with a third login.
TEST_F(KiiexIntegration, OverlappingRefusalsShareOneRelogin) {
  config_.session.idle_timeout = 400ms;
  start();
  ASSERT_TRUE(run(client_->balances()).has_value());
  run(pause(500ms));
  server_->faults().set("/ap/GetAccountPositions", sim::delay_once(100ms));
  auto [held, second] =
      test_support::run_together(io_, client_->balances(), once_held(client_->balances()));
  ASSERT_TRUE(held.has_value()) << held.error().message;
  ASSERT_TRUE(second.has_value()) << second.error().message;
  ASSERT_EQ(held->size(), second->size());
  for (std::size_t i = 0; i < held->size(); ++i) {
    EXPECT_EQ(held->at(i).asset, second->at(i).asset);
    EXPECT_EQ(held->at(i).available, second->at(i).available);
  }
  EXPECT_EQ(client_->login_count(), 2);
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/AuthenticateUser"), 2u);
}

// As above, but the held call's refusal comes back after the other call's new session expired
// too: that session is refused in turn, and the held call logs in once more and succeeds. The
// hold outlasts the other call's last use of its session by a second or more, which a loaded
// machine's stalls do not close (with 200 ms and 400 ms a stall kept the second session alive).
TEST_F(KiiexIntegration, OverlappingRefusalAfterTheNewerSessionExpiredLogsInAgain) {
  config_.session.idle_timeout = 500ms;
  start();
  ASSERT_TRUE(run(client_->balances()).has_value());
  run(pause(700ms));
  server_->faults().set("/ap/GetAccountPositions", sim::delay_once(2000ms));
  auto [held, second] =
      test_support::run_together(io_, client_->balances(), once_held(client_->balances()));
  ASSERT_TRUE(held.has_value()) << held.error().message;
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(client_->login_count(), 3);
  // The held call: refused with the first session, then with the second, then answered.
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/GetAccountPositions"), 6u);
}

TEST_F(KiiexIntegration, WrongSecretIsRefused) {
  start("not-the-secret");
  auto b = run(client_->balances());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().kind, error_kind::auth);
}

// APX4 locks a user after rapid failed logins, and only an administrator unlocks it. A client
// whose key is refused (a stale or rotated key, perhaps on a second instance) must not log in
// again on every call: six calls in a row make one AuthenticateUser, and the user's good key still
// logs in afterwards.
TEST_F(KiiexIntegration, ARefusedLoginIsNotRepeatedOnEveryCall) {
  start("not-the-secret");
  for (int i = 0; i < 6; ++i) {
    auto b = run(client_->balances());
    ASSERT_FALSE(b.has_value());
    EXPECT_EQ(b.error().kind, error_kind::auth) << describe(b.error());
  }
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/AuthenticateUser"), 1u);
  request_builder builder(std::string(test_key), "7", hmac_sha256(test_secret));
  auto answer = run(send(*http_, builder.authenticate("45")));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200) << answer->body;
  auto login = parse_login(answer->body);
  ASSERT_TRUE(login.has_value()) << answer->body;
  EXPECT_TRUE(login->authenticated);
  EXPECT_FALSE(login->locked);
}

TEST_F(KiiexIntegration, CancelBeforeTheFill) {
  config_.fill_delay = 2000ms;
  start();
  auto q = price("USDT", "COPM", "100");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto s = submit(leg_for(*q, dec("100"), q->receive_net), "it-cancel-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(emulator_->account().balance("USDT").frozen, dec("100"));
  auto c = run(client_->cancel(s->ref));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->state, leg_state::cancelled);
  EXPECT_EQ(emulator_->account().balance("USDT").frozen, dec("0"));
  EXPECT_EQ(emulator_->account().balance("USDT").available, dec("100000"));
}

// Invalid_ClientOrderId (APX4: another open order of the account holds the ClientOrderId) proves
// that this leg's order exists and may still fill: the leg is unknown, not rejected, and find()
// adopts that order. Not_Enough_Funds is a rejection.
TEST_F(KiiexIntegration, DuplicateClientOrderIdIsUnknownAndInsufficientFundsIsRejected) {
  config_.fill_delay = 2000ms;
  start();
  auto q = price("USDT", "COPM", "100");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  const leg l = leg_for(*q, dec("100"), q->receive_net);
  auto first = submit(l, "it-dup");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto dup = submit(l, "it-dup");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().kind, error_kind::unknown_outcome);
  EXPECT_TRUE(dup.error().may_have_reached);
  EXPECT_EQ(dup.error().provider_code, "Invalid_ClientOrderId");
  const client_id id("it-dup");
  auto found = run(client_->find(id, l, {}));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.provider_ref, first->ref.provider_ref);
  EXPECT_EQ((*found)->state, leg_state::open);
  EXPECT_EQ(emulator_->account().balance("USDT").frozen, dec("100"));
  auto broke = submit(leg_for(*q, dec("200000"), q->receive_net), "it-broke");
  ASSERT_FALSE(broke.has_value());
  EXPECT_EQ(broke.error().kind, error_kind::rejected);
  EXPECT_EQ(broke.error().provider_code, "Not_Enough_Funds");
}

TEST_F(KiiexIntegration, FindByClientOrderIdAfterResetAfter) {
  start();
  auto q = price("USDT", "COPM", "100");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  sim::fault f;
  f.kind = sim::fault_kind::reset_after;
  f.remaining = 1;
  server_->faults().set("/ap/SendOrder", f);
  const leg l = leg_for(*q, dec("100"), q->receive_net);
  auto s = submit(l, "it-find-1");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, error_kind::unknown_outcome);
  run(pause(300ms));
  const client_id id("it-find-1");
  auto found = run(client_->find(id, l, {}));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, leg_state::filled);
  const client_id other("it-find-none");
  auto none = run(client_->find(other, l, {}));
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_FALSE(none->has_value());
}

// A bare 401 on SendOrder (not the exchange's errorcode 20 answer) says nothing about whether the
// order was taken: the leg is unknown, SendOrder is not sent again and no login is made for it.
TEST_F(KiiexIntegration, BareUnauthorizedOnSendOrderIsUnknownAndNotResent) {
  start();
  auto q = price("USDT", "COPM", "100");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  sim::fault f;
  f.kind = sim::fault_kind::status;
  f.status = 401;
  f.body = "<html><body>401 Authorization Required</body></html>";
  f.remaining = 1;
  server_->faults().set("/ap/SendOrder", f);
  const int logins = client_->login_count();
  auto s = submit(leg_for(*q, dec("100"), q->receive_net), "it-bare-401");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, error_kind::unknown_outcome);
  EXPECT_EQ(test_support::count_requests(*server_, "/ap/SendOrder"), 1u);
  EXPECT_EQ(client_->login_count(), logins);
}

TEST_F(KiiexIntegration, FokWithoutEnoughDepthWithinTheLimitExecutesNothing) {
  start();
  auto book = parse_l2_snapshot(raw("GetL2Snapshot", request_builder::l2_body(1, 1, 10)).body, 1);
  ASSERT_TRUE(book.has_value());
  ASSERT_GE(book->bids.size(), 2u);
  const book_level best = book->bids.front();
  const decimal copm = ledger("COPM").available;
  // More than the best bid holds, limited to the best bid: only all of it would do (APX4 FOK).
  order_params p;
  p.instrument_id = 1;
  p.side = wire::side::sell;
  p.time_in_force = wire::time_in_force::fok;
  p.quantity = best.quantity + dec("1");
  p.limit_price = best.price;
  p.client_order_id = 77;
  emulator_->hold();  // working until released, however slow the machine
  auto sent =
      parse_send_order(raw("SendOrder", request_builder::send_order_body(1, 9, p).value()).body);
  ASSERT_TRUE(sent.has_value());
  ASSERT_TRUE(sent->accepted) << sent->errormsg;
  // Held while working, released when the FOK is dropped.
  EXPECT_EQ(ledger("USDT").frozen, *p.quantity);
  emulator_->release();
  run(pause(400ms));
  const order o = order_status(sent->order_id);
  // The emulator's FOK outcome: Canceled by the system with nothing executed.
  EXPECT_EQ(o.state, wire::order_state::canceled);
  EXPECT_EQ(o.change_reason, wire::change_reason::no_more_market);
  EXPECT_EQ(o.quantity_executed, dec("0"));
  EXPECT_TRUE(trades_of(sent->order_id).empty());
  EXPECT_EQ(ledger("USDT").available, dec("100000"));
  EXPECT_EQ(ledger("USDT").frozen, dec("0"));
  EXPECT_EQ(ledger("COPM").available, copm);
  EXPECT_EQ(ledger("COPM").frozen, dec("0"));
  // Within the depth at that limit the same FOK fills completely.
  p.quantity = best.quantity;
  p.client_order_id = 78;
  auto fits =
      parse_send_order(raw("SendOrder", request_builder::send_order_body(1, 9, p).value()).body);
  ASSERT_TRUE(fits.has_value() && fits->accepted);
  run(pause(400ms));
  const order filled = order_status(fits->order_id);
  EXPECT_EQ(filled.state, wire::order_state::fully_executed);
  EXPECT_EQ(filled.quantity_executed, best.quantity);
  EXPECT_EQ(ledger("USDT").available, dec("100000") - best.quantity);
}

TEST_F(KiiexIntegration, SlippageBoundHoldsWhileTheBookMoves) {
  config_.fill_delay = 300ms;
  // Every order meets the whole book: only the market move differs between cases.
  settings_.replenish = 0ms;
  start();
  struct move_case {
    std::string_view spend;
    std::string_view receive;
    std::string_view amount;
    std::string_view moved_rate;  // USDT-COPM between the quote and the fill
    bool fills;                   // the expected outcome with a 0.1 % tolerance
  };
  // Selling USDT suffers from a lower rate, buying it from a higher one; 0.05 % stays within the
  // tolerance, 0.25 % does not, a favourable move fills.
  const move_case cases[] = {
      {"USDT", "COPM", "2500", "3998", true},      {"USDT", "COPM", "2500", "4010", true},
      {"USDT", "COPM", "2500", "3990", false},     {"COPM", "USDT", "10000000", "4002", true},
      {"COPM", "USDT", "10000000", "4010", false}, {"COPM", "USDT", "10000000", "3990", true},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.spend) + "->" + std::string(c.receive) + " at " +
                 std::string(c.moved_rate));
    ASSERT_TRUE(market_->set_rate("USDT", "COPM", dec("4000")).has_value());
    auto q = price(c.spend, c.receive, c.amount);
    ASSERT_TRUE(q.has_value()) << q.error().message;
    const leg l = leg_for(*q, dec(c.amount), tolerant(q->receive_net));
    const decimal spend_before = ledger(c.spend).available;
    const decimal receive_before = ledger(c.receive).available;
    auto s = submit(l, "it-move-" + std::to_string(n++));
    ASSERT_TRUE(s.has_value()) << s.error().message;
    ASSERT_TRUE(market_->set_rate("USDT", "COPM", dec(c.moved_rate)).has_value());
    auto done = run(poll_final(*client_, s->ref));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    const std::int64_t order_id = std::stoll(s->ref.provider_ref);
    const order o = order_status(order_id);
    const bool buy = o.side == wire::side::buy;
    decimal spent;
    decimal net;
    for (const trade& t : trades_of(order_id)) {
      // The IOC limit is the worst price any unit may trade at.
      if (buy) {
        EXPECT_LE(t.price, o.price) << "trade " << t.trade_id;
      } else {
        EXPECT_GE(t.price, o.price) << "trade " << t.trade_id;
      }
      spent += buy ? t.value : t.quantity;
      net += (buy ? t.quantity : t.value) - t.fee;
    }
    // Whatever filled nets at least its share of min_receive; a full fill all of it.
    EXPECT_GE(net.mul(l.amount, rounding::down).value(),
              l.min_receive.mul(spent, rounding::up).value());
    EXPECT_EQ(done->receive_filled - done->fee_filled, net);
    EXPECT_EQ(ledger(c.receive).available - receive_before, net);
    EXPECT_EQ(spend_before - ledger(c.spend).available, spent);
    EXPECT_EQ(ledger(c.spend).frozen, dec("0"));
    if (c.fills) {
      EXPECT_EQ(done->state, leg_state::filled);
      EXPECT_GE(net, l.min_receive);
    } else {
      EXPECT_EQ(o.quantity_executed, dec("0"));
      EXPECT_EQ(spent, dec("0"));
    }
  }
}

TEST_F(KiiexIntegration, TicketRoundTripMovesTheLedgerExactly) {
  start();
  emulator_->hold();  // each ticket stays New until released, however slow the machine
  const std::int64_t usdt = product_id("USDT");
  // Deposit: New and pending, then FullyProcessed and credited after the fill delay.
  const json_document created = raw_json(
      "CreateDepositTicket",
      R"({"OMSId":1,"OperatorId":1,"AccountId":9,"AssetId":)" + std::to_string(usdt) +
          R"(,"Amount":250.5,"DepositInfo":"{\"ProductSymbol\":\"USDT\",\"fullname\":\"Test\"}"})");
  ASSERT_NE(created.member("success"), nullptr);
  EXPECT_TRUE(created.member("success")->flag);
  const std::string code = text_of(created, "requestcode");
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(text_of(created, "ticketnumber"), "1");
  const std::string by_code =
      R"({"OMSId":1,"AccountId":9,"RequestCode":")" + code + R"(","TicketId":1})";
  json_document ticket = raw_json("GetDepositTicket", by_code);
  EXPECT_EQ(text_of(ticket, "Status"), "0");  // New
  EXPECT_EQ(amount_of(ticket, "amount"), dec("250.5"));
  EXPECT_EQ(text_of(ticket, "assetName"), "USDT");
  ASSERT_NE(ticket.member("depositInfo"), nullptr);
  EXPECT_EQ(text_of(*ticket.member("depositInfo"), "fullname"), "Test");
  EXPECT_EQ(position_of("USDT").pending_deposits, dec("250.5"));
  EXPECT_EQ(ledger("USDT").available, dec("100000"));
  emulator_->release();
  run(pause(300ms));
  ticket = raw_json("GetDepositTicket", by_code);
  EXPECT_EQ(text_of(ticket, "Status"), "5");  // FullyProcessed
  EXPECT_EQ(ledger("USDT").available, dec("100250.5"));
  EXPECT_EQ(position_of("USDT").pending_deposits, dec("0"));
  const json_document deposits =
      raw_json("GetDepositTickets", R"({"OMSId":1,"OperatorId":1,"AccountId":9})");
  ASSERT_EQ(deposits.items.size(), 1u);
  EXPECT_EQ(text_of(deposits.items[0], "requestCode"), code);

  // Withdrawal: held at once, debited when FullyProcessed.
  emulator_->hold();
  const json_document withdraw =
      raw_json("CreateWithdrawTicket",
               R"({"OMSId":1,"AccountId":9,"ProductId":)" + std::to_string(usdt) +
                   R"(,"Amount":1000.25,"TemplateType":"ToExternalEthereumAddress",)"
                   R"("TemplateForm":"{\"TemplateType\":\"ToExternalEthereumAddress\",)"
                   R"(\"ExternalAddress\":\"0xabc\",\"Comment\":\"\",\"Amount\":1000.25}"})");
  ASSERT_NE(withdraw.member("result"), nullptr);
  EXPECT_TRUE(withdraw.member("result")->flag);
  EXPECT_EQ(text_of(withdraw, "errorcode"), "0");
  const std::string withdraw_code = text_of(withdraw, "detail");
  ASSERT_FALSE(withdraw_code.empty());
  EXPECT_EQ(ledger("USDT").available, dec("99250.25"));
  EXPECT_EQ(ledger("USDT").frozen, dec("1000.25"));
  const position held = position_of("USDT");
  EXPECT_EQ(held.amount, dec("100250.5"));
  EXPECT_EQ(held.hold, dec("1000.25"));
  EXPECT_EQ(held.pending_withdraws, dec("1000.25"));
  const std::string withdraw_by_code =
      R"({"OMSId":1,"AccountId":9,"RequestCode":")" + withdraw_code + R"(","TicketId":1})";
  ticket = raw_json("GetWithdrawTicket", withdraw_by_code);
  EXPECT_EQ(text_of(ticket, "Status"), "0");  // New
  EXPECT_EQ(text_of(ticket, "templateFormType"), "ToExternalEthereumAddress");
  EXPECT_NE(text_of(ticket, "templateForm").find("0xabc"), std::string::npos);
  // The verify code the confirmation e-mail would carry.
  auto sim_ledger = parse_json_text(emulator_->ledger_json(), "ledger");
  ASSERT_TRUE(sim_ledger.has_value());
  const json_value* codes = sim_ledger->member("withdraw_verify_codes");
  ASSERT_TRUE(codes != nullptr && codes->items.size() == 1u);
  const std::string verify = text_of(codes->items[0], "verifyCode");
  ticket =
      raw_json("GetWithdrawTicketByVerifyCode", R"({"OMSId":1,"VerifyCode":")" + verify + R"("})");
  EXPECT_EQ(text_of(ticket, "requestCode"), withdraw_code);
  emulator_->release();
  run(pause(300ms));
  ticket = raw_json("GetWithdrawTicket", withdraw_by_code);
  EXPECT_EQ(text_of(ticket, "Status"), "5");  // FullyProcessed
  EXPECT_EQ(ledger("USDT").available, dec("99250.25"));
  EXPECT_EQ(ledger("USDT").frozen, dec("0"));
  EXPECT_EQ(position_of("USDT").pending_withdraws, dec("0"));
  const json_document withdrawals = raw_json("GetWithdrawTickets", R"({"OMSId":1,"AccountId":9})");
  ASSERT_EQ(withdrawals.items.size(), 1u);

  // Errors in the generic shape, nothing moved.
  const json_document broke = raw_json(
      "CreateWithdrawTicket",
      R"({"OMSId":1,"AccountId":9,"ProductId":)" + std::to_string(usdt) + R"(,"Amount":1000000})",
      400);
  EXPECT_EQ(text_of(broke, "errorcode"), "100");
  EXPECT_EQ(text_of(broke, "detail"), "Insufficient Balance");
  const json_document fine = raw_json(
      "CreateDepositTicket",
      R"({"OMSId":1,"AccountId":9,"AssetId":)" + std::to_string(usdt) + R"(,"Amount":0.0000001})",
      400);
  EXPECT_EQ(text_of(fine, "errorcode"), "100");
  const json_document missing = raw_json(
      "GetDepositTicket", R"({"OMSId":1,"AccountId":9,"RequestCode":"nope","TicketId":1})", 404);
  EXPECT_EQ(text_of(missing, "errorcode"), "104");
  raw_json("GetWithdrawTicketByVerifyCode", R"({"OMSId":1,"VerifyCode":"nope"})", 400);
  EXPECT_EQ(ledger("USDT").available, dec("99250.25"));
  EXPECT_EQ(ledger("USDT").frozen, dec("0"));
}

// The session token is taken from aptoken or Authorization: Bearer alike (VENUES.md Part 1
// "KIIEX"), so LogOut with the Bearer form ends that session too; the emulator read only aptoken
// there and the session stayed valid.
TEST_F(KiiexIntegration, LogOutWithTheBearerFormEndsTheSession) {
  start();
  request_builder builder(std::string(test_key), "7", hmac_sha256(test_secret));
  auto answer = run(send(*http_, builder.authenticate("43")));
  ASSERT_TRUE(answer.has_value());
  auto login = parse_login(answer->body);
  ASSERT_TRUE(login.has_value() && login->authenticated) << answer->body;
  const auto bearer_call = [&](std::string_view name, std::string body) {
    http_request r;
    r.method = "POST";
    r.target = wire::path(name);
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Authorization", "Bearer " + login->session_token);
    r.body = std::move(body);
    auto sent = run(send(*http_, std::move(r)));
    EXPECT_TRUE(sent.has_value()) << name;
    return sent.value_or(http_response{});
  };
  const std::string positions = R"({"OMSId":1,"AccountId":9})";
  EXPECT_EQ(bearer_call("GetAccountPositions", positions).status, 200);
  const http_response out = bearer_call("LogOut", "{}");
  EXPECT_EQ(out.status, 200) << out.body;
  const http_response after = bearer_call("GetAccountPositions", positions);
  EXPECT_EQ(after.status, 401) << after.body;
}

// A key the scenario disables (credentials[].active: false) cannot log in, as the 001k emulator
// refuses it; the KIIEX emulator gave it a session.
TEST_F(KiiexIntegration, ADisabledKeyCannotLogIn) {
  config_.credentials.front().active = false;
  start();
  request_builder builder(std::string(test_key), "7", hmac_sha256(test_secret));
  auto answer = run(send(*http_, builder.authenticate("44")));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 400) << answer->body;
  auto login = parse_login(answer->body);
  ASSERT_TRUE(login.has_value()) << answer->body;
  EXPECT_FALSE(login->authenticated);
  auto balances = run(client_->balances());
  ASSERT_FALSE(balances.has_value());
  EXPECT_EQ(balances.error().kind, error_kind::auth) << describe(balances.error());
}

// Seed 001 (KIIEX's own System API): GetDepositTicket and GetWithdrawTicket take OMSId, AccountId,
// RequestCode and TicketId, all Required, and GetDepositTickets OMSId, OperatorId and AccountId;
// a request without one is 400 "Invalid input parameters". The emulator found a ticket by either
// key alone and listed without OperatorId.
TEST_F(KiiexIntegration, TicketReadsWithoutARequiredFieldAreInvalid) {
  start();
  const std::int64_t usdt = product_id("USDT");
  const json_document created =
      raw_json("CreateDepositTicket", R"({"OMSId":1,"OperatorId":1,"AccountId":9,"AssetId":)" +
                                          std::to_string(usdt) + R"(,"Amount":10})");
  const std::string code = text_of(created, "requestcode");
  ASSERT_FALSE(code.empty());
  const std::string by_both =
      R"({"OMSId":1,"AccountId":9,"RequestCode":")" + code + R"(","TicketId":1})";
  EXPECT_EQ(text_of(raw_json("GetDepositTicket", by_both), "requestCode"), code);
  const json_document no_ticket_id = raw_json(
      "GetDepositTicket", R"({"OMSId":1,"AccountId":9,"RequestCode":")" + code + R"("})", 400);
  EXPECT_EQ(text_of(no_ticket_id, "errorcode"), "100");
  const json_document no_code =
      raw_json("GetDepositTicket", R"({"OMSId":1,"AccountId":9,"TicketId":1})", 400);
  EXPECT_EQ(text_of(no_code, "errorcode"), "100");
  const json_document withdraw_no_ticket_id = raw_json(
      "GetWithdrawTicket", R"({"OMSId":1,"AccountId":9,"RequestCode":")" + code + R"("})", 400);
  EXPECT_EQ(text_of(withdraw_no_ticket_id, "errorcode"), "100");
  EXPECT_EQ(
      raw_json("GetDepositTickets", R"({"OMSId":1,"OperatorId":1,"AccountId":9})").items.size(),
      1u);
  const json_document no_operator =
      raw_json("GetDepositTickets", R"({"OMSId":1,"AccountId":9})", 400);
  EXPECT_EQ(text_of(no_operator, "errorcode"), "100");
}

// Seed 001's ticket schema: "Status" is an integer (0 New ... 5 FullyProcessed); the emulator
// wrote the enum's name.
TEST_F(KiiexIntegration, TicketStatusIsAnInteger) {
  start();
  emulator_->hold();  // New until released, however slow the machine
  const std::int64_t usdt = product_id("USDT");
  const json_document created =
      raw_json("CreateDepositTicket", R"({"OMSId":1,"OperatorId":1,"AccountId":9,"AssetId":)" +
                                          std::to_string(usdt) + R"(,"Amount":10})");
  const std::string by_both = R"({"OMSId":1,"AccountId":9,"RequestCode":")" +
                              text_of(created, "requestcode") + R"(","TicketId":1})";
  json_document ticket = raw_json("GetDepositTicket", by_both);
  ASSERT_NE(ticket.member("Status"), nullptr);
  EXPECT_EQ(ticket.member("Status")->type, json_value::kind::number);
  EXPECT_EQ(text_of(ticket, "Status"), "0");
  emulator_->release();
  run(pause(300ms));
  ticket = raw_json("GetDepositTicket", by_both);
  ASSERT_NE(ticket.member("Status"), nullptr);
  EXPECT_EQ(ticket.member("Status")->type, json_value::kind::number);
  EXPECT_EQ(text_of(ticket, "Status"), "5");
}

// A refused login is KIIDOC AuthenticateUser.yaml's answer, HTTP 400 with
// {authenticated, locked, errormsg} in lower camel case (wire.hpp: login errors keep the
// document's case); the emulator sent that status with APX4's PascalCase keys.
TEST_F(KiiexIntegration, ARefusedLoginHasTheDocumentsLowerCaseKeys) {
  start();
  request_builder builder(std::string(test_key), "7", hmac_sha256("not-the-secret"));
  auto answer = run(send(*http_, builder.authenticate("45")));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 400);
  auto body = parse_json_text(answer->body, "login");
  ASSERT_TRUE(body.has_value()) << answer->body;
  ASSERT_EQ(body->keys.size(), 3u) << answer->body;
  EXPECT_EQ(body->keys[0], "authenticated");
  EXPECT_EQ(body->keys[1], "locked");
  EXPECT_EQ(body->keys[2], "errormsg");
  EXPECT_EQ(text_of(*body, "errormsg"), "Invalid username or password");
}

}  // namespace
}  // namespace swaprouter::kiiex
