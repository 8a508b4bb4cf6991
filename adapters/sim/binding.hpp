// How an emulator's state is reached from its server's routes, the same for every provider.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/sim/fault.hpp"
#include "adapters/sim/server.hpp"
#include "adapters/sim/timers.hpp"

namespace swaprouter::sim {

/// The server's routes hold an emulator (`Impl`, shared-owned, with `timer_set timers_`,
/// `std::optional<sim_response> before_route(const sim_request&, std::string_view)` and
/// `std::string ledger_json() const`) by a weak reference: once it is stopped or gone, every
/// route answers `stopped`, the provider's own 503. Copyable; used from the server's executor.
template <class Impl>
class emulator_binding {
 public:
  emulator_binding(std::weak_ptr<Impl> self, sim_response stopped)
      : self_(std::move(self)), stopped_(std::move(stopped)) {}

  /// The emulator while it serves; nullptr once it stopped or is gone.
  std::shared_ptr<Impl> live() const {
    auto self = self_.lock();
    return self && !self->timers_.stopped() ? self : nullptr;
  }

  /// The provider's answer while stopped.
  const sim_response& stopped() const { return stopped_; }

  /// A route handler calling `handler` on the live emulator.
  route_handler bind(sim_response (Impl::*handler)(const sim_request&)) const {
    return [binding = *this, handler](const sim_request& request) {
      auto self = binding.live();
      return self ? ((*self).*handler)(request) : binding.stopped_;
    };
  }

  /// What every emulator wires alike: its authentication and limits before each route, its
  /// ledger under /_sim/ledger and the scenario's fault rules.
  void install(server& s, const std::vector<fault_rule>& faults) const {
    s.set_before_route([binding = *this](const sim_request& request,
                                         std::string_view pattern) -> std::optional<sim_response> {
      auto self = binding.live();
      if (!self) return binding.stopped_;
      return self->before_route(request, pattern);
    });
    s.set_ledger([self = self_] {
      auto live = self.lock();
      return live ? live->ledger_json() : std::string("{}");
    });
    for (const auto& rule : faults) s.faults().set(rule.route, rule.value);
  }

 private:
  std::weak_ptr<Impl> self_;
  sim_response stopped_;
};

}  // namespace swaprouter::sim
