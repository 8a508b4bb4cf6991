#include "engine/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace swaprouter {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

task<void> sleep_for(milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Runs every job concurrently on the current executor and returns when all have finished; the
// first exception is rethrown after all have finished.
task<void> run_all(std::vector<std::function<task<void>()>> jobs) {
  struct shared_state {
    explicit shared_state(asio::any_io_executor ex) : done(std::move(ex)) {}
    asio::steady_timer done;
    std::size_t pending = 0;
    std::exception_ptr failure;
  };
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<shared_state>(ex);
  state->pending = jobs.size();
  state->done.expires_at(steady::time_point::max());
  for (auto& job : jobs) {
    asio::co_spawn(ex, job(), [state](std::exception_ptr e) {
      if (e && !state->failure) state->failure = e;
      if (--state->pending == 0) state->done.cancel();
    });
  }
  if (state->pending > 0) co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (state->failure) std::rethrow_exception(state->failure);
}

std::string model_key(std::string_view provider, std::string_view direction_code) {
  return fmt::format("{}|{}", provider, direction_code);
}

bool waits_for_budget(const error& e) {
  return !e.may_have_reached &&
         (e.kind == error_kind::rate_limited || e.kind == error_kind::circuit_open);
}

bool inconsistent(const error& e) {
  return e.kind == error_kind::bad_response && e.message.find("inconsistent") != std::string::npos;
}

bool troubled(leg_phase phase) {
  return phase == leg_phase::unknown || phase == leg_phase::lost || phase == leg_phase::frozen;
}

decimal scaled(decimal value, decimal part, decimal whole, rounding mode) {
  if (!whole.is_positive()) return value;
  return value.mul_div(part, whole, mode).value_or(value);
}

// The part of `amount` a settled leg converted, for its share of a route's minimum: spend_filled
// counts a fee charged in the spend asset (KIIEX), which may take it above the amount sent.
decimal converted_of(const leg_record& rec, decimal amount) {
  return std::min(rec.spend_filled, amount);
}

// One route of a plan to run: its legs in hop order and the least its last leg may deliver.
// `start` sizes the first leg when a route resumes after a restart from what its previous hop
// delivered.
struct route_job {
  std::vector<int> legs;
  decimal min_final;
  std::optional<decimal> start;
};

// What is left to convert after a leg did not fill completely.
struct remainder {
  std::string asset;
  decimal amount;
  decimal min_final;
  std::string failed_provider;
};

bool past_deadline(const intent_record& intent) {
  return intent.deadline && std::chrono::system_clock::now() >= *intent.deadline;
}

struct run_state {
  intent_record intent;
  std::map<int, leg_record> legs;
  std::vector<remainder> remainders;
  int next_index = 0;
  bool unplaced = false;  // some spend was neither executed nor re-planned

  bool past_deadline() const { return swaprouter::past_deadline(intent); }
};

}  // namespace

client_id make_client_id(std::string_view intent_id, int index, int attempt) {
  return fmt::format("{}-L{}-A{}", intent_id, index, attempt);
}

struct executor::impl {
  impl(std::span<venue* const> venues, journal& j, execution_options options, event_sink sink)
      : directory(venues), log(j, std::move(sink), std::move(options)), follow(directory, log) {}

  venue_directory directory;
  execution_log log;
  tracker follow;
  std::map<std::string, pricing> models;
  std::map<std::string, int> precisions;
  // Intents given to cancel(): nothing more of them is sent.
  std::set<std::string, std::less<>> stopped;

  const execution_options& options() const { return log.options(); }

  void remember(const std::vector<pricing>& fresh) {
    for (const auto& p : fresh) {
      models[model_key(p.provider, p.direction_code)] = p;
      precisions[model_key(p.provider, p.direction_code)] = p.receive_precision;
    }
  }

  // The receive precision of a direction, from the last pricing or the provider's directions.
  task<int> receive_precision(std::string provider, std::string direction_code) {
    const std::string key = model_key(provider, direction_code);
    if (auto it = precisions.find(key); it != precisions.end()) co_return it->second;
    venue* v = directory.find(provider);
    if (v != nullptr) {
      auto listed = co_await v->directions();
      if (listed) {
        for (const auto& d : *listed) precisions[model_key(provider, d.code)] = d.receive_precision;
      }
    }
    if (auto it = precisions.find(key); it != precisions.end()) co_return it->second;
    co_return decimal::scale;
  }

  static leg order_of(const leg_record& rec) {
    leg out;
    out.provider = rec.provider;
    out.direction_code = rec.direction_code;
    out.spend_asset = rec.spend_asset;
    out.receive_asset = rec.receive_asset;
    out.side = rec.side;
    out.amount = rec.amount;
    out.min_receive = rec.min_receive;
    out.quote_id = rec.quote_id;
    if (rec.deadline) {
      const auto left = std::chrono::duration_cast<milliseconds>(*rec.deadline -
                                                                 std::chrono::system_clock::now());
      out.time_to_live = std::max(milliseconds(1), left);
    }
    return out;
  }

  // Follows an accepted leg to its end.
  task<void> follow_leg(leg_record& rec) {
    if (is_final(rec.phase)) co_return;
    const int precision = co_await receive_precision(rec.provider, rec.direction_code);
    rec = co_await follow.track(rec, precision);
  }

  // A provider without client ids is searched by amount and time; after a restart its adapter no
  // longer knows which swaps it made, so its only match may be a swap another leg already holds.
  // Such a match is no match: one provider swap never goes to two legs (FAULTS.md I1). A journal
  // that cannot be read counts as held.
  bool held_by_another(const leg_record& rec, const result<std::optional<leg_status>>& found) {
    if (!found || !*found || (*found)->ref.provider_ref.empty()) return false;
    auto holder = log.records().leg_by_ref(rec.provider, (*found)->ref.provider_ref);
    if (holder && (!*holder || (*holder)->client == rec.client)) return false;
    log.report(rec.intent_id, rec.client, "find",
               fmt::format("the provider's match {} is another leg's swap: not adopted",
                           (*found)->ref.provider_ref));
    return true;
  }

  // For find(): the provider swaps the journal gives to legs other than `rec`, so that a provider
  // searched by amount never counts them as candidates. A journal that cannot be read holds
  // nothing here: the swap stays a candidate, so two still freeze the leg and a single one is
  // checked again by held_by_another; neither adopts another leg's swap nor resends.
  held_swaps held_by_others(const leg_record& rec) {
    return [this, provider = rec.provider, client = rec.client](std::string_view ref) {
      auto holder = log.records().leg_by_ref(provider, ref);
      return holder && *holder && (*holder)->client != client;
    };
  }

