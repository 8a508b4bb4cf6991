#include "engine/router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

namespace swaprouter {
namespace {

constexpr int hop_cap = 4;
constexpr std::size_t split_cap = 8;
const decimal hundred = decimal::from_int(100);
// The length of a segment without a limit; far above any amount a swap moves, far enough below
// the decimal range that rate x length cannot overflow for rates up to 10^8.
constexpr std::int64_t unlimited_units = 100'000'000'000;
const decimal unlimited = decimal::from_int(unlimited_units);
// Above the rounding a linear bound adds per segment (one last place each), so that a bound
// computed from the best rate alone never falls below the exact linear optimum.
const decimal rounding_slack = decimal::from_raw(1'000'000);

using balance = std::optional<decimal>;

__uint128_t magnitude(int128 v) {
  return v < 0 ? -static_cast<__uint128_t>(v) : static_cast<__uint128_t>(v);
}
int bits_of_magnitude(__uint128_t m) {
  const auto high = static_cast<std::uint64_t>(m >> 64);
  return high != 0 ? 128 - std::countl_zero(high)
                   : 64 - std::countl_zero(static_cast<std::uint64_t>(m));
}
// Bits of a magnitude.
int bits_of(int128 v) { return bits_of_magnitude(magnitude(v)); }

using id = std::uint16_t;

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

// Which hop's rule bounds a route from above: formatted only when a plan hits it.
struct limit_ref {
  int hop = -1;
  price_failure reason = price_failure::invalid;
};

struct chain_price {
  std::array<price, hop_cap> legs{};
  int count = 0;
  decimal net() const { return legs[count - 1].net; }
};

// A candidate route and everything about it that no amount, clock or plan changes. Its bound,
// linear model and name are filled in once each (route_set's flags), when a plan first
// needs them; a plan keeps its own view of which routes it bounded and why it rejected them.
struct route {
  std::array<hop, hop_cap> hops{};
  int count = 0;
  std::uint16_t index = 0;  // its place in its route_set: the key of its flags
  bool quote_balance = false;  // the first hop's balance is its quote's `available`
  // Known for every route from the first price level of each hop alone.
  decimal best_rate;        // the rate of the first linear segment: the best the route offers
  decimal unit;             // the first hop's spend unit: less of the intent's asset is dust
  decimal coarse_step;      // the last hop's receive step if coarser than a last place, else 0
  bool linear = false;      // the linear model has a segment at all
  bool rate_bound = false;  // every hop's levels come best first: best_rate bounds every rate
  decimal fixed;  // the last hop's absolute fee: a lower bound of the route's absolute fees
  // Known once bound_route() ran: only for routes a search could not rule out by best_rate.
  decimal low;
  decimal high = unlimited;
  limit_ref high_limit;
  shared_text failure;              // why the route cannot price at all (its bound failed)
  bool viable = false;              // can take part of the amount
  std::optional<decimal> low_gain;  // low x best_rate rounded up: what its low gains at most
  // Known once segments_for() ran: only for routes a split or single candidate fills.
  std::vector<segment> segments;
  // Per segment: its whole length at its rate, rounded up (none on overflow): what fill() and
  // solo_gain() add for a segment they take whole, without a multiplication each time.
  std::vector<std::optional<decimal>> gains;
  // Bits of the sum of the gains' magnitudes, or of the longest segment if more, when every gain
  // is known and the segments are few; else 128 (fill's precheck: see fits_unchecked).
  int model_bits = 128;
  shared_text name;   // "onek: USDT->BTC, kiiex: BTC->COPM", once named
  std::string limit;  // "kiiex BTC-COPM depth": high_limit as a plan's limits_hit names it
  limit_ref limit_of;  // the high_limit `limit` names (a route_cache's repriced route keeps it)
  // Known once at_high() ran: the exact price of spending exactly `high` (none where it fails).
  // A split fills a route up to its high and no further, so a plan whose split fills a route to
  // its limit prices it so, whatever the intent's amount. Held in place: a shared pointer cost an
  // allocation and a free per route and new prices.
  std::optional<chain_price> priced_high;
  // Known once solo_gain() ran for an amount of at least `high`: its answer for all of them.
  std::optional<decimal> solo_high;
};

struct chain_failure {
  int hop = 0;
  price_error error;
};

// Up to split_cap values in place: the subset search makes and copies many allocations, and a
// heap allocation each was a fifth of a plan.
template <class T>
class small_list {
 public:
  void assign(const T* first, const T* last) {
    size_ = static_cast<std::size_t>(last - first);
    std::copy(first, last, items_.begin());
  }
  void resize(std::size_t n) {
    for (std::size_t i = size_; i < n; ++i) items_[i] = T{};
    size_ = n;
  }
  void push_back(const T& item) { items_[size_++] = item; }
  // The next item, as the last one left it: for the caller to fill in.
  T& add() { return items_[size_++]; }
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return items_[i]; }
  const T& operator[](std::size_t i) const { return items_[i]; }

 private:
  std::array<T, split_cap> items_{};
  std::size_t size_ = 0;
};

// An allocation of the spend over routes, with its upper bound or its exact value.
struct allocation {
  small_list<std::uint16_t> routes;
  small_list<decimal> amounts;
  decimal bound;
  bool full = false;
};

struct evaluated {
  allocation alloc;
  small_list<chain_price> prices;
  decimal net;
  decimal spend;
};

// The first linear segment of one quote, and whether its levels come best first.
struct first_segment {
  // The market's generation plus one when computed, 0 before: new prices make it unknown
  // without a pass over every quote's.
  std::uint64_t known_at = 0;
  std::optional<segment> first;
  bool ordered = true;
};

// Small integer ids for the assets and providers of a market, so that the route search compares
// integers instead of strings. A name is compared by one word (its length and first seven bytes)
// before its bytes: a memcmp per comparison was a fifth of a plan. Quotes come grouped by provider
// and spend asset: the last id found is tried first.
class interner {
 public:
  id of(std::string_view name, id& hint) {
    const std::uint64_t k = key(name);
    if (hint < names_.size() && same(hint, k, name)) return hint;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (same(i, k, name)) return hint = static_cast<id>(i);
    }
    names_.push_back(name);
    keys_.push_back(k);
    return hint = static_cast<id>(names_.size() - 1);
  }
  std::optional<id> find(std::string_view name) const {
    const std::uint64_t k = key(name);
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (same(i, k, name)) return static_cast<id>(i);
    }
    return std::nullopt;
  }
  std::size_t size() const { return names_.size(); }
  std::string_view name(id i) const { return names_[i]; }
  void reserve(std::size_t n) {
    names_.reserve(n);
    keys_.reserve(n);
  }
  // Copies the names it refers to, so that they may outlive the quotes they came from.
  void own() {
    owned_.assign(names_.begin(), names_.end());
    for (std::size_t i = 0; i < names_.size(); ++i) names_[i] = owned_[i];
  }

 private:
  // Up to 7 bytes: the bytes and the length, one-to-one. Longer: both ends of the name mixed,
  // with a length byte of at least 8 (so never a short name's key); equal keys are then
  // confirmed byte by byte.
  static std::uint64_t key(std::string_view name) {
    if (name.size() <= 7) {
      std::uint64_t k = name.size();
      for (std::size_t i = 0; i < name.size(); ++i) {
        k |= std::uint64_t{static_cast<unsigned char>(name[i])} << (8 * (i + 1));
      }
      return k;
    }
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
    std::memcpy(&head, name.data(), sizeof head);
    std::memcpy(&tail, name.data() + name.size() - sizeof tail, sizeof tail);
    return ((head ^ std::rotl(tail, 29)) << 8) | std::min<std::size_t>(name.size(), 255);
  }
  bool same(std::size_t i, std::uint64_t k, std::string_view name) const {
    return keys_[i] == k && (name.size() <= 7 || names_[i] == name);
  }

  std::vector<std::string_view> names_;
  std::vector<std::uint64_t> keys_;
  std::vector<std::string> owned_;  // what names_ refers to once own() ran
};

struct quote_ids {
  id provider = 0;
  id spend = 0;
  id receive = 0;
};

// A held balance that names a provider and asset of the market.
struct held_key {
  id provider = 0;
  id asset = 0;
  decimal amount;
  bool operator==(const held_key&) const = default;
};

// What a set of candidate routes depends on besides the quotes.
struct route_key {
  id spend = 0;
  id receive = 0;
  int max_hops = 0;
  std::vector<held_key> held;  // in the order of planner_options::held: the first one wins
  bool operator==(const route_key&) const = default;
};

// fill()'s steps over one list of members until none has room left, which depend on the quotes
// alone (their routes' lows, highs, balances and linear models): a fill of any amount is these
// steps up to the one that reaches it, that one in part (planner::fill_along).
struct fill_step {
  decimal placed;         // before the step
  decimal room;           // what the step takes when the amount does not end it
  decimal bound;          // before the step
  std::uint32_t seg = 0;  // the member's segment it takes from
  std::uint8_t member = 0;
};

struct fill_path {
  std::array<std::uint16_t, split_cap> routes{};  // the members, by index in their route set
  std::size_t size = 0;
  bool refused = false;  // a shared balance below the members' lows: no fill at all
  decimal lows;          // placed and the bound once every member is at its low
  decimal lows_bound;
  std::vector<fill_step> steps;
  decimal end_placed;  // placed and the bound after the last step
  decimal end_bound;
};

// How many fill paths a shared route set keeps (a few kilobytes each).
constexpr std::size_t fill_paths_kept = 16;

// Every candidate route of one route_key, in the order the depth-first search finds them (the
// order that breaks ties), with the order by best rate, and one flag per route for each of its
// lazily computed parts.
struct route_set {
  using flags = std::unique_ptr<std::atomic<bool>[]>;

  // Runs `compute` unless `done` is set, then sets it. A set shared by plans on several threads
  // computes under its lock; readers see the result through the flag's acquire. (std::call_once,
  // whose glibc first run ends in a futex wake system call, cost a quarter of a plan.)
  template <class F>
  void once(std::atomic<bool>& done, F&& compute) {
    if (done.load(std::memory_order_acquire)) return;
    std::unique_lock lock(mutex, std::defer_lock);
    if (shared) lock.lock();
    if (done.load(std::memory_order_relaxed)) return;
    compute();
    done.store(true, std::memory_order_release);
  }

  route_key key;
  bool shared = false;
  bool keep = false;             // kept by its market for later plans: names are kept too
  std::uint64_t generation = 0;  // the market's prices it was rated with (route_cache)
  std::vector<route> routes;
  std::vector<std::uint16_t> by_rate;  // best rate first, ties in the order found
  flags bounded;
  flags segmented;
  flags named;
  flags limited;
  flags at_high;
  flags solo;
  std::vector<std::unique_ptr<fill_path>> paths;  // shared sets only, under mutex
  std::mutex mutex;
};

}  // namespace

struct prepared_market::state {
  state(std::span<const pricing> q, bool shared_, bool keep_ = false)
      : quotes(q), shared(shared_), keep(shared_ || keep_) {
    index();
  }
  state(std::vector<pricing> q, std::optional<std::chrono::milliseconds> fresh, bool shared_)
      : owned(std::move(q)), quotes(owned), fresh_for(fresh), shared(shared_) {
    index();
  }

  void index();
  const first_segment& first_of(std::uint16_t quote) const;
  const book_sums* sums_for(std::uint16_t quote) const;
  std::shared_ptr<route_set> routes_for(route_key key) const;
  // route_cache: whether `q` has this market's topology, and taking its prices instead.
  bool same_topology(std::span<const pricing> q) const;
  // Owns the interned names and lists each quote's, in order, for same_topology.
  void keep_topology();
  void reprice(std::span<const pricing> q);
  void refresh(route_set& set) const;
  // quote_book::is_fresh with max age fresh_for; every quote without fresh_for.
  bool fresh_is(std::size_t i, wall_time now) const noexcept {
    if (!fresh_for) return true;
    const pricing& p = quotes[i];
    if (now - p.obtained_at > *fresh_for) return false;
    return !p.valid_until || *p.valid_until > now;
  }

  std::vector<pricing> owned;
  std::span<const pricing> quotes;
  std::optional<std::chrono::milliseconds> fresh_for;
  // Shared by plans (possibly on several threads): every first segment is computed up front and
  // route sets are cached. Otherwise private to one plan, which computes only what it needs.
  bool shared = true;
  // Route sets (and their names) are cached: shared, or a route_cache's state repriced by each
  // plan (`generation` counts its prices; a set rated with older ones is refreshed on use).
  bool keep = true;
  std::uint64_t generation = 0;
  interner assets;
  interner providers;
  std::vector<quote_ids> ids;
  // route_cache only: each quote's provider, spend and receive names (keep_topology).
  std::vector<std::array<std::string_view, 3>> topology;
  // Quotes by spend asset: by_spend[spend_start[a] .. spend_start[a + 1]) spend asset a, in the
  // order of quotes (which keeps the routes in the order a scan of quotes finds them).
  std::vector<std::uint16_t> by_spend;
  std::vector<std::uint32_t> spend_start;
  // Filled in up front when shared, else on first use by the one plan that owns the state.
  mutable std::vector<first_segment> firsts;
  // Shared: each book's whole-level sums (pricing.hpp book_sums), made when a plan first walks
  // it, under mutex, and published by its flag. A market of one plan does not sum its books: it
  // walks most of them about once, and summing a book costs a walk of all its levels.
  mutable std::vector<book_sums> sums;
  std::unique_ptr<std::atomic<bool>[]> sums_made;
  mutable std::mutex mutex;
  mutable std::vector<std::shared_ptr<route_set>> cache;  // under mutex
  mutable std::size_t next_evicted = 0;                   // under mutex
};

