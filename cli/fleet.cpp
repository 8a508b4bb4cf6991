#include "cli/fleet.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <boost/system/system_error.hpp>
#include <limits>
#include <map>
#include <set>
#include <system_error>

#include "adapters/kiiex/client.hpp"
#include "adapters/kiiex/emulator.hpp"
#include "adapters/kiiex/wire.hpp"
#include "adapters/onek/client.hpp"
#include "adapters/onek/emulator.hpp"
#include "adapters/onek/wire.hpp"
#include "adapters/oxapay/client.hpp"
#include "adapters/oxapay/emulator.hpp"
#include "adapters/oxapay/wire.hpp"
#include "adapters/stablestack/client.hpp"
#include "adapters/stablestack/emulator.hpp"
#include "adapters/stablestack/wire.hpp"
#include "cli/commands.hpp"
#include "engine/hmac.hpp"
#include "engine/journal.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// Provider emulators by scenario name; a provider joins the fleet with one branch here.
std::unique_ptr<sim::provider_emulator> make_emulator(std::string_view name,
                                                      asio::any_io_executor executor,
                                                      sim::server& server, sim::market& market,
                                                      const sim::provider_config& config,
                                                      const sim::emulator_options& options) {
  if (name == "onek") {
    return std::make_unique<onek::emulator>(executor, server, market, config, options);
  }
  if (name == "kiiex") {
    return std::make_unique<kiiex::emulator>(executor, server, market, config, options,
                                             kiiex::settings_for(config));
  }
  if (name == "stablestack") {
    return std::make_unique<stablestack::emulator>(executor, server, market, config, options);
  }
  if (name == "oxapay") {
    return std::make_unique<oxapay::emulator>(executor, server, market, config, options,
                                              oxapay::settings_for(config));
  }
  return nullptr;
}

// The matching adapter for an emulator, with the scenario credential it accepts.
// The StableStack API lists no directions (VENUES.md 2.7): its client takes them from
// configuration, here the scenario's, with each asset's precision from the market.
stablestack::client_options stablestack_options(const sim::provider_config& config,
                                                const sim::market& market) {
  stablestack::client_options options;
  for (const auto& d : config.directions) {
    direction out;
    out.provider = "stablestack";
    out.code = d.code();
    out.spend_asset = d.spend;
    out.receive_asset = d.receive;
    out.enabled = d.enabled;
    const auto* spend = market.find_asset(d.spend);
    const auto* receive = market.find_asset(d.receive);
    out.spend_precision = d.spend_precision.value_or(spend != nullptr ? spend->precision : 8);
    out.receive_precision =
        d.receive_precision.value_or(receive != nullptr ? receive->precision : 8);
    out.fee_percent = d.fee_percent.value_or(config.fee_percent);
    if (d.min_spend && *d.min_spend) out.min_spend = **d.min_spend;
    if (d.max_spend) out.max_spend = *d.max_spend;
    options.directions.push_back(std::move(out));
  }
  return options;
}

std::unique_ptr<venue> make_venue(std::string_view name, http_client& http,
                                  const sim::provider_config& config, const sim::market& market,
                                  const sim::credential_config& credential,
                                  const adapter_tuning& tuning) {
  adapter_spec spec;
  spec.kind = name;
  if (tuning.request_timeout) spec.request_timeout = *tuning.request_timeout;
  spec.circuit = tuning.circuit;
  spec.directions_max_age = tuning.directions_max_age;
  // The scenario's access_key is every kind's API key; StableStack and OxaPay authenticate with
  // it alone.
  spec.access_key = credential.access_key;
  spec.api_key = credential.access_key;
  spec.secret = credential.secret;
  const std::string user_id =
      name == "kiiex" ? std::to_string(kiiex::settings_for(config).user_id) : std::string();
  spec.user_id = user_id;
  if (name == "stablestack") spec.directions = stablestack_options(config, market).directions;
  return make_adapter(http, spec);
}

}  // namespace

