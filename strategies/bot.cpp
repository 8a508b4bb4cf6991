#include "strategies/bot.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
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
  wall_time cached_balances_at{};  // when the read of cached_balances started
  // When the last execution ended: book balances read before it are out of date.
  std::optional<wall_time> last_settled;
  // Intents given to submit(), waiting for the next tick, and what became of the recent ones.
  std::deque<std::pair<intent_record, swap_intent>> queued;
  std::map<std::string, submitted_intent, std::less<>> submitted;
  std::deque<std::string> submitted_order;
  std::optional<std::size_t> submitted_row;  // index in summary.strategies, once one arrived
  // Intents the executor has now, with their strategy's index (nullopt: given to submit()).
  std::map<std::string, std::optional<std::size_t>, std::less<>> executing;

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
    const wall_time wall = std::chrono::system_clock::now();
    for (venue* v : venues) {
      if (!all && !wanted.contains(v->id())) continue;
      // The poller's balances when read after our last execution settled and recently enough.
      if (const auto* held = book_balances(v->id(), wall)) {
        for (const auto& b : *held) {
          out.push_back(balance_entry{std::string(v->id()), b.asset, b.available});
        }
        continue;
      }
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
    cached_balances_at = wall;
    co_return out;
  }

  const std::vector<balance>* book_balances(std::string_view provider, wall_time now) const {
    if (options.book == nullptr) return nullptr;
    const auto at = options.book->view(provider).balances_at;
    if (!at || *at > now || now - *at > options.balances_max_age) return nullptr;
    if (last_settled && *at <= *last_settled) return nullptr;
    return options.book->balances(provider);
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
    // From the book's fresh models when it has a route (no I/O); only the intent that is going
    // to execute fans out for its amount-specific quotes (start()).
    quoted_plan quoted =
        co_await estimate_plan(all, ask, options.planning, options.fanout, options.book);
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
    if (wants_balances) {
      view.balances = co_await balances();
      view.balances_at = cached_balances_at;
    }
    while (!queued.empty() && !stopping) {
      auto [record, intent] = std::move(queued.front());
      queued.pop_front();
      co_await start(std::nullopt, std::move(record), std::move(intent), "submitted");
    }
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
      intent_record record = make_record(s.name(), *intent);
      co_await start(i, std::move(record), std::move(*intent), s.last_reason());
    }
  }

  intent_record make_record(const std::string& origin, const swap_intent& intent) {
    intent_record record;
    record.id = fmt::format("I{}-{}-{}", run_id, origin, ++sequence);
    record.spend_asset = intent.spend_asset;
    record.receive_asset = intent.receive_asset;
    record.side = intent.side;
    record.amount = intent.amount;
    record.min_receive = intent.min_receive;
    record.max_spend = intent.max_spend;
    record.created_at = std::chrono::system_clock::now();
    record.deadline = intent.deadline;
    record.origin = origin;
    return record;
  }

  strategy_totals& totals_of(std::optional<std::size_t> index) {
    if (index) return summary.strategies[*index];
    if (!submitted_row) {
      strategy_totals t;
      t.name = "submitted";
      t.submitted = true;
      submitted_row = summary.strategies.size();
      summary.strategies.push_back(std::move(t));
    }
    return summary.strategies[*submitted_row];
  }

  void set_submitted(const std::string& id, std::string state, std::string detail) {
    auto it = submitted.find(id);
    if (it == submitted.end()) return;
    it->second.state = std::move(state);
    it->second.detail = std::move(detail);
  }

  // Risk, a fresh plan at the exact amount and minimum, then execution in its own coroutine so
  // that a slow leg never holds up the other strategies. `index` is the strategy's; nullopt for an
  // intent given to submit(). Totals are looked up after every suspension: the submitted row may
  // be appended meanwhile.
  task<void> start(std::optional<std::size_t> index, intent_record record, swap_intent intent,
                   std::string why) {
    strategy* s = index ? strategies[*index].get() : nullptr;
    const std::string name = record.origin;
    const wall_time now = std::chrono::system_clock::now();
    const std::string what =
        intent.side == amount_side::spend
            ? fmt::format("spend {} {} -> {} min {} ({})", intent.amount.to_string(),
                          intent.spend_asset, intent.receive_asset, intent.min_receive.to_string(),
                          why)
            : fmt::format("receive {} {} for {}{} ({})", intent.amount.to_string(),
                          intent.receive_asset, intent.spend_asset,
                          intent.max_spend
                              ? fmt::format(" spending at most {} {}",
                                            intent.max_spend->to_string(), intent.spend_asset)
                              : std::string(),
                          why);
    if (risk_decision d = risk.admit(intent, now); !d.allowed) {
      ++totals_of(index).refused;
      decide({now, name, record.id, "refused", d.reason + "; " + what});
      set_submitted(record.id, "refused", d.reason);
      if (s != nullptr) s->settled(false, now);
      co_return;
    }
    std::span<venue* const> all(venues);
    quoted_plan quoted = co_await quote_and_plan(all, intent, options.planning, options.fanout,
                                                 options.book);
    if (!quoted.result.ok()) {
      decide({now, name, record.id, "no_plan", quoted.result.failure + "; " + what});
      set_submitted(record.id, "no_plan", quoted.result.failure);
      if (s != nullptr) s->settled(false, now);
      co_return;
    }
    if (stopping) {
      // The stop came while the intent was being quoted: nothing of it was sent.
      decide({now, name, record.id, "refused", "stopping: no new intents; " + what});
      set_submitted(record.id, "refused", "stopping: no new intents");
      if (s != nullptr) s->settled(false, now);
      co_return;
    }
    // A submitted intent without a minimum gets its plan's own worst case: never less than the
    // route it was admitted on could deliver.
    if (s == nullptr && record.min_receive.is_zero()) record.min_receive = quoted.result.worst_net;
    const std::vector<provider_spend> spend = spend_of(quoted.result);
    risk_decision d = risk.admit_spend(intent, spend, now);
    if (d.allowed) d = risk.admit_plan(record.id, spend);
    if (!d.allowed) {
      ++totals_of(index).refused;
      decide({now, name, record.id, "refused", d.reason + "; " + what});
      set_submitted(record.id, "refused", d.reason);
      if (s != nullptr) s->settled(false, now);
      co_return;
    }
    risk.opened(record.id, intent, spend, now);
    ++totals_of(index).intents;
    decide({now, name, record.id, "intent", what});
    set_submitted(record.id, "executing", what);
    ++open;
    executing.emplace(record.id, index);
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, execute(index, std::move(record), std::move(quoted)), asio::detached);
  }

  task<void> execute(std::optional<std::size_t> index, intent_record record, quoted_plan quoted) {
    const std::string id = record.id;
    const std::string pair = record.spend_asset + "->" + record.receive_asset;
    std::optional<execution_result> result;
    try {
      result = co_await exec.execute(std::move(record), std::move(quoted));
    } catch (const std::exception& e) {
      spdlog::error("intent={} execution failed: {}", id, e.what());
    }
    // A halted intent has a leg whose outcome is not known yet: what it spent may still grow.
    std::optional<decimal> spent;
    if (result && result->state != "halted") spent = result->spent;
    --open;
    executing.erase(id);
    risk.closed(id, spent);
    balances_read.reset();
    last_settled = std::chrono::system_clock::now();
    strategy_totals& totals = totals_of(index);
    const std::string name = totals.name;
    if (index) strategies[*index]->settled(true, std::chrono::system_clock::now(), spent);
    if (!result) {
      set_submitted(id, "failed", "execution failed");
      co_return;
    }
    account(totals, pair, *result);
    const std::string outcome =
        fmt::format("{}: spent {} received {} rate {} (quoted {})", result->state,
                    result->spent.to_string(), result->received.to_string(),
                    result->effective_rate.to_string(), result->quoted_rate.to_string());
    set_submitted(id, result->state, outcome);
    decide({std::chrono::system_clock::now(), name, id, "executed", outcome});
    if (hooks.on_result) hooks.on_result(name, *result);
  }

  void account(strategy_totals& t, const std::string& pair, const execution_result& r) {
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
  for (auto& [record, intent] : impl_->queued) {
    impl_->set_submitted(record.id, "refused", "stopping: no new intents");
  }
  impl_->queued.clear();
  // Where the strategy says so its open legs are cancelled; the executor's tracker asks each
  // provider (one "cancel" event per request) and keeps following the legs within the drain.
  for (const auto& [id, index] : impl_->executing) {
    if (!index || !impl_->strategies[*index]->common().cancel_on_stop) continue;
    spdlog::info(
        "stopping: intent={} strategy={} cancel_on_stop: its open legs are cancelled "
        "where the provider can cancel",
        id, impl_->strategies[*index]->name());
    impl_->exec.cancel(id);
  }
}

