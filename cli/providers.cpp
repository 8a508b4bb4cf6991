#include "cli/providers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "adapters/kiiex/wire.hpp"
#include "adapters/onek/wire.hpp"
#include "adapters/oxapay/wire.hpp"
#include "adapters/stablestack/wire.hpp"
#include "cli/commands.hpp"
#include "cli/fleet.hpp"
#include "engine/rate_budget.hpp"

namespace swaprouter::cli {
namespace {

using steady = std::chrono::steady_clock;

// The path every endpoint of a kind lives under: the adapters build full paths themselves.
std::string_view api_base_path(config::provider_kind kind) {
  switch (kind) {
    case config::provider_kind::onek:
      return onek::wire::base_path;
    case config::provider_kind::kiiex:
      return kiiex::wire::base_path;
    case config::provider_kind::stablestack:
      return stablestack::wire::base_path;
    case config::provider_kind::oxapay:
      return oxapay::wire::base_path;
  }
  return {};
}

std::string_view reveal(const std::optional<config::credential>& c) {
  return c ? c->value.reveal() : std::string_view();
}

std::vector<direction> configured_directions(const config::provider_config& p) {
  std::vector<direction> out;
  for (const auto& d : p.directions) {
    direction dir;
    dir.provider = p.name;
    dir.code = d.code();
    dir.spend_asset = d.spend;
    dir.receive_asset = d.receive;
    dir.enabled = true;
    dir.spend_precision = d.spend_precision;
    dir.receive_precision = d.receive_precision;
    dir.min_spend = d.min_spend;
    dir.max_spend = d.max_spend;
    dir.min_receive = d.min_receive;
    dir.max_receive = d.max_receive;
    out.push_back(std::move(dir));
  }
  return out;
}

std::string read_ca_file(const config::provider_config& p) {
  std::ifstream in(*p.ca_file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw fleet_error(exit_usage, fmt::format("providers.{}.ca_file: cannot read a PEM certificate "
                                              "from {}",
                                              p.name, *p.ca_file));
  }
  return text.str();
}

class configured_venue final : public forwarding_venue {
 public:
  configured_venue(venue& inner, const config::provider_config& settings)
      : forwarding_venue(inner), name_(settings.name), assets_(settings.assets) {
    const auto& limits = settings.rate_limits;
    auto set = [this](std::string_view category, const std::optional<rate_limit>& limit) {
      if (limit) budget_.set(std::string(category), token_bucket(*limit));
    };
    set("quotes", limits.quotes);
    set("balances", limits.balances);
    set("swaps", limits.swaps);
    set("status", limits.status);
  }

  std::string_view id() const override { return name_; }
  task<result<std::vector<direction>>> directions() override {
    auto listed = co_await inner_.directions();
    if (!listed) co_return listed;
    std::vector<direction> out;
    for (auto& d : *listed) {
      if (!allowed(d.spend_asset, d.receive_asset)) continue;
      d.provider = name_;
      out.push_back(std::move(d));
    }
    co_return out;
  }

  task<result<quote>> price(const quote_request& request) override {
    if (auto refused = refuse(request.spend_asset, request.receive_asset, "quotes")) {
      co_return std::unexpected(std::move(*refused));
    }
    auto answer = co_await inner_.price(request);
    if (answer) answer->provider = name_;
    co_return answer;
  }

  task<result<pricing>> pricing_for(const quote_request& request) override {
    if (auto refused = refuse(request.spend_asset, request.receive_asset, "quotes")) {
      co_return std::unexpected(std::move(*refused));
    }
    auto answer = co_await inner_.pricing_for(request);
    if (answer) answer->provider = name_;
    co_return answer;
  }

  task<result<leg_status>> submit(const leg& order, const client_id& id) override {
    if (auto refused = refuse(order.spend_asset, order.receive_asset, "swaps")) {
      co_return std::unexpected(std::move(*refused));
    }
    co_return co_await inner_.submit(order, id);
  }

  task<result<leg_status>> status(const leg_ref& ref) override {
    if (auto refused = refuse({}, {}, "status")) co_return std::unexpected(std::move(*refused));
    co_return co_await inner_.status(ref);
  }

  task<result<std::optional<leg_status>>> find(const client_id& id, const leg& order,
                                               const held_swaps& held) override {
    if (auto refused = refuse({}, {}, "status")) co_return std::unexpected(std::move(*refused));
    co_return co_await inner_.find(id, order, held);
  }

  task<result<leg_status>> cancel(const leg_ref& ref) override {
    if (auto refused = refuse({}, {}, "swaps")) co_return std::unexpected(std::move(*refused));
    co_return co_await inner_.cancel(ref);
  }

