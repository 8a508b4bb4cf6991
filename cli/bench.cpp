// `swaprouter bench quotes`: quote latency end to end against the provider emulators (issue 9).
//
// The emulators run on their own thread (in-process, loopback TLS) or in another process
// (`--ca`: a running `swaprouter simulate` of the same scenario), so the measuring thread only
// does what the engine does: sign, send, parse, plan.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kiiex/client.hpp"
#include "adapters/kiiex/emulator.hpp"
#include "adapters/kiiex/parse.hpp"
#include "adapters/onek/client.hpp"
#include "adapters/onek/parse.hpp"
#include "adapters/oxapay/client.hpp"
#include "adapters/oxapay/parse.hpp"
#include "adapters/stablestack/client.hpp"
#include "adapters/stablestack/parse.hpp"
#include "cli/commands.hpp"
#include "cli/fleet.hpp"
#include "cli/providers.hpp"
#include "cli/session.hpp"
#include "engine/fanout.hpp"
#include "engine/hmac.hpp"
#include "engine/latency_histogram.hpp"
#include "engine/quoter.hpp"
#include "engine/router.hpp"

namespace swaprouter::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Bounds: a mistyped --duration or --rate cannot run for hours or fill the memory.
constexpr auto max_duration = std::chrono::seconds(600);
constexpr double max_rate = 2000.0;
constexpr std::size_t max_in_flight = 256;  // open loop: outstanding operations at most
constexpr std::uint64_t cpu_iterations = 20000;
constexpr auto cpu_time_budget = 2s;
constexpr double fanout_target_ms = 21.5;  // issue 6: p99 at 4 x 20 ms injected latency

struct bench_options {
  std::string scenario;
  std::string providers;
  std::string duration = "30s";
  double rate = 0;
  bool json = false;
  std::string plot;
  std::string ca;
  std::string config;
  std::string from = "USDT";
  std::string to = "USDC";
  std::string spend = "1000";
  bool fanout_only = false;
  bool onek_cached = false;
  std::uint64_t max_requests = 100000;
};

std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

double thread_cpu_seconds() {
  return std::chrono::duration<double>(thread_cpu_time()).count();
}

std::string load_average() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

// An http_client that keeps the last successful answer per method and path while recording is
// on: the canned provider payloads of the CPU figure are the emulators' own answers.
class recording_http_client final : public http_client {
 public:
  explicit recording_http_client(std::unique_ptr<http_client> inner) : inner_(std::move(inner)) {}

  asio::awaitable<result<http_response>> send(http_request request,
                                              clock_type::duration timeout) override {
    std::string key;
    if (recording_) key = request.method + " " + request.target.substr(0, request.target.find('?'));
    auto answer = co_await inner_->send(std::move(request), timeout);
    if (recording_ && answer && answer->status / 100 == 2) bodies_[key] = answer->body;
    co_return answer;
  }
  asio::awaitable<void> warm(std::size_t count) override { return inner_->warm(count); }
  http_client_stats stats() const override { return inner_->stats(); }
  const http_endpoint& endpoint() const override { return inner_->endpoint(); }

  void set_recording(bool on) { recording_ = on; }
  const std::map<std::string, std::string>& bodies() const { return bodies_; }

 private:
  std::unique_ptr<http_client> inner_;
  bool recording_ = false;
  std::map<std::string, std::string> bodies_;
};

// Where one provider listens and which key it takes: an emulator of the scenario (`config`), or
// a provider of an engine configuration (`settings`, --config).
struct provider_target {
  std::string name;
  std::string kind;  // onek, kiiex, stablestack or oxapay
  const sim::provider_config* config = nullptr;
  const config::provider_config* settings = nullptr;
  http_endpoint endpoint;
};

struct bench_venue {
  std::string name;
  std::string kind;
  std::unique_ptr<recording_http_client> http;
  // A configured provider's adapter, under `client`: the engine's view of it (its configured
  // assets and request budgets). Unset for an emulator, whose adapter is `client` itself.
  std::unique_ptr<venue> adapter;
  std::unique_ptr<venue> client;
  const config::provider_config* settings = nullptr;
  std::vector<direction> configured;  // the directions of a provider that lists none
};

// StableStack lists no directions: the scenario's or the configuration's are configured, as a
// deployment would.
std::vector<direction> configured_directions(const provider_target& target) {
  std::vector<direction> out;
  if (target.kind != "stablestack") return out;
  if (target.settings != nullptr) return configured_spec(*target.settings).directions;
  for (const auto& d : target.config->directions) {
    direction one;
    one.code = d.code();
    one.spend_asset = d.spend;
    one.receive_asset = d.receive;
    one.enabled = d.enabled;
    one.spend_precision = d.spend_precision.value_or(8);
    one.receive_precision = d.receive_precision.value_or(8);
    out.push_back(one);
  }
  return out;
}

std::unique_ptr<venue> make_bench_venue(const provider_target& target, http_client& http) {
  if (target.settings != nullptr) return make_adapter(http, configured_spec(*target.settings));
  const sim::credential_config* credential = swap_credential(*target.config);
  if (credential == nullptr) return nullptr;
  if (target.name == "onek") {
    // 001k's quote is its rate table, which the adapter caches for 10 s and refreshes inside the
    // documented 30/min budget of /swap-directions: a fan-out prices 001k from that table.
    return std::make_unique<onek::client>(http, credential->access_key,
                                          hmac_sha256(credential->secret));
  }
  if (target.name == "kiiex") {
    return std::make_unique<kiiex::client>(http, credential->access_key,
                                           std::to_string(kiiex::emulator_settings{}.user_id),
                                           hmac_sha256(credential->secret));
  }
  if (target.name == "stablestack") {
    stablestack::client_options options;
    options.directions = configured_directions(target);
    return std::make_unique<stablestack::client>(http, credential->access_key, options);
  }
  if (target.name == "oxapay")
    return std::make_unique<oxapay::client>(http, credential->access_key);
  return nullptr;
}

std::vector<bench_venue> connect(asio::any_io_executor executor,
                                 const std::vector<provider_target>& targets) {
  std::vector<bench_venue> out;
  for (const auto& target : targets) {
    bench_venue v;
    v.name = target.name;
    v.kind = target.kind;
    v.settings = target.settings;
    v.http = std::make_unique<recording_http_client>(make_http_client(executor, target.endpoint));
    v.client = make_bench_venue(target, *v.http);
    if (v.client && target.settings != nullptr) {
      v.adapter = std::move(v.client);
      v.client = configured_view(*v.adapter, *target.settings);
    }
    v.configured = configured_directions(target);
    if (v.client) out.push_back(std::move(v));
  }
  return out;
}

// ---- load generation ------------------------------------------------------------------------

// Three significant digits: a reported percentile is at most 0.1 % above its sample (20 us at
// 20 ms), as close as the reference clients' exact percentiles are compared with.
constexpr int bench_digits = 3;

struct load_result {
  latency_histogram latency{bench_digits};
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::uint64_t dropped = 0;  // open loop: intended sends not issued (max_in_flight reached)
  double seconds = 0;
  double cpu_seconds = 0;
  std::string last_error;
};

// One operation: true on success; a failure fills `why`.
using operation = std::function<task<bool>(std::string& why)>;

struct load_plan {
  clock_type::duration duration{};
  double rate = 0;  // 0: closed loop
  std::uint64_t max_count = 0;
  // Configured providers the operation asks: their budgets (documented or configured rate
  // limits) are kept, as the quote poller keeps them, so a real provider is never pushed to its
  // limit by a benchmark and a local refusal never counts as an answer.
  std::vector<venue*> budgets;
};

