#include "app/connection_limits.hpp"

namespace colloquy {

std::unique_ptr<ConnectionLimits::Slot> ConnectionLimits::open(std::string address) {
  const std::size_t before = total_.fetch_add(1);
  return std::unique_ptr<Slot>(new Slot(shared_from_this(), std::move(address), before >= caps_.max_total));
}

bool ConnectionLimits::Slot::admit_websocket() {
  if (websocket_) return true;
  std::lock_guard lock(owner_->mutex_);
  std::size_t& n = owner_->websockets_[address_];
  if (n >= owner_->caps_.max_per_address) {
    if (n == 0) owner_->websockets_.erase(address_);
    return false;
  }
  ++n;
  websocket_ = true;
  return true;
}

ConnectionLimits::Slot::~Slot() {
  owner_->total_.fetch_sub(1);
  if (!websocket_) return;
  std::lock_guard lock(owner_->mutex_);
  auto it = owner_->websockets_.find(address_);
  if (it != owner_->websockets_.end() && --it->second == 0) owner_->websockets_.erase(it);
}

std::size_t ConnectionLimits::websockets_from(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = websockets_.find(address);
  return it == websockets_.end() ? 0 : it->second;
}

} // namespace colloquy
