#include "cli/service.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "cli/session.hpp"
#include "engine/json_write.hpp"
#include "engine/metrics.hpp"
#include "engine/status.hpp"
#include "observability/listener.hpp"
#include "observability/venue_monitor.hpp"

namespace swaprouter::cli {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using observability::api_answer;

constexpr std::size_t max_decisions = 20;
constexpr std::size_t max_open_intents_shown = 200;
constexpr auto max_intent_deadline = std::chrono::hours(1);
constexpr auto default_intent_deadline = std::chrono::seconds(60);
// Quotes older than this no longer count towards the best rate and the spread of a pair.
constexpr auto rate_horizon = std::chrono::seconds(60);

api_answer error_answer(int status, std::string_view code, std::string_view message) {
  json_out out;
  out.begin_object();
  out.field("error", code);
  out.field("message", message);
  out.end_object();
  return {status, out.take()};
}

bool valid_asset(std::string_view code) {
  if (code.empty() || code.size() > 20) return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

double seconds_of(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::string format_seconds(std::optional<double> s) {
  if (!s) return "-";
  if (*s < 0.001) return fmt::format("{:.0f}us", *s * 1e6);
  if (*s < 1) return fmt::format("{:.1f}ms", *s * 1000);
  return fmt::format("{:.2f}s", *s);
}

std::string leg_phase_of(std::string_view detail) {
  const auto colon = detail.find(':');
  return std::string(detail.substr(0, colon));
}

}  // namespace

std::optional<run_logging> setup_run_logging(std::string_view format_flag, const std::string& level,
                                             std::string_view live_view_flag) {
  const auto format = observability::parse_log_format(format_flag);
  if (!format) {
    std::fprintf(stderr, "swaprouter run: --log-format must be human or json\n");
    return std::nullopt;
  }
  if (live_view_flag != "auto" && live_view_flag != "on" && live_view_flag != "off") {
    std::fprintf(stderr, "swaprouter run: --live-view must be auto, on or off\n");
    return std::nullopt;
  }
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    std::fprintf(stderr, "swaprouter run: --log-level must be trace, debug, info, warn or error\n");
    return std::nullopt;
  }
  run_logging out;
  out.format = *format;
  out.live_view = live_view_flag == "on" ||
                  (live_view_flag == "auto" && *format == observability::log_format::human &&
                   ::isatty(STDOUT_FILENO) != 0);
  const bool live_view = out.live_view;
  std::vector<spdlog::sink_ptr> sinks;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring;
  if (live_view) {
    ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(8);
    ring->set_pattern("%H:%M:%S %-5l %v");
    sinks.push_back(ring);
  }
  // With the view on a terminal that is also standard error, lines would scroll the view away:
  // the view shows the latest instead.
  if (!live_view || ::isatty(STDERR_FILENO) == 0) {
    if (*format == observability::log_format::json) {
      auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      err->set_formatter(observability::make_json_formatter());
      sinks.push_back(err);
    } else {
      auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      err->set_pattern(std::string(observability::human_log_pattern));
      sinks.push_back(err);
    }
  }
  auto logger = std::make_shared<spdlog::logger>("run", sinks.begin(), sinks.end());
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  out.recent = std::move(ring);
  return out;
}

std::optional<service_options> make_service_options(
    const strategies::strategy_file& file, const std::string& file_name, const std::string& mode,
    std::string_view listen_flag, const std::string& journal_path, const run_logging& logging) {
  service_options out;
  out.mode = mode;
  out.file = file_name;
  out.journal_path = journal_path;
  out.live_view = logging.live_view;
  out.view_log = logging.recent;
  out.listen = file.engine.engine.listen;
  if (!listen_flag.empty()) {
    auto parsed = config::parse_listen_address(listen_flag);
    if (!parsed) {
      std::fprintf(stderr, "swaprouter run: --listen: %s\n", parsed.error().message.c_str());
      return std::nullopt;
    }
    out.listen = *parsed;
  }
  if (!out.listen.loopback) {
    std::fprintf(stderr,
                 "swaprouter run: the listener binds loopback only (127.0.0.1, ::1 or localhost), "
                 "not %s\n",
                 out.listen.host.c_str());
    return std::nullopt;
  }
  std::string source;
  auto token = resolve_control_token(file.engine.engine.control_token, source);
  if (!token) {
    std::fprintf(stderr, "swaprouter run: %s\n", token.error().message.c_str());
    return std::nullopt;
  }
  out.control_token = std::move(*token);
  if (out.control_token.empty()) {
    spdlog::info("control API off: no token (engine.control_token or SWAPROUTER_CONTROL_TOKEN)");
  } else {
    spdlog::info("control API token from {}", source);
  }
  for (const auto& st : file.sections.strategies) {
    std::pair<std::string, std::string> pair{st.common.from, st.common.to};
    if (std::find(out.pairs.begin(), out.pairs.end(), pair) == out.pairs.end()) {
      out.pairs.push_back(std::move(pair));
    }
  }
  return out;
}

result<std::string> resolve_control_token(const std::optional<config::credential>& configured,
                                          std::string& source) {
  if (!configured) {
    const char* value = std::getenv("SWAPROUTER_CONTROL_TOKEN");
    if (value == nullptr || *value == '\0') {
      source.clear();
      return std::string();
    }
    source = "${SWAPROUTER_CONTROL_TOKEN}";
    return std::string(value);
  }
  source = configured->describe();
  if (configured->from == config::credential::source::env) {
    const char* value = std::getenv(configured->reference.c_str());
    if (value == nullptr || *value == '\0') {
      return fail(error_kind::invalid_argument, "engine.control_token: environment variable " +
                                                    configured->reference + " is not set");
    }
    return std::string(value);
  }
  // The loader read the file, checked owner-only as every secret file is (FAULTS.md security 1).
  const std::string text(configured->value.reveal());
  if (text.empty()) {
    return fail(error_kind::invalid_argument,
                "engine.control_token: " + configured->reference + " is empty");
  }
  return text;
}

result<swap_intent> parse_intent_request(std::string_view body, std::span<const std::string> known,
                                         wall_time now) {
  const auto bad = [](std::string why) { return fail(error_kind::invalid_argument, why); };
  rapidjson::Document doc;
  // Numbers as their text: an amount is read exactly, never through a double.
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("the body must be a JSON object");
  swap_intent intent;
  std::chrono::milliseconds deadline = default_intent_deadline;
  bool has_amount = false;
  for (const auto& m : doc.GetObject()) {
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    const auto text = [&]() -> std::optional<std::string_view> {
      if (!m.value.IsString()) return std::nullopt;
      return std::string_view(m.value.GetString(), m.value.GetStringLength());
    };
    if (key == "from" || key == "to") {
      const auto code = text();
      if (!code || !valid_asset(*code)) {
        return bad(fmt::format("{} must be an asset code such as \"USDT\"", key));
      }
      (key == "from" ? intent.spend_asset : intent.receive_asset) = std::string(*code);
    } else if (key == "spend" || key == "receive" || key == "min_receive" || key == "max_spend") {
      // min_receive may be zero (no floor); the others are amounts to spend or receive.
      const bool positive = key != "min_receive";
      const auto t = text();
      auto value = t ? decimal::parse(*t) : result<decimal>(fail(error_kind::invalid_argument, ""));
      if (!value || value->is_negative() || (positive && value->is_zero())) {
        return bad(fmt::format("{} must be a {} decimal amount such as \"100.5\"", key,
                               positive ? "positive" : "non-negative"));
      }
      if (key == "min_receive") {
        intent.min_receive = *value;
      } else if (key == "max_spend") {
        intent.max_spend = *value;
      } else {
        if (has_amount) return bad("give either spend or receive, not both");
        has_amount = true;
        intent.amount = *value;
        intent.side = key == "spend" ? amount_side::spend : amount_side::receive;
      }
    } else if (key == "deadline") {
      const auto t = text();
      const auto d = t ? parse_duration(*t) : std::nullopt;
      if (!d || *d > max_intent_deadline) {
        return bad("deadline must be a duration such as \"30s\" or \"2m\", at most 1h");
      }
      deadline = *d;
    } else if (key == "providers") {
      if (!m.value.IsArray()) return bad("providers must be an array of provider names");
      for (const auto& p : m.value.GetArray()) {
        if (!p.IsString()) return bad("providers must be an array of provider names");
        const std::string name(p.GetString(), p.GetStringLength());
        if (std::find(known.begin(), known.end(), name) == known.end()) {
          return bad("unknown provider \"" + excerpt(name) + "\"");
        }
        intent.providers.push_back(name);
      }
    } else {
      return bad("unknown field \"" + excerpt(key) + "\"");
    }
  }
  if (intent.spend_asset.empty() || intent.receive_asset.empty() || !has_amount) {
    return bad("from, to and one of spend or receive are required");
  }
  if (intent.spend_asset == intent.receive_asset) return bad("from and to must differ");
  // A spend intent's spend is its amount; its price floor is min_receive.
  if (intent.max_spend && intent.side == amount_side::spend) {
    return bad("max_spend goes with receive (a spend intent spends exactly its amount)");
  }
  intent.deadline = now + deadline;
  return intent;
}

struct bot_service::impl {
  asio::io_context& ioc;
  service_options options;
  journal& records;
  metrics::registry registry;
  metrics::bot_metrics m;
  metrics::gauge_family& info;
  metrics::gauge_family& halt_signal;
  metrics::counter_family& halts;
  metrics::gauge_family& received_amount;
  metrics::counter_family& decisions;
  metrics::counter_family& quote_errors;
  metrics::counter_family& alarms;
  metrics::gauge_family& open_intents;
  metrics::gauge_family& open_legs;
  const quote_book* book = nullptr;
  metrics::gauge_family& book_age;
  metrics::gauge_family& book_latency;
  metrics::counter_family& book_failures;
  std::map<std::string, std::uint64_t, std::less<>> book_failures_seen;

