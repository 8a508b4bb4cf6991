// Live mode's provider factory (cli/providers.hpp) against a real emulator over loopback TLS: a
// configured account gets its adapter under its configured name, trusts only its ca_file, sees
// only its configured assets and draws on its configured request budget; a base URL path the
// API does not live under is refused naming the key.
#include "cli/providers.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/fleet.hpp"
#include "engine/cert_authority.hpp"
#include "engine/quoter.hpp"
#include "tests/support/run_task.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view scenario_yaml = R"(
seed: 9
volatility: 0
tick_ms: 0
providers:
  onek:
    port: 0
    directions: [USDT-COPM, USDT-USDC]
    balances: {USDT: "10000", COPM: "1000000", USDC: "10000"}
    credentials:
      - access_key: providers-test-key
        secret: providers-test-secret
    fill_delay_ms: 50
)";

class ConfiguredProviders : public ::testing::Test {
 protected:
  ConfiguredProviders() {
    loaded_.path = "providers_test";
    loaded_.scenario = sim::parse_scenario(scenario_yaml, loaded_.path);
    loaded_.market = std::make_unique<sim::market>(loaded_.scenario.market());
    cli::fleet_options f;
    f.ephemeral_ports = true;
    fleet_.emplace(io_, loaded_, f);
    dir_ = fs::temp_directory_path() / ("providers-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ca_file_ = (dir_ / "ca.pem").string();
    EXPECT_TRUE(fleet_->ca()->write_ca_pem(ca_file_));
  }

  ~ConfiguredProviders() override {
    providers_.clear();
    fleet_->stop();
    io_.restart();
    io_.run_for(200ms);
    fleet_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  config::engine_config load(std::string_view path_suffix, const std::string& ca_file) {
    const std::string yaml = "providers:\n  onek-treasury:\n    kind: onek\n    base_url: " +
                             fleet_->providers().front().server->base_url() +
                             std::string(path_suffix) + "\n    ca_file: " + ca_file +
                             "\n    credentials:\n      access_key: ${T_KEY}\n"
                             "      secret: ${T_SECRET}\n    assets: [USDT, COPM]\n"
                             "    rate_limits: {swaps: 1/min}\n";
    config::load_options options;
    options.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "T_KEY") return "providers-test-key";
      if (name == "T_SECRET") return "providers-test-secret";
      return std::nullopt;
    };
    auto loaded = config::parse_engine_config(yaml, "providers_test.yaml", options);
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().what());
    return loaded.config;
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  asio::io_context io_;
  cli::loaded_scenario loaded_;
  std::optional<cli::fleet> fleet_;
  fs::path dir_;
  std::string ca_file_;
  std::vector<cli::configured_provider> providers_;
};

