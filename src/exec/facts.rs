//! Fact gathering: ONE remote `sh` command (POSIX sh and coreutils, no Python) that
//! prints `key=value` lines, turned into `ansible_facts` and the `ansible_*` names.

use crate::connection::Connection;
use crate::diagnostics::Result;
use crate::vars::Vars;
use minijinja::Value;

const SCRIPT: &str = r#"
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "architecture=$(uname -m)"
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname 2>/dev/null)"
echo "user_id=$(id -un)"
echo "user_uid=$(id -u)"
echo "user_gid=$(id -g)"
echo "user_dir=$HOME"
echo "nproc=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
awk '/^MemTotal:/{print "memtotal_kb="$2} /^MemFree:/{print "memfree_kb="$2} /^SwapTotal:/{print "swaptotal_kb="$2}' /proc/meminfo 2>/dev/null
if [ -r /etc/os-release ]; then sed -n 's/^\(ID\|VERSION_ID\|VERSION_CODENAME\|NAME\|PRETTY_NAME\|ID_LIKE\)=/os_\1=/p' /etc/os-release; fi
[ -r /etc/debian_version ] && echo "debian_version=$(cat /etc/debian_version)"
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo "systemd_booted=1"
for m in apt-get dnf yum apk zypper pacman; do if command -v $m >/dev/null 2>&1; then echo "pkg=$m"; break; fi; done
if command -v ip >/dev/null 2>&1; then
  ip -4 route show default 2>/dev/null | awk 'NR==1{for(i=1;i<=NF;i++){if($i=="dev")print "default_if="$(i+1); if($i=="via")print "default_gw="$(i+1)}}'
fi
echo "date_epoch=$(date +%s)"
# The rest of Ansible's Linux facts (`ansible -m setup` on the same host is the
# reference, tests/facts_vs_ansible.rs). One `key=value` line each; lines of several
# values are space-separated; environment and command line travel base64'd.
echo "kernel_version=$(uname -v)"
echo "user_gecos=$(getent passwd "$(id -u)" | cut -d: -f5 | cut -d, -f1)"
echo "user_shell=$(getent passwd "$(id -u)" | cut -d: -f7)"
echo "ids=$(id -ru) $(id -u) $(id -rg) $(id -g)"
echo "long_bit=$(getconf LONG_BIT 2>/dev/null)"
echo "env_b64=$(env -0 | base64 -w0)"
echo "cmdline_b64=$(base64 -w0 /proc/cmdline 2>/dev/null)"
echo "date_now=$(date '+%Y %m %d %H %M %S %Z %z %A %w %W %N')"
echo "date_utc=$(date -u '+%Y-%m-%dT%H:%M:%S %N')"
y=$(date +%Y); echo "tz_names=$(date -d "$y-01-01" '+%Z %z' 2>/dev/null) $(date -d "$y-07-01" '+%Z %z' 2>/dev/null)"
awk '/^(MemTotal|MemFree|Buffers|Cached|SwapTotal|SwapFree|SwapCached):/{sub(":","",$1); print "mem_"$1"="$2}' /proc/meminfo 2>/dev/null
echo "uptime=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)"
echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
awk -F': *' '/^processor/{print "cpu_index="$2} /^vendor_id/{print "cpu_vendor="$2} /^model name/{print "cpu_model="$2} /^physical id/{print "cpu_socket="$2} /^cpu cores/{print "cpu_cores="$2} /^siblings/{print "cpu_siblings="$2}' /proc/cpuinfo 2>/dev/null
if [ -d /sys/class/net ]; then
  for d in /sys/class/net/*; do
    n=${d##*/}
    pci=; [ -L $d/device ] && pci=$(basename "$(readlink $d/device)")
    echo "if=$n $(cat $d/type 2>/dev/null) $(cat $d/flags 2>/dev/null) $(cat $d/mtu 2>/dev/null) $(cat $d/address 2>/dev/null) $(cat $d/speed 2>/dev/null) $pci"
  done
