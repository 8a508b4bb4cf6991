#include "adapters/kiiex/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "engine/json_read.hpp"

namespace swaprouter::kiiex {
namespace {

using json = json_value;
using jkind = json_value::kind;

bool equal_ci(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    return x == y;
  });
}

// APEX versions differ in key casing (VENUES.md 1.1): every lookup ignores ASCII case.
const json* member_ci(const json& object, std::string_view key) {
  if (object.type != jkind::object) return nullptr;
  for (std::size_t i = 0; i < object.keys.size(); ++i) {
    if (equal_ci(object.keys[i], key)) return &object.items[i];
  }
  return nullptr;
}

result<json_document> parse_body(std::string_view body, std::string_view what) {
  return parse_json_text(body, what, json_limits{.max_body_bytes = max_body_bytes});
}

// An exact decimal from a JSON number's text (or a numeric string). APEX sends C# decimals with up
// to 28 significant digits (VENUES.md 1.1); places beyond our 18 are rounded half-even, which
// moves a value by at most 5 * 10^-19. None for anything else: each caller words its own error.
template <class Value>  // json or json_scalar
std::optional<decimal> to_decimal(const Value& v) {
  if (v.type != jkind::number && v.type != jkind::string) return std::nullopt;
  // A book's prices and quantities ("3988.005", "1.0000") need no rounding: read inline, a word
  // at a time (the values of documents and of read_scalar_rows are padded for it).
  if (auto plain = plain_amount(v.text)) return plain;
  auto parsed = decimal::parse(v.text, rounding::half_even);
  if (!parsed) return std::nullopt;
  return *parsed;
}

// Reads one object's fields ignoring key case; the first problem is kept (straight-line parsers).
class fields {
 public:
  fields(const json& object, std::string context) : object_(object), context_(std::move(context)) {
    if (object_.type != jkind::object) {
      problem_ = fmt::format("{}: expected an object, got {}", context_, kind_name(object_.type));
    }
  }

  bool failed() const { return !problem_.empty(); }
  std::unexpected<error> failure() const { return fail(error_kind::bad_response, problem_); }

  const json* get(std::string_view key, bool required) {
    if (failed()) return nullptr;
    const json* v = member_ci(object_, key);
    if ((v == nullptr || v->type == jkind::null) && required) set(key, "missing");
    if (v != nullptr && v->type == jkind::null) return nullptr;
    return v;
  }

  std::string text(std::string_view key, bool required = true) {
    const json* v = get(key, required);
    if (v == nullptr) return {};
    if (v->type != jkind::string) {
      expected(key, "a string", *v);
      return {};
    }
    return std::string(v->text);
  }

  // A number or a numeric string, as an exact decimal; negative refused unless allowed.
  decimal amount(std::string_view key, bool required = true, bool allow_negative = false) {
    const json* v = get(key, required);
    if (v == nullptr) return {};
    auto d = to_decimal(*v);
    if (!d) {
      set(key, fmt::format("not a decimal: \"{}\"", excerpt(v->text)));
      return {};
    }
    if (d->is_negative() && !allow_negative) {
      set(key, fmt::format("negative: \"{}\"", excerpt(v->text)));
      return {};
    }
    return *d;
  }

  // A best price: APEX marks an empty side with decimal.MaxValue, beyond our range, and that
  // reads as none. Otherwise as amount().
  std::optional<decimal> price_level(std::string_view key) {
    const json* v = get(key, true);
    if (v == nullptr) return std::nullopt;
    if (v->type == jkind::number || v->type == jkind::string) {
      std::string_view text = v->text;
      if (text.starts_with(wire::level1_field::no_level_price)) {
        text.remove_prefix(wire::level1_field::no_level_price.size());
        if (text.empty() ||
            (text.front() == '.' && text.find_first_not_of('0', 1) == std::string_view::npos)) {
          return std::nullopt;
        }
      }
    }
    return amount(key);
  }