const sim::credential_config* swap_credential(const sim::provider_config& config) {
  for (const auto& credential : config.credentials) {
    if (credential.active && credential.user_active && credential.allows("allow_swap")) {
      return &credential;
    }
  }
  return config.credentials.empty() ? nullptr : &config.credentials.front();
}

std::vector<direction> stablestack_directions(const sim::provider_config& config,
                                              const sim::market& market) {
  return stablestack_options(config, market).directions;
}

std::optional<create_route> create_route_of(std::string_view kind) {
  create_route out;
  if (kind == "onek") {
    out.path = onek::wire::path::swap_open;
  } else if (kind == "kiiex") {
    out.path = kiiex::wire::path(kiiex::wire::fn::send_order);
  } else if (kind == "stablestack") {
    out.path = stablestack::wire::path::swaps;
  } else if (kind == "oxapay") {
    out.path = oxapay::wire::path::swap;
  } else {
    return std::nullopt;
  }
  return out;
}

std::unique_ptr<http_client> watched_client(std::unique_ptr<http_client> http,
                                            std::string_view kind, std::string provider,
                                            submit_watch* watch) {
  auto create = create_route_of(kind);
  if (watch == nullptr || !create) return http;
  return watch->watch(std::move(http), std::move(provider), std::move(*create));
}

std::unique_ptr<venue> make_adapter(http_client& http, const adapter_spec& spec) {
  if (spec.kind == "onek") {
    onek::client_options options;
    options.request_timeout = spec.request_timeout;
    if (spec.circuit) options.circuit = *spec.circuit;
    if (spec.directions_max_age) options.directions_max_age = *spec.directions_max_age;
    return std::make_unique<onek::client>(http, std::string(spec.access_key),
                                          hmac_sha256(spec.secret), std::move(options));
  }
  if (spec.kind == "kiiex") {
    kiiex::client_options options;
    options.request_timeout = spec.request_timeout;
    if (spec.circuit) options.circuit = *spec.circuit;
    options.oms_id = spec.oms_id;
    return std::make_unique<kiiex::client>(http, std::string(spec.api_key),
                                           std::string(spec.user_id), hmac_sha256(spec.secret),
                                           std::move(options));
  }
  if (spec.kind == "stablestack") {
    stablestack::client_options options;
    options.request_timeout = spec.request_timeout;
    if (spec.circuit) options.circuit = *spec.circuit;
    options.customer_id = spec.customer_id;
    options.directions = spec.directions;
    return std::make_unique<stablestack::client>(http, std::string(spec.api_key),
                                                 std::move(options));
  }
  if (spec.kind == "oxapay") {
    oxapay::client_options options;
    options.request_timeout = spec.request_timeout;
    if (spec.circuit) options.circuit = *spec.circuit;
    if (spec.pairs_max_pages) options.pairs_max_pages = *spec.pairs_max_pages;
    return std::make_unique<oxapay::client>(http, std::string(spec.api_key), std::move(options));
  }
  return nullptr;
}

std::vector<fs::path> default_scenario_candidates() {
  std::vector<fs::path> out{fs::current_path() / "config" / "scenario.yaml"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path dir = exe.parent_path();
    out.push_back(dir / "config" / "scenario.yaml");
    out.push_back(dir.parent_path() / "config" / "scenario.yaml");
    out.push_back(dir.parent_path().parent_path() / "config" / "scenario.yaml");
    out.push_back(dir.parent_path() / "share" / "swaprouter" / "scenario.yaml");
  }
#ifdef SWAPROUTER_SOURCE_DIR
  out.push_back(fs::path(SWAPROUTER_SOURCE_DIR) / "config" / "scenario.yaml");
#endif
  return out;
}

