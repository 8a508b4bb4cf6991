#include "config/engine_config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <utility>

namespace swaprouter::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::size_t max_secret_file_size = 64 * 1024;

std::string octal_mode(mode_t mode) {
  char buffer[8];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, mode & 07777, 8);
  std::string digits(buffer, ec == std::errc{} ? end : buffer);
  return std::string(4 - std::min<std::size_t>(4, digits.size()), '0') + digits;
}

std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// An IPv4 or IPv6 address, read once: whether it is loopback and its text as the listener
// reports a peer (inet_ntop's form).
struct ip_address {
  int family = AF_INET;
  std::array<unsigned char, 16> bytes{};

  bool loopback() const {
    static constexpr std::array<unsigned char, 16> one{0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
    return family == AF_INET ? bytes[0] == 127 : bytes == one;
  }
  std::string text() const {
    std::array<char, INET6_ADDRSTRLEN> out{};
    return inet_ntop(family, bytes.data(), out.data(), out.size()) != nullptr
               ? std::string(out.data())
               : std::string();
  }
};

std::optional<ip_address> parse_ip(const std::string& text) {
  ip_address out;
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), out.bytes.data()) == 1) {
      out.family = family;
      return out;
    }
  }
  return std::nullopt;
}

// The value of a ${VAR} may be a credential wired to the wrong key: an error about such an
// entry quotes it as written, never the text it resolved to.
bool has_reference(const yaml_entry& f) {
  return f.value.IsScalar() && f.value.Scalar().find("${") != std::string::npos;
}

