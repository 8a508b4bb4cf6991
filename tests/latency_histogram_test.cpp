#include "engine/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace swaprouter {
namespace {

// The sample a percentile means: rank ceil(p/100 x n), at least 1, in the sorted values.
std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(latency_histogram, two_digits_use_256_sub_buckets_and_under_one_percent_error) {
  const latency_histogram h(2);
  EXPECT_EQ(h.sub_bucket_count(), 256u);
  EXPECT_LT(h.max_relative_error(), 0.01);
  EXPECT_EQ(latency_histogram(3).sub_bucket_count(), 2048u);
}

TEST(latency_histogram, exact_bucket_boundaries) {
  const latency_histogram h(2);
  // Below the sub-bucket count every value has its own bucket.
  for (std::int64_t v : {0, 1, 2, 127, 128, 255}) {
    EXPECT_EQ(h.lowest_equivalent(v), v);
    EXPECT_EQ(h.highest_equivalent(v), v);
  }
  // [256, 512): buckets of 2.
  EXPECT_EQ(h.lowest_equivalent(256), 256);
  EXPECT_EQ(h.highest_equivalent(256), 257);
  EXPECT_EQ(h.lowest_equivalent(257), 256);
  EXPECT_EQ(h.lowest_equivalent(258), 258);
  EXPECT_EQ(h.highest_equivalent(511), 511);
  EXPECT_EQ(h.lowest_equivalent(511), 510);
  // [512, 1024): buckets of 4.
  EXPECT_EQ(h.lowest_equivalent(512), 512);
  EXPECT_EQ(h.highest_equivalent(512), 515);
  EXPECT_EQ(h.lowest_equivalent(1023), 1020);
  // 20 ms = 20,000,000 ns lies in [2^24, 2^25): buckets of 2^17 = 131072 ns.
  EXPECT_EQ(h.lowest_equivalent(20'000'000), 19'922'944);
  EXPECT_EQ(h.highest_equivalent(20'000'000), 19'922'944 + 131'071);
}

TEST(latency_histogram, every_bucket_is_within_the_relative_error) {
  const latency_histogram h(2);
  for (std::int64_t v = 1; v < (std::int64_t{1} << 40); v = v * 3 / 2 + 1) {
    const auto low = h.lowest_equivalent(v);
    const auto high = h.highest_equivalent(v);
    ASSERT_LE(low, v);
    ASSERT_GE(high, v);
    ASSERT_LE(static_cast<double>(high - low), h.max_relative_error() * static_cast<double>(low))
        << v;
  }
}

TEST(latency_histogram, empty_reports_zero) {
  const latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(latency_histogram, count_mean_min_max_are_exact) {
  latency_histogram h;
  for (std::int64_t v : {1'000, 2'000, 3'000, 20'000'001}) h.record(v);
  h.record(-5);  // counts as 0
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 20'000'001);
  EXPECT_DOUBLE_EQ(h.mean(), (1'000 + 2'000 + 3'000 + 20'000'001) / 5.0);
  EXPECT_EQ(h.percentile(100), 20'000'001);
  EXPECT_EQ(h.percentile(0), 0);
}

TEST(latency_histogram, percentiles_within_the_bound_of_sorted_raw_samples) {
  std::mt19937_64 rng(20251121);
  // Latency-like: a lognormal body around 20 ms with a heavy tail, plus some small values.
  std::lognormal_distribution<double> body(std::log(20e6), 0.4);
  std::uniform_int_distribution<std::int64_t> small(0, 5000);
  for (int round = 0; round < 5; ++round) {
    latency_histogram h;
    std::vector<std::int64_t> raw;
    const int n = 1000 + round * 7919;
    for (int i = 0; i < n; ++i) {
      const std::int64_t v = i % 10 == 0 ? small(rng) : static_cast<std::int64_t>(body(rng));
      raw.push_back(v);
      h.record(v);
    }
    std::sort(raw.begin(), raw.end());
    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
      const auto exact = exact_percentile(raw, p);
      const auto got = h.percentile(p);
      EXPECT_GE(got, exact) << "p" << p;
      EXPECT_LE(static_cast<double>(got - exact),
                h.max_relative_error() * static_cast<double>(std::max<std::int64_t>(exact, 1)))
          << "p" << p << " exact " << exact << " got " << got;
    }
  }
}

TEST(latency_histogram, values_above_the_highest_trackable_are_counted) {
  latency_histogram h(2, 1'000'000);
  h.record(5'000'000);
  h.record(10);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.max(), 5'000'000);
  EXPECT_EQ(h.percentile(100), 5'000'000);
  EXPECT_EQ(h.percentile(50), 10);
}

TEST(latency_histogram, merge_equals_recording_everything_in_one) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> dist(0, 200'000'000);
  latency_histogram a;
  latency_histogram b;
  latency_histogram both;
  for (int i = 0; i < 5000; ++i) {
    const auto v = dist(rng);
    (i % 3 == 0 ? a : b).record(v);
    both.record(v);
  }
  latency_histogram merged;
  merged.merge(a);
  merged.merge(b);
  EXPECT_EQ(merged.count(), both.count());
  EXPECT_EQ(merged.min(), both.min());
  EXPECT_EQ(merged.max(), both.max());
  EXPECT_NEAR(merged.mean(), both.mean(), 1e-6 * both.mean());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(merged.percentile(p), both.percentile(p));
  EXPECT_THROW(merged.merge(latency_histogram(3)), std::invalid_argument);
  merged.reset();
  EXPECT_EQ(merged.count(), 0u);
}

TEST(latency_histogram, rejects_bad_layouts) {
  EXPECT_THROW(latency_histogram(0), std::invalid_argument);
  EXPECT_THROW(latency_histogram(5), std::invalid_argument);
  EXPECT_THROW(latency_histogram(2, 100), std::invalid_argument);
}

}  // namespace
}  // namespace swaprouter
