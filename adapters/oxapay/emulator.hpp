// The OxaPay emulator: the server side of the OxaPay wire format (adapters/oxapay/wire.hpp) on
// the shared emulator server, priced from the simulated market.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/sim/emulator.hpp"
#include "adapters/sim/ledger.hpp"
#include "adapters/sim/market.hpp"
#include "adapters/sim/scenario.hpp"
#include "adapters/sim/server.hpp"
#include "engine/venue.hpp"

namespace swaprouter::oxapay {

/// OxaPay specifics of the emulator; the scenario's `providers.oxapay.oxapay` block overrides
/// them (settings_for, docs/scenario.md).
struct emulator_settings {
  /// Pairs one GET /general/swap/pairs page holds; 0: every pair on page 1. The document states
  /// no page size.
  int pairs_page_size = 0;
};

/// The defaults with the overrides of `config.oxapay` applied. Pure.
emulator_settings settings_for(const sim::provider_config& config);

/// Serves the OxaPay API under /v1 on `server`, authenticated by the general_api_key header
/// (401 otherwise), every answer in the documented envelope {data, message, error, status,
/// version} with status mirroring HTTP: GET /general/swap/pairs (list + meta, min_amount from the
/// direction's min_spend or min_spend_usd, ?page= over pages of settings.pairs_page_size),
/// POST /general/swap/rate, POST /general/swap/calculate, POST /general/swap (executes at once
/// at the current rate and moves the balances; 400 for below-minimum, insufficient balance, same
/// or unknown currency, with error.key naming the field), GET /general/swap history (filters and
/// paging) and GET /general/account/balance (?currency=). Amounts are JSON numbers. The rate is
/// units of to per 1 from: the mid rate less the spread and the fee. 429 with Retry-After beyond
/// the scenario's rate_limits (keys are routes without /v1, e.g. "/general/swap/calculate").
///
/// Admin: GET /_sim/ledger. Thread-safety and lifetime as onek::emulator.
class emulator final : public sim::provider_emulator {
 public:
  emulator(boost::asio::any_io_executor executor, sim::server& server, sim::market& market,
           sim::provider_config config, sim::emulator_options options = {},
           emulator_settings settings = {});

  std::string ledger_json() const override;
  /// Number of swaps executed.
  std::size_t swap_count() const;
  sim::ledger& account();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace swaprouter::oxapay
