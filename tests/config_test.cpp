// The engine configuration: exact values, every error class at its line, column and key path,
// all errors collected, ${VAR} and owner-only secret files, and no credential value in any output.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>

#include "config/check.hpp"
#include "config/engine_config.hpp"
#include "config/secret.hpp"

#ifndef SWAPROUTER_SOURCE_DIR
#error "SWAPROUTER_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

namespace swaprouter::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The secret type has no printing path: neither streams nor fmt accept it.
template <class T>
concept streamable = requires(std::ostream& os, const T& value) {
  os << value;
};
static_assert(!streamable<secret>);
static_assert(!fmt::is_formattable<secret>::value);
static_assert(!std::is_convertible_v<secret, std::string>);
static_assert(!std::is_convertible_v<secret, std::string_view>);

constexpr std::string_view sentinel = "SENTINEL-7f3a9c-do-not-print";

decimal d(std::string_view text) { return decimal::parse(text).value(); }

load_options with_env(std::map<std::string, std::string> vars) {
  load_options options;
  options.env = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return options;
}

load_options test_env() {
  return with_env({{"ONEK_ACCESS_KEY", "ak-1"},
                   {"ONEK_SECRET", std::string(sentinel)},
                   {"KIIEX_API_KEY", std::string(sentinel)},
                   {"KIIEX_USER_ID", "42"},
                   {"KIIEX_SECRET", std::string(sentinel)},
                   {"STABLESTACK_API_KEY", std::string(sentinel)},
                   {"OXAPAY_API_KEY", std::string(sentinel)},
                   {"API_HOST", "api.example.com"}});
}

std::string all_text(const load_result& r) {
  std::string out = describe(r.config);
  for (const auto& e : r.errors) out += std::string(e.what()) + "\n";
  return out;
}

// The one error `yaml` must produce.
config_error only_error(const std::string& yaml, const load_options& options = test_env()) {
  const load_result r = parse_engine_config(yaml, "test.yaml", options);
  EXPECT_EQ(r.errors.size(), 1u) << all_text(r);
  if (r.errors.empty()) return config_error("", 0, 0, "", "");
  return r.errors.front();
}

// A private folder removed at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "config-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& text, mode_t mode) const {
    const fs::path p = path_ / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  fs::path path_;
};

constexpr const char* valid_yaml = R"(providers:
  onek:
    base_url: https://api.001k.world/api/v1
    credentials:
      access_key: ${ONEK_ACCESS_KEY}
      secret: ${ONEK_SECRET}
    poll: {directions: 2m, prices: 10s, balances: 1m}
    rate_limits: {swaps: 100/min, status: none}
    timeouts: {connect: 2s, request: 1500ms}
    assets: [USDT, COPM]
  treasury:
    kind: stablestack
    enabled: false
    base_url: https://${API_HOST}:8443/api/
    customer_id: c-17
    directions:
      - code: USDT-USDC
        spend_precision: 6
        min_spend: "1.5"
        max_spend: null
      - USDC-USDT
engine:
  quote_max_age: 3s
  fanout_deadline: 120ms
  max_hops: 3
  split: false
  journal: /tmp/j.db
  listen: "[::1]:9000"
)";

