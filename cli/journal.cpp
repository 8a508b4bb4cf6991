// `swaprouter journal`: lists what the journal holds, read-only.
#include "cli/journal.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "engine/execution.hpp"
#include "engine/journal.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::cli {
namespace {

// Journal text partly comes from providers (references, statuses, messages): control characters,
// C1 controls and invalid UTF-8 are escaped so that nothing reaches the terminal as a control
// sequence (FAULTS.md security rule 7). Valid UTF-8 text stays readable.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        out += fmt::format("\\x{:02x}", c);
      } else if (c == '\\') {
        out += "\\\\";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // The length of a valid UTF-8 sequence starting here, or 0.
    std::size_t n = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) low = 0xa0;   // overlong
      if (c == 0xed) high = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) low = 0x90;   // overlong
      if (c == 0xf4) high = 0x8f;  // beyond U+10FFFF
    }
    bool valid = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; valid && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      valid = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xbf);
    }
    const bool c1_control = valid && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
    if (!valid || c1_control) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string intent_line(const intent_record& i) {
  std::string out = fmt::format(
      "intent {}  {}  {} {} {} -> {}  min {}  created {}", printable(i.id), printable(i.state),
      to_string(i.side), i.amount.to_string(), printable(i.spend_asset), printable(i.receive_asset),
      i.min_receive.to_string(), format_iso_timestamp(i.created_at));
  if (i.max_spend) out += fmt::format("  max spend {}", i.max_spend->to_string());
  if (i.deadline) out += fmt::format("  deadline {}", format_iso_timestamp(*i.deadline));
  out += fmt::format("  origin {}", printable(i.origin));
  if (i.dry_run) out += "  dry-run";
  return out;
}

std::string leg_line(const leg_record& l) {
  std::string out = fmt::format(
      "  leg {}.{}  {}  {}  {}  {}  {} {} {} -> {}  min {}  quoted {}", l.index, l.attempt,
      printable(l.client), to_string(l.phase), printable(l.provider), printable(l.direction_code),
      to_string(l.side), l.amount.to_string(), printable(l.spend_asset), printable(l.receive_asset),
      l.min_receive.to_string(), l.quoted_receive.to_string());
  if (!l.quote_id.empty()) out += fmt::format("  quote {}", printable(l.quote_id));
  if (!l.provider_ref.empty()) out += fmt::format("  ref {}", printable(l.provider_ref));
  if (!l.provider_status.empty()) {
    out += fmt::format("  status {}", printable(l.provider_status));
  }
  if (!l.spend_filled.is_zero() || !l.receive_filled.is_zero() || !l.fee_filled.is_zero()) {
    out += fmt::format("  spent {}{} received {} fee {}", l.spend_filled.to_string(),
                       printable(spend_fee_included(l)), l.receive_filled.to_string(),
                       l.fee_filled.to_string());
  }
  if (l.deadline) out += fmt::format("  deadline {}", format_iso_timestamp(*l.deadline));
  out += fmt::format("  updated {}", format_iso_timestamp(l.updated_at));
  return out;
}

std::string event_line(const journal_event& e) {
  std::string out =
      fmt::format("  #{}  {}  {}", e.seq, format_iso_timestamp(e.time), printable(e.kind));
  if (!e.client.empty()) out += fmt::format("  {}", printable(e.client));
  out += fmt::format("  {}", printable(e.detail));
  return out;
}

void optional_time(json_out& j, std::string_view key, const std::optional<wall_time>& t) {
  j.key(key);
  if (t) {
    j.time(*t);
  } else {
    j.null();
  }
}

void write_leg(json_out& j, const leg_record& l) {
  j.begin_object();
  j.field("client", l.client);
  j.key("index");
  j.integer(l.index);
  j.key("attempt");
  j.integer(l.attempt);
  j.field("phase", to_string(l.phase));
  j.key("final");
  j.boolean(is_final(l.phase));
  j.field("provider", l.provider);
  j.field("direction", l.direction_code);
  j.field("spend_asset", l.spend_asset);
  j.field("receive_asset", l.receive_asset);
  j.field("side", to_string(l.side));
  j.field("amount", l.amount.to_string());
  j.field("min_receive", l.min_receive.to_string());
  j.field("quoted_receive", l.quoted_receive.to_string());
  j.field("quote_id", l.quote_id);
  optional_time(j, "deadline", l.deadline);
  j.field("provider_ref", l.provider_ref);
  j.field("provider_status", l.provider_status);
  j.field("spend_filled", l.spend_filled.to_string());
  j.field("spend_fee_filled", l.spend_fee_filled.to_string());
  j.field("receive_filled", l.receive_filled.to_string());
  j.field("fee_filled", l.fee_filled.to_string());
  j.key("updated_at");
  j.time(l.updated_at);
  j.end_object();
}

