#include "engine/router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace swaprouter {
namespace {

constexpr int hop_cap = 4;
const decimal hundred = decimal::from_int(100);
// The length of a segment without a limit; far above any amount a swap moves, far enough below
// the decimal range that rate x length cannot overflow for rates up to 10^8.
const decimal unlimited = decimal::from_int(100'000'000'000);

using balance = std::optional<decimal>;

// Why a quote may not be used at all (DESIGN.md s.5 admission).
enum class admission : std::uint8_t { unchecked, ok, stale, ttl, deadline, provider };

struct hop {
  std::uint16_t quote = 0;
  balance available;
};

// A linear piece of a route's net-of-percent-fee receive: `length` of spend at `rate`.
struct segment {
  decimal length;
  decimal rate;
};

struct route {
  std::array<hop, hop_cap> hops{};
  int count = 0;
  decimal low;
  decimal high = unlimited;
  std::string high_limit;  // which limit bounds high, for limits_hit
  std::vector<segment> segments;
  decimal fixed;  // the last hop's absolute fee: a lower bound of the route's absolute fees
  decimal best_rate;
  std::string failure;  // why the route cannot take the whole amount alone, if it cannot
  bool viable = false;  // can take part of the amount
};

struct chain_price {
  std::array<price, hop_cap> legs{};
  int count = 0;
  decimal net() const { return legs[count - 1].net; }
};

struct chain_failure {
  int hop = 0;
  price_error error;
};

// An allocation of the spend over routes, with its upper bound or its exact value.
struct allocation {
  std::vector<std::uint16_t> routes;
  std::vector<decimal> amounts;
  decimal bound;
  bool full = false;
};

struct evaluated {
  allocation alloc;
  std::vector<chain_price> prices;
  decimal net;
  decimal spend;
};

class planner {
 public:
  planner(const swap_intent& intent, std::span<const pricing> quotes,
          const planner_options& options, wall_time now)
      : intent_(intent),
        quotes_(quotes),
        options_(options),
        now_(now),
        admitted_(quotes.size(), admission::unchecked) {}

  plan run();

 private:
  const pricing& quote_of(const hop& h) const { return quotes_[h.quote]; }
  admission admit(std::size_t i);
  std::string admission_reason(std::size_t i) const;
  const held_balance* held(const std::string& provider, const std::string& asset) const;
  bool provider_allowed(const std::string& provider) const;

  void enumerate();
  void extend(route& r, const std::string& asset);
  void add_route(const route& r);
  std::string describe_route(const route& r) const;

  std::expected<chain_price, chain_failure> price_chain(const route& r, decimal spend) const;
  void bound(route& r) const;
  std::vector<segment> segments_of(const hop& h) const;

  std::optional<allocation> fill(std::span<const std::uint16_t> members, decimal amount) const;
  std::optional<evaluated> evaluate(const allocation& a) const;
  bool within_balances(const evaluated& e) const;
  std::optional<evaluated> best_for(decimal amount);
  std::optional<evaluated> least_split_spend();

  plan build(const evaluated& best);
  plan plan_spend();
  plan plan_receive();
  planned_route build_route(const route& r, const chain_price& c) const;
  void reject_rest(plan& out, const std::vector<bool>& used) const;
  plan no_plan(std::string why) const;

  const swap_intent& intent_;
  std::span<const pricing> quotes_;
  const planner_options& options_;
  wall_time now_;
  std::vector<admission> admitted_;
  std::vector<route> routes_;
  std::vector<rejected_route> rejected_;
};

admission planner::admit(std::size_t i) {
  if (admitted_[i] != admission::unchecked) return admitted_[i];
  const pricing& p = quotes_[i];
  admission a = admission::ok;
  if (!provider_allowed(p.provider)) {
    a = admission::provider;
  } else if (now_ - p.obtained_at > options_.quote_max_age) {
    a = admission::stale;
  } else if (p.valid_until && *p.valid_until - now_ < p.execution_p95) {
    a = admission::ttl;
  } else if (intent_.deadline && now_ + p.execution_p95 > *intent_.deadline) {
    a = admission::deadline;
  }
  admitted_[i] = a;
  return a;
}

std::string planner::admission_reason(std::size_t i) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const pricing& p = quotes_[i];
  switch (admitted_[i]) {
    case admission::stale:
      return fmt::format("stale: {} {} obtained {} ms ago, max age {} ms", p.provider,
                         p.direction_code,
                         duration_cast<milliseconds>(now_ - p.obtained_at).count(),
                         options_.quote_max_age.count());
    case admission::ttl:
      return fmt::format(
          "ttl: {} {} valid for {} ms, p95 execution {} ms", p.provider, p.direction_code,
          duration_cast<milliseconds>(*p.valid_until - now_).count(), p.execution_p95.count());
    case admission::deadline:
      return fmt::format("deadline: {} p95 execution {} ms ends after the intent's deadline",
                         p.provider, p.execution_p95.count());
    default:
      return "provider not allowed";
  }
}

const held_balance* planner::held(const std::string& provider, const std::string& asset) const {
  for (const held_balance& h : options_.held) {
    if (h.provider == provider && h.asset == asset) return &h;
  }
  return nullptr;
}

bool planner::provider_allowed(const std::string& provider) const {
  return intent_.providers.empty() || std::find(intent_.providers.begin(), intent_.providers.end(),
                                                provider) != intent_.providers.end();
}

std::string planner::describe_route(const route& r) const {
  std::string out;
  for (int i = 0; i < r.count; ++i) {
    const pricing& p = quote_of(r.hops[i]);
    if (i > 0) out += ", ";
    out += fmt::format("{}: {}->{}", p.provider, p.spend_asset, p.receive_asset);
  }
  return out;
}

void planner::enumerate() {
  route r;
  extend(r, intent_.spend_asset);
}

// Depth-first over directions: a path never revisits an asset, never reuses a direction, and
// continues at another provider only where that provider already holds the intermediate asset.
void planner::extend(route& r, const std::string& asset) {
  const int max_hops = std::clamp(options_.max_hops, 1, hop_cap);
  for (std::size_t i = 0; i < quotes_.size(); ++i) {
    const pricing& p = quotes_[i];
    if (p.spend_asset != asset || p.receive_asset == intent_.spend_asset) continue;
    const bool last = p.receive_asset == intent_.receive_asset;
    if (!last && r.count + 1 == max_hops) continue;
    bool visited = false;
    for (int k = 0; k < r.count; ++k) {
      visited = visited || quote_of(r.hops[k]).spend_asset == p.receive_asset;
    }
    if (visited) continue;
    hop h{static_cast<std::uint16_t>(i), std::nullopt};
    if (r.count == 0) {
      const held_balance* b = held(p.provider, asset);
      h.available = b ? balance(b->amount) : p.available;
    } else if (quote_of(r.hops[r.count - 1]).provider != p.provider) {
      const held_balance* b = held(p.provider, asset);
      if (!b || !b->amount.is_positive()) continue;
      h.available = b->amount;
    }
    r.hops[r.count++] = h;
    if (last) {
      add_route(r);
    } else {
      extend(r, p.receive_asset);
    }
    --r.count;
  }
}

void planner::add_route(const route& r) {
  for (int k = 0; k < r.count; ++k) {
    if (admit(r.hops[k].quote) != admission::ok) {
      rejected_.push_back({describe_route(r), admission_reason(r.hops[k].quote)});
      return;
    }
  }
  routes_.push_back(r);
}

std::expected<chain_price, chain_failure> planner::price_chain(const route& r,
                                                               decimal spend) const {
  chain_price c;
  decimal amount = spend;
  for (int k = 0; k < r.count; ++k) {
    auto q = price_spend(quote_of(r.hops[k]), amount, r.hops[k].available);
    if (!q) return std::unexpected(chain_failure{k, q.error()});
    c.legs[k] = *q;
    amount = q->net;
  }
  c.count = r.count;
  return c;
}

std::vector<segment> planner::segments_of(const hop& h) const {
  const pricing& p = quote_of(h);
  const decimal keep = hundred - p.fee_percent;
  std::vector<segment> out;
  const auto push = [&](decimal length, result<decimal> rate) {
    if (rate) out.push_back({std::min(length, unlimited), *rate});
  };
  if (p.model != pricing_model::order_book) {
    auto gross = p.rate_receive.div(p.rate_spend, rounding::up);
    if (gross) push(unlimited, gross->mul_div(keep, hundred, rounding::up));
    return out;
  }
  for (const book_level& level : p.book.levels) {
    if (p.book.side == book_side::sell) {
      push(level.quantity, level.price.mul_div(keep, hundred, rounding::up));
      continue;
    }
    auto length = level.quantity.mul(level.price, rounding::up);
    auto per_spend = keep.div(level.price, rounding::up);
    if (length && per_spend) push(*length, per_spend->div(hundred, rounding::up));
  }
  return out;
}

// Chains a route's segments: `next` consumes what `first` produces. Rates and lengths are
// rounded up so the linear model never under-states a route (it bounds the exact price above).
std::vector<segment> compose(const std::vector<segment>& first, const std::vector<segment>& next) {
  std::vector<segment> out;
  std::size_t i = 0;
  std::size_t j = 0;
  decimal first_left = first.empty() ? decimal{} : first[0].length;
  decimal next_left = next.empty() ? decimal{} : next[0].length;
  while (i < first.size() && j < next.size()) {
    auto rate = first[i].rate.mul(next[j].rate, rounding::up);
    auto produced = first_left.mul(first[i].rate, rounding::up);
    if (!rate || !produced) break;
    if (*produced <= next_left) {
      out.push_back({first_left, *rate});
      next_left -= *produced;
      if (++i < first.size()) first_left = first[i].length;
      continue;
    }
    auto length = next_left.div(first[i].rate, rounding::up);
    if (!length) break;
    out.push_back({std::min(*length, first_left), *rate});
    first_left -= std::min(*length, first_left);
    if (++j < next.size()) next_left = next[j].length;
  }
  return out;
}

// The spend interval of a route from every hop's limits, carried back through the earlier hops
// by exact-receive prices, and its linear upper model.
void planner::bound(route& r) const {
  const int last = r.count - 1;
  spend_bounds b = bounds_of(quote_of(r.hops[last]), r.hops[last].available);
  decimal low = b.low;
  // The least spend that nets anything: a fixed fee or min_receive can set it above the limits.
  if (auto some = price_receive(quote_of(r.hops[last]), receive_unit(quote_of(r.hops[last])),
                                r.hops[last].available)) {
    low = std::max(low, some->spend);
  }
  std::optional<decimal> high = b.high;
  std::string high_limit;
  if (high) {
    high_limit = fmt::format("{} {} {}", quote_of(r.hops[last]).provider,
                             quote_of(r.hops[last]).direction_code, to_string(b.high_reason));
  }
  for (int k = last - 1; k >= 0; --k) {
    const pricing& p = quote_of(r.hops[k]);
    const spend_bounds own = bounds_of(p, r.hops[k].available);
    auto need = price_receive(p, low, r.hops[k].available);
    if (need) {
      low = std::max(own.low, need->spend);
    } else if (need.error().reason == price_failure::min_spend ||
               need.error().reason == price_failure::min_receive) {
      // This hop's own minimum is above what the next hop needs: it sets the route's low.
      low = own.low;
    } else {
      r.failure = describe(need.error());
      return;
    }
    if (high.has_value()) {
      // The largest spend whose net stays within the next hop's high.
      const decimal next_high = high.value_or(decimal{});
      auto above = price_receive(p, next_high + receive_unit(p), r.hops[k].available);
      if (above) {
        high = above->spend - spend_unit(p);
      } else {
        high.reset();
      }
    }
    if (own.high && (!high || *own.high < *high)) {
      high = own.high;
      high_limit =
          fmt::format("{} {} {}", p.provider, p.direction_code, to_string(own.high_reason));
    }
  }
  r.low = low;
  if (high) r.high = std::min(*high, unlimited);
  r.high_limit = std::move(high_limit);
  r.segments = segments_of(r.hops[0]);
  for (int k = 1; k < r.count; ++k) r.segments = compose(r.segments, segments_of(r.hops[k]));
  r.fixed = quote_of(r.hops[last]).fee_fixed;
  r.best_rate = r.segments.empty() ? decimal{} : r.segments.front().rate;
  r.viable = !r.segments.empty() && r.low <= r.high;
}

// The linear optimum of spending `amount` over `members` (each at least its low, at most its
// high, first hops within their shared balance): everyone at its low, then the rest by the best
// marginal rate. Optimal for the linear model because every route's segments are concave.
std::optional<allocation> planner::fill(std::span<const std::uint16_t> members,
                                        decimal amount) const {
  allocation a;
  a.routes.assign(members.begin(), members.end());
  a.amounts.resize(members.size());
  std::array<std::size_t, 8> seg{};
  std::array<decimal, 8> seg_used{};
  decimal placed;
  const auto shared_room = [&](std::size_t m) -> std::optional<decimal> {
    const hop& first = routes_[members[m]].hops[0];
    if (!first.available) return std::nullopt;
    decimal used;
    for (std::size_t o = 0; o < members.size(); ++o) {
      // Every first hop spends the intent's asset: one balance per provider.
      if (quote_of(routes_[members[o]].hops[0]).provider == quote_of(first).provider) {
        used += a.amounts[o];
      }
    }
    return *first.available - used;
  };
  // Advances route m by `length` along its segments, adding to the bound.
  const auto advance = [&](std::size_t m, decimal length) {
    const route& r = routes_[members[m]];
    a.amounts[m] += length;
    placed += length;
    while (length.is_positive() && seg[m] < r.segments.size()) {
      const segment& s = r.segments[seg[m]];
      const decimal take = std::min(length, s.length - seg_used[m]);
      auto gain = take.mul(s.rate, rounding::up);
      a.bound += gain ? *gain : unlimited;
      length -= take;
      seg_used[m] += take;
      if (seg_used[m] >= s.length) {
        ++seg[m];
        seg_used[m] = decimal{};
      }
    }
  };
  for (std::size_t m = 0; m < members.size(); ++m) {
    const route& r = routes_[members[m]];
    a.bound -= r.fixed;
    advance(m, r.low);
  }
  if (placed > amount) return std::nullopt;
  for (std::size_t m = 0; m < members.size(); ++m) {
    auto room = shared_room(m);
    if (room && room->is_negative()) return std::nullopt;
  }
  while (placed < amount) {
    std::optional<std::size_t> best;
    decimal best_room;
    for (std::size_t m = 0; m < members.size(); ++m) {
      const route& r = routes_[members[m]];
      if (seg[m] >= r.segments.size()) continue;
      decimal room = std::min(r.high - a.amounts[m], r.segments[seg[m]].length - seg_used[m]);
      if (auto shared = shared_room(m)) room = std::min(room, *shared);
      if (!room.is_positive()) continue;
      if (!best || r.segments[seg[m]].rate > routes_[members[*best]].segments[seg[*best]].rate) {
        best = m;
        best_room = room;
      }
    }
    if (!best) break;
    advance(*best, std::min(best_room, amount - placed));
  }
  a.full = placed == amount;
  return a;
}

std::optional<evaluated> planner::evaluate(const allocation& a) const {
  evaluated e;
  e.alloc = a;
  for (std::size_t m = 0; m < a.routes.size(); ++m) {
    auto c = price_chain(routes_[a.routes[m]], a.amounts[m]);
    if (!c) return std::nullopt;
    e.net += c->net();
    e.spend += c->legs[0].spend;
    e.prices.push_back(*c);
  }
  if (!within_balances(e)) return std::nullopt;
  return e;
}

// Every hop with a balance, summed per provider and asset over the parts, stays within it.
bool planner::within_balances(const evaluated& e) const {
  for (std::size_t m = 0; m < e.prices.size(); ++m) {
    const route& r = routes_[e.alloc.routes[m]];
    for (int k = 0; k < r.count; ++k) {
      if (!r.hops[k].available) continue;
      const pricing& p = quote_of(r.hops[k]);
      decimal used;
      for (std::size_t o = 0; o < e.prices.size(); ++o) {
        const route& other = routes_[e.alloc.routes[o]];
        for (int l = 0; l < other.count; ++l) {
          const pricing& q = quote_of(other.hops[l]);
          if (other.hops[l].available && q.provider == p.provider &&
              q.spend_asset == p.spend_asset) {
            used += e.prices[o].legs[l].spend;
          }
        }
      }
      if (used > *r.hops[k].available) return false;
    }
  }
  return true;
}

bool disjoint(const std::vector<route>& routes, std::span<const std::uint16_t> members) {
  for (std::size_t a = 0; a < members.size(); ++a) {
    for (std::size_t b = a + 1; b < members.size(); ++b) {
      const route& x = routes[members[a]];
      const route& y = routes[members[b]];
      for (int i = 0; i < x.count; ++i) {
        for (int j = 0; j < y.count; ++j) {
          if (x.hops[i].quote == y.hops[j].quote) return false;
        }
      }
    }
  }
  return true;
}

// Branch and bound over subsets of the best routes: each subset's linear optimum bounds every
// allocation over it, so subsets are priced exactly best bound first until no bound can beat
// the best exact net found.
std::optional<evaluated> planner::best_for(decimal amount) {
  std::vector<std::uint16_t> viable;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].viable && routes_[i].low <= amount)
      viable.push_back(static_cast<std::uint16_t>(i));
  }
  std::sort(viable.begin(), viable.end(), [&](std::uint16_t a, std::uint16_t b) {
    return routes_[a].best_rate > routes_[b].best_rate;
  });
  const std::size_t width =
      options_.split ? std::min<std::size_t>({viable.size(), options_.split_routes, 8}) : 0;
  std::vector<allocation> candidates;
  for (std::uint32_t mask = 1; mask < (1u << width); ++mask) {
    std::vector<std::uint16_t> members;
    for (std::size_t b = 0; b < width; ++b) {
      if (mask & (1u << b)) members.push_back(viable[b]);
    }
    if (!disjoint(routes_, members)) continue;
    auto a = fill(members, amount);
    if (a && (a->full || options_.allow_partial)) candidates.push_back(std::move(*a));
  }
  // Routes beyond the split width still compete alone.
  for (std::size_t v = width; v < viable.size(); ++v) {
    const std::uint16_t one[] = {viable[v]};
    auto a = fill(one, amount);
    if (a && (a->full || options_.allow_partial)) candidates.push_back(std::move(*a));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const allocation& a, const allocation& b) { return a.bound > b.bound; });
  std::optional<evaluated> best;
  for (const allocation& a : candidates) {
    if (best && a.bound < best->net) break;
    auto e = evaluate(a);
    if (!e) continue;
    if (!best || e->net > best->net || (e->net == best->net && e->spend < best->spend)) {
      best = std::move(e);
    }
  }
  return best;
}

