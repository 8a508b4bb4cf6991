// The HTTP/1.1 client over Beast: the only engine file that includes Beast and Asio SSL.
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "engine/http.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A kept-alive connection idle for longer than this is closed rather than reused: servers drop
// idle connections on their own schedule and a stale one would turn a request into a reset.
constexpr auto max_idle = std::chrono::seconds(20);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::shared_ptr<ssl::context> make_tls_context(const http_endpoint& endpoint) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  if (!endpoint.only_extra_ca) context->set_default_verify_paths();
  if (!endpoint.extra_ca_pem.empty()) {
    context->add_certificate_authority(
        asio::buffer(endpoint.extra_ca_pem.data(), endpoint.extra_ca_pem.size()));
  }
  return context;
}

error make_error(error_kind kind, std::string message, bool may_have_reached) {
  error e = swaprouter::make_error(kind, std::move(message));
  e.may_have_reached = may_have_reached;
  return e;
}

// Maps a Beast/Asio/OpenSSL failure of one phase to the engine's error kinds.
error classify(const boost::system::error_code& ec, std::string_view phase, bool may_have_reached) {
  std::string message = fmt::format("{}: {}", phase, ec.message());
  if (ec == beast::error::timeout) return make_error(error_kind::timeout, message, may_have_reached);
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow) {
    return make_error(error_kind::too_large, message, may_have_reached);
  }
  // A TLS stream closed without close_notify, or an HTTP message cut short by EOF, means the
  // answer is incomplete: never treat what arrived as a success.
  if (ec == ssl::error::stream_truncated || ec == http::error::partial_message) {
    return make_error(error_kind::truncated, message, may_have_reached);
  }
  if (ec == asio::error::operation_aborted) {
    return make_error(error_kind::cancelled, message, may_have_reached);
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == ssl::error::get_stream_category()) {
    return make_error(phase == "tls handshake" ? error_kind::tls : error_kind::reset, message,
                      may_have_reached);
  }
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
      ec != http::error::end_of_stream) {
    return make_error(error_kind::bad_response, message, may_have_reached);
  }
  if (phase == "connect" || phase == "resolve") {
    return make_error(error_kind::connect, message, may_have_reached);
  }
  return make_error(error_kind::reset, message, may_have_reached);
}

// A header name or value with a line break would let it write headers of its own (a key read
// from a configuration file, say): refused before anything is sent.
std::optional<std::string> header_defect(const http_request& request) {
  const auto breaks = [](std::string_view text) {
    return text.find_first_of("\r\n") != std::string_view::npos;
  };
  if (breaks(request.target) || request.target.find(' ') != std::string::npos) {
    return "the request target contains a space or a line break";
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos) {
      return "a header name is empty or contains a space, a colon or a line break";
    }
    // The value may be a credential: the error names the header, never the value.
    if (breaks(value)) return fmt::format("the value of header {} contains a line break", name);
  }
  return std::nullopt;
}

// One kept-alive connection, plain or TLS.
struct connection {
  std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  clock::time_point idle_since{};

  explicit connection(beast::tcp_stream tcp) : stream(std::move(tcp)) {}

  beast::tcp_stream& tcp() {
    return std::visit(
        [](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
  }

  // Answer bytes already read beyond the last answer: in the parser's buffer, or decrypted and
  // waiting inside OpenSSL (the parser reads a TLS record in pieces).
  bool read_past_answer() {
    if (buffer.size() != 0) return true;
    auto* tls = std::get_if<beast::ssl_stream<beast::tcp_stream>>(&stream);
    return tls != nullptr && SSL_pending(tls->native_handle()) > 0;
  }

  // A connection the server closed while idle has EOF pending. Pending bytes on a plain
  // connection are an answer nobody asked for. On TLS, bytes waiting in the socket or still
  // encrypted inside OpenSSL (read from the socket with the last answer's record) may be TLS 1.3
  // session tickets (a connection warmed without a request has not read them) or the rest of a
  // body longer than its Content-Length in a further record: only reading through TLS tells.
  bool usable(clock::time_point now) {
    if (now - idle_since > max_idle || !tcp().socket().is_open()) return false;
    auto* tls = std::get_if<beast::ssl_stream<beast::tcp_stream>>(&stream);
    if (tls != nullptr) {
      SSL* ssl = tls->native_handle();
      if (SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0) {
        return only_handshake_pending(*tls);
      }
    }
    const int fd = tcp().socket().native_handle();
    pollfd poll_fd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&poll_fd, 1, 0) == 0) return true;
    if ((poll_fd.revents & (POLLERR | POLLHUP)) != 0) return false;
    char byte = 0;
    if (::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return false;
    return tls != nullptr && only_handshake_pending(*tls);
  }

  // Reads what is waiting without blocking: TLS handshake messages (session tickets) are taken
  // in and leave nothing to read; application data, an alert or a close is not an idle
  // connection's.
  static bool only_handshake_pending(beast::ssl_stream<beast::tcp_stream>& tls) {
    auto& socket = beast::get_lowest_layer(tls).socket();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return false;
    std::array<char, 1> byte{};
    const std::size_t read = tls.read_some(asio::buffer(byte), ec);
    const bool nothing_else = read == 0 && ec == asio::error::would_block;
    socket.non_blocking(false, ec);
    return nothing_else && !ec;
  }
};

class beast_http_client final : public http_client {
 public:
  beast_http_client(asio::any_io_executor executor, http_endpoint endpoint)
      : executor_(std::move(executor)),
        endpoint_(std::move(endpoint)),
        host_header_(fmt::format("{}:{}", endpoint_.host, endpoint_.port)),
        resolver_(executor_) {
    if (endpoint_.tls) tls_context_ = make_tls_context(endpoint_);
  }

