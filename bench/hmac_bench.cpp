// HMAC-SHA256 signing cost: the engine's precomputed pad states against the alternatives it was
// chosen over (a fresh signer per call, and OpenSSL's EVP_MAC with its keyed context re-initialised
// or duplicated per call).
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstddef>
#include <string>

#include "engine/hmac.hpp"

namespace {

const std::string bench_key(40, 'k');

std::string payload(benchmark::State& state) {
  return std::string(static_cast<std::size_t>(state.range(0)), 'd');
}

void BM_hmac_sign(benchmark::State& state) {
  swaprouter::hmac_sha256 mac(bench_key);
  const std::string data = payload(state);
  for (auto _ : state) benchmark::DoNotOptimize(mac.sign(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_hmac_sign)->Arg(64)->Arg(256)->Arg(512);

void BM_hmac_sign_fresh_context(benchmark::State& state) {
  const std::string data = payload(state);
  for (auto _ : state) {
    swaprouter::hmac_sha256 mac(bench_key);
    benchmark::DoNotOptimize(mac.sign(data));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_hmac_sign_fresh_context)->Arg(64)->Arg(256)->Arg(512);

EVP_MAC_CTX* keyed_evp_mac(EVP_MAC* mac) {
  EVP_MAC_CTX* keyed = EVP_MAC_CTX_new(mac);
  std::string digest_name = "SHA256";
  const std::array<OSSL_PARAM, 2> params{
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name.data(), 0),
      OSSL_PARAM_construct_end(),
  };
  if (keyed != nullptr &&
      EVP_MAC_init(keyed, reinterpret_cast<const unsigned char*>(bench_key.data()),
                   bench_key.size(), params.data()) != 1) {
    EVP_MAC_CTX_free(keyed);
    return nullptr;
  }
  return keyed;
}

// EVP_MAC reusing one keyed context: EVP_MAC_init without a key restarts from the keyed state.
void BM_hmac_sign_evp_reinit(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = keyed_evp_mac(mac);
  if (keyed == nullptr) state.SkipWithError("EVP_MAC setup failed");
  const std::string data = payload(state);
  std::array<unsigned char, 32> out{};
  for (auto _ : state) {
    std::size_t written = 0;
    EVP_MAC_init(keyed, nullptr, 0, nullptr);
    EVP_MAC_update(keyed, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MAC_final(keyed, out.data(), &written, out.size());
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(mac);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_hmac_sign_evp_reinit)->Arg(64)->Arg(256)->Arg(512);

// EVP_MAC keeping the keyed context pristine and duplicating it for every call.
void BM_hmac_sign_dup_context(benchmark::State& state) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = keyed_evp_mac(mac);
  if (keyed == nullptr) state.SkipWithError("EVP_MAC setup failed");
  const std::string data = payload(state);
  std::array<unsigned char, 32> out{};
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    std::size_t written = 0;
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MAC_final(ctx, out.data(), &written, out.size());
    EVP_MAC_CTX_free(ctx);
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(mac);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_hmac_sign_dup_context)->Arg(64)->Arg(256)->Arg(512);

// Four pieces signed without concatenating them, as an adapter signs key + path + time + body.
void BM_hmac_sign_hex_pieces(benchmark::State& state) {
  swaprouter::hmac_sha256 mac(bench_key);
  const std::string body = payload(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        mac.sign_hex({"ak_live_0123456789", "/v1/swap/open", "1700000000123", body}));
  }
}
BENCHMARK(BM_hmac_sign_hex_pieces)->Arg(512);

}  // namespace