// The intent's fields and legs; the caller closes the object (after the events, for --intent).
void write_intent_open(json_out& j, const intent_record& i, const std::vector<leg_record>& legs) {
  j.begin_object();
  j.field("id", i.id);
  j.field("state", i.state);
  j.field("side", to_string(i.side));
  j.field("spend_asset", i.spend_asset);
  j.field("receive_asset", i.receive_asset);
  j.field("amount", i.amount.to_string());
  j.field("min_receive", i.min_receive.to_string());
  j.key("max_spend");
  j.str_or_null(i.max_spend ? i.max_spend->to_string() : std::string());
  j.key("created_at");
  j.time(i.created_at);
  optional_time(j, "deadline", i.deadline);
  j.key("dry_run");
  j.boolean(i.dry_run);
  j.field("origin", i.origin);
  j.key("legs");
  j.begin_array();
  for (const auto& l : legs) write_leg(j, l);
  j.end_array();
}

int read_failure(std::ostream& err, const error& e) {
  err << "swaprouter journal: " << e.message << "\n";
  return exit_failure;
}

}  // namespace

int show_journal(const journal_view_options& options, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!std::filesystem::exists(options.db, ec)) {
    err << fmt::format("swaprouter journal: {}: no such journal file (--db FILE)\n", options.db);
    return exit_usage;
  }
  journal_options open_options;
  open_options.read_only = true;
  auto opened = journal::open(options.db, open_options);
  if (!opened) {
    err << "swaprouter journal: " << opened.error().message << "\n";
    return exit_usage;
  }
  journal& jr = **opened;

  if (!options.intent.empty()) {
    auto found = jr.intent(options.intent);
    if (!found) return read_failure(err, found.error());
    if (!*found) {
      err << fmt::format("swaprouter journal: no intent {} in {}\n", printable(options.intent),
                         options.db);
      return exit_usage;
    }
    auto legs = jr.legs_of(options.intent);
    if (!legs) return read_failure(err, legs.error());
    auto events = jr.events_of(options.intent);
    if (!events) return read_failure(err, events.error());
    if (options.json) {
      json_out j;
      j.begin_object();
      j.key("intent");
      write_intent_open(j, **found, *legs);
      j.key("events");
      j.begin_array();
      for (const auto& e : *events) {
        j.begin_object();
        j.key("seq");
        j.integer(e.seq);
        j.key("time");
        j.time(e.time);
        j.field("client", e.client);
        j.field("kind", e.kind);
        j.field("detail", e.detail);
        j.end_object();
      }
      j.end_array();
      j.end_object();
      j.end_object();
      out << j.take() << "\n";
      return exit_ok;
    }
    out << intent_line(**found) << "\n";
    for (const auto& l : *legs) out << leg_line(l) << "\n";
    out << "events:\n";
    for (const auto& e : *events) out << event_line(e) << "\n";
    return exit_ok;
  }

  auto intents = jr.intents(options.limit);
  if (!intents) return read_failure(err, intents.error());
  std::vector<std::vector<leg_record>> legs;
  for (const auto& i : *intents) {
    auto l = jr.legs_of(i.id);
    if (!l) return read_failure(err, l.error());
    legs.push_back(std::move(*l));
  }
  if (options.json) {
    json_out j;
    j.begin_object();
    j.key("intents");
    j.begin_array();
    for (std::size_t k = 0; k < intents->size(); ++k) {
      write_intent_open(j, (*intents)[k], legs[k]);
      j.end_object();
    }
    j.end_array();
    j.end_object();
    out << j.take() << "\n";
    return exit_ok;
  }
  if (intents->empty()) {
    out << fmt::format("no intents in {}\n", options.db);
    return exit_ok;
  }
  for (std::size_t k = 0; k < intents->size(); ++k) {
    out << intent_line((*intents)[k]) << "\n";
    for (const auto& l : legs[k]) out << leg_line(l) << "\n";
  }
  if (intents->size() == options.limit) {
    out << fmt::format("(the newest {}; --limit N for more)\n", options.limit);
  }
  return exit_ok;
}

subcommand add_journal_command(CLI::App& parent) {
  auto options = std::make_shared<journal_view_options>();
  CLI::App* app = parent.add_subcommand(
      "journal",
      "List the journal's intents (newest first) with their legs, states and amounts, or one "
      "intent's legs and full event history (--intent). Read-only. Exit 2 when the journal is "
      "missing or unreadable or the intent unknown.");
  app->add_option("--db", options->db,
                  "Journal file (default: swaprouter-journal.db in the working directory)");
  app->add_flag("--json", options->json, "Print JSON");
  app->add_option("--intent", options->intent, "Show this intent's legs and event history");
  app->add_option("--limit", options->limit, "How many of the newest intents to list (50)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  return subcommand{app, [options] { return show_journal(*options, std::cout, std::cerr); }};
}

}  // namespace swaprouter::cli