// How long until every budget of `plan` would take a quote.
clock_type::duration budget_wait(const load_plan& plan) {
  clock_type::duration wait{};
  for (venue* v : plan.budgets) wait = std::max(wait, v->poll_wait(poll_kind::prices, 0));
  // A budget that never refills (duration::max) must not overflow a timer.
  return std::min<clock_type::duration>(wait, 60s);
}

struct open_loop_state {
  load_result result;
  std::size_t in_flight = 0;
};

task<void> timed_call(operation op, std::shared_ptr<open_loop_state> state,
                      clock_type::time_point intended) {
  std::string why;
  bool ok = false;
  try {
    ok = co_await op(why);
  } catch (const std::exception& e) {
    why = e.what();
  }
  // Open loop: from the time the request was due, not from when it left. A stalled client or
  // server then shows up as latency of every request that should have been sent meanwhile;
  // measuring from the actual send would let a closed feedback loop hide the stall (coordinated
  // omission).
  const auto elapsed = clock_type::now() - intended;
  if (ok) {
    state->result.latency.record(elapsed);
    ++state->result.ok;
  } else {
    ++state->result.errors;
    state->result.last_error = why;
  }
  --state->in_flight;
}

task<load_result> drive(operation op, load_plan plan) {
  auto executor = co_await asio::this_coro::executor;
  const double cpu_before = thread_cpu_seconds();
  const auto start = clock_type::now();
  const auto stop = start + plan.duration;
  if (plan.rate <= 0) {
    // Closed loop, one operation at a time: the throughput a single sequential caller gets.
    load_result out;
    while (clock_type::now() < stop && out.ok + out.errors < plan.max_count) {
      // The wait for a budget is not the provider's latency: it is spent before the clock starts.
      if (const auto wait = budget_wait(plan); wait > clock_type::duration::zero()) {
        asio::steady_timer pause(executor, wait);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      std::string why;
      const auto sent = clock_type::now();
      const bool ok = co_await op(why);
      if (ok) {
        out.latency.record(clock_type::now() - sent);
        ++out.ok;
      } else {
        ++out.errors;
        out.last_error = why;
        // A failing provider answers at once: pause so a closed loop does not spin on it.
        asio::steady_timer pause(executor, 10ms);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    out.cpu_seconds = thread_cpu_seconds() - cpu_before;
    co_return out;
  }
  auto state = std::make_shared<open_loop_state>();
  asio::steady_timer timer(executor);
  const auto interval = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(1.0 / plan.rate));
  for (std::uint64_t i = 0; i < plan.max_count; ++i) {
    const auto intended = start + interval * static_cast<std::int64_t>(i);
    if (intended >= stop) break;
    timer.expires_at(intended);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // Not sent when too many are in flight, or when a budget would refuse it (the rate asked
    // is above what the provider allows).
    if (state->in_flight >= max_in_flight || budget_wait(plan) > clock_type::duration::zero()) {
      ++state->result.dropped;
      continue;
    }
    ++state->in_flight;
    asio::co_spawn(executor, timed_call(op, state, intended), asio::detached);
  }
  // Bounded drain: the operations' own timeouts end them; never wait longer than this.
  const auto drain_deadline = clock_type::now() + 15s;
  while (state->in_flight > 0 && clock_type::now() < drain_deadline) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  state->result.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  state->result.cpu_seconds = thread_cpu_seconds() - cpu_before;
  co_return std::move(state->result);
}

// ---- the fan-out ------------------------------------------------------------------------------

struct pair_key {
  std::string spend;
  std::string receive;
  auto operator<=>(const pair_key&) const = default;
};

// 001k's quote on the wire: a signed GET /swap-directions and its parse. The adapter would refuse
// more than its documented 30/min locally, so the round trip is timed below the adapter (the
// bench scenario lifts the emulator's limit).
struct onek_probe {
  http_client* http = nullptr;
  onek::request_builder builder;
};

task<bool> onek_quote_once(std::shared_ptr<onek_probe> probe, std::string& why) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  http_request request = probe->builder.swap_directions(now_ms);
  const clock_type::duration timeout = 10s;
  auto answer = co_await probe->http->send(std::move(request), timeout);
  if (!answer) {
    why = describe(answer.error());
    co_return false;
  }
  if (answer->status / 100 != 2) {
    why = describe(status_error(*answer));
    co_return false;
  }
  auto parsed = onek::parse_directions(answer->body);
  if (!parsed) why = describe(parsed.error());
  co_return parsed.has_value();
}

// 001k's model of `code` from a /swap-directions answer, as the adapter's pricing_for makes it.
result<pricing> onek_pricing_from(const result<http_response>& answer, const std::string& code) {
  if (!answer) return std::unexpected(answer.error());
  if (answer->status / 100 != 2) return std::unexpected(status_error(*answer));
  auto parsed = onek::parse_directions(answer->body);
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  for (const auto& d : *parsed) {
    if (d.code == code) return onek::pricing_of(d, std::chrono::system_clock::now());
  }
  return fail(error_kind::rejected, "onek: no direction " + code);
}

// The same on the wire, per fan-out. g++ 12 reports a false -Wmismatched-new-delete on Asio's
// awaitable frame allocator (aligned_new/aligned_delete are a matching pair) for this frame.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
task<result<pricing>> onek_pricing_once(std::shared_ptr<onek_probe> probe, std::string code) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  http_request request = probe->builder.swap_directions(now_ms);
  const clock_type::duration timeout = 10s;
  const auto answer = co_await probe->http->send(std::move(request), timeout);
  co_return onek_pricing_from(answer, code);
}
#pragma GCC diagnostic pop

// Which (provider, pair) to price per intent: the quote book's directions (fetched once, as the
// poller refreshes them slowly) decide it, so the decision path is one round of quotes.
struct fanout_context {
  std::vector<bench_venue>* venues = nullptr;
  std::vector<std::pair<std::size_t, quote_request>> calls;  // venue index, request
  swap_intent intent;
  planner_options planning;
  std::chrono::milliseconds deadline{2000};
  std::vector<pricing> last_models;  // of the last fan-out, for the CPU figure
  std::optional<plan> last_plan;
  // As quote_and_plan's with the quote book: each fan-out's new prices are planned over the
  // routes of the previous one's topology.
  route_cache routes;
  // When set, 001k is asked on the wire in every fan-out, as every other provider is.
  std::shared_ptr<onek_probe> onek_wire;
};

task<void> discover_pairs(fanout_context& ctx) {
  std::set<pair_key> wanted{{ctx.intent.spend_asset, ctx.intent.receive_asset}};
  std::vector<std::vector<direction>> listed(ctx.venues->size());
  std::set<std::string> from_first;
  std::set<std::string> into_last;
  for (std::size_t i = 0; i < ctx.venues->size(); ++i) {
    auto answer = co_await (*ctx.venues)[i].client->directions();
    if (!answer) {
      spdlog::warn("bench: {} lists no directions: {}", (*ctx.venues)[i].name,
                   describe(answer.error()));
      continue;
    }
    listed[i] = std::move(*answer);
    for (const auto& d : listed[i]) {
      if (!d.enabled) continue;
      if (d.spend_asset == ctx.intent.spend_asset) from_first.insert(d.receive_asset);
      if (d.receive_asset == ctx.intent.receive_asset) into_last.insert(d.spend_asset);
    }
  }
  if (ctx.planning.max_hops >= 2) {
    for (const auto& middle : from_first) {
      if (middle == ctx.intent.receive_asset || !into_last.contains(middle)) continue;
      wanted.insert({ctx.intent.spend_asset, middle});
      wanted.insert({middle, ctx.intent.receive_asset});
    }
  }
  for (std::size_t i = 0; i < listed.size(); ++i) {
    for (const auto& pair : wanted) {
      const bool served = std::any_of(listed[i].begin(), listed[i].end(), [&](const direction& d) {
        return d.enabled && d.spend_asset == pair.spend && d.receive_asset == pair.receive;
      });
      if (!served) continue;
      quote_request request{pair.spend, pair.receive, amount_side::spend, ctx.intent.amount};
      ctx.calls.emplace_back(i, request);
    }
  }
}

