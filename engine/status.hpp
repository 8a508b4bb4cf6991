// The bot's state as a plain value for GET /status and the status page.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/circuit_breaker.hpp"
#include "engine/decimal.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

/// What the quote book knows of one provider (seconds; nullopt before the first sample).
struct status_book {
  std::optional<double> age_seconds;  ///< of the newest pricing model
  std::optional<double> quote_p50_seconds;
  std::optional<double> quote_p99_seconds;
  std::optional<double> execution_p50_seconds;
  std::optional<double> execution_p99_seconds;
  std::uint64_t failures = 0;  ///< poller and fan-out failures since start
};

/// One provider as the bot sees it now.
struct status_provider {
  std::string name;
  std::string health = "ok";  ///< "ok", "degraded" or "down", the bot's judgement
  std::optional<wall_time> last_quote;
  std::optional<double> latency_p50_seconds;  ///< nullopt before the first quote
  std::optional<double> latency_p99_seconds;
  circuit_state circuit = circuit_state::closed;
  std::optional<status_book> book;  ///< when the bot runs a quote book
};

/// One leg that has not reached a final state.
struct status_leg {
  std::string id;
  std::string intent_id;
  std::string provider;
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;  ///< what `amount` fixes
  decimal amount;
  std::string state;  ///< the tracker's state name, e.g. "submitted", "unknown"
  std::optional<wall_time> created_at;
};

/// One intent that has not reached a final state.
struct status_intent {
  std::string id;
  std::string source;  ///< strategy name, or "http" for POST /intents
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;  ///< what `amount` fixes
  decimal amount;
  std::string state;
  std::optional<wall_time> created_at;
};

struct status_balance {
  std::string provider;
  std::string asset;
  decimal available;
};

struct status_risk {
  bool halted = false;
  std::string halt_reason;  ///< empty unless halted
  /// What halted: "operator", "kill_switch", "unknown_outcomes", "expired_quotes",
  /// "rate_limited", "clock_jump", "circuit_open", ...; empty unless halted.
  std::string halt_signal;
  std::optional<wall_time> halted_at;
  /// Named limits and their current use, e.g. {"daily_notional_usd", "1200", "5000"}.
  struct limit {
    std::string name;
    decimal used;
    decimal cap;
  };
  std::vector<limit> limits;
};

/// A recent decision of a strategy or the risk manager, newest last.
struct status_decision {
  wall_time time;
  std::string source;  ///< strategy or "risk"
  std::string action;  ///< e.g. "swap", "skip", "halt"
  std::string detail;  ///< one human line; never a secret
};

/// Everything GET /status shows. The bot fills it on its engine thread from its own state; the
/// snapshot holds no credential by construction (no field for one).
struct status_snapshot {
  std::string mode;  ///< "simulate", "dry-run" or "live"
  wall_time generated_at;
  std::optional<wall_time> started_at;
  std::vector<status_provider> providers;
  std::vector<status_intent> open_intents;
  std::vector<status_leg> open_legs;
  std::vector<status_balance> balances;
  status_risk risk;
  std::vector<status_decision> last_decisions;
};

/// The snapshot as compact JSON:
///   {"mode":..,"generated_at":ISO,"started_at":ISO|null,
///    "providers":[{"name","health","last_quote":ISO|null,"latency_p50_seconds":N|null,
///                  "latency_p99_seconds":N|null,"circuit":"closed"|"open"|"half_open",
///                  with a quote book also "quote_book":{"age_seconds","quote_p50_seconds",
///                  "quote_p99_seconds","execution_p50_seconds","execution_p99_seconds":N|null,
///                  "failures":N}}],
///    "open_intents":[{"id","source","spend_asset","receive_asset","side":"spend"|"receive",
///                     "amount","state","created_at"}],
///    "open_legs":[{"id","intent_id","provider","spend_asset","receive_asset",
///                  "side":"spend"|"receive","amount","state","created_at"}],
///    "balances":[{"provider","asset","available"}],
///    "risk":{"halted":bool,"halt_reason":str|null,"halt_signal":str|null,"halted_at":ISO|null,
///            "limits":[{"name","used","cap"}]},
///    "last_decisions":[{"time","source","action","detail"}]}
/// Amounts are exact decimal strings ("0.5"), so a browser never rounds them. Pure.
std::string to_json(const status_snapshot& snapshot);

}  // namespace swaprouter