  // Adopts a provider record found for `rec`, unless it belongs to another client id.
  task<bool> adopt(leg_record& rec, const leg_status& found, std::string_view how) {
    if (!found.ref.client.empty() && found.ref.client != rec.client) {
      log.set_phase(rec, leg_phase::frozen, "inconsistent provider record");
      log.alarm(rec, fmt::format("provider record {} carries client id {}: frozen, never resent",
                                 found.ref.provider_ref, found.ref.client));
      co_return false;
    }
    rec.provider_ref = found.ref.provider_ref;
    log.set_phase(rec, leg_phase::accepted,
                  fmt::format("{}: provider ref {}", how, found.ref.provider_ref));
    const int precision = co_await receive_precision(rec.provider, rec.direction_code);
    log.apply(rec, found, precision);
    co_return true;
  }

  // Sends `rec` (journaled as planned) and settles its outcome: accepted and followed, rejected,
  // or unknown and reconciled.
  task<void> send(leg_record& rec) {
    venue* provider = directory.find(rec.provider);
    if (provider == nullptr) {
      log.set_phase(rec, leg_phase::rejected, "no such provider");
      co_return;
    }
    if (!log.set_phase(rec, leg_phase::submitting, "submit")) {
      // Nothing may leave without its journal row (FAULTS.md 24).
      log.alarm(rec, "not sent: the journal refused the submitting state");
      co_return;
    }
    co_await submit_until_settled(rec, 0);
  }

  // After a restart: settles a leg left unknown (or submitting) the way send() would have.
  task<void> resettle(leg_record& rec) {
    const int resubmitted = resubmits_of(rec);
    const bool resend = co_await reconcile(rec, resubmitted < options().max_resubmits);
    if (!resend || !resent(rec)) co_return;
    co_await submit_until_settled(rec, resubmitted + 1);
  }

  // The resubmissions of `rec` before the restart (resent() journals a "submit" note for each):
  // max_resubmits bounds them over the leg's life, not per process. A journal that cannot be
  // read counts as none left.
  int resubmits_of(const leg_record& rec) {
    auto events = log.records().events_of(rec.intent_id);
    if (!events) return options().max_resubmits;
    return static_cast<int>(std::count_if(events->begin(), events->end(), [&](const auto& e) {
      return e.client == rec.client && e.kind == "submit";
    }));
  }

  bool resent(leg_record& rec) {
    log.note(rec.intent_id, rec.client, "submit",
             "resubmitting with the same client id after the grace window");
    if (log.set_phase(rec, leg_phase::submitting, "resubmit with the same client id")) return true;
    log.alarm(rec, "not resent: the journal refused the submitting state");
    return false;
  }

  // Submits `rec` (journaled as submitting) until its outcome is settled.
  task<void> submit_until_settled(leg_record& rec, int resubmitted) {
    venue* provider = directory.find(rec.provider);
    int resubmits = resubmitted;
    while (true) {
      const leg order = order_of(rec);
      const client_id id = rec.client;
      const auto sent = std::chrono::steady_clock::now();
      // Only this call's create request reports the transport points, not the logins, quotes
      // and lookups around it (submit_watch).
      const bool watched = options().submits != nullptr && options().crash &&
                           options().submits->watches(rec.provider);
      std::optional<submit_watch::armed> armed;
      if (watched) armed.emplace(options().submits->arm(rec.provider, options().crash));
      auto answer = co_await provider->submit(order, id);
      armed.reset();
      if (!watched && (answer || answer.error().may_have_reached)) {
        // No watched client: the points the transport would place collapse to submit's return.
        log.crash_point("after_request_write");
        if (answer) log.crash_point("after_response_read");
      }
      if (answer && options().book) {
        options().book->record_execution_latency(rec.provider,
                                                 std::chrono::steady_clock::now() - sent);
      }
      if (answer) {
        // The adapter has parsed the answer; nothing of it is journaled yet.
        log.crash_point("before_state_commit");
        const bool adopted = co_await adopt(rec, *answer, "submit answered");
        if (adopted) co_await follow_leg(rec);
        co_return;
      }
      const error failure = answer.error();
      if (waits_for_budget(failure)) {
        // Refused before sending: nothing reached the provider, so trying again is safe.
        if (stopped.contains(rec.intent_id)) {
          log.set_phase(rec, leg_phase::cancelled, "stopping: not sent");
          co_return;
        }
        log.report(rec.intent_id, rec.client, "submit", "waiting for budget: " + describe(failure));
        const milliseconds delay = failure.retry_after_seconds
                                       ? milliseconds(*failure.retry_after_seconds * 1000)
                                       : options().poll_initial;
        if (rec.deadline && std::chrono::system_clock::now() + delay >= *rec.deadline) {
          log.set_phase(rec, leg_phase::cancelled, "not sent before its deadline: provider busy");
          co_return;
        }
        co_await sleep_for(delay);
        continue;
      }
      if (failure.kind == error_kind::rejected ||
          (failure.kind == error_kind::invalid_argument && !failure.may_have_reached)) {
        log.set_phase(rec, leg_phase::rejected, describe(failure));
        co_return;
      }
      log.set_phase(rec, leg_phase::unknown, describe(failure));
      const bool resend = co_await reconcile(rec, resubmits < options().max_resubmits);
      if (!resend || !resent(rec)) co_return;
      ++resubmits;
    }
  }

