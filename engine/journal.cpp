// The SQLite journal (engine/journal.hpp). Every value reaches SQL through a bound parameter of a
// statement prepared once at open; every write is one BEGIN IMMEDIATE ... COMMIT.
#include "engine/journal.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "engine/json_read.hpp"

namespace swaprouter {

namespace {

constexpr std::array all_phases = {
    leg_phase::planned, leg_phase::submitting, leg_phase::accepted, leg_phase::rejected,
    leg_phase::unknown, leg_phase::open,       leg_phase::filled,   leg_phase::partially_filled,
    leg_phase::expired, leg_phase::cancelled,  leg_phase::failed,   leg_phase::lost,
    leg_phase::frozen,
};

}  // namespace

std::string_view to_string(leg_phase phase) noexcept {
  switch (phase) {
    case leg_phase::planned:
      return "planned";
    case leg_phase::submitting:
      return "submitting";
    case leg_phase::accepted:
      return "accepted";
    case leg_phase::rejected:
      return "rejected";
    case leg_phase::unknown:
      return "unknown";
    case leg_phase::open:
      return "open";
    case leg_phase::filled:
      return "filled";
    case leg_phase::partially_filled:
      return "partially_filled";
    case leg_phase::expired:
      return "expired";
    case leg_phase::cancelled:
      return "cancelled";
    case leg_phase::failed:
      return "failed";
    case leg_phase::lost:
      return "lost";
    case leg_phase::frozen:
      return "frozen";
  }
  return "unknown";
}

std::optional<leg_phase> parse_leg_phase(std::string_view text) noexcept {
  for (const leg_phase p : all_phases) {
    if (to_string(p) == text) return p;
  }
  return std::nullopt;
}

bool is_final(leg_phase phase) noexcept {
  switch (phase) {
    case leg_phase::rejected:
    case leg_phase::filled:
    case leg_phase::partially_filled:
    case leg_phase::expired:
    case leg_phase::cancelled:
    case leg_phase::failed:
      return true;
    default:
      return false;
  }
}

namespace {

// Version 1. A later version adds a migration step from the previous one (schema_v2 below); the
// text of an existing version never changes.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE intents (
  id TEXT PRIMARY KEY NOT NULL,
  spend_asset TEXT NOT NULL,
  receive_asset TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('spend', 'receive')),
  amount TEXT NOT NULL,
  min_receive TEXT NOT NULL,
  created_at TEXT NOT NULL,
  deadline TEXT,
  state TEXT NOT NULL,
  dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  origin TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX intents_by_created ON intents (created_at);
CREATE TABLE legs (
  id INTEGER PRIMARY KEY,
  client TEXT NOT NULL UNIQUE,
  intent_id TEXT NOT NULL REFERENCES intents (id),
  leg_index INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  provider TEXT NOT NULL,
  direction_code TEXT NOT NULL,
  spend_asset TEXT NOT NULL,
  receive_asset TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('spend', 'receive')),
  amount TEXT NOT NULL,
  min_receive TEXT NOT NULL,
  quoted_receive TEXT NOT NULL,
  quote_id TEXT NOT NULL,
  deadline TEXT,
  phase TEXT NOT NULL,
  is_final INTEGER NOT NULL CHECK (is_final IN (0, 1)),
  provider_ref TEXT NOT NULL,
  provider_status TEXT NOT NULL,
  spend_filled TEXT NOT NULL,
  receive_filled TEXT NOT NULL,
  fee_filled TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX legs_by_intent ON legs (intent_id, leg_index, attempt);
CREATE INDEX legs_unfinished ON legs (id) WHERE is_final = 0;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  intent_id TEXT NOT NULL,
  client TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_intent ON events (intent_id, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
PRAGMA user_version = 1;
)sql";

// Version 2, from version 1: an exact-receive intent's cap on what it spends, and the fee a leg
// paid in its spend asset (inside spend_filled). A new journal is created as version 1 and
// migrated in the same transaction.
static_assert(journal::schema_version == 2, "schema_v2 below writes user_version 2");
constexpr const char* schema_v2 = R"sql(
ALTER TABLE intents ADD COLUMN max_spend TEXT;
ALTER TABLE legs ADD COLUMN spend_fee_filled TEXT NOT NULL DEFAULT '0';
PRAGMA user_version = 2;
)sql";

// Indexes added to version 1 after its release, over its tables as they are: created with the
// schema, and by open() in a journal an earlier build created without them (then migrated to
// version 2 first).
constexpr const char* indexes_since_v1 =
    "CREATE INDEX IF NOT EXISTS intents_open ON intents (created_at) WHERE state = 'open'";
constexpr const char* sql_count_open_intents_index =
    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'intents_open'";

