#!/usr/bin/env bash
# Build (once) and cache the Debian bookworm root filesystem that every test
# host runs on.  Prints the path of the ready rootfs on stdout; all progress
# goes to stderr so callers can do `rootfs=$(tests/hosts/rootfs.sh)`.
#
#   tests/hosts/rootfs.sh [--python]
#
# Environment:
#   DROVER_ROOTFS_CACHE   cache path (default /var/cache/drover-test/rootfs)
#   DROVER_ROOTFS_PYTHON  1 = build/return the "-python" variant (same as --python)
#   DROVER_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   DROVER_ROOTFS_EXTRA_PACKAGES  a,b: more packages, in a variant of their own (<path>-a-b)
#
# The default variant deliberately has NO python3: drover must manage hosts
# that lack it.  The python variant exists only for differential runs against
# ansible-playbook.
set -euo pipefail

# Bump when anything below changes what ends up in the rootfs: a cached rootfs
# whose marker differs is rebuilt, so stale caches in CI can't hide changes.
ROOTFS_VERSION=5
BASE_PACKAGES=openssh-server,sudo,ca-certificates,procps,iproute2,curl,cron,unzip

log() { printf 'rootfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

python=${DROVER_ROOTFS_PYTHON:-0}
for arg in "$@"; do
  case $arg in
    --python) python=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)"