  // Settles an unknown outcome with find(): adopts (and follows) a consistent record, freezes an
  // inconsistent one. Answers true when the caller should resubmit with the same client id: the
  // provider positively found nothing for the whole grace window and deduplicates.
  task<bool> reconcile(leg_record& rec, bool may_resend) {
    venue* provider = directory.find(rec.provider);
    if (provider == nullptr) co_return false;
    const auto started = steady::now();
    auto backoff = options().find_initial;
    bool answered_none = false;
    int lookups = 0;
    while (true) {
      const leg order = order_of(rec);
      const client_id id = rec.client;
      const held_swaps held = held_by_others(rec);
      auto found = co_await provider->find(id, order, held);
      ++lookups;
      if (held_by_another(rec, found)) *found = std::nullopt;
      if (found && *found) {
        const bool adopted = co_await adopt(rec, **found, "adopted by client id");
        if (adopted) co_await follow_leg(rec);
        co_return false;
      }
      if (found) {
        answered_none = true;
        log.report(rec.intent_id, rec.client, "find", "the provider has no such leg yet");
      } else if (inconsistent(found.error())) {
        log.set_phase(rec, leg_phase::frozen, "inconsistent provider record");
        log.alarm(rec, "inconsistent provider record, frozen and never resent: " +
                           describe(found.error()));
        co_return false;
      } else {
        // A failed lookup is not "not found".
        answered_none = false;
        log.report(rec.intent_id, rec.client, "find", "lookup failed: " + describe(found.error()));
      }
      // Two lookups at least: a first one slow enough to outlast the window (a stalled process,
      // a handshake) is no reason to give the leg up untried.
      if (lookups >= 2 && steady::now() - started >= options().unknown_grace) {
        // A resubmission is a new send: like any, never past the leg's deadline (a restart long
        // after the process stopped).
        const bool in_time = !rec.deadline || std::chrono::system_clock::now() < *rec.deadline;
        // Nor for an intent being stopped: a stop sends nothing more of it.
        const bool stopping = stopped.contains(rec.intent_id);
        if (answered_none && may_resend && in_time && !stopping && provider->traits().client_id &&
            !log.broken()) {
          co_return true;
        }
        std::string_view why =
            "unknown outcome: not found after the grace window and no resubmission left; needs "
            "an operator";
        if (!answered_none) {
          why = "unknown outcome: the provider could not be asked; restart reconciles it";
        } else if (!provider->traits().client_id) {
          why =
              "unknown outcome: not found after the grace window; the provider does not "
              "deduplicate, never resent";
        } else if (may_resend && !in_time) {
          why =
              "unknown outcome: not found after the grace window and past its deadline; never "
              "resent, needs an operator";
        } else if (may_resend && stopping) {
          why =
              "unknown outcome: not found after the grace window while stopping; never resent, "
              "needs an operator";
        }
        log.alarm(rec, why);
        co_return false;
      }
      co_await sleep_for(log.jittered(backoff));
      backoff = std::min(backoff * 2, options().find_max);
    }
  }

  struct chain_price {
    decimal net;
    decimal worst;
    decimal final_worst;
    std::string failure;
  };

  // Prices hops h.. of a route for `amount` at hop h: the hop's expected and worst net, and the
  // worst the route's last hop can deliver.
  chain_price price_chain(const std::map<int, leg_record>& legs, const route_job& job,
                          std::size_t h, decimal amount) const {
    chain_price out;
    decimal worst_amount = amount;
    for (std::size_t j = h; j < job.legs.size(); ++j) {
      const leg_record& hop = legs.at(job.legs[j]);
      const auto it = models.find(model_key(hop.provider, hop.direction_code));
      decimal net;
      decimal worst;
      if (it == models.end()) {
        net = scaled(hop.quoted_receive, worst_amount, hop.amount, rounding::down);
        worst = scaled(hop.min_receive, worst_amount, hop.amount, rounding::down);
      } else {
        const decimal spend = worst_amount.round(it->second.spend_precision, rounding::down);
        auto expected = price_spend(it->second, spend, std::nullopt);
        auto bad = price_spend(worst_case(it->second), spend, std::nullopt);
        if (!expected || !bad) {
          out.failure = fmt::format("{} {}: {}", hop.provider, hop.direction_code,
                                    describe(expected ? bad.error() : expected.error()));
          return out;
        }
        net = expected->net;
        worst = bad->net;
      }
      if (j == h) {
        out.net = net;
        out.worst = worst;
      }
      worst_amount = worst;
    }
    out.final_worst = worst_amount;
    return out;
  }

  void cancel_rest(run_state& st, const route_job& job, std::size_t from, std::string_view why) {
    for (std::size_t j = from; j < job.legs.size(); ++j) {
      leg_record& rec = st.legs.at(job.legs[j]);
      if (rec.phase == leg_phase::planned) log.set_phase(rec, leg_phase::cancelled, why);
    }
  }

  // A leg the provider reports filled may have spent less than it was sent for (FAULTS.md 17,
  // alarmed by apply()): what it left is still ours, in its spend asset, and goes back to the
  // router like a partial fill's rest, unless no provider would take that little (rounding dust).
  // Answers the share of `min_final` (the leg's share of its route's minimum) that its fill
  // carries on to the next hop.
  decimal pass_unspent(run_state& st, const leg_record& rec, decimal min_final) {
    if (rec.side != amount_side::spend) return min_final;
    const decimal unspent = rec.amount - rec.spend_filled;
    if (!unspent.is_positive()) return min_final;
    if (!more_than_dust(rec.spend_asset, unspent)) {
      log.note(rec.intent_id, rec.client, "replan",
               fmt::format("{} {} left unspent: below every provider's minimum, not re-planned",
                           unspent.to_string(), rec.spend_asset));
      return min_final;
    }
    st.remainders.push_back({rec.spend_asset, unspent,
                             scaled(min_final, unspent, rec.amount, rounding::up), rec.provider});
    return scaled(min_final, rec.spend_filled, rec.amount, rounding::up);
  }

  // What the first plan of a spend intent left of its amount (plan.unspent) is never placed, so
  // the intent is partial for it, unless no provider would take that little (an amount finer
  // than every provider's precision): such rounding dust is noted (a "dust" event) and the intent
  // ends as it otherwise would. A restart, usually before any quote, goes by that event. Answers
  // whether `unspent` leaves the intent partial.
  bool unplaced_by_plan(const intent_record& intent, decimal unspent, bool restarted) {
    if (!unspent.is_positive()) return false;
    if (restarted) {
      auto events = log.records().events_of(intent.id);
      if (events && std::any_of(events->begin(), events->end(),
                                [](const journal_event& e) { return e.kind == "dust"; })) {
        return false;
      }
    }
    if (more_than_dust(intent.spend_asset, unspent)) return true;
    log.note(intent.id, {}, "dust",
             fmt::format("{} {} left unspent by the plan: below every provider's minimum, not "
                         "placed",
                         unspent.to_string(), intent.spend_asset));
    return false;
  }

  // A leg sent for `amount` that ended without filling it (expired, cancelled, failed, rejected,
  // partly filled): what it did not convert goes back to the router, its unspent part in its
  // spend asset (not to `failed_provider`) and, when a later hop was to follow, what it received.
  void hand_on_rest(run_state& st, const leg_record& rec, decimal amount, decimal hop_min_final,
                    bool later_hop, std::string failed_provider) {
    const decimal left = amount - rec.spend_filled;
    if (left.is_positive()) {
      st.remainders.push_back({rec.spend_asset, left,
                               scaled(hop_min_final, left, amount, rounding::up),
                               std::move(failed_provider)});
    }
    if (later_hop && rec.receive_filled.is_positive()) {
      st.remainders.push_back(
          {rec.receive_asset,
           rec.receive_filled,
           scaled(hop_min_final, converted_of(rec, amount), amount, rounding::up),
           {}});
    }
  }

