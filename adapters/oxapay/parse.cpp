#include "adapters/oxapay/parse.hpp"

#include <fmt/format.h>

#include <utility>

#include "adapters/oxapay/wire.hpp"
#include "engine/json_read.hpp"

namespace swaprouter::oxapay {
namespace {

constexpr json_limits limits{.max_body_bytes = max_body_bytes, .max_depth = max_json_depth};
// VENUES.md 3.1: monetary fields are JSON numbers; a decimal string is read the same way.
constexpr json_amount amounts = json_amount::either;

// The parsed body and its envelope's data (a value of `body`), after checking status == 200.
struct enveloped {
  json_document body;
  const json_value* data = nullptr;
};

result<enveloped> success_data(std::string_view text, std::string_view what) {
  auto root = parse_json_text(text, what, limits);
  if (!root) return std::unexpected(std::move(root.error()));
  json_fields in(*root, std::string(what));
  const std::int64_t status = in.integer(wire::envelope::status, 100, 599);
  const json_value* data = in.get(wire::envelope::data, true);
  if (in.failed()) return in.failure();
  if (status != 200) {
    return fail(error_kind::bad_response, fmt::format("{}.status: {}, not 200", what, status));
  }
  return enveloped{std::move(*root), data};
}

result<swap> read_swap(const json_value& v, std::string context) {
  namespace f = wire::swap_field;
  json_fields in(v, std::move(context), amounts);
  swap s;
  const json_value* id = in.get(f::track_id, true);
  // The seed types track_id as a string; a numeric id is accepted by its text.
  if (id != nullptr &&
      (id->type == json_value::kind::string || id->type == json_value::kind::number)) {
    s.track_id = id->text;
  }
  if (!in.failed() && s.track_id.empty()) in.set(f::track_id, "not a non-empty string");
  s.from_currency = in.text(f::from_currency);
  s.to_currency = in.text(f::to_currency);
  s.from_amount = in.amount(f::from_amount);
  s.to_amount = in.amount(f::to_amount);
  s.rate = in.amount(f::rate);
  const std::int64_t date = in.integer(f::date, 0, 9'000'000'000);
  s.date = wall_time{std::chrono::duration_cast<wall_time::duration>(std::chrono::seconds{date})};
  s.type = in.optional_text(f::type);
  if (in.failed()) return in.failure();
  return s;
}

template <class T, class Read>
result<page<T>> read_page(const json_value& data, std::string_view what, Read read) {
  namespace l = wire::list_field;
  json_fields in(data, std::string(what));
  const json_value* list = in.get(l::list, true);
  const json_value* meta = in.get(l::meta, false);
  if (in.failed()) return in.failure();
  page<T> out;
  std::string problem;
  const auto* items = as_array(*list, fmt::format("{}.list", what), problem);
  if (items == nullptr) return fail(error_kind::bad_response, problem);
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = read((*items)[i], fmt::format("{}.list[{}]", what, i));
    if (!item) return std::unexpected(std::move(item.error()));
    out.list.push_back(std::move(*item));
  }
  if (meta != nullptr && meta->type != json_value::kind::null) {
    json_fields m(*meta, fmt::format("{}.meta", what));
    out.page_no = static_cast<int>(m.integer(l::page, 0, 1'000'000'000));
    out.last_page = static_cast<int>(m.integer(l::last_page, 0, 1'000'000'000));
    if (m.failed()) return m.failure();
  }
  return out;
}

result<swap_pair> read_pair(const json_value& v, std::string context) {
  namespace f = wire::pair_field;
  json_fields in(v, std::move(context), amounts);
  swap_pair p;
  p.from_currency = in.text(f::from_currency);
  p.to_currency = in.text(f::to_currency);
  p.min_amount = in.optional_amount(f::min_amount).value_or(decimal{});
  if (in.failed()) return in.failure();
  return p;
}

}  // namespace

result<swap> parse_swap(std::string_view body) {
  auto data = success_data(body, "swap");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_swap(*data->data, "swap.data");
}

result<calculation> parse_calculation(std::string_view body) {
  namespace f = wire::calculate_field;
  auto data = success_data(body, "calculate");
  if (!data) return std::unexpected(std::move(data.error()));
  json_fields in(*data->data, "calculate.data", amounts);
  calculation c;
  c.to_amount = in.amount(f::to_amount);
  c.rate = in.amount(f::rate);
  c.amount = in.amount(f::amount);
  if (in.failed()) return in.failure();
  return c;
}

result<decimal> parse_rate(std::string_view body) {
  auto data = success_data(body, "rate");
  if (!data) return std::unexpected(std::move(data.error()));
  json_fields in(*data->data, "rate.data", amounts);
  const decimal rate = in.amount(wire::calculate_field::rate);
  if (!in.failed() && !rate.is_positive()) in.set(wire::calculate_field::rate, "not > 0");
  if (in.failed()) return in.failure();
  return rate;
}

result<page<swap_pair>> parse_pairs(std::string_view body) {
  auto data = success_data(body, "pairs");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_page<swap_pair>(*data->data, "pairs.data", read_pair);
}

result<page<swap>> parse_history(std::string_view body) {
  auto data = success_data(body, "history");
  if (!data) return std::unexpected(std::move(data.error()));
  return read_page<swap>(*data->data, "history.data", read_swap);
}

result<std::vector<balance>> parse_balances(std::string_view body) {
  auto data = success_data(body, "balance");
  if (!data) return std::unexpected(std::move(data.error()));
  const json_value& balances = *data->data;
  if (balances.type != json_value::kind::object) {
    return fail(error_kind::bad_response, "balance.data: expected an object");
  }
  json_fields in(balances, "balance.data", amounts);
  std::vector<balance> out;
  for (const auto& currency : balances.keys) {
    balance b;
    b.asset = currency;
    b.available = in.amount(currency);
    out.push_back(std::move(b));
  }
  if (in.failed()) return in.failure();
  return out;
}

provider_error parse_error_body(std::string_view body) {
  provider_error out;
  auto root = parse_json_text(body, "error", limits);
  if (root && root->type == json_value::kind::object) {
    namespace e = wire::envelope;
    const auto text_of = [](const json_value* v, std::size_t limit) {
      return v != nullptr && v->type == json_value::kind::string ? excerpt(v->text, limit)
                                                                 : std::string();
    };
    if (const json_value* error = root->member(e::error);
        error != nullptr && error->type == json_value::kind::object) {
      out.type = text_of(error->member(e::type), 64);
      out.key = text_of(error->member(e::key), 64);
      out.message = text_of(error->member(e::message), 200);
    }
    if (out.message.empty()) out.message = text_of(root->member(e::message), 200);
    if (const json_value* status = root->member(e::status);
        status != nullptr && status->type == json_value::kind::number && status->text.size() == 3) {
      out.status = std::stoi(std::string(status->text));
    }
    if (!out.type.empty() || !out.key.empty() || !out.message.empty()) return out;
  }
  out.message = excerpt(body, 200);
  return out;
}

leg_status to_leg_status(const swap& s, std::string_view client) {
  leg_status out;
  out.ref.provider_ref = s.track_id;
  out.ref.client = std::string(client);
  // VENUES.md Part 1 "OxaPay": a returned track_id means the swap is done.
  out.state = leg_state::filled;
  out.provider_status = "completed";
  out.direction_code = s.from_currency + "-" + s.to_currency;
  out.spend_amount = s.from_amount;
  out.receive_amount = s.to_amount;
  out.spend_filled = s.from_amount;
  out.receive_filled = s.to_amount;
  out.created_at = s.date;
  return out;
}

}  // namespace swaprouter::oxapay