// One intent: every provider's quote at once, then the plan.
task<bool> fanout_once(fanout_context* ctx, std::string& why) {
  std::vector<fanout_call<pricing>> calls;
  calls.reserve(ctx->calls.size());
  for (const auto& [index, request] : ctx->calls) {
    venue* provider = (*ctx->venues)[index].client.get();
    const quote_request wanted = request;
    const std::string& name = (*ctx->venues)[index].name;
    if ((*ctx->venues)[index].kind == "onek" && ctx->onek_wire) {
      auto probe = ctx->onek_wire;
      std::string code = wanted.spend_asset + "-" + wanted.receive_asset;
      calls.push_back({name, [probe, code] { return onek_pricing_once(probe, code); }});
      continue;
    }
    calls.push_back({name, [provider, wanted] { return provider->pricing_for(wanted); }});
  }
  const auto deadline = clock_type::now() + ctx->deadline;
  auto answers = co_await fan_out(std::move(calls), deadline);
  std::vector<pricing> models;
  models.reserve(answers.size());
  for (auto& answer : answers) {
    if (answer.value) {
      models.push_back(std::move(*answer.value));
    } else {
      why = answer.provider + ": " + describe(answer.value.error());
    }
  }
  plan result =
      make_plan(ctx->intent, models, ctx->planning, std::chrono::system_clock::now(), ctx->routes);
  const bool ok = result.ok() && models.size() == answers.size();
  if (!result.ok()) why = "no plan: " + result.failure;
  ctx->last_models = std::move(models);
  ctx->last_plan = std::move(result);
  co_return ok;
}

task<bool> quote_and_plan_once(std::vector<venue*>* venues, swap_intent intent,
                               planner_options planning, std::string& why,
                               quote_book* book = nullptr) {
  const std::span<venue* const> all(*venues);
  const std::chrono::milliseconds deadline = 2000ms;
  auto answer = co_await quote_and_plan(all, intent, planning, deadline, book);
  if (!answer.result.ok()) why = "no plan: " + answer.result.failure;
  co_return answer.result.ok();
}

task<bool> quote_once(venue* provider, quote_request request, std::string& why) {
  auto answer = co_await provider->pricing_for(request);
  if (!answer) why = describe(answer.error());
  co_return answer.has_value();
}

// ---- the engine's CPU per decision, without I/O ------------------------------------------------

struct cpu_result {
  latency_histogram latency{bench_digits};  // wall time per decision: preemption included
  // This thread's CPU time per decision, the cost of reading that clock taken out: what the
  // decision itself costs, whatever else the machine runs.
  latency_histogram cpu{bench_digits};
  std::chrono::nanoseconds cpu_clock_read{};  // one read of the thread's CPU clock
  double cpu_seconds = 0;
  std::string skipped;  // why no figure, when none
  std::vector<std::string> parsed;
  // Where the time goes: mean CPU per call of each step alone.
  double parse_us = 0;
  std::vector<std::pair<std::string, double>> parse_each_us;  // per provider
  double plan_us = 0;
  // The plan step split as the quote book splits it: preparing the parsed quotes (once per
  // quote update there) and planning over the prepared market (once per intent).
  double prepare_us = 0;
  double plan_prepared_us = 0;
  double build_us = 0;
};

std::optional<std::string> body_of(const bench_venue& v, const std::string& key) {
  const auto& bodies = v.http->bodies();
  const auto it = bodies.find(key);
  if (it == bodies.end()) return std::nullopt;
  return it->second;
}

// Per provider: the canned payload of its quote and how the engine turns it into the planner's
// model: the adapter's own parse function, then the functions its venue prices with
// (pricing_for, or price() and venue::pricing_for's quote_pricing), with what came from
// configuration or earlier calls (markets, precisions, limits, fees) as the client holds it.
struct canned_quote {
  std::string provider;
  std::string body;
  std::function<result<pricing>(const std::string& body, wall_time now)> to_pricing;
};

std::vector<canned_quote> canned_quotes(const std::vector<bench_venue>& venues,
                                        const std::vector<pricing>& models,
                                        const swap_intent& intent) {
  std::vector<canned_quote> out;
  for (const auto& v : venues) {
    const auto model = std::find_if(models.begin(), models.end(), [&](const pricing& p) {
      return p.provider == v.name && p.spend_asset == intent.spend_asset &&
             p.receive_asset == intent.receive_asset;
    });
    if (model == models.end()) continue;
    const pricing& base = *model;
    // As quote_and_plan asks the pair whose amount the intent fixes.
    const decimal asked = intent.amount;
    canned_quote c;
    c.provider = v.name;
    if (v.kind == "onek") {
      auto body = body_of(v, "GET /api/v1/swap-directions");
      if (!body) continue;
      c.body = *body;
      // onek::client::pricing_for() over the directions just read.
      const auto max_age = std::chrono::duration_cast<wall_time::duration>(
          onek::client_options{}.directions_max_age);
      c.to_pricing = [spend = base.spend_asset, receive = base.receive_asset, max_age](
                         const std::string& text, wall_time now) -> result<pricing> {
        auto dirs = onek::parse_directions(text);
        if (!dirs) return std::unexpected(std::move(dirs.error()));
        return onek::pricing_for_pair(*dirs, spend, receive, now, max_age);
      };
    } else if (v.kind == "kiiex") {
      auto body = body_of(v, "POST /ap/GetL2Snapshot");
      auto instruments_body = body_of(v, "POST /ap/GetInstruments");
      auto products_body = body_of(v, "POST /ap/GetProducts");
      if (!body || !instruments_body || !products_body) continue;
      auto instruments = kiiex::parse_instruments(*instruments_body);
      auto products = kiiex::parse_products(*products_body);
      if (!instruments || !products) continue;
      std::optional<kiiex::market_info> market;
      std::optional<kiiex::wire::side> side;
      for (const auto& inst : *instruments) {
        kiiex::market_info m;
        m.inst = inst;
        for (const auto& p : *products) {
          if (p.product_id == inst.product1) m.base = p;
          if (p.product_id == inst.product2) m.quote = p;
        }
        m.fee_percent = base.fee_percent;
        for (const auto s : {kiiex::wire::side::buy, kiiex::wire::side::sell}) {
          if (kiiex::direction_code(m, s) == base.direction_code) {
            market = m;
            side = s;
          }
        }
      }
      if (!market) continue;
      c.body = *body;
      // kiiex::client::book_for() and pricing_for().
      c.to_pricing = [m = *market, s = *side](const std::string& text,
                                              wall_time now) -> result<pricing> {
        auto book = kiiex::parse_l2_snapshot(text, m.inst.instrument_id);
        if (!book) return std::unexpected(std::move(book.error()));
        return kiiex::pricing_of(m, s, std::move(*book), now,
                                 kiiex::client_options{}.quote_validity);
      };
    } else if (v.kind == "stablestack") {
      auto body = body_of(v, "POST /api/instant-swaps");
      const auto d =
          std::find_if(v.configured.begin(), v.configured.end(), [&](const direction& one) {
            return one.spend_asset == base.spend_asset && one.receive_asset == base.receive_asset;
          });
      if (!body || d == v.configured.end()) continue;
      c.body = *body;
      // stablestack::client::quote_call(), then venue::pricing_for().
      c.to_pricing = [spend = base.spend_asset, receive = base.receive_asset,
                      precision = d->receive_precision,
                      asked](const std::string& text, wall_time) -> result<pricing> {
        auto parsed = stablestack::parse_quote(text);
        if (!parsed) return std::unexpected(std::move(parsed.error()));
        auto q = stablestack::quote_of(std::move(*parsed), spend, receive, precision);
        if (!q) return std::unexpected(std::move(q.error()));
        return quote_pricing(std::move(*q), asked);
      };
    } else if (v.kind == "oxapay") {
      auto body = body_of(v, "POST /v1/general/swap/calculate");
      if (!body) continue;
      c.body = *body;
      // oxapay::client::price(), then venue::pricing_for().
      const int precision = oxapay::client_options{}.precision;
      c.to_pricing = [code = base.direction_code, spend = base.spend_asset,
                      receive = base.receive_asset, amount = asked.round(precision, rounding::down),
                      precision, asked](const std::string& text, wall_time now) -> result<pricing> {
        auto calc = oxapay::parse_calculation(text);
        if (!calc) return std::unexpected(std::move(calc.error()));
        return quote_pricing(
            oxapay::quote_of(code, spend, receive, amount, calc->to_amount, precision, now), asked);
      };
    }
    if (c.to_pricing) out.push_back(std::move(c));
  }
  return out;
}