  std::vector<std::unique_ptr<observability::monitored_venue>> monitors;
  std::vector<venue*> monitored;
  std::vector<std::string> provider_names;
  strategies::bot* bot = nullptr;
  strategies::risk_guard* risk = nullptr;
  callback_gate* gate = nullptr;
  std::optional<observability::listener> server;
  // Coroutines check it after every suspension: once stopped they never touch this object again.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::set<asio::steady_timer*> sleeping;
  bool started = false;
  wall_time started_at = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point started_steady = std::chrono::steady_clock::now();

  std::deque<status_decision> recent;
  std::map<std::string, std::uint64_t, std::less<>> rate_limited_seen;
  struct leg_seen {
    std::string provider;
    std::string phase;
  };
  std::map<std::string, leg_seen, std::less<>> legs;                // by client id
  std::map<std::pair<std::string, std::string>, decimal> filled;    // provider, spend asset
  std::map<std::pair<std::string, std::string>, decimal> received;  // provider, receive asset
  std::map<std::pair<std::string, std::string>, decimal> fees;      // provider, receive asset
  std::vector<status_balance> balances;
  std::map<std::string, swap_intent, std::less<>> submitted;  // POST /intents, by id
  std::deque<std::string> submitted_order;

  impl(asio::io_context& io, service_options o, journal& j)
      : ioc(io),
        options(std::move(o)),
        records(j),
        registry(true),
        m(registry),
        info(
            registry.add_gauge("swaprouter_info", "Always 1; the mode the bot runs in.", {"mode"})),
        halt_signal(registry.add_gauge(
            "swaprouter_halt_signal",
            "1 for what halts the bot now (operator, kill_switch, unknown_outcomes, unknown_legs, "
            "expired_quotes, rate_limited, clock_jump, circuit_open), 0 for the others.",
            {"signal"})),
        halts(registry.add_counter("swaprouter_halts_total", "Halts since start, by signal.",
                                   {"signal"})),
        received_amount(registry.add_gauge(
            "swaprouter_received_amount",
            "Net amount received since start per provider and asset (display only).",
            {"provider", "asset"})),
        decisions(registry.add_counter("swaprouter_decisions_total",
                                       "Strategy decisions by strategy and outcome (intent, "
                                       "refused, no_plan, executed).",
                                       {"strategy", "outcome"})),
        quote_errors(registry.add_counter("swaprouter_quote_errors_total",
                                          "Quote requests that failed, per provider.",
                                          {"provider"})),
        alarms(registry.add_counter("swaprouter_alarms_total",
                                    "Execution alarms (journaled; see the log).")),
        open_intents(
            registry.add_gauge("swaprouter_open_intents", "Intents not yet in a final state.")),
        open_legs(registry.add_gauge("swaprouter_open_legs", "Legs not yet in a final phase.")),
        book_age(registry.add_gauge("swaprouter_quote_book_age_seconds",
                                    "Age of the quote book's newest pricing model per provider.",
                                    {"provider"})),
        book_latency(registry.add_gauge(
            "swaprouter_quote_book_latency_seconds",
            "Recent quote and execution round trips per provider (kind quote|execution), "
            "percentile 0.5|0.99.",
            {"provider", "kind", "quantile"})),
        book_failures(registry.add_counter("swaprouter_quote_book_failures_total",
                                           "Poller and fan-out failures per provider.",
                                           {"provider"})) {
    info.with({options.mode}).set(1.0);
    m.journal_size.get().set(0.0);
    m.halted.get().set(0.0);
    alarms.get();
    for (const std::string_view sig : strategies::halt_signals::all) {
      halt_signal.with({sig}).set(0.0);
    }
    halt_signal.with({"kill_switch"}).set(0.0);
  }

