#include "engine/clock_offset.hpp"

#include <algorithm>
#include <stdexcept>

namespace swaprouter {

clock_offset_estimator::clock_offset_estimator(clock_offset_config config) : config_(config) {
  if (config.window == 0 || config.max_rtt <= steady::duration::zero()) {
    throw std::invalid_argument("clock_offset_estimator: invalid configuration");
  }
  samples_.reserve(config.window);
  scratch_.reserve(config.window);
}

bool clock_offset_estimator::add_sample(steady::time_point send_steady,
                                        steady::time_point receive_steady,
                                        wall::time_point send_wall, wall::time_point server_time) {
  const steady::duration rtt = receive_steady - send_steady;
  if (rtt < steady::duration::zero() || rtt > config_.max_rtt) return false;

  const wall::duration offset =
      server_time - (send_wall + std::chrono::duration_cast<wall::duration>(rtt / 2));
  if (samples_.size() < config_.window) {
    samples_.push_back(offset);
  } else {
    samples_[next_] = offset;
    next_ = (next_ + 1) % config_.window;
  }

  std::vector<wall::duration>& sorted = scratch_;
  sorted.assign(samples_.begin(), samples_.end());
  const std::size_t mid = sorted.size() / 2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid), sorted.end());
  wall::duration median = sorted[mid];
  if (sorted.size() % 2 == 0) {
    // Even count: the midpoint of the two middle values, written to avoid overflowing a sum.
    const wall::duration lower =
        *std::max_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(mid));
    median = lower + (median - lower) / 2;
  }
  median_ = median;
  return true;
}

std::optional<std::chrono::milliseconds> clock_offset_estimator::offset() const noexcept {
  if (!median_) return std::nullopt;
  return std::chrono::round<std::chrono::milliseconds>(*median_);
}

clock_offset_estimator::wall::time_point clock_offset_estimator::provider_now(
    wall::time_point our_now) const noexcept {
  return our_now + median_.value_or(wall::duration::zero());
}

void clock_offset_estimator::clear() noexcept {
  samples_.clear();
  next_ = 0;
  median_.reset();
}

}  // namespace swaprouter
