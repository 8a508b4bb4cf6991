// The subcommands of the `swaprouter` command. Each registers its options on the CLI11 app and
// returns what runs it, so main() only parses and dispatches; a new subcommand (quote, check,
// run, bench) adds one add_*_command function here and one call in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace swaprouter::cli {

/// Exit codes shared by every subcommand.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;   ///< a run-time failure (a port in use, I/O)
inline constexpr int exit_usage = 2;     ///< bad command line or configuration input
inline constexpr int exit_no_route = 3;  ///< `quote`: no admissible route

/// Registers the required --from and --to options of a pair on `app`, each checked as an asset
/// code (2 to 12 upper-case letters or digits, as in the configuration): anything else is bad
/// input (exit 2), never quoted or sent.
void add_pair_options(CLI::App& app, std::string& from, std::string& to);

/// Registers --spend (an exact amount to spend) and --receive (an exact net amount to receive,
/// for the least spend), exactly one of which must be given; answers the --receive option.
CLI::Option* add_amount_options(CLI::App& app, std::string& spend, std::string& receive);

/// A registered subcommand: its CLI11 node and the function that runs it after parsing.
struct subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// `swaprouter simulate [--scenario FILE] [--plain]`: starts every implemented provider emulator
/// on loopback per the scenario and runs until SIGINT or SIGTERM.
subcommand add_simulate_command(CLI::App& parent);

/// `swaprouter quote --from A --to B (--spend X | --receive Y) [--simulate [--scenario FILE]]
/// [--json]`: fans out to every provider, plans the best route and prints it.
subcommand add_quote_command(CLI::App& parent);

/// `swaprouter check FILE`: validates an engine configuration; prints "ok" and a summary (exit 0)
/// or every error as FILE:LINE:COLUMN: KEY.PATH: MESSAGE (exit 2).
subcommand add_check_command(CLI::App& parent);

/// `swaprouter journal [--db FILE] [--json] [--intent ID] [--limit N]`: the journal's intents
/// and legs, or one intent's event history, read-only (cli/journal.cpp).
subcommand add_journal_command(CLI::App& parent);

/// `swaprouter bench quotes [--scenario FILE] [--providers a,b] [--duration 30s] [--rate N]
/// [--json] [--plot FILE.png] [--ca FILE]`: quote latency against the emulators (cli/bench.cpp).
subcommand add_bench_command(CLI::App& parent);

/// `swaprouter swap --from A --to B --spend X [--min-receive Y] [--deadline 60s] [--simulate
/// [--scenario FILE]] [--db FILE] [--json]`: reconciles the journal's unfinished legs, then plans,
/// executes and tracks one swap, printing each step and the result (cli/swap.cpp). Exit 0 only
/// when filled. SWAPROUTER_CRASH_AT=<hook point> exists for the fault tests only.
subcommand add_swap_command(CLI::App& parent);

/// `swaprouter run FILE [--duration 60s] [--simulate [--scenario FILE]] [--db FILE]`: the bot
/// (cli/run.cpp): runs the strategy file's strategies until SIGINT/SIGTERM or --duration and
/// prints a summary.
subcommand add_run_command(CLI::App& parent);

}  // namespace swaprouter::cli
