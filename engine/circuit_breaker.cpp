#include "engine/circuit_breaker.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace swaprouter {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

constexpr seconds max_retry_after_value{1'000'000'000};

constexpr std::array<std::string_view, 7> short_days{"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An unsigned number of exactly `min_digits`..`max_digits` digits.
std::optional<int> number(std::string_view s, std::size_t min_digits, std::size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits || !all_digits(s)) return std::nullopt;
  int value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

template <std::size_t n>
bool one_of(std::string_view s, const std::array<std::string_view, n>& names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

std::optional<unsigned> month_number(std::string_view s) {
  const auto it = std::find(months.begin(), months.end(), s);
  if (it == months.end()) return std::nullopt;
  return static_cast<unsigned>(it - months.begin()) + 1;
}

// Splits on runs of spaces; asctime pads single-digit days with a second space.
template <std::size_t n>
std::size_t split(std::string_view s, std::array<std::string_view, n>& out) {
  std::size_t count = 0;
  while (true) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) return count;
    if (count == n) return n + 1;
    const std::size_t end = std::min(s.find(' '), s.size());
    out[count++] = s.substr(0, end);
    s.remove_prefix(end);
  }
}

struct civil_time {
  int year = 0;
  std::optional<unsigned> month;
  std::optional<int> day;
  std::string_view time_of_day;
};

std::optional<system_clock::time_point> to_time_point(const civil_time& t) {
  if (!t.month || !t.day || t.time_of_day.size() != 8 || t.time_of_day[2] != ':' ||
      t.time_of_day[5] != ':') {
    return std::nullopt;
  }
  const std::optional<int> h = number(t.time_of_day.substr(0, 2), 2, 2);
  const std::optional<int> m = number(t.time_of_day.substr(3, 2), 2, 2);
  const std::optional<int> s = number(t.time_of_day.substr(6, 2), 2, 2);
  // 60 is a leap second, which the grammar allows.
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(t.year), std::chrono::month(*t.month),
                                         std::chrono::day(static_cast<unsigned>(*t.day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*h) + std::chrono::minutes(*m) +
         seconds(*s);
}

// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", rfc850-date "Sunday, 06-Nov-94 08:49:37 GMT" and
// asctime-date "Sun Nov  6 08:49:37 1994" (RFC 9110 section 5.6.7).
std::optional<system_clock::time_point> parse_http_date(std::string_view text,
                                                        system_clock::time_point now) {
  std::array<std::string_view, 6> f;
  const std::size_t n = split(text, f);
  if (n == 6) {
    if (f[0].size() != 4 || f[0][3] != ',' || !one_of(f[0].substr(0, 3), short_days) ||
        f[5] != "GMT") {
      return std::nullopt;
    }
    const std::optional<int> year = number(f[3], 4, 4);
    if (!year) return std::nullopt;
    return to_time_point({*year, month_number(f[2]), number(f[1], 2, 2), f[4]});
  }
  if (n == 4) {
    if (f[0].empty() || f[0].back() != ',' || !one_of(f[0].substr(0, f[0].size() - 1), long_days) ||
        f[3] != "GMT" || f[1].size() != 9 || f[1][2] != '-' || f[1][6] != '-') {
      return std::nullopt;
    }
    const std::optional<int> yy = number(f[1].substr(7, 2), 2, 2);
    if (!yy) return std::nullopt;
    // A two-digit year more than 50 years ahead means the most recent past year with those digits.
    const int this_year = static_cast<int>(
        std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
    int year = this_year / 100 * 100 + *yy;
    if (year > this_year + 50) year -= 100;
    return to_time_point(
        {year, month_number(f[1].substr(3, 3)), number(f[1].substr(0, 2), 2, 2), f[2]});
  }
  if (n == 5) {
    if (!one_of(f[0], short_days)) return std::nullopt;
    const std::optional<int> year = number(f[4], 4, 4);
    if (!year) return std::nullopt;
    return to_time_point({*year, month_number(f[1]), number(f[2], 1, 2), f[3]});
  }
  return std::nullopt;
}

}  // namespace

std::optional<seconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (all_digits(value)) {
    std::int64_t delay = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), delay);
    // Out of range for 64 bits is still a valid, very long delay.
    if (ec == std::errc::result_out_of_range) return max_retry_after_value;
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return std::min(seconds(delay), max_retry_after_value);
  }
  const std::optional<system_clock::time_point> when = parse_http_date(value, now);
  if (!when) return std::nullopt;
  if (*when <= now) return seconds(0);
  // Round up: coming back a fraction of a second early would earn another 429.
  return std::min(std::chrono::ceil<seconds>(*when - now), max_retry_after_value);
}

