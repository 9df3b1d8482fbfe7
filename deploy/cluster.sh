#!/usr/bin/env bash
# A local Colloquy cluster on loopback, for development and tests: one redis-server (AOF on),
# N colloquy instances sharing it, and HAProxy in front of them.
#
#   deploy/cluster.sh start  [--instances N] [--port P] [--dir DIR] [-- COLLOQUY_ARGS...]
#   deploy/cluster.sh stop   [--dir DIR]
#   deploy/cluster.sh status [--dir DIR]
#
# N defaults to 3; P, the proxy's port on 127.0.0.1, to 8090 (0 picks a free one: see PROXY_PORT);
# DIR to <repo>/build/cluster (git-ignored). Arguments after "--" go to every instance. DIR holds
# cluster.env (shell-sourceable: REDIS_PORT REDIS_PID INSTANCE_PORTS INSTANCE_PIDS PROXY_PORT
# PROXY_PID, and REDIS_URL PROXY_URL STATS_PORT MODE), haproxy.cfg, logs/ and redis/ (the AOF:
# rooms survive stop and start; rm -rf DIR to begin empty).
#
# Environment (other COLLOQUY_* settings, e.g. COLLOQUY_LOG_LEVEL, reach every instance):
#   COLLOQUY_BIN                 server binary (default <repo>/build/server/colloquy)
#   COLLOQUY_STATIC_DIR          web client (default <repo>/client-web/dist)
#   COLLOQUY_CLUSTER_NO_REDIS=1  instances run embedded (each on its own DIR/data-<i>) instead of
#                                on Redis; Redis still starts. For a binary without --redis: the
#                                proxy works, but rooms are not shared between instances.
#   COLLOQUY_PROXY_CHECK_PATH    the proxy's health check (default /readyz; /healthz for a binary
#                                that does not serve /readyz yet)
# Everything started here is stopped by "stop" (SIGTERM, then SIGKILL after a grace period).
set -Eeuo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${COLLOQUY_BIN:-$root/build/server/colloquy}
static_dir=${COLLOQUY_STATIC_DIR:-$root/client-web/dist}

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
say() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

command_name=${1:-}
[ $# -gt 0 ] && shift
instances=3
proxy_port=8090
dir=$root/build/cluster
extra_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --instances) [ $# -ge 2 ] || usage; instances=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || usage; proxy_port=$2; shift 2 ;;
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --) shift; extra_args=("$@"); break ;;
    -h | --help) usage ;;
    *) echo "cluster: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ $instances =~ ^[1-9][0-9]?$ ]] || die "--instances must be 1 to 99"
if ! [[ $proxy_port =~ ^(0|[1-9][0-9]{0,4})$ ]] || [ "$proxy_port" -gt 65535 ]; then die "--port must be 0 to 65535"; fi
env_file=$dir/cluster.env

