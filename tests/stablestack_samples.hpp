// Sample payloads for the StableStack tests: the seed's POST /swaps answer verbatim
// (/work/shared/seeds/002_160f800bdbb6dda2.txt) and the documented shapes of VENUES.md 2.3-2.5.
#pragma once

#include <string_view>

namespace swaprouter::stablestack::samples {

inline constexpr std::string_view seed_swap = R"json({
"status": "success",
"data": {
"debitTransaction": {
"id": "552e8bb6-e9bf-4956-ab3b-9e56cad65a04",
"sender_wallet_id": "7c1c1825-75c2-4031-86ff-9c46ece29f6c",
"receiver_wallet_id": "a0d8df69-5cb4-43e7-8746-5652576d7b8b",
"transaction_id": "ICNZ1RG2VM",
"asset_code": "usdt",
"amount": "0.13000000",
"reference_id": "e60637ec-e5d0-4c68-9bc8-a12658e5735e",
"status": "PENDING",
"created_at": "2025-05-21T13:25:08.478Z",
"updated_at": "2025-05-21T13:25:08.478Z",
"network": null,
"crypto_transaction_id": null,
"transaction_type": "INTERNAL TRANSFER",
"transaction_mode": "DEBIT",
"exchange_rate": "0.98",
"fee": null,
"withdrawal_recipient_name": null,
"balance": "1.16240000",
"reason": null,
"customer_id": null
},
"creditTransaction": {
"id": "0ea5afd1-3a83-4f54-8116-062fe4680666",
"sender_wallet_id": "7c1c1825-75c2-4031-86ff-9c46ece29f6c",
"receiver_wallet_id": "a0d8df69-5cb4-43e7-8746-5652576d7b8b",
"transaction_id": "8OXM5O9NPM",
"asset_code": "usdc",
"amount": "0.12000000",
"reference_id": "e60637ec-e5d0-4c68-9bc8-a12658e5735e",
"status": "PENDING",
"created_at": "2025-05-21T13:25:08.478Z",
"updated_at": "2025-05-21T13:25:08.478Z",
"network": null,
"crypto_transaction_id": null,
"transaction_type": "INTERNAL TRANSFER",
"transaction_mode": "CREDIT",
"exchange_rate": "0.98",
"fee": null,
"withdrawal_recipient_name": null,
"balance": "1.10000000",
"reason": null,
"customer_id": null
},
"swapId": "e60637ec-e5d0-4c68-9bc8-a12658e5735e"
},
"message": "Swap transaction successful"
})json";

inline constexpr std::string_view documented_quote = R"json({ "status":"success",
  "data": { "status":"success", "message":"Successful",
            "data": { "id":"0c6f7a53-0b6c-4f0e-9d0e-5a9c1f3f4c11", "from_currency":"USDT",
                      "to_currency":"USDC", "quoted_price":"0.9802941274500001",
                      "quoted_currency":"USDC", "from_amount":"20.0", "to_amount":"19.6",
                      "confirmed":false, "expires_at":"2025-05-13T13:24:46.000Z",
                      "created_at":"2025-05-13T13:24:31.000Z",
                      "updated_at":"2025-05-13T13:24:31.000Z",
                      "user": { "id":"85b148ab-3f6b-4d55-917f-3c8de668a48e", "sn":"1",
                                "email":"a@example.com", "reference":null, "first_name":"A",
                                "last_name":"B", "display_name":"A B",
                                "created_at":"2025-01-01T00:00:00.000Z",
                                "updated_at":"2025-01-01T00:00:00.000Z" } } } })json";

inline constexpr std::string_view documented_error =
    R"json({"status":"failed","message":"internal error","error":{"code":"ERROR_CODE","message":"Human readable error message","details":{}}})json";

inline constexpr std::string_view by_customer_page = R"json({"status":"success","data":[
{"id":"0ea5afd1-3a83-4f54-8116-062fe4680666","sender_wallet_id":"7c1c1825-75c2-4031-86ff-9c46ece29f6c","receiver_wallet_id":"a0d8df69-5cb4-43e7-8746-5652576d7b8b","transaction_id":"8OXM5O9NPM","asset_code":"usdc","amount":"0.12000000","reference_id":"e60637ec-e5d0-4c68-9bc8-a12658e5735e","status":"COMPLETED","created_at":"2025-05-21T13:25:08.478Z","updated_at":"2025-05-21T13:25:09.100Z","network":null,"crypto_transaction_id":null,"transaction_type":"INTERNAL TRANSFER","transaction_mode":"CREDIT","exchange_rate":"0.98","fee":null,"withdrawal_recipient_name":null,"balance":"1.10000000","reason":null,"customer_id":"85b148ab-3f6b-4d55-917f-3c8de668a48e","recipient_currency":null,"recipient_country":null,"bank_name":null,"bank_code":null,"address":null,"bank_account":null,"merchant_id":"m-1"},
{"id":"552e8bb6-e9bf-4956-ab3b-9e56cad65a04","sender_wallet_id":"7c1c1825-75c2-4031-86ff-9c46ece29f6c","receiver_wallet_id":"a0d8df69-5cb4-43e7-8746-5652576d7b8b","transaction_id":"ICNZ1RG2VM","asset_code":"usdt","amount":"0.13000000","reference_id":"e60637ec-e5d0-4c68-9bc8-a12658e5735e","status":"COMPLETED","created_at":"2025-05-21T13:25:08.478Z","updated_at":"2025-05-21T13:25:09.100Z","network":null,"crypto_transaction_id":null,"transaction_type":"INTERNAL TRANSFER","transaction_mode":"DEBIT","exchange_rate":"0.98","fee":null,"withdrawal_recipient_name":null,"balance":"1.16240000","reason":null,"customer_id":"85b148ab-3f6b-4d55-917f-3c8de668a48e","recipient_currency":null,"recipient_country":null,"bank_name":null,"bank_code":null,"address":null,"bank_account":null,"merchant_id":"m-1"}],
"pagination":{"total":42,"page":1,"limit":20,"totalPages":3}})json";

}  // namespace swaprouter::stablestack::samples
