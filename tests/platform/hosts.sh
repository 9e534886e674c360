#!/usr/bin/env bash
# The platform's local test host (root only; Debian 12 machine):
#   hosts.sh up [NAME:PORT...]
#                   systemd + Docker hosts (tests/hosts/nspawn; default platform-test-1 on
#                   127.0.0.1:22700, booted in parallel), and an HTTP server on 127.0.0.1:22709 serving a
#                   release-shaped node_exporter tarball (Debian's prometheus-node-exporter
#                   binary repackaged as node_exporter-VER.linux-amd64.tar.gz + sha256sums.txt);
#                   writes STATE/pin.yml (node_exporter_sha256 for -e @STATE/pin.yml)
#   hosts.sh down   stop them all (only the processes this script started)
# STATE: DROVER_NSPAWN_DIR (default /tmp/drover-nspawn-platform), as inventory/test expects.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DROVER_NSPAWN_DIR=${DROVER_NSPAWN_DIR:-/tmp/drover-nspawn-platform}
STATE=$DROVER_NSPAWN_DIR
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
    shift
    (($#)) || set -- platform-test-1:22700
    mkdir -p "$STATE"
    printf '%s\n' "${@%%:*}" >"$STATE/.hosts"
    release
    http_up
    pids=()
    for spec in "$@"; do
      (
        host=${spec%%:*} port=${spec##*:}
        "$NSPAWN" up "$host" "$port" >/dev/null
        # Cloud images (Ubuntu 24.04, Debian 12 on EC2) ship curl; the test rootfs does not.
        ssh -F "$STATE/$host/ssh_config" "$host" \
          'command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; } >/dev/null 2>&1'
      ) &
      pids+=($!)
    done
    rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    ((rc == 0)) || { echo "hosts.sh: a host did not start" >&2; exit 1; }
    echo "$STATE"
    ;;
  down)
    http_down
    if [[ -r $STATE/.hosts ]]; then
      while read -r host; do
        [[ -n $host ]] && { "$NSPAWN" down "$host" || true; }
      done <"$STATE/.hosts"
      rm -f "$STATE/.hosts"
    fi
    ;;
  *) echo "usage: hosts.sh up|down" >&2; exit 2 ;;
esac
