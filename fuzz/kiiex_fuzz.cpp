// KIIEX (AlphaPoint APEX) response parsers: every parse_* entry point, picked by the first input
// byte.
#include <cstddef>
#include <cstdint>

#include "adapters/kiiex/parse.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
namespace kiiex = swaprouter::kiiex;

namespace {

// Best first on both sides, as parse_l2_snapshot promises.
void check_book(const kiiex::order_book& book) {
  for (std::size_t i = 1; i < book.bids.size(); ++i) {
    sf::require(book.bids[i - 1].price > book.bids[i].price, "bids not strictly descending");
  }
  for (std::size_t i = 1; i < book.asks.size(); ++i) {
    sf::require(book.asks[i - 1].price < book.asks[i].price, "asks not strictly ascending");
  }
  for (const auto& level : book.bids) sf::require(level.quantity.is_positive(), "empty bid level");
  for (const auto& level : book.asks) sf::require(level.quantity.is_positive(), "empty ask level");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = sf::split(data, size, 14);
  switch (in.which) {
    case 0: {
      auto login = kiiex::parse_login(in.body);
      sf::check_error(login);
      if (login) sf::require(sf::printable_and_bounded(login->errormsg), "errormsg not escaped");
      break;
    }
    case 1:
      (void)kiiex::parse_generic(in.body);
      break;
    case 2:
      sf::check_error(kiiex::parse_instruments(in.body));
      break;
    case 3:
      sf::check_error(kiiex::parse_instrument(in.body));
      break;
    case 4:
      sf::check_error(kiiex::parse_products(in.body));
      break;
    case 5:
      sf::check_error(kiiex::parse_level1(in.body));
      break;
    case 6: {
      auto book = kiiex::parse_l2_snapshot(in.body, 1);
      sf::check_error(book);
      if (book) check_book(*book);
      break;
    }
    case 7:
      sf::check_error(kiiex::parse_level1_summary_min(in.body));
      break;
    case 8:
      sf::check_error(kiiex::parse_order_fee(in.body));
      break;
    case 9:
      sf::check_error(kiiex::parse_send_order(in.body));
      break;
    case 10:
      sf::check_error(kiiex::parse_order_status(in.body));
      break;
    case 11:
      sf::check_error(kiiex::parse_orders(in.body));
      break;
    case 12:
      sf::check_error(kiiex::parse_trades(in.body));
      break;
    default:
      sf::check_error(kiiex::parse_positions(in.body));
      break;
  }
  return 0;
}
