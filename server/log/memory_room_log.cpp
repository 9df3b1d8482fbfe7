#include "log/room_log.hpp"

#include "core/state_bytes.hpp"
#include "protocol/codec.hpp"

#include <algorithm>
#include <future>

namespace colloquy {

bool RoomLog::append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) {
  std::promise<AppendResult> promise;
  auto outcome = promise.get_future();
  append_async(room_id, expected_seq, events, [&promise](AppendResult r) { promise.set_value(std::move(r)); });
  const AppendResult result = outcome.get();
  switch (result.status) {
  case AppendStatus::ok: return true;
  case AppendStatus::conflict: return false;
  case AppendStatus::full: throw RoomLogError("the storage holds its maximum number of rooms");
  case AppendStatus::failed:
  case AppendStatus::unknown: break;
  }
  throw RoomLogError(result.error.empty() ? "the room log could not store the events" : result.error);
}

MemoryRoomLog::MemoryRoomLog(std::size_t keep_events, std::size_t keep_bytes)
    : keep_events_(keep_events < 1 ? 1 : keep_events), keep_bytes_(keep_bytes < 1 ? 1 : keep_bytes) {}

namespace {
std::size_t push_bytes(const std::string& room_id, const Event& event) {
  return protocol::encode_event_push(room_id, event).size();
}
} // namespace

std::size_t MemoryRoomLog::kept_bytes(std::string_view room_id) const {
  std::shared_ptr<Room> room = find(room_id);
  if (!room) return 0;
  std::lock_guard lock(room->mutex);
  return room->bytes;
}

std::shared_ptr<MemoryRoomLog::Room> MemoryRoomLog::find(std::string_view room_id) const {
  std::shared_lock lock(mutex_);
  auto it = rooms_.find(std::string(room_id));
  return it == rooms_.end() ? nullptr : it->second;
}

void MemoryRoomLog::append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                                 AppendDone done) {
  const bool stored = store(room_id, expected_seq, std::move(events));
  done(AppendResult{stored ? AppendStatus::ok : AppendStatus::conflict, {}});
}

bool MemoryRoomLog::store(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != expected_seq + 1 + i) return false;
  }
  std::shared_ptr<Room> room = find(room_id);
  if (!room) {
    if (expected_seq != 0) return false;
    std::unique_lock lock(mutex_);
    auto& slot = rooms_[std::string(room_id)];
    if (!slot) {
      slot = std::make_shared<Room>();
      slot->base.id = std::string(room_id);
    }
    room = slot;
  }
  std::lock_guard lock(room->mutex);
  if (room->last_seq() != expected_seq) return false;
  if (!events.empty()) room->last_change_ms = events.back().time_ms;
  for (auto& e : events) {
    room->sizes.push_back(push_bytes(room->base.id, e));
    room->bytes += room->sizes.back();
    room->events.push_back(std::move(e));
  }
  // Fold the oldest into the snapshot once twice the kept number, or bytes, have piled up.
  if (room->events.size() > 2 * keep_events_ || room->bytes > 2 * keep_bytes_) {
    while (!room->events.empty() && (room->events.size() > keep_events_ || room->bytes > keep_bytes_)) {
      evolve(room->base, room->events.front());
      room->events.pop_front();
      room->bytes -= room->sizes.front();
      room->sizes.pop_front();
    }
  }
  return true;
}

std::optional<std::vector<Event>> MemoryRoomLog::read(std::string_view room_id, std::uint64_t after_seq) const {
  std::shared_ptr<Room> room = find(room_id);
  if (!room) return std::vector<Event>{};
  std::lock_guard lock(room->mutex);
  if (after_seq < room->base.seq) return std::nullopt;
  if (after_seq >= room->last_seq()) return std::vector<Event>{};
  return std::vector<Event>(room->events.begin() + static_cast<std::ptrdiff_t>(after_seq - room->base.seq), room->events.end());
}

std::uint64_t MemoryRoomLog::last_seq(std::string_view room_id) const {
  std::shared_ptr<Room> room = find(room_id);
  if (!room) return 0;
  std::lock_guard lock(room->mutex);
  return room->last_seq();
}

std::vector<std::string> MemoryRoomLog::room_ids() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(rooms_.size());
  for (const auto& [id, room] : rooms_) ids.push_back(id);
  return ids;
}

std::optional<RoomHistory> MemoryRoomLog::history(std::string_view room_id) const {
  std::shared_ptr<Room> room = find(room_id);
  if (!room) return std::nullopt;
  std::lock_guard lock(room->mutex);
  return RoomHistory{room->base, {room->events.begin(), room->events.end()}, room->last_change_ms};
}

void MemoryRoomLog::erase(std::string_view room_id) {
  std::unique_lock lock(mutex_);
  rooms_.erase(std::string(room_id));
}

void MemoryRoomLog::remove_async(std::string_view room_id, std::function<void(std::string)> done) {
  erase(room_id);
  prompts_.forget_room(room_id);
  done({});
}