loaded_scenario load_scenario_file(const std::string& path) {
  loaded_scenario out;
  out.path = path;
  if (out.path.empty()) {
    std::string looked;
    for (const auto& candidate : default_scenario_candidates()) {
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) {
        out.path = candidate.lexically_normal().string();
        break;
      }
      looked += "\n  " + candidate.string();
    }
    if (out.path.empty()) {
      throw fleet_error(exit_usage, "no scenario given and none found at:" + looked);
    }
  }
  try {
    out.scenario = sim::load_scenario(out.path);
    out.market = std::make_unique<sim::market>(out.scenario.market());
  } catch (const sim::scenario_error& e) {
    throw fleet_error(exit_usage, e.what());
  } catch (const std::invalid_argument& e) {
    throw fleet_error(exit_usage, fmt::format("{}: {}", out.path, e.what()));
  }
  return out;
}

std::string running_provider::base_url() const {
  return server->base_url() + std::string(emulator->base_path());
}

fleet::fleet(asio::io_context& ioc, loaded_scenario& loaded, fleet_options options)
    : market_(loaded.market.get()) {
  const sim::scenario& scenario = loaded.scenario;
  std::optional<issued_cert> leaf;
  if (!options.plain) {
    ca_ = cert_authority::generate("swaprouter simulate CA");
    leaf = ca_->issue(cert_options{});
  }
  providers_.reserve(sim::provider_names.size());
  std::uint64_t seed_offset = 0;
  for (const auto name : sim::provider_names) {
    ++seed_offset;
    const sim::provider_config* config = scenario.find_provider(name);
    if (config == nullptr) continue;
    if (!config->enabled) {
      spdlog::info("provider {} disabled in the scenario", name);
      continue;
    }
    sim::server_options server_options;
    server_options.port = options.ephemeral_ports ? 0 : config->port;
    if (config->tls && leaf) server_options.tls = leaf;
    server_options.latency = config->latency;
    server_options.seed = scenario.seed + seed_offset;
    running_provider provider;
    provider.name = std::string(name);
    provider.config = config;
    try {
      provider.server = std::make_unique<sim::server>(ioc.get_executor(), server_options);
      sim::emulator_options emulator_options;
      emulator_options.seed = scenario.seed + seed_offset;
      if (ca_) emulator_options.callback_ca_pem = ca_->ca_pem();
      provider.emulator = make_emulator(name, ioc.get_executor(), *provider.server, *loaded.market,
                                        *config, emulator_options);
    } catch (const std::invalid_argument& e) {
      throw fleet_error(exit_usage, fmt::format("{}: {}", loaded.path, e.what()));
    }
    if (!provider.emulator) {
      spdlog::warn("provider {} has no emulator; skipped", name);
      continue;
    }
    try {
      provider.server->start();
    } catch (const boost::system::system_error& e) {
      throw fleet_error(
          exit_failure,
          fmt::format("provider {} cannot listen on 127.0.0.1:{} ({}; set "
                      "providers.{}.port in {})",
                      name, server_options.port, e.code().message(), name, loaded.path));
    }
    providers_.push_back(std::move(provider));
  }
}

fleet::~fleet() {
  stop();
  // Emulators refer to their servers: destroy them first.
  for (auto& provider : providers_) provider.emulator.reset();
}

void fleet::stop() {
  for (auto& provider : providers_) {
    if (provider.emulator) provider.emulator->stop();
    if (provider.server) provider.server->stop();
  }
}

std::vector<simulated_venue> connect_venues(asio::any_io_executor executor, fleet& f,
                                            submit_watch* watch, const adapter_tuning& tuning) {
  std::vector<simulated_venue> out;
  for (auto& provider : f.providers()) {
    const sim::credential_config* credential = swap_credential(*provider.config);
    if (credential == nullptr) {
      spdlog::warn("provider {} has no credential in the scenario; not connected", provider.name);
      continue;
    }
    http_endpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = provider.server->port();
    endpoint.tls = provider.server->tls();
    if (f.ca()) endpoint.extra_ca_pem = f.ca()->ca_pem();
    // Only the run-time CA: the emulators are the only peers this client may trust.
    endpoint.only_extra_ca = true;
    simulated_venue v;
    v.provider = provider.name;
    v.http =
        watched_client(make_http_client(executor, endpoint), provider.name, provider.name, watch);
    v.venue =
        make_venue(provider.name, *v.http, *provider.config, *f.market(), *credential, tuning);
    if (v.venue) out.push_back(std::move(v));
  }
  return out;
}

