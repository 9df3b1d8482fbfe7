// Load generator of the Colloquy benchmark (see tests/load/README.md). Not part of the product.
//
// Many WebSocket clients in one thread: epoll, non-blocking loopback sockets and a minimal RFC 6455
// client (masked frames, fragments, ping/pong, close). It speaks Colloquy's protocol (HTTP
// `POST /api/rooms`, `/ws`, `join` with the join code or the resume token and `after`,
// `hand_raise`/`hand_lower`) or Socket.IO's (Engine.IO v4 over WebSocket only: open packet, "40",
// "42[...]" events with acks, pings "2" answered "3") against tests/load/peers/socketio.
//
// Each command yields exactly one event to every member of its room, the sender included. A
// member's events reach every recipient in the order the member sent its commands, so the k-th
// hand event of member m that a recipient sees is m's k-th accepted command: its latency is the
// time the recipient read it minus the time that command was written. A reply or error is a
// separate frame on the sender's connection and is never taken for the event.
//
// One JSON object per result on stdout; progress on stderr. Exit status 0, or 2 when the setup
// failed (the message says why). CPU of the server processes (--pids) and of other processes
// (--aux-pids, e.g. redis-server) is read from /proc over the measured window; the generator's
// own CPU is reported apart and a warning is printed when it nears a full core.
//
// Build: g++ -std=c++20 -O2 -o loadgen loadgen.cpp   (tests/load/bench.sh does it)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using i64 = std::int64_t;
using u64 = std::uint64_t;
using std::string;
using std::string_view;

[[noreturn]] void fatal(const string& what) {
  std::fprintf(stderr, "loadgen: %s\n", what.c_str());
  std::exit(2);
}

void note(const string& what) { std::fprintf(stderr, "loadgen: %s\n", what.c_str()); }