// What the reads select ({} in the statements below), in read_intent's and read_leg's order. A
// journal of version 1 opened read-only is not migrated: the columns it lacks are read as their
// defaults.
#define SWAPROUTER_INTENT_COLUMNS_V1                                                         \
  "id, spend_asset, receive_asset, side, amount, min_receive, created_at, deadline, state, " \
  "dry_run, origin"
#define SWAPROUTER_LEG_COLUMNS_V1                                                                 \
  "intent_id, leg_index, attempt, client, provider, direction_code, spend_asset, receive_asset, " \
  "side, amount, min_receive, quoted_receive, quote_id, deadline, phase, provider_ref, "          \
  "provider_status, spend_filled, receive_filled, fee_filled, updated_at"
constexpr const char* intent_columns = SWAPROUTER_INTENT_COLUMNS_V1 ", max_spend";
constexpr const char* intent_columns_v1 = SWAPROUTER_INTENT_COLUMNS_V1 ", NULL";
constexpr const char* leg_columns = SWAPROUTER_LEG_COLUMNS_V1 ", spend_fee_filled";
constexpr const char* leg_columns_v1 = SWAPROUTER_LEG_COLUMNS_V1 ", '0'";
#undef SWAPROUTER_INTENT_COLUMNS_V1
#undef SWAPROUTER_LEG_COLUMNS_V1

constexpr const char* sql_begin = "BEGIN IMMEDIATE";
constexpr const char* sql_commit = "COMMIT";
constexpr const char* sql_rollback = "ROLLBACK";
constexpr const char* sql_insert_intent =
    "INSERT INTO intents (id, spend_asset, receive_asset, side, amount, min_receive, created_at, "
    "deadline, state, dry_run, origin, updated_at, max_spend) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* sql_insert_leg =
    "INSERT INTO legs (intent_id, leg_index, attempt, client, provider, direction_code, "
    "spend_asset, receive_asset, side, amount, min_receive, quoted_receive, quote_id, deadline, "
    "phase, provider_ref, provider_status, spend_filled, receive_filled, fee_filled, updated_at, "
    "is_final, created_at, spend_fee_filled) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24)";
// Same parameter numbers as sql_insert_leg; ?1 (intent_id), ?4 (client) and ?23 (created_at)
// are not changed by an update, ?4 selects the row.
constexpr const char* sql_update_leg =
    "UPDATE legs SET leg_index = ?2, attempt = ?3, provider = ?5, direction_code = ?6, "
    "spend_asset = ?7, receive_asset = ?8, side = ?9, amount = ?10, min_receive = ?11, "
    "quoted_receive = ?12, quote_id = ?13, deadline = ?14, phase = ?15, provider_ref = ?16, "
    "provider_status = ?17, spend_filled = ?18, receive_filled = ?19, fee_filled = ?20, "
    "updated_at = ?21, is_final = ?22, spend_fee_filled = ?24 WHERE client = ?4";
constexpr const char* sql_insert_event =
    "INSERT INTO events (time, intent_id, client, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* sql_select_intent = "SELECT {} FROM intents WHERE id = ?1";
constexpr const char* sql_select_intents =
    "SELECT {} FROM intents ORDER BY created_at DESC, rowid DESC LIMIT ?1";
// The state is a literal, not a parameter: only then may SQLite use the partial index
// intents_open, which keeps this a short read however many intents have ended.
constexpr const char* sql_select_open_intents =
    "SELECT {} FROM intents WHERE state = 'open' ORDER BY created_at, rowid";
constexpr const char* sql_update_intent_state =
    "UPDATE intents SET state = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* sql_select_legs_of =
    "SELECT {} FROM legs WHERE intent_id = ?1 ORDER BY leg_index, attempt, id";
constexpr const char* sql_select_leg = "SELECT {} FROM legs WHERE client = ?1";
// No index: adoption after an unknown outcome is rare, and the legs table stays small.
constexpr const char* sql_select_leg_by_ref =
    "SELECT {} FROM legs WHERE provider = ?1 AND provider_ref = ?2 ORDER BY id LIMIT 1";
constexpr const char* sql_select_unfinished = "SELECT {} FROM legs WHERE is_final = 0 ORDER BY id";
constexpr const char* sql_select_events_of =
    "SELECT seq, time, intent_id, client, kind, detail FROM events WHERE intent_id = ?1 "
    "ORDER BY seq";
constexpr const char* sql_integrity_check = "PRAGMA integrity_check";

// Fixed width, always with milliseconds, so that text order is time order (ORDER BY created_at).
std::string format_time(wall_time time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss clock{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                     clock.subseconds().count());
}

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;
using stmt_handle = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