  // --- events ---------------------------------------------------------------------------------

  void remember(status_decision d) {
    recent.push_back(std::move(d));
    while (recent.size() > max_decisions) recent.pop_front();
  }

  void on_decision(const strategies::decision_event& d) {
    decisions.with({d.strategy, d.outcome}).inc();
    remember({d.time, d.strategy, d.outcome, d.detail});
  }

  void on_event(const execution_event& e) {
    if (e.kind == "alarm") alarms.get().inc();
    if (e.kind != "phase" || e.client.empty()) return;
    const std::string phase = leg_phase_of(e.detail);
    auto [it, added] = legs.try_emplace(e.client);
    leg_seen& seen = it->second;
    if (added) {
      auto rec = records.leg(e.client);
      if (rec && *rec) seen.provider = (*rec)->provider;
    }
    // save() reports the current phase again with other changes: count transitions only.
    if (seen.phase == phase) return;
    seen.phase = phase;
    const std::string provider = seen.provider.empty() ? "unknown" : seen.provider;
    m.swaps.with({provider, phase}).inc();
    if (phase == "unknown") m.unknown_outcomes.with({provider}).inc();
    const auto parsed = parse_leg_phase(phase);
    if (!parsed || !is_final(*parsed)) return;
    if (legs.size() > 20000) {
      std::erase_if(legs, [&](const auto& entry) {
        const auto ph = parse_leg_phase(entry.second.phase);
        return ph && is_final(*ph) && entry.first != e.client;
      });
    }
    if (*parsed != leg_phase::filled && *parsed != leg_phase::partially_filled) return;
    auto rec = records.leg(e.client);
    if (!rec || !*rec) return;
    const leg_record& leg = **rec;
    add(filled, m.filled_amount, leg.provider, leg.spend_asset, leg.spend_filled);
    add(received, received_amount, leg.provider, leg.receive_asset, leg.receive_filled);
    add(fees, m.fees_paid, leg.provider, leg.receive_asset, leg.fee_filled);
  }

