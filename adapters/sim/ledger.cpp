#include "adapters/sim/ledger.hpp"

namespace swaprouter::sim {
namespace {

result<void> check_amount(std::string_view what, std::string_view asset, decimal amount) {
  if (amount.is_negative()) {
    return fail(error_kind::invalid_argument, std::string(what) + " of " + std::string(asset) +
                                                  " with a negative amount " + amount.to_string());
  }
  return {};
}

std::unexpected<error> insufficient(std::string_view which, std::string_view asset, decimal have,
                                    decimal need) {
  return fail(error_kind::rejected, "insufficient " + std::string(which) + " " +
                                        std::string(asset) + ": have " + have.to_string() +
                                        ", need " + need.to_string());
}

}  // namespace

ledger::ledger(clock_fn clock) : clock_(std::move(clock)), created_at_(now()) {}

std::chrono::system_clock::time_point ledger::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

ledger_entry& ledger::entry(std::string_view asset) {
  auto it = entries_.find(asset);
  if (it == entries_.end()) {
    ledger_entry fresh;
    fresh.asset = std::string(asset);
    fresh.updated_at = created_at_;
    it = entries_.emplace(std::string(asset), std::move(fresh)).first;
  }
  return it->second;
}

result<void> ledger::set(std::string_view asset, decimal available, decimal frozen) {
  if (auto ok = check_amount("set", asset, available); !ok) return ok;
  if (auto ok = check_amount("set", asset, frozen); !ok) return ok;
  auto& e = entry(asset);
  e.available = available;
  e.frozen = frozen;
  e.updated_at = now();
  return {};
}

result<void> ledger::credit(std::string_view asset, decimal amount) {
  if (auto ok = check_amount("credit", asset, amount); !ok) return ok;
  auto& e = entry(asset);
  auto sum = e.available.checked_add(amount);
  if (!sum) return std::unexpected(sum.error());
  e.available = *sum;
  e.updated_at = now();
  return {};
}

result<void> ledger::debit(std::string_view asset, decimal amount) {
  if (auto ok = check_amount("debit", asset, amount); !ok) return ok;
  if (const auto have = balance(asset).available; have < amount) {
    return insufficient("available", asset, have, amount);
  }
  auto& e = entry(asset);
  e.available -= amount;
  e.updated_at = now();
  return {};
}

result<void> ledger::freeze(std::string_view asset, decimal amount) {
  if (auto ok = check_amount("freeze", asset, amount); !ok) return ok;
  if (const auto have = balance(asset).available; have < amount) {
    return insufficient("available", asset, have, amount);
  }
  auto& e = entry(asset);
  auto frozen = e.frozen.checked_add(amount);
  if (!frozen) return std::unexpected(frozen.error());
  e.available -= amount;
  e.frozen = *frozen;
  e.updated_at = now();
  return {};
}

result<void> ledger::unfreeze(std::string_view asset, decimal amount) {
  if (auto ok = check_amount("unfreeze", asset, amount); !ok) return ok;
  if (const auto have = balance(asset).frozen; have < amount) {
    return insufficient("frozen", asset, have, amount);
  }
  auto& e = entry(asset);
  auto available = e.available.checked_add(amount);
  if (!available) return std::unexpected(available.error());
  e.frozen -= amount;
  e.available = *available;
  e.updated_at = now();
  return {};
}

result<void> ledger::debit_frozen(std::string_view asset, decimal amount) {
  if (auto ok = check_amount("debit_frozen", asset, amount); !ok) return ok;
  if (const auto have = balance(asset).frozen; have < amount) {
    return insufficient("frozen", asset, have, amount);
  }
  auto& e = entry(asset);
  e.frozen -= amount;
  e.updated_at = now();
  return {};
}

ledger_entry ledger::balance(std::string_view asset) const {
  auto it = entries_.find(asset);
  if (it != entries_.end()) return it->second;
  ledger_entry none;
  none.asset = std::string(asset);
  none.updated_at = created_at_;
  return none;
}

std::vector<ledger_entry> ledger::entries() const {
  std::vector<ledger_entry> out;
  out.reserve(entries_.size());
  for (const auto& [asset, e] : entries_) out.push_back(e);
  return out;
}

}  // namespace swaprouter::sim