namespace {

using market_state = prepared_market::state;

// A set's routes best rate first, ties in the order found. The order is total (a route's place
// breaks ties), so sorting any permutation of the routes yields it: a route_cache's set sorts its
// previous order, usually sorted already or nearly, after new prices. By insertion for the few
// routes of most sets; a total order needs no stable sort (which allocates on every call).
void sort_by_rate(route_set& set) {
  std::vector<std::uint16_t>& order = set.by_rate;
  const auto before = [&](std::uint16_t a, std::uint16_t b) {
    const decimal x = set.routes[a].best_rate;
    const decimal y = set.routes[b].best_rate;
    return x > y || (x == y && a < b);
  };
  if (order.size() > 32) {
    std::sort(order.begin(), order.end(), before);
    return;
  }
  for (std::size_t i = 1; i < order.size(); ++i) {
    const std::uint16_t item = order[i];
    std::size_t j = i;
    for (; j > 0 && before(item, order[j - 1]); --j) order[j] = order[j - 1];
    order[j] = item;
  }
}

// How many route sets (intent pairs, hop limits, held balances) a shared market keeps.
constexpr std::size_t route_sets_kept = 32;

std::optional<segment> compose_first(const segment& first, const segment& next);

// A quote's receive increment where it is coarser than one last place of its precision, else
// zero. (A buy book's quantity increment is a step of what it buys, not of its net: the polish's
// trim, lift and last-unit moves serve it.)
decimal coarse_step(const pricing& p) {
  if (!p.receive_increment) return {};
  const decimal place = decimal::unit(std::clamp(p.receive_precision, 0, decimal::scale));
  return *p.receive_increment > place ? *p.receive_increment : decimal{};
}

// The route's best rate from the first segment of every hop: what the search ranks routes by,
// and, when every hop's levels come best first, a bound on every rate the route offers.
void rate(const market_state& m, route& r) {
  const first_segment& head = m.first_of(r.hops[0].quote);
  std::optional<segment> first = head.first;
  r.rate_bound = head.ordered;
  for (int k = 1; k < r.count && first; ++k) {
    const first_segment& next = m.first_of(r.hops[k].quote);
    r.rate_bound = r.rate_bound && next.ordered;
    first = next.first ? compose_first(*first, *next.first) : std::nullopt;
  }
  r.linear = first.has_value();
  r.best_rate = first ? first->rate : decimal{};
  r.fixed = m.quotes[r.hops[r.count - 1].quote].fee_fixed;
  r.unit = spend_unit(m.quotes[r.hops[0].quote]);
  r.coarse_step = coarse_step(m.quotes[r.hops[r.count - 1].quote]);
}

// Enumerates the candidate routes of one key over a market.
class route_search {
 public:
  route_search(const market_state& m, route_set& out) : m_(m), out_(out), key_(out.key) {}

  void run() {
    // The quotes into the intent's receive asset alone, by spend asset: a route's last hop.
    const std::size_t assets = m_.assets.size();
    into_start_.assign(assets + 1, 0);
    for (const quote_ids& q : m_.ids) {
      if (q.receive == key_.receive) ++into_start_[q.spend + 1];
    }
    for (std::size_t a = 0; a < assets; ++a) into_start_[a + 1] += into_start_[a];
    into_receive_.resize(into_start_.back());
    std::vector<std::uint32_t> next(into_start_.begin(), into_start_.end() - 1);
    for (std::size_t i = 0; i < m_.ids.size(); ++i) {
      if (m_.ids[i].receive == key_.receive) {
        into_receive_[next[m_.ids[i].spend]++] = static_cast<std::uint16_t>(i);
      }
    }
    out_.routes.reserve(64);
    route r;
    extend(r, key_.spend);
    const std::size_t n = out_.routes.size();
    out_.by_rate.resize(n);
    for (std::size_t i = 0; i < n; ++i) out_.by_rate[i] = static_cast<std::uint16_t>(i);
    sort_by_rate(out_);
    out_.bounded = std::make_unique<std::atomic<bool>[]>(n);
    out_.segmented = std::make_unique<std::atomic<bool>[]>(n);
    out_.named = std::make_unique<std::atomic<bool>[]>(n);
    out_.limited = std::make_unique<std::atomic<bool>[]>(n);
    out_.at_high = std::make_unique<std::atomic<bool>[]>(n);
    out_.solo = std::make_unique<std::atomic<bool>[]>(n);
  }

 private:
  const held_key* held(id provider, id asset) const {
    for (const held_key& h : key_.held) {
      if (h.provider == provider && h.asset == asset) return &h;
    }
    return nullptr;
  }

  // Depth-first over directions: a path never revisits an asset, never reuses a direction, and
  // continues at another provider only where that provider already holds the intermediate asset.
  void extend(route& r, id asset) {
    const int max_hops = key_.max_hops;
    // The last hop allowed can only be one into the receive asset: only those are scanned.
    const bool final_hop = r.count + 1 == max_hops;
    const std::vector<std::uint16_t>& quotes = final_hop ? into_receive_ : m_.by_spend;
    const std::vector<std::uint32_t>& start = final_hop ? into_start_ : m_.spend_start;
    for (std::uint32_t s = start[asset]; s < start[asset + 1]; ++s) {
      const std::uint16_t i = quotes[s];
      const quote_ids& q = m_.ids[i];
      if (q.receive == key_.spend) continue;
      const bool last = q.receive == key_.receive;
      if (!last && r.count + 1 == max_hops) continue;
      bool visited = false;
      for (int k = 0; k < r.count; ++k) {
        visited = visited || m_.ids[r.hops[k].quote].spend == q.receive;
      }
      if (visited) continue;
      hop h{i, std::nullopt};
      if (r.count == 0) {
        const held_key* b = held(q.provider, asset);
        h.available = b ? balance(b->amount) : m_.quotes[i].available;
        r.quote_balance = b == nullptr;
      } else if (m_.ids[r.hops[r.count - 1].quote].provider != q.provider) {
        const held_key* b = held(q.provider, asset);
        if (!b || !b->amount.is_positive()) continue;
        h.available = b->amount;
      }
      r.hops[r.count++] = h;
      if (last) {
        r.index = static_cast<std::uint16_t>(out_.routes.size());
        out_.routes.push_back(r);
        rate(m_, out_.routes.back());
      } else {
        extend(r, q.receive);
      }
      --r.count;
    }
  }

  const market_state& m_;
  route_set& out_;
  const route_key& key_;
  std::vector<std::uint16_t> into_receive_;
  std::vector<std::uint32_t> into_start_;
};

}  // namespace

// Interns every quote's provider and assets once and groups the quotes by spend asset, so that
// extending a route looks only at the quotes that spend what it holds.
void prepared_market::state::index() {
  assets.reserve(16);
  providers.reserve(8);
  ids.resize(quotes.size());
  id provider_hint = 0;
  id spend_hint = 0;
  id receive_hint = 0;
  for (std::size_t i = 0; i < quotes.size(); ++i) {
    const pricing& p = quotes[i];
    ids[i] = {providers.of(p.provider, provider_hint), assets.of(p.spend_asset, spend_hint),
              assets.of(p.receive_asset, receive_hint)};
  }
  spend_start.assign(assets.size() + 1, 0);
  for (const quote_ids& q : ids) ++spend_start[q.spend + 1];
  for (std::size_t a = 0; a < assets.size(); ++a) spend_start[a + 1] += spend_start[a];
  by_spend.resize(quotes.size());
  std::vector<std::uint32_t> next(spend_start.begin(), spend_start.end() - 1);
  for (std::size_t i = 0; i < quotes.size(); ++i) {
    by_spend[next[ids[i].spend]++] = static_cast<std::uint16_t>(i);
  }
  firsts.resize(quotes.size());
  if (shared) {
    sums.resize(quotes.size());
    sums_made = std::make_unique<std::atomic<bool>[]>(quotes.size());
  }
  if (shared) {
    for (std::size_t i = 0; i < quotes.size(); ++i) first_of(static_cast<std::uint16_t>(i));
  }
}

std::shared_ptr<route_set> prepared_market::state::routes_for(route_key key) const {
  if (shared) {
    const std::lock_guard lock(mutex);
    for (const auto& set : cache) {
      if (set->key == key) return set;
    }
  } else if (keep) {
    // A route_cache's state: one plan at a time, no lock.
    for (const auto& set : cache) {
      if (set->key != key) continue;
      if (set->generation != generation) refresh(*set);
      return set;
    }
  }
  auto set = std::make_shared<route_set>();
  set->key = std::move(key);
  set->shared = shared;
  set->keep = keep;
  set->generation = generation;
  route_search(*this, *set).run();
  if (!keep) return set;
  std::unique_lock lock(mutex, std::defer_lock);
  if (shared) lock.lock();
  // Another plan may have searched the same key meanwhile: keep the first one.
  for (const auto& kept : cache) {
    if (kept->key == set->key) return kept;
  }
  if (cache.size() < route_sets_kept) {
    cache.push_back(set);
  } else {
    cache[next_evicted] = set;
    next_evicted = (next_evicted + 1) % route_sets_kept;
  }
  return set;
}

namespace {

// a == b for the short names of providers and assets: up to 16 bytes by two overlapping word
// loads each, no call (a memcmp call per name was a tenth of a plan through a route_cache).
[[gnu::always_inline]] inline bool same_name(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  const auto words_equal = [&]<class W>(W) {
    W x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    std::memcpy(&x0, x, sizeof(W));
    std::memcpy(&y0, y, sizeof(W));
    std::memcpy(&x1, x + n - sizeof(W), sizeof(W));
    std::memcpy(&y1, y + n - sizeof(W), sizeof(W));
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  };
  if (n >= 8) return n <= 16 ? words_equal(std::uint64_t{}) : std::memcmp(x, y, n) == 0;
  if (n >= 4) return words_equal(std::uint32_t{});
  // 1 to 3 bytes: the first, middle and last cover them all.
  return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

}  // namespace

bool prepared_market::state::same_topology(std::span<const pricing> q) const {
  if (q.size() != topology.size()) return false;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const auto& [provider, spend, receive] = topology[i];
    if (!same_name(q[i].provider, provider) || !same_name(q[i].spend_asset, spend) ||
        !same_name(q[i].receive_asset, receive)) {
      return false;
    }
  }
  return true;
}

void prepared_market::state::keep_topology() {
  assets.own();
  providers.own();
  topology.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    topology[i] = {providers.name(ids[i].provider), assets.name(ids[i].spend),
                   assets.name(ids[i].receive)};
  }
}

// New prices for the same topology: the index and the searched routes stay; the first segments
// and, on each set's next use, the routes' rates, balances, bounds and models are redone.
void prepared_market::state::reprice(std::span<const pricing> q) {
  quotes = q;
  ++generation;
}

// A kept set rated with older prices, brought to what a search over the current quotes yields:
// the same routes in the same order (a search depends on the topology and the key alone), the
// first hop's balance from its quote, the rates and their order, and nothing bounded or modelled.
void prepared_market::state::refresh(route_set& set) const {
  set.generation = generation;
  const std::size_t n = set.routes.size();
  for (route& r : set.routes) {
    if (r.quote_balance) r.hops[0].available = quotes[r.hops[0].quote].available;
    r.low = decimal{};
    r.high = unlimited;
    r.high_limit = limit_ref{};
    // Most routes' bounds did not fail: their text is already the empty one (no copy to make).
    if (!r.failure.empty()) r.failure = shared_text{};
    r.viable = false;
    r.low_gain.reset();
    r.segments.clear();
    r.gains.clear();
    r.model_bits = 128;
    r.priced_high.reset();
    r.solo_high.reset();
    rate(*this, r);
  }
  for (std::size_t i = 0; i < n; ++i) {
    set.bounded[i].store(false, std::memory_order_relaxed);
    set.segmented[i].store(false, std::memory_order_relaxed);
    set.limited[i].store(false, std::memory_order_relaxed);
    set.at_high[i].store(false, std::memory_order_relaxed);
    set.solo[i].store(false, std::memory_order_relaxed);
  }
  sort_by_rate(set);
}

namespace {

// An entry of best_for's queue: a subset of its top routes and an upper bound of what it nets.
struct search_entry {
  std::optional<decimal> key;  // none: unbounded (an overflowing gain)
  bool exact = false;
  // The cheap bound's rate part is applied to `key` (lazily: see queue_subsets).
  bool refined = true;
  std::uint32_t mask = 0;
  std::uint32_t filled = 0;  // index into best_for's filled allocations when exact
};

// What queue_subsets sums per subset of best_for's top routes, in raw units (a lazy run leaves
// out the slack and the rest: see lazy_rate_part).
struct subset_sums {
  int128 capacity, sum, best_rate, fixed, lows, at_lows, slack, coarsest, rest;
  std::uint32_t conflicts;
  std::uint8_t members;
  bool has_sum, rated;
};
using subset_table = std::array<subset_sums, std::size_t{1} << split_cap>;

// What queue_subsets sums per member of best_for's top routes, in raw units.
struct subset_member {
  int128 high, unit, solo, low_gain, best_rate, fixed, low;
  bool has_solo, rated, has_low_gain;
};
using subset_members = std::array<subset_member, split_cap>;

using gains_of_top = std::array<std::optional<decimal>, split_cap>;

// The routes of one plan: a view of the admitted routes of its route set, in the order found.
class route_list {
 public:
  // Over `index`, which it clears (a plan's scratch).
  explicit route_list(std::vector<std::uint16_t>& index) : index_(index) { index_.clear(); }
  route& operator[](std::size_t i) const { return set_->routes[index_[i]]; }
  std::size_t size() const { return index_.size(); }
  void reset(route_set* set) { set_ = set; }
  void add(std::uint16_t i) { index_.push_back(i); }
  void reserve(std::size_t n) { index_.reserve(n); }

