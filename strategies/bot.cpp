#include "strategies/bot.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <set>

namespace swaprouter::strategies {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string format_amounts(const std::map<std::string, decimal>& amounts) {
  std::string out;
  for (const auto& [asset, amount] : amounts) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", amount.to_string(), asset);
  }
  return out.empty() ? "none" : out;
}

task<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

bool starts_with_any(std::string_view text, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes) {
    if (text.starts_with(p)) return true;
  }
  return false;
}

}  // namespace

struct bot::impl {
  std::vector<std::unique_ptr<strategy>> strategies;
  risk_guard& risk;
  executor& exec;
  std::vector<venue*> venues;
  bot_options options;
  bot_hooks hooks;
  bot_summary summary;
  bool stopping = false;
  std::size_t open = 0;
  std::uint64_t sequence = 0;
  std::string run_id;
  std::optional<steady::time_point> balances_read;
  std::vector<balance_entry> cached_balances;

  impl(std::vector<std::unique_ptr<strategy>> s, risk_guard& r, executor& e,
       std::span<venue* const> v, bot_options o, bot_hooks h)
      : strategies(std::move(s)),
        risk(r),
        exec(e),
        venues(v.begin(), v.end()),
        options(std::move(o)),
        hooks(std::move(h)) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    run_id = fmt::format("{}", ms);
    summary.mode = options.mode;
    for (const auto& s : strategies) {
      strategy_totals t;
      t.name = s->name();
      t.kind = s->kind();
      summary.strategies.push_back(std::move(t));
    }
  }

  void decide(const decision_event& d) {
    spdlog::info("decision strategy={} intent={} {}: {}", d.strategy,
                 d.intent_id.empty() ? "-" : d.intent_id, d.outcome, d.detail);
    if (hooks.on_decision) hooks.on_decision(d);
  }

  // Balances of the providers the rebalance strategies watch, at most every 5 s: balance reads
  // share a small budget with execution (001k: 30/min).
  task<std::vector<balance_entry>> balances() {
    const auto now = steady::now();
    if (balances_read && now - *balances_read < 5s) co_return cached_balances;
    std::set<std::string, std::less<>> wanted;
    bool all = false;
    for (const auto& s : strategies) {
      if (s->kind() != strategy_kind::rebalance || !s->common().enabled) continue;
      if (!s->watched_provider().empty()) {
        wanted.emplace(s->watched_provider());
      } else if (!s->common().providers.empty()) {
        wanted.insert(s->common().providers.begin(), s->common().providers.end());
      } else {
        all = true;
      }
    }
    std::vector<balance_entry> out;
    for (venue* v : venues) {
      if (!all && !wanted.contains(v->id())) continue;
      auto got = co_await v->balances();
      if (!got) {
        spdlog::warn("balances provider={} unavailable: {}", v->id(), describe(got.error()));
        continue;
      }
      for (const auto& b : *got) {
        out.push_back(balance_entry{std::string(v->id()), b.asset, b.available});
      }
    }
    balances_read = now;
    cached_balances = out;
    co_return out;
  }

  task<probe_answer> price(probe p) {
    swap_intent ask;
    ask.spend_asset = p.spend_asset;
    ask.receive_asset = p.receive_asset;
    ask.amount = p.amount;
    ask.providers = p.providers;
    probe_answer answer;
    answer.asked = std::move(p);
    std::span<venue* const> all(venues);
    quoted_plan quoted = co_await quote_and_plan(all, ask, options.planning, options.fanout);
    if (quoted.result.ok()) {
      answer.ok = true;
      answer.net = quoted.result.net;
      answer.worst_net = quoted.result.worst_net;
      answer.rate = quoted.result.effective_rate;
    }
    co_return answer;
  }

  task<void> tick() {
    bool wants_balances = false;
    market_view view;
    view.now = std::chrono::system_clock::now();
    for (auto& s : strategies) {
      if (s->common().enabled && !s->in_flight() && s->kind() == strategy_kind::rebalance) {
        wants_balances = true;
      }
    }
    if (wants_balances) view.balances = co_await balances();
    for (std::size_t i = 0; i < strategies.size() && !stopping; ++i) {
      strategy& s = *strategies[i];
      if (!s.common().enabled || s.in_flight()) continue;
      view.quotes.clear();
      std::vector<probe> probes = s.probes(view.now, view);
      for (auto& p : probes) {
        probe_answer answer = co_await price(std::move(p));
        view.quotes.push_back(std::move(answer));
      }
      std::optional<swap_intent> intent = s.on_tick(view);
      if (!intent) {
        spdlog::debug("decision strategy={} idle: {}", s.name(), s.last_reason());
        continue;
      }
      co_await start(i, std::move(*intent));
    }
  }

  // Risk, a fresh plan at the exact amount and minimum, then execution in its own coroutine so
  // that a slow leg never holds up the other strategies.
  task<void> start(std::size_t index, swap_intent intent) {
    strategy& s = *strategies[index];
    strategy_totals& totals = summary.strategies[index];
    const wall_time now = std::chrono::system_clock::now();
    intent_record record;
    record.id = fmt::format("I{}-{}-{}", run_id, s.name(), ++sequence);
    record.spend_asset = intent.spend_asset;
    record.receive_asset = intent.receive_asset;
    record.amount = intent.amount;
    record.min_receive = intent.min_receive;
    record.created_at = now;
    record.deadline = intent.deadline;
    record.origin = s.name();
    const std::string what =
        fmt::format("spend {} {} -> {} min {} ({})", intent.amount.to_string(), intent.spend_asset,
                    intent.receive_asset, intent.min_receive.to_string(), s.last_reason());
    if (risk_decision d = risk.admit(intent, now); !d.allowed) {
      ++totals.refused;
      decide({now, s.name(), record.id, "refused", d.reason + "; " + what});
      s.settled(false, now);
      co_return;
    }
    std::span<venue* const> all(venues);
    quoted_plan quoted = co_await quote_and_plan(all, intent, options.planning, options.fanout);
    if (!quoted.result.ok()) {
      decide({now, s.name(), record.id, "no_plan", quoted.result.failure + "; " + what});
      s.settled(false, now);
      co_return;
    }
    std::vector<provider_spend> spend;
    for (const auto& route : quoted.result.routes) {
      const auto& first = route.legs.front().order;
      spend.push_back(provider_spend{first.provider, first.spend_asset, first.amount});
    }
    if (risk_decision d = risk.admit_plan(record.id, spend); !d.allowed) {
      ++totals.refused;
      decide({now, s.name(), record.id, "refused", d.reason + "; " + what});
      s.settled(false, now);
      co_return;
    }
    risk.opened(record.id, intent, spend, now);
    ++totals.intents;
    decide({now, s.name(), record.id, "intent", what});
    ++open;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, execute(index, std::move(record), std::move(quoted)), asio::detached);
  }

  task<void> execute(std::size_t index, intent_record record, quoted_plan quoted) {
    const std::string id = record.id;
    const std::string pair = record.spend_asset + "->" + record.receive_asset;
    std::optional<execution_result> result;
    try {
      result = co_await exec.execute(std::move(record), std::move(quoted));
    } catch (const std::exception& e) {
      spdlog::error("intent={} execution failed: {}", id, e.what());
    }
    --open;
    risk.closed(id);
    balances_read.reset();
    strategy& s = *strategies[index];
    s.settled(true, std::chrono::system_clock::now());
    if (!result) co_return;
    account(index, pair, *result);
    decide({std::chrono::system_clock::now(), s.name(), id, "executed",
            fmt::format("{}: spent {} received {} rate {} (quoted {})", result->state,
                        result->spent.to_string(), result->received.to_string(),
                        result->effective_rate.to_string(), result->quoted_rate.to_string())});
    if (hooks.on_result) hooks.on_result(s.name(), *result);
  }

  void account(std::size_t index, const std::string& pair, const execution_result& r) {
    strategy_totals& t = summary.strategies[index];
    const auto arrow = pair.find("->");
    const std::string spend_asset = pair.substr(0, arrow);
    const std::string receive_asset = pair.substr(arrow + 2);
    t.spent[spend_asset] += r.spent;
    t.received[receive_asset] += r.received;
    if (r.filled) {
      ++t.fills;
      auto& p = t.pairs[pair];
      p.spent += r.spent;
      p.received += r.received;
      p.quoted += r.quoted_net;
    }
    for (const auto& f : r.fees) summary.fees[f.asset] += f.amount;
    for (const auto& leg : r.legs) {
      auto& p = summary.providers[leg.provider];
      ++p.legs;
      if (leg.phase == leg_phase::filled) ++p.filled;
      p.spent[leg.spend_asset] += leg.spend_filled;
      if (!leg.fee_filled.is_zero()) p.fees[leg.receive_asset] += leg.fee_filled;
    }
  }
};