  std::int64_t integer(std::string_view key, bool required = true) {
    const json* v = get(key, required);
    if (v == nullptr) return 0;
    std::int64_t out = 0;
    const char* first = v->text.data();
    const char* last = first + v->text.size();
    const auto [end, ec] = std::from_chars(first, last, out);
    if ((v->type != jkind::number && v->type != jkind::string) || ec != std::errc{} ||
        end != last) {
      set(key, fmt::format("not an integer: \"{}\"", excerpt(v->text)));
      return 0;
    }
    return out;
  }

  bool boolean(std::string_view key, bool required = true) {
    const json* v = get(key, required);
    if (v == nullptr) return false;
    if (v->type != jkind::boolean) {
      expected(key, "a boolean", *v);
      return false;
    }
    return v->flag;
  }

  wire::side side(std::string_view key) {
    const json* v = get(key, true);
    if (v == nullptr) return wire::side::buy;
    auto s = wire::parse_side(v->text, v->type == jkind::number);
    if (!s || (v->type != jkind::number && v->type != jkind::string)) {
      set(key, fmt::format("not a side: \"{}\"", excerpt(v->text)));
      return wire::side::buy;
    }
    return *s;
  }

  // Enum names or numbers as text ("Limit", "2").
  std::string name(std::string_view key, bool required = true) {
    const json* v = get(key, required);
    if (v == nullptr) return {};
    if (v->type != jkind::string && v->type != jkind::number) {
      expected(key, "a name or a number", *v);
      return {};
    }
    return excerpt(v->text, 64);
  }

  void set(std::string_view key, std::string_view why) {
    if (!failed()) problem_ = fmt::format("{}.{}: {}", context_, key, why);
  }

 private:
  void expected(std::string_view key, std::string_view what, const json& got) {
    set(key, fmt::format("expected {}, got {}", what, kind_name(got.type)));
  }

  const json& object_;
  std::string context_;
  std::string problem_;
};

template <class T, class Read>
result<std::vector<T>> read_array(std::string_view body, std::string_view what, Read read) {
  auto root = parse_body(body, what);
  if (!root) return std::unexpected(std::move(root.error()));
  std::string problem;
  const auto* items = as_array(*root, what, problem);
  if (items == nullptr) return fail(error_kind::bad_response, problem);
  std::vector<T> out;
  out.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = read((*items)[i], fmt::format("{}[{}]", what, i));
    if (!item) return std::unexpected(std::move(item.error()));
    out.push_back(std::move(*item));
  }
  return out;
}

result<instrument> read_instrument(const json& v, std::string context) {
  namespace f = wire::instrument_field;
  fields in(v, std::move(context));
  instrument out;
  out.instrument_id = in.integer(f::instrument_id);
  out.symbol = in.text(f::symbol);
  out.product1 = in.integer(f::product1);
  out.product1_symbol = in.text(f::product1_symbol);
  out.product2 = in.integer(f::product2);
  out.product2_symbol = in.text(f::product2_symbol);
  out.session_status = in.name(f::session_status, false);
  out.quantity_increment = in.amount(f::quantity_increment);
  out.price_increment = in.amount(f::price_increment);
  out.minimum_quantity = in.amount(f::minimum_quantity, false);
  out.disabled = in.boolean(f::is_disable, false);
  // Rounding to an increment divides by it.
  if (!in.failed() && !out.quantity_increment.is_positive()) {
    in.set(f::quantity_increment, "not > 0");
  }
  if (!in.failed() && !out.price_increment.is_positive()) in.set(f::price_increment, "not > 0");
  if (in.failed()) return in.failure();
  return out;
}

result<product> read_product(const json& v, std::string context) {
  namespace f = wire::product_field;
  fields in(v, std::move(context));
  product out;
  out.product_id = in.integer(f::product_id);
  out.symbol = in.text(f::product);
  const std::int64_t places = in.integer(f::decimal_places);
  if (!in.failed() && (places < 0 || places > decimal::scale)) {
    in.set(f::decimal_places, "outside 0..18");
  }
  out.decimal_places = static_cast<int>(places);
  out.no_fees = in.boolean(f::no_fees, false);
  out.disabled = in.boolean(f::is_disabled, false);
  if (in.failed()) return in.failure();
  return out;
}

