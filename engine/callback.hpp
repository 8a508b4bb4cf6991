// Provider callbacks as hints (FAULTS.md 12 and 13; security requirement 4): a callback never
// changes a leg by itself; it only makes the tracker fetch the leg from the provider's
// authenticated API now, and that answer decides.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/executor.hpp"

namespace swaprouter {

/// Reads what a provider's callback body claims about one of its swaps (e.g. 001k's swap
/// object: onek::parse_swap then onek::to_leg_status). Must not throw on any input.
using callback_parser = std::function<result<leg_status>(std::string_view body)>;

struct callback_options {
  /// Larger bodies are refused unread.
  std::size_t max_body_bytes = std::size_t{64} << 10;
  /// Peer addresses allowed to call back; empty allows every address. An extra filter only: an
  /// allowed callback is still just a hint.
  std::vector<std::string> allow;
  /// Distinct callbacks remembered for deduplication; the oldest are forgotten first.
  std::size_t remember = 4096;
  /// Hints acted on per second at most; a flood beyond it is refused (the regular polls go on).
  int hints_per_second = 50;
};

/// What became of one callback. Only `hint` leads to a fetch.
enum class callback_verdict : std::uint8_t {
  hint,          ///< the leg is fetched from the provider now; its answer decides
  duplicate,     ///< the same claim about the same leg was already acted on
  too_large,     ///< over max_body_bytes, not read
  not_allowed,   ///< the peer address is not on the allow-list, not read
  unparseable,   ///< not a callback the provider's parser accepts
  unknown_leg,   ///< names no leg of ours at that provider (a security event)
  settled_leg,   ///< the leg is already final: nothing to fetch
  rate_limited,  ///< more hints than hints_per_second
  unknown_provider,
};

std::string_view to_string(callback_verdict verdict) noexcept;

/// Judges provider callbacks before the engine acts on them: size limit, address allow-list,
/// parse, the leg must be ours (by client id and provider, from the journal) and not final,
/// deduplication per (leg, claimed status), a hint rate limit; then executor::hint. Refusals of
/// a forged or unknown callback are reported as "security" events (journaled when the leg is
/// known), at most hints_per_second a second (the rest are counted), never with the body's text
/// beyond a short escaped excerpt. Single-threaded: the engine's thread; the executor must
/// outlive it.
class callback_gate {
 public:
  using clock = std::chrono::steady_clock;

  callback_gate(
      executor& exec, callback_options options,
      std::function<clock::time_point()> now = [] { return clock::now(); });

  /// Registers the parser of `provider`'s callbacks.
  void add_provider(std::string provider, callback_parser parser);

  /// Judges one callback from `remote_address` for `provider`.
  callback_verdict receive(std::string_view provider, std::string_view remote_address,
                           std::string_view body);

  /// Verdicts so far, by kind (for tests and metrics).
  std::size_t count(callback_verdict verdict) const;

 private:
  // Records now in `taken` unless it holds hints_per_second times of the last second already.
  bool take_one_of_the_second(std::deque<clock::time_point>& taken);
  callback_verdict refuse(callback_verdict verdict, std::string_view provider,
                          std::string_view detail, const leg_record* leg = nullptr);

  executor& exec_;
  callback_options options_;
  std::function<clock::time_point()> now_;
  std::map<std::string, callback_parser, std::less<>> parsers_;
  std::set<std::string> seen_;
  std::deque<std::string> seen_order_;
  std::deque<clock::time_point> recent_hints_;
  std::deque<clock::time_point> recent_reports_;  // refusals reported in the last second
  std::size_t unreported_ = 0;
  std::map<callback_verdict, std::size_t> counts_;
};

}  // namespace swaprouter
