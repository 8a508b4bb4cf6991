#include "tests/support/memory_journal.hpp"

#include <algorithm>

namespace swaprouter::testing {

result<void> memory_journal::writable() const {
  if (fail_writes) return fail(error_kind::internal, "memory journal: write refused (test)");
  return {};
}

void memory_journal::append(std::string_view intent_id, std::string_view client,
                            std::string_view kind, std::string_view detail) {
  journal_event e;
  e.seq = static_cast<std::int64_t>(events_.size()) + 1;
  e.time = std::chrono::system_clock::now();
  e.intent_id = std::string(intent_id);
  e.client = std::string(client);
  e.kind = std::string(kind);
  e.detail = std::string(detail);
  events_.push_back(std::move(e));
}

result<void> memory_journal::add_intent(const intent_record& intent,
                                        std::span<const leg_record> legs) {
  if (auto ok = writable(); !ok) return ok;
  for (const auto& i : intents_) {
    if (i.id == intent.id) return fail(error_kind::invalid_argument, "duplicate intent");
  }
  intents_.push_back(intent);
  append(intent.id, {}, "intent", "added");
  return add_legs(legs);
}

result<void> memory_journal::add_legs(std::span<const leg_record> legs) {
  if (auto ok = writable(); !ok) return ok;
  for (const auto& l : legs) {
    if (std::any_of(legs_.begin(), legs_.end(),
                    [&](const leg_record& have) { return have.client == l.client; })) {
      return fail(error_kind::invalid_argument, "duplicate client id " + l.client);
    }
  }
  for (const auto& l : legs) {
    legs_.push_back(l);
    phases_[l.client].push_back(l.phase);
    append(l.intent_id, l.client, "leg", to_string(l.phase));
  }
  return {};
}

result<void> memory_journal::update_leg(const leg_record& leg, std::string_view cause) {
  if (auto ok = writable(); !ok) return ok;
  for (auto& have : legs_) {
    if (have.client != leg.client) continue;
    if (have.phase != leg.phase) phases_[leg.client].push_back(leg.phase);
    have = leg;
    append(leg.intent_id, leg.client, "phase",
           std::string(to_string(leg.phase)) + ": " + std::string(cause));
    return {};
  }
  return fail(error_kind::not_found, "no leg " + leg.client);
}

result<void> memory_journal::set_intent_state(std::string_view intent_id, std::string_view state,
                                              std::string_view cause) {
  if (auto ok = writable(); !ok) return ok;
  for (auto& i : intents_) {
    if (i.id != intent_id) continue;
    i.state = std::string(state);
    append(intent_id, {}, "state", std::string(state) + ": " + std::string(cause));
    return {};
  }
  return fail(error_kind::not_found, "no intent");
}

result<void> memory_journal::add_event(std::string_view intent_id, std::string_view client,
                                       std::string_view kind, std::string_view detail) {
  if (auto ok = writable(); !ok) return ok;
  append(intent_id, client, kind, detail);
  return {};
}

result<std::optional<intent_record>> memory_journal::intent(std::string_view id) {
  for (const auto& i : intents_) {
    if (i.id == id) return std::optional<intent_record>(i);
  }
  return std::optional<intent_record>{};
}

result<std::vector<intent_record>> memory_journal::intents(std::size_t limit) {
  std::vector<intent_record> out(intents_.rbegin(), intents_.rend());
  if (out.size() > limit) out.resize(limit);
  return out;
}

result<std::vector<intent_record>> memory_journal::open_intents() {
  std::vector<intent_record> out;
  for (const auto& i : intents_) {
    if (i.state == "open") out.push_back(i);
  }
  return out;
}

result<std::vector<leg_record>> memory_journal::legs_of(std::string_view intent_id) {
  std::vector<leg_record> out;
  for (const auto& l : legs_) {
    if (l.intent_id == intent_id) out.push_back(l);
  }
  return out;
}

result<std::optional<leg_record>> memory_journal::leg(std::string_view client) {
  for (const auto& l : legs_) {
    if (l.client == client) return std::optional<leg_record>(l);
  }
  return std::optional<leg_record>{};
}

result<std::optional<leg_record>> memory_journal::leg_by_ref(std::string_view provider,
                                                            std::string_view provider_ref) {
  for (const auto& l : legs_) {
    if (l.provider == provider && l.provider_ref == provider_ref) {
      return std::optional<leg_record>(l);
    }
  }
  return std::optional<leg_record>{};
}

result<std::vector<leg_record>> memory_journal::unfinished_legs() {
  std::vector<leg_record> out;
  for (const auto& l : legs_) {
    if (!is_final(l.phase)) out.push_back(l);
  }
  return out;
}

result<std::vector<journal_event>> memory_journal::events_of(std::string_view intent_id) {
  std::vector<journal_event> out;
  for (const auto& e : events_) {
    if (e.intent_id == intent_id) out.push_back(e);
  }
  return out;
}

std::vector<leg_phase> memory_journal::phases_of(std::string_view client) const {
  const auto it = phases_.find(std::string(client));
  return it == phases_.end() ? std::vector<leg_phase>{} : it->second;
}

std::vector<journal_event> memory_journal::events(std::string_view kind) const {
  std::vector<journal_event> out;
  for (const auto& e : events_) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

}  // namespace swaprouter::testing
