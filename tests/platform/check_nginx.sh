#!/bin/sh
# nginx -t of a server configuration (an http-level conf.d file) with Debian's
# nginx binary extracted from its package (no service installed).
# Usage: check_nginx.sh FILE   NGINX_ROOT (env, default /var/cache/drover-test/nginx)
set -eu
conf=$1
root=${NGINX_ROOT:-/var/cache/drover-test/nginx}
[ -x "$root/usr/sbin/nginx" ] || { echo "check_nginx: no nginx in $root (.ci/run extracts it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs"
cat >"$tmp/nginx.conf" <<CONF
pid $tmp/nginx.pid;
error_log stderr;
events {}
http {
  include $root/etc/nginx/mime.types;
  client_body_temp_path $tmp/client;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  include $conf;
}
CONF
exec "$root/usr/sbin/nginx" -t -q -e stderr -p "$tmp" -c "$tmp/nginx.conf"