// Builds and signs the order of the plan's first leg with its provider's request builder.
bool build_order(const planned_leg& leg, onek::request_builder& onek_builder,
                 kiiex::request_builder& kiiex_builder,
                 const stablestack::request_builder& stablestack_builder,
                 const oxapay::request_builder& oxapay_builder, std::int64_t now_ms) {
  const auto& order = leg.order;
  if (order.provider == "onek") {
    onek::open_params params;
    params.direction = order.direction_code;
    params.amount = order.amount;
    params.custom_id = "bench0000000001";
    return onek_builder.swap_open(params, now_ms).has_value();
  }
  if (order.provider == "kiiex") {
    kiiex::order_params params;
    params.quantity = order.amount;
    params.limit_price = decimal::from_int(1);
    params.client_order_id = now_ms;
    auto body = kiiex::request_builder::send_order_body(1, 9, params);
    if (!body) return false;
    auto request = kiiex_builder.call("SendOrder", *body, "bench-session-token");
    return !request.body.empty();
  }
  if (order.provider == "stablestack") {
    return stablestack_builder.swap(order.spend_asset, order.receive_asset, order.amount)
        .has_value();
  }
  if (order.provider == "oxapay") {
    return oxapay_builder.swap(order.spend_asset, order.receive_asset, order.amount).has_value();
  }
  return false;
}

cpu_result measure_decision_cpu(const std::vector<bench_venue>& venues, const fanout_context& ctx) {
  cpu_result out;
  const auto quotes = canned_quotes(venues, ctx.last_models, ctx.intent);
  if (quotes.empty()) {
    out.skipped = "no canned payloads were recorded";
    return out;
  }
  for (const auto& q : quotes) out.parsed.push_back(q.provider);
  // Signing keys are fixed demo values: the figure is the arithmetic, not the key.
  onek::request_builder onek_builder("bench-access-key", hmac_sha256("bench-secret"));
  kiiex::request_builder kiiex_builder("bench-api-key", "7", hmac_sha256("bench-secret"));
  const stablestack::request_builder stablestack_builder("bench-api-key", std::nullopt);
  const oxapay::request_builder oxapay_builder("bench-api-key");
  std::vector<pricing> models;
  models.reserve(quotes.size());
  // As quote_and_plan with the engine's quote book: the routes of the previous decision's
  // topology are reused, only the new prices are planned.
  route_cache routes;
  // Reading the thread's CPU clock is a system call (about 1 us on some virtual machines): its
  // cost is measured here and taken out of each decision's figure and of the mean.
  {
    constexpr int reads = 1000;
    const auto first = thread_cpu_time();
    for (int i = 1; i < reads; ++i) static_cast<void>(thread_cpu_time());
    out.cpu_clock_read = (thread_cpu_time() - first) / reads;
  }
  const double cpu_before = thread_cpu_seconds();
  auto cpu_mark = thread_cpu_time();
  const auto stop = clock_type::now() + cpu_time_budget;
  for (std::uint64_t i = 0; i < cpu_iterations && clock_type::now() < stop; ++i) {
    const auto started = clock_type::now();
    const auto now = std::chrono::system_clock::now();
    models.clear();
    for (const auto& q : quotes) {
      auto p = q.to_pricing(q.body, now);
      if (p) models.push_back(std::move(*p));
    }
    const plan chosen = make_plan(ctx.intent, models, ctx.planning, now, routes);
    if (chosen.ok() && !chosen.routes.front().legs.empty()) {
      const auto now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
      if (!build_order(chosen.routes.front().legs.front(), onek_builder, kiiex_builder,
                       stablestack_builder, oxapay_builder, now_ms)) {
        out.skipped = "the plan's order could not be built";
        return out;
      }
    }
    out.latency.record(clock_type::now() - started);
    const auto cpu_now = thread_cpu_time();
    out.cpu.record(std::max(std::chrono::nanoseconds(0), cpu_now - cpu_mark - out.cpu_clock_read));
    cpu_mark = cpu_now;
  }
  out.cpu_seconds = thread_cpu_seconds() - cpu_before -
                    std::chrono::duration<double>(out.cpu_clock_read).count() *
                        static_cast<double>(out.latency.count());

  const std::uint64_t steps = std::max<std::uint64_t>(1, out.latency.count() / 4);
  const auto now = std::chrono::system_clock::now();
  std::size_t sink = 0;
  double before = thread_cpu_seconds();
  for (std::uint64_t i = 0; i < steps; ++i) {
    models.clear();
    for (const auto& q : quotes) {
      auto p = q.to_pricing(q.body, now);
      if (p) models.push_back(std::move(*p));
    }
  }
  out.parse_us = (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps);
  for (const auto& q : quotes) {
    before = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < steps; ++i) sink += q.to_pricing(q.body, now).has_value();
    out.parse_each_us.emplace_back(
        q.provider, (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps));
  }
  before = thread_cpu_seconds();
  std::optional<plan> chosen;
  for (std::uint64_t i = 0; i < steps; ++i) {
    chosen = make_plan(ctx.intent, models, ctx.planning, now, routes);
    sink += chosen->routes.size();
  }
  out.plan_us = (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps);
  // Every decision parses new quotes, so what depends on their prices is part of it (make_plan
  // above redoes it over the route cache's topology); the book's probes between quote updates
  // pay only the second figure.
  before = thread_cpu_seconds();
  for (std::uint64_t i = 0; i < steps; ++i) {
    const prepared_market market(models);
    sink += market.quotes().size();
  }
  out.prepare_us = (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps);
  {
    const prepared_market market(models);
    sink += make_plan(ctx.intent, market, ctx.planning, now).routes.size();
    before = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < steps; ++i) {
      sink += make_plan(ctx.intent, market, ctx.planning, now).routes.size();
    }
    out.plan_prepared_us = (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps);
  }
  if (chosen && chosen->ok() && !chosen->routes.front().legs.empty()) {
    const auto& leg = chosen->routes.front().legs.front();
    before = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < steps; ++i) {
      sink += build_order(leg, onek_builder, kiiex_builder, stablestack_builder, oxapay_builder,
                          static_cast<std::int64_t>(i))
                  ? 1
                  : 0;
    }
    out.build_us = (thread_cpu_seconds() - before) * 1e6 / static_cast<double>(steps);
  }
  if (sink == 0) out.skipped = "no plan";
  return out;
}

// ---- the report -------------------------------------------------------------------------------

