// Live and dry-run providers: a venue per enabled provider of an engine configuration, each
// adapter (built by make_adapter, as the emulators' clients are) over its own HTTP client that
// verifies TLS against the provider's configured CA file, or the system store when none.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/engine_config.hpp"
#include "engine/http.hpp"
#include "engine/submit_watch.hpp"
#include "engine/venue.hpp"

namespace swaprouter::cli {

struct adapter_spec;  // cli/fleet.hpp

/// One configured provider, connected. `engine_view` is what the engine uses: the adapter under
/// the configuration's provider name, limited to the configured assets and to the configured
/// request budgets. Destroy engine_view before adapter and adapter before http.
struct configured_provider {
  std::string name;  ///< the key under providers:
  std::string kind;
  std::string host;  ///< for logs: where it connects (never a credential)
  std::unique_ptr<http_client> http;
  std::unique_ptr<venue> adapter;
  std::unique_ptr<venue> engine_view;
};

/// True when some enabled provider of `config` has credentials configured.
bool has_credentials(const config::engine_config& config);

/// Where `p` is reached: its base URL's host, port and scheme, its connect timeout, and only its
/// CA file when it has one. Throws fleet_error (exit_usage) naming the provider and the key for a
/// CA file that cannot be read or a base URL path the provider's API does not live under.
http_endpoint configured_endpoint(const config::provider_config& p);

/// What make_adapter needs for `p`, which must have credentials (resolved); the credential views
/// point into `p`.
adapter_spec configured_spec(const config::provider_config& p);

/// Connects every enabled provider of `config` that has credentials; `config` must have been
/// loaded with credentials resolved. Throws fleet_error (exit_usage) naming the provider and
/// the key for a CA file that cannot be read or a base URL path the provider's API does not
/// live under. Nothing is sent until the venues are used. Each HTTP client is watched by
/// `watch` when set (fault tests' crash points; it must outlive the providers).
std::vector<configured_provider> connect_providers(boost::asio::any_io_executor executor,
                                                   const config::engine_config& config,
                                                   submit_watch* watch = nullptr);

/// The engine's view of a provider account (what connect_providers puts in engine_view): id()
/// is `settings.name` (provider names in directions, quotes and pricing are rewritten to it),
/// directions and prices of assets outside `settings.assets` are hidden, and quotes, balances,
/// swaps and status calls draw on the configured rate_limits (a refusal is rate_limited before
/// anything is sent); poll_wait() is the longer of the adapter's and the configured budget's
/// wait, health() the adapter's. Directions are not budgeted here: the adapters cache them and
/// 001k's client keeps the documented per-endpoint budgets itself. Not thread-safe; `inner` must
/// outlive it.
std::unique_ptr<venue> configured_view(venue& inner, const config::provider_config& settings);

}  // namespace swaprouter::cli
