#include "engine/cert_authority.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <stdexcept>
#include <utility>

namespace swaprouter {

namespace {

struct openssl_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
  void operator()(X509* p) const noexcept { X509_free(p); }
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
  void operator()(GENERAL_NAME* p) const noexcept { GENERAL_NAME_free(p); }
  void operator()(ASN1_IA5STRING* p) const noexcept { ASN1_IA5STRING_free(p); }
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};

template <class T>
using ossl_ptr = std::unique_ptr<T, openssl_free>;

[[noreturn]] void throw_openssl(std::string_view what) {
  std::string message(what);
  // The queue may hold several entries; the last one is the most specific.
  unsigned long code = 0;
  while (unsigned long next = ERR_get_error()) code = next;
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    message += ": ";
    message += text;
  }
  throw std::runtime_error(message);
}

void check(int ok, std::string_view what) {
  if (ok != 1) throw_openssl(what);
}

ossl_ptr<EVP_PKEY> make_p256_key() {
  ossl_ptr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw_openssl("EC P-256 key generation failed");
  return key;
}

void set_random_serial(X509* cert) {
  // 127 random bits keep the serial positive and unique enough for throw-away certificates.
  ossl_ptr<BIGNUM> bn(BN_new());
  if (!bn) throw_openssl("BN_new failed");
  check(BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand failed");
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    throw_openssl("BN_to_ASN1_INTEGER failed");
  }
}

void set_validity(X509* cert, std::chrono::seconds not_before_offset,
                  std::chrono::seconds valid_for) {
  const long begin = static_cast<long>(not_before_offset.count());
  const long end = static_cast<long>((not_before_offset + valid_for).count());
  if (X509_gmtime_adj(X509_getm_notBefore(cert), begin) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), end) == nullptr) {
    throw_openssl("setting the validity period failed");
  }
}

void set_common_name(X509* cert, std::string_view common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0),
        "setting the common name failed");
}

// Adds an extension in OpenSSL's configuration syntax; only used with fixed strings, never with
// caller input, so no value can inject extra settings.
void add_conf_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl_ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) throw_openssl("building a certificate extension failed");
  check(X509_add_ext(cert, ext.get(), -1), "adding a certificate extension failed");
}

// Builds subjectAltName from structured values rather than the configuration syntax, so a
// name containing ',' or ':' cannot turn into a different entry.
void add_subject_alt_names(X509* cert, const cert_options& options) {
  ossl_ptr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  if (!names) throw_openssl("GENERAL_NAMES_new failed");
  for (const auto& dns : options.dns_names) {
    ossl_ptr<ASN1_IA5STRING> text(ASN1_IA5STRING_new());
    if (!text || ASN1_STRING_set(text.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      throw_openssl("building a DNS name failed");
    }
    ossl_ptr<GENERAL_NAME> name(GENERAL_NAME_new());
    if (!name) throw_openssl("GENERAL_NAME_new failed");
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, text.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) throw_openssl("push failed");
    name.release();
  }
  for (const auto& ip : options.ip_addresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) throw std::runtime_error("invalid IP address for a certificate: " + ip);
    ossl_ptr<GENERAL_NAME> name(GENERAL_NAME_new());
    if (!name) {
      ASN1_OCTET_STRING_free(octets);
      throw_openssl("GENERAL_NAME_new failed");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) throw_openssl("push failed");
    name.release();
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return;
  check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT),
        "adding subjectAltName failed");
}

std::string to_pem(X509* cert) {
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) throw_openssl("BIO_new failed");
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509 failed");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY* key) {
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) throw_openssl("BIO_new failed");
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey failed");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string leaf_common_name(const cert_options& options) {
  if (!options.dns_names.empty()) return options.dns_names.front();
  if (!options.ip_addresses.empty()) return options.ip_addresses.front();
  return "swaprouter test leaf";
}

// A leaf certificate body; `issuer` is null for a self-signed leaf.
ossl_ptr<X509> make_leaf(const cert_options& options, EVP_PKEY* leaf_key, X509* issuer) {
  ossl_ptr<X509> cert(X509_new());
  if (!cert) throw_openssl("X509_new failed");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version failed");
  set_random_serial(cert.get());
  set_validity(cert.get(), options.not_before_offset, options.valid_for);
  check(X509_set_pubkey(cert.get(), leaf_key), "X509_set_pubkey failed");
  set_common_name(cert.get(), leaf_common_name(options));
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)),
        "X509_set_issuer_name failed");
  add_conf_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
  add_conf_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
  add_conf_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  add_conf_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_conf_extension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  }
  add_subject_alt_names(cert.get(), options);
  return cert;
}

}  // namespace

struct cert_authority::state {
  ossl_ptr<EVP_PKEY> key;
  ossl_ptr<X509> cert;
  std::string pem;
};

cert_authority::cert_authority(std::shared_ptr<const state> state) : state_(std::move(state)) {}

cert_authority cert_authority::generate(std::string_view common_name) {
  auto s = std::make_shared<state>();
  s->key = make_p256_key();
  s->cert.reset(X509_new());
  X509* cert = s->cert.get();
  if (cert == nullptr) throw_openssl("X509_new failed");
  check(X509_set_version(cert, X509_VERSION_3), "X509_set_version failed");
  set_random_serial(cert);
  set_validity(cert, std::chrono::seconds{-3600}, std::chrono::seconds{86400LL * 3650});
  check(X509_set_pubkey(cert, s->key.get()), "X509_set_pubkey failed");
  set_common_name(cert, common_name);
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)), "X509_set_issuer_name failed");
  add_conf_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_conf_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_conf_extension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, s->key.get(), EVP_sha256()) == 0) throw_openssl("signing the CA failed");
  // Fills OpenSSL's lazily computed extension cache now, so later concurrent `issue` calls only
  // read the CA certificate.
  X509_check_purpose(cert, -1, 0);
  s->pem = to_pem(cert);
  return cert_authority(std::move(s));
}

const std::string& cert_authority::ca_pem() const { return state_->pem; }

issued_cert cert_authority::issue(const cert_options& options) const {
  ossl_ptr<EVP_PKEY> key = make_p256_key();
  ossl_ptr<X509> cert = make_leaf(options, key.get(), state_->cert.get());
  if (X509_sign(cert.get(), state_->key.get(), EVP_sha256()) == 0) {
    throw_openssl("signing a leaf failed");
  }
  return issued_cert{.cert_pem = to_pem(cert.get()), .key_pem = to_pem(key.get())};
}

issued_cert cert_authority::self_signed(const cert_options& options) {
  ossl_ptr<EVP_PKEY> key = make_p256_key();
  ossl_ptr<X509> cert = make_leaf(options, key.get(), nullptr);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw_openssl("signing a self-signed leaf failed");
  }
  return issued_cert{.cert_pem = to_pem(cert.get()), .key_pem = to_pem(key.get())};
}

bool cert_authority::write_ca_pem(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << state_->pem;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace swaprouter