# A free loopback port, as the kernel hands them out (another process may take it before we bind;
# the caller checks that its daemon did come up).
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# True when PID exists and has not exited (an exited process that its parent has not reaped yet,
# state Z, no longer runs).
alive() {
  local stat
  [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# True when PID runs the program NAME (guards against signalling a recycled PID).
runs() {
  local comm
  alive "$1" && comm=$(cat "/proc/$1/comm" 2>/dev/null) && [ "$comm" = "$2" ]
}

# SIGTERM each PID that still runs NAME, wait up to GRACE seconds, then SIGKILL what is left.
stop_pids() {
  local name=$1 grace=$2 pid waited=0 alive
  shift 2
  local pids=()
  for pid in "$@"; do
    if runs "$pid" "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  while :; do
    alive=()
    for pid in "${pids[@]}"; do runs "$pid" "$name" && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    if [ "$waited" -ge $((grace * 10)) ]; then
      say "$name ${alive[*]} still running after ${grace}s: SIGKILL"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# shellcheck disable=SC2034 # written out by write_env through ${!var}
# What runs now, as variables; written to cluster.env after each step so that "stop" can clean up
# even after a start that failed or was interrupted.
CLUSTER_DIR='' MODE=redis INSTANCE_COMM=colloquy REDIS_PORT='' REDIS_PID='' REDIS_URL='' INSTANCE_PORTS='' INSTANCE_PIDS=''
PROXY_PORT='' PROXY_PID='' STATS_PORT='' PROXY_URL=''
write_env() {
  {
    echo "# written by deploy/cluster.sh start; source it from a shell"
    local var
    for var in CLUSTER_DIR MODE INSTANCE_COMM REDIS_PORT REDIS_PID REDIS_URL INSTANCE_PORTS INSTANCE_PIDS PROXY_PORT PROXY_PID STATS_PORT PROXY_URL; do
      printf "%s='%s'\n" "$var" "${!var//\'/\'\\\'\'}"
    done
  } >"$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
}

load_env() {
  [ -f "$env_file" ] || return 1
  # shellcheck source=/dev/null
  . "$env_file"
}

# One line per instance as HAProxy sees it: name, status, last check, its HTTP code.
proxy_states() {
  curl -s --max-time 2 "http://127.0.0.1:$STATS_PORT/stats;csv" |
    awk -F, '$1 == "colloquy" && $2 != "FRONTEND" && $2 != "BACKEND" { print $2, $18, ($37 == "" ? "-" : $37), ($38 == "" ? "-" : $38) }'
}

do_stop() {
  if ! load_env; then
    say "nothing recorded in $env_file"
    return 0
  fi
  # The proxy first (no new connections), then the instances (they drain: WebSockets closed with
  # 1001, in-flight appends finished), Redis last so that those appends still land.
  # shellcheck disable=SC2086 # the PID lists are space-separated on purpose
  stop_pids haproxy 10 $PROXY_PID
  # shellcheck disable=SC2086
  stop_pids "$INSTANCE_COMM" 35 $INSTANCE_PIDS
  # shellcheck disable=SC2086
  stop_pids redis-server 15 $REDIS_PID
  rm -f "$env_file"
  say "stopped (logs in $dir/logs)"
}

do_status() {
  if ! load_env; then
    say "not running (no $env_file)"
    return 3
  fi
  local bad=0 i ports pids
  read -r -a ports <<<"$INSTANCE_PORTS"
  read -r -a pids <<<"$INSTANCE_PIDS"
  # Prints "running" or "NOT RUNNING" after the given text; counts what is not running.
  show() {
    local text=$1 pid=$2 name=$3 tail=${4:-}
    if runs "$pid" "$name"; then echo "$text running$tail"; else echo "$text NOT RUNNING$tail"; bad=1; fi
  }
  echo "mode: $MODE (dir $CLUSTER_DIR)"
  show "redis: 127.0.0.1:${REDIS_PORT:-?} pid ${REDIS_PID:-?}" "$REDIS_PID" redis-server
  for i in "${!pids[@]}"; do
    show "colloquy $((i + 1)): 127.0.0.1:${ports[$i]:-?} pid ${pids[$i]}" "${pids[$i]}" "$INSTANCE_COMM"
  done
  show "proxy: $PROXY_URL pid ${PROXY_PID:-?}" "$PROXY_PID" haproxy " (stats http://127.0.0.1:$STATS_PORT/stats)"
  if runs "$PROXY_PID" haproxy; then
    # Each instance as HAProxy's checks see it.
    proxy_states | awk '{ printf "  proxy sees %s: %s (check %s %s)\n", $1, $2, $3, $4 }' || true
  fi
  return $bad
}

do_start() {
  command -v redis-server >/dev/null || die "redis-server is missing (deploy/install-deps.sh test installs it)"
  command -v redis-cli >/dev/null || die "redis-cli is missing (package redis-tools)"
  command -v haproxy >/dev/null || die "haproxy is missing (deploy/install-deps.sh test installs it)"
  command -v curl >/dev/null || die "curl is missing (deploy/install-deps.sh test installs it)"
  command -v node >/dev/null || die "node is missing (see README.md)"
  [ -x "$bin" ] || die "no server binary at $bin (cmake --build build --target colloquy)"
  local mode=redis help
  help=$("$bin" --help) || die "$bin --help failed"
  if [ "${COLLOQUY_CLUSTER_NO_REDIS:-}" = 1 ]; then
    mode=embedded
  elif [[ $help != *--redis* ]]; then
    die "$bin has no --redis option yet; COLLOQUY_CLUSTER_NO_REDIS=1 runs the instances embedded (rooms not shared)"
  fi
  if load_env; then
    if runs "$PROXY_PID" haproxy || runs "$REDIS_PID" redis-server; then
      die "a cluster already runs from $dir (deploy/cluster.sh stop --dir $dir)"
    fi
    # shellcheck disable=SC2086
    for pid in $INSTANCE_PIDS; do runs "$pid" "$INSTANCE_COMM" && die "a cluster already runs from $dir (deploy/cluster.sh stop --dir $dir)"; done
  fi

  mkdir -p "$dir/logs" "$dir/redis"
  dir=$(cd "$dir" && pwd)
  env_file=$dir/cluster.env
  CLUSTER_DIR=$dir
  INSTANCE_COMM=$(basename "$bin")
  INSTANCE_COMM=${INSTANCE_COMM:0:15}
  MODE=$mode REDIS_PORT='' REDIS_PID='' REDIS_URL='' INSTANCE_PORTS='' INSTANCE_PIDS=''
  PROXY_PORT='' PROXY_PID='' STATS_PORT='' PROXY_URL=''
  write_env
  trap 'trap - ERR INT TERM; echo "cluster: start failed; stopping what was started" >&2; do_stop >&2; exit 1' ERR
  trap 'trap - ERR INT TERM; echo "cluster: interrupted; stopping what was started" >&2; do_stop >&2; exit 130' INT TERM

  # Redis: loopback only, AOF fsynced every second, no RDB snapshots (the AOF is the record).
  local attempt port pid
  for attempt in 1 2 3; do
    port=$(free_port)
    setsid redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes --daemonize no \
      --dir "$dir/redis" --appendonly yes --appendfsync everysec --save '' \
      --maxmemory-policy noeviction --logfile '' </dev/null >>"$dir/logs/redis.log" 2>&1 &
    pid=$!
    REDIS_PID=$pid REDIS_PORT=$port REDIS_URL=redis://127.0.0.1:$port
    write_env
    for _ in $(seq 50); do
      [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break 2
      runs "$pid" redis-server || break
      sleep 0.1
    done
    stop_pids redis-server 5 "$pid"
    REDIS_PID='' REDIS_PORT='' REDIS_URL=''
    write_env
    [ "$attempt" = 3 ] && { echo "cluster: redis did not start; see $dir/logs/redis.log" >&2; false; }
  done
  say "redis $REDIS_URL (pid $REDIS_PID, AOF in $dir/redis)"

  # The proxy's port first: browsers open pages and WebSockets there, so it is the instances'
  # public origin (a server accepts a WebSocket only from the origins it is told, or from its own
  # loopback port otherwise).
  [ "$proxy_port" = 0 ] && proxy_port=$(free_port)
  # The instances: each picks a free port and says which on its ready line.
  local i args pids=() logs=()
  for i in $(seq "$instances"); do
    # HAProxy (option forwardfor) connects from 127.0.0.1: its X-Forwarded-For names the client.
    args=(--bind 127.0.0.1 --port 0 --static-dir "$static_dir" --trusted-proxy 127.0.0.1)
    if [[ $help == *--public-origin* ]]; then
      args+=(--public-origin "http://127.0.0.1:$proxy_port,http://localhost:$proxy_port")
    fi
    if [ "$MODE" = redis ]; then
      args+=(--redis "$REDIS_URL")
    else
      mkdir -p "$dir/data-$i"
      args+=(--data-dir "$dir/data-$i")
    fi
    : >"$dir/logs/colloquy-$i.log"
    # Settings from this shell's COLLOQUY_REDIS/COLLOQUY_DATA_DIR must not override the cluster's.
    env -u COLLOQUY_REDIS -u COLLOQUY_DATA_DIR -u COLLOQUY_BIND -u COLLOQUY_PORT -u COLLOQUY_PUBLIC_ORIGIN \
      -u COLLOQUY_BIN -u COLLOQUY_CLUSTER_NO_REDIS -u COLLOQUY_PROXY_CHECK_PATH \
      setsid "$bin" "${args[@]}" "${extra_args[@]}" </dev/null >>"$dir/logs/colloquy-$i.log" 2>&1 &
    pids+=("$!")
    logs+=("$dir/logs/colloquy-$i.log")
    INSTANCE_PIDS="${pids[*]}"
    write_env
  done
  local ports=() waited
  for i in "${!pids[@]}"; do
    port='' waited=0
    while [ -z "$port" ]; do
      port=$(sed -n 's|^colloquy listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "${logs[$i]}" | head -n 1)
      [ -n "$port" ] && break
      if ! alive "${pids[$i]}" || [ "$waited" -ge 200 ]; then
        echo "cluster: colloquy $((i + 1)) did not become ready; the end of ${logs[$i]}:" >&2
        tail -n 5 "${logs[$i]}" >&2
        false
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    ports+=("$port")
    say "colloquy $((i + 1)) http://127.0.0.1:$port (pid ${pids[$i]}, $MODE)"
  done
  INSTANCE_PORTS="${ports[*]}"
  # The kernel's name for the running server (its file name, at most 15 characters; "colloquy"
  # unless COLLOQUY_BIN names another): stop and status signal a PID only while it has that name.
  INSTANCE_COMM=$(cat "/proc/${pids[0]}/comm")
  write_env

  # HAProxy: the shared deploy/haproxy.cfg without its container-only blocks, plus our servers.
  STATS_PORT=$(free_port)
  local cfg=$dir/haproxy.cfg
  {
    echo "# generated by deploy/cluster.sh from deploy/haproxy.cfg"
    awk '/^#>>>/ { skip = 1; next } /^#<<</ { skip = 0; next } !skip' "$root/deploy/haproxy.cfg"
    for i in "${!ports[@]}"; do
      echo "    server colloquy$((i + 1)) 127.0.0.1:${ports[$i]}"
    done
  } >"$cfg"
  export COLLOQUY_PROXY_BIND=127.0.0.1:$proxy_port COLLOQUY_PROXY_STATS_BIND=127.0.0.1:$STATS_PORT
  export COLLOQUY_PROXY_CHECK_PATH=${COLLOQUY_PROXY_CHECK_PATH:-/readyz}
  haproxy -c -q -f "$cfg" >>"$dir/logs/haproxy.log" 2>&1 || { echo "cluster: $cfg is not valid; see $dir/logs/haproxy.log" >&2; false; }
  setsid haproxy -db -f "$cfg" </dev/null >>"$dir/logs/haproxy.log" 2>&1 &
  # shellcheck disable=SC2034 # written out by write_env through ${!var}
  PROXY_PID=$! PROXY_PORT=$proxy_port PROXY_URL=http://127.0.0.1:$proxy_port
  write_env

  # Ready once HAProxy's own checks passed on every instance (its servers start out as UP, so a
  # server counts only after a check answered 200).
  waited=0
  until [ "$(proxy_states | awk '$2 == "UP" && $3 ~ /L7OK/' | wc -l)" -eq "$instances" ]; do
    if ! runs "$PROXY_PID" haproxy; then
      echo "cluster: haproxy stopped (port $proxy_port taken?); the end of $dir/logs/haproxy.log:" >&2
      tail -n 5 "$dir/logs/haproxy.log" >&2
      false
    fi
    if [ "$waited" -ge 150 ]; then
      echo "cluster: not every instance passed the proxy's check GET $COLLOQUY_PROXY_CHECK_PATH:" >&2
      proxy_states | sed 's/^/  /' >&2
      if proxy_states | awk '$4 == 404 { found = 1 } END { exit !found }'; then
        echo "cluster: this binary has no $COLLOQUY_PROXY_CHECK_PATH yet; COLLOQUY_PROXY_CHECK_PATH=/healthz checks liveness instead" >&2
      fi
      false
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  trap - ERR INT TERM
  say "proxy $PROXY_URL (pid $PROXY_PID, stats http://127.0.0.1:$STATS_PORT/stats)"
  say "ready; stop with: deploy/cluster.sh stop --dir $dir"
}

case $command_name in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) usage ;;
esac
