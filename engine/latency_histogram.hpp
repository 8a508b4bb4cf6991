// A log-linear latency histogram with bounded relative error, in the manner of HdrHistogram.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace swaprouter {

/// Latencies in nanoseconds, counted in log-linear buckets: every power-of-two range is split into
/// the same number of linear sub-buckets (at least 2 x 10^significant_digits), so any recorded
/// value is known to within 1 / (sub-buckets / 2) of itself (2 digits: 1/128, under 0.8 %).
/// Values below the sub-bucket count are exact. Recording is O(1) and allocation-free; the memory
/// is fixed by the highest trackable value (2 digits up to an hour: about 37 KB). Values above it
/// are counted in the last bucket (max() stays exact). Not thread-safe: one histogram per thread,
/// then merge().
class latency_histogram {
 public:
  /// `significant_digits` 1..4; `highest_trackable_ns` >= 2 x the sub-bucket count. Throws
  /// std::invalid_argument otherwise.
  explicit latency_histogram(int significant_digits = 2,
                             std::int64_t highest_trackable_ns = std::int64_t{3600} *
                                                                 1'000'000'000);

  /// Counts one value; negative values count as 0.
  void record(std::int64_t ns) noexcept;
  void record(std::chrono::nanoseconds value) noexcept { record(value.count()); }
  /// Adds every count of `other`; throws std::invalid_argument when its layout differs.
  void merge(const latency_histogram& other);
  void reset() noexcept;

  std::uint64_t count() const noexcept { return total_; }
  /// Exact mean of the recorded values (0 when empty).
  double mean() const noexcept;
  /// Exact smallest and largest recorded values (0 when empty).
  std::int64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  std::int64_t max() const noexcept { return total_ == 0 ? 0 : max_; }

  /// The value at percentile `p` (0..100): the highest value equivalent to the sample of rank
  /// ceil(p / 100 x count) (at least 1), capped at max(); so it is never below that sample and at
  /// most max_relative_error() above it. percentile(100) is max(); 0 when empty.
  std::int64_t percentile(double p) const noexcept;

  /// Bound on |reported - true| / true for percentile().
  double max_relative_error() const noexcept { return 1.0 / static_cast<double>(sub_bucket_half_); }
  /// The smallest and largest values counted in the same bucket as `ns`.
  std::int64_t lowest_equivalent(std::int64_t ns) const noexcept;
  std::int64_t highest_equivalent(std::int64_t ns) const noexcept;
  std::size_t sub_bucket_count() const noexcept { return sub_bucket_count_; }
  std::int64_t highest_trackable() const noexcept { return highest_trackable_; }

 private:
  std::size_t index_of(std::int64_t ns) const noexcept;
  std::int64_t value_at_index(std::size_t index) const noexcept;
  int bucket_of(std::int64_t ns) const noexcept;

  int digits_;
  std::int64_t highest_trackable_;
  std::size_t sub_bucket_count_;   // a power of two
  std::size_t sub_bucket_half_;    // sub_bucket_count_ / 2
  int sub_bucket_half_magnitude_;  // log2(sub_bucket_half_)
  std::int64_t sub_bucket_mask_;   // sub_bucket_count_ - 1
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  // Exact sum for mean(): long double keeps 64 bits of mantissa, enough for any bounded run.
  long double sum_ = 0;
};

/// Percentiles of recent latencies (upper bucket edges, within 0.8 % of the samples; see
/// latency_histogram), in microseconds rounded up; all zero before the first sample.
struct latency_summary {
  std::uint64_t count = 0;
  std::chrono::microseconds p50{0};
  std::chrono::microseconds p95{0};
  std::chrono::microseconds p99{0};
  std::chrono::microseconds max{0};
};

/// Percentiles over the last `window` to 2 x `window` samples: two histograms (2 digits, up to
/// 600 s), the older dropped when the newer fills. Window 0 keeps every sample.
class recent_latency {
 public:
  void record(std::chrono::nanoseconds latency, std::uint64_t window);
  /// Computed again only after a new sample: the planner asks for it on every quote.
  const latency_summary& summary() const;

 private:
  latency_histogram current_{2, std::int64_t{600} * 1'000'000'000};
  latency_histogram previous_{2, std::int64_t{600} * 1'000'000'000};
  mutable std::optional<latency_summary> summary_;
};

}  // namespace swaprouter