struct cold_figures {
  std::string provider;
  double connect_ms = -1;      // TCP connect + TLS handshake alone (warm(1) on a fresh pool)
  double first_quote_ms = -1;  // first quote on a fresh client: connect, TLS, login, metadata
  std::string error;
};

struct row {
  std::string name;
  std::string kind;  // "quote", "fanout", "quote_and_plan"
  load_result load;
};

struct report {
  std::string scenario;
  std::string mode;
  double rate = 0;
  double duration_s = 0;
  std::string load_before;
  std::string load_after;
  std::vector<row> rows;
  std::vector<cold_figures> cold;
  double cold_fanout_ms = -1;
  std::optional<cpu_result> cpu;
  std::string plan_summary;
  long rss_kb = 0;
  bool in_process = true;
  std::string config;  // --config: the engine configuration whose providers were measured
};

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string percentiles_json(const latency_histogram& h, double scale, const char* unit) {
  const auto v = [&](std::int64_t ns) { return static_cast<double>(ns) / scale; };
  return fmt::format(R"("p50_{0}":{1:.4f},"p90_{0}":{2:.4f},"p99_{0}":{3:.4f},"p999_{0}":{4:.4f},)"
                     R"("max_{0}":{5:.4f},"mean_{0}":{6:.4f},"min_{0}":{7:.4f})",
                     unit, v(h.percentile(50)), v(h.percentile(90)), v(h.percentile(99)),
                     v(h.percentile(99.9)), v(h.max()), h.mean() / scale, v(h.min()));
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const row* fanout_row(const report& r) {
  for (const auto& x : r.rows) {
    if (x.kind == "fanout") return &x;
  }
  return nullptr;
}

std::string to_json(const report& r) {
  std::string out = "{";
  out += fmt::format(R"("tool":"swaprouter bench quotes","scenario":{},"mode":"{}","rate":{},)",
                     json_string(r.scenario), r.mode, r.rate);
  out += fmt::format(R"("duration_s":{:.3f},"in_process_emulators":{},"cpus":{},)", r.duration_s,
                     r.in_process, std::thread::hardware_concurrency());
  if (!r.config.empty()) out += "\"config\":" + json_string(r.config) + ",";
  out += fmt::format(R"("load_before":"{}","load_after":"{}","rss_kb":{},)", r.load_before,
                     r.load_after, r.rss_kb);
  out += "\"results\":[";
  bool first = true;
  for (const auto& x : r.rows) {
    if (!first) out += ",";
    first = false;
    const auto& l = x.load;
    out += fmt::format(
        R"({{"name":{},"kind":"{}","count":{},"errors":{},"dropped":{},"seconds":{:.3f},)"
        R"("throughput_per_s":{:.2f},"cpu_ms_per_1000":{:.2f},{})",
        json_string(x.name), x.kind, l.ok, l.errors, l.dropped, l.seconds,
        l.seconds > 0 ? static_cast<double>(l.ok) / l.seconds : 0.0,
        l.ok > 0 ? l.cpu_seconds * 1e6 / static_cast<double>(l.ok) : 0.0,
        percentiles_json(l.latency, 1e6, "ms"));
    if (!l.last_error.empty()) out += ",\"last_error\":" + json_string(l.last_error);
    out += "}";
  }
  out += "],\"cold\":[";
  first = true;
  for (const auto& c : r.cold) {
    if (!first) out += ",";
    first = false;
    out += fmt::format(R"({{"provider":"{}","connect_tls_ms":{:.3f},"first_quote_ms":{:.3f})",
                       c.provider, c.connect_ms, c.first_quote_ms);
    if (!c.error.empty()) out += ",\"error\":" + json_string(c.error);
    out += "}";
  }
  out += fmt::format(R"(],"cold_fanout_ms":{:.3f})", r.cold_fanout_ms);
  if (r.cpu) {
    if (r.cpu->skipped.empty()) {
      const auto n = r.cpu->latency.count();
      out += fmt::format(
          R"(,"decision_cpu":{{"iterations":{},"cpu_us_mean":{:.3f},"parse_cpu_us":{:.3f},)"
          R"("plan_cpu_us":{:.3f},"prepare_cpu_us":{:.3f},"plan_prepared_cpu_us":{:.3f},)"
          R"("build_sign_cpu_us":{:.3f},"providers":{},{}}})",
          n, n > 0 ? r.cpu->cpu_seconds * 1e6 / static_cast<double>(n) : 0.0, r.cpu->parse_us,
          r.cpu->plan_us, r.cpu->prepare_us, r.cpu->plan_prepared_us, r.cpu->build_us,
          r.cpu->parsed.size(), percentiles_json(r.cpu->latency, 1e3, "us"));
      out.pop_back();  // reopen the object for the CPU percentiles and the per-provider figures
      out += ",\"cpu\":{" + percentiles_json(r.cpu->cpu, 1e3, "us") +
             fmt::format(R"(,"clock_read_us":{:.3f}}})",
                         static_cast<double>(r.cpu->cpu_clock_read.count()) / 1e3);
      out += ",\"parse_cpu_us_by_provider\":{";
      for (std::size_t i = 0; i < r.cpu->parse_each_us.size(); ++i) {
        out += fmt::format("{}\"{}\":{:.3f}", i == 0 ? "" : ",", r.cpu->parse_each_us[i].first,
                           r.cpu->parse_each_us[i].second);
      }
      out += "}}";
    } else {
      out += ",\"decision_cpu\":{\"skipped\":" + json_string(r.cpu->skipped) + "}";
    }
  }
  if (const row* f = fanout_row(r); f && f->load.ok > 0) {
    const double p99 = ms(f->load.latency.percentile(99));
    out += fmt::format(R"(,"target":{{"fanout_p99_ms":{},"measured_p99_ms":{:.3f},"met":{}}})",
                       fanout_target_ms, p99, p99 <= fanout_target_ms);
  }
  out += ",\"plan\":" + json_string(r.plan_summary) + "}";
  return out;
}

std::string to_table(const report& r) {
  std::string out = fmt::format(
      "swaprouter bench quotes: {}\n  {}, {}{}, {:.1f} s measured, load "
      "average {} -> {}, {} CPUs, RSS {} MB\n\n",
      r.config.empty() ? "scenario " + r.scenario : "config " + r.config,
      r.config.empty() ? (r.in_process ? "in-process emulators" : "external emulators")
                       : "configured providers",
      r.mode,
      r.rate > 0 ? fmt::format(" at {}/s (latency from the intended send time)", r.rate) : "",
      r.duration_s, r.load_before, r.load_after, std::thread::hardware_concurrency(),
      r.rss_kb / 1024);
  out += fmt::format("{:<30} {:>7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "ms",
                     "count", "err", "p50", "p90", "p99", "p99.9", "max", "mean", "per s");
  for (const auto& x : r.rows) {
    const auto& h = x.load.latency;
    out += fmt::format(
        "{:<30} {:>7} {:>5} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.1f}\n",
        x.name, x.load.ok, x.load.errors + x.load.dropped, ms(h.percentile(50)),
        ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)), ms(h.max()),
        h.mean() / 1e6, x.load.seconds > 0 ? static_cast<double>(x.load.ok) / x.load.seconds : 0);
    if (!x.load.last_error.empty()) out += "    last error: " + x.load.last_error + "\n";
  }
  if (!r.cold.empty()) {
    out +=
        "\ncold start (fresh pool)         connect+TLS   first quote (connect, TLS, login, "
        "metadata, quote)\n";
    for (const auto& c : r.cold) {
      out += fmt::format("  {:<28} {:>10.3f}   {:>10.3f}{}\n", c.provider, c.connect_ms,
                         c.first_quote_ms, c.error.empty() ? "" : "  (" + c.error + ")");
    }
    out += fmt::format("  first fan-out (quote_and_plan on fresh pools): {:.3f} ms\n",
                       r.cold_fanout_ms);
  }
  if (r.cpu) {
    if (r.cpu->skipped.empty()) {
      const auto& h = r.cpu->latency;
      const auto& c = r.cpu->cpu;
      std::string parsed;
      for (const auto& p : r.cpu->parsed) parsed += (parsed.empty() ? "" : ", ") + p;
      out += fmt::format(
          "\nengine decision without I/O (parse {} payloads [{}] + plan + build and sign the "
          "order), {} iterations (a read of the thread's CPU clock, {:.2f} us, taken out of the CPU "
          "figures):\n  CPU per decision p50 {:.2f} us, p90 {:.2f} us, p99 {:.2f} "
          "us, p99.9 {:.2f} us, max {:.2f} us; mean {:.2f} us\n  wall per decision p50 {:.2f} "
          "us, p90 {:.2f} us, p99 {:.2f} us, p99.9 {:.2f} us, max {:.2f} us\n  steps alone "
          "(mean CPU): parse "
          "{:.2f} us, plan {:.2f} us (prepare {:.2f} us + plan over the prepared market {:.2f} "
          "us, the quote book's per-intent cost), build and sign {:.2f} us\n",
          r.cpu->parsed.size(), parsed, h.count(),
          static_cast<double>(r.cpu->cpu_clock_read.count()) / 1e3, c.percentile(50) / 1e3, c.percentile(90) / 1e3,
          c.percentile(99) / 1e3, c.percentile(99.9) / 1e3, c.max() / 1e3,
          h.count() > 0 ? r.cpu->cpu_seconds * 1e6 / static_cast<double>(h.count()) : 0.0,
          h.percentile(50) / 1e3, h.percentile(90) / 1e3, h.percentile(99) / 1e3,
          h.percentile(99.9) / 1e3, h.max() / 1e3, r.cpu->parse_us, r.cpu->plan_us, r.cpu->prepare_us, r.cpu->plan_prepared_us,
          r.cpu->build_us);
      const char* separator = "  parse per provider: ";
      for (const auto& [provider, us] : r.cpu->parse_each_us) {
        out += fmt::format("{}{} {:.2f} us", separator, provider, us);
        separator = ", ";
      }
      if (!r.cpu->parse_each_us.empty()) out += "\n";
    } else {
      out += "\nengine decision without I/O: skipped (" + r.cpu->skipped + ")\n";
    }
  }
  if (const row* f = fanout_row(r); f && f->load.ok > 0) {
    const double p99 = ms(f->load.latency.percentile(99));
    out += fmt::format("\nfan-out p99 {:.3f} ms vs target <= {} ms: {}\n", p99, fanout_target_ms,
                       p99 <= fanout_target_ms ? "met" : "MISSED");
  }
  if (!r.plan_summary.empty()) out += "plan: " + r.plan_summary + "\n";
  return out;
}

