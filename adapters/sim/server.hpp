// The HTTP(S) server every provider emulator plugs its routes into, with fault and latency
// injection and an admin API. Beast and Asio SSL stay inside server.cpp.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/sim/fault.hpp"
#include "engine/cert_authority.hpp"
#include "engine/http.hpp"

namespace swaprouter::sim {

using param_list = std::vector<std::pair<std::string, std::string>>;

/// One request as an emulator sees it.
struct sim_request {
  std::string method;           ///< "GET", "POST", ...
  std::string target;           ///< path and query exactly as received
  std::string path;             ///< target before '?', not decoded
  std::string query;            ///< target after '?', raw
  param_list query_params;      ///< decoded ('+' and %XX), in order; "a" without '=' has value ""
  http_headers headers;         ///< in order, as received
  std::string body;             ///< decoded from Content-Length or chunked framing
  std::string remote_address;   ///< peer IP address
  param_list path_params;       ///< values of the route's "{name}" segments, %XX decoded
  std::string tls_server_name;  ///< SNI the client sent; empty for plain TCP or no SNI

  /// Header value by case-insensitive name; empty when absent.
  std::string_view header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
  /// First query parameter with this exact name; nullopt when absent.
  std::optional<std::string_view> query_param(std::string_view name) const noexcept;
  /// Path parameter by name; empty when the route has no such segment.
  std::string_view path_param(std::string_view name) const noexcept;
};

/// One answer. The server adds Content-Length, Connection and Server.
struct sim_response {
  int status = 200;
  http_headers headers;
  std::string body;

  /// An answer with Content-Type: application/json.
  static sim_response json(int status, std::string body);
};

/// Emulators are in-memory and synchronous: a handler runs on the server thread and returns.
using route_handler = std::function<sim_response(const sim_request&)>;

/// Runs before a matched emulator route (never for admin routes or unknown paths), e.g. for
/// authentication or rate limits; an answer it returns is sent instead of calling the handler.
using before_route_hook =
    std::function<std::optional<sim_response>(const sim_request&, std::string_view route_pattern)>;

struct server_options {
  /// "127.0.0.1" or "::1"; anything else makes the constructor throw std::invalid_argument.
  std::string bind_address = "127.0.0.1";
  /// 0 picks an ephemeral port; see server::port().
  std::uint16_t port = 0;
  /// Serve TLS with this certificate and key (e.g. from cert_authority::issue); plain when empty.
  std::optional<issued_cert> tls;
  /// Larger request bodies get 413 and the connection is closed.
  std::size_t max_body_bytes = std::size_t{1} << 20;
  /// Larger request headers (request line included) get 431 and the connection is closed.
  std::size_t max_header_bytes = std::size_t{16} << 10;
  /// Time allowed for the TLS handshake, for each complete request to arrive (a keep-alive
  /// connection idle for longer is closed) and for each response write.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Latency added to every non-admin request before it is handled.
  latency_model latency;
  /// Seeds the latency and fault draws, so a seeded run replays exactly.
  std::uint64_t seed = 1;
  /// Serve the /_sim/ admin API. Off for a listener that is not an emulator (the bot's): the API
  /// has no authentication and would let any local process inject faults; /_sim/ paths then
  /// answer 404 like any unknown path.
  bool admin_api = true;
  /// The request log keeps at most this many entries (oldest dropped first).
  std::size_t request_log_capacity = 10'000;
};

/// Counters for tests. requests_received counts non-admin requests whose bytes were completely
/// read (a client that aborts the TLS handshake leaves it unchanged).
struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t tls_handshakes = 0;  ///< completed
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t requests_received = 0;  ///< emulator routes and unknown paths
  std::uint64_t admin_requests = 0;     ///< under /_sim/
  std::uint64_t bad_requests = 0;       ///< unparsable, too large headers or body
  std::uint64_t faults_injected = 0;
};