TEST(engine_config, valid_file_loads_exact_values) {
  const load_result r = parse_engine_config(valid_yaml, "test.yaml", test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  const engine_config& c = r.config;
  ASSERT_EQ(c.providers.size(), 2u);

  const provider_config& onek = c.providers[0];
  EXPECT_EQ(onek.name, "onek");
  EXPECT_EQ(onek.kind, provider_kind::onek);
  EXPECT_TRUE(onek.enabled);
  EXPECT_EQ(onek.url.scheme, "https");
  EXPECT_EQ(onek.url.host, "api.001k.world");
  EXPECT_EQ(onek.url.port, 443);
  EXPECT_EQ(onek.url.path, "/api/v1");
  ASSERT_TRUE(onek.credentials);
  ASSERT_TRUE(onek.credentials->access_key);
  EXPECT_EQ(onek.credentials->access_key->value.reveal(), "ak-1");
  EXPECT_EQ(onek.credentials->secret->value.reveal(), sentinel);
  EXPECT_EQ(onek.credentials->secret->from, credential::source::env);
  EXPECT_EQ(onek.credentials->secret->reference, "ONEK_SECRET");
  EXPECT_EQ(onek.credentials->secret->describe(), "${ONEK_SECRET}");
  EXPECT_FALSE(onek.credentials->api_key);
  EXPECT_EQ(onek.poll.directions, milliseconds(120000));
  EXPECT_EQ(onek.poll.prices, milliseconds(10000));
  EXPECT_EQ(onek.poll.balances, milliseconds(60000));
  // Documented defaults stay; the file's values replace only what it names.
  EXPECT_EQ(onek.rate_limits.directions, (rate_limit{30, std::chrono::minutes(1)}));
  EXPECT_EQ(onek.rate_limits.balances, (rate_limit{30, std::chrono::minutes(1)}));
  EXPECT_EQ(onek.rate_limits.swaps, (rate_limit{100, std::chrono::minutes(1)}));
  EXPECT_FALSE(onek.rate_limits.status);
  EXPECT_EQ(onek.timeouts.connect, milliseconds(2000));
  EXPECT_EQ(onek.timeouts.request, milliseconds(1500));
  EXPECT_EQ(onek.assets, (std::vector<std::string>{"USDT", "COPM"}));
  EXPECT_TRUE(onek.asset_enabled("COPM"));
  EXPECT_FALSE(onek.asset_enabled("BTC"));

  const provider_config& ss = c.providers[1];
  EXPECT_EQ(ss.name, "treasury");
  EXPECT_EQ(ss.kind, provider_kind::stablestack);
  EXPECT_FALSE(ss.enabled);
  EXPECT_EQ(ss.url.host, "api.example.com");
  EXPECT_EQ(ss.url.port, 8443);
  EXPECT_EQ(ss.url.path, "/api");
  EXPECT_EQ(ss.url.text, "https://api.example.com:8443/api");
  EXPECT_FALSE(ss.credentials);
  EXPECT_EQ(ss.customer_id, "c-17");
  EXPECT_FALSE(ss.rate_limits.directions);
  ASSERT_EQ(ss.directions.size(), 2u);
  EXPECT_EQ(ss.directions[0].code(), "USDT-USDC");
  EXPECT_EQ(ss.directions[0].spend_precision, 6);
  EXPECT_EQ(ss.directions[0].receive_precision, 8);
  EXPECT_EQ(ss.directions[0].min_spend, d("1.5"));
  EXPECT_FALSE(ss.directions[0].max_spend);
  EXPECT_EQ(ss.directions[1].code(), "USDC-USDT");
  EXPECT_EQ(c.find_provider("treasury"), &ss);
  EXPECT_EQ(c.find_provider("oxapay"), nullptr);

  EXPECT_EQ(c.engine.quote_max_age, milliseconds(3000));
  EXPECT_EQ(c.engine.fanout_deadline, milliseconds(120));
  EXPECT_EQ(c.engine.max_hops, 3);
  EXPECT_FALSE(c.engine.split);
  EXPECT_EQ(c.engine.journal, "/tmp/j.db");
  EXPECT_EQ(c.engine.listen.host, "::1");
  EXPECT_EQ(c.engine.listen.port, 9000);
  EXPECT_TRUE(c.engine.listen.loopback);
}

TEST(engine_config, defaults) {
  const load_result r = parse_engine_config("providers:\n  oxapay:\n    base_url: https://a.b\n",
                                            "test.yaml", test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  const engine_settings& e = r.config.engine;
  EXPECT_EQ(e.quote_max_age, milliseconds(5000));
  EXPECT_EQ(e.fanout_deadline, milliseconds(2000));
  EXPECT_EQ(e.max_hops, 2);
  EXPECT_TRUE(e.split);
  EXPECT_EQ(e.journal, "swaprouter-journal.db");
  EXPECT_EQ(e.listen.host, "127.0.0.1");
  EXPECT_EQ(e.listen.port, 8780);
  EXPECT_TRUE(e.listen.loopback);

  const provider_config onek = provider_defaults(provider_kind::onek);
  EXPECT_EQ(onek.rate_limits.directions, (rate_limit{30, std::chrono::minutes(1)}));
  EXPECT_EQ(onek.rate_limits.balances, (rate_limit{30, std::chrono::minutes(1)}));
  EXPECT_EQ(onek.rate_limits.swaps, (rate_limit{300, std::chrono::minutes(1)}));
  EXPECT_EQ(onek.timeouts.request, milliseconds(10000));
  EXPECT_FALSE(provider_defaults(provider_kind::kiiex).rate_limits.quotes);
}

TEST(engine_config, example_file_checks_with_its_variables) {
  const std::string path = std::string(SWAPROUTER_SOURCE_DIR) + "/config/swaprouter.yaml";
  const load_result r = load_engine_config(path, test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  ASSERT_EQ(r.config.providers.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.config.providers[i].kind, static_cast<provider_kind>(i));
    EXPECT_TRUE(r.config.providers[i].credentials);
  }
  // Relative paths are taken from the configuration file's folder.
  EXPECT_EQ(r.config.engine.journal,
            std::string(SWAPROUTER_SOURCE_DIR) + "/config/swaprouter-journal.db");
}

TEST(engine_config, unknown_key) {
  const auto e = only_error("engine:\n  max_hops: 2\n  spilt: true\n");
  EXPECT_EQ(e.file(), "test.yaml");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 3);
  EXPECT_EQ(e.key_path(), "engine.spilt");
  EXPECT_EQ(std::string(e.what()), "test.yaml:3:3: engine.spilt: unknown key");
}

TEST(engine_config, unknown_top_level_key_and_unregistered_section) {
  const auto e = only_error("risk:\n  max: 1\n");
  EXPECT_EQ(std::string(e.what()), "test.yaml:1:1: risk: unknown key");
}

TEST(engine_config, wrong_type) {
  const auto e = only_error("engine:\n  max_hops: two\n");
  EXPECT_EQ(std::string(e.what()),
            "test.yaml:2:13: engine.max_hops: expected an integer, got 'two'");
  const auto list =
      only_error("providers:\n  onek:\n    base_url: https://a.b\n    assets: USDT\n");
  EXPECT_EQ(std::string(list.what()),
            "test.yaml:4:13: providers.onek.assets: expected a list of asset codes");
  const auto map = only_error("providers:\n  onek:\n    base_url: https://a.b\n    poll: 5s\n");
  EXPECT_EQ(std::string(map.what()),
            "test.yaml:4:11: providers.onek.poll: expected a mapping (key: value lines)");
}

TEST(engine_config, missing_required_fields) {
  const auto url = only_error("providers:\n  onek:\n    enabled: true\n");
  EXPECT_EQ(std::string(url.what()),
            "test.yaml:2:3: providers.onek.base_url: missing required field");
  const auto kind = only_error("providers:\n  main:\n    base_url: https://a.b\n");
  EXPECT_EQ(kind.line(), 2);
  EXPECT_EQ(kind.column(), 3);
  EXPECT_EQ(kind.key_path(), "providers.main.kind");
  const auto secret_field = only_error(
      "providers:\n  onek:\n    base_url: https://a.b\n    credentials:\n"
      "      access_key: ${ONEK_ACCESS_KEY}\n");
  EXPECT_EQ(std::string(secret_field.what()),
            "test.yaml:4:5: providers.onek.credentials.secret: missing required field");
}

TEST(engine_config, bad_decimal) {
  const auto e = only_error(R"(providers:
  stablestack:
    base_url: https://a.b
    directions:
      - code: USDT-USDC
        min_spend: "1.2.3"
)");
  EXPECT_EQ(std::string(e.what()),
            "test.yaml:6:20: providers.stablestack.directions[0].min_spend: expected a decimal "
            "number, got '1.2.3'");
}

TEST(engine_config, bad_duration_url_rate_and_listen) {
  EXPECT_EQ(std::string(only_error("engine:\n  quote_max_age: 5\n").what()),
            "test.yaml:2:18: engine.quote_max_age: expected a duration such as 250ms, 5s, 2m or "
            "1h, got '5'");
  EXPECT_EQ(
      std::string(only_error("providers:\n  onek:\n    base_url: http://api.001k.world\n").what()),
      "test.yaml:3:15: providers.onek.base_url: plain http is allowed to loopback hosts "
      "only; use https, got 'http://api.001k.world'");
  EXPECT_EQ(only_error("providers:\n  onek:\n    base_url: https://a.b\n    rate_limits:\n"
                       "      swaps: lots\n")
                .key_path(),
            "providers.onek.rate_limits.swaps");
  EXPECT_EQ(only_error("engine:\n  listen: localhost\n").key_path(), "engine.listen");
  EXPECT_EQ(only_error("engine:\n  fanout_deadline: 6s\n").message(),
            "fanout_deadline must be shorter than quote_max_age");
}

TEST(engine_config, control_token_is_a_credential_reference) {
  const load_result r =
      parse_engine_config("engine:\n  control_token: ${BOT_TOKEN}\n", "test.yaml",
                          with_env({{"BOT_TOKEN", "tok-1"}}));
  ASSERT_TRUE(r.ok()) << all_text(r);
  ASSERT_TRUE(r.config.engine.control_token.has_value());
  EXPECT_EQ(r.config.engine.control_token->reference, "BOT_TOKEN");
  EXPECT_EQ(r.config.engine.control_token->value.reveal(), "tok-1");
  EXPECT_NE(describe(r.config).find("control token ${BOT_TOKEN}"), std::string::npos);
  EXPECT_EQ(describe(r.config).find("tok-1"), std::string::npos);
  const auto e = only_error("engine:\n  control_token: plain-token-value\n");
  EXPECT_EQ(e.key_path(), "engine.control_token");
  EXPECT_EQ(std::string(e.what()).find("plain-token-value"), std::string::npos);
}

TEST(engine_config, callbacks_and_their_allow_list) {
  const load_result unset = parse_engine_config("engine:\n  split: true\n");
  ASSERT_TRUE(unset.ok()) << all_text(unset);
  EXPECT_FALSE(unset.config.engine.callbacks.has_value());
  EXPECT_TRUE(unset.config.engine.callback_allow.empty());
  const load_result r = parse_engine_config(
      "engine:\n  callbacks: true\n  callback_allow: [\"127.0.0.1\", \"::1\"]\n");
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.engine.callbacks, std::optional<bool>(true));
  EXPECT_EQ(r.config.engine.callback_allow, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(only_error("engine:\n  callback_allow: 127.0.0.1\n").key_path(),
            "engine.callback_allow");
  EXPECT_EQ(only_error("engine:\n  callbacks: yes-please\n").key_path(), "engine.callbacks");
}

TEST(engine_config, listen_address_text) {
  const auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->loopback);
  const auto named = parse_listen_address("localhost:8780");
  ASSERT_TRUE(named.has_value());
  EXPECT_TRUE(named->loopback);
  const auto other = parse_listen_address("10.0.0.5:80");
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->loopback);
  EXPECT_FALSE(parse_listen_address("127.0.0.1").has_value());
  EXPECT_FALSE(parse_listen_address("127.0.0.1:70000").has_value());
  EXPECT_FALSE(parse_listen_address("example.com:80").has_value());
}

