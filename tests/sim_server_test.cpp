// The emulator server over real loopback sockets, driven by a raw blocking HTTP/1.1 client (no
// Beast, no http_client), and the run-time certificate authority.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sim/fault.hpp"
#include "adapters/sim/server.hpp"
#include "adapters/sim/timers.hpp"
#include "engine/cert_authority.hpp"

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using swaprouter::cert_authority;
using swaprouter::cert_options;
using swaprouter::issued_cert;
namespace sim = swaprouter::sim;

// How a raw read ended.
enum class read_end { data, eof, reset, timeout, error };

struct raw_response {
  int status = 0;
  swaprouter::http_headers headers;
  std::string body;
  bool complete = false;  ///< the whole body arrived as the framing promised
  bool chunked = false;
  read_end end = read_end::data;  ///< why reading stopped when incomplete
  std::string_view header(std::string_view name) const {
    return swaprouter::find_header(headers, name);
  }
};

// A blocking HTTP/1.1 client that writes raw text and reads raw bytes, so a test sees exactly
// what went over the wire, including resets and short bodies.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void send(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }

  // Half-closes: the server sees the end of the input.
  void finish_sending() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }

  // Appends what arrives before `timeout` to the pending bytes; returns why it stopped.
  read_end fill(std::chrono::milliseconds timeout) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready == 0) return read_end::timeout;
    if (ready < 0) return read_end::error;
    char data[16 * 1024];
    const ssize_t n = ::recv(socket_.native_handle(), data, sizeof data, 0);
    if (n > 0) {
      pending_.append(data, static_cast<std::size_t>(n));
      return read_end::data;
    }
    if (n == 0) return read_end::eof;
    return errno == ECONNRESET ? read_end::reset : read_end::error;
  }

  // Reads until the connection ends (EOF, reset, or `timeout` without data); returns all bytes.
  std::pair<std::string, read_end> read_to_end(std::chrono::milliseconds timeout = 10s) {
    for (;;) {
      const read_end end = fill(timeout);
      if (end != read_end::data) return {std::exchange(pending_, {}), end};
    }
  }

  raw_response read_response(std::chrono::milliseconds timeout = 10s) {
    raw_response res;
    std::size_t head_end;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (const read_end end = fill(timeout); end != read_end::data) {
        res.end = end;
        return res;
      }
    }
    parse_head(pending_.substr(0, head_end), res);
    pending_.erase(0, head_end + 4);
    if (res.header("Transfer-Encoding") == "chunked") {
      res.chunked = true;
      for (;;) {
        std::size_t line_end;
        while ((line_end = pending_.find("\r\n")) == std::string::npos) {
          if (const read_end end = fill(timeout); end != read_end::data) {
            res.end = end;
            return res;
          }
        }
        const std::size_t size = std::stoul(pending_.substr(0, line_end), nullptr, 16);
        while (pending_.size() < line_end + 2 + size + 2) {
          if (const read_end end = fill(timeout); end != read_end::data) {
            res.end = end;
            return res;
          }
        }
        res.body += pending_.substr(line_end + 2, size);
        pending_.erase(0, line_end + 2 + size + 2);
        if (size == 0) break;
      }
      res.complete = true;
      return res;
    }
    const std::string_view length = res.header("Content-Length");
    const std::size_t want = length.empty() ? 0 : std::stoul(std::string(length));
    while (pending_.size() < want) {
      if (const read_end end = fill(timeout); end != read_end::data) {
        res.body = std::exchange(pending_, {});
        res.end = end;
        return res;
      }
    }
    res.body = pending_.substr(0, want);
    pending_.erase(0, want);
    res.complete = true;
    return res;
  }

  raw_response request(std::string_view bytes) {
    send(bytes);
    return read_response();
  }

 private:
  static void parse_head(const std::string& head, raw_response& res) {
    std::size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    res.status = std::stoi(status_line.substr(9, 3));
    while (pos != std::string::npos) {
      const std::size_t start = pos + 2;
      pos = head.find("\r\n", start);
      const std::string line = head.substr(start, pos == std::string::npos ? pos : pos - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      res.headers.emplace_back(line.substr(0, colon), line.substr(value));
    }
  }

  net::io_context ioc_;
  tcp::socket socket_;
  std::string pending_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string with_body(std::string_view method, std::string_view target, std::string_view body) {
  return std::string(method) + " " + std::string(target) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Polls a condition the server thread makes true; bounded so a broken server fails, not hangs.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class SimServer : public ::testing::Test {
 protected:
  void TearDown() override { shut_down(); }

  sim::server& make(sim::server_options options = {}) {
    server_ = std::make_unique<sim::server>(ioc_.get_executor(), std::move(options));
    return *server_;
  }

  // A typical emulator route set; `calls` counts handler runs.
  sim::server& make_with_routes(sim::server_options options = {}) {
    sim::server& s = make(std::move(options));
    s.route("GET", "/api/v1/swap/{code}", [this](const sim::sim_request& r) {
      ++calls;
      std::string body = "code=" + std::string(r.path_param("code"));
      body += ";path=" + r.path + ";query=" + r.query;
      for (const auto& [k, v] : r.query_params) body += ";" + k + "=" + v;
      body += ";x=" + std::string(r.query_param("x").value_or("<none>"));
      return sim::sim_response{200, {{"Content-Type", "text/plain"}}, body};
    });
    s.route("POST", "/api/v1/swap/open", [this](const sim::sim_request& r) {
      ++calls;
      return sim::sim_response::json(
          200, R"({"id":"swap-1","received":)" + std::to_string(r.body.size()) + "}");
    });
    s.route("GET", "/api/v1/rates", [this](const sim::sim_request&) {
      ++calls;
      return sim::sim_response::json(200,
                                     R"({"data":[{"from":"USDT","to":"COPM","rate":"3950.5"}]})");
    });
    return s;
  }

  void run() {
    ioc_.restart();
    server_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  void shut_down() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  raw_client connect() { return raw_client(server_->port()); }

  sim::fault make_fault(sim::fault_kind kind) {
    sim::fault f;
    f.kind = kind;
    return f;
  }

  net::io_context ioc_;
  std::unique_ptr<sim::server> server_;
  std::thread thread_;
  std::atomic<int> calls{0};
};

const std::string open_body = R"({"from":"USDT","to":"COPM","amount":"100"})";

TEST_F(SimServer, DispatchesPathParamsAndDecodedQueryParams) {
  make_with_routes();
  run();
  auto client = connect();
  const auto res = client.request(get("/api/v1/swap/ab%20c?x=1&y=a+b%2Bc&flag"));
  ASSERT_TRUE(res.complete);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body,
            "code=ab c;path=/api/v1/swap/ab%20c;query=x=1&y=a+b%2Bc&flag;x=1;y=a b+c;flag=;x=1");
  EXPECT_EQ(server_->stats().requests_received, 1u);
}

TEST_F(SimServer, UnknownPathIs404AndWrongMethodIs405) {
  make_with_routes();
  run();
  auto client = connect();
  auto res = client.request(get("/api/v2/nothing"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  EXPECT_NE(res.body.find("not_found"), std::string::npos);
  res = client.request(with_body("DELETE", "/api/v1/rates", ""));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("Allow"), "GET");
  // A route needs every segment: a trailing segment or a missing parameter is not a match.
  EXPECT_EQ(client.request(get("/api/v1/swap/")).status, 404);
  EXPECT_EQ(client.request(get("/api/v1/swap/a/b")).status, 404);
  EXPECT_EQ(calls, 0);
}

TEST_F(SimServer, KeepsTheConnectionAliveAcrossRequests) {
  make_with_routes();
  run();
  auto client = connect();
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
  EXPECT_EQ(client.request(with_body("POST", "/api/v1/swap/open", open_body)).status, 200);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests_received, 2u);
  // Connection: close ends it after the answer.
  const auto res = client.request(get("/api/v1/rates", "Connection: close\r\n"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(client.read_to_end().second, read_end::eof);
}

TEST_F(SimServer, ReadsAChunkedRequestBody) {
  make_with_routes();
  run();
  auto client = connect();
  const auto res = client.request(
      "POST /api/v1/swap/open HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"a\":\r\n4\r\n\"bc\"\r\n1\r\n}\r\n0\r\n\r\n");
  ASSERT_TRUE(res.complete);
  EXPECT_EQ(res.body, R"({"id":"swap-1","received":10})");
}

TEST_F(SimServer, RejectsOversizeBodiesHugeHeadersAndGarbageButKeepsServing) {
  sim::server_options options;
  options.max_body_bytes = 1024;
  options.max_header_bytes = 2048;
  make_with_routes(options);
  run();
  {
    auto client = connect();
    const auto res = client.request(
        "POST /api/v1/swap/open HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
    EXPECT_EQ(res.status, 413);
  }
  {
    auto client = connect();
    const auto res =
        client.request(get("/api/v1/rates", "X-Big: " + std::string(4096, 'a') + "\r\n"));
    EXPECT_EQ(res.status, 431);
  }
  {
    auto client = connect();
    client.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 22));
    const auto [bytes, end] = client.read_to_end();
    EXPECT_TRUE(bytes.empty() || bytes.starts_with("HTTP/1.1 400"));
  }
  {
    // An endless chunked body stops at the limit too.
    auto client = connect();
    client.send("POST /api/v1/swap/open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
    client.send(chunk);
    client.send(chunk);
    EXPECT_EQ(client.read_response().status, 413);
  }
  {
    // A client that goes away in the middle of a request.
    auto client = connect();
    client.send("POST /api/v1/swap/open HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"trunc");
  }
  auto client = connect();
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
  EXPECT_EQ(calls, 1);
  EXPECT_GE(server_->stats().bad_requests, 4u);
}

// Seeded random input, raw and behind HTTP-looking prefixes, at a plain and a TLS listener.
TEST_F(SimServer, SurvivesRandomGarbage) {
  const auto ca = cert_authority::generate();
  for (const bool tls : {false, true}) {
    sim::server_options options;
    if (tls) options.tls = ca.issue(cert_options{});
    make_with_routes(options);
    run();
    std::mt19937_64 rng(tls ? 2 : 1);
    const std::vector<std::string> prefixes = {
        "", "GET / HTTP/1.1\r\n", "POST /api/v1/swap/open HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
        "GET /api/v1/swap/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "\x16\x03\x01"};
    for (int i = 0; i < 60; ++i) {
      std::string bytes = prefixes[static_cast<std::size_t>(i) % prefixes.size()];
      const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 3000)(rng);
      for (std::size_t j = 0; j < size; ++j) bytes.push_back(static_cast<char>(rng()));
      auto client = connect();
      client.send(bytes);
      client.finish_sending();
      client.read_to_end();
    }
    if (!tls) {
      auto client = connect();
      EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
    }
    EXPECT_EQ(server_->stats().connections_accepted, tls ? 60u : 61u);
    shut_down();
  }
}

TEST_F(SimServer, BeforeRouteHookCanAnswerInsteadOfTheHandler) {
  auto& s = make_with_routes();
  std::vector<std::string> patterns;
  s.set_before_route([&patterns](const sim::sim_request& r,
                                 std::string_view pattern) -> std::optional<sim::sim_response> {
    patterns.emplace_back(pattern);
    if (r.header("x-api-key") != "good") {
      return sim::sim_response::json(401, R"({"error":"auth"})");
    }
    return std::nullopt;
  });
  run();
  auto client = connect();
  EXPECT_EQ(client.request(get("/api/v1/swap/abc")).status, 401);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(client.request(get("/api/v1/swap/abc", "X-Api-Key: good\r\n")).status, 200);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(client.request(get("/nowhere")).status, 404);  // unknown paths skip the hook
  shut_down();
  EXPECT_EQ(patterns, (std::vector<std::string>{"/api/v1/swap/{code}", "/api/v1/swap/{code}"}));
}

TEST_F(SimServer, HandlerExceptionBecomes500) {
  auto& s = make();
  s.route("GET", "/boom",
          [](const sim::sim_request&) -> sim::sim_response { throw std::runtime_error("kaput"); });
  run();
  auto client = connect();
  const auto res = client.request(get("/boom"));
  EXPECT_EQ(res.status, 500);
  EXPECT_NE(res.body.find("kaput"), std::string::npos);
  EXPECT_EQ(client.request(get("/boom")).status, 500);  // the connection survives
}

TEST_F(SimServer, ResetBeforeResetsWithoutRunningTheHandler) {
  make_with_routes();
  server_->faults().set("/api/v1/swap/open", make_fault(sim::fault_kind::reset_before));
  run();
  auto client = connect();
  client.send(with_body("POST", "/api/v1/swap/open", open_body));
  const auto [bytes, end] = client.read_to_end();
  EXPECT_TRUE(bytes.empty());
  EXPECT_EQ(end, read_end::reset);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(server_->stats().requests_received, 1u);
}

TEST_F(SimServer, ResetAfterRunsTheHandlerThenResets) {
  make_with_routes();
  server_->faults().set("/api/v1/swap/open", make_fault(sim::fault_kind::reset_after));
  run();
  auto client = connect();
  client.send(with_body("POST", "/api/v1/swap/open", open_body));
  const auto [bytes, end] = client.read_to_end();
  EXPECT_TRUE(bytes.empty());
  EXPECT_EQ(end, read_end::reset);
  EXPECT_EQ(calls, 1);
}

TEST_F(SimServer, TruncatedBodySendsFewerBytesThanContentLength) {
  make_with_routes();
  server_->faults().set("/api/v1/rates", make_fault(sim::fault_kind::truncated_body));
  run();
  auto client = connect();
  const auto res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.complete);
  EXPECT_EQ(res.end, read_end::eof);
  const std::size_t promised = std::stoul(std::string(res.header("Content-Length")));
  EXPECT_GT(promised, 0u);
  EXPECT_EQ(res.body.size(), promised / 2);
  EXPECT_EQ(calls, 1);
}

TEST_F(SimServer, TruncatedChunkedNeverSendsTheLastChunk) {
  make_with_routes();
  server_->faults().set("/api/v1/rates", make_fault(sim::fault_kind::truncated_chunked));
  run();
  auto client = connect();
  const auto res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.chunked);
  EXPECT_FALSE(res.complete);
  EXPECT_EQ(res.end, read_end::eof);
  EXPECT_FALSE(res.body.empty());
  EXPECT_EQ(calls, 1);
}

TEST_F(SimServer, StatusFaultWithRetryAfterSecondsAndDate) {
  make_with_routes();
  sim::fault f = make_fault(sim::fault_kind::status);
  f.status = 429;
  f.body = R"({"error":"rate_limited"})";
  f.retry_after_seconds = 7;
  server_->faults().set("/api/v1/rates", f);
  run();
  auto client = connect();
  auto res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), "7");
  EXPECT_EQ(res.body, R"({"error":"rate_limited"})");
  EXPECT_EQ(calls, 0);

  const std::string date = sim::format_http_date(std::chrono::system_clock::now() + 7s);
  f.retry_after_date = date;
  server_->faults().set("/api/v1/rates", f);
  res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), date);
}

