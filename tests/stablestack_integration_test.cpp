// StableStack adapter against its emulator over loopback TLS: firm quote -> execute -> final
// state, expired quote refused then refreshed, ambiguous execute reconciled by find(), auth
// errors, 429 and exact balance movements.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "adapters/sim/market.hpp"
#include "adapters/sim/server.hpp"
#include "adapters/stablestack/client.hpp"
#include "adapters/stablestack/emulator.hpp"
#include "engine/cert_authority.hpp"
#include "tests/support/loopback_tls.hpp"
#include "tests/support/request_log.hpp"
#include "tests/support/run_task.hpp"
#include "tests/support/run_together.hpp"

namespace swaprouter::stablestack {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view api_key = "ss_test_key_0001";

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

using test_support::test_ca;

class StableStackIntegration : public ::testing::Test {
 protected:
  void start(sim::provider_config config = base_config()) {
    sim::market_config m;
    m.assets = sim::default_assets();
    m.rates[{"USDT", "USDC"}] = dec("0.99");
    market_.emplace(m);
    sim::server_options options;
    options.tls = test_ca().issue(cert_options{});
    server_.emplace(io_.get_executor(), std::move(options));
    emulator_.emplace(io_.get_executor(), *server_, *market_, std::move(config));
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
    c.name = "stablestack";
    sim::direction_config d;
    d.spend = "USDT";
    d.receive = "USDC";
    c.directions.push_back(d);
    c.fee_percent = dec("0.5");
    c.spread = dec("0");
    c.balances["USDT"] = dec("1000");
    c.balances["USDC"] = dec("10");
    sim::credential_config key;
    key.access_key = std::string(api_key);
    c.credentials.push_back(key);
    c.fill_delay = 100ms;
    return c;
  }

  static client_options options() {
    client_options o;
    direction d;
    d.spend_asset = "USDT";
    d.receive_asset = "USDC";
    d.enabled = true;
    d.spend_precision = 8;
    d.receive_precision = 8;
    o.directions.push_back(d);
    return o;
  }

