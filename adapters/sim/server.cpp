#include "adapters/sim/server.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace swaprouter::sim {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// What a truncated or malformed answer looks like: a JSON document cut in the middle.
constexpr std::string_view malformed_json_body = R"({"data": [1, 2,)";
constexpr std::string_view timeout_400_body = R"({"code":"timeout","message":"Request timeout"})";
constexpr std::string_view server_name = "swaprouter-sim";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Invalid escapes are kept as they are: the emulator sees what the client sent.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

param_list parse_query(std::string_view query) {
  param_list params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    params.emplace_back(
        percent_decode(pair.substr(0, eq), true),
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
  }
  return params;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_admin_path(std::string_view path) { return path == "/_sim" || path.starts_with("/_sim/"); }

std::string iso_time(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t t = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return text;
}

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

sim_response error_response(int status, std::string_view code, std::string_view message) {
  rapidjson::StringBuffer out;
  json_writer w(out);
  w.StartObject();
  w.Key("error");
  write_string(w, code);
  w.Key("message");
  write_string(w, message);
  w.EndObject();
  return sim_response::json(status, std::string(out.GetString(), out.GetSize()));
}

sim_response ok_response() { return sim_response::json(200, R"({"ok":true})"); }

struct route_entry {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  route_handler handler;
};

struct route_match {
  const route_entry* route = nullptr;
  param_list params;
  std::string allowed;  // methods of routes whose pattern matched, for 405
};

std::optional<param_list> match_pattern(const route_entry& route,
                                        const std::vector<std::string_view>& segments) {
  if (route.segments.size() != segments.size()) return std::nullopt;
  param_list params;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (segments[i].empty()) return std::nullopt;
      params.emplace_back(want.substr(1, want.size() - 2), percent_decode(segments[i], false));
    } else if (want != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

route_match find_route(const std::vector<route_entry>& routes, std::string_view method,
                       std::string_view path) {
  route_match match;
  const auto segments = split_path(path);
  for (const auto& route : routes) {
    auto params = match_pattern(route, segments);
    if (!params) continue;
    if (route.method == method) {
      match.route = &route;
      match.params = std::move(*params);
      return match;
    }
    if (!match.allowed.empty()) match.allowed += ", ";
    match.allowed += route.method;
  }
  return match;
}

route_entry make_route(std::string method, std::string pattern, route_handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  if (!handler) throw std::invalid_argument("route handler is empty: " + pattern);
  route_entry entry{std::move(method), std::move(pattern), {}, std::move(handler)};
  for (std::string_view segment : split_path(entry.pattern)) entry.segments.emplace_back(segment);
  return entry;
}

template <class Body>
void apply_status(http::response<Body>& msg, int status) {
  msg.result(static_cast<unsigned>(status >= 100 && status <= 999 ? status : 500));
}

http::response<http::string_body> to_message(sim_response res, bool keep_alive, unsigned version) {
  http::response<http::string_body> msg;
  msg.version(version);
  apply_status(msg, res.status);
  for (auto& [name, value] : res.headers) msg.insert(name, value);
  if (msg.find(http::field::server) == msg.end()) msg.set(http::field::server, server_name);
  msg.body() = std::move(res.body);
  msg.keep_alive(keep_alive);
  msg.prepare_payload();
  return msg;
}

sim_response fault_answer(const fault& f) {
  switch (f.kind) {
    case fault_kind::status: {
      sim_response res =
          sim_response::json(f.status, f.body.empty() ? R"({"error":"injected"})" : f.body);
      if (!f.retry_after_date.empty()) {
        res.headers.emplace_back("Retry-After", f.retry_after_date);
      } else if (f.retry_after_seconds) {
        res.headers.emplace_back("Retry-After", std::to_string(*f.retry_after_seconds));
      }
      return res;
    }
    case fault_kind::timeout_400:
      return sim_response::json(400, f.body.empty() ? std::string(timeout_400_body) : f.body);
    case fault_kind::redirect: {
      sim_response res;
      res.status = f.status >= 300 && f.status <= 399 ? f.status : 302;
      res.headers.emplace_back("Location", f.body);
      return res;
    }
    default:
      return error_response(500, "internal", "no answer for this fault kind");
  }
}

}  // namespace

std::optional<std::string_view> sim_request::query_param(std::string_view name) const noexcept {
  for (const auto& [key, value] : query_params) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view sim_request::path_param(std::string_view name) const noexcept {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

sim_response sim_response::json(int status, std::string body) {
  return sim_response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

struct server::impl : std::enable_shared_from_this<impl> {
  // What stop() needs to end a connection: its socket, its waits, and whether an answer is
  // being written (that one is finished first, within idle_timeout).
  struct connection {
    connection(const net::any_io_executor& executor, std::function<void()> close_socket)
        : close(std::move(close_socket)), timer(executor) {}
    std::function<void()> close;
    net::steady_timer timer;
    bool writing = false;
  };

  // Registers a connection for stop() for as long as the session runs.
  class connection_scope {
   public:
    connection_scope(impl& owner, std::function<void()> close_socket)
        : owner_(owner),
          connection_(owner.executor_, std::move(close_socket)),
          id_(++owner.next_connection_id_) {
      owner_.connections_.emplace(id_, &connection_);
    }
    ~connection_scope() { owner_.connections_.erase(id_); }
    connection_scope(const connection_scope&) = delete;
    connection_scope& operator=(const connection_scope&) = delete;
    connection& get() noexcept { return connection_; }

   private:
    impl& owner_;
    connection connection_;
    std::uint64_t id_;
  };

  struct counters {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> tls_handshakes{0};
    std::atomic<std::uint64_t> tls_handshake_failures{0};
    std::atomic<std::uint64_t> requests_received{0};
    std::atomic<std::uint64_t> admin_requests{0};
    std::atomic<std::uint64_t> bad_requests{0};
    std::atomic<std::uint64_t> faults_injected{0};
  };

  impl(net::any_io_executor executor, server_options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        acceptor_(executor_),
        faults_(options_.seed),
        latency_(options_.latency),
        rng_(options_.seed ^ 0x9e3779b97f4a7c15ULL) {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(options_.bind_address, ec);
    if (ec || (address != net::ip::address(net::ip::address_v4::loopback()) &&
               address != net::ip::address(net::ip::address_v6::loopback()))) {
      throw std::invalid_argument("the emulator server binds 127.0.0.1 or ::1 only, not '" +
                                  options_.bind_address + "'");
    }
    endpoint_ = tcp::endpoint(address, options_.port);
    if (options_.tls) make_tls_context();
    add_builtin_admin_routes();
  }

  void make_tls_context() {
    try {
      ssl_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(ssl_->native_handle(), TLS1_2_VERSION);
      ssl_->use_certificate_chain(net::buffer(options_.tls->cert_pem));
      ssl_->use_private_key(net::buffer(options_.tls->key_pem), ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      throw std::invalid_argument(std::string("bad TLS certificate or key: ") + e.what());
    }
  }

  void start() {
    if (stopping_) throw std::logic_error("the emulator server was stopped");
    if (started_.exchange(true)) throw std::logic_error("the emulator server is already started");
    acceptor_.open(endpoint_.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint_.address().is_v6()) acceptor_.set_option(net::ip::v6_only(true));
    acceptor_.bind(endpoint_);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(executor_, accept_loop(), [self = shared_from_this()](std::exception_ptr) {});
  }

  void stop() {
    stopping_ = true;
    // Waits for a handler running on the server thread, so none runs once stop() returns.
    { std::lock_guard lock(handler_mutex_); }
    net::dispatch(executor_, [self = shared_from_this()] { self->close_all(); });
  }

  void close_all() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    // A copy: closing completes nothing synchronously, but the map must not change under us.
    const auto open = connections_;
    for (const auto& [id, conn] : open) {
      if (conn->writing) continue;
      conn->timer.cancel();
      conn->close();
    }
  }

  net::awaitable<void> accept_loop() {
    net::steady_timer backoff(executor_);
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (stopping_ || ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) {
        // Out of descriptors or a connection gone before accept: retry soon rather than spin.
        backoff.expires_after(std::chrono::milliseconds(20));
        co_await backoff.async_wait(use_tuple);
        continue;
      }
      ++counters_.connections_accepted;
      net::co_spawn(executor_, session(std::move(socket)),
                    [self = shared_from_this()](std::exception_ptr) {});
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    const std::string remote = ec ? std::string() : peer.address().to_string();
    if (ssl_) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *ssl_);
      connection_scope scope(*this, [&stream] { beast::get_lowest_layer(stream).close(); });
      if (stopping_) co_return;
      beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
      auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
      if (stopping_) co_return;
      if (handshake_ec) {
        ++counters_.tls_handshake_failures;
        co_return;
      }
      ++counters_.tls_handshakes;
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      co_await serve(stream, scope.get(), remote, sni != nullptr ? sni : "");
    } else {
      beast::tcp_stream stream(std::move(socket));
      connection_scope scope(*this, [&stream] { stream.close(); });
      if (stopping_) co_return;
      co_await serve(stream, scope.get(), remote, "");
    }
  }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, connection& conn, const std::string& remote,
                             const std::string& sni) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
      auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (stopping_) co_return;
      if (read_ec) {
        co_await answer_bad_request(stream, conn, read_ec);
        co_return;
      }

      http::request<http::string_body> message = parser.release();
      const bool keep_alive = message.keep_alive();
      const unsigned version = message.version();
      sim_request request = to_request(std::move(message), remote, sni);

      if (options_.admin_api && is_admin_path(request.path)) {
        ++counters_.admin_requests;
        if (!co_await write(stream, conn, dispatch_admin(request), keep_alive, version)) {
          co_return;
        }
        if (!keep_alive) co_return co_await close_gracefully(stream);
        continue;
      }

      ++counters_.requests_received;
      request_log_entry entry = log_entry_for(request);
      route_match match = find_route(routes_, request.method, request.path);
      entry.route = match.route != nullptr ? match.route->pattern : std::string();
      request.path_params = std::move(match.params);
      std::optional<fault> injected = faults_.pick(entry.route, request.method);
      if (injected) {
        ++counters_.faults_injected;
        entry.fault = to_string(injected->kind);
      }

      const auto wait =
          sample_latency() + (injected ? injected->delay : std::chrono::milliseconds{0});
      if (wait.count() > 0) {
        conn.timer.expires_after(wait);
        co_await conn.timer.async_wait(use_tuple);
        if (stopping_) {
          log(std::move(entry));
          co_return;
        }
      }

      const fault_kind kind = injected ? injected->kind : fault_kind::delay;
      const bool run_first = injected && injected->run_handler;
      std::optional<sim_response> answer;
      switch (kind) {
        case fault_kind::reset_before:
          log(std::move(entry));
          reset(stream);
          co_return;
        case fault_kind::drop:
          if (run_first) dispatch(request, match);
          log(std::move(entry));
          co_return co_await hold_until_peer_leaves(stream);
        case fault_kind::reset_after:
          dispatch(request, match);
          log(std::move(entry));
          reset(stream);
          co_return;
        case fault_kind::truncated_body:
        case fault_kind::truncated_chunked: {
          auto res = dispatch(request, match);
          entry.status = res ? res->status : 0;
          log(std::move(entry));
          if (res) {
            co_await write_truncated(stream, std::move(*res), keep_alive, version,
                                     kind == fault_kind::truncated_chunked);
          }
          // No close_notify: the peer must see an incomplete answer, not a clean end.
          beast::get_lowest_layer(stream).close();
          co_return;
        }
        case fault_kind::short_content_length: {
          auto res = dispatch(request, match);
          entry.status = res ? res->status : 0;
          log(std::move(entry));
          if (res && co_await write_short_length(stream, std::move(*res), keep_alive, version)) {
            // Held until the peer sends again or leaves: a client that reuses the connection
            // reads the rest of this body as the start of its next answer.
            co_await wait_for_peer(stream);
          }
          beast::get_lowest_layer(stream).close();
          co_return;
        }
        case fault_kind::oversize: {
          if (run_first) dispatch(request, match);
          entry.status = 200;
          log(std::move(entry));
          if (!co_await write_oversize(stream, injected->size_bytes, keep_alive, version)) {
            co_return;
          }
          if (!keep_alive) co_return co_await close_gracefully(stream);
          continue;
        }
        case fault_kind::endless_chunked:
          if (run_first) dispatch(request, match);
          entry.status = 200;
          log(std::move(entry));
          co_await write_endless_chunked(stream, keep_alive, version);
          beast::get_lowest_layer(stream).close();
          co_return;
        case fault_kind::status:
        case fault_kind::timeout_400:
        case fault_kind::redirect:
          if (run_first) dispatch(request, match);
          answer = fault_answer(*injected);
          break;
        case fault_kind::malformed_json:
          answer = dispatch(request, match);
          if (answer) answer->body = malformed_json_body;
          break;
        case fault_kind::delay:
          answer = dispatch(request, match);
          break;
      }
      if (!answer) co_return;  // stopped while the handler was due
      entry.status = answer->status;
      log(std::move(entry));
      if (!co_await write(stream, conn, std::move(*answer), keep_alive, version)) co_return;
      if (!keep_alive) co_return co_await close_gracefully(stream);
    }
  }

  // Unparsable input, oversize headers or body: answer when the HTTP parser rejected it, then
  // close. Transport errors (peer gone, TLS failure, timeout) just end the connection.
  template <class Stream>
  net::awaitable<void> answer_bad_request(Stream& stream, connection& conn,
                                          boost::system::error_code ec) {
    if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
      co_return;
    }
    ++counters_.bad_requests;
    sim_response res =
        ec == http::error::body_limit     ? error_response(413, "too_large", ec.message())
        : ec == http::error::header_limit ? error_response(431, "headers_too_large", ec.message())
                                          : error_response(400, "bad_request", ec.message());
    if (co_await write(stream, conn, std::move(res), false, 11)) co_await close_gracefully(stream);
  }

  template <class Stream>
  net::awaitable<bool> write(Stream& stream, connection& conn, sim_response res, bool keep_alive,
                             unsigned version) {
    auto message = to_message(std::move(res), keep_alive, version);
    beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
    conn.writing = true;
    auto [ec, n] = co_await http::async_write(stream, message, use_tuple);
    conn.writing = false;
    // After stop() the session ends here, and its socket closes with it.
    co_return !ec && !stopping_;
  }

  // The header promises the whole body; the peer gets half of it (or, chunked, the first half
  // in two chunks and never the terminating chunk).
  template <class Stream>
  net::awaitable<void> write_truncated(Stream& stream, sim_response res, bool keep_alive,
                                       unsigned version, bool chunked) {
    std::string body = std::move(res.body);
    auto message = to_message(std::move(res), keep_alive, version);
    if (chunked) {
      message.chunked(true);
    } else {
      message.content_length(body.size());
    }
    http::response_serializer<http::string_body> serializer(message);
    if (!co_await write_head(stream, serializer)) co_return;
    const std::size_t half = body.size() / 2;
    if (!chunked) {
      co_await net::async_write(stream, net::buffer(body.data(), half), use_tuple);
      co_return;
    }
    // An empty chunk would be the last chunk, so only non-empty ones are sent.
    const std::size_t first = half / 2;
    if (first > 0) {
      auto [e1, n1] = co_await net::async_write(
          stream, http::make_chunk(net::buffer(body.data(), first)), use_tuple);
      if (e1 || stopping_) co_return;
    }
    if (half > first) {
      co_await net::async_write(
          stream, http::make_chunk(net::buffer(body.data() + first, half - first)), use_tuple);
    }
  }

  // The header declares half the body (Content-Length = size / 2); all of it follows, the
  // declared half and the rest in separate writes (over TLS, separate records: the rest is not
  // in the record that completes the answer, so the peer may have it only undecrypted, or not yet
  // at all). False when a write failed or stop() came meanwhile.
  template <class Stream>
  net::awaitable<bool> write_short_length(Stream& stream, sim_response res, bool keep_alive,
                                          unsigned version) {
    std::string body = std::move(res.body);
    auto message = to_message(std::move(res), keep_alive, version);
    const std::size_t declared = body.size() / 2;
    message.content_length(declared);
    http::response_serializer<http::string_body> serializer(message);
    if (!co_await write_head(stream, serializer)) co_return false;
    for (const auto part :
         {std::string_view(body).substr(0, declared), std::string_view(body).substr(declared)}) {
      auto [ec, n] = co_await net::async_write(stream, net::buffer(part), use_tuple);
      if (ec || stopping_) co_return false;
    }
    co_return true;
  }

  // The header of a JSON answer whose body is written piecewise after it.
  static http::response<http::empty_body> streamed_json_head(bool keep_alive, unsigned version) {
    http::response<http::empty_body> message{http::status::ok, version};
    message.set(http::field::server, server_name);
    message.set(http::field::content_type, "application/json");
    message.keep_alive(keep_alive);
    return message;
  }

  // Writes the header `serializer` holds; false when the write failed or stop() came meanwhile.
  template <class Stream, class Serializer>
  net::awaitable<bool> write_head(Stream& stream, Serializer& serializer) {
    beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
    auto [ec, n] = co_await http::async_write_header(stream, serializer, use_tuple);
    co_return !ec && !stopping_;
  }

  // A valid JSON document of exactly `size` bytes when it fits ({"data":"aaa..."}), streamed so
  // a 20 MiB answer never sits in memory.
  template <class Stream>
  net::awaitable<bool> write_oversize(Stream& stream, std::size_t size, bool keep_alive,
                                      unsigned version) {
    auto message = streamed_json_head(keep_alive, version);
    message.content_length(size);
    http::response_serializer<http::empty_body> serializer(message);
    if (!co_await write_head(stream, serializer)) co_return false;
    auto& lowest = beast::get_lowest_layer(stream);

    constexpr std::string_view prefix = R"({"data":")";
    constexpr std::string_view suffix = R"("})";
    const bool framed = size >= prefix.size() + suffix.size();
    std::string block;
    for (std::size_t sent = 0; sent < size;) {
      const std::size_t count = std::min<std::size_t>(size - sent, 64 * 1024);
      block.assign(count, 'a');
      if (framed) {
        for (std::size_t i = sent; i < prefix.size() && i < sent + count; ++i) {
          block[i - sent] = prefix[i];
        }
        for (std::size_t i = std::max(sent, size - suffix.size()); i < sent + count; ++i) {
          block[i - sent] = suffix[i - (size - suffix.size())];
        }
      }
      lowest.expires_after(options_.idle_timeout);
      auto [write_ec, written] = co_await net::async_write(stream, net::buffer(block), use_tuple);
      if (write_ec || stopping_) co_return false;
      sent += count;
    }
    co_return true;
  }

  // A chunked answer that never ends: chunks of '[' (hostile nesting too) until the peer gives up
  // or stop(); the peer's body limit or deadline must end it.
  template <class Stream>
  net::awaitable<void> write_endless_chunked(Stream& stream, bool keep_alive, unsigned version) {
    auto message = streamed_json_head(keep_alive, version);
    message.chunked(true);
    http::response_serializer<http::empty_body> serializer(message);
    if (!co_await write_head(stream, serializer)) co_return;
    auto& lowest = beast::get_lowest_layer(stream);
    const std::string block(16 * 1024, '[');
    while (!stopping_) {
      lowest.expires_after(options_.idle_timeout);
      auto [write_ec, written] =
          co_await net::async_write(stream, http::make_chunk(net::buffer(block)), use_tuple);
      if (write_ec) co_return;
    }
  }

  // Keeps a dropped request's connection open, reading and discarding, until the peer closes it
  // or stop() does.
  template <class Stream>
  net::awaitable<void> hold_until_peer_leaves(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_never();
    std::array<char, 1024> scratch;
    for (;;) {
      auto [ec, n] = co_await lowest.async_read_some(net::buffer(scratch), use_tuple);
      if (ec || stopping_) co_return;
    }
  }

  // Returns once the peer sends anything, leaves, stays idle for the idle timeout, or stop().
  template <class Stream>
  net::awaitable<void> wait_for_peer(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options_.idle_timeout);
    std::array<char, 1024> scratch;
    co_await lowest.async_read_some(net::buffer(scratch), use_tuple);
  }

  // SO_LINGER 0 makes close() send RST instead of FIN: the peer's read fails with a reset.
  template <class Stream>
  static void reset(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    lowest.socket().set_option(net::socket_base::linger(true, 0), ec);
    lowest.close();
  }

  static net::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.close();
    co_return;
  }

  net::awaitable<void> close_gracefully(beast::ssl_stream<beast::tcp_stream>& stream) {
    beast::get_lowest_layer(stream).expires_after(options_.idle_timeout);
    co_await stream.async_shutdown(use_tuple);
    beast::get_lowest_layer(stream).close();
  }

  static sim_request to_request(http::request<http::string_body> message, const std::string& remote,
                                const std::string& sni) {
    sim_request request;
    request.method = message.method_string();
    request.target = message.target();
    const std::size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    request.query_params = parse_query(request.query);
    for (const auto& field : message) {
      request.headers.emplace_back(field.name_string(), field.value());
    }
    request.body = std::move(message.body());
    request.remote_address = remote;
    request.tls_server_name = sni;
    return request;
  }

  static request_log_entry log_entry_for(const sim_request& request) {
    request_log_entry entry;
    entry.time = std::chrono::system_clock::now();
    entry.method = request.method;
    entry.target = request.target;
    entry.body_bytes = request.body.size();
    entry.header_names.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) entry.header_names.push_back(name);
    return entry;
  }

  // Runs the hook and the handler of a matched route, or answers 404/405. nullopt when the
  // server was stopped: no handler runs after stop().
  std::optional<sim_response> dispatch(const sim_request& request, const route_match& match) {
    if (match.route == nullptr) {
      if (!match.allowed.empty()) {
        sim_response res = error_response(405, "method_not_allowed",
                                          request.method + " is not allowed on " + request.path);
        res.headers.emplace_back("Allow", match.allowed);
        return res;
      }
      return error_response(404, "not_found", "no route for " + request.path);
    }
    std::lock_guard lock(handler_mutex_);
    if (stopping_) return std::nullopt;
    try {
      if (before_route_) {
        if (auto early = before_route_(request, match.route->pattern)) return early;
      }
      return match.route->handler(request);
    } catch (const std::exception& e) {
      return error_response(500, "internal", e.what());
    } catch (...) {
      return error_response(500, "internal", "unknown exception");
    }
  }

  sim_response dispatch_admin(sim_request& request) {
    route_match match = find_route(admin_routes_, request.method, request.path);
    if (match.route == nullptr) {
      sim_response res = error_response(match.allowed.empty() ? 404 : 405, "admin",
                                        "no admin route " + request.method + " " + request.path);
      if (!match.allowed.empty()) res.headers.emplace_back("Allow", match.allowed);
      return res;
    }
    request.path_params = std::move(match.params);
    std::lock_guard lock(handler_mutex_);
    try {
      return match.route->handler(request);
    } catch (const std::exception& e) {
      return error_response(500, "internal", e.what());
    } catch (...) {
      return error_response(500, "internal", "unknown exception");
    }
  }

  std::chrono::microseconds sample_latency() {
    std::lock_guard lock(mutex_);
    return latency_.sample(rng_);
  }

  void log(request_log_entry entry) {
    std::lock_guard lock(mutex_);
    if (options_.request_log_capacity == 0) return;
    while (log_.size() >= options_.request_log_capacity) log_.pop_front();
    log_.push_back(std::move(entry));
  }

  void add_builtin_admin_routes() {
    auto add = [this](std::string method, std::string pattern, route_handler handler) {
      admin_routes_.push_back(
          make_route(std::move(method), std::move(pattern), std::move(handler)));
    };
    add("GET", "/_sim/faults", [this](const sim_request&) {
      return sim_response::json(200, faults_to_json(faults_.list()));
    });
    add("POST", "/_sim/faults", [this](const sim_request& request) {
      auto rule = parse_fault_rule(request.body);
      if (!rule) return error_response(400, "bad_fault", rule.error());
      faults_.set(std::move(rule->route), std::move(rule->value));
      return ok_response();
    });
    add("DELETE", "/_sim/faults", [this](const sim_request& request) {
      if (auto route = request.query_param("route")) {
        const bool cleared = faults_.clear(*route);
        return sim_response::json(
            200, cleared ? R"({"ok":true,"cleared":true})" : R"({"ok":true,"cleared":false})");
      }
      faults_.clear_all();
      return ok_response();
    });
    add("GET", "/_sim/requests", [this](const sim_request&) { return requests_json(); });
    add("DELETE", "/_sim/requests", [this](const sim_request&) {
      std::lock_guard lock(mutex_);
      log_.clear();
      return ok_response();
    });
    add("GET", "/_sim/ledger", [this](const sim_request&) {
      return sim_response::json(200, ledger_ ? ledger_() : std::string("{}"));
    });
    add("GET", "/_sim/latency", [this](const sim_request&) {
      latency_model model;
      {
        std::lock_guard lock(mutex_);
        model = latency_;
      }
      return sim_response::json(200, "{\"p50_ms\":" + std::to_string(model.p50.count()) +
                                         ",\"p99_ms\":" + std::to_string(model.p99.count()) + "}");
    });
    add("PUT", "/_sim/latency", [this](const sim_request& request) {
      rapidjson::Document doc;
      doc.Parse(request.body.data(), request.body.size());
      auto field = [&](const char* name) -> std::optional<std::int64_t> {
        if (!doc.IsObject() || !doc.HasMember(name)) return std::int64_t{0};
        const auto& v = doc[name];
        if (!v.IsInt64() || v.GetInt64() < 0) return std::nullopt;
        return v.GetInt64();
      };
      const auto p50 = field("p50_ms");
      const auto p99 = field("p99_ms");
      if (doc.HasParseError() || !doc.IsObject() || !p50 || !p99) {
        return error_response(400, "bad_latency", R"(expected {"p50_ms":N,"p99_ms":N})");
      }
      std::lock_guard lock(mutex_);
      latency_ = latency_model::percentiles(std::chrono::milliseconds(*p50),
                                            std::chrono::milliseconds(*p99));
      return ok_response();
    });
    add("GET", "/_sim/stats", [this](const sim_request&) { return stats_json(); });
  }

  sim_response requests_json() {
    rapidjson::StringBuffer out;
    json_writer w(out);
    w.StartObject();
    w.Key("requests");
    w.StartArray();
    {
      std::lock_guard lock(mutex_);
      for (const auto& e : log_) {
        w.StartObject();
        w.Key("time");
        write_string(w, iso_time(e.time));
        w.Key("method");
        write_string(w, e.method);
        w.Key("target");
        write_string(w, e.target);
        w.Key("route");
        write_string(w, e.route);
        w.Key("headers");
        w.StartArray();
        for (const auto& name : e.header_names) write_string(w, name);
        w.EndArray();
        w.Key("body_bytes");
        w.Uint64(e.body_bytes);
        w.Key("status");
        w.Int(e.status);
        w.Key("fault");
        write_string(w, e.fault);
        w.EndObject();
      }
    }
    w.EndArray();
    w.EndObject();
    return sim_response::json(200, std::string(out.GetString(), out.GetSize()));
  }

  server_stats stats() const noexcept {
    return server_stats{
        .connections_accepted = counters_.connections_accepted.load(),
        .tls_handshakes = counters_.tls_handshakes.load(),
        .tls_handshake_failures = counters_.tls_handshake_failures.load(),
        .requests_received = counters_.requests_received.load(),
        .admin_requests = counters_.admin_requests.load(),
        .bad_requests = counters_.bad_requests.load(),
        .faults_injected = counters_.faults_injected.load(),
    };
  }

  sim_response stats_json() const {
    const server_stats s = stats();
    rapidjson::StringBuffer out;
    json_writer w(out);
    w.StartObject();
    const std::pair<const char*, std::uint64_t> fields[] = {
        {"connections_accepted", s.connections_accepted},
        {"tls_handshakes", s.tls_handshakes},
        {"tls_handshake_failures", s.tls_handshake_failures},
        {"requests_received", s.requests_received},
        {"admin_requests", s.admin_requests},
        {"bad_requests", s.bad_requests},
        {"faults_injected", s.faults_injected},
    };
    for (const auto& [name, value] : fields) {
      w.Key(name);
      w.Uint64(value);
    }
    w.EndObject();
    return sim_response::json(200, std::string(out.GetString(), out.GetSize()));
  }

  net::any_io_executor executor_;
  server_options options_;
  tcp::endpoint endpoint_;
  std::unique_ptr<ssl::context> ssl_;
  tcp::acceptor acceptor_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};

  // Set before start(), then read on the server thread only.
  std::vector<route_entry> routes_;
  std::vector<route_entry> admin_routes_;
  before_route_hook before_route_;
  std::function<std::string()> ledger_;

  // Held while an emulator's code runs, so stop() can wait for it; recursive because a handler
  // may itself call stop() on the server thread.
  std::recursive_mutex handler_mutex_;

  fault_table faults_;
  mutable std::mutex mutex_;  // guards latency_, rng_ and log_
  latency_model latency_;
  std::mt19937_64 rng_;
  std::deque<request_log_entry> log_;
  counters counters_;

  // Server thread only.
  std::uint64_t next_connection_id_ = 0;
  std::unordered_map<std::uint64_t, connection*> connections_;
};