 private:
  route_set* set_ = nullptr;
  std::vector<std::uint16_t>& index_;
};

// A plan's working vectors, kept per thread: a plan reuses the storage of the previous one on
// its thread (a plan of a few quotes spent a tenth of its time allocating them). Flags are bytes,
// not std::vector<bool>'s bits: a plan reads them for every route it rejects.
struct planner_scratch {
  std::vector<admission> admitted;
  std::vector<std::int8_t> allowed;
  std::vector<std::uint16_t> routes;
  std::vector<std::uint8_t> bounded;
  std::vector<std::string> failures;
  std::vector<std::uint16_t> by_rate;
  std::vector<std::int32_t> places;
  std::vector<std::uint8_t> used;
  shared_text named;
  // best_for's queue of subsets, their fills, every subset's sums and its two evaluation slots
  // (a fresh queue per call was a large allocation; returning, moving and copying evaluations of
  // several kilobytes each cost a tenth of a search).
  std::vector<search_entry> queue;
  std::vector<allocation> filled;
  subset_table subsets;
  std::array<evaluated, 2> slots;
  evaluated polished;  // polish()'s candidate
  evaluated residue;   // shift_residues()'s best candidate
  bool busy = false;
};

// The thread's scratch for one planner, or scratch of its own should the thread's be taken.
class scratch_lease {
 public:
  scratch_lease() {
    thread_local planner_scratch mine;
    if (mine.busy) {
      own_ = std::make_unique<planner_scratch>();
      scratch_ = own_.get();
    } else {
      scratch_ = &mine;
    }
    scratch_->busy = true;
  }
  ~scratch_lease() { scratch_->busy = false; }
  scratch_lease(const scratch_lease&) = delete;
  scratch_lease& operator=(const scratch_lease&) = delete;
  planner_scratch& get() const { return *scratch_; }

 private:
  std::unique_ptr<planner_scratch> own_;
  planner_scratch* scratch_ = nullptr;
};

class planner {
 public:
  planner(const swap_intent& intent, const market_state& market, const planner_options& options,
          wall_time now)
      : intent_(intent),
        m_(market),
        quotes_(market.quotes),
        options_(options),
        now_(now) {
    admitted_.assign(market.quotes.size(), admission::unchecked);
    allowed_.clear();
    bounded_.clear();
    failures_.clear();
    by_rate_.clear();
  }

  plan run();

 private:
  const pricing& quote_of(const hop& h) const { return quotes_[h.quote]; }
  admission admit(std::size_t i);
  std::string admission_reason(std::size_t i) const;
  bool present(const route& r);
  bool present(std::uint16_t quote);

  void enumerate();
  // The route's name: a kept set's own, else made in the scratch (valid until the next name).
  const shared_text& name(route& r);
  std::string describe_route(const route& r) const;
  // A route set's bound failure counts only once this plan bounded the route (another plan may
  // have bounded it before).
  bool bound_failed(const route& r) const { return bounded_[r.index] && !r.failure.empty(); }
  bool failed(const route& r) const { return bound_failed(r) || !failures_[r.index].empty(); }

  std::expected<chain_price, chain_failure> price_chain(const route& r, decimal spend) const;
  void bound(route& r);
  void bound_route(route& r) const;
  void segments_for(route& r) const;
  // Into `out`, which it clears: a route_cache's route keeps its model's storage across prices.
  void segments_of(const hop& h, decimal limit, std::vector<segment>& out) const;
  std::string whole_failure(const route& r) const;
  std::optional<decimal> rate_bound(const route& r, decimal amount) const;
  decimal coarsest_unit(std::span<const std::uint16_t> members) const;
  static bool takes_whole(const route& r, decimal amount) { return amount - r.high < r.unit; }

  std::optional<allocation> fill(std::span<const std::uint16_t> members, decimal amount) const;
  template <bool checked>
  std::optional<allocation> fill_as(std::span<const std::uint16_t> members, decimal amount,
                                    fill_path* record) const;
  const fill_path* path_for(std::span<const std::uint16_t> members) const;
  std::optional<allocation> fill_along(const fill_path& path,
                                       std::span<const std::uint16_t> members,
                                       decimal amount) const;
  std::optional<evaluated> evaluate(const allocation& a) const;
  bool evaluate_into(const allocation& a, evaluated& e) const;
  bool price_chain_into(const route& r, decimal spend, chain_price& c) const;
  const chain_price* at_high(route& r) const;
  void known_at_high(route& r, const price& at_low) const;
  bool within_balances(const evaluated& e) const;
  const std::vector<std::uint16_t>& by_rate() const { return by_rate_; }
  std::optional<decimal> solo_gain(route& r, decimal amount) const;
  static std::optional<decimal> solo_gain_within(const route& r, decimal amount);
  // The best evaluation, in the plan's scratch (no copy of several kilobytes): valid until the
  // next search.
  const evaluated* best_for(decimal amount);
  template <bool lazy>
  void queue_subsets(const subset_members& ms, std::size_t count,
                     const std::array<std::uint32_t, split_cap>& conflicts, decimal amount,
                     std::vector<search_entry>& queue) const;
  void reserve_bulk_route(std::array<std::uint16_t, split_cap>& top, std::size_t& count,
                          std::size_t next, decimal amount);
  std::optional<evaluated> least_split_spend();
  bool whole_units(const allocation& a, decimal amount, allocation& out) const;
  void polish(evaluated& e, decimal amount);
  decimal lost_to_step(const evaluated& e, std::size_t m) const;
  decimal lost_to_steps(const evaluated& e) const;
  bool shift_residues(evaluated& e);
  std::expected<decimal, chain_failure> spend_for(const route& r, decimal net) const;

  plan build(const evaluated& best);
  plan plan_spend();
  plan plan_receive();
  planned_route build_route(route& r, const chain_price& c, decimal asked) const;
  std::string limit_of(route& r) const;
  void reject_rest(plan& out, const std::vector<std::uint8_t>& used);
  plan no_plan(std::string why);

