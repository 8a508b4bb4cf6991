// The scenario file: typed values, defaults and errors that point at the file, line, column and
// key path.
#include "adapters/sim/scenario.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#ifndef SWAPROUTER_SOURCE_DIR
#error "SWAPROUTER_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

namespace swaprouter::sim {
namespace {

decimal d(std::string_view text) { return decimal::parse(text).value(); }

// Parses `yaml` and returns the error it must raise.
scenario_error error_of(const std::string& yaml) {
  try {
    (void)parse_scenario(yaml, "test.yaml");
  } catch (const scenario_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return scenario_error("", 0, 0, "", "");
}

TEST(scenario, default_scenario_loads) {
  const scenario s = load_scenario(std::string(SWAPROUTER_SOURCE_DIR) + "/config/scenario.yaml");
  const provider_config* onek = s.find_provider("onek");
  ASSERT_NE(onek, nullptr);
  EXPECT_TRUE(onek->enabled);
  EXPECT_TRUE(onek->tls);
  EXPECT_EQ(onek->port, 18001);
  EXPECT_FALSE(onek->directions.empty());
  ASSERT_FALSE(onek->credentials.empty());
  EXPECT_TRUE(onek->credentials.front().allows("allow_swap"));
  EXPECT_NE(onek->find_direction("USDT-COPM"), nullptr);
  // The market it describes can be built.
  market m(s.market());
  EXPECT_TRUE(m.mid_rate("USDT", "COPM")->is_positive());
}

TEST(scenario, documented_example_loads) {
  // The last YAML block of docs/scenario.md is a complete scenario.
  std::ifstream in(std::string(SWAPROUTER_SOURCE_DIR) + "/docs/scenario.md");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto start = doc.rfind("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const auto end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const scenario s = parse_scenario(doc.substr(start + 8, end - start - 8), "docs/scenario.md");
  ASSERT_NE(s.find_provider("onek"), nullptr);
  EXPECT_EQ(s.find_provider("onek")->directions.size(), 3u);
}

TEST(scenario, reads_every_key) {
  const scenario s = parse_scenario(R"(
seed: 77
volatility: 0.002
tick_ms: 250
assets:
  BTC: "70000"
  USDT: {price: "1.0001", volatility: 0}
  XAU: {price: 2300.5, name: Gold, precision: 3, fiat: false, stable: false}
rates:
  USDT-COPM: "3990.25"
providers:
  onek:
    port: 0
    tls: false
    fee_percent: "0.3"
    spread: 0.15
    min_spend_usd: "5"
    max_spend_usd: null
    directions:
      - USDT-COPM
      - code: BTC-USDT
        enabled: false
        fee_percent: "0.1"
        spread: "0"
        min_spend: "0.001"
        max_spend: null
        min_receive: "50"
        max_receive: "1000000"
        spend_precision: 8
        receive_precision: 2
    balances: {USDT: "1000.123456", BTC: 1}
    credentials:
      - access_key: k1
        secret: s1
        permissions: [allow_balance]
        active: false
        user_active: false
        ip_allow: [127.0.0.1, "10.0.0.0/8", "::1"]
      - {access_key: k2, secret: s2}
    latency: {p50_ms: 10, p99_ms: 50}
    fill_delay_ms: 1200
    cancel_delay_ms: 40
    failure_rate: 0.25
    clock_offset_ms: -10000
    rate_limits:
      /swap/open: 5
      /balance: {limit: 2, window_ms: 1000}
    session: {idle_timeout_ms: 60000, max_age_ms: 120000}
    faults:
      - {route: /api/v1/swap/open, kind: status, status: 429, retry_after_seconds: 7, remaining: 1}
      - {route: "*", kind: delay, delay_ms: 5, delay_max_ms: 10, probability: 0.5, method: GET}
  kiiex:
    enabled: false
)",
                                    "inline.yaml");
  EXPECT_EQ(s.source, "inline.yaml");
  EXPECT_EQ(s.seed, 77u);
  EXPECT_DOUBLE_EQ(s.volatility, 0.002);
  EXPECT_EQ(s.tick, std::chrono::milliseconds(250));
  market m(s.market());
  EXPECT_EQ(*m.mid_usd("BTC"), d("70000"));
  EXPECT_EQ(*m.mid_usd("XAU"), d("2300.5"));
  EXPECT_EQ(m.find_asset("XAU")->name, "Gold");
  EXPECT_EQ(m.find_asset("XAU")->precision, 3);
  EXPECT_EQ(*m.mid_rate("USDT", "COPM"), d("3990.25"));
  m.advance(std::chrono::seconds(10));
  EXPECT_EQ(*m.mid_usd("USDT"), d("1.0001"));  // its own volatility 0

  const provider_config& p = s.providers.at("onek");
  EXPECT_EQ(p.port, 0);
  EXPECT_FALSE(p.tls);
  EXPECT_EQ(p.fee_percent, d("0.3"));
  EXPECT_EQ(p.spread, d("0.15"));
  EXPECT_EQ(p.min_spend_usd, d("5"));
  EXPECT_FALSE(p.max_spend_usd.has_value());
  ASSERT_EQ(p.directions.size(), 2u);
  EXPECT_EQ(p.directions[0].code(), "USDT-COPM");
  EXPECT_TRUE(p.directions[0].enabled);
  EXPECT_FALSE(p.directions[0].fee_percent.has_value());
  const direction_config& btc = p.directions[1];
  EXPECT_FALSE(btc.enabled);
  EXPECT_EQ(btc.fee_percent, d("0.1"));
  EXPECT_EQ(btc.spread, d("0"));
  ASSERT_TRUE(btc.min_spend.has_value());
  EXPECT_EQ(*btc.min_spend, d("0.001"));
  ASSERT_TRUE(btc.max_spend.has_value());
  EXPECT_FALSE(btc.max_spend->has_value());  // given as null: no limit
  EXPECT_EQ(*btc.max_receive, d("1000000"));
  EXPECT_EQ(btc.spend_precision, 8);
  EXPECT_EQ(btc.receive_precision, 2);
  EXPECT_EQ(p.balances.at("USDT"), d("1000.123456"));
  EXPECT_EQ(p.balances.at("BTC"), d("1"));
  ASSERT_EQ(p.credentials.size(), 2u);
  const credential_config& k1 = p.credentials[0];
  EXPECT_EQ(k1.access_key, "k1");
  EXPECT_TRUE(k1.allows("allow_balance"));
  EXPECT_FALSE(k1.allows("allow_swap"));
  EXPECT_FALSE(k1.active);
  EXPECT_FALSE(k1.user_active);
  ASSERT_EQ(k1.ip_allow.size(), 3u);
  EXPECT_TRUE(k1.ip_allow[1].contains("10.200.3.4"));
  EXPECT_EQ(p.credentials[1].permissions.size(), known_permissions.size());
  EXPECT_TRUE(p.credentials[1].active);
  EXPECT_EQ(p.latency.p50, std::chrono::milliseconds(10));
  EXPECT_EQ(p.latency.p99, std::chrono::milliseconds(50));
  EXPECT_EQ(p.fill_delay, std::chrono::milliseconds(1200));
  EXPECT_EQ(p.cancel_delay, std::chrono::milliseconds(40));
  EXPECT_DOUBLE_EQ(p.failure_rate, 0.25);
  EXPECT_EQ(p.clock_offset, std::chrono::milliseconds(-10000));
  EXPECT_EQ(p.rate_limits.at("/swap/open").limit, 5);
  EXPECT_EQ(p.rate_limits.at("/swap/open").window, std::chrono::milliseconds(60000));
  EXPECT_EQ(p.rate_limits.at("/balance").limit, 2);
  EXPECT_EQ(p.rate_limits.at("/balance").window, std::chrono::milliseconds(1000));
  EXPECT_EQ(p.session.idle_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(p.session.max_age, std::chrono::milliseconds(120000));
  ASSERT_EQ(p.faults.size(), 2u);
  EXPECT_EQ(p.faults[0].route, "/api/v1/swap/open");
  EXPECT_EQ(p.faults[0].value.kind, fault_kind::status);
  EXPECT_EQ(p.faults[0].value.status, 429);
  EXPECT_EQ(p.faults[0].value.retry_after_seconds, 7);
  EXPECT_EQ(p.faults[0].value.remaining, 1);
  EXPECT_EQ(p.faults[1].value.kind, fault_kind::delay);
  EXPECT_EQ(p.faults[1].value.delay_max, std::chrono::milliseconds(10));
  EXPECT_DOUBLE_EQ(p.faults[1].value.probability, 0.5);
  EXPECT_EQ(p.faults[1].value.method, "GET");

  const provider_config& kiiex = s.providers.at("kiiex");
  EXPECT_FALSE(kiiex.enabled);
  EXPECT_EQ(kiiex.port, 18002);
  EXPECT_TRUE(kiiex.tls);
}

TEST(scenario, provider_defaults) {
  const scenario s = parse_scenario("providers: {onek: {}, stablestack: null, oxapay: {}}");
  EXPECT_EQ(s.providers.at("onek").port, 18001);
  EXPECT_EQ(s.providers.at("stablestack").port, 18003);
  EXPECT_EQ(s.providers.at("oxapay").port, 18004);
  const provider_config& onek = s.providers.at("onek");
  EXPECT_TRUE(onek.enabled);
  EXPECT_TRUE(onek.tls);
  EXPECT_EQ(onek.fee_percent, d("0.25"));
  EXPECT_EQ(onek.fill_delay, std::chrono::milliseconds(300));
  EXPECT_EQ(s.find_provider("kiiex"), nullptr);
  EXPECT_EQ(default_port("kiiex"), 18002);
}

TEST(scenario, unknown_top_level_key) {
  const auto e = error_of("seed: 1\nvolatilty: 0.1\n");
  EXPECT_EQ(e.file(), "test.yaml");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 1);
  EXPECT_EQ(e.key_path(), "volatilty");
  EXPECT_EQ(e.message(), "unknown key");
  EXPECT_EQ(std::string(e.what()), "test.yaml:2:1: volatilty: unknown key");
}

TEST(scenario, unknown_provider_is_an_error) {
  const auto e = error_of("providers:\n  onek: {}\n  binance: {}\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 3);
  EXPECT_EQ(e.key_path(), "providers.binance");
}

TEST(scenario, unknown_key_inside_a_direction) {
  const auto e = error_of(R"(providers:
  onek:
    directions:
      - USDT-COPM
      - code: BTC-USDT
        fee: "0.1"
)");
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.column(), 9);
  EXPECT_EQ(e.key_path(), "providers.onek.directions[1].fee");
}

TEST(scenario, kiiex_block) {
  const scenario s = parse_scenario(R"(providers:
  kiiex:
    kiiex:
      order_status_array: true
      book_levels: 4
      level_step_percent: "0.1"
      level_usd: "250.5"
      replenish_ms: 0
      oms_id: 2
      user_id: 11
      account_id: 13
      lockout_failures: 3
)");
  const kiiex_config& k = s.providers.at("kiiex").kiiex;
  EXPECT_EQ(k.order_status_array, true);
  EXPECT_EQ(k.book_levels, 4);
  EXPECT_EQ(k.level_step_percent, d("0.1"));
  EXPECT_EQ(k.level_usd, d("250.5"));
  EXPECT_EQ(k.replenish, std::chrono::milliseconds(0));
  EXPECT_EQ(k.oms_id, 2);
  EXPECT_EQ(k.user_id, 11);
  EXPECT_EQ(k.account_id, 13);
  EXPECT_EQ(k.lockout_failures, 3);
  // Unset keys stay unset: the emulator keeps its defaults.
  const scenario bare = parse_scenario("providers: {kiiex: {kiiex: {}}}");
  EXPECT_FALSE(bare.providers.at("kiiex").kiiex.order_status_array.has_value());

  const auto unknown = error_of("providers:\n  kiiex:\n    kiiex:\n      book_depth: 3\n");
  EXPECT_EQ(std::string(unknown.what()),
            "test.yaml:4:7: providers.kiiex.kiiex.book_depth: unknown key");
  const auto bad = error_of("providers:\n  kiiex:\n    kiiex: {book_levels: 0}\n");
  EXPECT_EQ(bad.line(), 3);
  EXPECT_EQ(bad.key_path(), "providers.kiiex.kiiex.book_levels");
  // The block belongs to KIIEX only.
  const auto elsewhere = error_of("providers:\n  onek:\n    kiiex: {}\n");
  EXPECT_EQ(std::string(elsewhere.what()), "test.yaml:3:5: providers.onek.kiiex: unknown key");
}

// The KIIEX emulator's GetTradesHistory page size comes from the file too: 0 (no limit) and up.
TEST(scenario, kiiex_trades_page_limit) {
  const scenario s =
      parse_scenario("providers:\n  kiiex:\n    kiiex: {trades_page_limit: 2}\n", "test.yaml");
  EXPECT_EQ(s.providers.at("kiiex").kiiex.trades_page_limit, 2);
  const scenario none = parse_scenario("providers: {kiiex: {kiiex: {trades_page_limit: 0}}}");
  EXPECT_EQ(none.providers.at("kiiex").kiiex.trades_page_limit, 0);
  EXPECT_FALSE(parse_scenario("providers: {kiiex: {kiiex: {}}}")
                   .providers.at("kiiex")
                   .kiiex.trades_page_limit.has_value());

  const auto negative = error_of("providers:\n  kiiex:\n    kiiex:\n      trades_page_limit: -1\n");
  EXPECT_EQ(std::string(negative.what()),
            "test.yaml:4:26: providers.kiiex.kiiex.trades_page_limit: must be between 0 and "
            "100000");
  const auto words = error_of("providers:\n  kiiex:\n    kiiex: {trades_page_limit: two}\n");
  EXPECT_EQ(words.line(), 3);
  EXPECT_EQ(words.key_path(), "providers.kiiex.kiiex.trades_page_limit");
  EXPECT_NE(words.message().find("expected an integer"), std::string::npos) << words.message();
}

// The KIIEX emulator charges its fee in the product an order gives when the file says so.
TEST(scenario, kiiex_fee_in_spent_product) {
  const scenario s =
      parse_scenario("providers:\n  kiiex:\n    kiiex: {fee_in_spent_product: true}\n");
  EXPECT_EQ(s.providers.at("kiiex").kiiex.fee_in_spent_product, true);
  EXPECT_FALSE(parse_scenario("providers: {kiiex: {kiiex: {}}}")
                   .providers.at("kiiex")
                   .kiiex.fee_in_spent_product.has_value());
  const auto words = error_of("providers:\n  kiiex:\n    kiiex:\n      fee_in_spent_product: 2\n");
  EXPECT_EQ(words.line(), 4);
  EXPECT_EQ(words.column(), 29);
  EXPECT_EQ(words.key_path(), "providers.kiiex.kiiex.fee_in_spent_product");
}

// The OxaPay emulator's pairs page size comes from its own block: 0 (one page) and up.
TEST(scenario, oxapay_pairs_page_size) {
  const scenario s =
      parse_scenario("providers:\n  oxapay:\n    oxapay: {pairs_page_size: 2}\n", "test.yaml");
  EXPECT_EQ(s.providers.at("oxapay").oxapay.pairs_page_size, 2);
  const scenario none = parse_scenario("providers: {oxapay: {oxapay: {pairs_page_size: 0}}}");
  EXPECT_EQ(none.providers.at("oxapay").oxapay.pairs_page_size, 0);
  EXPECT_FALSE(parse_scenario("providers: {oxapay: {oxapay: {}}}")
                   .providers.at("oxapay")
                   .oxapay.pairs_page_size.has_value());
  EXPECT_FALSE(
      parse_scenario("providers: {oxapay: {}}").providers.at("oxapay").oxapay.pairs_page_size);

  const auto negative = error_of("providers:\n  oxapay:\n    oxapay:\n      pairs_page_size: -1\n");
  EXPECT_EQ(std::string(negative.what()),
            "test.yaml:4:24: providers.oxapay.oxapay.pairs_page_size: must be between 0 and "
            "100000");
  const auto words = error_of("providers:\n  oxapay:\n    oxapay: {pairs_page_size: two}\n");
  EXPECT_EQ(words.line(), 3);
  EXPECT_EQ(words.key_path(), "providers.oxapay.oxapay.pairs_page_size");
  EXPECT_NE(words.message().find("expected an integer"), std::string::npos) << words.message();
  const auto unknown = error_of("providers:\n  oxapay:\n    oxapay: {page_size: 2}\n");
  EXPECT_EQ(unknown.key_path(), "providers.oxapay.oxapay.page_size");
  // The block belongs to OxaPay only.
  const auto elsewhere = error_of("providers:\n  kiiex:\n    oxapay: {}\n");
  EXPECT_EQ(std::string(elsewhere.what()), "test.yaml:3:5: providers.kiiex.oxapay: unknown key");
}

TEST(scenario, bad_value_names_its_key_path) {
  const auto e = error_of(R"(providers:
  onek:
    directions:
      - USDT-COPM
      - code: BTC-USDT
        fee_percent: cheap
)");
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.column(), 22);
  EXPECT_EQ(e.key_path(), "providers.onek.directions[1].fee_percent");
  EXPECT_NE(e.message().find("decimal"), std::string::npos) << e.message();
}

TEST(scenario, value_errors) {
  EXPECT_EQ(error_of("providers: {onek: {port: 70000}}").key_path(), "providers.onek.port");
  EXPECT_EQ(error_of("providers: {onek: {tls: yes}}").key_path(), "providers.onek.tls");
  EXPECT_EQ(error_of("providers: {onek: {failure_rate: 1.5}}").key_path(),
            "providers.onek.failure_rate");
  EXPECT_EQ(error_of("providers: {onek: {fee_percent: '-1'}}").key_path(),
            "providers.onek.fee_percent");
  EXPECT_EQ(error_of("seed: -3").key_path(), "seed");
  EXPECT_EQ(error_of("assets: {BTC: '0'}").key_path(), "assets.BTC");
  EXPECT_EQ(error_of("assets: {XAU: {name: Gold}}").key_path(), "assets.XAU");
  EXPECT_EQ(error_of("assets: {btc: '1'}").key_path(), "assets.btc");
  EXPECT_EQ(error_of("rates: {USDT-XYZ: '1'}").key_path(), "rates.USDT-XYZ");
  EXPECT_EQ(error_of("rates: {USDTCOPM: '1'}").key_path(), "rates.USDTCOPM");
  EXPECT_EQ(error_of("providers: {onek: {directions: [USDT-USDT]}}").key_path(),
            "providers.onek.directions[0]");
  EXPECT_EQ(error_of("providers: {onek: {directions: [USDT-COPM, USDT-COPM]}}").key_path(),
            "providers.onek.directions[1]");
  EXPECT_EQ(error_of("providers: {onek: {balances: {XYZ: '1'}}}").key_path(),
            "providers.onek.balances.XYZ");
  EXPECT_EQ(error_of("providers: {onek: {credentials: [{access_key: a}]}}").key_path(),
            "providers.onek.credentials[0]");
  EXPECT_EQ(
      error_of(
          "providers: {onek: {credentials: [{access_key: a, secret: b, permissions: [root]}]}}")
          .key_path(),
      "providers.onek.credentials[0].permissions[0]");
  EXPECT_EQ(
      error_of(
          "providers: {onek: {credentials: [{access_key: a, secret: b, ip_allow: [10.0.0.0/33]}]}}")
          .key_path(),
      "providers.onek.credentials[0].ip_allow[0]");
  EXPECT_EQ(error_of("providers: {onek: {latency: {fixed_ms: 1, p50_ms: 2}}}").key_path(),
            "providers.onek.latency");
  EXPECT_EQ(error_of("providers: {onek: {latency: {p50_ms: 20, p99_ms: 10}}}").key_path(),
            "providers.onek.latency.p99_ms");
  EXPECT_EQ(error_of("providers: {onek: {rate_limits: {swap/open: 1}}}").key_path(),
            "providers.onek.rate_limits.swap/open");
  EXPECT_EQ(error_of("providers: {onek: {faults: [{route: '*', kind: explode}]}}").key_path(),
            "providers.onek.faults[0].kind");
  EXPECT_EQ(error_of("providers: {onek: {faults: [{kind: drop}]}}").key_path(),
            "providers.onek.faults[0]");
  EXPECT_EQ(
      error_of(
          "providers: {onek: {directions: [{code: BTC-USDT, min_spend: '2', max_spend: '1'}]}}")
          .key_path(),
      "providers.onek.directions[0].max_spend");
  EXPECT_EQ(error_of("providers: [onek]").key_path(), "providers");
}

TEST(scenario, duplicate_key_is_an_error) {
  const auto e = error_of("seed: 1\nseed: 2\n");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.key_path(), "seed");
  EXPECT_EQ(e.message(), "duplicate key");
}

TEST(scenario, yaml_syntax_error_has_a_position) {
  const auto e = error_of("providers:\n  onek: {port: 1\n");
  EXPECT_EQ(e.file(), "test.yaml");
  EXPECT_GT(e.line(), 0);
  EXPECT_NE(e.message().find("YAML"), std::string::npos);
}

TEST(scenario, empty_scenario_is_an_error) {
  EXPECT_EQ(error_of("").message(), "the scenario is empty");
}

TEST(scenario, missing_file_is_an_error) {
  try {
    (void)load_scenario("/nonexistent/scenario.yaml");
    FAIL();
  } catch (const scenario_error& e) {
    EXPECT_EQ(e.file(), "/nonexistent/scenario.yaml");
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos);
  }
}