// One use of a cached statement: binds, steps, and resets it (and its bindings) on scope exit so
// that no statement holds a read transaction open between calls.
class bound {
 public:
  explicit bound(sqlite3_stmt* s) : s_(s) {}
  ~bound() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  bound(const bound&) = delete;
  bound& operator=(const bound&) = delete;

  void text(int index, std::string_view value) {
    // A null pointer would bind SQL NULL: an empty value must stay an empty text.
    const char* data = value.data() == nullptr ? "" : value.data();
    keep(sqlite3_bind_text64(s_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void integer(int index, std::int64_t value) { keep(sqlite3_bind_int64(s_, index, value)); }
  void amount(int index, decimal value) { text(index, value.to_string()); }
  void time(int index, wall_time value) { text(index, format_time(value)); }
  void optional_time(int index, const std::optional<wall_time>& value) {
    if (value) {
      time(index, *value);
    } else {
      keep(sqlite3_bind_null(s_, index));
    }
  }

  /// SQLITE_ROW, SQLITE_DONE or an error code (a failed bind comes first).
  int step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(s_); }
  sqlite3_stmt* get() const { return s_; }

 private:
  void keep(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

// Reads the columns of one row; the first problem is kept and names the table, column and text.
class row_reader {
 public:
  row_reader(sqlite3_stmt* s, std::string_view table) : s_(s), table_(table) {}

  bool failed() const { return !problem_.empty(); }
  const std::string& problem() const { return problem_; }

  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    const int n = sqlite3_column_bytes(s_, col);
    return p == nullptr ? std::string{} : std::string(p, static_cast<std::size_t>(n));
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  int small_int(int col) {
    const std::int64_t v = integer(col);
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      set(col, fmt::format("{} is out of range", v));
      return 0;
    }
    return static_cast<int>(v);
  }
  decimal amount(int col) {
    const std::string t = text(col);
    auto d = decimal::parse(t);
    if (!d) {
      set(col, fmt::format("not a decimal: \"{}\"", excerpt(t)));
      return {};
    }
    return *d;
  }
  wall_time time(int col) {
    const std::string t = text(col);
    auto v = parse_iso_timestamp(t);
    if (!v) {
      set(col, fmt::format("not a time: \"{}\"", excerpt(t)));
      return {};
    }
    return *v;
  }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<wall_time> optional_time(int col) {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }
  amount_side side(int col) {
    const std::string t = text(col);
    if (t == "spend") return amount_side::spend;
    if (t == "receive") return amount_side::receive;
    set(col, fmt::format("not a side: \"{}\"", excerpt(t)));
    return amount_side::spend;
  }
  leg_phase phase(int col) {
    const std::string t = text(col);
    auto p = parse_leg_phase(t);
    if (!p) {
      set(col, fmt::format("not a leg phase: \"{}\"", excerpt(t)));
      return leg_phase::planned;
    }
    return *p;
  }

 private:
  void set(int col, std::string_view why) {
    if (!failed()) problem_ = fmt::format("{}.{}: {}", table_, sqlite3_column_name(s_, col), why);
  }
  sqlite3_stmt* s_;
  std::string_view table_;
  std::string problem_;
};

intent_record read_intent(row_reader& r) {
  intent_record i;
  i.id = r.text(0);
  i.spend_asset = r.text(1);
  i.receive_asset = r.text(2);
  i.side = r.side(3);
  i.amount = r.amount(4);
  i.min_receive = r.amount(5);
  i.created_at = r.time(6);
  i.deadline = r.optional_time(7);
  i.state = r.text(8);
  i.dry_run = r.integer(9) != 0;
  i.origin = r.text(10);
  if (!r.is_null(11)) i.max_spend = r.amount(11);
  return i;
}

leg_record read_leg(row_reader& r) {
  leg_record l;
  l.intent_id = r.text(0);
  l.index = r.small_int(1);
  l.attempt = r.small_int(2);
  l.client = r.text(3);
  l.provider = r.text(4);
  l.direction_code = r.text(5);
  l.spend_asset = r.text(6);
  l.receive_asset = r.text(7);
  l.side = r.side(8);
  l.amount = r.amount(9);
  l.min_receive = r.amount(10);
  l.quoted_receive = r.amount(11);
  l.quote_id = r.text(12);
  l.deadline = r.optional_time(13);
  l.phase = r.phase(14);
  l.provider_ref = r.text(15);
  l.provider_status = r.text(16);
  l.spend_filled = r.amount(17);
  l.receive_filled = r.amount(18);
  l.fee_filled = r.amount(19);
  l.updated_at = r.time(20);
  l.spend_fee_filled = r.amount(21);
  return l;
}

journal_event read_event(row_reader& r) {
  journal_event e;
  e.seq = r.integer(0);
  e.time = r.time(1);
  e.intent_id = r.text(2);
  e.client = r.text(3);
  e.kind = r.text(4);
  e.detail = r.text(5);
  return e;
}

// Binds the columns of sql_insert_leg, or of sql_update_leg without `created_at` (binding a
// parameter number beyond a statement's last is an error).
void bind_leg(bound& b, const leg_record& leg, std::string_view intent_id, wall_time updated_at,
              std::optional<wall_time> created_at) {
  b.text(1, intent_id);
  b.integer(2, leg.index);
  b.integer(3, leg.attempt);
  b.text(4, leg.client);
  b.text(5, leg.provider);
  b.text(6, leg.direction_code);
  b.text(7, leg.spend_asset);
  b.text(8, leg.receive_asset);
  b.text(9, to_string(leg.side));
  b.amount(10, leg.amount);
  b.amount(11, leg.min_receive);
  b.amount(12, leg.quoted_receive);
  b.text(13, leg.quote_id);
  b.optional_time(14, leg.deadline);
  b.text(15, to_string(leg.phase));
  b.text(16, leg.provider_ref);
  b.text(17, leg.provider_status);
  b.amount(18, leg.spend_filled);
  b.amount(19, leg.receive_filled);
  b.amount(20, leg.fee_filled);
  b.time(21, updated_at);
  b.integer(22, is_final(leg.phase) ? 1 : 0);
  if (created_at) b.time(23, *created_at);
  b.amount(24, leg.spend_fee_filled);
}

std::string describe_intent(const intent_record& i) {
  return fmt::format("{} {} {} -> {}, min {}{}, state {}, origin {}{}", to_string(i.side),
                     i.amount.to_string(), i.spend_asset, i.receive_asset,
                     i.min_receive.to_string(),
                     i.max_spend ? ", max spend " + i.max_spend->to_string() : std::string(),
                     i.state, i.origin, i.dry_run ? ", dry run" : "");
}

std::string describe_leg(const leg_record& l) {
  return fmt::format("{}: #{} attempt {} {} {} {} {} {} -> {}, min {}, quoted {}{}{}",
                     to_string(l.phase), l.index, l.attempt, l.provider, l.direction_code,
                     to_string(l.side), l.amount.to_string(), l.spend_asset, l.receive_asset,
                     l.min_receive.to_string(), l.quoted_receive.to_string(),
                     l.quote_id.empty() ? "" : ", quote ", l.quote_id);
}

class sqlite_journal final : public journal {
 public:
  sqlite_journal(std::string path, journal_options options, sqlite3* db)
      : path_(std::move(path)), options_(std::move(options)), db_(db) {
    if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  }

  result<void> init() {
    sqlite3* db = db_.get();
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(std::clamp<std::int64_t>(
                                 options_.busy_timeout.count(), 0, 3'600'000)));
    // Defensive mode refuses writable_schema and other ways of corrupting the file through SQL;
    // an untrusted schema cannot run functions with side effects.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);

    // The version is checked before anything writes, so a newer journal is left untouched.
    auto version = pragma_int("PRAGMA user_version", "reading the schema version");
    if (!version) return std::unexpected(version.error());
    if (*version > schema_version) {
      return fail(error_kind::internal,
                  fmt::format("journal {}: schema version {} is newer than this build's {}; use a "
                              "newer swaprouter",
                              path_, *version, schema_version));
    }
    if (options_.read_only) {
      if (*version == 0) {
        return fail(error_kind::internal,
                    fmt::format("{} is not a swaprouter journal (no schema)", path_));
      }
      return prepare_all(static_cast<int>(*version));
    }
    if (auto r = configure(); !r) return r;
    if (*version == 0) {
      if (auto r = create_schema(); !r) return r;
    } else if (*version < schema_version) {
      if (auto r = migrate(); !r) return r;
    }
    if (auto r = add_missing_indexes(); !r) return r;
    return prepare_all(schema_version);
  }

  result<void> add_intent(const intent_record& intent, std::span<const leg_record> legs) override {
    if (intent.id.empty()) return fail(error_kind::invalid_argument, "intent without an id");
    for (const auto& l : legs) {
      if (!l.intent_id.empty() && l.intent_id != intent.id) {
        return fail(error_kind::invalid_argument, fmt::format("leg {} belongs to intent {}, not {}",
                                                              l.client, l.intent_id, intent.id));
      }
      if (auto r = check_leg(l); !r) return r;
    }
    const std::string what = fmt::format("add_intent {}", intent.id);
    return write(what, [&]() -> result<void> {
      const wall_time now = options_.clock();
      {
        bound b(insert_intent_.get());
        b.text(1, intent.id);
        b.text(2, intent.spend_asset);
        b.text(3, intent.receive_asset);
        b.text(4, to_string(intent.side));
        b.amount(5, intent.amount);
        b.amount(6, intent.min_receive);
        b.time(7, or_now(intent.created_at, now));
        b.optional_time(8, intent.deadline);
        b.text(9, intent.state);
        b.integer(10, intent.dry_run ? 1 : 0);
        b.text(11, intent.origin);
        b.time(12, now);
        if (intent.max_spend) b.amount(13, *intent.max_spend);
        if (auto r = done(b, what); !r) return r;
      }
      if (auto r = append(now, intent.id, "", "intent", describe_intent(intent), what); !r) {
        return r;
      }
      return insert_legs(legs, intent.id, now, what);
    });
  }

  result<void> add_legs(std::span<const leg_record> legs) override {
    for (const auto& l : legs) {
      if (l.intent_id.empty()) {
        return fail(error_kind::invalid_argument,
                    fmt::format("leg {} without an intent id", l.client));
      }
      if (auto r = check_leg(l); !r) return r;
    }
    const std::string what =
        fmt::format("add_legs {}", legs.empty() ? std::string_view{} : legs.front().intent_id);
    return write(what,
                 [&]() -> result<void> { return insert_legs(legs, {}, options_.clock(), what); });
  }

  result<void> update_leg(const leg_record& leg, std::string_view cause) override {
    if (auto r = check_leg(leg); !r) return r;
    const std::string what = fmt::format("update_leg {}", leg.client);
    return write(what, [&]() -> result<void> {
      auto old = find_leg(leg.client, what);
      if (!old) return std::unexpected(old.error());
      if (!*old) {
        return fail(error_kind::internal,
                    fmt::format("journal {}: {}: no leg with this client id", path_, what));
      }
      const leg_record& before = **old;
      if (!leg.intent_id.empty() && leg.intent_id != before.intent_id) {
        return fail(error_kind::internal,
                    fmt::format("journal {}: {}: the leg belongs to intent {}, not {}", path_, what,
                                before.intent_id, leg.intent_id));
      }
      const wall_time now = options_.clock();
      {
        bound b(update_leg_.get());
        bind_leg(b, leg, before.intent_id, or_now(leg.updated_at, now), std::nullopt);
        if (auto r = done(b, what); !r) return r;
      }
      return append(
          now, before.intent_id, leg.client, "phase",
          fmt::format("{} -> {}: {}", to_string(before.phase), to_string(leg.phase), cause), what);
    });
  }

  result<void> set_intent_state(std::string_view intent_id, std::string_view state,
                                std::string_view cause) override {
    const std::string what = fmt::format("set_intent_state {}", intent_id);
    return write(what, [&]() -> result<void> {
      auto old = find_intent(intent_id, what);
      if (!old) return std::unexpected(old.error());
      if (!*old) {
        return fail(error_kind::internal,
                    fmt::format("journal {}: {}: no intent with this id", path_, what));
      }
      const wall_time now = options_.clock();
      {
        bound b(update_intent_state_.get());
        b.text(1, intent_id);
        b.text(2, state);
        b.time(3, now);
        if (auto r = done(b, what); !r) return r;
      }
      return append(now, intent_id, "", "state",
                    fmt::format("{} -> {}: {}", (*old)->state, state, cause), what);
    });
  }

  result<void> add_event(std::string_view intent_id, std::string_view client, std::string_view kind,
                         std::string_view detail) override {
    const std::string what = fmt::format("add_event {} {}", intent_id, kind);
    return write(what, [&]() -> result<void> {
      return append(options_.clock(), intent_id, client, kind, detail, what);
    });
  }

  result<std::optional<intent_record>> intent(std::string_view id) override {
    return find_intent(id, fmt::format("intent {}", id));
  }

  result<std::vector<intent_record>> intents(std::size_t limit) override {
    bound b(select_intents_.get());
    b.integer(1, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    return collect<intent_record>(b, "intents", read_intent, "intents");
  }

  result<std::vector<intent_record>> open_intents() override {
    bound b(select_open_intents_.get());
    return collect<intent_record>(b, "intents", read_intent, "open_intents");
  }

  result<std::vector<leg_record>> legs_of(std::string_view intent_id) override {
    bound b(select_legs_of_.get());
    b.text(1, intent_id);
    return collect<leg_record>(b, "legs", read_leg, fmt::format("legs_of {}", intent_id));
  }

  result<std::optional<leg_record>> leg(std::string_view client) override {
    return find_leg(client, fmt::format("leg {}", client));
  }

  result<std::optional<leg_record>> leg_by_ref(std::string_view provider,
                                                std::string_view provider_ref) override {
    bound b(select_leg_by_ref_.get());
    b.text(1, provider);
    b.text(2, provider_ref);
    auto rows = collect<leg_record>(b, "legs", read_leg,
                                    fmt::format("leg_by_ref {} {}", provider, provider_ref));
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::nullopt;
    return std::move(rows->front());
  }

  result<std::vector<leg_record>> unfinished_legs() override {
    bound b(select_unfinished_.get());
    return collect<leg_record>(b, "legs", read_leg, "unfinished_legs");
  }

  result<std::vector<journal_event>> events_of(std::string_view intent_id) override {
    bound b(select_events_of_.get());
    b.text(1, intent_id);
    return collect<journal_event>(b, "events", read_event, fmt::format("events_of {}", intent_id));
  }

  result<bool> integrity_ok() override {
    bound b(integrity_check_.get());
    std::vector<std::string> lines;
    int rc = SQLITE_OK;
    while ((rc = b.step()) == SQLITE_ROW) {
      lines.push_back(row_reader(b.get(), "integrity_check").text(0));
    }
    // Damage bad enough to stop the check is still an answer: not ok.
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) return false;
    if (rc != SQLITE_DONE) return sql_error("integrity_check", rc);
    return lines.size() == 1 && lines.front() == "ok";
  }

 private:
  static wall_time or_now(wall_time t, wall_time now) { return t == wall_time{} ? now : t; }

  static result<void> check_leg(const leg_record& l) {
    if (l.client.empty()) {
      return fail(error_kind::invalid_argument,
                  fmt::format("leg #{} of intent {} without a client id", l.index, l.intent_id));
    }
    return {};
  }

  std::unexpected<error> sql_error(std::string_view what, int rc) const {
    return fail(error_kind::internal, fmt::format("journal {}: {}: {} (sqlite {})", path_, what,
                                                  sqlite3_errmsg(db_.get()), rc));
  }

  // Settings that last for the connection. foreign_keys and journal_mode must be set outside a
  // transaction; each is read back because SQLite ignores a setting it cannot apply.
  result<void> configure() {
    auto mode = pragma_text("PRAGMA journal_mode = WAL", "enabling WAL");
    if (!mode) return std::unexpected(mode.error());
    // An in-memory database has no WAL; it only ever serves tests.
    if (*mode != "wal" && *mode != "memory") {
      return fail(error_kind::internal,
                  fmt::format("journal {}: cannot enable WAL (journal_mode is {})", path_, *mode));
    }
    if (auto r = exec_constant("PRAGMA synchronous = FULL", "setting synchronous"); !r) return r;
    if (auto r = exec_constant("PRAGMA foreign_keys = ON", "enabling foreign keys"); !r) return r;
    auto sync = pragma_int("PRAGMA synchronous", "reading synchronous");
    if (!sync) return std::unexpected(sync.error());
    auto fk = pragma_int("PRAGMA foreign_keys", "reading foreign_keys");
    if (!fk) return std::unexpected(fk.error());
    if (*sync != 2 || *fk != 1) {
      return fail(error_kind::internal,
                  fmt::format("journal {}: synchronous={} foreign_keys={} (wanted FULL and on)",
                              path_, *sync, *fk));
    }
    return {};
  }

  // Runs `body` between BEGIN IMMEDIATE and COMMIT with constant SQL (the statements are not
  // prepared yet while the schema is made); anything that fails rolls it all back.
  template <class F>
  result<void> schema_transaction(std::string_view what, F&& body) {
    if (auto r = exec_constant(sql_begin, what); !r) return r;
    result<void> done = std::forward<F>(body)();
    if (done) done = exec_constant(sql_commit, what);
    if (!done && sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite3_exec(db_.get(), sql_rollback, nullptr, nullptr, nullptr);
    }
    return done;
  }

  // Creates version 1 and migrates it to this build's in one transaction; the version is read
  // again inside it because another process may have created the schema since the first read.
  result<void> create_schema() {
    constexpr std::string_view what = "creating the schema";
    return schema_transaction(what, [&]() -> result<void> {
      auto version = pragma_int("PRAGMA user_version", "reading the schema version");
      if (!version) return std::unexpected(version.error());
      if (*version != 0) return {};
      auto objects = pragma_int("SELECT count(*) FROM sqlite_schema", "reading the schema");
      if (!objects) return std::unexpected(objects.error());
      if (*objects != 0) {
        return fail(
            error_kind::internal,
            fmt::format("{} is not a swaprouter journal (tables without a schema version)", path_));
      }
      if (auto r = exec_constant(schema_v1, what); !r) return r;
      if (auto r = exec_constant(indexes_since_v1, what); !r) return r;
      return exec_constant(schema_v2, what);
    });
  }

  // A journal of version 1 from an earlier build becomes version 2 in one transaction; the
  // version is read again inside it because another process may have migrated it meanwhile.
  result<void> migrate() {
    constexpr std::string_view what = "migrating the schema to version 2";
    return schema_transaction(what, [&]() -> result<void> {
      auto version = pragma_int("PRAGMA user_version", what);
      if (!version) return std::unexpected(version.error());
      if (*version != 1) return {};
      return exec_constant(schema_v2, what);
    });
  }

  // A journal of version 1 from an earlier build lacks the indexes added since: they are added
  // in one transaction. Nothing is written when they exist, which is every open but the first.
  result<void> add_missing_indexes() {
    constexpr std::string_view what = "adding the index intents_open";
    auto have = pragma_int(sql_count_open_intents_index, what);
    if (!have) return std::unexpected(have.error());
    if (*have != 0) return {};
    return schema_transaction(what, [&] { return exec_constant(indexes_since_v1, what); });
  }

  // Runs constant SQL (pragmas, the schema): no value ever reaches it.
  result<void> exec_constant(const char* sql, std::string_view what) {
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sql_error(what, rc);
    return {};
  }

  result<std::string> pragma_text(const char* sql, std::string_view what) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
    stmt_handle s(raw);
    if (rc != SQLITE_OK) return sql_error(what, rc);
    rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return std::string{};
    if (rc != SQLITE_ROW) return sql_error(what, rc);
    return row_reader(s.get(), "pragma").text(0);
  }

  result<std::int64_t> pragma_int(const char* sql, std::string_view what) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
    stmt_handle s(raw);
    if (rc != SQLITE_OK) return sql_error(what, rc);
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return sql_error(what, rc);
    return sqlite3_column_int64(s.get(), 0);
  }