i64 now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return i64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---------------------------------------------------------------- /proc
double proc_cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  string text((std::istreambuf_iterator<char>(f)), {});
  const auto close = text.rfind(')');
  if (close == string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  string field;
  u64 utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double cpu_seconds(const std::vector<int>& pids) {
  double sum = 0;
  for (int pid : pids) sum += proc_cpu_seconds(pid);
  return sum;
}

long proc_rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

long rss_kib(const std::vector<int>& pids) {
  long sum = 0;
  for (int pid : pids) sum += proc_rss_kib(pid);
  return sum;
}

// Busy CPU seconds of the whole machine (every process, all cores), from /proc/stat.
double machine_busy_seconds() {
  std::ifstream f("/proc/stat");
  string cpu;
  u64 user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return double(user + nice + system + irq + softirq + steal) / double(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ---------------------------------------------------------------- a JSON reader for known shapes
// Walks the text without building anything: finds a member of an object, an element of an array,
// and reads strings (without unescaping: the values read here never hold escapes) and integers.
std::size_t skip_ws(string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

std::size_t skip_string(string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return string_view::npos;
}

std::size_t skip_value(string_view s, std::size_t i) {
  i = skip_ws(s, i);
  if (i >= s.size()) return string_view::npos;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char ch = s[i];
      if (ch == '"') {
        i = skip_string(s, i);
        if (i == string_view::npos) return i;
        continue;
      }
      if (ch == '{' || ch == '[') ++depth;
      if ((ch == '}' || ch == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return string_view::npos;
  }
  while (i < s.size() && !std::strchr(",}] \t\r\n", s[i])) ++i;
  return i;
}

// Calls f(key, raw value) for each member of the object `obj`; false when it is not one.
template <typename F>
bool for_members(string_view obj, F&& f) {
  std::size_t i = skip_ws(obj, 0);
  if (i >= obj.size() || obj[i] != '{') return false;
  i = skip_ws(obj, i + 1);
  if (i < obj.size() && obj[i] == '}') return true;
  while (i < obj.size()) {
    if (obj[i] != '"') return false;
    const std::size_t key_end = skip_string(obj, i);
    if (key_end == string_view::npos) return false;
    const string_view key = obj.substr(i + 1, key_end - i - 2);
    i = skip_ws(obj, key_end);
    if (i >= obj.size() || obj[i] != ':') return false;
    const std::size_t start = skip_ws(obj, i + 1);
    const std::size_t end = skip_value(obj, start);
    if (end == string_view::npos) return false;
    f(key, obj.substr(start, end - start));
    i = skip_ws(obj, end);
    if (i < obj.size() && obj[i] == ',') {
      i = skip_ws(obj, i + 1);
      continue;
    }
    return i < obj.size() && obj[i] == '}';
  }
  return false;
}

string_view get(string_view obj, string_view key) {
  string_view out;
  for_members(obj, [&](string_view k, string_view v) {
    if (out.empty() && k == key) out = v;
  });
  return out;
}

string_view element(string_view arr, std::size_t n) {
  std::size_t i = skip_ws(arr, 0);
  if (i >= arr.size() || arr[i] != '[') return {};
  ++i;
  for (std::size_t k = 0;; ++k) {
    const std::size_t start = skip_ws(arr, i);
    if (start >= arr.size() || arr[start] == ']') return {};
    const std::size_t end = skip_value(arr, start);
    if (end == string_view::npos) return {};
    if (k == n) return arr.substr(start, end - start);
    i = skip_ws(arr, end);
    if (i >= arr.size() || arr[i] != ',') return {};
    ++i;
  }
}

string_view str_of(string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return {};
}

std::optional<i64> int_of(string_view v) {
  i64 out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------- options
enum class Proto { colloquy, socketio };
enum class Mode { fanout, knee, idle, resume };

struct Target {
  string host;
  std::uint16_t port = 0;
  sockaddr_in addr{};
};

struct Options {
  Proto proto = Proto::colloquy;
  Mode mode = Mode::fanout;
  std::vector<Target> targets;
  bool spread_members = false; // several targets: members of a room alternate (else rooms do)
  int rooms = 10;
  int members = 5;
  double rate = 100;       // commands a second, all rooms together
  double seconds = 5;      // measured window (idle: how long the connections stay idle)
  double warmup = 1;       // at the rate, before the window
  double drain = 15;       // most seconds to wait for every event after the window
  double factor = 1.5;     // knee: the next rate while p99 holds
  double p99_limit_ms = 50; // knee: the latency the rate may not push p99 past
  int max_steps = 12;      // knee: coarse steps at most
  int refine = 2;          // knee: bisections between the last good and the first bad rate
  int window = 256;        // connection handshakes (TCP + WebSocket + join) in flight at once
  int max_inflight = 1000; // commands a member may have unanswered before the next is skipped
  double setup_timeout = 180;
  std::vector<int> pids;     // server processes: CPU and RSS
  std::vector<int> aux_pids; // other processes (redis-server): CPU reported apart
  string label;
  std::optional<bool> seq_check; // default: Colloquy always; Socket.IO with one instance
};

std::vector<int> parse_pids(string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const string_view part = text.substr(0, comma);
    if (!part.empty()) out.push_back(std::atoi(string(part).c_str()));
    if (comma == string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const string_view flag = argv[i];
    if (flag == "--help") {
      std::puts("loadgen --proto colloquy|socketio --target HOST:PORT[,HOST:PORT] --mode fanout|knee|idle|resume\n"
                "  --rooms N --members M --rate CMDS_PER_S --seconds S --warmup S --drain S\n"
                "  --factor F --p99-limit MS --max-steps N --refine N      (knee)\n"
                "  --spread rooms|members --window N --max-inflight N --setup-timeout S\n"
                "  --pids P,P (server) --aux-pids P,P (e.g. redis) --label TEXT --seq-check on|off");
      std::exit(0);
    }
    if (i + 1 >= argc) fatal("option " + string(flag) + " needs a value");
    const string value = argv[++i];
    const double number = std::atof(value.c_str());
    if (flag == "--proto") {
      if (value == "colloquy") o.proto = Proto::colloquy;
      else if (value == "socketio") o.proto = Proto::socketio;
      else fatal("--proto colloquy or socketio");
    } else if (flag == "--mode") {
      if (value == "fanout") o.mode = Mode::fanout;
      else if (value == "knee") o.mode = Mode::knee;
      else if (value == "idle") o.mode = Mode::idle;
      else if (value == "resume") o.mode = Mode::resume;
      else fatal("--mode fanout, knee, idle or resume");
    } else if (flag == "--target") {
      string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const string one(rest.substr(0, comma));
        const auto colon = one.rfind(':');
        if (colon == string::npos) fatal("--target HOST:PORT");
        Target t;
        t.host = one.substr(0, colon);
        t.port = std::uint16_t(std::atoi(one.c_str() + colon + 1));
        if (t.host != "127.0.0.1") fatal("--target: loopback only (127.0.0.1)");
        if (t.port == 0) fatal("--target " + one + ": no port");
        t.addr.sin_family = AF_INET;
        t.addr.sin_port = htons(t.port);
        inet_pton(AF_INET, t.host.c_str(), &t.addr.sin_addr);
        o.targets.push_back(t);
        if (comma == string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (flag == "--spread") o.spread_members = value == "members";
    else if (flag == "--rooms") o.rooms = std::max(1, int(number));
    else if (flag == "--members") o.members = std::max(1, int(number));
    else if (flag == "--rate") o.rate = number;
    else if (flag == "--seconds") o.seconds = number;
    else if (flag == "--warmup") o.warmup = number;
    else if (flag == "--drain") o.drain = number;
    else if (flag == "--factor") o.factor = number;
    else if (flag == "--p99-limit") o.p99_limit_ms = number;
    else if (flag == "--max-steps") o.max_steps = int(number);
    else if (flag == "--refine") o.refine = int(number);
    else if (flag == "--window") o.window = std::max(1, int(number));
    else if (flag == "--max-inflight") o.max_inflight = std::max(1, int(number));
    else if (flag == "--setup-timeout") o.setup_timeout = number;
    else if (flag == "--pids") o.pids = parse_pids(value);
    else if (flag == "--aux-pids") o.aux_pids = parse_pids(value);
    else if (flag == "--label") o.label = value;
    else if (flag == "--seq-check") o.seq_check = value == "on";
    else fatal("unknown option " + string(flag) + " (see --help)");
  }
  if (o.targets.empty()) fatal("--target HOST:PORT is required");
  if (!o.seq_check) o.seq_check = o.proto == Proto::colloquy || o.targets.size() == 1;
  return o;
}

// ---------------------------------------------------------------- state
enum class State { idle, connecting, upgrading, ws_open, sio_connecting, joining, joined, closed };
enum class Pending : std::uint8_t { join, hand };

struct Command {
  u64 id;
  Pending kind;
  i64 sent_ns;
};

struct Conn {
  int fd = -1;
  State state = State::idle;
  int room = 0;
  int slot = 0; // index within the room
  int target = 0;
  int connect_failures = 0;
  string in;  // bytes read but not yet a whole frame
  string msg; // a fragmented message being assembled
  string out; // bytes not yet written
  bool want_out = false;
  // The member, kept across reconnects.
  string member_id;
  string token;
  i64 last_seq = -1;
  bool raised = false; // the state the next command assumes
  bool resuming = false;
  u64 next_id = 1;
  std::deque<Command> pending;
  u64 successes = 0;         // accepted hand commands
  std::vector<i64> ok_sent;  // when the k-th accepted hand command was written
  i64 replay_left = 0;       // Colloquy resume: replayed events still to come
  i64 join_sent_ns = 0;
  i64 back_ns = 0;     // join reply
  i64 caught_up_ns = 0; // join reply and every replayed event
};

struct Room {
  string id;
  string code;
  int first = 0; // index of its first connection
  int n = 0;
  std::vector<string> ids;      // member id of each slot
  std::vector<std::uint32_t> seen; // [recipient * n + sender]: hand events seen
  int slot_of(string_view member) const {
    for (int j = 0; j < n; ++j) {
      if (ids[j] == member) return j;
    }
    return -1;
  }
};

struct Delivery {
  std::uint32_t sender; // connection index
  std::uint32_t k;      // the sender's k-th hand event
  i64 recv_ns;
  std::uint8_t same_target; // 1 same instance, 0 other instance, 2 the sender itself
};

struct Counters {
  u64 frames_in = 0;
  u64 bytes_in = 0;
  u64 events_in = 0;
  u64 hand_events = 0;
  u64 hand_event_bytes = 0;
  u64 seq_gaps = 0;
  u64 seq_dups = 0;
  u64 order_violations = 0;
  u64 unknown_sender = 0;
  u64 errors = 0;
  u64 closes = 0;
  u64 skipped = 0; // commands not sent: the member had max_inflight unanswered
  u64 commands = 0;
  string first_error;
  string first_violation;
};

Options opt;
std::vector<Conn> conns;
std::vector<Room> rooms;
Counters ctr;
int epfd = -1;
int joined_count = 0;
int handshakes = 0; // in flight
std::deque<int> connect_queue;
std::vector<Delivery> deliveries;
bool recording = false;
i64 window_from = 0, window_to = 0; // commands sent in [from, to) are measured
u64 window_errors = 0;              // measured commands refused (they yield no event)
i64 last_frame_ns = 0;
std::uint32_t rng_state = 0x9e3779b9u;

std::uint32_t rng() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

// ---------------------------------------------------------------- sockets and frames
void update_epoll(int ci) {
  Conn& c = conns[ci];
  epoll_event ev{};
  ev.events = EPOLLIN | (c.want_out ? EPOLLOUT : 0u);
  ev.data.u32 = std::uint32_t(ci);
  epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
}

void mark_closed(int ci);

void flush(int ci) {
  Conn& c = conns[ci];
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, std::size_t(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    mark_closed(ci);
    return;
  }
  const bool want = !c.out.empty();
  if (want != c.want_out) {
    c.want_out = want;
    update_epoll(ci);
  }
}

void append_frame(string& out, std::uint8_t opcode, string_view payload) {
  out.push_back(char(0x80 | opcode));
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(char(0x80 | n));
  } else if (n < 65536) {
    out.push_back(char(0x80 | 126));
    out.push_back(char(n >> 8));
    out.push_back(char(n & 0xff));
  } else {
    out.push_back(char(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((u64(n) >> shift) & 0xff));
  }
  const std::uint32_t key = rng();
  char mask[4];
  std::memcpy(mask, &key, 4);
  out.append(mask, 4);
  const std::size_t base = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i) out[base + i] = char(out[base + i] ^ mask[i & 3]);
}

void send_text(int ci, string_view payload) {
  Conn& c = conns[ci];
  append_frame(c.out, 0x1, payload);
  if (!c.want_out) flush(ci);
}

void close_fd(Conn& c, bool reset) {
  if (c.fd < 0) return;
  if (reset) {
    linger l{1, 0}; // RST: dropped, not closed; and no TIME_WAIT left behind
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
}

void release_handshake(Conn& c) {
  if (c.state == State::connecting || c.state == State::upgrading || c.state == State::ws_open ||
      c.state == State::sio_connecting || c.state == State::joining) {
    --handshakes;
  }
}

void mark_closed(int ci) {
  Conn& c = conns[ci];
  if (c.state == State::closed) return;
  release_handshake(c);
  if (c.state == State::joined) --joined_count;
  ++ctr.closes;
  c.state = State::closed;
  close_fd(c, false);
}

void start_connect(int ci) {
  Conn& c = conns[ci];
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    fatal(string("socket: ") + std::strerror(errno) +
          (errno == EMFILE ? " (raise the open-file limit: ulimit -n)" : ""));
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const Target& t = opt.targets[std::size_t(c.target)];
  const int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr);
  if (r < 0 && errno != EINPROGRESS) fatal(string("connect: ") + std::strerror(errno));
  c.state = State::connecting;
  c.in.clear();
  c.msg.clear();
  c.out.clear();
  c.pending.clear();
  c.want_out = true;
  c.next_id = 1;
  ++handshakes;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = std::uint32_t(ci);
  epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev);
}

void start_queued_connects() {
  while (handshakes < opt.window && !connect_queue.empty()) {
    const int ci = connect_queue.front();
    connect_queue.pop_front();
    start_connect(ci);
  }
}

void on_connected(int ci) {
  Conn& c = conns[ci];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    // Refused or reset during the handshake (a full accept queue): try again, a few times.
    close_fd(c, true);
    --handshakes;
    c.state = State::idle;
    if (++c.connect_failures > 20) fatal(string("connect failed 20 times: ") + std::strerror(err));
    connect_queue.push_back(ci);
    return;
  }
  const Target& t = opt.targets[std::size_t(c.target)];
  const char* path = opt.proto == Proto::colloquy ? "/ws" : "/socket.io/?EIO=4&transport=websocket";
  char key[25];
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 21; ++i) key[i] = b64[rng() % 64];
  key[21] = 'A';
  key[22] = '=';
  key[23] = '=';
  key[24] = 0;
  c.out = "GET " + string(path) + " HTTP/1.1\r\nHost: " + t.host + ":" + std::to_string(t.port) +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
          "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  c.state = State::upgrading;
  c.want_out = true; // flush() turns EPOLLOUT off when done
  flush(ci);
}

// ---------------------------------------------------------------- protocol
string quoted(string_view s) { return "\"" + string(s) + "\""; }

void send_join(int ci, i64 now) {
  Conn& c = conns[ci];
  const Room& r = rooms[std::size_t(c.room)];
  const u64 id = c.next_id++;
  string frame;
  if (opt.proto == Proto::colloquy) {
    frame = "{\"type\":\"join\",\"id\":\"" + std::to_string(id) + "\",\"room\":" + quoted(r.id);
    if (c.resuming) frame += ",\"resume\":" + quoted(c.token) + ",\"after\":" + std::to_string(c.last_seq) + "}";
    else frame += ",\"code\":" + quoted(r.code) + ",\"name\":\"P" + std::to_string(c.slot) + "\"}";
  } else {
    frame = "42" + std::to_string(id) + "[\"join\",{\"room\":" + quoted(r.id);
    if (c.resuming) frame += ",\"member\":" + quoted(c.member_id) + "}]";
    else frame += ",\"name\":\"P" + std::to_string(c.slot) + "\"}]";
  }
  c.pending.push_back({id, Pending::join, now});
  c.join_sent_ns = now;
  c.state = State::joining;
  send_text(ci, frame);
}

void send_hand(int ci, i64 now) {
  Conn& c = conns[ci];
  const bool raise = !c.raised;
  c.raised = raise;
  const u64 id = c.next_id++;
  const char* type = raise ? "hand_raise" : "hand_lower";
  char frame[96];
  int n = 0;
  if (opt.proto == Proto::colloquy) n = std::snprintf(frame, sizeof frame, "{\"type\":\"%s\",\"id\":\"%llu\"}", type, (unsigned long long)id);
  else n = std::snprintf(frame, sizeof frame, "42%llu[\"%s\",{}]", (unsigned long long)id, type);
  c.pending.push_back({id, Pending::hand, now});
  ++ctr.commands;
  send_text(ci, string_view(frame, std::size_t(n)));
}

void violation(const string& what) {
  if (ctr.first_violation.empty()) ctr.first_violation = what;
}

void on_event(int ci, std::optional<i64> seq, string_view kind, string_view member, std::size_t bytes, i64 now) {
  Conn& c = conns[ci];
  if (c.state != State::joined) return; // the joiner's own join event (Socket.IO) comes before its ack
  ++ctr.events_in;
  if (seq && *opt.seq_check) {
    if (c.last_seq >= 0 && *seq != c.last_seq + 1) {
      if (*seq <= c.last_seq) ++ctr.seq_dups;
      else ++ctr.seq_gaps;
      violation("connection " + std::to_string(ci) + ": seq " + std::to_string(*seq) + " after " + std::to_string(c.last_seq));
    }
    if (*seq > c.last_seq) c.last_seq = *seq;
  } else if (seq && *seq > c.last_seq) {
    c.last_seq = *seq;
  }
  if (c.replay_left > 0 && --c.replay_left == 0) c.caught_up_ns = now;
  const bool raised = kind == "hand_raised";
  if (!raised && kind != "hand_lowered") return;
  ++ctr.hand_events;
  ctr.hand_event_bytes += bytes;
  Room& r = rooms[std::size_t(c.room)];
  const int j = r.slot_of(member);
  if (j < 0) {
    ++ctr.unknown_sender;
    return;
  }
  std::uint32_t& k = r.seen[std::size_t(c.slot * r.n + j)];
  // A member's accepted commands alternate raise, lower, raise…: its k-th event is known.
  if (((k & 1u) == 0) != raised) {
    ++ctr.order_violations;
    violation("connection " + std::to_string(ci) + ": " + string(kind) + " of " + string(member) + " as its event " + std::to_string(k));
  }
  if (recording) {
    const int sender = r.first + j;
    const std::uint8_t same = sender == ci ? 2 : conns[std::size_t(sender)].target == c.target ? 1 : 0;
    deliveries.push_back({std::uint32_t(sender), k, now, same});
  }
  ++k;
}

void on_joined(int ci, string_view member_id, string_view token, std::optional<i64> seq, i64 now) {
  Conn& c = conns[ci];
  Room& r = rooms[std::size_t(c.room)];
  if (!member_id.empty()) c.member_id = member_id;
  if (!token.empty()) c.token = token;
  if (seq) c.last_seq = *seq;
  r.ids[std::size_t(c.slot)] = c.member_id;
  c.state = State::joined;
  c.back_ns = now;
  if (c.replay_left == 0) c.caught_up_ns = now;
  c.resuming = false;
  --handshakes;
  ++joined_count;
}

// A reply (ok) or an error (code) for the command `id`.
void on_response(int ci, u64 id, bool ok, string_view code, string_view result, i64 now) {
  Conn& c = conns[ci];
  auto it = std::find_if(c.pending.begin(), c.pending.end(), [&](const Command& p) { return p.id == id; });
  if (it == c.pending.end()) return;
  const Command cmd = *it;
  c.pending.erase(it);
  if (!ok) {
    ++ctr.errors;
    if (cmd.kind == Pending::hand && cmd.sent_ns >= window_from && cmd.sent_ns < window_to) ++window_errors;
    if (ctr.first_error.empty()) ctr.first_error = string(code);
    if (code == "hand_already_raised") c.raised = true;
    if (code == "hand_not_raised") c.raised = false;
    if (cmd.kind == Pending::join) fatal("join refused: " + string(code));
    return;
  }
  if (cmd.kind == Pending::hand) {
    ++c.successes;
    c.ok_sent.push_back(cmd.sent_ns);
    return;
  }
  // The join's result.
  if (opt.proto == Proto::colloquy) {
    const string_view member = get(get(result, "member"), "id");
    const string_view token = str_of(get(result, "resume_token"));
    std::optional<i64> seq;
    const string_view replay = get(result, "replay");
    if (!replay.empty()) {
      c.replay_left = int_of(get(replay, "events")).value_or(0);
      seq = int_of(get(replay, "after"));
    } else {
      c.replay_left = 0;
      seq = int_of(get(get(result, "snapshot"), "seq"));
    }
    on_joined(ci, str_of(member), token, seq, now);
  } else {
    on_joined(ci, str_of(get(result, "member")), {}, int_of(get(result, "seq")), now);
  }
}

void on_colloquy_message(int ci, string_view text, i64 now) {
  Conn& c = conns[ci];
  string_view type, id, code, result, event, seq;
  for_members(text, [&](string_view k, string_view v) {
    if (k == "type") type = str_of(v);
    else if (k == "id") id = str_of(v);
    else if (k == "code") code = str_of(v);
    else if (k == "result") result = v;
    else if (k == "event") event = v;
    else if (k == "seq") seq = v;
  });
  if (type == "event") {
    string_view kind, member;
    for_members(event, [&](string_view k, string_view v) {
      if (k == "kind") kind = str_of(v);
      else if (k == "member_id") member = str_of(v);
    });
    on_event(ci, int_of(seq), kind, member, text.size(), now);
  } else if (type == "reply" || type == "error") {
    const auto n = int_of(id);
    if (n) on_response(ci, u64(*n), type == "reply", code, result, now);
    else if (type == "error") {
      ++ctr.errors;
      if (ctr.first_error.empty()) ctr.first_error = string(code);
    }
  } else if (type == "welcome" && c.state == State::ws_open) {
    send_join(ci, now);
  }
}

void on_socketio_message(int ci, string_view text, i64 now) {
  Conn& c = conns[ci];
  if (text.empty()) return;
  switch (text[0]) {
  case '0': // Engine.IO open
    c.state = State::sio_connecting;
    send_text(ci, "40");
    return;
  case '2': send_text(ci, "3"); return; // ping
  case '4': break;
  default: return;
  }
  if (text.size() < 2) return;
  const char type = text[1];
  if (type == '0') {
    if (c.state == State::sio_connecting) send_join(ci, now);
  } else if (type == '4') {
    fatal("Socket.IO refused the namespace: " + string(text));
  } else if (type == '2') {
    const string_view body = text.substr(2);
    if (str_of(element(body, 0)) != "event") return;
    const string_view payload = element(body, 1);
    string_view event, seq;
    for_members(payload, [&](string_view k, string_view v) {
      if (k == "event") event = v;
      else if (k == "seq") seq = v;
    });
    string_view kind, member;
    for_members(event, [&](string_view k, string_view v) {
      if (k == "kind") kind = str_of(v);
      else if (k == "member_id") member = str_of(v);
    });
    on_event(ci, int_of(seq), kind, member, text.size(), now);
  } else if (type == '3') {
    std::size_t i = 2;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const auto id = int_of(text.substr(2, i - 2));
    if (!id) return;
    const string_view result = element(text.substr(i), 0);
    const string_view error = str_of(get(result, "error"));
    on_response(ci, u64(*id), error.empty(), error, result, now);
  }
}

void on_message(int ci, string_view text, i64 now) {
  ++ctr.frames_in;
  last_frame_ns = now;
  if (opt.proto == Proto::colloquy) on_colloquy_message(ci, text, now);
  else on_socketio_message(ci, text, now);
}

// Parses whole frames from `data`; returns the bytes used.
std::size_t parse_frames(int ci, string_view data, i64 now) {
  std::size_t used = 0;
  while (conns[std::size_t(ci)].state != State::closed) {
    const string_view rest = data.substr(used);
    if (rest.size() < 2) break;
    const auto b0 = std::uint8_t(rest[0]);
    const auto b1 = std::uint8_t(rest[1]);
    std::size_t header = 2;
    u64 len = b1 & 0x7f;
    if (len == 126) {
      if (rest.size() < 4) break;
      len = (u64(std::uint8_t(rest[2])) << 8) | std::uint8_t(rest[3]);
      header = 4;
    } else if (len == 127) {
      if (rest.size() < 10) break;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | std::uint8_t(rest[std::size_t(i)]);
      header = 10;
    }
    const bool masked = (b1 & 0x80) != 0;
    if (masked) header += 4;
    if (rest.size() < header + len) break;
    string payload_copy;
    string_view payload = rest.substr(header, len);
    if (masked) {
      payload_copy.assign(payload);
      for (std::size_t i = 0; i < payload_copy.size(); ++i) payload_copy[i] = char(payload_copy[i] ^ rest[header - 4 + (i & 3)]);
      payload = payload_copy;
    }
    used += header + len;
    ctr.bytes_in += header + len;
    const bool fin = (b0 & 0x80) != 0;
    const int opcode = b0 & 0x0f;
    Conn& c = conns[std::size_t(ci)];
    if (opcode == 0x9) { // ping
      append_frame(c.out, 0xA, payload);
      if (!c.want_out) flush(ci);
    } else if (opcode == 0x8) { // close
      const int code = payload.size() >= 2 ? (std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]) : 1005;
      if (ctr.first_error.empty()) ctr.first_error = "closed by the server with " + std::to_string(code);
      mark_closed(ci);
    } else if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
      if (!fin || !c.msg.empty()) {
        c.msg.append(payload);
        if (fin) {
          const string whole = std::move(c.msg);
          c.msg.clear();
          on_message(ci, whole, now);
        }
      } else {
        on_message(ci, payload, now);
      }
    }
  }
  return used;
}

void on_upgrade_bytes(int ci, i64 now) {
  Conn& c = conns[std::size_t(ci)];
  const auto end = c.in.find("\r\n\r\n");
  if (end == string::npos) return;
  if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) fatal("WebSocket upgrade refused: " + c.in.substr(0, c.in.find('\r')));
  c.in.erase(0, end + 4);
  c.state = State::ws_open;
  if (!c.in.empty()) {
    const std::size_t used = parse_frames(ci, c.in, now);
    c.in.erase(0, used);
  }
}

char read_buffer[256 * 1024];

void on_readable(int ci) {
  for (;;) {
    Conn& c = conns[std::size_t(ci)];
    if (c.fd < 0) return;
    const ssize_t n = ::recv(c.fd, read_buffer, sizeof read_buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      mark_closed(ci);
      return;
    }
    const i64 now = now_ns();
    const string_view got(read_buffer, std::size_t(n));
    if (c.state == State::upgrading) {
      c.in.append(got);
      on_upgrade_bytes(ci, now);
    } else if (c.in.empty()) {
      const std::size_t used = parse_frames(ci, got, now);
      if (used < got.size() && conns[std::size_t(ci)].state != State::closed) conns[std::size_t(ci)].in.assign(got.substr(used));
    } else {
      c.in.append(got);
      const std::size_t used = parse_frames(ci, c.in, now);
      conns[std::size_t(ci)].in.erase(0, used);
    }
    if (std::size_t(n) < sizeof read_buffer) return;
  }
}

// ---------------------------------------------------------------- the loop
struct Sender {
  bool active = false;
  double rate = 0;
  i64 start = 0;
  u64 sent = 0;
  u64 cursor = 0; // round robin: command i goes to room i % rooms, member (i / rooms) % members
  i64 worst_lag_ns = 0;
};
Sender sender;

void send_due(i64 now) {
  if (!sender.active || sender.rate <= 0) return;
  const auto due = u64(double(now - sender.start) * sender.rate / 1e9);
  if (due > sender.sent + 1) {
    const i64 intended = sender.start + i64(double(sender.sent) * 1e9 / sender.rate);
    sender.worst_lag_ns = std::max(sender.worst_lag_ns, now - intended);
  }
  while (sender.sent < due) {
    const u64 i = sender.cursor++;
    ++sender.sent;
    const Room& r = rooms[std::size_t(i % rooms.size())];
    const int slot = int((i / rooms.size()) % u64(r.n));
    const int ci = r.first + slot;
    Conn& c = conns[std::size_t(ci)];
    if (c.state != State::joined || c.pending.size() >= std::size_t(opt.max_inflight)) {
      ++ctr.skipped;
      continue;
    }
    send_hand(ci, now);
  }
}

epoll_event events[1024];

void poll_once(int timeout_ms) {
  const int n = epoll_wait(epfd, events, 1024, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const int ci = int(events[i].data.u32);
    Conn& c = conns[std::size_t(ci)];
    if (c.fd < 0) continue;
    if (c.state == State::connecting) {
      if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(ci);
      continue;
    }
    if (events[i].events & EPOLLOUT) flush(ci);
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(ci);
  }
  start_queued_connects();
  send_due(now_ns());
}

// Runs the loop until `done()` or the deadline; true when done.
bool pump(i64 deadline, const std::function<bool()>& done) {
  for (;;) {
    if (done()) return true;
    const i64 now = now_ns();
    if (now >= deadline) return false;
    int timeout = sender.active ? 1 : int(std::min<i64>(20, (deadline - now) / 1'000'000 + 1));
    poll_once(timeout);
  }
}

void pump_for(double seconds) {
  pump(now_ns() + i64(seconds * 1e9), [] { return false; });
}

i64 secs(double s) { return i64(s * 1e9); }

// ---------------------------------------------------------------- setup
string http_post(const Target& t, const string& path, const string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fatal(string("socket: ") + std::strerror(errno));
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) < 0) fatal(string("connect: ") + std::strerror(errno));
  const string req = "POST " + path + " HTTP/1.1\r\nHost: " + t.host + ":" + std::to_string(t.port) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) fatal("HTTP request not sent");
  string response;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, std::size_t(n));
  }
  ::close(fd);
  return response;
}