// A PNG of p50/p90/p99/p99.9 per measured row (log scale), drawn by gnuplot.
bool write_plot(const report& r, const std::string& png) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("swaprouter-bench-{}", getpid());
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path data = dir / "latency.dat";
  const fs::path script = dir / "plot.gp";
  {
    std::ofstream d(data);
    d << "# name p50 p90 p99 p99.9\n";
    for (const auto& x : r.rows) {
      if (x.load.ok == 0) continue;
      std::string name = x.name;
      std::replace(name.begin(), name.end(), '"', '\'');
      const auto& h = x.load.latency;
      d << fmt::format("\"{}\" {:.4f} {:.4f} {:.4f} {:.4f}\n", name, ms(h.percentile(50)),
                       ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)));
    }
    std::ofstream s(script);
    s << "set terminal png size 1000,560 noenhanced\n"
      << "set output " << json_string(fs::absolute(png).string()) << "\n"
      << "set title "
      << json_string(fmt::format("swaprouter bench quotes ({}, load {})", r.mode, r.load_after))
      << "\n"
      << "set ylabel 'latency (ms, log scale)'\nset logscale y\nset grid ytics\n"
      << "set style data histograms\nset style histogram clustered gap 1\n"
      << "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset key top left\n"
      << "set xtics rotate by -20\n"
      << fmt::format(
             "set arrow from graph 0, first {0} to graph 1, first {0} nohead dt 2\n"
             "set label 'target {0} ms' at graph 0.005, first {0} offset 0,0.6 font ',9'\n",
             fanout_target_ms)
      << "plot " << json_string(data.string())
      << " using 2:xtic(1) title 'p50', '' using 3 title 'p90', '' using 4 title 'p99', "
         "'' using 5 title 'p99.9'\n";
  }
  const std::string command = "gnuplot " + json_string(script.string());
  const int status = std::system(command.c_str());
  fs::remove_all(dir, ec);
  return status == 0;
}

// ---- the run ----------------------------------------------------------------------------------

struct run_state {
  report out;
  std::exception_ptr failure;
  bool done = false;
};

task<double> cold_first_quote(const provider_target& target, quote_request request,
                              std::string& why) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<provider_target> one{target};
  auto venues = connect(executor, one);
  if (venues.empty()) {
    why = "no credential";
    co_return -1.0;
  }
  const auto started = clock_type::now();
  auto answer = co_await venues.front().client->pricing_for(request);
  const double elapsed =
      std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
  if (!answer) why = describe(answer.error());
  co_return elapsed;
}

task<double> cold_connect(const provider_target& target) {
  auto executor = co_await asio::this_coro::executor;
  auto http = make_http_client(executor, target.endpoint);
  const auto started = clock_type::now();
  co_await http->warm(1);
  const double elapsed =
      std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
  co_return http->stats().connections_opened == 1 ? elapsed : -1.0;
}