  // Whether `amount` of `asset` is more than dust: some provider quoted from `asset` would take it
  // (at least its minimum spend and one unit of its spend precision), or none was quoted yet (a
  // restart before any quote), and the re-plan decides.
  bool more_than_dust(std::string_view asset, decimal amount) const {
    bool quoted = false;
    for (const auto& [key, p] : models) {
      if (p.spend_asset != asset || p.spend_precision < 0 || p.spend_precision > decimal::scale) {
        continue;
      }
      quoted = true;
      if (amount >= p.min_spend && amount >= decimal::unit(p.spend_precision)) return true;
    }
    return !quoted;
  }

  // A hop resumed after a restart may run before any quote was read: its provider is asked for
  // the direction's pricing, so that the hop is sent at its precision and guarded at today's
  // prices. A firm quote is not asked for: it would not be the leg's, whose own validity decides.
  task<std::map<std::string, pricing>::iterator> load_model(const leg_record& rec, decimal amount) {
    venue* v = directory.find(rec.provider);
    if (v == nullptr || v->traits().firm_quotes) co_return models.end();
    quote_request ask;
    ask.spend_asset = rec.spend_asset;
    ask.receive_asset = rec.receive_asset;
    ask.amount = amount;
    auto fresh = co_await v->pricing_for(ask);
    if (!fresh || fresh->direction_code != rec.direction_code) {
      log.note(rec.intent_id, rec.client, "resume",
               fmt::format("no pricing of {} at {}: sized and guarded by the journaled quote",
                           rec.direction_code, rec.provider));
      co_return models.end();
    }
    remember({*fresh});
    co_return models.find(model_key(rec.provider, rec.direction_code));
  }

  // Runs one route: its legs in order, each sized by what the previous one delivered.
  task<void> run_route(std::shared_ptr<run_state> st, route_job job) {
    decimal amount = job.start.value_or(st->legs.at(job.legs.front()).amount);
    const decimal first_amount = amount;
    decimal carried_min;  // the share of job.min_final the previous hop's fill carries on
    for (std::size_t h = 0; h < job.legs.size(); ++h) {
      leg_record& rec = st->legs.at(job.legs[h]);
      if (log.broken()) {
        log.alarm(rec, "not sent: the journal failed earlier");
        co_return;
      }
      if (stopped.contains(st->intent.id)) {
        log.set_phase(rec, leg_phase::cancelled, "stopping: not sent");
        cancel_rest(*st, job, h + 1, "stopping: not sent");
        st->unplaced = true;
        co_return;
      }
      auto it = models.find(model_key(rec.provider, rec.direction_code));
      if ((h > 0 || job.start) && it == models.end()) it = co_await load_model(rec, amount);
      if ((h > 0 || job.start) && it != models.end()) {
        amount = amount.round(it->second.spend_precision, rounding::down);
      }
      // The first hop's share of the route's minimum follows its amount (a resumed route's is
      // rounded to the hop's precision); a later hop carries everything the one before delivered,
      // in another asset, so the share that one passed on.
      const decimal hop_min_final =
          h == 0 ? scaled(job.min_final, amount, first_amount, rounding::up) : carried_min;
      const chain_price priced = price_chain(st->legs, job, h, amount);
      const auto now = std::chrono::system_clock::now();
      // The leg's own deadline, when planned, is its firm quote's validity if that ends first.
      std::optional<wall_time> deadline = now + options().leg_ttl;
      if (st->intent.deadline && *st->intent.deadline < *deadline) deadline = st->intent.deadline;
      if (rec.deadline && *rec.deadline < *deadline) deadline = rec.deadline;
      const bool intent_over = st->intent.deadline && *st->intent.deadline <= now;
      if (!priced.failure.empty() || priced.final_worst < hop_min_final || *deadline <= now) {
        const std::string why =
            !priced.failure.empty() ? "slippage guard: " + priced.failure
            : intent_over           ? std::string("the intent's deadline passed before sending")
            : *deadline <= now
                ? std::string("its quote expired before sending")
                : fmt::format("slippage guard: worst case {} {} below the minimum share {}",
                              priced.final_worst.to_string(), st->intent.receive_asset,
                              hop_min_final.to_string());
        log.set_phase(rec, leg_phase::cancelled, why);
        log.alarm(rec, "not sent: " + why);
        st->remainders.push_back({rec.spend_asset, amount, hop_min_final, {}});
        cancel_rest(*st, job, h + 1, "an earlier leg of the route was not sent");
        co_return;
      }
      const bool resized = rec.amount != amount;
      rec.amount = amount;
      rec.quoted_receive = priced.net;
      rec.min_receive = priced.worst;
      rec.deadline = deadline;
      if (resized && !log.save(rec, fmt::format("sized by the previous leg: {} {}",
                                                amount.to_string(), rec.spend_asset))) {
        co_return;
      }
      co_await send(rec);
      if (rec.phase == leg_phase::filled) {
        carried_min = pass_unspent(*st, rec, hop_min_final);
        amount = rec.receive_filled;
        continue;
      }
      if (troubled(rec.phase) || !is_final(rec.phase)) {
        cancel_rest(*st, job, h + 1, fmt::format("previous leg {}", to_string(rec.phase)));
        co_return;
      }
      hand_on_rest(*st, rec, amount, hop_min_final, h + 1 < job.legs.size(), rec.provider);
      cancel_rest(*st, job, h + 1, fmt::format("previous leg {}", to_string(rec.phase)));
      co_return;
    }
  }