TEST(engine_config, loopback_http_is_allowed) {
  const load_result r = parse_engine_config(
      "providers:\n  onek:\n    base_url: http://127.0.0.1:18001/api/v1\n  kiiex:\n"
      "    base_url: http://[::1]:18002/ap\n",
      "test.yaml", test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_TRUE(r.config.providers[0].url.loopback);
  EXPECT_EQ(r.config.providers[0].url.port, 18001);
  EXPECT_EQ(r.config.providers[1].url.host, "::1");
}

TEST(engine_config, kind_specific_keys_and_credentials) {
  EXPECT_EQ(std::string(only_error("providers:\n  onek:\n    base_url: https://a.b\n"
                                   "    customer_id: x\n")
                            .what()),
            "test.yaml:4:5: providers.onek.customer_id: customer_id applies to stablestack "
            "providers only");
  EXPECT_EQ(only_error("providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
                       "      api_key: ${OXAPAY_API_KEY}\n      secret: ${ONEK_SECRET}\n")
                .key_path(),
            "providers.oxapay.credentials.secret");
  EXPECT_EQ(
      only_error("providers:\n  x:\n    kind: binance\n    base_url: https://a.b\n").message(),
      "unknown provider kind 'binance' (onek, kiiex, stablestack or oxapay)");
}

// OxaPay's page cap of the swap pairs listing (oxapay::client_options::pairs_max_pages) is an
// oxapay key, 1..1000; unset keeps the adapter's default.
TEST(engine_config, oxapay_pairs_max_pages) {
  const load_result r = parse_engine_config(
      "providers:\n  oxapay:\n    base_url: https://a.b\n    pairs_max_pages: 3\n"
      "  kiiex:\n    base_url: https://c.d\n",
      "test.yaml", test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.providers[0].pairs_max_pages, 3);
  EXPECT_FALSE(r.config.providers[1].pairs_max_pages.has_value());

  EXPECT_EQ(std::string(only_error("providers:\n  oxapay:\n    base_url: https://a.b\n"
                                   "    pairs_max_pages: 0\n")
                            .what()),
            "test.yaml:4:22: providers.oxapay.pairs_max_pages: must be between 1 and 1000");
  const auto words =
      only_error("providers:\n  oxapay:\n    base_url: https://a.b\n    pairs_max_pages: many\n");
  EXPECT_EQ(words.line(), 4);
  EXPECT_EQ(words.column(), 22);
  EXPECT_EQ(words.key_path(), "providers.oxapay.pairs_max_pages");
  EXPECT_NE(words.message().find("expected an integer"), std::string::npos) << words.message();
  EXPECT_EQ(std::string(only_error("providers:\n  kiiex:\n    base_url: https://a.b\n"
                                   "    pairs_max_pages: 2\n")
                            .what()),
            "test.yaml:4:5: providers.kiiex.pairs_max_pages: pairs_max_pages applies to oxapay "
            "providers only");
}

TEST(engine_config, polls_must_fit_the_budget) {
  const auto e =
      only_error("providers:\n  onek:\n    base_url: https://a.b\n    poll:\n      prices: 1s\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.key_path(), "providers.onek.poll");
  EXPECT_EQ(e.message(),
            "polling (directions every 1m, prices every 1s) needs 61 requests per 1m, above the "
            "directions budget of 30/min");
}

TEST(engine_config, every_error_is_collected_in_file_order) {
  const load_result r = parse_engine_config(R"(providers:
  onek:
    base_url: ftp://a.b
    colour: blue
    credentials:
      access_key: ${MISSING_VAR}
      secret: ${ONEK_SECRET}
  stablestack:
    base_url: https://a.b
    directions:
      - code: USDT-USDC
        max_spend: abc
engine:
  max_hops: 9
  split: maybe
)",
                                            "test.yaml", test_env());
  ASSERT_EQ(r.errors.size(), 6u) << all_text(r);
  EXPECT_EQ(std::string(r.errors[0].what()),
            "test.yaml:3:15: providers.onek.base_url: the scheme must be https, got 'ftp://a.b'");
  EXPECT_EQ(std::string(r.errors[1].what()), "test.yaml:4:5: providers.onek.colour: unknown key");
  EXPECT_EQ(std::string(r.errors[2].what()),
            "test.yaml:6:19: providers.onek.credentials.access_key: environment variable "
            "MISSING_VAR is not set");
  EXPECT_EQ(r.errors[3].key_path(), "providers.stablestack.directions[0].max_spend");
  EXPECT_EQ(r.errors[3].line(), 12);
  EXPECT_EQ(std::string(r.errors[4].what()),
            "test.yaml:14:13: engine.max_hops: must be between 1 and 4");
  EXPECT_EQ(r.errors[5].key_path(), "engine.split");
}

TEST(engine_config, yaml_syntax_and_empty_file) {
  const auto syntax = only_error("engine:\n  max_hops: [1\n");
  EXPECT_EQ(syntax.file(), "test.yaml");
  EXPECT_GT(syntax.line(), 0);
  EXPECT_NE(syntax.message().find("YAML syntax"), std::string::npos);
  EXPECT_EQ(std::string(only_error("").what()), "test.yaml:1:1: the configuration is empty");
  const load_result missing = load_engine_config("/nonexistent/swaprouter.yaml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(std::string(missing.errors[0].what()).find("cannot read the file"), std::string::npos);
}

TEST(engine_config, env_references) {
  // Substitution in ordinary strings, $$ for a dollar sign.
  load_result r = parse_engine_config(
      "providers:\n  onek:\n    base_url: https://${API_HOST}/p$$q\n", "test.yaml", test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.providers[0].url.text, "https://api.example.com/p$q");

  EXPECT_EQ(std::string(only_error("providers:\n  onek:\n    base_url: https://${NOPE}/\n").what()),
            "test.yaml:3:15: providers.onek.base_url: environment variable NOPE is not set");
  EXPECT_EQ(only_error("engine:\n  journal: ${1BAD}/j.db\n").message(),
            "bad variable name '${1BAD}': letters, digits and _, not first a digit");

  // The real environment by default.
  ::setenv("SWAPROUTER_CONFIG_TEST_SECRET", "from-env", 1);
  r = parse_engine_config(
      "providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: ${SWAPROUTER_CONFIG_TEST_SECRET}\n");
  ::unsetenv("SWAPROUTER_CONFIG_TEST_SECRET");
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.providers[0].credentials->api_key->value.reveal(), "from-env");

  // Without resolution, only the form is checked.
  load_options offline = with_env({});
  offline.resolve_credentials = false;
  r = parse_engine_config(
      "providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: ${UNSET_VAR}\n",
      "test.yaml", offline);
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_TRUE(r.config.providers[0].credentials->api_key->value.empty());
}

TEST(engine_config, inline_credential_is_refused_without_echo) {
  const auto e = only_error(
      "providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: " +
      std::string(sentinel) + "\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 16);
  EXPECT_EQ(e.key_path(), "providers.oxapay.credentials.api_key");
  EXPECT_EQ(std::string(e.what()).find(sentinel), std::string::npos);
}

// The bot's control token is used in every mode, simulate included (where provider credentials
// are not resolved): its file is read and checked owner-only there too, where the bot read it
// itself with no check at all.
TEST(engine_config, a_control_token_file_is_owner_only_in_every_mode) {
  const temp_dir dir;
  dir.write("open.token", std::string(sentinel) + "\n", 0644);
  dir.write("closed.token", std::string(sentinel) + "\n", 0600);
  load_options unresolved = test_env();
  unresolved.resolve_credentials = false;
  const auto config = [&](const std::string& file) {
    return dir.write("c.yaml", "engine:\n  control_token: {file: " + file + "}\n", 0600);
  };
  load_result r = load_engine_config(config("open.token"), unresolved);
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r);
  const std::string open_path = (dir.path() / "open.token").string();
  EXPECT_EQ(std::string(r.errors[0].what()),
            (dir.path() / "c.yaml").string() + ":2:25: engine.control_token.file: secret file " +
                open_path + " has mode 0644: it must be readable by its owner only (chmod 600 " +
                open_path + ")");
  EXPECT_EQ(all_text(r).find(sentinel), std::string::npos);
  r = load_engine_config(config("closed.token"), unresolved);
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.engine.control_token->value.reveal(), sentinel);
}

