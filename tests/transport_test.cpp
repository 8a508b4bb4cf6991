// The real HTTP client against the emulator server over loopback sockets, plain and TLS.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "adapters/sim/server.hpp"
#include "engine/cert_authority.hpp"
#include "engine/http.hpp"
#include "tests/support/loopback_tls.hpp"
#include "tests/support/run_task.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test_support::test_ca;

struct transport_case {
  bool tls;
};

class Transport : public ::testing::TestWithParam<transport_case> {
 protected:
  void SetUp() override {
    sim::server_options options;
    if (GetParam().tls) options.tls = test_ca().issue(cert_options{});
    server_.emplace(io_.get_executor(), std::move(options));
    server_->route("GET", "/echo/{word}", [](const sim::sim_request& request) {
      return sim::sim_response::json(
          200, R"({"word":")" + std::string(request.path_param("word")) + R"("})");
    });
    server_->route("POST", "/create", [this](const sim::sim_request& request) {
      ++created_;
      return sim::sim_response::json(201, request.body);
    });
    server_->start();
  }

  http_endpoint endpoint() const {
    http_endpoint e = test_support::loopback_tls(server_->port());
    e.tls = GetParam().tls;
    e.pool_size = 2;
    e.max_body_bytes = 1 << 20;
    return e;
  }

  // Runs one coroutine to completion on the shared io_context (the server runs there too).
  template <class T>
  T run(asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }

  result<http_response> send(http_client& client, http_request request,
                             std::chrono::milliseconds timeout = 2000ms) {
    return run(client.send(std::move(request), timeout));
  }

  static http_request get(std::string target) {
    http_request request;
    request.target = std::move(target);
    return request;
  }

  static http_request post(std::string target, std::string body) {
    http_request request;
    request.method = "POST";
    request.target = std::move(target);
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(body);
    return request;
  }

  void set_fault(std::string route, sim::fault f) { server_->faults().set(std::move(route), f); }

  asio::io_context io_;
  std::optional<sim::server> server_;
  int created_ = 0;
};

TEST_P(Transport, KeepAliveReusesOneConnectionForManyRequests) {
  auto client = make_http_client(io_.get_executor(), endpoint());
  for (int i = 0; i < 25; ++i) {
    auto response = send(*client, get("/echo/w" + std::to_string(i)));
    ASSERT_TRUE(response.has_value()) << describe(response.error());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, R"({"word":"w)" + std::to_string(i) + R"("})");
  }
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(client->stats().requests_sent, 25u);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests_received, 25u);
}

TEST_P(Transport, WarmOpensConnectionsAheadOfUse) {
  auto client = make_http_client(io_.get_executor(), endpoint());
  run([&]() -> asio::awaitable<bool> {
    co_await client->warm(2);
    co_return true;
  }());
  EXPECT_EQ(client->stats().connections_opened, 2u);
  ASSERT_TRUE(send(*client, get("/echo/a")).has_value());
  EXPECT_EQ(client->stats().connections_opened, 2u);
}

// A warmed connection has read nothing yet; over TLS 1.3 the server's session tickets wait on it
// by the time it is used (the pause makes sure they arrived). They are no stray answer: the
// connection is used, not replaced.
TEST_P(Transport, AWarmConnectionWithSessionTicketsWaitingIsUsed) {
  auto client = make_http_client(io_.get_executor(), endpoint());
  run([&]() -> asio::awaitable<bool> {
    co_await client->warm(1);
    co_return true;
  }());
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 3; ++i) {
    auto response = send(*client, get("/echo/t" + std::to_string(i)));
    ASSERT_TRUE(response.has_value()) << describe(response.error());
    EXPECT_EQ(response->body, R"({"word":"t)" + std::to_string(i) + R"("})");
  }
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
}

TEST_P(Transport, ErrorStatusIsAValueAndStatusErrorClassifiesIt) {
  sim::fault f;
  f.kind = sim::fault_kind::status;
  f.status = 503;
  f.body = R"({"code":"unavailable"})";
  set_fault("/echo/{word}", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, get("/echo/x"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 503);
  const error e = status_error(*response);
  EXPECT_EQ(e.kind, error_kind::http_status);
  EXPECT_EQ(e.http_status, 503);
  EXPECT_TRUE(e.retryable());
  EXPECT_NE(e.message.find("unavailable"), std::string::npos);
}

TEST_P(Transport, LineBreakInAHeaderIsRefusedBeforeAnythingIsSentAndTheValueIsNotQuoted) {
  auto client = make_http_client(io_.get_executor(), endpoint());
  http_request request = post("/create", "{}");
  request.headers.emplace_back("X-Api-Key", "secret-key\r\nX-Injected: 1");
  auto answer = send(*client, request);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, error_kind::invalid_argument);
  EXPECT_EQ(answer.error().message, "the value of header X-Api-Key contains a line break");

  request = post("/create", "{}");
  request.headers.emplace_back("X-Injected: 1\r\nX-Api-Key", "k");
  answer = send(*client, request);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, error_kind::invalid_argument);
  EXPECT_EQ(answer.error().message.find("X-Injected"), std::string::npos);

  answer = send(*client, get("/echo/x HTTP/1.1\r\nX-Injected: 1"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().kind, error_kind::invalid_argument);
  EXPECT_EQ(created_, 0);
  EXPECT_EQ(client->stats().requests_sent, 0u);
  EXPECT_EQ(client->stats().connections_opened, 0u);
}

