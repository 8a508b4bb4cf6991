// OxaPay adapter against its emulator over loopback TLS: indicative quote -> swap (final at once),
// below-minimum and insufficient balance rejected, ambiguous swap reconciled by find(), auth
// errors, 429 (calculate falls back to rate) and exact balance movements.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "adapters/oxapay/client.hpp"
#include "adapters/oxapay/emulator.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/server.hpp"
#include "engine/cert_authority.hpp"
#include "engine/json_read.hpp"
#include "tests/support/loopback_tls.hpp"
#include "tests/support/request_log.hpp"
#include "tests/support/run_task.hpp"
#include "tests/support/run_together.hpp"

namespace swaprouter::oxapay {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view api_key = "oxa_test_general_key";

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

using test_support::test_ca;

class OxaPayIntegration : public ::testing::Test {
 protected:
  void start(sim::provider_config config = base_config(), emulator_settings settings = {}) {
    sim::market_config m;
    m.assets = sim::default_assets();
    m.rates[{"USDT", "TRX"}] = dec("4");
    market_.emplace(m);
    sim::server_options options;
    options.tls = test_ca().issue(cert_options{});
    server_.emplace(io_.get_executor(), std::move(options));
    emulator_.emplace(io_.get_executor(), *server_, *market_, std::move(config),
                      sim::emulator_options{}, settings);
    server_->start();
    http_ = make_http_client(io_.get_executor(), test_support::loopback_tls(server_->port()));
  }

  void TearDown() override {
    if (emulator_) emulator_->stop();
    if (server_) server_->stop();
    io_.restart();
    io_.run_for(50ms);
  }

  static sim::provider_config base_config() {
    sim::provider_config c;
    c.name = "oxapay";
    sim::direction_config d;
    d.spend = "USDT";
    d.receive = "TRX";
    d.min_spend = std::optional<decimal>(dec("5"));
    c.directions.push_back(d);
    c.fee_percent = dec("0.4");
    c.spread = dec("0.1");
    c.balances["USDT"] = dec("100");
    sim::credential_config key;
    key.access_key = std::string(api_key);
    c.credentials.push_back(key);
    return c;
  }

