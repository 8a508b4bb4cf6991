// Plain HTTP request/response values and the asynchronous client interface. Adapters build and
// parse these values; only engine/http_client.cpp touches sockets (and Beast).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "engine/result.hpp"

namespace swaprouter {

using http_headers = std::vector<std::pair<std::string, std::string>>;

/// Finds a header by case-insensitive name; empty view when absent.
std::string_view find_header(const http_headers& headers, std::string_view name) noexcept;

struct http_request {
  std::string method = "GET";  ///< "GET", "POST", ...
  std::string target;          ///< path with the query string, exactly as sent and signed
  http_headers headers;        ///< in order; Host, Content-Length and Connection are added by the client
  std::string body;
  /// Called once, when the whole request has been written and before its answer is read; never
  /// when the request failed before that. Not sent. Where the fault tests' crash points sit
  /// (engine/submit_watch.hpp).
  std::function<void()> on_written;
};

/// A request that asks for a JSON answer, as every provider's request starts: Accept:
/// application/json, then Content-Type: application/json for a POST. Callers append their
/// authentication headers after these two.
http_request json_request(std::string_view method, std::string target, std::string body = {});

struct http_response {
  int status = 0;
  http_headers headers;
  std::string body;
  std::string_view header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

/// The error of kind http_status for a non-2xx answer, with its status and a bounded excerpt of
/// its body (provider text, escaped for logs).
error status_error(const http_response& response);

/// Where a client connects and how.
struct http_endpoint {
  std::string host = "127.0.0.1";  ///< name used for the connection, SNI and host-name check
  std::uint16_t port = 443;
  bool tls = true;
  /// Extra trusted CA in PEM (tests, simulate mode); the system store is used besides it unless
  /// `only_extra_ca` is set.
  std::string extra_ca_pem;
  bool only_extra_ca = false;
  std::size_t pool_size = 4;                 ///< kept-alive connections at most
  std::size_t max_body_bytes = 8u << 20;     ///< larger answers fail with too_large
  std::chrono::milliseconds connect_timeout{3000};  ///< TCP connect plus TLS handshake
};

/// Counters a test or a metric reads.
struct http_client_stats {
  std::uint64_t connections_opened = 0;
  std::uint64_t requests_sent = 0;
};

/// An HTTP/1.1 client for one host with a keep-alive connection pool. Every request has a
/// deadline covering connect, TLS, write and read. Redirects are never followed (a 3xx is an error
/// of kind redirect). Not thread-safe: use it from the executor it was made with.
class http_client {
 public:
  virtual ~http_client() = default;
  /// Sends `request` and reads the whole answer before `timeout` elapses. Non-2xx answers are
  /// returned as values (status set); only transport failures, 3xx and oversize bodies are errors.
  virtual boost::asio::awaitable<result<http_response>> send(
      http_request request, std::chrono::steady_clock::duration timeout) = 0;
  /// Opens up to `count` connections ahead of use so no handshake lands on a decision path.
  virtual boost::asio::awaitable<void> warm(std::size_t count) = 0;
  virtual http_client_stats stats() const = 0;
  virtual const http_endpoint& endpoint() const = 0;
};

std::unique_ptr<http_client> make_http_client(boost::asio::any_io_executor executor,
                                              http_endpoint endpoint);

}  // namespace swaprouter
