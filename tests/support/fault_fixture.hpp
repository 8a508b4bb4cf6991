// The world every FAULTS.md scenario runs in: the four provider emulators of a scenario over
// loopback TLS (cli::fleet) with their fault hooks, the real adapters (cli::connect_venues), a
// SQLite journal in a file, the executor, and captured output (event lines, spdlog, metrics text,
// status JSON). check_invariants() checks I1-I5 after a scenario.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sim/fault.hpp"
#include "cli/fleet.hpp"
#include "engine/executor.hpp"
#include "engine/journal.hpp"
#include "engine/quote_book.hpp"
#include "tests/support/run_task.hpp"

namespace swaprouter::testing {

/// Every credential of the fault scenarios contains this text; I4 looks for it everywhere.
inline constexpr std::string_view sentinel_marker = "SENTINEL-SECRET-";

/// The default fault scenario: all four providers with sentinel credentials ("SENTINEL-SECRET-1"
/// ..."-8"), fixed prices, no latency. onek: USDT-USDC, USDT-COPM, USDT-BTC; kiiex: USDT-COPM;
/// stablestack: USDT-USDC; oxapay: USDT-BTC. Fills take 200 ms.
std::string_view fault_scenario_yaml();

/// One swap as a provider's /_sim/ledger shows it.
using provider_swap = cli::emulator_swap;

class fault_world {
 public:
  /// Loads `yaml` (then applies `tweak` to the scenario), opens the journal file in a fresh
  /// temporary directory named after `name`, and captures spdlog output.
  explicit fault_world(std::string name, std::string_view yaml = fault_scenario_yaml(),
                       std::function<void(sim::scenario&)> tweak = {});
  ~fault_world();
  fault_world(const fault_world&) = delete;
  fault_world& operator=(const fault_world&) = delete;

  /// Starts the emulators and connects an adapter to each.
  void start();

  boost::asio::io_context& io() noexcept { return io_; }
  /// Runs `work` on the io_context until it completes; rethrows its exception.
  template <class T>
  T run(boost::asio::awaitable<T> work) {
    return test_support::run_task(io_, std::move(work));
  }
  /// Lets the emulators' timers run for `d`.
  void run_for(std::chrono::milliseconds d);

  cli::running_provider& provider(std::string_view name);
  /// The running emulators.
  cli::fleet& emulators() { return *fleet_; }
  sim::market& market() { return *loaded_.market; }
  const sim::credential_config& credential(std::string_view name);
  /// Where an adapter of `name` connects: the emulator's port, trusting only the fleet's CA.
  http_endpoint endpoint(std::string_view name);
  /// Every venue, in fleet order.
  std::vector<venue*> venues();
  venue& venue_of(std::string_view name);
  /// A new adapter of `name` over its own connection pool, as connect_venues makes it.
  cli::simulated_venue fresh_venue(std::string_view name, const cli::adapter_tuning& tuning = {});
  /// Replaces the adapter of `name` by a fresh one built with `tuning`.
  void retune_venue(std::string_view name, const cli::adapter_tuning& tuning);
  /// The CA the emulators' certificates chain to.
  const cert_authority& ca();
  /// Replaces the adapter of `name`, e.g. one built with other options or clocks.
  void replace_venue(std::string_view name, std::unique_ptr<http_client> http,
                     std::unique_ptr<venue> v);

  journal& records() { return *journal_; }
  const std::filesystem::path& journal_path() const { return journal_path_; }
  /// Closes the journal file and opens it again (with `o`, e.g. a fault-injecting VFS).
  void reopen_journal(const journal_options& o = {});
  /// Closes the journal file (e.g. before a simulated power loss); reopen_journal opens it.
  void close_journal() { journal_.reset(); }
  /// A process restart: new adapters (sessions, budgets, clock offsets), the journal reopened.
  /// Executors of before must be gone.
  void restart(const journal_options& o = {});

  /// Tunables the scenarios start from (short backoffs and windows); options.book is book().
  execution_options options;
  /// The quote book every plan goes through, as in the bot: it moves provider times to our
  /// clock with each provider's clock offset.
  quote_book& book() { return book_; }
  /// The sink every executor of this world reports to: one captured log line per event, also
  /// logged through spdlog, counted in metrics and kept for the status page.
  event_sink sink();
  std::unique_ptr<executor> make_executor(execution_options o);
  std::unique_ptr<executor> make_executor() { return make_executor(options); }

  intent_record intent(std::string id, std::string spend = "USDT", std::string receive = "USDC",
                       std::string amount = "100", std::string min_receive = "90");
  /// Quotes and plans `i` at `provider` only (every venue when empty); expects a plan unless
  /// `may_fail` (e.g. while a provider's circuit is open).
  quoted_plan plan(const intent_record& i, std::string_view provider, bool may_fail = false);
  /// Plans at `provider` and executes with every venue available for re-plans.
  execution_result execute(intent_record i, std::string_view provider);
  execution_result execute(executor& exec, intent_record i, std::string_view provider);

  void fault(std::string_view provider, std::string route, sim::fault f);
  /// A fault for the next matching request only.
  static sim::fault once(sim::fault_kind kind, std::string method = "POST",
                         bool run_handler = false);
  /// Requests `provider` received on `route` (a pattern) with `method`.
  std::size_t requests(std::string_view provider, std::string_view route,
                       std::string_view method = "POST");
  /// The provider's swaps from its ledger.
  std::vector<provider_swap> swaps(std::string_view provider);
  /// The route pattern of `provider`'s create and status calls.
  static std::string create_route(std::string_view provider);
  static std::string status_route(std::string_view provider);
  static std::string status_method(std::string_view provider);

  /// Every phase a leg went through, in order, from the journal's events.
  std::vector<leg_phase> phases_of(const client_id& client);
  /// Journal events of `kind` of every intent.
  std::vector<journal_event> events(std::string_view kind);

  /// Captured output: event lines and spdlog lines.
  std::string logs() const;
  /// The metrics text and the status JSON the bot would serve now.
  std::string metrics_text();
  std::string status_json();

  /// I1-I5 after a scenario (gtest failures naming the invariant). `tracked`: legs a tracker is
  /// still following (I5 accepts them without an alarm).
  void check_invariants(const std::set<client_id>& tracked = {});
  /// I4 alone: no sentinel in logs, journal file, metrics or status.
  void check_no_sentinel();

 private:
  struct capture;

  std::string name_;
  boost::asio::io_context io_;
  cli::loaded_scenario loaded_;
  std::optional<cli::fleet> fleet_;
  std::vector<cli::simulated_venue> venues_;
  std::filesystem::path dir_;
  std::filesystem::path journal_path_;
  std::unique_ptr<journal> journal_;
  std::shared_ptr<capture> capture_;
  quote_book book_;
};

}  // namespace swaprouter::testing
