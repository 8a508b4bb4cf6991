// The SQLite journal: exact round trips, constraints, the append-only event log, the schema
// version, hostile strings, FAULTS.md 24 (write failures) and 6 (power loss, many seeds) through
// the fault-injecting VFS, and the `swaprouter journal` listing.
#include "engine/journal.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/journal.hpp"
#include "engine/journal_vfs.hpp"
#include "engine/json_read.hpp"

namespace swaprouter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

wall_time at(int hour, int minute, int second, int millis = 0) {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 21} + hours{hour} + minutes{minute} + seconds{second} +
         milliseconds{millis};
}

// A fresh directory per test, removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / fmt::format("swaprouter-journal-{}-{}-{}", ::getpid(),
                                                    info->test_suite_name(), info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

intent_record make_intent(std::string id, wall_time created) {
  intent_record i;
  i.id = std::move(id);
  i.spend_asset = "USDT";
  i.receive_asset = "COPM";
  i.side = amount_side::spend;
  i.amount = dec("1000.5");
  i.min_receive = dec("3990000.000000000000000001");
  i.created_at = created;
  i.deadline = created + 60s;
  i.state = "open";
  i.origin = "cli";
  return i;
}

leg_record make_leg(const std::string& intent_id, int index, wall_time updated) {
  leg_record l;
  l.intent_id = intent_id;
  l.index = index;
  l.attempt = 0;
  l.client = fmt::format("{}-{}-0", intent_id, index);
  l.provider = index == 0 ? "onek" : "kiiex";
  l.direction_code = "USDT-COPM";
  l.spend_asset = "USDT";
  l.receive_asset = "COPM";
  l.side = amount_side::spend;
  l.amount = dec("500.25");
  l.min_receive = dec("1995000.123456789012345678");
  l.quoted_receive = dec("123456789012345678.123456789012345678");
  l.quote_id = "q-1";
  l.deadline = updated + 30s;
  l.updated_at = updated;
  return l;
}

void expect_same_intent(const intent_record& a, const intent_record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.spend_asset, b.spend_asset);
  EXPECT_EQ(a.receive_asset, b.receive_asset);
  EXPECT_EQ(a.side, b.side);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.min_receive, b.min_receive);
  EXPECT_EQ(a.max_spend, b.max_spend);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.deadline, b.deadline);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.dry_run, b.dry_run);
  EXPECT_EQ(a.origin, b.origin);
}

// Every field but the phase and what changes with it (checked by the callers).
bool same_plan(const leg_record& a, const leg_record& b) {
  return a.intent_id == b.intent_id && a.index == b.index && a.attempt == b.attempt &&
         a.client == b.client && a.provider == b.provider && a.direction_code == b.direction_code &&
         a.spend_asset == b.spend_asset && a.receive_asset == b.receive_asset && a.side == b.side &&
         a.amount == b.amount && a.min_receive == b.min_receive &&
         a.quoted_receive == b.quoted_receive && a.quote_id == b.quote_id &&
         a.deadline == b.deadline;
}

void expect_same_leg(const leg_record& a, const leg_record& b) {
  EXPECT_TRUE(same_plan(a, b)) << a.client << " vs " << b.client;
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.provider_ref, b.provider_ref);
  EXPECT_EQ(a.provider_status, b.provider_status);
  EXPECT_EQ(a.spend_filled, b.spend_filled);
  EXPECT_EQ(a.spend_fee_filled, b.spend_fee_filled);
  EXPECT_EQ(a.receive_filled, b.receive_filled);
  EXPECT_EQ(a.fee_filled, b.fee_filled);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

// A journal with a clock the test sets.
struct clocked {
  wall_time now = at(10, 0, 0);
  journal_options options() {
    journal_options o;
    o.clock = [this] { return now; };
    return o;
  }
  // The same, through `vfs`.
  journal_options options(const fault_vfs& vfs) {
    journal_options o = options();
    o.vfs = vfs.name();
    return o;
  }
};

std::unique_ptr<journal> open_ok(const std::string& path, const journal_options& options) {
  auto j = journal::open(path, options);
  EXPECT_TRUE(j.has_value()) << (j ? "" : j.error().message);
  return j ? std::move(*j) : nullptr;
}

// Constant SQL through a plain connection, as another tool (or an attacker with file access)
// would; returns the error message or "".
std::string raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  std::string out = rc == SQLITE_OK ? "" : (message != nullptr ? message : "error");
  sqlite3_free(message);
  sqlite3_close(db);
  return out;
}

