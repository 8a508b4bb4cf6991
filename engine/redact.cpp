#include "engine/redact.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace swaprouter {
namespace {

constexpr std::size_t min_secret = 6;
constexpr std::string_view replacement = "[redacted]";

struct registry {
  std::mutex mutex;
  std::vector<std::string> secrets;  // longest first, so a secret containing another goes whole
};

registry& secrets() {
  static registry r;
  return r;
}

}  // namespace

void register_secret(std::string_view text) {
  if (text.size() < min_secret) return;
  auto& r = secrets();
  const std::lock_guard lock(r.mutex);
  if (std::find(r.secrets.begin(), r.secrets.end(), text) != r.secrets.end()) return;
  r.secrets.emplace_back(text);
  std::stable_sort(r.secrets.begin(), r.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void forget_secret(std::string_view text) {
  auto& r = secrets();
  const std::lock_guard lock(r.mutex);
  std::erase(r.secrets, text);
}

std::string redact(std::string_view text) {
  std::string out(text);
  auto& r = secrets();
  const std::lock_guard lock(r.mutex);
  for (const auto& secret : r.secrets) {
    for (auto at = out.find(secret); at != std::string::npos;
         at = out.find(secret, at + replacement.size())) {
      out.replace(at, secret.size(), replacement);
    }
  }
  return out;
}

}  // namespace swaprouter