void create_rooms() {
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    Room& r = rooms[i];
    if (opt.proto == Proto::socketio) {
      // As long as Colloquy's room ids (16 characters), so the frames are the same size.
      char id[32];
      std::snprintf(id, sizeof id, "room%012zu", i);
      r.id = id;
      continue;
    }
    const Target& t = opt.targets[opt.spread_members ? 0 : i % opt.targets.size()];
    const string response = http_post(t, "/api/rooms", "{\"title\":\"Bench " + std::to_string(i) + "\"}");
    const auto body_at = response.find("\r\n\r\n");
    if (response.compare(0, 12, "HTTP/1.1 201") != 0 || body_at == string::npos) {
      fatal("POST /api/rooms failed: " + response.substr(0, 200));
    }
    const string_view body = string_view(response).substr(body_at + 4);
    r.id = str_of(get(body, "room"));
    r.code = str_of(get(body, "join_code"));
    if (r.id.empty() || r.code.empty()) fatal("POST /api/rooms: no room or join_code in " + string(body.substr(0, 200)));
  }
}

void connect_all(const char* what) {
  const i64 start = now_ns();
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].state = State::idle;
    connect_queue.push_back(int(i));
  }
  const int total = int(conns.size());
  i64 next_report = start + secs(5);
  const bool ok = pump(start + secs(opt.setup_timeout), [&] {
    const i64 now = now_ns();
    if (now > next_report) {
      note(string(what) + ": " + std::to_string(joined_count) + " of " + std::to_string(total) + " joined");
      next_report = now + secs(5);
    }
    return joined_count == total;
  });
  if (!ok) fatal(string(what) + ": only " + std::to_string(joined_count) + " of " + std::to_string(total) + " joined within the setup timeout");
}