  static void add(std::map<std::pair<std::string, std::string>, decimal>& totals,
                  metrics::gauge_family& family, const std::string& provider,
                  const std::string& asset, decimal amount) {
    decimal& total = totals[{provider, asset}];
    total += amount;
    family.with({provider, asset}).set(total);
  }

  void on_halt(std::string_view reason) {
    std::string signal = "kill_switch";
    if (risk != nullptr && risk->halted()) signal = risk->halt_signal();
    // An operator's reason (POST /halt) is request text: escaped, it cannot forge a log line.
    spdlog::warn("halt: {} (signal {}); no new intents, tracking continues", excerpt(reason, 200),
                 signal);
    halts.with({signal}).inc();
    remember({std::chrono::system_clock::now(), "risk", "halt", std::string(reason)});
    if (started) refresh_risk();
  }

  // --- periodic -------------------------------------------------------------------------------

  void refresh() {
    const wall_time now = std::chrono::system_clock::now();
    std::map<std::string, std::vector<decimal>> rates;  // pair -> fresh direct rates
    for (const auto& mv : monitors) {
      const std::string provider(mv->id());
      const venue_health health = mv->health();
      if (health.circuit) {
        m.set_circuit(provider, *health.circuit);
        if (risk != nullptr) risk->circuit(provider, *health.circuit, now);
      }
      if (health.clock_offset) {
        m.clock_offset.with({provider})
            .set(static_cast<double>(health.clock_offset->count()) / 1000.0);
        if (risk != nullptr) risk->clock_offset(provider, *health.clock_offset, now);
      }
      std::uint64_t& seen = rate_limited_seen[provider];
      const std::uint64_t fresh = health.rate_limited > seen ? health.rate_limited - seen : 0;
      seen = health.rate_limited;
      if (fresh > 0) m.rate_limited.with({provider}).inc(static_cast<double>(fresh));
      if (risk != nullptr) risk->rate_limited(provider, fresh, now);

      const observability::venue_stats& stats = mv->stats();
      const auto offset = health.clock_offset.value_or(std::chrono::milliseconds(0));
      for (const auto& [pair, q] : stats.pairs) {
        // On the provider's clock when it stamps its quotes (001k's rate table may be seconds
        // old when it arrives), else from when the answer arrived.
        const wall_time born = q.obtained_at.value_or(q.received_at);
        const auto age = std::max(now + offset - born, wall_time::duration::zero());
        m.quote_age.with({provider, pair}).set(seconds_of(age));
        if (q.net_rate && now - q.received_at <= rate_horizon) rates[pair].push_back(*q.net_rate);
      }
    }
    for (auto& [pair, list] : rates) {
      const auto [lo, hi] = std::minmax_element(list.begin(), list.end());
      m.best_net_rate.with({pair}).set(*hi);
      if (list.size() >= 2 && hi->is_positive()) {
        const auto spread = (*hi - *lo).div(*hi, rounding::down);
        if (spread) m.provider_spread.with({pair}).set(*spread);
      }
    }
    std::error_code ec;
    std::uintmax_t size = 0;
    for (const char* suffix : {"", "-wal"}) {
      const auto part = std::filesystem::file_size(options.journal_path + suffix, ec);
      if (!ec) size += part;
    }
    m.journal_size.get().set(static_cast<double>(size));
    refresh_book(now);
    refresh_risk();
    std::size_t intents = 0;
    std::size_t open = 0;
    // Every open intent, however old: the gauge counts what a restart would resume.
    if (auto list = records.open_intents()) {
      for (const auto& i : *list) {
        ++intents;
        if (auto ls = records.legs_of(i.id)) {
          open += static_cast<std::size_t>(std::count_if(
              ls->begin(), ls->end(), [](const leg_record& l) { return !is_final(l.phase); }));
        }
      }
    }
    open_intents.get().set(static_cast<double>(intents));
    open_legs.get().set(static_cast<double>(open));
  }

