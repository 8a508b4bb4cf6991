// The CA a socket test's emulators and clients share, and a client's endpoint of such a server on
// loopback.
#pragma once

#include <cstdint>

#include "engine/cert_authority.hpp"
#include "engine/http.hpp"

namespace swaprouter::test_support {

/// One CA for the whole test binary: generating a key pair per test would dominate its time.
inline const cert_authority& test_ca() {
  static const cert_authority ca = cert_authority::generate("swaprouter test CA");
  return ca;
}

/// https://127.0.0.1:`port` trusting test_ca() alone, as a test's client reaches its emulator.
inline http_endpoint loopback_tls(std::uint16_t port) {
  http_endpoint e;
  e.host = "127.0.0.1";
  e.port = port;
  e.extra_ca_pem = test_ca().ca_pem();
  e.only_extra_ca = true;
  return e;
}

}  // namespace swaprouter::test_support
