// Where a leg's create request is on the wire, for the fault tests' crash hook (FAULTS.md 3-5):
// the executor arms a submit_watch around venue::submit, and an HTTP client decorator made by
// submit_watch::watch reports the create request's moments to it. No Beast here: the decorator
// sees only engine/http.hpp, and the transport calls http_request::on_written.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http.hpp"

namespace swaprouter {

/// Named points where a fault test may kill the process (FAULTS.md 3-5): after_intent_commit,
/// after_request_write, after_response_read, before_state_commit. Production leaves it empty.
using crash_hook = std::function<void(std::string_view point)>;

/// The request that creates a swap at a provider: its method and path (the target up to '?').
struct create_route {
  std::string method = "POST";
  std::string path;
};

/// Places the transport crash points of a leg's create request. While a submit is armed for a
/// provider (arm(), around one venue::submit), the first create request written by that
/// provider's watched client (watch()) reports to the armed hook:
///   after_request_write  once all of its bytes are written, before its answer is read;
///   after_response_read  once its whole answer is read, before the adapter parses it (not when
///                        no answer came: timeout, reset, truncated).
/// Logins, quotes, status and find calls, a second create in the same submit, and creates sent
/// while nothing is armed report nothing. Each submit claims its own create, so concurrent
/// submits at different providers never report each other's points.
///
/// An object, not a thread_local "current submit": the executor's coroutines interleave on one
/// thread (routes run concurrently, the tracker polls while a leg is submitted), so only the
/// provider and the request's route tell which request is the armed create. Single-threaded: the
/// watch, its clients and the executor run on one engine thread; the watch must outlive them.
class submit_watch {
  struct armed_submit;

 public:
  /// Keeps a submit armed until destroyed.
  class armed {
   public:
    armed(armed&& other) noexcept;
    armed& operator=(armed&& other) noexcept;
    armed(const armed&) = delete;
    armed& operator=(const armed&) = delete;
    ~armed();

   private:
    friend class submit_watch;
    armed(submit_watch* watch, std::shared_ptr<armed_submit> submit);
    void release() noexcept;
    submit_watch* watch_ = nullptr;
    std::shared_ptr<armed_submit> submit_;
  };

  submit_watch();
  ~submit_watch();
  submit_watch(const submit_watch&) = delete;
  submit_watch& operator=(const submit_watch&) = delete;

  /// Arms one submit at `provider` (the venue's id): its create request reports to `hook`.
  [[nodiscard]] armed arm(std::string_view provider, crash_hook hook);
  /// True when watch() made a client for `provider`: the transport points of its creates are
  /// placed there, not by the caller.
  bool watches(std::string_view provider) const;
  /// Wraps `inner` as the watched client of `provider` (the venue's id), whose requests matching
  /// `create` are that provider's creates. Everything else passes through unchanged.
  std::unique_ptr<http_client> watch(std::unique_ptr<http_client> inner, std::string provider,
                                     create_route create);

 private:
  class client;
  // The oldest armed submit at `provider` that has no create yet; null when none.
  std::shared_ptr<armed_submit> claim(std::string_view provider);
  void disarm(const armed_submit* submit) noexcept;

  std::vector<std::shared_ptr<armed_submit>> armed_;
  std::vector<std::string> watched_;
};

}  // namespace swaprouter
