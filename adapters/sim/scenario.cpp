#include "adapters/sim/scenario.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace swaprouter::sim {
namespace {

using entry = config::yaml_entry;
using reader = config::yaml_reader;
using config::index_path;

std::pair<std::string, std::string> split_direction(const reader& r, const entry& e,
                                                    const std::string& code) {
  const auto dash = code.find('-');
  if (dash == std::string::npos || code.find('-', dash + 1) != std::string::npos) {
    r.fail(e, "expected a direction SPEND-RECEIVE such as USDT-COPM, got '" + code + "'");
  }
  std::string spend = code.substr(0, dash);
  std::string receive = code.substr(dash + 1);
  if (!config::is_asset_code(spend) || !config::is_asset_code(receive)) {
    r.fail(e, "expected a direction SPEND-RECEIVE of asset codes, got '" + code + "'");
  }
  if (spend == receive) r.fail(e, "a direction needs two different assets");
  return {std::move(spend), std::move(receive)};
}

class scenario_parser {
 public:
  explicit scenario_parser(std::string file) : r_(std::move(file)) {}

  scenario parse(const YAML::Node& root) {
    scenario out;
    out.source = r_.file();
    out.assets = default_assets();
    assets_ = &out.assets;
    if (root.IsNull()) r_.fail_at(YAML::Mark(), "", "the scenario is empty");
    const auto entries = r_.map_entries(
        root, YAML::Mark(), "", {"seed", "volatility", "tick_ms", "assets", "rates", "providers"});
    // Assets first whatever the file order: rates, directions and balances refer to them.
    for (const auto& e : entries) {
      if (e.key == "assets") parse_assets(e, out.assets);
    }
    for (const auto& e : entries) {
      if (e.key == "seed") {
        out.seed = r_.unsigned_integer(e);
      } else if (e.key == "volatility") {
        out.volatility = r_.real(e, 0.0, 1.0);
      } else if (e.key == "tick_ms") {
        out.tick = r_.millis(e);
      } else if (e.key == "rates") {
        parse_rates(e, out);
      } else if (e.key == "providers") {
        parse_providers(e, out);
      }
    }
    return out;
  }

 private:
  bool known_asset(const std::vector<asset_info>& assets, std::string_view code) const {
    return std::any_of(assets.begin(), assets.end(),
                       [&](const asset_info& a) { return a.code == code; });
  }

  void require_asset(const entry& e, const std::string& code) const {
    if (!known_asset(*assets_, code)) {
      r_.fail(e, "unknown asset " + code + " (add it under assets)");
    }
  }

  void parse_assets(const entry& section, std::vector<asset_info>& assets) {
    const auto entries = r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        [](std::string_view) { return true; });
    for (const auto& e : entries) {
      if (!config::is_asset_code(e.key)) {
        r_.fail_at(e.key_node.Mark(), e.path,
                   "an asset code is 2 to 12 upper-case letters or digits");
      }
      auto it = std::find_if(assets.begin(), assets.end(),
                             [&](const asset_info& a) { return a.code == e.key; });
      const bool known = it != assets.end();
      if (!known) {
        asset_info added;
        added.code = e.key;
        added.name = e.key;
        assets.push_back(std::move(added));
        it = std::prev(assets.end());
      }
      asset_info& asset = *it;
      if (e.value.IsScalar() && !e.value.IsNull()) {
        asset.mid_usd = r_.positive(e);
        continue;
      }
      bool has_price = false;
      for (const auto& f :
           r_.map_entries(e.value, reader::mark_of(e), e.path,
                          {"price", "name", "precision", "fiat", "stable", "volatility"})) {
        if (f.key == "price") {
          asset.mid_usd = r_.positive(f);
          has_price = true;
        } else if (f.key == "name") {
          asset.name = r_.non_empty_text(f);
        } else if (f.key == "precision") {
          asset.precision = static_cast<int>(r_.integer(f, 0, 18));
        } else if (f.key == "fiat") {
          asset.is_fiat = r_.boolean(f);
        } else if (f.key == "stable") {
          asset.is_stable = r_.boolean(f);
        } else if (f.key == "volatility") {
          asset.volatility = r_.real(f, 0.0, 1.0);
        }
      }
      if (!known && !has_price) r_.fail(e, "a new asset needs a price (USD)");
    }
  }