std::string shown(const yaml_entry& f, const std::string& resolved) {
  return has_reference(f) ? f.value.Scalar() : resolved;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  const auto ip = parse_ip(host);
  return ip && ip->loopback();
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// Host and port of "host:port" or "[v6]:port"; nullopt when malformed.
std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string host(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return std::pair{host, std::string()};
    if (!rest.starts_with(':')) return std::nullopt;
    return std::pair{host, std::string(rest.substr(1))};
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::pair{std::string(text), std::string()};
  if (text.find(':') != colon) return std::nullopt;  // a bare IPv6 address needs brackets
  return std::pair{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

// Which poll draws on which budget: 001k's prices are its /swap-directions rate table.
std::string_view poll_budget(provider_kind kind, std::string_view poll) {
  if (poll == "balances") return "balances";
  if (poll == "directions") return "directions";
  return kind == provider_kind::onek ? "directions" : "quotes";
}

const std::optional<rate_limit>& budget_of(const rate_limits_config& limits, std::string_view key) {
  if (key == "directions") return limits.directions;
  if (key == "quotes") return limits.quotes;
  if (key == "balances") return limits.balances;
  if (key == "swaps") return limits.swaps;
  return limits.status;
}

std::string_view required_credentials(provider_kind kind) {
  switch (kind) {
    case provider_kind::onek:
      return "access_key and secret";
    case provider_kind::kiiex:
      return "api_key, user_id and secret";
    case provider_kind::stablestack:
    case provider_kind::oxapay:
      return "api_key";
  }
  return "";
}

bool credential_used_by(provider_kind kind, std::string_view field) {
  switch (kind) {
    case provider_kind::onek:
      return field == "access_key" || field == "secret";
    case provider_kind::kiiex:
      return field == "api_key" || field == "user_id" || field == "secret";
    case provider_kind::stablestack:
    case provider_kind::oxapay:
      return field == "api_key";
  }
  return false;
}

std::optional<credential>& credential_field(credentials_config& c, std::string_view field) {
  if (field == "access_key") return c.access_key;
  if (field == "api_key") return c.api_key;
  if (field == "user_id") return c.user_id;
  return c.secret;
}

// The keys that only one kind takes.
std::optional<provider_kind> kind_only_key(std::string_view key) {
  if (key == "customer_id" || key == "directions") return provider_kind::stablestack;
  if (key == "oms_id") return provider_kind::kiiex;
  if (key == "pairs_max_pages") return provider_kind::oxapay;
  return std::nullopt;
}

bool valid_provider_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class engine_config_parser {
 public:
  engine_config_parser(std::string file, const load_options& options, fs::path base_dir)
      : r_(std::move(file)), options_(options), base_dir_(std::move(base_dir)) {}

  load_result parse(const YAML::Node& root) {
    load_result out;
    out.config.source = r_.file();
    if (root.IsNull()) {
      errors_.add(r_.error_at(YAML::Mark(), "", "the configuration is empty"));
      return finish(std::move(out));
    }
    std::vector<yaml_entry> entries;
    errors_.attempt([&] {
      entries = r_.map_entries(
          root, YAML::Mark(), "",
          [&](std::string_view key) {
            return key == "providers" || key == "engine" || options_.sections.contains(key);
          },
          &errors_);
    });
    for (const auto& e : entries) {
      if (e.key == "providers") errors_.attempt([&] { parse_providers(e, out.config); });
      if (e.key == "engine") errors_.attempt([&] { out.config.engine = parse_engine(e); });
    }
    // Extension sections last: strategies refer to the providers.
    for (const auto& e : entries) {
      auto it = options_.sections.find(e.key);
      if (it != options_.sections.end()) {
        errors_.attempt([&] { it->second(e, r_, errors_, out.config); });
      }
    }
    return finish(std::move(out));
  }

 private:
  load_result finish(load_result out) {
    if (!journal_given_) out.config.engine.journal = resolve_path(out.config.engine.journal);
    errors_.sort();
    out.errors = errors_.errors();
    return out;
  }

  // A path from the file, relative ones taken from the configuration file's folder.
  std::string resolve_path(const std::string& path) const {
    fs::path p(path);
    if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
    return p.lexically_normal().string();
  }

  void parse_providers(const yaml_entry& section, engine_config& out) {
    if (section.value.IsNull()) return;
    const auto entries = r_.map_entries(
        section.value, yaml_reader::mark_of(section), section.path,
        [](std::string_view) { return true; }, &errors_);
    for (const auto& e : entries) {
      if (!valid_provider_name(e.key)) {
        errors_.add(r_.error_at(e.key_node.Mark(), e.path,
                                "a provider name is 1 to 32 lower-case letters, digits, _ or -"));
        continue;
      }
      errors_.attempt([&] { out.providers.push_back(parse_provider(e)); });
    }
  }

  provider_config parse_provider(const yaml_entry& section) {
    if (!section.value.IsMap()) r_.fail(section, "expected a mapping (key: value lines)");
    const auto fields = r_.map_entries(
        section,
        {"kind", "enabled", "base_url", "ca_file", "credentials", "poll", "rate_limits", "timeouts",
         "assets", "customer_id", "oms_id", "directions", "pairs_max_pages"},
        &errors_);
    const yaml_entry at_name = yaml_reader::key_entry(section);

    std::optional<provider_kind> kind;
    bool kind_known = true;
    const auto kind_field = std::find_if(fields.begin(), fields.end(),
                                         [](const yaml_entry& f) { return f.key == "kind"; });
    if (kind_field != fields.end()) {
      errors_.attempt([&] {
        const std::string name = r_.text(*kind_field);
        kind = parse_provider_kind(name);
        if (!kind) {
          r_.fail(*kind_field,
                  "unknown provider kind '" + name + "' (onek, kiiex, stablestack or oxapay)");
        }
      });
      kind_known = kind.has_value();
    } else {
      kind = parse_provider_kind(section.key);
      if (!kind) {
        kind_known = false;
        errors_.add(r_.error_at(at_name.value.Mark(), join_path(section.path, "kind"),
                                "missing required field (needed unless the provider is named "
                                "onek, kiiex, stablestack or oxapay)"));
      }
    }

    provider_config p = provider_defaults(kind.value_or(provider_kind::onek));
    p.name = section.key;
    bool has_url = false;
    const yaml_entry* poll_entry = nullptr;
    const yaml_entry* limits_entry = nullptr;
    bool poll_ok = true;
    bool limits_ok = true;
    for (const auto& f : fields) {
      if (auto only = kind_only_key(f.key); only && kind_known && *only != *kind) {
        errors_.add(r_.error_at(
            f.key_node.Mark(), f.path,
            f.key + " applies to " + std::string(to_string(*only)) + " providers only"));
        continue;
      }
      const bool ok = errors_.attempt([&] {
        if (f.key == "enabled") {
          p.enabled = r_.boolean(f);
        } else if (f.key == "base_url") {
          const std::string raw = r_.non_empty_text(f);
          auto url = parse_base_url(r_.expand_env(f, options_.env));
          // A URL with userinfo holds a password: not quoted.
          if (!url) {
            r_.fail(f, url.error().message +
                           (raw.find('@') == std::string::npos ? ", got '" + raw + "'" : ""));
          }
          p.url = std::move(*url);
          has_url = true;
        } else if (f.key == "ca_file") {
          p.ca_file = readable_file(f, "CA file");
        } else if (f.key == "credentials") {
          p.credentials = parse_credentials(f, kind_known ? kind : std::nullopt);
        } else if (f.key == "poll") {
          poll_entry = &f;
          p.poll = parse_poll(f, p.poll, kind_known ? kind : std::nullopt);
        } else if (f.key == "rate_limits") {
          limits_entry = &f;
          p.rate_limits = parse_rate_limits(f, p.rate_limits);
        } else if (f.key == "timeouts") {
          p.timeouts = parse_timeouts(f, p.timeouts);
        } else if (f.key == "assets") {
          p.assets = parse_assets(f);
        } else if (f.key == "customer_id") {
          p.customer_id = r_.non_empty_text(f);
        } else if (f.key == "oms_id") {
          p.oms_id = r_.integer(f, 1, 2147483647);
        } else if (f.key == "pairs_max_pages") {
          p.pairs_max_pages = static_cast<int>(r_.integer(f, 1, 1000));
        } else if (f.key == "directions") {
          p.directions = parse_directions(f);
        }
      });
      if (f.key == "poll") poll_ok = ok;
      if (f.key == "rate_limits") limits_ok = ok;
    }
    if (!has_url && std::none_of(fields.begin(), fields.end(),
                                 [](const yaml_entry& f) { return f.key == "base_url"; })) {
      errors_.add(r_.error_at(at_name.value.Mark(), join_path(section.path, "base_url"),
                              "missing required field"));
    }
    if (kind_known && *kind == provider_kind::stablestack && p.enabled && p.directions.empty() &&
        std::none_of(fields.begin(), fields.end(),
                     [](const yaml_entry& f) { return f.key == "directions"; })) {
      errors_.add(r_.error_at(at_name.value.Mark(), join_path(section.path, "directions"),
                              "missing required field (StableStack's API lists no directions)"));
    }
    if (kind_known && poll_ok && limits_ok) {
      const yaml_entry& where = poll_entry ? *poll_entry : limits_entry ? *limits_entry : at_name;
      errors_.attempt([&] { check_poll_budget(p, where); });
    }
    return p;
  }

  // The polls alone must fit the budgets they draw on; execution and tracking need the rest.
  void check_poll_budget(const provider_config& p, const yaml_entry& where) const {
    const std::pair<std::string_view, milliseconds> polls[] = {{"directions", p.poll.directions},
                                                               {"prices", p.poll.prices},
                                                               {"balances", p.poll.balances}};
    for (std::string_view budget : {"directions", "quotes", "balances"}) {
      const auto& limit = budget_of(p.rate_limits, budget);
      if (!limit) continue;
      std::int64_t needed = 0;
      std::string users;
      for (const auto& [name, interval] : polls) {
        if (p.kind == provider_kind::stablestack && name == "directions") continue;
        if (poll_budget(p.kind, name) != budget) continue;
        const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
        needed += (limit->period.count() + period - 1) / period;
        users += std::string(users.empty() ? "" : ", ") + std::string(name) + " every " +
                 format_duration(interval);
      }
      if (needed > limit->count) {
        r_.fail(where,
                "polling (" + users + ") needs " + std::to_string(needed) + " requests per " +
                    format_duration(std::chrono::duration_cast<milliseconds>(limit->period)) +
                    ", above the " + std::string(budget) + " budget of " +
                    format_rate_limit(*limit));
      }
    }
  }

  std::string readable_file(const yaml_entry& f, std::string_view what) const {
    const std::string path = resolve_path(r_.expand_env(f, options_.env));
    if (path.empty()) r_.fail(f, "must not be empty");
    std::error_code ec;
    const std::string named = shown(f, path);
    if (!fs::is_regular_file(path, ec)) r_.fail(f, std::string(what) + " " + named + " not found");
    if (::access(path.c_str(), R_OK) != 0) {
      r_.fail(f, "cannot read " + std::string(what) + " " + named + ": " + std::strerror(errno));
    }
    return path;
  }

  credentials_config parse_credentials(const yaml_entry& section,
                                       std::optional<provider_kind> kind) {
    credentials_config out;
    const auto fields =
        r_.map_entries(section, {"access_key", "api_key", "user_id", "secret"}, &errors_);
    for (const auto& f : fields) {
      if (kind && !credential_used_by(*kind, f.key)) {
        errors_.add(r_.error_at(f.key_node.Mark(), f.path,
                                "not a credential of " + std::string(to_string(*kind)) +
                                    " (it takes " + std::string(required_credentials(*kind)) +
                                    ")"));
        continue;
      }
      errors_.attempt([&] { credential_field(out, f.key) = parse_credential(f); });
    }
    if (kind) {
      for (std::string_view field : {"access_key", "api_key", "user_id", "secret"}) {
        if (!credential_used_by(*kind, field)) continue;
        const bool given = std::any_of(fields.begin(), fields.end(),
                                       [&](const yaml_entry& f) { return f.key == field; });
        if (!given) {
          errors_.add(r_.error_at(section.key_node.Mark(), join_path(section.path, field),
                                  "missing required field"));
        }
      }
    }
    return out;
  }

  // "${NAME}" or {file: PATH}. Messages never quote the value: it may be a pasted secret.
  // `read_file`: a {file: PATH} credential is read (and checked owner-only) even when
  // credentials are not resolved: the bot's control token is used in every mode.
  credential parse_credential(const yaml_entry& f, bool read_file = false) const {
    credential out;
    if (f.value.IsMap()) {
      const auto entries = r_.map_entries(f, {"file"});
      if (entries.empty()) r_.fail(f, "expected file: PATH");
      const yaml_entry& file = entries.front();
      out.from = credential::source::file;
      out.reference = resolve_path(r_.expand_env(file, options_.env));
      if (options_.resolve_credentials || read_file) {
        out.value = read_secret_file(file, out.reference);
      }
      return out;
    }
    static constexpr std::string_view form =
        "a credential is an environment variable reference \"${NAME}\" or {file: PATH}, never "
        "the value itself";
    if (!f.value.IsScalar() || f.value.IsNull()) r_.fail(f, std::string(form));
    const std::string raw = f.value.Scalar();
    if (raw.size() < 4 || !raw.starts_with("${") || !raw.ends_with("}") ||
        raw.find('}') != raw.size() - 1) {
      r_.fail(f, std::string(form));
    }
    out.from = credential::source::env;
    out.reference = raw.substr(2, raw.size() - 3);
    // Validates the name; the value itself is read below only when asked to.
    const auto name_only = [](const std::string&) { return std::optional<std::string>(""); };
    (void)r_.expand_env(f, name_only);
    if (!options_.resolve_credentials) return out;
    const auto value = options_.env(out.reference);
    if (!value) r_.fail(f, "environment variable " + out.reference + " is not set");
    if (value->empty()) r_.fail(f, "environment variable " + out.reference + " is empty");
    out.value = secret(*value);
    return out;
  }

  // Owner-only files (FAULTS.md, security 1): checked on the open descriptor, so the file read is
  // the file checked.
  secret read_secret_file(const yaml_entry& at, const std::string& path) const {
    const std::string named = shown(at, path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) r_.fail(at, "cannot read secret file " + named + ": " + std::strerror(errno));
    struct closer {
      int fd;
      ~closer() { ::close(fd); }
    } close_on_exit{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      r_.fail(at, "cannot stat secret file " + named + ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) r_.fail(at, "secret file " + named + " is not a regular file");
    if ((st.st_mode & 077) != 0) {
      r_.fail(at, "secret file " + named + " has mode " + octal_mode(st.st_mode) +
                      ": it must be readable by its owner only (chmod 600 " + named + ")");
    }
    if (st.st_uid != ::geteuid()) {
      r_.fail(at, "secret file " + named + " belongs to uid " + std::to_string(st.st_uid) +
                      ", not to the user running swaprouter (uid " + std::to_string(::geteuid()) +
                      ")");
    }
    if (static_cast<std::size_t>(st.st_size) > max_secret_file_size) {
      r_.fail(at, "secret file " + named + " is larger than 64 KiB");
    }
    std::string text(max_secret_file_size + 1, '\0');
    std::size_t size = 0;
    while (size < text.size()) {
      const ssize_t n = ::read(fd, text.data() + size, text.size() - size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) r_.fail(at, "cannot read secret file " + named + ": " + std::strerror(errno));
      if (n == 0) break;
      size += static_cast<std::size_t>(n);
    }
    secret guard(std::move(text));  // wiped on every exit from here
    if (size > max_secret_file_size) r_.fail(at, "secret file " + named + " is larger than 64 KiB");
    // One trailing line end is how editors and `echo` save a one-line file; it is not the key.
    std::string_view value = guard.reveal().substr(0, size);
    if (value.ends_with('\n')) value.remove_suffix(1);
    if (value.ends_with('\r')) value.remove_suffix(1);
    if (value.empty()) r_.fail(at, "secret file " + named + " is empty");
    return secret(std::string(value));
  }

  poll_config parse_poll(const yaml_entry& section, poll_config out,
                         std::optional<provider_kind> kind) {
    for (const auto& f : r_.map_entries(section, {"directions", "prices", "balances"}, &errors_)) {
      errors_.attempt([&] {
        if (f.key == "directions" && kind == provider_kind::stablestack) {
          r_.fail_at(f.key_node.Mark(), f.path,
                     "stablestack has no directions endpoint: list them under directions");
        }
        const milliseconds value = r_.duration(f, milliseconds(100), milliseconds(86400000));
        if (f.key == "directions") out.directions = value;
        if (f.key == "prices") out.prices = value;
        if (f.key == "balances") out.balances = value;
      });
    }
    return out;
  }

  rate_limits_config parse_rate_limits(const yaml_entry& section, rate_limits_config out) {
    for (const auto& f : r_.map_entries(
             section, {"directions", "quotes", "balances", "swaps", "status"}, &errors_)) {
      errors_.attempt([&] {
        std::optional<rate_limit> value;
        if (!f.value.IsNull()) {
          const std::string text = r_.text(f);
          if (text != "none") {
            auto parsed = parse_rate_limit(text);
            if (!parsed) {
              r_.fail(f, "expected a rate such as 30/min or \"10 per 1s\" (or none), got '" + text +
                             "'");
            }
            value = *parsed;
          }
        }
        if (f.key == "directions") out.directions = value;
        if (f.key == "quotes") out.quotes = value;
        if (f.key == "balances") out.balances = value;
        if (f.key == "swaps") out.swaps = value;
        if (f.key == "status") out.status = value;
      });
    }
    return out;
  }

  timeouts_config parse_timeouts(const yaml_entry& section, timeouts_config out) {
    for (const auto& f : r_.map_entries(section, {"connect", "request"}, &errors_)) {
      errors_.attempt([&] {
        const milliseconds value = r_.duration(f, milliseconds(10), milliseconds(300000));
        if (f.key == "connect") out.connect = value;
        if (f.key == "request") out.request = value;
      });
    }
    return out;
  }

  std::vector<std::string> parse_assets(const yaml_entry& section) {
    std::vector<std::string> out;
    if (section.value.IsNull()) return out;
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of asset codes");
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const yaml_entry item = yaml_reader::item(section, i);
      errors_.attempt([&] {
        std::string code = r_.text(item);
        if (!is_asset_code(code)) {
          r_.fail(item,
                  "an asset code is 2 to 12 upper-case letters or digits, got '" + code + "'");
        }
        if (std::find(out.begin(), out.end(), code) != out.end()) {
          r_.fail(item, "duplicate asset " + code);
        }
        out.push_back(std::move(code));
      });
    }
    return out;
  }

  std::vector<direction_config> parse_directions(const yaml_entry& section) {
    std::vector<direction_config> out;
    if (section.value.IsNull()) return out;
    if (!section.value.IsSequence()) r_.fail(section, "expected a list of directions");
    for (std::size_t i = 0; i < section.value.size(); ++i) {
      const yaml_entry item = yaml_reader::item(section, i);
      errors_.attempt([&] {
        direction_config d = parse_direction(item);
        for (const auto& seen : out) {
          if (seen.code() == d.code()) r_.fail(item, "duplicate direction " + d.code());
        }
        out.push_back(std::move(d));
      });
    }
    return out;
  }

  void set_code(const yaml_entry& e, direction_config& d) const {
    const std::string code = r_.text(e);
    const auto dash = code.find('-');
    if (dash == std::string::npos || !is_asset_code(code.substr(0, dash)) ||
        !is_asset_code(code.substr(dash + 1)) || code.substr(0, dash) == code.substr(dash + 1)) {
      r_.fail(e, "expected a direction SPEND-RECEIVE of two asset codes, got '" + code + "'");
    }
    d.spend = code.substr(0, dash);
    d.receive = code.substr(dash + 1);
  }

  direction_config parse_direction(const yaml_entry& item) {
    direction_config d;
    if (item.value.IsScalar()) {
      set_code(item, d);
      return d;
    }
    bool has_code = false;
    const auto fields = r_.map_entries(item,
                                       {"code", "spend_precision", "receive_precision", "min_spend",
                                        "max_spend", "min_receive", "max_receive"},
                                       &errors_);
    for (const auto& f : fields) {
      errors_.attempt([&] {
        if (f.key == "code") {
          has_code = true;
          set_code(f, d);
        } else if (f.key == "spend_precision") {
          d.spend_precision = static_cast<int>(r_.integer(f, 0, 18));
        } else if (f.key == "receive_precision") {
          d.receive_precision = static_cast<int>(r_.integer(f, 0, 18));
        } else if (f.key == "min_spend") {
          d.min_spend = r_.non_negative(f);
        } else if (f.key == "max_spend") {
          d.max_spend = r_.limit(f);
        } else if (f.key == "min_receive") {
          d.min_receive = r_.non_negative(f);
        } else if (f.key == "max_receive") {
          d.max_receive = r_.limit(f);
        }
      });
    }
    if (!has_code) {
      r_.fail_at(yaml_reader::mark_of(item), join_path(item.path, "code"),
                 "missing required field");
    }
    for (const auto& f : fields) {
      if (f.key == "max_spend" && d.max_spend && *d.max_spend < d.min_spend) {
        r_.fail(f, "max_spend is below min_spend");
      }
      if (f.key == "max_receive" && d.max_receive && *d.max_receive < d.min_receive) {
        r_.fail(f, "max_receive is below min_receive");
      }
    }
    return d;
  }

  engine_settings parse_engine(const yaml_entry& section) {
    engine_settings out;
    if (section.value.IsNull()) return out;
    const auto fields =
        r_.map_entries(section,
                       {"quote_max_age", "fanout_deadline", "max_hops", "split", "journal",
                        "listen", "control_token", "callbacks", "callback_allow"},
                       &errors_);
    bool times_ok = true;
    for (const auto& f : fields) {
      const bool ok = errors_.attempt([&] {
        if (f.key == "quote_max_age") {
          out.quote_max_age = r_.duration(f, milliseconds(100), milliseconds(600000));
        } else if (f.key == "fanout_deadline") {
          out.fanout_deadline = r_.duration(f, milliseconds(1), milliseconds(30000));
        } else if (f.key == "max_hops") {
          out.max_hops = static_cast<int>(r_.integer(f, 1, 4));
        } else if (f.key == "split") {
          out.split = r_.boolean(f);
        } else if (f.key == "journal") {
          journal_given_ = true;
          out.journal = journal_path(f);
        } else if (f.key == "listen") {
          out.listen = parse_listen(f);
        } else if (f.key == "control_token") {
          out.control_token = parse_credential(f, true);
        } else if (f.key == "callbacks") {
          out.callbacks = r_.boolean(f);
        } else if (f.key == "callback_allow") {
          if (!f.value.IsSequence()) r_.fail(f, "expected a list of IP addresses");
          for (std::size_t i = 0; i < f.value.size(); ++i) {
            // The gate compares the peer's address text: a name or a range would never match.
            const yaml_entry item = yaml_reader::item(f, i);
            const auto address = parse_ip(r_.non_empty_text(item));
            if (!address) r_.fail(item, "expected an IP address such as 127.0.0.1 or ::1");
            out.callback_allow.push_back(address->text());
          }
        }
      });
      if (f.key == "quote_max_age" || f.key == "fanout_deadline") times_ok = times_ok && ok;
    }
    if (times_ok && out.fanout_deadline >= out.quote_max_age) {
      for (const auto& f : fields) {
        if (f.key == "fanout_deadline" || f.key == "quote_max_age") {
          errors_.add(r_.error_at(yaml_reader::mark_of(f), f.path,
                                  "fanout_deadline must be shorter than quote_max_age"));
          break;
        }
      }
    }
    return out;
  }

  std::string journal_path(const yaml_entry& f) const {
    const std::string path = resolve_path(r_.expand_env(f, options_.env));
    if (path.empty()) r_.fail(f, "must not be empty");
    const fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      r_.fail(f, "the journal's folder " +
                     (has_reference(f) ? "of " + f.value.Scalar() : parent.string()) +
                     " does not exist");
    }
    return path;
  }

  listen_address parse_listen(const yaml_entry& f) const {
    auto parsed = parse_listen_address(r_.expand_env(f, options_.env));
    if (!parsed && has_reference(f)) {
      r_.fail(f, "expected HOST:PORT with an IP address or localhost, got the value of " +
                     f.value.Scalar());
    }
    if (!parsed) r_.fail(f, parsed.error().message);
    return *parsed;
  }

  yaml_reader r_;
  const load_options& options_;
  fs::path base_dir_;
  error_list errors_;
  bool journal_given_ = false;
};

}  // namespace

std::string_view to_string(provider_kind kind) {
  return provider_kind_names[static_cast<std::size_t>(kind)];
}

std::optional<provider_kind> parse_provider_kind(std::string_view name) {
  for (std::size_t i = 0; i < provider_kind_names.size(); ++i) {
    if (provider_kind_names[i] == name) return static_cast<provider_kind>(i);
  }
  return std::nullopt;
}

result<listen_address> parse_listen_address(std::string_view text) {
  static constexpr std::string_view form =
      "expected HOST:PORT with an IP address or localhost, such as 127.0.0.1:8780 or [::1]:8780";
  const auto bad = [&] {
    return fail(error_kind::invalid_argument,
                std::string(form) + ", got '" + std::string(text) + "'");
  };
  auto parts = split_host_port(text);
  if (!parts || parts->second.empty()) return bad();
  const auto port = parse_port(parts->second);
  if (!port) return fail(error_kind::invalid_argument, "bad port '" + parts->second + "'");
  listen_address out;
  out.host = parts->first;
  out.port = *port;
  if (out.host == "localhost") {
    out.loopback = true;
  } else if (const auto ip = parse_ip(out.host)) {
    out.loopback = ip->loopback();
  } else {
    return bad();
  }
  return out;
}

result<base_url> parse_base_url(std::string_view text) {
  const auto bad = [](std::string why) { return fail(error_kind::invalid_argument, why); };
  base_url out;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("expected https://HOST[:PORT][/PATH]");
  out.scheme = std::string(text.substr(0, scheme_end));
  if (out.scheme != "https" && out.scheme != "http") return bad("the scheme must be https");
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("a base URL has no query or fragment");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials do not belong in the URL (use credentials:)");
  }
  auto parts = split_host_port(authority);
  if (!parts || parts->first.empty()) return bad("expected https://HOST[:PORT][/PATH]");
  out.host = parts->first;
  if (!parse_ip(out.host) && !valid_host_name(out.host)) return bad("bad host name");
  out.port = out.scheme == "https" ? 443 : 80;
  if (!parts->second.empty()) {
    const auto port = parse_port(parts->second);
    if (!port || *port == 0) return bad("bad port");
    out.port = *port;
  }
  out.loopback = is_loopback_host(out.host);
  if (out.scheme == "http" && !out.loopback) {
    return bad("plain http is allowed to loopback hosts only; use https");
  }
  out.path = std::string(path);
  out.text = out.scheme + "://" + std::string(authority) + out.path;
  return out;
}