bot::bot(std::vector<std::unique_ptr<strategy>> strategies, risk_guard& risk, executor& exec,
         std::span<venue* const> venues, bot_options options, bot_hooks hooks)
    : impl_(std::make_unique<impl>(std::move(strategies), risk, exec, venues, std::move(options),
                                   std::move(hooks))) {}

bot::~bot() = default;

void bot::stop(std::string_view why) {
  if (impl_->stopping) return;
  impl_->stopping = true;
  spdlog::info("stopping: {}; no new intents, tracking {} open", why, impl_->open);
}

bool bot::stopping() const noexcept { return impl_->stopping; }

void bot::observe(const execution_event& e) {
  spdlog::info("{} {} {}", e.kind, e.client.empty() ? "intent=" + e.intent_id : "leg=" + e.client,
               e.detail);
  if (e.kind == "phase" && !e.client.empty()) {
    if (starts_with_any(e.detail, {"unknown", "lost", "frozen"})) {
      impl_->risk.unknown_outcome(e.client, e.time);
    } else if (starts_with_any(e.detail, {"filled", "partially_filled", "expired", "cancelled",
                                          "failed", "rejected"})) {
      impl_->risk.unknown_resolved(e.client);
    }
  }
  if (impl_->hooks.on_execution_event) impl_->hooks.on_execution_event(e);
}