std::string raw_pragma(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(journal_phases, names_round_trip_and_final_set) {
  const leg_phase all[] = {leg_phase::planned,   leg_phase::submitting,       leg_phase::accepted,
                           leg_phase::rejected,  leg_phase::unknown,          leg_phase::open,
                           leg_phase::filled,    leg_phase::partially_filled, leg_phase::expired,
                           leg_phase::cancelled, leg_phase::failed,           leg_phase::lost,
                           leg_phase::frozen};
  for (const leg_phase p : all) EXPECT_EQ(parse_leg_phase(to_string(p)), p) << to_string(p);
  EXPECT_EQ(parse_leg_phase("partially filled"), std::nullopt);
  EXPECT_EQ(parse_leg_phase(""), std::nullopt);
  EXPECT_EQ(to_string(leg_phase::partially_filled), "partially_filled");
  std::vector<std::string_view> finals;
  for (const leg_phase p : all) {
    if (is_final(p)) finals.push_back(to_string(p));
  }
  EXPECT_EQ(finals, (std::vector<std::string_view>{"rejected", "filled", "partially_filled",
                                                   "expired", "cancelled", "failed"}));
}

TEST(journal, round_trip_is_exact) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  intent_record intent = make_intent("I20261121-000001", at(9, 59, 59, 250));
  intent.dry_run = true;
  std::vector<leg_record> legs = {make_leg(intent.id, 0, at(9, 59, 59, 999)),
                                  make_leg(intent.id, 1, at(10, 0, 0, 1))};
  legs[1].side = amount_side::receive;
  legs[1].deadline.reset();
  legs[1].quote_id.clear();
  legs[1].amount = dec("0.000000000000000001");
  legs[1].fee_filled = dec("-3.5");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->add_intent(intent, legs));
  }
  // Reopened: everything comes from the file.
  auto j = open_ok(path, clock.options());
  ASSERT_TRUE(j);
  auto got = j->intent(intent.id);
  ASSERT_TRUE(got && *got);
  expect_same_intent(**got, intent);
  auto got_legs = j->legs_of(intent.id);
  ASSERT_TRUE(got_legs);
  ASSERT_EQ(got_legs->size(), 2u);
  expect_same_leg((*got_legs)[0], legs[0]);
  expect_same_leg((*got_legs)[1], legs[1]);
  auto one = j->leg(legs[1].client);
  ASSERT_TRUE(one && *one);
  expect_same_leg(**one, legs[1]);
  EXPECT_EQ(j->leg("nobody").value(), std::nullopt);
  EXPECT_EQ(j->intent("nothing").value(), std::nullopt);

  auto events = j->events_of(intent.id);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].kind, "intent");
  EXPECT_EQ((*events)[0].client, "");
  EXPECT_EQ((*events)[0].time, clock.now);
  EXPECT_EQ((*events)[0].detail,
            "spend 1000.5 USDT -> COPM, min 3990000.000000000000000001, state open, origin cli, "
            "dry run");
  EXPECT_EQ((*events)[1].kind, "leg");
  EXPECT_EQ((*events)[1].client, legs[0].client);
  EXPECT_EQ((*events)[2].client, legs[1].client);
  EXPECT_EQ((*events)[1].detail,
            "planned: #0 attempt 0 onek USDT-COPM spend 500.25 USDT -> COPM, min "
            "1995000.123456789012345678, quoted 123456789012345678.123456789012345678, quote q-1");
  EXPECT_TRUE(j->integrity_ok().value());

  // Stored text is exact decimal text and ISO 8601 UTC with milliseconds.
  EXPECT_EQ(raw_pragma(path, "SELECT quoted_receive FROM legs WHERE leg_index = 0"),
            "123456789012345678.123456789012345678");
  EXPECT_EQ(raw_pragma(path, "SELECT created_at FROM intents"), "2026-11-21T09:59:59.250Z");
  EXPECT_EQ(raw_pragma(path, "SELECT updated_at FROM legs WHERE leg_index = 1"),
            "2026-11-21T10:00:00.001Z");
}

TEST(journal, times_keep_milliseconds_and_unset_times_take_the_clock) {
  temp_dir dir;
  clocked clock;
  clock.now = at(12, 0, 0, 7);
  auto j = open_ok(dir.file("j.db"), clock.options());
  ASSERT_TRUE(j);
  intent_record intent = make_intent("I1", wall_time{});
  intent.deadline = at(12, 1, 0, 5) + 999us;  // sub-millisecond part is dropped
  leg_record leg = make_leg("I1", 0, wall_time{});
  ASSERT_TRUE(j->add_intent(intent, std::span(&leg, 1)));
  auto got = j->intent("I1").value();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->created_at, clock.now);
  EXPECT_EQ(got->deadline, at(12, 1, 0, 5));
  EXPECT_EQ(j->leg(leg.client).value()->updated_at, clock.now);
}

TEST(journal, client_id_is_unique_and_a_failed_write_changes_nothing) {
  temp_dir dir;
  clocked clock;
  auto j = open_ok(dir.file("j.db"), clock.options());
  ASSERT_TRUE(j);
  const leg_record a = make_leg("I1", 0, at(10, 0, 0));
  ASSERT_TRUE(j->add_intent(make_intent("I1", at(10, 0, 0)), std::span(&a, 1)));

  // A second intent reusing the client id: refused as a whole.
  leg_record dup = a;
  dup.intent_id = "I2";
  const leg_record fresh = make_leg("I2", 1, at(10, 0, 0));
  const std::vector<leg_record> both = {fresh, dup};
  auto r = j->add_intent(make_intent("I2", at(10, 0, 1)), both);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::internal);
  EXPECT_NE(r.error().message.find("UNIQUE constraint failed: legs.client"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(j->intent("I2").value(), std::nullopt);
  EXPECT_EQ(j->leg(fresh.client).value(), std::nullopt);
  EXPECT_TRUE(j->events_of("I2").value().empty());
  EXPECT_EQ(j->leg(a.client).value()->intent_id, "I1");

  // A re-plan with a duplicate inside the batch: nothing of the batch is added.
  leg_record replan = make_leg("I1", 1, at(10, 0, 2));
  const std::vector<leg_record> batch = {replan, replan};
  ASSERT_FALSE(j->add_legs(batch));
  EXPECT_EQ(j->legs_of("I1").value().size(), 1u);
  EXPECT_EQ(j->events_of("I1").value().size(), 2u);
  ASSERT_TRUE(j->add_legs(std::span(&replan, 1)));
  EXPECT_EQ(j->legs_of("I1").value().size(), 2u);

  // Legs of an intent that does not exist: the foreign key refuses them.
  const leg_record orphan = make_leg("I9", 0, at(10, 0, 3));
  auto o = j->add_legs(std::span(&orphan, 1));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("FOREIGN KEY"), std::string::npos) << o.error().message;

  // Malformed input is refused before SQL.
  leg_record no_client = make_leg("I1", 2, at(10, 0, 4));
  no_client.client.clear();
  EXPECT_EQ(j->add_legs(std::span(&no_client, 1)).error().kind, error_kind::invalid_argument);
  const leg_record other = make_leg("I7", 0, at(10, 0, 4));
  EXPECT_EQ(j->add_intent(make_intent("I3", at(10, 0, 4)), std::span(&other, 1)).error().kind,
            error_kind::invalid_argument);
  EXPECT_EQ(j->intent("I3").value(), std::nullopt);
  EXPECT_TRUE(j->integrity_ok().value());
}