fi
if command -v ip >/dev/null 2>&1; then
  ip -o addr show 2>/dev/null | awk '{b=""; s=""; for(i=5;i<=NF;i++){if($i=="brd")b=$(i+1); if($i=="scope")s=$(i+1)} print "addr="$2" "$3" "$4" "s" "b}'
  ip -6 route show default 2>/dev/null | awk 'NR==1{for(i=1;i<=NF;i++){if($i=="dev")print "default6_if="$(i+1); if($i=="via")print "default6_gw="$(i+1)}}'
fi
if [ -r /etc/resolv.conf ]; then sed -n 's/^[[:space:]]*\(nameserver\|domain\|search\|options\|sortlist\)[[:space:]]\+/dns_\1=/p' /etc/resolv.conf; fi
while read -r dev mnt fs opts dump pass; do
  case $dev in /*) ;; *) continue ;; esac
  echo "mount=$dev $mnt $fs $opts $dump $pass $(stat -f -c '%S %b %f %a %c %d' "$mnt" 2>/dev/null)"
done < /proc/mounts 2>/dev/null
for k in /etc/ssh/ssh_host_*_key.pub; do [ -r "$k" ] && echo "hostkey=${k##*/} $(cut -d' ' -f1,2 "$k")"; done
[ "$(cat /proc/sys/crypto/fips_enabled 2>/dev/null)" = 1 ] && echo "fips=1"
[ -d /sys/kernel/security/apparmor ] && echo "apparmor=1"
[ -d /sys/fs/selinux ] && echo "selinux=1"
[ -r /proc/1/root/. ] && [ "$(stat -c %d:%i / 2>/dev/null)" != "$(stat -c %d:%i /proc/1/root/. 2>/dev/null)" ] && echo "chroot=1"
if command -v lsb_release >/dev/null 2>&1; then
  echo "lsb=$(lsb_release -s -i 2>/dev/null)|$(lsb_release -s -r 2>/dev/null)|$(lsb_release -s -c 2>/dev/null)|$(lsb_release -s -d 2>/dev/null)"
fi
for f in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version product_name product_serial product_uuid product_version sys_vendor; do
  echo "dmi_$f=$(cat /sys/devices/virtual/dmi/id/$f 2>/dev/null || echo NA)"
done
"#;

/// Gather facts from a host in one round trip.
pub fn gather(conn: &mut dyn Connection) -> Result<Vars> {
    let out = conn.exec(SCRIPT, None)?;
    Ok(to_facts(&out.stdout_str()))
}

