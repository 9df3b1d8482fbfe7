#pragma once
// One ordered log per room, the source of truth: compare-and-append on the expected sequence,
// range reads for catching up, and the history a replica is rebuilt from.
#include "core/room.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace colloquy {

// What a replica of a room is rebuilt from: a snapshot, then every event after it.
struct RoomHistory {
  RoomState base;            // the room as of base.seq; base.seq == 0: from the very beginning
  std::vector<Event> events; // base.seq + 1, + 2, … in order
  std::int64_t last_change_ms = 0; // the time of the room's last event (0: not known)
};

// A pending anonymous prompt: its random id and text, nothing else (no author, no time).
struct PendingPrompt {
  std::string id;
  std::string text;
  bool held = false;
};

// What an audit's answers add up to (never who gave which).
struct AuditTally {
  std::int64_t responses = 0;
  std::vector<std::array<std::int64_t, 5>> counts; // per item, answers 1..5
  std::vector<std::string> comments;
};

// How adding an audit answer ended.
enum class AuditAdd { added, already_answered, comments_full };

// The bytes a comment takes of an audit's comment budget (max_audit_comment_bytes): as JSON
// text, with its comma.
std::size_t audit_comment_cost(std::string_view comment);

// Pending anonymous prompts and prompt votes: kept beside the ordered log, never in it, and never
// with an author. Thread-safe.
class PromptStore {
public:
  virtual ~PromptStore() = default;
  // Adds a pending prompt unless the room has `max_pending` already (checked and added in one
  // atomic step, also across instances); false, and nothing added, at the cap.
  virtual bool add(std::string_view room_id, PendingPrompt prompt, std::size_t max_pending) = 0;
  virtual std::vector<PendingPrompt> pending(std::string_view room_id) const = 0;
  // Removes and returns the chosen ids (those present), or every prompt not held when `ids` is empty.
  virtual std::vector<PendingPrompt> take(std::string_view room_id, const std::vector<std::string>& ids) = 0;
  // Puts taken prompts back (their release could not be stored).
  virtual void restore(std::string_view room_id, const std::vector<PendingPrompt>& prompts) = 0;
  // False when there is no such pending prompt.
  virtual bool hold(std::string_view room_id, std::string_view prompt_id) = 0;
  virtual bool discard(std::string_view room_id, std::string_view prompt_id) = 0;
  // Records one vote of a member for a released prompt; false if they voted for it already.
  virtual bool add_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) = 0;
  virtual void remove_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) = 0;
  // Tells other instances that the room's pending prompts changed (shared stores only).
  virtual void announce(std::string_view room_id) { (void)room_id; }

  // Audit answers: added to per-item counts and an unordered set of comments; who answered is
  // kept apart, only to refuse a second answer. Nothing is recorded if the member answered
  // already, or if the comment would take the audit's comments past `max_comment_bytes`
  // (audit_comment_cost each).
  virtual AuditAdd add_audit_answer(std::string_view room_id, std::string_view audit_id, std::string_view member_id,
                                    const std::vector<std::int64_t>& values, const std::string& comment,
                                    std::size_t max_comment_bytes) = 0;
  virtual AuditTally audit_tally(std::string_view room_id, std::string_view audit_id, std::size_t items) const = 0;
  // Deletes everything of an audit (done when it closes).
  virtual void forget_audit(std::string_view room_id, std::string_view audit_id) = 0;
  // Deletes everything of a room (it was removed).
  virtual void forget_room(std::string_view room_id) { (void)room_id; }
};