// No frame for `quiet` seconds (at most `limit`): the join events have all arrived.
void settle(double quiet = 0.5, double limit = 15) {
  const i64 end = now_ns() + secs(limit);
  last_frame_ns = now_ns();
  pump(end, [&] { return now_ns() - last_frame_ns > secs(quiet); });
}

// ---------------------------------------------------------------- results
struct Json {
  string text = "{";
  Json& add(const string& key, const string& value) {
    sep();
    text += "\"" + key + "\":\"";
    for (char ch : value) {
      if (ch == '"' || ch == '\\') text += '\\';
      if (u64(std::uint8_t(ch)) >= 0x20) text += ch;
    }
    text += "\"";
    return *this;
  }
  Json& add(const string& key, double value) {
    sep();
    char buf[64];
    if (std::isfinite(value)) std::snprintf(buf, sizeof buf, "%.6g", value);
    else std::snprintf(buf, sizeof buf, "null");
    text += "\"" + key + "\":" + buf;
    return *this;
  }
  void sep() {
    if (text.size() > 1) text += ",";
  }
  void print() {
    std::printf("%s}\n", text.c_str());
    std::fflush(stdout);
  }
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const auto i = std::size_t(std::min<double>(double(sorted.size() - 1), std::floor(p / 100.0 * double(sorted.size()))));
  return sorted[i];
}