TEST(journal, phases_events_and_unfinished_legs) {
  temp_dir dir;
  clocked clock;
  auto j = open_ok(dir.file("j.db"), clock.options());
  ASSERT_TRUE(j);
  std::vector<leg_record> legs;
  for (int k = 0; k < 4; ++k) legs.push_back(make_leg("I1", k, at(10, 0, 0)));
  ASSERT_TRUE(j->add_intent(make_intent("I1", at(10, 0, 0)), legs));
  EXPECT_EQ(j->unfinished_legs().value().size(), 4u);

  const std::pair<leg_phase, const char*> path0[] = {{leg_phase::submitting, "sending"},
                                                     {leg_phase::accepted, "201 Created"},
                                                     {leg_phase::open, "status waiting"},
                                                     {leg_phase::filled, "status success"}};
  leg_record l = legs[0];
  for (const auto& [phase, cause] : path0) {
    clock.now += 1s;
    l.phase = phase;
    l.updated_at = clock.now;
    if (phase == leg_phase::accepted) l.provider_ref = "SW-77";
    if (phase == leg_phase::filled) {
      l.provider_status = "success";
      l.spend_filled = dec("500.25");
      l.receive_filled = dec("1999000.5");
      l.fee_filled = dec("5000.000000000000000001");
    }
    ASSERT_TRUE(j->update_leg(l, cause));
  }
  expect_same_leg(j->leg(l.client).value().value(), l);

  legs[1].phase = leg_phase::lost;
  ASSERT_TRUE(j->update_leg(legs[1], "not found after 10 polls"));
  legs[2].phase = leg_phase::rejected;
  ASSERT_TRUE(j->update_leg(legs[2], "400 amount below minimum"));
  legs[3].phase = leg_phase::frozen;
  ASSERT_TRUE(j->update_leg(legs[3], "two swaps for one client id"));

  // Final legs drop out; lost and frozen stay (still polled, alarmed); oldest first.
  auto unfinished = j->unfinished_legs().value();
  ASSERT_EQ(unfinished.size(), 2u);
  EXPECT_EQ(unfinished[0].client, legs[1].client);
  EXPECT_EQ(unfinished[1].client, legs[3].client);

  ASSERT_TRUE(j->set_intent_state("I1", "done", "all legs final"));
  EXPECT_EQ(j->intent("I1").value()->state, "done");
  ASSERT_TRUE(j->add_event("I1", legs[3].client, "alarm", "inconsistent provider record"));

  auto events = j->events_of("I1").value();
  std::vector<std::string> lines;
  std::int64_t last = 0;
  for (const auto& e : events) {
    EXPECT_GT(e.seq, last);
    last = e.seq;
    if (e.kind == "phase" || e.kind == "state" || e.kind == "alarm") {
      lines.push_back(fmt::format("{} {} {}", e.kind, e.client, e.detail));
    }
  }
  const std::string c0 = legs[0].client;
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "phase " + c0 + " planned -> submitting: sending",
                "phase " + c0 + " submitting -> accepted: 201 Created",
                "phase " + c0 + " accepted -> open: status waiting",
                "phase " + c0 + " open -> filled: status success",
                "phase " + legs[1].client + " planned -> lost: not found after 10 polls",
                "phase " + legs[2].client + " planned -> rejected: 400 amount below minimum",
                "phase " + legs[3].client + " planned -> frozen: two swaps for one client id",
                "state  open -> done: all legs final",
                "alarm " + legs[3].client + " inconsistent provider record"}));
  EXPECT_EQ(events.back().time, clock.now);

  // Unknown targets are errors and append nothing.
  leg_record ghost = make_leg("I1", 9, at(10, 0, 0));
  EXPECT_FALSE(j->update_leg(ghost, "x"));
  leg_record moved = legs[1];
  moved.intent_id = "I2";
  EXPECT_FALSE(j->update_leg(moved, "x"));
  EXPECT_FALSE(j->set_intent_state("I2", "done", "x"));
  EXPECT_EQ(j->events_of("I1").value().size(), events.size());
}

TEST(journal, intents_are_listed_newest_first) {
  temp_dir dir;
  clocked clock;
  auto j = open_ok(dir.file("j.db"), clock.options());
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->add_intent(make_intent("B", at(10, 0, 1)), {}));
  ASSERT_TRUE(j->add_intent(make_intent("A", at(10, 0, 2)), {}));
  ASSERT_TRUE(j->add_intent(make_intent("C", at(10, 0, 0)), {}));
  ASSERT_TRUE(j->add_intent(make_intent("D", at(10, 0, 2)), {}));  // same time: later insert first
  std::vector<std::string> ids;
  const auto listed = j->intents(10).value();
  for (const auto& i : listed) ids.push_back(i.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"D", "A", "B", "C"}));
  EXPECT_EQ(j->intents(2).value().size(), 2u);
  EXPECT_TRUE(j->intents(0).value().empty());
}

