#include "engine/http.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <fmt/format.h>

#include "engine/redact.hpp"

namespace swaprouter {

std::string_view find_header(const http_headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (boost::algorithm::iequals(key, name)) return value;
  }
  return {};
}

http_request json_request(std::string_view method, std::string target, std::string body) {
  constexpr std::string_view json = "application/json";
  http_request r;
  r.method = std::string(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.emplace_back("Accept", json);
  if (method == "POST") r.headers.emplace_back("Content-Type", json);
  return r;
}

error status_error(const http_response& response) {
  constexpr std::size_t max_excerpt = 200;
  std::string excerpt;
  const std::string body = redact(response.body);
  for (char c : std::string_view(body).substr(0, max_excerpt)) {
    const auto byte = static_cast<unsigned char>(c);
    // Provider text reaches logs: keep it on one line and printable.
    if (byte < 0x20 || byte >= 0x7f) {
      excerpt += fmt::format("\\x{:02x}", byte);
    } else {
      excerpt += c;
    }
  }
  if (body.size() > max_excerpt) excerpt += "...";
  error e = make_error(error_kind::http_status,
                       fmt::format("HTTP {}: {}", response.status, excerpt));
  e.http_status = response.status;
  e.may_have_reached = true;
  return e;
}

}  // namespace swaprouter
