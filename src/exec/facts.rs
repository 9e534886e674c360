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
  d=$(ip -4 route show default 2>/dev/null | awk 'NR==1{for(i=1;i<=NF;i++) if($i=="dev") print $(i+1)}')
  [ -n "$d" ] && ip -4 -o addr show dev "$d" 2>/dev/null | awk 'NR==1{split($4,a,"/"); print "default_ip="a[1]; print "default_prefix="a[2]}'
fi
echo "date_epoch=$(date +%s)"
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
    let cpus = num("nproc");
    put("processor_vcpus", Value::from(cpus));
    put("processor_count", Value::from(cpus));
    put("processor_cores", Value::from(cpus));
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
    let mut ipv4 = Vars::new();
    if !get("default_ip").is_empty() {
        ipv4.insert("address".into(), Value::from(get("default_ip")));
        ipv4.insert("interface".into(), Value::from(get("default_if")));
        ipv4.insert("gateway".into(), Value::from(get("default_gw")));
        ipv4.insert("prefix".into(), Value::from(get("default_prefix")));
    }
    put("default_ipv4", Value::from_iter(ipv4));
    put(
        "date_time",
        Value::from_iter([("epoch".to_string(), Value::from(get("date_epoch")))]),
    );
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
        let f = to_facts("pid1=systemd\nsystemd_booted=1\ndefault_if=eth0\ndefault_gw=192.0.2.1\ndefault_ip=192.0.2.2\ndefault_prefix=24\n");
        assert_eq!(f["service_mgr"], Value::from("systemd"));
        let ip = &f["default_ipv4"];
        assert_eq!(ip.get_attr("address").unwrap(), Value::from("192.0.2.2"));
        assert_eq!(ip.get_attr("interface").unwrap(), Value::from("eth0"));
        assert_eq!(ip.get_attr("gateway").unwrap(), Value::from("192.0.2.1"));
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