  result<void> prepare(stmt_handle& out, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    out.reset(raw);
    if (rc != SQLITE_OK) return sql_error("preparing statements", rc);
    return {};
  }

  // Prepares the reads for a journal of `version` and, unless read-only (then `version` may be
  // older than this build's), the writes.
  result<void> prepare_all(int version) {
    const bool v1 = version == 1;
    const auto intents = [&](const char* sql) {
      return fmt::format(fmt::runtime(sql), v1 ? intent_columns_v1 : intent_columns);
    };
    const auto legs = [&](const char* sql) {
      return fmt::format(fmt::runtime(sql), v1 ? leg_columns_v1 : leg_columns);
    };
    const std::pair<stmt_handle*, std::string> reads[] = {
        {&select_intent_, intents(sql_select_intent)},
        {&select_intents_, intents(sql_select_intents)},
        {&select_open_intents_, intents(sql_select_open_intents)},
        {&select_legs_of_, legs(sql_select_legs_of)},
        {&select_leg_, legs(sql_select_leg)},
        {&select_leg_by_ref_, legs(sql_select_leg_by_ref)},
        {&select_unfinished_, legs(sql_select_unfinished)},
        {&select_events_of_, sql_select_events_of},
        {&integrity_check_, sql_integrity_check},
    };
    for (const auto& [slot, sql] : reads) {
      if (auto r = prepare(*slot, sql.c_str()); !r) return r;
    }
    if (options_.read_only) return {};
    const std::pair<stmt_handle*, const char*> writes[] = {
        {&begin_, sql_begin},
        {&commit_, sql_commit},
        {&rollback_, sql_rollback},
        {&insert_intent_, sql_insert_intent},
        {&insert_leg_, sql_insert_leg},
        {&update_leg_, sql_update_leg},
        {&insert_event_, sql_insert_event},
        {&update_intent_state_, sql_update_intent_state},
    };
    for (const auto& [slot, sql] : writes) {
      if (auto r = prepare(*slot, sql); !r) return r;
    }
    return {};
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; anything that fails rolls the whole write
  // back, so a failed call leaves the journal as it was.
  template <class F>
  result<void> write(std::string_view what, F&& body) {
    if (options_.read_only) {
      return fail(error_kind::internal,
                  fmt::format("journal {}: {}: opened read-only", path_, what));
    }
    {
      bound b(begin_.get());
      if (auto r = done(b, what); !r) return r;
    }
    result<void> r = std::forward<F>(body)();
    bool commit_failed = false;
    if (r) {
      bound b(commit_.get());
      r = done(b, what);
      commit_failed = !r;
    }
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or may have rolled it back
    // already (I/O errors): roll back only what is still open.
    if (!r && sqlite3_get_autocommit(db_.get()) == 0) {
      bound b(rollback_.get());
      b.step();
    }
    if (commit_failed) overwrite_refused_commit(what);
    return r;
  }

  // A COMMIT whose sync failed has written its WAL frames, commit mark included: if they reach
  // the disk anyway and the process dies before the next commit, reopening recovers the write the
  // caller was told failed (and sent nothing for). The next commit's frames take their place in
  // the WAL, so one is made at once, noting the failure. Best effort: a disk still failing fails
  // it too, and the caller already has the error.
  void overwrite_refused_commit(std::string_view what) {
    {
      bound b(begin_.get());
      if (b.step() != SQLITE_DONE) return;
    }
    bool ok = append(options_.clock(), "", "", "journal",
                     fmt::format("{}: commit failed and was rolled back", what), what)
                  .has_value();
    if (ok) {
      bound b(commit_.get());
      ok = b.step() == SQLITE_DONE;
    }
    if (!ok && sqlite3_get_autocommit(db_.get()) == 0) {
      bound b(rollback_.get());
      b.step();
    }
  }

  result<void> done(bound& b, std::string_view what) {
    const int rc = b.step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sql_error(what, rc);
    return {};
  }

  result<void> append(wall_time time, std::string_view intent_id, std::string_view client,
                      std::string_view kind, std::string_view detail, std::string_view what) {
    bound b(insert_event_.get());
    b.time(1, time);
    b.text(2, intent_id);
    b.text(3, client);
    b.text(4, kind);
    b.text(5, detail);
    return done(b, what);
  }

  // `intent_id` overrides the legs' own when not empty (add_intent fills it in).
  result<void> insert_legs(std::span<const leg_record> legs, std::string_view intent_id,
                           wall_time now, std::string_view what) {
    for (const auto& l : legs) {
      const std::string_view owner = intent_id.empty() ? std::string_view(l.intent_id) : intent_id;
      {
        bound b(insert_leg_.get());
        bind_leg(b, l, owner, or_now(l.updated_at, now), now);
        if (auto r = done(b, what); !r) return r;
      }
      if (auto r = append(now, owner, l.client, "leg", describe_leg(l), what); !r) return r;
    }
    return {};
  }

  template <class T, class Read>
  result<std::vector<T>> collect(bound& b, std::string_view table, Read read,
                                 std::string_view what) {
    std::vector<T> out;
    int rc = SQLITE_OK;
    while ((rc = b.step()) == SQLITE_ROW) {
      row_reader r(b.get(), table);
      out.push_back(read(r));
      if (r.failed()) {
        return fail(error_kind::internal,
                    fmt::format("journal {}: {}: bad row: {}", path_, what, r.problem()));
      }
    }
    if (rc != SQLITE_DONE) return sql_error(what, rc);
    return out;
  }

  result<std::optional<intent_record>> find_intent(std::string_view id, std::string_view what) {
    bound b(select_intent_.get());
    b.text(1, id);
    auto rows = collect<intent_record>(b, "intents", read_intent, what);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::nullopt;
    return std::move(rows->front());
  }

  result<std::optional<leg_record>> find_leg(std::string_view client, std::string_view what) {
    bound b(select_leg_.get());
    b.text(1, client);
    auto rows = collect<leg_record>(b, "legs", read_leg, what);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::nullopt;
    return std::move(rows->front());
  }

  std::string path_;
  journal_options options_;
  // Declared first so that it is destroyed last, after every statement is finalized.
  db_handle db_;
  stmt_handle begin_;
  stmt_handle commit_;
  stmt_handle rollback_;
  stmt_handle insert_intent_;
  stmt_handle insert_leg_;
  stmt_handle update_leg_;
  stmt_handle insert_event_;
  stmt_handle select_intent_;
  stmt_handle select_intents_;
  stmt_handle select_open_intents_;
  stmt_handle update_intent_state_;
  stmt_handle select_legs_of_;
  stmt_handle select_leg_;
  stmt_handle select_leg_by_ref_;
  stmt_handle select_unfinished_;
  stmt_handle select_events_of_;
  stmt_handle integrity_check_;
};

}  // namespace

result<std::unique_ptr<journal>> journal::open(const std::string& path) {
  return open(path, journal_options{});
}

result<std::unique_ptr<journal>> journal::open(const std::string& path,
                                               const journal_options& options) {
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_EXRESCODE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags,
                                 options.vfs.empty() ? nullptr : options.vfs.c_str());
  // The handle exists even when opening failed and is closed with the journal object.
  auto j = std::make_unique<sqlite_journal>(path, options, raw);
  if (rc != SQLITE_OK) {
    return fail(error_kind::internal,
                fmt::format("cannot open journal {}: {}", path,
                            raw == nullptr ? sqlite3_errstr(rc) : sqlite3_errmsg(raw)));
  }
  if (auto r = j->init(); !r) return std::unexpected(r.error());
  return j;
}

}  // namespace swaprouter