fn to_facts(text: &str) -> Vars {
    let kv: std::collections::HashMap<&str, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k, v.trim_matches('"').to_string()))
        .collect();

    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let num = |k: &str| get(k).parse::<i64>().unwrap_or(0);
    let mut f = Vars::new();
    let mut put = |k: &str, v: Value| {
        f.insert(k.to_string(), v);
    };
    let os_id = get("os_ID");
    let (distribution, family) = match os_id.as_str() {
        "debian" => ("Debian", "Debian"),
        "ubuntu" => ("Ubuntu", "Debian"),
        "centos" => ("CentOS", "RedHat"),
        "rhel" => ("RedHat", "RedHat"),
        "rocky" => ("Rocky", "RedHat"),
        "almalinux" => ("AlmaLinux", "RedHat"),
        "fedora" => ("Fedora", "RedHat"),
        "alpine" => ("Alpine", "Alpine"),
        "arch" => ("Archlinux", "Archlinux"),
        _ => ("", ""),
    };
    let distribution = if distribution.is_empty() {
        get("os_NAME")
    } else {
        distribution.to_string()
    };
    let family = if family.is_empty() {
        distribution.clone()
    } else {
        family.to_string()
    };
    let version = if os_id == "debian" && !get("debian_version").is_empty() {
        get("debian_version")
    } else {
        get("os_VERSION_ID")
    };
    let major = version.split('.').next().unwrap_or("").to_string();
    put("distribution", Value::from(distribution));
    put("distribution_version", Value::from(version.clone()));
    put("distribution_major_version", Value::from(major));
    put(
        "distribution_release",
        Value::from(get("os_VERSION_CODENAME")),
    );
    put("os_family", Value::from(family));
    put("system", Value::from(get("system")));
    put("kernel", Value::from(get("kernel")));
    let arch = get("architecture");
    put("architecture", Value::from(arch.clone()));
    put("machine", Value::from(arch));
    let hostname = get("hostname");
    put("nodename", Value::from(hostname.clone()));
    put(
        "hostname",
        Value::from(hostname.split('.').next().unwrap_or("").to_string()),
    );
    put("fqdn", Value::from(get("fqdn")));
    put("user_id", Value::from(get("user_id")));
    put("user_uid", Value::from(num("user_uid")));
    put("user_gid", Value::from(num("user_gid")));
    put("user_dir", Value::from(get("user_dir")));
    put("memtotal_mb", Value::from(num("memtotal_kb") / 1024));
    put("memfree_mb", Value::from(num("memfree_kb") / 1024));
    put("swaptotal_mb", Value::from(num("swaptotal_kb") / 1024));
    // As Ansible: systemd when PID 1 is systemd (Debian's /sbin/init is a link to it, so
    // its comm may read `init`) and /run/systemd/system exists; else PID 1's name.
    let pid1 = get("pid1");
    let mgr = match pid1.as_str() {
        "systemd" | "init" if kv.contains_key("systemd_booted") => "systemd".to_string(),
        "init" => "sysvinit".to_string(),
        "" => "unknown".to_string(),
        other => other.to_string(),
    };
    put("service_mgr", Value::from(mgr));
    let pkg = match get("pkg").as_str() {
        "apt-get" => "apt".to_string(),
        "" => "unknown".to_string(),
        other => other.to_string(),
    };
    put("pkg_mgr", Value::from(pkg));
    put(
        "date_time",
        Value::from_iter(date_time(
            &get("date_now"),
            &get("date_utc"),
            &get("tz_names"),
            &get("date_epoch"),
        )),
    );
    for (k, v) in more_facts(&kv, text) {
        f.insert(k, v);
    }
    f
}

/// The values of a key printed once per item (interfaces, addresses, mounts, CPUs …), in
/// order.
fn all_values<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}

/// `ansible_date_time`, as Ansible's date_time collector builds it from the host's clock.
fn date_time(now: &str, utc: &str, tz_names: &str, epoch: &str) -> Vars {
    let p: Vec<&str> = now.split(' ').collect();
    let mut d = Vars::new();
    if p.len() < 12 {
        d.insert("epoch".into(), Value::from(epoch));
        return d;
    }
    let (year, month, day, hour, minute, second) = (p[0], p[1], p[2], p[3], p[4], p[5]);
    let micro = &p[11].get(..6).unwrap_or("000000");
    let (utc_time, utc_nanos) = utc.split_once(' ').unwrap_or((utc, "000000"));
    let utc_micro = utc_nanos.get(..6).unwrap_or("000000");
    // tzname[1]: the zone's daylight-saving name (the std one when it has none), i.e. of
    // January and July the name whose offset is the larger.
    let tz: Vec<&str> = tz_names.split(' ').collect();
    let tz_dst = match tz.as_slice() {
        [a, ao, b, bo] => {
            if bo.parse::<i32>().unwrap_or(0) > ao.parse::<i32>().unwrap_or(0) {
                *b
            } else {
                *a
            }
        }
        _ => p[6],
    };
    let s = |v: &str| Value::from(v.to_string());
    for (k, v) in [
        ("year", s(year)),
        ("month", s(month)),
        ("weekday", s(p[8])),
        ("weekday_number", s(p[9])),
        ("weeknumber", s(p[10])),
        ("day", s(day)),
        ("hour", s(hour)),
        ("minute", s(minute)),
        ("second", s(second)),
        ("epoch", s(epoch)),
        ("epoch_int", s(epoch)),
        ("date", Value::from(format!("{year}-{month}-{day}"))),
        ("time", Value::from(format!("{hour}:{minute}:{second}"))),
        (
            "iso8601_micro",
            Value::from(format!("{utc_time}.{utc_micro}Z")),
        ),
        ("iso8601", Value::from(format!("{utc_time}Z"))),
        (
            "iso8601_basic",
            Value::from(format!("{year}{month}{day}T{hour}{minute}{second}{micro}")),
        ),
        (
            "iso8601_basic_short",
            Value::from(format!("{year}{month}{day}T{hour}{minute}{second}")),
        ),
        ("tz", s(p[6])),
        ("tz_dst", s(tz_dst)),
        ("tz_offset", s(p[7])),
    ] {
        d.insert(k.into(), v);
    }
    d
}