std::string credential::describe() const {
  return from == source::env ? "${" + reference + "}" : "file " + reference;
}

bool provider_config::asset_enabled(std::string_view asset) const {
  return assets.empty() || std::find(assets.begin(), assets.end(), asset) != assets.end();
}

const provider_config* engine_config::find_provider(std::string_view name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

provider_config provider_defaults(provider_kind kind) {
  using std::chrono::minutes;
  using std::chrono::seconds;
  provider_config p;
  p.kind = kind;
  p.name = std::string(to_string(kind));
  const auto per_minute = [](std::int64_t n) { return rate_limit{n, minutes(1)}; };
  switch (kind) {
    case provider_kind::onek:
      // Documented per access key (adapters/onek/wire.hpp rate_limit_per_minute).
      p.poll = {.directions = minutes(1), .prices = seconds(5), .balances = seconds(15)};
      p.rate_limits.directions = per_minute(30);
      p.rate_limits.balances = per_minute(30);
      p.rate_limits.swaps = per_minute(300);
      p.rate_limits.status = per_minute(300);
      break;
    case provider_kind::kiiex:
      // No documented limits (VENUES.md 1.5); markets change rarely, the book often.
      p.poll = {.directions = minutes(5), .prices = seconds(1), .balances = seconds(15)};
      break;
    case provider_kind::stablestack:
      // No documented limits; a firm quote lives about 15 s.
      p.poll = {.directions = minutes(5), .prices = seconds(2), .balances = seconds(15)};
      break;
    case provider_kind::oxapay:
      // No documented limits; rates are indicative.
      p.poll = {.directions = minutes(5), .prices = seconds(2), .balances = seconds(15)};
      break;
  }
  return p;
}

std::string format_rate_limit(const rate_limit& limit) {
  using namespace std::chrono;
  const auto count = std::to_string(limit.count);
  if (limit.period == minutes(1)) return count + "/min";
  if (limit.period == seconds(1)) return count + "/s";
  if (limit.period == hours(1)) return count + "/h";
  return count + " per " + format_duration(duration_cast<milliseconds>(limit.period));
}

namespace {

load_result parse_in(std::string_view yaml, const std::string& source, const load_options& options,
                     fs::path base_dir) {
  YAML::Node root;
  try {
    root = parse_yaml(yaml, source);
  } catch (const config_error& e) {
    load_result out;
    out.config.source = source;
    out.errors.push_back(e);
    return out;
  }
  return engine_config_parser(source, options, std::move(base_dir)).parse(root);
}

}  // namespace

load_result parse_engine_config(std::string_view yaml, const std::string& source,
                                const load_options& options) {
  return parse_in(yaml, source, options, {});
}

load_result load_engine_config(const std::string& path, const load_options& options) {
  std::string text;
  try {
    text = read_config_file(path);
  } catch (const config_error& e) {
    load_result out;
    out.config.source = path;
    out.errors.push_back(e);
    return out;
  }
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return parse_in(text, path, options, dir);
}

std::string describe(const engine_config& config) {
  std::string out;
  out += "providers: " + std::to_string(config.providers.size()) + "\n";
  for (const auto& p : config.providers) {
    out += "  " + p.name + ": " + std::string(to_string(p.kind)) + ", host " + p.url.host;
    if (p.url.port != (p.url.scheme == "https" ? 443 : 80)) out += ":" + std::to_string(p.url.port);
    out += p.url.scheme == "http" ? " (plain http)" : "";
    out += p.enabled ? ", enabled" : ", disabled";
    if (!p.credentials) {
      out += ", no credentials (simulated)";
    } else {
      out += ", credentials";
      const std::pair<const char*, const std::optional<credential>*> fields[] = {
          {"access_key", &p.credentials->access_key},
          {"api_key", &p.credentials->api_key},
          {"user_id", &p.credentials->user_id},
          {"secret", &p.credentials->secret}};
      for (const auto& [name, c] : fields) {
        if (*c) out += std::string(" ") + name + "=" + (*c)->describe();
      }
    }
    if (!p.assets.empty()) {
      out += ", assets";
      for (const auto& a : p.assets) out += " " + a;
    }
    out += "\n";
  }
  const auto& e = config.engine;
  out +=
      "engine: quote_max_age " + format_duration(e.quote_max_age) + ", fanout_deadline " +
      format_duration(e.fanout_deadline) + ", max_hops " + std::to_string(e.max_hops) + ", split " +
      (e.split ? "on" : "off") + ", journal " + e.journal + ", listen " +
      (e.listen.host.find(':') != std::string::npos ? "[" + e.listen.host + "]" : e.listen.host) +
      ":" + std::to_string(e.listen.port) + (e.listen.loopback ? "" : " (not loopback)") +
      (e.control_token ? ", control token " + e.control_token->describe() : "") + "\n";
  return out;
}

}  // namespace swaprouter::config