TEST_F(ConfiguredProviders, AnAccountTradesUnderItsNameWithinItsAssetsAndBudget) {
  const config::engine_config configured = load("/api/v1", ca_file_);
  EXPECT_TRUE(cli::has_credentials(configured));
  providers_ = cli::connect_providers(io_.get_executor(), configured);
  ASSERT_EQ(providers_.size(), 1u);
  venue& account = *providers_.front().engine_view;
  EXPECT_EQ(account.id(), "onek-treasury");
  EXPECT_EQ(providers_.front().kind, "onek");

  const auto listed = run(account.directions()).value();
  ASSERT_EQ(listed.size(), 1u);  // USDT-USDC is outside the configured assets
  EXPECT_EQ(listed.front().code, "USDT-COPM");
  EXPECT_EQ(listed.front().provider, "onek-treasury");
  quote_request outside;
  outside.spend_asset = "USDT";
  outside.receive_asset = "USDC";
  outside.amount = decimal::from_int(100);
  EXPECT_EQ(run(account.pricing_for(outside)).error().kind, error_kind::invalid_argument);

  swap_intent intent;
  intent.spend_asset = "USDT";
  intent.receive_asset = "COPM";
  intent.amount = decimal::from_int(100);
  const std::vector<venue*> venues{&account};
  const auto quoted = run(quote_and_plan(venues, intent, planner_options{}, 2s));
  ASSERT_TRUE(quoted.result.ok()) << quoted.result.failure;
  EXPECT_EQ(quoted.result.routes.front().legs.front().order.provider, "onek-treasury");

  // swaps: 1/min: the first swap is sent, the second refused before anything leaves.
  const leg order = quoted.result.routes.front().legs.front().order;
  EXPECT_TRUE(run(account.submit(order, "P-1")).has_value());
  const auto refused = run(account.submit(order, "P-2"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, error_kind::rate_limited);
  EXPECT_FALSE(refused.error().may_have_reached);
  std::size_t opens = 0;
  for (const auto& r : fleet_->providers().front().server->requests()) {
    opens += r.method == "POST" && r.target.find("/swap/open") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(opens, 1u);
}

TEST_F(ConfiguredProviders, TlsTrustsOnlyTheConfiguredCaFile) {
  const std::string other = (dir_ / "other-ca.pem").string();
  ASSERT_TRUE(cert_authority::generate("another CA").write_ca_pem(other));
  providers_ = cli::connect_providers(io_.get_executor(), load("/api/v1", other));
  ASSERT_EQ(providers_.size(), 1u);
  const auto listed = run(providers_.front().engine_view->directions());
  ASSERT_FALSE(listed.has_value());
  EXPECT_EQ(listed.error().kind, error_kind::tls);
  EXPECT_TRUE(fleet_->providers().front().server->requests().empty());
}

TEST_F(ConfiguredProviders, ABaseUrlPathTheApiDoesNotLiveUnderIsRefused) {
  try {
    providers_ = cli::connect_providers(io_.get_executor(), load("/api/v2", ca_file_));
    FAIL() << "connected";
  } catch (const cli::fleet_error& e) {
    EXPECT_EQ(e.exit_code(), cli::exit_usage);
    EXPECT_NE(std::string(e.what()).find("providers.onek-treasury.base_url"), std::string::npos)
        << e.what();
  }
}

// An OxaPay account's pairs_max_pages (docs/config.md) reaches its adapter, against an emulator
// whose pairs page size comes from the scenario (providers.oxapay.oxapay.pairs_page_size): three
// pairs one a page are read whole with 3 pages allowed, and are an error with 2.
TEST(ConfiguredOxaPay, PairsMaxPagesFromTheConfigurationMeetsTheScenariosPageSize) {
  asio::io_context io;
  cli::loaded_scenario loaded;
  loaded.path = "providers_test_oxapay";
  loaded.scenario = sim::parse_scenario(R"(
seed: 9
volatility: 0
tick_ms: 0
providers:
  oxapay:
    port: 0
    directions: [USDT-TRX, USDT-BTC, USDT-ETH]
    balances: {USDT: "10000"}
    credentials:
      - access_key: providers-test-oxapay-key
        secret: unused-by-oxapay
    oxapay: {pairs_page_size: 1}
)",
                                        loaded.path);
  loaded.market = std::make_unique<sim::market>(loaded.scenario.market());
  cli::fleet_options f;
  f.ephemeral_ports = true;
  std::optional<cli::fleet> running;
  running.emplace(io, loaded, f);
  const fs::path dir =
      fs::temp_directory_path() / ("providers-test-oxapay-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string ca_file = (dir / "ca.pem").string();
  ASSERT_TRUE(running->ca()->write_ca_pem(ca_file));
  const auto listing = [&](int pages) {
    const std::string yaml =
        "providers:\n  oxapay:\n    base_url: " + running->providers().front().server->base_url() +
        "\n    ca_file: " + ca_file + "\n    credentials:\n      api_key: ${O_KEY}\n" +
        "    pairs_max_pages: " + std::to_string(pages) + "\n";
    config::load_options options;
    options.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "O_KEY") return "providers-test-oxapay-key";
      return std::nullopt;
    };
    auto loaded_config = config::parse_engine_config(yaml, "providers_test.yaml", options);
    EXPECT_TRUE(loaded_config.ok())
        << (loaded_config.errors.empty() ? "" : loaded_config.errors.front().what());
    auto providers = cli::connect_providers(io.get_executor(), loaded_config.config);
    EXPECT_EQ(providers.size(), 1u);
    return test_support::run_task(io, providers.front().engine_view->directions());
  };
  const auto whole = listing(3);
  ASSERT_TRUE(whole.has_value()) << describe(whole.error());
  EXPECT_EQ(whole->size(), 3u);
  const auto cut = listing(2);
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().kind, error_kind::bad_response);
  EXPECT_NE(cut.error().message.find("past the 2 pages read"), std::string::npos)
      << cut.error().message;
  std::size_t pages = 0;
  for (const auto& r : running->providers().front().server->requests()) {
    pages += r.target.find("/general/swap/pairs") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(pages, 5u);
  running->stop();
  io.restart();
  io.run_for(200ms);
  running.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace swaprouter