// What restart resumes: every intent still "open", oldest first, however many intents came
// after it. A journal an earlier build created (version 1 without the partial index the query
// reads) answers the same read-only and gets the index on its first writable open, still at
// version 1.
TEST(journal, open_intents_are_every_open_one_oldest_first) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  const std::vector<std::string> open_ones{"OLD", "MID", "NEW"};
  auto open_ids = [](journal& j) {
    const auto open = j.open_intents().value();
    std::vector<std::string> ids;
    for (const auto& i : open) ids.push_back(i.id);
    return ids;
  };
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->add_intent(make_intent("OLD", at(9, 0, 0)), {}));
    for (int n = 0; n < 250; ++n) {
      auto done = make_intent(fmt::format("D{:03}", n), at(10, 0, 0, n));
      done.state = "done";
      ASSERT_TRUE(j->add_intent(done, {}));
    }
    ASSERT_TRUE(j->add_intent(make_intent("NEW", at(11, 0, 0)), {}));
    ASSERT_TRUE(j->add_intent(make_intent("HALT", at(10, 30, 0)), {}));
    ASSERT_TRUE(j->set_intent_state("HALT", "halted", "test"));
    ASSERT_TRUE(j->add_intent(make_intent("MID", at(10, 30, 0)), {}));
    EXPECT_EQ(open_ids(*j), open_ones);
    const auto old = j->open_intents().value().front();
    expect_same_intent(old, make_intent("OLD", at(9, 0, 0)));
  }
  const char* has_index =
      "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'intents_open'";
  EXPECT_EQ(raw_pragma(path, has_index), "1");

  EXPECT_EQ(raw_exec(path, "DROP INDEX intents_open"), "");
  EXPECT_EQ(raw_pragma(path, has_index), "0");
  {
    journal_options ro;
    ro.read_only = true;
    auto j = open_ok(path, ro);
    ASSERT_TRUE(j);
    EXPECT_EQ(open_ids(*j), open_ones);
  }
  EXPECT_EQ(raw_pragma(path, has_index), "0");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    EXPECT_EQ(open_ids(*j), open_ones);
    ASSERT_TRUE(j->set_intent_state("OLD", "done", "test"));
    EXPECT_EQ(open_ids(*j), (std::vector<std::string>{"MID", "NEW"}));
  }
  EXPECT_EQ(raw_pragma(path, has_index), "1");
  EXPECT_EQ(raw_pragma(path, "PRAGMA user_version"), "2");
}

// A journal an earlier build wrote (version 1: no max_spend on intents, no spend_fee_filled on
// legs) is read as it is when opened read-only (`swaprouter journal`), the missing columns at
// their defaults, and migrated to version 2 in place by the first writable open, its rows kept.
TEST(journal, a_version_1_journal_is_read_read_only_and_migrated_by_a_writable_open) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  const intent_record old_intent = make_intent("OLD", at(9, 0, 0));
  leg_record old_leg = make_leg("OLD", 0, at(9, 0, 1));
  old_leg.phase = leg_phase::filled;
  old_leg.spend_filled = dec("500.25");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->add_intent(old_intent, std::vector<leg_record>{old_leg}));
  }
  // What version 1 looked like.
  EXPECT_EQ(raw_exec(path,
                     "ALTER TABLE intents DROP COLUMN max_spend; ALTER TABLE legs DROP COLUMN "
                     "spend_fee_filled; PRAGMA user_version = 1"),
            "");
  {
    journal_options ro;
    ro.read_only = true;
    auto j = open_ok(path, ro);
    ASSERT_TRUE(j);
    expect_same_intent(j->intent("OLD").value().value(), old_intent);
    expect_same_leg(j->leg(old_leg.client).value().value(), old_leg);
    EXPECT_FALSE(j->add_event("OLD", "", "note", "x"));
  }
  EXPECT_EQ(raw_pragma(path, "PRAGMA user_version"), "1");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    expect_same_intent(j->intent("OLD").value().value(), old_intent);
    intent_record capped = make_intent("NEW", at(10, 0, 0));
    capped.side = amount_side::receive;
    capped.max_spend = dec("1001.25");
    leg_record paid = make_leg("NEW", 0, at(10, 0, 1));
    paid.phase = leg_phase::filled;
    paid.spend_filled = dec("502.75");
    paid.spend_fee_filled = dec("2.5");
    ASSERT_TRUE(j->add_intent(capped, std::vector<leg_record>{make_leg("NEW", 0, at(10, 0, 0))}));
    ASSERT_TRUE(j->update_leg(paid, "filled"));
    expect_same_intent(j->intent("NEW").value().value(), capped);
    expect_same_leg(j->leg(paid.client).value().value(), paid);
  }
  EXPECT_EQ(raw_pragma(path, "PRAGMA user_version"), "2");
  EXPECT_EQ(raw_pragma(path, "SELECT spend_fee_filled FROM legs WHERE client = 'OLD-0-0'"), "0");
}

TEST(journal, events_are_append_only_in_the_schema_too) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->add_intent(make_intent("I1", at(10, 0, 0)), {}));
    ASSERT_TRUE(j->add_event("I1", "", "alarm", "first"));
  }
  EXPECT_NE(raw_exec(path, "UPDATE events SET detail = 'rewritten'").find("append-only"),
            std::string::npos);
  EXPECT_NE(raw_exec(path, "DELETE FROM events").find("append-only"), std::string::npos);
  auto j = open_ok(path, clock.options());
  ASSERT_TRUE(j);
  auto events = j->events_of("I1").value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].detail, "first");
}

TEST(journal, schema_is_versioned_and_wal_is_on) {
  temp_dir dir;
  const std::string path = dir.file("j.db");
  { ASSERT_TRUE(open_ok(path, journal_options{})); }
  EXPECT_EQ(raw_pragma(path, "PRAGMA user_version"), "2");
  EXPECT_EQ(raw_pragma(path, "PRAGMA journal_mode"), "wal");
  // Opening again keeps version 2 and the data.
  { ASSERT_TRUE(open_ok(path, journal_options{})); }
  EXPECT_EQ(raw_pragma(path, "PRAGMA user_version"), "2");

  // A newer journal is refused and left untouched.
  const std::string newer = dir.file("newer.db");
  EXPECT_EQ(raw_exec(newer, "CREATE TABLE future (x); PRAGMA user_version = 99"), "");
  for (const bool read_only : {false, true}) {
    journal_options o;
    o.read_only = read_only;
    auto j = journal::open(newer, o);
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error().kind, error_kind::internal);
    EXPECT_NE(j.error().message.find("schema version 99 is newer than this build's 2"),
              std::string::npos)
        << j.error().message;
    EXPECT_NE(j.error().message.find(newer), std::string::npos);
  }
  EXPECT_EQ(raw_pragma(newer, "PRAGMA user_version"), "99");
  EXPECT_EQ(raw_pragma(newer, "PRAGMA journal_mode"), "delete");

  // Someone else's database (tables, no version) is not taken over.
  const std::string foreign = dir.file("foreign.db");
  EXPECT_EQ(raw_exec(foreign, "CREATE TABLE t (x)"), "");
  auto f = journal::open(foreign);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("not a swaprouter journal"), std::string::npos);

  // In memory (tests of other components).
  auto m = journal::open(":memory:");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE((*m)->add_intent(make_intent("I1", at(10, 0, 0)), {}));
}

