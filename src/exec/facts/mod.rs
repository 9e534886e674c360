//! Fact gathering: ONE remote `sh` command (POSIX sh, a few standard commands, no Python)
//! whose output (`key=value` lines, the files it read, a few commands' own output) is
//! parsed here into `ansible_facts` and the `ansible_*` names.

use crate::connection::Connection;
use crate::diagnostics::Result;
use crate::vars::Vars;
use minijinja::Value;

mod network;
pub(crate) mod python;
mod raw;
mod script;

use network::*;
use raw::*;
use script::SCRIPT;

/// Whether to gather `ansible_python`, which costs a Python start (see `python`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonFact<'a> {
    /// Leave it out: nothing the run does reads it.
    Skip,
    /// Gather it, with the inventory's `ansible_python_interpreter` if it names one.
    Gather(Option<&'a str>),
}

/// Gather facts from a host in one round trip.
pub fn gather(conn: &mut dyn Connection, python: PythonFact<'_>) -> Result<Vars> {
    let out = match python {
        PythonFact::Skip => conn.exec(SCRIPT, None)?,
        PythonFact::Gather(interpreter) => {
            conn.exec(&format!("{SCRIPT}{}", python::script(interpreter)), None)?
        }
    };
    let text = out.stdout_str();
    let mut facts = to_facts(&text);
    // Its section is read only when it was asked for (a second parse of the output).
    if python != PythonFact::Skip {
        if let Some(fact) = python::fact(&Output::parse(&text)) {
            facts.insert("python".into(), fact);
        }
    }
    Ok(facts)
}

fn to_facts(text: &str) -> Vars {
    let out = Output::parse(text);
    let lines = key_values(&out);
    let kv: std::collections::HashMap<&str, String> = lines
        .iter()
        .map(|(k, v)| (k.as_str(), v.trim_matches('"').to_string()))
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
    for (k, v) in more_facts(&kv, &lines, &out) {
        f.insert(k, v);
    }
    f
}

/// The values of a key printed once per item (interfaces, addresses, mounts, CPUs …), in
/// order.
fn all_values<'t>(lines: &'t [(String, String)], key: &str) -> Vec<&'t str> {
    lines
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
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