  struct risk_now {
    bool halted = false;
    std::string reason;
    std::string signal;
    std::optional<wall_time> at;
  };

  risk_now current_risk() const {
    risk_now r;
    if (risk == nullptr) return r;
    if (risk->halted()) {
      r = {true, risk->halt_reason(), risk->halt_signal(), risk->halted_at()};
    } else if (risk->kill_switch_on()) {
      r = {true, "kill switch " + risk->config().kill_switch.value_or("") + " exists",
           "kill_switch", std::nullopt};
    }
    return r;
  }

  void refresh_risk() {
    const risk_now r = current_risk();
    m.halted.get().set(r.halted ? 1.0 : 0.0);
    for (const std::string_view sig : strategies::halt_signals::all) {
      halt_signal.with({sig}).set(r.halted && r.signal == sig ? 1.0 : 0.0);
    }
    halt_signal.with({"kill_switch"}).set(r.halted && r.signal == "kill_switch" ? 1.0 : 0.0);
  }

  status_book book_of(std::string_view provider, wall_time now) const {
    const provider_view v = book->view(provider);
    status_book b;
    if (v.prices_at) {
      b.age_seconds = seconds_of(std::max(now - *v.prices_at, wall_time::duration::zero()));
    }
    const auto secs = [](std::chrono::microseconds us) {
      return static_cast<double>(us.count()) / 1e6;
    };
    if (v.quote_latency.count > 0) {
      b.quote_p50_seconds = secs(v.quote_latency.p50);
      b.quote_p99_seconds = secs(v.quote_latency.p99);
    }
    if (v.execution_latency.count > 0) {
      b.execution_p50_seconds = secs(v.execution_latency.p50);
      b.execution_p99_seconds = secs(v.execution_latency.p99);
    }
    b.failures = v.failures;
    return b;
  }

  void refresh_book(wall_time now) {
    if (book == nullptr) return;
    for (const std::string& provider : book->providers()) {
      const status_book b = book_of(provider, now);
      if (b.age_seconds) book_age.with({provider}).set(*b.age_seconds);
      const auto latency = [&](std::string_view kind, std::string_view quantile,
                               const std::optional<double>& value) {
        if (value) book_latency.with({provider, kind, quantile}).set(*value);
      };
      latency("quote", "0.5", b.quote_p50_seconds);
      latency("quote", "0.99", b.quote_p99_seconds);
      latency("execution", "0.5", b.execution_p50_seconds);
      latency("execution", "0.99", b.execution_p99_seconds);
      std::uint64_t& seen = book_failures_seen[provider];
      auto& failures = book_failures.with({provider});  // shown at 0 before the first failure
      if (b.failures > seen) failures.inc(static_cast<double>(b.failures - seen));
      seen = b.failures;
    }
  }

  status_snapshot snapshot() const {
    status_snapshot s;
    s.mode = options.mode;
    s.generated_at = std::chrono::system_clock::now();
    s.started_at = started_at;
    for (const auto& mv : monitors) {
      const observability::venue_stats& stats = mv->stats();
      const venue_health health = mv->health();
      status_provider p;
      p.name = std::string(mv->id());
      p.last_quote = stats.last_quote;
      if (stats.latency.count() > 0) {
        p.latency_p50_seconds = static_cast<double>(stats.latency.percentile(50)) / 1e9;
        p.latency_p99_seconds = static_cast<double>(stats.latency.percentile(99)) / 1e9;
      }
      p.circuit = health.circuit.value_or(circuit_state::closed);
      if (p.circuit == circuit_state::open) {
        p.health = "down";
      } else if (p.circuit == circuit_state::half_open || stats.last_quote_failed) {
        p.health = "degraded";
      }
      if (book != nullptr) p.book = book_of(p.name, s.generated_at);
      s.providers.push_back(std::move(p));
    }
    if (auto list = records.open_intents()) {
      // The newest first, at most max_open_intents_shown of them.
      std::size_t shown = 0;
      for (auto it = list->rbegin(); it != list->rend() && shown < max_open_intents_shown;
           ++it, ++shown) {
        const intent_record& i = *it;
        s.open_intents.push_back({i.id, i.origin, i.spend_asset, i.receive_asset, i.side, i.amount,
                                  i.state, i.created_at});
        auto ls = records.legs_of(i.id);
        if (!ls) continue;
        for (const auto& l : *ls) {
          if (is_final(l.phase)) continue;
          s.open_legs.push_back({l.client, l.intent_id, l.provider, l.spend_asset, l.receive_asset,
                                 l.side, l.amount, std::string(to_string(l.phase)), l.updated_at});
        }
      }
    }
    s.balances = balances;
    const risk_now r = current_risk();
    s.risk.halted = r.halted;
    s.risk.halt_reason = r.reason;
    s.risk.halt_signal = r.signal;
    s.risk.halted_at = r.at;
    if (risk != nullptr) {
      const strategies::risk_config& c = risk->config();
      for (const auto& [asset, cap] : c.max_per_day) {
        s.risk.limits.push_back({"max_per_day " + asset, risk->spent_today(asset), cap});
      }
      for (const auto& [provider, caps] : c.provider_exposure) {
        for (const auto& [asset, cap] : caps) {
          s.risk.limits.push_back(
              {"exposure " + provider + " " + asset, risk->exposure(provider, asset), cap});
        }
      }
      s.risk.limits.push_back({"unknown_legs",
                               decimal::from_int(static_cast<std::int64_t>(risk->unknown_legs())),
                               decimal::from_int(c.max_unknown_legs)});
    }
    s.last_decisions.assign(recent.begin(), recent.end());
    return s;
  }