planned_route planner::build_route(const route& r, const chain_price& c) const {
  planned_route out;
  out.spend = c.legs[0].spend;
  out.net = c.net();
  // Worst case: every non-firm hop after its assumed adverse move, each spending what the
  // previous one then delivers; a hop that could not price any more delivers nothing.
  decimal worst_amount = out.spend;
  std::vector<decimal> worst(static_cast<std::size_t>(r.count));
  for (int k = 0; k < r.count; ++k) {
    const pricing& p = quote_of(r.hops[k]);
    decimal w;
    if (worst_amount.is_positive()) {
      const bool moves = p.slippage_percent.is_positive() && !c.legs[k].firm;
      auto q = moves ? price_spend(worst_case(p), worst_amount, r.hops[k].available)
                     : price_spend(p, worst_amount, r.hops[k].available);
      if (q) w = std::min(q->net, c.legs[k].net);
    }
    worst[static_cast<std::size_t>(k)] = w;
    worst_amount = w;
  }
  out.worst_net = worst_amount;
  for (int k = 0; k < r.count; ++k) {
    const pricing& p = quote_of(r.hops[k]);
    const price& q = c.legs[k];
    planned_leg l;
    l.order.provider = p.provider;
    l.order.direction_code = p.direction_code;
    l.order.spend_asset = p.spend_asset;
    l.order.receive_asset = p.receive_asset;
    l.order.side = amount_side::spend;
    l.order.amount = q.spend;
    l.order.min_receive = worst[static_cast<std::size_t>(k)];
    if (q.firm) l.order.quote_id = p.quote_id;
    l.gross = q.gross;
    l.fee = q.fee;
    l.net = q.net;
    l.worst_net = worst[static_cast<std::size_t>(k)];
    l.levels = q.levels;
    l.firm = q.firm;
    l.obtained_at = p.obtained_at;
    l.valid_until = p.valid_until;
    out.legs.push_back(std::move(l));
  }
  if (!r.high_limit.empty() && out.spend >= r.high) out.limits_hit.push_back(r.high_limit);
  return out;
}