  const swap_intent& intent_;
  const market_state& m_;
  std::span<const pricing> quotes_;
  const planner_options& options_;
  wall_time now_;
  scratch_lease lease_;
  planner_scratch& scratch_ = lease_.get();
  std::vector<admission>& admitted_ = scratch_.admitted;
  // Per provider id: -1 unknown, else whether allowed.
  std::vector<std::int8_t>& allowed_ = scratch_.allowed;
  std::shared_ptr<route_set> set_;
  route_list routes_{scratch_.routes};
  // Per route of the set: whether this plan bounded it, and why this plan rejected it when its
  // bound did not fail (the whole amount's failure, an exact-receive failure).
  std::vector<std::uint8_t>& bounded_ = scratch_.bounded;
  std::vector<std::string>& failures_ = scratch_.failures;
  std::vector<std::uint16_t>& by_rate_ = scratch_.by_rate;
  std::vector<rejected_route> rejected_;
  // Pair prices shift_residues may still try in this plan: its cost stays bounded where many
  // splits have coarse steps and equal rates.
  int residue_budget_ = 512;
};

admission planner::admit(std::size_t i) {
  if (admitted_[i] != admission::unchecked) return admitted_[i];
  const pricing& p = quotes_[i];
  admission a = admission::ok;
  const bool allowed = intent_.providers.empty() ||
                       std::find(intent_.providers.begin(), intent_.providers.end(), p.provider) !=
                           intent_.providers.end();
  if (!allowed) {
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

// With fresh_for, a route through a stale quote or a provider the intent does not allow is not
// a candidate at all (plan_from_book never hands those quotes to the planner).
bool planner::present(const route& r) {
  if (!m_.fresh_for) return true;
  for (int k = 0; k < r.count; ++k) {
    if (!present(r.hops[k].quote)) return false;
  }
  return true;
}

bool planner::present(std::uint16_t q) {
  if (!m_.fresh_for) return true;
  std::int8_t& allowed = allowed_[m_.ids[q].provider];
  if (allowed < 0) {
    allowed = intent_.providers.empty() ||
              std::find(intent_.providers.begin(), intent_.providers.end(), quotes_[q].provider) !=
                  intent_.providers.end();
  }
  return allowed != 0 && m_.fresh_is(q, now_);
}

// A plan names most routes once: only a kept set keeps the names (they depend on the topology
// alone, so a route_cache's set keeps them across prices).
const shared_text& planner::name(route& r) {
  if (!set_->keep) return scratch_.named = describe_route(r);
  set_->once(set_->named[r.index], [&] { r.name = describe_route(r); });
  return r.name;
}

std::string planner::describe_route(const route& r) const {
  std::string out;
  out.reserve(static_cast<std::size_t>(r.count) * 24);
  for (int i = 0; i < r.count; ++i) {
    const pricing& p = quote_of(r.hops[i]);
    if (i > 0) out += ", ";
    out += p.provider;
    out += ": ";
    out += p.spend_asset;
    out += "->";
    out += p.receive_asset;
  }
  return out;
}

// The candidate routes from the market's route set for the intent's pair, hop limit and held
// balances (searched on the first plan that needs it); those through a quote admission refuses
// are rejected here with its reason, in the order found.
void planner::enumerate() {
  if (m_.fresh_for) allowed_.assign(m_.providers.size(), -1);
  const auto spend = m_.assets.find(intent_.spend_asset);
  const auto receive = m_.assets.find(intent_.receive_asset);
  // No quote spends the one or receives the other: no route, and nothing to reject.
  if (!spend || !receive) return;
  route_key key;
  key.spend = *spend;
  key.receive = *receive;
  key.max_hops = std::clamp(options_.max_hops, 1, hop_cap);
  // The first entry for a provider and asset wins, as a scan of options.held finds it.
  for (const held_balance& h : options_.held) {
    const auto provider = m_.providers.find(h.provider);
    const auto asset = m_.assets.find(h.asset);
    if (provider && asset) key.held.push_back({*provider, *asset, h.amount});
  }
  set_ = m_.routes_for(std::move(key));
  routes_.reset(set_.get());
  const std::size_t n = set_->routes.size();
  bounded_.assign(n, false);
  failures_.resize(n);
  // Each route's place among this plan's routes, or -1.
  std::vector<std::int32_t>& admitted = scratch_.places;
  admitted.assign(n, -1);
  routes_.reserve(n);
  for (std::size_t s = 0; s < n; ++s) {
    route& r = set_->routes[s];
    if (!present(r)) continue;
    bool ok = true;
    for (int k = 0; k < r.count && ok; ++k) {
      if (admit(r.hops[k].quote) != admission::ok) {
        rejected_.push_back({name(r), admission_reason(r.hops[k].quote)});
        ok = false;
      }
    }
    if (!ok) continue;
    admitted[s] = static_cast<std::int32_t>(routes_.size());
    routes_.add(static_cast<std::uint16_t>(s));
  }
  by_rate_.reserve(routes_.size());
  for (const std::uint16_t s : set_->by_rate) {
    if (admitted[s] >= 0) by_rate_.push_back(static_cast<std::uint16_t>(admitted[s]));
  }
}

std::expected<chain_price, chain_failure> planner::price_chain(const route& r,
                                                               decimal spend) const {
  chain_price c;
  decimal amount = spend;
  for (int k = 0; k < r.count; ++k) {
    auto q =
        price_spend(quote_of(r.hops[k]), amount, r.hops[k].available, m_.sums_for(r.hops[k].quote));
    if (!q) return std::unexpected(chain_failure{k, q.error()});
    c.legs[k] = *q;
    amount = q->net;
  }
  c.count = r.count;
  return c;
}

// The linear segments of one quote, level by level: rates net of the percent fee, rounded up
// (see compose). Produced as they are asked for: a later hop of a route is composed only as far
// as its earlier hops deliver, and a deep book's levels beyond that are never priced.
class quote_segments {
 public:
  // `known`: the quote's first segment when this market's prices computed it (rate models).
  quote_segments(const pricing& p, const first_segment* known)
      : p_(p), keep_(hundred - p.fee_percent), known_(known) {}

  // The next segment; none once every level was produced. Inlined: every repricing takes each
  // quote's first segment through it (a call was 1 % of a route-cache plan).
  [[gnu::always_inline]] std::optional<segment> next() {
    if (p_.model != pricing_model::order_book) {
      // A rate model is its first segment, which rate() already computed for every route's hops.
      if (done_) return std::nullopt;
      done_ = true;
      if (known_) return known_->first;
      auto gross = p_.rate_receive.try_div(p_.rate_spend, rounding::up);
      if (!gross) return std::nullopt;
      auto rate = gross->try_mul_div(keep_, hundred, rounding::up);
      if (!rate) return std::nullopt;
      return segment{unlimited, *rate};
    }
    // A level whose figures do not fit yields no segment: the next one is tried.
    for (; level_ < p_.book.levels.size(); ++level_) {
      const book_level& level = p_.book.levels[level_];
      if (p_.book.side == book_side::sell) {
        auto rate = level.price.try_mul_div(keep_, hundred, rounding::up);
        if (!rate) continue;
        ++level_;
        return segment{std::min(level.quantity, unlimited), *rate};
      }
      auto length = level.quantity.try_mul(level.price, rounding::up);
      auto per_spend = keep_.try_div(level.price, rounding::up);
      if (!length || !per_spend) continue;
      auto rate = per_spend->try_div(hundred, rounding::up);
      if (!rate) continue;
      ++level_;
      return segment{std::min(*length, unlimited), *rate};
    }
    return std::nullopt;
  }

  std::size_t levels() const { return p_.book.levels.size(); }

 private:
  const pricing& p_;
  decimal keep_;
  const first_segment* known_;
  std::size_t level_ = 0;
  bool done_ = false;
};

// Hop h's quote's first segment when a rate model's and computed for this market's prices
// (rate() computes it for every route's hops), else none.
const first_segment* known_first(const market_state& m, const hop& h) {
  const first_segment& f = m.firsts[h.quote];
  if (m.quotes[h.quote].model == pricing_model::order_book || f.known_at != m.generation + 1) {
    return nullptr;
  }
  return &f;
}

// The linear segments of one quote. With a positive `limit` below `unlimited`, the levels stop
// once their lengths reach it: a route never spends beyond its high.
void planner::segments_of(const hop& h, decimal limit, std::vector<segment>& out) const {
  quote_segments source(quote_of(h), known_first(m_, h));
  out.clear();
  out.reserve(source.levels());
  decimal total;
  while (!(limit.is_positive() && limit < unlimited && total >= limit)) {
    const std::optional<segment> s = source.next();
    if (!s) break;
    out.push_back(*s);
    total += s->length;
  }
}

// Chains a route's segments: `next` consumes what `first` produces. Rates and lengths are
// rounded up so the linear model never under-states a route (it bounds the exact price above).
std::vector<segment> compose(const std::vector<segment>& first, quote_segments& next) {
  std::vector<segment> out;
  out.reserve(first.size() + next.levels());
  std::size_t i = 0;
  decimal first_left = first.empty() ? decimal{} : first[0].length;
  std::optional<segment> to = first.empty() ? std::nullopt : next.next();
  decimal next_left = to ? to->length : decimal{};
  while (i < first.size() && to) {
    auto rate = first[i].rate.try_mul(to->rate, rounding::up);
    auto produced = first_left.try_mul(first[i].rate, rounding::up);
    if (!rate || !produced) break;
    if (*produced <= next_left) {
      out.push_back({first_left, *rate});
      next_left -= *produced;
      if (++i < first.size()) first_left = first[i].length;
      continue;
    }
    auto length = next_left.try_div(first[i].rate, rounding::up);
    if (!length) break;
    out.push_back({std::min(*length, first_left), *rate});
    first_left -= std::min(*length, first_left);
    to = next.next();
    if (to) next_left = to->length;
  }
  return out;
}

// The first segment compose() would produce from the first segments of its two inputs: the
// same arithmetic, one step of its loop.
std::optional<segment> compose_first(const segment& first, const segment& next) {
  auto rate = first.rate.try_mul(next.rate, rounding::up);
  // A segment `unlimited` long (a rate model's, or a level capped there) is a whole number long,
  // so the product is exact and fails exactly when 10^11 x rate leaves the range: an integer
  // product instead of try_mul.
  constexpr int128 most_raw = ((int128{1} << 126) - 1 + (int128{1} << 126)) / unlimited_units;
  std::optional<decimal> produced;
  if (first.length == unlimited) {
    if (first.rate.raw() <= most_raw && first.rate.raw() >= -most_raw) {
      produced = decimal::from_raw(first.rate.raw() * unlimited_units);
    }
  } else {
    produced = first.length.try_mul(first.rate, rounding::up);
  }
  if (!rate || !produced) return std::nullopt;
  if (*produced <= next.length) return segment{first.length, *rate};
  auto length = next.length.try_div(first.rate, rounding::up);
  if (!length) return std::nullopt;
  return segment{std::min(*length, first.length), *rate};
}
}  // namespace

const book_sums* prepared_market::state::sums_for(std::uint16_t quote) const {
  const pricing& p = quotes[quote];
  if (!shared || p.model != pricing_model::order_book) return nullptr;
  std::atomic<bool>& made = sums_made[quote];
  if (!made.load(std::memory_order_acquire)) {
    const std::lock_guard lock(mutex);
    if (!made.load(std::memory_order_relaxed)) {
      sums[quote] = sums_of(p);
      made.store(true, std::memory_order_release);
    }
  }
  return &sums[quote];
}

// A quote's first linear segment, as segments_of produces it (the same source), from its first
// usable level alone; and whether its levels come best first (then no later segment has a
// better rate).
const first_segment& prepared_market::state::first_of(std::uint16_t quote) const {
  first_segment& f = firsts[quote];
  if (f.known_at == generation + 1) return f;
  f = first_segment{};
  f.known_at = generation + 1;
  const pricing& p = quotes[quote];
  if (p.model == pricing_model::order_book) {
    const bool sell = p.book.side == book_side::sell;
    const auto& levels = p.book.levels;
    for (std::size_t l = 1; l < levels.size() && f.ordered; ++l) {
      f.ordered =
          sell ? levels[l].price <= levels[l - 1].price : levels[l].price >= levels[l - 1].price;
    }
  }
  f.first = quote_segments(p, nullptr).next();
  return f;
}

namespace {

decimal planner::coarsest_unit(std::span<const std::uint16_t> members) const {
  decimal out;
  for (const std::uint16_t m : members) out = std::max(out, routes_[m].unit);
  return out;
}

// The spend interval of a route from every hop's limits, carried back through the earlier hops
// by exact-receive prices. The linear model (segments_for) is built separately, only for routes
// a candidate fills.
void planner::bound(route& r) {
  bounded_[r.index] = true;
  set_->once(set_->bounded[r.index], [&] { bound_route(r); });
}

void planner::bound_route(route& r) const {
  const int last = r.count - 1;
  const pricing& tail = quote_of(r.hops[last]);
  const spend_bounds b = bounds_of(tail, r.hops[last].available);
  decimal low = b.low;
  // The least spend that nets anything: a fixed fee or min_receive can set it above the limits.
  // When the low itself nets something, that search cannot raise it (it answers no more).
  const decimal some_net = receive_unit(tail);
  const book_sums* tail_sums = m_.sums_for(r.hops[last].quote);
  price at_low;
  const bool low_nets =
      receive_within(tail, some_net, low, r.hops[last].available, tail_sums, &at_low);
  if (!low_nets) {
    if (auto some = price_receive(tail, some_net, r.hops[last].available, tail_sums)) {
      low = std::max(low, some->spend);
    }
  }
  // `capped` says whether `high` holds: a limit bounds the route's spend from above.
  bool capped = b.high.has_value();
  decimal high = b.high.value_or(decimal{});
  if (capped) r.high_limit = {last, b.high_reason};
  for (int k = last - 1; k >= 0; --k) {
    const pricing& p = quote_of(r.hops[k]);
    const spend_bounds own = bounds_of(p, r.hops[k].available);
    const book_sums* hop_sums = m_.sums_for(r.hops[k].quote);
    auto need = price_receive(p, low, r.hops[k].available, hop_sums);
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
    if (capped) {
      // The largest spend whose net stays within the next hop's high.
      auto above = price_receive(p, high + receive_unit(p), r.hops[k].available, hop_sums);
      capped = above.has_value();
      if (above) high = above->spend - spend_unit(p);
    }
    if (own.high && (!capped || *own.high < high)) {
      high = *own.high;
      capped = true;
      r.high_limit = {k, own.high_reason};
    }
  }
  r.low = low;
  if (capped) r.high = std::min(high, unlimited);
  r.viable = r.linear && r.low <= r.high;
  if (auto g = r.low.try_mul(r.best_rate, rounding::up)) r.low_gain = *g;
  if (low_nets && r.count == 1 && r.low == r.high) known_at_high(r, at_low);
}

// A one-hop route whose low is its high (a per-amount quote, min = max) had its high priced by
// bound_route: at_high() would make the very same price_spend call (same spend, balance and
// sums; pricing is pure), so its answer is kept instead of priced again. Runs inside the route's
// bound, which every at_high() call waits for, so no plan reads the flag before it is set.
void planner::known_at_high(route& r, const price& at_low) const {
  chain_price& c = r.priced_high.emplace();
  c.legs[0] = at_low;
  c.count = 1;
  set_->at_high[r.index].store(true, std::memory_order_release);
}

// Every plan bounds a route before it models it: the model stops at the route's high.
void planner::segments_for(route& r) const {
  set_->once(set_->bounded[r.index], [&] { bound_route(r); });
  set_->once(set_->segmented[r.index], [&] {
    // Composing keeps the order of the first hop's spend, so a first hop cut at the route's high
    // yields a prefix of the full model that covers every spend up to the high. A market of one
    // plan at a time (its models last for that plan) spending the intent's amount never fills a
    // route beyond it either: a deep book's levels past it are not modelled.
    decimal limit = r.high;
    if (!m_.shared && intent_.side == amount_side::spend && intent_.amount.is_positive() &&
        intent_.amount < limit) {
      limit = intent_.amount;
    }
    segments_of(r.hops[0], limit, r.segments);
    for (int k = 1; k < r.count; ++k) {
      quote_segments next(quote_of(r.hops[k]), known_first(m_, r.hops[k]));
      r.segments = compose(r.segments, next);
    }
    // A buy book charges each fill's value rounded up to the spend unit, so taking every level
    // can cost more than the model's lengths add up to: up to the route's high, the rest of the
    // spend nets nothing more (rate 0), yet a fill may place it there, so that an amount only
    // those roundings separate from the high is one the route takes whole.
    if (r.high < unlimited) {
      decimal modelled;
      for (const segment& s : r.segments) modelled += s.length;
      if (modelled < limit) r.segments.push_back({limit - modelled, decimal{}});
    }
    r.gains.reserve(r.segments.size());
    __uint128_t total = 0;
    int longest = 0;
    bool known = r.segments.size() < 1024;
    for (const segment& s : r.segments) {
      auto gain = s.length.try_mul(s.rate, rounding::up);
      r.gains.push_back(gain ? std::optional<decimal>(*gain) : std::nullopt);
      known = known && gain && !__builtin_add_overflow(total, magnitude(gain->raw()), &total);
      longest = std::max(longest, bits_of(s.length.raw()));
    }
    r.model_bits = known ? std::max(bits_of_magnitude(total), longest) : 128;
  });
}

// Why the route cannot take the whole amount alone ("" when it can).
std::string planner::whole_failure(const route& r) const {
  auto whole = price_chain(r, intent_.amount);
  if (whole) return {};
  const pricing& p = quote_of(r.hops[whole.error().hop]);
  return fmt::format("{} {}: {}", p.provider, p.direction_code, describe(whole.error().error));
}

// An upper bound of what fill() can bound the route alone at for `amount`, from its best rate
// alone; none when its levels do not come best first or the product overflows.
std::optional<decimal> planner::rate_bound(const route& r, decimal amount) const {
  if (!r.rate_bound || !r.linear) return std::nullopt;
  auto most = amount.try_mul(r.best_rate, rounding::up);
  if (!most) return std::nullopt;
  return *most + rounding_slack - r.fixed;
}

// Decimal sums that throw on overflow (checked), or plain integer sums where the operands are
// known small enough that no sum can overflow: the same values without a check per addition.
template <bool checked>
struct sums_of_raw {
  [[gnu::always_inline]] static decimal add(decimal a, decimal b) {
    if constexpr (checked) {
      return a + b;
    } else {
      return decimal::from_raw(a.raw() + b.raw());
    }
  }
  [[gnu::always_inline]] static decimal sub(decimal a, decimal b) {
    if constexpr (checked) {
      return a - b;
    } else {
      return decimal::from_raw(a.raw() - b.raw());
    }
  }
};

// What taking `take` of segment `k` of `r` gains: the segment's kept gain when it is taken whole,
// else the product rounded up; none where either overflowed.
std::optional<decimal> gain_of(const route& r, std::size_t k, decimal take) {
  const segment& s = r.segments[k];
  return take == s.length ? r.gains[k] : take.try_mul(s.rate, rounding::up);
}

// Whether fill() over `members` can run on plain integers: every operand it adds or subtracts
// (the amount, each member's low, high, fixed fee, balance, segment lengths and the sum of its
// whole-segment gains, which bounds every partial one) is below 2^110, and each member has
// fewer than 1024 segments, so no sum of the at most 2 x (segments + members) terms it adds
// comes near 2^127: the decimal sums could not overflow (throw) either.
bool fits_unchecked(const route_list& routes, std::span<const std::uint16_t> members,
                    decimal amount) {
  constexpr int most = 110;
  if (bits_of(amount.raw()) > most) return false;
  for (const std::uint16_t m : members) {
    const route& r = routes[m];
    const hop& first = r.hops[0];
    if (r.model_bits > most || bits_of(r.low.raw()) > most || bits_of(r.high.raw()) > most ||
        bits_of(r.fixed.raw()) > most) {
      return false;
    }
    if (first.available && bits_of(first.available->raw()) > most) return false;
  }
  return true;
}

// The linear optimum of spending `amount` over `members` (each at least its low, at most its
// high, first hops within their shared balance): everyone at its low, then the rest by the best
// marginal rate. Optimal for the linear model because every route's segments are concave.
// Over a shared market, a fill that cannot overflow follows the members' kept path.
std::optional<allocation> planner::fill(std::span<const std::uint16_t> members,
                                        decimal amount) const {
  if (!fits_unchecked(routes_, members, amount)) return fill_as<true>(members, amount, nullptr);
  if (m_.shared) {
    if (const fill_path* path = path_for(members)) return fill_along(*path, members, amount);
  }
  return fill_as<false>(members, amount, nullptr);
}

// The kept path of `members` (traced on first use, under the set's lock), or none when the set
// keeps as many as it may. Only for members that fits_unchecked (whatever the amount: the path
// does not depend on it) and a shared set.
const fill_path* planner::path_for(std::span<const std::uint16_t> members) const {
  std::array<std::uint16_t, split_cap> key{};
  for (std::size_t m = 0; m < members.size(); ++m) key[m] = routes_[members[m]].index;
  const auto same = [&](const fill_path& p) {
    return p.size == members.size() &&
           std::equal(key.begin(), key.begin() + members.size(), p.routes.begin());
  };
  const std::lock_guard lock(set_->mutex);
  for (const auto& p : set_->paths) {
    if (same(*p)) return p.get();
  }
  if (set_->paths.size() >= fill_paths_kept) return nullptr;
  auto path = std::make_unique<fill_path>();
  path->routes = key;
  path->size = members.size();
  // Above anything the members can place (fits_unchecked: below 2^114): every step is whole.
  fill_as<false>(members, decimal::from_raw(int128{1} << 120), path.get());
  set_->paths.push_back(std::move(path));
  return set_->paths.back().get();
}

// fill(members, amount) from the members' path: its steps up to the first that reaches the
// amount, that one taking only what is left; the same figures as taking the steps one by one.
std::optional<allocation> planner::fill_along(const fill_path& path,
                                              std::span<const std::uint16_t> members,
                                              decimal amount) const {
  using ops = sums_of_raw<false>;
  if (path.lows > amount || path.refused) return std::nullopt;
  allocation a;
  a.routes.assign(members.data(), members.data() + members.size());
  a.amounts.resize(members.size());
  for (std::size_t m = 0; m < members.size(); ++m) a.amounts[m] = routes_[members[m]].low;
  decimal placed = path.lows;
  a.bound = path.lows_bound;
  if (placed < amount) {
    const auto end = std::partition_point(
        path.steps.begin(), path.steps.end(),
        [&](const fill_step& s) { return ops::add(s.placed, s.room) < amount; });
    for (auto it = path.steps.begin(); it != end; ++it) {
      a.amounts[it->member] = ops::add(a.amounts[it->member], it->room);
    }
    if (end == path.steps.end()) {
      placed = path.end_placed;
      a.bound = path.end_bound;
    } else {
      const route& r = routes_[members[end->member]];
      const decimal take = ops::sub(amount, end->placed);
      a.amounts[end->member] = ops::add(a.amounts[end->member], take);
      placed = amount;
      a.bound = ops::add(end->bound, gain_of(r, end->seg, take).value_or(unlimited));
    }
  }
  a.full = placed == amount || ops::sub(amount, placed) < coarsest_unit(members);
  return a;
}

// The fill itself; with `record`, `amount` above what the members can place, tracing their path
// into it.
template <bool checked>
std::optional<allocation> planner::fill_as(std::span<const std::uint16_t> members, decimal amount,
                                           fill_path* record) const {
  using ops = sums_of_raw<checked>;
  allocation a;
  a.routes.assign(members.data(), members.data() + members.size());
  a.amounts.resize(members.size());
  const std::size_t n = members.size();
  std::array<const route*, split_cap> rs{};
  for (std::size_t m = 0; m < n; ++m) rs[m] = &routes_[members[m]];
  std::array<std::size_t, split_cap> seg{};
  std::array<decimal, split_cap> seg_used{};
  decimal placed;
  const auto shared_room = [&](std::size_t m) -> std::optional<decimal> {
    const hop& first = rs[m]->hops[0];
    if (!first.available) return std::nullopt;
    decimal used;
    for (std::size_t o = 0; o < n; ++o) {
      // Every first hop spends the intent's asset: one balance per provider.
      if (m_.ids[rs[o]->hops[0].quote].provider == m_.ids[first.quote].provider) {
        used = ops::add(used, a.amounts[o]);
      }
    }
    return ops::sub(*first.available, used);
  };
  // Advances route m by `length` along its segments, adding to the bound.
  const auto advance = [&](std::size_t m, decimal length) {
    const route& r = *rs[m];
    a.amounts[m] = ops::add(a.amounts[m], length);
    placed = ops::add(placed, length);
    while (length.is_positive() && seg[m] < r.segments.size()) {
      const segment& s = r.segments[seg[m]];
      const decimal take = std::min(length, ops::sub(s.length, seg_used[m]));
      a.bound = ops::add(a.bound, gain_of(r, seg[m], take).value_or(unlimited));
      length = ops::sub(length, take);
      seg_used[m] = ops::add(seg_used[m], take);
      if (seg_used[m] >= s.length) {
        ++seg[m];
        seg_used[m] = decimal{};
      }
    }
  };
  for (std::size_t m = 0; m < n; ++m) {
    a.bound = ops::sub(a.bound, rs[m]->fixed);
    advance(m, rs[m]->low);
  }
  if (placed > amount) return std::nullopt;
  for (std::size_t m = 0; m < n; ++m) {
    auto room = shared_room(m);
    if (room && room->is_negative()) {
      if (record) record->refused = true;
      return std::nullopt;
    }
  }
  if (record) {
    record->lows = placed;
    record->lows_bound = a.bound;
  }
  // Whether member m has room left by its segments and its high, and its current segment's rate:
  // only the member that advances changes either, and a member once without room stays so (a
  // shared balance too only shrinks), so each step compares rates alone.
  std::array<bool, split_cap> open{};
  std::array<decimal, split_cap> rate{};
  const auto reopen = [&](std::size_t m) {
    const route& r = *rs[m];
    open[m] = seg[m] < r.segments.size() && a.amounts[m] < r.high &&
              seg_used[m] < r.segments[seg[m]].length;
    if (open[m]) rate[m] = r.segments[seg[m]].rate;
  };
  for (std::size_t m = 0; m < n; ++m) reopen(m);
  while (placed < amount) {
    // The member with room left whose current segment has the best rate (the first on ties);
    // the shared balance is checked only for a member that would win.
    std::size_t m = n;
    for (std::size_t o = 0; o < n; ++o) {
      if (!open[o] || (m < n && !(rate[o] > rate[m]))) continue;
      if (auto shared = shared_room(o); shared && !shared->is_positive()) {
        open[o] = false;
        continue;
      }
      m = o;
    }
    if (m == n) break;
    const route& r = *rs[m];
    const segment& s = r.segments[seg[m]];
    decimal room = std::min(ops::sub(r.high, a.amounts[m]), ops::sub(s.length, seg_used[m]));
    if (auto shared = shared_room(m)) room = std::min(room, *shared);
    if (record) {
      record->steps.push_back({placed, room, a.bound, static_cast<std::uint32_t>(seg[m]),
                               static_cast<std::uint8_t>(m)});
    }
    // advance(m, take) within the current segment: one take, one gain.
    const decimal take = std::min(room, ops::sub(amount, placed));
    a.amounts[m] = ops::add(a.amounts[m], take);
    placed = ops::add(placed, take);
    if (take.is_positive()) {
      a.bound = ops::add(a.bound, gain_of(r, seg[m], take).value_or(unlimited));
      seg_used[m] = ops::add(seg_used[m], take);
      if (seg_used[m] >= s.length) {
        ++seg[m];
        seg_used[m] = decimal{};
      }
    }
    reopen(m);
  }
  if (record) {
    record->end_placed = placed;
    record->end_bound = a.bound;
  }
  // What no member can take and is below the coarsest member's spend unit is dust: no leg could
  // be sent for it (a firm quote's max is the amount rounded to its precision, FAULTS.md 16).
  a.full = placed == amount || ops::sub(amount, placed) < coarsest_unit(members);
  return a;
}

std::optional<evaluated> planner::evaluate(const allocation& a) const {
  evaluated e;
  if (!evaluate_into(a, e)) return std::nullopt;
  return e;
}

// evaluate() into `e`, whatever it held: false where evaluate() has none.
bool planner::evaluate_into(const allocation& a, evaluated& e) const {
  e.alloc = a;
  e.prices.clear();
  e.net = decimal{};
  e.spend = decimal{};
  for (std::size_t m = 0; m < a.routes.size(); ++m) {
    chain_price& c = e.prices.add();
    route& r = routes_[a.routes[m]];
    if (a.amounts[m] == r.high) {
      const chain_price* known = at_high(r);
      if (!known) return false;
      c = *known;
    } else if (!price_chain_into(r, a.amounts[m], c)) {
      return false;
    }
    e.net += c.net();
    e.spend += c.legs[0].spend;
  }
  return within_balances(e);
}

// price_chain() into `c`: false where it fails (the failure not kept).
bool planner::price_chain_into(const route& r, decimal spend, chain_price& c) const {
  decimal amount = spend;
  for (int k = 0; k < r.count; ++k) {
    auto q =
        price_spend(quote_of(r.hops[k]), amount, r.hops[k].available, m_.sums_for(r.hops[k].quote));
    if (!q) return false;
    c.legs[k] = *q;
    amount = q->net;
  }
  c.count = r.count;
  return true;
}

// price_chain_into(r, r.high), once per route of a set (it depends on the quotes alone). Only
// for a route this plan bounded (its high is known).
const chain_price* planner::at_high(route& r) const {
  set_->once(set_->at_high[r.index], [&] {
    if (!price_chain_into(r, r.high, r.priced_high.emplace())) r.priced_high.reset();
  });
  return r.priced_high ? &*r.priced_high : nullptr;
}

// Every hop with a balance, summed per provider and asset over the parts, stays within it.
bool planner::within_balances(const evaluated& e) const {
  for (std::size_t m = 0; m < e.prices.size(); ++m) {
    const route& r = routes_[e.alloc.routes[m]];
    for (int k = 0; k < r.count; ++k) {
      if (!r.hops[k].available) continue;
      const quote_ids& p = m_.ids[r.hops[k].quote];
      decimal used;
      for (std::size_t o = 0; o < e.prices.size(); ++o) {
        const route& other = routes_[e.alloc.routes[o]];
        for (int l = 0; l < other.count; ++l) {
          const quote_ids& q = m_.ids[other.hops[l].quote];
          if (other.hops[l].available && q.provider == p.provider && q.spend == p.spend) {
            used += e.prices[o].legs[l].spend;
          }
        }
      }
      if (used > *r.hops[k].available) return false;
    }
  }
  return true;
}

bool disjoint(const route_list& routes, std::span<const std::uint16_t> members) {
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

// Whether `e` (bound `bound`) beats the best so far: more net, then less spend, then the larger
// bound (the candidate a best-bound-first search meets first).
bool beats(const evaluated& e, decimal bound, const evaluated* best, decimal best_bound) {
  if (!best) return true;
  if (e.net != best->net) return e.net > best->net;
  if (e.spend != best->spend) return e.spend < best->spend;
  return bound > best_bound;
}

// Small routes with the best rates must not crowd out the one that carries the bulk: when the
// split width is full and none of its routes can take the whole amount alone, the best-rated
// route further down that can joins them (in the last slot when the set is at its cap).
void planner::reserve_bulk_route(std::array<std::uint16_t, split_cap>& top, std::size_t& count,
                                 std::size_t next, decimal amount) {
  if (count == 0 || count < std::min(options_.split_routes, split_cap)) return;
  for (std::size_t i = 0; i < count; ++i) {
    if (takes_whole(routes_[top[i]], amount)) return;
  }
  const std::vector<std::uint16_t>& order = by_rate();
  for (std::size_t k = next; k < order.size(); ++k) {
    route& r = routes_[order[k]];
    bound(r);
    if (r.viable && r.low <= amount && takes_whole(r, amount)) {
      top[count < split_cap ? count++ : count - 1] = order[k];
      return;
    }
  }
}

// An upper bound of what route `r` adds to fill()'s bound in any subset that spends at most
// `amount`: its segments walked from zero up to min(high, amount), less its fixed fee, plus slack
// for the last-place rounding fill() adds where it splits a segment; none on overflow.
std::optional<decimal> planner::solo_gain(route& r, decimal amount) const {
  if (amount < r.high) return solo_gain_within(r, amount);
  // Every amount from the high on walks the same segments: once per route of a set.
  set_->once(set_->solo[r.index], [&] { r.solo_high = solo_gain_within(r, r.high); });
  return r.solo_high;
}

std::optional<decimal> planner::solo_gain_within(const route& r, decimal amount) {
  decimal left = std::min(r.high, amount);
  decimal gain = rounding_slack;
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    if (!left.is_positive()) break;
    const segment& s = r.segments[i];
    const decimal take = std::min(left, s.length);
    const std::optional<decimal> g = gain_of(r, i, take);
    if (!g) return std::nullopt;
    gain += *g;
    left -= take;
  }
  return gain - r.fixed;
}

// The rate part of a subset's cheap bound (see queue_subsets), from its sums and its `rest`
// and `slack`: its lows at their routes' best rates, the rest at the subset's best, the slack,
// less the fixed fees; none when the product does not fit. A sum that overflows throws.
std::optional<int128> rate_part(const subset_sums& t, int128 rest, int128 slack) {
  auto product = decimal::from_raw(rest).try_mul(decimal::from_raw(t.best_rate), rounding::up);
  if (!product) return std::nullopt;
  return (decimal::from_raw(t.at_lows) + *product + decimal::from_raw(slack) -
          decimal::from_raw(t.fixed))
      .raw();
}

// Whether every sum a subset of the members can make fits with room to spare: each term below
// 2^120 (so a sum of eight below 2^123) and, for the rate part, the bits of the largest possible
// rest (the amount less the lows) and of the largest best rate at most 184 (rest x best_rate /
// 10^18 + 1 < 2^125, and three terms below 2^124 more: it fits). Then no sum overflows (none
// would throw), and the rate parts can be applied lazily.
bool subsets_fit(const subset_members& ms, std::size_t count, decimal amount) {
  constexpr int most = 120;
  if (bits_of(amount.raw()) > most) return false;
  __uint128_t lows = 0;
  int rate_bits = 0;
  for (std::size_t b = 0; b < count; ++b) {
    const subset_member& r = ms[b];
    if (bits_of(r.high) > most || bits_of(r.solo) > most || bits_of(r.low_gain) > most ||
        bits_of(r.fixed) > most || bits_of(r.low) > most || bits_of(r.unit) > most) {
      return false;
    }
    lows += magnitude(r.low);
    rate_bits = std::max(rate_bits, bits_of(r.best_rate));
  }
  return bits_of_magnitude(magnitude(amount.raw()) + lows) + rate_bits <= 184;
}

// The rate part of a subset a lazy run queued, with the two sums it leaves out (the slack, one
// per member, and the rest) as an eager run sums them.
std::optional<int128> lazy_rate_part(const subset_sums& t, decimal amount) {
  return rate_part(t, amount.raw() - t.lows, rounding_slack.raw() * t.members);
}
// Queues every subset of the members that can be full, with a cheap upper bound of its linear
// optimum (the sum of its routes' solo gains; or its lows at their routes' best rates and the
// rest at the subset's best, whichever is less).
//
// Eager: every sum as a decimal sum, which throws where one overflows (or hits the one raw value
// outside the range), in the order a sum of decimals per subset and field meets it. Lazy (only
// when subsets_fit: nothing can overflow): plain sums, and a rated subset is queued with
// refined = false: the rate part (a multiplication per subset, most of an eager run's cost) is
// applied only when best_for's scan for the queue's first entry meets the subset with an
// unrefined key that would come first (lazy_rate_part). A key only falls when refined, so the
// entries found first are those of the order by refined keys, and most subsets are never refined.
template <bool lazy>
void planner::queue_subsets(const subset_members& ms, std::size_t count,
                            const std::array<std::uint32_t, split_cap>& conflicts, decimal amount,
                            std::vector<search_entry>& queue) const {
  const auto add = [](int128 a, int128 b) {
    if constexpr (lazy) {
      return a + b;
    } else {
      return (decimal::from_raw(a) + decimal::from_raw(b)).raw();
    }
  };
  const auto sub = [](int128 a, int128 b) {
    if constexpr (lazy) {
      return a - b;
    } else {
      return (decimal::from_raw(a) - decimal::from_raw(b)).raw();
    }
  };
  // Per subset as the parent's sums plus its highest member.
  using sums = subset_sums;
  subset_table& all = scratch_.subsets;
  all[0] = sums{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true, true};
  const int128 slack_raw = rounding_slack.raw();
  const int128 amount_raw = amount.raw();
  // Every subset is queued at most once: the entries are made up front and the queue cut to
  // those used (an emplace_back call per subset cost more than the subset's sums).
  queue.resize(std::size_t{1} << count);
  std::size_t queued = 0;
  for (std::uint32_t mask = 1; mask < (1u << count); ++mask) {
    const std::size_t b = static_cast<std::size_t>(std::bit_width(mask)) - 1;
    const subset_member& r = ms[b];
    const sums& p = all[mask & ~(1u << b)];
    sums& t = all[mask];
    t.capacity = add(p.capacity, r.high);
    t.coarsest = std::max(p.coarsest, r.unit);
    t.has_sum = p.has_sum && r.has_solo;
    t.sum = t.has_sum ? add(p.sum, r.solo) : 0;
    t.rated = p.rated && r.rated;
    t.at_lows = r.has_low_gain ? add(p.at_lows, r.low_gain) : p.at_lows;
    t.best_rate = std::max(p.best_rate, r.best_rate);
    t.fixed = add(p.fixed, r.fixed);
    t.lows = add(p.lows, r.low);
    if constexpr (!lazy) t.slack = add(p.slack, slack_raw);
    t.conflicts = p.conflicts | conflicts[b];
    t.members = static_cast<std::uint8_t>(p.members + 1);
    if (!options_.allow_partial && !(sub(amount_raw, t.capacity) < t.coarsest)) continue;
    if (t.lows > amount_raw) continue;
    if ((t.conflicts & mask) != 0) continue;
    search_entry& e = queue[queued++];
    e.mask = mask;
    if (t.has_sum) e.key = decimal::from_raw(t.sum);
    if (t.rated) {
      if constexpr (lazy) {
        e.refined = false;
      } else {
        t.rest = sub(amount_raw, t.lows);
        if (auto by_rate = rate_part(t, t.rest, t.slack);
            by_rate && (!e.key || *by_rate < e.key->raw())) {
          e.key = decimal::from_raw(*by_rate);
        }
      }
    }
  }
  queue.resize(queued);
}

// Branch and bound over subsets of the best routes: each subset's linear optimum bounds every
// allocation over it, so subsets are priced exactly best bound first until no bound can beat
// the best exact net found. Routes beyond the split width compete alone, and one whose best rate
// times the amount cannot beat the best net found is ruled out without bounding or pricing it.
//
// A subset's linear optimum (fill) is computed only when needed: every subset starts with a
// cheap upper bound of it (the sum of its routes' solo gains; or its lows at their routes' best
// rates and the rest at the subset's best, the latter applied lazily: see queue_subsets), and a
// queue ordered by (bound, cheap before exact, mask) fills the top entry when its bound is cheap.
// An exact entry on top is then the next one of the order by exact bound, ties by mask, and the
// search stops once the top cannot beat the best net: the same subsets in the same order as
// filling all of them and sorting, at a fraction of the fills.
const evaluated* planner::best_for(decimal amount) {
  const std::vector<std::uint16_t>& order = by_rate();
  const std::size_t width = options_.split ? std::min(options_.split_routes, split_cap) : 0;
  std::array<std::uint16_t, split_cap> top{};
  std::size_t count = 0;
  std::size_t next = 0;
  for (; next < order.size() && count < width; ++next) {
    route& r = routes_[order[next]];
    bound(r);
    if (r.viable && r.low <= amount) top[count++] = order[next];
  }
  reserve_bulk_route(top, count, next, amount);
  // Per member of `top`: its solo gain, and what its low gains at its best rate.
  gains_of_top solo{};
  gains_of_top low_gain{};
  for (std::size_t b = 0; b < count; ++b) {
    route& r = routes_[top[b]];
    segments_for(r);
    solo[b] = solo_gain(r, amount);
    low_gain[b] = r.low_gain;
  }
  using entry = search_entry;
  // a before b in the queue's order: larger key, then cheap, then smaller mask. A total order on
  // the entries (a mask is queued once cheap, then once exact): its first entry is unique.
  const auto after = [](const entry& a, const entry& b) {
    if (a.key != b.key) return a.key && (!b.key || *a.key < *b.key);
    if (a.exact != b.exact) return a.exact;
    return a.mask > b.mask;
  };
  std::vector<entry>& queue = scratch_.queue;
  queue.clear();
  std::vector<allocation>& filled = scratch_.filled;
  filled.clear();
  std::array<std::uint16_t, split_cap> members{};
  const auto members_of = [&](std::uint32_t mask) {
    std::size_t n = 0;
    for (std::size_t b = 0; b < count; ++b) {
      if (mask & (1u << b)) members[n++] = top[b];
    }
    return std::span<const std::uint16_t>(members.data(), n);
  };
  // Members that share a direction with member b: a subset holding both is not disjoint.
  std::array<std::uint32_t, split_cap> conflicts{};
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t b = a + 1; b < count; ++b) {
      const std::uint16_t pair[] = {top[a], top[b]};
      if (!disjoint(routes_, pair)) {
        conflicts[a] |= 1u << b;
        conflicts[b] |= 1u << a;
      }
    }
  }
  // What the members of each subset add up to. A subset's sums are those of the subset without
  // its highest member plus that member: the same additions, in the same order, as summing its
  // members one by one, once per subset instead of once per member and subset, in raw integers
  // (a per-field copy of decimals stalled on every subset). Usually nothing can overflow
  // (subsets_fit): the sums are then unchecked and lazy; else each is checked and throws as a
  // decimal sum would.
  subset_members ms{};
  for (std::size_t b = 0; b < count; ++b) {
    const route& r = routes_[top[b]];
    ms[b] = {r.high.raw(),
             r.unit.raw(),
             solo[b] ? solo[b]->raw() : 0,
             low_gain[b] ? low_gain[b]->raw() : 0,
             r.best_rate.raw(),
             r.fixed.raw(),
             r.low.raw(),
             solo[b].has_value(),
             r.rate_bound && r.linear && low_gain[b].has_value(),
             low_gain[b].has_value()};
  }
  if (subsets_fit(ms, count, amount)) {
    queue_subsets<true>(ms, count, conflicts, amount, queue);
  } else {
    queue_subsets<false>(ms, count, conflicts, amount, queue);
  }
  // The best evaluation so far and the next candidate, in place in the scratch's two slots.
  std::array<evaluated, 2>& slots = scratch_.slots;
  evaluated* best = nullptr;
  decimal best_bound;
  allocation whole;
  const auto evaluate_candidate = [&](const allocation& a) {
    evaluated& candidate = best == &slots[0] ? slots[1] : slots[0];
    bool priced;
    if (a.routes.size() > 1) {
      priced = (whole_units(a, amount, whole) && evaluate_into(whole, candidate)) ||
               evaluate_into(a, candidate);
      if (priced) {
        polish(candidate, amount);
        // The residue scan, the costliest move, only for a split that could beat the best so
        // far by recovering what its parts lose to their steps: on every split it made plans
        // with coarse steps 10x slower.
        const decimal lost = lost_to_steps(candidate);
        if (lost.is_positive() && (!best || candidate.net + lost > best->net)) {
          for (int rounds = 0; rounds < 4 && shift_residues(candidate); ++rounds) {
            polish(candidate, amount);
          }
        }
      }
    } else {
      priced = evaluate_into(a, candidate);
    }
    if (priced && beats(candidate, a.bound, best, best_bound)) {
      best = &candidate;
      best_bound = a.bound;
    }
  };
  // The queue's first entry by one scan: a search takes a few (each is then filled or priced),
  // fewer comparisons than ordering all 2^n into a heap.
  // A subset queued lazily gets its rate bound applied when its unrefined key would place it
  // before the first entry found so far (refined): a refined key is at most the unrefined one,
  // so an entry whose unrefined key does not place it before cannot be the first either.
  const auto refine = [&](entry& e) {
    if (e.refined) return;
    // Cannot throw: subsets_fit checked the operands.
    const auto by_rate = lazy_rate_part(scratch_.subsets[e.mask], amount);
    if (by_rate && (!e.key || *by_rate < e.key->raw())) e.key = decimal::from_raw(*by_rate);
    e.refined = true;
  };
  while (!queue.empty()) {
    refine(queue[0]);
    std::size_t first = 0;
    for (std::size_t i = 1; i < queue.size(); ++i) {
      if (!after(queue[first], queue[i])) continue;
      if (!queue[i].refined) {
        refine(queue[i]);
        if (!after(queue[first], queue[i])) continue;
      }
      first = i;
    }
    entry e = queue[first];
    if (best && e.key && *e.key < best->net) break;
    queue[first] = queue.back();
    queue.pop_back();
    if (!e.exact) {
      auto a = fill(members_of(e.mask), amount);
      if (!a || !(a->full || options_.allow_partial)) continue;
      e.key = a->bound;
      e.exact = true;
      e.filled = static_cast<std::uint32_t>(filled.size());
      filled.push_back(std::move(*a));
      queue.push_back(e);
      continue;
    }
    evaluate_candidate(filled[e.filled]);
  }
  const auto consider = [&](const allocation& a) {
    if (best && a.bound < best->net) return;
    evaluate_candidate(a);
  };
  // The rest compete alone, best rate first, so that the first good price rules out the others.
  // Once a route's best rate rules it out, so it does every later route whose best rate is no
  // higher (the order's) and not negative, and whose fixed fee is no lower: its bound is at most
  // that route's, and the best net only grows.
  const route* ruled_out = nullptr;
  for (; next < order.size(); ++next) {
    route& r = routes_[order[next]];
    if (best) {
      if (ruled_out && amount.is_positive() && r.rate_bound && r.linear &&
          !r.best_rate.is_negative() && r.best_rate <= ruled_out->best_rate &&
          r.fixed >= ruled_out->fixed) {
        continue;
      }
      const auto most = rate_bound(r, amount);
      if (most && *most < best->net) {
        ruled_out = &r;
        continue;
      }
    }
    bound(r);
    if (!r.viable || r.low > amount) continue;
    if (!options_.allow_partial && !takes_whole(r, amount)) continue;
    segments_for(r);
    const std::uint16_t one[] = {order[next]};
    auto a = fill(one, amount);
    if (a && (a->full || options_.allow_partial)) consider(*a);
  }
  return best;
}

// fill()'s parts are amounts of the linear model, most of them not multiples of their routes'
// spend units: priced as they are, each rounds down and its remainder goes unspent, up to a unit
// per part (a whole unit of a coarse increment, beside a route that takes any amount, is a real
// loss). Here each part is rounded down to its unit, and what that frees, with any rest of
// `amount`, is handed to the parts best rate first, in whole units within their highs; a part
// left with nothing is dropped. False when there is nothing to hand on (`a` prices the same).
bool planner::whole_units(const allocation& a, decimal amount, allocation& out) const {
  const std::size_t n = a.routes.size();
  std::array<decimal, split_cap> amounts{};
  std::array<std::size_t, split_cap> by_rate{};
  decimal rest = amount;
  for (std::size_t m = 0; m < n; ++m) {
    const auto down =
        a.amounts[m].try_round_to_increment(routes_[a.routes[m]].unit, rounding::down);
    if (!down) return false;
    amounts[m] = *down;
    rest -= *down;
    by_rate[m] = m;
  }
  if (!rest.is_positive()) return false;
  std::stable_sort(by_rate.begin(), by_rate.begin() + n, [&](std::size_t x, std::size_t y) {
    return routes_[a.routes[x]].best_rate > routes_[a.routes[y]].best_rate;
  });
  bool handed = false;
  for (std::size_t b = 0; b < n && rest.is_positive(); ++b) {
    const std::size_t m = by_rate[b];
    const route& r = routes_[a.routes[m]];
    const auto take =
        std::min(rest, r.high - amounts[m]).try_round_to_increment(r.unit, rounding::down);
    if (!take || !take->is_positive()) continue;
    amounts[m] += *take;
    rest -= *take;
    handed = true;
  }
  if (!handed) return false;
  out.routes.clear();
  out.amounts.clear();
  for (std::size_t m = 0; m < n; ++m) {
    if (!amounts[m].is_positive()) continue;
    out.routes.push_back(a.routes[m]);
    out.amounts.push_back(amounts[m]);
  }
  out.bound = a.bound;
  out.full = a.full;
  return true;
}

// Units of two parts that do not divide each other leave a rest neither can take: 0.6 unspent
// beside parts in units of 1.25 and 1 is spent in full once two units of 1.25 become three of 1,
// and 0.23 beside units of 0.01 and 0.25 once two units of 0.01 make one of 0.25. The fewest of
// `from`'s units that, with the `unspent` rest, make the most whole units of `to` beyond what
// they take from `from` and what `to` could take of the rest alone: what `from` gives and what
// `to` gets, or none when no shift spends more.
std::optional<std::pair<decimal, decimal>> unit_shift(decimal from, decimal to, decimal unspent) {
  const auto alone = unspent.try_round_to_increment(to, rounding::down);
  if (!alone || !from.is_positive()) return std::nullopt;
  std::optional<std::pair<decimal, decimal>> best;
  decimal most = *alone;
  const auto consider = [&](decimal given) {
    const auto got = (given + unspent).try_round_to_increment(to, rounding::down);
    if (got && *got - given > most) {
      most = *got - given;
      best = {given, *got};
    }
  };
  // Small ratios of the units: their first few multiples.
  decimal given;
  for (int k = 1; k <= 8; ++k) consider(given += from);
  // A coarse `to`: the least multiple of `from` that completes its next unit.
  if (const auto units = (to - (unspent - *alone)).try_div(from, rounding::up)) {
    if (const auto whole = units->try_round_to_increment(decimal::from_int(1), rounding::up);
        whole && *whole > decimal::from_int(8)) {
      if (const auto k = whole->try_mul(from, rounding::up)) consider(*k);
    }
  }
  return best;
}

// Nor does the linear model see the steps a receive increment or a coarse receive precision makes
// in a part's exact net, or a book charging each fill's value rounded up: a part may spend
// more than its net needs, stop just short of its next step, or spend a last unit that buys less
// than it costs, where moving that spend to or from another part nets more. One move at a time,
// while one nets more (or the same for less spend):
// - what the plan leaves unspent, given to a part in its units;
// - a part's units traded for another's whole units that spend more of the rest (unit_shift);
// - where a part's receive step is coarser than a unit of its spend: the part trimmed to the
//   least spend that keeps its net, the rest given to another part; or lifted to the least spend
//   of its next step, from what the plan leaves unspent and what it lacks taken from another;
// - a part at its high whose first hop is a buy book gives its last unit to another part, where
//   the unit buys less than it costs.
// On the search's answer alone, a pair of parts with a coarse receive step is also shifted to land
// nearer its steps' tops (shift_residues, from best_for).
// Each move is priced exactly, and only those that can apply are tried: a plan whose parts have
// fine units and steps and no rest tries none.
void planner::polish(evaluated& e, decimal amount) {
  evaluated& candidate = scratch_.polished;
  allocation moved;
  // `moved` evaluated: adopted when it beats `e`.
  const auto adopt = [&] {
    if (!evaluate_into(moved, candidate) || !beats(candidate, e.alloc.bound, &e, e.alloc.bound))
      return false;
    std::swap(e, candidate);
    return true;
  };
  const auto move = [&](std::size_t to, decimal to_spend, std::size_t from, decimal from_spend) {
    moved = e.alloc;
    moved.amounts[to] = to_spend;
    moved.amounts[from] = from_spend;
    return adopt();
  };
  // Each move nets strictly more or spends strictly less: a bound on their number keeps a plan's
  // time bounded all the same.
  constexpr int most_moves = 16;
  for (int moves = 0; moves < most_moves; ++moves) {
    bool improved = false;
    const std::size_t parts = e.alloc.routes.size();
    const decimal unspent = amount - e.spend;
    // Which parts can take more, and whether any two parts' units differ: the moves that cannot
    // apply are never looked at.
    std::array<bool, split_cap> room{};
    std::size_t with_room = 0;
    bool units_differ = false;
    for (std::size_t m = 0; m < parts; ++m) {
      const route& r = routes_[e.alloc.routes[m]];
      room[m] = e.prices[m].legs[0].spend < r.high;
      with_room += room[m] ? 1 : 0;
      units_differ = units_differ || r.unit != routes_[e.alloc.routes[0]].unit;
    }
    const bool shifts = units_differ && unspent.is_positive();
    for (std::size_t j = 0; j < parts && !improved; ++j) {
      const route& part = routes_[e.alloc.routes[j]];
      const decimal spent = e.prices[j].legs[0].spend;
      if (room[j] && unspent >= part.unit) {
        if (const auto rest = unspent.try_round_to_increment(part.unit, rounding::down)) {
          moved = e.alloc;
          moved.amounts[j] = spent + *rest;
          if ((improved = adopt())) break;
        }
      }
      const bool others_take = with_room > (room[j] ? 1u : 0u);
      // Only a buy book's first hop charges its fills rounded up.
      const pricing& first = quote_of(part.hops[0]);
      const bool last_unit_moves = !room[j] && others_take && part.unit < spent &&
                                   first.model == pricing_model::order_book &&
                                   first.book.side == book_side::buy;
      const decimal step = receive_unit(quote_of(part.hops[part.count - 1]));
      bool stepped = false;
      if (others_take || room[j]) {
        const auto unit_worth = part.unit.try_mul(part.best_rate, rounding::up);
        stepped = unit_worth && step > *unit_worth;
      }
      if (!shifts && !stepped && !last_unit_moves) continue;
      // The least spends, in the part's units, of its net and of its next step.
      const decimal net = e.prices[j].net();
      const auto in_units = [&](decimal target) -> std::optional<decimal> {
        const auto s = spend_for(part, target);
        return s ? s->try_round_to_increment(part.unit, rounding::up) : std::nullopt;
      };
      const auto trimmed = stepped && others_take ? in_units(net) : std::nullopt;
      const auto lifted = stepped && room[j] ? in_units(net + step) : std::nullopt;
      // What the part's last unit nets at its high: priced once, when a move asks.
      std::optional<decimal> last_unit;
      for (std::size_t i = 0; i < parts && !improved; ++i) {
        if (i == j) continue;
        const route& other = routes_[e.alloc.routes[i]];
        const decimal other_spent = e.prices[i].legs[0].spend;
        if (shifts && room[i] && part.unit != other.unit) {
          if (const auto shift = unit_shift(part.unit, other.unit, unspent);
              shift && shift->first < spent) {
            improved = move(j, spent - shift->first, i, other_spent + shift->second);
          }
        }
        if (!improved && room[i] && trimmed && *trimmed < spent) {
          const auto given = (spent - *trimmed).try_round_to_increment(other.unit, rounding::down);
          improved = given && move(j, *trimmed, i, other_spent + *given);
        }
        if (!improved && lifted && *lifted > spent) {
          const decimal short_of = std::max(decimal{}, *lifted - spent - unspent);
          const auto taken = short_of.try_round_to_increment(other.unit, rounding::up);
          improved = taken && *taken < other_spent && move(j, *lifted, i, other_spent - *taken);
        }
        if (!improved && last_unit_moves && room[i]) {
          // Only when the other part could gain more than the last unit nets here.
          const auto got = (part.unit + unspent).try_round_to_increment(other.unit, rounding::down);
          const auto could = got ? got->try_mul(other.best_rate, rounding::up) : std::nullopt;
          if (!last_unit) {
            chain_price below;
            // Nothing below the high: never worth a move.
            last_unit = price_chain_into(part, spent - part.unit, below) ? net - below.net() : net;
          }
          improved =
              could && *could > *last_unit && move(j, spent - part.unit, i, other_spent + *got);
        }
      }
    }
    if (!improved) break;
  }
}

namespace {

// The least amount both units divide, when it is at most `cap`.
std::optional<decimal> common_unit(decimal a, decimal b, decimal cap) {
  if (!a.is_positive() || !b.is_positive()) return std::nullopt;
  int128 x = a.raw();
  int128 y = b.raw();
  while (y != 0) {
    x %= y;
    std::swap(x, y);
  }
  const int128 multiple = a.raw() / x;
  if (multiple > cap.raw() / b.raw()) return std::nullopt;
  return decimal::from_raw(multiple * b.raw());
}

}  // namespace

// Each part's net is floored to its receive step, so two parts together lose up to a step of
// each. Where their rates are close, units moved from one to the other can land both nearer the
// top of a step, many steps away: a part in steps of 700 COPM at 60.4 USDT loses 100 to its step,
// and at 60.2 none, the 0.2 moved to a part 0.5 COPM/USDT worse costing 0.1. Only pairs with a
// coarse step (a receive increment beyond a last place, which loses at most that place) that
// lose anything are tried, in their common units, each way as far as what they lose is worth at
// their difference in rate, and no further than `residue_window`; the best of the window, priced
// exactly, is kept when it beats `e`.
// What part m's last leg loses to its coarse receive step (its net before the step, less its
// net); zero without a coarse step.
decimal planner::lost_to_step(const evaluated& e, std::size_t m) const {
  const route& r = routes_[e.alloc.routes[m]];
  if (!r.coarse_step.is_positive()) return {};
  const price& last = e.prices[m].legs[r.count - 1];
  return std::max(decimal{}, last.gross - last.fee - last.net);
}

decimal planner::lost_to_steps(const evaluated& e) const {
  decimal total;
  for (std::size_t m = 0; m < e.alloc.routes.size(); ++m) total += lost_to_step(e, m);
  return total;
}

bool planner::shift_residues(evaluated& e) {
  constexpr int residue_window = 128;
  evaluated& candidate = scratch_.polished;
  evaluated& best = scratch_.residue;
  const std::size_t parts = e.alloc.routes.size();
  // What each part loses to its step (a shift gains at most the pair's, less what it costs in
  // rate), and whether any hop has a balance the parts share.
  std::array<decimal, split_cap> lost{};
  bool balances = false;
  for (std::size_t m = 0; m < parts; ++m) {
    const route& r = routes_[e.alloc.routes[m]];
    lost[m] = lost_to_step(e, m);
    for (int k = 0; k < r.count; ++k) balances = balances || r.hops[k].available.has_value();
  }
  bool found = false;
  for (std::size_t j = 0; j + 1 < parts; ++j) {
    const route& part = routes_[e.alloc.routes[j]];
    const decimal spent = e.prices[j].legs[0].spend;
    for (std::size_t i = j + 1; i < parts; ++i) {
      const decimal most = lost[j] + lost[i];
      if (!most.is_positive()) continue;
      const route& other = routes_[e.alloc.routes[i]];
      const decimal other_spent = e.prices[i].legs[0].spend;
      const auto unit = common_unit(part.unit, other.unit, std::max(spent, other_spent));
      if (!unit) continue;
      const auto drift = (part.best_rate - other.best_rate).abs().try_mul(*unit, rounding::up);
      if (!drift) continue;
      int window = residue_window;
      if (drift->is_positive()) {
        const auto worth = most.try_div(*drift, rounding::down);
        if (!worth) continue;
        if (*worth < decimal::from_int(residue_window)) {
          window = static_cast<int>(worth->raw() / decimal::from_int(1).raw());
        }
      }
      // The other parts stay as they are: only the pair is priced again.
      const decimal others_net = e.net - e.prices[j].net() - e.prices[i].net();
      const decimal others_spend = e.spend - spent - other_spent;
      // A shift that recovers all the pair loses cannot be beaten at a greater distance.
      const decimal ceiling = e.net + most;
      candidate = e;
      decimal shift;
      bool recovered = false;
      for (int t = 1; t <= window && !recovered; ++t) {
        shift += *unit;
        for (const int sign : {1, -1}) {
          if (residue_budget_ == 0) break;
          --residue_budget_;
          const decimal to_part = sign > 0 ? spent + shift : spent - shift;
          const decimal to_other = sign > 0 ? other_spent - shift : other_spent + shift;
          if (!to_part.is_positive() || !to_other.is_positive() || to_part > part.high ||
              to_other > other.high || !price_chain_into(part, to_part, candidate.prices[j]) ||
              !price_chain_into(other, to_other, candidate.prices[i])) {
            continue;
          }
          candidate.alloc.amounts[j] = to_part;
          candidate.alloc.amounts[i] = to_other;
          candidate.net = others_net + candidate.prices[j].net() + candidate.prices[i].net();
          candidate.spend =
              others_spend + candidate.prices[j].legs[0].spend + candidate.prices[i].legs[0].spend;
          if ((!balances || within_balances(candidate)) &&
              beats(candidate, e.alloc.bound, found ? &best : &e, e.alloc.bound)) {
            best = candidate;
            found = true;
            recovered = recovered || best.net >= ceiling;
          }
        }
      }
    }
  }
  if (found) std::swap(e, best);
  return found;
}

// `asked` is what price_chain asked of the first hop for `c`.
// The limit that bounds the route from above, as limits_hit names it: once per route of a kept
// set (it depends on the bound alone).
std::string planner::limit_of(route& r) const {
  const auto describe_limit = [&] {
    const pricing& p = quote_of(r.hops[r.high_limit.hop]);
    return fmt::format("{} {} {}", p.provider, p.direction_code, to_string(r.high_limit.reason));
  };
  if (!set_->keep) return describe_limit();
  set_->once(set_->limited[r.index], [&] {
    // The text depends on the topology and the rule alone: new prices that bound the route by
    // the same hop's same rule name it the same.
    if (r.limit.empty() || r.limit_of.hop != r.high_limit.hop ||
        r.limit_of.reason != r.high_limit.reason) {
      r.limit = describe_limit();
      r.limit_of = r.high_limit;
    }
  });
  return r.limit;
}

planned_route planner::build_route(route& r, const chain_price& c, decimal asked) const {
  planned_route out;
  out.spend = c.legs[0].spend;
  out.net = c.net();
  // Worst case: every non-firm hop after its assumed adverse move, each spending what the
  // previous one then delivers; a hop that could not price any more delivers nothing.
  decimal worst_amount = out.spend;
  std::array<decimal, hop_cap> worst{};
  for (int k = 0; k < r.count; ++k) {
    const pricing& p = quote_of(r.hops[k]);
    decimal w;
    if (worst_amount.is_positive()) {
      const bool moves = p.slippage_percent.is_positive() && !c.legs[k].firm;
      if (!moves && worst_amount == asked) {
        // The very price price_chain made of this hop (pricing is pure): no need to walk again.
        w = c.legs[k].net;
      } else {
        auto q =
            moves ? price_spend(worst_case(p), worst_amount, r.hops[k].available)
                  : price_spend(p, worst_amount, r.hops[k].available, m_.sums_for(r.hops[k].quote));
        if (q) w = std::min(q->net, c.legs[k].net);
      }
    }
    worst[static_cast<std::size_t>(k)] = w;
    worst_amount = w;
    asked = c.legs[k].net;
  }
  out.worst_net = worst_amount;
  out.legs.reserve(static_cast<std::size_t>(r.count));
  for (int k = 0; k < r.count; ++k) {
    const pricing& p = quote_of(r.hops[k]);
    const price& q = c.legs[k];
    planned_leg& l = out.legs.emplace_back();
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
  }
  if (r.high_limit.hop >= 0 && out.spend >= r.high) out.limits_hit.push_back(limit_of(r));
  return out;
}

// Every candidate not in the plan, with its reason. A route the search ruled out by its best
// rate alone was never bounded or priced: its reason says so instead of naming a limit.
void planner::reject_rest(plan& out, const std::vector<std::uint8_t>& used) {
  // Shared by every plan: most rejected routes read one of these.
  static const shared_text cannot_beat("outranked: its best rate cannot beat the plan");
  static const shared_text nets_more("outranked: the plan nets more");
  static const shared_text no_fit("limit: no amount fits its limits");
  out.rejected = std::move(rejected_);
  out.rejected.reserve(out.rejected.size() + routes_.size());
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (used[i]) continue;
    route& r = routes_[i];
    // In place: a temporary moved in copies both texts again (shared_text is never moved from).
    if (bound_failed(r)) {
      out.rejected.emplace_back(name(r), r.failure);
    } else if (!failures_[r.index].empty()) {
      out.rejected.emplace_back(name(r), failures_[r.index]);
    } else if (!bounded_[r.index]) {
      out.rejected.emplace_back(name(r), cannot_beat);
    } else {
      out.rejected.emplace_back(name(r), r.viable ? nets_more : no_fit);
    }
  }
}