  task<void> refresh_loop(std::shared_ptr<bool> live) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      refresh();
      if (options.live_view) draw();
      timer.expires_after(options.refresh);
      sleeping.insert(&timer);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!*live) co_return;
      sleeping.erase(&timer);
    }
  }

  // Non-zero balances of every provider for /status, read within the venues' own budgets.
  task<void> balance_loop(std::shared_ptr<bool> live) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      std::vector<status_balance> fresh;
      for (std::size_t i = 0; i < monitors.size(); ++i) {
        venue& v = *monitors[i];
        const std::string provider(v.id());
        auto got = co_await v.balances();
        if (!*live) co_return;
        if (!got) {
          spdlog::debug("balances provider={} unavailable: {}", provider, describe(got.error()));
          for (const auto& b : balances) {
            if (b.provider == provider) fresh.push_back(b);  // keep the last known
          }
          continue;
        }
        for (const auto& b : *got) {
          if (!b.available.is_zero()) fresh.push_back({provider, b.asset, b.available});
        }
      }
      balances = std::move(fresh);
      timer.expires_after(options.balances_every);
      sleeping.insert(&timer);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!*live) co_return;
      sleeping.erase(&timer);
    }
  }

  // --- control API ----------------------------------------------------------------------------

  api_answer halt_answer() const {
    const risk_now r = current_risk();
    json_out out;
    out.begin_object();
    out.key("halted");
    out.boolean(r.halted);
    out.key("reason");
    out.str_or_null(r.reason);
    out.key("signal");
    out.str_or_null(r.signal);
    out.end_object();
    return {200, out.take()};
  }

  api_answer on_halt_request(std::string reason) {
    if (risk == nullptr) return error_answer(503, "unavailable", "the bot is not running");
    if (!risk->halted()) {
      spdlog::warn("control: halt requested by the operator: {}", excerpt(reason, 200));
      risk->halt(reason);
    }
    return halt_answer();
  }

  api_answer on_resume_request() {
    if (risk == nullptr) return error_answer(503, "unavailable", "the bot is not running");
    if (risk->halted()) {
      spdlog::warn("control: resume requested by the operator; lifting the halt ({})",
                   excerpt(risk->halt_reason(), 200));
      risk->resume();
      remember({std::chrono::system_clock::now(), "operator", "resume", "halt lifted"});
    }
    refresh_risk();
    return halt_answer();
  }

  api_answer on_submit(std::string_view body) {
    if (bot == nullptr) return error_answer(503, "unavailable", "the bot is not running");
    auto intent = parse_intent_request(body, provider_names, std::chrono::system_clock::now());
    if (!intent) return error_answer(400, "bad_request", intent.error().message);
    const std::string id = bot->submit(*intent, "http");
    spdlog::info("intent_request intent={} spend {} {} -> {} min {} via POST /intents", id,
                 intent->amount.to_string(), intent->spend_asset, intent->receive_asset,
                 intent->min_receive.to_string());
    submitted.emplace(id, std::move(*intent));
    submitted_order.push_back(id);
    while (submitted_order.size() > 1000) {
      submitted.erase(submitted_order.front());
      submitted_order.pop_front();
    }
    const auto state = bot->submitted(id);
    json_out out;
    out.begin_object();
    out.field("id", id);
    out.field("state", state ? state->state : "pending");
    out.end_object();
    return {202, out.take()};
  }

  api_answer on_get_intent(std::string_view id) {
    const auto known = bot != nullptr ? bot->submitted(id) : std::nullopt;
    auto journaled = records.intent(id);
    if (!journaled) return error_answer(500, "journal", describe(journaled.error()));
    const auto asked = submitted.find(id);
    if (!*journaled && !known) return error_answer(404, "not_found", "no such intent");
    json_out out;
    out.begin_object();
    out.field("id", id);
    if (*journaled) {
      const intent_record& i = **journaled;
      out.field("source", i.origin);
      out.field("state", i.state);
      out.key("detail");
      out.str_or_null(known ? std::string_view(known->detail) : std::string_view());
      out.field("spend_asset", i.spend_asset);
      out.field("receive_asset", i.receive_asset);
      out.field("side", to_string(i.side));
      out.field("amount", i.amount.to_string());
      out.field("min_receive", i.min_receive.to_string());
      if (i.max_spend) out.field("max_spend", i.max_spend->to_string());
      out.key("created_at");
      out.time(i.created_at);
    } else {
      out.field("source", "http");
      out.field("state", known->state);
      out.field("detail", known->detail);
      if (asked != submitted.end()) {
        out.field("spend_asset", asked->second.spend_asset);
        out.field("receive_asset", asked->second.receive_asset);
        out.field("side", to_string(asked->second.side));
        out.field("amount", asked->second.amount.to_string());
        out.field("min_receive", asked->second.min_receive.to_string());
        if (asked->second.max_spend) {
          out.field("max_spend", asked->second.max_spend->to_string());
        }
      }
    }
    out.key("legs");
    out.begin_array();
    if (*journaled) {
      if (auto ls = records.legs_of(id)) {
        for (const leg_record& l : *ls) {
          out.begin_object();
          out.field("id", l.client);
          out.field("provider", l.provider);
          out.field("spend_asset", l.spend_asset);
          out.field("receive_asset", l.receive_asset);
          out.field("side", to_string(l.side));
          out.field("amount", l.amount.to_string());
          out.field("state", to_string(l.phase));
          out.field("provider_ref", l.provider_ref);
          out.field("spend_filled", l.spend_filled.to_string());
          out.field("spend_fee_filled", l.spend_fee_filled.to_string());
          out.field("receive_filled", l.receive_filled.to_string());
          out.field("fee_filled", l.fee_filled.to_string());
          out.key("updated_at");
          out.time(l.updated_at);
          out.end_object();
        }
      }
    }
    out.end_array();
    out.end_object();
    return {200, out.take()};
  }

  // --- live view ------------------------------------------------------------------------------

  void draw() const {
    const status_snapshot s = snapshot();
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started_steady);
    std::string out = "\x1b[H\x1b[2J";  // home, clear: the view is redrawn whole every second
    out += fmt::format("swaprouter run {}  mode {}  up {}s  {}\n", options.file, s.mode, up.count(),
                       server ? server->base_url() : "no listener");
    out += s.risk.halted ? fmt::format("HALTED ({}): {}\n", s.risk.halt_signal, s.risk.halt_reason)
                         : "trading\n";
    out += "\nprovider      health    circuit    p50       p99       last quote  429s  clock\n";
    const wall_time now = s.generated_at;
    for (std::size_t i = 0; i < s.providers.size(); ++i) {
      const status_provider& p = s.providers[i];
      const venue_health h = monitors[i]->health();
      const std::string last =
          p.last_quote ? fmt::format("{:.1f}s ago", seconds_of(now - *p.last_quote)) : "-";
      const std::string clock =
          h.clock_offset ? fmt::format("{:+}ms", h.clock_offset->count()) : "-";
      out += fmt::format("{:<13} {:<9} {:<10} {:<9} {:<9} {:<11} {:>4}  {}\n", p.name, p.health,
                         to_string(p.circuit), format_seconds(p.latency_p50_seconds),
                         format_seconds(p.latency_p99_seconds), last, h.rate_limited, clock);
    }
    out += "\nbest direct routes  pair           provider       net rate\n";
    for (const auto& [spend, receive] : options.pairs) {
      const std::string pair = observability::pair_name(spend, receive);
      const observability::monitored_venue* best = nullptr;
      decimal best_rate;
      for (const auto& mv : monitors) {
        auto q = mv->stats().pairs.find(pair);
        if (q == mv->stats().pairs.end() || !q->second.net_rate) continue;
        if (now - q->second.received_at > rate_horizon) continue;
        if (best == nullptr || *q->second.net_rate > best_rate) {
          best = mv.get();
          best_rate = *q->second.net_rate;
        }
      }
      out += fmt::format("                    {:<14} {:<14} {}\n", pair,
                         best != nullptr ? std::string(best->id()) : "(none quoted)",
                         best != nullptr ? best_rate.to_string(8) : "-");
    }
    out += fmt::format("\nopen legs ({})\n", s.open_legs.size());
    for (std::size_t i = 0; i < s.open_legs.size() && i < 8; ++i) {
      const status_leg& l = s.open_legs[i];
      out += fmt::format("  {:<44} {:<12} {:<10} {} {} -> {}\n", l.id, l.provider, l.state,
                         l.amount.to_string(), l.spend_asset, l.receive_asset);
    }
    if (options.view_log) {
      out += "\nlog\n";
      for (const auto& line : options.view_log->last_formatted()) {
        out += "  ";
        out += line;
        if (!line.ends_with('\n')) out += '\n';
      }
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }
};

