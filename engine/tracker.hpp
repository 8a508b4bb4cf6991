// Follows submitted legs to their final state at their providers (DESIGN.md s.3 "Outcomes",
// "Time-to-live"; FAULTS.md 9, 10, 11).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <set>
#include <string>

#include "engine/execution.hpp"

namespace swaprouter {

/// Polls legs with backoff and jitter until they are final. A provider's own refusal for budget
/// (rate_limited, circuit_open) only makes it wait; a poll error is never "not found"; not_found
/// is tolerated for options.lost_after, then the leg is lost (still polled) and alarmed. A leg
/// still open at its deadline (or of an intent given to cancel_intent) is cancelled where the
/// provider can cancel, then followed to its final state. Single-threaded: one engine executor;
/// the directory and log must outlive it.
class tracker {
 public:
  tracker(const venue_directory& venues, execution_log& log);

  /// Follows `leg` (which has a provider_ref) until final, or until options.track_after_deadline
  /// past its deadline (alarmed; restart reconciles it). Answers the last record.
  task<leg_record> track(leg_record leg, int receive_precision);

  /// A provider callback or an operator says `client` may have changed: the next authenticated
  /// status fetch of that leg happens now. The state only changes when that fetch agrees.
  void hint(const client_id& client);
  /// Every leg of `intent_id` that is followed now or later is asked to cancel at its next poll
  /// where its provider can cancel (a stop, where the strategy says so), the way a leg open at
  /// its deadline is, then followed to its final state.
  void cancel_intent(const std::string& intent_id);

 private:
  task<void> wait(const client_id& client, std::chrono::milliseconds delay);

  const venue_directory& venues_;
  execution_log& log_;
  std::map<client_id, boost::asio::steady_timer*> waiting_;
  std::map<client_id, bool> hinted_;
  std::map<client_id, std::string> followed_;  // leg -> its intent, while track() runs
  std::set<std::string, std::less<>> cancelling_;
};

}  // namespace swaprouter