TEST_F(SimServer, StatusFaultCanRunTheHandlerFirst) {
  make_with_routes();
  sim::fault f = make_fault(sim::fault_kind::status);
  f.status = 502;
  f.run_handler = true;
  server_->faults().set("/api/v1/swap/open", f);
  run();
  auto client = connect();
  EXPECT_EQ(client.request(with_body("POST", "/api/v1/swap/open", open_body)).status, 502);
  EXPECT_EQ(calls, 1);
}

TEST_F(SimServer, MalformedJsonReplacesTheBody) {
  make_with_routes();
  server_->faults().set("/api/v1/rates", make_fault(sim::fault_kind::malformed_json));
  run();
  auto client = connect();
  const auto res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 200);
  ASSERT_TRUE(res.complete);
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  EXPECT_TRUE(doc.HasParseError()) << res.body;
  EXPECT_EQ(calls, 1);
}

TEST_F(SimServer, Timeout400AndRedirect) {
  make_with_routes();
  server_->faults().set("/api/v1/swap/open", make_fault(sim::fault_kind::timeout_400));
  sim::fault redirect = make_fault(sim::fault_kind::redirect);
  redirect.body = "http://198.51.100.7/steal";
  server_->faults().set("/api/v1/rates", redirect);
  run();
  auto client = connect();
  auto res = client.request(with_body("POST", "/api/v1/swap/open", open_body));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body, R"({"code":"timeout","message":"Request timeout"})");
  res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.header("Location"), "http://198.51.100.7/steal");
  EXPECT_EQ(calls, 0);
}

