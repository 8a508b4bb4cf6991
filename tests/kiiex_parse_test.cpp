// KIIEX parsing: the documented AlphaPoint sample payloads (VENUES.md Part 2 section 1), both key
// casings, enums as numbers or names, numbers read as exact decimals.
#include <gtest/gtest.h>

#include <string>

#include "adapters/kiiex/parse.hpp"
#include "adapters/kiiex/wire.hpp"

namespace swaprouter::kiiex {
namespace {

decimal dec(std::string_view text) { return decimal::parse(text).value(); }

TEST(KiiexParse, LoginPascalAndCamelCase) {
  // APX4 sample.
  auto a = parse_login(
      R"({"Authenticated":true,"SessionToken":"7d0ccf3a-ae63-44f5-a409-2301d80228bc",)"
      R"("User":{"UserId":1,"UserName":"sample","Email":"x","EmailVerified":true,"AccountId":1,)"
      R"("OMSId":1,"Use2FA":false},"Locked":false,"Requires2FA":false,"EnforceEnable2FA":false,)"
      R"("TwoFAType":null,"TwoFAToken":null,"errormsg":null})");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_TRUE(a->authenticated);
  EXPECT_EQ(a->session_token, "7d0ccf3a-ae63-44f5-a409-2301d80228bc");
  EXPECT_EQ(a->account_id, 1);
  // APX3 / KIIDOC camelCase.
  auto b = parse_login(
      R"({"authenticated":true,"sessionToken":"t","user":{"userId":2,"accountId":9,"omsId":1}})");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(b->account_id, 9);
  EXPECT_EQ(b->user_id, 2);
  auto refused = parse_login(
      R"({"Authenticated":false,"Locked":false,"errormsg":"Invalid username or password"})");
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->authenticated);
  EXPECT_EQ(refused->errormsg, "Invalid username or password");
}

TEST(KiiexParse, GenericShape) {
  auto g =
      parse_generic(R"({"result":false,"errormsg":"Not Authorized","errorcode":20,"detail":null})");
  ASSERT_TRUE(g.has_value());
  EXPECT_FALSE(g->result);
  EXPECT_EQ(g->errorcode, 20);
  EXPECT_EQ(g->errormsg, "Not Authorized");
  EXPECT_FALSE(parse_generic(R"({"status":"Accepted","errormsg":"","OrderId":6500})").has_value());
  EXPECT_FALSE(parse_generic("not json").has_value());
}

TEST(KiiexParse, SendOrderAnswers) {
  auto ok = parse_send_order(R"({"status":"Accepted","errormsg":"","OrderId":6500})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->accepted);
  EXPECT_EQ(ok->order_id, 6500);
  auto no =
      parse_send_order(R"({"status":"Rejected","errormsg":"Not_Enough_Funds","errorcode":101})");
  ASSERT_TRUE(no.has_value());
  EXPECT_FALSE(no->accepted);
  EXPECT_EQ(no->errormsg, "Not_Enough_Funds");
  EXPECT_EQ(no->errorcode, 101);
  EXPECT_FALSE(parse_send_order(R"({"status":"Maybe"})").has_value());
}

constexpr std::string_view order_sample =
    R"({"Side":"Buy","OrderId":6562,"Price":4000.5,"Quantity":0,"Instrument":1,"Account":9,)"
    R"("OrderType":"Limit","ClientOrderId":42,"OrderState":"Canceled","OrigQuantity":2.5,)"
    R"("QuantityExecuted":1.25,"GrossValueExecuted":5000.1234567890123456789012,)"
    R"("AvgPrice":4000.0987654321,"ChangeReason":"SystemCanceled_NoMoreMarket","OMSId":1})";

TEST(KiiexParse, OrderStatusObjectOrArray) {
  auto bare = parse_order_status(order_sample);
  ASSERT_TRUE(bare.has_value()) << bare.error().message;
  EXPECT_EQ(bare->order_id, 6562);
  EXPECT_EQ(bare->state, wire::order_state::canceled);
  EXPECT_EQ(bare->quantity_executed, dec("1.25"));
  EXPECT_EQ(bare->client_order_id, 42);
  // 28 significant digits: rounded to 18 places, never through double.
  EXPECT_EQ(bare->gross_value_executed, dec("5000.123456789012345679"));
  auto wrapped = parse_order_status("[" + std::string(order_sample) + "]");
  ASSERT_TRUE(wrapped.has_value());
  EXPECT_EQ(wrapped->order_id, 6562);
  EXPECT_FALSE(parse_order_status("[]").has_value());
  // Numeric enums and lower-case keys.
  auto numeric = parse_order_status(
      R"({"side":0,"orderId":1,"instrument":1,"orderState":5,"origQuantity":1,"quantityExecuted":1})");
  ASSERT_TRUE(numeric.has_value()) << numeric.error().message;
  EXPECT_EQ(numeric->state, wire::order_state::fully_executed);
  auto spaced = parse_order_status(
      R"({"Side":"Sell","OrderId":1,"Instrument":1,"OrderState":"Fully Executed","OrigQuantity":1,"QuantityExecuted":1})");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->state, wire::order_state::fully_executed);
  EXPECT_EQ(spaced->side, wire::side::sell);
  auto unknown = parse_order_status(
      R"({"Side":"Buy","OrderId":1,"Instrument":1,"OrderState":"Parked","OrigQuantity":1,"QuantityExecuted":0})");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->state.has_value());
}