bool bot::stopping() const noexcept { return impl_->stopping; }

std::optional<std::string> bot::admit_remainder(std::string_view intent_id, const plan& remainder) {
  risk_decision d = impl_->risk.admit_remainder(intent_id, spend_of(remainder));
  if (d.allowed) return std::nullopt;
  return std::move(d.reason);
}

void bot::observe(const execution_event& e) {
  if (e.client.empty()) {
    spdlog::info("{} intent={} {}", e.kind, e.intent_id, e.detail);
  } else if (e.kind == "cancel") {
    // A cancel request names its intent too: a stop's cancels are read by intent.
    spdlog::info("{} intent={} leg={} {}", e.kind, e.intent_id, e.client, e.detail);
  } else {
    spdlog::info("{} leg={} {}", e.kind, e.client, e.detail);
  }
  if (e.kind == "phase" && !e.client.empty()) {
    if (starts_with_any(e.detail, {"unknown", "lost", "frozen"})) {
      impl_->risk.unknown_outcome(e.client, e.time);
    } else if (starts_with_any(e.detail, {"filled", "partially_filled", "expired", "cancelled",
                                          "failed", "rejected"})) {
      impl_->risk.unknown_resolved(e.client);
    }
    if (e.detail.starts_with("expired")) impl_->risk.quote_expired(e.client, e.time);
  }
  if (impl_->hooks.on_execution_event) impl_->hooks.on_execution_event(e);
}

std::string bot::submit(swap_intent intent, std::string origin) {
  impl& self = *impl_;
  intent_record record = self.make_record(origin, intent);
  const std::string id = record.id;
  submitted_intent state{id, "pending", "waiting for the next tick"};
  if (self.stopping) {
    state.state = "refused";
    state.detail = "stopping: no new intents";
    self.decide({record.created_at, origin, id, "refused", state.detail});
  } else {
    self.queued.emplace_back(std::move(record), std::move(intent));
  }
  self.submitted.emplace(id, std::move(state));
  self.submitted_order.push_back(id);
  while (self.submitted_order.size() > 1000) {
    self.submitted.erase(self.submitted_order.front());
    self.submitted_order.pop_front();
  }
  return id;
}

std::optional<submitted_intent> bot::submitted(std::string_view id) const {
  auto it = impl_->submitted.find(id);
  if (it == impl_->submitted.end()) return std::nullopt;
  return it->second;
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
    out += fmt::format("  {:<22} {:<10} {:>7} {:>6} {:>8}  {} / {}\n", s.name,
                       s.submitted ? std::string_view("api") : to_string(s.kind),
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
