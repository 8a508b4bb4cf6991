// GET /status JSON shape, the bearer check, and the bot's listener over loopback with the
// project's HTTP client: metrics, status, page, halt/resume auth, intents, limits.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "engine/http.hpp"
#include "engine/json_read.hpp"
#include "engine/metrics.hpp"
#include "engine/status.hpp"
#include "observability/listener.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using observability::api_answer;

wall_time at(std::string_view iso) { return *parse_iso_timestamp(iso); }

status_snapshot canned_snapshot() {
  status_snapshot s;
  s.mode = "simulate";
  s.generated_at = at("2026-01-02T03:04:05.250Z");
  s.started_at = at("2026-01-02T03:00:00Z");
  status_provider p;
  p.name = "onek";
  p.last_quote = at("2026-01-02T03:04:05Z");
  p.latency_p50_seconds = 0.042;
  p.latency_p99_seconds = 0.25;
  s.providers.push_back(p);
  status_provider q;
  q.name = "kiiex";
  q.health = "down";
  q.circuit = circuit_state::open;
  s.providers.push_back(q);
  status_intent i;
  i.id = "int-1";
  i.source = "twap";
  i.spend_asset = "USDT";
  i.receive_asset = "BTC";
  i.side = amount_side::receive;
  i.amount = *decimal::parse("100.50");
  i.state = "executing";
  s.open_intents.push_back(i);
  status_leg l;
  l.id = "leg-1";
  l.intent_id = "int-1";
  l.provider = "onek";
  l.spend_asset = "USDT";
  l.receive_asset = "BTC";
  l.amount = *decimal::parse("0.000000000000000001");
  l.state = "submitted";
  s.open_legs.push_back(l);
  status_balance b;
  b.provider = "onek";
  b.asset = "USDT";
  b.available = *decimal::parse("12345.6789");
  s.balances.push_back(b);
  s.risk.halted = true;
  s.risk.halt_reason = "unknown outcomes \"burst\"";
  s.risk.halted_at = at("2026-01-02T03:04:00Z");
  s.risk.limits.push_back({"daily_notional_usd", *decimal::parse("1200"), *decimal::parse("5000")});
  s.last_decisions.push_back({at("2026-01-02T03:03:59Z"), "risk", "halt", "3 unknown in 60 s"});
  return s;
}

TEST(StatusJson, HasTheDocumentedShape) {
  const std::string text = to_json(canned_snapshot());
  rapidjson::Document d;
  d.Parse(text.c_str());
  ASSERT_FALSE(d.HasParseError()) << text;
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["mode"].GetString(), "simulate");
  EXPECT_STREQ(d["generated_at"].GetString(), "2026-01-02T03:04:05.250Z");
  EXPECT_STREQ(d["started_at"].GetString(), "2026-01-02T03:00:00Z");
  const auto& providers = d["providers"];
  ASSERT_EQ(providers.Size(), 2u);
  EXPECT_STREQ(providers[0]["name"].GetString(), "onek");
  EXPECT_STREQ(providers[0]["health"].GetString(), "ok");
  EXPECT_STREQ(providers[0]["circuit"].GetString(), "closed");
  EXPECT_STREQ(providers[0]["last_quote"].GetString(), "2026-01-02T03:04:05Z");
  EXPECT_DOUBLE_EQ(providers[0]["latency_p50_seconds"].GetDouble(), 0.042);
  EXPECT_DOUBLE_EQ(providers[0]["latency_p99_seconds"].GetDouble(), 0.25);
  EXPECT_STREQ(providers[1]["circuit"].GetString(), "open");
  EXPECT_TRUE(providers[1]["last_quote"].IsNull());
  EXPECT_TRUE(providers[1]["latency_p50_seconds"].IsNull());
  const auto& intent = d["open_intents"][0];
  EXPECT_STREQ(intent["id"].GetString(), "int-1");
  EXPECT_STREQ(intent["amount"].GetString(), "100.5");  // exact decimal text
  EXPECT_STREQ(intent["side"].GetString(), "receive");
  EXPECT_TRUE(intent["created_at"].IsNull());
  const auto& leg = d["open_legs"][0];
  EXPECT_STREQ(leg["intent_id"].GetString(), "int-1");
  EXPECT_STREQ(leg["amount"].GetString(), "0.000000000000000001");
  EXPECT_STREQ(leg["side"].GetString(), "spend");
  EXPECT_STREQ(leg["state"].GetString(), "submitted");
  EXPECT_STREQ(d["balances"][0]["available"].GetString(), "12345.6789");
  const auto& risk = d["risk"];
  EXPECT_TRUE(risk["halted"].GetBool());
  EXPECT_STREQ(risk["halt_reason"].GetString(), "unknown outcomes \"burst\"");
  EXPECT_STREQ(risk["limits"][0]["used"].GetString(), "1200");
  EXPECT_STREQ(risk["limits"][0]["cap"].GetString(), "5000");
  EXPECT_STREQ(d["last_decisions"][0]["action"].GetString(), "halt");
  // Every key, in order: the shape the status page and other tools rely on.
  std::vector<std::string> keys;
  for (const auto& m : d.GetObject()) keys.emplace_back(m.name.GetString());
  EXPECT_EQ(keys, (std::vector<std::string>{"mode", "generated_at", "started_at", "providers",
                                            "open_intents", "open_legs", "balances", "risk",
                                            "last_decisions"}));
}