/// Dotted netmask of a prefix length.
fn netmask(prefix: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0))
}

/// Ansible's interface `type`, from the kernel's ARPHRD number.
fn link_type(arphrd: &str) -> &'static str {
    match arphrd {
        "1" => "ether",
        "32" => "infiniband",
        "512" => "ppp",
        "772" => "loopback",
        "65534" => "tunnel",
        _ => "unknown",
    }
}

/// Interfaces, addresses, default routes, DNS; CPUs, memory, mounts; users, environment,
/// command line, host keys and the rest (see the README's facts table for what is left
/// out).
fn more_facts(kv: &std::collections::HashMap<&str, String>, text: &str) -> Vars {
    let all = |key: &str| all_values(text, key);
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let num = |k: &str| get(k).parse::<i64>().unwrap_or(0);
    let s = |v: &str| Value::from(v.to_string());
    let mut f = Vars::new();
    // users and processes
    f.insert("kernel_version".into(), s(&get("kernel_version")));
    f.insert("user_gecos".into(), s(&get("user_gecos")));
    f.insert("user_shell".into(), s(&get("user_shell")));
    let ids: Vec<i64> = get("ids")
        .split(' ')
        .filter_map(|x| x.parse().ok())
        .collect();
    if let [ruid, euid, rgid, egid] = ids[..] {
        f.insert("real_user_id".into(), Value::from(ruid));
        f.insert("effective_user_id".into(), Value::from(euid));
        f.insert("real_group_id".into(), Value::from(rgid));
        f.insert("effective_group_id".into(), Value::from(egid));
    }
    let bits = get("long_bit");
    f.insert("userspace_bits".into(), s(&bits));
    let arch = get("architecture");
    let userspace_arch = match (arch.as_str(), bits.as_str()) {
        ("x86_64", "32") => "i386".to_string(),
        _ => arch.clone(),
    };
    f.insert("userspace_architecture".into(), s(&userspace_arch));
    let b64 = |k: &str| {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, get(k))
            .unwrap_or_default()
    };
    let env: Vars = b64("env_b64")
        .split(|b| *b == 0)
        .filter_map(|e| {
            let e = String::from_utf8_lossy(e);
            let (k, v) = e.split_once('=')?;
            Some((k.to_string(), Value::from(v.to_string())))
        })
        .collect();
    let mut env: Vec<_> = env.into_iter().collect();
    env.sort_by(|a, b| a.0.cmp(&b.0));
    f.insert("env".into(), Value::from_iter(env));
    // The kernel command line: `cmdline` keeps the last value of a key, `proc_cmdline`
    // all of them (a list when repeated); a bare word is `true`.
    let line = String::from_utf8_lossy(&b64("cmdline_b64"))
        .trim()
        .to_string();
    let mut last = Vars::new();
    let mut every: indexmap::IndexMap<String, Vec<Value>> = Default::default();
    for word in line.split_whitespace() {
        let (k, v) = match word.split_once('=') {
            Some((k, v)) => (k, Value::from(v)),
            None => (word, Value::from(true)),
        };
        last.insert(k.to_string(), v.clone());
        every.entry(k.to_string()).or_default().push(v);
    }
    let sorted = |v: Vars| {
        let mut v: Vec<_> = v.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Value::from_iter(v)
    };
    f.insert("cmdline".into(), sorted(last));
    f.insert(
        "proc_cmdline".into(),
        sorted(
            every
                .into_iter()
                .map(|(k, mut v)| {
                    (
                        k,
                        if v.len() == 1 {
                            v.remove(0)
                        } else {
                            Value::from(v)
                        },
                    )
                })
                .collect(),
        ),
    );
    // hardware
    let mem = |k: &str| num(&format!("mem_{k}")) / 1024;
    f.insert("swapfree_mb".into(), Value::from(mem("SwapFree")));
    let nocache_free = mem("MemFree") + mem("Buffers") + mem("Cached");
    f.insert(
        "memory_mb".into(),
        Value::from_iter([
            (
                "real",
                Value::from_iter([
                    ("total", mem("MemTotal")),
                    ("used", mem("MemTotal") - mem("MemFree")),
                    ("free", mem("MemFree")),
                ]),
            ),
            (
                "nocache",
                Value::from_iter([
                    ("free", nocache_free),
                    ("used", mem("MemTotal") - nocache_free),
                ]),
            ),
            (
                "swap",
                Value::from_iter([
                    ("total", mem("SwapTotal")),
                    ("free", mem("SwapFree")),
                    ("used", mem("SwapTotal") - mem("SwapFree")),
                    ("cached", mem("SwapCached")),
                ]),
            ),
        ]),
    );
    let uptime = get("uptime")
        .split('.')
        .next()
        .unwrap_or("0")
        .parse::<i64>()
        .unwrap_or(0);
    f.insert("uptime_seconds".into(), Value::from(uptime));
    let load: Vec<f64> = get("loadavg")
        .split(' ')
        .filter_map(|x| x.parse().ok())
        .collect();
    if let [one, five, fifteen] = load[..] {
        f.insert(
            "loadavg".into(),
            Value::from_iter([("1m", one), ("5m", five), ("15m", fifteen)]),
        );
    }
    let (idx, vendor, model) = (all("cpu_index"), all("cpu_vendor"), all("cpu_model"));
    let mut processor = Vec::new();
    for (i, index) in idx.iter().enumerate() {
        processor.push(s(index));
        processor.push(s(vendor.get(i).copied().unwrap_or("")));
        processor.push(s(model.get(i).copied().unwrap_or("")));
    }
    f.insert("processor".into(), Value::from(processor));
    let sockets: std::collections::BTreeSet<&str> = all("cpu_socket").into_iter().collect();
    let sockets = sockets.len().max(1) as i64;
    let cores = all("cpu_cores")
        .first()
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(1);
    let siblings = all("cpu_siblings")
        .first()
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(cores);
    let threads = (siblings / cores.max(1)).max(1);
    f.insert("processor_count".into(), Value::from(sockets));
    f.insert("processor_cores".into(), Value::from(cores));
    f.insert("processor_threads_per_core".into(), Value::from(threads));
    f.insert(
        "processor_vcpus".into(),
        Value::from(threads * cores * sockets),
    );
    f.insert("processor_nproc".into(), Value::from(num("nproc")));
    let mut mounts = Vec::new();
    for m in all("mount") {
        let w: Vec<&str> = m.split(' ').collect();
        if w.len() < 12 {
            continue;
        }
        let n = |i: usize| w[i].parse::<i64>().unwrap_or(0);
        let (frsize, blocks, bfree, bavail, files, ffree) = (n(6), n(7), n(8), n(9), n(10), n(11));
        mounts.push(Value::from_iter([
            ("mount", s(w[1])),
            ("device", s(w[0])),
            ("fstype", s(w[2])),
            ("options", s(w[3])),
            ("dump", Value::from(n(4))),
            ("passno", Value::from(n(5))),
            ("size_total", Value::from(blocks * frsize)),
            ("size_available", Value::from(bavail * frsize)),
            ("block_size", Value::from(frsize)),
            ("block_total", Value::from(blocks)),
            ("block_available", Value::from(bavail)),
            ("block_used", Value::from(blocks - bfree)),
            ("inode_total", Value::from(files)),
            ("inode_available", Value::from(ffree)),
            ("inode_used", Value::from(files - ffree)),
            ("uuid", s("N/A")),
        ]));
    }
    f.insert("mounts".into(), Value::from(mounts));
    for k in [
        "bios_date",
        "bios_vendor",
        "bios_version",
        "board_asset_tag",
        "board_name",
        "board_serial",
        "board_vendor",
        "board_version",
        "chassis_asset_tag",
        "chassis_serial",
        "chassis_vendor",
        "chassis_version",
        "product_name",
        "product_serial",
        "product_uuid",
        "product_version",
    ] {
        f.insert(k.into(), s(&get(&format!("dmi_{k}"))));
    }
    f.insert("system_vendor".into(), s(&get("dmi_sys_vendor")));
    // security
    let status = |on: bool| Value::from_iter([("status", if on { "enabled" } else { "disabled" })]);
    f.insert("selinux".into(), status(kv.contains_key("selinux")));
    f.insert("apparmor".into(), status(kv.contains_key("apparmor")));
    f.insert("fips".into(), Value::from(kv.contains_key("fips")));
    f.insert("is_chroot".into(), Value::from(kv.contains_key("chroot")));
    for k in all("hostkey") {
        // ssh_host_ed25519_key.pub ssh-ed25519 AAAA…
        let w: Vec<&str> = k.split(' ').collect();
        if let [file, keytype, key] = w[..] {
            let alg = file
                .trim_start_matches("ssh_host_")
                .trim_end_matches("_key.pub");
            f.insert(format!("ssh_host_key_{alg}_public"), s(key));
            f.insert(format!("ssh_host_key_{alg}_public_keytype"), s(keytype));
        }
    }
    // distribution details and LSB
    let version = get("debian_version");
    if !version.is_empty() {
        f.insert("distribution_file_path".into(), s("/etc/os-release"));
        f.insert("distribution_file_variety".into(), s("Debian"));
        f.insert("distribution_file_parsed".into(), Value::from(true));
        f.insert(
            "distribution_minor_version".into(),
            s(version.split('.').nth(1).unwrap_or("NA")),
        );
    }
    let lsb = get("lsb");
    let mut l = Vars::new();
    if let [id, release, codename, description] = lsb.split('|').collect::<Vec<_>>()[..] {
        l.insert("id".into(), s(id));
        l.insert("release".into(), s(release));
        l.insert("codename".into(), s(codename));
        l.insert("description".into(), s(description));
        l.insert(
            "major_release".into(),
            s(release.split('.').next().unwrap_or("")),
        );
    }
    f.insert("lsb".into(), Value::from_iter(l));
    f.insert(
        "domain".into(),
        s(get("fqdn").split_once('.').map_or("", |(_, d)| d)),
    );
    // DNS, as Ansible reads /etc/resolv.conf
    let mut dns = Vars::new();
    let servers: Vec<Value> = all("dns_nameserver").iter().map(|v| s(v.trim())).collect();
    if !servers.is_empty() {
        dns.insert("nameservers".into(), Value::from(servers));
    }
    if let Some(d) = all("dns_domain").last() {
        dns.insert("domain".into(), s(d.trim()));
    }
    if let Some(x) = all("dns_search").last() {
        dns.insert(
            "search".into(),
            Value::from(x.split_whitespace().map(s).collect::<Vec<_>>()),
        );
    }
    if let Some(x) = all("dns_sortlist").last() {
        dns.insert(
            "sortlist".into(),
            Value::from(x.split_whitespace().map(s).collect::<Vec<_>>()),
        );
    }
    let opts: Vec<(String, Value)> = all("dns_options")
        .iter()
        .flat_map(|x| x.split_whitespace())
        .map(|o| match o.split_once(':') {
            Some((k, v)) => (k.to_string(), s(v)),
            None => (o.to_string(), Value::from(true)),
        })
        .collect();
    if !opts.is_empty() {
        dns.insert("options".into(), Value::from_iter(opts));
    }
    f.insert("dns".into(), Value::from_iter(dns));
    network_facts(&mut f, &get, text);
    f.insert("gather_subset".into(), Value::from(vec!["all"]));
    f.insert("module_setup".into(), Value::from(true));
    f
}

