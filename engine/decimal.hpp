// Exact fixed-point decimal for money: every amount, rate and fee in swaprouter.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.hpp"

namespace swaprouter {

__extension__ using int128 = __int128;

namespace detail {
/// 10^0 .. 10^19, every power of ten below 2^64: the one table of decimal, its parsing and its
/// users' precisions.
inline constexpr std::array<std::uint64_t, 20> pow10 = [] {
  std::array<std::uint64_t, 20> out{};
  std::uint64_t power = 1;
  for (auto& one : out) {
    one = power;
    power *= 10;
  }
  return out;
}();
}  // namespace detail

/// How a value that does not fit the target precision is rounded. Every rounding is explicit.
enum class rounding : std::uint8_t {
  down,       ///< toward zero (what we spend, what we expect to receive)
  up,         ///< away from zero
  half_even,  ///< to nearest, ties to even
};

/// A signed fixed-point decimal: a 128-bit mantissa scaled by 10^18, so 18 fractional digits and
/// magnitudes up to about 1.7 * 10^20. Products and quotients use 256-bit intermediates and take an
/// explicit rounding; overflow is an error value, never a wrap. A value type, safe to copy between
/// threads; no operation allocates except formatting.
class decimal {
 public:
  static constexpr int scale = 18;

  constexpr decimal() = default;

  /// The value raw / 10^18.
  static constexpr decimal from_raw(int128 raw) noexcept { return decimal(raw); }
  static decimal from_int(std::int64_t whole) noexcept;
  /// One unit of the `places`-th fractional digit (10^-places), the step of a precision. As
  /// round(), it ends the process on `places` outside 0..18 (callers check provider precisions).
  static constexpr decimal unit(int places) noexcept {
    if (places < 0 || places > scale) std::abort();
    return from_raw(detail::pow10[static_cast<std::size_t>(scale - places)]);
  }

  /// Parses the forms providers send: "0.00003390", "29485.25", "1", "-3.5", "+2", ".5", "1e-8",
  /// "2.5E+3" (a JSON number read as text is the same). Digits beyond 18 places are rounded by
  /// `excess` when given and rejected otherwise. Malformed or out-of-range text is an error of kind
  /// invalid_argument whose message names the text.
  static result<decimal> parse(std::string_view text,
                               std::optional<rounding> excess = std::nullopt);
  /// parse's value for the usual provider text, a sign, digits and at most one '.' ("29485.25",
  /// "-3.5", "7", ".5"), up to 19 digits and 18 places, so nothing rounds; none for any other
  /// text, valid or not, which parse then reads. Inline: the parsers' amounts cost no call.
  static std::optional<decimal> parse_plain(std::string_view text) noexcept {
    const char* p = text.data();
    const char* const end = p + text.size();
    const bool negative = p != end && *p == '-';
    if (p != end && (*p == '+' || *p == '-')) ++p;
    // Digits beyond 19 may wrap `digits`, but such text is refused below.
    std::uint64_t digits = 0;
    const auto read = [&] {
      const char* const begin = p;
      for (; p != end && static_cast<unsigned char>(*p - '0') <= 9; ++p) {
        digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
      }
      return p - begin;
    };
    std::ptrdiff_t count = read();
    std::ptrdiff_t places = 0;
    if (p != end && *p == '.') {
      ++p;
      places = read();
      count += places;
    }
    if (p != end || count == 0 || count > 19 || places > scale) return std::nullopt;
    // < 10^19 * 10^18: within the range.
    const int128 magnitude =
        static_cast<int128>(digits) * detail::pow10[static_cast<std::size_t>(scale - places)];
    return from_raw(negative ? -magnitude : magnitude);
  }

  constexpr int128 raw() const noexcept { return raw_; }

  /// Shortest exact form, no exponent, no trailing fractional zeros: "0.0000339", "29485.25", "1".
  std::string to_string() const;
  /// Exactly `places` fractional digits (0..18), rounded by `mode`: to_string(2) of 1.005 is
  /// "1.00". A `places` outside 0..18 is a programming error: std::invalid_argument.
  std::string to_string(int places, rounding mode = rounding::down) const;