  client make_client(std::string key = std::string(api_key)) {
    return client(*http_, std::move(key));
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  static quote_request usdt_trx(std::string_view amount) {
    return quote_request{"USDT", "TRX", amount_side::spend, dec(amount)};
  }

  static leg leg_of(std::string_view amount) {
    leg l;
    l.provider = "oxapay";
    l.direction_code = "USDT-TRX";
    l.spend_asset = "USDT";
    l.receive_asset = "TRX";
    l.amount = dec(amount);
    return l;
  }

  std::map<std::string, decimal> balances(client& c) {
    auto list = run(c.balances());
    EXPECT_TRUE(list.has_value()) << describe(list.error());
    std::map<std::string, decimal> out;
    if (list) {
      for (const auto& b : *list) out[b.asset] = b.available;
    }
    return out;
  }

  asio::io_context io_;
  std::optional<sim::market> market_;
  std::optional<sim::server> server_;
  std::optional<emulator> emulator_;
  std::unique_ptr<http_client> http_;
};

TEST_F(OxaPayIntegration, QuoteSwapFinalAtOnceAndBalancesMoveExactly) {
  start();
  client c = make_client();
  auto dirs = run(c.directions());
  ASSERT_TRUE(dirs.has_value()) << describe(dirs.error());
  ASSERT_EQ(dirs->size(), 1u);
  EXPECT_EQ((*dirs)[0].min_spend, dec("5"));

  auto q = run(c.price(usdt_trx("10")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_FALSE(q->firm);
  EXPECT_EQ(q->model, pricing_model::indicative);
  EXPECT_FALSE(q->valid_until.has_value());
  // 4 less 0.1 % spread and 0.4 % fee = 3.98; 10 USDT -> 39.8 TRX.
  EXPECT_EQ(q->receive_net, dec("39.8"));

  auto done = run(c.submit(leg_of("10"), "intent-1/leg-0"));
  ASSERT_TRUE(done.has_value()) << describe(done.error());
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->receive_filled, dec("39.8"));
  auto status = run(c.status(done->ref));
  ASSERT_TRUE(status.has_value()) << describe(status.error());
  EXPECT_EQ(status->state, leg_state::filled);
  EXPECT_EQ(status->ref.provider_ref, done->ref.provider_ref);

  auto b = balances(c);
  EXPECT_EQ(b["USDT"], dec("90"));
  EXPECT_EQ(b["TRX"], dec("39.8"));
}

TEST_F(OxaPayIntegration, BelowMinimumAndInsufficientBalanceAreRejections) {
  start();
  client c = make_client();
  auto small = run(c.submit(leg_of("1"), "intent-2/leg-0"));
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().kind, error_kind::rejected) << describe(small.error());
  EXPECT_EQ(small.error().provider_code, "business_error:amount");
  auto poor = run(c.submit(leg_of("500"), "intent-2/leg-1"));
  ASSERT_FALSE(poor.has_value());
  EXPECT_EQ(poor.error().kind, error_kind::rejected) << describe(poor.error());
  EXPECT_NE(poor.error().message.find("Insufficient balance"), std::string::npos);
  EXPECT_EQ(emulator_->swap_count(), 0u);
  EXPECT_EQ(balances(c)["USDT"], dec("100"));
}

TEST_F(OxaPayIntegration, AmbiguousSwapIsReconciledByFindNeverResent) {
  start();
  client c = make_client();
  sim::fault reset;
  reset.kind = sim::fault_kind::reset_after;
  reset.remaining = 1;
  reset.method = "POST";
  server_->faults().set("/v1/general/swap", reset);
  auto done = run(c.submit(leg_of("12"), "intent-3/leg-0"));
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().kind, error_kind::unknown_outcome) << describe(done.error());
  EXPECT_EQ(emulator_->swap_count(), 1u);
  auto found = run(c.find("intent-3/leg-0", leg_of("12"), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->spend_amount, dec("12"));
  EXPECT_EQ((*found)->state, leg_state::filled);
  EXPECT_EQ(test_support::count_requests(*server_, "/v1/general/swap", "POST"), 1u);
  EXPECT_EQ(emulator_->swap_count(), 1u);
}

// Overlapping calls on one client while its cached pairs are replaced (pairs_max_age 0: every
// price() lists them again; the first listing is held back so the others finish meanwhile), then
// two overlapping swaps: every call answers exactly what it would alone.
TEST_F(OxaPayIntegration, OverlappingCallsAnswerAsAlone) {
  start();
  client_options options;
  options.pairs_max_age = std::chrono::steady_clock::duration::zero();
  client c(*http_, std::string(api_key), options);
  server_->faults().set("/v1/general/swap/pairs", sim::delay_once(200ms, "GET"));
  auto [listed, ten, twenty, listed_again, held] =
      test_support::run_together(io_, c.directions(), c.price(usdt_trx("10")),
                                 c.price(usdt_trx("20")), c.directions(), c.balances());
  for (const auto* dirs : {&listed, &listed_again}) {
    ASSERT_TRUE(dirs->has_value()) << describe(dirs->error());
    ASSERT_EQ((*dirs)->size(), 1u);
    EXPECT_EQ((**dirs)[0].code, "USDT-TRX");
    EXPECT_EQ((**dirs)[0].min_spend, dec("5"));
  }
  ASSERT_TRUE(ten.has_value()) << describe(ten.error());
  EXPECT_EQ(ten->direction_code, "USDT-TRX");
  EXPECT_EQ(ten->spend_amount, dec("10"));
  EXPECT_EQ(ten->receive_net, dec("39.8"));
  ASSERT_TRUE(twenty.has_value()) << describe(twenty.error());
  EXPECT_EQ(twenty->spend_amount, dec("20"));
  EXPECT_EQ(twenty->receive_net, dec("79.6"));
  ASSERT_TRUE(held.has_value()) << describe(held.error());
  std::map<std::string, decimal> before;
  for (const auto& b : *held) before[b.asset] = b.available;
  EXPECT_EQ(before["USDT"], dec("100"));

  auto [a, b] = test_support::run_together(io_, c.submit(leg_of("10"), "intent-5/leg-0"),
                                           c.submit(leg_of("20"), "intent-6/leg-0"));
  ASSERT_TRUE(a.has_value()) << describe(a.error());
  ASSERT_TRUE(b.has_value()) << describe(b.error());
  EXPECT_EQ(a->state, leg_state::filled);
  EXPECT_EQ(a->ref.client, "intent-5/leg-0");
  EXPECT_EQ(a->receive_filled, dec("39.8"));
  EXPECT_EQ(b->state, leg_state::filled);
  EXPECT_EQ(b->ref.client, "intent-6/leg-0");
  EXPECT_EQ(b->receive_filled, dec("79.6"));
  EXPECT_NE(a->ref.provider_ref, b->ref.provider_ref);
  auto after = balances(c);
  EXPECT_EQ(after["USDT"], dec("70"));
  EXPECT_EQ(after["TRX"], dec("119.4"));
  EXPECT_EQ(emulator_->swap_count(), 2u);
}

// Overlapping prices on a client without pairs share one listing of them; a price after it
// ended, with the pairs stale again, lists them again.
TEST_F(OxaPayIntegration, OverlappingPricesShareOnePairsListing) {
  start();
  client_options options;
  options.pairs_max_age = std::chrono::steady_clock::duration::zero();
  client c(*http_, std::string(api_key), options);
  const auto listings = [&] {
    return test_support::count_requests(*server_, "/v1/general/swap/pairs");
  };
  auto [ten, twenty, five] = test_support::run_together(
      io_, c.price(usdt_trx("10")), c.price(usdt_trx("20")), c.price(usdt_trx("5")));
  EXPECT_EQ(listings(), 1u);
  ASSERT_TRUE(ten.has_value()) << describe(ten.error());
  EXPECT_EQ(ten->receive_net, dec("39.8"));
  ASSERT_TRUE(twenty.has_value()) << describe(twenty.error());
  EXPECT_EQ(twenty->receive_net, dec("79.6"));
  ASSERT_TRUE(five.has_value()) << describe(five.error());
  EXPECT_EQ(five->receive_net, dec("19.9"));
  auto later = run(c.price(usdt_trx("10")));
  ASSERT_TRUE(later.has_value()) << describe(later.error());
  EXPECT_EQ(listings(), 2u);
}

// The pairs come in pages: every one is read, and a listing running past pairs_max_pages is an
// error (the refresh failed, the previous directions stay), never the first pages' pairs alone,
// and not listed again at every price.
TEST_F(OxaPayIntegration, APairsListingPastItsPageCapIsAnErrorNeverAShortList) {
  sim::provider_config config = base_config();
  for (const char* receive : {"BTC", "ETH"}) {
    sim::direction_config d;
    d.spend = "USDT";
    d.receive = receive;
    d.min_spend = std::optional<decimal>(dec("5"));
    config.directions.push_back(d);
  }
  emulator_settings settings;
  settings.pairs_page_size = 1;
  start(config, settings);
  const auto listings = [&] {
    return test_support::count_requests(*server_, "/v1/general/swap/pairs");
  };

  client_options three_pages;
  three_pages.pairs_max_pages = 3;
  client whole(*http_, std::string(api_key), three_pages);
  auto all = run(whole.directions());
  ASSERT_TRUE(all.has_value()) << describe(all.error());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].code, "USDT-TRX");
  EXPECT_EQ((*all)[1].code, "USDT-BTC");
  EXPECT_EQ((*all)[2].code, "USDT-ETH");
  EXPECT_EQ(listings(), 3u);

