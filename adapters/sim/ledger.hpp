// One provider account's balances as an emulator keeps them: available and frozen per asset.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.hpp"
#include "engine/result.hpp"

namespace swaprouter::sim {

/// The balance of one asset in a ledger.
struct ledger_entry {
  std::string asset;
  decimal available;
  decimal frozen;
  std::chrono::system_clock::time_point updated_at{};
};

/// The balances of one provider account, in exact decimals. Every operation refuses to take a
/// balance below zero (error kind `rejected`, nothing changed) and refuses a negative amount
/// (`invalid_argument`); a successful operation stamps the asset's updated_at from the ledger's
/// clock. An emulator freezes what an open swap will spend, then either debits it from frozen
/// (filled) or unfreezes it (failed), and credits what the swap delivers.
///
/// Not thread-safe: use it from one executor.
class ledger {
 public:
  using clock_fn = std::function<std::chrono::system_clock::time_point()>;

  /// `clock` gives the emulator's wall time for updated_at; system_clock::now when empty.
  explicit ledger(clock_fn clock = {});

  /// Sets the balance of `asset` outright (scenario start, admin API); both must be >= 0.
  result<void> set(std::string_view asset, decimal available, decimal frozen = {});
  /// Adds `amount` to available.
  result<void> credit(std::string_view asset, decimal amount);
  /// Removes `amount` from available.
  result<void> debit(std::string_view asset, decimal amount);
  /// Moves `amount` from available to frozen.
  result<void> freeze(std::string_view asset, decimal amount);
  /// Moves `amount` from frozen back to available.
  result<void> unfreeze(std::string_view asset, decimal amount);
  /// Removes `amount` from frozen (a filled swap spends what it froze).
  result<void> debit_frozen(std::string_view asset, decimal amount);

  /// The balance of `asset`; zero (with updated_at of the ledger's creation) when never touched.
  ledger_entry balance(std::string_view asset) const;
  /// Every asset the ledger has touched, sorted by code.
  std::vector<ledger_entry> entries() const;

 private:
  std::chrono::system_clock::time_point now() const;
  ledger_entry& entry(std::string_view asset);

  clock_fn clock_;
  std::chrono::system_clock::time_point created_at_;
  std::map<std::string, ledger_entry, std::less<>> entries_;
};

}  // namespace swaprouter::sim