void planner::reject_rest(plan& out, const std::vector<bool>& used) const {
  out.rejected = rejected_;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (used[i]) continue;
    const route& r = routes_[i];
    std::string why = r.failure;
    if (why.empty()) {
      why = r.viable ? "outranked: the plan nets more" : "limit: no amount fits its limits";
    }
    out.rejected.push_back({describe_route(r), std::move(why)});
  }
}

plan planner::no_plan(std::string why) const {
  plan out;
  out.failure = std::move(why);
  reject_rest(out, std::vector<bool>(routes_.size(), false));
  return out;
}

plan planner::build(const evaluated& best) {
  plan out;
  std::vector<bool> used(routes_.size(), false);
  for (std::size_t m = 0; m < best.alloc.routes.size(); ++m) {
    used[best.alloc.routes[m]] = true;
    planned_route pr = build_route(routes_[best.alloc.routes[m]], best.prices[m]);
    out.spend += pr.spend;
    out.net += pr.net;
    out.worst_net += pr.worst_net;
    for (const planned_leg& l : pr.legs) {
      auto it = std::find_if(out.fees.begin(), out.fees.end(), [&](const asset_amount& f) {
        return f.asset == l.order.receive_asset;
      });
      if (it == out.fees.end()) {
        out.fees.push_back({l.order.receive_asset, l.fee});
      } else {
        it->amount += l.fee;
      }
    }
    out.routes.push_back(std::move(pr));
  }
  // The largest part first: the order to execute in.
  std::sort(out.routes.begin(), out.routes.end(),
            [](const planned_route& a, const planned_route& b) { return a.net > b.net; });
  if (intent_.side == amount_side::spend) out.unspent = intent_.amount - out.spend;
  auto rate = out.net.div(out.spend, rounding::down);
  if (rate) out.effective_rate = *rate;
  reject_rest(out, used);
  if (out.worst_net < intent_.min_receive) {
    out.failure = fmt::format("below minimum: worst-case receive {} below {}",
                              out.worst_net.to_string(), intent_.min_receive.to_string());
    out.rejected.push_back({"plan", out.failure});
    out.routes.clear();
  }
  return out;
}

