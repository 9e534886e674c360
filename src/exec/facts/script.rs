//! The one command that gathers the facts on a host.

/// The command. It runs on every host at the start of every run, and every process it
/// starts there (a fork and an exec: about a millisecond of the host's CPU, with 100 hosts
/// gathering at once) costs the run: so the shell's builtins (`read`, `case`, `test`,
/// `printf`, `cd -P`, `command -v`) do all they can, ONE `grep` prints every small file the
/// facts come from (`/proc`, `/sys`, `/etc`; each line as `path:line`, the environment and
/// the kernel command line included), and the controller parses them (`key_values`). The
/// other commands run once each: `getent`, `getconf`, `hostname -f`, `date` (the clock and
/// both zone names through `-f -`), `stat -f` (every mount in one call), `ip` (addresses
/// and both default routes in one `-batch`): 7 processes on a Debian 12 host (there were
/// about 125), and `lsb_release -a` where it is installed (a shell script on Debian 12
/// that starts 8 more). A command substitution forks too: one here only ever wraps one
/// external command (which the forked shell then execs), never a builtin; here-documents
/// are quoted (an unquoted one may fork to expand).
///
/// Output: `key=value` lines, and sections `@name` … `@` holding one command's raw output.
/// The fallbacks (`id`, `uname`, `nproc`, one `date` per value, one `ip` per kind) run
/// only where `/proc`, GNU `date -f` or `ip -batch` is missing.
pub(super) const SCRIPT: &str = r#"
_fu= _feu= _fg= _feg= _fc=
if [ -r /proc/self/status ]; then
  while read -r _fk _fa _fb _fr; do
    case $_fk in
      Uid:) _fu=$_fa _feu=$_fb ;;
      Gid:) _fg=$_fa _feg=$_fb ;;
      Cpus_allowed_list:) _fc=$_fa ;;
    esac
  done < /proc/self/status
fi
if [ -z "$_feu" ]; then _fu=$(id -ru) _feu=$(id -u) _fg=$(id -rg) _feg=$(id -g); fi
printf 'user_uid=%s\nuser_gid=%s\nids=%s %s %s %s\nuser_dir=%s\n' "$_feu" "$_feg" "$_fu" "$_feu" "$_fg" "$_feg" "$HOME"
if [ -n "$_fc" ]; then printf 'cpus_allowed=%s\n' "$_fc"; else printf 'nproc=%s\n' "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"; fi
printf '@files\n'
_fn=/sys/class/net _fi=/sys/devices/virtual/dmi/id
grep -asH '' /proc/self/environ /proc/cmdline /proc/sys/kernel/ostype /proc/sys/kernel/osrelease \
  /proc/sys/kernel/version /proc/sys/kernel/arch /proc/sys/kernel/hostname /proc/1/comm \
  /proc/meminfo /proc/cpuinfo /proc/uptime /proc/loadavg /proc/sys/crypto/fips_enabled \
  /etc/os-release /etc/debian_version /etc/resolv.conf /etc/ssh/ssh_host_*_key.pub \
  "$_fn"/*/type "$_fn"/*/flags "$_fn"/*/mtu "$_fn"/*/address "$_fn"/*/speed \
  "$_fi"/bios_date "$_fi"/bios_vendor "$_fi"/bios_version "$_fi"/board_asset_tag \
  "$_fi"/board_name "$_fi"/board_serial "$_fi"/board_vendor "$_fi"/board_version \
  "$_fi"/chassis_asset_tag "$_fi"/chassis_serial "$_fi"/chassis_vendor "$_fi"/chassis_version \
  "$_fi"/product_name "$_fi"/product_serial "$_fi"/product_uuid "$_fi"/product_version \
  "$_fi"/sys_vendor 2>/dev/null
printf '@\n'
[ -r /proc/sys/kernel/ostype ] || printf 'system=%s\nkernel=%s\nkernel_version=%s\n' "$(uname -s)" "$(uname -r)" "$(uname -v)"
[ -r /proc/sys/kernel/arch ] || printf 'architecture=%s\n' "$(uname -m)"
[ -r /proc/sys/kernel/hostname ] || printf 'hostname=%s\n' "$(hostname 2>/dev/null)"
_fq=$(hostname -f 2>/dev/null) || _fq=$(hostname 2>/dev/null)
printf 'fqdn=%s\n' "$_fq"
printf 'passwd=%s\n' "$(getent passwd "$_feu" 2>/dev/null)"
printf 'long_bit=%s\n' "$(getconf LONG_BIT 2>/dev/null)"
[ -d /run/systemd/system ] && echo "systemd_booted=1"
for _fm in apt-get dnf yum apk zypper pacman; do if command -v $_fm >/dev/null 2>&1; then echo "pkg=$_fm"; break; fi; done
[ -d /sys/kernel/security/apparmor ] && echo "apparmor=1"
[ -d /sys/fs/selinux ] && echo "selinux=1"
[ -r /proc/1/root/. ] && ! [ / -ef /proc/1/root/. ] && echo "chroot=1"
printf '@date\n'
date -f - '+%s %Y %m %d %H %M %S %Z %z %A %w %W %N' 2>/dev/null <<'EOF'
now
jan 1
jul 1
EOF
_fr=$?
printf '@\n'
if [ "$_fr" != 0 ]; then
  echo "date_epoch=$(date +%s)"
  echo "date_now=$(date '+%Y %m %d %H %M %S %Z %z %A %w %W %N')"
  echo "date_utc=$(date -u '+%Y-%m-%dT%H:%M:%S %N')"
  _fy=$(date +%Y); echo "tz_names=$(date -d "$_fy-01-01" '+%Z %z' 2>/dev/null) $(date -d "$_fy-07-01" '+%Z %z' 2>/dev/null)"
fi
if command -v ip >/dev/null 2>&1; then
  _fo=$(ip -o -force -batch - 2>/dev/null <<'EOF'
address show
route show default
link show lo
route show table all exact ::/0
EOF
)
  if [ -n "$_fo" ]; then
    printf '@ip\n%s\n@\n' "$_fo"
  else
    printf '@addr\n'; ip -o addr show 2>/dev/null; printf '@\n'
    printf '@route4\n'; ip -4 route show default 2>/dev/null; printf '@\n'
    printf '@route6\n'; ip -6 route show default 2>/dev/null; printf '@\n'
  fi
fi
set --
if [ -r /proc/mounts ]; then
  while read -r _md _mm _mt _mo _m1 _m2; do
    case $_md in /*) ;; *) continue ;; esac
    printf 'mount=%s %s %s %s %s %s\n' "$_md" "$_mm" "$_mt" "$_mo" "$_m1" "$_m2"
    set -- "$@" "$_mm"
  done < /proc/mounts
fi
if [ $# -gt 0 ]; then printf '@statfs\n'; stat -f -c '%S %b %f %a %c %d %n' "$@" 2>/dev/null; printf '@\n'; fi
if command -v lsb_release >/dev/null 2>&1; then printf '@lsb\n'; lsb_release -a 2>/dev/null; printf '@\n'; fi
if [ -d /sys/class/net ]; then
  for _fd in /sys/class/net/*; do
    _fp=
    [ -L "$_fd/device" ] && cd -P "$_fd/device" 2>/dev/null && _fp=${PWD##*/}
    printf 'if=%s %s\n' "${_fd##*/}" "$_fp"
  done
fi
"#;
