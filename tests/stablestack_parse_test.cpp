// StableStack parsing: the seed's POST /swaps answer, the documented quote and error envelopes,
// read into exact decimals; hostile bodies refused.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "adapters/stablestack/parse.hpp"
#include "engine/json_read.hpp"
#include "stablestack_samples.hpp"

namespace swaprouter::stablestack {
namespace {

using namespace std::chrono_literals;

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

TEST(StableStackParse, SeedSwapAnswer) {
  auto s = parse_swap(samples::seed_swap);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->swap_id, "e60637ec-e5d0-4c68-9bc8-a12658e5735e");
  EXPECT_EQ(s->debit.id, "552e8bb6-e9bf-4956-ab3b-9e56cad65a04");
  EXPECT_EQ(s->debit.transaction_id, "ICNZ1RG2VM");
  EXPECT_EQ(s->debit.asset_code, "usdt");
  EXPECT_EQ(s->debit.amount, dec("0.13"));
  EXPECT_EQ(s->debit.reference_id, s->swap_id);
  EXPECT_EQ(s->debit.status, "PENDING");
  EXPECT_EQ(s->debit.transaction_type, "INTERNAL TRANSFER");
  EXPECT_EQ(s->debit.transaction_mode, "DEBIT");
  EXPECT_EQ(s->debit.exchange_rate, dec("0.98"));
  EXPECT_FALSE(s->debit.fee.has_value());
  EXPECT_EQ(s->debit.balance, dec("1.1624"));
  EXPECT_EQ(s->credit.asset_code, "usdc");
  EXPECT_EQ(s->credit.amount, dec("0.12"));
  EXPECT_EQ(s->credit.balance, dec("1.1"));
  EXPECT_EQ(s->credit.transaction_mode, "CREDIT");
  EXPECT_EQ(*parse_iso_timestamp("2025-05-21T13:25:08.478Z"), s->debit.created_at);

  const leg_status st = to_leg_status(s->debit, s->credit, "intent-1/leg-0");
  EXPECT_EQ(st.state, leg_state::open);
  EXPECT_EQ(st.provider_status, "PENDING/PENDING");
  EXPECT_EQ(st.direction_code, "USDT-USDC");
  EXPECT_EQ(st.ref.provider_ref, s->swap_id);
  EXPECT_EQ(st.ref.client, "intent-1/leg-0");
  EXPECT_EQ(st.spend_amount, dec("0.13"));
  EXPECT_EQ(st.receive_amount, dec("0.12"));
}

TEST(StableStackParse, DocumentedQuoteWithDoubleNestedData) {
  auto q = parse_quote(samples::documented_quote);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->id, "0c6f7a53-0b6c-4f0e-9d0e-5a9c1f3f4c11");
  EXPECT_EQ(q->quoted_price, dec("0.9802941274500001"));
  EXPECT_EQ(q->from_amount, dec("20"));
  EXPECT_EQ(q->to_amount, dec("19.6"));
  EXPECT_FALSE(q->confirmed);
  EXPECT_EQ(q->expires_at - q->created_at, 15s);
}

TEST(StableStackParse, ErrorEnvelopes) {
  const provider_error doc = parse_error_body(samples::documented_error);
  EXPECT_EQ(doc.code, "ERROR_CODE");
  EXPECT_EQ(doc.message, "Human readable error message");
  const provider_error refused = parse_error_body(
      R"({"status":"failed","message":"the quote has expired","error":{"code":"INVALID_PARAMETER",)"
      R"("message":"the quote has expired","details":{"reason":"quote_expired"}}})");
  EXPECT_EQ(refused.code, "INVALID_PARAMETER");
  EXPECT_EQ(refused.reason, "quote_expired");
  const provider_error html = parse_error_body("<html>502 Bad Gateway</html>");
  EXPECT_EQ(html.code, "");
  EXPECT_EQ(html.message, "<html>502 Bad Gateway</html>");
}

TEST(StableStackParse, LegsMapToStates) {
  transaction debit;
  transaction credit;
  debit.status = "COMPLETED";
  credit.status = "COMPLETED";
  EXPECT_EQ(map_state(debit, credit), leg_state::filled);
  credit.status = "PENDING";
  EXPECT_EQ(map_state(debit, credit), leg_state::open);
  credit.status = "FAILED";
  // A debit completed beside a failed credit is no failure (see the test at the end).
  EXPECT_EQ(map_state(debit, credit), leg_state::unrecognised);
  debit.status = "REVERSED";
  EXPECT_EQ(map_state(debit, credit), leg_state::failed);
  credit.status = "COMPLETED";
  // A credit received against a reversed debit is no failure either.
  EXPECT_EQ(map_state(debit, credit), leg_state::unrecognised);
  debit.status = "ON_HOLD";
  EXPECT_EQ(map_state(debit, credit), leg_state::unrecognised);
}

