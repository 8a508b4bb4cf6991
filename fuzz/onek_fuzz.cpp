// 001k response parsers: every parse_* entry point, picked by the first input byte.
#include <cstddef>
#include <cstdint>

#include "adapters/onek/parse.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
namespace onek = swaprouter::onek;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = sf::split(data, size, 7);
  switch (in.which) {
    case 0:
      sf::check_error(onek::parse_status(in.body));
      break;
    case 1:
      sf::check_error(onek::parse_directions(in.body));
      break;
    case 2: {
      auto s = onek::parse_swap(in.body);
      sf::check_error(s);
      if (s) (void)onek::to_leg_status(*s);
      break;
    }
    case 3: {
      auto list = onek::parse_swap_list(in.body);
      sf::check_error(list);
      if (list) {
        for (const auto& s : *list) (void)onek::to_leg_status(s);
      }
      break;
    }
    case 4:
      sf::check_error(onek::parse_balances(in.body));
      break;
    case 5: {
      const auto e = onek::parse_error_body(in.body);
      sf::require(sf::printable_and_bounded(e.code) && sf::printable_and_bounded(e.message),
                  "provider_error not a safe excerpt");
      break;
    }
    default: {
      auto t = onek::parse_timestamp(in.body);
      sf::check_error(t);
      // What we format we read back (to the millisecond format_timestamp keeps).
      if (t) {
        const auto again = onek::parse_timestamp(onek::format_timestamp(*t));
        sf::require(!again || *again == std::chrono::floor<std::chrono::milliseconds>(*t),
                    "timestamp does not read back");
      }
      break;
    }
  }
  return 0;
}
