#!/usr/bin/env bash
# Installs what is missing, builds everything, runs every suite, prints a summary.
# Exits non-zero if any suite fails. Suites: unit (the generated protocol files are current, then
# C++), fuzz (libFuzzer + ASan/UBSan on the command decoder and the WebSocket frame parser, 30 s in
# all), deploy (lint the deploy files, run deploy/cluster.sh), client (TypeScript), integration
# (real server), e2e (real headless Chromium), load (the benchmark's smoke run:
# every delivery complete and in order on Colloquy and on the Socket.IO peer; figures not checked).
#   ./tests/run.sh                 all suites
#   ./tests/run.sh unit client     only those
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
artifacts="$root/tests/artifacts"
mkdir -p "$artifacts"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit fuzz deploy client integration e2e load)

step() { printf '\n==== %s\n' "$*"; }
die() { echo "tests/run.sh: $*" >&2; exit 1; }

step "install"
"$root/deploy/install-deps.sh" test || die "installing dependencies failed"

step "build server and unit tests"
cmake -S "$root" -B "$root/build" -G Ninja -DCOLLOQUY_BUILD_TESTS=ON -DCOLLOQUY_WERROR=ON >/dev/null || die "cmake configure failed"
cmake --build "$root/build" || die "the C++ build failed"

step "build web client"
(cd "$root/client-web" && npm run --silent build) || die "the client build failed"

export COLLOQUY_BIN="$root/build/server/colloquy"
export COLLOQUY_STATIC_DIR="$root/client-web/dist"

passed=0
failed=0
failed_suites=()

