// A certificate authority generated at run time, for loopback tests and simulate mode.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace swaprouter {

/// A certificate and its private key, both PEM. The key is unencrypted PKCS#8.
struct issued_cert {
  std::string cert_pem;
  std::string key_pem;
};

/// What a leaf certificate names and when it is valid. The defaults make a certificate that a
/// verifying client accepts for "localhost", 127.0.0.1 and ::1.
struct cert_options {
  /// DNS subjectAltName entries; the first one is also the subject common name.
  std::vector<std::string> dns_names{"localhost"};
  /// IP subjectAltName entries (IPv4 or IPv6 text form).
  std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
  /// notBefore relative to now (negative: in the past, which absorbs small clock differences).
  std::chrono::seconds not_before_offset{-3600};
  /// notAfter is notBefore plus this; a negative offset with a short validity gives an expired
  /// certificate.
  std::chrono::seconds valid_for{86400 * 30};
};

/// A throw-away certificate authority: an EC P-256 key and a self-signed CA certificate made with
/// the OpenSSL 3 API when `generate` is called. It issues leaf certificates (subjectAltName,
/// extendedKeyUsage serverAuth) so that loopback tests and simulate mode can run real, verifying
/// TLS against the provider emulators.
///
/// For loopback tests and simulate mode only: the CA key lives in memory unprotected, and a client
/// must trust `ca_pem()` explicitly. Never use it for anything reachable from outside the host.
///
/// Thread-safety: immutable after `generate`; copies share the same CA and every const member
/// function may be called from several threads at once. Errors from OpenSSL throw
/// std::runtime_error (broken invariant or invalid option such as a malformed IP address).
class cert_authority {
 public:
  /// Makes a new CA key and a self-signed CA certificate valid from one hour ago for ten years.
  static cert_authority generate(std::string_view common_name = "swaprouter test CA");

  /// The CA certificate (PEM), for a client's trust store.
  const std::string& ca_pem() const;

  /// A leaf certificate and key signed by this CA, as described by `options`.
  issued_cert issue(const cert_options& options) const;

  /// A leaf certificate signed by its own key (no CA will verify it).
  static issued_cert self_signed(const cert_options& options);

  /// Writes `ca_pem()` to `path`; false when the file cannot be written.
  bool write_ca_pem(const std::string& path) const;

 private:
  struct state;
  explicit cert_authority(std::shared_ptr<const state> state);
  std::shared_ptr<const state> state_;
};

}  // namespace swaprouter
