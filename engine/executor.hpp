// Turns a plan into money moved, exactly once per leg (DESIGN.md s.3 "Outcomes", "Durability",
// "Time-to-live"; FAULTS.md 1-5, 7, 8, 11, 17, 25).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/execution.hpp"
#include "engine/quoter.hpp"
#include "engine/tracker.hpp"

namespace swaprouter {

/// How an intent ended.
struct execution_result {
  std::string intent_id;
  /// done (filled), partial, failed (nothing received), halted (a leg is unknown, lost or frozen
  /// and needs reconciliation or an operator).
  std::string state;
  bool filled = false;
  decimal spent;     ///< of the intent's spend asset, as the providers settled it
  decimal received;  ///< of the intent's receive asset, net, as the providers settled it
  std::vector<asset_amount> fees;
  decimal quoted_net;      ///< what the first plan expected
  decimal quoted_rate;     ///< the first plan's effective rate
  decimal effective_rate;  ///< received / spent, rounded down to 18 places
  std::vector<leg_record> legs;
};

/// What restart reconciliation found and did.
struct recovery_result {
  std::size_t legs = 0;              ///< unfinished legs in the journal
  std::size_t adopted = 0;           ///< found at the provider by client id
  std::size_t resumed = 0;           ///< followed to their end after the lookup
  std::size_t unknown = 0;           ///< left unknown (alarmed)
  std::size_t frozen = 0;            ///< inconsistent provider records (alarmed)
  std::size_t continued = 0;         ///< later hops of routes sent after the lookups
  std::vector<std::string> intents;  ///< intents whose state was settled again
};

/// Executes intents over the venues, journaling every leg with its deterministic client id
/// ("<intent>-L<index>-A<attempt>") before its request leaves. A submit answered with a
/// documented rejection is rejected; with rate_limited / circuit_open before anything was sent it
/// waits and tries again; anything else is unknown and settled with find() (backoff, grace
/// window): adopted when found, frozen and alarmed when the provider's record is inconsistent,
/// resubmitted with the same client id after the grace window only where the provider
/// deduplicates, before the leg's deadline and while its intent is not stopped (cancel()),
/// otherwise left unknown and alarmed. Routes run
/// concurrently, the legs of a route in order, each sized by what the previous one delivered; a
/// leg whose worst case cannot reach its share of the intent's minimum is never sent. Unfilled
/// remainders (expiry, cancel, partial fill, failure) are re-planned with fresh quotes at the
/// other providers while the intent's deadline allows. Single-threaded: one engine executor; the
/// venues and the journal must outlive it.
class executor {
 public:
  executor(std::span<venue* const> venues, journal& j, execution_options options,
           event_sink sink = {});
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  /// Quotes, plans and executes `intent` (its id must be new), then tracks every leg to its end.
  task<execution_result> run(intent_record intent);
  /// Executes an already quoted plan for `intent`.
  task<execution_result> execute(intent_record intent, quoted_plan quoted);
  /// Restart: before anything new is sent, every unfinished journal leg of an intent of this
  /// mode (live or dry-run, execution_options::dry_run) is reconciled with its provider (status
  /// by reference, find() by client id for legs without one, planned and submitting ones
  /// included), then followed to its end. Then each intent still executing when the process
  /// stopped resumes within its deadline: the later hops of its routes are sent, sized by what
  /// the previous hop delivered, and unconverted remainders are re-planned; a planned leg that is
  /// not resumed was never sent and is cancelled. An intent given to cancel() before the restart
  /// is not resumed: the stop is finished as cancel() says.
  task<recovery_result> recover();
  /// A callback hint for `client`: see tracker::hint.
  void hint(const client_id& client);
  /// Stops `intent_id` where it stands (a shutdown, where its strategy says so): none of its
  /// legs not yet sent is sent (each is journaled cancelled), nothing of it is re-planned, and
  /// each of its legs open at a provider that can cancel is asked to cancel by the tracker
  /// (tracker::cancel_intent: journaled as a cancel at the deadline is), then followed to its
  /// final state. Legs at providers that cannot cancel are only followed. The stop is journaled
  /// (a "stop" event), so a restart finishes it.
  void cancel(const std::string& intent_id);

  /// The intent as journaled, summed from its legs.
  result<execution_result> summary(const std::string& intent_id);

  execution_log& log() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The deterministic client id of a leg.
client_id make_client_id(std::string_view intent_id, int index, int attempt);

}  // namespace swaprouter
