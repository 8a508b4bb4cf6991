// StableStack response parsers: every parse_* entry point, picked by the first input byte, and
// the leg pairing and state mapping applied to what they return.
#include <cstddef>
#include <cstdint>

#include "adapters/stablestack/parse.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
namespace ss = swaprouter::stablestack;

namespace {

void check_legs(const ss::transaction& debit, const ss::transaction& credit) {
  const auto status = ss::to_leg_status(debit, credit, "client");
  sf::require(sf::printable_and_bounded(status.provider_status) &&
                  sf::printable_and_bounded(status.reason_message),
              "leg status text not escaped");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = sf::split(data, size, 7);
  switch (in.which) {
    case 0:
      sf::check_error(ss::parse_quote(in.body));
      break;
    case 1: {
      auto swap = ss::parse_swap(in.body);
      sf::check_error(swap);
      if (swap) check_legs(swap->debit, swap->credit);
      break;
    }
    case 2: {
      auto page = ss::parse_transactions(in.body);
      sf::check_error(page);
      if (page && !page->items.empty()) {
        auto pair = ss::pair_legs(page->items, page->items.front().reference_id);
        sf::check_error(pair);
        if (pair) check_legs(pair->debit, pair->credit);
      }
      break;
    }
    case 3:
      sf::check_error(ss::parse_transaction(in.body));
      break;
    case 4:
      sf::check_error(ss::parse_wallets(in.body));
      break;
    case 5:
      sf::check_error(ss::parse_wallet(in.body));
      break;
    default: {
      const auto e = ss::parse_error_body(in.body);
      sf::require(sf::printable_and_bounded(e.code) && sf::printable_and_bounded(e.message) &&
                      sf::printable_and_bounded(e.reason),
                  "provider_error not a safe excerpt");
      break;
    }
  }
  return 0;
}
