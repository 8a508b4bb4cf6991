// OxaPay response parsers: every parse_* entry point, picked by the first input byte.
#include <cstddef>
#include <cstdint>

#include "adapters/oxapay/parse.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
namespace ox = swaprouter::oxapay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = sf::split(data, size, 7);
  switch (in.which) {
    case 0: {
      auto s = ox::parse_swap(in.body);
      sf::check_error(s);
      if (s) (void)ox::to_leg_status(*s, "client");
      break;
    }
    case 1:
      sf::check_error(ox::parse_calculation(in.body));
      break;
    case 2: {
      auto rate = ox::parse_rate(in.body);
      sf::check_error(rate);
      if (rate) sf::require(rate->is_positive(), "rate not > 0");
      break;
    }
    case 3:
      sf::check_error(ox::parse_pairs(in.body));
      break;
    case 4:
      sf::check_error(ox::parse_history(in.body));
      break;
    case 5:
      sf::check_error(ox::parse_balances(in.body));
      break;
    default: {
      const auto e = ox::parse_error_body(in.body);
      sf::require(sf::printable_and_bounded(e.type) && sf::printable_and_bounded(e.key) &&
                      sf::printable_and_bounded(e.message),
                  "provider_error not a safe excerpt");
      break;
    }
  }
  return 0;
}