result<order> read_order(const json& v, std::string context) {
  namespace f = wire::order_field;
  fields in(v, std::move(context));
  order out;
  out.order_id = in.integer(f::order_id);
  out.client_order_id = in.integer(f::client_order_id, false);
  out.instrument_id = in.integer(f::instrument);
  out.account_id = in.integer(f::account, false);
  out.side = in.side(f::side);
  if (const json* type = in.get(f::order_type, false)) {
    out.order_type = in.name(f::order_type, false);
    // Read as a number too (VENUES.md 1.1), kept as its name: the client tells a market order
    // by that name.
    if (auto known = wire::parse_order_type(type->text, type->type == jkind::number)) {
      out.order_type = wire::order_type_names[static_cast<std::size_t>(*known)];
    }
  }
  if (const json* state = in.get(f::order_state, true)) {
    out.state_text = excerpt(state->text, 64);
    out.state = wire::parse_order_state(state->text, state->type == jkind::number);
  }
  out.price = in.amount(f::price, false);
  out.quantity = in.amount(f::quantity, false);
  out.orig_quantity = in.amount(f::orig_quantity);
  out.quantity_executed = in.amount(f::quantity_executed);
  out.gross_value_executed = in.amount(f::gross_value_executed, false);
  out.avg_price = in.amount(f::avg_price, false);
  out.change_reason = in.name(f::change_reason, false);
  out.reject_reason = excerpt(in.text(f::reject_reason, false), 200);
  if (in.failed()) return in.failure();
  return out;
}

result<trade> read_trade(const json& v, std::string context) {
  namespace f = wire::trade_field;
  fields in(v, std::move(context));
  trade out;
  out.trade_id = in.integer(f::trade_id);
  out.order_id = in.integer(f::order_id);
  out.client_order_id = in.integer(f::client_order_id, false);
  out.instrument_id = in.integer(f::instrument_id);
  out.side = in.side(f::side);
  out.quantity = in.amount(f::quantity);
  out.price = in.amount(f::price);
  out.value = in.amount(f::value);
  out.fee = in.amount(f::fee, false);
  out.fee_product_id = in.integer(f::fee_product_id, false);
  out.maker_taker = in.name(f::maker_taker, false);
  out.trade_time_ms = in.integer(f::trade_time_ms, false);
  if (in.failed()) return in.failure();
  return out;
}

result<position> read_position(const json& v, std::string context) {
  namespace f = wire::position_field;
  fields in(v, std::move(context));
  position out;
  out.product_id = in.integer(f::product_id);
  out.product_symbol = in.text(f::product_symbol);
  out.amount = in.amount(f::amount);
  out.hold = in.amount(f::hold);
  out.pending_deposits = in.amount(f::pending_deposits, false);
  out.pending_withdraws = in.amount(f::pending_withdraws, false);
  if (!in.failed() && out.hold > out.amount) in.set(f::hold, "exceeds Amount");
  if (in.failed()) return in.failure();
  return out;
}

result<level1_summary> read_summary(const json& v, const std::string& context) {
  if (v.type != jkind::array || v.items.size() < wire::level1_summary_min_size) {
    return fail(error_kind::bad_response, fmt::format("{}: expected an array of {} values", context,
                                                      wire::level1_summary_min_size));
  }
  level1_summary out;
  const auto number = [&](std::size_t i, bool allow_negative) -> result<decimal> {
    auto d = to_decimal(v.items[i]);
    if (!d || (d->is_negative() && !allow_negative)) {
      return fail(error_kind::bad_response, fmt::format("{}[{}]: not a decimal: \"{}\"", context, i,
                                                        excerpt(v.items[i].text)));
    }
    return *d;
  };
  auto id = number(0, false);
  if (!id) return std::unexpected(id.error());
  out.instrument_id = static_cast<std::int64_t>(id->raw() / decimal::from_int(1).raw());
  if (v.items[1].type != jkind::string) {
    return fail(error_kind::bad_response, fmt::format("{}[1]: expected a symbol", context));
  }
  out.symbol = excerpt(v.items[1].text, 32);
  auto px = number(2, false);
  auto change = number(3, true);
  auto change_percent = number(4, true);
  auto volume = number(5, false);
  for (auto* r : {&px, &change, &change_percent, &volume}) {
    if (!*r) return std::unexpected(r->error());
  }
  out.last_traded_px = *px;
  out.rolling_24h_px_change = *change;
  out.rolling_24h_px_change_percent = *change_percent;
  out.rolling_24h_volume = *volume;
  return out;
}

}  // namespace

