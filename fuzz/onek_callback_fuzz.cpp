// 001k callbacks: the provider POSTs the swap object (seed 004 "Callback Payload": the same data
// as the details answer) to our URL. The body is untrusted and unauthenticated; it is read with
// parse_swap and only ever becomes a hint (FAULTS.md security rule 4), so it must parse or fail
// cleanly and map to a state without surprises.
#include <cstddef>
#include <cstdint>

#include "adapters/onek/parse.hpp"
#include "fuzz/fuzz_support.hpp"

namespace sf = swaprouter::fuzz;
namespace onek = swaprouter::onek;
using swaprouter::leg_state;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto s = onek::parse_swap(body);
  sf::check_error(s);
  if (!s) return 0;
  const auto status = onek::to_leg_status(*s);
  sf::require(status.ref.provider_ref == s->code, "callback: provider ref is not the code");
  sf::require(sf::printable_and_bounded(status.provider_status), "callback: status not escaped");
  // Only a documented status maps to a known state.
  const bool documented = s->status == "open" || s->status == "success" || s->status == "failed";
  sf::require(documented == (status.state != leg_state::unrecognised),
              "callback: undocumented status mapped to a known state");
  return 0;
}
