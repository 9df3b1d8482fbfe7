#include "app/room_hub.hpp"

#include "app/logger.hpp"
#include "core/room.hpp"
#include "core/secret.hpp"
#include "core/text.hpp"
#include "log/room_log.hpp"
#include "protocol/codec.hpp"

#include <sys/random.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <map>
#include <thread>
#include <chrono>
#include <stdexcept>
#include <unordered_set>

namespace colloquy {
namespace {

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void system_random_bytes(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    done += static_cast<std::size_t>(n);
  }
}

Frame make_frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

} // namespace

// One room replica and the connections attached to its members.
struct RoomEntry {
  RoomState state;
  std::unordered_map<std::string, std::shared_ptr<Connection>> attached; // member id -> connection
  bool watched = false; // shared log: notifications of other instances' appends flow
};

// What the hub knows of one connection.
struct ConnectionInfo {
  std::weak_ptr<Connection> connection;
  std::string room_id;   // empty until joined
  std::string member_id;
};

struct RoomHub::Impl final : RoomLogObserver {
  HubOptions options;
  std::shared_ptr<RoomLog> log_owner;
  RoomLog& log;
  HubRestore restore_stats;
  std::atomic<bool> draining{false};
  mutable std::mutex mutex; // one lock for the skeleton; per-room locking comes with scale-out
  std::unordered_map<std::string, RoomEntry> rooms;
  std::unordered_map<const Connection*, ConnectionInfo> connections;

  explicit Impl(HubOptions o)
      : options(std::move(o)),
        log_owner(options.log ? options.log : std::make_shared<MemoryRoomLog>()),
        log(*log_owner) {
    if (!options.now_ms) options.now_ms = system_now_ms;
    if (!options.random_bytes) options.random_bytes = system_random_bytes;
    restore();
    if (log.shared()) log.set_observer(this);
    if (options.run_timers) ticker = std::thread([this] { ticker_loop(); });
  }

  ~Impl() override {
    if (log.shared()) log.set_observer(nullptr); // waits for a notification in progress
    {
      std::lock_guard lock(ticker_mutex);
      ticker_stopping = true;
    }
    ticker_wake.notify_all();
    if (ticker.joinable()) ticker.join();
  }

  // ---- shared log (Redis): replicas loaded on demand and followed while members are here

  // The room's replica, loaded from the log if this instance does not hold it. Caller holds the mutex.
  RoomEntry* find_room(const std::string& room_id) {
    if (auto it = rooms.find(room_id); it != rooms.end()) return &it->second;
    if (!log.shared()) return nullptr;
    auto history = log.history(room_id); // may throw RoomLogError
    if (!history) return nullptr;
    RoomEntry& room = rooms[room_id];
    room.state = std::move(history->base);
    room.state.id = room_id;
    for (const auto& event : history->events) evolve(room.state, event);
    schedule(room);
    return &room;
  }

  // Applies what other instances appended since the replica's seq. False if the log failed.
  // Caller holds the mutex.
  bool catch_up(RoomEntry& room) {
    try {
      auto missed = log.read(room.state.id, room.state.seq);
      if (!missed) {
        // Folded into a snapshot already: rebuild; members' clients notice the jump by seq
        // on the next event and catch up themselves.
        auto history = log.history(room.state.id);
        if (!history) return false;
        RoomState state = std::move(history->base);
        state.id = room.state.id;
        for (const auto& event : history->events) evolve(state, event);
        room.state = std::move(state);
        schedule(room);
        return true;
      }
      for (const auto& event : *missed) apply(room, event);
      return true;
    } catch (const std::exception& e) {
      logger::warn("room " + room.state.id + ": catching up failed: " + e.what());
      return false;
    }
  }

  // Applies one event in order (skipping ones already applied). Caller holds the mutex.
  void apply(RoomEntry& room, const Event& event) {
    if (event.seq != room.state.seq + 1) return;
    evolve(room.state, event);
    broadcast(room, event);
    if (std::holds_alternative<TimerSet>(event.body) || std::holds_alternative<TimerExpired>(event.body)) schedule(room);
  }

  // Stops following a room nobody on this instance is in, and drops the replica.
  void release_if_unused(const std::string& room_id) {
    if (!log.shared()) return;
    auto it = rooms.find(room_id);
    if (it == rooms.end() || !it->second.attached.empty()) return;
    if (it->second.watched) log.unwatch(room_id);
    rooms.erase(it);
    unschedule(room_id);
  }