u64 missing_deliveries() {
  u64 missing = 0;
  for (const Room& r : rooms) {
    for (int rcv = 0; rcv < r.n; ++rcv) {
      if (conns[std::size_t(r.first + rcv)].state != State::joined) continue;
      for (int s = 0; s < r.n; ++s) {
        const u64 expected = conns[std::size_t(r.first + s)].successes;
        const u64 seen = r.seen[std::size_t(rcv * r.n + s)];
        if (expected > seen) missing += expected - seen;
      }
    }
  }
  return missing;
}

bool all_answered() {
  for (const Conn& c : conns) {
    if (c.state == State::joined && !c.pending.empty()) return false;
  }
  return true;
}

struct StepResult {
  double rate = 0;
  double p99 = NAN;
  bool complete = false;
  u64 skipped = 0;
  Json json;
};

void add_latency(Json& j, const string& prefix, std::vector<double>& ms) {
  std::sort(ms.begin(), ms.end());
  j.add(prefix + "p50_ms", percentile(ms, 50))
      .add(prefix + "p99_ms", percentile(ms, 99))
      .add(prefix + "p999_ms", percentile(ms, 99.9))
      .add(prefix + "max_ms", ms.empty() ? NAN : ms.back())
      .add(prefix + "samples", double(std::count_if(ms.begin(), ms.end(), [](double x) { return std::isfinite(x); })));
}

