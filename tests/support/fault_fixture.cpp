#include "tests/support/fault_fixture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>

#include "adapters/kiiex/emulator.hpp"
#include "adapters/kiiex/wire.hpp"
#include "adapters/onek/emulator.hpp"
#include "adapters/onek/wire.hpp"
#include "adapters/oxapay/emulator.hpp"
#include "adapters/oxapay/wire.hpp"
#include "adapters/stablestack/emulator.hpp"
#include "adapters/stablestack/wire.hpp"
#include "engine/metrics.hpp"
#include "engine/status.hpp"

namespace swaprouter::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view scenario_yaml = R"(
seed: 23
volatility: 0
tick_ms: 0
assets: {COPM: "0.00025"}
providers:
  onek:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    min_spend_usd: "1"
    directions: [USDT-USDC, USDT-COPM, USDT-BTC]
    balances: {USDT: "10000000", USDC: "10000000", COPM: "4000000000", BTC: "100"}
    credentials:
      - access_key: SENTINEL-SECRET-1
        secret: SENTINEL-SECRET-2
    fill_delay_ms: 200
    cancel_delay_ms: 50
  kiiex:
    port: 0
    fee_percent: "0.25"
    spread: "0.1"
    min_spend_usd: "1"
    directions: [USDT-COPM]
    balances: {USDT: "10000000", COPM: "4000000000"}
    credentials:
      - access_key: SENTINEL-SECRET-3
        secret: SENTINEL-SECRET-4
    fill_delay_ms: 200
  stablestack:
    port: 0
    fee_percent: "0.2"
    spread: "0.1"
    directions: [USDT-USDC]
    balances: {USDT: "10000000", USDC: "10000000"}
    credentials:
      - access_key: SENTINEL-SECRET-5
        secret: SENTINEL-SECRET-6
    fill_delay_ms: 200
  oxapay:
    port: 0
    fee_percent: "0.4"
    spread: "0.1"
    min_spend_usd: "5"
    directions: [USDT-BTC]
    balances: {USDT: "10000000", BTC: "100"}
    credentials:
      - access_key: SENTINEL-SECRET-7
        secret: SENTINEL-SECRET-8
)";

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The key a provider stores our client id under: 001k keeps it as custom_id, KIIEX as a number.
std::string provider_client_key(std::string_view provider, const client_id& client) {
  if (provider == "kiiex") return std::to_string(kiiex::wire::client_order_id(client));
  return client;
}

bool unresolved(leg_phase phase) {
  return phase == leg_phase::unknown || phase == leg_phase::lost || phase == leg_phase::frozen ||
         phase == leg_phase::submitting;
}

}  // namespace

std::string_view fault_scenario_yaml() { return scenario_yaml; }

// What the world captures: event lines, spdlog output, metrics and the status page's decisions.
struct fault_world::capture {
  capture() : bot(registry) {}
  std::mutex mutex;
  std::ostringstream spdlog_text;
  std::vector<std::string> lines;
  metrics::registry registry{false};
  metrics::bot_metrics bot;
  std::deque<status_decision> decisions;
  std::shared_ptr<spdlog::logger> previous;
};

