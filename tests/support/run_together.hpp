// Runs several coroutines at once on a test's io_context, each to its end: calls that overlap on
// one client, as the engine's poller, fan-out and executor make them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <utility>

namespace swaprouter::test_support {

namespace detail {

template <class T>
void spawn_into(boost::asio::io_context& io, boost::asio::awaitable<T> work, std::optional<T>& slot,
                std::exception_ptr& failure, std::size_t& pending) {
  boost::asio::co_spawn(io, std::move(work),
                        [&slot, &failure, &pending](std::exception_ptr e, T value) {
                          if (e) {
                            failure = e;
                          } else {
                            slot = std::move(value);
                          }
                          --pending;
                        });
}

}  // namespace detail

/// Spawns every coroutine of `work` on `io`, in order (each runs until its first suspension
/// before the next starts), and runs the context until all have finished; their results in the
/// same order. Rethrows the first exception one of them threw, after all have finished.
template <class... T>
std::tuple<T...> run_together(boost::asio::io_context& io, boost::asio::awaitable<T>... work) {
  std::tuple<std::optional<T>...> out;
  std::exception_ptr failure;
  std::size_t pending = sizeof...(T);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (detail::spawn_into(io, std::move(work), std::get<I>(out), failure, pending), ...);
  }
  (std::index_sequence_for<T...>{});
  io.restart();
  while (pending > 0) io.run_one();
  if (failure) std::rethrow_exception(failure);
  return std::apply([](auto&... slot) { return std::tuple<T...>(std::move(*slot)...); }, out);
}

}  // namespace swaprouter::test_support
