// An in-memory journal for executor and tracker tests: the engine/journal.hpp interface without
// SQLite, with a switch that makes every write fail (FAULTS.md 24).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/journal.hpp"

namespace swaprouter::testing {

class memory_journal final : public journal {
 public:
  result<void> add_intent(const intent_record& intent, std::span<const leg_record> legs) override;
  result<void> add_legs(std::span<const leg_record> legs) override;
  result<void> update_leg(const leg_record& leg, std::string_view cause) override;
  result<void> set_intent_state(std::string_view intent_id, std::string_view state,
                                std::string_view cause) override;
  result<void> add_event(std::string_view intent_id, std::string_view client, std::string_view kind,
                         std::string_view detail) override;
  result<std::optional<intent_record>> intent(std::string_view id) override;
  result<std::vector<intent_record>> intents(std::size_t limit) override;
  result<std::vector<intent_record>> open_intents() override;
  result<std::vector<leg_record>> legs_of(std::string_view intent_id) override;
  result<std::optional<leg_record>> leg(std::string_view client) override;
  result<std::optional<leg_record>> leg_by_ref(std::string_view provider,
                                                std::string_view provider_ref) override;
  result<std::vector<leg_record>> unfinished_legs() override;
  result<std::vector<journal_event>> events_of(std::string_view intent_id) override;
  result<bool> integrity_ok() override { return true; }

  /// Every write fails while set.
  bool fail_writes = false;
  /// Every phase a leg went through, in order.
  std::vector<leg_phase> phases_of(std::string_view client) const;
  /// Events of `kind` across all intents.
  std::vector<journal_event> events(std::string_view kind) const;

 private:
  result<void> writable() const;
  void append(std::string_view intent_id, std::string_view client, std::string_view kind,
              std::string_view detail);

  std::vector<intent_record> intents_;
  std::vector<leg_record> legs_;  // in insertion order
  std::vector<journal_event> events_;
  std::map<std::string, std::vector<leg_phase>> phases_;
};

}  // namespace swaprouter::testing