task<bot_summary> bot::run(std::chrono::milliseconds duration) {
  impl& self = *impl_;
  const auto started = steady::now();
  const auto until = started + duration;
  while (!self.stopping && steady::now() < until) {
    const auto tick_started = steady::now();
    co_await self.tick();
    // Sleep in short steps so a stop takes effect within a tenth of a second.
    while (!self.stopping && steady::now() < until &&
           steady::now() - tick_started < self.options.tick) {
      co_await sleep_for(100ms);
    }
  }
  if (!self.stopping) stop("duration reached");
  const auto drain_until = steady::now() + self.options.drain;
  while (self.open > 0 && steady::now() < drain_until) co_await sleep_for(100ms);
  if (self.open > 0) {
    spdlog::warn("{} intents still open after the drain bound; a restart reconciles them",
                 self.open);
  }
  self.summary.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  self.summary.open_intents = self.open;
  self.summary.halt_reason = self.risk.halted() ? self.risk.halt_reason() : "";
  co_return self.summary;
}

std::string bot_summary::format() const {
  std::string out = fmt::format("summary ({} mode, {:.1f} s)\n", mode, elapsed.count() / 1000.0);
  std::size_t intents = 0;
  std::size_t fills = 0;
  for (const auto& s : strategies) {
    intents += s.intents;
    fills += s.fills;
  }
  out += fmt::format("  intents {}, filled {}, still open {}, fees {}\n", intents, fills,
                     open_intents, format_amounts(fees));
  if (!halt_reason.empty()) out += fmt::format("  HALTED: {}\n", halt_reason);
  out += "  strategy               kind       intents  fills  refused  spent / received\n";
  for (const auto& s : strategies) {
    out += fmt::format("  {:<22} {:<10} {:>7} {:>6} {:>8}  {} / {}\n", s.name, to_string(s.kind),
                       s.intents, s.fills, s.refused, format_amounts(s.spent),
                       format_amounts(s.received));
    for (const auto& [pair, p] : s.pairs) {
      const auto rate = p.received.div(p.spent, rounding::down).value_or(decimal{});
      const auto quoted = p.quoted.div(p.spent, rounding::down).value_or(decimal{});
      out += fmt::format("    {:<20} effective rate {} vs best quoted {}\n", pair,
                         rate.to_string(8), quoted.to_string(8));
    }
  }
  out += "  provider      legs  filled  spent / fees\n";
  for (const auto& [name, p] : providers) {
    out += fmt::format("  {:<12} {:>5} {:>7}  {} / {}\n", name, p.legs, p.filled,
                       format_amounts(p.spent), format_amounts(p.fees));
  }
  return out;
}

}  // namespace swaprouter::strategies
