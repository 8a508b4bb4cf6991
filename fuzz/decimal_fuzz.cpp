// The exact decimal: parsing of any text (the forms providers send and hostile ones: 1e400,
// 300-digit fractions, NaN, signs and exponents everywhere) and the arithmetic's properties on
// whatever parses. Input: byte 0 picks the rounding modes, byte 1 the places, then "A" or "A\nB".
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/decimal.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
using swaprouter::decimal;
using swaprouter::int128;
using swaprouter::rounding;

namespace {

constexpr rounding modes[] = {rounding::down, rounding::up, rounding::half_even};

int128 distance(decimal a, decimal b) {
  const int128 d = a.raw() - b.raw();  // used on values of one sign: cannot overflow
  return d < 0 ? -d : d;
}

// The two directed roundings of one exact value differ by at most one `unit` (in raw units), the
// one down being nearer zero.
void check_directed(const swaprouter::result<decimal>& down, const swaprouter::result<decimal>& up,
                    const char* what, int128 unit = 1) {
  if (!down || !up) return;
  sf::require(down->abs() <= up->abs(), what);
  const auto gap = up->checked_sub(*down);
  sf::require(gap.has_value() && gap->abs() <= decimal::from_raw(unit), what);
}

int128 unit_of(int places) {
  int128 unit = 1;
  for (int i = places; i < decimal::scale; ++i) unit *= 10;
  return unit;
}

void check_one(decimal a, int places, rounding mode) {
  // The shortest form reads back exactly.
  const auto back = decimal::parse(a.to_string());
  sf::require(back && *back == a, "to_string does not read back");
  // Formatting to `places` is the same rounding as checked_round.
  const auto rounded = a.checked_round(places, mode);
  if (rounded) {
    const auto text = decimal::parse(a.to_string(places, mode));
    sf::require(text && *text == *rounded, "to_string(places) differs from checked_round");
  }
  check_directed(a.checked_round(places, rounding::down), a.checked_round(places, rounding::up),
                 "checked_round down/up", unit_of(places));
}

void check_two(decimal a, decimal b, rounding mode) {
  if (const auto sum = a.checked_add(b)) {
    const auto again = sum->checked_sub(b);
    sf::require(again && *again == a, "(a + b) - b != a");
  }
  check_directed(a.mul(b, rounding::down), a.mul(b, rounding::up), "mul down/up");
  if (!b.is_zero()) {
    check_directed(a.div(b, rounding::down), a.div(b, rounding::up), "div down/up");
    // a * b / b has a single rounding of an exact value: a itself.
    const auto same = a.mul_div(b, b, mode);
    sf::require(same && *same == a, "a * b / b != a");
  }
  if (b.is_positive()) {
    const auto r = a.round_to_increment(b, mode);
    if (r) {
      sf::require(r->raw() % b.raw() == 0, "round_to_increment: not a multiple");
      if (mode == rounding::down) sf::require(r->abs() <= a.abs(), "increment down grew");
      if (mode == rounding::up) sf::require(r->abs() >= a.abs(), "increment up shrank");
      if (mode != rounding::up) sf::require(distance(*r, a) < b.raw(), "increment too far");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const rounding mode = modes[data[0] % 3];
  const unsigned excess_pick = (data[0] / 3) % 4;  // 0: no excess rounding
  const int places = data[1] % (decimal::scale + 1);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto newline = text.find('\n');
  const std::string_view text_a = text.substr(0, newline);
  const std::optional<rounding> excess =
      excess_pick == 0 ? std::nullopt : std::optional<rounding>(modes[excess_pick - 1]);

  const auto a = decimal::parse(text_a, excess);
  sf::check_error(a);
  // Text that parses exactly parses to the same value under any excess rounding.
  if (const auto exact = decimal::parse(text_a)) {
    for (const rounding m : modes) {
      const auto r = decimal::parse(text_a, m);
      sf::require(r && *r == *exact, "excess rounding changed an exact value");
    }
  }
  check_directed(decimal::parse(text_a, rounding::down), decimal::parse(text_a, rounding::up),
                 "parse down/up");
  if (!a) return 0;
  check_one(*a, places, mode);
  if (newline == std::string_view::npos) return 0;
  const auto b = decimal::parse(text.substr(newline + 1), excess);
  sf::check_error(b);
  if (b) check_two(*a, *b, mode);
  return 0;
}