# Adds one suite's counts; a suite that failed without reporting counts still counts as a failure.
record() {
  local suite=$1 status=$2 p=$3 f=$4
  [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$status" -ne 0 ] && failed_suites+=("$suite")
  printf '%s: %d passed, %d failed\n' "$suite" "$p" "$f" >>"$artifacts/summary.txt"
}

# Counts from a vitest JSON report.
vitest_counts() {
  node -e 'try { const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests) } catch { console.log("0 0") }' "$1"
}

run_vitest() {
  local suite=$1 dir=$2 script=$3
  step "$suite"
  local report="$artifacts/$suite.json"
  rm -f "$report"
  (cd "$dir" && npm run --silent "$script" -- --reporter=default --reporter=json --outputFile.json="$report")
  local status=$?
  read -r p f < <(vitest_counts "$report")
  record "$suite" "$status" "$p" "$f"
}

: >"$artifacts/summary.txt"
for suite in "${suites[@]}"; do
  case "$suite" in
    unit)
      # The files generated from protocol/messages.json must be current: one test, counted here.
      step "generated (protocol/generate.mjs --check: schemas, C++ and TypeScript codecs, README tables)"
      if node "$root/protocol/generate.mjs" --check; then record generated 0 1 0; else record generated 1 0 1; fi
      step "unit (C++, GoogleTest via ctest)"
      (cd "$root/build" && ctest --output-on-failure --timeout 120 | tee "$artifacts/unit.txt")
      status=${PIPESTATUS[0]}
      line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$artifacts/unit.txt" | tail -1)
      total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
      f=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
      record unit "$status" "$(( ${total:-0} - ${f:-0} ))" "${f:-0}"
      ;;
    fuzz)
      # One time budget for the suite, split between the targets.
      fuzz_seconds=${COLLOQUY_FUZZ_SECONDS:-30}
      each=$(( (fuzz_seconds + 1) / 2 ))
      step "fuzz (libFuzzer, AddressSanitizer, UBSan: command decoder and room core, WebSocket frame parser; ${fuzz_seconds} s)"
      build_status=0
      CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DCOLLOQUY_FUZZ=ON -DCOLLOQUY_BUILD_TESTS=OFF >/dev/null &&
        cmake --build "$root/build-fuzz" --target command_decoder_fuzz ws_frame_fuzz || build_status=1
      p=0
      f=0
      if [ $build_status -eq 0 ]; then
        corpus=$(mktemp -d)
        mkdir "$corpus/commands" "$corpus/frames"
        # Seeds: every frame of the shared conformance vectors (as WebSocket frames for the parser).
        node -e 'const fs=require("fs"); JSON.parse(fs.readFileSync(process.argv[1])).cases.forEach((c,i)=>fs.writeFileSync(process.argv[2]+"/v"+i, c.frame))' \
          "$root/protocol/vectors/commands.json" "$corpus/commands"
        node "$root/tests/fuzz/ws_seeds.mjs" "$root/protocol/vectors/commands.json" "$corpus/frames"
        for target in command_decoder_fuzz:commands ws_frame_fuzz:frames; do
          name=${target%%:*}
          if (cd "$artifacts" && "$root/build-fuzz/tests/fuzz/$name" -max_total_time="$each" \
            -max_len=8192 -print_final_stats=1 "$corpus/${target##*:}" >"$artifacts/$name.txt" 2>&1); then
            p=$((p + 1))
          else
            f=$((f + 1))
          fi
          echo "-- $name"
          tail -n 15 "$artifacts/$name.txt"
        done
        rm -rf "$corpus"
      else
        f=1
      fi
      status=0
      [ "$f" -gt 0 ] && status=1
      record fuzz "$status" "$p" "$f"
      ;;
    deploy)
      step "deploy (shellcheck, yamllint, haproxy -c, and deploy/cluster.sh started and stopped for real)"
      status=0
      shellcheck "$root"/deploy/*.sh "$root/tests/run.sh" "$root/.ci/run" || status=1
      yamllint -s -c "$root/deploy/.yamllint" "$root/deploy/compose.yaml" "$root"/deploy/k8s/*.yaml || status=1
      haproxy -c -q -f "$root/deploy/haproxy.cfg" || status=1
      cluster_dir=$(mktemp -d)
      if "$root/deploy/cluster.sh" start --instances 2 --port 0 --dir "$cluster_dir" >"$artifacts/cluster.txt" 2>&1; then
        # shellcheck disable=SC1091,SC2153 # PROXY_PORT comes from the sourced file
        proxy_port=$(. "$cluster_dir/cluster.env" && echo "$PROXY_PORT")
        curl -fsS "http://127.0.0.1:$proxy_port/readyz" >/dev/null || status=1
        curl -fsS -X POST -H 'Content-Type: application/json' -d '{"title":"Cluster smoke test"}' \
          "http://127.0.0.1:$proxy_port/api/rooms" >/dev/null || status=1
      else
        status=1
        tail -n 20 "$artifacts/cluster.txt"
      fi
      "$root/deploy/cluster.sh" stop --dir "$cluster_dir" >>"$artifacts/cluster.txt" 2>&1 || status=1
      rm -rf "$cluster_dir"
      record deploy "$status" "$((1 - status))" "$status"
      ;;
    client) run_vitest client "$root/client-web" test ;;
    integration)
      step "typecheck (tests/)"
      (cd "$root/tests" && npm run --silent typecheck) || record typecheck 1 0 1
      run_vitest integration "$root/tests" test:integration
      ;;
    e2e) run_vitest e2e "$root/tests" test:e2e ;;
    load)
      step "load (benchmark smoke: the load generator against Colloquy and the Socket.IO peer, one and two instances)"
      status=0
      shellcheck "$root/tests/load/bench.sh" || status=1
      COLLOQUY_BENCH_SKIP_INSTALL=1 "$root/tests/load/bench.sh" smoke || status=1
      record load "$status" "$((1 - status))" "$status"
      ;;
    *) die "unknown suite '$suite' (unit, fuzz, deploy, client, integration, e2e, load)" ;;
  esac
done

step "summary"
cat "$artifacts/summary.txt"
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "artifacts: tests/artifacts/"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