// The credit leg's amount is what was credited (seed: "credits the to_currency amount"); a fee
// it names was taken before it. The fill reports that amount plus the fee as the gross, so the
// net the engine settles (gross - fee) is what arrived, not the fee taken a second time.
TEST(StableStackParse, ACreditLegFeeIsInsideTheAmountCredited) {
  auto s = parse_swap(samples::seed_swap);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  s->debit.status = "COMPLETED";
  s->credit.status = "COMPLETED";
  s->credit.fee = dec("0.0003");
  const leg_status filled = to_leg_status(s->debit, s->credit, "intent-1/leg-0");
  ASSERT_EQ(filled.state, leg_state::filled);
  EXPECT_EQ(filled.spend_filled, dec("0.13"));
  EXPECT_EQ(filled.receive_filled, dec("0.1203"));
  EXPECT_EQ(filled.fee_filled, dec("0.0003"));
  EXPECT_EQ(filled.receive_filled - filled.fee_filled, s->credit.amount);
  // No fee named (the seed's null): the amount credited, nothing taken from it.
  s->credit.fee.reset();
  const leg_status no_fee = to_leg_status(s->debit, s->credit, "intent-1/leg-0");
  EXPECT_EQ(no_fee.receive_filled, dec("0.12"));
  EXPECT_EQ(no_fee.fee_filled, dec("0"));
  // A fee that cannot have been taken from the credit leaves the net as credited.
  s->credit.fee = dec("-0.01");
  const leg_status odd = to_leg_status(s->debit, s->credit, "intent-1/leg-0");
  EXPECT_EQ(odd.receive_filled, dec("0.12"));
  EXPECT_EQ(odd.fee_filled, dec("0"));
}

TEST(StableStackParse, TransactionListsAndWallets) {
  auto page = parse_transactions(samples::by_customer_page);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->total_pages, 3);
  auto legs = pair_legs(page->items, "e60637ec-e5d0-4c68-9bc8-a12658e5735e");
  ASSERT_TRUE(legs.has_value()) << legs.error().message;
  EXPECT_EQ(legs->credit.amount, dec("0.12"));
  EXPECT_EQ(pair_legs(page->items, "other").error().kind, error_kind::not_found);

  auto wallets = parse_wallets(
      R"({"status":"success","data":[{"id":"w1","asset_type":"STABLECOIN","currency":"USDC",)"
      R"("balance":"12.50000000","customer_id":null}]})");
  ASSERT_TRUE(wallets.has_value()) << wallets.error().message;
  EXPECT_EQ((*wallets)[0].balance, dec("12.5"));
}

TEST(StableStackParse, HostileBodiesAreRefused) {
  EXPECT_EQ(parse_swap(std::string(100000, '[')).error().kind, error_kind::bad_response);
  EXPECT_FALSE(parse_swap(R"({"status":"failed","data":{}})").has_value());
  EXPECT_FALSE(parse_quote(R"({"status":"success","data":{"status":"success","data":{"id":"x",)"
                           R"("from_amount":1e400}}})")
                   .has_value());
  EXPECT_FALSE(
      parse_transactions(R"({"status":"success","status":"success","data":[]})").has_value());
  // Amounts are decimal strings at StableStack: a JSON number is a wrong type.
  EXPECT_FALSE(parse_wallet(R"({"status":"success","data":{"id":"w","currency":"USDC",)"
                            R"("balance":1.5}})")
                   .has_value());
}

// A leg COMPLETED beside one FAILED or REVERSED means money moved one way only: the provider's
// ledger is inconsistent (or not yet reversed). Reporting it as a final failure with nothing
// filled misstates what moved (a received credit, or a spent debit, read as nothing), so it
// stays not final and alarmed until the provider settles it.
TEST(StableStackParse, OneLegCompletedBesideAFailedOneIsNotAFailure) {
  const auto state = [](std::string_view debit_status, std::string_view credit_status) {
    transaction debit;
    transaction credit;
    debit.status = std::string(debit_status);
    credit.status = std::string(credit_status);
    return map_state(debit, credit);
  };
  EXPECT_EQ(state("REVERSED", "COMPLETED"), leg_state::unrecognised);
  EXPECT_EQ(state("COMPLETED", "FAILED"), leg_state::unrecognised);
  EXPECT_EQ(state("COMPLETED", "REVERSED"), leg_state::unrecognised);
  // Both failed or reversed, or one failed while the other is still pending: failed.
  EXPECT_EQ(state("REVERSED", "FAILED"), leg_state::failed);
  EXPECT_EQ(state("PENDING", "FAILED"), leg_state::failed);
}

}  // namespace
}  // namespace swaprouter::stablestack