// One measured window at `rate` commands a second: warm-up, window, drain.
StepResult run_step(double rate, const char* kind) {
  const Counters before = ctr;
  sender = Sender{};
  sender.active = true;
  sender.rate = rate;
  sender.start = now_ns();
  sender.cursor = u64(rng());
  deliveries.clear();
  recording = true;
  pump_for(opt.warmup);
  const i64 t0 = now_ns();
  const double cpu0 = cpu_seconds(opt.pids), aux0 = cpu_seconds(opt.aux_pids), self0 = self_cpu_seconds();
  const double machine0 = machine_busy_seconds();
  const u64 sent0 = sender.sent, commands0 = ctr.commands;
  window_from = t0;
  window_to = INT64_MAX;
  window_errors = 0;
  pump_for(opt.seconds);
  const i64 t1 = now_ns();
  window_to = t1;
  const double cpu1 = cpu_seconds(opt.pids), aux1 = cpu_seconds(opt.aux_pids), self1 = self_cpu_seconds();
  const double machine1 = machine_busy_seconds();
  const u64 commands1 = ctr.commands;
  sender.active = false;
  const i64 worst_lag = sender.worst_lag_ns;
  const bool complete = pump(t1 + secs(opt.drain), [] { return all_answered() && missing_deliveries() == 0; });
  const i64 t2 = now_ns();
  recording = false;

  std::vector<double> all, same, cross;
  u64 in_window = 0;
  all.reserve(deliveries.size());
  for (const Delivery& d : deliveries) {
    if (d.recv_ns >= t0 && d.recv_ns < t1) ++in_window;
    const Conn& s = conns[d.sender];
    if (d.k >= s.ok_sent.size()) continue;
    const i64 sent = s.ok_sent[d.k];
    if (sent < t0 || sent >= t1) continue;
    const double ms = double(d.recv_ns - sent) / 1e6;
    all.push_back(ms);
    if (d.same_target == 1) same.push_back(ms);
    if (d.same_target == 0) cross.push_back(ms);
  }
  // How long each room went without a delivery in the window (a frozen storage shard, say).
  std::vector<i64> last_seen(rooms.size(), t0), longest(rooms.size(), 0);
  for (const Delivery& d : deliveries) {
    if (d.recv_ns < t0 || d.recv_ns >= t1) continue;
    const auto room = std::size_t(conns[d.sender].room);
    longest[room] = std::max(longest[room], d.recv_ns - last_seen[room]);
    last_seen[room] = d.recv_ns;
  }
  std::vector<double> gaps;
  for (std::size_t i = 0; i < rooms.size(); ++i) gaps.push_back(double(std::max(longest[i], t1 - last_seen[i])) / 1e6);
  std::sort(gaps.begin(), gaps.end());
  const auto stalled = std::count_if(gaps.begin(), gaps.end(), [](double ms) { return ms > 1000; });

  // Commands of the window whose events did not all arrive before the drain ended count as
  // slower than anything measured: the percentiles they reach are reported as null, with
  // "undelivered" saying how many deliveries are missing.
  const u64 expected = (commands1 - commands0 - std::min(window_errors, commands1 - commands0)) * u64(opt.members);
  const u64 undelivered = expected > all.size() ? expected - all.size() : 0;
  all.insert(all.end(), undelivered, INFINITY);
  const double window = double(t1 - t0) / 1e9;
  const double server_cpu = cpu1 - cpu0;
  const double self_cpu = (self1 - self0) / window;
  StepResult out;
  out.rate = rate;
  out.complete = complete;
  out.skipped = ctr.skipped - before.skipped;
  Json& j = out.json;
  j.add("kind", kind).add("label", opt.label).add("rate", rate).add("window_s", window)
      .add("commands", double(commands1 - commands0)).add("offered", double(sender.sent - sent0))
      .add("deliveries", double(in_window)).add("deliveries_per_s", double(in_window) / window)
      .add("server_cpu_s", server_cpu).add("server_cores", server_cpu / window)
      .add("deliveries_per_cpu_s", server_cpu > 0 ? double(in_window) / server_cpu : NAN)
      .add("cpu_us_per_delivery", in_window > 0 ? server_cpu * 1e6 / double(in_window) : NAN)
      .add("aux_cpu_s", aux1 - aux0)
      .add("deliveries_per_cpu_s_with_aux", server_cpu + aux1 - aux0 > 0 ? double(in_window) / (server_cpu + aux1 - aux0) : NAN);
  add_latency(j, "", all);
  if (opt.targets.size() > 1) {
    add_latency(j, "same_", same);
    add_latency(j, "cross_", cross);
  }
  out.p99 = percentile(all, 99);
  const u64 hand = ctr.hand_events - before.hand_events;
  j.add("event_frame_bytes", hand > 0 ? double(ctr.hand_event_bytes - before.hand_event_bytes) / double(hand) : NAN)
      .add("complete", complete ? 1 : 0).add("missing", double(missing_deliveries())).add("drain_s", double(t2 - t1) / 1e9)
      .add("undelivered", double(undelivered))
      .add("room_gap_p50_ms", percentile(gaps, 50)).add("room_gap_max_ms", gaps.empty() ? NAN : gaps.back())
      .add("rooms_stalled_1s", double(stalled))
      .add("seq_gaps", double(ctr.seq_gaps - before.seq_gaps)).add("seq_dups", double(ctr.seq_dups - before.seq_dups))
      .add("order_violations", double(ctr.order_violations - before.order_violations))
      .add("unknown_sender", double(ctr.unknown_sender - before.unknown_sender))
      .add("errors", double(ctr.errors - before.errors)).add("closes", double(ctr.closes - before.closes))
      .add("skipped", double(out.skipped)).add("loadgen_cores", self_cpu)
      // What every other process on the machine used meanwhile (other engineers' builds, say).
      .add("others_cores", std::max(0.0, (machine1 - machine0) - server_cpu - (aux1 - aux0) - (self1 - self0)) / window)
      .add("loadgen_worst_lag_ms", double(worst_lag) / 1e6);
  if (!ctr.first_error.empty()) j.add("first_error", ctr.first_error);
  if (!ctr.first_violation.empty()) j.add("first_violation", ctr.first_violation);
  if (self_cpu > 0.85) {
    note("WARNING: the load generator used " + std::to_string(int(self_cpu * 100)) +
         " % of a core in this window: it may be what limits the figures");
    j.add("loadgen_warning", "near a full core");
  }
  return out;
}