result<login_answer> parse_login(std::string_view body) {
  auto root = parse_body(body, "AuthenticateUser");
  if (!root) return std::unexpected(std::move(root.error()));
  namespace f = wire::auth_field;
  fields in(*root, "AuthenticateUser");
  login_answer out;
  out.authenticated = in.boolean(f::authenticated);
  out.locked = in.boolean(f::locked, false);
  out.requires_2fa = in.boolean(f::requires_2fa, false);
  out.errormsg = excerpt(in.text(f::errormsg, false), 200);
  if (in.failed()) return in.failure();
  if (!out.authenticated) return out;
  out.session_token = in.text(f::session_token, !out.requires_2fa);
  const json* user = in.get(f::user, !out.requires_2fa);
  if (user != nullptr) {
    fields u(*user, "AuthenticateUser.User");
    out.user_id = u.integer(wire::field::user_id);
    out.account_id = u.integer(wire::field::account_id);
    out.oms_id = u.integer(wire::field::oms_id);
    if (u.failed()) return u.failure();
  }
  if (in.failed()) return in.failure();
  // The token goes into a header: anything but printable ASCII could bend the request.
  if (!std::all_of(out.session_token.begin(), out.session_token.end(),
                   [](char c) { return c > 0x20 && c < 0x7f; }) ||
      out.session_token.size() > 512) {
    return fail(error_kind::bad_response, "AuthenticateUser.SessionToken: not a usable token");
  }
  return out;
}

std::optional<generic_answer> parse_generic(std::string_view body) {
  auto root = parse_body(body, "response");
  if (!root || root->type != jkind::object) return std::nullopt;
  const json* result_value = member_ci(*root, wire::generic_field::result);
  if (result_value == nullptr || result_value->type != jkind::boolean) return std::nullopt;
  generic_answer out;
  out.result = result_value->flag;
  if (const json* m = member_ci(*root, wire::generic_field::errormsg);
      m != nullptr && m->type == jkind::string) {
    out.errormsg = excerpt(m->text, 200);
  }
  if (const json* d = member_ci(*root, wire::generic_field::detail);
      d != nullptr && d->type == jkind::string) {
    out.detail = excerpt(d->text, 200);
  }
  if (const json* c = member_ci(*root, wire::generic_field::errorcode);
      c != nullptr && c->type == jkind::number) {
    std::int64_t code = 0;
    const auto [end, ec] = std::from_chars(c->text.data(), c->text.data() + c->text.size(), code);
    if (ec == std::errc{} && end == c->text.data() + c->text.size()) out.errorcode = code;
  }
  return out;
}

result<std::vector<instrument>> parse_instruments(std::string_view body) {
  return read_array<instrument>(body, "instruments", read_instrument);
}

result<instrument> parse_instrument(std::string_view body) {
  auto root = parse_body(body, "instrument");
  if (!root) return std::unexpected(std::move(root.error()));
  return read_instrument(*root, "instrument");
}

result<std::vector<product>> parse_products(std::string_view body) {
  return read_array<product>(body, "products", read_product);
}

result<level1> parse_level1(std::string_view body) {
  auto root = parse_body(body, "level1");
  if (!root) return std::unexpected(std::move(root.error()));
  namespace f = wire::level1_field;
  fields in(*root, "level1");
  level1 out;
  out.instrument_id = in.integer(f::instrument_id);
  const std::optional<decimal> bid = in.price_level(f::best_bid);
  const std::optional<decimal> offer = in.price_level(f::best_offer);
  // An empty side is zero, price and size, whatever size came with it.
  out.best_bid = bid.value_or(decimal{});
  out.best_offer = offer.value_or(decimal{});
  out.bid_qty = bid ? in.amount(f::bid_qty, false) : decimal{};
  out.ask_qty = offer ? in.amount(f::ask_qty, false) : decimal{};
  if (in.failed()) return in.failure();
  return out;
}