TEST_P(Transport, RetryAfterHeaderReachesTheCaller) {
  sim::fault f;
  f.kind = sim::fault_kind::status;
  f.status = 429;
  f.retry_after_seconds = 7;
  set_fault("/echo/{word}", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, get("/echo/x"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->header("retry-after"), "7");
}

TEST_P(Transport, ResetBeforeAnswerIsResetAndMayHaveReached) {
  sim::fault f;
  f.kind = sim::fault_kind::reset_before;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", "{}"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::reset) << describe(response.error());
  EXPECT_TRUE(response.error().may_have_reached);
  EXPECT_EQ(created_, 0);
}

TEST_P(Transport, ResetAfterTheActionIsResetAndTheActionHappened) {
  sim::fault f;
  f.kind = sim::fault_kind::reset_after;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", "{}"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::reset) << describe(response.error());
  EXPECT_TRUE(response.error().may_have_reached);
  EXPECT_EQ(created_, 1);
}

TEST_P(Transport, ShortBodyIsTruncatedNeverSuccess) {
  sim::fault f;
  f.kind = sim::fault_kind::truncated_body;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", R"({"some":"payload that is long enough"})"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::truncated) << describe(response.error());
  EXPECT_TRUE(response.error().may_have_reached);
}

TEST_P(Transport, ChunkedBodyWithoutLastChunkIsTruncated) {
  sim::fault f;
  f.kind = sim::fault_kind::truncated_chunked;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", R"({"some":"payload that is long enough"})"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::truncated) << describe(response.error());
}

TEST_P(Transport, MalformedJsonArrivesAsTheBodyForTheAdapterToRefuse) {
  sim::fault f;
  f.kind = sim::fault_kind::malformed_json;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", R"({"a":1})"));
  ASSERT_TRUE(response.has_value()) << describe(response.error());
  EXPECT_NE(response->body, R"({"a":1})");
}

TEST_P(Transport, DroppedRequestTimesOutAtTheDeadline) {
  sim::fault f;
  f.kind = sim::fault_kind::drop;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, post("/create", "{}"), 300ms);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::timeout) << describe(response.error());
  EXPECT_TRUE(response.error().may_have_reached);
}

TEST_P(Transport, SlowAnswerPastTheDeadlineTimesOut) {
  sim::fault f;
  f.kind = sim::fault_kind::delay;
  f.delay = 1500ms;
  f.remaining = 1;
  set_fault("/echo/{word}", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, get("/echo/x"), 200ms);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::timeout);
  // The timed-out connection is not reused: the next request gets a fresh one and succeeds.
  auto next = send(*client, get("/echo/y"));
  ASSERT_TRUE(next.has_value()) << describe(next.error());
  EXPECT_EQ(next->body, R"({"word":"y"})");
}

TEST_P(Transport, OversizeBodyIsRefused) {
  sim::fault f;
  f.kind = sim::fault_kind::oversize;
  f.size_bytes = 4u << 20;
  set_fault("/echo/{word}", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, get("/echo/x"), 5000ms);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::too_large) << describe(response.error());
}