TEST(journal, read_only_never_creates_or_writes) {
  temp_dir dir;
  journal_options ro;
  ro.read_only = true;
  const std::string missing = dir.file("missing.db");
  auto j = journal::open(missing, ro);
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find(missing), std::string::npos) << j.error().message;
  EXPECT_FALSE(fs::exists(missing));

  const std::string path = dir.file("j.db");
  { ASSERT_TRUE(open_ok(path, journal_options{})); }
  auto r = journal::open(path, ro);
  ASSERT_TRUE(r) << r.error().message;
  auto w = (*r)->add_intent(make_intent("I1", at(10, 0, 0)), {});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("read-only"), std::string::npos);
  EXPECT_TRUE((*r)->intents(10).value().empty());
}

TEST(journal, hostile_strings_are_stored_verbatim) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  const std::vector<std::string> hostile = {
      "'; DROP TABLE legs; --",
      "\"quoted\" and 'single' and `back`",
      "Robert'); DELETE FROM events WHERE ('1'='1",
      "Ünïcødé ✓ 日本語 🙂 \\ %s %n {} \t tab\nnewline",
      "?1 ?2 :name @x $y",
  };
  auto j = open_ok(path, clock.options());
  ASSERT_TRUE(j);
  for (std::size_t k = 0; k < hostile.size(); ++k) {
    const std::string& h = hostile[k];
    intent_record i = make_intent(h + std::to_string(k), at(10, 0, static_cast<int>(k)));
    i.origin = h;
    i.state = h;
    i.spend_asset = h;
    leg_record l = make_leg(i.id, 0, at(10, 0, 0));
    l.client = h + "#client" + std::to_string(k);
    l.provider = h;
    l.quote_id = h;
    ASSERT_TRUE(j->add_intent(i, std::span(&l, 1)));
    l.provider_ref = h;
    l.provider_status = h;
    l.phase = leg_phase::unknown;
    ASSERT_TRUE(j->update_leg(l, h));
    ASSERT_TRUE(j->add_event(i.id, l.client, h, h));
    ASSERT_TRUE(j->set_intent_state(i.id, h, h));

    auto got = j->intent(i.id).value();
    ASSERT_TRUE(got);
    expect_same_intent(*got, i);
    auto legs = j->legs_of(i.id).value();
    ASSERT_EQ(legs.size(), 1u);
    EXPECT_EQ(legs[0].client, l.client);
    EXPECT_EQ(legs[0].provider, h);
    EXPECT_EQ(legs[0].provider_ref, h);
    EXPECT_EQ(legs[0].provider_status, h);
    auto events = j->events_of(i.id).value();
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events[2].detail, "planned -> unknown: " + h);
    EXPECT_EQ(events[3].kind, h);
    EXPECT_EQ(events[3].detail, h);
  }
  EXPECT_EQ(j->intents(100).value().size(), hostile.size());
  EXPECT_EQ(j->unfinished_legs().value().size(), hostile.size());
  EXPECT_TRUE(j->integrity_ok().value());
}

TEST(journal, integrity_check_notices_a_damaged_file) {
  temp_dir dir;
  clocked clock;
  const std::string path = dir.file("j.db");
  {
    auto j = open_ok(path, clock.options());
    ASSERT_TRUE(j);
    for (int k = 0; k < 30; ++k) {
      const std::string id = fmt::format("I{}", k);
      const leg_record l = make_leg(id, 0, at(10, 0, 0));
      ASSERT_TRUE(j->add_intent(make_intent(id, at(10, 0, k)), std::span(&l, 1)));
    }
    EXPECT_TRUE(j->integrity_ok().value());
  }  // closing checkpoints the WAL into the file
  const int root = std::stoi(raw_pragma(path,
                                        "SELECT rootpage FROM sqlite_schema "
                                        "WHERE name = 'legs_by_intent'"));
  const int page_size = std::stoi(raw_pragma(path, "PRAGMA page_size"));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(root - 1) * page_size + 8);
    const std::string garbage(64, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto j = journal::open(path, clock.options());
  ASSERT_TRUE(j) << j.error().message;  // the schema page is intact
  auto ok = (*j)->integrity_ok();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(*ok);
}