TEST(engine_config, secret_file_must_be_owner_only) {
  const temp_dir dir;
  dir.write("open.key", std::string(sentinel) + "\n", 0644);
  dir.write("closed.key", std::string(sentinel) + "\n", 0600);
  dir.write("readonly.key", std::string(sentinel), 0400);
  const auto config = [&](const std::string& file) {
    return dir.write("c.yaml",
                     "providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
                     "      api_key: {file: " +
                         file + "}\n",
                     0600);
  };

  load_result r = load_engine_config(config("open.key"), test_env());
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r);
  const std::string open_path = (dir.path() / "open.key").string();
  EXPECT_EQ(std::string(r.errors[0].what()),
            (dir.path() / "c.yaml").string() +
                ":5:23: providers.oxapay.credentials.api_key.file: secret file " + open_path +
                " has mode 0644: it must be readable by its owner only (chmod 600 " + open_path +
                ")");
  EXPECT_EQ(all_text(r).find(sentinel), std::string::npos);

  r = load_engine_config(config("closed.key"), test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  const credential& c = *r.config.providers[0].credentials->api_key;
  EXPECT_EQ(c.from, credential::source::file);
  EXPECT_EQ(c.reference, (dir.path() / "closed.key").string());
  EXPECT_EQ(c.value.reveal(), sentinel);  // the trailing newline is not part of it
  EXPECT_EQ(c.describe(), "file " + c.reference);

  r = load_engine_config(config("readonly.key"), test_env());
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.providers[0].credentials->api_key->value.reveal(), sentinel);

  dir.write("empty.key", "\n", 0600);
  r = load_engine_config(config("empty.key"), test_env());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message().find("is empty"), std::string::npos);

  r = load_engine_config(config("absent.key"), test_env());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message().find("cannot read secret file"), std::string::npos);
}