  void parse_rates(const entry& section, scenario& out) {
    const auto entries = r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        [](std::string_view) { return true; });
    for (const auto& e : entries) {
      // Errors about the key point at the key. Constructed, not assigned: assigning a YAML::Node
      // overwrites the node it refers to.
      const entry key_entry{e.key, e.key_node, e.key_node, e.path};
      auto [spend, receive] = split_direction(r_, key_entry, e.key);
      require_asset(key_entry, spend);
      require_asset(key_entry, receive);
      out.rates[{spend, receive}] = r_.positive(e);
    }
  }

  void parse_providers(const entry& section, scenario& out) {
    const auto entries = r_.map_entries(
        section.value, reader::mark_of(section), section.path, [](std::string_view k) {
          return std::find(provider_names.begin(), provider_names.end(), k) != provider_names.end();
        });
    for (const auto& e : entries) out.providers[e.key] = parse_provider(e);
  }

  provider_config parse_provider(const entry& section) {
    provider_config p;
    p.name = section.key;
    p.port = default_port(p.name);
    p.fee_percent = *decimal::parse("0.25");
    p.spread = *decimal::parse("0.1");
    p.min_spend_usd = decimal::from_int(1);
    if (section.value.IsNull()) return p;
    static constexpr std::array<std::string_view, 18> common_keys{
        "enabled",         "port",          "tls",
        "directions",      "fee_percent",   "spread",
        "min_spend_usd",   "max_spend_usd", "balances",
        "credentials",     "latency",       "fill_delay_ms",
        "cancel_delay_ms", "failure_rate",  "clock_offset_ms",
        "rate_limits",     "session",       "faults"};
    // A provider-specific block is a key of that provider only: elsewhere it is unknown.
    const bool is_kiiex = p.name == "kiiex";
    const bool is_oxapay = p.name == "oxapay";
    const auto entries = r_.map_entries(
        section.value, reader::mark_of(section), section.path,
        [is_kiiex, is_oxapay](std::string_view k) {
          return std::find(common_keys.begin(), common_keys.end(), k) != common_keys.end() ||
                 (is_kiiex && k == "kiiex") || (is_oxapay && k == "oxapay");
        });
    for (const auto& e : entries) {
      if (e.key == "enabled") {
        p.enabled = r_.boolean(e);
      } else if (e.key == "port") {
        p.port = static_cast<std::uint16_t>(r_.integer(e, 0, 65535));
      } else if (e.key == "tls") {
        p.tls = r_.boolean(e);
      } else if (e.key == "fee_percent") {
        p.fee_percent = percent(e);
      } else if (e.key == "spread") {
        p.spread = percent(e);
      } else if (e.key == "min_spend_usd") {
        p.min_spend_usd = r_.non_negative(e);
      } else if (e.key == "max_spend_usd") {
        p.max_spend_usd = r_.limit(e);
      } else if (e.key == "fill_delay_ms") {
        p.fill_delay = r_.millis(e);
      } else if (e.key == "cancel_delay_ms") {
        p.cancel_delay = r_.millis(e);
      } else if (e.key == "failure_rate") {
        p.failure_rate = r_.real(e, 0.0, 1.0);
      } else if (e.key == "clock_offset_ms") {
        p.clock_offset = std::chrono::milliseconds(r_.integer(e, -86400000, 86400000));
      }
    }
    // Lists and sub-blocks after the scalars, each in its own pass for readability.
    for (const auto& e : entries) {
      if (e.key == "directions") {
        p.directions = parse_directions(e);
      } else if (e.key == "balances") {
        p.balances = parse_balances(e);
      } else if (e.key == "credentials") {
        p.credentials = parse_credentials(e);
      } else if (e.key == "latency") {
        p.latency = parse_latency(e);
      } else if (e.key == "rate_limits") {
        p.rate_limits = parse_rate_limits(e);
      } else if (e.key == "session") {
        p.session = parse_session(e);
      } else if (e.key == "faults") {
        p.faults = parse_faults(e);
      } else if (e.key == "kiiex") {
        p.kiiex = parse_kiiex(e);
      } else if (e.key == "oxapay") {
        p.oxapay = parse_oxapay(e);
      }
    }
    return p;
  }

  oxapay_config parse_oxapay(const entry& section) const {
    oxapay_config out;
    if (section.value.IsNull()) return out;
    for (const auto& f : r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        {"pairs_page_size"})) {
      if (f.key == "pairs_page_size") {
        out.pairs_page_size = static_cast<int>(r_.integer(f, 0, 100000));
      }
    }
    return out;
  }

  kiiex_config parse_kiiex(const entry& section) const {
    kiiex_config out;
    if (section.value.IsNull()) return out;
    for (const auto& f :
         r_.map_entries(section.value, reader::mark_of(section), section.path,
                        {"order_status_array", "book_levels", "level_step_percent", "level_usd",
                         "replenish_ms", "oms_id", "user_id", "account_id", "lockout_failures",
                         "trades_page_limit", "fee_in_spent_product"})) {
      if (f.key == "order_status_array") {
        out.order_status_array = r_.boolean(f);
      } else if (f.key == "book_levels") {
        out.book_levels = static_cast<int>(r_.integer(f, 1, 1000));
      } else if (f.key == "level_step_percent") {
        out.level_step_percent = percent(f);
      } else if (f.key == "level_usd") {
        out.level_usd = r_.positive(f);
      } else if (f.key == "replenish_ms") {
        out.replenish = r_.millis(f);
      } else if (f.key == "oms_id") {
        out.oms_id = r_.integer(f, 1, std::numeric_limits<std::int32_t>::max());
      } else if (f.key == "user_id") {
        out.user_id = r_.integer(f, 1, std::numeric_limits<std::int32_t>::max());
      } else if (f.key == "account_id") {
        out.account_id = r_.integer(f, 1, std::numeric_limits<std::int32_t>::max());
      } else if (f.key == "lockout_failures") {
        out.lockout_failures = static_cast<int>(r_.integer(f, 1, 1000));
      } else if (f.key == "trades_page_limit") {
        out.trades_page_limit = static_cast<int>(r_.integer(f, 0, 100000));
      } else if (f.key == "fee_in_spent_product") {
        out.fee_in_spent_product = r_.boolean(f);
      }
    }
    return out;
  }

  decimal percent(const entry& e) const {
    const decimal value = r_.non_negative(e);
    if (value >= decimal::from_int(100)) r_.fail(e, "a percentage must be below 100");
    return value;
  }

  std::vector<direction_config> parse_directions(const entry& section) {
    if (section.value.IsNull()) return {};
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of directions");
    std::vector<direction_config> out;
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const YAML::Node node = section.value[i];
      const entry item{std::to_string(i), section.key_node, node, index_path(section.path, i)};
      direction_config d;
      if (node.IsScalar()) {
        std::tie(d.spend, d.receive) = split_direction(r_, item, r_.text(item));
        require_asset(item, d.spend);
        require_asset(item, d.receive);
      } else {
        bool has_code = false;
        const auto fields =
            r_.map_entries(node, reader::mark_of(item), item.path,
                           {"code", "enabled", "fee_percent", "spread", "min_spend", "max_spend",
                            "min_receive", "max_receive", "spend_precision", "receive_precision"});
        for (const auto& f : fields) {
          if (f.key == "code") {
            std::tie(d.spend, d.receive) = split_direction(r_, f, r_.text(f));
            require_asset(f, d.spend);
            require_asset(f, d.receive);
            has_code = true;
          } else if (f.key == "enabled") {
            d.enabled = r_.boolean(f);
          } else if (f.key == "fee_percent") {
            d.fee_percent = percent(f);
          } else if (f.key == "spread") {
            d.spread = percent(f);
          } else if (f.key == "min_spend") {
            d.min_spend = r_.limit(f);
          } else if (f.key == "max_spend") {
            d.max_spend = r_.limit(f);
          } else if (f.key == "min_receive") {
            d.min_receive = r_.limit(f);
          } else if (f.key == "max_receive") {
            d.max_receive = r_.limit(f);
          } else if (f.key == "spend_precision") {
            d.spend_precision = static_cast<int>(r_.integer(f, 0, 18));
          } else if (f.key == "receive_precision") {
            d.receive_precision = static_cast<int>(r_.integer(f, 0, 18));
          }
        }
        if (!has_code) r_.fail(item, "a direction needs a code (SPEND-RECEIVE)");
        check_range(fields, "min_spend", d.min_spend, "max_spend", d.max_spend);
        check_range(fields, "min_receive", d.min_receive, "max_receive", d.max_receive);
      }
      for (const auto& seen : out) {
        if (seen.code() == d.code()) r_.fail(item, "duplicate direction " + d.code());
      }
      out.push_back(std::move(d));
    }
    return out;
  }

  void check_range(const std::vector<entry>& fields, std::string_view min_key,
                   const std::optional<std::optional<decimal>>& min, std::string_view max_key,
                   const std::optional<std::optional<decimal>>& max) const {
    if (!min || !max || !*min || !*max) return;
    if (**min > **max) {
      for (const auto& f : fields) {
        if (f.key == max_key) {
          r_.fail(f, std::string(max_key) + " is below " + std::string(min_key));
        }
      }
    }
  }

  std::map<std::string, decimal> parse_balances(const entry& section) {
    std::map<std::string, decimal> out;
    if (section.value.IsNull()) return out;
    for (const auto& e : r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        [](std::string_view) { return true; })) {
      // Errors about the key point at the key. Constructed, not assigned: assigning a YAML::Node
      // overwrites the node it refers to.
      const entry key_entry{e.key, e.key_node, e.key_node, e.path};
      require_asset(key_entry, e.key);
      out[e.key] = r_.non_negative(e);
    }
    return out;
  }

  std::vector<credential_config> parse_credentials(const entry& section) {
    if (section.value.IsNull()) return {};
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of credentials");
    std::vector<credential_config> out;
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const YAML::Node node = section.value[i];
      const entry item{std::to_string(i), section.key_node, node, index_path(section.path, i)};
      credential_config c;
      bool permissions_given = false;
      const auto fields = r_.map_entries(
          node, reader::mark_of(item), item.path,
          {"access_key", "secret", "permissions", "active", "user_active", "ip_allow"});
      for (const auto& f : fields) {
        if (f.key == "access_key") {
          c.access_key = r_.non_empty_text(f);
        } else if (f.key == "secret") {
          c.secret = r_.non_empty_text(f);
        } else if (f.key == "active") {
          c.active = r_.boolean(f);
        } else if (f.key == "user_active") {
          c.user_active = r_.boolean(f);
        } else if (f.key == "permissions") {
          permissions_given = true;
          c.permissions = parse_permissions(f);
        } else if (f.key == "ip_allow") {
          c.ip_allow = parse_ip_allow(f);
        }
      }
      if (c.access_key.empty()) r_.fail(item, "a credential needs an access_key");
      if (c.secret.empty()) r_.fail(item, "a credential needs a secret");
      if (!permissions_given) {
        for (auto name : known_permissions) c.permissions.emplace(name);
      }
      for (const auto& seen : out) {
        if (seen.access_key == c.access_key) r_.fail(item, "duplicate access_key");
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  std::set<std::string> parse_permissions(const entry& section) const {
    std::set<std::string> out;
    if (section.value.IsNull()) return out;
    if (!section.value.IsSequence()) {
      r_.fail(section, "expected a list of permissions such as [allow_swap, allow_balance]");
    }
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const entry item{std::to_string(i), section.key_node, section.value[i],
                       index_path(section.path, i)};
      std::string name = r_.text(item);
      if (std::find(known_permissions.begin(), known_permissions.end(), name) ==
          known_permissions.end()) {
        r_.fail(item, "unknown permission '" + name + "'");
      }
      out.insert(std::move(name));
    }
    return out;
  }

  std::vector<ip_range> parse_ip_allow(const entry& section) const {
    std::vector<ip_range> out;
    if (section.value.IsNull()) return out;
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of addresses or CIDRs");
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const entry item{std::to_string(i), section.key_node, section.value[i],
                       index_path(section.path, i)};
      const std::string text = r_.text(item);
      auto range = ip_range::parse(text);
      if (!range) r_.fail(item, "expected an IP address or CIDR range, got '" + text + "'");
      out.push_back(*range);
    }
    return out;
  }

  latency_model parse_latency(const entry& section) const {
    std::optional<std::chrono::milliseconds> fixed, p50, p99;
    const auto fields = r_.map_entries(section.value, reader::mark_of(section), section.path,
                                       {"fixed_ms", "p50_ms", "p99_ms"});
    for (const auto& f : fields) {
      if (f.key == "fixed_ms") fixed = r_.millis(f);
      if (f.key == "p50_ms") p50 = r_.millis(f);
      if (f.key == "p99_ms") p99 = r_.millis(f);
    }
    if (fixed) {
      if (p50 || p99) r_.fail(section, "give either fixed_ms or p50_ms/p99_ms, not both");
      return latency_model::fixed(*fixed);
    }
    if (p50.has_value() != p99.has_value()) r_.fail(section, "p50_ms and p99_ms go together");
    if (!p50) return latency_model::none();
    if (*p99 < *p50) {
      for (const auto& f : fields) {
        if (f.key == "p99_ms") r_.fail(f, "p99_ms must be >= p50_ms");
      }
    }
    return latency_model::percentiles(*p50, *p99);
  }

  std::map<std::string, rate_limit_config> parse_rate_limits(const entry& section) const {
    std::map<std::string, rate_limit_config> out;
    if (section.value.IsNull()) return out;
    for (const auto& e : r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        [](std::string_view) { return true; })) {
      if (e.key.empty() || e.key.front() != '/') {
        r_.fail_at(e.key_node.Mark(), e.path,
                   "a rate limit is keyed by the endpoint's path, such as /swap/open");
      }
      rate_limit_config limit;
      if (e.value.IsScalar()) {
        limit.limit = static_cast<int>(r_.integer(e, 0, 1000000));
      } else {
        for (const auto& f :
             r_.map_entries(e.value, reader::mark_of(e), e.path, {"limit", "window_ms"})) {
          if (f.key == "limit") limit.limit = static_cast<int>(r_.integer(f, 0, 1000000));
          if (f.key == "window_ms") limit.window = r_.millis(f, 1);
        }
      }
      out[e.key] = limit;
    }
    return out;
  }

  session_config parse_session(const entry& section) const {
    session_config out;
    for (const auto& f : r_.map_entries(section.value, reader::mark_of(section), section.path,
                                        {"idle_timeout_ms", "max_age_ms"})) {
      if (f.key == "idle_timeout_ms") out.idle_timeout = r_.millis(f, 1);
      if (f.key == "max_age_ms") out.max_age = r_.millis(f, 1);
    }
    return out;
  }

  std::vector<fault_rule> parse_faults(const entry& section) const {
    if (section.value.IsNull()) return {};
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of faults");
    std::vector<fault_rule> out;
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const entry item{std::to_string(i), section.key_node, section.value[i],
                       index_path(section.path, i)};
      fault_rule rule;
      bool has_kind = false;
      // The same fields as the admin API's JSON form (parse_fault_rule in fault.hpp).
      for (const auto& f :
           r_.map_entries(item.value, reader::mark_of(item), item.path,
                          {"route", "kind", "status", "body", "retry_after_seconds",
                           "retry_after_date", "delay_ms", "delay_max_ms", "remaining",
                           "probability", "method", "run_handler", "size_bytes"})) {
        fault& v = rule.value;
        if (f.key == "route") {
          rule.route = r_.non_empty_text(f);
        } else if (f.key == "kind") {
          const std::string name = r_.text(f);
          auto kind = parse_fault_kind(name);
          if (!kind) r_.fail(f, "unknown fault kind '" + name + "'");
          v.kind = *kind;
          has_kind = true;
        } else if (f.key == "status") {
          v.status = static_cast<int>(r_.integer(f, 100, 599));
        } else if (f.key == "body") {
          v.body = r_.text(f);
        } else if (f.key == "retry_after_seconds") {
          v.retry_after_seconds = static_cast<int>(r_.integer(f, 0, 86400 * 365));
        } else if (f.key == "retry_after_date") {
          v.retry_after_date = r_.non_empty_text(f);
        } else if (f.key == "delay_ms") {
          v.delay = r_.millis(f);
        } else if (f.key == "delay_max_ms") {
          v.delay_max = r_.millis(f);
        } else if (f.key == "remaining") {
          v.remaining = static_cast<int>(r_.integer(f, -1, 1000000000));
          if (v.remaining == 0) r_.fail(f, "remaining is -1 (forever) or a count > 0");
        } else if (f.key == "probability") {
          v.probability = r_.real(f, 0.0, 1.0);
        } else if (f.key == "method") {
          v.method = r_.non_empty_text(f);
        } else if (f.key == "run_handler") {
          v.run_handler = r_.boolean(f);
        } else if (f.key == "size_bytes") {
          v.size_bytes = static_cast<std::size_t>(r_.integer(f, 0, std::int64_t{1} << 34));
        }
      }
      if (rule.route.empty()) r_.fail(item, "a fault needs a route ('*' for every request)");
      if (!has_kind) r_.fail(item, "a fault needs a kind");
      out.push_back(std::move(rule));
    }
    return out;
  }

  reader r_;
  const std::vector<asset_info>* assets_ = nullptr;
};

}  // namespace