// Without a plan every route's reason matters: each is bounded and priced for the whole amount.
plan planner::no_plan(std::string why) {
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    route& r = routes_[i];
    bound(r);
    if (!failed(r) && intent_.side == amount_side::spend) {
      failures_[r.index] = whole_failure(r);
    }
  }
  plan out;
  out.failure = std::move(why);
  scratch_.used.assign(routes_.size(), false);
  reject_rest(out, scratch_.used);
  return out;
}

plan planner::build(const evaluated& best) {
  plan out;
  std::vector<std::uint8_t>& used = scratch_.used;
  used.assign(routes_.size(), false);
  out.routes.reserve(best.alloc.routes.size());
  std::size_t legs = 0;
  for (std::size_t m = 0; m < best.alloc.routes.size(); ++m) {
    legs += static_cast<std::size_t>(routes_[best.alloc.routes[m]].count);
  }
  out.fees.reserve(legs);
  // Each fee's asset by its interned id: the same asset is the same id.
  std::array<id, split_cap * hop_cap> fee_assets{};
  for (std::size_t m = 0; m < best.alloc.routes.size(); ++m) {
    used[best.alloc.routes[m]] = true;
    const route& r = routes_[best.alloc.routes[m]];
    planned_route pr =
        build_route(routes_[best.alloc.routes[m]], best.prices[m], best.alloc.amounts[m]);
    out.spend += pr.spend;
    out.net += pr.net;
    out.worst_net += pr.worst_net;
    for (int k = 0; k < r.count; ++k) {
      const planned_leg& l = pr.legs[static_cast<std::size_t>(k)];
      const id asset = m_.ids[r.hops[k].quote].receive;
      std::size_t f = 0;
      while (f < out.fees.size() && fee_assets[f] != asset) ++f;
      if (f == out.fees.size()) {
        fee_assets[f] = asset;
        out.fees.push_back({l.order.receive_asset, l.fee});
      } else {
        out.fees[f].amount += l.fee;
      }
    }
    out.routes.push_back(std::move(pr));
  }
  // The largest part first: the order to execute in.
  std::sort(out.routes.begin(), out.routes.end(),
            [](const planned_route& a, const planned_route& b) { return a.net > b.net; });
  if (intent_.side == amount_side::spend) out.unspent = intent_.amount - out.spend;
  auto rate = out.net.try_div(out.spend, rounding::down);
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
  const evaluated* best = best_for(intent_.amount);
  if (!best) return no_plan("no route: no candidate or split can take the amount");
  return build(*best);
}

