// The floor of the Colloquy benchmark (see tests/load/README.md): what writing the benchmark's
// frames to loopback TCP sockets costs with nothing else to do. Not part of the product.
//
// One process accepts --sockets connections and writes frames of --bytes bytes to them, one
// sendmsg per socket per round in turn (the way a server that cannot merge writes one delivery);
// with --k K each sendmsg carries K frames for the socket (gathered, the merged case). A child
// process connects the sockets and reads everything (its CPU is reported apart). --rate paces the
// frames (frames a second in all; 0: as fast as it can) for --seconds.
//
// Prints one JSON object: the writer's CPU per sendmsg and per frame (user + system, kernel TCP
// and the loopback receive path that runs in the sender's context included).
//
// Build: g++ -std=c++20 -O2 -o floor floor.cpp   (tests/load/bench.sh does it)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

using i64 = std::int64_t;

[[noreturn]] void fatal(const std::string& what) {
  std::fprintf(stderr, "floor: %s\n", what.c_str());
  std::exit(2);
}

i64 now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return i64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Options {
  int sockets = 1000;
  int bytes = 124;
  int k = 1;
  double rate = 0;
  double seconds = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help") {
      std::puts("floor --sockets N --bytes B --k FRAMES_PER_SENDMSG --rate FRAMES_PER_S (0: flat out) --seconds S");
      std::exit(0);
    }
    if (i + 1 >= argc) fatal("option " + std::string(flag) + " needs a value");
    const double v = std::atof(argv[++i]);
    if (flag == "--sockets") o.sockets = int(v);
    else if (flag == "--bytes") o.bytes = int(v);
    else if (flag == "--k") o.k = int(v);
    else if (flag == "--rate") o.rate = v;
    else if (flag == "--seconds") o.seconds = v;
    else fatal("unknown option " + std::string(flag));
  }
  if (o.sockets < 1 || o.bytes < 1 || o.k < 1 || o.seconds <= 0) fatal("--sockets, --bytes, --k and --seconds must be positive");
  return o;
}

// The child: connects every socket and reads until the parent closes them; writes its CPU seconds
// and bytes read to `report`.
[[noreturn]] void reader(const Options& o, sockaddr_in addr, int ready, int report) {
  const int ep = epoll_create1(0);
  std::vector<int> fds;
  for (int i = 0; i < o.sockets; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fatal(std::string("socket: ") + std::strerror(errno) + " (ulimit -n)");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fatal(std::string("connect: ") + std::strerror(errno));
    const int flags = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds.push_back(fd);
  }
  const char one = 1;
  if (::write(ready, &one, 1) != 1) fatal("pipe");
  const double cpu0 = cpu_seconds();
  long long bytes = 0;
  int open = o.sockets;
  std::vector<char> buf(256 * 1024);
  epoll_event events[512];
  while (open > 0) {
    const int n = epoll_wait(ep, events, 512, 1000);
    for (int i = 0; i < n; ++i) {
      const ssize_t got = ::recv(events[i].data.fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got > 0) bytes += got;
      if (got == 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, events[i].data.fd, nullptr);
        ::close(events[i].data.fd);
        --open;
      }
    }
  }
  char line[128];
  const int len = std::snprintf(line, sizeof line, "%.6f %lld\n", cpu_seconds() - cpu0, bytes);
  if (::write(report, line, std::size_t(len)) != len) fatal("pipe");
  std::exit(0);
}

} // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(listener, 4096) < 0) fatal("listen");
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  int ready[2], report[2];
  if (pipe(ready) < 0 || pipe(report) < 0) fatal("pipe");
  const pid_t child = fork();
  if (child < 0) fatal("fork");
  if (child == 0) {
    ::close(listener);
    reader(o, addr, ready[1], report[1]);
  }
  std::vector<int> fds;
  for (int i = 0; i < o.sockets; ++i) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) fatal(std::string("accept: ") + std::strerror(errno) + " (ulimit -n)");
    const int flags = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    fds.push_back(fd);
  }
  char one = 0;
  if (::read(ready[0], &one, 1) != 1) fatal("the reader did not start");

  // A frame like a WebSocket text frame from a server: 0x81, length, payload.
  std::string frame(std::size_t(o.bytes), 'x');
  frame[0] = char(0x81);
  if (o.bytes > 2) frame[1] = char(o.bytes - 2 < 126 ? o.bytes - 2 : 126);
  std::vector<iovec> iov(std::size_t(o.k), iovec{frame.data(), frame.size()});
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();

  long long attempts = 0, writes = 0, eagain = 0; // writes: the sendmsg calls that were taken
  std::size_t next = 0;
  const i64 start = now_ns();
  const i64 end = start + i64(o.seconds * 1e9);
  const double cpu0 = cpu_seconds();
  const auto write_one = [&] {
    const ssize_t n = ::sendmsg(fds[next], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) ++eagain;
    else ++writes;
    ++attempts;
    if (++next == fds.size()) next = 0;
  };
  if (o.rate <= 0) {
    while (now_ns() < end) {
      for (int i = 0; i < 256; ++i) write_one();
    }
  } else {
    const double writes_per_s = o.rate / o.k;
    for (i64 tick = start;; tick += 1'000'000) { // every millisecond, what is due
      const i64 now = now_ns();
      if (now >= end) break;
      const auto due = (long long)(double(now - start) * writes_per_s / 1e9);
      while (attempts < due) write_one();
      timespec ts{time_t((tick + 1'000'000) / 1'000'000'000), long((tick + 1'000'000) % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    }
  }
  const double writer_cpu = cpu_seconds() - cpu0;
  const double elapsed = double(now_ns() - start) / 1e9;
  for (int fd : fds) ::close(fd);
  char line[128] = {0};
  const ssize_t got = ::read(report[0], line, sizeof line - 1);
  double reader_cpu = 0;
  long long bytes = 0;
  if (got > 0) std::sscanf(line, "%lf %lld", &reader_cpu, &bytes);
  int status = 0;
  waitpid(child, &status, 0);
  const double frames = double(writes) * o.k;
  std::printf("{\"kind\":\"floor\",\"sockets\":%d,\"bytes\":%d,\"k\":%d,\"rate\":%.0f,\"seconds\":%.3f,\"writes\":%lld,"
              "\"frames\":%.0f,\"frames_per_s\":%.0f,\"writer_cpu_s\":%.4f,\"writer_cores\":%.3f,\"us_per_write\":%.3f,"
              "\"us_per_frame\":%.3f,\"reader_cpu_s\":%.4f,\"reader_us_per_frame\":%.3f,\"bytes_read\":%lld,\"failed_writes\":%lld}\n",
              o.sockets, o.bytes, o.k, o.rate, elapsed, writes, frames, frames / elapsed, writer_cpu, writer_cpu / elapsed,
              writer_cpu * 1e6 / double(writes), writer_cpu * 1e6 / frames, reader_cpu, reader_cpu * 1e6 / frames, bytes, eagain);
  return 0;
}