std::string_view to_string(circuit_state state) noexcept {
  switch (state) {
    case circuit_state::closed:
      return "closed";
    case circuit_state::open:
      return "open";
    case circuit_state::half_open:
      return "half_open";
  }
  return "closed";
}

circuit_breaker::circuit_breaker(circuit_breaker_config config)
    : config_(config), open_duration_(config.open_duration) {
  const clock::duration zero = clock::duration::zero();
  if (config.failure_threshold < 1 || config.open_duration <= zero ||
      config.max_open_duration < config.open_duration || config.max_retry_after <= zero ||
      config.probe_timeout <= zero) {
    throw std::invalid_argument("circuit_breaker: invalid configuration");
  }
}

bool circuit_breaker::allow(clock::time_point now) {
  switch (state_) {
    case circuit_state::closed:
      return true;
    case circuit_state::open:
      if (now < open_until_) return false;
      state_ = circuit_state::half_open;
      probe_sent_ = now;
      return true;
    case circuit_state::half_open:
      if (now - probe_sent_ < config_.probe_timeout) return false;
      probe_sent_ = now;
      return true;
  }
  return false;
}

void circuit_breaker::record_success(clock::time_point /*now*/) {
  switch (state_) {
    case circuit_state::closed:
      failures_ = 0;
      break;
    case circuit_state::half_open:
      state_ = circuit_state::closed;
      failures_ = 0;
      open_duration_ = config_.open_duration;
      break;
    case circuit_state::open:
      // A request sent before the circuit opened says nothing about the host now.
      break;
  }
}

void circuit_breaker::record_failure(clock::time_point now) {
  switch (state_) {
    case circuit_state::closed:
      if (++failures_ >= config_.failure_threshold) open_for(now, open_duration_);
      break;
    case circuit_state::half_open:
      reopen_after_probe(now, std::nullopt);
      break;
    case circuit_state::open:
      break;
  }
}

void circuit_breaker::record_rate_limited(clock::time_point now,
                                          std::optional<clock::duration> retry_after) {
  ++rate_limited_;
  switch (state_) {
    case circuit_state::closed:
      open_for(now, retry_after ? clamp_retry_after(*retry_after) : open_duration_);
      break;
    case circuit_state::half_open:
      reopen_after_probe(now, retry_after);
      break;
    case circuit_state::open:
      // A late 429 may ask for a longer wait than the one we are in; never shorten it.
      open_until_ = std::max(
          open_until_, now + (retry_after ? clamp_retry_after(*retry_after) : open_duration_));
      break;
  }
}

std::optional<circuit_breaker::clock::time_point> circuit_breaker::open_until() const noexcept {
  if (state_ != circuit_state::open) return std::nullopt;
  return open_until_;
}

void circuit_breaker::open_for(clock::time_point now, clock::duration period) {
  state_ = circuit_state::open;
  failures_ = 0;
  open_until_ = now + period;
}

void circuit_breaker::reopen_after_probe(clock::time_point now,
                                         std::optional<clock::duration> retry_after) {
  // Compared before doubling so a very large ceiling cannot overflow the product.
  open_duration_ = open_duration_ > config_.max_open_duration / 2 ? config_.max_open_duration
                                                                  : open_duration_ * 2;
  open_for(now, retry_after ? clamp_retry_after(*retry_after) : open_duration_);
}

circuit_breaker::clock::duration circuit_breaker::clamp_retry_after(
    clock::duration retry_after) const noexcept {
  return std::clamp(retry_after, clock::duration::zero(), config_.max_retry_after);
}

}  // namespace swaprouter
