#include "engine/decimal.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace swaprouter {

// Lets GoogleTest print decimals in failure messages.
void PrintTo(const decimal& value, std::ostream* out) { *out << value.to_string(); }

namespace {

using boost::multiprecision::cpp_int;
using u64 = std::uint64_t;
__extension__ using u128 = unsigned __int128;

constexpr std::array all_modes = {rounding::down, rounding::up, rounding::half_even};

// Fixed so that a failure reproduces; every property failure prints it with the case.
constexpr u64 property_seed = 0x5eed'dec1'3a10'0001ULL;

const char* name(rounding mode) {
  switch (mode) {
    case rounding::down:
      return "down";
    case rounding::up:
      return "up";
    case rounding::half_even:
      return "half_even";
  }
  return "?";
}

decimal dec(std::string_view text) {
  const result<decimal> parsed = decimal::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(decimal{});
}

decimal raw(int128 value) { return decimal::from_raw(value); }

constexpr int128 int128_max = static_cast<int128>((u128{1} << 127) - 1);
constexpr int128 int128_min = -int128_max - 1;
constexpr int128 one_raw = 1'000'000'000'000'000'000;

// The slow reference: big integers, value = raw / 10^18.

cpp_int big(int128 value) {
  const bool negative = value < 0;
  const u128 mag = negative ? u128{0} - static_cast<u128>(value) : static_cast<u128>(value);
  cpp_int out = static_cast<u64>(mag >> 64);
  out <<= 64;
  out += static_cast<u64>(mag);
  return negative ? cpp_int{-out} : out;
}

const cpp_int& big_scale() {
  static const cpp_int scale = boost::multiprecision::pow(cpp_int{10}, 18);
  return scale;
}

const cpp_int& big_max() {
  static const cpp_int max = (cpp_int{1} << 127) - 1;
  return max;
}

cpp_int pow10(int exponent) { return boost::multiprecision::pow(cpp_int{10}, exponent); }

// num / den rounded to an integer by `mode`, written independently of the implementation's
// digit arithmetic: plain big-integer quotient and remainder.
cpp_int ref_round(const cpp_int& num, const cpp_int& den, rounding mode) {
  const bool negative = (num < 0) != (den < 0);
  const cpp_int n = abs(num);
  const cpp_int d = abs(den);
  cpp_int q = n / d;
  const cpp_int r = n % d;
  if (r != 0) {
    if (mode == rounding::up) q += 1;
    if (mode == rounding::half_even && (2 * r > d || (2 * r == d && q % 2 == 1))) q += 1;
  }
  return negative ? cpp_int{-q} : q;
}

// The decimal for a raw big integer, or nothing when it is outside the symmetric int128 range.
std::optional<decimal> ref_fit(const cpp_int& value) {
  if (abs(value) > big_max()) return std::nullopt;
  const cpp_int mag = abs(value);
  const auto hi = static_cast<u64>(mag >> 64);
  const auto lo = static_cast<u64>(mag & cpp_int{~u64{0}});
  const auto v = static_cast<int128>((u128{hi} << 64) | lo);
  return raw(value < 0 ? -v : v);
}

// `value` / 10^places as text with exactly `places` digits; no negative zero.
std::string ref_format(const cpp_int& value, int places) {
  std::string digits = cpp_int{abs(value)}.str();
  if (digits.size() < static_cast<std::size_t>(places) + 1) {
    digits.insert(0, static_cast<std::size_t>(places) + 1 - digits.size(), '0');
  }
  if (places > 0) digits.insert(digits.size() - static_cast<std::size_t>(places), ".");
  return value < 0 ? "-" + digits : digits;
}

std::string ref_shortest(int128 value) {
  std::string text = ref_format(big(value), 18);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// Random inputs.

class generator {
 public:
  explicit generator(u64 seed) : rng_(seed) {}

  u64 bits() { return rng_(); }
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool coin() { return (rng_() & 1) != 0; }

  // A raw value whose bit length is uniform over 0..127, so products and quotients land on both
  // sides of the overflow limit; a quarter are built from edge limbs (0, 1, 2^63, 2^64 - 1, ...)
  // that drive the 256-bit division into its rare correction steps.
  int128 value() {
    u128 mag = 0;
    if (uniform(0, 3) == 0) {
      const u64 high = edge_limb() >> 1;
      mag = (u128{high} << 64) | edge_limb();
    } else {
      const int length = uniform(0, 127);
      if (length > 0) {
        const u64 high = bits();
        mag = (u128{high} << 64) | bits();
        mag >>= 128 - length;
        mag |= u128{1} << (length - 1);
      }
    }
    const auto v = static_cast<int128>(mag);
    return coin() ? -v : v;
  }

  // A decimal with few significant digits at a random place, like prices and amounts.
  int128 amount() {
    const auto units = static_cast<int128>(bits() % 100'000'000);
    const int place = uniform(0, 30);
    int128 v = units;
    for (int i = 0; i < place && v < int128_max / 100; ++i) v *= 10;
    return coin() ? -v : v;
  }

  int128 any() { return uniform(0, 2) == 0 ? amount() : value(); }

  rounding mode() { return all_modes[static_cast<std::size_t>(uniform(0, 2))]; }

  std::string digits(int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out += static_cast<char>('0' + uniform(0, 9));
    return out;
  }

 private:
  u64 edge_limb() {
    constexpr std::array<u64, 8> edges = {0,       1,           u64{1} << 63, (u64{1} << 63) - 1,
                                          ~u64{0}, ~u64{0} - 1, u64{1} << 32, 0};
    const int pick = uniform(0, 9);
    return pick < 8 ? edges[static_cast<std::size_t>(pick)] : bits();
  }

  std::mt19937_64 rng_;
};

std::string raw_text(int128 value) { return big(value).str() + "e-18"; }

// Parse: examples.

TEST(DecimalParse, ReadsProviderForms) {
  EXPECT_EQ(dec("0.00003390").raw(), int128{33'900'000'000'000});
  EXPECT_EQ(dec("29485.25").raw(), int128{29485'250} * 1'000'000'000'000'000);
  EXPECT_EQ(dec("1").raw(), one_raw);
  EXPECT_EQ(dec("-3.5").raw(), -35 * one_raw / 10);
  EXPECT_EQ(dec("1e-8").raw(), int128{10'000'000'000});
  EXPECT_EQ(dec("2.5E+3"), decimal::from_int(2500));
  EXPECT_EQ(dec("2.5e3"), decimal::from_int(2500));
  EXPECT_EQ(dec("25e-1"), dec("2.5"));
  EXPECT_EQ(dec("+2"), decimal::from_int(2));
  EXPECT_EQ(dec(".5").raw(), one_raw / 2);
  EXPECT_EQ(dec("5."), decimal::from_int(5));
  EXPECT_EQ(dec("-.5").raw(), -one_raw / 2);
  EXPECT_EQ(dec("007.50"), dec("7.5"));
  EXPECT_EQ(dec("0"), decimal{});
  EXPECT_EQ(dec("-0"), decimal{});
  EXPECT_EQ(dec("0.000000000000000001").raw(), int128{1});
  EXPECT_EQ(dec("1e0"), decimal::from_int(1));
  EXPECT_EQ(dec("1E-18").raw(), int128{1});
  EXPECT_EQ(dec("0.01e2"), decimal::from_int(1));
}

TEST(DecimalParse, TrailingZerosBeyondEighteenPlacesAreExact) {
  EXPECT_EQ(dec("0.100000000000000000000000000"), dec("0.1"));
  EXPECT_EQ(dec("-3.548387096774193548000000"), dec("-3.548387096774193548"));
  EXPECT_EQ(dec("1234500e-20").raw(), int128{12345});
}

TEST(DecimalParse, ExcessDigitsNeedAnExplicitRounding) {
  const std::string_view text = "-3.5483870967741935483870967700";
  const result<decimal> strict = decimal::parse(text);
  ASSERT_FALSE(strict.has_value());
  EXPECT_EQ(strict.error().kind, error_kind::invalid_argument);
  EXPECT_NE(strict.error().message.find(text), std::string::npos) << strict.error().message;

  EXPECT_EQ(decimal::parse(text, rounding::down).value(), dec("-3.548387096774193548"));
  EXPECT_EQ(decimal::parse(text, rounding::up).value(), dec("-3.548387096774193549"));
  EXPECT_EQ(decimal::parse(text, rounding::half_even).value(), dec("-3.548387096774193548"));

  // Ties at the 19th digit go to the even neighbour; anything past the 5 breaks the tie.
  EXPECT_EQ(decimal::parse("0.0000000000000000025", rounding::half_even)->raw(), 2);
  EXPECT_EQ(decimal::parse("0.0000000000000000035", rounding::half_even)->raw(), 4);
  EXPECT_EQ(decimal::parse("0.00000000000000000250001", rounding::half_even)->raw(), 3);
  EXPECT_EQ(decimal::parse("-0.0000000000000000025", rounding::half_even)->raw(), -2);
  EXPECT_EQ(decimal::parse("0.0000000000000000005", rounding::half_even)->raw(), 0);
  EXPECT_EQ(decimal::parse("0.0000000000000000006", rounding::half_even)->raw(), 1);
  EXPECT_EQ(decimal::parse("0.00000000000000000009", rounding::half_even)->raw(), 0);
  EXPECT_EQ(decimal::parse("1e-30", rounding::down)->raw(), 0);
  EXPECT_EQ(decimal::parse("1e-30", rounding::up)->raw(), 1);
  EXPECT_EQ(decimal::parse("-1e-30", rounding::up)->raw(), -1);
  EXPECT_FALSE(decimal::parse("1e-19").has_value());
}

TEST(DecimalParse, RejectsMalformedText) {
  using namespace std::string_view_literals;
  const std::vector<std::string_view> bad = {
      ""sv,     "+"sv,     "-"sv,   "."sv,     "+."sv,  " 1"sv,       "1 "sv,       "1 0"sv,
      "0x10"sv, "0X1p3"sv, "nan"sv, "NaN"sv,   "inf"sv, "-inf"sv,     "Infinity"sv, "1.2.3"sv,
      "1..2"sv, "1e"sv,    "1e+"sv, "1e-"sv,   "e5"sv,  ".e1"sv,      "1e5.5"sv,    "1e5e5"sv,
      "--1"sv,  "+-1"sv,   "1,5"sv, "1_000"sv, "1\0"sv, "\xd9\xa1"sv, "1f"sv,       "1.5d"sv};
  for (const std::string_view text : bad) {
    const result<decimal> parsed = decimal::parse(text);
    ASSERT_FALSE(parsed.has_value()) << '"' << text << '"';
    EXPECT_EQ(parsed.error().kind, error_kind::invalid_argument) << text;
    // The message quotes the text with every byte that is not printable ASCII as '?' (the text
    // may be a provider's, and the message may reach a log line).
    std::string shown(text);
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    }
    EXPECT_NE(parsed.error().message.find('"' + shown + '"'), std::string::npos)
        << parsed.error().message;
  }
}

TEST(DecimalParse, BoundsTheExponent) {
  for (const char* text : {"1e999999999", "1e-999999999", "0e999999999", "1e1001",
                           "1e00000000000000000000000000000000000000099999999999"}) {
    const result<decimal> parsed = decimal::parse(text, rounding::down);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind, error_kind::invalid_argument);
  }
  EXPECT_EQ(decimal::parse("1e-1000", rounding::down)->raw(), 0);
  EXPECT_EQ(dec("1e+00000000000000000000000000000000000000000000000000002"),
            decimal::from_int(100));
}

TEST(DecimalParse, RejectsOutOfRange) {
  const std::string max_text = "170141183460469231731.687303715884105727";
  EXPECT_EQ(dec(max_text).raw(), int128_max);
  EXPECT_EQ(dec("-" + max_text).raw(), -int128_max);
  for (const char* text :
       {"170141183460469231731.687303715884105728", "-170141183460469231731.687303715884105728",
        "340282366920938463463.374607431768211456", "1e21", "-1e21", "2e20",
        "100000000000000000000000000000000000000000000000000", "1e39", "1e38"}) {
    const result<decimal> parsed = decimal::parse(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind, error_kind::invalid_argument);
  }
  EXPECT_EQ(dec("1e20").raw(), one_raw * one_raw * 100);
  // Rounding the excess up can be what crosses the limit.
  const std::string above = max_text + "1";
  EXPECT_EQ(decimal::parse(above, rounding::down)->raw(), int128_max);
  EXPECT_FALSE(decimal::parse(above, rounding::up).has_value());
  // Kept digits of 2^128 - 1: rounding them up must not wrap around to zero.
  for (const rounding mode : all_modes) {
    EXPECT_FALSE(decimal::parse("340282366920938463463.3746074317682114559", mode).has_value())
        << name(mode);
  }
}

TEST(DecimalParse, LongDigitStrings) {
  const std::string tiny = "0." + std::string(10'000, '0') + "1";
  EXPECT_FALSE(decimal::parse(tiny).has_value());
  EXPECT_EQ(decimal::parse(tiny, rounding::down)->raw(), 0);
  EXPECT_EQ(decimal::parse(tiny, rounding::up)->raw(), 1);
  EXPECT_FALSE(decimal::parse("1" + std::string(10'000, '0')).has_value());
  EXPECT_EQ(dec("1." + std::string(10'000, '0')), decimal::from_int(1));
  EXPECT_EQ(dec(std::string(10'000, '0') + "2.5"), dec("2.5"));
}

TEST(DecimalParse, MessageTruncatesLongText) {
  const std::string text = "12345678" + std::string(200, 'x');
  const result<decimal> parsed = decimal::parse(text);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message.find(text.substr(0, 64)), std::string::npos);
  EXPECT_EQ(parsed.error().message.find(text.substr(0, 65)), std::string::npos);
  EXPECT_LT(parsed.error().message.size(), 128U);
}

// Formatting and rounding: examples.

TEST(DecimalUnit, OneStepOfEachPrecision) {
  EXPECT_EQ(decimal::unit(0), dec("1"));
  EXPECT_EQ(decimal::unit(2), dec("0.01"));
  EXPECT_EQ(decimal::unit(8), dec("0.00000001"));
  EXPECT_EQ(decimal::unit(18), raw(1));
  // Every precision: ten of one place make one of the place before.
  for (int places = 1; places <= decimal::scale; ++places) {
    EXPECT_EQ(decimal::unit(places).mul(decimal::from_int(10), rounding::down).value(),
              decimal::unit(places - 1))
        << places;
  }
}

TEST(DecimalFormat, ShortestExactText) {
  EXPECT_EQ(dec("0.00003390").to_string(), "0.0000339");
  EXPECT_EQ(dec("29485.25").to_string(), "29485.25");
  EXPECT_EQ(dec("1").to_string(), "1");
  EXPECT_EQ(dec("-3.5").to_string(), "-3.5");
  EXPECT_EQ(dec("1e-8").to_string(), "0.00000001");
  EXPECT_EQ(dec("2.5E+3").to_string(), "2500");
  EXPECT_EQ(decimal{}.to_string(), "0");
  EXPECT_EQ(raw(1).to_string(), "0.000000000000000001");
  EXPECT_EQ(raw(-1).to_string(), "-0.000000000000000001");
  EXPECT_EQ(raw(int128_max).to_string(), "170141183460469231731.687303715884105727");
  EXPECT_EQ(raw(int128_min).to_string(), "-170141183460469231731.687303715884105728");
  EXPECT_EQ(dec("1e20").to_string(), "100000000000000000000");
}

TEST(DecimalFormat, FixedPlaces) {
  EXPECT_EQ(dec("1.005").to_string(2), "1.00");
  EXPECT_EQ(dec("1.005").to_string(2, rounding::up), "1.01");
  EXPECT_EQ(dec("1.005").to_string(2, rounding::half_even), "1.00");
  EXPECT_EQ(dec("1.015").to_string(2, rounding::half_even), "1.02");
  EXPECT_EQ(dec("-1.005").to_string(2, rounding::up), "-1.01");
  EXPECT_EQ(dec("-1.005").to_string(2, rounding::down), "-1.00");
  EXPECT_EQ(dec("29485.75").to_string(0), "29485");
  EXPECT_EQ(dec("29485.75").to_string(0, rounding::half_even), "29486");
  EXPECT_EQ(dec("9.999").to_string(2, rounding::up), "10.00");
  EXPECT_EQ(dec("1").to_string(4), "1.0000");
  EXPECT_EQ(dec("0.0000339").to_string(18), "0.000033900000000000");
  EXPECT_EQ(dec("-0.001").to_string(2), "0.00");
  EXPECT_EQ(dec("-0.001").to_string(2, rounding::up), "-0.01");
  EXPECT_EQ(raw(int128_max).to_string(0, rounding::up), "170141183460469231732");
  EXPECT_THROW((void)dec("1").to_string(19), std::invalid_argument);
  EXPECT_THROW((void)dec("1").to_string(-1), std::invalid_argument);
}

TEST(DecimalRounding, EveryModeWithNegativesAndTies) {
  struct example {
    const char* value;
    int places;
    rounding mode;
    const char* expected;
  };
  const std::vector<example> examples = {
      {"2.349", 2, rounding::down, "2.34"},
      {"-2.349", 2, rounding::down, "-2.34"},
      {"2.341", 2, rounding::up, "2.35"},
      {"-2.341", 2, rounding::up, "-2.35"},
      {"2.34", 2, rounding::up, "2.34"},
      {"2.345", 2, rounding::half_even, "2.34"},
      {"2.355", 2, rounding::half_even, "2.36"},
      {"-2.345", 2, rounding::half_even, "-2.34"},
      {"-2.355", 2, rounding::half_even, "-2.36"},
      {"2.3451", 2, rounding::half_even, "2.35"},
      {"2.3449", 2, rounding::half_even, "2.34"},
      {"0.5", 0, rounding::half_even, "0"},
      {"1.5", 0, rounding::half_even, "2"},
      {"2.5", 0, rounding::half_even, "2"},
      {"-0.5", 0, rounding::half_even, "0"},
      {"-1.5", 0, rounding::half_even, "-2"},
      {"-2.5", 0, rounding::half_even, "-2"},
      {"-0.001", 2, rounding::down, "0"},
      {"0.000000000000000001", 17, rounding::up, "0.00000000000000001"},
      {"0.123456789012345678", 18, rounding::down, "0.123456789012345678"},
  };
  for (const example& e : examples) {
    EXPECT_EQ(dec(e.value).round(e.places, e.mode), dec(e.expected))
        << e.value << " to " << e.places << " places " << name(e.mode);
    EXPECT_EQ(dec(e.value).checked_round(e.places, e.mode).value(), dec(e.expected));
  }
}

TEST(DecimalRounding, CheckedRoundReportsWhatRoundCannot) {
  EXPECT_FALSE(dec("1").checked_round(19, rounding::down).has_value());
  EXPECT_FALSE(dec("1").checked_round(-1, rounding::down).has_value());
  EXPECT_FALSE(raw(int128_max).checked_round(0, rounding::up).has_value());
  EXPECT_EQ(raw(int128_max).checked_round(0, rounding::down).value(), dec("170141183460469231731"));
}

TEST(DecimalRounding, ToIncrement) {
  struct example {
    const char* value;
    const char* increment;
    rounding mode;
    const char* expected;
  };
  const std::vector<example> examples = {
      {"1.23456", "0.0001", rounding::down, "1.2345"},
      {"1.23456", "0.0001", rounding::up, "1.2346"},
      {"1.23456", "0.0001", rounding::half_even, "1.2346"},
      {"1.23455", "0.0001", rounding::half_even, "1.2346"},
      {"1.23465", "0.0001", rounding::half_even, "1.2346"},
      {"-1.23456", "0.0001", rounding::up, "-1.2346"},
      {"1.2345", "0.0001", rounding::up, "1.2345"},
      {"2.75", "0.5", rounding::down, "2.5"},
      {"2.75", "0.5", rounding::up, "3"},
      {"2.75", "0.5", rounding::half_even, "3"},
      {"2.25", "0.5", rounding::half_even, "2"},
      {"-2.25", "0.5", rounding::half_even, "-2"},
      {"137", "25", rounding::down, "125"},
      {"137", "25", rounding::up, "150"},
      {"137", "25", rounding::half_even, "125"},
      {"162.5", "25", rounding::half_even, "150"},
      {"187.5", "25", rounding::half_even, "200"},
      {"-137", "25", rounding::down, "-125"},
      {"-137", "25", rounding::up, "-150"},
      {"24.99", "25", rounding::down, "0"},
  };
  for (const example& e : examples) {
    EXPECT_EQ(dec(e.value).round_to_increment(dec(e.increment), e.mode).value(), dec(e.expected))
        << e.value << " to " << e.increment << " " << name(e.mode);
  }
  for (const char* increment : {"0", "-0.5"}) {
    const result<decimal> r = dec("1").round_to_increment(dec(increment), rounding::down);
    ASSERT_FALSE(r.has_value()) << increment;
    EXPECT_EQ(r.error().kind, error_kind::invalid_argument);
  }
  EXPECT_FALSE(raw(int128_max).round_to_increment(dec("25"), rounding::up).has_value());
}

// Arithmetic: examples.

TEST(DecimalArithmetic, DivisionIsExactWhereTheValueIs) {
  for (const rounding mode : all_modes) {
    EXPECT_EQ(dec("0.29").div(dec("0.01"), mode).value(), decimal::from_int(29)) << name(mode);
    EXPECT_EQ(dec("1").div(dec("8"), mode).value(), dec("0.125"));
  }
}

TEST(DecimalArithmetic, MulRoundsEveryMode) {
  EXPECT_EQ(dec("29485.25").mul(dec("0.0000339"), rounding::down).value(), dec("0.999549975"));
  const decimal tiny = raw(1);
  EXPECT_EQ(tiny.mul(dec("0.5"), rounding::down).value(), decimal{});
  EXPECT_EQ(tiny.mul(dec("0.5"), rounding::up).value(), raw(1));
  EXPECT_EQ(tiny.mul(dec("0.5"), rounding::half_even).value(), decimal{});
  EXPECT_EQ(raw(3).mul(dec("0.5"), rounding::half_even).value(), raw(2));
  EXPECT_EQ(raw(-3).mul(dec("0.5"), rounding::half_even).value(), raw(-2));
  EXPECT_EQ(raw(-3).mul(dec("0.5"), rounding::down).value(), raw(-1));
  EXPECT_EQ(raw(-3).mul(dec("0.5"), rounding::up).value(), raw(-2));
  EXPECT_EQ(dec("-2").mul(dec("-3.25"), rounding::down).value(), dec("6.5"));
  EXPECT_EQ(dec("1e10").mul(dec("1e10"), rounding::down).value(), dec("1e20"));
}

TEST(DecimalArithmetic, DivRoundsEveryMode) {
  EXPECT_EQ(dec("1").div(dec("3"), rounding::down).value(), dec("0.333333333333333333"));
  EXPECT_EQ(dec("1").div(dec("3"), rounding::up).value(), dec("0.333333333333333334"));
  EXPECT_EQ(dec("1").div(dec("3"), rounding::half_even).value(), dec("0.333333333333333333"));
  EXPECT_EQ(dec("2").div(dec("3"), rounding::half_even).value(), dec("0.666666666666666667"));
  EXPECT_EQ(dec("-1").div(dec("3"), rounding::up).value(), dec("-0.333333333333333334"));
  EXPECT_EQ(dec("1").div(dec("-3"), rounding::down).value(), dec("-0.333333333333333333"));
  EXPECT_EQ(dec("100").div(dec("29485.25"), rounding::down).value(), dec("0.003391526271610381"));
}

TEST(DecimalArithmetic, MulDivRoundsOnce) {
  EXPECT_EQ(dec("100").mul_div(dec("3"), dec("7"), rounding::down).value(),
            dec("42.857142857142857142"));
  EXPECT_EQ(dec("100").mul_div(dec("3"), dec("7"), rounding::up).value(),
            dec("42.857142857142857143"));
  EXPECT_EQ(dec("-100").mul_div(dec("3"), dec("7"), rounding::half_even).value(),
            dec("-42.857142857142857143"));
  // The intermediate (10^76 raw) needs 256 bits; mul then div would overflow first.
  const decimal big_value = dec("1e20");
  EXPECT_EQ(big_value.mul_div(big_value, big_value, rounding::down).value(), big_value);
  EXPECT_FALSE(big_value.mul(big_value, rounding::down).has_value());
  // One rounding, not two: (1/3) * 3 would lose a unit.
  EXPECT_EQ(dec("1").mul_div(dec("3"), dec("3"), rounding::down).value(), dec("1"));
}

TEST(DecimalArithmetic, OverflowAndDivisionByZeroAreErrors) {
  const decimal max = raw(int128_max);
  const std::vector<result<decimal>> failures = {
      dec("1e20").mul(dec("10"), rounding::down),
      dec("1e20").div(dec("0.1"), rounding::down),
      dec("1").div(decimal{}, rounding::down),
      dec("1").mul_div(dec("1"), decimal{}, rounding::down),
      max.mul_div(dec("2"), dec("1"), rounding::down),
      max.checked_add(raw(1)),
      (-max).checked_sub(raw(1)),
      max.checked_sub(raw(-1)),
      max.mul(dec("1.000000000000000001"), rounding::up),
  };
  for (std::size_t i = 0; i < failures.size(); ++i) {
    ASSERT_FALSE(failures[i].has_value()) << "case " << i;
    EXPECT_EQ(failures[i].error().kind, error_kind::invalid_argument) << "case " << i;
  }
  EXPECT_NE(dec("1").div(decimal{}, rounding::down).error().message.find("division by zero"),
            std::string::npos);
  EXPECT_EQ(max.mul(dec("1"), rounding::up).value(), max);
  EXPECT_EQ(max.checked_add(raw(-1)).value(), raw(int128_max - 1));
}

TEST(DecimalArithmetic, OperatorsThrowOnOverflow) {
  const decimal max = raw(int128_max);
  EXPECT_THROW((void)(max + raw(1)), std::overflow_error);
  EXPECT_THROW((void)(-max - raw(1)), std::overflow_error);
  decimal total = max;
  EXPECT_THROW(total += raw(1), std::overflow_error);
  EXPECT_THROW((void)-raw(int128_min), std::overflow_error);
  EXPECT_THROW((void)raw(int128_min).abs(), std::overflow_error);
  EXPECT_EQ(dec("1.5") + dec("2.25"), dec("3.75"));
  EXPECT_EQ(dec("1.5") - dec("2.25"), dec("-0.75"));
  EXPECT_EQ(-dec("1.5"), dec("-1.5"));
  EXPECT_EQ(dec("-1.5").abs(), dec("1.5"));
  EXPECT_EQ(decimal::from_int(-5), dec("-5"));
  EXPECT_EQ(decimal::from_int(INT64_MIN).raw(), int128{INT64_MIN} * one_raw);
}

TEST(DecimalArithmetic, ComparesByValue) {
  EXPECT_LT(dec("0.1"), dec("0.10000000000000001"));
  EXPECT_GT(dec("-0.1"), dec("-0.2"));
  EXPECT_EQ(dec("2.50"), dec("2.5"));
  EXPECT_TRUE(dec("-0.000000000000000001").is_negative());
  EXPECT_TRUE(dec("0.000000000000000001").is_positive());
  EXPECT_TRUE(dec("-0").is_zero());
}

// Properties against the big-integer reference.

constexpr int cases = 20'000;

// The exact rational num / den for an operation, as the reference sees it.
struct exact {
  cpp_int num;
  cpp_int den;
};

exact exact_mul(decimal a, decimal b) { return {big(a.raw()) * big(b.raw()), big_scale()}; }
exact exact_div(decimal a, decimal b) { return {big(a.raw()) * big_scale(), big(b.raw())}; }
exact exact_mul_div(decimal a, decimal n, decimal d) {
  return {big(a.raw()) * big(n.raw()), big(d.raw())};
}

std::optional<decimal> ref_result(const exact& e, rounding mode) {
  return ref_fit(ref_round(e.num, e.den, mode));
}

void expect_matches(const result<decimal>& got, const std::optional<decimal>& want,
                    const std::string& what) {
  if (want) {
    ASSERT_TRUE(got.has_value()) << what << ": " << got.error().message;
    ASSERT_EQ(got->raw(), want->raw())
        << what << " got " << raw_text(got->raw()) << " want " << raw_text(want->raw());
  } else {
    ASSERT_FALSE(got.has_value()) << what << " got " << raw_text(got->raw()) << ", want overflow";
    ASSERT_EQ(got.error().kind, error_kind::invalid_argument) << what;
  }
}

std::string case_text(int i, std::initializer_list<int128> operands, rounding mode) {
  std::string out = "seed " + std::to_string(property_seed) + " case " + std::to_string(i) + ":";
  for (const int128 v : operands) out += " " + raw_text(v);
  return out + " " + name(mode);
}

TEST(DecimalProperty, TextRoundTrips) {
  generator gen(property_seed);
  for (int i = 0; i < cases; ++i) {
    const decimal x = raw(i == 0 ? int128_min : gen.any());
    const std::string text = x.to_string();
    ASSERT_EQ(text, ref_shortest(x.raw())) << case_text(i, {x.raw()}, rounding::down);
    const result<decimal> back = decimal::parse(text);
    if (x.raw() == int128_min) {
      // Outside the symmetric range: printable, but not a value parse returns.
      ASSERT_FALSE(back.has_value());
      continue;
    }
    ASSERT_TRUE(back.has_value()) << text;
    ASSERT_EQ(*back, x) << case_text(i, {x.raw()}, rounding::down);
  }
}

TEST(DecimalProperty, FixedPlacesMatchReference) {
  generator gen(property_seed + 1);
  for (int i = 0; i < cases; ++i) {
    const decimal x = raw(gen.any());
    const int places = gen.uniform(0, 18);
    const rounding mode = gen.mode();
    const cpp_int rounded = ref_round(big(x.raw()), pow10(18 - places), mode);
    const std::string what = case_text(i, {x.raw()}, mode) + " places " + std::to_string(places);
    ASSERT_EQ(x.to_string(places, mode), ref_format(rounded, places)) << what;
    expect_matches(x.checked_round(places, mode), ref_fit(rounded * pow10(18 - places)), what);
    if (HasFatalFailure()) return;
  }
}

TEST(DecimalProperty, IncrementMatchesReference) {
  generator gen(property_seed + 2);
  for (int i = 0; i < cases; ++i) {
    const decimal x = raw(gen.any());
    const decimal increment = raw(gen.any()).abs();
    const rounding mode = gen.mode();
    const std::string what = case_text(i, {x.raw(), increment.raw()}, mode);
    const result<decimal> got = x.round_to_increment(increment, mode);
    if (increment.is_zero()) {
      ASSERT_FALSE(got.has_value()) << what;
      continue;
    }
    const cpp_int inc = big(increment.raw());
    expect_matches(got, ref_fit(ref_round(big(x.raw()), inc, mode) * inc), what);
    if (HasFatalFailure()) return;
  }
}

TEST(DecimalProperty, MulMatchesReference) {
  generator gen(property_seed + 3);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal b = raw(gen.any());
    for (const rounding mode : all_modes) {
      expect_matches(a.mul(b, mode), ref_result(exact_mul(a, b), mode),
                     case_text(i, {a.raw(), b.raw()}, mode));
      if (HasFatalFailure()) return;
    }
  }
}

// A whole-number factor (k x 10^18, either side) makes mul's product exact: k of every size,
// near multiples of 2^18 that are not whole, and products at the range's end.
TEST(DecimalProperty, MulByWholeNumbersMatchesReference) {
  generator gen(property_seed + 14);
  const u128 top = (u128{1} << 127) - 1;
  const u128 unit = static_cast<u128>(pow10(18).convert_to<u64>());
  for (int i = 0; i < cases / 4; ++i) {
    const decimal b = raw(gen.any());
    const int128 length = gen.value();
    const u128 k = (static_cast<u128>(length < 0 ? -length : length) >> gen.uniform(0, 127)) %
                   (top / unit + 2);
    const u128 b_mag = static_cast<u128>(b.raw() < 0 ? -b.raw() : b.raw());
    // The largest whole k x 10^18 whose product with b is in range, and the next one.
    const u128 at_end = b_mag == 0 ? 0 : top / b_mag;
    for (const u128 whole : {k, at_end, at_end + 1}) {
      if (whole > top / unit) continue;
      for (const u128 m : {whole * unit, whole * unit + (u128{1} << 18), whole * unit + 1}) {
        if (m > top) continue;
        const decimal a = raw(gen.coin() ? static_cast<int128>(m) : -static_cast<int128>(m));
        for (const rounding mode : all_modes) {
          const std::string what = case_text(i, {a.raw(), b.raw()}, mode);
          expect_matches(a.mul(b, mode), ref_result(exact_mul(a, b), mode), what);
          expect_matches(b.mul(a, mode), ref_result(exact_mul(b, a), mode), what + " swapped");
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  EXPECT_EQ(dec("1000").mul(dec("0.000016625"), rounding::up).value(), dec("0.016625"));
  EXPECT_EQ(dec("-3").mul(dec("0.000000000000000001"), rounding::down).value(),
            dec("-0.000000000000000003"));
  EXPECT_EQ(dec("100000000000").mul(dec("-1.5"), rounding::half_even).value(),
            dec("-150000000000"));
  // Zero passes as a whole number: still zero, never negative zero.
  EXPECT_EQ(decimal{}.mul(dec("-2.5"), rounding::up).value().raw(), 0);
  EXPECT_EQ(dec("-3").mul(decimal{}, rounding::up).value().raw(), 0);
  EXPECT_FALSE(dec("2").mul(raw(int128_max / 2 + 1), rounding::down).has_value());
  EXPECT_EQ(dec("2").mul(raw(int128_max / 2), rounding::down).value(), raw(int128_max - 1));
}

TEST(DecimalProperty, DivMatchesReference) {
  generator gen(property_seed + 4);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal b = raw(gen.any());
    for (const rounding mode : all_modes) {
      const std::string what = case_text(i, {a.raw(), b.raw()}, mode);
      if (b.is_zero()) {
        ASSERT_FALSE(a.div(b, mode).has_value()) << what;
        continue;
      }
      expect_matches(a.div(b, mode), ref_result(exact_div(a, b), mode), what);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(DecimalProperty, MulDivMatchesReference) {
  generator gen(property_seed + 5);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal n = raw(gen.any());
    const decimal d = raw(gen.any());
    for (const rounding mode : all_modes) {
      const std::string what = case_text(i, {a.raw(), n.raw(), d.raw()}, mode);
      if (d.is_zero()) {
        ASSERT_FALSE(a.mul_div(n, d, mode).has_value()) << what;
        continue;
      }
      expect_matches(a.mul_div(n, d, mode), ref_result(exact_mul_div(a, n, d), mode), what);
      if (HasFatalFailure()) return;
    }
  }
}

// x x n / x is n in every mode (a per-amount quote priced at its own amount), n's raw value
// outside the range (-2^127) included, which fails as the division's range check fails it.
TEST(DecimalProperty, MulDivByItsOwnFactorMatchesReference) {
  generator gen(property_seed + 15);
  const decimal outside = raw(-int128_max - 1);
  for (int i = 0; i < cases; ++i) {
    const decimal a = i % 7 == 0 ? outside : raw(gen.any());
    const decimal n = i % 5 == 0 ? outside : raw(gen.any());
    if (a.is_zero()) continue;
    for (const rounding mode : all_modes) {
      const std::string what = case_text(i, {a.raw(), n.raw(), a.raw()}, mode);
      expect_matches(a.mul_div(n, a, mode), ref_result(exact_mul_div(a, n, a), mode), what);
      if (HasFatalFailure()) return;
    }
  }
}

// The fast paths of division: powers of ten (rounding to a precision, a percent fee's 100 x
// 10^18, a rate of 1) by their precomputed reciprocals, whole-number divisors (k x 10^18) in two
// steps, and any other 64-bit divisor by the hardware's 128/64 division. Divisors are built to
// hit each path; numerators span every length, with edge limbs.
TEST(DecimalProperty, PowerOfTenAndWholeDivisorsMatchReference) {
  generator gen(property_seed + 12);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal n = raw(gen.any());
    // 10^0 .. 10^38 raw: every power of ten in range, below and above 2^64.
    const int exponent = gen.uniform(0, 38);
    u128 power = 1;
    for (int k = 0; k < exponent; ++k) power *= 10;
    // A whole number of units: a power of ten times 10^18, or any 64-bit count of units.
    const u64 count = gen.coin() ? gen.bits() >> gen.uniform(0, 63) : 1;
    const u128 whole =
        u128{count == 0 ? 1 : count} * static_cast<u128>(pow10(18).convert_to<u64>());
    for (const u128 divisor : {power, whole}) {
      const decimal d =
          raw(gen.coin() ? static_cast<int128>(divisor) : -static_cast<int128>(divisor));
      for (const rounding mode : all_modes) {
        const std::string what = case_text(i, {a.raw(), n.raw(), d.raw()}, mode);
        expect_matches(a.mul_div(n, d, mode), ref_result(exact_mul_div(a, n, d), mode), what);
        expect_matches(a.div(d, mode), ref_result(exact_div(a, d), mode), what + " div");
        if (HasFatalFailure()) return;
      }
    }
  }
}

// A percent fee as pricing computes it: received x fee_percent / 100, for amounts and percents
// of every size.
TEST(DecimalProperty, PercentFeeMatchesReference) {
  generator gen(property_seed + 10);
  const decimal hundred = dec("100");
  for (int i = 0; i < cases; ++i) {
    const decimal received = raw(gen.any());
    const decimal percent = raw(gen.coin() ? gen.amount() : gen.value());
    for (const rounding mode : all_modes) {
      expect_matches(received.mul_div(percent, hundred, mode),
                     ref_result(exact_mul_div(received, percent, hundred), mode),
                     case_text(i, {received.raw(), percent.raw()}, mode));
      if (HasFatalFailure()) return;
    }
  }
}

// A percent whose raw value is a multiple of 100 (at most 16 places: every fee and keep factor)
// takes mul_div's product by percent / 100; one that is not takes the division by 100 x 10^18.
// Both against the reference, with the multiples of 100 and their neighbours at every size up to
// the range's ends (the largest multiple of 100, the most negative raw value) and every amount.
TEST(DecimalProperty, PercentByHundredthsMatchesReference) {
  generator gen(property_seed + 13);
  const decimal hundred = dec("100");
  const u128 top = (u128{1} << 127) - 1;
  const u128 top_multiple = top - top % 100;
  for (int i = 0; i < cases / 8; ++i) {
    const decimal received = raw(gen.any());
    // A multiple of 100 of any length, or one of the largest, and some neighbours.
    const int128 length = gen.value();
    u128 base = static_cast<u128>(length < 0 ? -length : length);
    if (gen.uniform(0, 7) == 0) base = top_multiple - 100 * static_cast<u128>(gen.uniform(0, 3));
    base -= base % 100;
    for (const int offset : {0, -1, 1, 4, 25, 50}) {
      const u128 m = base + static_cast<u128>(static_cast<int128>(offset));
      if (m > top) continue;
      for (const bool negative : {false, true}) {
        const decimal percent = raw(negative ? -static_cast<int128>(m) : static_cast<int128>(m));
        for (const rounding mode : all_modes) {
          expect_matches(received.mul_div(percent, hundred, mode),
                         ref_result(exact_mul_div(received, percent, hundred), mode),
                         case_text(i, {received.raw(), percent.raw()}, mode));
          if (HasFatalFailure()) return;
        }
      }
    }
  }
  // The one raw value outside the symmetric range is a multiple of 4 but not of 100.
  const decimal most_negative = raw(int128_min);
  for (const rounding mode : all_modes) {
    for (const decimal a : {dec("1"), dec("-1"), raw(1), dec("0.01"), decimal{}}) {
      expect_matches(a.mul_div(most_negative, hundred, mode),
                     ref_result(exact_mul_div(a, most_negative, hundred), mode), "most negative");
    }
  }
  // Values a fee takes: 0.25 % of 1000 is 2.5, up; 99.75 % of 4000 is 3990.
  EXPECT_EQ(dec("1000").mul_div(dec("0.25"), hundred, rounding::up).value(), dec("2.5"));
  EXPECT_EQ(dec("4000").mul_div(dec("99.75"), hundred, rounding::up).value(), dec("3990"));
  EXPECT_EQ(dec("0.000000000000000001").mul_div(dec("0.25"), hundred, rounding::up).value(),
            dec("0.000000000000000001"));
  EXPECT_EQ(dec("0.000000000000000001").mul_div(dec("0.25"), hundred, rounding::down).value(),
            decimal{});
  EXPECT_EQ(dec("-0.000000000000000002").mul_div(dec("25"), hundred, rounding::half_even).value(),
            decimal{});
  EXPECT_EQ(dec("-0.000000000000000006").mul_div(dec("25"), hundred, rounding::half_even).value(),
            dec("-0.000000000000000002"));
  EXPECT_FALSE(raw(int128_max).mul_div(dec("200"), hundred, rounding::down).has_value());
}

// 64-bit divisors and increments at the edges (1, 2^63, 2^64 - 1, ...) against numerators of
// every length: the hardware division's operands must keep its high limb below the divisor.
TEST(DecimalProperty, SixtyFourBitDivisorsMatchReference) {
  generator gen(property_seed + 11);
  const std::array<u64, 6> edges = {1, 3, u64{1} << 63, (u64{1} << 63) + 1, ~u64{0}, ~u64{0} - 1};
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal n = raw(gen.any());
    const u64 limb = gen.coin() ? edges[static_cast<std::size_t>(gen.uniform(0, 5))] : gen.bits();
    if (limb == 0) continue;
    const decimal d = raw(static_cast<int128>(limb));
    for (const rounding mode : all_modes) {
      const std::string what = case_text(i, {a.raw(), n.raw(), d.raw()}, mode);
      expect_matches(a.mul_div(n, d, mode), ref_result(exact_mul_div(a, n, d), mode), what);
      expect_matches(a.div(d, mode), ref_result(exact_div(a, d), mode), what + " div");
      const cpp_int inc = big(d.raw());
      expect_matches(a.round_to_increment(d, mode),
                     ref_fit(ref_round(big(a.raw()), inc, mode) * inc), what + " increment");
      if (HasFatalFailure()) return;
    }
  }
}

// The paths by limb count: 10^18 and the powers of ten divide two-, three- and four-limb
// numerators with shortcuts per leading zero limb (and a one-digit one when the top limb is
// below the divisor), and a two-limb divisor takes a 64-bit hardware division per digit unless
// the partial remainder's top limb equals the divisor's. Operands sit on the 64/128-bit edges
// (2^k +- small, 10^18 x 2^k), both signs, every mode; `d - r` times 2^64 + s reaches the equal
// top limbs. A power-of-ten increment rounds by the same fixed divisors.
TEST(DecimalProperty, LimbBoundariesMatchReference) {
  generator gen(property_seed + 13);
  const auto edge = [&]() -> int128 {
    const int k = gen.uniform(0, 4);
    u128 v = 0;
    if (k == 0) {
      v = u128{1} << gen.uniform(0, 126);
    } else if (k == 1) {
      v = (u128{1} << gen.uniform(56, 72)) * static_cast<u128>(pow10(18).convert_to<u64>());
    } else if (k == 2) {
      v = (u128{1} << gen.uniform(120, 126)) + gen.bits();
    } else if (k == 3) {
      v = (u128{gen.bits()} << 64) | gen.bits();
    } else {
      v = static_cast<u128>(pow10(gen.uniform(0, 38)));
    }
    v += static_cast<u128>(gen.uniform(-3, 3));  // wraps to a near-edge value either way
    v &= (u128{1} << 127) - 1;
    const auto out = static_cast<int128>(v);
    return gen.coin() ? out : -out;
  };
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(edge());
    const decimal b = raw(gen.coin() ? edge() : gen.any());
    const int places = gen.uniform(0, 18);
    // A two-limb divisor and a numerator whose partial remainder reaches its top limb.
    const u128 wide = (u128{gen.bits() | (u64{1} << 63) >> gen.uniform(0, 62)} << 64) | gen.bits();
    const decimal d = raw(static_cast<int128>(wide >> 1));
    const decimal near_d = raw(static_cast<int128>((wide >> 1) - gen.uniform(1, 1000)));
    const decimal shift = raw((int128{1} << 64) + gen.uniform(-2, 2));
    for (const rounding mode : all_modes) {
      const std::string what =
          case_text(i, {a.raw(), b.raw(), d.raw()}, mode) + " places " + std::to_string(places);
      expect_matches(a.mul(b, mode), ref_result(exact_mul(a, b), mode), what + " mul");
      if (!b.is_zero()) {
        expect_matches(a.div(b, mode), ref_result(exact_div(a, b), mode), what + " div");
      }
      expect_matches(a.checked_round(places, mode),
                     ref_fit(ref_round(big(a.raw()), pow10(18 - places), mode) *
                             pow10(18 - places)),
                     what + " round");
      expect_matches(near_d.mul_div(shift, d, mode),
                     ref_result(exact_mul_div(near_d, shift, d), mode), what + " near");
      expect_matches(a.mul_div(b, d, mode), ref_result(exact_mul_div(a, b, d), mode),
                     what + " mul_div");
      // A power-of-ten increment (10^0 .. 10^20 raw, past 10^18 too) is a rounding to places.
      int128 ten_raw = 1;
      for (int k = gen.uniform(0, 20); k > 0; --k) ten_raw *= 10;
      const cpp_int ten = big(ten_raw);
      expect_matches(a.round_to_increment(raw(ten_raw), mode),
                     ref_fit(ref_round(big(a.raw()), ten, mode) * ten), what + " increment");
      if (HasFatalFailure()) return;
    }
  }
}

// Down never increases the magnitude, up never decreases it, the two are at most one unit apart
// and half_even is one of them; checked against the exact rational, not against a rounding.
TEST(DecimalProperty, RoundingDirection) {
  generator gen(property_seed + 6);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal b = raw(gen.any());
    const decimal c = raw(gen.any());
    if (b.is_zero() || c.is_zero()) continue;
    struct operation {
      const char* name;
      result<decimal> down, up, half_even;
      exact value;
    };
    const std::array<operation, 3> operations = {
        operation{"mul", a.mul(b, rounding::down), a.mul(b, rounding::up),
                  a.mul(b, rounding::half_even), exact_mul(a, b)},
        operation{"div", a.div(b, rounding::down), a.div(b, rounding::up),
                  a.div(b, rounding::half_even), exact_div(a, b)},
        operation{"mul_div", a.mul_div(b, c, rounding::down), a.mul_div(b, c, rounding::up),
                  a.mul_div(b, c, rounding::half_even), exact_mul_div(a, b, c)},
    };
    for (const operation& op : operations) {
      const std::string what =
          case_text(i, {a.raw(), b.raw(), c.raw()}, rounding::down) + " " + op.name;
      if (!op.down || !op.up || !op.half_even) continue;
      const cpp_int num = abs(op.value.num);
      const cpp_int den = abs(op.value.den);
      const cpp_int down = abs(big(op.down->raw()));
      const cpp_int up = abs(big(op.up->raw()));
      const cpp_int down_times_den = down * den;
      const cpp_int up_times_den = up * den;
      const cpp_int gap = up - down;
      ASSERT_LE(down_times_den, num) << what;
      ASSERT_GE(up_times_den, num) << what;
      ASSERT_LE(gap, 1) << what;
      ASSERT_TRUE(*op.half_even == *op.down || *op.half_even == *op.up) << what;
      const bool negative = (op.value.num < 0) != (op.value.den < 0);
      if (!op.up->is_zero()) {
        ASSERT_EQ(op.up->is_negative(), negative) << what;
      }
    }
  }
}

TEST(DecimalProperty, MulThenDivComesBack) {
  generator gen(property_seed + 7);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal b = raw(gen.any());
    if (b.is_zero()) continue;
    const std::string what = case_text(i, {a.raw(), b.raw()}, rounding::down);
    const cpp_int mag = abs(big(a.raw()));
    // Rounding toward zero twice can only shrink; away from zero twice can only grow.
    const result<decimal> product_down = a.mul(b, rounding::down);
    const result<decimal> product_up = a.mul(b, rounding::up);
    if (product_down) {
      const result<decimal> back = product_down->div(b, rounding::down);
      ASSERT_TRUE(back.has_value()) << what;
      ASSERT_LE(abs(big(back->raw())), mag) << what;
    }
    if (product_up) {
      const result<decimal> back = product_up->div(b, rounding::up);
      if (back) {
        ASSERT_GE(abs(big(back->raw())), mag) << what;
      }
    }
    // With |b| >= 1 the product's rounding error shrinks on the way back: within one unit, on
    // the side the mode promises.
    if (abs(big(b.raw())) < big_scale()) continue;
    for (const rounding mode : all_modes) {
      const result<decimal> product = a.mul(b, mode);
      if (!product) continue;
      const result<decimal> back = product->div(b, mode);
      ASSERT_TRUE(back.has_value()) << what << " " << name(mode);
      const cpp_int got = abs(big(back->raw()));
      if (!back->is_zero()) {
        ASSERT_EQ(back->is_negative(), a.is_negative()) << what;
      }
      if (mode == rounding::down) {
        ASSERT_TRUE(got == mag || got + 1 == mag) << what;
      }
      if (mode == rounding::up) {
        ASSERT_TRUE(got == mag || got == mag + 1) << what;
      }
      if (mode == rounding::half_even) {
        ASSERT_TRUE(got + 1 >= mag && got <= mag + 1) << what;
      }
    }
  }
}

TEST(DecimalProperty, ComparisonsAgreeWithReference) {
  generator gen(property_seed + 8);
  for (int i = 0; i < cases; ++i) {
    const decimal a = raw(gen.any());
    const decimal b = gen.uniform(0, 9) == 0 ? a : raw(gen.any());
    const cpp_int x = big(a.raw());
    const cpp_int y = big(b.raw());
    const std::string what = case_text(i, {a.raw(), b.raw()}, rounding::down);
    ASSERT_EQ(a < b, x < y) << what;
    ASSERT_EQ(a == b, x == y) << what;
    ASSERT_EQ(a > b, x > y) << what;
    ASSERT_EQ(a <= b, x <= y) << what;
    ASSERT_EQ(a.is_negative(), x < 0) << what;
    ASSERT_EQ(a.is_zero(), x == 0) << what;
  }
}

TEST(DecimalProperty, RandomTextMatchesReference) {
  generator gen(property_seed + 9);
  for (int i = 0; i < cases; ++i) {
    const int int_count = gen.uniform(0, 24);
    const int frac_count = gen.uniform(int_count == 0 ? 1 : 0, 30);
    const std::string int_part = gen.digits(int_count);
    const std::string frac_part = gen.digits(frac_count);
    const bool negative = gen.coin();
    const bool has_exponent = gen.coin();
    const int exponent = has_exponent ? gen.uniform(-45, 45) : 0;

    std::string text;
    if (negative)
      text += '-';
    else if (gen.uniform(0, 3) == 0)
      text += '+';
    text += int_part;
    if (frac_count > 0 || gen.uniform(0, 3) == 0) text += '.';
    text += frac_part;
    if (has_exponent) {
      text += gen.coin() ? 'e' : 'E';
      if (exponent >= 0 && gen.coin()) text += '+';
      text += std::to_string(exponent);
    }

    // raw = D * 10^(18 + exponent - F), where D is all the digits as one integer.
    cpp_int digits = 0;
    for (const char c : int_part + frac_part) digits = digits * 10 + (c - '0');
    if (negative) digits = -digits;
    const int shift = 18 + exponent - frac_count;
    const exact value = shift >= 0 ? exact{digits * pow10(shift), 1} : exact{digits, pow10(-shift)};
    const bool is_exact = value.num % value.den == 0;

    const std::string what = "seed " + std::to_string(property_seed + 9) + " case " +
                             std::to_string(i) + ": \"" + text + "\"";
    const std::optional<decimal> want_exact =
        is_exact ? ref_fit(value.num / value.den) : std::nullopt;
    expect_matches(decimal::parse(text), want_exact, what);
    for (const rounding mode : all_modes) {
      expect_matches(decimal::parse(text, mode), ref_result(value, mode), what + " " + name(mode));
    }
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace swaprouter