// The least spend whose best split nets the intent's amount: doubling, then bisection to
// 10^-8 of the spend asset (the net never falls when the spend grows).
std::optional<evaluated> planner::least_split_spend() {
  const auto enough = [&](const std::optional<evaluated>& e) {
    return e && e->net >= intent_.amount;
  };
  // Each search reuses the scratch the previous one answered in: the answer kept is a copy.
  const auto search = [&](decimal amount) -> std::optional<evaluated> {
    const evaluated* e = best_for(amount);
    if (!e) return std::nullopt;
    return *e;
  };
  decimal high = decimal::from_int(1);
  auto best = search(high);
  for (int i = 0; !enough(best); ++i) {
    if (i == 60 || (intent_.max_spend && high > *intent_.max_spend)) return std::nullopt;
    high = high + high;
    best = search(high);
  }
  const decimal precision = decimal::from_raw(10'000'000'000);
  decimal low;
  while (high - low > precision) {
    const decimal mid =
        (low + (high - low).try_div(decimal::from_int(2), rounding::down).value_or(decimal{}))
            .round(8, rounding::down);
    if (mid <= low || mid >= high) break;
    auto e = search(mid);
    if (enough(e)) {
      high = mid;
      best = std::move(e);
    } else {
      low = mid;
    }
  }
  return best;
}

// The spend route `r` needs to net at least `net`: each hop's exact-receive price, from the last
// hop back to the first.
std::expected<decimal, chain_failure> planner::spend_for(const route& r, decimal net) const {
  decimal wanted = net;
  for (int k = r.count - 1; k >= 0; --k) {
    auto q = price_receive(quote_of(r.hops[k]), wanted, r.hops[k].available,
                           m_.sums_for(r.hops[k].quote));
    if (!q) return std::unexpected(chain_failure{k, q.error()});
    wanted = q->spend;
  }
  return wanted;
}

// Exact receive: the least spend whose plan nets the amount. A route alone is priced backwards
// from the receive; when none can deliver it alone, the spend is bisected over split plans.
plan planner::plan_receive() {
  std::optional<evaluated> best;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    route& r = routes_[i];
    bound(r);
    if (!r.failure.empty()) continue;
    const auto spend = spend_for(r, intent_.amount);
    if (!spend) {
      const pricing& p = quote_of(r.hops[spend.error().hop]);
      failures_[r.index] =
          fmt::format("{} {}: {}", p.provider, p.direction_code, describe(spend.error().error));
    }
    if (!failures_[r.index].empty()) continue;
    allocation a;
    a.routes.push_back(static_cast<std::uint16_t>(i));
    a.amounts.push_back(*spend);
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
  if (routes_.size() == 0) {
    // Name an asset nothing is quoted for (a mistyped code reads as one), among the quotes a
    // route could use.
    const auto traded = [&](const std::string& asset, bool spent) {
      for (std::size_t i = 0; i < quotes_.size(); ++i) {
        const pricing& q = quotes_[i];
        if ((spent ? q.spend_asset : q.receive_asset) == asset &&
            present(static_cast<std::uint16_t>(i))) {
          return true;
        }
      }
      return false;
    };
    if (!traded(intent_.spend_asset, true)) {
      return no_plan(fmt::format("no route: nothing quoted from {}", intent_.spend_asset));
    }
    if (!traded(intent_.receive_asset, false)) {
      return no_plan(fmt::format("no route: nothing quoted to {}", intent_.receive_asset));
    }
  }
  return intent_.side == amount_side::spend ? plan_spend() : plan_receive();
}

}  // namespace