TEST(engine_config, no_secret_in_summary_or_errors) {
  // Every credential holds the sentinel; the file also has errors, so both outputs exist.
  const load_result good = parse_engine_config(valid_yaml, "test.yaml", test_env());
  ASSERT_TRUE(good.ok());
  const std::string summary = describe(good.config);
  EXPECT_NE(summary.find("onek: onek, host api.001k.world"), std::string::npos) << summary;
  EXPECT_NE(summary.find("secret=${ONEK_SECRET}"), std::string::npos) << summary;
  EXPECT_EQ(summary.find(sentinel), std::string::npos) << summary;

  const load_result bad = parse_engine_config(
      "providers:\n  kiiex:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: ${KIIEX_API_KEY}\n      user_id: ${KIIEX_USER_ID}\n"
      "      secret: ${KIIEX_SECRET}\n      access_key: ${ONEK_SECRET}\n"
      "    poll: {prices: 1}\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: " +
          std::string(sentinel) + "\n",
      "test.yaml", test_env());
  EXPECT_EQ(bad.errors.size(), 3u) << all_text(bad);
  EXPECT_EQ(all_text(bad).find(sentinel), std::string::npos) << all_text(bad);

  std::ostringstream out, err;
  const temp_dir dir;
  const fs::path file = dir.write("c.yaml", valid_yaml, 0600);
  EXPECT_EQ(check_config(file.string(), out, err, test_env()), 0);
  EXPECT_EQ(out.str().find(sentinel), std::string::npos);
  EXPECT_EQ(err.str().find(sentinel), std::string::npos);
}

