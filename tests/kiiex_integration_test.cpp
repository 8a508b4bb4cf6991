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

#include "adapters/kiiex/client.hpp"
#include "adapters/kiiex/emulator.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/cert_authority.hpp"
#include "engine/hmac.hpp"
#include "engine/http.hpp"

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

const cert_authority& test_ca() {
  static const cert_authority ca = cert_authority::generate("kiiex integration test CA");
  return ca;
}

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

  void start(std::string_view secret = test_secret) {
    market_.emplace(scenario_.market());
    sim::server_options options;
    options.tls = test_ca().issue(cert_options{});
    options.seed = scenario_.seed;
    server_.emplace(io_.get_executor(), std::move(options));
    emulator_.emplace(io_.get_executor(), *server_, *market_, config_, sim::emulator_options{},
                      settings_);
    server_->start();
    http_endpoint e;
    e.port = server_->port();
    e.extra_ca_pem = test_ca().ca_pem();
    e.only_extra_ca = true;
    e.pool_size = 2;
    http_ = make_http_client(io_.get_executor(), e);
    client_.emplace(*http_, std::string(test_key), "7", hmac_sha256(secret));
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(work), [&](std::exception_ptr e, T value) {
      failure = e;
      if (!e) out = std::move(value);
    });
    io_.restart();
    while (!out && !failure) io_.run_one();
    if (failure) std::rethrow_exception(failure);
    return std::move(*out);
  }

  static asio::awaitable<bool> pause(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
    co_return true;
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

  sim::scenario scenario_;
  sim::provider_config config_;
  emulator_settings settings_;
  asio::io_context io_;
  std::optional<sim::market> market_;
  std::optional<sim::server> server_;
  std::optional<emulator> emulator_;
  std::unique_ptr<http_client> http_;
  std::optional<client> client_;
};

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

TEST_F(KiiexIntegration, BuyQuoteEqualsFill) {
  start();
  auto q = price("COPM", "USDT", "10000000");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto s = submit(leg_for(*q, dec("10000000"), tolerant(q->receive_net)), "it-buy-1");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto done = run(poll_final(*client_, s->ref));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->state, leg_state::filled);
  EXPECT_EQ(done->spend_filled, q->spend_amount);
  EXPECT_EQ(done->receive_filled - done->fee_filled, q->receive_net);
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

TEST_F(KiiexIntegration, WrongSecretIsRefused) {
  start("not-the-secret");
  auto b = run(client_->balances());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().kind, error_kind::auth);
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

TEST_F(KiiexIntegration, DuplicateClientOrderIdAndInsufficientFundsAreRejected) {
  config_.fill_delay = 2000ms;
  start();
  auto q = price("USDT", "COPM", "100");
  ASSERT_TRUE(q.has_value()) << q.error().message;
  ASSERT_TRUE(submit(leg_for(*q, dec("100"), q->receive_net), "it-dup").has_value());
  auto dup = submit(leg_for(*q, dec("100"), q->receive_net), "it-dup");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().kind, error_kind::rejected);
  EXPECT_EQ(dup.error().provider_code, "Invalid_ClientOrderId");
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
  auto found = run(client_->find(id, l));
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, leg_state::filled);
  const client_id other("it-find-none");
  auto none = run(client_->find(other, l));
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace swaprouter::kiiex
