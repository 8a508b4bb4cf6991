#include "engine/quote_poller.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <utility>

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// An adapter reports failures as values; one that throws has broken an invariant, and the loop
// records it like any failure instead of ending.
template <class T>
task<result<T>> guarded(task<result<T>> call) {
  try {
    co_return co_await std::move(call);
  } catch (const std::exception& e) {
    co_return fail(error_kind::internal, std::string("venue threw: ") + e.what());
  }
}

bool ends_round(const error& e) {
  return e.kind == error_kind::rate_limited || e.kind == error_kind::circuit_open;
}

// When to try a kind again after `e`: the retry delay (or the kind's interval when shorter), and
// never before the provider's Retry-After.
milliseconds retry_delay(const error& e, milliseconds interval, milliseconds retry) {
  milliseconds delay = std::min(interval, retry);
  if (e.retry_after_seconds && *e.retry_after_seconds > 0) {
    delay = std::max(delay, milliseconds(*e.retry_after_seconds * 1000));
  }
  return delay;
}

decimal amount_for(const direction& d, const poll_settings& s) {
  if (const auto it = s.amounts.find(d.spend_asset); it != s.amounts.end()) return it->second;
  return d.min_spend.is_positive() ? d.min_spend : decimal::from_int(1);
}

// The wait before a poll of `kind` that leaves `reserve` requests of the provider's budget. A
// budget too small to leave that many (its wait is duration::max(): never, and past the end of the
// clock once added to now) leaves as many as it can.
std::chrono::steady_clock::duration wait_for_budget(const venue& v, poll_kind kind,
                                                    std::int64_t reserve) {
  auto wait = v.poll_wait(kind, reserve);
  while (wait == std::chrono::steady_clock::duration::max() && reserve > 0) {
    wait = v.poll_wait(kind, --reserve);
  }
  return wait;
}

bool priced_assets(const direction& d, const poll_settings& s) {
  if (s.assets.empty()) return true;
  const auto has = [&](const std::string& a) {
    return std::find(s.assets.begin(), s.assets.end(), a) != s.assets.end();
  };
  return has(d.spend_asset) && has(d.receive_asset);
}

}  // namespace

// What the loops share with the poller; each loop holds it, so it outlives the poller object
// while an answer is in flight.
struct poller_state {
  struct provider {
    venue* v = nullptr;
    std::string id;
    poll_settings settings;
    poll_request_counts counts;
    // The prices loop's timer while it waits for the first listing, so the listing can wake it.
    asio::steady_timer* waiting_for_directions = nullptr;
  };

  quote_book& book;
  poll_clock& clock;
  std::vector<provider> providers;
  std::vector<asio::steady_timer*> sleeping;
  std::size_t running = 0;
  bool stopped = false;

  poller_state(quote_book& b, poll_clock& c) : book(b), clock(c) {}

  // A loop's presence: counted while it runs, its timer known to stop() while it exists.
  struct loop_guard {
    poller_state& s;
    asio::steady_timer& timer;
    loop_guard(poller_state& st, asio::steady_timer& t) : s(st), timer(t) {
      ++s.running;
      s.sleeping.push_back(&timer);
    }
    ~loop_guard() {
      --s.running;
      std::erase(s.sleeping, &timer);
    }
    loop_guard(const loop_guard&) = delete;
    loop_guard& operator=(const loop_guard&) = delete;
  };

  task<void> sleep_until(asio::steady_timer& timer, poll_clock::steady_time at) {
    if (stopped) co_return;
    clock.arm(timer, at);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    clock.disarm(timer);
  }

  void note_offset(const provider& p) { book.set_clock_offset(p.id, p.v->health().clock_offset); }

  void failed(const provider& p, poll_kind kind, const error& e) {
    book.record_failure(p.id, kind, e, clock.wall_now());
  }
};

