#include "adapters/onek/wire.hpp"

#include "engine/hmac.hpp"

namespace swaprouter::onek::wire {

std::string signature(hmac_sha256& keyed_secret, std::string_view access_key, std::string_view path,
                      std::string_view timestamp_ms, std::string_view body) {
  return keyed_secret.sign_hex({access_key, path, timestamp_ms, body});
}

}  // namespace swaprouter::onek::wire
