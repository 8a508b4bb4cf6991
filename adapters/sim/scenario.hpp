// The scenario file: everything a simulate run or a test fixes about the market and the emulated
// providers, read from YAML into typed values (format: docs/scenario.md).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/sim/fault.hpp"
#include "adapters/sim/market.hpp"
#include "config/yaml_reader.hpp"
#include "engine/decimal.hpp"

namespace swaprouter::sim {

/// A configuration error in a scenario: where it is (file, 1-based line and column, key path such
/// as "providers.onek.directions[1].fee_percent") and what is wrong. what() is
/// "FILE:LINE:COLUMN: KEY_PATH: MESSAGE" (line and column omitted when unknown, i.e. 0).
using scenario_error = config::config_error;

/// An IPv4 or IPv6 address range in CIDR form ("127.0.0.0/8", "::1", "10.1.2.3/32").
struct ip_range {
  std::array<unsigned char, 16> address{};  ///< IPv4 in the first 4 bytes
  bool v6 = false;
  int prefix = 32;

  /// Parses "ADDR" or "ADDR/PREFIX"; nullopt when malformed.
  static std::optional<ip_range> parse(std::string_view text);
  /// True when `ip` (text form; an IPv4-mapped IPv6 address counts as IPv4) is in the range.
  bool contains(std::string_view ip) const;
};

/// One swap direction a provider offers. Unset values come from the provider's defaults and the
/// market (see docs/scenario.md).
struct direction_config {
  std::string spend;
  std::string receive;
  bool enabled = true;
  std::optional<decimal> fee_percent;  ///< "0.25" = 0.25 % of the gross receive
  std::optional<decimal> spread;       ///< percent of the mid rate the provider keeps
  /// Outer optional: given in the file; inner: a value, or null = no limit.
  std::optional<std::optional<decimal>> min_spend;
  std::optional<std::optional<decimal>> max_spend;
  std::optional<std::optional<decimal>> min_receive;
  std::optional<std::optional<decimal>> max_receive;
  std::optional<int> spend_precision;
  std::optional<int> receive_precision;

  std::string code() const { return spend + "-" + receive; }
};

/// One API key of a provider account. The secret is a demo value for an emulator; it is never
/// printed by any code in swaprouter.
struct credential_config {
  std::string access_key;
  std::string secret;
  /// Granted permissions ("allow_swap", "allow_balance", ...); every documented one by default.
  std::set<std::string> permissions;
  bool active = true;       ///< false: the key is disabled
  bool user_active = true;  ///< false: the account's user is inactive
  /// Empty: every address; otherwise the client address must be in one of the ranges.
  std::vector<ip_range> ip_allow;