// FAULTS.md 24: disk full or an I/O error at the commit. The write reports an error, nothing of
// it is visible (so the caller sends nothing), and the journal keeps working.
TEST(journal_faults, failed_commit_leaves_nothing_and_the_journal_recovers) {
  struct variant {
    bool sync;
    io_fault fault;
    const char* message;
  };
  const variant variants[] = {{false, io_fault::io_error, "disk I/O error"},
                              {false, io_fault::disk_full, "database or disk is full"},
                              {true, io_fault::io_error, "disk I/O error"},
                              {true, io_fault::disk_full, "database or disk is full"}};
  int n = 0;
  for (const variant& v : variants) {
    SCOPED_TRACE(n);
    temp_dir dir;
    auto vfs = fault_vfs::install(fmt::format("journal-test-fail-{}", n++)).value();
    clocked clock;
    const journal_options o = clock.options(*vfs);
    const std::string path = dir.file(fmt::format("j{}.db", n));
    auto j = open_ok(path, o);
    ASSERT_TRUE(j);
    const leg_record a = make_leg("A", 0, at(10, 0, 0));
    ASSERT_TRUE(j->add_intent(make_intent("A", at(10, 0, 0)), std::span(&a, 1)));

    const leg_record b = make_leg("B", 0, at(10, 0, 1));
    if (v.sync) {
      vfs->fail_syncs(1, v.fault);
    } else {
      vfs->fail_writes(1, v.fault);
    }
    auto r = j->add_intent(make_intent("B", at(10, 0, 1)), std::span(&b, 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, error_kind::internal);
    EXPECT_NE(r.error().message.find(v.message), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("add_intent B"), std::string::npos);
    EXPECT_EQ(j->intent("B").value(), std::nullopt);
    EXPECT_EQ(j->leg(b.client).value(), std::nullopt);
    EXPECT_TRUE(j->events_of("B").value().empty());
    EXPECT_EQ(j->unfinished_legs().value().size(), 1u);

    // After a response: the state change fails and the leg keeps its previous phase.
    leg_record a2 = a;
    a2.phase = leg_phase::accepted;
    a2.provider_ref = "SW-1";
    if (v.sync) {
      vfs->fail_syncs(1, v.fault);
    } else {
      vfs->fail_writes(1, v.fault);
    }
    ASSERT_FALSE(j->update_leg(a2, "201"));
    EXPECT_EQ(j->leg(a.client).value()->phase, leg_phase::planned);
    EXPECT_EQ(j->leg(a.client).value()->provider_ref, "");
    EXPECT_EQ(j->events_of("A").value().size(), 2u);

    // The disk recovers: the same writes go through.
    ASSERT_TRUE(j->add_intent(make_intent("B", at(10, 0, 1)), std::span(&b, 1)));
    ASSERT_TRUE(j->update_leg(a2, "201"));
    EXPECT_TRUE(j->integrity_ok().value());
    j.reset();
    ASSERT_TRUE(vfs->power_cycle(power_loss_mode::drop_unsynced, 1));
    j = open_ok(path, o);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->intents(10).value().size(), 2u);
    EXPECT_EQ(j->leg(a.client).value()->phase, leg_phase::accepted);
    EXPECT_EQ(j->events_of("B").value().size(), 2u);
    EXPECT_TRUE(j->integrity_ok().value());
  }
}

// Intent A journaled, then intent B's commit refused by a failed sync; the process dies and the
// power goes (`mode`, `seed`). After the reboot the journal is intact, A is in it, and neither B
// nor its leg is.
void expect_refused_commit_gone(fault_vfs& vfs, const std::string& path, const journal_options& o,
                                power_loss_mode mode, std::uint64_t seed) {
  auto j = open_ok(path, o);
  ASSERT_TRUE(j);
  const leg_record a = make_leg("A", 0, at(10, 0, 0));
  ASSERT_TRUE(j->add_intent(make_intent("A", at(10, 0, 0)), std::span(&a, 1)));
  const leg_record b = make_leg("B", 0, at(10, 0, 1));
  vfs.fail_syncs(1, io_fault::io_error);
  ASSERT_FALSE(j->add_intent(make_intent("B", at(10, 0, 1)), std::span(&b, 1)));
  vfs.kill_after(0);
  j.reset();
  EXPECT_TRUE(vfs.killed());
  ASSERT_TRUE(vfs.power_cycle(mode, seed));
  j = open_ok(path, o);
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->integrity_ok().value());
  EXPECT_TRUE(j->intent("A").value().has_value());
  EXPECT_EQ(j->leg(a.client).value()->client, a.client);
  EXPECT_EQ(j->intent("B").value(), std::nullopt);
  EXPECT_EQ(j->leg(b.client).value(), std::nullopt);
}

// A commit whose sync failed, then the power goes: what was not synced is gone after the reboot.
TEST(journal_faults, failed_sync_then_power_loss_loses_only_the_failed_write) {
  temp_dir dir;
  auto vfs = fault_vfs::install("journal-test-sync-loss").value();
  clocked clock;
  const journal_options o = clock.options(*vfs);
  expect_refused_commit_gone(*vfs, dir.file("j.db"), o, power_loss_mode::drop_unsynced, 7);
}

TEST(journal_faults, power_cycle_refuses_open_files) {
  temp_dir dir;
  auto vfs = fault_vfs::install("journal-test-open-files").value();
  journal_options o;
  o.vfs = vfs->name();
  auto j = open_ok(dir.file("j.db"), o);
  ASSERT_TRUE(j);
  EXPECT_FALSE(vfs->power_cycle(power_loss_mode::drop_unsynced, 1));
  j.reset();
  EXPECT_TRUE(vfs->power_cycle(power_loss_mode::drop_unsynced, 1));
}

// FAULTS.md 6: 50 intents in flight, the machine stops at a random write or sync, the unsynced
// writes are lost (all, a prefix, or a torn subset), the journal is reopened; repeated within a
// seed. Every add_intent / update_leg that returned success is there exactly; one that failed is
// there entirely or not at all; the file passes integrity_check.
class power_loss_run {
 public:
  enum class outcome : std::uint8_t { not_tried, add_unknown, added, update_unknown, updated };

  power_loss_run(const fault_vfs& vfs, std::string path) : path_(std::move(path)) {
    options_.vfs = vfs.name();
    options_.clock = [] { return at(10, 0, 0); };
    outcomes_.assign(intents, outcome::not_tried);
  }

  static constexpr int intents = 50;

  static std::string id(int i) { return fmt::format("I{:03}", i); }
  static std::vector<leg_record> legs(int i) {
    return {make_leg(id(i), 0, at(10, 0, 0)), make_leg(id(i), 1, at(10, 0, 0))};
  }
  static leg_record submitted(int i) {
    leg_record l = legs(i)[0];
    l.phase = leg_phase::submitting;
    l.provider_ref = fmt::format("R{}", i);
    return l;
  }

  std::unique_ptr<journal> open() {
    auto j = journal::open(path_, options_);
    EXPECT_TRUE(j) << j.error().message;
    return j ? std::move(*j) : nullptr;
  }

