#!/usr/bin/env bash
# Installs what is missing, builds server and client, and serves Colloquy on http://localhost:8080
# with the embedded default (no Redis). Flags are passed to the server: ./deploy/run.sh --port 9000
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/deploy/install-deps.sh" run

echo "run: building the server"
cmake -S "$root" -B "$root/build" -G Ninja -DCOLLOQUY_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build" --target colloquy

echo "run: building the web client"
(cd "$root/client-web" && npm run --silent build)

echo "run: starting; press Ctrl-C to stop"
# Rooms are kept in <repo>/data across restarts (git-ignored); a later --data-dir wins.
exec "$root/build/server/colloquy" --static-dir "$root/client-web/dist" --data-dir "${COLLOQUY_DATA_DIR:-$root/data}" "$@"
