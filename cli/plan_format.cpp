#include "cli/plan_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "engine/json_write.hpp"

namespace swaprouter::cli {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string route_text(const planned_route& route) {
  std::string out;
  for (const auto& leg : route.legs) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}: {}->{}", leg.order.provider, leg.order.spend_asset,
                       leg.order.receive_asset);
  }
  return out;
}

// The oldest quote a route relies on, and the validity left on the first leg to expire.
struct route_times {
  milliseconds age{0};
  std::optional<milliseconds> remaining;
};

route_times times_of(const planned_route& route, wall_time now) {
  route_times t;
  for (const auto& leg : route.legs) {
    t.age = std::max(t.age, duration_cast<milliseconds>(now - leg.obtained_at));
    if (leg.valid_until) {
      const auto left = duration_cast<milliseconds>(*leg.valid_until - now);
      t.remaining = t.remaining ? std::min(*t.remaining, left) : left;
    }
  }
  return t;
}

std::string route_fees(const planned_route& route) {
  std::string out;
  for (const auto& leg : route.legs) {
    if (!out.empty()) out += " + ";
    out += fmt::format("{} {}", leg.fee.to_string(), leg.order.receive_asset);
  }
  return out;
}

decimal rate_of(const planned_route& route) {
  if (!route.spend.is_positive()) return {};
  return route.net.div(route.spend, rounding::down).value_or(decimal{});
}

std::string seconds_text(milliseconds ms) {
  return fmt::format("{}.{:03}s", ms.count() / 1000, std::abs(ms.count() % 1000));
}

}  // namespace

std::string format_plan_table(const swap_intent& intent, const plan& p, wall_time now) {
  std::string out = fmt::format(
      "intent: {} {} {} -> {}\n", intent.side == amount_side::spend ? "spend" : "receive",
      intent.amount.to_string(), intent.spend_asset, intent.receive_asset);
  if (p.ok()) {
    out += fmt::format("{:<4} {:<40} {:>18} {:>22} {:>20} {:>9} {:>9}  {}\n", "rank", "route",
                       "spend", "net receive", "effective rate", "age", "valid", "fees / limits");
    int rank = 0;
    for (const auto& route : p.routes) {
      const auto t = times_of(route, now);
      std::string notes = route_fees(route);
      if (!route.limits_hit.empty()) {
        notes += "; limits: ";
        for (std::size_t i = 0; i < route.limits_hit.size(); ++i) {
          notes += (i == 0 ? "" : ", ") + route.limits_hit[i];
        }
      }
      out += fmt::format("{:<4} {:<40} {:>18} {:>22} {:>20} {:>9} {:>9}  {}\n", ++rank,
                         route_text(route), route.spend.to_string(), route.net.to_string(),
                         rate_of(route).to_string(), seconds_text(t.age),
                         t.remaining ? seconds_text(*t.remaining) : "-", notes);
    }
    out += fmt::format("total: spend {} {}, receive {} {} (worst case {}), rate {}",
                       p.spend.to_string(), intent.spend_asset, p.net.to_string(),
                       intent.receive_asset, p.worst_net.to_string(), p.effective_rate.to_string());
    if (p.unspent.is_positive()) out += fmt::format(", unspent {}", p.unspent.to_string());
    out += "\n";
  } else {
    out += fmt::format("no plan: {}\n", p.failure.empty() ? "no route: no candidate" : p.failure);
  }
  if (!p.rejected.empty()) {
    out += "rejected:\n";
    for (const auto& r : p.rejected) out += fmt::format("  {:<40} {}\n", r.route, r.reason);
  }
  return out;
}

std::string format_plan_json(const swap_intent& intent, const plan& p, wall_time now) {
  json_out j;
  j.begin_object();
  j.key("intent");
  j.begin_object();
  j.field("side", intent.side == amount_side::spend ? "spend" : "receive");
  j.field("amount", intent.amount.to_string());
  j.field("from", intent.spend_asset);
  j.field("to", intent.receive_asset);
  j.end_object();
  j.key("ok");
  j.boolean(p.ok());
  if (!p.failure.empty()) j.field("failure", p.failure);
  j.key("routes");
  j.begin_array();
  int rank = 0;
  for (const auto& route : p.routes) {
    const auto t = times_of(route, now);
    j.begin_object();
    j.key("rank");
    j.integer(++rank);
    j.field("route", route_text(route));
    j.field("spend", route.spend.to_string());
    j.field("net_receive", route.net.to_string());
    j.field("worst_case_receive", route.worst_net.to_string());
    j.field("effective_rate", rate_of(route).to_string());
    j.key("quote_age_ms");
    j.integer(t.age.count());
    j.key("valid_for_ms");
    if (t.remaining) {
      j.integer(t.remaining->count());
    } else {
      j.null();
    }
    j.key("legs");
    j.begin_array();
    for (const auto& leg : route.legs) {
      j.begin_object();
      j.field("provider", leg.order.provider);
      j.field("direction", leg.order.direction_code);
      j.field("spend_asset", leg.order.spend_asset);
      j.field("receive_asset", leg.order.receive_asset);
      j.field("spend", leg.order.amount.to_string());
      j.field("gross", leg.gross.to_string());
      j.field("fee", leg.fee.to_string());
      j.field("net", leg.net.to_string());
      j.field("worst_net", leg.worst_net.to_string());
      j.key("firm");
      j.boolean(leg.firm);
      j.end_object();
    }
    j.end_array();
    j.key("limits_hit");
    j.begin_array();
    for (const auto& limit : route.limits_hit) j.str(limit);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.key("total");
  j.begin_object();
  j.field("spend", p.spend.to_string());
  j.field("net_receive", p.net.to_string());
  j.field("worst_case_receive", p.worst_net.to_string());
  j.field("unspent", p.unspent.to_string());
  j.field("effective_rate", p.effective_rate.to_string());
  j.key("fees");
  j.begin_array();
  for (const auto& fee : p.fees) {
    j.begin_object();
    j.field("asset", fee.asset);
    j.field("amount", fee.amount.to_string());
    j.end_object();
  }
  j.end_array();
  j.end_object();
  j.key("rejected");
  j.begin_array();
  for (const auto& r : p.rejected) {
    j.begin_object();
    j.field("route", r.route);
    j.field("reason", r.reason);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.take();
}

}  // namespace swaprouter::cli
