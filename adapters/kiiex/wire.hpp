// KIIEX (AlphaPoint APEX) wire format: everything the client and the emulator share. Paths,
// headers, JSON field names, enums, error codes and the login signature. Sources: the seeds
// (/work/shared/seeds/000_8a508218bb1e7184.txt, 001_d9b34ac159dd50ee.txt), VENUES.md Part 2
// section 1 (AlphaPoint APEX shapes) and Part 1 "KIIEX" (project decisions, marked "project").
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace swaprouter {
class hmac_sha256;
}  // namespace swaprouter

namespace swaprouter::kiiex::wire {

/// Every call is base + "/" + FunctionName (seed 000: https://apstage.proxy.kiiex.io/ap).
inline constexpr std::string_view base_path = "/ap";

/// Function names. Every call is POST with a JSON body (the emulator also takes GET with query
/// parameters, VENUES.md 1.1); the client sends AuthenticateUser as GET with headers (APX4, NB).
namespace fn {
inline constexpr std::string_view authenticate_user = "AuthenticateUser";
inline constexpr std::string_view logout = "LogOut";
inline constexpr std::string_view get_instruments = "GetInstruments";
inline constexpr std::string_view get_instrument = "GetInstrument";
inline constexpr std::string_view get_products = "GetProducts";
inline constexpr std::string_view get_level1 = "GetLevel1";
inline constexpr std::string_view get_level1_summary_min = "GetLevel1SummaryMin";
inline constexpr std::string_view get_l2_snapshot = "GetL2Snapshot";
inline constexpr std::string_view get_order_fee = "GetOrderFee";
inline constexpr std::string_view send_order = "SendOrder";
inline constexpr std::string_view cancel_order = "CancelOrder";
inline constexpr std::string_view get_order_status = "GetOrderStatus";
inline constexpr std::string_view get_open_orders = "GetOpenOrders";
inline constexpr std::string_view get_orders_history = "GetOrdersHistory";
inline constexpr std::string_view get_trades_history = "GetTradesHistory";
inline constexpr std::string_view get_account_positions = "GetAccountPositions";
inline constexpr std::string_view create_deposit_ticket = "CreateDepositTicket";
inline constexpr std::string_view get_deposit_ticket = "GetDepositTicket";
inline constexpr std::string_view get_deposit_tickets = "GetDepositTickets";
inline constexpr std::string_view create_withdraw_ticket = "CreateWithdrawTicket";
inline constexpr std::string_view get_withdraw_ticket = "GetWithdrawTicket";
inline constexpr std::string_view get_withdraw_tickets = "GetWithdrawTickets";
inline constexpr std::string_view get_withdraw_ticket_by_verify_code =
    "GetWithdrawTicketByVerifyCode";
}  // namespace fn

/// "/ap/" + name.
inline std::string path(std::string_view function_name) {
  std::string out(base_path);
  out += '/';
  out += function_name;
  return out;
}

/// Header names. Login: APIKey, Signature, UserId, Nonce (seed 000 "Authenticate your user",
/// VENUES.md 1.2). Every later call carries the session token twice (VENUES.md Part 1 "KIIEX"):
/// `aptoken: <token>` (AlphaPoint) and `Authorization: Bearer <token>` (KIIEX seed 001).
namespace header {
inline constexpr std::string_view api_key = "APIKey";
inline constexpr std::string_view signature = "Signature";
inline constexpr std::string_view user_id = "UserId";
inline constexpr std::string_view nonce = "Nonce";
inline constexpr std::string_view aptoken = "aptoken";
inline constexpr std::string_view authorization = "Authorization";
inline constexpr std::string_view retry_after = "Retry-After";
}  // namespace header

inline constexpr std::string_view bearer_prefix = "Bearer ";
inline constexpr std::string_view basic_prefix = "Basic ";

/// Request and response field names in APEX 4 PascalCase. Responses are read ignoring ASCII case
/// (APEX 3 and the KIIDOC yaml files send camelCase, VENUES.md 1.1); the emulator answers in
/// PascalCase except where the seed's own samples are lower-case (tickets, login errors).
namespace field {
inline constexpr std::string_view oms_id = "OMSId";
inline constexpr std::string_view account_id = "AccountId";
inline constexpr std::string_view user_id = "UserId";
inline constexpr std::string_view user_name = "UserName";
inline constexpr std::string_view password = "Password";
inline constexpr std::string_view api_key = "APIKey";
inline constexpr std::string_view signature = "Signature";
inline constexpr std::string_view nonce = "Nonce";
inline constexpr std::string_view instrument_id = "InstrumentId";
inline constexpr std::string_view instrument_ids = "InstrumentIds";
/// GetInstruments (APX4): "Both" lists disabled instruments too, "Inactive" only them; absent,
/// only the active ones.
inline constexpr std::string_view instrument_state = "InstrumentState";
inline constexpr std::string_view instrument_state_both = "Both";
inline constexpr std::string_view depth = "Depth";
/// GetTradesHistory / GetOrdersHistory (APX4): the first row of the answer, 0 the newest.
inline constexpr std::string_view start_index = "StartIndex";
inline constexpr std::string_view side = "Side";
inline constexpr std::string_view order_type = "OrderType";
inline constexpr std::string_view quantity = "Quantity";
inline constexpr std::string_view value = "Value";
inline constexpr std::string_view limit_price = "LimitPrice";
inline constexpr std::string_view price = "Price";
inline constexpr std::string_view time_in_force = "TimeInForce";
inline constexpr std::string_view client_order_id = "ClientOrderId";
inline constexpr std::string_view order_id = "OrderId";
inline constexpr std::string_view order_id_oco = "OrderIdOCO";
inline constexpr std::string_view use_display_quantity = "UseDisplayQuantity";
inline constexpr std::string_view peg_price_type = "PegPriceType";
inline constexpr std::string_view maker_taker = "MakerTaker";
inline constexpr std::string_view include_pending = "IncludePending";
inline constexpr std::string_view product_id = "ProductId";
inline constexpr std::string_view trade_id = "TradeId";
}  // namespace field

/// AuthenticateUser answer (APX4): Authenticated, SessionToken, User{UserId, UserName, AccountId,
/// OMSId, ...}, Locked, Requires2FA, errormsg.
namespace auth_field {
inline constexpr std::string_view authenticated = "Authenticated";
inline constexpr std::string_view session_token = "SessionToken";
inline constexpr std::string_view user = "User";
inline constexpr std::string_view locked = "Locked";
inline constexpr std::string_view requires_2fa = "Requires2FA";
inline constexpr std::string_view errormsg = "errormsg";
/// A refused login's keys (KIIDOC AuthenticateUser.yaml: HTTP 400, lower camel case).
inline constexpr std::string_view refused_authenticated = "authenticated";
inline constexpr std::string_view refused_locked = "locked";
}  // namespace auth_field

/// The generic response (VENUES.md 1.3): {"result":bool,"errormsg":string|null,"errorcode":int,
/// "detail":string|null}. A call-specific answer comes back directly; an error in this shape.
namespace generic_field {
inline constexpr std::string_view result = "result";
inline constexpr std::string_view errormsg = "errormsg";
inline constexpr std::string_view errorcode = "errorcode";
inline constexpr std::string_view detail = "detail";
}  // namespace generic_field

/// errorcode values (APX4, KIIDOC). 107 "Operation In Process" is not an error (NB).
namespace errorcode {
inline constexpr int success = 0;
inline constexpr int not_authorized = 20;
inline constexpr int invalid_request = 100;
inline constexpr int operation_failed = 101;
inline constexpr int server_error = 102;
inline constexpr int resource_not_found = 104;
inline constexpr int operation_in_process = 107;
}  // namespace errorcode

/// errormsg texts of the generic response (APX4).
namespace errormsg {
inline constexpr std::string_view not_authorized = "Not Authorized";
inline constexpr std::string_view invalid_request = "Invalid Request";
inline constexpr std::string_view operation_failed = "Operation Failed";
inline constexpr std::string_view server_error = "Server Error";
inline constexpr std::string_view resource_not_found = "Resource Not Found";
}  // namespace errormsg

/// SendOrder answers (APX4): {"status":"Accepted","errormsg":"","OrderId":N} or
/// {"status":"Rejected","errormsg":"Not_Enough_Funds","errorcode":101}.
namespace send_order_field {
inline constexpr std::string_view status = "status";
inline constexpr std::string_view errormsg = "errormsg";
inline constexpr std::string_view errorcode = "errorcode";
inline constexpr std::string_view order_id = "OrderId";
}  // namespace send_order_field

namespace send_order_status {
inline constexpr std::string_view accepted = "Accepted";
inline constexpr std::string_view rejected = "Rejected";
}  // namespace send_order_status

/// SendOrder rejection texts. Not_Enough_Funds and Invalid_ClientOrderId are APX4's; the others
/// are the emulator's names for the validations APX4 describes without naming them (project).
namespace reject_reason {
inline constexpr std::string_view not_enough_funds = "Not_Enough_Funds";
inline constexpr std::string_view invalid_client_order_id = "Invalid_ClientOrderId";
inline constexpr std::string_view invalid_quantity = "Invalid_Quantity";
inline constexpr std::string_view invalid_price = "Invalid_Price";
inline constexpr std::string_view invalid_instrument = "Invalid_Instrument";
inline constexpr std::string_view invalid_order = "Invalid_Order";
}  // namespace reject_reason

/// Side: requests send integers, answers render strings (APX4, VENUES.md 1.1).
enum class side : std::uint8_t { buy = 0, sell = 1 };
inline constexpr std::array<std::string_view, 2> side_names{"Buy", "Sell"};

/// OrderType (APX4): 1 Market, 2 Limit (the others are not used by the swap flow).
enum class order_type : std::uint8_t { unknown = 0, market = 1, limit = 2 };
inline constexpr std::array<std::string_view, 3> order_type_names{"Unknown", "Market", "Limit"};

/// TimeInForce (APX4): 1 GTC, 3 IOC, 4 FOK (2, 5, 6 "not yet used").
enum class time_in_force : std::uint8_t { unknown = 0, gtc = 1, opg = 2, ioc = 3, fok = 4 };

/// OrderState (APX4 incl. GetEnums): 1 Working is the only non-terminal state.
enum class order_state : std::uint8_t {
  unknown = 0,
  working = 1,
  rejected = 2,
  canceled = 3,
  expired = 4,
  fully_executed = 5
};
inline constexpr std::array<std::string_view, 6> order_state_names{
    "Unknown", "Working", "Rejected", "Canceled", "Expired", "FullyExecuted"};

/// ChangeReason strings (APX4).
namespace change_reason {
inline constexpr std::string_view new_input_accepted = "NewInputAccepted";
inline constexpr std::string_view new_input_rejected = "NewInputRejected";
inline constexpr std::string_view trade = "Trade";
inline constexpr std::string_view no_more_market = "SystemCanceled_NoMoreMarket";
inline constexpr std::string_view below_minimum = "SystemCanceled_BelowMinimum";
inline constexpr std::string_view user_modified = "UserModified";
}  // namespace change_reason

/// The order object (GetOrderStatus, GetOpenOrders, GetOrdersHistory; APX4 field list).
namespace order_field {
inline constexpr std::string_view side = "Side";
inline constexpr std::string_view order_id = "OrderId";
inline constexpr std::string_view price = "Price";
inline constexpr std::string_view quantity = "Quantity";  ///< remaining
inline constexpr std::string_view instrument = "Instrument";
inline constexpr std::string_view account = "Account";
inline constexpr std::string_view order_type = "OrderType";
inline constexpr std::string_view client_order_id = "ClientOrderId";
inline constexpr std::string_view order_state = "OrderState";
inline constexpr std::string_view receive_time = "ReceiveTime";
inline constexpr std::string_view last_updated_time = "LastUpdatedTime";
inline constexpr std::string_view orig_quantity = "OrigQuantity";
inline constexpr std::string_view quantity_executed = "QuantityExecuted";
inline constexpr std::string_view gross_value_executed = "GrossValueExecuted";
inline constexpr std::string_view avg_price = "AvgPrice";
inline constexpr std::string_view change_reason = "ChangeReason";
inline constexpr std::string_view reject_reason = "RejectReason";
inline constexpr std::string_view cancel_reason = "CancelReason";
inline constexpr std::string_view oms_id = "OMSId";
}  // namespace order_field

/// One GetTradesHistory element (APX4): the account's side of one execution.
namespace trade_field {
inline constexpr std::string_view trade_id = "TradeId";
inline constexpr std::string_view execution_id = "ExecutionId";
inline constexpr std::string_view order_id = "OrderId";
inline constexpr std::string_view account_id = "AccountId";
inline constexpr std::string_view client_order_id = "ClientOrderId";
inline constexpr std::string_view instrument_id = "InstrumentId";
inline constexpr std::string_view side = "Side";
inline constexpr std::string_view quantity = "Quantity";
inline constexpr std::string_view remaining_quantity = "RemainingQuantity";
inline constexpr std::string_view price = "Price";
inline constexpr std::string_view value = "Value";
inline constexpr std::string_view fee = "Fee";
inline constexpr std::string_view fee_product_id = "FeeProductId";
inline constexpr std::string_view maker_taker = "MakerTaker";
inline constexpr std::string_view trade_time_ms = "TradeTimeMS";
}  // namespace trade_field

/// Instrument object (GetInstruments / GetInstrument, APX4).
namespace instrument_field {
inline constexpr std::string_view instrument_id = "InstrumentId";
inline constexpr std::string_view symbol = "Symbol";
inline constexpr std::string_view product1 = "Product1";
inline constexpr std::string_view product1_symbol = "Product1Symbol";
inline constexpr std::string_view product2 = "Product2";
inline constexpr std::string_view product2_symbol = "Product2Symbol";
inline constexpr std::string_view session_status = "SessionStatus";
inline constexpr std::string_view quantity_increment = "QuantityIncrement";
inline constexpr std::string_view price_increment = "PriceIncrement";
inline constexpr std::string_view minimum_quantity = "MinimumQuantity";
inline constexpr std::string_view minimum_price = "MinimumPrice";
inline constexpr std::string_view is_disable = "IsDisable";
}  // namespace instrument_field

/// Product object (GetProducts, APX4).
namespace product_field {
inline constexpr std::string_view product_id = "ProductId";
inline constexpr std::string_view product = "Product";
inline constexpr std::string_view product_full_name = "ProductFullName";
inline constexpr std::string_view product_type = "ProductType";
inline constexpr std::string_view decimal_places = "DecimalPlaces";
inline constexpr std::string_view tick_size = "TickSize";
inline constexpr std::string_view no_fees = "NoFees";
inline constexpr std::string_view is_disabled = "IsDisabled";
}  // namespace product_field

/// GetLevel1 object (APX4).
namespace level1_field {
inline constexpr std::string_view instrument_id = "InstrumentId";
inline constexpr std::string_view best_bid = "BestBid";
inline constexpr std::string_view best_offer = "BestOffer";
inline constexpr std::string_view last_traded_px = "LastTradedPx";
inline constexpr std::string_view bid_qty = "BidQty";
inline constexpr std::string_view ask_qty = "AskQty";
inline constexpr std::string_view time_stamp = "TimeStamp";
/// What APEX sends as the price of an empty side: C# decimal.MaxValue (VENUES.md 1.1).
inline constexpr std::string_view no_level_price = "79228162514264337593543950335";
}  // namespace level1_field

/// GetL2Snapshot answers an array of 10-element arrays (APX4, notbank-node): these indexes.
namespace l2_index {
inline constexpr std::size_t md_update_id = 0;
inline constexpr std::size_t number_of_accounts = 1;
inline constexpr std::size_t action_date_time = 2;
inline constexpr std::size_t action_type = 3;
inline constexpr std::size_t last_trade_price = 4;
inline constexpr std::size_t number_of_orders = 5;
inline constexpr std::size_t price = 6;
inline constexpr std::size_t product_pair_code = 7;
inline constexpr std::size_t quantity = 8;
inline constexpr std::size_t side = 9;
inline constexpr std::size_t size = 10;
}  // namespace l2_index

/// GetLevel1SummaryMin answers positional arrays [InstrumentId, InstrumentSymbol, LastTradedPx,
/// Rolling24HrPxChange, Rolling24HrPxChangePercent, Rolling24HrVolume] (APX4 example order).
/// Indicative only: the client never decides on it (VENUES.md Part 1 "KIIEX").
inline constexpr std::size_t level1_summary_min_size = 6;

/// GetAccountPositions element (APX4): Amount is the total, Hold the reserved part of it.
namespace position_field {
inline constexpr std::string_view account_id = "AccountId";
inline constexpr std::string_view product_symbol = "ProductSymbol";
inline constexpr std::string_view product_id = "ProductId";
inline constexpr std::string_view amount = "Amount";
inline constexpr std::string_view hold = "Hold";
inline constexpr std::string_view pending_deposits = "PendingDeposits";
inline constexpr std::string_view pending_withdraws = "PendingWithdraws";
}  // namespace position_field

/// GetOrderFee answer (APX4): {"OrderFee": 0.00001, "ProductId": 2}.
namespace order_fee_field {
inline constexpr std::string_view order_fee = "OrderFee";
inline constexpr std::string_view product_id = "ProductId";
}  // namespace order_fee_field

/// Deposit ticket status (APX4, which renders the names); KIIEX's ticket schema (seed 001) has
/// "Status" as an integer, the index here.
inline constexpr std::array<std::string_view, 15> deposit_status_names{
    "New",           "AdminProcessing",  "Accepted",
    "Rejected",      "SystemProcessing", "FullyProcessed",
    "Failed",        "Pending",          "Confirmed",
    "AmlProcessing", "AmlAccepted",      "AmlRejected",
    "AmlFailed",     "LimitsAccepted",   "LimitsRejected"};
/// Withdraw ticket status (APX4); an integer, the index here, in KIIEX's ticket schema.
inline constexpr std::array<std::string_view, 23> withdraw_status_names{"New",
                                                                        "AdminProcessing",
                                                                        "Accepted",
                                                                        "Rejected",
                                                                        "SystemProcessing",
                                                                        "FullyProcessed",
                                                                        "Failed",
                                                                        "Pending",
                                                                        "Pending2Fa",
                                                                        "AutoAccepted",
                                                                        "Delayed",
                                                                        "UserCanceled",
                                                                        "AdminCanceled",
                                                                        "AmlProcessing",
                                                                        "AmlAccepted",
                                                                        "AmlRejected",
                                                                        "AmlFailed",
                                                                        "LimitsAccepted",
                                                                        "LimitsRejected",
                                                                        "Submitted",
                                                                        "Confirmed",
                                                                        "ManuallyConfirmed",
                                                                        "Confirmed2Fa"};

/// The session token expires this long after the last activity (KIIDOC Authenticate2FA.yaml).
inline constexpr std::chrono::milliseconds session_idle_timeout{3600000};

/// The login signature: lowercase hex of HMAC-SHA256(secret, Nonce + UserId + APIKey), plain
/// concatenation in that order (seed 000 via KIIFX, VENUES.md 1.2). Thread-safety: as hmac_sha256.
std::string login_signature(hmac_sha256& keyed_secret, std::string_view nonce,
                            std::string_view user_id, std::string_view api_key);

/// Our numeric ClientOrderId for an engine client id (project, VENUES.md Part 1 "KIIEX": a long,
/// < 2^63, derived from the swap's id): FNV-1a 64 of the id's bytes with the top bit cleared, and
/// 1 instead of 0 (0 means "none" to APEX). Deterministic, so a lookup after an ambiguous SendOrder
/// computes the same number. Pure.
std::int64_t client_order_id(std::string_view id);

/// Parses an enum sent as its number ("3") or its name ("Canceled", also "Fully Executed" for
/// FullyExecuted as notbank renders it), ignoring ASCII case; nullopt when neither.
std::optional<order_state> parse_order_state(std::string_view text, bool is_number);
std::optional<side> parse_side(std::string_view text, bool is_number);
/// As above for the order types the client knows (order_type_names); nullopt for the others.
std::optional<order_type> parse_order_type(std::string_view text, bool is_number);

}  // namespace swaprouter::kiiex::wire