  // Journals the legs of `p` for `st` and returns the route jobs.
  result<std::vector<route_job>> add_plan(run_state& st, const plan& p, int attempt,
                                          decimal min_final, bool with_intent) {
    std::vector<leg_record> fresh;
    std::vector<route_job> jobs;
    for (const auto& route : p.routes) {
      route_job job;
      job.min_final = scaled(min_final, route.spend, p.spend, rounding::up);
      for (const auto& planned : route.legs) {
        leg_record rec;
        rec.intent_id = st.intent.id;
        rec.index = st.next_index++;
        rec.attempt = attempt;
        rec.client = make_client_id(st.intent.id, rec.index, rec.attempt);
        rec.provider = planned.order.provider;
        rec.direction_code = planned.order.direction_code;
        rec.spend_asset = planned.order.spend_asset;
        rec.receive_asset = planned.order.receive_asset;
        rec.side = planned.order.side;
        rec.amount = planned.order.amount;
        rec.min_receive = planned.worst_net;
        rec.quoted_receive = planned.net;
        rec.quote_id = planned.order.quote_id;
        rec.deadline = st.intent.deadline;
        // A firm quote is refused once it expires: its leg is sent before then or re-planned
        // (DESIGN.md s.5), instead of spending a round trip on a refusal.
        if (!rec.quote_id.empty() && planned.valid_until &&
            (!rec.deadline || *planned.valid_until < *rec.deadline)) {
          rec.deadline = planned.valid_until;
        }
        rec.updated_at = std::chrono::system_clock::now();
        job.legs.push_back(rec.index);
        fresh.push_back(rec);
      }
      jobs.push_back(std::move(job));
    }
    auto written =
        with_intent ? log.records().add_intent(st.intent, fresh) : log.records().add_legs(fresh);
    if (!written) return std::unexpected(std::move(written.error()));
    for (auto& rec : fresh) {
      log.report(
          rec.intent_id, rec.client, "phase",
          fmt::format("planned: {} {} {} -> {} at {}", rec.amount.to_string(), rec.spend_asset,
                      rec.receive_asset, rec.quoted_receive.to_string(), rec.provider));
      const int index = rec.index;
      st.legs.emplace(index, std::move(rec));
    }
    return jobs;
  }

  task<void> run_jobs(std::shared_ptr<run_state> st, std::vector<route_job> jobs) {
    std::vector<std::function<task<void>()>> work;
    for (auto& job : jobs) {
      work.push_back([this, st, job] { return run_route(st, job); });
    }
    co_await run_all(std::move(work));
  }

  // Quotes and plans `asked` at every provider. No route while a provider could not be priced (a
  // timeout, an error, a connection still opening on a cold start) is asked again after a jittered
  // poll_initial, up to max_replans fan-outs, while `go_on()` holds; `asking_again` is told why
  // each time. With every provider priced, no route is final.
  task<quoted_plan> quote_until_priced(swap_intent asked, std::function<bool()> go_on,
                                       std::function<void(const std::string&)> asking_again) {
    const std::vector<venue*> everyone(directory.all().begin(), directory.all().end());
    for (int fanouts = 1;; ++fanouts) {
      quoted_plan quoted = co_await quote_and_plan(everyone, asked, options().planning,
                                                   options().fanout, options().book);
      remember(quoted.models);
      if (quoted.result.ok() || quoted.unavailable.empty() || fanouts >= options().max_replans ||
          !go_on()) {
        co_return quoted;
      }
      asking_again(fmt::format("{} had no price ({})", quoted.unavailable.front().route.str(),
                               quoted.unavailable.front().reason.str()));
      // A provider that refused at once (503, a reset) is not asked again at once.
      co_await sleep_for(log.jittered(options().poll_initial));
      if (!go_on()) co_return quoted;
    }
  }

  // Re-plans every remainder at the providers that did not just fail it.
  task<void> replan(std::shared_ptr<run_state> st, int attempt) {
    std::vector<remainder> pending = std::move(st->remainders);
    st->remainders.clear();
    std::vector<route_job> jobs;
    for (const auto& part : pending) {
      swap_intent again;
      again.spend_asset = part.asset;
      again.receive_asset = st->intent.receive_asset;
      again.side = amount_side::spend;
      again.amount = part.amount;
      again.min_receive = part.min_final;
      again.deadline = st->intent.deadline;
      for (venue* v : directory.all()) {
        if (v->id() != part.failed_provider) again.providers.emplace_back(v->id());
      }
      if (part.asset == st->intent.receive_asset || again.providers.empty()) {
        st->unplaced = part.asset != st->intent.receive_asset;
        continue;
      }
      log.note(st->intent.id, {}, "replan",
               fmt::format("re-planning {} {} (attempt {})", part.amount.to_string(), part.asset,
                           attempt));
      // Asked again within this attempt: nothing of the attempt has been sent yet, so a restart
      // meanwhile re-plans this part from the legs it came from (resume).
      // Named, not temporaries of the co_await: g++ 12 destroys such temporaries twice.
      std::function<bool()> go_on = [this, st] {
        return !stopped.contains(st->intent.id) && !st->past_deadline();
      };
      std::function<void(const std::string&)> asking_again = [this, st,
                                                              &part](const std::string& why) {
        log.note(st->intent.id, {}, "replan",
                 fmt::format("no route for {} {} while {}: asking again", part.amount.to_string(),
                             part.asset, why));
      };
      const quoted_plan quoted =
          co_await quote_until_priced(again, std::move(go_on), std::move(asking_again));
      if (!quoted.result.ok()) {
        st->unplaced = true;
        log.alarm(st->intent.id,
                  fmt::format("remainder {} {} not re-planned: {}", part.amount.to_string(),
                              part.asset, quoted.result.failure));
        continue;
      }
      if (options().admit_remainder) {
        if (auto refused = options().admit_remainder(st->intent.id, quoted.result)) {
          st->unplaced = true;
          log.alarm(st->intent.id, fmt::format("remainder {} {} not re-planned: {}",
                                               part.amount.to_string(), part.asset, *refused));
          continue;
        }
      }
      auto added = add_plan(*st, quoted.result, attempt, part.min_final, false);
      if (!added) {
        st->unplaced = true;
        log.alarm(st->intent.id,
                  "remainder not sent: the journal refused its legs: " + describe(added.error()));
        continue;
      }
      jobs.insert(jobs.end(), added->begin(), added->end());
    }
    if (!jobs.empty()) co_await run_jobs(st, std::move(jobs));
  }

  // Re-plans what is left, attempt by attempt from `first_attempt`, while the intent's deadline
  // and max_replans allow.
  task<void> replan_remainders(std::shared_ptr<run_state> st, int first_attempt) {
    for (int attempt = first_attempt;
         attempt <= options().max_replans && !st->remainders.empty(); ++attempt) {
      if (stopped.contains(st->intent.id)) {
        log.note(st->intent.id, {}, "replan", "stopping: the remainder is not re-planned");
        break;
      }
      if (log.broken() || st->past_deadline()) {
        st->unplaced = true;
        log.alarm(st->intent.id, "remainder not re-planned: the intent's deadline passed");
        break;
      }
      co_await replan(st, attempt);
    }
    if (!st->remainders.empty()) st->unplaced = true;
  }