  client_options two_pages;
  two_pages.pairs_max_pages = 2;
  client cut(*http_, std::string(api_key), two_pages);
  auto short_list = run(cut.directions());
  ASSERT_FALSE(short_list.has_value());
  EXPECT_EQ(short_list.error().kind, error_kind::bad_response);
  EXPECT_NE(short_list.error().message.find("past the 2 pages read"), std::string::npos)
      << short_list.error().message;
  EXPECT_EQ(listings(), 5u);
  // USDT-TRX is on page 1, but a price needs a whole listing first; the cut listing is not
  // sent again before pairs_max_age (at every price it would send the cap's pages each time).
  for (int i = 0; i < 3; ++i) {
    auto q = run(cut.price(usdt_trx("10")));
    ASSERT_FALSE(q.has_value());
    EXPECT_EQ(q.error().kind, error_kind::bad_response);
    EXPECT_NE(q.error().message.find("past the 2 pages read"), std::string::npos)
        << q.error().message;
  }
  EXPECT_EQ(listings(), 5u);
}

// The emulator's pairs page size set in a scenario file (providers.oxapay.oxapay.pairs_page_size)
// reaches it through settings_for: three pairs, one a page, take three listing requests.
TEST_F(OxaPayIntegration, PairsPageSizeFromTheScenarioFile) {
  const sim::scenario paged = sim::parse_scenario(R"(providers:
  oxapay:
    fee_percent: "0.4"
    spread: "0.1"
    directions:
      - {code: USDT-TRX, min_spend: "5"}
      - {code: USDT-BTC, min_spend: "5"}
      - {code: USDT-ETH, min_spend: "5"}
    balances: {USDT: "100"}
    credentials:
      - access_key: oxa_test_general_key
        secret: unused-by-oxapay
    oxapay: {pairs_page_size: 1}
)",
                                                  "paged.yaml");
  const sim::provider_config config = *paged.find_provider("oxapay");
  const emulator_settings settings = settings_for(config);
  EXPECT_EQ(settings.pairs_page_size, 1);
  start(config, settings);
  client c = make_client();
  auto all = run(c.directions());
  ASSERT_TRUE(all.has_value()) << describe(all.error());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].code, "USDT-TRX");
  EXPECT_EQ((*all)[1].code, "USDT-BTC");
  EXPECT_EQ((*all)[2].code, "USDT-ETH");
  EXPECT_EQ(test_support::count_requests(*server_, "/v1/general/swap/pairs"), 3u);
}