bot_service::bot_service(boost::asio::io_context& ioc, service_options options, journal& records)
    : impl_(std::make_unique<impl>(ioc, std::move(options), records)) {}

bot_service::~bot_service() { stop(); }

std::span<venue* const> bot_service::monitor(std::span<venue* const> venues) {
  impl& self = *impl_;
  for (venue* v : venues) {
    const std::string provider(v->id());
    auto& latency = self.m.quote_latency.with({provider});
    auto& errors = self.quote_errors.with({provider});
    // Every provider has its series from the start, so a dashboard sees zeros, not gaps.
    self.m.rate_limited.with({provider});
    self.m.unknown_outcomes.with({provider});
    self.m.set_circuit(provider, v->health().circuit.value_or(circuit_state::closed));
    self.monitors.push_back(std::make_unique<observability::monitored_venue>(
        *v, [&latency, &errors](std::string_view, std::chrono::nanoseconds elapsed, bool ok) {
          latency.observe(elapsed);
          if (!ok) errors.inc();
        }));
    self.monitored.push_back(self.monitors.back().get());
    self.provider_names.push_back(provider);
  }
  return self.monitored;
}

strategies::bot_hooks bot_service::hooks() {
  strategies::bot_hooks h;
  impl* self = impl_.get();
  h.on_decision = [self](const strategies::decision_event& d) { self->on_decision(d); };
  h.on_execution_event = [self](const execution_event& e) { self->on_event(e); };
  return h;
}