server::server(boost::asio::any_io_executor executor, server_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

server::~server() { stop(); }

void server::route(std::string method, std::string pattern, route_handler handler) {
  if (is_admin_path(pattern)) {
    throw std::invalid_argument("emulator routes may not live under /_sim/: " + pattern);
  }
  impl_->routes_.push_back(make_route(std::move(method), std::move(pattern), std::move(handler)));
}

void server::add_admin_route(std::string method, std::string pattern, route_handler handler) {
  if (!pattern.starts_with("/_sim/")) {
    throw std::invalid_argument("admin routes live under /_sim/: " + pattern);
  }
  impl_->admin_routes_.push_back(
      make_route(std::move(method), std::move(pattern), std::move(handler)));
}

void server::set_before_route(before_route_hook hook) { impl_->before_route_ = std::move(hook); }

void server::set_ledger(std::function<std::string()> ledger) { impl_->ledger_ = std::move(ledger); }

void server::start() { impl_->start(); }

void server::stop() { impl_->stop(); }

std::uint16_t server::port() const noexcept { return impl_->port_; }

bool server::tls() const noexcept { return impl_->ssl_ != nullptr; }

std::string server::base_url() const {
  const auto address = impl_->endpoint_.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return (tls() ? "https://" : "http://") + host + ":" + std::to_string(port());
}

fault_table& server::faults() noexcept { return impl_->faults_; }

void server::set_latency(latency_model model) {
  std::lock_guard lock(impl_->mutex_);
  impl_->latency_ = model;
}

latency_model server::latency() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->latency_;
}

server_stats server::stats() const noexcept { return impl_->stats(); }

std::vector<request_log_entry> server::requests() const {
  std::lock_guard lock(impl_->mutex_);
  return {impl_->log_.begin(), impl_->log_.end()};
}

void server::clear_requests() {
  std::lock_guard lock(impl_->mutex_);
  impl_->log_.clear();
}

}  // namespace swaprouter::sim