fault_world::fault_world(std::string name, std::string_view yaml,
                         std::function<void(sim::scenario&)> tweak)
    : name_(std::move(name)), capture_(std::make_shared<capture>()) {
  loaded_.path = name_;
  loaded_.scenario = sim::parse_scenario(yaml, loaded_.path);
  if (tweak) tweak(loaded_.scenario);
  loaded_.market = std::make_unique<sim::market>(loaded_.scenario.market());
  options.poll_initial = 20ms;
  options.poll_max = 100ms;
  options.find_initial = 20ms;
  options.find_max = 100ms;
  options.unknown_grace = 300ms;
  options.lost_after = 400ms;
  options.leg_ttl = 10s;
  // Generous: a fan-out that ends before a slow (ASan, loaded) machine has priced every provider
  // makes the plan differ from what a scenario expects (CI runs failed S03, S10 and S15 so).
  options.fanout = 8s;
  options.track_after_deadline = 5s;
  options.planning.split = false;
  options.book = &book_;

  dir_ = fs::temp_directory_path() / fmt::format("swaprouter-faults-{}-{}", ::getpid(), name_);
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  journal_path_ = dir_ / "journal.db";
  reopen_journal();

  capture_->previous = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(capture_->spdlog_text);
  auto logger = std::make_shared<spdlog::logger>("faults", sink);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

fault_world::~fault_world() {
  // A failure on a CI machine is seen only in its output: the engine's own account of the
  // scenario (its last lines; the spdlog text holds every event line too) says why.
  if (::testing::Test::HasFailure()) {
    std::lock_guard lock(capture_->mutex);
    const std::string text = capture_->spdlog_text.str();
    // The last 120 lines start after the 121st line end from the back (the text ends with one).
    std::size_t from = 0;
    std::size_t line_ends = 0;
    for (std::size_t i = text.size(); i > 0; --i) {
      if (text[i - 1] == '\n' && ++line_ends == 121) {
        from = i;
        break;
      }
    }
    std::cerr << "--- " << name_ << ": the engine's last log lines ---\n"
              << text.substr(from) << "---\n";
  }
  venues_.clear();
  if (fleet_) fleet_->stop();
  io_.restart();
  io_.run_for(100ms);
  fleet_.reset();
  journal_.reset();
  spdlog::set_default_logger(capture_->previous);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void fault_world::start() {
  cli::fleet_options f;
  f.ephemeral_ports = true;
  fleet_.emplace(io_, loaded_, f);
  venues_ = cli::connect_venues(io_.get_executor(), *fleet_);
}

void fault_world::run_for(std::chrono::milliseconds d) {
  io_.restart();
  io_.run_for(d);
}

void fault_world::reopen_journal(const journal_options& o) {
  journal_.reset();
  auto opened = journal::open(journal_path_.string(), o);
  if (!opened) throw std::runtime_error("journal: " + describe(opened.error()));
  journal_ = std::move(*opened);
}

void fault_world::restart(const journal_options& o) {
  venues_.clear();
  venues_ = cli::connect_venues(io_.get_executor(), *fleet_);
  reopen_journal(o);
}

cli::simulated_venue fault_world::fresh_venue(std::string_view name,
                                              const cli::adapter_tuning& tuning) {
  for (auto& v : cli::connect_venues(io_.get_executor(), *fleet_, nullptr, tuning)) {
    if (v.provider == name) return std::move(v);
  }
  throw std::logic_error("no venue " + std::string(name));
}

void fault_world::retune_venue(std::string_view name, const cli::adapter_tuning& tuning) {
  auto v = fresh_venue(name, tuning);
  replace_venue(name, std::move(v.http), std::move(v.venue));
}

const cert_authority& fault_world::ca() { return *fleet_->ca(); }

cli::running_provider& fault_world::provider(std::string_view name) {
  for (auto& p : fleet_->providers()) {
    if (p.name == name) return p;
  }
  throw std::logic_error("no provider " + std::string(name));
}

const sim::credential_config& fault_world::credential(std::string_view name) {
  return provider(name).config->credentials.front();
}

http_endpoint fault_world::endpoint(std::string_view name) {
  auto& p = provider(name);
  http_endpoint e;
  e.host = "127.0.0.1";
  e.port = p.server->port();
  e.tls = p.server->tls();
  if (fleet_->ca()) e.extra_ca_pem = fleet_->ca()->ca_pem();
  e.only_extra_ca = true;
  return e;
}

std::vector<venue*> fault_world::venues() {
  std::vector<venue*> out;
  for (auto& v : venues_) out.push_back(v.venue.get());
  return out;
}

venue& fault_world::venue_of(std::string_view name) {
  for (auto& v : venues_) {
    if (v.provider == name) return *v.venue;
  }
  throw std::logic_error("no venue " + std::string(name));
}

void fault_world::replace_venue(std::string_view name, std::unique_ptr<http_client> http,
                                std::unique_ptr<venue> v) {
  for (auto& sv : venues_) {
    if (sv.provider != name) continue;
    sv.venue.reset();
    sv.http = std::move(http);
    sv.venue = std::move(v);
    return;
  }
  throw std::logic_error("no venue " + std::string(name));
}

event_sink fault_world::sink() {
  std::shared_ptr<capture> c = capture_;
  return [this, c](const execution_event& e) {
    const std::string line =
        fmt::format("{} intent={} leg={} {}", e.kind, e.intent_id, e.client, e.detail);
    spdlog::info("{}", line);
    std::lock_guard lock(c->mutex);
    c->lines.push_back(line);
    std::string provider = "none";
    if (!e.client.empty()) {
      auto rec = journal_->leg(e.client);
      if (rec && *rec) provider = (*rec)->provider;
    }
    if (e.kind == "phase") {
      const std::string state = e.detail.substr(0, e.detail.find(':'));
      c->bot.swaps.with({provider, state}).inc();
      if (state == "unknown") c->bot.unknown_outcomes.with({provider}).inc();
    }
    c->decisions.push_back({e.time, "engine", e.kind, e.detail});
    if (c->decisions.size() > 200) c->decisions.pop_front();
  };
}

std::unique_ptr<executor> fault_world::make_executor(execution_options o) {
  const std::vector<venue*> everyone = venues();
  return std::make_unique<executor>(everyone, *journal_, std::move(o), sink());
}

intent_record fault_world::intent(std::string id, std::string spend, std::string receive,
                                  std::string amount, std::string min_receive) {
  intent_record i;
  i.id = std::move(id);
  i.spend_asset = std::move(spend);
  i.receive_asset = std::move(receive);
  i.amount = dec(amount);
  i.min_receive = dec(min_receive);
  i.created_at = std::chrono::system_clock::now();
  i.deadline = i.created_at + 30s;
  i.origin = "faults";
  return i;
}

quoted_plan fault_world::plan(const intent_record& i, std::string_view provider, bool may_fail) {
  const std::vector<venue*> everyone = venues();
  swap_intent asked = planner_intent(i);
  if (!provider.empty()) asked.providers.emplace_back(provider);
  auto quoted = run(quote_and_plan(everyone, asked, options.planning, options.fanout, &book_));
  std::string why = quoted.result.failure;
  for (const auto& u : quoted.unavailable) why += "; " + u.route + ": " + u.reason;
  for (const auto& r : quoted.result.rejected) why += "; " + r.route + ": " + r.reason;
  EXPECT_TRUE(may_fail || quoted.result.ok()) << why;
  return quoted;
}

execution_result fault_world::execute(executor& exec, intent_record i, std::string_view provider) {
  auto quoted = plan(i, provider);
  return run(exec.execute(std::move(i), std::move(quoted)));
}

execution_result fault_world::execute(intent_record i, std::string_view provider) {
  auto exec = make_executor();
  return execute(*exec, std::move(i), provider);
}

void fault_world::fault(std::string_view provider_name, std::string route, sim::fault f) {
  provider(provider_name).server->faults().set(std::move(route), std::move(f));
}

sim::fault fault_world::once(sim::fault_kind kind, std::string method, bool run_handler) {
  sim::fault f;
  f.kind = kind;
  f.remaining = 1;
  f.method = std::move(method);
  f.run_handler = run_handler;
  return f;
}

std::size_t fault_world::requests(std::string_view provider_name, std::string_view route,
                                  std::string_view method) {
  std::size_t n = 0;
  for (const auto& r : provider(provider_name).server->requests()) {
    n += r.route == route && r.method == method ? 1 : 0;
  }
  return n;
}

std::string fault_world::create_route(std::string_view provider) {
  if (provider == "onek") return std::string(onek::wire::path::swap_open);
  if (provider == "kiiex") return kiiex::wire::path(kiiex::wire::fn::send_order);
  if (provider == "stablestack") return std::string(stablestack::wire::path::swaps);
  return std::string(oxapay::wire::path::swap);
}

std::string fault_world::status_route(std::string_view provider) {
  if (provider == "onek") return std::string(onek::wire::path::swap_item_prefix) + "{code}";
  if (provider == "kiiex") return kiiex::wire::path(kiiex::wire::fn::get_order_status);
  if (provider == "stablestack") return std::string(stablestack::wire::route::by_ref_id);
  return std::string(oxapay::wire::path::swap);
}

std::string fault_world::status_method(std::string_view provider) {
  return provider == "kiiex" ? "POST" : "GET";
}

std::vector<provider_swap> fault_world::swaps(std::string_view name) {
  auto swaps = cli::ledger_swaps(provider(name));
  if (!swaps) {
    ADD_FAILURE() << name << " ledger is not JSON";
    return {};
  }
  return std::move(*swaps);
}

std::vector<leg_phase> fault_world::phases_of(const client_id& client) {
  std::vector<leg_phase> out;
  auto rec = journal_->leg(client);
  if (!rec || !*rec) return out;
  auto events = journal_->events_of((*rec)->intent_id);
  if (!events) return out;
  out.push_back(leg_phase::planned);
  for (const auto& e : *events) {
    if (e.client != client || e.kind != "phase") continue;
    // "old -> new: cause"
    const auto arrow = e.detail.find(" -> ");
    if (arrow == std::string::npos) continue;
    const auto rest = e.detail.substr(arrow + 4);
    // Every journal write of a leg is a "phase" event; only changes count.
    const auto p = parse_leg_phase(rest.substr(0, rest.find(':')));
    if (p && *p != out.back()) out.push_back(*p);
  }
  return out;
}

std::vector<journal_event> fault_world::events(std::string_view kind) {
  std::vector<journal_event> out;
  auto intents = journal_->intents(1000000);
  if (!intents) return out;
  for (const auto& i : *intents) {
    auto events = journal_->events_of(i.id);
    if (!events) continue;
    for (auto& e : *events) {
      if (e.kind == kind) out.push_back(std::move(e));
    }
  }
  return out;
}

std::string fault_world::logs() const {
  std::lock_guard lock(capture_->mutex);
  std::string out = capture_->spdlog_text.str();
  for (const auto& l : capture_->lines) {
    out += l;
    out += '\n';
  }
  return out;
}

std::string fault_world::metrics_text() {
  std::lock_guard lock(capture_->mutex);
  return capture_->registry.render();
}

std::string fault_world::status_json() {
  status_snapshot s;
  s.mode = "simulate";
  s.generated_at = std::chrono::system_clock::now();
  for (auto& v : venues_) {
    status_provider p;
    p.name = v.provider;
    s.providers.push_back(std::move(p));
  }
  if (auto open = journal_->unfinished_legs()) {
    for (const auto& leg : *open) {
      status_leg l;
      l.id = leg.client;
      l.intent_id = leg.intent_id;
      l.provider = leg.provider;
      l.spend_asset = leg.spend_asset;
      l.receive_asset = leg.receive_asset;
      l.amount = leg.amount;
      l.state = std::string(to_string(leg.phase));
      s.open_legs.push_back(std::move(l));
    }
  }
  std::lock_guard lock(capture_->mutex);
  s.last_decisions.assign(capture_->decisions.begin(), capture_->decisions.end());
  return to_json(s);
}

void fault_world::check_no_sentinel() {
  const auto look = [](std::string_view where, const std::string& text) {
    const auto at = text.find(sentinel_marker);
    EXPECT_EQ(at, std::string::npos)
        << "I4: a sentinel credential in " << where << ": ..."
        << text.substr(at == std::string::npos ? 0 : (at > 40 ? at - 40 : 0), 100);
  };
  look("the logs", logs());
  look("the metrics", metrics_text());
  look("the status JSON", status_json());
  look("the journal file", read_all(journal_path_));
  look("the journal WAL", read_all(fs::path(journal_path_.string() + "-wal")));
}

void fault_world::check_invariants(const std::set<client_id>& tracked) {
  // I3: the journal passes PRAGMA integrity_check.
  auto ok = journal_->integrity_ok();
  ASSERT_TRUE(ok.has_value()) << "I3: " << describe(ok.error());
  EXPECT_TRUE(*ok) << "I3: integrity_check failed";

  std::vector<leg_record> legs;
  auto intents = journal_->intents(1000000);
  ASSERT_TRUE(intents.has_value());
  for (const auto& i : *intents) {
    auto of = journal_->legs_of(i.id);
    ASSERT_TRUE(of.has_value());
    legs.insert(legs.end(), of->begin(), of->end());
  }

  for (auto& p : fleet_->providers()) {
    const std::string& name = p.name;
    std::map<std::string, const leg_record*> by_key;
    std::map<std::string, const leg_record*> by_ref;
    for (const auto& leg : legs) {
      if (leg.provider != name) continue;
      by_key[provider_client_key(name, leg.client)] = &leg;
      if (!leg.provider_ref.empty()) {
        // I1 for every provider: two legs never claim the same provider swap.
        EXPECT_EQ(by_ref.count(leg.provider_ref), 0u)
            << "I1: " << name << " swap " << leg.provider_ref << " claimed twice";
        by_ref[leg.provider_ref] = &leg;
      }
    }
    std::size_t unresolved_legs = 0;
    for (const auto& leg : legs) {
      unresolved_legs +=
          leg.provider == name && leg.provider_ref.empty() && unresolved(leg.phase) ? 1 : 0;
    }
    std::map<std::string, int> per_client;
    std::size_t unmatched = 0;
    for (const auto& s : swaps(name)) {
      if (!s.client.empty()) {
        // I1: each client id at most once at the provider.
        EXPECT_EQ(++per_client[s.client], 1) << "I1: " << name << " client id " << s.client;
      }
      // I2: every swap the provider created is in the journal: by client id, by reference, or
      // (providers without client ids) as a leg whose outcome is still unresolved and alarmed.
      const bool journaled =
          (!s.client.empty() && by_key.contains(s.client)) || by_ref.contains(s.ref);
      if (journaled) continue;
      ++unmatched;
      EXPECT_TRUE(s.client.empty() && unmatched <= unresolved_legs)
          << "I2: " << name << " swap " << s.ref << " (client " << s.client
          << ") is not in the journal";
    }
  }

  // I5: no unfinished leg without a tracker or a raised alarm.
  auto open = journal_->unfinished_legs();
  ASSERT_TRUE(open.has_value());
  for (const auto& leg : *open) {
    if (tracked.contains(leg.client)) continue;
    auto events = journal_->events_of(leg.intent_id);
    ASSERT_TRUE(events.has_value());
    bool alarmed = false;
    for (const auto& e : *events) {
      alarmed = alarmed || (e.kind == "alarm" && (e.client == leg.client || e.client.empty()));
    }
    EXPECT_TRUE(alarmed) << "I5: leg " << leg.client << " is " << to_string(leg.phase)
                         << " without a tracker or an alarm";
  }

  // I4: no sentinel credential anywhere we write.
  check_no_sentinel();
}

}  // namespace swaprouter::testing