  void on_remote_events(const std::string& room_id, std::vector<Event> events) override {
    std::lock_guard lock(mutex);
    auto it = rooms.find(room_id);
    if (it == rooms.end()) return;
    RoomEntry& room = it->second;
    for (const auto& event : events) {
      if (event.seq <= room.state.seq) continue; // ours, or seen already
      if (event.seq != room.state.seq + 1) {      // a notification was lost: read the gap
        catch_up(room);
        return;
      }
      apply(room, event);
    }
  }

  void on_watch_confirmed(const std::string& room_id) override {
    std::lock_guard lock(mutex);
    if (auto it = rooms.find(room_id); it != rooms.end()) catch_up(it->second);
  }

  // Rebuilds every room from the log. Nobody is connected to a fresh process, so members who
  // were online are recorded as away (they come back with their resume token).
  void restore() {
    for (const auto& id : log.room_ids()) {
      auto history = log.history(id);
      if (!history) continue;
      RoomEntry& room = rooms[id];
      room.state = std::move(history->base);
      room.state.id = id;
      for (const auto& event : history->events) evolve(room.state, event);
      ++restore_stats.rooms;
      std::vector<std::string> online;
      for (const auto& m : room.state.members) {
        if (m.presence == Presence::online) online.push_back(m.id);
      }
      for (const auto& member_id : online) {
        if (std::holds_alternative<Decision>(commit(room, LoseConnection{member_id}))) ++restore_stats.members_marked_away;
      }
      schedule(room);
    }
  }

  std::string random_secret() {
    std::array<std::uint8_t, 16> bytes{};
    options.random_bytes(bytes);
    return base64url(bytes);
  }

  std::string random_room_id() {
    std::array<std::uint8_t, 10> bytes{};
    options.random_bytes(bytes);
    return base32(bytes);
  }

  void send_error(Connection& c, const std::optional<std::string>& id, ErrorCode code, std::string_view message) {
    c.send(make_frame(protocol::encode_error(id, code, message)));
  }

  // Runs a command through the room core, appends and applies its events, fans them out.
  // Caller holds the mutex.
  // Decides, appends with compare-and-append and applies. When another instance appended first,
  // catches up and decides again on the newer state (so a command is judged against the room as
  // it really is, and two instances never both extend the same state). Caller holds the mutex.
  std::variant<Decision, Error> commit(RoomEntry& room, const Command& command) {
    constexpr int attempts = 16; // each lost race costs a range read; under human-paced use one is rare
    for (int attempt = 0; attempt < attempts; ++attempt) {
      auto result = decide(room.state, command, options.now_ms(), Limits{options.max_members_per_room});
      if (auto* error = std::get_if<Error>(&result)) return *error;
      auto& decision = std::get<Decision>(result);
      if (decision.events.empty()) return decision;
      bool appended = false;
      try {
        appended = log.append(room.state.id, room.state.seq, decision.events);
      } catch (const std::exception& e) {
        logger::error("room " + room.state.id + ": storing a change failed: " + e.what());
        return Error{ErrorCode::unavailable, "the room's storage cannot be reached; nothing was changed, try again"};
      }
      if (appended) {
        for (const auto& event : decision.events) apply(room, event);
        return decision;
      }
      if (!log.shared() || !catch_up(room)) break;
    }
    return Error{ErrorCode::unavailable, "the room is changing too fast right now; nothing was changed, try again"};
  }

  void broadcast(RoomEntry& room, const Event& event) {
    const Frame frame = make_frame(protocol::encode_event_push(room.state.id, event)); // once for all
    for (auto& [member_id, connection] : room.attached) {
      if (visible_to(room, event, member_id)) connection->send(frame);
    }
  }

  static bool visible_to(const RoomEntry& room, const Event& event, const std::string& member_id) {
    switch (event.audience.kind) {
    case Audience::Kind::everyone: return true;
    case Audience::Kind::member: return event.audience.member_id == member_id;
    case Audience::Kind::leads: {
      const Member* m = room.state.find_member(member_id);
      return m && leads(m->role);
    }
    case Audience::Kind::group: return false; // breakout groups are not built yet
    }
    return false;
  }