  // Adds intents from where the last round stopped until a write fails or all are in.
  void run_round(journal& j) {
    while (next_ < intents) {
      const int i = next_++;
      const auto l = legs(i);
      if (!j.add_intent(make_intent(id(i), at(10, 0, 0) + std::chrono::seconds(i)), l)) {
        outcomes_[i] = outcome::add_unknown;
        return;
      }
      outcomes_[i] = outcome::added;
      if (!j.update_leg(submitted(i), "sent")) {
        outcomes_[i] = outcome::update_unknown;
        return;
      }
      outcomes_[i] = outcome::updated;
    }
  }

  bool done() const { return next_ >= intents; }

  void verify(journal& j) const {
    auto ok = j.integrity_ok();
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(*ok);
    std::size_t present = 0;
    for (int i = 0; i < intents; ++i) {
      const outcome o = outcomes_[i];
      auto got = j.intent(id(i));
      ASSERT_TRUE(got) << got.error().message;
      auto got_legs = j.legs_of(id(i));
      ASSERT_TRUE(got_legs) << got_legs.error().message;
      auto events = j.events_of(id(i));
      ASSERT_TRUE(events) << events.error().message;
      if (!*got) {
        EXPECT_TRUE(o == outcome::not_tried || o == outcome::add_unknown) << id(i);
        EXPECT_TRUE(got_legs->empty()) << id(i);
        EXPECT_TRUE(events->empty()) << id(i);
        continue;
      }
      ++present;
      EXPECT_NE(o, outcome::not_tried) << id(i);
      const auto want = legs(i);
      ASSERT_EQ(got_legs->size(), want.size()) << id(i);
      EXPECT_TRUE(same_plan((*got_legs)[0], want[0])) << id(i);
      EXPECT_TRUE(same_plan((*got_legs)[1], want[1])) << id(i);
      EXPECT_EQ((*got_legs)[1].phase, leg_phase::planned);
      const leg_phase phase = (*got_legs)[0].phase;
      if (o == outcome::updated) {
        EXPECT_EQ(phase, leg_phase::submitting) << id(i);
      } else if (o != outcome::update_unknown) {
        EXPECT_EQ(phase, leg_phase::planned) << id(i);
      }
      const bool submitted_now = phase == leg_phase::submitting;
      EXPECT_EQ((*got_legs)[0].provider_ref, submitted_now ? fmt::format("R{}", i) : "");
      // The events went in the same transactions as the rows.
      EXPECT_EQ(events->size(), submitted_now ? 4u : 3u) << id(i);
    }
    auto all = j.intents(1000);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), present);
  }

 private:
  std::string path_;
  journal_options options_;
  std::vector<outcome> outcomes_;
  int next_ = 0;
};

TEST(journal_faults, power_loss_at_random_points_keeps_every_acknowledged_write) {
  temp_dir dir;
  auto vfs = fault_vfs::install("journal-test-power-loss").value();

  // How many writes and syncs a whole run takes, to spread the kill points over it.
  std::uint64_t calibration = 0;
  {
    power_loss_run run(*vfs, dir.file("calibration.db"));
    auto j = run.open();
    ASSERT_TRUE(j);
    const std::uint64_t before = vfs->operations();
    run.run_round(*j);
    ASSERT_TRUE(run.done());
    j.reset();
    calibration = vfs->operations() - before;
    ASSERT_GT(calibration, 100u);
  }

  const power_loss_mode modes[] = {power_loss_mode::drop_unsynced, power_loss_mode::keep_prefix,
                                   power_loss_mode::keep_subset};
  constexpr std::uint64_t seeds = 200;
  int kills = 0;
  for (std::uint64_t seed = 0; seed < seeds && !HasFailure(); ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937_64 rng(seed);
    const power_loss_mode mode = modes[seed % 3];
    const std::string path = dir.file(fmt::format("p{}.db", seed));
    power_loss_run run(*vfs, path);
    for (int round = 0; round < 4 && !run.done() && !HasFailure(); ++round) {
      auto j = run.open();
      ASSERT_TRUE(j);
      run.verify(*j);
      vfs->kill_after(rng() % (calibration + calibration / 4));
      run.run_round(*j);
      j.reset();  // a clean close unless the machine is dead by now
      kills += vfs->killed() ? 1 : 0;
      auto cycled = vfs->power_cycle(mode, rng());
      ASSERT_TRUE(cycled) << cycled.error().message;
    }
    auto j = run.open();
    ASSERT_TRUE(j);
    run.verify(*j);
    j.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  }
  // The kill points did land inside the runs.
  EXPECT_GT(kills, static_cast<int>(seeds / 2));
}

