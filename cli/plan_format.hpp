// How `swaprouter quote` shows a plan: a table for people, JSON for programs.
#pragma once

#include <string>

#include "engine/router.hpp"

namespace swaprouter::cli {

/// The plan as a table: one row per route (rank, route, spend, net receive, effective rate, fees,
/// limits hit, quote age, remaining validity), the totals, then every rejected candidate with
/// its reason. Times are relative to `now` (provider clock).
std::string format_plan_table(const swap_intent& intent, const plan& p, wall_time now);

/// The same content as one JSON object; amounts are exact decimal strings.
std::string format_plan_json(const swap_intent& intent, const plan& p, wall_time now);

}  // namespace swaprouter::cli
