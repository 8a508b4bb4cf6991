#include "engine/execution.hpp"

#include <fmt/format.h>

#include <utility>

#include "engine/redact.hpp"

namespace swaprouter {

namespace {

// Journals the settlement of a leg about to be `next` (filled or partially filled) and alarms a
// partial fill or a settlement outside the tolerance of its quote.
void settle(execution_log& log, const leg_record& leg, leg_phase next) {
  log.note(
      leg.intent_id, leg.client, "settled",
      fmt::format("spent {} {}{} received {} {} fee {} quoted {}", leg.spend_filled.to_string(),
                  leg.spend_asset, spend_fee_included(leg), leg.receive_filled.to_string(),
                  leg.receive_asset, leg.fee_filled.to_string(), leg.quoted_receive.to_string()));
  if (next == leg_phase::partially_filled) {
    log.alarm(leg, fmt::format("partial fill: spent {} of {}", leg.spend_filled.to_string(),
                               leg.amount.to_string()));
    return;
  }
  const decimal hundred = decimal::from_int(100);
  const decimal allowed =
      leg.quoted_receive.mul_div(log.options().settle_tolerance_percent, hundred, rounding::down)
          .value_or(decimal{});
  const decimal gap = (leg.receive_filled - leg.quoted_receive).abs();
  // What the account paid against the amount the plan gave the leg: a fee charged in the spend
  // asset on top of it was not in the quote, and the intent spent more than its amount.
  if (gap > allowed || (leg.side == amount_side::spend && leg.spend_filled != leg.amount)) {
    log.alarm(leg, fmt::format("settlement outside tolerance: received {} for quoted {}, spent {} "
                               "of {}",
                               leg.receive_filled.to_string(), leg.quoted_receive.to_string(),
                               leg.spend_filled.to_string(), leg.amount.to_string()));
  }
}

}  // namespace

venue_directory::venue_directory(std::span<venue* const> venues)
    : all_(venues.begin(), venues.end()) {
  for (venue* v : all_) by_id_.emplace(std::string(v->id()), v);
}

venue* venue_directory::find(std::string_view provider) const {
  const auto it = by_id_.find(provider);
  return it == by_id_.end() ? nullptr : it->second;
}

leg_phase phase_of(leg_state state) noexcept {
  switch (state) {
    case leg_state::filled:
      return leg_phase::filled;
    case leg_state::partially_filled:
      return leg_phase::partially_filled;
    case leg_state::expired:
      return leg_phase::expired;
    case leg_state::cancelled:
      return leg_phase::cancelled;
    case leg_state::failed:
      return leg_phase::failed;
    case leg_state::open:
    case leg_state::unrecognised:
      return leg_phase::open;
  }
  return leg_phase::open;
}

std::string spend_fee_included(const leg_record& leg) {
  if (leg.spend_fee_filled.is_zero()) return {};
  return fmt::format(" (fee {} {} included)", leg.spend_fee_filled.to_string(), leg.spend_asset);
}

swap_intent planner_intent(const intent_record& intent) {
  swap_intent out;
  out.spend_asset = intent.spend_asset;
  out.receive_asset = intent.receive_asset;
  out.side = intent.side;
  out.amount = intent.amount;
  out.min_receive = intent.min_receive;
  out.max_spend = intent.max_spend;
  out.deadline = intent.deadline;
  return out;
}

decimal net_received(const leg_status& status, int receive_precision) {
  const decimal net = status.receive_filled - status.fee_filled;
  if (net.is_negative()) return decimal{};
  return net.round(receive_precision, rounding::down);
}

execution_log::execution_log(journal& j, event_sink sink, execution_options options)
    : journal_(j), sink_(std::move(sink)), options_(std::move(options)), rng_(options_.seed) {}

bool execution_log::set_phase(leg_record& leg, leg_phase phase, std::string_view cause) {
  leg.phase = phase;
  return save(leg, cause);
}

bool execution_log::save(leg_record& leg, std::string_view raw_cause) {
  // Provider text may echo a credential back (FAULTS.md 22): blanked before it is written.
  const std::string cause = redact(raw_cause);
  leg.provider_status = redact(leg.provider_status);
  leg.updated_at = std::chrono::system_clock::now();
  auto written = journal_.update_leg(leg, cause);
  report(leg.intent_id, leg.client, "phase", fmt::format("{}: {}", to_string(leg.phase), cause));
  if (!written) {
    broken_ = true;
    report(leg.intent_id, leg.client, "alarm",
           "journal write failed, no new submissions: " + describe(written.error()));
    return false;
  }
  return true;
}

void execution_log::alarm(const leg_record& leg, std::string_view detail) {
  note(leg.intent_id, leg.client, "alarm", detail);
}

void execution_log::alarm(std::string_view intent_id, std::string_view detail) {
  note(intent_id, {}, "alarm", detail);
}

void execution_log::note(std::string_view intent_id, std::string_view client, std::string_view kind,
                         std::string_view raw_detail) {
  const std::string detail = redact(raw_detail);
  auto written = journal_.add_event(intent_id, client, kind, detail);
  report(intent_id, client, kind, detail);
  if (!written) {
    broken_ = true;
    report(intent_id, client, "alarm",
           "journal write failed, no new submissions: " + describe(written.error()));
  }
}

void execution_log::report(std::string_view intent_id, std::string_view client,
                           std::string_view kind, std::string_view detail) {
  if (!sink_) return;
  execution_event e;
  e.time = std::chrono::system_clock::now();
  e.intent_id = std::string(intent_id);
  e.client = std::string(client);
  e.kind = std::string(kind);
  e.detail = redact(detail);
  sink_(e);
}

void execution_log::set_intent_state(std::string_view intent_id, std::string_view state,
                                     std::string_view raw_cause) {
  const std::string cause = redact(raw_cause);
  auto written = journal_.set_intent_state(intent_id, state, cause);
  report(intent_id, {}, "intent", fmt::format("{}: {}", state, cause));
  if (!written) {
    broken_ = true;
    report(intent_id, {}, "alarm",
           "journal write failed, no new submissions: " + describe(written.error()));
  }
}

void execution_log::apply(leg_record& leg, const leg_status& status, int receive_precision) {
  const leg_phase next = phase_of(status.state);
  if (is_final(leg.phase)) {
    if (next != leg.phase) {
      alarm(leg,
            fmt::format("provider answers {} ({}) for a leg already {}: kept",
                        to_string(status.state), status.provider_status, to_string(leg.phase)));
    }
    return;
  }
  bool changed = false;
  if (leg.provider_ref.empty() && !status.ref.provider_ref.empty()) {
    leg.provider_ref = status.ref.provider_ref;
    changed = true;
  }
  if (leg.provider_status != status.provider_status) {
    leg.provider_status = status.provider_status;
    changed = true;
    if (status.state == leg_state::unrecognised) {
      alarm(leg, fmt::format("unrecognised provider status {}: treated as open",
                             status.provider_status));
    }
  }
  if (!is_final(next)) {
    if (leg.phase != next) {
      set_phase(leg, next, fmt::format("provider status {}", status.provider_status));
    } else if (changed) {
      save(leg, fmt::format("provider status {}", status.provider_status));
    }
    return;
  }
  leg.spend_filled = status.spend_filled;
  leg.spend_fee_filled = status.spend_fee_filled;
  leg.receive_filled = net_received(status, receive_precision);
  leg.fee_filled = status.fee_filled;
  const std::string cause =
      status.reason_code.empty()
          ? fmt::format("provider status {}", status.provider_status)
          : fmt::format("provider status {} ({})", status.provider_status, status.reason_code);
  // The settlement and its alarms are journaled before the final phase: a restart never applies
  // a final leg again, so a process that died between the writes would leave them unwritten.
  if (next == leg_phase::filled || next == leg_phase::partially_filled) {
    settle(*this, leg, next);
  }
  set_phase(leg, next, cause);
}

void execution_log::crash_point(std::string_view point) const {
  if (options_.crash) options_.crash(point);
}

std::chrono::milliseconds execution_log::jittered(std::chrono::milliseconds base) {
  const auto spread = base.count() * options_.jitter_percent / 100;
  if (spread <= 0) return base;
  std::uniform_int_distribution<std::int64_t> draw(base.count() - spread, base.count() + spread);
  return std::chrono::milliseconds(draw(rng_));
}

}  // namespace swaprouter
