// The engine configuration file: providers (kind, endpoint, credentials, polling, budgets,
// timeouts, assets) and engine settings, read from YAML into typed values (format:
// docs/config.md). The strategy file extends the same file with more top-level sections through
// load_options::sections.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/secret.hpp"
#include "config/yaml_reader.hpp"
#include "engine/decimal.hpp"
#include "engine/rate_budget.hpp"

namespace swaprouter::config {

/// The provider APIs swaprouter speaks.
enum class provider_kind { onek, kiiex, stablestack, oxapay };

/// Kind names as written in the file, in enum order.
inline constexpr std::array<std::string_view, 4> provider_kind_names{"onek", "kiiex", "stablestack",
                                                                     "oxapay"};
std::string_view to_string(provider_kind kind);
std::optional<provider_kind> parse_provider_kind(std::string_view name);

/// A provider's base URL: https, or http to a loopback host only.
struct base_url {
  std::string text;    ///< as configured (after ${VAR} substitution), without a trailing '/'
  std::string scheme;  ///< "https" or "http"
  std::string host;    ///< name or address, IPv6 without brackets
  std::uint16_t port = 443;
  std::string path;  ///< "" or "/api/v1"
  bool loopback = false;
};

/// Parses "https://host[:port][/path]"; an error message when malformed or not allowed (plain
/// http to a non-loopback host, user info, query, fragment).
result<base_url> parse_base_url(std::string_view text);

/// One credential field: where it comes from (printable) and its value (never printable).
struct credential {
  enum class source { env, file };
  source from = source::env;
  /// The environment variable's name, or the file's path (resolved against the config's folder).
  std::string reference;
  /// Empty when loaded with load_options::resolve_credentials = false (except a control token
  /// read from a file, which is always read and checked owner-only).
  secret value;

  /// "${NAME}" or "file PATH": never the value.
  std::string describe() const;
};

/// A provider account's credentials. Which fields a kind needs: onek access_key + secret; kiiex
/// api_key + user_id + secret; stablestack api_key; oxapay api_key (docs/config.md).
struct credentials_config {
  std::optional<credential> access_key;
  std::optional<credential> api_key;
  std::optional<credential> user_id;
  std::optional<credential> secret;
};

/// How often the poller refreshes each kind of data.
struct poll_config {
  std::chrono::milliseconds directions{60000};
  std::chrono::milliseconds prices{5000};
  std::chrono::milliseconds balances{15000};
};

/// Local request budgets per operation; nullopt = no local budget (the provider documents none;
/// a 429 still opens the provider's circuit).
struct rate_limits_config {
  std::optional<rate_limit> directions;  ///< directions/pairs/instruments (001k: also its prices)
  std::optional<rate_limit> quotes;      ///< amount-specific quotes and price reads
  std::optional<rate_limit> balances;
  std::optional<rate_limit> swaps;   ///< creating (and cancelling) swaps
  std::optional<rate_limit> status;  ///< tracking: swap lookups and lists
};

struct timeouts_config {
  std::chrono::milliseconds connect{5000};   ///< TCP connect plus TLS handshake
  std::chrono::milliseconds request{10000};  ///< one request, sent to the last response byte
};

/// A swap direction listed in the file (StableStack's API lists none).
struct direction_config {
  std::string spend;
  std::string receive;
  int spend_precision = 8;
  int receive_precision = 8;
  decimal min_spend;
  std::optional<decimal> max_spend;
  decimal min_receive;
  std::optional<decimal> max_receive;

  std::string code() const { return spend + "-" + receive; }
};

/// One configured provider account.
struct provider_config {
  std::string name;  ///< the key under providers: ("onek", "onek-treasury", ...)
  provider_kind kind = provider_kind::onek;
  bool enabled = true;
  base_url url;
  std::optional<std::string> ca_file;  ///< PEM bundle; the system store when unset
  /// nullopt: no credentials configured (the engine simulates this provider).
  std::optional<credentials_config> credentials;
  poll_config poll;
  rate_limits_config rate_limits;
  timeouts_config timeouts;
  std::vector<std::string> assets;           ///< empty: every asset the provider lists
  std::optional<std::string> customer_id;    ///< stablestack: act in this customer's scope
  std::int64_t oms_id = 1;                   ///< kiiex
  std::optional<int> pairs_max_pages;        ///< oxapay; nullopt: the adapter's default
  std::vector<direction_config> directions;  ///< stablestack

