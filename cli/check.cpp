// `swaprouter check FILE`: validates an engine configuration or a strategy file (docs/config.md,
// docs/strategies.md).
#include "config/check.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "strategies/strategy_file.hpp"

namespace swaprouter::cli {

subcommand add_check_command(CLI::App& parent) {
  auto path = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand(
      "check",
      "Validate a configuration file: print 'ok' and a summary, or every error as "
      "FILE:LINE:COLUMN: KEY.PATH: MESSAGE (exit 2)");
  app->add_option("file", *path, "Configuration file (docs/config.md)")->required();
  return subcommand{app, [path] {
                      // A strategy file is the engine configuration plus strategies: and risk:.
                      auto sections = std::make_shared<strategies::strategy_sections>();
                      const int code =
                          config::check_config(*path, std::cout, std::cerr,
                                               strategies::with_strategy_sections(sections));
                      if (code == 0 && !sections->strategies.empty()) {
                        std::cout << strategies::describe(*sections);
                      }
                      return code;
                    }};
}

}  // namespace swaprouter::cli