bool step_ok(const StepResult& s) { return s.complete && s.skipped == 0 && s.p99 <= opt.p99_limit_ms; }

// Whatever a step left queued is delivered before the next one starts (not measured).
void catch_up() {
  if (!pump(now_ns() + secs(60), [] { return all_answered() && missing_deliveries() == 0; })) {
    note("the server has not caught up 60 s after a step; the next step starts behind");
  }
  pump_for(0.5);
}

void run_knee() {
  std::optional<StepResult> good, bad;
  double rate = opt.rate;
  // Up by `factor` while p99 holds, down by it while it does not, until both sides are known.
  for (int i = 0; i < opt.max_steps; ++i) {
    StepResult s = run_step(rate, "step");
    s.json.print();
    const bool ok = step_ok(s);
    note("step " + std::to_string(int(rate)) + " commands/s: p99 " + std::to_string(s.p99) + " ms" + (ok ? "" : " (past the knee)"));
    catch_up();
    if (ok) {
      good = std::move(s);
      if (bad) break;
      rate *= opt.factor;
    } else {
      bad = std::move(s);
      if (good) break;
      rate /= opt.factor;
    }
  }
  for (int i = 0; i < opt.refine && good && bad; ++i) {
    const double mid = std::sqrt(good->rate * bad->rate);
    StepResult s = run_step(mid, "step");
    s.json.print();
    note("refine " + std::to_string(int(mid)) + " commands/s: p99 " + std::to_string(s.p99) + " ms");
    catch_up();
    if (step_ok(s)) good = std::move(s);
    else bad = std::move(s);
  }
  if (good) {
    good->json.text.replace(0, std::strlen("{\"kind\":\"step\""), "{\"kind\":\"knee\"");
    good->json.add("next_rate", bad ? bad->rate : NAN).add("next_p99_ms", bad ? bad->p99 : NAN);
    good->json.print();
  } else {
    Json j;
    j.add("kind", "knee").add("label", opt.label).add("rate", 0).add("note", "every rate tried passed the p99 limit");
    j.print();
  }
}