TEST(StatusJson, QuoteBookPerProviderOnlyWhenTheBotRunsOne) {
  status_snapshot s = canned_snapshot();
  status_book b;
  b.age_seconds = 1.5;
  b.quote_p50_seconds = 0.02;
  b.quote_p99_seconds = 0.125;
  b.failures = 3;
  s.providers[0].book = b;
  const std::string text = to_json(s);
  rapidjson::Document d;
  d.Parse(text.c_str());
  ASSERT_FALSE(d.HasParseError()) << text;
  const auto& book = d["providers"][0]["quote_book"];
  ASSERT_TRUE(book.IsObject()) << text;
  EXPECT_DOUBLE_EQ(book["age_seconds"].GetDouble(), 1.5);
  EXPECT_DOUBLE_EQ(book["quote_p50_seconds"].GetDouble(), 0.02);
  EXPECT_DOUBLE_EQ(book["quote_p99_seconds"].GetDouble(), 0.125);
  EXPECT_TRUE(book["execution_p50_seconds"].IsNull());
  EXPECT_TRUE(book["execution_p99_seconds"].IsNull());
  EXPECT_EQ(book["failures"].GetInt64(), 3);
  EXPECT_FALSE(d["providers"][1].HasMember("quote_book"));
}

TEST(StatusJson, EmptySnapshotAndRunningRisk) {
  status_snapshot s;
  s.mode = "live";
  s.risk.halt_reason = "stale";  // not halted: no reason shown
  const std::string text = to_json(s);
  rapidjson::Document d;
  d.Parse(text.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_TRUE(d["providers"].IsArray());
  EXPECT_EQ(d["open_legs"].Size(), 0u);
  EXPECT_FALSE(d["risk"]["halted"].GetBool());
  EXPECT_TRUE(d["risk"]["halt_reason"].IsNull());
  EXPECT_TRUE(d["started_at"].IsNull());
}

TEST(BearerToken, MatchesOnlyTheExactToken) {
  EXPECT_TRUE(observability::bearer_matches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(observability::bearer_matches("bearer   s3cret ", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("Bearer s3cretX", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("Bearers3cret", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("s3cret", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("", "s3cret"));
  EXPECT_FALSE(observability::bearer_matches("Bearer ", ""));
  EXPECT_FALSE(observability::bearer_matches("Bearer x", ""));  // no token configured
}

constexpr std::string_view token = "t0ken-for-tests";

class Listener : public ::testing::Test {
 protected:
  void start(observability::listener_callbacks callbacks, std::size_t max_body = 1024) {
    observability::listener_options options;
    options.control_token = std::string(token);
    options.max_body_bytes = max_body;
    listener_.emplace(io_.get_executor(), std::move(options), std::move(callbacks));
    listener_->start();
    http_endpoint e;
    e.host = "127.0.0.1";
    e.port = listener_->port();
    e.tls = false;
    e.pool_size = 2;
    client_ = make_http_client(io_.get_executor(), e);
  }

  observability::listener_callbacks full_callbacks() {
    observability::listener_callbacks c;
    c.metrics = [this] { return registry_.render(); };
    c.status = [this] { return to_json(snapshot_); };
    c.halt = [this](std::string reason) {
      snapshot_.risk.halted = true;
      snapshot_.risk.halt_reason = std::move(reason);
      return api_answer{200, R"({"halted":true})"};
    };
    c.resume = [this] {
      snapshot_.risk.halted = false;
      return api_answer{200, R"({"halted":false})"};
    };
    c.submit_intent = [this](std::string_view body) {
      submitted_ = std::string(body);
      return api_answer{202, R"({"id":"int-9"})"};
    };
    c.get_intent = [](std::string_view id) {
      if (id != "int-9") return api_answer{404, R"({"error":"not_found"})"};
      return api_answer{200, R"({"id":"int-9","state":"executing"})"};
    };
    return c;
  }

  http_response send(http_request request) {
    std::optional<result<http_response>> out;
    std::exception_ptr failure;
    asio::co_spawn(io_, client_->send(std::move(request), 3s),
                   [&](std::exception_ptr e, result<http_response> value) {
                     failure = e;
                     if (!e) out = std::move(value);
                   });
    io_.restart();
    while (!out && !failure) io_.run_one();
    if (failure) std::rethrow_exception(failure);
    EXPECT_TRUE(out->has_value()) << describe(out->error());
    return out->has_value() ? **out : http_response{};
  }

  static http_request request(std::string method, std::string target, std::string body = {},
                              std::optional<std::string> bearer = std::nullopt) {
    http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    if (bearer) r.headers.emplace_back("Authorization", "Bearer " + *bearer);
    return r;
  }

  asio::io_context io_;
  metrics::registry registry_;
  metrics::bot_metrics bot_metrics_{registry_};
  status_snapshot snapshot_ = canned_snapshot();
  std::string submitted_;
  std::optional<observability::listener> listener_;
  std::unique_ptr<http_client> client_;
};

TEST_F(Listener, ServesMetricsStatusAndPage) {
  start(full_callbacks());
  bot_metrics_.rate_limited.with({"kiiex"}).inc();
  const http_response m = send(request("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(m.header("Cache-Control"), "no-store");
  EXPECT_NE(m.body.find("swaprouter_rate_limited_total{provider=\"kiiex\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.body.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos);

  const http_response s = send(request("GET", "/status"));
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.header("Content-Type"), "application/json");
  EXPECT_EQ(s.body, to_json(snapshot_));

  const http_response page = send(request("GET", "/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header("Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("fetch(\"/status\""), std::string::npos);
  EXPECT_EQ(page.body.find("innerHTML"), std::string::npos);  // textContent only
}

TEST_F(Listener, HaltAndResumeNeedTheBearerToken) {
  start(full_callbacks());
  snapshot_.risk.halted = false;
  // Missing token.
  http_response r = send(request("POST", "/halt"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  EXPECT_FALSE(snapshot_.risk.halted);
  // Wrong token, and a prefix of the right one.
  EXPECT_EQ(send(request("POST", "/halt", "", std::string("wrong"))).status, 401);
  EXPECT_EQ(send(request("POST", "/halt", "", std::string(token.substr(0, 5)))).status, 401);
  EXPECT_FALSE(snapshot_.risk.halted);
  // Good token, with and without a reason.
  r = send(request("POST", "/halt", R"({"reason":"maintenance"})", std::string(token)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"halted":true})");
  EXPECT_TRUE(snapshot_.risk.halted);
  EXPECT_EQ(snapshot_.risk.halt_reason, "maintenance");
  EXPECT_EQ(send(request("POST", "/halt", "", std::string(token))).status, 200);
  EXPECT_EQ(snapshot_.risk.halt_reason, "operator");
  EXPECT_EQ(send(request("POST", "/halt", "not json", std::string(token))).status, 400);
  EXPECT_EQ(send(request("POST", "/halt", R"({"reason":7})", std::string(token))).status, 400);
  // Resume.
  EXPECT_EQ(send(request("POST", "/resume", "", std::string("nope"))).status, 401);
  EXPECT_TRUE(snapshot_.risk.halted);
  EXPECT_EQ(send(request("POST", "/resume", "", std::string(token))).status, 200);
  EXPECT_FALSE(snapshot_.risk.halted);
  // The token never shows in what the listener serves.
  EXPECT_EQ(send(request("GET", "/status")).body.find(token), std::string::npos);
  EXPECT_EQ(send(request("GET", "/metrics")).body.find(token), std::string::npos);
}

TEST_F(Listener, IntentsGoToTheBotsCallbacks) {
  start(full_callbacks());
  const std::string body = R"({"spend":"USDT","receive":"BTC","amount":"10"})";
  EXPECT_EQ(send(request("POST", "/intents", body)).status, 401);
  http_response r = send(request("POST", "/intents", body, std::string(token)));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"id":"int-9"})");
  EXPECT_EQ(submitted_, body);
  EXPECT_EQ(send(request("GET", "/intents/int-9")).status, 401);
  r = send(request("GET", "/intents/int-9", "", std::string(token)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id":"int-9","state":"executing"})");
  EXPECT_EQ(send(request("GET", "/intents/other", "", std::string(token))).status, 404);
}

TEST_F(Listener, MissingCallbacksAnswer501) {
  start(observability::listener_callbacks{});
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/halt"},
                                                        {"POST", "/resume"},
                                                        {"POST", "/intents"},
                                                        {"GET", "/intents/x"},
                                                        {"GET", "/metrics"},
                                                        {"GET", "/status"}}) {
    const http_response r = send(request(method, target, "", std::string(token)));
    EXPECT_EQ(r.status, 501) << method << " " << target;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    ASSERT_TRUE(d.IsObject()) << r.body;
    EXPECT_STREQ(d["error"].GetString(), "not_implemented");
  }
  // Authentication comes first: no token, no hint of what is implemented.
  EXPECT_EQ(send(request("POST", "/halt")).status, 401);
  EXPECT_EQ(send(request("GET", "/")).status, 200);  // the page is static
}

TEST_F(Listener, LimitsHostsAndNoAdminApi) {
  start(full_callbacks(), 256);
  EXPECT_EQ(send(request("POST", "/intents", std::string(300, 'x'), std::string(token))).status,
            413);
  start(full_callbacks(), 256);  // 413 closes the connection: a fresh listener and client
  EXPECT_EQ(send(request("GET", "/_sim/faults")).status, 404);
  EXPECT_EQ(send(request("POST", "/_sim/faults", R"({"route":"/status"})")).status, 404);
  EXPECT_EQ(send(request("DELETE", "/status")).status, 405);
  EXPECT_EQ(send(request("GET", "/status")).status, 200);
}

// A browser page that reached the listener through DNS rebinding sends its own Host: refused.
TEST_F(Listener, RefusesNonLoopbackHost) {
  start(full_callbacks());
  std::thread server_thread([this] { io_.run(); });
  auto exchange = [this](std::string_view host) {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect({asio::ip::make_address("127.0.0.1"), listener_->port()});
    const std::string req =
        "GET /status HTTP/1.1\r\nHost: " + std::string(host) + "\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(req));
    std::string answer;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      const std::size_t n = socket.read_some(asio::buffer(buf), ec);
      answer.append(buf, n);
      if (ec) break;
    }
    return answer.substr(0, answer.find("\r\n"));
  };
  EXPECT_EQ(exchange("attacker.example"), "HTTP/1.1 421 Misdirected Request");
  EXPECT_EQ(exchange("attacker.example:8080"), "HTTP/1.1 421 Misdirected Request");
  EXPECT_EQ(exchange("localhost:1234"), "HTTP/1.1 200 OK");
  EXPECT_EQ(exchange("[::1]:1234"), "HTTP/1.1 200 OK");
  EXPECT_EQ(exchange("127.0.0.1"), "HTTP/1.1 200 OK");
  io_.stop();
  server_thread.join();
}

}  // namespace
}  // namespace swaprouter
