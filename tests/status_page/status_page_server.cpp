// Serves the bot's listener with a canned status for the headless-Chromium page test. Prints the
// port on the first line of stdout, then serves until killed or for argv[1] seconds (default 60).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/json_read.hpp"
#include "engine/metrics.hpp"
#include "engine/status.hpp"
#include "observability/listener.hpp"

namespace {

using namespace swaprouter;

wall_time at(std::string_view iso) { return *parse_iso_timestamp(iso); }

status_snapshot canned() {
  status_snapshot s;
  s.mode = "simulate";
  s.generated_at = at("2026-01-02T03:04:05Z");
  status_provider p;
  p.name = "onek";
  p.last_quote = at("2026-01-02T03:04:04Z");
  p.latency_p50_seconds = 0.042;
  p.latency_p99_seconds = 0.25;
  s.providers.push_back(p);
  status_provider q;
  // Markup in data must show as text, never as elements.
  q.name = "<b>kiiex</b>";
  q.health = "down";
  q.circuit = circuit_state::open;
  s.providers.push_back(q);
  status_leg l;
  l.id = "leg-7731";
  l.intent_id = "int-42";
  l.provider = "onek";
  l.spend_asset = "USDT";
  l.receive_asset = "BTC";
  l.side = amount_side::receive;
  l.amount = *decimal::parse("250.125");
  l.state = "submitted";
  s.open_legs.push_back(l);
  status_balance b;
  b.provider = "onek";
  b.asset = "USDT";
  b.available = *decimal::parse("9750.875");
  s.balances.push_back(b);
  s.risk.halted = true;
  s.risk.halt_reason = "unknown outcome burst";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 60;
  boost::asio::io_context io;
  metrics::registry registry;
  observability::listener_callbacks callbacks;
  callbacks.status = [] { return to_json(canned()); };
  callbacks.metrics = [&registry] { return registry.render(); };
  observability::listener listener(io.get_executor(), observability::listener_options{},
                                   std::move(callbacks));
  listener.start();
  std::printf("%u\n", static_cast<unsigned>(listener.port()));
  std::fflush(stdout);
  boost::asio::steady_timer deadline(io, std::chrono::seconds(seconds));
  deadline.async_wait([&](boost::system::error_code) { listener.stop(); });
  io.run();
  return 0;
}