void run_resume() {
  const int total = int(conns.size());
  const i64 drop = now_ns();
  for (Conn& c : conns) {
    close_fd(c, true);
    c.state = State::idle;
    c.resuming = true;
    c.replay_left = 0;
    c.back_ns = c.caught_up_ns = 0;
  }
  joined_count = 0;
  for (int i = 0; i < total; ++i) connect_queue.push_back(i);
  const Counters before = ctr;
  const double self0 = self_cpu_seconds(), cpu0 = cpu_seconds(opt.pids);
  const bool back = pump(drop + secs(opt.setup_timeout), [&] {
    if (joined_count < total) return false;
    for (const Conn& c : conns) {
      if (c.replay_left > 0) return false;
    }
    return true;
  });
  const double cpu1 = cpu_seconds(opt.pids), self1 = self_cpu_seconds();
  std::vector<double> back_ms, caught_ms;
  for (const Conn& c : conns) {
    if (c.back_ns) back_ms.push_back(double(c.back_ns - drop) / 1e6);
    if (c.caught_up_ns) caught_ms.push_back(double(c.caught_up_ns - drop) / 1e6);
  }
  std::sort(back_ms.begin(), back_ms.end());
  std::sort(caught_ms.begin(), caught_ms.end());
  Json j;
  j.add("kind", "resume").add("label", opt.label).add("clients", total).add("all_back", back ? 1 : 0)
      .add("back", double(back_ms.size()))
      .add("all_back_ms", back_ms.empty() ? NAN : back_ms.back())
      .add("back_p50_ms", percentile(back_ms, 50)).add("back_p99_ms", percentile(back_ms, 99))
      .add("all_caught_up_ms", caught_ms.size() == std::size_t(total) ? caught_ms.back() : NAN)
      .add("server_cpu_s", cpu1 - cpu0).add("loadgen_cpu_s", self1 - self0)
      .add("seq_gaps", double(ctr.seq_gaps - before.seq_gaps)).add("seq_dups", double(ctr.seq_dups - before.seq_dups))
      .add("errors", double(ctr.errors - before.errors)).add("closes", double(ctr.closes - before.closes));
  if (!ctr.first_violation.empty()) j.add("first_violation", ctr.first_violation);
  j.print();
}

} // namespace

int main(int argc, char** argv) {
  opt = parse_options(argc, argv);
  rng_state ^= std::uint32_t(now_ns());
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fatal("epoll_create1 failed");

  const long rss_start = rss_kib(opt.pids);
  rooms.resize(std::size_t(opt.rooms));
  conns.resize(std::size_t(opt.rooms * opt.members));
  for (int i = 0; i < opt.rooms; ++i) {
    Room& r = rooms[std::size_t(i)];
    r.first = i * opt.members;
    r.n = opt.members;
    r.ids.assign(std::size_t(r.n), string());
    r.seen.assign(std::size_t(r.n * r.n), 0);
    for (int s = 0; s < r.n; ++s) {
      Conn& c = conns[std::size_t(r.first + s)];
      c.room = i;
      c.slot = s;
      const std::size_t t = opt.targets.size();
      c.target = int(opt.spread_members ? std::size_t(s) % t : std::size_t(i) % t);
    }
  }
  const i64 setup_start = now_ns();
  create_rooms();
  const long rss_rooms = rss_kib(opt.pids);
  note("rooms ready (" + std::to_string(opt.rooms) + "); connecting " + std::to_string(conns.size()) + " members");
  connect_all("setup");
  settle();
  note("setup done in " + std::to_string(double(now_ns() - setup_start) / 1e9) + " s");

  switch (opt.mode) {
  case Mode::fanout: run_step(opt.rate, "fanout").json.print(); break;
  case Mode::knee: run_knee(); break;
  case Mode::idle: {
    pump_for(opt.seconds);
    const long rss_joined = rss_kib(opt.pids);
    const double n = double(conns.size());
    Json j;
    j.add("kind", "idle").add("label", opt.label).add("connections", n)
        .add("rss_start_kib", double(rss_start)).add("rss_rooms_kib", double(rss_rooms)).add("rss_joined_kib", double(rss_joined))
        .add("kib_per_connection", double(rss_joined - rss_rooms) / n)
        .add("kib_per_connection_with_rooms", double(rss_joined - rss_start) / n)
        .add("closes", double(ctr.closes)).add("errors", double(ctr.errors));
    j.print();
    break;
  }
  case Mode::resume: run_resume(); break;
  }
  // Reset rather than close: nothing lingers in TIME_WAIT between runs.
  for (Conn& c : conns) close_fd(c, true);
  return 0;
}