  /// Rounded to `places` fractional digits (0..18), e.g. a provider's precision. Being noexcept,
  /// it ends the process on what it cannot report (places outside 0..18, or rounding up within
  /// one unit of the range limit); checked_round reports those as errors.
  decimal round(int places, rounding mode) const noexcept;
  /// As round(), with a bad `places` or a result beyond the range as an error.
  result<decimal> checked_round(int places, rounding mode) const;
  /// Rounded to a multiple of `increment` (> 0), e.g. 0.0001; an error when increment <= 0.
  result<decimal> round_to_increment(decimal increment, rounding mode) const;

  /// this * other, rounded to 18 places by `mode`; overflow is an error.
  result<decimal> mul(decimal other, rounding mode) const;
  /// this / other, rounded by `mode`; division by zero and overflow are errors.
  result<decimal> div(decimal other, rounding mode) const;
  /// this * num / den with a single rounding (256-bit intermediate): rate proportions.
  result<decimal> mul_div(decimal num, decimal den, rounding mode) const;

  /// mul, div, mul_div, checked_round and round_to_increment with every failure (overflow,
  /// division by zero, places outside 0..18, an increment <= 0) as none: the same values, without
  /// an error to build or destroy, for callers that only ask whether it worked (pricing, the
  /// planner's inner loops).
  std::optional<decimal> try_mul(decimal other, rounding mode) const noexcept;
  std::optional<decimal> try_div(decimal other, rounding mode) const noexcept;
  std::optional<decimal> try_mul_div(decimal num, decimal den, rounding mode) const noexcept;
  std::optional<decimal> try_round(int places, rounding mode) const noexcept;
  std::optional<decimal> try_round_to_increment(decimal increment, rounding mode) const noexcept;

  /// Checked addition and subtraction; the operators below treat overflow as a broken invariant.
  result<decimal> checked_add(decimal other) const;
  result<decimal> checked_sub(decimal other) const;
  /// checked_add and checked_sub with an overflow as none.
  std::optional<decimal> try_add(decimal other) const noexcept {
    int128 sum = 0;
    if (__builtin_add_overflow(raw_, other.raw_, &sum) || sum == min_raw) return std::nullopt;
    return decimal(sum);
  }
  std::optional<decimal> try_sub(decimal other) const noexcept {
    int128 difference = 0;
    if (__builtin_sub_overflow(raw_, other.raw_, &difference) || difference == min_raw) {
      return std::nullopt;
    }
    return decimal(difference);
  }

  decimal operator-() const;
  // Inline: the planner's inner loops add and subtract in every step (always: left to itself
  // the compiler kept a call per addition in the planner's subset search).
  [[gnu::always_inline]] friend decimal operator+(decimal a, decimal b) {
    int128 sum = 0;
    if (__builtin_add_overflow(a.raw_, b.raw_, &sum) || sum == min_raw) a.throw_overflow(b, '+');
    return decimal(sum);
  }
  [[gnu::always_inline]] friend decimal operator-(decimal a, decimal b) {
    int128 difference = 0;
    if (__builtin_sub_overflow(a.raw_, b.raw_, &difference) || difference == min_raw) {
      a.throw_overflow(b, '-');
    }
    return decimal(difference);
  }
  // The compound ones too: a call per `total += ...` came back in the planner's segment models.
  [[gnu::always_inline]] decimal& operator+=(decimal other) { return *this = *this + other; }
  [[gnu::always_inline]] decimal& operator-=(decimal other) { return *this = *this - other; }

  friend constexpr bool operator==(decimal, decimal) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(decimal a, decimal b) noexcept {
    return a.raw_ <=> b.raw_;
  }

  constexpr bool is_zero() const noexcept { return raw_ == 0; }
  constexpr bool is_negative() const noexcept { return raw_ < 0; }
  constexpr bool is_positive() const noexcept { return raw_ > 0; }
  decimal abs() const;

 private:
  // -2^127: the one raw value outside the symmetric range.
  static constexpr int128 min_raw = -((int128{1} << 126) - 1 + (int128{1} << 126)) - 1;
  constexpr explicit decimal(int128 raw) noexcept : raw_(raw) {}
  // Throws std::overflow_error with checked_add's or checked_sub's message.
  [[noreturn]] void throw_overflow(decimal other, char op) const;
  int128 raw_ = 0;
};

}  // namespace swaprouter
