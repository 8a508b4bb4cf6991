#include "cli/session.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "adapters/onek/client.hpp"
#include "cli/commands.hpp"
#include "config/yaml_reader.hpp"

namespace swaprouter::cli {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value <= 0) return std::nullopt;
  const std::string_view unit(end, text.data() + text.size() - end);
  std::int64_t unit_ms = 0;
  if (unit.empty() || unit == "s") {
    unit_ms = 1000;
  } else if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "m") {
    unit_ms = 60 * 1000;
  } else if (unit == "h") {
    unit_ms = 3600 * 1000;
  } else {
    return std::nullopt;
  }
  // Beyond a year is a typo; and value * unit_ms must not overflow (307445734561826m wrapped to
  // 8.4 s, or past a caller's upper bound to a negative duration).
  constexpr std::int64_t limit = std::int64_t{366} * 24 * 3600 * 1000;
  if (value > limit / unit_ms) return std::nullopt;
  return std::chrono::milliseconds(value * unit_ms);
}

void add_pair_options(CLI::App& app, std::string& from, std::string& to) {
  const CLI::Validator asset_code(
      [](const std::string& code) -> std::string {
        if (config::is_asset_code(code)) return {};
        return "an asset code is 2 to 12 upper-case letters or digits, got '" + code + "'";
      },
      "ASSET");
  app.add_option("--from", from, "Asset to spend, e.g. USDT")->required()->check(asset_code);
  app.add_option("--to", to, "Asset to receive, e.g. COPM")->required()->check(asset_code);
}

CLI::Option* add_amount_options(CLI::App& app, std::string& spend, std::string& receive) {
  auto* by_spend = app.add_option("--spend", spend, "Exact amount to spend");
  auto* by_receive =
      app.add_option("--receive", receive, "Exact net amount to receive, for the least spend");
  by_spend->excludes(by_receive);
  by_receive->excludes(by_spend);
  app.callback([by_spend, by_receive] {
    if (by_spend->count() + by_receive->count() != 1) {
      throw CLI::ValidationError("one of --spend or --receive is required");
    }
  });
  return by_receive;
}

crash_hook crash_hook_from_env() {
  const char* point = std::getenv("SWAPROUTER_CRASH_AT");
  if (point == nullptr || *point == '\0') return {};
  const std::string wanted(point);
  return [wanted](std::string_view at) {
    if (at == wanted) ::_exit(137);
  };
}

void simulation::start(boost::asio::io_context& ioc, const std::string& scenario_path,
                       submit_watch* watch) {
  scenario.emplace(load_scenario_file(scenario_path));
  fleet_options options;
  options.ephemeral_ports = true;
  emulators.emplace(ioc, *scenario, options);
  venues = connect_venues(ioc.get_executor(), *emulators, watch);
  for (auto& v : venues) providers.push_back(v.venue.get());
}

void simulation::stop() {
  if (emulators) emulators->stop();
}