cache=${DROVER_ROOTFS_CACHE:-/var/cache/drover-test/rootfs}
mirror=${DROVER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=$BASE_PACKAGES
target=$cache
if [[ $python == 1 ]]; then
  # python3-apt: Ansible's apt module needs it on the target (the bench's workload b).
  packages+=,python3,python3-apt
  target=${cache}-python
fi
# Extra packages a caller needs (the upstream targets want acl and file) make a
# variant of their own, so the images other suites share stay as they are.
extra=${DROVER_ROOTFS_EXTRA_PACKAGES:-}
if [[ -n $extra ]]; then
  [[ $extra =~ ^[a-z0-9.+-]+(,[a-z0-9.+-]+)*$ ]] || die "DROVER_ROOTFS_EXTRA_PACKAGES: comma-separated package names: $extra"
  packages+=,$extra
  target+=-${extra//,/-}
fi
# The path ends up inside overlayfs mount options, where ',' and ':' are
# separators and whitespace breaks our own option strings.
[[ $target == /* && $target != *[,:[:space:]]* ]] \
  || die "cache path must be absolute without ',', ':' or spaces: $target"

version="drover-rootfs v$ROOTFS_VERSION bookworm minbase $packages"
marker=.drover-rootfs-complete

is_complete() { [[ -f $1/$marker && $(<"$1/$marker") == "$version" ]]; }

# Fast path, no lock needed: a complete rootfs is never modified in place.
if is_complete "$target"; then
  printf '%s\n' "$target"
  exit 0
fi

# Host-side tools.  openssh-server is deliberately NOT installed on the
# machine itself: on Debian that would start a system sshd on 0.0.0.0:22.
# The test hosts run the sshd inside the rootfs instead.
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
if ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  need+=(openssh-client)
fi
command -v unshare >/dev/null || need+=(util-linux)
command -v flock >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Try without `apt-get update` first: it is slow and often unnecessary.
  apt-get install -y -q "${need[@]}" </dev/null >&2 \
    || { apt-get update -q </dev/null >&2 && apt-get install -y -q "${need[@]}" </dev/null >&2; }
fi

mkdir -p "$(dirname "$target")"
# Serialise builders (two CI steps, two terminals): the loser waits and then
# finds the winner's finished rootfs.
exec 9>"$target.lock"
flock 9
if is_complete "$target"; then
  printf '%s\n' "$target"
  exit 0
fi

# Replacing a rootfs that running hosts use as their overlay lower layer would
# corrupt them.  Hosts live in other mount namespaces, hence the scan of every
# process's mountinfo.
in_use() {
  grep -qsF -e "lowerdir=$1," -e "lowerdir=$1:" /proc/[0-9]*/mountinfo
}
if [[ -e $target ]] && in_use "$target"; then
  die "$target is outdated but in use by running test hosts; run tests/hosts/down first"
fi

# Unmount anything still mounted below $1 (an interrupted debootstrap leaves
# proc/sys mounted in its target), deepest first, then delete it.  Never
# rm -rf across a mount point: that would wipe the real /proc or /dev.
safe_remove() {
  local dir=$1 mnt
  [[ -e $dir ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of earlier interrupted builds (we hold the lock, so nobody else
# is writing them).
for stale in "$target".tmp.* "$target".old.*; do
  [[ -e $stale ]] && { log "removing stale $stale"; safe_remove "$stale"; }
done

tmp=$(mktemp -d "$target.tmp.XXXXXX")
trap 'safe_remove "$tmp"' EXIT
# Hold the mode of the final rootfs "/" at the usual 0755 (mktemp gives 0700,
# which non-root users inside the hosts would trip over).
chmod 0755 "$tmp"

log "debootstrap bookworm ($packages) into $tmp"
start=$(date +%s)
# nice: debootstrap shares the machine with Rust builds.
nice -n 10 debootstrap --variant=minbase --include="$packages" \
  bookworm "$tmp" "$mirror" </dev/null >&2
log "debootstrap took $(($(date +%s) - start))s"

in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$tmp" "$@"; }

# Users exercised by the tests:
#   deploy - passwordless sudo (the common CI/automation setup)
#   secure - sudo needs a password, for become_password tests
in_root useradd --create-home --shell /bin/bash --user-group deploy
in_root useradd --create-home --shell /bin/bash --user-group secure
# useradd leaves the password as "!" (locked).  With UsePAM no, sshd refuses
# pubkey logins into locked accounts, so give deploy "*" (no valid password,
# but not locked): the image then works whichever UsePAM a test sets.
in_root usermod --password '*' deploy
printf 'secure:secure-pass\n' | in_root chpasswd

install -m 0440 /dev/stdin "$tmp/etc/sudoers.d/drover-deploy" <<'EOF'
deploy ALL=(ALL) NOPASSWD:ALL
EOF
install -m 0440 /dev/stdin "$tmp/etc/sudoers.d/drover-secure" <<'EOF'
secure ALL=(ALL) ALL
EOF
in_root visudo -c -q >&2 || die "sudoers check failed"

# Debian's sshd_config includes sshd_config.d/*.conf at its very top and the
# first value seen wins, so these override the distribution defaults.
install -m 0644 /dev/stdin "$tmp/etc/ssh/sshd_config.d/10-drover.conf" <<'EOF'
# drover test host: key-only logins, root allowed.
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# PAM as on a stock Debian host (pam_env, limits, loginuid all work in the
# namespaces; measured: no extra connection latency versus UsePAM no).
UsePAM yes
# No reverse DNS lookups on 127.0.0.1 peers.
UseDNS no
# Benchmarks open many concurrent connections/channels per host.
MaxStartups 100:30:200
MaxSessions 64
EOF

# Host keys for the shared image; `up` replaces them per host so each host
# has its own identity (changed-host-key tests depend on that).
in_root ssh-keygen -A >&2
printf 'drover-rootfs\n' >"$tmp/etc/hostname"
in_root apt-get clean
# debootstrap copies the build machine's resolv.conf/hosts; `up` provides
# the runtime ones, so drop anything machine specific.
rm -f "$tmp/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"

printf '%s\n' "$version" >"$tmp/$marker"

# Checked again: hosts may have started while we were building.
if [[ -e $target ]]; then
  in_use "$target" && die "$target is outdated but in use by running test hosts; run tests/hosts/down first"
  old=$(mktemp -d "$target.old.XXXXXX")
  mv -T "$target" "$old/rootfs"
  safe_remove "$old"
fi
mv -T "$tmp" "$target"
trap - EXIT
log "ready: $target"
printf '%s\n' "$target"