  // After a restart: an intent stopped before it (a "stop" event of cancel()) stays stopped, its
  // open legs asked to cancel as the live run would have.
  void resume_stop(const std::string& intent_id) {
    if (stopped.contains(intent_id)) return;
    auto events = log.records().events_of(intent_id);
    if (!events || std::none_of(events->begin(), events->end(),
                                [](const auto& e) { return e.kind == "stop"; })) {
      return;
    }
    stopped.insert(intent_id);
    follow.cancel_intent(intent_id);
  }

  // After a restart's lookups, with every leg of `intent` reconciled (`legs` as journaled now):
  // an intent that was still executing ("open") resumes the later hops of its routes, sized by
  // what the previous hop delivered, and re-plans the unconverted remainders of its latest
  // attempt (of the one before when none of the latest was sent), while its deadline allows.
  // Legs still planned were never sent: those not resumed are cancelled. A leg that was
  // unfinished before the restart (a client id in `reconciled`) never had what it left
  // unconverted handed on: an open intent re-plans it, any other one is partial for it. Records
  // how the intent ended; counts the hops resumed in `continued`.
  task<void> resume(intent_record intent, std::vector<leg_record> legs,
                    std::shared_ptr<std::size_t> continued, std::set<client_id> reconciled) {
    auto st = std::make_shared<run_state>();
    st->intent = std::move(intent);
    int latest = 0;
    for (auto& rec : legs) {
      latest = std::max(latest, rec.attempt);
      st->next_index = std::max(st->next_index, rec.index + 1);
      const int index = rec.index;
      st->legs.emplace(index, std::move(rec));
    }
    // The attempt whose remainders are still to place: the latest, unless none of its legs left
    // the process (it died while planning them, maybe before every remainder of the attempt
    // before had its legs): then that one's remainders are re-planned whole.
    bool latest_unsent = latest > 0;
    for (const auto& [index, rec] : st->legs) {
      if (rec.attempt == latest && rec.phase != leg_phase::planned) latest_unsent = false;
    }
    const int placing = latest_unsent ? latest - 1 : latest;
    const bool open = st->intent.state == "open" && !stopped.contains(st->intent.id);
    const bool may_send =
        open && !log.broken() &&
        (!st->intent.deadline || std::chrono::system_clock::now() < *st->intent.deadline);
    // Routes: add_plan numbers the hops of one route consecutively; a route ends at the intent's
    // receive asset.
    std::vector<route_job> chains;
    for (const auto& [index, rec] : st->legs) {
      if (!chains.empty()) {
        const leg_record& prev = st->legs.at(chains.back().legs.back());
        if (prev.index + 1 == rec.index && prev.attempt == rec.attempt &&
            prev.receive_asset != st->intent.receive_asset &&
            prev.receive_asset == rec.spend_asset) {
          chains.back().legs.push_back(index);
          continue;
        }
      }
      chains.push_back(route_job{{index}, {}, {}});
    }
    // What the first plan spent, the whole add_plan shared the intent's minimum over: less than
    // the intent's amount when the plan was partial, another asset's amount for exact receive.
    decimal first_spend;
    for (const auto& chain : chains) {
      const leg_record& head = st->legs.at(chain.legs.front());
      if (head.attempt == 0 && head.spend_asset == st->intent.spend_asset) {
        first_spend += head.amount;
      }
    }
    // As execute() has it: what the first plan did not place of a spend intent stays unplaced,
    // unless it was rounding dust.
    if (st->intent.side == amount_side::spend &&
        unplaced_by_plan(st->intent, st->intent.amount - first_spend, true)) {
      st->unplaced = true;
    }
    std::vector<route_job> tails;
    for (auto& chain : chains) {
      const leg_record& head = st->legs.at(chain.legs.front());
      const leg_record& last = st->legs.at(chain.legs.back());
      // The route's share of the intent's minimum, as add_plan gave it; a re-planned route's
      // last leg carries its own worst case.
      chain.min_final = head.attempt == 0 && head.spend_asset == st->intent.spend_asset
                            ? scaled(st->intent.min_receive, head.amount, first_spend, rounding::up)
                            : last.min_receive;
      const bool current = head.attempt == placing && open;
      decimal amount = head.amount;
      // The least the route's last leg must deliver for the part of the head that went through.
      decimal hop_min_final = chain.min_final;
      for (std::size_t h = 0; h < chain.legs.size(); ++h) {
        leg_record& rec = st->legs.at(chain.legs[h]);
        // A hop never sent because the one before was unfinished is settled with that one.
        const bool settled_now = reconciled.contains(rec.client) ||
                                 (h > 0 && rec.provider_ref.empty() &&
                                  reconciled.contains(st->legs.at(chain.legs[h - 1]).client));
        // What this leg left unconverted is still to be placed: the live run never handed it on.
        const bool hands_on = current || settled_now;
        if (rec.phase == leg_phase::filled) {
          if (hands_on) {
            hop_min_final = pass_unspent(*st, rec, hop_min_final);
          } else if (rec.side == amount_side::spend) {
            hop_min_final =
                scaled(hop_min_final, converted_of(rec, rec.amount), rec.amount, rounding::up);
          }
          amount = rec.receive_filled;
          continue;
        }
        if (rec.phase == leg_phase::planned && h > 0 && current && may_send) {
          route_job tail;
          tail.legs.assign(chain.legs.begin() + static_cast<std::ptrdiff_t>(h), chain.legs.end());
          tail.min_final = hop_min_final;
          tail.start = amount;
          log.note(st->intent.id, rec.client, "resume",
                   fmt::format("restart: resuming hop {} with {} {} delivered by the previous one",
                               h + 1, amount.to_string(), rec.spend_asset));
          tails.push_back(std::move(tail));
          break;
        }
        if (rec.phase == leg_phase::planned) {
          log.set_phase(rec, leg_phase::cancelled, "restart: never sent");
          if (current) st->remainders.push_back({rec.spend_asset, amount, hop_min_final, {}});
          cancel_rest(*st, chain, h + 1, "restart: an earlier leg of the route was not sent");
          break;
        }
        if (!is_final(rec.phase)) {
          // Unknown, lost or frozen (alarmed), or still open: the rest of the route waits for
          // nothing.
          cancel_rest(*st, chain, h + 1, fmt::format("previous leg {}", to_string(rec.phase)));
          break;
        }
        if (hands_on) {
          // Not at the provider that refused or ended it; one we cancelled before sending (no
          // reference, not rejected) refused nothing.
          const bool reached = !rec.provider_ref.empty() || rec.phase == leg_phase::rejected;
          hand_on_rest(*st, rec, amount, hop_min_final, h + 1 < chain.legs.size(),
                       reached ? rec.provider : std::string());
        }
        cancel_rest(*st, chain, h + 1, fmt::format("previous leg {}", to_string(rec.phase)));
        break;
      }
    }
    // An intent that no longer executes (halted) re-plans nothing: what is left is unplaced.
    if (!open && !st->remainders.empty()) {
      st->unplaced = true;
      st->remainders.clear();
    }
    *continued += tails.size();
    if (!tails.empty()) co_await run_jobs(st, std::move(tails));
    if (open) co_await replan_remainders(st, latest + 1);
    std::vector<leg_record> now;
    for (auto& [index, rec] : st->legs) now.push_back(rec);
    const execution_result summary = summarise(st->intent, std::move(now), st->unplaced);
    log.set_intent_state(st->intent.id, summary.state, "restart reconciliation");
  }