  asio::awaitable<result<http_response>> send(http_request request,
                                              clock::duration timeout) override {
    const auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      co_return fail(error_kind::invalid_argument, "unknown HTTP method " + request.method);
    }
    if (auto defect = header_defect(request)) {
      co_return fail(error_kind::invalid_argument, std::move(*defect));
    }
    const auto deadline = clock::now() + timeout;
    auto conn = take_idle();
    if (!conn) {
      auto opened = co_await open(deadline);
      if (!opened) co_return std::unexpected(std::move(opened.error()));
      conn = std::move(*opened);
    }

    http::request<http::string_body> req{verb, request.target, 11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, "swaprouter/0.1");
    for (const auto& [name, value] : request.headers) req.insert(name, value);
    req.body() = std::move(request.body);
    req.keep_alive(true);
    req.prepare_payload();

    conn->tcp().expires_at(deadline);
    ++stats_.requests_sent;
    // From here on the request's bytes may have reached the server.
    auto [write_ec, written] = co_await std::visit(
        [&](auto& s) { return http::async_write(s, req, use_tuple); }, conn->stream);
    if (write_ec) co_return std::unexpected(classify(write_ec, "write", true));
    if (request.on_written) request.on_written();

    http::response_parser<http::string_body> parser;
    parser.body_limit(endpoint_.max_body_bytes);
    parser.header_limit(64 * 1024);
    auto [read_ec, read] = co_await std::visit(
        [&](auto& s) { return http::async_read(s, conn->buffer, parser, use_tuple); },
        conn->stream);
    if (read_ec == http::error::end_of_stream) {
      co_return std::unexpected(make_error(
          error_kind::reset, "read: connection closed before any answer", true));
    }
    if (read_ec) co_return std::unexpected(classify(read_ec, "read", true));

    auto message = parser.release();
    http_response response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());

    // Bytes read past the answer (a server that declared a Content-Length shorter than its
    // body) would be parsed as the start of the next answer: that connection is not reused.
    if (message.keep_alive() && !conn->read_past_answer()) give_back(std::move(conn));
    if (response.status >= 300 && response.status < 400) {
      // Redirects are never followed: a provider that redirects is misconfigured or hostile.
      error e = make_error(error_kind::redirect,
                           fmt::format("redirect {} not followed", response.status), true);
      e.http_status = response.status;
      co_return std::unexpected(std::move(e));
    }
    co_return response;
  }

  asio::awaitable<void> warm(std::size_t count) override {
    const auto wanted = std::min(count, endpoint_.pool_size);
    while (idle_.size() < wanted) {
      auto opened = co_await open(clock::now() + endpoint_.connect_timeout);
      if (!opened) co_return;
      give_back(std::move(*opened));
    }
  }

  http_client_stats stats() const override { return stats_; }
  const http_endpoint& endpoint() const override { return endpoint_; }

 private:
  std::unique_ptr<connection> take_idle() {
    const auto now = clock::now();
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->usable(now)) return conn;
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<connection> conn) {
    if (idle_.size() >= endpoint_.pool_size) return;
    conn->idle_since = clock::now();
    idle_.push_back(std::move(conn));
  }

  asio::awaitable<result<std::unique_ptr<connection>>> open(clock::time_point deadline) {
    const auto connect_deadline = std::min(deadline, clock::now() + endpoint_.connect_timeout);
    auto [resolve_ec, endpoints] = co_await resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port), use_tuple);
    if (resolve_ec) co_return std::unexpected(classify(resolve_ec, "resolve", false));

    beast::tcp_stream tcp(executor_);
    tcp.expires_at(connect_deadline);
    auto [connect_ec, connected] = co_await tcp.async_connect(endpoints, use_tuple);
    if (connect_ec) co_return std::unexpected(classify(connect_ec, "connect", false));
    tcp.socket().set_option(tcp::no_delay(true));
    ++stats_.connections_opened;

    auto conn = std::make_unique<connection>(std::move(tcp));
    if (!endpoint_.tls) co_return conn;

    beast::ssl_stream<beast::tcp_stream> tls(std::move(std::get<beast::tcp_stream>(conn->stream)),
                                             *tls_context_);
    if (auto e = configure_verification(tls.native_handle())) co_return std::unexpected(*e);
    beast::get_lowest_layer(tls).expires_at(connect_deadline);
    // Credentials travel only inside the request, written after this verified handshake.
    auto [handshake_ec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
    if (handshake_ec) co_return std::unexpected(classify(handshake_ec, "tls handshake", false));
    conn->stream.emplace<beast::ssl_stream<beast::tcp_stream>>(std::move(tls));
    co_return conn;
  }

  // Peer and host-name verification inside the handshake; SNI for names (RFC 6066 forbids
  // IP literals there).
  std::optional<error> configure_verification(SSL* ssl) const {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const bool ip = is_ip_literal(endpoint_.host);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), 0);
    if (ok != 1 || (!ip && SSL_set_tlsext_host_name(ssl, endpoint_.host.c_str()) != 1)) {
      return make_error(error_kind::tls, "cannot set host name verification", false);
    }
    return std::nullopt;
  }

  asio::any_io_executor executor_;
  http_endpoint endpoint_;
  std::string host_header_;
  tcp::resolver resolver_;
  std::shared_ptr<ssl::context> tls_context_;
  std::vector<std::unique_ptr<connection>> idle_;
  http_client_stats stats_;
};

}  // namespace

std::unique_ptr<http_client> make_http_client(asio::any_io_executor executor,
                                              http_endpoint endpoint) {
  return std::make_unique<beast_http_client>(std::move(executor), std::move(endpoint));
}

}  // namespace swaprouter
