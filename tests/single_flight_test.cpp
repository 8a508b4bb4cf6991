// One refresh shared by the calls that overlap it: run once, every caller gets its outcome, and
// a call after it ends starts a refresh of its own.
#include "engine/single_flight.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <vector>

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A refresh that takes `delay`, counts its runs and ends with `outcome` (or throws).
task<result<void>> refresh(int* runs, std::chrono::milliseconds delay, result<void> outcome,
                           bool throws = false) {
  ++*runs;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
  if (throws) throw std::runtime_error("refresh broke");
  co_return outcome;
}

task<result<void>> call(single_flight* flight, int* runs, std::chrono::milliseconds delay,
                        result<void> outcome, bool throws = false) {
  task<result<void>> fresh = refresh(runs, delay, std::move(outcome), throws);
  co_return co_await flight->run(std::move(fresh));
}

struct outcome_slot {
  std::optional<result<void>> value;
  std::exception_ptr thrown;
};

void spawn(asio::io_context& io, task<result<void>> work, outcome_slot& slot) {
  asio::co_spawn(io, std::move(work), [&slot](std::exception_ptr e, result<void> r) {
    if (e) {
      slot.thrown = e;
    } else {
      slot.value = std::move(r);
    }
  });
}

void run_until_done(asio::io_context& io, const std::vector<outcome_slot*>& slots) {
  const auto done = [&] {
    for (const outcome_slot* s : slots) {
      if (!s->value && !s->thrown) return false;
    }
    return true;
  };
  io.restart();  // a context that ran out of work stays stopped until restarted
  while (!done()) io.run_one();
}

TEST(SingleFlight, OverlappingCallsShareOneRunAndItsOutcome) {
  asio::io_context io;
  single_flight flight;
  int runs = 0;
  outcome_slot a, b, c;
  spawn(io, call(&flight, &runs, 20ms, result<void>{}), a);
  spawn(io, call(&flight, &runs, 20ms, fail(error_kind::connect, "not this one")), b);
  spawn(io, call(&flight, &runs, 20ms, fail(error_kind::connect, "nor this one")), c);
  run_until_done(io, {&a, &b, &c});
  EXPECT_EQ(runs, 1);
  ASSERT_TRUE(a.value && b.value && c.value);
  EXPECT_TRUE(a.value->has_value());
  EXPECT_TRUE(b.value->has_value());
  EXPECT_TRUE(c.value->has_value());
  EXPECT_FALSE(flight.in_flight());
}

TEST(SingleFlight, WaitersGetTheLeadersFailure) {
  asio::io_context io;
  single_flight flight;
  int runs = 0;
  outcome_slot a, b;
  spawn(io, call(&flight, &runs, 20ms, fail(error_kind::timeout, "listing timed out")), a);
  spawn(io, call(&flight, &runs, 20ms, result<void>{}), b);
  run_until_done(io, {&a, &b});
  EXPECT_EQ(runs, 1);
  ASSERT_TRUE(a.value && b.value);
  ASSERT_FALSE(a.value->has_value());
  EXPECT_EQ(a.value->error().kind, error_kind::timeout);
  ASSERT_FALSE(b.value->has_value());
  EXPECT_EQ(b.value->error().message, "listing timed out");
}

TEST(SingleFlight, ACallAfterTheRunEndedStartsItsOwn) {
  asio::io_context io;
  single_flight flight;
  int runs = 0;
  outcome_slot first;
  spawn(io, call(&flight, &runs, 1ms, fail(error_kind::connect, "refused")), first);
  run_until_done(io, {&first});
  outcome_slot second;
  spawn(io, call(&flight, &runs, 1ms, result<void>{}), second);
  run_until_done(io, {&second});
  EXPECT_EQ(runs, 2);
  ASSERT_TRUE(first.value && second.value);
  EXPECT_FALSE(first.value->has_value());
  EXPECT_TRUE(second.value->has_value());
}

TEST(SingleFlight, ALeaderThatThrowsRethrowsAndFailsItsWaiters) {
  asio::io_context io;
  single_flight flight;
  int runs = 0;
  outcome_slot leader, waiter;
  spawn(io, call(&flight, &runs, 20ms, result<void>{}, true), leader);
  spawn(io, call(&flight, &runs, 20ms, result<void>{}), waiter);
  run_until_done(io, {&leader, &waiter});
  EXPECT_EQ(runs, 1);
  ASSERT_TRUE(leader.thrown);
  EXPECT_THROW(std::rethrow_exception(leader.thrown), std::runtime_error);
  ASSERT_TRUE(waiter.value);
  ASSERT_FALSE(waiter.value->has_value());
  EXPECT_EQ(waiter.value->error().kind, error_kind::internal);
  EXPECT_FALSE(flight.in_flight());
}

// A listing's value stays where the listing puts it; the callers get its outcome alone.
task<result<int>> listing(int* runs, int* cache, result<int> value) {
  ++*runs;
  asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
  co_await timer.async_wait(asio::use_awaitable);
  if (value) *cache = *value;
  co_return value;
}

task<result<void>> list(single_flight* flight, int* runs, int* cache, result<int> value) {
  task<result<int>> fresh = listing(runs, cache, std::move(value));
  co_return co_await flight->run_listing(std::move(fresh));
}

TEST(SingleFlight, AListingIsSharedWithoutItsValue) {
  asio::io_context io;
  single_flight flight;
  int runs = 0;
  int cache = 0;
  outcome_slot a, b;
  spawn(io, list(&flight, &runs, &cache, 42), a);
  spawn(io, list(&flight, &runs, &cache, 7), b);
  run_until_done(io, {&a, &b});
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(cache, 42);
  ASSERT_TRUE(a.value && b.value);
  EXPECT_TRUE(a.value->has_value());
  EXPECT_TRUE(b.value->has_value());
  outcome_slot failed;
  spawn(io, list(&flight, &runs, &cache, fail(error_kind::bad_response, "page 2 unreadable")),
        failed);
  run_until_done(io, {&failed});
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(cache, 42);
  ASSERT_TRUE(failed.value);
  ASSERT_FALSE(failed.value->has_value());
  EXPECT_EQ(failed.value->error().message, "page 2 unreadable");
}

}  // namespace
}  // namespace swaprouter