  execution_result summarise(const intent_record& intent, std::vector<leg_record> legs,
                             bool unplaced) {
    execution_result out;
    out.intent_id = intent.id;
    std::map<std::string, decimal> fees;
    bool all_final = true;
    bool trouble = false;
    for (const auto& rec : legs) {
      if (!is_final(rec.phase)) all_final = false;
      if (troubled(rec.phase) || !is_final(rec.phase)) trouble = true;
      const bool settled =
          rec.phase == leg_phase::filled || rec.phase == leg_phase::partially_filled;
      if (!settled) continue;
      if (rec.spend_asset == intent.spend_asset) out.spent += rec.spend_filled;
      if (rec.receive_asset == intent.receive_asset) out.received += rec.receive_filled;
      if (rec.fee_filled.is_positive()) fees[rec.receive_asset] += rec.fee_filled;
      if (rec.spend_fee_filled.is_positive()) fees[rec.spend_asset] += rec.spend_fee_filled;
    }
    for (auto& [asset, amount] : fees) out.fees.push_back({asset, amount});
    if (out.spent.is_positive()) {
      out.effective_rate =
          out.received.div(out.spent, rounding::down).value_or(decimal{}).round(18, rounding::down);
    }
    out.filled = all_final && !trouble && !unplaced && out.received.is_positive();
    out.state = trouble                      ? "halted"
                : out.filled                 ? "done"
                : out.received.is_positive() ? "partial"
                                             : "failed";
    out.legs = std::move(legs);
    return out;
  }
};

executor::executor(std::span<venue* const> venues, journal& j, execution_options options,
                   event_sink sink)
    : impl_(std::make_unique<impl>(venues, j, std::move(options), std::move(sink))) {}

executor::~executor() = default;

execution_log& executor::log() noexcept { return impl_->log; }

void executor::hint(const client_id& client) { impl_->follow.hint(client); }

void executor::cancel(const std::string& intent_id) {
  impl_->stopped.insert(intent_id);
  impl_->follow.cancel_intent(intent_id);
  // Journaled so that a restart finishes the stop (the drain may end before the intent does)
  // instead of resuming the intent.
  impl_->log.note(intent_id, {}, "stop", "stopping: nothing more of it is sent or re-planned");
}

task<execution_result> executor::run(intent_record intent) {
  const intent_record wanted = intent;
  // Nothing is journaled before the plan, so asking again leaves no trace but the report.
  // Named, not temporaries of the co_await (g++ 12).
  std::function<bool()> go_on = [&wanted] { return !past_deadline(wanted); };
  std::function<void(const std::string&)> asking_again = [this, &wanted](const std::string& why) {
    impl_->log.report(wanted.id, {}, "intent", "no route while " + why + ": asking again");
  };
  swap_intent asked = planner_intent(wanted);
  auto quoted = co_await impl_->quote_until_priced(std::move(asked), std::move(go_on),
                                                   std::move(asking_again));
  co_return co_await execute(wanted, std::move(quoted));
}

task<execution_result> executor::execute(intent_record intent, quoted_plan quoted) {
  auto st = std::make_shared<run_state>();
  st->intent = std::move(intent);
  const quoted_plan first = std::move(quoted);
  impl& self = *impl_;
  if (self.options().dry_run) st->intent.dry_run = true;
  self.remember(first.models);
  if (!first.result.ok()) {
    st->intent.state = "failed";
    const std::vector<leg_record> none;
    auto written = self.log.records().add_intent(st->intent, none);
    self.log.report(st->intent.id, {}, "intent", "failed: no route: " + first.result.failure);
    if (!written)
      self.log.alarm(st->intent.id, "journal write failed: " + describe(written.error()));
    execution_result out = self.summarise(st->intent, {}, true);
    out.state = "failed";
    co_return out;
  }
  auto jobs = self.add_plan(*st, first.result, 0, st->intent.min_receive, true);
  if (!jobs) {
    // Nothing was sent: the intent and its legs are not in the journal (FAULTS.md 24).
    self.log.report(st->intent.id, {}, "alarm",
                    "not sent: the journal refused the intent: " + describe(jobs.error()));
    execution_result out = self.summarise(st->intent, {}, true);
    out.state = "failed";
    co_return out;
  }
  self.log.report(
      st->intent.id, {}, "intent",
      fmt::format("planned: spend {} {} for {} {} (worst {}, minimum {})",
                  first.result.spend.to_string(), st->intent.spend_asset,
                  first.result.net.to_string(), st->intent.receive_asset,
                  first.result.worst_net.to_string(), st->intent.min_receive.to_string()));
  if (self.unplaced_by_plan(st->intent, first.result.unspent, false)) st->unplaced = true;
  self.log.crash_point("after_intent_commit");
  co_await self.run_jobs(st, std::move(*jobs));
  co_await self.replan_remainders(st, 1);
  std::vector<leg_record> legs;
  for (auto& [index, rec] : st->legs) legs.push_back(rec);
  execution_result out = self.summarise(st->intent, std::move(legs), st->unplaced);
  out.quoted_net = first.result.net;
  out.quoted_rate = first.result.effective_rate;
  self.log.set_intent_state(
      st->intent.id, out.state,
      fmt::format("received {} {} for {} {}", out.received.to_string(), st->intent.receive_asset,
                  out.spent.to_string(), st->intent.spend_asset));
  co_return out;
}