  bool allows(std::string_view permission) const {
    return permissions.contains(std::string(permission));
  }
};

/// A request budget: at most `limit` requests per `window` (0 = unlimited).
struct rate_limit_config {
  int limit = 0;
  std::chrono::milliseconds window{60000};
};

/// Session token settings for providers that log in (KIIEX).
struct session_config {
  std::chrono::milliseconds idle_timeout{3600000};
  std::optional<std::chrono::milliseconds> max_age;
};

/// KIIEX emulator specifics (`providers.kiiex.kiiex`, docs/scenario.md); an unset value keeps
/// the emulator's default (kiiex::emulator_settings).
struct kiiex_config {
  std::optional<bool> order_status_array;  ///< GetOrderStatus answers [order] (KIIDOC)
  std::optional<int> book_levels;          ///< price levels per book side
  std::optional<decimal> level_step_percent;
  std::optional<decimal> level_usd;  ///< level i holds (i + 1) x this, in USD at mid
  std::optional<std::chrono::milliseconds> replenish;
  std::optional<std::int64_t> oms_id;
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> account_id;
  std::optional<int> lockout_failures;
  std::optional<int> trades_page_limit;      ///< rows per GetTradesHistory answer; 0 = no limit
  std::optional<bool> fee_in_spent_product;  ///< the fee is paid in the product the order gives
};

/// OxaPay emulator specifics (`providers.oxapay.oxapay`, docs/scenario.md); an unset value keeps
/// the emulator's default (oxapay::emulator_settings).
struct oxapay_config {
  std::optional<int> pairs_page_size;  ///< pairs per GET /general/swap/pairs page; 0 = one page
};

/// One emulated provider.
struct provider_config {
  std::string name;  ///< "onek", "kiiex", "stablestack", "oxapay"
  bool enabled = true;
  std::uint16_t port = 0;  ///< 0 = an ephemeral port chosen at start
  bool tls = true;
  std::vector<direction_config> directions;
  decimal fee_percent;  ///< default for every direction
  decimal spread;       ///< default for every direction, percent of the mid rate
  /// Default spend limits of a direction, in USD at the mid price when the direction opens them
  /// (min rounded up, max down, to the spend precision); max none = no limit.
  decimal min_spend_usd;
  std::optional<decimal> max_spend_usd;
  std::map<std::string, decimal> balances;  ///< starting available balance per asset
  std::vector<credential_config> credentials;
  latency_model latency;
  std::chrono::milliseconds fill_delay{300};    ///< open -> final state
  std::chrono::milliseconds cancel_delay{100};  ///< cancel requested -> failed/cancelled
  double failure_rate = 0.0;                    ///< chance a fill fails at random
  std::chrono::milliseconds clock_offset{0};    ///< provider clock minus ours
  /// Per-endpoint budget overrides keyed by route as the provider documents it ("/swap/open").
  std::map<std::string, rate_limit_config> rate_limits;
  session_config session;
  std::vector<fault_rule> faults;
  kiiex_config kiiex;    ///< only in providers.kiiex
  oxapay_config oxapay;  ///< only in providers.oxapay

  /// The direction with that code ("USDT-COPM"), or nullptr.
  const direction_config* find_direction(std::string_view code) const;
};

/// A whole scenario.
struct scenario {
  std::string source;  ///< file name the scenario came from ("<string>" for parse_scenario)
  std::uint64_t seed = 1;
  double volatility = 0.0;  ///< per sqrt(second); 0 = fixed prices
  /// How often simulate advances the market; 0 = never (prices stay at their start values).
  std::chrono::milliseconds tick{1000};
  std::vector<asset_info> assets;  ///< default_assets() with the file's changes and additions
  std::map<std::pair<std::string, std::string>, decimal> rates;  ///< pinned (spend, receive)
  std::map<std::string, provider_config> providers;  ///< by name, only those in the file

  /// The market these settings describe.
  market_config market() const;
  /// The provider with that name, or nullptr when the file does not configure it.
  const provider_config* find_provider(std::string_view name) const;
};

/// Provider names a scenario may configure.
inline constexpr std::array<std::string_view, 4> provider_names{"onek", "kiiex", "stablestack",
                                                                "oxapay"};
/// The default port of a provider (18001 onek, 18002 kiiex, 18003 stablestack, 18004 oxapay).
std::uint16_t default_port(std::string_view provider);
/// The documented 001k key permissions, every one granted when a key lists none.
inline constexpr std::array<std::string_view, 7> known_permissions{
    "allow_balance",  "allow_deposit",   "allow_withdraw",   "allow_swap",
    "allow_transfer", "allow_aml_check", "allow_limit_order"};

/// Reads and validates a scenario file. Throws scenario_error naming the file, line, column and
/// key path of the first problem (unreadable file, YAML syntax, unknown or duplicate key, wrong
/// type, bad value, unknown asset). Thread-safe (no shared state).
scenario load_scenario(const std::string& path);
/// The same for YAML text; `source` names it in errors.
scenario parse_scenario(std::string_view yaml, const std::string& source = "<string>");

}  // namespace swaprouter::sim