TEST(ip_range, parses_and_matches) {
  const auto loopback = ip_range::parse("127.0.0.0/8");
  ASSERT_TRUE(loopback);
  EXPECT_TRUE(loopback->contains("127.0.0.1"));
  EXPECT_TRUE(loopback->contains("127.255.1.2"));
  EXPECT_TRUE(loopback->contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(loopback->contains("128.0.0.1"));
  EXPECT_FALSE(loopback->contains("::1"));
  const auto one = ip_range::parse("10.1.2.3");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains("10.1.2.3"));
  EXPECT_FALSE(one->contains("10.1.2.4"));
  const auto odd = ip_range::parse("192.168.1.0/25");
  EXPECT_TRUE(odd->contains("192.168.1.127"));
  EXPECT_FALSE(odd->contains("192.168.1.128"));
  const auto v6 = ip_range::parse("::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("::1"));
  EXPECT_FALSE(v6->contains("127.0.0.1"));
  const auto all = ip_range::parse("0.0.0.0/0");
  EXPECT_TRUE(all->contains("8.8.8.8"));
  EXPECT_FALSE(ip_range::parse("1.2.3.4/"));
  EXPECT_FALSE(ip_range::parse("1.2.3/8"));
  EXPECT_FALSE(ip_range::parse("::1/129"));
  EXPECT_FALSE(ip_range::parse("localhost"));
  EXPECT_FALSE(one->contains("not an ip"));
}

}  // namespace
}  // namespace swaprouter::sim