namespace {

// Builds the book row by row: add() takes a row's first l2_index::size values (nullptr when the
// row is not an array of at least that many), finish() merges the levels.
class book_reader {
 public:
  book_reader(std::int64_t instrument_id, std::size_t rows)
      : instrument_(decimal::from_int(instrument_id)) {
    out_.instrument_id = instrument_id;
    // Room for a usual book at once (a side has at most the rows; a huge body grows as needed).
    out_.bids.reserve(std::min<std::size_t>(rows, 256));
    out_.asks.reserve(std::min<std::size_t>(rows, 256));
    // Every row repeats the instrument and most actions are 0 or 1: their plain forms are read
    // without decimal::parse, any other spelling ("7.0", "2e0") through it as before.
    const auto id_end = std::to_chars(id_digits_.begin(), id_digits_.end(), instrument_id).ptr;
    id_text_ =
        std::string_view(id_digits_.data(), static_cast<std::size_t>(id_end - id_digits_.data()));
  }
  // id_text_ views id_digits_.
  book_reader(const book_reader&) = delete;
  book_reader& operator=(const book_reader&) = delete;

  // Takes the next row: nullptr, or why the row breaks the book.
  template <class Value>  // json or json_scalar
  const char* add(const Value* items) {
    ++rows_;
    if (items == nullptr) return "expected an array of 10 values";
    const Value& pair_value = items[wire::l2_index::product_pair_code];
    const Value& action_value = items[wire::l2_index::action_type];
    auto price = to_decimal(items[wire::l2_index::price]);
    auto quantity = to_decimal(items[wire::l2_index::quantity]);
    auto pair = numeric(pair_value) && pair_value.text == id_text_
                    ? std::optional<decimal>(instrument_)
                    : to_decimal(pair_value);
    auto action = numeric(action_value) && action_value.text.size() == 1 &&
                          action_value.text[0] >= '0' && action_value.text[0] <= '9'
                      ? std::optional<decimal>(decimal::from_int(action_value.text[0] - '0'))
                      : to_decimal(action_value);
    // Side 0 (buy) or 1 (sell) as a plain number is read at once, any other form as before.
    const Value& side_value = items[wire::l2_index::side];
    const bool plain_side = side_value.type == jkind::number && side_value.text.size() == 1 &&
                            (side_value.text[0] == '0' || side_value.text[0] == '1');
    auto side = plain_side ? std::optional(static_cast<wire::side>(side_value.text[0] - '0'))
                           : wire::parse_side(side_value.text, side_value.type == jkind::number);
    if (!price || !quantity || !pair || !action || !side || price->is_negative() ||
        quantity->is_negative()) {
      return "unreadable price, quantity, pair, action or side";
    }
    if (*pair != instrument_) return "another instrument's level";
    if (*action == delete_action || quantity->is_zero()) return nullptr;
    auto& levels = *side == wire::side::buy ? out_.bids : out_.asks;
    levels.push_back({*price, *quantity});
    return nullptr;
  }

  // The index of the last row given to add().
  std::size_t last_row() const { return rows_ - 1; }

  // Levels of one price are summed in the order they came (stable sort, then adjacent ones).
  order_book finish() && {
    const auto merge = [](std::vector<book_level>& levels, auto before) {
      if (!std::is_sorted(levels.begin(), levels.end(), before)) {
        std::stable_sort(levels.begin(), levels.end(), before);
      }
      auto kept = levels.begin();
      for (auto it = levels.begin(); it != levels.end(); ++it) {
        if (it == levels.begin()) continue;
        if (it->price == kept->price) {
          kept->quantity += it->quantity;
        } else {
          *++kept = *it;
        }
      }
      if (!levels.empty()) levels.erase(kept + 1, levels.end());
    };
    merge(out_.bids, [](const book_level& a, const book_level& b) { return a.price > b.price; });
    merge(out_.asks, [](const book_level& a, const book_level& b) { return a.price < b.price; });
    return std::move(out_);
  }

 private:
  template <class Value>
  static bool numeric(const Value& v) {
    return v.type == jkind::number || v.type == jkind::string;
  }