namespace {

// A member as text: the ledgers' numbers are read as strings, so ids and amounts keep their
// exact digits; empty when absent.
std::string member_text(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return {};
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

std::optional<std::vector<emulator_swap>> ledger_swaps(const running_provider& provider) {
  if (!provider.emulator) return std::nullopt;
  const std::string json = provider.emulator->ledger_json();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const std::string& kind = provider.name;
  const char* list = kind == "kiiex" ? "orders" : "swaps";
  std::vector<emulator_swap> out;
  const auto it = doc.FindMember(list);
  if (it == doc.MemberEnd()) return out;
  if (!it->value.IsArray()) return std::nullopt;
  for (const auto& s : it->value.GetArray()) {
    emulator_swap swap;
    if (kind == "onek") {
      swap.ref = member_text(s, "code");
      swap.client = member_text(s, "custom_id");
      swap.spend = member_text(s, "spend_amount");
    } else if (kind == "kiiex") {
      swap.ref = member_text(s, "OrderId");
      swap.client = member_text(s, "ClientOrderId");
    } else if (kind == "stablestack") {
      swap.ref = member_text(s, "swapId");
      const auto debit = s.FindMember("debitTransaction");
      if (debit != s.MemberEnd()) swap.spend = member_text(debit->value, "amount");
    } else {
      swap.ref = member_text(s, "track_id");
      swap.spend = member_text(s, "from_amount");
    }
    out.push_back(std::move(swap));
  }
  return out;
}

ledger_check check_ledgers(fleet& f, journal& records, wall_time since) {
  ledger_check out;
  auto intents = records.intents(std::numeric_limits<std::size_t>::max());
  if (!intents) {
    out.disagreements.push_back("journal: " + describe(intents.error()));
    return out;
  }
  std::map<std::string, std::map<std::string, client_id>> journaled;  // provider -> ref -> client
  for (const intent_record& intent : *intents) {
    if (intent.dry_run || intent.created_at < since) continue;
    auto legs = records.legs_of(intent.id);
    if (!legs) {
      out.disagreements.push_back("journal: " + describe(legs.error()));
      continue;
    }
    for (const leg_record& leg : *legs) {
      if (leg.provider_ref.empty()) continue;
      journaled[leg.provider][leg.provider_ref] = leg.client;
      ++out.legs;
    }
  }
  std::set<std::string> seen;
  for (const running_provider& p : f.providers()) {
    seen.insert(p.name);
    auto swaps = ledger_swaps(p);
    if (!swaps) {
      out.disagreements.push_back(p.name + ": the ledger cannot be read");
      continue;
    }
    const auto& ours = journaled[p.name];
    std::set<std::string> refs;
    std::set<std::string> clients;
    for (const emulator_swap& s : *swaps) {
      ++out.swaps;
      refs.insert(s.ref);
      if (!s.client.empty() && s.client != "0" && !clients.insert(s.client).second) {
        out.disagreements.push_back(
            fmt::format("{}: client id {} is at the emulator twice", p.name, s.client));
      }
      if (!ours.contains(s.ref)) {
        out.disagreements.push_back(
            fmt::format("{}: swap {} is not in the journal", p.name, s.ref));
      }
    }
    for (const auto& [ref, client] : ours) {
      if (!refs.contains(ref)) {
        out.disagreements.push_back(fmt::format("{}: journaled leg {} (provider reference {}) is "
                                                "not at the emulator",
                                                p.name, client, ref));
      }
    }
  }
  for (const auto& [provider, refs] : journaled) {
    if (!seen.contains(provider) && !refs.empty()) {
      out.disagreements.push_back(
          fmt::format("{}: {} journaled legs at a provider the fleet does not run", provider,
                      refs.size()));
    }
  }
  return out;
}

}  // namespace swaprouter::cli
