#include "config/check.hpp"

#include <ostream>

namespace swaprouter::config {

int check_config(const std::string& path, std::ostream& out, std::ostream& err,
                 const load_options& options) {
  const load_result loaded = load_engine_config(path, options);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) err << e.what() << '\n';
    return 2;
  }
  out << "ok\n" << describe(loaded.config);
  return 0;
}

}  // namespace swaprouter::config
