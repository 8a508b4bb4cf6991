// Estimates how far a provider's clock is from ours, so quote validity and request timestamps are
// judged on the provider's clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace swaprouter {

struct clock_offset_config {
  /// How many recent samples the estimate uses (>= 1).
  std::size_t window = 15;
  /// Samples whose round trip is longer are discarded (> 0). A sample's error is bounded by half
  /// its round trip (the server stamped its time somewhere between our send and our receive), and
  /// long round trips are the ones most likely to be asymmetric, so such a sample could only pull
  /// the estimate by more than the bound we are willing to accept.
  std::chrono::steady_clock::duration max_rtt = std::chrono::seconds(2);
};

/// Estimates one provider's clock offset (provider time minus our wall-clock time) from
/// request/response pairs. For each sample the round trip is measured on the steady clock (immune
/// to wall-clock steps) and the server is assumed to have stamped its time halfway through it:
/// offset = server_time - (send_wall + rtt / 2). The estimate is the median of the last `window`
/// accepted samples, which ignores a minority of outliers (a stale cached Date header, one
/// strongly asymmetric route) that a mean would follow. After a step of our own wall clock the
/// estimate follows once new samples form the majority of the window.
///
/// Not thread-safe: use from one thread (the engine's io_context).
class clock_offset_estimator {
 public:
  using steady = std::chrono::steady_clock;
  using wall = std::chrono::system_clock;

  /// Throws std::invalid_argument when window is 0 or max_rtt is not positive.
  explicit clock_offset_estimator(clock_offset_config config = {});

  /// Adds one exchange: when we sent and received (steady clock), our wall-clock time at send,
  /// and the time the provider reported. Returns false, keeping nothing, when the round trip is
  /// negative or longer than max_rtt.
  bool add_sample(steady::time_point send_steady, steady::time_point receive_steady,
                  wall::time_point send_wall, wall::time_point server_time);

  /// Provider time minus ours, rounded to the nearest millisecond; nullopt before any sample.
  std::optional<std::chrono::milliseconds> offset() const noexcept;
  /// The provider's clock at our wall-clock time `our_now`; `our_now` itself before any sample.
  wall::time_point provider_now(wall::time_point our_now) const noexcept;

  /// Samples currently in the window.
  std::size_t size() const noexcept { return samples_.size(); }
  void clear() noexcept;

 private:
  clock_offset_config config_;
  std::vector<wall::duration> samples_;  // ring buffer of offsets, oldest at next_ once full
  std::size_t next_ = 0;
  std::vector<wall::duration> scratch_;   // reused for the median, so adding never allocates
  std::optional<wall::duration> median_;  // recomputed on every accepted sample
};

}  // namespace swaprouter