TEST_P(Transport, RedirectIsNeverFollowed) {
  sim::fault f;
  f.kind = sim::fault_kind::redirect;
  f.status = 302;
  f.body = "http://127.0.0.2:9/elsewhere";
  set_fault("/echo/{word}", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  auto response = send(*client, get("/echo/x"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::redirect);
  EXPECT_EQ(response.error().http_status, 302);
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(client->stats().requests_sent, 1u);
  EXPECT_EQ(server_->stats().requests_received, 1u);
}

TEST_P(Transport, RefusedConnectionIsConnectError) {
  auto e = endpoint();
  const auto port = e.port;
  server_->stop();
  server_.reset();
  io_.poll();
  e.port = port;
  auto client = make_http_client(io_.get_executor(), e);
  auto response = send(*client, get("/echo/x"));
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, error_kind::connect) << describe(response.error());
  EXPECT_FALSE(response.error().may_have_reached);
}

// on_written marks the moment the crash point after_request_write sits at (FAULTS.md 4): the
// whole request is on the wire and no answer has been read. The server here reads the request,
// acts and never answers: while the client still waits, the server has it and on_written has
// run exactly once.
TEST_P(Transport, OnWrittenRunsOnceTheRequestIsWrittenBeforeAnyAnswer) {
  sim::fault f;
  f.kind = sim::fault_kind::drop;
  f.run_handler = true;
  set_fault("/create", f);
  auto client = make_http_client(io_.get_executor(), endpoint());
  int written = 0;
  std::optional<result<http_response>> answer;
  auto request = post("/create", "{}");
  request.on_written = [&] {
    ++written;
    EXPECT_FALSE(answer.has_value());
  };
  asio::co_spawn(io_, client->send(std::move(request), 1000ms),
                 [&](std::exception_ptr e, result<http_response> r) {
                   if (!e) answer = std::move(r);
                 });
  io_.restart();
  while (!answer && (written == 0 || server_->requests().empty())) io_.run_one();
  ASSERT_FALSE(answer.has_value()) << "answered before the server had the request";
  EXPECT_EQ(written, 1);
  EXPECT_EQ(created_, 1);
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_EQ(server_->requests().front().route, "/create");
  while (!answer) io_.run_one();
  ASSERT_FALSE(answer->has_value());
  EXPECT_EQ(answer->error().kind, error_kind::timeout);
  EXPECT_EQ(written, 1);
}

TEST_P(Transport, OnWrittenRunsOncePerAnsweredRequestAndNeverWithoutAConnection) {
  auto client = make_http_client(io_.get_executor(), endpoint());
  int written = 0;
  auto request = post("/create", R"({"n":1})");
  request.on_written = [&] { ++written; };
  auto response = send(*client, std::move(request));
  ASSERT_TRUE(response.has_value()) << describe(response.error());
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(written, 1);

  auto e = endpoint();
  server_->stop();
  server_.reset();
  io_.poll();
  auto refused = make_http_client(io_.get_executor(), e);
  auto never = post("/create", "{}");
  never.on_written = [&] { ++written; };
  auto failed = send(*refused, std::move(never));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind, error_kind::connect);
  EXPECT_EQ(written, 1) << "nothing was written";
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, Transport,
                         ::testing::Values(transport_case{false}, transport_case{true}),
                         [](const auto& info) { return info.param.tls ? "tls" : "plain"; });

// TLS must fail closed: the handshake fails and the server never sees a request byte, so no
// credential header can leak to an impostor.
class TlsFailsClosed : public ::testing::TestWithParam<const char*> {};

TEST_P(TlsFailsClosed, HandshakeFailsAndServerSawNoRequest) {
  const std::string variant = GetParam();
  asio::io_context io;
  sim::server_options options;
  cert_options leaf;
  if (variant == "wrong_host") {
    leaf.dns_names = {"wrong.example"};
    leaf.ip_addresses = {};
    options.tls = test_ca().issue(leaf);
  } else if (variant == "expired") {
    leaf.not_before_offset = -std::chrono::hours(48);
    leaf.valid_for = std::chrono::hours(24);
    options.tls = test_ca().issue(leaf);
  } else if (variant == "self_signed") {
    options.tls = cert_authority::self_signed(leaf);
  } else {
    options.tls = cert_authority::generate("another CA").issue(leaf);
  }
  sim::server server(io.get_executor(), std::move(options));
  server.route("GET", "/x", [](const sim::sim_request&) { return sim::sim_response::json(200, "{}"); });
  server.start();

  auto client = make_http_client(io.get_executor(), test_support::loopback_tls(server.port()));

  std::optional<result<http_response>> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http_request request;
        request.target = "/x";
        request.headers.emplace_back("X-Access-Key", "sentinel-key");
        out = co_await client->send(std::move(request), std::chrono::seconds(2));
      },
      asio::detached);
  while (!out) io.run_one();
  ASSERT_FALSE(out->has_value());
  EXPECT_EQ(out->error().kind, error_kind::tls) << describe(out->error());
  EXPECT_FALSE(out->error().may_have_reached);
  // Let the server finish processing the failed handshake before reading its counters.
  for (int i = 0; i < 50 && server.stats().tls_handshake_failures == 0; ++i) io.run_one_for(10ms);
  EXPECT_EQ(server.stats().requests_received, 0u);
  EXPECT_EQ(server.stats().tls_handshakes, 0u);
  EXPECT_TRUE(server.requests().empty());
}

INSTANTIATE_TEST_SUITE_P(Variants, TlsFailsClosed,
                         ::testing::Values("wrong_host", "expired", "self_signed", "untrusted_ca"));

}  // namespace
}  // namespace swaprouter