strategies::risk_guard::halt_fn bot_service::halt_sink() {
  impl* self = impl_.get();
  return [self](std::string_view reason) { self->on_halt(reason); };
}

void bot_service::accept_callbacks(callback_gate& gate) { impl_->gate = &gate; }

void bot_service::watch_book(const quote_book& book) { impl_->book = &book; }

bool bot_service::start(strategies::bot& bot, strategies::risk_guard& risk) {
  impl& self = *impl_;
  self.bot = &bot;
  self.risk = &risk;
  observability::listener_options lo;
  lo.bind_address =
      self.options.listen.host == "localhost" ? "127.0.0.1" : self.options.listen.host;
  lo.port = self.options.listen.port;
  lo.control_token = self.options.control_token;
  observability::listener_callbacks cb;
  impl* p = &self;
  cb.metrics = [p] {
    p->refresh();
    return p->registry.render();
  };
  cb.status = [p] { return to_json(p->snapshot()); };
  cb.halt = [p](std::string reason) { return p->on_halt_request(std::move(reason)); };
  cb.resume = [p] { return p->on_resume_request(); };
  cb.submit_intent = [p](std::string_view body) { return p->on_submit(body); };
  cb.get_intent = [p](std::string_view id) { return p->on_get_intent(id); };
  if (self.gate != nullptr) {
    cb.provider_callback = [p](std::string_view provider, std::string_view remote,
                               std::string_view body) {
      // The same answer whatever the verdict: a forger learns nothing about our legs.
      const callback_verdict verdict = p->gate->receive(provider, remote, body);
      // The provider name comes from the request's path: escaped, it cannot forge a log line.
      spdlog::debug("callback for {}: {}", excerpt(provider, 64), to_string(verdict));
      return observability::api_answer{200, "{}"};
    };
  }
  const std::string where =
      fmt::format("{}:{}",
                  lo.bind_address.find(':') != std::string::npos ? "[" + lo.bind_address + "]"
                                                                 : lo.bind_address,
                  lo.port);
  try {
    self.server.emplace(self.ioc.get_executor(), std::move(lo), std::move(cb));
    self.server->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swaprouter run: cannot listen on %s: %s\n", where.c_str(), e.what());
    self.server.reset();
    return false;
  }
  self.started = true;
  const std::string url = self.server->base_url();
  std::printf("listening on %s\n", url.c_str());
  std::fflush(stdout);
  spdlog::info("listening on {} (metrics, status, control API {})", url,
               self.options.control_token.empty() ? "off: no token" : "on");
  asio::co_spawn(self.ioc, self.refresh_loop(self.alive), asio::detached);
  asio::co_spawn(self.ioc, self.balance_loop(self.alive), asio::detached);
  return true;
}

void bot_service::stop() {
  impl& self = *impl_;
  if (!*self.alive) return;
  *self.alive = false;
  for (auto* t : self.sleeping) t->cancel();
  self.sleeping.clear();
  if (self.server) self.server->stop();
  if (self.options.live_view && self.started) {
    std::fputs("\n", stdout);
    std::fflush(stdout);
  }
}

std::string bot_service::url() const {
  return impl_->server ? impl_->server->base_url() : std::string();
}

}  // namespace swaprouter::cli