task<void> run_bench(const bench_options& options, std::vector<provider_target> targets,
                     swap_intent intent, std::chrono::milliseconds duration, run_state& state) {
  auto executor = co_await asio::this_coro::executor;
  report& out = state.out;
  planner_options planning;
  planning.max_hops = 2;

  // Kept to the end: a fan-out call past its deadline may still be using its venue.
  std::vector<bench_venue> cold_venues;
  // Cold start first, while nothing is warm: per provider, then a whole fan-out.
  if (!options.fanout_only) {
    for (const auto& target : targets) {
      cold_figures c;
      c.provider = target.name;
      c.connect_ms = co_await cold_connect(target);
      quote_request request{intent.spend_asset, intent.receive_asset, amount_side::spend,
                            intent.amount};
      c.first_quote_ms = co_await cold_first_quote(target, request, c.error);
      out.cold.push_back(std::move(c));
    }
    cold_venues = connect(executor, targets);
    std::vector<venue*> fresh_ptrs;
    for (auto& v : cold_venues) fresh_ptrs.push_back(v.client.get());
    const auto started = clock_type::now();
    std::string why;
    const bool ok = co_await quote_and_plan_once(&fresh_ptrs, intent, planning, why);
    out.cold_fanout_ms =
        ok ? std::chrono::duration<double, std::milli>(clock_type::now() - started).count() : -1;
  }

  auto venues = connect(executor, targets);
  // Warm pools: enough kept-alive connections for the overlap of an open-loop run.
  const std::size_t pool = options.rate > 0 ? 4 : 1;
  for (auto& v : venues) {
    auto* http = v.http.get();
    co_await http->warm(pool);
  }
  fanout_context ctx;
  ctx.venues = &venues;
  ctx.intent = intent;
  ctx.planning = planning;
  // 001k on the wire in every fan-out (comparable with the reference clients, which ask it every
  // time) unless --onek-cached asks for the adapter's rate-table cache (the production path).
  // A configured provider is only asked through the engine's view of it, within its budgets.
  std::shared_ptr<onek_probe> onek_wire;
  for (std::size_t i = 0; i < venues.size(); ++i) {
    if (venues[i].kind != "onek" || venues[i].settings != nullptr) continue;
    for (const auto& t : targets) {
      if (t.name != venues[i].name) continue;
      const sim::credential_config* credential = swap_credential(*t.config);
      onek_wire = std::make_shared<onek_probe>(onek_probe{
          venues[i].http.get(),
          onek::request_builder(credential->access_key, hmac_sha256(credential->secret))});
    }
  }
  if (!options.onek_cached) ctx.onek_wire = onek_wire;
  const bool configured = !venues.empty() && venues.front().settings != nullptr;
  std::vector<venue*> all;
  for (auto& v : venues) all.push_back(v.client.get());
  // Warm-up (not measured): logs in, loads metadata, fills caches, records the payloads.
  for (auto& v : venues) v.http->set_recording(true);
  co_await discover_pairs(ctx);
  for (int i = 0; i < 3; ++i) {
    std::string why;
    const bool ok = co_await fanout_once(&ctx, why);
    if (!ok && i == 2) spdlog::warn("bench: warm-up fan-out: {}", why);
  }
  for (auto& v : venues) v.http->set_recording(false);
  if (ctx.last_plan && ctx.last_plan->ok()) {
    const auto& p = *ctx.last_plan;
    std::string routes;
    for (const auto& route : p.routes) {
      for (const auto& leg : route.legs) {
        routes +=
            (routes.empty() ? "" : ", ") + leg.order.provider + " " + leg.order.direction_code;
      }
    }
    out.plan_summary =
        fmt::format("spend {} {} -> net {} {} via {}", p.spend.to_string(), intent.spend_asset,
                    p.net.to_string(), intent.receive_asset, routes);
  }

  // The time budget: half to the fan-out, the other half shared by the providers' round trips
  // (a quarter of the fan-out's half also times the engine's full quote_and_plan path).
  const auto total = std::chrono::duration_cast<clock_type::duration>(duration);
  const std::size_t n = venues.size();
  load_plan fan_plan{
      options.fanout_only ? total : total / 2, options.rate, options.max_requests, {}};
  if (!options.fanout_only) {
    for (std::size_t i = 0; i < n; ++i) {
      venue* provider = venues[i].client.get();
      quote_request request{intent.spend_asset, intent.receive_asset, amount_side::spend,
                            intent.amount};
      operation op = [provider, request](std::string& why) {
        return quote_once(provider, request, why);
      };
      if (venues[i].kind == "onek" && onek_wire) {
        op = [probe = onek_wire](std::string& why) { return onek_quote_once(probe, why); };
      }
      load_plan plan{total / 2 / static_cast<std::int64_t>(std::max<std::size_t>(n, 1)),
                     options.rate,
                     options.max_requests,
                     {}};
      if (venues[i].settings != nullptr) plan.budgets = {provider};
      row r;
      // A configured 001k is asked as the engine asks it: its rate table, cached by the adapter
      // and refreshed within the documented 30 requests a minute.
      r.name = "quote " + venues[i].name +
               (venues[i].kind == "onek" && !onek_wire ? " (table cached)" : "");
      r.kind = "quote";
      r.load = co_await drive(op, plan);
      out.rows.push_back(std::move(r));
    }
    fan_plan.duration = total * 3 / 8;
  }
  {
    fanout_context* c = &ctx;
    operation op = [c](std::string& why) { return fanout_once(c, why); };
    if (configured) fan_plan.budgets = all;
    row r;
    r.name = fmt::format("fan-out x{} (quote+plan{})", ctx.calls.size(),
                         ctx.onek_wire ? "" : ", 001k cached");
    r.kind = "fanout";
    r.load = co_await drive(op, fan_plan);
    out.rows.push_back(std::move(r));
  }
  if (!options.fanout_only) {
    std::vector<venue*> ptrs;
    for (auto& v : venues) ptrs.push_back(v.client.get());
    std::vector<venue*>* p = &ptrs;
    // As in `swaprouter run`: directions from the quote book (listed by a first call here, by
    // the poller there), so each measured call is one round of amount-specific quotes. The first
    // call, which lists them, is not measured: it is the cold start's "first fan-out".
    auto book = std::make_shared<quote_book>();
    operation op = [p, intent, planning, book](std::string& why) {
      return quote_and_plan_once(p, intent, planning, why, book.get());
    };

    {
      std::string why;
      if (!co_await op(why)) spdlog::warn("bench: quote_and_plan's first call: {}", why);
    }
    row r;
    r.name = "engine quote_and_plan";
    r.kind = "quote_and_plan";
    load_plan plan{total / 8, options.rate, options.max_requests, {}};
    if (configured) plan.budgets = all;
    r.load = co_await drive(op, plan);
    out.rows.push_back(std::move(r));
    out.cpu = measure_decision_cpu(venues, ctx);
  }
}

// The enabled providers of `config` that have credentials (those of `wanted` when it names any),
// reached as `swaprouter run` reaches them. Throws fleet_error as configured_endpoint does, and
// for a name of `wanted` the configuration does not have.
std::vector<provider_target> configured_targets(const config::engine_config& config,
                                                const std::set<std::string>& wanted) {
  std::vector<provider_target> out;
  for (const auto& name : wanted) {
    const bool known =
        std::any_of(config.providers.begin(), config.providers.end(),
                    [&](const config::provider_config& p) { return p.name == name; });
    if (!known) throw fleet_error(exit_usage, "--providers: " + name + " is not configured");
  }
  for (const auto& p : config.providers) {
    if (!p.enabled || !p.credentials || (!wanted.empty() && !wanted.contains(p.name))) continue;
    provider_target t;
    t.name = p.name;
    t.kind = std::string(to_string(p.kind));
    t.settings = &p;
    t.endpoint = configured_endpoint(p);
    t.endpoint.pool_size = 8;
    out.push_back(std::move(t));
  }
  return out;
}

