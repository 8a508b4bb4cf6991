#include "engine/venue_types.hpp"

namespace swaprouter {

bool is_final(leg_state state) noexcept {
  switch (state) {
    case leg_state::open:
    case leg_state::unrecognised:
      return false;
    default:
      return true;
  }
}

std::string_view to_string(leg_state state) noexcept {
  switch (state) {
    case leg_state::open: return "open";
    case leg_state::filled: return "filled";
    case leg_state::partially_filled: return "partially_filled";
    case leg_state::expired: return "expired";
    case leg_state::cancelled: return "cancelled";
    case leg_state::failed: return "failed";
    case leg_state::unrecognised: return "unrecognised";
  }
  return "unrecognised";
}

}  // namespace swaprouter
