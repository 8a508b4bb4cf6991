// The bot's HTTP listener: metrics, status, the status page and the control API, on the loopback
// server the emulators use (adapters/sim/server.hpp). No Beast here: server.hpp hides it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/cert_authority.hpp"

namespace swaprouter::observability {

/// An answer a control callback gives: a status and a JSON body.
struct api_answer {
  int status = 200;
  std::string json;  ///< a JSON document; "{}" when empty
};

/// What the bot plugs in. Every callback runs on the listener's executor, which must be the
/// engine's single thread, so a callback may read and change engine state directly. A callback
/// left empty answers 501 {"error":"not_implemented",...} (metrics and status included).
struct listener_callbacks {
  /// GET /metrics: the exposition text, e.g. [&] { return registry.render(); }.
  std::function<std::string()> metrics;
  /// GET /status: JSON, e.g. [&] { return to_json(bot.snapshot()); }.
  std::function<std::string()> status;
  /// POST /halt with an optional body {"reason":"..."}; `reason` is "operator" when none.
  std::function<api_answer(std::string reason)> halt;
  /// POST /resume.
  std::function<api_answer()> resume;
  /// POST /intents with the request body (JSON, at most max_body_bytes); the bot validates it
  /// and answers e.g. 202 {"id":"..."}.
  std::function<api_answer(std::string_view body)> submit_intent;
  /// GET /intents/{id}; the id is percent-decoded, at most 128 bytes.
  std::function<api_answer(std::string_view id)> get_intent;
  /// POST /callbacks/{provider}: a provider's status callback, with the peer's address. No bearer
  /// token (the provider has none); the bot treats it as a hint only (engine/callback.hpp).
  std::function<api_answer(std::string_view provider, std::string_view remote_address,
                           std::string_view body)>
      provider_callback;
};

struct listener_options {
  /// "127.0.0.1" or "::1" (the server refuses anything else).
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 picks an ephemeral port; see listener::port()
  std::optional<issued_cert> tls;
  /// Bearer token for POST /halt, POST /resume and /intents. Empty disables them (401). A secret:
  /// never logged, never in metrics or status; compared in constant time.
  std::string control_token;
  /// Larger request bodies get 413.
  std::size_t max_body_bytes = std::size_t{64} << 10;
  /// Refuse (421) requests whose Host is not a loopback name (localhost, 127.0.0.1, [::1], with
  /// any port), so a web page cannot read /status through DNS rebinding.
  bool check_host = true;
};

/// Serves:
///   GET /          the status page (HTML + JS, refreshes GET /status every 2 s)
///   GET /metrics   text/plain; version=0.0.4
///   GET /status    application/json
///   POST /callbacks/{provider}  a provider's callback (a hint; no token)
///   POST /halt, POST /resume, POST /intents, GET /intents/{id}
///                  need "Authorization: Bearer TOKEN"; 401 otherwise
/// Every answer carries Cache-Control: no-store. Errors are JSON {"error":CODE,"message":TEXT}.
///
/// Thread-safety: run it on the engine's executor (one thread); construct, start and stop it
/// there. The executor's execution context must outlive the listener.
class listener {
 public:
  /// Throws std::invalid_argument for a non-loopback bind address or a bad certificate.
  listener(boost::asio::any_io_executor executor, listener_options options,
           listener_callbacks callbacks);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// Binds and starts accepting; throws boost::system::system_error when it cannot bind.
  void start();
  /// Closes the listener and its connections; idempotent.
  void stop();
  std::uint16_t port() const noexcept;
  /// "http://127.0.0.1:PORT" or "https://...".
  std::string base_url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Whether "Authorization" value `header` is "Bearer <expected>" (scheme case-insensitive).
/// Compares SHA-256 digests with CRYPTO_memcmp, so the time taken tells nothing about the token
/// (not even its length). An empty `expected` never matches. Thread-safe.
bool bearer_matches(std::string_view header, std::string_view expected);

/// The status page served at GET / (static; it fetches /status itself).
std::string_view status_page_html() noexcept;

}  // namespace swaprouter::observability