TEST(KiiexParse, L2SnapshotTenElementArrays) {
  // [MDUpdateId, Accounts, ActionDateTime, ActionType, LastTradePrice, Orders, Price,
  //  ProductPairCode, Quantity, Side]
  auto book = parse_l2_snapshot(
      R"([[26,1,1607720522045,0,29900,1,29800,1,0.5,0],[27,1,1607720522045,0,29900,1,29900.5,1,1.25,1],)"
      R"([28,1,1607720522045,0,29900,1,29950,1,2,1],[29,1,1607720522045,2,29900,1,29700,1,1,0],)"
      R"([30,1,1607720522045,0,29900,1,29810,1,0.1,0]])",
      1);
  ASSERT_TRUE(book.has_value()) << book.error().message;
  ASSERT_EQ(book->bids.size(), 2u);
  EXPECT_EQ(book->bids[0].price, dec("29810"));
  EXPECT_EQ(book->bids[1].price, dec("29800"));
  ASSERT_EQ(book->asks.size(), 2u);
  EXPECT_EQ(book->asks[0].price, dec("29900.5"));
  EXPECT_EQ(book->asks[0].quantity, dec("1.25"));
  EXPECT_FALSE(parse_l2_snapshot(R"([[1,1,1,0,1,1,1,2,1,0]])", 1).has_value());
  EXPECT_FALSE(parse_l2_snapshot(R"([[1,2,3]])", 1).has_value());
}

TEST(KiiexParse, L2SnapshotMergesPricesAndReadsEverySpelling) {
  // Repeated prices anywhere in the answer sum into one level; the instrument and the action in
  // any numeric spelling ("7.0", "2e0", strings); a deleted level (action 2) and an empty one are
  // left out.
  auto book = parse_l2_snapshot(
      R"([[1,1,1,0,0,1,100,7,1,0],[2,1,1,"1",0,1,"101",7.0,2,0],[3,1,1,0,0,1,100,"7",0.5,0],)"
      R"([4,1,1,0,0,1,102,7,3,1],[5,1,1,2e0,0,1,99,7,4,0],[6,1,1,0,0,1,100,7,0.25,0],)"
      R"([7,1,1,0,0,1,103,70e-1,0,1],[8,1,1,1,0,1,102,7,1,1],[9,1,1,"02",0,1,98,7,9,0]])",
      7);
  ASSERT_TRUE(book.has_value()) << book.error().message;
  ASSERT_EQ(book->bids.size(), 2u);
  EXPECT_EQ(book->bids[0].price, dec("101"));
  EXPECT_EQ(book->bids[0].quantity, dec("2"));
  EXPECT_EQ(book->bids[1].price, dec("100"));
  EXPECT_EQ(book->bids[1].quantity, dec("1.75"));
  ASSERT_EQ(book->asks.size(), 1u);
  EXPECT_EQ(book->asks[0].price, dec("102"));
  EXPECT_EQ(book->asks[0].quantity, dec("4"));
  // Another instrument's level, however spelled, and an unreadable action.
  EXPECT_EQ(parse_l2_snapshot(R"([[1,1,1,0,0,1,100,17,1,0]])", 7).error().message,
            "l2[0]: another instrument's level");
  EXPECT_EQ(parse_l2_snapshot(R"([[1,1,1,0,0,1,100,"7x",1,0]])", 7).error().message,
            "l2[0]: unreadable price, quantity, pair, action or side");
  EXPECT_EQ(parse_l2_snapshot(R"([[1,1,1,true,0,1,100,7,1,0]])", 7).error().message,
            "l2[0]: unreadable price, quantity, pair, action or side");
}

TEST(KiiexParse, Level1SummaryMinPositional) {
  auto rows = parse_level1_summary_min(
      R"([[1,"BTCUSD",29900,-1100,-3.5483870967741935483870967700,0.0021],[2,"ETHUSD",20030,0,0,0.0000]])");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].instrument_id, 1);
  EXPECT_EQ((*rows)[0].symbol, "BTCUSD");
  EXPECT_EQ((*rows)[0].last_traded_px, dec("29900"));
  EXPECT_EQ((*rows)[0].rolling_24h_px_change, dec("-1100"));
  EXPECT_EQ((*rows)[1].rolling_24h_volume, dec("0"));
}

