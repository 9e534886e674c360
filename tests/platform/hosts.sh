#!/usr/bin/env bash
# The platform's local test host (root only; Debian 12 machine):
#   hosts.sh up     a systemd + Docker host platform-test-1 (tests/hosts/nspawn) on
#                   127.0.0.1:22700, and an HTTP server on 127.0.0.1:22709 serving a
#                   release-shaped node_exporter tarball (Debian's prometheus-node-exporter
#                   binary repackaged as node_exporter-VER.linux-amd64.tar.gz + sha256sums.txt);
#                   writes STATE/pin.yml (node_exporter_sha256 for -e @STATE/pin.yml)
#   hosts.sh down   stop both (only the processes this script started)
# STATE: DROVER_NSPAWN_DIR (default /tmp/drover-nspawn-platform), as inventory/test expects.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DROVER_NSPAWN_DIR=${DROVER_NSPAWN_DIR:-/tmp/drover-nspawn-platform}
STATE=$DROVER_NSPAWN_DIR
HOST=${PLATFORM_TEST_HOST:-platform-test-1}
PORT=${PLATFORM_TEST_PORT:-22700}
HTTP_PORT=${PLATFORM_HTTP_PORT:-22709}
NSPAWN=$here/../hosts/nspawn

release() {
  command -v prometheus-node-exporter >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus-node-exporter >&2
  }
  local ver name dir tmp
  ver=$(dpkg-query -W -f='${Version}' prometheus-node-exporter | sed 's/-.*//')
  name=node_exporter-$ver.linux-amd64
  dir=$STATE/.http/releases/download/v$ver
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  mkdir "$tmp/$name"
  install -m 0755 /usr/bin/prometheus-node-exporter "$tmp/$name/node_exporter"
  printf 'Debian prometheus-node-exporter %s repackaged for the drover platform tests\n' "$ver" >"$tmp/$name/NOTICE"
  tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n >"$dir/$name.tar.gz"
  rm -rf "$tmp"
  (cd "$dir" && sha256sum "$name.tar.gz" >sha256sums.txt)
  printf 'node_exporter_version: %s\nnode_exporter_sha256:\n  amd64: %s\n' "$ver" "$(cut -d' ' -f1 "$dir/sha256sums.txt")" >"$STATE/pin.yml"
}

http_up() {
  http_down
  setsid python3 -m http.server --bind 127.0.0.1 --directory "$STATE/.http" "$HTTP_PORT" >"$STATE/.http.log" 2>&1 </dev/null &
  echo $! >"$STATE/.http.pid"
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "hosts.sh: HTTP server did not start" >&2
  return 1
}

http_down() {
  local pid
  [[ -r $STATE/.http.pid ]] || return 0
  pid=$(<"$STATE/.http.pid")
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qs http.server "/proc/$pid/cmdline"; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/.http.pid"
}

case ${1:-} in
  up)
    mkdir -p "$STATE"
    release
    http_up
    "$NSPAWN" up "$HOST" "$PORT" >/dev/null
    # Cloud images (Ubuntu 24.04, Debian 12 on EC2) ship curl; the test rootfs does not.
    ssh -F "$STATE/$HOST/ssh_config" "$HOST" \
      'command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; } >/dev/null 2>&1'
    echo "$STATE"
    ;;
  down)
    http_down
    "$NSPAWN" down "$HOST" || true
    ;;
  *) echo "usage: hosts.sh up|down" >&2; exit 2 ;;
esac
