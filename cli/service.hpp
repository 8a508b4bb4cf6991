// What `swaprouter run` serves and shows around the bot: the HTTP listener (metrics, status, the
// control API), metrics fed from the bot's hooks, the executor's events and the venues, the
// reliability signals for the risk guard, the log format and the terminal live view.
#pragma once

#include <spdlog/sinks/ringbuffer_sink.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config/engine_config.hpp"
#include "engine/callback.hpp"
#include "engine/journal.hpp"
#include "engine/quote_book.hpp"
#include "engine/result.hpp"
#include "engine/router.hpp"
#include "engine/venue.hpp"
#include "observability/log_format.hpp"
#include "strategies/bot.hpp"
#include "strategies/risk.hpp"
#include "strategies/strategy_file.hpp"

namespace swaprouter::cli {

/// How `run` logs and whether it shows the live view.
struct run_logging {
  observability::log_format format = observability::log_format::human;
  bool live_view = false;
  /// The last lines, for the live view; nullptr without it.
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> recent;
};

/// Sets the default logger of `run` from its flags: --log-format human|json, --log-level, and
/// --live-view auto|on|off (auto: on when standard output is a terminal and the format is human).
/// Lines go to standard error; with the live view on they also go to a ring buffer the view shows,
/// and only there when standard error is the same terminal. Prints what is wrong and returns
/// nullopt for a bad flag.
std::optional<run_logging> setup_run_logging(std::string_view format, const std::string& level,
                                             std::string_view live_view);

/// The control token: the file's engine.control_token when set (an environment variable or a
/// file), else SWAPROUTER_CONTROL_TOKEN; empty when neither. `source` is set to where it came
/// from ("${NAME}", "file PATH"), never to the value. An error names the reference that could not
/// be read.
result<std::string> resolve_control_token(const std::optional<config::credential>& configured,
                                          std::string& source);

/// A POST /intents body: {"from":"USDT","to":"COPM","spend":"100"}, or "receive" in place of
/// "spend" for an exact-receive intent (receive that net amount, spend least), with optional
/// "min_receive" (decimal), "deadline" (a duration such as "30s", or seconds; default 60 s, at most
/// 1 h) and "providers" (names from `known`). Amounts are decimal strings or JSON numbers, read
/// exactly. Unknown keys and bad values are invalid_argument errors saying which. Pure.
result<swap_intent> parse_intent_request(std::string_view body, std::span<const std::string> known,
                                         wall_time now);

struct service_options;

/// The service's settings for a run of `file` (read from `file_name`) in `mode`: the listen address
/// (`listen_flag` when given, else engine.listen; loopback only), the control token, the journal,
/// the view. Prints what is wrong to standard error and returns nullopt.
std::optional<service_options> make_service_options(
    const strategies::strategy_file& file, const std::string& file_name, const std::string& mode,
    std::string_view listen_flag, const std::string& journal_path, const run_logging& logging);

struct service_options {
  std::string mode;  ///< shown in /status, the metrics and the live view
  std::string file;  ///< the strategy file, for the live view's title
  config::listen_address listen;
  /// Bearer token of the control API; empty disables it (401). A secret: never logged.
  std::string control_token;
  std::string journal_path;  ///< its size (with the WAL) is a metric
  bool live_view = false;    ///< redraw a compact view on standard output every second
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> view_log;  ///< recent lines for the view
  /// The strategies' pairs (spend, receive), for the view's best routes.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::chrono::milliseconds refresh{1000};
  std::chrono::milliseconds balances_every{15000};
};

/// The listener, the metrics and the status of one bot. Single-threaded: everything runs on the
/// io_context's thread; the venues, the journal, the bot and the risk guard must outlive it.
/// Order of use: construct, monitor() the venues, build the executor, risk guard (halt_sink())
/// and bot (hooks()) on the monitored venues, start(), and stop() before the io_context is
/// polled for the last time.
class bot_service {
 public:
  bot_service(boost::asio::io_context& ioc, service_options options, journal& records);
  ~bot_service();
  bot_service(const bot_service&) = delete;
  bot_service& operator=(const bot_service&) = delete;

  /// Wraps every venue in a monitor; the executor and the bot must use the returned venues.
  std::span<venue* const> monitor(std::span<venue* const> venues);
  /// The bot's hooks: decisions, results and execution events feed the metrics and the status.
  strategies::bot_hooks hooks();
  /// The risk guard's halt callback: logs the halt with its reason and records it.
  strategies::risk_guard::halt_fn halt_sink();
  /// Hands POST /callbacks/{provider} to `gate` (which must outlive the service); call before
  /// start(). Without it the route answers 501.
  void accept_callbacks(callback_gate& gate);
  /// Shows `book` (which must outlive the service) in /status and /metrics: per provider the
  /// age of its newest model, quote and execution latency percentiles and failures.
  void watch_book(const quote_book& book);
  /// Binds the listener, prints "listening on URL" on standard output and starts the refresh
  /// (metrics, reliability signals, live view) and balance reads. False, with the reason on
  /// standard error, when the listener cannot bind.
  bool start(strategies::bot& bot, strategies::risk_guard& risk);
  /// Stops the listener and the timers; idempotent.
  void stop();
  /// "http://127.0.0.1:PORT" once started.
  std::string url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace swaprouter::cli