  // The adapter's own budget, or this view's configured one for the poll's category, whichever
  // asks for the longer wait.
  steady::duration poll_wait(poll_kind kind, std::int64_t reserve) const override {
    const steady::duration inner = inner_.poll_wait(kind, reserve);
    if (kind == poll_kind::directions) return inner;
    const std::string_view category = kind == poll_kind::prices ? "quotes" : "balances";
    return std::max(inner, budget_.time_until_available(category, steady::now(), reserve));
  }

  task<result<std::vector<balance>>> balances() override {
    if (auto refused = refuse({}, {}, "balances")) co_return std::unexpected(std::move(*refused));
    co_return co_await inner_.balances();
  }

 private:
  bool allowed(std::string_view spend, std::string_view receive) const {
    auto enabled = [this](std::string_view asset) {
      return assets_.empty() || std::find(assets_.begin(), assets_.end(), asset) != assets_.end();
    };
    return enabled(spend) && enabled(receive);
  }

  // Nothing is sent when an asset is not enabled or the category's budget is empty.
  std::optional<error> refuse(std::string_view spend, std::string_view receive,
                              std::string_view category) {
    if (!spend.empty() && !allowed(spend, receive)) {
      return make_error(
          error_kind::invalid_argument,
          fmt::format("{}: {} -> {} is outside the configured assets", name_, spend, receive));
    }
    const auto now = steady::now();
    if (budget_.try_take(category, now)) return std::nullopt;
    const auto wait = budget_.time_until_available(category, now);
    error e = make_error(error_kind::rate_limited,
                         fmt::format("{}: configured {} budget exhausted", name_, category));
    e.retry_after_seconds =
        std::chrono::ceil<std::chrono::seconds>(std::max(wait, steady::duration(1))).count();
    return e;
  }

  std::string name_;
  std::vector<std::string> assets_;
  rate_budget budget_;
};

}  // namespace

bool has_credentials(const config::engine_config& config) {
  for (const auto& p : config.providers) {
    if (p.enabled && p.credentials) return true;
  }
  return false;
}

std::unique_ptr<venue> configured_view(venue& inner, const config::provider_config& settings) {
  return std::make_unique<configured_venue>(inner, settings);
}

http_endpoint configured_endpoint(const config::provider_config& p) {
  const std::string_view base = api_base_path(p.kind);
  if (!p.url.path.empty() && p.url.path != base) {
    throw fleet_error(
        exit_usage, fmt::format("providers.{}.base_url: the {} API lives under {}, not {}", p.name,
                                to_string(p.kind), base, p.url.path));
  }
  http_endpoint endpoint;
  endpoint.host = p.url.host;
  endpoint.port = p.url.port;
  endpoint.tls = p.url.scheme == "https";
  endpoint.connect_timeout = p.timeouts.connect;
  if (p.ca_file) {
    // Only the configured CA: a provider pinned to its CA trusts nothing else.
    endpoint.extra_ca_pem = read_ca_file(p);
    endpoint.only_extra_ca = true;
  }
  return endpoint;
}

adapter_spec configured_spec(const config::provider_config& p) {
  const config::credentials_config& c = *p.credentials;
  adapter_spec spec;
  spec.kind = to_string(p.kind);
  spec.access_key = reveal(c.access_key);
  spec.api_key = reveal(c.api_key);
  spec.user_id = reveal(c.user_id);
  spec.secret = reveal(c.secret);
  spec.request_timeout = p.timeouts.request;
  spec.oms_id = p.oms_id;
  spec.pairs_max_pages = p.pairs_max_pages;
  spec.customer_id = p.customer_id;
  if (p.kind == config::provider_kind::stablestack) spec.directions = configured_directions(p);
  return spec;
}

std::vector<configured_provider> connect_providers(boost::asio::any_io_executor executor,
                                                   const config::engine_config& config,
                                                   submit_watch* watch) {
  std::vector<configured_provider> out;
  for (const auto& p : config.providers) {
    if (!p.enabled || !p.credentials) continue;
    http_endpoint endpoint = configured_endpoint(p);
    const adapter_spec spec = configured_spec(p);
    configured_provider provider;
    provider.name = p.name;
    provider.kind = std::string(spec.kind);
    provider.host = fmt::format("{}://{}:{}", p.url.scheme, p.url.host, p.url.port);
    provider.http =
        watched_client(make_http_client(executor, std::move(endpoint)), spec.kind, p.name, watch);
    provider.adapter = make_adapter(*provider.http, spec);
    if (!provider.adapter) {
      throw fleet_error(exit_usage,
                        fmt::format("providers.{}: no adapter for kind {}", p.name, spec.kind));
    }
    provider.engine_view = configured_view(*provider.adapter, p);
    out.push_back(std::move(provider));
  }
  return out;
}

}  // namespace swaprouter::cli
