// `swaprouter check FILE`: validates an engine configuration (docs/config.md).
#include "config/check.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"

namespace swaprouter::cli {

subcommand add_check_command(CLI::App& parent) {
  auto path = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand(
      "check",
      "Validate a configuration file: print 'ok' and a summary, or every error as "
      "FILE:LINE:COLUMN: KEY.PATH: MESSAGE (exit 2)");
  app->add_option("file", *path, "Configuration file (docs/config.md)")->required();
  return subcommand{app, [path] { return config::check_config(*path, std::cout, std::cerr); }};
}

}  // namespace swaprouter::cli
