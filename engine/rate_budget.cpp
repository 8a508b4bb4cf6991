#include "engine/rate_budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <utility>

namespace swaprouter {

namespace {

using std::chrono::nanoseconds;

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) noexcept {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// Consumes leading decimal digits; nullopt when there are none or they overflow.
std::optional<std::int64_t> take_number(std::string_view& s) noexcept {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return value;
}

std::optional<nanoseconds> unit_length(std::string_view unit) noexcept {
  struct entry {
    std::string_view name;
    nanoseconds length;
  };
  static constexpr std::array<entry, 18> units{{
      {"ms", std::chrono::milliseconds(1)},
      {"s", std::chrono::seconds(1)},
      {"sec", std::chrono::seconds(1)},
      {"secs", std::chrono::seconds(1)},
      {"second", std::chrono::seconds(1)},
      {"seconds", std::chrono::seconds(1)},
      {"m", std::chrono::minutes(1)},
      {"min", std::chrono::minutes(1)},
      {"mins", std::chrono::minutes(1)},
      {"minute", std::chrono::minutes(1)},
      {"minutes", std::chrono::minutes(1)},
      {"h", std::chrono::hours(1)},
      {"hr", std::chrono::hours(1)},
      {"hour", std::chrono::hours(1)},
      {"hours", std::chrono::hours(1)},
      {"d", std::chrono::hours(24)},
      {"day", std::chrono::hours(24)},
      {"days", std::chrono::hours(24)},
  }};
  for (const entry& e : units) {
    if (iequals(unit, e.name)) return e.length;
  }
  return std::nullopt;
}

// The bucket's capacity in units (tokens times period nanoseconds) must fit in 64 bits.
bool bucket_fits(std::int64_t capacity, rate_limit refill) noexcept {
  std::int64_t product = 0;
  return capacity >= 1 && refill.count >= 1 && refill.period.count() > 0 &&
         !__builtin_mul_overflow(capacity, refill.period.count(), &product);
}

}  // namespace

result<rate_limit> parse_rate_limit(std::string_view text) {
  const auto bad = [text](std::string_view why) {
    return fail(error_kind::invalid_argument, fmt::format("rate limit \"{}\": {}", text, why));
  };
  std::string_view rest = trim(text);
  const std::optional<std::int64_t> count = take_number(rest);
  if (!count) return bad("expected a request count");
  if (*count < 1) return bad("the count must be at least 1");

  rest = trim_left(rest);
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
  } else if (rest.size() >= 3 && iequals(rest.substr(0, 3), "per")) {
    rest.remove_prefix(3);
  } else {
    return bad(R"(expected "per" or "/" after the count)");
  }

  rest = trim_left(rest);
  std::int64_t multiple = 1;
  if (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
    const std::optional<std::int64_t> n = take_number(rest);
    if (!n) return bad("the period is out of range");
    if (*n < 1) return bad("the period must be positive");
    multiple = *n;
  }

  const std::optional<nanoseconds> unit = unit_length(trim(rest));
  if (!unit) return bad("unknown time unit");
  std::int64_t period_ns = 0;
  if (__builtin_mul_overflow(multiple, unit->count(), &period_ns)) {
    return bad("the period is out of range");
  }
  const rate_limit limit{.count = *count, .period = nanoseconds(period_ns)};
  if (!bucket_fits(limit.count, limit)) return bad("count times period is out of range");
  return limit;
}

token_bucket::token_bucket(std::int64_t capacity, rate_limit refill)
    : capacity_(capacity), refill_(refill) {
  if (!bucket_fits(capacity, refill)) {
    throw std::invalid_argument("token_bucket: capacity, refill count or period out of range");
  }
  unit_per_token_ = refill.period.count();
  capacity_units_ = capacity * unit_per_token_;
  level_ = capacity_units_;
}

std::int64_t token_bucket::level_at(clock::time_point now) const {
  if (!started_) return capacity_units_;
  const std::int64_t elapsed = std::chrono::duration_cast<nanoseconds>(now - last_).count();
  if (elapsed <= 0) return level_;
  const std::int64_t missing = capacity_units_ - level_;
  // Compare before multiplying: a long idle period would overflow elapsed * count.
  if (elapsed > missing / refill_.count) return capacity_units_;
  return std::min(capacity_units_, level_ + elapsed * refill_.count);
}

std::int64_t token_bucket::needed_units(std::int64_t reserve) const {
  reserve = std::max<std::int64_t>(reserve, 0);
  if (reserve >= capacity_) return -1;
  return (reserve + 1) * unit_per_token_;
}

bool token_bucket::try_take(clock::time_point now, std::int64_t reserve) {
  level_ = level_at(now);
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  const std::int64_t needed = needed_units(reserve);
  if (needed < 0 || level_ < needed) return false;
  level_ -= unit_per_token_;
  return true;
}

token_bucket::clock::duration token_bucket::time_until_available(clock::time_point now,
                                                                 std::int64_t reserve) const {
  const std::int64_t needed = needed_units(reserve);
  if (needed < 0) return clock::duration::max();
  const std::int64_t level = level_at(now);
  if (level >= needed) return clock::duration::zero();
  const std::int64_t deficit = needed - level;
  // Round up: returning a moment too early would make the caller's retry fail.
  const std::int64_t wait_ns = deficit / refill_.count + (deficit % refill_.count != 0 ? 1 : 0);
  return std::chrono::duration_cast<clock::duration>(nanoseconds(wait_ns));
}

std::int64_t token_bucket::available(clock::time_point now) const {
  return level_at(now) / unit_per_token_;
}

result<void> rate_budget::configure(std::string endpoint, std::string_view limit_text) {
  result<rate_limit> limit = parse_rate_limit(limit_text);
  if (!limit) return std::unexpected(std::move(limit.error()));
  set(std::move(endpoint), token_bucket(*limit));
  return {};
}

void rate_budget::set(std::string endpoint, token_bucket bucket) {
  buckets_.insert_or_assign(std::move(endpoint), bucket);
}

bool rate_budget::contains(std::string_view endpoint) const {
  return buckets_.find(endpoint) != buckets_.end();
}

token_bucket* rate_budget::find(std::string_view endpoint) {
  const auto it = buckets_.find(endpoint);
  return it == buckets_.end() ? nullptr : &it->second;
}

const token_bucket* rate_budget::find(std::string_view endpoint) const {
  const auto it = buckets_.find(endpoint);
  return it == buckets_.end() ? nullptr : &it->second;
}

bool rate_budget::try_take(std::string_view endpoint, clock::time_point now, std::int64_t reserve) {
  token_bucket* bucket = find(endpoint);
  return bucket == nullptr || bucket->try_take(now, reserve);
}

rate_budget::clock::duration rate_budget::time_until_available(std::string_view endpoint,
                                                               clock::time_point now,
                                                               std::int64_t reserve) const {
  const token_bucket* bucket = find(endpoint);
  return bucket == nullptr ? clock::duration::zero() : bucket->time_until_available(now, reserve);
}

}  // namespace swaprouter