std::optional<ip_range> ip_range::parse(std::string_view text) {
  ip_range out;
  std::string address(text);
  std::optional<int> prefix;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = std::string(text.substr(0, slash));
    const std::string_view digits = text.substr(slash + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    prefix = value;
  }
  if (inet_pton(AF_INET, address.c_str(), out.address.data()) == 1) {
    out.v6 = false;
    out.prefix = prefix.value_or(32);
    if (out.prefix < 0 || out.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, address.c_str(), out.address.data()) == 1) {
    out.v6 = true;
    out.prefix = prefix.value_or(128);
    if (out.prefix < 0 || out.prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return out;
}

bool ip_range::contains(std::string_view ip) const {
  std::array<unsigned char, 16> bytes{};
  bool is_v6 = false;
  const std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    is_v6 = false;
  } else if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes.data(), mapped, sizeof mapped) == 0) {
      std::memmove(bytes.data(), bytes.data() + 12, 4);
      is_v6 = false;
    } else {
      is_v6 = true;
    }
  } else {
    return false;
  }
  if (is_v6 != v6) return false;
  const int full = prefix / 8;
  if (std::memcmp(bytes.data(), address.data(), static_cast<std::size_t>(full)) != 0) return false;
  if (const int rest = prefix % 8; rest != 0) {
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    if ((bytes[static_cast<std::size_t>(full)] & mask) !=
        (address[static_cast<std::size_t>(full)] & mask)) {
      return false;
    }
  }
  return true;
}

const direction_config* provider_config::find_direction(std::string_view code) const {
  for (const auto& d : directions) {
    if (d.code() == code) return &d;
  }
  return nullptr;
}

market_config scenario::market() const {
  return market_config{.seed = seed, .volatility = volatility, .assets = assets, .rates = rates};
}

const provider_config* scenario::find_provider(std::string_view name) const {
  auto it = providers.find(std::string(name));
  return it == providers.end() ? nullptr : &it->second;
}

std::uint16_t default_port(std::string_view provider) {
  for (std::size_t i = 0; i < provider_names.size(); ++i) {
    if (provider_names[i] == provider) return static_cast<std::uint16_t>(18001 + i);
  }
  return 0;
}

scenario parse_scenario(std::string_view yaml, const std::string& source) {
  return scenario_parser(source).parse(config::parse_yaml(yaml, source));
}

scenario load_scenario(const std::string& path) {
  return parse_scenario(config::read_config_file(path), path);
}

}  // namespace swaprouter::sim