TEST(engine_config, secret_value_type) {
  secret a{std::string(sentinel)};
  secret b = a;
  EXPECT_EQ(b.reveal(), sentinel);
  secret c = std::move(a);
  EXPECT_EQ(c.reveal(), sentinel);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped and empty
  std::ostringstream printed;
  PrintTo(c, &printed);
  EXPECT_EQ(printed.str(), "secret(redacted)");
  EXPECT_EQ(testing::PrintToString(c), "secret(redacted)");
}

TEST(engine_config, extension_sections) {
  load_options options = test_env();
  int calls = 0;
  options.sections["strategies"] = [&](const yaml_entry& section, const yaml_reader& reader,
                                       error_list& errors, const engine_config& so_far) {
    ++calls;
    EXPECT_EQ(so_far.providers.size(), 1u);
    for (const auto& e : reader.map_entries(section, {"convert"}, &errors)) {
      errors.attempt([&] { (void)reader.positive(e); });
    }
  };
  const load_result r = parse_engine_config(
      "strategies:\n  convert: -1\n  twop: 1\nproviders:\n  oxapay:\n    base_url: https://a.b\n",
      "test.yaml", options);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(r.errors.size(), 2u) << all_text(r);
  EXPECT_EQ(std::string(r.errors[0].what()), "test.yaml:2:12: strategies.convert: must be > 0");
  EXPECT_EQ(std::string(r.errors[1].what()), "test.yaml:3:3: strategies.twop: unknown key");
}