// The in-process prompt store (embedded default): memory only, so a restart forgets prompts not
// yet released, and nothing about them is ever written to disk.
class MemoryPromptStore final : public PromptStore {
public:
  bool add(std::string_view room_id, PendingPrompt prompt, std::size_t max_pending) override;
  std::vector<PendingPrompt> pending(std::string_view room_id) const override;
  std::vector<PendingPrompt> take(std::string_view room_id, const std::vector<std::string>& ids) override;
  void restore(std::string_view room_id, const std::vector<PendingPrompt>& prompts) override;
  bool hold(std::string_view room_id, std::string_view prompt_id) override;
  bool discard(std::string_view room_id, std::string_view prompt_id) override;
  bool add_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) override;
  void remove_vote(std::string_view room_id, std::string_view prompt_id, std::string_view member_id) override;
  AuditAdd add_audit_answer(std::string_view room_id, std::string_view audit_id, std::string_view member_id,
                            const std::vector<std::int64_t>& values, const std::string& comment,
                            std::size_t max_comment_bytes) override;
  AuditTally audit_tally(std::string_view room_id, std::string_view audit_id, std::size_t items) const override;
  void forget_audit(std::string_view room_id, std::string_view audit_id) override;
  void forget_room(std::string_view room_id) override;

private:
  struct AuditAnswers {
    std::vector<std::string> answered; // members, kept apart from what they answered
    AuditTally tally;
    std::size_t comment_bytes = 0;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, AuditAnswers> audits_; // "room\naudit"
  std::unordered_map<std::string, std::vector<PendingPrompt>> pending_;
  std::unordered_map<std::string, std::vector<std::string>> votes_; // "room\nprompt" -> member ids
};

// Told about appends other processes made to rooms this process watches (a shared log only).
class RoomLogObserver {
public:
  virtual ~RoomLogObserver() = default;
  // Events of a watched room, in order, as published by whoever appended them. They may repeat
  // events already applied or skip some (after a lost message); the observer checks seq.
  virtual void on_remote_events(const std::string& room_id, std::vector<Event> events) = 0;
  // Notifications for the room flow (after watch(), or again after the channel was down):
  // appends made before this moment may have been missed, so the observer re-checks the room.
  virtual void on_watch_confirmed(const std::string& room_id) = 0;
  // The room's pending prompts changed (another instance added, released, held or discarded).
  virtual void on_pending_changed(const std::string& room_id) { (void)room_id; }
  // Another instance relayed an ephemeral push (`frame`, ready to send) from member `from`.
  virtual void on_ephemeral(const std::string& room_id, const std::string& from, std::string frame) {
    (void)room_id, (void)from, (void)frame;
  }
};

// The room log failed in a way a retry will not fix by itself: storage unreachable, or a room's
// log lost or reset (its epoch changed) so it must not be replayed as if whole.
class RoomLogError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// How an asynchronous append ended.
enum class AppendStatus {
  ok,       // stored: the events are the room's next ones
  conflict, // the room's last sequence was not expected_seq (another writer was first); nothing stored
  failed,   // nothing was stored (storage unreachable, disk full): safe to try again
  unknown,  // the connection broke with the append on it and storage could not be asked since:
            // the events may or may not have been stored (a later read of the room tells)
  full,     // creating a room: the storage holds its maximum of rooms (shared logs); nothing stored
};
struct AppendResult {
  AppendStatus status = AppendStatus::ok;
  std::string error; // for the log, with failed and unknown
};
// Called once per append, on a storage thread (or inline, for the in-memory log). Must be quick.
using AppendDone = std::function<void(AppendResult)>;

class RoomLog {
public:
  virtual ~RoomLog() = default;
  // True when other processes append to the same rooms (Redis): replicas are loaded on demand,
  // followed while watched, and never assumed current.
  virtual bool shared() const { return false; }
  // True when the blocking operations below (read, history, last_seq, prompts()) may wait on the
  // network: then call them only inside run(), never on a thread that serves sockets. False: they
  // are quick in-memory operations, safe anywhere.
  virtual bool remote() const { return false; }
  // Runs `op` where this log's blocking operations may be called: on the room's storage thread
  // for a remote log (in order with the room's other operations), inline otherwise.
  virtual void run(std::string_view /*room_id*/, std::function<void()> op) { op(); }
  virtual void set_observer(RoomLogObserver* /*observer*/) {}
  // Start / stop receiving on_remote_events for a room.
  virtual void watch(std::string_view /*room_id*/) {}
  virtual void unwatch(std::string_view /*room_id*/) {}
  // Relays an ephemeral push to the other instances serving the room (shared logs only): never
  // stored, and dropped rather than queued when the storage is behind.
  virtual void publish_ephemeral(std::string_view /*room_id*/, std::string /*frame*/) {}
  // Readiness: false when the storage cannot be reached now. Never blocks: it reads what the
  // storage's own threads last found.
  virtual bool healthy() const { return true; }

