#!/usr/bin/env bash
# The Colloquy benchmark against a Socket.IO 4.8 peer, one command per scenario (tests/load/README.md).
#   tests/load/bench.sh a|b|c|d|e|f|g|all [--runs N] [--seconds S]   figures (medians of N runs, default 3)
#   tests/load/bench.sh smoke                                         a few seconds; fails unless complete and in order
#   tests/load/bench.sh profile [--rate R] [--fsync always|everysec]  perf of the server at that rate
# Installs what is missing (deploy/install-deps.sh test; the peer's npm packages with npm ci), builds
# the server (unless COLLOQUY_BIN names one), the load generator and the floor, raises the
# open-file limit, then runs tests/load/bench.ts. Everything on loopback; processes stopped by PID.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
load="$root/tests/load"
bin="$root/build/load"

if [ $# -eq 0 ]; then
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 64
fi

if [ "${COLLOQUY_BENCH_SKIP_INSTALL:-}" != 1 ]; then
  "$root/deploy/install-deps.sh" test >&2
fi
peer="$load/peers/socketio"
if [ ! -f "$peer/node_modules/.package-lock.json" ] || [ "$peer/package-lock.json" -nt "$peer/node_modules/.package-lock.json" ]; then
  echo "bench: npm ci in tests/load/peers/socketio" >&2
  (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

if [ -z "${COLLOQUY_BIN:-}" ]; then
  if [ ! -f "$root/build/build.ninja" ]; then
    cmake -S "$root" -B "$root/build" -G Ninja -DCOLLOQUY_BUILD_TESTS=ON >/dev/null
  fi
  cmake --build "$root/build" -j2 --target colloquy >&2
  export COLLOQUY_BIN="$root/build/server/colloquy"
fi

# The load generator and the floor: one file each, standard library only; rebuilt when changed.
mkdir -p "$bin"
for tool in loadgen floor; do
  if [ ! -x "$bin/$tool" ] || [ "$load/$tool.cpp" -nt "$bin/$tool" ]; then
    echo "bench: building $tool" >&2
    g++ -std=c++20 -O2 -g -Wall -Wextra -o "$bin/$tool" "$load/$tool.cpp"
  fi
done
export COLLOQUY_BENCH_BIN_DIR="$bin"

# Each connection is a descriptor in the server and one in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$1" = profile ] && ! perf stat -e task-clock true >/dev/null 2>&1; then
  echo "bench: profile needs perf (Debian's linux-perf)" >&2
  exit 1
fi

cd "$root/tests"
exec npx --no-install tsx load/bench.ts "$@"