TEST(KiiexParse, InstrumentsProductsPositionsTradesFee) {
  auto instruments = parse_instruments(
      R"([{"OMSId":1,"InstrumentId":1,"Symbol":"BTCUSD","Product1":1,"Product1Symbol":"BTC",)"
      R"("Product2":2,"Product2Symbol":"USD","InstrumentType":"Standard","SessionStatus":"Running",)"
      R"("QuantityIncrement":0.0001,"PriceIncrement":0.01,"MinimumQuantity":0.0001,"IsDisable":false}])");
  ASSERT_TRUE(instruments.has_value()) << instruments.error().message;
  EXPECT_EQ((*instruments)[0].quantity_increment, dec("0.0001"));
  auto products = parse_products(
      R"([{"OMSId":1,"ProductId":1,"Product":"BTC","ProductFullName":"Bitcoin","ProductType":"CryptoCurrency","DecimalPlaces":8,"TickSize":1E-8,"NoFees":false}])");
  ASSERT_TRUE(products.has_value()) << products.error().message;
  EXPECT_EQ((*products)[0].decimal_places, 8);
  auto positions = parse_positions(
      R"([{"OMSId":1,"AccountId":7,"ProductSymbol":"USDT","ProductId":3,"Amount":1500.25,"Hold":500.25,"PendingDeposits":0,"PendingWithdraws":0}])");
  ASSERT_TRUE(positions.has_value());
  EXPECT_EQ((*positions)[0].amount - (*positions)[0].hold, dec("1000"));
  auto trades = parse_trades(
      R"([{"OMSId":1,"ExecutionId":1,"TradeId":1,"OrderId":6562,"AccountId":7,"ClientOrderId":0,)"
      R"("InstrumentId":1,"Side":"Buy","OrderType":"Market","Quantity":0.5,"RemainingQuantity":0,)"
      R"("Price":29900,"Value":14950,"Fee":0.00125,"FeeProductId":1,"MakerTaker":"Taker","TradeTimeMS":1607720522045}])");
  ASSERT_TRUE(trades.has_value()) << trades.error().message;
  EXPECT_EQ((*trades)[0].value, dec("14950"));
  EXPECT_EQ((*trades)[0].fee, dec("0.00125"));
  EXPECT_EQ((*trades)[0].fee_product_id, 1);
  auto fee = parse_order_fee(R"({"OrderFee":0.00001,"ProductId":2})");
  ASSERT_TRUE(fee.has_value());
  EXPECT_EQ(fee->fee, dec("0.00001"));
}

// decimal.MaxValue (APX4's "no ask") is beyond our decimals: on either side of GetLevel1, as a
// JSON number, a string or with zero places, it is no level (price and size 0). One more is
// still an unreadable price.
TEST(KiiexParse, Level1EmptySideSentinel) {
  auto no_ask = parse_level1(
      R"({"OMSId":1,"InstrumentId":1,"BestBid":3997.5,"BestOffer":79228162514264337593543950335,)"
      R"("BidQty":100,"AskQty":5})");
  ASSERT_TRUE(no_ask.has_value()) << no_ask.error().message;
  EXPECT_EQ(no_ask->best_bid, dec("3997.5"));
  EXPECT_EQ(no_ask->bid_qty, dec("100"));
  EXPECT_EQ(no_ask->best_offer, dec("0"));
  EXPECT_EQ(no_ask->ask_qty, dec("0"));
  auto no_bid =
      parse_level1(R"({"OMSId":1,"InstrumentId":1,"BestBid":"79228162514264337593543950335.000",)"
                   R"("BestOffer":4002.5,"BidQty":3,"AskQty":100})");
  ASSERT_TRUE(no_bid.has_value()) << no_bid.error().message;
  EXPECT_EQ(no_bid->best_bid, dec("0"));
  EXPECT_EQ(no_bid->bid_qty, dec("0"));
  EXPECT_EQ(no_bid->best_offer, dec("4002.5"));
  EXPECT_EQ(no_bid->ask_qty, dec("100"));
  EXPECT_FALSE(parse_level1(R"({"InstrumentId":1,"BestBid":1,)"
                            R"("BestOffer":79228162514264337593543950336})")
                   .has_value());
  EXPECT_FALSE(parse_level1(R"({"InstrumentId":1,"BestBid":1,)"
                            R"("BestOffer":79228162514264337593543950335.5})")
                   .has_value());
}

TEST(KiiexParse, HostileBodies) {
  EXPECT_FALSE(parse_trades(std::string(100000, '[')).has_value());
  EXPECT_FALSE(parse_positions(R"([{"ProductId":1,"ProductSymbol":"X","Amount":1e400,"Hold":0}])")
                   .has_value());
  EXPECT_FALSE(
      parse_positions(R"([{"ProductId":1,"ProductSymbol":"X","Amount":1,"Hold":2}])").has_value());
  EXPECT_FALSE(parse_send_order(R"({"status":"Accepted","status":"Rejected"})").has_value());
}

}  // namespace
}  // namespace swaprouter::kiiex
