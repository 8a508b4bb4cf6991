#include "engine/paper_venue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t latency_samples = 32;

bool waits_for_budget(const error& e) {
  return !e.may_have_reached &&
         (e.kind == error_kind::rate_limited || e.kind == error_kind::circuit_open);
}

}  // namespace

paper_venue::paper_venue(venue& inner, paper_options options)
    : forwarding_venue(inner), options_(std::move(options)) {
  if (options_.balances) {
    available_.emplace();
    for (const auto& b : *options_.balances) (*available_)[b.asset] += b.available;
  }
}

venue_traits paper_venue::traits() const {
  venue_traits out = inner_.traits();
  // The paper ledger is keyed by our client id: a resubmission finds the first fill.
  out.client_id = true;
  return out;
}

wall_time paper_venue::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

void paper_venue::record_latency(steady::duration took) {
  latencies_.record(std::chrono::duration_cast<std::chrono::nanoseconds>(took), latency_samples);
}

std::chrono::milliseconds paper_venue::measured_latency() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(latencies_.summary().p50);
}

task<result<quote>> paper_venue::price(const quote_request& request) {
  const auto started = steady::now();
  auto answer = co_await inner_.price(request);
  if (answer) record_latency(steady::now() - started);
  co_return answer;
}

task<result<pricing>> paper_venue::pricing_for(const quote_request& request) {
  const auto started = steady::now();
  auto answer = co_await inner_.pricing_for(request);
  if (answer) record_latency(steady::now() - started);
  co_return answer;
}

task<result<void>> paper_venue::ensure_balances() {
  if (available_) co_return result<void>{};
  auto read = co_await inner_.balances();
  if (!read) co_return std::unexpected(std::move(read.error()));
  // Another coroutine may have loaded them while this one waited.
  if (!available_) {
    available_.emplace();
    for (const auto& b : *read) (*available_)[b.asset] += b.available;
  }
  co_return result<void>{};
}

leg_status& paper_venue::keep(leg_status status) {
  const std::size_t index = swaps_.size();
  by_client_[status.ref.client] = index;
  by_ref_[status.ref.provider_ref] = index;
  swaps_.push_back(std::move(status));
  return swaps_.back();
}

task<result<leg_status>> paper_venue::submit(const leg& order, const client_id& id) {
  if (auto it = by_client_.find(id); it != by_client_.end()) co_return swaps_[it->second];
  const wall_time started = now();
  auto loaded = co_await ensure_balances();
  if (!loaded) {
    error e = loaded.error();
    e.message = "paper ledger: no starting balances: " + e.message;
    if (!waits_for_budget(e)) e.kind = error_kind::rejected;
    e.may_have_reached = false;
    co_return std::unexpected(std::move(e));
  }
  quote_request request;
  request.spend_asset = order.spend_asset;
  request.receive_asset = order.receive_asset;
  request.side = order.side;
  request.amount = order.amount;
  auto fresh = co_await price(request);
  if (!fresh) {
    // Nothing left this process: a refusal before sending is safe to retry, anything else ends
    // the paper leg as the provider's rejection would.
    error e = fresh.error();
    e.message = "paper fill: " + e.message;
    if (!waits_for_budget(e)) e.kind = error_kind::rejected;
    e.may_have_reached = false;
    co_return std::unexpected(std::move(e));
  }
  if (options_.latency) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(measured_latency());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // The client id may have been filled while this one waited (a concurrent resubmission).
  if (auto it = by_client_.find(id); it != by_client_.end()) co_return swaps_[it->second];

  const quote& q = *fresh;
  leg_status out;
  out.ref.client = id;
  out.ref.provider_ref = fmt::format("paper-{}-{}", inner_.id(), swaps_.size() + 1);
  out.direction_code = q.direction_code.empty() ? order.direction_code : q.direction_code;
  out.spend_amount = q.spend_amount;
  out.receive_amount = q.receive_net;
  out.created_at = started;
  out.valid_until = started + order.time_to_live;
  const wall_time filled_at = now();
  auto finish = [&](leg_state state, std::string reason, std::string message) -> leg_status& {
    out.state = state;
    out.provider_status = fmt::format("paper:{}", to_string(state));
    out.reason_code = std::move(reason);
    out.reason_message = std::move(message);
    return keep(std::move(out));
  };
  if (filled_at > *out.valid_until) {
    co_return finish(leg_state::expired, "paper.expired",
                     "the fill came after the leg's time-to-live");
  }
  if (q.receive_net < order.min_receive) {
    co_return finish(leg_state::cancelled, "paper.slippage",
                     fmt::format("net {} {} below the leg's minimum {}", q.receive_net.to_string(),
                                 order.receive_asset, order.min_receive.to_string()));
  }
  decimal& pay_from = (*available_)[order.spend_asset];
  if (pay_from < q.spend_amount) {
    co_return finish(leg_state::failed, "insufficient_funds",
                     fmt::format("paper balance {} {} below the spend {}", pay_from.to_string(),
                                 order.spend_asset, q.spend_amount.to_string()));
  }
  pay_from -= q.spend_amount;
  (*available_)[order.receive_asset] += q.receive_net;
  out.spend_filled = q.spend_amount;
  // Reported as 001k does (gross and fee): the executor's net, receive_filled - fee_filled at
  // the receive precision, is then exactly the quote's net.
  const bool fee_in_receive = q.fee_asset.empty() || q.fee_asset == order.receive_asset;
  out.fee_filled = fee_in_receive ? q.fee : decimal{};
  out.receive_filled = q.receive_net + out.fee_filled;
  co_return finish(leg_state::filled, {}, {});
}

task<result<leg_status>> paper_venue::status(const leg_ref& ref) {
  if (auto it = by_ref_.find(ref.provider_ref); it != by_ref_.end()) co_return swaps_[it->second];
  if (auto it = by_client_.find(ref.client); it != by_client_.end()) co_return swaps_[it->second];
  co_return fail(error_kind::not_found, "paper ledger: no swap " + ref.provider_ref);
}

task<result<std::optional<leg_status>>> paper_venue::find(const client_id& id, const leg&,
                                                          const held_swaps&) {
  if (auto it = by_client_.find(id); it != by_client_.end()) {
    co_return std::optional<leg_status>(swaps_[it->second]);
  }
  co_return std::optional<leg_status>();
}

task<result<leg_status>> paper_venue::cancel(const leg_ref& ref) { co_return co_await status(ref); }

task<result<std::vector<balance>>> paper_venue::balances() {
  auto loaded = co_await ensure_balances();
  if (!loaded) co_return std::unexpected(std::move(loaded.error()));
  std::vector<balance> out;
  for (const auto& [asset, amount] : *available_) out.push_back({asset, amount, decimal{}});
  co_return out;
}

}  // namespace swaprouter