/// `interfaces`, one fact per interface, `all_ipv4_addresses`, `all_ipv6_addresses`,
/// `default_ipv4` and `default_ipv6` with the interface's details.
fn network_facts(f: &mut Vars, get: &dyn Fn(&str) -> String, text: &str) {
    let all = |key: &str| all_values(text, key);
    let s = |v: &str| Value::from(v.to_string());
    let mut ifaces: indexmap::IndexMap<String, Vars> = Default::default();
    for line in all("if") {
        let w: Vec<&str> = line.split(' ').collect();
        let Some(name) = w.first() else { continue };
        let flags = w
            .get(2)
            .and_then(|x| u32::from_str_radix(x.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        let mut d = Vars::new();
        d.insert("device".into(), s(name));
        d.insert("active".into(), Value::from(flags & 0x1 != 0));
        d.insert("promisc".into(), Value::from(flags & 0x100 != 0));
        d.insert("type".into(), s(link_type(w.get(1).copied().unwrap_or(""))));
        d.insert(
            "mtu".into(),
            Value::from(w.get(3).and_then(|m| m.parse::<i64>().ok()).unwrap_or(0)),
        );
        match w.get(4) {
            Some(mac) if !mac.is_empty() && *mac != "00:00:00:00:00:00" => {
                d.insert("macaddress".into(), s(mac));
            }
            _ => {}
        }
        if let Some(speed) = w.get(5).and_then(|x| x.parse::<i64>().ok()) {
            d.insert("speed".into(), Value::from(speed));
        }
        if let Some(pci) = w.get(6).filter(|x| !x.is_empty()) {
            d.insert("pciid".into(), s(pci));
        }
        ifaces.insert(name.to_string(), d);
    }
    let (mut all4, mut all6) = (Vec::new(), Vec::new());
    let mut v6: indexmap::IndexMap<String, Vec<Value>> = Default::default();
    for line in all("addr") {
        // dev family address/prefix scope broadcast
        let w: Vec<&str> = line.split(' ').collect();
        if w.len() < 4 {
            continue;
        }
        let (dev, family, cidr, scope) = (w[0], w[1], w[2], w[3]);
        let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
        if family == "inet" {
            all4.push(s(addr));
            let bits = prefix.parse::<u32>().unwrap_or(32);
            let mask = netmask(bits);
            let network = addr
                .parse::<std::net::Ipv4Addr>()
                .map(|a| std::net::Ipv4Addr::from(u32::from(a) & u32::from(mask)).to_string())
                .unwrap_or_default();
            let ipv4 = Value::from_iter([
                ("address", s(addr)),
                ("broadcast", s(w.get(4).copied().unwrap_or(""))),
                ("netmask", s(&mask.to_string())),
                ("network", s(&network)),
                ("prefix", s(prefix)),
            ]);
            // The first address is the interface's `ipv4`, as in Ansible.
            if let Some(d) = ifaces.get_mut(dev) {
                d.entry("ipv4".into()).or_insert(ipv4);
            }
        } else if family == "inet6" {
            all6.push(s(addr));
            v6.entry(dev.to_string())
                .or_default()
                .push(Value::from_iter([
                    ("address", s(addr)),
                    ("prefix", s(prefix)),
                    ("scope", s(scope)),
                ]));
        }
    }
    for (dev, list) in v6 {
        if let Some(d) = ifaces.get_mut(&dev) {
            d.insert("ipv6".into(), Value::from(list));
        }
    }
    // Every address but the loopback one, as Ansible lists them.
    let without = |list: Vec<Value>, loopback: &str| {
        Value::from(
            list.into_iter()
                .filter(|a| a.as_str() != Some(loopback))
                .collect::<Vec<_>>(),
        )
    };
    f.insert("all_ipv4_addresses".into(), without(all4, "127.0.0.1"));
    f.insert("all_ipv6_addresses".into(), without(all6, "::1"));
    f.insert(
        "interfaces".into(),
        Value::from(ifaces.keys().cloned().collect::<Vec<_>>()),
    );
    // The default routes' interfaces, with the route's gateway and the interface's first
    // address of that family.
    let default = |dev: &str, gw: &str, v6: bool| -> Vars {
        let mut out = Vars::new();
        let Some(d) = ifaces.get(dev) else { return out };
        let addr = if v6 {
            d.get("ipv6")
                .and_then(|l| l.get_item_by_index(0).ok())
                .filter(|a| !a.is_undefined())
        } else {
            d.get("ipv4").cloned()
        };
        if let Some(a) = addr {
            if let Ok(items) = a.try_iter() {
                for k in items {
                    if let Ok(v) = a.get_item(&k) {
                        out.insert(k.to_string(), v);
                    }
                }
            }
        }
        out.insert("gateway".into(), s(gw));
        out.insert("interface".into(), s(dev));
        for k in ["macaddress", "mtu", "type"] {
            if let Some(v) = d.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        if !v6 {
            out.insert("alias".into(), s(dev));
        }
        out.sort_keys();
        out
    };
    f.insert(
        "default_ipv4".into(),
        Value::from_iter(default(&get("default_if"), &get("default_gw"), false)),
    );
    f.insert(
        "default_ipv6".into(),
        Value::from_iter(default(&get("default6_if"), &get("default6_gw"), true)),
    );
    for (name, d) in ifaces {
        let mut d: Vec<_> = d.into_iter().collect();
        d.sort_by(|a, b| a.0.cmp(&b.0));
        f.insert(name.replace(['-', ':', '.'], "_"), Value::from_iter(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_debian_host() {
        let f = to_facts("system=Linux\narchitecture=x86_64\nhostname=web1.example\nos_ID=debian\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\ndebian_version=12.8\nnproc=2\nmemtotal_kb=2048000\npid1=systemd\npkg=apt-get\n");
        assert_eq!(f["distribution"], Value::from("Debian"));
        assert_eq!(f["os_family"], Value::from("Debian"));
        assert_eq!(f["distribution_major_version"], Value::from("12"));
        assert_eq!(f["distribution_release"], Value::from("bookworm"));
        assert_eq!(f["hostname"], Value::from("web1"));
        assert_eq!(f["memtotal_mb"], Value::from(2000));
        assert_eq!(f["service_mgr"], Value::from("systemd"));
        assert_eq!(f["pkg_mgr"], Value::from("apt"));
    }

    #[test]
    fn service_manager_and_default_route() {
        let f = to_facts("pid1=systemd\nsystemd_booted=1\ndefault_if=eth0\ndefault_gw=192.0.2.1\nif=eth0 1 0x1003 1500 02:00:00:00:00:01  virtio2\naddr=eth0 inet 192.0.2.2/24 global 192.0.2.255\n");
        assert_eq!(f["service_mgr"], Value::from("systemd"));
        let ip = &f["default_ipv4"];
        assert_eq!(ip.get_attr("address").unwrap(), Value::from("192.0.2.2"));
        assert_eq!(ip.get_attr("interface").unwrap(), Value::from("eth0"));
        assert_eq!(ip.get_attr("gateway").unwrap(), Value::from("192.0.2.1"));
        assert_eq!(
            ip.get_attr("netmask").unwrap(),
            Value::from("255.255.255.0")
        );
        assert_eq!(ip.get_attr("network").unwrap(), Value::from("192.0.2.0"));
        assert_eq!(
            ip.get_attr("macaddress").unwrap(),
            Value::from("02:00:00:00:00:01")
        );
        let eth0 = &f["eth0"];
        assert_eq!(eth0.get_attr("active").unwrap(), Value::from(true));
        assert_eq!(eth0.get_attr("pciid").unwrap(), Value::from("virtio2"));
        assert_eq!(f["all_ipv4_addresses"].len(), Some(1));
        // A namespace test host: sshd is PID 1, no systemd.
        let f = to_facts("pid1=sshd\n");
        assert_eq!(f["service_mgr"], Value::from("sshd"));
        assert_eq!(f["default_ipv4"].len(), Some(0));
        let f = to_facts("pid1=init\n");
        assert_eq!(f["service_mgr"], Value::from("sysvinit"));
        let f = to_facts("pid1=systemd\n");
        assert_eq!(f["service_mgr"], Value::from("systemd"));
    }
}
