// `swaprouter journal`: the journal's intents and legs, and one intent's event history, as text or
// JSON (issue 7). Split from the command registration so tests call it with their own streams.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

namespace swaprouter::cli {

/// What `swaprouter journal` shows.
struct journal_view_options {
  std::string db = "swaprouter-journal.db";  ///< relative to the working directory
  bool json = false;
  std::string intent;  ///< empty: the newest intents; otherwise this one with its events
  std::size_t limit = 50;
};

/// Opens the journal read-only (never creating or changing it) and prints the listing to `out`.
/// Returns 0; 2 with a message naming the file on `err` when the journal is missing, unreadable,
/// not a journal or newer than this build, or when --intent names no intent; 1 when reading
/// fails after opening.
int show_journal(const journal_view_options& options, std::ostream& out, std::ostream& err);

}  // namespace swaprouter::cli