namespace {

using state_ptr = std::shared_ptr<poller_state>;

// After stop() a loop touches neither the book nor the venue again.
task<void> directions_loop(state_ptr s, std::size_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const poller_state::loop_guard guard(*s, timer);
  auto& p = s->providers[index];
  while (!s->stopped) {
    const auto wait = wait_for_budget(*p.v, poll_kind::directions, p.settings.reserve);
    if (wait > wait.zero()) {
      co_await s->sleep_until(timer, s->clock.steady_now() + wait);
      continue;
    }
    const auto started = s->clock.steady_now();
    ++p.counts.directions;
    auto listed = co_await guarded(p.v->directions());
    if (s->stopped) break;
    s->note_offset(p);
    milliseconds next = p.settings.directions;
    if (listed) {
      s->book.set_directions(p.id, std::move(*listed), s->clock.wall_now());
      s->book.record_success(p.id);
      if (p.waiting_for_directions != nullptr) p.waiting_for_directions->cancel();
    } else {
      next = retry_delay(listed.error(), p.settings.directions, p.settings.retry);
      s->failed(p, poll_kind::directions, listed.error());
    }
    co_await s->sleep_until(timer, started + next);
  }
}

task<void> prices_loop(state_ptr s, std::size_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const poller_state::loop_guard guard(*s, timer);
  auto& p = s->providers[index];
  while (!s->stopped) {
    const auto round = s->clock.steady_now();
    const std::vector<direction>* listed = s->book.directions(p.id);
    if (listed == nullptr) {
      // Woken by the first listing; the interval bounds the wait should that never come.
      p.waiting_for_directions = &timer;
      co_await s->sleep_until(timer, round + p.settings.prices);
      p.waiting_for_directions = nullptr;
      continue;
    }
    // Copied: the directions loop may replace the listing while a price is awaited.
    std::vector<quote_request> asks;
    for (const direction& d : *listed) {
      if (!d.enabled || !priced_assets(d, p.settings)) continue;
      asks.push_back(
          {d.spend_asset, d.receive_asset, amount_side::spend, amount_for(d, p.settings)});
    }
    auto next = round + p.settings.prices;
    for (const quote_request& ask : asks) {
      for (auto wait = wait_for_budget(*p.v, poll_kind::prices, p.settings.reserve);
           wait > wait.zero() && !s->stopped;
           wait = wait_for_budget(*p.v, poll_kind::prices, p.settings.reserve)) {
        co_await s->sleep_until(timer, s->clock.steady_now() + wait);
      }
      if (s->stopped) break;
      const auto started = s->clock.steady_now();
      ++p.counts.prices;
      auto priced = co_await guarded(p.v->pricing_for(ask));
      if (s->stopped) break;
      const auto latency = s->clock.steady_now() - started;
      s->note_offset(p);
      if (priced) {
        s->book.record_quote_latency(p.id, latency);
        s->book.put(std::move(*priced), s->clock.wall_now());
        s->book.record_success(p.id);
        continue;
      }
      s->failed(p, poll_kind::prices, priced.error());
      if (ends_round(priced.error())) {
        next = std::max(next,
                        started + retry_delay(priced.error(), p.settings.prices, p.settings.retry));
        break;
      }
    }
    co_await s->sleep_until(timer, next);
  }
}

task<void> balances_loop(state_ptr s, std::size_t index) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const poller_state::loop_guard guard(*s, timer);
  auto& p = s->providers[index];
  while (!s->stopped && p.settings.poll_balances) {
    const auto wait = wait_for_budget(*p.v, poll_kind::balances, p.settings.reserve);
    if (wait > wait.zero()) {
      co_await s->sleep_until(timer, s->clock.steady_now() + wait);
      continue;
    }
    const auto started = s->clock.steady_now();
    ++p.counts.balances;
    auto read = co_await guarded(p.v->balances());
    if (s->stopped) break;
    s->note_offset(p);
    milliseconds next = p.settings.balances;
    if (read) {
      s->book.set_balances(p.id, std::move(*read), s->clock.wall_now());
      s->book.record_success(p.id);
    } else {
      next = retry_delay(read.error(), p.settings.balances, p.settings.retry);
      s->failed(p, poll_kind::balances, read.error());
    }
    co_await s->sleep_until(timer, started + next);
  }
}

}  // namespace

quote_poller::quote_poller(std::span<venue* const> venues, quote_book& book, poll_clock& clock,
                           poll_settings defaults,
                           std::map<std::string, poll_settings, std::less<>> per_provider)
    : state_(std::make_shared<poller_state>(book, clock)) {
  state_->providers.reserve(venues.size());
  for (venue* v : venues) {
    poller_state::provider p;
    p.v = v;
    p.id = std::string(v->id());
    const auto it = per_provider.find(p.id);
    p.settings = it == per_provider.end() ? defaults : it->second;
    state_->providers.push_back(std::move(p));
  }
}

quote_poller::~quote_poller() { stop(); }

void quote_poller::start(asio::any_io_executor executor) {
  // A loop never throws (venue exceptions are caught per call); should one still escape, it ends
  // that loop only, never the io_context's run().
  const auto ignore = [](std::exception_ptr) {};
  for (std::size_t i = 0; i < state_->providers.size(); ++i) {
    asio::co_spawn(executor, directions_loop(state_, i), ignore);
    asio::co_spawn(executor, prices_loop(state_, i), ignore);
    asio::co_spawn(executor, balances_loop(state_, i), ignore);
  }
}

void quote_poller::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  for (asio::steady_timer* t : state_->sleeping) t->cancel();
}

std::size_t quote_poller::running() const { return state_->running; }

poll_request_counts quote_poller::requests(std::string_view provider) const {
  for (const auto& p : state_->providers) {
    if (p.id == provider) return p.counts;
  }
  return {};
}

}  // namespace swaprouter