  void handle_join(const std::shared_ptr<Connection>& c, const std::string& id, protocol::JoinCommand& join) {
    auto& info = connections[c.get()];
    if (!info.room_id.empty()) return send_error(*c, id, ErrorCode::already_joined, "this connection is in a room already; leave first");
    RoomEntry* found = nullptr;
    try {
      found = find_room(join.room);
    } catch (const std::exception& e) {
      logger::warn("room " + join.room + ": loading failed: " + e.what());
      return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
    }
    if (!found) return send_error(*c, id, ErrorCode::room_not_found, "no room with that id");
    RoomEntry& room = *found;
    if (log.shared() && !room.watched) {
      // Follow the room from now on; the confirmation triggers another catch-up, closing the
      // window between this read and the subscription.
      log.watch(room.state.id);
      room.watched = true;
      if (!catch_up(room)) {
        release_if_unused(room.state.id);
        return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
      }
    }

    const bool resuming = join.credential == Credential::resume_token;
    std::string token = resuming ? join.secret : random_secret();
    Join command{join.credential, join.secret, join.name, secret_hash(token)};
    auto result = commit(room, command);
    if (auto* error = std::get_if<Error>(&result)) {
      const std::string room_id = room.state.id;
      send_error(*c, id, error->code, error->message);
      return release_if_unused(room_id);
    }
    const std::string member_id = std::get<Decision>(result).member_id;

    // A member is present once: a second connection replaces the first.
    if (auto old = room.attached.find(member_id); old != room.attached.end() && old->second != c) {
      connections.erase(old->second.get());
      old->second->close(4000, "replaced");
      room.attached.erase(old);
    }
    room.attached[member_id] = c;
    info.room_id = room.state.id;
    info.member_id = member_id;

    const Member* member = room.state.find_member(member_id);
    nlohmann::json result_json{{"member", protocol::member_to_wire(*member, false)}, {"resume_token", token}};
    // Catching up: the events after the client's last seq, when the log still has them one by
    // one and the client's seq belongs to this room's history; otherwise a fresh snapshot.
    std::optional<std::vector<Event>> missed;
    if (join.after && *join.after <= room.state.seq) {
      try {
        missed = log.read(room.state.id, *join.after);
      } catch (const std::exception& e) {
        logger::warn(std::string("room log read failed; sending a snapshot: ") + e.what());
      }
    }
    if (missed) {
      result_json["replay"] = {{"after", *join.after}, {"events", missed->size()}};
    } else {
      result_json["snapshot"] = protocol::snapshot_to_wire(room.state);
    }
    c->send(make_frame(protocol::encode_reply(id, result_json)));
    if (missed) {
      for (const auto& event : *missed) {
        if (visible_to(room, event, member_id)) c->send(make_frame(protocol::encode_event_push(room.state.id, event)));
      }
    }
    if (leads(member->role)) push_pending(room, c);
    logger::debug("member " + member_id + (resuming ? " resumed in room " : " joined room ") + room.state.id);
  }

  std::uint64_t random_seed() {
    std::array<std::uint8_t, 8> bytes{};
    options.random_bytes(bytes);
    std::uint64_t seed = 0;
    for (auto b : bytes) seed = (seed << 8) | b;
    return seed;
  }

  // The room and member of a joined connection; otherwise sends not_joined and returns nothing.
  std::optional<std::pair<RoomEntry*, std::string>> joined_member(const std::shared_ptr<Connection>& c, const std::string& id) {
    auto it = connections.find(c.get());
    if (it != connections.end() && !it->second.room_id.empty()) {
      if (auto room_it = rooms.find(it->second.room_id); room_it != rooms.end()) {
        return std::pair<RoomEntry*, std::string>{&room_it->second, it->second.member_id};
      }
    }
    send_error(*c, id, ErrorCode::not_joined, "join a room first");
    return std::nullopt;
  }

  // A live-round command from a joined member: the core checks the role and the rules.
  void handle_room_command(const std::shared_ptr<Connection>& c, const std::string& id, protocol::RoomCommand command) {
    auto joined = joined_member(c, id);
    if (!joined) return;
    const std::string member_id = joined->second;
    // Random choices are drawn here and recorded in the events, so the core stays deterministic.
    const Command core = protocol::to_core(std::move(command), member_id, random_seed());
    RoomEntry& room = *joined->first;
    // One vote per member and prompt: recorded before the vote counts, taken back if it does not.
    const auto* vote = std::get_if<UpvotePrompt>(&core);
    if (vote) {
      auto check = decide(room.state, core, options.now_ms());
      if (auto* error = std::get_if<Error>(&check)) return send_error(*c, id, error->code, error->message);
      try {
        if (!log.prompts().add_vote(room.state.id, vote->prompt, member_id)) {
          return send_error(*c, id, ErrorCode::already_voted, "you voted for this prompt already");
        }
      } catch (const std::exception&) {
        return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
      }
    }
    auto result = commit(room, core);
    if (auto* error = std::get_if<Error>(&result)) {
      if (vote) {
        try {
          log.prompts().remove_vote(room.state.id, vote->prompt, member_id);
        } catch (const std::exception&) {
        }
      }
      return send_error(*c, id, error->code, error->message);
    }
    c->send(make_frame(protocol::encode_reply(id, nlohmann::json::object())));
  }

