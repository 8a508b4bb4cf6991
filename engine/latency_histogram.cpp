#include "engine/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace swaprouter {

latency_histogram::latency_histogram(int significant_digits, std::int64_t highest_trackable_ns)
    : digits_(significant_digits), highest_trackable_(highest_trackable_ns) {
  if (significant_digits < 1 || significant_digits > 4) {
    throw std::invalid_argument("latency_histogram: significant digits must be 1..4");
  }
  // 2 x 10^d sub-buckets: half of them cover each power-of-two range above the first, so the
  // resolution there is 1 / (10^d) of the range's lowest value or better.
  std::size_t wanted = 2;
  for (int i = 0; i < significant_digits; ++i) wanted *= 10;
  sub_bucket_count_ = std::bit_ceil(wanted);
  sub_bucket_half_ = sub_bucket_count_ / 2;
  sub_bucket_half_magnitude_ = std::countr_zero(sub_bucket_half_);
  sub_bucket_mask_ = static_cast<std::int64_t>(sub_bucket_count_) - 1;
  if (highest_trackable_ns < 2 * static_cast<std::int64_t>(sub_bucket_count_)) {
    throw std::invalid_argument("latency_histogram: highest trackable value too small");
  }
  counts_.assign(index_of(highest_trackable_ns) + 1, 0);
}

int latency_histogram::bucket_of(std::int64_t ns) const noexcept {
  const auto bits = static_cast<std::uint64_t>(ns | sub_bucket_mask_);
  return 63 - std::countl_zero(bits) - sub_bucket_half_magnitude_;
}

std::size_t latency_histogram::index_of(std::int64_t ns) const noexcept {
  const int bucket = bucket_of(ns);
  const auto sub = static_cast<std::size_t>(ns >> bucket);
  // Bucket 0 spans every sub-bucket; each later bucket only its upper half (the lower half is
  // the previous bucket at twice the resolution).
  return (static_cast<std::size_t>(bucket + 1) << sub_bucket_half_magnitude_) + sub -
         sub_bucket_half_;
}

std::int64_t latency_histogram::value_at_index(std::size_t index) const noexcept {
  if (index < sub_bucket_count_) return static_cast<std::int64_t>(index);
  const int bucket = static_cast<int>(index >> sub_bucket_half_magnitude_) - 1;
  const std::size_t sub = (index & (sub_bucket_half_ - 1)) + sub_bucket_half_;
  return static_cast<std::int64_t>(sub) << bucket;
}

std::int64_t latency_histogram::lowest_equivalent(std::int64_t ns) const noexcept {
  ns = std::clamp<std::int64_t>(ns, 0, highest_trackable_);
  return value_at_index(index_of(ns));
}

std::int64_t latency_histogram::highest_equivalent(std::int64_t ns) const noexcept {
  ns = std::clamp<std::int64_t>(ns, 0, highest_trackable_);
  return lowest_equivalent(ns) + (std::int64_t{1} << bucket_of(ns)) - 1;
}

void latency_histogram::record(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  ++counts_[index_of(std::min(ns, highest_trackable_))];
  if (total_ == 0 || ns < min_) min_ = ns;
  if (total_ == 0 || ns > max_) max_ = ns;
  ++total_;
  sum_ += static_cast<long double>(ns);
}

void latency_histogram::merge(const latency_histogram& other) {
  if (other.digits_ != digits_ || other.highest_trackable_ != highest_trackable_) {
    throw std::invalid_argument("latency_histogram: merge of histograms with different layouts");
  }
  if (other.total_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = total_ == 0 ? other.max_ : std::max(max_, other.max_);
  total_ += other.total_;
  sum_ += other.sum_;
}

void latency_histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

double latency_histogram::mean() const noexcept {
  return total_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(total_));
}

std::int64_t latency_histogram::percentile(double p) const noexcept {
  if (total_ == 0) return 0;
  if (p >= 100.0) return max_;
  // The 1e-9 keeps 99 % of 1000 at rank 990 although 0.99 x 1000 is not exact in binary.
  const double wanted = std::ceil(std::max(p, 0.0) / 100.0 * static_cast<double>(total_) - 1e-9);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(value_at_index(i)), max_);
  }
  return max_;
}

namespace {

std::chrono::microseconds micros(std::int64_t ns) {
  // Rounded up: a percentile is an upper edge, and a p95 that decides admission must not shrink.
  return std::chrono::microseconds((ns + 999) / 1000);
}

}  // namespace

void recent_latency::record(std::chrono::nanoseconds latency, std::uint64_t window) {
  if (window > 0 && current_.count() >= window) {
    std::swap(previous_, current_);
    current_.reset();
  }
  current_.record(latency);
  summary_.reset();
}

const latency_summary& recent_latency::summary() const {
  if (summary_) return *summary_;
  latency_summary& out = summary_.emplace();
  if (current_.count() + previous_.count() == 0) return out;
  latency_histogram both = current_;
  both.merge(previous_);
  out.count = both.count();
  out.p50 = micros(both.percentile(50));
  out.p95 = micros(both.percentile(95));
  out.p99 = micros(both.percentile(99));
  out.max = micros(both.max());
  return out;
}

}  // namespace swaprouter