/// What the request log keeps of a non-admin request. Header values are never kept (they hold
/// credentials and signatures), nor the body: the log is the emulator's and must hold no secret.
struct request_log_entry {
  std::chrono::system_clock::time_point time;  ///< when the request was completely read
  std::string method;
  std::string target;
  std::string route;  ///< matched pattern; empty for an unknown path
  std::vector<std::string> header_names;
  std::size_t body_bytes = 0;
  int status = 0;     ///< status line sent; 0 when none was (drop, reset)
  std::string fault;  ///< fault kind applied; empty when none
};

/// An HTTP/1.1 server on a loopback address, plain or TLS, for the provider emulators.
///
/// Emulator routes are registered with `route`; the admin API lives under /_sim/ on the same
/// listener, without authentication (loopback only):
///   GET /_sim/faults                     {"faults":[...]} (see faults_to_json)
///   POST /_sim/faults                    sets one fault (see parse_fault_rule)
///   DELETE /_sim/faults[?route=PATTERN]  clears all faults, or those of one pattern
///   GET /_sim/requests, DELETE /_sim/requests   the request log, or clears it
///   GET /_sim/ledger                     the JSON of the `set_ledger` callback; {} without one
///   GET /_sim/latency, PUT /_sim/latency {"p50_ms":N,"p99_ms":N}
///   GET /_sim/stats                      the counters of server_stats
/// plus routes an emulator adds with `add_admin_route`. Admin routes see no faults and no latency.
///
/// Connections are kept alive; request bodies may use Content-Length or chunked framing. A
/// handler that throws gets a 500 answer. Bad input (garbage, oversize headers or body, a TLS
/// client that leaves mid-handshake) closes that connection and nothing else.
///
/// Thread-safety: the server runs on one executor, which one thread must run (an io_context on
/// a single thread). Register routes, hooks and the ledger before `start()`. `faults()`,
/// `set_latency`, `stats`, `requests`, `clear_requests`, `port` and `stop` may be called from any
/// thread. The executor's execution context must outlive the server.
class server {
 public:
  /// Validates the options (throws std::invalid_argument for a non-loopback bind address, a bad
  /// TLS certificate or key); binds nothing yet.
  server(boost::asio::any_io_executor executor, server_options options);
  ~server();  ///< stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Adds an emulator route. `pattern` is a path whose segments are literal or "{name}", e.g.
  /// "/api/v1/swap/{code}". Routes are tried in the order they were added. An unknown path is
  /// answered 404, a known path with another method 405, both as JSON.
  void route(std::string method, std::string pattern, route_handler handler);
  /// Adds an admin route; `pattern` must start with "/_sim/".
  void add_admin_route(std::string method, std::string pattern, route_handler handler);
  void set_before_route(before_route_hook hook);
  /// The callback behind GET /_sim/ledger; it runs on the server thread.
  void set_ledger(std::function<std::string()> ledger);

  /// Binds the listener (throws boost::system::system_error when it cannot) and starts accepting
  /// on the executor. Call once.
  void start();
  /// Closes the listener and every connection: idle ones, ones waiting out a latency or a fault
  /// delay, and ones held by a `drop` fault at once; an answer being written is finished first
  /// (within idle_timeout). No handler runs once stop() has returned, from any thread. On the
  /// server thread the closing happens at once; from another thread it is queued to the executor
  /// and stop() returns without waiting for it. Idempotent.
  void stop();

  /// The bound port (after start), ephemeral when options.port was 0.
  std::uint16_t port() const noexcept;
  bool tls() const noexcept;
  /// "http://127.0.0.1:PORT" or "https://[::1]:PORT".
  std::string base_url() const;

  fault_table& faults() noexcept;
  void set_latency(latency_model model);
  latency_model latency() const;
  server_stats stats() const noexcept;
  std::vector<request_log_entry> requests() const;
  void clear_requests();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace swaprouter::sim
