#include "adapters/stablestack/parse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "adapters/stablestack/wire.hpp"
#include "engine/json_read.hpp"

namespace swaprouter::stablestack {
namespace {

constexpr json_limits limits{.max_body_bytes = max_body_bytes, .max_depth = max_json_depth};

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
  return out;
}

// The envelope's data after checking status == "success".
result<const json_value*> success_data(const json_value& root, std::string_view what) {
  json_fields in(root, std::string(what));
  const std::string_view status = in.text_view(wire::envelope::status);
  const json_value* data = in.get(wire::envelope::data, true);
  if (in.failed()) return in.failure();
  if (status != wire::envelope::success) {
    return fail(error_kind::bad_response,
                fmt::format("{}.status: \"{}\", not success", what, excerpt(status)));
  }
  return data;
}

result<firm_quote> read_quote(const json_value& v, std::string context) {
  namespace f = wire::quote_field;
  json_fields in(v, std::move(context));
  firm_quote q;
  q.id = in.text(f::id);
  q.from_currency = in.text(f::from_currency);
  q.to_currency = in.text(f::to_currency);
  q.quoted_price = in.amount(f::quoted_price);
  q.quoted_currency = in.optional_text(f::quoted_currency);
  q.from_amount = in.amount(f::from_amount);
  q.to_amount = in.amount(f::to_amount);
  q.confirmed = in.boolean(f::confirmed);
  q.expires_at = in.time(f::expires_at);
  q.created_at = in.time(f::created_at);
  q.updated_at = in.time(f::updated_at);
  if (in.failed()) return in.failure();
  return q;
}

result<transaction> read_transaction(const json_value& v, std::string context) {
  namespace f = wire::tx_field;
  json_fields in(v, std::move(context));
  transaction t;
  t.id = in.text(f::id);
  t.sender_wallet_id = in.optional_text(f::sender_wallet_id);
  t.receiver_wallet_id = in.optional_text(f::receiver_wallet_id);
  t.transaction_id = in.optional_text(f::transaction_id);
  t.asset_code = in.text(f::asset_code);
  t.amount = in.amount(f::amount);
  t.reference_id = in.optional_text(f::reference_id);
  t.status = in.text(f::status);
  t.created_at = in.time(f::created_at);
  t.updated_at = in.time(f::updated_at);
  t.transaction_type = in.optional_text(f::transaction_type);
  t.transaction_mode = in.text(f::transaction_mode);
  t.exchange_rate = in.optional_amount(f::exchange_rate);
  t.fee = in.optional_amount(f::fee);
  t.balance = in.optional_amount(f::balance);
  t.reason = in.optional_text(f::reason);
  t.customer_id = in.optional_text(f::customer_id);
  if (in.failed()) return in.failure();
  return t;
}

result<wallet> read_wallet(const json_value& v, std::string context) {
  namespace f = wire::wallet_field;
  json_fields in(v, std::move(context));
  wallet w;
  w.id = in.text(f::id);
  w.currency = in.text(f::currency);
  w.balance = in.amount(f::balance);
  w.customer_id = in.optional_text(f::customer_id);
  if (in.failed()) return in.failure();
  return w;
}

template <class T, class Read>
result<std::vector<T>> read_items(const json_value& data, std::string_view what, Read read) {
  std::string problem;
  const auto* items = as_array(data, what, problem);
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

}  // namespace

result<firm_quote> parse_quote(std::string_view body) {
  auto root = parse_json_text(body, "quote", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto outer = success_data(*root, "quote");
  if (!outer) return std::unexpected(std::move(outer.error()));
  // The documented answer nests a second envelope inside data (VENUES.md 2.4).
  auto inner = success_data(**outer, "quote.data");
  if (!inner) return std::unexpected(std::move(inner.error()));
  return read_quote(**inner, "quote.data.data");
}

result<swap_result> parse_swap(std::string_view body) {
  namespace f = wire::swap_field;
  auto root = parse_json_text(body, "swap", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto data = success_data(*root, "swap");
  if (!data) return std::unexpected(std::move(data.error()));
  json_fields in(**data, "swap.data");
  const json_value* debit = in.get(f::debit, true);
  const json_value* credit = in.get(f::credit, true);
  swap_result out;
  out.swap_id = in.text(f::swap_id);
  if (in.failed()) return in.failure();
  auto d = read_transaction(*debit, "swap.data.debitTransaction");
  if (!d) return std::unexpected(std::move(d.error()));
  auto c = read_transaction(*credit, "swap.data.creditTransaction");
  if (!c) return std::unexpected(std::move(c.error()));
  out.debit = std::move(*d);
  out.credit = std::move(*c);
  return out;
}

result<transaction_page> parse_transactions(std::string_view body) {
  auto root = parse_json_text(body, "transactions", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto data = success_data(*root, "transactions");
  if (!data) return std::unexpected(std::move(data.error()));
  auto items = read_items<transaction>(**data, "transactions.data", read_transaction);
  if (!items) return std::unexpected(std::move(items.error()));
  transaction_page page;
  page.items = std::move(*items);
  if (const json_value* p = root->member(wire::envelope::pagination);
      p != nullptr && p->type != json_value::kind::null) {
    json_fields in(*p, "transactions.pagination");
    page.total_pages =
        static_cast<int>(in.integer(wire::pagination_field::total_pages, 0, 1'000'000'000));
    if (in.failed()) return in.failure();
  }
  return page;
}

result<transaction> parse_transaction(std::string_view body) {
  auto root = parse_json_text(body, "transaction", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto data = success_data(*root, "transaction");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_transaction(**data, "transaction.data");
}

result<std::vector<wallet>> parse_wallets(std::string_view body) {
  auto root = parse_json_text(body, "wallets", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto data = success_data(*root, "wallets");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_items<wallet>(**data, "wallets.data", read_wallet);
}

result<wallet> parse_wallet(std::string_view body) {
  auto root = parse_json_text(body, "wallet", limits);
  if (!root) return std::unexpected(std::move(root.error()));
  auto data = success_data(*root, "wallet");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_wallet(**data, "wallet.data");
}

provider_error parse_error_body(std::string_view body) {
  constexpr std::size_t code_chars = 64;
  constexpr std::size_t message_chars = 200;
  provider_error out;
  auto root = parse_json_text(body, "error", limits);
  if (root && root->type == json_value::kind::object) {
    namespace e = wire::envelope;
    const auto text_of = [](const json_value* v, std::size_t limit) {
      return v != nullptr && v->type == json_value::kind::string ? excerpt(v->text, limit)
                                                                 : std::string();
    };
    const json_value* error = root->member(e::error);
    if (error != nullptr && error->type == json_value::kind::object) {
      out.code = text_of(error->member(e::code), code_chars);
      out.message = text_of(error->member(e::message), message_chars);
      if (const json_value* details = error->member(e::details);
          details != nullptr && details->type == json_value::kind::object) {
        out.reason = text_of(details->member("reason"), code_chars);
      }
    }
    if (out.message.empty()) out.message = text_of(root->member(e::message), message_chars);
    if (!out.code.empty() || !out.message.empty()) return out;
  }
  out.message = excerpt(body, message_chars);
  return out;
}

leg_state map_state(const transaction& debit, const transaction& credit) {
  namespace s = wire::tx_status;
  const auto known = [](std::string_view st) {
    return st == s::pending || st == s::completed || st == s::failed || st == s::reversed;
  };
  const auto bad = [](std::string_view st) { return st == s::failed || st == s::reversed; };
  // One leg COMPLETED beside a failed one: money moved one way only. Not a failure with nothing
  // filled; not final, alarmed, until the provider settles (or an operator does).
  if ((bad(debit.status) && credit.status == s::completed) ||
      (bad(credit.status) && debit.status == s::completed)) {
    return leg_state::unrecognised;
  }
  if (bad(debit.status) || bad(credit.status)) return leg_state::failed;
  if (!known(debit.status) || !known(credit.status)) return leg_state::unrecognised;
  if (debit.status == s::completed && credit.status == s::completed) return leg_state::filled;
  return leg_state::open;
}

leg_status to_leg_status(const transaction& debit, const transaction& credit,
                         std::string_view client) {
  leg_status out;
  out.ref.provider_ref = debit.reference_id;
  out.ref.client = std::string(client);
  out.state = map_state(debit, credit);
  out.provider_status = excerpt(debit.status, 32) + "/" + excerpt(credit.status, 32);
  out.direction_code = upper(debit.asset_code) + "-" + upper(credit.asset_code);
  out.spend_amount = debit.amount;
  out.receive_amount = credit.amount;
  if (out.state == leg_state::filled) {
    out.spend_filled = debit.amount;
    // The credit leg's amount is what the wallet received ("credits the to_currency amount",
    // the quote's to_amount; VENUES.md 2.4): a fee it names was taken before, so the gross is
    // their sum and the net, receive_filled - fee_filled, is the amount credited. A fee that
    // cannot be a deduction (negative, or beyond decimal's range) leaves the net as credited.
    const decimal fee = credit.fee.value_or(decimal{});
    const std::optional<decimal> gross = credit.amount.try_add(fee);
    out.receive_filled = gross && !fee.is_negative() ? *gross : credit.amount;
    out.fee_filled = out.receive_filled - credit.amount;
  }
  out.reason_message = excerpt(!debit.reason.empty() ? debit.reason : credit.reason, 200);
  out.created_at = debit.created_at;
  return out;
}

result<swap_result> pair_legs(const std::vector<transaction>& legs, std::string_view swap_id) {
  const transaction* debit = nullptr;
  const transaction* credit = nullptr;
  for (const auto& t : legs) {
    if (t.reference_id != swap_id) continue;
    const transaction** slot = t.transaction_mode == wire::tx_mode::debit    ? &debit
                               : t.transaction_mode == wire::tx_mode::credit ? &credit
                                                                             : nullptr;
    if (slot == nullptr || *slot != nullptr) {
      return fail(error_kind::bad_response,
                  fmt::format("stablestack: inconsistent legs for swap {}", excerpt(swap_id)));
    }
    *slot = &t;
  }
  if (debit == nullptr || credit == nullptr) {
    return fail(error_kind::not_found,
                fmt::format("stablestack: swap {} has no debit and credit legs", excerpt(swap_id)));
  }
  return swap_result{*debit, *credit, std::string(swap_id)};
}

}  // namespace swaprouter::stablestack