TEST_F(SimServer, OversizeStreamsTheWholeBody) {
  make_with_routes();
  sim::fault f = make_fault(sim::fault_kind::oversize);
  f.size_bytes = 300'000;
  server_->faults().set("/api/v1/rates", f);
  run();
  auto client = connect();
  const auto res = client.request(get("/api/v1/rates"));
  EXPECT_EQ(res.status, 200);
  ASSERT_TRUE(res.complete);
  ASSERT_EQ(res.body.size(), 300'000u);
  EXPECT_TRUE(res.body.starts_with(R"({"data":"aaa)"));
  EXPECT_TRUE(res.body.ends_with(R"(aaa"})"));
  // The connection is still usable afterwards.
  server_->faults().clear_all();
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
}

TEST_F(SimServer, DropReadsTheRequestAndNeverAnswersUntilStop) {
  make_with_routes();
  server_->faults().set("/api/v1/swap/open", make_fault(sim::fault_kind::drop));
  run();
  auto client = connect();
  client.send(with_body("POST", "/api/v1/swap/open", open_body));
  ASSERT_TRUE(eventually([&] { return server_->requests().size() == 1; }));
  EXPECT_EQ(client.fill(200ms), read_end::timeout);
  EXPECT_EQ(calls, 0);
  server_->stop();
  const auto [bytes, end] = client.read_to_end();
  EXPECT_TRUE(bytes.empty());
  EXPECT_EQ(end, read_end::eof);
  EXPECT_EQ(server_->requests().front().fault, "drop");
  EXPECT_EQ(server_->requests().front().status, 0);
}

TEST_F(SimServer, DelayAnswersNormally) {
  make_with_routes();
  sim::fault f = make_fault(sim::fault_kind::delay);
  f.delay = 1ms;
  f.delay_max = 5ms;
  server_->faults().set("*", f);
  run();
  auto client = connect();
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
  EXPECT_EQ(server_->requests().front().fault, "delay");
}

TEST_F(SimServer, RemainingOneAppliesOnceAndMethodFilters) {
  make_with_routes();
  sim::fault f = make_fault(sim::fault_kind::status);
  f.status = 503;
  f.remaining = 1;
  f.method = "POST";
  server_->faults().set("*", f);
  run();
  auto client = connect();
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);  // GET: not matched, not consumed
  EXPECT_EQ(client.request(with_body("POST", "/api/v1/swap/open", open_body)).status, 503);
  EXPECT_EQ(client.request(with_body("POST", "/api/v1/swap/open", open_body)).status, 200);
  EXPECT_TRUE(server_->faults().list().empty());
  EXPECT_EQ(server_->stats().faults_injected, 1u);
}

TEST_F(SimServer, AdminApiSetsListsAndClearsFaults) {
  make_with_routes();
  run();
  auto client = connect();
  auto res = client.request(with_body(
      "POST", "/_sim/faults",
      R"({"route":"/api/v1/swap/open","kind":"status","status":429,"retry_after_seconds":7,"remaining":2})"));
  EXPECT_EQ(res.status, 200) << res.body;
  res = client.request(
      with_body("POST", "/_sim/faults", R"({"route":"*","kind":"delay","delay_ms":1})"));
  EXPECT_EQ(res.status, 200) << res.body;

  res = client.request(get("/_sim/faults"));
  ASSERT_EQ(res.status, 200);
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << res.body;
  ASSERT_EQ(doc["faults"].Size(), 2u);
  EXPECT_STREQ(doc["faults"][0]["route"].GetString(), "/api/v1/swap/open");
  EXPECT_STREQ(doc["faults"][0]["kind"].GetString(), "status");
  EXPECT_EQ(doc["faults"][0]["remaining"].GetInt(), 2);
  EXPECT_EQ(doc["faults"][0]["retry_after_seconds"].GetInt(), 7);

  res = client.request(with_body("POST", "/api/v1/swap/open", open_body));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), "7");

  // Admin routes never see faults, "*" included.
  EXPECT_EQ(client.request(get("/_sim/ledger")).status, 200);

  EXPECT_EQ(client.request(with_body("DELETE", "/_sim/faults?route=%2Fapi%2Fv1%2Fswap%2Fopen", ""))
                .status,
            200);
  ASSERT_EQ(server_->faults().list().size(), 1u);
  EXPECT_EQ(server_->faults().list().front().route, "*");
  EXPECT_EQ(client.request(with_body("POST", "/api/v1/swap/open", open_body)).status, 200);
  EXPECT_EQ(client.request(with_body("DELETE", "/_sim/faults", "")).status, 200);
  EXPECT_TRUE(server_->faults().list().empty());

  res = client.request(with_body("POST", "/_sim/faults", R"({"route":"*","kind":"explode"})"));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("explode"), std::string::npos);
  res = client.request(
      with_body("POST", "/_sim/faults", R"({"route":"*","kind":"drop","remianing":1})"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(client.request(with_body("POST", "/_sim/faults", "{not json")).status, 400);
  EXPECT_EQ(client.request(get("/_sim/nothing")).status, 404);
  EXPECT_EQ(server_->stats().requests_received, 2u);
}

TEST_F(SimServer, RequestLogKeepsHeaderNamesButNoCredentialValues) {
  make_with_routes();
  run();
  auto client = connect();
  const std::string secret = "sentinel-SECRET-5f2b9c";
  client.request("POST /api/v1/swap/open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + secret +
                 "\r\nAuthorization: Bearer " + secret + "\r\nX-Signature: " + secret +
                 "\r\nContent-Length: " + std::to_string(open_body.size()) + "\r\n\r\n" +
                 open_body);
  client.request(get("/nowhere?page=2"));

  const auto res = client.request(get("/_sim/requests"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body.find(secret), std::string::npos) << res.body;
  rapidjson::Document doc;
  doc.Parse(res.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << res.body;
  const auto& requests = doc["requests"];
  ASSERT_EQ(requests.Size(), 2u);  // admin requests are not logged
  EXPECT_STREQ(requests[0]["method"].GetString(), "POST");
  EXPECT_STREQ(requests[0]["target"].GetString(), "/api/v1/swap/open");
  EXPECT_STREQ(requests[0]["route"].GetString(), "/api/v1/swap/open");
  EXPECT_EQ(requests[0]["status"].GetInt(), 200);
  EXPECT_EQ(requests[0]["body_bytes"].GetUint64(), open_body.size());
  std::vector<std::string> names;
  for (const auto& n : requests[0]["headers"].GetArray()) names.emplace_back(n.GetString());
  EXPECT_EQ(names, (std::vector<std::string>{"Host", "X-Api-Key", "Authorization", "X-Signature",
                                             "Content-Length"}));
  EXPECT_STREQ(requests[1]["target"].GetString(), "/nowhere?page=2");
  EXPECT_EQ(requests[1]["status"].GetInt(), 404);

  for (const auto& entry : server_->requests()) {
    for (const auto& name : entry.header_names) EXPECT_EQ(name.find(secret), std::string::npos);
  }
  EXPECT_EQ(client.request(with_body("DELETE", "/_sim/requests", "")).status, 200);
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(SimServer, LedgerCallbackAndEmulatorAdminRoutes) {
  auto& s = make_with_routes();
  s.add_admin_route("POST", "/_sim/market/{pair}", [](const sim::sim_request& r) {
    return sim::sim_response::json(200, "{\"pair\":\"" + std::string(r.path_param("pair")) + "\"}");
  });
  EXPECT_THROW(s.add_admin_route("GET", "/api/admin",
                                 [](const sim::sim_request&) { return sim::sim_response{}; }),
               std::invalid_argument);
  EXPECT_THROW(
      s.route("GET", "/_sim/x", [](const sim::sim_request&) { return sim::sim_response{}; }),
      std::invalid_argument);
  run();
  {
    auto client = connect();
    EXPECT_EQ(client.request(get("/_sim/ledger")).body, "{}");
  }
  shut_down();

  auto& t = make_with_routes();
  t.set_ledger([] { return std::string(R"({"swaps":[{"id":"swap-1","state":"open"}]})"); });
  t.add_admin_route("POST", "/_sim/market/{pair}", [](const sim::sim_request& r) {
    return sim::sim_response::json(200, "{\"pair\":\"" + std::string(r.path_param("pair")) + "\"}");
  });
  sim::fault f = make_fault(sim::fault_kind::reset_before);
  t.faults().set("*", f);
  run();
  auto client = connect();
  EXPECT_EQ(client.request(get("/_sim/ledger")).body,
            R"({"swaps":[{"id":"swap-1","state":"open"}]})");
  EXPECT_EQ(client.request(with_body("POST", "/_sim/market/USDT-COPM", "")).body,
            R"({"pair":"USDT-COPM"})");
  EXPECT_EQ(t.stats().admin_requests, 2u);
}

TEST_F(SimServer, LatencyIsConfigurableThroughTheAdminApi) {
  make_with_routes();
  run();
  auto client = connect();
  EXPECT_EQ(client.request(with_body("PUT", "/_sim/latency", R"({"p50_ms":1,"p99_ms":3})")).status,
            200);
  EXPECT_EQ(server_->latency().p50, 1ms);
  EXPECT_EQ(server_->latency().p99, 3ms);
  EXPECT_EQ(client.request(get("/_sim/latency")).body, R"({"p50_ms":1,"p99_ms":3})");
  EXPECT_EQ(client.request(get("/api/v1/rates")).status, 200);
  EXPECT_EQ(client.request(with_body("PUT", "/_sim/latency", R"({"p50_ms":-1})")).status, 400);
}

TEST_F(SimServer, RefusesNonLoopbackBindAddresses) {
  for (const char* address :
       {"0.0.0.0", "::", "192.0.2.10", "10.0.0.1", "localhost", "", "127.0.0.2"}) {
    sim::server_options options;
    options.bind_address = address;
    EXPECT_THROW(sim::server(ioc_.get_executor(), options), std::invalid_argument) << address;
  }
  sim::server_options options;
  options.bind_address = "127.0.0.1";
  sim::server s(ioc_.get_executor(), options);
  s.start();
  EXPECT_NE(s.port(), 0);
  EXPECT_EQ(s.base_url(), "http://127.0.0.1:" + std::to_string(s.port()));
  s.stop();
  ioc_.run();
}

TEST_F(SimServer, StopClosesConnectionsAndTheListener) {
  make_with_routes();
  run();
  const std::uint16_t port = server_->port();
  auto idle = connect();
  EXPECT_EQ(idle.request(get("/api/v1/rates")).status, 200);
  server_->stop();
  EXPECT_EQ(idle.read_to_end().second, read_end::eof);
  thread_.join();
  EXPECT_THROW(raw_client{port}, boost::system::system_error);
}

// --- TLS, with a blocking OpenSSL client (no Asio SSL) ---

struct ssl_free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
template <class T>
using ssl_ptr = std::unique_ptr<T, ssl_free>;

ssl_ptr<X509> read_cert(const std::string& pem) {
  ssl_ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return ssl_ptr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// A verifying TLS client on a blocking socket: trusts only `ca_pem`, checks `host`, sends SNI.
class tls_client {
 public:
  tls_client(std::uint16_t port, const std::string& ca_pem, const std::string& host)
      : socket_(ioc_), ctx_(SSL_CTX_new(TLS_client_method())) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval timeout{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    auto ca = read_cert(ca_pem);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_.get()), ca.get());
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), socket_.native_handle());
    SSL_set_tlsext_host_name(ssl_.get(), host.c_str());
    SSL_set1_host(ssl_.get(), host.c_str());
  }

  bool handshake() {
    const bool ok = SSL_connect(ssl_.get()) == 1;
    ERR_clear_error();
    return ok;
  }

  // Sends `request` and reads until the server closes; `clean` tells whether it sent
  // close_notify.
  std::string exchange(const std::string& request, bool& clean) {
    SSL_write(ssl_.get(), request.data(), static_cast<int>(request.size()));
    std::string out;
    char buf[4096];
    for (;;) {
      const int n = SSL_read(ssl_.get(), buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      clean = SSL_get_error(ssl_.get(), n) == SSL_ERROR_ZERO_RETURN;
      ERR_clear_error();
      return out;
    }
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  ssl_ptr<SSL_CTX> ctx_;
  ssl_ptr<SSL> ssl_;
};

TEST_F(SimServer, ServesTlsWithACaIssuedLeaf) {
  const auto ca = cert_authority::generate();
  sim::server_options options;
  options.tls = ca.issue(cert_options{});
  auto& s = make(options);
  s.route("GET", "/sni", [](const sim::sim_request& r) {
    return sim::sim_response::json(200, "\"" + r.tls_server_name + "\"");
  });
  sim::fault truncated = make_fault(sim::fault_kind::truncated_body);
  truncated.method = "POST";
  s.route("POST", "/sni", [](const sim::sim_request&) {
    return sim::sim_response::json(200, R"({"id":"swap-1","state":"accepted"})");
  });
  s.faults().set("/sni", truncated);
  run();
  EXPECT_TRUE(server_->tls());
  EXPECT_TRUE(server_->base_url().starts_with("https://127.0.0.1:"));

  {
    tls_client client(server_->port(), ca.ca_pem(), "localhost");
    ASSERT_TRUE(client.handshake());
    bool clean = false;
    const std::string answer =
        client.exchange("GET /sni HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", clean);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    EXPECT_TRUE(answer.ends_with("\"localhost\"")) << answer;
    EXPECT_TRUE(clean);
  }
  {
    // Truncated over TLS: the stream ends without close_notify.
    tls_client client(server_->port(), ca.ca_pem(), "localhost");
    ASSERT_TRUE(client.handshake());
    bool clean = true;
    const std::string answer = client.exchange(
        "POST /sni HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", clean);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    EXPECT_FALSE(clean);
  }
  EXPECT_TRUE(eventually([&] { return server_->stats().tls_handshakes == 2; }));
  EXPECT_EQ(server_->stats().requests_received, 2u);
}

TEST_F(SimServer, TlsClientThatRejectsTheCertificateSendsNoRequestBytes) {
  const auto ca = cert_authority::generate();
  const auto other_ca = cert_authority::generate("someone else");
  sim::server_options options;
  options.tls = other_ca.issue(cert_options{});
  make_with_routes(options);
  run();
  {
    tls_client client(server_->port(), ca.ca_pem(), "localhost");
    EXPECT_FALSE(client.handshake());
  }
  {
    // Plain HTTP and a torn ClientHello at a TLS port.
    raw_client plain(server_->port());
    plain.send(get("/api/v1/rates"));
    plain.read_to_end();
    raw_client torn(server_->port());
    torn.send(std::string("\x16\x03\x01\x02\x00\x01", 6));
  }
  EXPECT_TRUE(eventually([&] { return server_->stats().tls_handshake_failures == 3; }));
  EXPECT_EQ(server_->stats().connections_accepted, 3u);
  EXPECT_EQ(server_->stats().tls_handshakes, 0u);
  EXPECT_EQ(server_->stats().requests_received, 0u);
  EXPECT_TRUE(server_->requests().empty());
  EXPECT_EQ(calls, 0);
}

TEST(SimServerOptions, RejectsABadTlsKey) {
  net::io_context ioc;
  sim::server_options options;
  options.tls = issued_cert{"not a cert", "not a key"};
  EXPECT_THROW(sim::server(ioc.get_executor(), options), std::invalid_argument);
}

// --- fault_table, fault JSON, latency model ---

TEST(SimFaultTable, PrefersTheExactRouteThenStarAndConsumesRemaining) {
  sim::fault_table table;
  sim::fault star;
  star.kind = sim::fault_kind::delay;
  sim::fault exact;
  exact.kind = sim::fault_kind::reset_after;
  exact.remaining = 2;
  table.set("*", star);
  table.set("/a", exact);
  EXPECT_EQ(table.pick("/a")->kind, sim::fault_kind::reset_after);
  EXPECT_EQ(table.list()[1].value.remaining, 1);
  EXPECT_EQ(table.pick("/b")->kind, sim::fault_kind::delay);
  EXPECT_EQ(table.pick("/a")->kind, sim::fault_kind::reset_after);
  EXPECT_EQ(table.pick("/a")->kind, sim::fault_kind::delay);  // exhausted: falls back to "*"
  EXPECT_EQ(table.list().size(), 1u);
  EXPECT_TRUE(table.clear("*"));
  EXPECT_FALSE(table.clear("*"));
  EXPECT_FALSE(table.pick("/a"));
}

TEST(SimFaultTable, ProbabilityAndDelayRangeAreSeeded) {
  sim::fault f;
  f.kind = sim::fault_kind::delay;
  f.probability = 0.5;
  f.delay = 10ms;
  f.delay_max = 20ms;
  auto draws = [&](std::uint64_t seed) {
    sim::fault_table table(seed);
    table.set("/a", f);
    std::vector<long> out;
    for (int i = 0; i < 200; ++i) {
      auto picked = table.pick("/a");
      out.push_back(picked ? static_cast<long>(picked->delay.count()) : -1);
    }
    return out;
  };
  const auto first = draws(7);
  EXPECT_EQ(first, draws(7));
  const auto hits = std::count_if(first.begin(), first.end(), [](long d) { return d >= 0; });
  EXPECT_GT(hits, 50);
  EXPECT_LT(hits, 150);
  for (long d : first) {
    if (d >= 0) {
      EXPECT_GE(d, 10);
      EXPECT_LE(d, 20);
    }
  }
  sim::fault never = f;
  never.probability = 0.0;
  sim::fault_table table;
  table.set("/a", never);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(table.pick("/a"));
}

TEST(SimFaultJson, RoundTripsAndRejectsMistakes) {
  auto rule = sim::parse_fault_rule(
      R"({"route":"/x","kind":"status","status":429,"retry_after_date":"Sun, 06 Nov 1994 08:49:37 GMT","delay_ms":5,"delay_max_ms":9,"remaining":3,"probability":0.25,"method":"POST","run_handler":true,"body":"{}","size_bytes":10})");
  ASSERT_TRUE(rule) << rule.error();
  EXPECT_EQ(rule->route, "/x");
  EXPECT_EQ(rule->value.kind, sim::fault_kind::status);
  EXPECT_EQ(rule->value.status, 429);
  EXPECT_EQ(rule->value.delay, 5ms);
  EXPECT_EQ(rule->value.delay_max, 9ms);
  EXPECT_EQ(rule->value.remaining, 3);
  EXPECT_TRUE(rule->value.run_handler);
  const std::string json = sim::faults_to_json({*rule});
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject());
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc["faults"][0].Accept(w);
  auto again = sim::parse_fault_rule(sb.GetString());
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->value.retry_after_date, rule->value.retry_after_date);
  EXPECT_EQ(again->value.probability, 0.25);

  EXPECT_FALSE(sim::parse_fault_rule(R"({"kind":"drop"})"));
  EXPECT_FALSE(sim::parse_fault_rule(R"({"route":"*"})"));
  EXPECT_FALSE(sim::parse_fault_rule(R"({"route":"*","kind":"drop","remaining":0})"));
  EXPECT_FALSE(sim::parse_fault_rule(R"({"route":"*","kind":"drop","probability":1.5})"));
  EXPECT_FALSE(sim::parse_fault_rule(R"({"route":"*","kind":"status","status":"429"})"));
  EXPECT_FALSE(sim::parse_fault_rule(R"([1,2])"));
  EXPECT_FALSE(sim::parse_fault_rule(std::string(100000, '[')));
  for (auto kind :
       {sim::fault_kind::delay, sim::fault_kind::oversize, sim::fault_kind::timeout_400}) {
    EXPECT_EQ(sim::parse_fault_kind(sim::to_string(kind)), kind);
  }
}

TEST(SimFaultJson, FormatsHttpDates) {
  EXPECT_EQ(sim::format_http_date(std::chrono::system_clock::from_time_t(784111777)),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(SimLatency, FixedAndLognormalMatchTheirPercentiles) {
  std::mt19937_64 rng(42);
  EXPECT_EQ(sim::latency_model::none().sample(rng).count(), 0);
  EXPECT_EQ(sim::latency_model::fixed(25ms).sample(rng), 25ms);
  const auto model = sim::latency_model::percentiles(40ms, 200ms);
  std::vector<double> samples;
  for (int i = 0; i < 20000; ++i) samples.push_back(static_cast<double>(model.sample(rng).count()));
  std::sort(samples.begin(), samples.end());
  EXPECT_NEAR(samples[10000], 40'000.0, 40'000.0 * 0.05);
  EXPECT_NEAR(samples[19800], 200'000.0, 200'000.0 * 0.10);
  EXPECT_LE(samples.back(), 800'000.0);
}

// --- cert_authority ---

// X509_verify_cert of `leaf` against `ca` for `host` (or `ip` when set); the verify error code.
int verify(const std::string& leaf_pem, const std::string& ca_pem, const std::string& host,
           const char* ip = nullptr) {
  auto leaf = read_cert(leaf_pem);
  auto ca = read_cert(ca_pem);
  if (!leaf || !ca) return -1;
  ssl_ptr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  ssl_ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (ip != nullptr) {
    X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return ok == 1 ? X509_V_OK : (error == X509_V_OK ? -2 : error);
}

TEST(CertAuthority, IssuedLeafVerifiesForLocalhostAndLoopbackIps) {
  const auto ca = cert_authority::generate();
  const auto leaf = ca.issue(cert_options{});
  EXPECT_TRUE(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(leaf.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_EQ(verify(leaf.cert_pem, ca.ca_pem(), "localhost"), X509_V_OK);
  EXPECT_EQ(verify(leaf.cert_pem, ca.ca_pem(), "", "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(verify(leaf.cert_pem, ca.ca_pem(), "", "::1"), X509_V_OK);
  EXPECT_EQ(verify(leaf.cert_pem, ca.ca_pem(), "example.com"), X509_V_ERR_HOSTNAME_MISMATCH);

  auto cert = read_cert(leaf.cert_pem);
  ssl_ptr<BIO> bio(BIO_new_mem_buf(leaf.key_pem.data(), static_cast<int>(leaf.key_pem.size())));
  ssl_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST(CertAuthority, WrongHostExpiredSelfSignedAndForeignCaFail) {
  const auto ca = cert_authority::generate();
  cert_options wrong;
  wrong.dns_names = {"wrong.example"};
  wrong.ip_addresses = {};
  const auto wrong_host = ca.issue(wrong);
  EXPECT_EQ(verify(wrong_host.cert_pem, ca.ca_pem(), "localhost"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(wrong_host.cert_pem, ca.ca_pem(), "", "127.0.0.1"),
            X509_V_ERR_IP_ADDRESS_MISMATCH);
  EXPECT_EQ(verify(wrong_host.cert_pem, ca.ca_pem(), "wrong.example"), X509_V_OK);

  cert_options old;
  old.not_before_offset = -std::chrono::seconds(2 * 86400);
  old.valid_for = std::chrono::seconds(86400);
  EXPECT_EQ(verify(ca.issue(old).cert_pem, ca.ca_pem(), "localhost"), X509_V_ERR_CERT_HAS_EXPIRED);

  const auto self = cert_authority::self_signed(cert_options{});
  EXPECT_NE(verify(self.cert_pem, ca.ca_pem(), "localhost"), X509_V_OK);
  // Well-formed: it verifies only for a client that pins it as its own trust anchor.
  EXPECT_EQ(verify(self.cert_pem, self.cert_pem, "localhost"), X509_V_OK);

  const auto other = cert_authority::generate("other CA");
  EXPECT_NE(verify(other.issue(cert_options{}).cert_pem, ca.ca_pem(), "localhost"), X509_V_OK);

  EXPECT_THROW(ca.issue(cert_options{.dns_names = {}, .ip_addresses = {"not-an-ip"}}),
               std::runtime_error);
}

TEST(CertAuthority, CopiesShareTheCaAndWriteCaPem) {
  const auto ca = cert_authority::generate("copy test");
  const cert_authority copy = ca;
  EXPECT_EQ(copy.ca_pem(), ca.ca_pem());
  EXPECT_EQ(verify(copy.issue(cert_options{}).cert_pem, ca.ca_pem(), "localhost"), X509_V_OK);

  const auto path = std::filesystem::temp_directory_path() /
                    ("swaprouter-ca-" + std::to_string(::getpid()) + ".pem");
  ASSERT_TRUE(ca.write_ca_pem(path.string()));
  std::ifstream in(path);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, ca.ca_pem());
  std::filesystem::remove(path);
  EXPECT_FALSE(ca.write_ca_pem("/nonexistent-dir/ca.pem"));
}

// A held timer set keeps what came due until release, then runs it in the order it came due;
// what comes due after the release runs when due, and stop() drops what is still waiting.
TEST(TimerSet, HeldActionsWaitForReleaseInOrder) {
  net::io_context io;
  swaprouter::sim::timer_set timers(io.get_executor());
  std::vector<int> ran;
  timers.hold();
  timers.schedule(20ms, [&] { ran.push_back(2); });
  timers.schedule(1ms, [&] { ran.push_back(1); });
  io.run();  // both timers elapse
  EXPECT_TRUE(ran.empty()) << "ran while held";
  timers.release();
  io.restart();
  io.run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  timers.schedule(1ms, [&] { ran.push_back(3); });
  io.restart();
  io.run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3})) << "released: runs when due";

  timers.hold();
  timers.schedule(1ms, [&] { ran.push_back(4); });
  io.restart();
  io.run();
  timers.stop();
  timers.release();
  io.restart();
  io.run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3})) << "a stopped set runs nothing";
}

}  // namespace
