// The fan-out decides when every provider answered, or at its deadline without the late ones.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include "engine/fanout.hpp"

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

task<result<int>> answer_after(std::chrono::milliseconds delay, result<int> value) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  co_await timer.async_wait(asio::use_awaitable);
  co_return value;
}

std::vector<fanout_answer<int>> run_fan_out(std::vector<fanout_call<int>> calls,
                                            std::chrono::steady_clock::duration deadline) {
  asio::io_context io;
  std::optional<std::vector<fanout_answer<int>>> out;
  asio::co_spawn(io, fan_out(std::move(calls), std::chrono::steady_clock::now() + deadline),
                 [&](std::exception_ptr e, std::vector<fanout_answer<int>> answers) {
                   if (e) std::rethrow_exception(e);
                   out = std::move(answers);
                 });
  while (!out) io.run_one();
  return std::move(*out);
}

TEST(FanOut, LateAnswerDroppedFailureDoesNotDelayOthers) {
  std::vector<fanout_call<int>> calls;
  calls.push_back({"fast", [] { return answer_after(1ms, 7); }});
  calls.push_back({"failing", [] {
                     return answer_after(1ms, fail(error_kind::connect, "refused"));
                   }});
  calls.push_back({"slow", [] { return answer_after(10s, 9); }});
  const auto answers = run_fan_out(std::move(calls), 200ms);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].provider, "fast");
  ASSERT_TRUE(answers[0].value.has_value());
  EXPECT_EQ(*answers[0].value, 7);
  EXPECT_FALSE(answers[0].late);
  ASSERT_FALSE(answers[1].value.has_value());
  EXPECT_EQ(answers[1].value.error().kind, error_kind::connect);
  EXPECT_FALSE(answers[1].late);
  ASSERT_FALSE(answers[2].value.has_value());
  EXPECT_EQ(answers[2].value.error().kind, error_kind::timeout);
  EXPECT_TRUE(answers[2].late);
}

TEST(FanOut, DecidesAsSoonAsAllAnsweredNotAtTheDeadline) {
  std::vector<fanout_call<int>> calls;
  calls.push_back({"a", [] { return answer_after(1ms, 1); }});
  calls.push_back({"b", [] { return answer_after(2ms, 2); }});
  // A deadline an hour away: the test only finishes if the fan-out decides on the last answer.
  const auto answers = run_fan_out(std::move(calls), std::chrono::hours(1));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(*answers[0].value, 1);
  EXPECT_EQ(*answers[1].value, 2);
}

TEST(FanOut, NoCallsDecidesAtOnce) {
  EXPECT_TRUE(run_fan_out({}, std::chrono::hours(1)).empty());
}

}  // namespace
}  // namespace swaprouter