task<recovery_result> executor::recover() {
  impl& self = *impl_;
  recovery_result out;
  auto unfinished = self.log.records().unfinished_legs();
  if (!unfinished) {
    self.log.report({}, {}, "alarm",
                    "restart: cannot read the journal: " + describe(unfinished.error()));
    co_return out;
  }
  const bool dry_run = self.options().dry_run;
  std::map<std::string, bool, std::less<>> same_mode;  // by intent id
  auto of_this_mode = [&](const std::string& intent_id) {
    if (auto it = same_mode.find(intent_id); it != same_mode.end()) return it->second;
    auto intent = self.log.records().intent(intent_id);
    const bool same = !intent || !*intent || (*intent)->dry_run == dry_run;
    if (!same) {
      self.log.report(intent_id, {}, "phase",
                      fmt::format("restart: left for a {} session", dry_run ? "live" : "dry-run"));
    }
    same_mode.emplace(intent_id, same);
    return same;
  };
  std::vector<std::shared_ptr<leg_record>> to_follow;
  std::vector<std::shared_ptr<leg_record>> to_settle;
  std::set<std::string> intents;
  std::set<client_id> reconciled;
  // First every leg is looked up; nothing is sent before all are (DESIGN.md s.3 "Durability").
  for (auto& stored : *unfinished) {
    if (!of_this_mode(stored.intent_id)) continue;
    ++out.legs;
    auto rec = std::make_shared<leg_record>(stored);
    if (intents.insert(rec->intent_id).second) self.resume_stop(rec->intent_id);
    reconciled.insert(rec->client);
    venue* provider = self.directory.find(rec->provider);
    if (provider == nullptr) {
      self.log.alarm(*rec, "restart: no venue " + rec->provider + " to reconcile the leg with");
      continue;
    }
    if (rec->phase == leg_phase::frozen) {
      ++out.frozen;
      continue;
    }
    if (!rec->provider_ref.empty()) {
      const leg_ref ref{rec->provider_ref, rec->client};
      auto answer = co_await provider->status(ref);
      if (answer) {
        const int precision = co_await self.receive_precision(rec->provider, rec->direction_code);
        self.log.apply(*rec, *answer, precision);
      }
      if (!is_final(rec->phase)) to_follow.push_back(rec);
      continue;
    }
    const leg order = impl::order_of(*rec);
    const client_id id = rec->client;
    const held_swaps held = self.held_by_others(*rec);
    auto found = co_await provider->find(id, order, held);
    if (self.held_by_another(*rec, found)) *found = std::nullopt;
    if (found && *found) {
      ++out.adopted;
      const bool adopted = co_await self.adopt(*rec, **found, "restart: adopted by client id");
      if (!adopted) ++out.frozen;
      if (adopted && !is_final(rec->phase)) to_follow.push_back(rec);
      continue;
    }
    if (!found && inconsistent(found.error())) {
      ++out.frozen;
      self.log.set_phase(*rec, leg_phase::frozen, "restart: inconsistent provider record");
      self.log.alarm(*rec, "restart: inconsistent provider record, frozen and never resent: " +
                               describe(found.error()));
      continue;
    }
    // Planned and unknown to the provider: never sent. Whether it is sent now (a later hop whose
    // previous one filled) or cancelled is decided with its intent below. A failed lookup does
    // not make it unknown: send() journals a leg submitting before it leaves, so a planned one
    // never left, and settling it as unknown would send it unsized, before its previous hop.
    if (rec->phase == leg_phase::planned) {
      if (!found) {
        self.log.report(
            rec->intent_id, rec->client, "find",
            "restart: lookup failed: " + describe(found.error()) + "; planned, so never sent");
      }
      continue;
    }
    // Submitting or unknown, and not found (or the lookup failed): an unknown outcome.
    if (rec->phase != leg_phase::unknown) {
      self.log.set_phase(*rec, leg_phase::unknown,
                         found ? "restart: not found at the provider"
                               : "restart: lookup failed: " + describe(found.error()));
    }
    to_settle.push_back(rec);
  }
  // Then each leg is followed (or its unknown outcome settled) to its end.
  std::vector<std::function<task<void>()>> work;
  for (auto& rec : to_follow) {
    ++out.resumed;
    work.push_back([&self, rec]() -> task<void> { return self.follow_leg(*rec); });
  }
  for (auto& rec : to_settle) {
    work.push_back([&self, rec]() -> task<void> { return self.resettle(*rec); });
  }
  co_await run_all(std::move(work));
  for (const auto& rec : to_settle) {
    if (rec->phase == leg_phase::unknown) ++out.unknown;
  }
  // An intent that was still executing when the process died (state "open") may have every leg
  // final and a remainder not yet re-planned, however many intents came after it (FAULTS.md I5).
  if (auto open = self.log.records().open_intents()) {
    for (const auto& i : *open) {
      // Each intent's stop is read once, when it first joins the set.
      if (i.dry_run == dry_run && intents.insert(i.id).second) self.resume_stop(i.id);
    }
  } else {
    self.log.alarm(std::string_view{},
                   "restart: cannot read the open intents: " + describe(open.error()));
  }
  // Finally each intent resumes what its routes had left to do.
  std::vector<std::function<task<void>()>> resumes;
  auto continued = std::make_shared<std::size_t>(0);
  for (const auto& intent_id : intents) {
    auto intent = self.log.records().intent(intent_id);
    auto legs = self.log.records().legs_of(intent_id);
    if (!intent || !*intent || !legs) continue;
    out.intents.push_back(intent_id);
    resumes.push_back([&self, continued, &reconciled, i = std::move(**intent),
                       l = std::move(*legs)] { return self.resume(i, l, continued, reconciled); });
  }
  co_await run_all(std::move(resumes));
  out.continued = *continued;
  co_return out;
}

result<execution_result> executor::summary(const std::string& intent_id) {
  auto intent = impl_->log.records().intent(intent_id);
  if (!intent) return std::unexpected(std::move(intent.error()));
  if (!*intent) return fail(error_kind::not_found, "no intent " + intent_id);
  auto legs = impl_->log.records().legs_of(intent_id);
  if (!legs) return std::unexpected(std::move(legs.error()));
  execution_result out = impl_->summarise(**intent, std::move(*legs), false);
  // The legs do not say whether a remainder was left unplaced: an intent that ended keeps the
  // state it was journaled with.
  if ((*intent)->state != "open") {
    out.state = (*intent)->state;
    out.filled = out.state == "done";
  }
  return out;
}

}  // namespace swaprouter
