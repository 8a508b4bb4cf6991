// `swaprouter check FILE`: validates an engine configuration and reports the result.
#pragma once

#include <iosfwd>
#include <string>

#include "config/engine_config.hpp"

namespace swaprouter::config {

/// Loads `path` and prints either "ok" and describe() of it on `out` (exit code 0), or every
/// error on `err`, one per line as "FILE:LINE:COLUMN: KEY.PATH: MESSAGE" (exit code 2). Never
/// prints a credential's value. Thread-safe if the streams and `options.env` are.
int check_config(const std::string& path, std::ostream& out, std::ostream& err,
                 const load_options& options = {});

}  // namespace swaprouter::config