// `swaprouter journal`: the listing a user sees, from a journal the test writes.
class journal_command : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("swaprouter.db");
    auto j = open_ok(path_, clock_.options());
    ASSERT_TRUE(j);
    intent_record first = make_intent("I1", at(10, 0, 0));
    first.deadline.reset();
    leg_record l = make_leg("I1", 0, at(10, 0, 0));
    ASSERT_TRUE(j->add_intent(first, std::span(&l, 1)));
    clock_.now += 1s;
    l.phase = leg_phase::submitting;
    ASSERT_TRUE(j->update_leg(l, "sent"));
    l.phase = leg_phase::filled;
    l.provider_ref = "SW-1";
    l.provider_status = "success\x1b[31m";
    l.spend_filled = dec("500.25");
    l.spend_fee_filled = dec("1.25");
    l.receive_filled = dec("1999000.5");
    l.fee_filled = dec("0");
    l.updated_at = at(10, 0, 5, 120);
    ASSERT_TRUE(j->update_leg(l, "status success"));
    intent_record second = make_intent("I2", at(10, 1, 0));
    second.side = amount_side::receive;
    second.amount = dec("400000");
    second.max_spend = dec("101.5");
    ASSERT_TRUE(j->add_intent(second, {}));
  }

  int run(cli::journal_view_options o) {
    out_.str("");
    err_.str("");
    return cli::show_journal(o, out_, err_);
  }
  cli::journal_view_options options() const {
    cli::journal_view_options o;
    o.db = path_;
    return o;
  }

  temp_dir dir_;
  clocked clock_;
  std::string path_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(journal_command, lists_intents_newest_first_with_legs) {
  ASSERT_EQ(run(options()), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "intent I2  open  receive 400000 USDT -> COPM  min 3990000.000000000000000001  "
            "created 2026-11-21T10:01:00Z  max spend 101.5  deadline 2026-11-21T10:02:00Z  "
            "origin cli\n"
            "intent I1  open  spend 1000.5 USDT -> COPM  min 3990000.000000000000000001  "
            "created 2026-11-21T10:00:00Z  origin cli\n"
            "  leg 0.0  I1-0-0  filled  onek  USDT-COPM  spend 500.25 USDT -> COPM  min "
            "1995000.123456789012345678  quoted 123456789012345678.123456789012345678  quote q-1  "
            "ref SW-1  status success\\x1b[31m  spent 500.25 (fee 1.25 USDT included) received "
            "1999000.5 fee 0  deadline "
            "2026-11-21T10:00:30Z  updated 2026-11-21T10:00:05.120Z\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(journal_command, shows_one_intent_with_its_history) {
  auto o = options();
  o.intent = "I1";
  ASSERT_EQ(run(o), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_NE(text.find("intent I1  open"), std::string::npos) << text;
  EXPECT_NE(text.find("  leg 0.0  I1-0-0  filled"), std::string::npos) << text;
  EXPECT_NE(text.find("events:\n"
                      "  #1  2026-11-21T10:00:00Z  intent  spend 1000.5 USDT -> COPM"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  #3  2026-11-21T10:00:01Z  phase  I1-0-0  planned -> submitting: sent\n"
                      "  #4  2026-11-21T10:00:01Z  phase  I1-0-0  submitting -> filled: status "
                      "success\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("intent I2"), std::string::npos);
}

TEST_F(journal_command, json_has_the_same_content) {
  auto o = options();
  o.json = true;
  ASSERT_EQ(run(o), 0) << err_.str();
  auto doc = parse_json_text(out_.str(), "listing");
  ASSERT_TRUE(doc) << doc.error().message;
  const auto* intents = doc->member("intents");
  ASSERT_TRUE(intents);
  ASSERT_EQ(intents->items.size(), 2u);
  EXPECT_EQ(intents->items[0].member("id")->text, "I2");
  EXPECT_EQ(intents->items[0].member("max_spend")->text, "101.5");
  const json_value& first = intents->items[1];
  EXPECT_EQ(first.member("amount")->text, "1000.5");
  EXPECT_EQ(first.member("deadline")->type, json_value::kind::null);
  EXPECT_EQ(first.member("max_spend")->type, json_value::kind::null);
  const auto* legs = first.member("legs");
  ASSERT_TRUE(legs);
  ASSERT_EQ(legs->items.size(), 1u);
  EXPECT_EQ(legs->items[0].member("phase")->text, "filled");
  EXPECT_EQ(legs->items[0].member("quoted_receive")->text, "123456789012345678.123456789012345678");
  EXPECT_EQ(legs->items[0].member("provider_status")->text, "success\x1b[31m");
  EXPECT_EQ(legs->items[0].member("spend_fee_filled")->text, "1.25");

  o.intent = "I1";
  ASSERT_EQ(run(o), 0) << err_.str();
  auto one = parse_json_text(out_.str(), "intent");
  ASSERT_TRUE(one) << one.error().message;
  const auto* events = one->member("intent")->member("events");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->items.size(), 4u);
  EXPECT_EQ(events->items[3].member("detail")->text, "submitting -> filled: status success");
  EXPECT_EQ(events->items[3].member("seq")->text, "4");
}

TEST_F(journal_command, bad_journals_and_unknown_intents_exit_2_naming_the_file) {
  auto o = options();
  o.db = dir_.file("absent.db");
  EXPECT_EQ(run(o), 2);
  EXPECT_NE(err_.str().find(o.db), std::string::npos) << err_.str();
  EXPECT_FALSE(fs::exists(o.db));

  o.db = dir_.file("notes.txt");
  std::ofstream(o.db) << "not a database, just some text that is long enough to be a header\n";
  EXPECT_EQ(run(o), 2);
  EXPECT_NE(err_.str().find(o.db), std::string::npos) << err_.str();

  o.db = dir_.file("empty.db");
  std::ofstream(o.db).flush();
  EXPECT_EQ(run(o), 2);
  EXPECT_NE(err_.str().find("not a swaprouter journal"), std::string::npos) << err_.str();

  o = options();
  o.intent = "I404";
  EXPECT_EQ(run(o), 2);
  EXPECT_NE(err_.str().find("no intent I404 in " + path_), std::string::npos) << err_.str();
}

TEST_F(journal_command, an_empty_journal_says_so) {
  const std::string empty = dir_.file("fresh.db");
  { ASSERT_TRUE(open_ok(empty, journal_options{})); }
  auto o = options();
  o.db = empty;
  ASSERT_EQ(run(o), 0) << err_.str();
  EXPECT_EQ(out_.str(), "no intents in " + empty + "\n");
}

// FAULTS.md 24: a commit whose sync failed was refused, and the caller sent nothing for it. When
// its WAL frames reach the disk anyway (the sync failed, the writes did not) and the process dies
// before anything else is written, the reopened journal must not hold it: the engine would find
// an intent it never accepted and execute it on restart.
TEST(journal_faults, a_commit_refused_after_a_failed_sync_never_comes_back) {
  temp_dir dir;
  auto vfs = fault_vfs::install("journal-test-refused-commit").value();
  clocked clock;
  const journal_options o = clock.options(*vfs);
  // keep_prefix keeps every write made since the last sync for some seeds: the failed sync's
  // data on the disk after all.
  for (std::uint64_t seed = 0; seed < 24 && !HasFailure(); ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    expect_refused_commit_gone(*vfs, dir.file(fmt::format("r{}.db", seed)), o,
                               power_loss_mode::keep_prefix, seed);
  }
}

}  // namespace
}  // namespace swaprouter
