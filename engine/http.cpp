#include "engine/http.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace swaprouter {

std::string_view find_header(const http_headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (boost::algorithm::iequals(key, name)) return value;
  }
  return {};
}

}  // namespace swaprouter
