#include "engine/callback.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/json_read.hpp"

namespace swaprouter {

std::string_view to_string(callback_verdict verdict) noexcept {
  switch (verdict) {
    case callback_verdict::hint:
      return "hint";
    case callback_verdict::duplicate:
      return "duplicate";
    case callback_verdict::too_large:
      return "too_large";
    case callback_verdict::not_allowed:
      return "not_allowed";
    case callback_verdict::unparseable:
      return "unparseable";
    case callback_verdict::unknown_leg:
      return "unknown_leg";
    case callback_verdict::settled_leg:
      return "settled_leg";
    case callback_verdict::rate_limited:
      return "rate_limited";
    case callback_verdict::unknown_provider:
      return "unknown_provider";
  }
  return "unknown";
}

callback_gate::callback_gate(executor& exec, callback_options options,
                             std::function<clock::time_point()> now)
    : exec_(exec), options_(std::move(options)), now_(std::move(now)) {}

void callback_gate::add_provider(std::string provider, callback_parser parser) {
  parsers_[std::move(provider)] = std::move(parser);
}

std::size_t callback_gate::count(callback_verdict verdict) const {
  const auto it = counts_.find(verdict);
  return it == counts_.end() ? 0 : it->second;
}

bool callback_gate::take_one_of_the_second(std::deque<clock::time_point>& taken) {
  const auto now = now_();
  while (!taken.empty() && now - taken.front() >= std::chrono::seconds(1)) taken.pop_front();
  if (static_cast<int>(taken.size()) >= options_.hints_per_second) return false;
  taken.push_back(now);
  return true;
}

callback_verdict callback_gate::refuse(callback_verdict verdict, std::string_view provider,
                                       std::string_view detail, const leg_record* leg) {
  ++counts_[verdict];
  // A flood of refusals must not become a flood of journal transactions and log lines: at most
  // hints_per_second are reported per second, the rest only counted (and summed in the next).
  if (!take_one_of_the_second(recent_reports_)) {
    ++unreported_;
    return verdict;
  }
  std::string line = fmt::format("callback from {} refused ({}): {}", excerpt(provider),
                                 to_string(verdict), detail);
  if (unreported_ > 0) {
    line += fmt::format(" ({} more refused before it, not reported)", unreported_);
    unreported_ = 0;
  }
  // Journaled only when it concerns a leg of ours; anything else is noise an attacker controls.
  if (leg != nullptr) {
    exec_.log().note(leg->intent_id, leg->client, "security", line);
  } else {
    exec_.log().report({}, {}, "security", line);
  }
  return verdict;
}

callback_verdict callback_gate::receive(std::string_view provider, std::string_view remote_address,
                                        std::string_view body) {
  const auto parser = parsers_.find(provider);
  if (parser == parsers_.end()) {
    return refuse(callback_verdict::unknown_provider, provider, "no such provider");
  }
  if (!options_.allow.empty() && std::find(options_.allow.begin(), options_.allow.end(),
                                           remote_address) == options_.allow.end()) {
    return refuse(callback_verdict::not_allowed, provider,
                  fmt::format("address {} is not allowed", excerpt(remote_address, 64)));
  }
  if (body.size() > options_.max_body_bytes) {
    return refuse(callback_verdict::too_large, provider,
                  fmt::format("{} bytes, at most {}", body.size(), options_.max_body_bytes));
  }
  auto claimed = parser->second(body);
  if (!claimed) return refuse(callback_verdict::unparseable, provider, describe(claimed.error()));
  const client_id& client = claimed->ref.client;
  auto stored = client.empty() ? result<std::optional<leg_record>>(std::nullopt)
                               : exec_.log().records().leg(client);
  if (!stored || !*stored || (*stored)->provider != provider) {
    return refuse(callback_verdict::unknown_leg, provider,
                  fmt::format("no leg {} of ours at this provider", excerpt(client, 64)));
  }
  const leg_record& leg = **stored;
  if (!claimed->ref.provider_ref.empty() && !leg.provider_ref.empty() &&
      claimed->ref.provider_ref != leg.provider_ref) {
    return refuse(callback_verdict::unknown_leg, provider,
                  fmt::format("reference {} is not the leg's {}",
                              excerpt(claimed->ref.provider_ref, 64), leg.provider_ref),
                  &leg);
  }
  if (is_final(leg.phase)) {
    ++counts_[callback_verdict::settled_leg];
    return callback_verdict::settled_leg;
  }
  // One verifying fetch per distinct claim about a leg, however often it is repeated.
  // The claimed amounts are part of the claim, so a forged success cannot mute the real one.
  const std::string key =
      fmt::format("{}|{}|{}|{}|{}|{}", provider, client, excerpt(claimed->provider_status, 64),
                  claimed->spend_filled.to_string(), claimed->receive_filled.to_string(),
                  claimed->fee_filled.to_string());
  if (seen_.contains(key)) {
    ++counts_[callback_verdict::duplicate];
    return callback_verdict::duplicate;
  }
  if (!take_one_of_the_second(recent_hints_)) {
    return refuse(callback_verdict::rate_limited, provider, "too many callbacks", &leg);
  }
  seen_.insert(key);
  seen_order_.push_back(key);
  while (seen_order_.size() > options_.remember) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  ++counts_[callback_verdict::hint];
  exec_.log().report(leg.intent_id, leg.client, "callback",
                     fmt::format("callback claims {}: fetching the leg from the provider",
                                 excerpt(claimed->provider_status, 64)));
  exec_.hint(leg.client);
  return callback_verdict::hint;
}

}  // namespace swaprouter