  client make_client(std::string key = std::string(api_key)) {
    return client(*http_, std::move(key), options());
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  void wait(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  static quote_request usdt_usdc(std::string_view amount) {
    return quote_request{"USDT", "USDC", amount_side::spend, dec(amount)};
  }

  static leg leg_for(const quote& q) {
    leg l;
    l.provider = "stablestack";
    l.direction_code = q.direction_code;
    l.spend_asset = q.spend_asset;
    l.receive_asset = q.receive_asset;
    l.amount = q.spend_amount;
    l.min_receive = q.receive_net;
    l.quote_id = q.quote_id;
    return l;
  }

  std::size_t posts_to(std::string_view route) const {
    return test_support::count_requests(*server_, route, "POST");
  }

  asio::io_context io_;
  std::optional<sim::market> market_;
  std::optional<sim::server> server_;
  std::optional<emulator> emulator_;
  std::unique_ptr<http_client> http_;
};

TEST_F(StableStackIntegration, QuoteExecuteFillAndBalancesMoveExactly) {
  start();
  client c = make_client();
  auto q = run(c.price(usdt_usdc("20")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  EXPECT_TRUE(q->firm);
  EXPECT_EQ(q->model, pricing_model::firm_quote);
  // 20 * 0.99 = 19.8, less 0.5 %: 19.701.
  EXPECT_EQ(q->receive_net, dec("19.701"));
  ASSERT_TRUE(q->valid_until.has_value());
  EXPECT_EQ(*q->valid_until - q->obtained_at, 15s);

  auto submitted = run(c.submit(leg_for(*q), "intent-1/leg-0"));
  ASSERT_TRUE(submitted.has_value()) << describe(submitted.error());
  EXPECT_EQ(submitted->state, leg_state::open);
  EXPECT_EQ(submitted->provider_status, "PENDING/PENDING");
  EXPECT_EQ(submitted->direction_code, "USDT-USDC");
  EXPECT_EQ(submitted->spend_amount, dec("20"));
  EXPECT_EQ(submitted->receive_amount, dec("19.701"));

  wait(300ms);
  auto final_state = run(c.status(submitted->ref));
  ASSERT_TRUE(final_state.has_value()) << describe(final_state.error());
  EXPECT_EQ(final_state->state, leg_state::filled);
  EXPECT_EQ(final_state->receive_filled, dec("19.701"));

  auto balances = run(c.balances());
  ASSERT_TRUE(balances.has_value()) << describe(balances.error());
  std::map<std::string, decimal> by_asset;
  for (const auto& b : *balances) by_asset[b.asset] = b.available;
  EXPECT_EQ(by_asset["USDT"], dec("980"));
  EXPECT_EQ(by_asset["USDC"], dec("29.701"));
}

TEST_F(StableStackIntegration, ExpiredQuoteIsRefusedThenRefreshed) {
  start();
  client c = make_client();
  auto q = run(c.price(usdt_usdc("20")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  // The provider's clock moves past expires_at; the client still believes the quote valid.
  emulator_->set_clock_offset(20s);
  auto refused = run(c.submit(leg_for(*q), "intent-2/leg-0"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::rejected) << describe(refused.error());
  EXPECT_EQ(refused.error().provider_code, "INVALID_PARAMETER");
  EXPECT_EQ(emulator_->swap_count(), 0u);

  auto renewed = run(c.refresh(q->quote_id));
  ASSERT_TRUE(renewed.has_value()) << describe(renewed.error());
  EXPECT_EQ(renewed->quote_id, q->quote_id);
  EXPECT_GT(*renewed->valid_until, *q->valid_until);
  auto submitted = run(c.submit(leg_for(*renewed), "intent-2/leg-0"));
  ASSERT_TRUE(submitted.has_value()) << describe(submitted.error());
  EXPECT_EQ(emulator_->swap_count(), 1u);
}

TEST_F(StableStackIntegration, AmbiguousExecuteIsReconciledByFindNeverResent) {
  start();
  client c = make_client();
  auto q = run(c.price(usdt_usdc("25")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  sim::fault reset;
  reset.kind = sim::fault_kind::reset_after;
  reset.remaining = 1;
  reset.method = "POST";
  server_->faults().set("/api/swaps", reset);
  const leg l = leg_for(*q);
  auto submitted = run(c.submit(l, "intent-3/leg-0"));
  ASSERT_FALSE(submitted.has_value());
  EXPECT_EQ(submitted.error().kind, error_kind::unknown_outcome) << describe(submitted.error());
  EXPECT_TRUE(submitted.error().may_have_reached);
  EXPECT_EQ(emulator_->swap_count(), 1u);

  auto found = run(c.find("intent-3/leg-0", l, {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref.client, "intent-3/leg-0");
  EXPECT_EQ((*found)->spend_amount, dec("25"));
  EXPECT_FALSE((*found)->ref.provider_ref.empty());
  EXPECT_EQ(posts_to("/api/swaps"), 1u);
  EXPECT_EQ(emulator_->swap_count(), 1u);
  wait(300ms);
  auto final_state = run(c.status((*found)->ref));
  ASSERT_TRUE(final_state.has_value()) << describe(final_state.error());
  EXPECT_EQ(final_state->state, leg_state::filled);
}

TEST_F(StableStackIntegration, FindAnswersNoneWhenNothingWasCreated) {
  start();
  client c = make_client();
  auto q = run(c.price(usdt_usdc("7")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  sim::fault reset;
  reset.kind = sim::fault_kind::reset_before;
  reset.remaining = 1;
  server_->faults().set("/api/swaps", reset);
  auto submitted = run(c.submit(leg_for(*q), "intent-4/leg-0"));
  ASSERT_FALSE(submitted.has_value());
  EXPECT_EQ(submitted.error().kind, error_kind::unknown_outcome);
  auto found = run(c.find("intent-4/leg-0", leg_for(*q), {}));
  ASSERT_TRUE(found.has_value()) << describe(found.error());
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(emulator_->swap_count(), 0u);
}

// Overlapping quotes, swaps and reads on one client (the first quote held back so the second
// answers first): every call answers exactly what it would alone, and each swap executes its own
// quote.
TEST_F(StableStackIntegration, OverlappingCallsAnswerAsAlone) {
  start();
  client c = make_client();
  server_->faults().set("/api/instant-swaps", sim::delay_once(200ms));
  auto [twenty, seven, dirs, held] = test_support::run_together(
      io_, c.price(usdt_usdc("20")), c.price(usdt_usdc("7")), c.directions(), c.balances());
  ASSERT_TRUE(twenty.has_value()) << describe(twenty.error());
  EXPECT_EQ(twenty->spend_amount, dec("20"));
  EXPECT_EQ(twenty->receive_net, dec("19.701"));
  ASSERT_TRUE(seven.has_value()) << describe(seven.error());
  EXPECT_EQ(seven->spend_amount, dec("7"));
  // 7 * 0.99 = 6.93, less 0.5 %: 6.89535.
  EXPECT_EQ(seven->receive_net, dec("6.89535"));
  EXPECT_NE(twenty->quote_id, seven->quote_id);
  ASSERT_TRUE(dirs.has_value()) << describe(dirs.error());
  ASSERT_EQ(dirs->size(), 1u);
  EXPECT_EQ(dirs->at(0).code, "USDT-USDC");
  ASSERT_TRUE(held.has_value()) << describe(held.error());

  auto [a, b] = test_support::run_together(io_, c.submit(leg_for(*twenty), "intent-7/leg-0"),
                                           c.submit(leg_for(*seven), "intent-8/leg-0"));
  ASSERT_TRUE(a.has_value()) << describe(a.error());
  ASSERT_TRUE(b.has_value()) << describe(b.error());
  EXPECT_EQ(a->ref.client, "intent-7/leg-0");
  EXPECT_EQ(a->spend_amount, dec("20"));
  EXPECT_EQ(a->receive_amount, dec("19.701"));
  EXPECT_EQ(b->ref.client, "intent-8/leg-0");
  EXPECT_EQ(b->spend_amount, dec("7"));
  EXPECT_EQ(b->receive_amount, dec("6.89535"));
  EXPECT_NE(a->ref.provider_ref, b->ref.provider_ref);
  wait(300ms);
  auto balances = run(c.balances());
  ASSERT_TRUE(balances.has_value()) << describe(balances.error());
  std::map<std::string, decimal> by_asset;
  for (const auto& x : *balances) by_asset[x.asset] = x.available;
  EXPECT_EQ(by_asset["USDT"], dec("973"));
  EXPECT_EQ(by_asset["USDC"], dec("36.59635"));
}

// Two ambiguous submits of the same amount, only the first of which created a swap, reconciled by
// two overlapping find()s: exactly one adopts the swap, as when they run one after the other. The
// known-swap check is made again after find()'s last wait: both once adopted it.
TEST_F(StableStackIntegration, OverlappingFindsAdoptOneSwapOnce) {
  start();
  client c = make_client();
  auto q = run(c.price(usdt_usdc("25")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  const leg l = leg_for(*q);
  sim::fault lost;
  lost.kind = sim::fault_kind::reset_after;
  lost.remaining = 1;
  lost.method = "POST";
  server_->faults().set("/api/swaps", lost);
  auto created = run(c.submit(l, "intent-9/leg-0"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, error_kind::unknown_outcome);
  sim::fault refused;
  refused.kind = sim::fault_kind::reset_before;
  refused.remaining = 1;
  refused.method = "POST";
  server_->faults().set("/api/swaps", refused);
  auto not_created = run(c.submit(l, "intent-10/leg-0"));
  ASSERT_FALSE(not_created.has_value());
  EXPECT_EQ(not_created.error().kind, error_kind::unknown_outcome);
  EXPECT_EQ(emulator_->swap_count(), 1u);
  // The first find() to ask for the swap's legs waits for them while the other lists, asks and
  // adopts.
  server_->faults().set("/api/customers/transactions/by_ref_id/{id}", sim::delay_once(200ms));

  auto [first, second] = test_support::run_together(io_, c.find("intent-9/leg-0", l, {}),
                                                    c.find("intent-10/leg-0", l, {}));
  ASSERT_TRUE(first.has_value()) << describe(first.error());
  ASSERT_TRUE(second.has_value()) << describe(second.error());
  ASSERT_EQ(first->has_value() + second->has_value(), 1);
  const leg_status& adopted = first->has_value() ? **first : **second;
  EXPECT_EQ(adopted.spend_amount, dec("25"));
  EXPECT_EQ(adopted.direction_code, "USDT-USDC");
  EXPECT_FALSE(adopted.ref.provider_ref.empty());
  EXPECT_EQ(emulator_->swap_count(), 1u);
  // The swap is known now: neither finds it again.
  auto again = run(c.find("intent-10/leg-0", l, {}));
  ASSERT_TRUE(again.has_value()) << describe(again.error());
  EXPECT_FALSE(again->has_value());
}

TEST_F(StableStackIntegration, AuthErrors) {
  start();
  client wrong = make_client("not-a-key");
  auto refused = run(wrong.price(usdt_usdc("20")));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::auth);
  EXPECT_EQ(refused.error().provider_code, "INVALID_TOKEN");
  EXPECT_EQ(refused.error().http_status, 401);

  http_request r;
  r.target = "/api/wallets";
  auto missing = run(http_->send(r, 2s));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(parse_error_body(missing->body).code, "MISSING_TOKEN");
  // The general auth page's Bearer form is accepted too.
  r.headers.emplace_back("Authorization", "Bearer " + std::string(api_key));
  auto bearer = run(http_->send(r, 2s));
  ASSERT_TRUE(bearer.has_value());
  EXPECT_EQ(bearer->status, 200);
}

TEST_F(StableStackIntegration, RateLimitAndInsufficientBalance) {
  sim::provider_config config = base_config();
  config.rate_limits["/instant-swaps"] = sim::rate_limit_config{.limit = 2, .window = 60000ms};
  start(config);
  client c = make_client();
  auto q = run(c.price(usdt_usdc("5000")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  auto poor = run(c.submit(leg_for(*q), "intent-5/leg-0"));
  ASSERT_FALSE(poor.has_value());
  EXPECT_EQ(poor.error().kind, error_kind::rejected) << describe(poor.error());
  EXPECT_EQ(emulator_->swap_count(), 0u);

  ASSERT_TRUE(run(c.price(usdt_usdc("1"))).has_value());
  auto limited = run(c.price(usdt_usdc("1")));
  ASSERT_FALSE(limited.has_value());
  EXPECT_EQ(limited.error().kind, error_kind::rate_limited);
  EXPECT_EQ(limited.error().http_status, 429);
  ASSERT_TRUE(limited.error().retry_after_seconds.has_value());
  EXPECT_GE(*limited.error().retry_after_seconds, 1);
}

TEST_F(StableStackIntegration, FailedSwapReversesTheDebit) {
  sim::provider_config config = base_config();
  config.failure_rate = 1.0;
  start(config);
  client c = make_client();
  auto q = run(c.price(usdt_usdc("40")));
  ASSERT_TRUE(q.has_value()) << describe(q.error());
  auto submitted = run(c.submit(leg_for(*q), "intent-6/leg-0"));
  ASSERT_TRUE(submitted.has_value()) << describe(submitted.error());
  wait(300ms);
  auto final_state = run(c.status(submitted->ref));
  ASSERT_TRUE(final_state.has_value()) << describe(final_state.error());
  EXPECT_EQ(final_state->state, leg_state::failed);
  EXPECT_EQ(final_state->provider_status, "REVERSED/FAILED");
  EXPECT_EQ(emulator_->account().balance("USDT").available, dec("1000"));
  EXPECT_EQ(emulator_->account().balance("USDT").frozen, dec("0"));
  EXPECT_EQ(emulator_->account().balance("USDC").available, dec("10"));
}

// customer_id is "string<uuid> | null" (the seed): an id that is not a uuid names no customer and
// is refused, where the emulator opened a funded account for any text.
TEST_F(StableStackIntegration, ACustomerIdThatIsNotAUuidIsRefused) {
  start();
  const auto quote_for = [&](std::string_view customer) {
    http_request r;
    r.method = "POST";
    r.target = "/api/instant-swaps";
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("x-api-key", std::string(api_key));
    r.body = R"({"customer_id":")" + std::string(customer) +
             R"(","from_currency":"USDT","to_currency":"USDC","amount":"20"})";
    auto answer = run(http_->send(std::move(r), 2s));
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(http_response{});
  };
  const http_response uuid = quote_for("85b148ab-3f6b-4d55-917f-3c8de668a48e");
  EXPECT_EQ(uuid.status, 200) << uuid.body;
  for (std::string_view bad :
       {"c-17", "85b148ab3f6b4d55917f3c8de668a48e", "85b148ab-3f6b-4d55-917f-3c8de668a48",
        "zzzzzzzz-3f6b-4d55-917f-3c8de668a48e"}) {
    const http_response refused = quote_for(bad);
    EXPECT_EQ(refused.status, 400) << bad << ": " << refused.body;
    EXPECT_EQ(parse_error_body(refused.body).code, "INVALID_PARAMETER") << bad;
  }
}

// A key the scenario disables (credentials[].active: false) is refused like an unknown one, as
// the 001k emulator does; StableStack and OxaPay served it.
TEST_F(StableStackIntegration, ADisabledKeyIsRefused) {
  sim::provider_config config = base_config();
  config.credentials.front().active = false;
  start(config);
  client c = make_client();
  auto refused = run(c.price(usdt_usdc("20")));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::auth) << describe(refused.error());
  EXPECT_EQ(refused.error().provider_code, "INVALID_TOKEN");
  EXPECT_EQ(refused.error().http_status, 401);
}

}  // namespace
}  // namespace swaprouter::stablestack