void MemoryRoomLog::restore(const std::string& room_id, RoomHistory history) {
  auto room = std::make_shared<Room>();
  room->base = std::move(history.base);
  room->base.id = room_id;
  room->events.assign(std::make_move_iterator(history.events.begin()), std::make_move_iterator(history.events.end()));
  for (const auto& e : room->events) {
    room->sizes.push_back(push_bytes(room_id, e));
    room->bytes += room->sizes.back();
  }
  room->last_change_ms = history.last_change_ms;
  if (!room->events.empty()) room->last_change_ms = std::max(room->last_change_ms, room->events.back().time_ms);
  std::unique_lock lock(mutex_);
  rooms_[room_id] = std::move(room);
}

bool MemoryPromptStore::add(std::string_view room_id, PendingPrompt prompt, std::size_t max_pending) {
  std::lock_guard lock(mutex_);
  auto& pending = pending_[std::string(room_id)];
  if (pending.size() >= max_pending) return false;
  pending.push_back(std::move(prompt));
  return true;
}

std::vector<PendingPrompt> MemoryPromptStore::pending(std::string_view room_id) const {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(std::string(room_id));
  return it == pending_.end() ? std::vector<PendingPrompt>{} : it->second;
}

std::vector<PendingPrompt> MemoryPromptStore::take(std::string_view room_id, const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  auto& list = pending_[std::string(room_id)];
  std::vector<PendingPrompt> taken;
  std::vector<PendingPrompt> kept;
  for (auto& p : list) {
    const bool chosen = ids.empty() ? !p.held : std::find(ids.begin(), ids.end(), p.id) != ids.end();
    (chosen ? taken : kept).push_back(std::move(p));
  }
  list = std::move(kept);
  return taken;
}

void MemoryPromptStore::restore(std::string_view room_id, const std::vector<PendingPrompt>& prompts) {
  std::lock_guard lock(mutex_);
  auto& list = pending_[std::string(room_id)];
  list.insert(list.end(), prompts.begin(), prompts.end());
}

bool MemoryPromptStore::hold(std::string_view room_id, std::string_view prompt_id) {
  std::lock_guard lock(mutex_);
  for (auto& p : pending_[std::string(room_id)]) {
    if (p.id == prompt_id) {
      p.held = true;
      return true;
    }
  }
  return false;
}

bool MemoryPromptStore::discard(std::string_view room_id, std::string_view prompt_id) {
  std::lock_guard lock(mutex_);
  auto& list = pending_[std::string(room_id)];
  auto it = std::find_if(list.begin(), list.end(), [&](const PendingPrompt& p) { return p.id == prompt_id; });
  if (it == list.end()) return false;
  list.erase(it);
  return true;
}

bool MemoryPromptStore::add_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) {
  std::lock_guard lock(mutex_);
  auto& voters = votes_[std::string(room_id) + "\n" + std::string(prompt_id)];
  if (std::find(voters.begin(), voters.end(), member_id) != voters.end()) return false;
  voters.emplace_back(member_id);
  return true;
}

void MemoryPromptStore::remove_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) {
  std::lock_guard lock(mutex_);
  auto& voters = votes_[std::string(room_id) + "\n" + std::string(prompt_id)];
  voters.erase(std::remove(voters.begin(), voters.end(), member_id), voters.end());
}

std::size_t audit_comment_cost(std::string_view comment) { return state_bytes::text(comment) + 1; }

AuditAdd MemoryPromptStore::add_audit_answer(std::string_view room_id, std::string_view audit_id, std::string_view member_id,
                                             const std::vector<std::int64_t>& values, const std::string& comment,
                                             std::size_t max_comment_bytes) {
  std::lock_guard lock(mutex_);
  auto& audit = audits_[std::string(room_id) + "\n" + std::string(audit_id)];
  if (std::find(audit.answered.begin(), audit.answered.end(), member_id) != audit.answered.end()) {
    return AuditAdd::already_answered;
  }
  const std::size_t cost = comment.empty() ? 0 : audit_comment_cost(comment);
  if (audit.comment_bytes + cost > max_comment_bytes) return AuditAdd::comments_full;
  audit.comment_bytes += cost;
  audit.answered.emplace_back(member_id);
  auto& tally = audit.tally;
  tally.responses += 1;
  if (tally.counts.size() < values.size()) tally.counts.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] >= 1 && values[i] <= 5) tally.counts[i][static_cast<std::size_t>(values[i] - 1)] += 1;
  }
  if (!comment.empty()) {
    // Unordered: insert at a position that depends on the text, not on when it came.
    auto at = std::lower_bound(tally.comments.begin(), tally.comments.end(), comment);
    tally.comments.insert(at, comment);
  }
  return AuditAdd::added;
}

AuditTally MemoryPromptStore::audit_tally(std::string_view room_id, std::string_view audit_id, std::size_t items) const {
  std::lock_guard lock(mutex_);
  auto it = audits_.find(std::string(room_id) + "\n" + std::string(audit_id));
  AuditTally tally = it == audits_.end() ? AuditTally{} : it->second.tally;
  tally.counts.resize(items);
  return tally;
}

void MemoryPromptStore::forget_room(std::string_view room_id) {
  std::lock_guard lock(mutex_);
  const std::string prefix = std::string(room_id) + "\n";
  pending_.erase(std::string(room_id));
  std::erase_if(votes_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
  std::erase_if(audits_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
}

void MemoryPromptStore::forget_audit(std::string_view room_id, std::string_view audit_id) {
  std::lock_guard lock(mutex_);
  audits_.erase(std::string(room_id) + "\n" + std::string(audit_id));
}

} // namespace colloquy
