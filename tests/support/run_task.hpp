// Runs one coroutine to its end on a test's io_context: what every socket test does to call an
// adapter, a client or the executor from a plain test body.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <utility>

namespace swaprouter::test_support {

/// Spawns `work` on `io` and runs the context until it finishes; rethrows what it threw. Other
/// handlers (servers, timers) run meanwhile. The context is restarted first: it stops whenever it
/// runs out of work, e.g. after a server is gone.
template <class T>
T run_task(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  std::optional<T> out;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) out = std::move(value);
  });
  io.restart();
  while (!out && !failure) io.run_one();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

}  // namespace swaprouter::test_support
