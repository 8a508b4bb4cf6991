#include "adapters/sim/timers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <utility>
#include <vector>

namespace swaprouter::sim {

namespace asio = boost::asio;

struct timer_set::state {
  explicit state(asio::any_io_executor e) : executor(std::move(e)) {}

  asio::any_io_executor executor;
  std::uint64_t next_id = 1;  // 0 stands for "no timer" (sleep after stop)
  std::map<std::uint64_t, std::shared_ptr<asio::steady_timer>> timers;
  bool stopped = false;
  bool held = false;
  std::vector<std::function<void()>> due;  // came due while held, in that order
};

timer_set::timer_set(asio::any_io_executor executor)
    : state_(std::make_shared<state>(std::move(executor))) {}

void timer_set::schedule(std::chrono::milliseconds delay, std::function<void()> action) {
  const std::uint64_t id = start(delay);
  asio::co_spawn(state_->executor, run(state_, id, std::move(action)), asio::detached);
}

asio::awaitable<bool> timer_set::sleep(std::chrono::milliseconds delay) {
  return wait(state_, state_->stopped ? 0 : start(delay));
}

void timer_set::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  for (auto& [id, timer] : state_->timers) timer->cancel();
}

bool timer_set::stopped() const { return state_->stopped; }

void timer_set::hold() { state_->held = true; }

void timer_set::release() {
  state_->held = false;
  for (auto& action : std::exchange(state_->due, {})) {
    asio::post(state_->executor, [s = state_, action = std::move(action)] {
      if (!s->stopped) action();
    });
  }
}

std::uint64_t timer_set::start(std::chrono::milliseconds delay) {
  const std::uint64_t id = state_->next_id++;
  state_->timers.emplace(id, std::make_shared<asio::steady_timer>(state_->executor, delay));
  return id;
}

asio::awaitable<bool> timer_set::wait(std::shared_ptr<state> s, std::uint64_t id) {
  if (id == 0) co_return false;
  const auto timer = s->timers.at(id);
  auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  s->timers.erase(id);
  co_return !ec;
}

asio::awaitable<void> timer_set::run(std::shared_ptr<state> s, std::uint64_t id,
                                     std::function<void()> action) {
  const bool elapsed = co_await wait(s, id);
  if (!elapsed || s->stopped) co_return;
  if (s->held) {
    s->due.push_back(std::move(action));
    co_return;
  }
  action();
}

}  // namespace swaprouter::sim
