#include "observability/listener.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <array>
#include <cctype>
#include <utility>

#include "adapters/sim/server.hpp"
#include "engine/json_write.hpp"

namespace swaprouter::observability {

namespace {

constexpr std::size_t max_intent_id_bytes = 128;
constexpr std::size_t max_halt_reason_bytes = 200;

using sim::sim_request;
using sim::sim_response;

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// No-store everywhere: status and metrics are live, and an answer to an authenticated call must
// not sit in a cache.
sim_response with_common_headers(sim_response res) {
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return res;
}

sim_response error_json(int status, std::string_view code, std::string_view message) {
  json_out out;
  out.begin_object();
  out.field("error", code);
  out.field("message", message);
  out.end_object();
  return with_common_headers(sim_response::json(status, out.take()));
}

sim_response not_implemented(std::string_view what) {
  return error_json(501, "not_implemented", std::string(what) + " is not provided by this bot");
}

sim_response from_answer(api_answer answer) {
  return with_common_headers(
      sim_response::json(answer.status, answer.json.empty() ? "{}" : std::move(answer.json)));
}

bool is_loopback_host(std::string_view host) {
  if (host.empty()) return true;  // HTTP/1.0 without Host: not a browser
  std::string_view name = host;
  if (name.front() == '[') {
    const std::size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    name = name.substr(0, close + 1);
  } else if (const std::size_t colon = name.find(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  return iequals(name, "localhost") || name == "127.0.0.1" || name == "[::1]";
}

}  // namespace

bool bearer_matches(std::string_view header, std::string_view expected) {
  if (expected.empty()) return false;
  header = trim(header);
  constexpr std::string_view scheme = "bearer";
  bool ok = header.size() > scheme.size() && iequals(header.substr(0, scheme.size()), scheme) &&
            (header[scheme.size()] == ' ' || header[scheme.size()] == '\t');
  const std::string_view given = ok ? trim(header.substr(scheme.size())) : std::string_view();
  // Digests have a fixed length, so the comparison time depends on neither token's length.
  const auto a = sha256(given);
  const auto b = sha256(expected);
  const bool same = CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  return ok && !given.empty() && same;
}

struct listener::impl {
  listener_options options;
  listener_callbacks callbacks;
  sim::server server;

  impl(boost::asio::any_io_executor executor, listener_options opts, listener_callbacks cbs)
      : options(std::move(opts)),
        callbacks(std::move(cbs)),
        server(std::move(executor), server_options_for(options)) {
    add_routes();
  }

  static sim::server_options server_options_for(const listener_options& o) {
    sim::server_options s;
    s.bind_address = o.bind_address;
    s.port = o.port;
    s.tls = o.tls;
    s.max_body_bytes = o.max_body_bytes;
    s.max_header_bytes = std::size_t{16} << 10;
    s.admin_api = false;
    s.request_log_capacity = 0;  // the bot logs its own requests; nothing to keep here
    return s;
  }

  bool authorized(const sim_request& request) const {
    return bearer_matches(request.header("Authorization"), options.control_token);
  }

  static sim_response unauthorized() {
    sim_response res = error_json(401, "unauthorized", "a valid bearer token is required");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
  }

  void add_routes() {
    server.set_before_route(
        [this](const sim_request& request, std::string_view) -> std::optional<sim_response> {
          if (options.check_host && !is_loopback_host(request.header("Host"))) {
            return error_json(421, "misdirected", "Host must be a loopback name");
          }
          return std::nullopt;
        });

    server.route("GET", "/", [](const sim_request&) {
      sim_response res;
      res.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      // Inline script and style only, data only from this origin.
      res.headers.emplace_back("Content-Security-Policy",
                               "default-src 'none'; script-src 'unsafe-inline'; "
                               "style-src 'unsafe-inline'; connect-src 'self'");
      res.body = std::string(status_page_html());
      return with_common_headers(std::move(res));
    });

    server.route("GET", "/metrics", [this](const sim_request&) {
      if (!callbacks.metrics) return not_implemented("metrics");
      sim_response res;
      res.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      res.body = callbacks.metrics();
      return with_common_headers(std::move(res));
    });

    server.route("GET", "/status", [this](const sim_request&) {
      if (!callbacks.status) return not_implemented("status");
      return with_common_headers(sim_response::json(200, callbacks.status()));
    });

    server.route("POST", "/halt", [this](const sim_request& request) {
      if (!authorized(request)) return unauthorized();
      if (!callbacks.halt) return not_implemented("halt");
      std::string reason = "operator";
      if (!trim(request.body).empty()) {
        rapidjson::Document doc;
        doc.Parse(request.body.data(), request.body.size());
        if (doc.HasParseError() || !doc.IsObject()) {
          return error_json(400, "bad_request", "body must be a JSON object");
        }
        if (const auto it = doc.FindMember("reason"); it != doc.MemberEnd()) {
          if (!it->value.IsString() || it->value.GetStringLength() > max_halt_reason_bytes) {
            return error_json(400, "bad_request", "reason must be a string of at most 200 bytes");
          }
          if (it->value.GetStringLength() > 0) {
            reason.assign(it->value.GetString(), it->value.GetStringLength());
          }
        }
      }
      return from_answer(callbacks.halt(std::move(reason)));
    });

    server.route("POST", "/resume", [this](const sim_request& request) {
      if (!authorized(request)) return unauthorized();
      if (!callbacks.resume) return not_implemented("resume");
      return from_answer(callbacks.resume());
    });

    server.route("POST", "/intents", [this](const sim_request& request) {
      if (!authorized(request)) return unauthorized();
      if (!callbacks.submit_intent) return not_implemented("intents");
      return from_answer(callbacks.submit_intent(request.body));
    });

    server.route("POST", "/callbacks/{provider}", [this](const sim_request& request) {
      if (!callbacks.provider_callback) return not_implemented("callbacks");
      return from_answer(callbacks.provider_callback(request.path_param("provider"),
                                                     request.remote_address, request.body));
    });

    server.route("GET", "/intents/{id}", [this](const sim_request& request) {
      if (!authorized(request)) return unauthorized();
      if (!callbacks.get_intent) return not_implemented("intents");
      const std::string_view id = request.path_param("id");
      if (id.empty() || id.size() > max_intent_id_bytes) {
        return error_json(400, "bad_request", "intent id must be 1 to 128 bytes");
      }
      return from_answer(callbacks.get_intent(id));
    });
  }
};

listener::listener(boost::asio::any_io_executor executor, listener_options options,
                   listener_callbacks callbacks)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(options), std::move(callbacks))) {
}

listener::~listener() = default;

void listener::start() { impl_->server.start(); }
void listener::stop() { impl_->server.stop(); }
std::uint16_t listener::port() const noexcept { return impl_->server.port(); }
std::string listener::base_url() const { return impl_->server.base_url(); }

}  // namespace swaprouter::observability
