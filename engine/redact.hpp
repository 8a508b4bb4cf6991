// Credential texts that must never be shown (FAULTS.md 22; security requirement 1), even when a
// provider echoes one back in an error body.
#pragma once

#include <string>
#include <string_view>

namespace swaprouter {

/// Remembers `text` as a credential: redact() blanks it from then on. The request builders of
/// every adapter register the API keys they are given and hmac_sha256 its key, so no path that
/// signs or authenticates can leave one out. Texts shorter than 6 characters are ignored (they
/// would blank ordinary words). Thread-safe.
void register_secret(std::string_view text);

/// Stops blanking `text` (a session token that many newer ones replaced, long expired), so a
/// long-lived process that logs in again and again does not scan ever more texts. Thread-safe.
void forget_secret(std::string_view text);

/// `text` with every registered credential replaced by "[redacted]". Applied where provider text
/// enters the engine's messages (excerpt, status_error) and where the engine writes (the execution
/// log's journal rows and event lines). Thread-safe.
std::string redact(std::string_view text);

}  // namespace swaprouter