TEST_F(OxaPayIntegration, AuthErrorsAndRateLimits) {
  sim::provider_config config = base_config();
  config.rate_limits["/general/swap/calculate"] =
      sim::rate_limit_config{.limit = 1, .window = 60000ms};
  start(config);
  client wrong = make_client("wrong");
  auto refused = run(wrong.balances());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::auth);
  EXPECT_EQ(refused.error().http_status, 401);

  client c = make_client();
  auto first = run(c.price(usdt_trx("10")));
  ASSERT_TRUE(first.has_value()) << describe(first.error());
  // calculate answers 429 now: the quote comes from rate x amount.
  auto second = run(c.price(usdt_trx("10")));
  ASSERT_TRUE(second.has_value()) << describe(second.error());
  EXPECT_EQ(second->receive_net, first->receive_net);
  EXPECT_EQ(c.circuit(), circuit_state::closed);
}

// A key the scenario disables (credentials[].active: false) is refused like an unknown one.
TEST_F(OxaPayIntegration, ADisabledKeyIsRefused) {
  sim::provider_config config = base_config();
  config.credentials.front().active = false;
  start(config);
  client c = make_client();
  auto refused = run(c.balances());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::auth) << describe(refused.error());
  EXPECT_EQ(refused.error().http_status, 401);
  auto swapped = run(c.submit(leg_of("10"), client_id("disabled-1")));
  ASSERT_FALSE(swapped.has_value());
  EXPECT_EQ(swapped.error().http_status, 401);
  EXPECT_EQ(emulator_->swap_count(), 0u);
}

// The history's type is one of autoConvert, manualSwap, swapByApi (swap-history page): another
// value is a validation error naming the field, as sort_by and sort_type are; the emulator
// answered an empty list, which reads as "no such swap".
TEST_F(OxaPayIntegration, AHistoryTypeOutsideItsValuesIsRefused) {
  start();
  const auto history = [&](std::string_view query) {
    http_request r;
    r.method = "GET";
    r.target = "/v1/general/swap?" + std::string(query);
    r.headers.emplace_back("general_api_key", std::string(api_key));
    auto answer = run(http_->send(std::move(r), 2s));
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(http_response{});
  };
  for (std::string_view ok : {"type=swapByApi", "type=autoConvert", "type=manualSwap"}) {
    EXPECT_EQ(history(ok).status, 200) << ok;
  }
  const http_response refused = history("type=swapbyapi");
  EXPECT_EQ(refused.status, 400) << refused.body;
  auto body = parse_json_text(refused.body, "history");
  ASSERT_TRUE(body.has_value()) << refused.body;
  const json_value* error = body->member("error");
  ASSERT_NE(error, nullptr);
  ASSERT_NE(error->member("key"), nullptr) << refused.body;
  EXPECT_EQ(error->member("key")->text, "type");
}

}  // namespace
}  // namespace swaprouter::oxapay
