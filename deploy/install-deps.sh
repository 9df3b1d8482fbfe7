#!/usr/bin/env bash
# Installs what Colloquy needs on Debian 12 and is missing; does nothing when all is present.
#   deploy/install-deps.sh run    build and serve (compiler, Boost, JSON, hiredis, OpenSSL's libcrypto, the client's npm packages)
#   deploy/install-deps.sh test   also GoogleTest, redis-server, Chromium, clang (fuzzing) and the test suites' npm packages
set -euo pipefail

mode=${1:-run}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

run_packages=(g++ cmake ninja-build ccache pkg-config libboost1.81-dev nlohmann-json3-dev libhiredis-dev
  libsodium-dev zlib1g-dev libspdlog-dev libfmt-dev libboost-url1.81-dev libcli11-dev libssl-dev)
test_packages=(libgtest-dev redis-server chromium clang libclang-rt-14-dev haproxy curl shellcheck yamllint)

packages=("${run_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node 20.19+ is needed by Vite 8; Debian 12's own nodejs (18) is too old, so we do not apt-install it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-deps: Node.js 20.19 or newer with npm is required (see README.md)" >&2
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  echo "install-deps: Node.js $(node --version) is too old; 20.19 or newer is required" >&2
  exit 1
}

# npm ci only when the lock file changed since the last install (node_modules/.package-lock.json is npm's own record).
npm_install() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

npm_install "$root/client-web"
[ "$mode" = test ] && npm_install "$root/tests"
exit 0
