#include "engine/submit_watch.hpp"

#include <algorithm>
#include <utility>

namespace swaprouter {

struct submit_watch::armed_submit {
  std::string provider;
  crash_hook hook;
  bool claimed = false;  // its create request has been seen
  bool live = true;      // false once its armed scope ended

  void report(std::string_view point) const {
    if (live && hook) hook(point);
  }
};

class submit_watch::client final : public http_client {
 public:
  client(submit_watch& watch, std::unique_ptr<http_client> inner, std::string provider,
         create_route create)
      : watch_(watch),
        inner_(std::move(inner)),
        provider_(std::move(provider)),
        create_(std::move(create)) {}

  boost::asio::awaitable<result<http_response>> send(
      http_request request, std::chrono::steady_clock::duration timeout) override {
    const std::shared_ptr<armed_submit> submit =
        creates(request) ? watch_.claim(provider_) : nullptr;
    if (submit) {
      std::function<void()> then = std::move(request.on_written);
      request.on_written = [submit, then = std::move(then)] {
        if (then) then();
        submit->report("after_request_write");
      };
    }
    auto answer = co_await inner_->send(std::move(request), timeout);
    if (submit && answer) submit->report("after_response_read");
    co_return answer;
  }

  boost::asio::awaitable<void> warm(std::size_t count) override { co_await inner_->warm(count); }
  http_client_stats stats() const override { return inner_->stats(); }
  const http_endpoint& endpoint() const override { return inner_->endpoint(); }

 private:
  bool creates(const http_request& request) const {
    const std::string_view target = request.target;
    return request.method == create_.method && target.substr(0, target.find('?')) == create_.path;
  }

  submit_watch& watch_;
  std::unique_ptr<http_client> inner_;
  std::string provider_;
  create_route create_;
};

submit_watch::armed::armed(submit_watch* watch, std::shared_ptr<armed_submit> submit)
    : watch_(watch), submit_(std::move(submit)) {}

submit_watch::armed::armed(armed&& other) noexcept
    : watch_(std::exchange(other.watch_, nullptr)), submit_(std::move(other.submit_)) {}

submit_watch::armed& submit_watch::armed::operator=(armed&& other) noexcept {
  if (this != &other) {
    release();
    watch_ = std::exchange(other.watch_, nullptr);
    submit_ = std::move(other.submit_);
  }
  return *this;
}

submit_watch::armed::~armed() { release(); }

void submit_watch::armed::release() noexcept {
  if (watch_ != nullptr && submit_) {
    // A create still in flight (its coroutine holds the submit) reports nothing more.
    submit_->live = false;
    watch_->disarm(submit_.get());
  }
  watch_ = nullptr;
  submit_.reset();
}

submit_watch::submit_watch() = default;
submit_watch::~submit_watch() = default;

submit_watch::armed submit_watch::arm(std::string_view provider, crash_hook hook) {
  auto submit = std::make_shared<armed_submit>();
  submit->provider = std::string(provider);
  submit->hook = std::move(hook);
  armed_.push_back(submit);
  return armed(this, std::move(submit));
}

bool submit_watch::watches(std::string_view provider) const {
  return std::find(watched_.begin(), watched_.end(), provider) != watched_.end();
}

std::unique_ptr<http_client> submit_watch::watch(std::unique_ptr<http_client> inner,
                                                 std::string provider, create_route create) {
  if (!watches(provider)) watched_.push_back(provider);
  return std::make_unique<client>(*this, std::move(inner), std::move(provider), std::move(create));
}

std::shared_ptr<submit_watch::armed_submit> submit_watch::claim(std::string_view provider) {
  for (const auto& submit : armed_) {
    if (submit->provider == provider && !submit->claimed) {
      submit->claimed = true;
      return submit;
    }
  }
  return nullptr;
}

void submit_watch::disarm(const armed_submit* submit) noexcept {
  std::erase_if(armed_, [submit](const auto& s) { return s.get() == submit; });
}

}  // namespace swaprouter
