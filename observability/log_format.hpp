// Log line formats of the bot: human (spdlog's pattern) or one JSON object per line, with the
// event and the intent, leg, strategy and provider ids lifted out of the message.
#pragma once

#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace swaprouter::observability {

enum class log_format : std::uint8_t { human, json };

/// "human" or "json"; nullopt otherwise.
std::optional<log_format> parse_log_format(std::string_view text) noexcept;

/// The pattern of human lines: "2026-11-21T07:51:45.184 info  decision strategy=... ...".
inline constexpr std::string_view human_log_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v";

/// What a log message says about itself. The bot's messages start with an event word and carry
/// ids as key=value tokens ("phase leg=I1-x-1-L0-A0 filled: ..."); anything else is event "log".
struct log_fields {
  std::string event;     ///< the leading lower-case word without a trailing ':'; "log" when none
  std::string intent;    ///< intent=..., or the intent part of a leg id
  std::string leg;       ///< leg=...
  std::string strategy;  ///< strategy=...
  std::string provider;  ///< provider=...
};

/// Lifts the fields out of `message`. Pure.
log_fields parse_log_fields(std::string_view message);

/// One JSON line (with the trailing '\n'):
/// {"time":"2026-11-21T07:51:45.184Z","level":"info","event":"phase","intent":"I1-x-1",
///  "leg":"I1-x-1-L0-A0","message":"phase leg=I1-x-1-L0-A0 filled: ..."}
/// Ids appear only when the message has them; control characters and bytes that are not UTF-8 are
/// escaped, so every line parses as JSON. Pure.
std::string format_json_line(std::chrono::system_clock::time_point time, std::string_view level,
                             std::string_view message);

/// An spdlog formatter writing format_json_line. Thread-safe as spdlog formatters are (one per
/// sink, called under the sink's lock).
std::unique_ptr<spdlog::formatter> make_json_formatter();

}  // namespace swaprouter::observability