result<journal_lock> journal_lock::acquire(const std::string& path) {
  journal_lock out;
  if (path.empty() || path == ":memory:") return out;
  const std::string lock_path = path + ".lock";
  out.fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (out.fd_ < 0) {
    return fail(error_kind::internal, "cannot open the journal lock " + lock_path);
  }
  if (::flock(out.fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail(error_kind::internal,
                "journal " + path + " is in use by another swaprouter process (" + lock_path + ")");
  }
  return out;
}

journal_lock::journal_lock(journal_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

journal_lock& journal_lock::operator=(journal_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

journal_lock::~journal_lock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string_view to_string(run_mode mode) {
  switch (mode) {
    case run_mode::simulate:
      return "simulate";
    case run_mode::dry_run:
      return "dry-run";
    case run_mode::live:
      return "live";
  }
  return "simulate";
}

run_mode choose_mode(bool simulate, bool dry_run, const config::engine_config* config) {
  if (simulate && !dry_run) return run_mode::simulate;
  if (dry_run) return run_mode::dry_run;
  if (config != nullptr && has_credentials(*config)) return run_mode::live;
  return run_mode::simulate;
}

bool needs_credentials(run_mode mode, const config::engine_config* config) {
  return mode != run_mode::simulate && config != nullptr && has_credentials(*config);
}

const config::engine_config* command_setup::providers() const {
  if (simulate_flag || !config) return nullptr;
  return &*config;
}

const config::engine_settings& command_setup::engine() const {
  static const config::engine_settings defaults;
  return config ? config->engine : defaults;
}

planner_options planning_of(const config::engine_settings& engine) {
  planner_options out;
  out.max_hops = engine.max_hops;
  out.split = engine.split;
  out.quote_max_age = engine.quote_max_age;
  return out;
}

std::optional<command_setup> setup_command(std::string_view command,
                                           const std::string& config_path, bool simulate,
                                           bool dry_run) {
  command_setup out;
  out.simulate_flag = simulate;
  auto load = [&](bool resolve) {
    config::load_options options;
    options.resolve_credentials = resolve;
    config::load_result loaded = config::load_engine_config(config_path, options);
    for (const auto& e : loaded.errors) {
      std::fprintf(stderr, "swaprouter %.*s: %s\n", static_cast<int>(command.size()),
                   command.data(), e.what());
    }
    if (loaded.ok()) out.config = std::move(loaded.config);
    return loaded.ok();
  };
  if (!config_path.empty() && !load(false)) return std::nullopt;
  out.mode = choose_mode(simulate, dry_run, out.providers());
  if (needs_credentials(out.mode, out.providers()) && !load(true)) return std::nullopt;
  return out;
}

std::optional<std::vector<balance>> paper_balances::of(std::string_view provider) const {
  std::map<std::string, decimal> merged;
  bool any = false;
  for (const std::string& key : {std::string(), std::string(provider)}) {
    auto it = by_provider.find(key);
    if (it == by_provider.end()) continue;
    any = true;
    for (const auto& b : it->second) merged[b.asset] = b.available;
  }
  if (!any) return std::nullopt;
  std::vector<balance> out;
  for (const auto& [asset, amount] : merged) out.push_back({asset, amount, decimal{}});
  return out;
}

result<paper_balances> parse_paper_balances(const std::vector<std::string>& options) {
  paper_balances out;
  for (const auto& text : options) {
    const auto eq = text.find('=');
    const auto colon = text.find(':');
    const std::string provider =
        colon != std::string::npos && colon < eq ? text.substr(0, colon) : std::string();
    const std::size_t asset_from = provider.empty() ? 0 : colon + 1;
    const std::string asset =
        eq == std::string::npos ? std::string() : text.substr(asset_from, eq - asset_from);
    const result<decimal> amount =
        eq == std::string::npos ? fail(error_kind::invalid_argument, "no amount")
                                : decimal::parse(std::string_view(text).substr(eq + 1));
    if (asset.empty() || !amount || amount->is_negative()) {
      return fail(error_kind::invalid_argument,
                  "--paper-balance " + text + ": expected [PROVIDER:]ASSET=AMOUNT, e.g. USDT=1000");
    }
    out.by_provider[provider].push_back({asset, *amount, decimal{}});
  }
  return out;
}

void provider_session::start(boost::asio::io_context& ioc, run_mode mode,
                             const config::engine_config* config, const std::string& scenario_path,
                             const paper_balances& paper, submit_watch* watch) {
  mode_ = mode;
  std::vector<std::pair<venue*, std::string>> base;
  if (needs_credentials(mode, config)) {
    live_ = connect_providers(ioc.get_executor(), *config, watch);
    for (auto& p : live_) base.emplace_back(p.engine_view.get(), p.name + " " + p.host);
  } else {
    sim_.start(ioc, scenario_path, watch);
    for (auto& v : sim_.venues) base.emplace_back(v.venue.get(), v.provider + " (emulator)");
  }
  for (auto& [v, where] : base) {
    if (mode == run_mode::dry_run) {
      paper_options options;
      options.balances = paper.of(v->id());
      paper_.push_back(std::make_unique<paper_venue>(*v, std::move(options)));
      providers_.push_back(paper_.back().get());
      where_.push_back(where + ", paper ledger");
    } else {
      providers_.push_back(v);
      where_.push_back(where);
    }
  }
}

std::vector<std::string> provider_session::describe() const { return where_; }

std::vector<std::pair<std::string, onek::client*>> provider_session::onek_clients() {
  std::vector<std::pair<std::string, onek::client*>> out;
  if (mode_ == run_mode::dry_run) return out;
  for (auto& p : live_) {
    if (auto* c = dynamic_cast<onek::client*>(p.adapter.get())) out.emplace_back(p.name, c);
  }
  for (auto& v : sim_.venues) {
    if (auto* c = dynamic_cast<onek::client*>(v.venue.get())) {
      out.emplace_back(std::string(c->id()), c);
    }
  }
  return out;
}

void provider_session::stop() { sim_.stop(); }

}  // namespace swaprouter::cli
