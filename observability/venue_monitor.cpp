#include "observability/venue_monitor.hpp"

#include <utility>

namespace swaprouter::observability {

namespace {

std::optional<decimal> rate_of(decimal net, decimal spend) {
  if (spend.is_zero()) return std::nullopt;
  auto rate = net.div(spend, rounding::down);
  if (!rate) return std::nullopt;
  return *rate;
}

}  // namespace

std::string pair_name(std::string_view spend_asset, std::string_view receive_asset) {
  std::string out(spend_asset);
  out += '/';
  out += receive_asset;
  return out;
}

monitored_venue::monitored_venue(venue& inner, quote_observer observer)
    : forwarding_venue(inner), observer_(std::move(observer)) {}

void monitored_venue::record(const quote_request& request, clock::time_point started, bool ok,
                             std::optional<wall_time> obtained_at, std::optional<decimal> net_rate,
                             std::string_view error_text) {
  const auto elapsed = clock::now() - started;
  stats_.latency.record(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  if (observer_) {
    observer_(inner_.id(), std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed), ok);
  }
  stats_.last_quote_failed = !ok;
  if (!ok) {
    ++stats_.quote_errors;
    stats_.last_error = std::string(error_text);
    return;
  }
  ++stats_.quotes;
  const wall_time now = std::chrono::system_clock::now();
  stats_.last_quote = now;
  std::string pair = pair_name(request.spend_asset, request.receive_asset);
  pair_quote& q = stats_.pairs[pair];
  q.pair = std::move(pair);
  q.received_at = now;
  q.obtained_at = obtained_at;
  q.amount = request.amount;
  q.net_rate = net_rate;
}

task<result<quote>> monitored_venue::price(const quote_request& request) {
  const auto started = clock::now();
  auto answer = co_await inner_.price(request);
  if (!answer) {
    record(request, started, false, std::nullopt, std::nullopt, describe(answer.error()));
    co_return answer;
  }
  std::optional<wall_time> obtained;
  if (answer->obtained_at != wall_time{}) obtained = answer->obtained_at;
  record(request, started, true, obtained, rate_of(answer->receive_net, answer->spend_amount), {});
  co_return answer;
}

task<result<pricing>> monitored_venue::pricing_for(const quote_request& request) {
  const auto started = clock::now();
  auto answer = co_await inner_.pricing_for(request);
  if (!answer) {
    record(request, started, false, std::nullopt, std::nullopt, describe(answer.error()));
    co_return answer;
  }
  // The model priced at the amount asked: what a direct swap of that size would net now.
  std::optional<decimal> rate;
  if (request.side == amount_side::spend) {
    if (auto p = price_spend(*answer, request.amount)) rate = rate_of(p->net, p->spend);
  } else if (auto p = price_receive(*answer, request.amount)) {
    rate = rate_of(p->net, p->spend);
  }
  std::optional<wall_time> obtained;
  if (answer->obtained_at != wall_time{}) obtained = answer->obtained_at;
  record(request, started, true, obtained, rate, {});
  co_return answer;
}

}  // namespace swaprouter::observability
