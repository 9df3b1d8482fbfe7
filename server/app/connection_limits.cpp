#include "app/connection_limits.hpp"

#include "app/rate_limit.hpp"

namespace colloquy {

std::unique_ptr<ConnectionLimits::Slot> ConnectionLimits::open(std::string address) {
  const std::size_t before = total_.fetch_add(1);
  const ConnectionTier tier = before >= caps_.max_total                   ? ConnectionTier::health_only
                              : before >= caps_.max_total - caps_.reserve() ? ConnectionTier::reserved
                                                                            : ConnectionTier::normal;
  return std::unique_ptr<Slot>(new Slot(shared_from_this(), std::move(address), tier));
}

bool ConnectionLimits::Slot::admit_websocket(const std::string& client) {
  if (websocket_) return true;
  const std::string key = rate_key(client);
  std::lock_guard lock(owner_->mutex_);
  std::size_t& n = owner_->websockets_[key];
  if (n >= owner_->caps_.max_per_address) {
    if (n == 0) owner_->websockets_.erase(key);
    return false;
  }
  ++n;
  websocket_ = true;
  counted_as_ = key;
  return true;
}

ConnectionLimits::Slot::~Slot() {
  owner_->total_.fetch_sub(1);
  if (!websocket_) return;
  std::lock_guard lock(owner_->mutex_);
  auto it = owner_->websockets_.find(counted_as_);
  if (it != owner_->websockets_.end() && --it->second == 0) owner_->websockets_.erase(it);
}

std::size_t ConnectionLimits::websockets_from(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = websockets_.find(rate_key(address));
  return it == websockets_.end() ? 0 : it->second;
}

} // namespace colloquy