  // Pending anonymous prompts and votes (outside the ordered log; never linked to their authors).
  virtual PromptStore& prompts() = 0;
  // Appends the events (numbered expected_seq+1, +2, …) only if the room's last sequence is
  // expected_seq, so two writers never both win. Returns at once; `done` tells how it ended.
  // Appends of one room complete in the order they were made.
  virtual void append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                            AppendDone done) = 0;
  // Removes the room for good (its events, snapshot and side stores); `done(error)` with an empty
  // error once that is stored. A removed room is gone after a restart too.
  virtual void remove_async(std::string_view room_id, std::function<void(std::string error)> done) = 0;
  // The same, waiting for the outcome (start-up, tests; never on a thread that serves sockets):
  // true if stored, false on a conflict; throws RoomLogError when nothing or maybe something was stored.
  bool append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events);
  // Every event of the room with seq > after_seq, in order; nothing when some of them are no
  // longer kept one by one (folded into a snapshot): the caller sends a snapshot instead.
  virtual std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const = 0;
  virtual std::uint64_t last_seq(std::string_view room_id) const = 0;
  // Every room the log holds, for rebuilding replicas at start.
  virtual std::vector<std::string> room_ids() const = 0;
  virtual std::optional<RoomHistory> history(std::string_view room_id) const = 0;
  // The server's heartbeat (the hub calls it every 2 s and at a stop): a restart pauses running
  // rounds from the last one the previous process left. Logs that outlive no process keep none.
  virtual void mark_alive(std::int64_t /*now_ms*/) {}
  // The previous process's last heartbeat as found at open; 0 if none.
  virtual std::int64_t last_alive_ms() const { return 0; }
};

// The in-process log. Keeps the last `keep_events` events of each room one by one (so clients
// that fell behind by fewer can catch up event by event) and folds older ones into a snapshot,
// which bounds its memory: in count, and in bytes (the events as pushes encode them): once a
// room's events pass twice `keep_events` or twice `keep_bytes`, the oldest are folded until
// both hold again. keep_bytes defaults to max_replay_bytes, the most a resume replays. Each room has its own lock: copying one room (a snapshot) never holds
// up another. append_async completes inline.
class MemoryRoomLog final : public RoomLog {
public:
  explicit MemoryRoomLog(std::size_t keep_events = 1024, std::size_t keep_bytes = max_replay_bytes);
  // The bytes of the room's events kept one by one (tests).
  std::size_t kept_bytes(std::string_view room_id) const;

  void append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                    AppendDone done) override;
  void remove_async(std::string_view room_id, std::function<void(std::string error)> done) override;
  // Stores the events if the room is at expected_seq (the journal's writer, after its write).
  bool store(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events);
  void erase(std::string_view room_id);
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;
  std::vector<std::string> room_ids() const override;
  std::optional<RoomHistory> history(std::string_view room_id) const override;

  // Puts a recovered room back (journal start-up). Replaces any room of that id.
  void restore(const std::string& room_id, RoomHistory history);

  PromptStore& prompts() override { return prompts_; }

private:
  struct Room {
    mutable std::mutex mutex;
    RoomState base;
    std::deque<Event> events;
    std::deque<std::size_t> sizes; // each event's bytes as a push
    std::size_t bytes = 0;
    std::int64_t last_change_ms = 0;
    std::uint64_t last_seq() const { return events.empty() ? base.seq : events.back().seq; }
  };
  std::shared_ptr<Room> find(std::string_view room_id) const;
  std::size_t keep_events_;
  std::size_t keep_bytes_;
  mutable std::shared_mutex mutex_; // the map only; each room's content has its own lock
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;
  MemoryPromptStore prompts_;
};

} // namespace colloquy