namespace {
const std::shared_ptr<const std::string>& no_text() {
  static const auto empty = std::make_shared<const std::string>();
  return empty;
}
}  // namespace

shared_text::shared_text() : text_(no_text()) {}
shared_text::shared_text(std::string text)
    : text_(text.empty() ? no_text() : std::make_shared<const std::string>(std::move(text))) {}
shared_text::shared_text(const char* text) : shared_text(std::string(text)) {}

prepared_market::prepared_market(std::span<const pricing> quotes)
    : state_(std::make_unique<state>(quotes, true)) {}

prepared_market::prepared_market(std::vector<pricing>&& quotes,
                                 std::optional<std::chrono::milliseconds> fresh_for)
    : state_(std::make_unique<state>(std::move(quotes), fresh_for, true)) {}

prepared_market::prepared_market(prepared_market&&) noexcept = default;
prepared_market& prepared_market::operator=(prepared_market&&) noexcept = default;
prepared_market::~prepared_market() = default;

std::span<const pricing> prepared_market::quotes() const noexcept { return state_->quotes; }

bool prepared_market::fresh(std::size_t i, wall_time now) const noexcept {
  return state_->fresh_is(i, now);
}

plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
               const planner_options& options, wall_time now) {
  // One plan: a private market computes only the first segments and bounds this plan needs.
  const prepared_market::state market(quotes, false);
  return planner(intent, market, options, now).run();
}

plan make_plan(const swap_intent& intent, const prepared_market& market,
               const planner_options& options, wall_time now) {
  return planner(intent, *market.state_, options, now).run();
}

route_cache::route_cache() = default;
route_cache::route_cache(route_cache&&) noexcept = default;
route_cache& route_cache::operator=(route_cache&&) noexcept = default;
route_cache::~route_cache() = default;

bool route_cache::holds(std::span<const pricing> quotes) const {
  return state_ && state_->same_topology(quotes);
}

plan make_plan(const swap_intent& intent, std::span<const pricing> quotes,
               const planner_options& options, wall_time now, route_cache& cache) {
  if (cache.holds(quotes)) {
    cache.state_->reprice(quotes);
  } else {
    // Private to one plan at a time like make_plan's own, but keeping its route sets; its names
    // must outlive `quotes`.
    cache.state_ = std::make_unique<prepared_market::state>(quotes, false, true);
    cache.state_->keep_topology();
  }
  return planner(intent, *cache.state_, options, now).run();
}

}  // namespace swaprouter
