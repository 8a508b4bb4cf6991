// The durable record of every intent and leg: what was decided, what was sent, what the provider
// said, in SQLite (DESIGN.md s.3 "Durability"; FAULTS.md I1-I3).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"
#include "engine/venue_types.hpp"

namespace swaprouter {

/// Where a leg is in its life (issue 7): planned -> submitting -> (accepted | rejected | unknown)
/// -> open -> (filled | partially_filled | expired | cancelled | failed), plus lost (not found past
/// a threshold; still polled, alarmed) and frozen (inconsistent provider record; alarmed, never
/// resubmitted).
enum class leg_phase : std::uint8_t {
  planned,
  submitting,
  accepted,
  rejected,
  unknown,
  open,
  filled,
  partially_filled,
  expired,
  cancelled,
  failed,
  lost,
  frozen,
};

std::string_view to_string(leg_phase phase) noexcept;
std::optional<leg_phase> parse_leg_phase(std::string_view text) noexcept;
/// Final phases: rejected, filled, partially_filled, expired, cancelled, failed.
bool is_final(leg_phase phase) noexcept;

/// An intent as journaled: what a strategy or a user asked for.
struct intent_record {
  std::string id;  ///< unique, e.g. "I20261121-000042"
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal amount;
  decimal min_receive;
  std::optional<decimal> max_spend;  ///< receive side: never spend more
  wall_time created_at{};
  std::optional<wall_time> deadline;
  std::string state = "open";  ///< open, done, failed, halted: free text kept short
  bool dry_run = false;
  std::string origin;  ///< the strategy name, or "cli"
};

/// A leg as journaled. `client` is unique across the journal.
struct leg_record {
  std::string intent_id;
  int index = 0;    ///< position in the plan (hops of one route run in index order)
  int attempt = 0;  ///< re-plans of the same part get a new attempt and a new client id
  client_id client;
  std::string provider;
  std::string direction_code;
  std::string spend_asset;
  std::string receive_asset;
  amount_side side = amount_side::spend;
  decimal amount;
  decimal min_receive;
  decimal quoted_receive;  ///< the net the plan expected
  std::string quote_id;
  std::optional<wall_time> deadline;  ///< the quote's or the intent's, whichever is first
  leg_phase phase = leg_phase::planned;
  std::string provider_ref;  ///< the provider's id once known
  std::string provider_status;
  decimal spend_filled;      ///< what the account paid, a fee in the spend asset included
  decimal spend_fee_filled;  ///< that fee (KIIEX: fee product = the one given), else zero
  decimal receive_filled;  ///< net received, as the provider reports it settled
  decimal fee_filled;
  wall_time updated_at{};
};

/// One append-only event: a state change or a notable fact, with its cause.
struct journal_event {
  std::int64_t seq = 0;
  wall_time time{};
  std::string intent_id;
  client_id client;  ///< empty for intent-level events
  std::string kind;  ///< e.g. "intent", "phase", "alarm", "settled"
  std::string detail;
};

/// How journal::open opens the file. The defaults are what the engine uses.
struct journal_options {
  /// Never creates, migrates or writes the file (`swaprouter journal`): a missing file, a file
  /// without a journal schema or a newer schema is an error naming the file.
  bool read_only = false;
  /// The SQLite VFS to open the file with; empty is SQLite's default. Only tests set it, to the
  /// fault-injecting VFS of engine/journal_vfs.hpp.
  std::string vfs;
  /// How long a write waits for another connection's lock before failing.
  std::chrono::milliseconds busy_timeout{5000};
  /// The time of journaled events and of records whose own time is unset; the system clock when
  /// empty. Tests pass a fixed clock.
  std::function<wall_time()> clock;
};

/// The SQLite journal: WAL, synchronous=FULL, a versioned schema, prepared statements only. Every
/// write is one transaction committed before the call returns; a failed commit is an error and
/// the caller must not send what it was about to record. Secrets are never written to it.
/// Not thread-safe: one engine thread owns it.
///
/// Amounts are stored as exact decimal text and read back exactly; times are stored as ISO 8601
/// UTC with milliseconds ("2026-11-21T10:00:00.250Z"), so they read back truncated to the
/// millisecond. An unset (epoch) `created_at` or `updated_at` is stored as the clock's now.
/// Besides the events callers add, the journal appends its own: "intent" when an intent is added,
/// "leg" for every leg added, "phase" ("old -> new: cause") on update_leg, "state"
/// ("old -> new: cause") on set_intent_state, and "journal" (no intent, no client) right after a
/// commit that failed, so that the failed commit's WAL frames are written over and never
/// recovered. SQLite's failures are errors of kind internal with SQLite's message and the file's
/// name; a record without an id or a client id is invalid_argument.
class journal {
 public:
  /// Opens or creates the journal at `path` (":memory:" for tests), creating or checking the
  /// schema; a newer schema version than this build knows is an error. An older one is migrated
  /// in one transaction (read-only: read as it is, the columns it lacks at their defaults).
  static result<std::unique_ptr<journal>> open(const std::string& path);
  /// As open(path), with explicit options. Errors are kind internal and name the file.
  static result<std::unique_ptr<journal>> open(const std::string& path,
                                               const journal_options& options);
  /// The schema version this build creates and reads (PRAGMA user_version).
  static constexpr int schema_version = 2;
  virtual ~journal() = default;

  /// Records the intent and its planned legs in one transaction.
  virtual result<void> add_intent(const intent_record& intent,
                                  std::span<const leg_record> legs) = 0;
  /// Adds legs to an existing intent (a re-plan), in one transaction.
  virtual result<void> add_legs(std::span<const leg_record> legs) = 0;
  /// Replaces the leg with the same client id and appends a "phase" event with `cause`.
  virtual result<void> update_leg(const leg_record& leg, std::string_view cause) = 0;
  virtual result<void> set_intent_state(std::string_view intent_id, std::string_view state,
                                        std::string_view cause) = 0;
  /// Appends an event (alarms, settlement discrepancies, security events).
  virtual result<void> add_event(std::string_view intent_id, std::string_view client,
                                 std::string_view kind, std::string_view detail) = 0;

  virtual result<std::optional<intent_record>> intent(std::string_view id) = 0;
  /// Newest first, at most `limit`.
  virtual result<std::vector<intent_record>> intents(std::size_t limit) = 0;
  /// Every intent in state "open" however old, oldest first: what restart resumes.
  virtual result<std::vector<intent_record>> open_intents() = 0;
  virtual result<std::vector<leg_record>> legs_of(std::string_view intent_id) = 0;
  virtual result<std::optional<leg_record>> leg(std::string_view client) = 0;
  /// The leg holding the provider's swap `provider_ref` at `provider`, if any (the first by
  /// insertion); for adoption, which must never give one provider swap to two legs.
  virtual result<std::optional<leg_record>> leg_by_ref(std::string_view provider,
                                                       std::string_view provider_ref) = 0;
  /// Every leg not in a final phase, oldest first: what restart reconciles.
  virtual result<std::vector<leg_record>> unfinished_legs() = 0;
  virtual result<std::vector<journal_event>> events_of(std::string_view intent_id) = 0;
  /// PRAGMA integrity_check == "ok".
  virtual result<bool> integrity_ok() = 0;
};

}  // namespace swaprouter
