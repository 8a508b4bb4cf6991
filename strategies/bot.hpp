// The bot loop (DESIGN.md s.1): every tick each strategy is asked (its probes priced with the
// shared quoter), its intent passes risk, is executed by the executor and tracked to its end.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/executor.hpp"
#include "strategies/risk.hpp"
#include "strategies/strategy.hpp"

namespace swaprouter::strategies {

struct bot_options {
  std::string mode = "simulate";  ///< printed in every summary
  std::chrono::milliseconds tick{1000};
  /// After a stop (signal or duration), open intents are tracked at most this long.
  std::chrono::milliseconds drain{30000};
  std::chrono::milliseconds fanout{2000};
  planner_options planning;
  /// When set, quotes take directions from it and feed it (quote_and_plan); must outlive the bot.
  quote_book* book = nullptr;
  /// Probes plan over the book's fresh models (engine/quoter.hpp estimate_plan); rebalance reads
  /// the book's balances when read at most this long ago (and after the last execution ended).
  std::chrono::milliseconds balances_max_age{30000};
};

/// One strategy decision, as logged.
struct decision_event {
  wall_time time{};
  std::string strategy;
  std::string intent_id;  ///< empty when no intent was made
  std::string outcome;    ///< idle, intent, refused (risk), no_plan, executed
  std::string detail;
};

/// Where metrics and the status listener plug in (engine/metrics is written separately): every
/// callback runs on the engine thread and must not block. Unset callbacks are skipped.
struct bot_hooks {
  std::function<void(const decision_event&)> on_decision;
  std::function<void(std::string_view strategy, const execution_result&)> on_result;
  std::function<void(std::string_view reason)> on_halt;
  std::function<void(const execution_event&)> on_execution_event;
};

/// Totals of a run, by strategy and by provider.
struct strategy_totals {
  std::string name;
  strategy_kind kind = strategy_kind::convert;
  bool submitted = false;  ///< the row of intents given to bot::submit (POST /intents)
  std::size_t intents = 0;                  ///< admitted by risk and sent to the executor
  std::size_t refused = 0;                  ///< refused by risk
  std::size_t fills = 0;                    ///< intents that ended filled
  std::map<std::string, decimal> spent;     ///< by asset
  std::map<std::string, decimal> received;  ///< by asset
  /// Per pair "A->B": what was spent on filled intents, received, and the first plan's net.
  struct pair_totals {
    decimal spent;
    decimal received;
    decimal quoted;
  };
  std::map<std::string, pair_totals> pairs;
};

struct provider_totals {
  std::size_t legs = 0;
  std::size_t filled = 0;
  std::map<std::string, decimal> spent;  ///< by asset
  std::map<std::string, decimal> fees;   ///< by asset
};

struct bot_summary {
  std::string mode;
  std::chrono::milliseconds elapsed{0};
  std::vector<strategy_totals> strategies;
  std::map<std::string, provider_totals> providers;
  std::map<std::string, decimal> fees;  ///< by asset
  std::size_t open_intents = 0;         ///< still open when the run ended
  std::string halt_reason;              ///< empty when not halted

  /// The human summary printed at the end of a run.
  std::string format() const;
};

/// Where an intent given to bot::submit is. Before the executor has it the bot alone knows it
/// (pending, refused, no_plan); from "executing" on, the journal has it too.
struct submitted_intent {
  std::string id;
  std::string state;   ///< pending, refused, no_plan, executing, then the executor's final state
  std::string detail;  ///< why, for refused and no_plan; the outcome line once executed
};

/// Runs strategies over venues on the caller's executor. Single-threaded; the venues, the
/// executor and the risk guard must outlive it.
class bot {
 public:
  bot(std::vector<std::unique_ptr<strategy>> strategies, risk_guard& risk, executor& exec,
      std::span<venue* const> venues, bot_options options, bot_hooks hooks = {});
  ~bot();
  bot(const bot&) = delete;
  bot& operator=(const bot&) = delete;

  /// Ticks until stop() or `duration`, then tracks open intents up to options.drain.
  task<bot_summary> run(std::chrono::milliseconds duration);
  /// No new intents from now on; open ones are tracked to their end (within the drain bound).
  /// The open intents of strategies with cancel_on_stop are cancelled where their providers can
  /// cancel (executor::cancel), then tracked the same way.
  void stop(std::string_view why);
  bool stopping() const noexcept;
  /// Feed for the executor's event sink: logs the event and feeds the risk guard the unknown
  /// outcomes and expired legs.
  void observe(const execution_event& e);
  /// Feed for execution_options::admit_remainder: a re-planned remainder goes through the risk
  /// guard (halt, kill switch, provider exposure); the answer is why it is refused.
  std::optional<std::string> admit_remainder(std::string_view intent_id, const plan& remainder);
  /// An intent from outside the strategies (POST /intents; `origin` names the source, e.g.
  /// "http"): at the next tick it goes through risk, is planned and executed like a strategy's.
  /// Returns its id at once; while stopping it is refused at once.
  std::string submit(swap_intent intent, std::string origin);
  /// An intent given to submit(); nullopt for an id it never returned (or one long forgotten: the
  /// last 1000 are kept).
  std::optional<submitted_intent> submitted(std::string_view id) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace swaprouter::strategies