TEST(check_command, exit_codes_and_output) {
  const temp_dir dir;
  const fs::path good = dir.write("good.yaml", valid_yaml, 0600);
  std::ostringstream out, err;
  EXPECT_EQ(check_config(good.string(), out, err, test_env()), 0);
  EXPECT_TRUE(out.str().starts_with("ok\nproviders: 2\n")) << out.str();
  EXPECT_NE(out.str().find("treasury: stablestack, host api.example.com:8443, disabled"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("engine: quote_max_age 3s, fanout_deadline 120ms, max_hops 3, split "
                           "off, journal /tmp/j.db, listen [::1]:9000"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(err.str(), "");

  const fs::path bad = dir.write("bad.yaml", "engine:\n  max_hops: 0\n  splt: true\n", 0600);
  std::ostringstream out2, err2;
  EXPECT_EQ(check_config(bad.string(), out2, err2, test_env()), 2);
  EXPECT_EQ(out2.str(), "");
  EXPECT_EQ(err2.str(), bad.string() + ":2:13: engine.max_hops: must be between 1 and 4\n" +
                            bad.string() + ":3:3: engine.splt: unknown key\n");
}

TEST(engine_config, url_userinfo_is_refused_without_echo) {
  // A password pasted into the URL is refused; the error must not quote it.
  const auto e =
      only_error("providers:\n  onek:\n    base_url: https://user:" + std::string(sentinel) +
                 "@api.001k.world/api/v1\n");
  EXPECT_EQ(e.key_path(), "providers.onek.base_url");
  EXPECT_NE(e.message().find("credentials do not belong in the URL"), std::string::npos)
      << e.what();
  EXPECT_EQ(std::string(e.what()).find(sentinel), std::string::npos) << e.what();
}

TEST(engine_config, substituted_values_are_not_quoted_in_errors) {
  // A ${VAR} that holds a credential (wired to the wrong field) and fails validation: the error
  // names the reference as written, never what it resolved to.
  const std::vector<std::string> files = {
      "engine:\n  listen: ${ONEK_SECRET}\n",
      "engine:\n  journal: /nowhere/${ONEK_SECRET}/j.db\n",
      "providers:\n  onek:\n    base_url: https://a.b\n    ca_file: ${ONEK_SECRET}\n",
      "providers:\n  oxapay:\n    base_url: https://a.b\n    credentials:\n"
      "      api_key: {file: \"${OXAPAY_API_KEY}\"}\n",
  };
  for (const auto& yaml : files) {
    const auto e = only_error(yaml);
    EXPECT_FALSE(e.message().empty()) << yaml;
    EXPECT_EQ(std::string(e.what()).find(sentinel), std::string::npos) << e.what();
  }
}

TEST(engine_config, callback_allow_takes_ip_addresses_only) {
  // The gate compares the peer's address text exactly: a name or a range would never match, so
  // every callback would be refused without a word.
  for (const std::string item : {"localhost", "127.0.0.0/8", "callbacks.001k.world"}) {
    const auto e = only_error("engine:\n  callback_allow: [\"" + item + "\"]\n");
    EXPECT_EQ(e.key_path(), "engine.callback_allow[0]") << item << ": " << e.what();
  }
  // Kept in the form the listener reports a peer in.
  const load_result r = parse_engine_config("engine:\n  callback_allow: [\"0:0::1\"]\n");
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.config.engine.callback_allow, (std::vector<std::string>{"::1"}));
}

}  // namespace
}  // namespace swaprouter::config