plan planner::plan_spend() {
  for (route& r : routes_) {
    bound(r);
    if (!r.failure.empty()) continue;
    auto whole = price_chain(r, intent_.amount);
    if (!whole) {
      r.failure = fmt::format("{} {}: {}", quote_of(r.hops[whole.error().hop]).provider,
                              quote_of(r.hops[whole.error().hop]).direction_code,
                              describe(whole.error().error));
    }
  }
  auto best = best_for(intent_.amount);
  if (!best) return no_plan("no route: no candidate or split can take the amount");
  return build(*best);
}

// The least spend whose best split nets the intent's amount: doubling, then bisection to
// 10^-8 of the spend asset (the net never falls when the spend grows).
std::optional<evaluated> planner::least_split_spend() {
  const auto enough = [&](const std::optional<evaluated>& e) {
    return e && e->net >= intent_.amount;
  };
  decimal high = decimal::from_int(1);
  auto best = best_for(high);
  for (int i = 0; !enough(best); ++i) {
    if (i == 60 || (intent_.max_spend && high > *intent_.max_spend)) return std::nullopt;
    high = high + high;
    best = best_for(high);
  }
  const decimal precision = decimal::from_raw(10'000'000'000);
  decimal low;
  while (high - low > precision) {
    const decimal mid =
        (low + (high - low).div(decimal::from_int(2), rounding::down).value_or(decimal{}))
            .round(8, rounding::down);
    if (mid <= low || mid >= high) break;
    auto e = best_for(mid);
    if (enough(e)) {
      high = mid;
      best = std::move(e);
    } else {
      low = mid;
    }
  }
  return best;
}

// Exact receive: the least spend whose plan nets the amount. A route alone is priced backwards
// from the receive; when none can deliver it alone, the spend is bisected over split plans.
plan planner::plan_receive() {
  std::optional<evaluated> best;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    route& r = routes_[i];
    bound(r);
    if (!r.failure.empty()) continue;
    decimal wanted = intent_.amount;
    std::optional<decimal> spend;
    for (int k = r.count - 1; k >= 0; --k) {
      auto q = price_receive(quote_of(r.hops[k]), wanted, r.hops[k].available);
      if (!q) {
        r.failure = fmt::format("{} {}: {}", quote_of(r.hops[k]).provider,
                                quote_of(r.hops[k]).direction_code, describe(q.error()));
        break;
      }
      wanted = q->spend;
      spend = q->spend;
    }
    if (!r.failure.empty() || !spend) continue;
    allocation a;
    a.routes = {static_cast<std::uint16_t>(i)};
    a.amounts = {*spend};
    auto e = evaluate(a);
    if (!e || e->net < intent_.amount) continue;
    if (!best || e->spend < best->spend) best = std::move(e);
  }
  if (options_.split) {
    // A split can spend less than the best route alone (a cheaper route capped by its limits).
    auto split = least_split_spend();
    if (split && (!best || split->spend < best->spend)) best = std::move(split);
  }
  if (!best) return no_plan("no route: no candidate or split delivers the amount");
  if (intent_.max_spend && best->spend > *intent_.max_spend) {
    return no_plan(fmt::format("above maximum: the least spend {} exceeds {}",
                               best->spend.to_string(), intent_.max_spend->to_string()));
  }
  return build(*best);
}

plan planner::run() {
  if (!intent_.amount.is_positive() || intent_.spend_asset == intent_.receive_asset) {
    return no_plan("invalid intent: the amount must be positive and the assets differ");
  }
  enumerate();
  return intent_.side == amount_side::spend ? plan_spend() : plan_receive();
}

}  // namespace

plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
               const planner_options& options, wall_time now) {
  return planner(intent, quotes, options, now).run();
}

}  // namespace swaprouter