int run_bench_quotes(const bench_options& options) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("bench"));
  spdlog::set_level(spdlog::level::warn);

  const auto duration = parse_duration(options.duration);
  if (!duration || *duration < 100ms || *duration > max_duration) {
    std::fprintf(stderr,
                 "swaprouter bench quotes: --duration: 100ms..600s, e.g. 30s or 500ms, not %s\n",
                 options.duration.c_str());
    return exit_usage;
  }
  if (options.rate < 0 || options.rate > max_rate) {
    std::fprintf(stderr, "swaprouter bench quotes: --rate: 0..%g per second\n", max_rate);
    return exit_usage;
  }
  auto amount = decimal::parse(options.spend);
  if (!amount || !amount->is_positive()) {
    std::fprintf(stderr, "swaprouter bench quotes: --spend: not a positive decimal\n");
    return exit_usage;
  }
  swap_intent intent;
  intent.spend_asset = options.from;
  intent.receive_asset = options.to;
  intent.amount = *amount;

  std::string scenario_path = options.scenario;
  if (scenario_path.empty()) {
    std::vector<fs::path> candidates{fs::current_path() / "bench" / "scenario.yaml"};
#ifdef SWAPROUTER_SOURCE_DIR
    candidates.push_back(fs::path(SWAPROUTER_SOURCE_DIR) / "bench" / "scenario.yaml");
#endif
    for (const auto& c : candidates) {
      std::error_code ec;
      if (fs::is_regular_file(c, ec)) {
        scenario_path = c.string();
        break;
      }
    }
  }
  std::set<std::string> wanted;
  {
    std::stringstream list(options.providers);
    std::string item;
    while (std::getline(list, item, ',')) {
      if (!item.empty()) wanted.insert(item);
    }
  }
  std::string ca_pem;
  if (!options.ca.empty()) {
    std::ifstream in(options.ca);
    std::stringstream text;
    text << in.rdbuf();
    ca_pem = text.str();
    if (!in || ca_pem.empty()) {
      std::fprintf(stderr, "swaprouter bench quotes: --ca: cannot read %s\n", options.ca.c_str());
      return exit_usage;
    }
  }

  asio::io_context emu_ioc(1);
  std::optional<loaded_scenario> loaded;
  std::optional<fleet> emulators;
  std::vector<provider_target> targets;
  // Loaded as live mode loads it: credentials resolved when some provider has them.
  std::optional<command_setup> configured;
  if (!options.config.empty()) {
    configured = setup_command("bench quotes", options.config, false, false);
    if (!configured) return exit_usage;
    try {
      targets = configured_targets(*configured->config, wanted);
    } catch (const fleet_error& e) {
      std::fprintf(stderr, "swaprouter bench quotes: %s\n", e.what());
      return e.exit_code();
    }
  } else {
    try {
      loaded.emplace(load_scenario_file(scenario_path));
      for (auto& [name, config] : loaded->scenario.providers) {
        if (!wanted.empty() && !wanted.contains(name)) config.enabled = false;
      }
      for (const auto& name : wanted) {
        if (loaded->scenario.find_provider(name) == nullptr) {
          throw fleet_error(exit_usage, "--providers: " + name + " is not in " + loaded->path);
        }
      }
      if (options.ca.empty()) {
        fleet_options fleet_opts;
        fleet_opts.ephemeral_ports = true;
        emulators.emplace(emu_ioc, *loaded, fleet_opts);
        for (auto& provider : emulators->providers()) {
          provider_target t;
          t.name = provider.name;
          t.kind = provider.name;
          t.config = provider.config;
          t.endpoint.port = provider.server->port();
          t.endpoint.tls = provider.server->tls();
          if (emulators->ca()) t.endpoint.extra_ca_pem = emulators->ca()->ca_pem();
          targets.push_back(std::move(t));
        }
      } else {
        for (const auto name : sim::provider_names) {
          const sim::provider_config* config = loaded->scenario.find_provider(name);
          if (config == nullptr || !config->enabled) continue;
          provider_target t;
          t.name = std::string(name);
          t.kind = t.name;
          t.config = config;
          t.endpoint.port = config->port != 0 ? config->port : sim::default_port(name);
          t.endpoint.tls = config->tls;
          t.endpoint.extra_ca_pem = ca_pem;
          targets.push_back(std::move(t));
        }
      }
    } catch (const fleet_error& e) {
      std::fprintf(stderr, "swaprouter bench quotes: %s\n", e.what());
      return e.exit_code();
    }
    for (auto& t : targets) {
      t.endpoint.host = "127.0.0.1";
      // Only the run's CA: the emulators are the only peers this client may trust.
      t.endpoint.only_extra_ca = true;
      t.endpoint.pool_size = 8;
    }
  }
  if (targets.empty()) {
    std::fprintf(stderr, "swaprouter bench quotes: no provider to measure\n");
    return exit_usage;
  }

  // The emulators get their own thread so that serving does not share the measuring thread.
  auto work = asio::make_work_guard(emu_ioc);
  std::thread emulator_thread([&emu_ioc] { emu_ioc.run(); });

  run_state state;
  if (loaded) state.out.scenario = loaded->path;
  state.out.config = options.config;
  state.out.mode = options.rate > 0 ? "open loop" : "closed loop, one caller";
  state.out.rate = options.rate;
  state.out.load_before = load_average();
  state.out.in_process = options.ca.empty() && options.config.empty();
  asio::io_context ioc(1);
  const auto started = clock_type::now();
  asio::co_spawn(ioc, run_bench(options, targets, intent, *duration, state),
                 [&state](std::exception_ptr e) {
                   state.failure = e;
                   state.done = true;
                 });
  while (!state.done && ioc.run_one() > 0) {
  }
  state.out.duration_s = std::chrono::duration<double>(clock_type::now() - started).count();
  // The client loop is not run again: a late answer would resume into venues already gone.

  if (emulators) asio::post(emu_ioc, [&emulators] { emulators->stop(); });
  work.reset();
  // Server sessions end by their own timeouts; give them a moment, never more.
  const auto stop_deadline = clock_type::now() + 1s;
  while (!emu_ioc.stopped() && clock_type::now() < stop_deadline) {
    std::this_thread::sleep_for(10ms);
  }
  emu_ioc.stop();
  emulator_thread.join();
  if (state.failure) std::rethrow_exception(state.failure);

  report& out = state.out;
  out.load_after = load_average();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out.rss_kb = usage.ru_maxrss;
  const std::string text = options.json ? to_json(out) + "\n" : to_table(out);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!options.plot.empty() && !write_plot(out, options.plot)) {
    std::fprintf(stderr,
                 "swaprouter bench quotes: --plot: gnuplot failed or is missing (Debian: apt-get "
                 "install gnuplot-nox)\n");
    return exit_failure;
  }
  const row* f = fanout_row(out);
  return f != nullptr && f->load.ok > 0 ? exit_ok : exit_failure;
}

}  // namespace

subcommand add_bench_command(CLI::App& parent) {
  auto options = std::make_shared<bench_options>();
  CLI::App* bench =
      parent.add_subcommand("bench", "Benchmarks (bench/BENCHMARKS.md)")->require_subcommand(1);
  CLI::App* app = bench->add_subcommand(
      "quotes",
      "Quote latency against the emulators (loopback TLS): per-provider round trip, fan-out from "
      "intent to plan, cold start, and the engine's CPU per decision without I/O");
  auto* scenario =
      app->add_option("--scenario", options->scenario, "Scenario (default bench/scenario.yaml)");
  app->add_option("--providers", options->providers, "Comma-separated providers (default all)");
  app->add_option("--duration", options->duration,
                  "Measuring time over all phases, e.g. 30s, 500ms (at most 600s)");
  app->add_option("--rate", options->rate,
                  "Open loop: operations per second by the wall clock, latency from the intended "
                  "send time; 0 = closed loop (default)");
  app->add_flag("--json", options->json, "Print the report as JSON");
  app->add_option("--plot", options->plot, "Write a PNG of the percentiles (needs gnuplot)");
  auto* ca = app->add_option("--ca", options->ca,
                             "Measure a running `swaprouter simulate` of the scenario (its printed "
                             "CA file) at the scenario's ports instead of in-process emulators");
  auto* config = app->add_option(
      "--config", options->config,
      "Measure the providers of an engine configuration (docs/config.md) that have credentials, "
      "as `swaprouter run` reaches them, within their rate budgets, instead of emulators");
  config->excludes(ca)->excludes(scenario);
  app->add_option("--from", options->from, "Asset to spend (default USDT)");
  app->add_option("--to", options->to, "Asset to receive (default USDC)");
  app->add_option("--spend", options->spend, "Amount of the intent (default 1000)");
  app->add_flag("--fanout-only", options->fanout_only,
                "Only the warm fan-out (for CPU and RSS per fan-out comparisons)");
  app->add_flag("--onek-cached", options->onek_cached,
                "Price 001k from the adapter's cached rate table (refreshed within its 30/min "
                "budget) instead of asking it on the wire in every fan-out");
  app->add_option("--max-requests", options->max_requests, "Operations per phase at most")
      ->check(CLI::Range(1, 1000000));
  return subcommand{bench, [options] { return run_bench_quotes(*options); }};
}

}  // namespace swaprouter::cli
