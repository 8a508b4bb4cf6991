// Shared and exclusive turns per key for the coroutines of one executor, e.g. a provider client's
// quotes (shared) and swaps (exclusive) of one pair and amount.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/venue.hpp"

namespace swaprouter {

/// Turns per key: shared turns of a key run together, an exclusive turn runs alone, and an
/// exclusive turn that waits goes before the shared turns that ask after it. Not thread-safe: use
/// from one executor; the gate must outlive its turns.
class key_gate {
  enum class hold { shared, exclusive, waiting };

 public:
  /// Held until destroyed (or moved from).
  class turn {
   public:
    turn() = default;
    turn(turn&& other) noexcept
        : gate_(std::exchange(other.gate_, nullptr)),
          key_(std::move(other.key_)),
          hold_(other.hold_) {}
    turn& operator=(turn&& other) noexcept {
      if (this != &other) {
        release();
        gate_ = std::exchange(other.gate_, nullptr);
        key_ = std::move(other.key_);
        hold_ = other.hold_;
      }
      return *this;
    }
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;
    ~turn() { release(); }

   private:
    friend class key_gate;
    turn(key_gate* gate, std::string key, hold what)
        : gate_(gate), key_(std::move(key)), hold_(what) {}
    void release() {
      if (gate_ != nullptr) std::exchange(gate_, nullptr)->release(key_, hold_);
    }

    key_gate* gate_ = nullptr;
    std::string key_;
    hold hold_ = hold::shared;
  };

  /// Waits while an exclusive turn of `key` runs or waits. Pass `key` by value (GCC PR 99576).
  task<turn> shared(std::string key) {
    while (true) {
      const auto it = keys_.find(key);
      if (it == keys_.end() || (!it->second.exclusive && it->second.exclusive_waiting == 0)) break;
      co_await changed();
    }
    ++keys_[key].shared;
    co_return turn(this, std::move(key), hold::shared);
  }

  /// Waits while any turn of `key` runs. Pass `key` by value (GCC PR 99576).
  task<turn> exclusive(std::string key) {
    ++keys_[key].exclusive_waiting;
    // Its place in the queue ends with the wait, however the wait ends.
    const turn queued(this, key, hold::waiting);
    while (true) {
      const state& s = keys_[key];
      if (!s.exclusive && s.shared == 0) break;
      co_await changed();
    }
    keys_[key].exclusive = true;
    co_return turn(this, std::move(key), hold::exclusive);
  }

 private:
  struct state {
    int shared = 0;
    int exclusive_waiting = 0;
    bool exclusive = false;
  };

  // Resumes at the next release of any key; the waiter checks its own key again. Each wait has
  // its own timer, so the gate holds no I/O object that could outlive its io_context.
  task<void> changed() {
    boost::asio::steady_timer wake(co_await boost::asio::this_coro::executor,
                                   boost::asio::steady_timer::time_point::max());
    waiting_.push_back(&wake);
    struct leave {
      std::vector<boost::asio::steady_timer*>& waiting;
      boost::asio::steady_timer* wake;
      ~leave() { std::erase(waiting, wake); }
    } const left{waiting_, &wake};
    co_await wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  void release(const std::string& key, hold what) {
    const auto it = keys_.find(key);
    if (it == keys_.end()) return;
    state& s = it->second;
    switch (what) {
      case hold::shared:
        --s.shared;
        break;
      case hold::exclusive:
        s.exclusive = false;
        break;
      case hold::waiting:
        --s.exclusive_waiting;
        break;
    }
    if (s.shared == 0 && !s.exclusive && s.exclusive_waiting == 0) keys_.erase(it);
    for (boost::asio::steady_timer* wake : waiting_) wake->cancel();
  }

  std::map<std::string, state, std::less<>> keys_;
  std::vector<boost::asio::steady_timer*> waiting_;  // never expire: cancelled at each release
};

}  // namespace swaprouter
