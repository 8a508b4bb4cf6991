#include "engine/decimal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstddef>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

namespace swaprouter {
namespace {

using u64 = std::uint64_t;
__extension__ using u128 = unsigned __int128;

// The raw value of 1.
constexpr u64 one = 1'000'000'000'000'000'000ULL;

// The range is symmetric, [-(2^127 - 1), 2^127 - 1] in raw units, so that negation and abs of any
// result are exact. Only from_raw can make -2^127; operations accept it as an operand.
constexpr u128 max_magnitude = (u128{1} << 127) - 1;

// Beyond any exponent a real amount needs; rejecting it keeps hostile text from reaching the
// digit arithmetic with absurd scales.
constexpr std::int64_t max_exponent = 1000;

// 10^0 .. 10^38, every power of ten below 2^128.
constexpr std::array<u128, 39> pow10_128 = [] {
  std::array<u128, 39> p{};
  p[0] = 1;
  for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}();

// value = value * scale + addend; false on overflow.
bool multiply_add(u128& value, u128 scale, u64 addend) {
  u128 scaled = 0;
  if (__builtin_mul_overflow(value, scale, &scaled)) return false;
  return !__builtin_add_overflow(scaled, u128{addend}, &value);
}

constexpr u64 lo64(u128 v) { return static_cast<u64>(v); }
constexpr u64 hi64(u128 v) { return static_cast<u64>(v >> 64); }
constexpr u128 join(u64 hi, u64 lo) { return (u128{hi} << 64) | lo; }

// Two's complement magnitude: correct for the most negative value too.
constexpr u128 magnitude(int128 v) { return v < 0 ? u128{0} - static_cast<u128>(v) : u128(v); }

// A magnitude of at most max_magnitude with its sign; zero is never negative.
constexpr int128 with_sign(u128 mag, bool negative) {
  const auto v = static_cast<int128>(mag);
  return negative ? -v : v;
}

// Unsigned 256-bit value, least significant 64-bit limb first.
using u256 = std::array<u64, 4>;

inline u256 multiply(u128 a, u128 b) {
  const u64 a0 = lo64(a), a1 = hi64(a), b0 = lo64(b), b1 = hi64(b);
  if (a1 == 0 && b1 == 0) {
    const u128 p = u128{a0} * b0;
    return {lo64(p), hi64(p), 0, 0};
  }
  const u128 p00 = u128{a0} * b0;
  const u128 p01 = u128{a0} * b1;
  const u128 p10 = u128{a1} * b0;
  const u128 p11 = u128{a1} * b1;
  // Each sum is below 2^130, so the carries fit.
  const u128 mid = u128{hi64(p00)} + lo64(p01) + lo64(p10);
  const u128 high = u128{hi64(mid)} + hi64(p01) + hi64(p10) + lo64(p11);
  return {lo64(p00), lo64(mid), lo64(high), hi64(high) + hi64(p11)};
}

// (hi:lo) / d for hi < d, so the quotient fits 64 bits.
inline u64 divide_128_by_64(u64 hi, u64 lo, u64 d, u64& remainder) {
  if (hi == 0) {
    remainder = lo % d;
    return lo / d;
  }
#if defined(__x86_64__)
  // One divq: hi < d, so the quotient cannot overflow it. A u128 / u64 in C++ calls the
  // library's general 128-bit division instead.
  u64 q = 0;
  u64 r = 0;
  asm("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "r"(d) : "cc");
  remainder = r;
  return q;
#else
  const u128 n = join(hi, lo);
  const auto q = static_cast<u64>(n / d);
  remainder = lo - q * d;
  return q;
#endif
}

// n / d for a 64-bit d: two 64-bit divisions instead of a 128-bit one.
inline u128 divide_by_u64(u128 n, u64 d, u64& remainder) {
  const u64 high = hi64(n) / d;
  const u64 low = divide_128_by_64(hi64(n) % d, lo64(n), d, remainder);
  return join(high, low);
}

struct quotient {
  u128 value = 0;
  u128 remainder = 0;
  bool fits = false;  // false when the quotient needs more than 128 bits
};

// 10^0 .. 10^19, every power of ten below 2^64.
constexpr const auto& pow10_table = detail::pow10;
static_assert(pow10_table[decimal::scale] == one);

// Division by an invariant 64-bit divisor with its precomputed reciprocal (Moller and Granlund,
// "Improved division by invariant integers", IEEE Trans. Computers 60(2), 2011, algorithm 4): two
// multiplications per digit instead of a hardware 128/64 division, which costs tens of cycles.
// The divisor is fixed at compile time, so its normalisation and reciprocal fold into the code
// and the digits stay in registers (the planner multiplies and rounds by these in every step).
template <u64 D>
struct fixed_divisor {
  static constexpr int shift = std::countl_zero(D);
  static constexpr u64 d = D << shift;
  static constexpr u64 reciprocal = static_cast<u64>(~u128{0} / d - (u128{1} << 64));
  // (hi:lo) / D for hi < D. Shifting both by `shift` keeps hi below d, and the remainder of the
  // shifted pair is the remainder times 2^shift.
  [[gnu::always_inline]] static u64 digit(u64 hi, u64 lo, u64& remainder) {
    const u64 h = shift == 0 ? hi : (hi << shift) | (lo >> ((64 - shift) & 63));
    const u64 l = lo << shift;
    const u128 estimate = u128{reciprocal} * h + join(h, l);
    u64 q = hi64(estimate) + 1;
    u64 r = l - q * d;
    if (r > lo64(estimate)) {
      --q;
      r += d;
    }
    if (r >= d) {
      ++q;
      r -= d;
    }
    remainder = r >> shift;
    return q;
  }
  [[gnu::always_inline]] static quotient divide(const u256& n) {
    u64 r = 0;
    if (n[3] == 0) {
      // Products of amounts and prices mostly fit three limbs, sums and amounts two: each
      // leading zero limb skipped is a digit less in the chain of dependent steps.
      if (n[2] == 0) {
        if (n[1] < D) {
          r = n[1];
          const u64 q0 = digit(r, n[0], r);
          return {q0, r, true};
        }
        const u64 q1 = digit(0, n[1], r);
        const u64 q0 = digit(r, n[0], r);
        return {join(q1, q0), r, true};
      }
      const u64 q2 = digit(0, n[2], r);
      const u64 q1 = digit(r, n[1], r);
      const u64 q0 = digit(r, n[0], r);
      return {join(q1, q0), r, q2 == 0};
    }
    const u64 q3 = digit(0, n[3], r);
    const u64 q2 = digit(r, n[2], r);
    const u64 q1 = digit(r, n[1], r);
    const u64 q0 = digit(r, n[0], r);
    return {join(q1, q0), r, q3 == 0 && q2 == 0};
  }
  static quotient divide(u128 n) { return divide(u256{lo64(n), hi64(n), 0, 0}); }
};
using fixed_one = fixed_divisor<one>;

template <std::size_t... k>
constexpr std::array<quotient (*)(const u256&), sizeof...(k)> make_divide_by_powers(
    std::index_sequence<k...>) {
  return {static_cast<quotient (*)(const u256&)>(&fixed_divisor<pow10_table[k]>::divide)...};
}
// Indexed as pow10_table: 10^0 .. 10^19, each divisor fixed at compile time.
constexpr auto divide_by_powers = make_divide_by_powers(std::make_index_sequence<20>());

// k when d is 10^k: its decimal digits less one, from its bit length.
std::optional<std::size_t> power_of_ten(u64 d) {
  if (d == 0) return std::nullopt;
  const auto k = static_cast<std::size_t>(((64 - std::countl_zero(d)) * 1233) >> 12);
  if (k < pow10_table.size() && pow10_table[k] == d) return k;
  return std::nullopt;
}

quotient divide_by_limb(const u256& n, u64 d) {
  if (const auto k = power_of_ten(d)) return divide_by_powers[*k](n);
  std::array<u64, 4> q{};
  int i = 3;
  while (i > 0 && n[i] == 0) --i;  // leading zero limbs: zero digits, nothing carried
  u64 r = 0;
  for (; i >= 0; --i) q[i] = divide_128_by_64(r, n[i], d, r);
  return {join(q[1], q[0]), r, q[3] == 0 && q[2] == 0};
}

// Knuth, TAOCP vol. 2, 4.3.1, algorithm D, with 64-bit digits and a two-digit divisor. With two
// digits the correction of step D3 already weighs the whole divisor, so each quotient digit is
// exact after it and the add-back step D6 cannot happen.
quotient divide_by_two_limbs(const u256& n, u128 d) {
  int m = 4;
  while (m > 0 && n[m - 1] == 0) --m;
  if (m < 2) return {0, join(0, n[0]), true};

  // Normalise so the divisor's top bit is set: the first estimate of a digit is then at most two
  // too large.
  const int s = std::countl_zero(hi64(d));
  const u128 v = d << s;
  const u64 v1 = hi64(v);
  const u64 v0 = lo64(v);
  std::array<u64, 5> u{};
  u[m] = s == 0 ? 0 : n[m - 1] >> (64 - s);
  for (int i = m - 1; i > 0; --i) u[i] = (n[i] << s) | (s == 0 ? 0 : n[i - 1] >> (64 - s));
  u[0] = n[0] << s;

  std::array<u64, 3> q{};
  for (int j = m - 2; j >= 0; --j) {
    const u128 top = join(u[j + 2], u[j + 1]);
    u128 qhat = 0;
    u128 rhat = 0;
    if (u[j + 2] < v1) {
      // The estimate fits 64 bits: one hardware division rather than the library's 128-bit one.
      u64 r = 0;
      qhat = divide_128_by_64(u[j + 2], u[j + 1], v1, r);
      rhat = r;
    } else {
      qhat = top / v1;
      rhat = top - qhat * v1;
    }
    while (hi64(qhat) != 0 || qhat * v0 > join(lo64(rhat), u[j])) {
      --qhat;
      rhat += v1;
      if (hi64(rhat) != 0) break;
    }
    // The partial remainder is below v, so arithmetic modulo 2^128 yields it exactly.
    const u128 rest = join(u[j + 1], u[j]) - lo64(qhat) * v;
    u[j + 2] = 0;
    u[j + 1] = hi64(rest);
    u[j] = lo64(rest);
    q[j] = lo64(qhat);
  }
  return {join(q[1], q[0]), join(u[1], u[0]) >> s, q[2] == 0};
}

// n / (k * 10^18) for a whole-number divisor such as 100 or a price of 4000: by the reciprocal
// of 10^18, then by k, where a two-limb long division costs several times more. Floor division
// nests, and the remainder is that of k's step times 10^18 plus that of the first; nullopt when
// the first quotient needs more than 128 bits.
std::optional<quotient> divide_by_whole(const u256& n, u64 k) {
  const quotient first = fixed_one::divide(n);
  if (!first.fits) return std::nullopt;
  if (k == 1) return first;  // a rate of 1
  // 100: every percent fee.
  const quotient second = k == 100 ? fixed_divisor<100>::divide(first.value)
                                   : divide_by_limb({lo64(first.value), hi64(first.value), 0, 0}, k);
  return quotient{second.value, second.remainder * one + first.remainder, second.fits};
}

quotient divide(const u256& n, u128 d) {
  if (hi64(d) == 0) return divide_by_limb(n, lo64(d));
  // 100: every percent fee, known whole without dividing.
  if (d == u128{100} * one) {
    if (auto q = divide_by_whole(n, 100)) return *q;
    return divide_by_two_limbs(n, d);
  }
  // A whole number of units is a multiple of 2^18 (a factor of 10^18): a mask rules out most
  // other divisors before the division that tells.
  constexpr u64 below_two_to_scale = (u64{1} << decimal::scale) - 1;
  if ((lo64(d) & below_two_to_scale) == 0) {
    const quotient whole = fixed_one::divide(d);
    if (whole.remainder == 0 && hi64(whole.value) == 0) {
      if (auto q = divide_by_whole(n, lo64(whole.value))) return *q;
    }
  }
  return divide_by_two_limbs(n, d);
}

// All three modes are symmetric in the sign, so rounding a magnitude is enough.
constexpr u128 round_magnitude(u128 q, u128 r, u128 d, rounding mode) {
  if (r == 0) return q;
  switch (mode) {
    case rounding::down:
      return q;
    case rounding::up:
      return q + 1;
    case rounding::half_even: {
      const u128 rest = d - r;
      return r > rest || (r == rest && (q & 1) != 0) ? q + 1 : q;
    }
  }
  return q;
}

// The text may come from a provider: bounded, and printable ASCII only (other bytes become '?'),
// so the message is safe in any log line (found by fuzz/decimal_fuzz.cpp).
std::string quoted(std::string_view text) {
  constexpr std::size_t max_shown = 64;
  std::string shown(text.substr(0, max_shown));
  for (char& c : shown) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  if (text.size() <= max_shown) return fmt::format("\"{}\"", shown);
  return fmt::format("\"{}...\" ({} chars)", shown, text.size());
}

std::unexpected<error> invalid_text(std::string_view text, std::string_view why) {
  return fail(error_kind::invalid_argument, fmt::format("decimal {}: {}", quoted(text), why));
}

std::unexpected<error> overflow(std::string_view what, decimal a, decimal b) {
  return fail(error_kind::invalid_argument,
              fmt::format("decimal {} overflows: {}, {}", what, a.to_string(), b.to_string()));
}

// The quotient rounded by `mode`, as a signed raw value; false when beyond the range. Inline,
// with the error built by the caller: passing the operands for a message that is almost never
// written was a fifth of a multiplication.
inline bool rounded_quotient(const quotient& q, rounding mode, u128 divisor, bool negative,
                             int128& out) {
  if (!q.fits || q.value > max_magnitude) return false;
  const u128 mag = round_magnitude(q.value, q.remainder, divisor, mode);
  if (mag > max_magnitude) return false;
  out = with_sign(mag, negative);
  return true;
}

// a x b / 10^18 for magnitudes a and b, rounded by `mode`, signed: a product of raw values at the
// decimal's scale. False when beyond the range.
inline bool scaled_product(u128 a, u128 b, rounding mode, bool negative, int128& out) {
  return rounded_quotient(fixed_one::divide(multiply(a, b)), mode, one, negative, out);
}

// Writes the 18 fractional digits of a magnitude's remainder (below 10^18), zero padded: plus
// 10^18 it has exactly 19 digits, a 1 and then the padded 18.
char* write_fraction(char* out, u64 fraction) {
  std::array<char, 20> digits{};
  std::to_chars(digits.begin(), digits.end(), fraction + one);
  return std::copy_n(digits.begin() + 1, decimal::scale, out);
}

// The raw value of 100.
constexpr u128 hundred_raw = u128{100} * one;

// m / 100 when 100 divides m, else none; no division. 100 = 4 x 25: m's two low bits, then m / 4
// times the inverse of 25 modulo 2^128, which is (m / 4) / 25 exactly when 25 divides m / 4 and
// otherwise above (2^128 - 1) / 25 (the multiples of 25 up to 2^128 - 1 map one to one onto
// 0 .. (2^128 - 1) / 25: exact division by an odd constant, Hacker's Delight ch. 10).
constexpr u128 inverse_of_25 = [] {
  u128 x = 25;  // right to 3 bits: 25 x 25 = 1 mod 8; each step doubles the bits
  for (int i = 0; i < 6; ++i) x *= 2 - 25 * x;
  return x;
}();
static_assert(inverse_of_25 * 25 == 1);

inline std::optional<u128> exact_hundredth(u128 m) {
  if ((m & 3) != 0) return std::nullopt;
  const u128 q = (m >> 2) * inverse_of_25;
  if (q > ~u128{0} / 25) return std::nullopt;
  return q;
}

// Splits a magnitude into its integer part and its 18 fractional digits.
quotient split(u128 mag) { return fixed_one::divide(mag); }

// Writes the integer part of a magnitude; it can exceed 64 bits (up to 2^128 / 10^18).
char* write_integer(char* out, u128 whole) {
  if (hi64(whole) == 0 && lo64(whole) < one) return std::to_chars(out, out + 20, lo64(whole)).ptr;
  const quotient parts = split(whole);
  out = std::to_chars(out, out + 20, lo64(parts.value)).ptr;
  return write_fraction(out, lo64(parts.remainder));
}

// The magnitude rounded to `places` digits, in raw units; at most 2^127 + 10^18, so no overflow.
template <std::size_t k>
u128 round_to_power(u128 mag, rounding mode) {
  if constexpr (k == 0) {
    return mag;  // 18 places: nothing to round
  } else {
    constexpr u64 unit = pow10_table[k];
    const quotient q = fixed_divisor<unit>::divide(mag);
    return round_magnitude(q.value, q.remainder, unit, mode) * unit;
  }
}
template <std::size_t... k>
constexpr std::array<u128 (*)(u128, rounding), sizeof...(k)> make_round_to_power(
    std::index_sequence<k...>) {
  return {&round_to_power<k>...};
}
// Indexed by 18 - places: a divisor fixed at compile time per precision.
constexpr auto round_to_powers = make_round_to_power(std::make_index_sequence<decimal::scale + 1>());

u128 round_places(u128 mag, int places, rounding mode) {
  return round_to_powers[static_cast<std::size_t>(decimal::scale - places)](mag, mode);
}

// Sign, integer part, and all 18 fractional digits; the caller keeps as many as it needs. The
// buffer holds the longest: sign, 21 integer digits, point, 18 digits.
using text_buffer = std::array<char, 48>;

char* write_number(text_buffer& buf, bool negative, u128 mag) {
  char* out = buf.data();
  if (negative && mag != 0) *out++ = '-';
  const quotient parts = split(mag);
  out = write_integer(out, parts.value);
  *out++ = '.';
  return write_fraction(out, lo64(parts.remainder));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

decimal decimal::from_int(std::int64_t whole) noexcept {
  // |whole| * 10^18 < 2^63 * 2^60, always in range.
  return decimal(static_cast<int128>(whole) * static_cast<int128>(one));
}

result<decimal> decimal::parse(std::string_view text, std::optional<rounding> excess) {
  // Most provider text ("29485.25", "-3.5", "7") is read in one pass into 64 bits; the general
  // path below gives the same value for those forms.
  if (auto plain = parse_plain(text)) return *plain;
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  const std::size_t int_begin = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::string_view int_digits = text.substr(int_begin, i - int_begin);
  std::string_view frac_digits;
  if (i < text.size() && text[i] == '.') {
    const std::size_t frac_begin = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    frac_digits = text.substr(frac_begin, i - frac_begin);
  }
  if (int_digits.empty() && frac_digits.empty()) return invalid_text(text, "not a number");

  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    if (i == text.size() || !is_digit(text[i])) {
      return invalid_text(text, "exponent without digits");
    }
    for (; i < text.size() && is_digit(text[i]); ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > max_exponent) return invalid_text(text, "exponent out of range");
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (i != text.size()) return invalid_text(text, "not a number");

  // The digits of both parts read as one integer D, so that the value is D * 10^(exponent - F).
  const std::size_t count = int_digits.size() + frac_digits.size();
  const auto digit = [&](std::size_t k) -> u64 {
    return static_cast<u64>(
        (k < int_digits.size() ? int_digits[k] : frac_digits[k - int_digits.size()]) - '0');
  };
  std::size_t first = 0;
  while (first < count && digit(first) == 0) ++first;
  if (first == count) return decimal{};
  std::size_t last = count - 1;
  while (digit(last) == 0) --last;

  // raw = S * 10^shift where S is digits [first, last], which has no trailing zeros.
  const auto significant = static_cast<std::int64_t>(last - first + 1);
  const std::int64_t shift = scale + exponent - static_cast<std::int64_t>(frac_digits.size()) +
                             static_cast<std::int64_t>(count - 1 - last);
  if (shift < 0 && !excess) return invalid_text(text, "more than 18 fractional digits");

  // Digits kept in raw units; those beyond are the excess, whose last digit is nonzero.
  const std::int64_t kept = significant + shift;
  // Kept digits beyond 39 (the digits of 2^128) are out of range.
  if (kept > std::numeric_limits<u128>::digits10 + 1) return invalid_text(text, "out of range");
  // Digits gather 19 at a time in 64 bits, then join the 128-bit value: one wide multiplication
  // per chunk rather than per digit.
  u128 mag = 0;
  const std::int64_t read = std::min(kept, significant);
  for (std::int64_t k = 0; k < read;) {
    const std::int64_t end = std::min<std::int64_t>(read, k + 19);
    const u128 chunk_scale = pow10_128[static_cast<std::size_t>(end - k)];
    u64 chunk = 0;
    for (; k < end; ++k) chunk = chunk * 10 + digit(first + static_cast<std::size_t>(k));
    if (!multiply_add(mag, chunk_scale, chunk)) return invalid_text(text, "out of range");
  }
  if (shift > 0 && !multiply_add(mag, pow10_128[static_cast<std::size_t>(shift)], 0)) {
    return invalid_text(text, "out of range");
  }
  // Checked before rounding too, so that rounding up cannot wrap 2^128 - 1 to zero.
  if (mag > max_magnitude) return invalid_text(text, "out of range");
  if (shift < 0) {
    bool round_up = false;
    switch (*excess) {
      case rounding::down:
        break;
      case rounding::up:
        round_up = true;
        break;
      case rounding::half_even: {
        // Compare the excess with half a unit: its first digit decides unless it is a 5 that
        // ends the text, which is an exact tie.
        if (kept < 0) break;
        const std::size_t at = first + static_cast<std::size_t>(kept);
        const u64 lead = digit(at);
        round_up = lead > 5 || (lead == 5 && (at < last || (mag & 1) != 0));
        break;
      }
    }
    if (round_up) ++mag;
  }
  if (mag > max_magnitude) return invalid_text(text, "out of range");
  return decimal(with_sign(mag, negative));
}

std::string decimal::to_string() const {
  text_buffer buf;
  char* end = write_number(buf, raw_ < 0, magnitude(raw_));
  // The point stops the trim: the integer part always has a digit.
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  return {buf.data(), end};
}

std::string decimal::to_string(int places, rounding mode) const {
  if (places < 0 || places > scale) {
    throw std::invalid_argument(fmt::format("decimal::to_string: places {} not in 0..18", places));
  }
  text_buffer buf;
  char* end = write_number(buf, raw_ < 0, round_places(magnitude(raw_), places, mode));
  // Drop the digits beyond `places`, and the point too when there are none.
  end -= scale - places;
  if (places == 0) --end;
  return {buf.data(), end};
}

result<decimal> decimal::checked_round(int places, rounding mode) const {
  if (places < 0 || places > scale) {
    return fail(error_kind::invalid_argument,
                fmt::format("decimal round: places {} not in 0..18", places));
  }
  if (auto r = try_round(places, mode)) return *r;
  return fail(error_kind::invalid_argument,
              fmt::format("decimal round of {} to {} places overflows", to_string(), places));
}

std::optional<decimal> decimal::try_round(int places, rounding mode) const noexcept {
  if (places < 0 || places > scale) return std::nullopt;
  const u128 mag = round_places(magnitude(raw_), places, mode);
  if (mag > max_magnitude) return std::nullopt;
  return decimal(with_sign(mag, raw_ < 0));
}

decimal decimal::round(int places, rounding mode) const noexcept {
  const std::optional<decimal> r = try_round(places, mode);
  if (!r) std::terminate();
  return *r;
}

result<decimal> decimal::round_to_increment(decimal increment, rounding mode) const {
  if (increment.raw_ <= 0) {
    return fail(error_kind::invalid_argument,
                fmt::format("decimal increment {} is not positive", increment.to_string()));
  }
  if (auto r = try_round_to_increment(increment, mode)) return *r;
  return overflow("round_to_increment", *this, increment);
}

std::optional<decimal> decimal::try_round_to_increment(decimal increment,
                                                       rounding mode) const noexcept {
  if (increment.raw_ <= 0) return std::nullopt;
  const u128 mag = magnitude(raw_);
  const auto inc = static_cast<u128>(increment.raw_);
  // An increment of 10^-k (a book's quantity step, 0.01) is rounding to k places: the divisor
  // fixed at compile time instead of two hardware divisions. The product cannot wrap there.
  if (hi64(inc) == 0) {
    if (const auto k = power_of_ten(lo64(inc)); k && *k <= decimal::scale) {
      const u128 rounded = round_to_powers[*k](mag, mode);
      if (rounded > max_magnitude) return std::nullopt;
      return decimal(with_sign(rounded, raw_ < 0));
    }
  }
  // One division: the remainder follows from it. An increment below 2^64 (up to about 18.4)
  // takes two 64-bit divisions instead of the library's 128-bit one.
  u64 ignored = 0;
  const u128 whole = hi64(inc) == 0 ? divide_by_u64(mag, lo64(inc), ignored) : mag / inc;
  const u128 steps = round_magnitude(whole, mag - whole * inc, inc, mode);
  u128 rounded = 0;
  if (__builtin_mul_overflow(steps, inc, &rounded) || rounded > max_magnitude) {
    return std::nullopt;
  }
  return decimal(with_sign(rounded, raw_ < 0));
}

result<decimal> decimal::mul(decimal other, rounding mode) const {
  if (auto r = try_mul(other, mode)) return *r;
  return overflow("mul", *this, other);
}

std::optional<decimal> decimal::try_mul(decimal other, rounding mode) const noexcept {
  const u128 a = magnitude(raw_);
  const u128 b = magnitude(other.raw_);
  const bool negative = (raw_ < 0) != (other.raw_ < 0);
  // A whole-number factor (an amount of 1000, a length without a limit) makes the product exact:
  // k x b for a = k x 10^18, nothing to round in any mode, out of range exactly when k x b is.
  // Its raw value is a multiple of 2^18 (10^18 = 2^18 x 5^18): a mask rules out most others
  // before the division that tells (zero passes as a whole number, with the same zero product).
  constexpr u64 below_two_to_scale = (u64{1} << decimal::scale) - 1;
  const bool a_may = (lo64(a) & below_two_to_scale) == 0;
  if (a_may || (lo64(b) & below_two_to_scale) == 0) {
    const quotient whole = fixed_one::divide(a_may ? a : b);
    if (whole.remainder == 0) {
      const u256 p = multiply(whole.value, a_may ? b : a);
      const u128 product = join(p[1], p[0]);
      if (p[2] != 0 || p[3] != 0 || product > max_magnitude) return std::nullopt;
      return decimal(with_sign(product, negative));
    }
  }
  int128 out = 0;
  if (!scaled_product(a, b, mode, negative, out)) return std::nullopt;
  return decimal(out);
}

result<decimal> decimal::div(decimal other, rounding mode) const {
  if (other.raw_ == 0) {
    return fail(error_kind::invalid_argument,
                fmt::format("decimal division by zero: {} / 0", to_string()));
  }
  if (auto r = try_div(other, mode)) return *r;
  return overflow("div", *this, other);
}

std::optional<decimal> decimal::try_div(decimal other, rounding mode) const noexcept {
  if (other.raw_ == 0) return std::nullopt;
  // A rate of 1 (most rate tables' spend side): exact, no division.
  if (other.raw_ == static_cast<int128>(one) && raw_ != min_raw) return *this;
  const u128 divisor = magnitude(other.raw_);
  const bool negative = (raw_ < 0) != (other.raw_ < 0);
  int128 out = 0;
  // A whole-number divisor k (an amount of 1000, an integer price): |this| x 10^18 / (k x 10^18)
  // is |this| / k, its remainder r 10^18 times smaller against a divisor 10^18 times smaller, so
  // every mode rounds alike (r > k - r exactly when 10^18 r > 10^18 (k - r)) and the range check
  // sees the same quotient: one division by k instead of a 256-bit product divided twice. A mask
  // rules out most other divisors before the division that tells.
  constexpr u64 below_two_to_scale = (u64{1} << decimal::scale) - 1;
  if ((lo64(divisor) & below_two_to_scale) == 0) {
    const quotient whole = fixed_one::divide(divisor);
    if (whole.remainder == 0 && hi64(whole.value) == 0) {
      u64 rest = 0;
      const u128 q = divide_by_u64(magnitude(raw_), lo64(whole.value), rest);
      if (!rounded_quotient({q, rest, true}, mode, whole.value, negative, out)) return std::nullopt;
      return decimal(out);
    }
  }
  if (!rounded_quotient(divide(multiply(magnitude(raw_), one), divisor), mode, divisor, negative,
                        out)) {
    return std::nullopt;
  }
  return decimal(out);
}

result<decimal> decimal::mul_div(decimal num, decimal den, rounding mode) const {
  if (den.raw_ == 0) {
    return fail(error_kind::invalid_argument,
                fmt::format("decimal division by zero: {} * {} / 0", to_string(), num.to_string()));
  }
  if (auto r = try_mul_div(num, den, mode)) return *r;
  return overflow("mul_div", *this, num);
}

std::optional<decimal> decimal::try_mul_div(decimal num, decimal den,
                                            rounding mode) const noexcept {
  if (den.raw_ == 0) return std::nullopt;
  // x * num / x is num exactly, in every mode and sign (a per-amount quote priced at its own
  // amount: spend x receive / spend). Only num's one raw value outside the range (min_raw) must
  // still fail as the division's range check fails it.
  if (raw_ == den.raw_ && num.raw_ != min_raw) return num;
  // A percent of something (den 100, num a percent of at most 16 places: every fee and keep
  // factor) is a product by num / 100, exact in 18 places: one division by 10^18 instead of two
  // steps by 10^18 and by 100. Same value, rounding and overflow: with N = |this| x |num / 100|
  // raw, the exact quotient is floor(100 N / (100 x 10^18)) = floor(N / 10^18) and the remainder
  // 100 times N's, against a divisor 100 times 10^18's, so every mode rounds alike and the range
  // check sees the same magnitude; the sign is this's times num's either way.
  if (den.raw_ == static_cast<int128>(hundred_raw)) {
    if (const auto hundredth = exact_hundredth(magnitude(num.raw_))) {
      // try_mul's product, inline: a call to try_mul cost a third of what this saves.
      int128 out = 0;
      if (!scaled_product(magnitude(raw_), *hundredth, mode, (raw_ < 0) != (num.raw_ < 0), out)) {
        return std::nullopt;
      }
      return decimal(out);
    }
  }
  // (a / 10^18) * (n / 10^18) / (d / 10^18) = (a * n / d) / 10^18: the scales cancel.
  const u128 divisor = magnitude(den.raw_);
  const quotient q = divide(multiply(magnitude(raw_), magnitude(num.raw_)), divisor);
  const bool negative = ((raw_ < 0) != (num.raw_ < 0)) != (den.raw_ < 0);
  int128 out = 0;
  if (!rounded_quotient(q, mode, divisor, negative, out)) return std::nullopt;
  return decimal(out);
}

result<decimal> decimal::checked_add(decimal other) const {
  int128 sum = 0;
  if (__builtin_add_overflow(raw_, other.raw_, &sum) || magnitude(sum) > max_magnitude) {
    return overflow("add", *this, other);
  }
  return decimal(sum);
}

result<decimal> decimal::checked_sub(decimal other) const {
  int128 difference = 0;
  if (__builtin_sub_overflow(raw_, other.raw_, &difference) ||
      magnitude(difference) > max_magnitude) {
    return overflow("sub", *this, other);
  }
  return decimal(difference);
}

decimal decimal::operator-() const {
  if (magnitude(raw_) > max_magnitude) throw std::overflow_error("decimal negation overflows");
  return decimal(-raw_);
}

void decimal::throw_overflow(decimal other, char op) const {
  const result<decimal> r = op == '+' ? checked_add(other) : checked_sub(other);
  throw std::overflow_error(r ? std::string("decimal overflow") : r.error().message);
}

decimal decimal::abs() const { return raw_ < 0 ? -*this : *this; }

}  // namespace swaprouter