/// Interfaces, addresses, default routes, DNS; CPUs, memory, mounts; users, environment,
/// command line, host keys and the rest (see the README's facts table for what is left
/// out).
fn more_facts(
    kv: &std::collections::HashMap<&str, String>,
    lines: &[(String, String)],
    out: &Output,
) -> Vars {
    let all = |key: &str| all_values(lines, key);
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
    // Both files whole, as they are (`grep` split them at their newlines).
    let raw = |path: &str| {
        out.files
            .get(path)
            .map(|l| l.join("\n"))
            .unwrap_or_default()
    };
    let env: Vars = raw("/proc/self/environ")
        .split('\0')
        .filter_map(|e| {
            let (k, v) = e.split_once('=')?;
            Some((k.to_string(), Value::from(v.to_string())))
        })
        .collect();
    let mut env: Vec<_> = env.into_iter().collect();
    env.sort_by(|a, b| a.0.cmp(&b.0));
    f.insert("env".into(), Value::from_iter(env));
    // The kernel command line: `cmdline` keeps the last value of a key, `proc_cmdline`
    // all of them (a list when repeated); a bare word is `true`.
    let line = raw("/proc/cmdline").trim().to_string();
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
    // Every DMI file under its own name, but sys_vendor (Ansible's system_vendor).
    for k in DMI.iter().filter(|k| **k != "sys_vendor") {
        f.insert((*k).into(), s(&get(&format!("dmi_{k}"))));
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
    network_facts(&mut f, &get, lines);
    f.insert("gather_subset".into(), Value::from(vec!["all"]));
    f.insert("module_setup".into(), Value::from(true));
    f
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
        let f = to_facts("pid1=systemd\nsystemd_booted=1\ndefault_if=eth0\ndefault_gw=192.0.2.1\n@files\n/sys/class/net/eth0/type:1\n/sys/class/net/eth0/flags:0x1003\n/sys/class/net/eth0/mtu:1500\n/sys/class/net/eth0/address:02:00:00:00:00:01\n@\nif=eth0 virtio2\naddr=eth0 inet 192.0.2.2/24 global 192.0.2.255\n");
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

    /// What the script prints on a Debian 12 host, shortened.
    const OUTPUT: &str = "user_uid=1000\nuser_gid=1000\nids=1000 1000 1000 1000\nuser_dir=/home/ann\ncpus_allowed=0-1,4\n@files\n\
/proc/self/environ:HOME=/home/ann\0MULTI=a\n/proc/self/environ:b\0PATH=/usr/bin\0\n\
/proc/cmdline:BOOT_IMAGE=/vmlinuz ro quiet console=tty0 console=ttyS0\n\
/proc/sys/kernel/ostype:Linux\n/proc/sys/kernel/osrelease:6.1.0-18-amd64\n\
/proc/sys/kernel/version:#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n\
/proc/sys/kernel/arch:x86_64\n/proc/sys/kernel/hostname:web1\n/proc/1/comm:systemd\n\
/proc/meminfo:MemTotal:        2048000 kB\n/proc/meminfo:MemFree:          512000 kB\n\
/proc/meminfo:MemAvailable:    1024000 kB\n/proc/meminfo:Buffers:           10240 kB\n\
/proc/meminfo:Cached:           204800 kB\n/proc/meminfo:SwapCached:          1024 kB\n\
/proc/meminfo:SwapTotal:       1048576 kB\n/proc/meminfo:SwapFree:         524288 kB\n\
/proc/cpuinfo:processor\t: 0\n/proc/cpuinfo:vendor_id\t: GenuineIntel\n\
/proc/cpuinfo:model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n/proc/cpuinfo:physical id\t: 0\n\
/proc/cpuinfo:siblings\t: 2\n/proc/cpuinfo:cpu cores\t: 1\n/proc/cpuinfo:flags\t\t: fpu vme\n\
/proc/cpuinfo:\n/proc/cpuinfo:processor\t: 1\n/proc/cpuinfo:vendor_id\t: GenuineIntel\n\
/proc/cpuinfo:model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n/proc/cpuinfo:physical id\t: 0\n\
/proc/cpuinfo:siblings\t: 2\n/proc/cpuinfo:cpu cores\t: 1\n\
/proc/uptime:12345.67 23456.78\n/proc/loadavg:0.50 0.25 0.10 1/123 4567\n\
/etc/os-release:PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\r\n/etc/os-release:ID=debian\n\
/etc/os-release:VERSION_ID=\"12\"\n/etc/os-release:VERSION_CODENAME=bookworm\n\
/etc/os-release:HOME_URL=\"https://www.debian.org/\"\n/etc/debian_version:12.5\n\
/etc/resolv.conf:# nameserver 192.0.2.99\n/etc/resolv.conf:nameserver 192.0.2.53\n\
/etc/resolv.conf:  nameserver\t192.0.2.54\r\n/etc/resolv.conf:nameservers 192.0.2.55\n\
/etc/resolv.conf:search example.com example.net\n/etc/resolv.conf:options ndots:2 rotate\n\
/etc/ssh/ssh_host_ed25519_key.pub:ssh-ed25519 AAAAC3 root@web1\n\
/etc/ssh/ssh_host_a:b_key.pub:ssh-rsa AAAAB3\n\
/sys/class/net/eth0/type:1\n/sys/class/net/eth0/flags:0x1003\n/sys/class/net/eth0/mtu:1500\n\
/sys/class/net/eth0/address:02:00:00:00:00:01\n/sys/class/net/eth0/speed:1000\n\
/sys/class/net/lo/type:772\n/sys/class/net/lo/flags:0x9\n/sys/class/net/lo/mtu:65536\n\
/sys/class/net/lo/address:00:00:00:00:00:00\n\
/sys/devices/virtual/dmi/id/sys_vendor:QEMU\n/sys/devices/virtual/dmi/id/product_name:Standard PC\n\
@\nfqdn=web1.example.com\npasswd=ann:x:1000:1000:Ann Example,,,:/home/ann:/bin/bash\n\
long_bit=64\nsystemd_booted=1\npkg=apt-get\n@date\n\
1700000000 2023 11 14 23 13 20 CET +0100 Tuesday 2 46 123456789\n\
1672527600 2023 01 01 00 00 00 CET +0100 Sunday 0 00 000000000\n\
1688162400 2023 07 01 00 00 00 CEST +0200 Saturday 6 26 000000000\n@\n@ip\n\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever\n\
2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
2: eth0    inet6 2001:db8::10/64 scope global \\       valid_lft forever preferred_lft forever\n\
default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.10 metric 100 \n\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n\
default dev wg0 table 51820 metric 1024 pref medium\n\
default via fe80::1 dev eth0 proto ra metric 1024 expires 1799sec hoplimit 64 pref medium\n@\n\
mount=/dev/vda1 / ext4 rw,relatime 0 0\nmount=/dev/vda15 /boot/efi vfat rw 0 0\n\
@statfs\n4096 1000 400 300 65536 60000 /\n@\n\
@lsb\nDistributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n@\n\
if=eth0 0000:00:03.0\nif=lo \n";

    fn attr(v: &Value, path: &str) -> Value {
        path.split('.')
            .fold(v.clone(), |v, k| match k.parse::<usize>() {
                Ok(i) => v.get_item_by_index(i).unwrap(),
                Err(_) => v.get_attr(k).unwrap(),
            })
    }

    #[test]
    fn reads_the_files_and_the_commands_of_one_gathering() {
        let f = to_facts(OUTPUT);
        let is = |k: &str, v: Value| {
            assert_eq!(
                attr(
                    &f[k.split('.').next().unwrap()],
                    k.split_once('.').map_or("", |p| p.1)
                ),
                v,
                "{k}"
            )
        };
        let eq = |k: &str, v: Value| assert_eq!(f[k], v, "{k}");
        eq("system", Value::from("Linux"));
        eq("kernel", Value::from("6.1.0-18-amd64"));
        eq(
            "kernel_version",
            Value::from("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"),
        );
        eq("architecture", Value::from("x86_64"));
        eq("nodename", Value::from("web1"));
        eq("fqdn", Value::from("web1.example.com"));
        eq("domain", Value::from("example.com"));
        eq("distribution", Value::from("Debian"));
        eq("distribution_version", Value::from("12.5"));
        eq("distribution_release", Value::from("bookworm"));
        eq("service_mgr", Value::from("systemd"));
        // getent's line: name, the first gecos field, shell; ids from /proc/self/status
        eq("user_id", Value::from("ann"));
        eq("user_gecos", Value::from("Ann Example"));
        eq("user_shell", Value::from("/bin/bash"));
        eq("user_uid", Value::from(1000));
        eq("effective_group_id", Value::from(1000));
        eq("user_dir", Value::from("/home/ann"));
        eq("processor_nproc", Value::from(3));
        eq("userspace_bits", Value::from("64"));
        // meminfo in kB, facts in MB
        eq("memtotal_mb", Value::from(2000));
        eq("swapfree_mb", Value::from(512));
        is("memory_mb.nocache.free", Value::from(500 + 10 + 200));
        is("memory_mb.swap.cached", Value::from(1));
        eq("uptime_seconds", Value::from(12345));
        is("loadavg.15m", Value::from(0.1));
        is("processor.2", Value::from("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        eq("processor_count", Value::from(1));
        eq("processor_threads_per_core", Value::from(2));
        // the environment and the command line whole, newlines in values included
        is("env.MULTI", Value::from("a\nb"));
        is("env.PATH", Value::from("/usr/bin"));
        is("cmdline.console", Value::from("ttyS0"));
        is("proc_cmdline.console.0", Value::from("tty0"));
        // resolv.conf: commented lines and other words are not nameservers
        is("dns.nameservers.1", Value::from("192.0.2.54"));
        assert_eq!(attr(&f["dns"], "nameservers").len(), Some(2));
        is("dns.search.1", Value::from("example.net"));
        is("dns.options.ndots", Value::from("2"));
        eq("ssh_host_key_ed25519_public", Value::from("AAAAC3"));
        eq("ssh_host_key_a:b_public_keytype", Value::from("ssh-rsa"));
        eq("system_vendor", Value::from("QEMU"));
        eq("product_name", Value::from("Standard PC"));
        eq("bios_date", Value::from("NA"));
        // one `date` for the clock and both zone names; UTC from the epoch
        is("date_time.epoch", Value::from("1700000000"));
        is("date_time.hour", Value::from("23"));
        is("date_time.iso8601", Value::from("2023-11-14T22:13:20Z"));
        is(
            "date_time.iso8601_micro",
            Value::from("2023-11-14T22:13:20.123456Z"),
        );
        is("date_time.tz", Value::from("CET"));
        is("date_time.tz_dst", Value::from("CEST"));
        // addresses, the main table's default routes (not wg0's table)
        is("default_ipv4.gateway", Value::from("192.0.2.1"));
        is("default_ipv4.address", Value::from("192.0.2.10"));
        is("default_ipv4.broadcast", Value::from("192.0.2.255"));
        is("default_ipv6.gateway", Value::from("fe80::1"));
        is("default_ipv6.interface", Value::from("eth0"));
        is("default_ipv6.address", Value::from("2001:db8::10"));
        is("lo.ipv6.0.scope", Value::from("host"));
        is("eth0.pciid", Value::from("0000:00:03.0"));
        is("eth0.speed", Value::from(1000));
        is("lo.type", Value::from("loopback"));
        eq("all_ipv4_addresses", Value::from(vec!["192.0.2.10"]));
        // a mount `stat -f` did not answer for is left out
        assert_eq!(f["mounts"].len(), Some(1));
        is("mounts.0.size_total", Value::from(4096 * 1000));
        is("mounts.0.block_used", Value::from(600));
        is("mounts.0.inode_used", Value::from(5536));
        is("lsb.id", Value::from("Debian"));
        is("lsb.major_release", Value::from("12"));
        is(
            "lsb.description",
            Value::from("Debian GNU/Linux 12 (bookworm)"),
        );
    }

    #[test]
    fn files_are_read_as_cat_cut_awk_and_sed_read_them() {
        assert_eq!(
            colon_field("model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz"),
            "Intel(R) Xeon(R) CPU @ 2.20GHz"
        );
        assert_eq!(colon_field("a : b: c"), "b");
        assert_eq!(colon_field("no colon"), "");
        assert_eq!(cut("12345.67 23456.78", 1, 1), "12345.67");
        assert_eq!(cut("0.50 0.25 0.10 1/123 4567", 1, 3), "0.50 0.25 0.10");
        assert_eq!(cut("nospace", 1, 2), "nospace");
        assert_eq!(cut("a  b", 1, 2), "a ");
        assert_eq!(
            awk_fields("MemTotal:\t  2048 kB"),
            vec!["MemTotal:", "2048", "kB"]
        );
        assert_eq!(
            grep_line("/etc/os-release:ID=debian"),
            Some(("/etc/os-release", "ID=debian"))
        );
        assert_eq!(
            grep_line("/proc/meminfo:MemFree: 1 kB"),
            Some(("/proc/meminfo", "MemFree: 1 kB"))
        );
        assert_eq!(
            grep_line("/etc/ssh/ssh_host_a:b_key.pub:ssh-rsa AAAA"),
            Some(("/etc/ssh/ssh_host_a:b_key.pub", "ssh-rsa AAAA"))
        );
        // Cpus_allowed_list, as `nproc` counts it
        assert_eq!(cpu_count("0-1"), Some(2));
        assert_eq!(cpu_count("0-3,8,10-11\n"), Some(7));
        assert_eq!(cpu_count("x"), None);
        // `$(cat)` drops trailing newlines only; a first line drops a `\r`
        let out = Output::parse("@files\n/f:1\n/f:\n/g:a\r\n/g:b\n@\n");
        assert_eq!(out.cat("/f").as_deref(), Some("1"));
        assert_eq!(out.first_line("/g"), Some("a"));
        assert_eq!(out.cat("/missing"), None);
    }

    #[test]
    fn default_routes_of_the_main_table_first_line_only() {
        let batch = [
            "2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\ valid_lft forever",
            "default \\\tnexthop via 10.1.0.1 dev d0 weight 1 \\\tnexthop via 10.2.0.1 dev d1 weight 1 ",
            "default via 10.0.0.1 dev eth1 metric 600",
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\\    link/loopback 00:00:00:00:00:00",
            "default via 2001:db8::1 dev d0 table 7 metric 1024 pref medium",
            "default via fe80::1 dev table metric 1024 pref medium",
        ];
        let (addrs, v4, v6) = split_ip_batch(&batch);
        assert_eq!(addrs.len(), 1);
        assert_eq!(v4, Some(batch[1]));
        // an interface named `table` is not a table
        assert_eq!(v6, Some(batch[5]));
        let mut kv = Vec::new();
        // a multipath route's first line names no interface
        default_route(batch[1], "default", &mut kv);
        assert!(kv.is_empty());
        default_route("default via inet6 fe80::1 dev eth0 ", "default", &mut kv);
        let kv: Vec<(&str, &str)> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(kv, [("default_gw", "inet6"), ("default_if", "eth0")]);
        // no IPv6 route, no addresses
        let (addrs, v4, v6) =
            split_ip_batch(&["default via 10.0.0.1 dev eth0", "1: lo: <LOOPBACK>", ""]);
        assert!(addrs.is_empty() && v6.is_none());
        assert_eq!(v4, Some("default via 10.0.0.1 dev eth0"));
    }

    #[test]
    fn the_fallbacks_of_hosts_without_proc_gnu_date_or_ip_batch() {
        let f = to_facts(
            "system=Linux\narchitecture=aarch64\nnproc=4\ndate_epoch=1700000000\n\
date_now=2023 11 14 22 13 20 UTC +0000 Tuesday 2 46 5\ndate_utc=2023-11-14T22:13:20 5\n\
tz_names=UTC +0000 UTC +0000\n@date\n@\n@addr\n\
2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\ valid_lft forever\n@\n\
@route4\ndefault via 192.0.2.1 dev eth0 \n@\n@route6\n@\nif=eth0 \n",
        );
        assert_eq!(f["architecture"], Value::from("aarch64"));
        assert_eq!(f["processor_nproc"], Value::from(4));
        assert_eq!(
            attr(&f["date_time"], "iso8601"),
            Value::from("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            attr(&f["default_ipv4"], "address"),
            Value::from("192.0.2.10")
        );
        assert_eq!(f["default_ipv6"].len(), Some(0));
    }
}