  // ---- anonymous prompts: nothing here logs, stores or sends who wrote a prompt

  std::unordered_map<std::string, std::deque<std::int64_t>> submissions; // "room member" -> times, last minute
  static constexpr std::size_t max_prompts_per_minute = 5;
  static constexpr std::size_t auto_release_at = 3;

  bool over_rate_limit(const std::string& room_id, const std::string& member_id) {
    const std::int64_t now = options.now_ms();
    auto& times = submissions[room_id + " " + member_id];
    while (!times.empty() && now - times.front() >= 60'000) times.pop_front();
    if (times.size() >= max_prompts_per_minute) return true;
    times.push_back(now);
    // Forget members with nothing in the last minute, so the map holds only recent activity.
    if (submissions.size() > 4096) {
      std::erase_if(submissions, [&](const auto& entry) { return entry.second.empty() || now - entry.second.back() >= 60'000; });
    }
    return false;
  }

  std::string random_prompt_id() {
    std::array<std::uint8_t, 10> bytes{};
    options.random_bytes(bytes);
    return "p" + base32(bytes);
  }

  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::array<std::uint8_t, 4> bytes{};
      options.random_bytes(bytes);
      const std::uint32_t r = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                              (std::uint32_t{bytes[2]} << 8) | bytes[3];
      std::swap(items[i - 1], items[r % i]);
    }
  }

  // Sends the pending list, in random order, to the room's facilitators here (or to one connection).
  void push_pending(RoomEntry& room, const std::shared_ptr<Connection>& only = nullptr) {
    std::vector<PendingPrompt> list;
    try {
      list = log.prompts().pending(room.state.id);
    } catch (const std::exception& e) {
      logger::warn("room " + room.state.id + ": reading pending prompts failed: " + e.what());
      return;
    }
    shuffle(list);
    std::vector<protocol::PendingView> view;
    for (auto& p : list) view.push_back(protocol::PendingView{std::move(p.id), std::move(p.text), p.held});
    const Frame frame = make_frame(protocol::encode_prompts_pending(room.state.id, view));
    for (auto& [member_id, connection] : room.attached) {
      const Member* m = room.state.find_member(member_id);
      if (!m || !leads(m->role)) continue;
      if (!only || only == connection) connection->send(frame);
    }
  }

  // Every instance holding the room (this one included, through its own subscription) pushes
  // the new list to its facilitators; without a shared log, this one does it now.
  void pending_changed(RoomEntry& room) {
    if (!log.shared()) return push_pending(room);
    try {
      log.prompts().announce(room.state.id);
    } catch (const std::exception& e) {
      logger::warn("room " + room.state.id + ": announcing pending prompts failed: " + e.what());
      push_pending(room);
    }
  }

  void on_pending_changed(const std::string& room_id) override {
    std::lock_guard lock(mutex);
    if (auto it = rooms.find(room_id); it != rooms.end()) push_pending(it->second);
  }

  // Releases a shuffled batch: the chosen ids, or every pending prompt not held. `actor` empty:
  // the server itself (three pending, or the phase's end).
  std::optional<Error> release(RoomEntry& room, const std::vector<std::string>& ids, const std::string& actor) {
    std::vector<PendingPrompt> taken;
    try {
      taken = log.prompts().take(room.state.id, ids);
    } catch (const std::exception&) {
      return Error{ErrorCode::unavailable, "the room's storage cannot be reached; try again"};
    }
    if (taken.empty()) {
      if (!ids.empty()) return Error{ErrorCode::unknown_prompt, "no pending prompt with that id"};
      return std::nullopt;
    }
    shuffle(taken);
    std::vector<PromptText> batch;
    for (const auto& p : taken) batch.push_back(PromptText{p.id, p.text});
    auto result = commit(room, ReleasePrompts{actor, std::move(batch)});
    if (auto* error = std::get_if<Error>(&result)) {
      try {
        log.prompts().restore(room.state.id, taken);
      } catch (const std::exception& e) {
        logger::error("room " + room.state.id + ": " + std::to_string(taken.size()) +
                      " pending prompts could not be put back: " + e.what());
      }
      return *error;
    }
    pending_changed(room);
    return std::nullopt;
  }

  // The climate-for-learning audit: answers go to the store as counts; nothing per answer is
  // logged, stored with its member, or sent to anyone but the member who answered.
  void handle_audit(const std::shared_ptr<Connection>& c, const std::string& id, const protocol::AuditCommand& command) {
    auto joined = joined_member(c, id);
    if (!joined) return;
    RoomEntry& room = *joined->first;
    const std::string member_id = joined->second;
    using Kind = protocol::AuditCommand::Kind;
    try {
      if (command.kind == Kind::open) {
        auto result = commit(room, OpenAudit{member_id, command.k});
        if (auto* error = std::get_if<Error>(&result)) return send_error(*c, id, error->code, error->message);
      } else if (command.kind == Kind::answer) {
        const CheckAuditAnswer answer{member_id, command.answers};
        auto check = decide(room.state, answer, options.now_ms());
        if (auto* error = std::get_if<Error>(&check)) return send_error(*c, id, error->code, error->message);
        const Audit& audit = *room.state.audit.current;
        if (!log.prompts().add_audit_answer(room.state.id, audit.id, member_id, audit_values(audit, answer), command.comment)) {
          return send_error(*c, id, ErrorCode::already_answered, "you answered this audit already");
        }
      } else {
        if (!room.state.audit.current || !room.state.audit.current->open) return send_error(*c, id, ErrorCode::no_audit, "no audit is open");
        const Audit audit = *room.state.audit.current;
        AuditTally tally = log.prompts().audit_tally(room.state.id, audit.id, audit.items.size());
        shuffle(tally.comments);
        AuditResults results;
        for (std::size_t i = 0; i < audit.items.size(); ++i) results.items.push_back(AuditItemResult{audit.items[i].id, tally.counts[i]});
        results.comments = std::move(tally.comments);
        auto result = commit(room, CloseAudit{member_id, tally.responses, std::move(results)});
        if (auto* error = std::get_if<Error>(&result)) return send_error(*c, id, error->code, error->message);
        log.prompts().forget_audit(room.state.id, audit.id);
      }
    } catch (const std::exception&) {
      return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
    }
    c->send(make_frame(protocol::encode_reply(id, nlohmann::json::object())));
  }

  void handle_prompt(const std::shared_ptr<Connection>& c, const std::string& id, const protocol::PromptCommand& command) {
    auto joined = joined_member(c, id);
    if (!joined) return;
    RoomEntry& room = *joined->first;
    const std::string member_id = joined->second;
    using Kind = protocol::PromptCommand::Kind;
    const auto action = command.kind == Kind::submit ? PromptAction::submit : PromptAction::manage;
    auto allowed = decide(room.state, CheckPrompt{member_id, action}, options.now_ms());
    if (auto* error = std::get_if<Error>(&allowed)) return send_error(*c, id, error->code, error->message);
    try {
      switch (command.kind) {
      case Kind::submit: {
        if (over_rate_limit(room.state.id, member_id)) {
          return send_error(*c, id, ErrorCode::rate_limited, "at most 5 prompts a minute; try again shortly");
        }
        log.prompts().add(room.state.id, PendingPrompt{random_prompt_id(), command.text, false});
        c->send(make_frame(protocol::encode_reply(id, nlohmann::json::object()))); // to the author only
        pending_changed(room);
        std::size_t waiting = 0;
        for (const auto& p : log.prompts().pending(room.state.id)) waiting += p.held ? 0 : 1;
        if (waiting >= auto_release_at) (void)release(room, {}, "");
        return;
      }
      case Kind::release:
        if (auto error = release(room, command.prompts, member_id)) return send_error(*c, id, error->code, error->message);
        break;
      case Kind::hold:
      case Kind::discard: {
        const bool found = command.kind == Kind::hold ? log.prompts().hold(room.state.id, command.prompt)
                                                      : log.prompts().discard(room.state.id, command.prompt);
        if (!found) return send_error(*c, id, ErrorCode::unknown_prompt, "no pending prompt with that id");
        pending_changed(room);
        break;
      }
      }
    } catch (const std::exception&) {
      return send_error(*c, id, ErrorCode::unavailable, "the room's storage cannot be reached; try again");
    }
    c->send(make_frame(protocol::encode_reply(id, nlohmann::json::object())));
  }

  // ---- timers: expiry is a command like any other, submitted when a deadline passes

  std::mutex ticker_mutex;
  std::condition_variable ticker_wake;
  std::map<std::string, std::int64_t> deadlines; // room -> earliest running timer's ends_at
  bool ticker_stopping = false;
  std::thread ticker;

  void schedule(const RoomEntry& room) {
    const auto next = next_deadline(room.state);
    std::lock_guard lock(ticker_mutex);
    if (next) {
      deadlines[room.state.id] = next->ends_at_ms;
    } else {
      deadlines.erase(room.state.id);
    }
    ticker_wake.notify_one();
  }

  void unschedule(const std::string& room_id) {
    std::lock_guard lock(ticker_mutex);
    deadlines.erase(room_id);
  }

  void ticker_loop() {
    std::unique_lock lock(ticker_mutex);
    while (!ticker_stopping) {
      std::int64_t earliest = INT64_MAX;
      for (const auto& [room, at] : deadlines) earliest = std::min(earliest, at);
      const std::int64_t now = options.now_ms();
      if (earliest > now) {
        const auto wait = std::chrono::milliseconds(std::min<std::int64_t>(earliest - now, 1000));
        ticker_wake.wait_for(lock, wait);
        continue;
      }
      lock.unlock();
      fire_due();
      lock.lock();
    }
  }

  // Submits Expire for every room whose timer is due. Called by the ticker thread (and tests).
  void fire_due() {
    std::vector<std::string> due;
    {
      std::lock_guard lock(ticker_mutex);
      const std::int64_t now = options.now_ms();
      for (const auto& [room, at] : deadlines) {
        if (at <= now) due.push_back(room);
      }
    }
    std::lock_guard lock(mutex);
    for (const auto& room_id : due) {
      auto it = rooms.find(room_id);
      if (it == rooms.end()) {
        unschedule(room_id);
        continue;
      }
      RoomEntry& room = it->second;
      for (int guard = 0; guard < 4; ++guard) {
        const auto next = next_deadline(room.state);
        if (!next || next->ends_at_ms > options.now_ms()) break;
        const auto before = room.state.seq;
        auto result = commit(room, Expire{next->timer, next->ends_at_ms});
        if (next->timer == TimerId::phase && std::holds_alternative<Decision>(result) && room.state.seq != before) {
          (void)release(room, {}, ""); // prompts pending at the phase's end reach the group
        }
        if (std::holds_alternative<Error>(result)) {
          // Storage unreachable: try again shortly rather than spin.
          std::lock_guard tl(ticker_mutex);
          deadlines[room_id] = options.now_ms() + 250;
          break;
        }
        if (room.state.seq == before) break; // someone else's expiry landed first, or nothing to do
      }
      if (rooms.contains(room_id)) schedule(rooms.at(room_id));
    }
  }

  // Detaches the connection from its member; if it was the member's live connection, records
  // `command` (leave or connection lost). Caller holds the mutex.
  std::variant<Decision, Error> detach(const Connection* c, bool leaving) {
    auto it = connections.find(c);
    if (it == connections.end() || it->second.room_id.empty()) return Error{ErrorCode::not_joined, "you have not joined a room"};
    ConnectionInfo info = it->second;
    it->second.room_id.clear();
    it->second.member_id.clear();
    auto room_it = rooms.find(info.room_id);
    if (room_it == rooms.end()) return Error{ErrorCode::not_joined, "you have not joined a room"};
    RoomEntry& room = room_it->second;
    auto attached = room.attached.find(info.member_id);
    if (attached == room.attached.end() || attached->second.get() != c) return Decision{};
    room.attached.erase(attached);
    auto result = leaving ? commit(room, Leave{info.member_id}) : commit(room, LoseConnection{info.member_id});
    release_if_unused(info.room_id);
    return result;
  }
};

RoomHub::RoomHub(HubOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
RoomHub::~RoomHub() = default;

std::variant<CreatedRoom, HubError> RoomHub::create_room(std::string_view title) {
  auto cleaned = clean_display_text(title, max_title_chars);
  if (!cleaned) {
    return HubError{ErrorCode::invalid_title, "title must be 1 to 120 characters, without control characters"};
  }
  CreatedRoom created{impl_->random_room_id(), *cleaned, impl_->random_secret(), impl_->random_secret()};
  std::lock_guard lock(impl_->mutex);
  if (impl_->rooms.size() >= impl_->options.max_rooms) {
    return HubError{ErrorCode::server_full, "this server holds its maximum number of rooms"};
  }
  if (impl_->rooms.contains(created.room_id)) return HubError{ErrorCode::internal, "room id collision; try again"};
  RoomEntry& room = impl_->rooms[created.room_id];
  room.state.id = created.room_id;
  auto result = impl_->commit(room, CreateRoom{created.title, secret_hash(created.facilitator_key), secret_hash(created.join_code)});
  if (auto* error = std::get_if<Error>(&result)) {
    impl_->rooms.erase(created.room_id);
    return HubError{error->code, std::string(error->message)};
  }
  logger::info("room " + created.room_id + " created");
  impl_->release_if_unused(created.room_id); // shared log: whichever instance the members reach loads it
  return created;
}

void RoomHub::on_open(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->connections[connection.get()].connection = connection;
  }
  connection->send(make_frame(protocol::encode_welcome(impl_->options.server_name, impl_->options.now_ms(),
                                                       impl_->options.max_frame_bytes)));
}

void RoomHub::on_text(const std::shared_ptr<Connection>& connection, std::string_view frame) {
  auto decoded = protocol::decode_command(frame);
  if (auto* error = std::get_if<protocol::DecodeError>(&decoded)) {
    return impl_->send_error(*connection, error->id, error->code, error->message);
  }
  auto& [id, command] = std::get<protocol::DecodedCommand>(decoded);
  std::lock_guard lock(impl_->mutex);
  if (!impl_->connections.contains(connection.get())) return; // replaced or closing
  if (auto* join = std::get_if<protocol::JoinCommand>(&command)) return impl_->handle_join(connection, id, *join);
  if (std::holds_alternative<protocol::PingCommand>(command)) {
    connection->send(make_frame(protocol::encode_reply(id, {{"server_time", impl_->options.now_ms()}})));
    return;
  }
  if (auto* room_command = std::get_if<protocol::RoomCommand>(&command)) {
    return impl_->handle_room_command(connection, id, *room_command);
  }
  if (auto* prompt = std::get_if<protocol::PromptCommand>(&command)) return impl_->handle_prompt(connection, id, *prompt);
  if (auto* audit = std::get_if<protocol::AuditCommand>(&command)) return impl_->handle_audit(connection, id, *audit);
  if (std::holds_alternative<protocol::EphemeralCommand>(command)) {
    // The ephemeral channel (1.4) is declared and decoded; serving it comes with the hub's rework.
    return impl_->send_error(*connection, id, ErrorCode::unsupported, "this server does not serve the ephemeral channel yet");
  }
  auto result = impl_->detach(connection.get(), /*leaving=*/true);
  if (auto* error = std::get_if<Error>(&result)) return impl_->send_error(*connection, id, error->code, error->message);
  connection->send(make_frame(protocol::encode_reply(id, nlohmann::json::object())));
}

void RoomHub::on_binary(const std::shared_ptr<Connection>& connection) {
  impl_->send_error(*connection, std::nullopt, ErrorCode::bad_frame, "binary frames are not supported; send JSON text");
}

void RoomHub::on_close(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(impl_->mutex);
  (void)impl_->detach(connection.get(), /*leaving=*/false);
  impl_->connections.erase(connection.get());
}

Readiness RoomHub::readiness() const {
  if (impl_->draining.load()) return Readiness::draining;
  return impl_->log.healthy() ? Readiness::ready : Readiness::storage_unavailable;
}

void RoomHub::shutdown() {
  impl_->draining = true;
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [raw, info] : impl_->connections) {
      if (auto connection = info.connection.lock()) open.push_back(std::move(connection));
    }
  }
  for (auto& connection : open) connection->close(1001, "server_shutdown");
}

void RoomHub::fire_due_timers() { impl_->fire_due(); }

const HubRestore& RoomHub::restored() const { return impl_->restore_stats; }

HubStats RoomHub::stats() const {
  std::lock_guard lock(impl_->mutex);
  return HubStats{impl_->rooms.size(), impl_->connections.size()};
}

} // namespace colloquy