  static constexpr decimal delete_action = decimal::from_raw(2'000'000'000'000'000'000);
  order_book out_;
  decimal instrument_;
  std::array<char, 24> id_digits_{};
  std::string_view id_text_;
  std::size_t rows_ = 0;
};

}  // namespace

result<order_book> parse_l2_snapshot(std::string_view body, std::int64_t instrument_id) {
  // A book of plain rows is read without building a document, each row as it is read. Anything
  // else, and any book the rows do not make, is read as a document, which gives the same book or
  // the error.
  {
    thread_local std::string buffer;
    // A row is 40 bytes or more: room for the whole book on either side.
    book_reader reader(instrument_id, body.size() / 40 + 1);
    const bool read = read_scalar_rows(
        body, json_limits{.max_body_bytes = max_body_bytes}, wire::l2_index::size, buffer,
        [](void* context, const json_scalar* row) {
          return static_cast<book_reader*>(context)->add(row) == nullptr;
        },
        &reader);
    // Kept for the thread's next book, unless a huge one made it so.
    constexpr std::size_t keep = 1u << 16;
    if (buffer.capacity() > keep) std::string().swap(buffer);
    if (read) return std::move(reader).finish();
  }
  auto root = parse_body(body, "l2");
  if (!root) return std::unexpected(std::move(root.error()));
  std::string problem;
  const auto* rows = as_array(*root, "l2", problem);
  if (rows == nullptr) return fail(error_kind::bad_response, problem);
  book_reader reader(instrument_id, rows->size());
  for (const json& row : *rows) {
    const json* items = row.type == jkind::array && row.items.size() >= wire::l2_index::size
                            ? row.items.data()
                            : nullptr;
    if (const char* why = reader.add(items)) {
      return fail(error_kind::bad_response, fmt::format("l2[{}]: {}", reader.last_row(), why));
    }
  }
  return std::move(reader).finish();
}

result<std::vector<level1_summary>> parse_level1_summary_min(std::string_view body) {
  return read_array<level1_summary>(body, "level1_summary_min", read_summary);
}

result<order_fee> parse_order_fee(std::string_view body) {
  auto root = parse_body(body, "order_fee");
  if (!root) return std::unexpected(std::move(root.error()));
  fields in(*root, "order_fee");
  order_fee out;
  out.fee = in.amount(wire::order_fee_field::order_fee);
  out.product_id = in.integer(wire::order_fee_field::product_id);
  if (in.failed()) return in.failure();
  return out;
}

result<send_order_answer> parse_send_order(std::string_view body) {
  auto root = parse_body(body, "SendOrder");
  if (!root) return std::unexpected(std::move(root.error()));
  namespace f = wire::send_order_field;
  fields in(*root, "SendOrder");
  send_order_answer out;
  const std::string status = in.text(f::status);
  out.errormsg = excerpt(in.text(f::errormsg, false), 200);
  if (in.failed()) return in.failure();
  if (equal_ci(status, wire::send_order_status::accepted)) {
    out.accepted = true;
    out.order_id = in.integer(f::order_id);
    if (!in.failed() && out.order_id <= 0) in.set(f::order_id, "not > 0");
  } else if (equal_ci(status, wire::send_order_status::rejected)) {
    out.errorcode = in.integer(f::errorcode, false);
  } else {
    in.set(f::status, fmt::format("unknown status \"{}\"", excerpt(status)));
  }
  if (in.failed()) return in.failure();
  return out;
}

result<order> parse_order_status(std::string_view body) {
  auto root = parse_body(body, "order");
  if (!root) return std::unexpected(std::move(root.error()));
  if (root->type == jkind::array) {
    if (root->items.size() != 1) {
      return fail(error_kind::bad_response,
                  fmt::format("order: expected one order, got {}", root->items.size()));
    }
    return read_order(root->items.front(), "order[0]");
  }
  return read_order(*root, "order");
}

result<std::vector<order>> parse_orders(std::string_view body) {
  return read_array<order>(body, "orders", read_order);
}

result<std::vector<trade>> parse_trades(std::string_view body) {
  return read_array<trade>(body, "trades", read_trade);
}

result<std::vector<position>> parse_positions(std::string_view body) {
  return read_array<position>(body, "positions", read_position);
}

}  // namespace swaprouter::kiiex
