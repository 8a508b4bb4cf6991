// The `swaprouter` command: parses the command line and runs one subcommand.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  namespace cli = swaprouter::cli;
  CLI::App app{
      "swaprouter: converts one currency into another at the best net rate across "
      "custodial swap providers"};
  app.require_subcommand(1);
  std::vector<cli::subcommand> commands;
  commands.push_back(cli::add_simulate_command(app));
  commands.push_back(cli::add_quote_command(app));
  commands.push_back(cli::add_check_command(app));
  commands.push_back(cli::add_journal_command(app));
  commands.push_back(cli::add_bench_command(app));
  commands.push_back(cli::add_swap_command(app));
  commands.push_back(cli::add_run_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? cli::exit_ok : cli::exit_usage;
  }
  try {
    for (auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swaprouter: %s\n", e.what());
    return cli::exit_failure;
  }
  return cli::exit_usage;
}