  /// True when `asset` may be traded on this provider.
  bool asset_enabled(std::string_view asset) const;
};

/// Where the bot's HTTP listener binds.
struct listen_address {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8780;
  bool loopback = true;
};

struct engine_settings {
  std::chrono::milliseconds quote_max_age{5000};
  std::chrono::milliseconds fanout_deadline{2000};
  int max_hops = 2;
  bool split = true;
  std::string journal = "swaprouter-journal.db";  ///< resolved against the config's folder
  listen_address listen;
  /// Bearer token of the listener's control API (POST /halt, /resume, /intents); a credential
  /// reference like the providers' ("${NAME}" or {file: PATH}). nullopt: not configured.
  std::optional<credential> control_token;
  /// Whether providers that can call back (001k) are asked to POST status changes to the
  /// listener's /callbacks/PROVIDER; nullopt: on in simulate (the emulators reach the loopback
  /// listener), off otherwise. A callback is only a hint (engine/callback.hpp).
  std::optional<bool> callbacks;
  /// Peer addresses whose callbacks are read; empty reads every address.
  std::vector<std::string> callback_allow;
};

/// Parses "IP:PORT", "[IPv6]:PORT" or "localhost:PORT" (port 0 = ephemeral), as the `listen`
/// setting and `run --listen` take it; an invalid_argument error saying what is wrong. Pure.
result<listen_address> parse_listen_address(std::string_view text);

/// A whole engine configuration.
struct engine_config {
  std::string source;                      ///< the file it came from
  std::vector<provider_config> providers;  ///< in file order
  engine_settings engine;

  /// The provider with that name, or nullptr.
  const provider_config* find_provider(std::string_view name) const;
};

/// The defaults of a provider kind: poll intervals, documented rate limits, timeouts.
provider_config provider_defaults(provider_kind kind);

/// Reads one more top-level section (the strategy file's `strategies:` and `risk:`), called after
/// the built-in sections with the configuration read so far. It reports problems by throwing
/// config_error or, to report several, by adding them to `errors`.
using section_reader = std::function<void(const yaml_entry& section, const yaml_reader& reader,
                                          error_list& errors, const engine_config& so_far)>;

struct load_options {
  env_lookup env = process_env;
  /// false: credential references are checked for form but not read (no environment variable
  /// or file needed); every credential value is empty.
  bool resolve_credentials = true;
  /// Extra top-level sections by key; any other unknown top-level key is an error.
  std::map<std::string, section_reader, std::less<>> sections;
};

/// A configuration and every problem found in it.
struct load_result {
  engine_config config;              ///< as much as could be read; use only when ok()
  std::vector<config_error> errors;  ///< in file order (line, column)

  bool ok() const noexcept { return errors.empty(); }
};

/// Reads and validates a configuration file, collecting every error (unreadable file, YAML
/// syntax, unknown or duplicate key, wrong type, missing required field, bad decimal, duration or
/// URL, unset ${VAR}, a credential file readable by others). Thread-safe if `options.env` is.
load_result load_engine_config(const std::string& path, const load_options& options = {});
/// The same for YAML text; `source` names it in errors; relative paths resolve against the
/// working directory.
load_result parse_engine_config(std::string_view yaml, const std::string& source = "<string>",
                                const load_options& options = {});

/// A short human summary: one line per provider (name, kind, host, state, credential sources)
/// and the engine settings. Contains no credential value.
std::string describe(const engine_config& config);
/// "30/min", "10/s", "1000/h" or "5 per 1500ms".
std::string format_rate_limit(const rate_limit& limit);

}  // namespace swaprouter::config
