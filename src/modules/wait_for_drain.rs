//! wait_for `state: drained`: the shell condition that holds when no TCP connection to
//! the port is active, read from `/proc/net/tcp` and `/proc/net/tcp6` as Ansible's Linux
//! strategy reads them (no `ss`, no Python): a connection counts when its local port is
//! the port, its state is one of `active_connection_states`, its remote address is not
//! an excluded host, and its local address is the host's (or the host is the wildcard).

use crate::diagnostics::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Ansible's default `active_connection_states`.
pub const DEFAULT_STATES: &[&str] = &[
    "ESTABLISHED",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "SYN_RECV",
    "SYN_SENT",
    "TIME_WAIT",
];

/// The kernel's number for a TCP state name, as `/proc/net/tcp` writes it.
fn state_code(name: &str) -> Option<&'static str> {
    Some(match name {
        "ESTABLISHED" => "01",
        "SYN_SENT" => "02",
        "SYN_RECV" => "03",
        "FIN_WAIT1" => "04",
        "FIN_WAIT2" => "05",
        "TIME_WAIT" => "06",
        "CLOSE" => "07",
        "CLOSE_WAIT" => "08",
        "LAST_ACK" => "09",
        "LISTEN" => "0A",
        "CLOSING" => "0B",
        _ => return None,
    })
}

/// An address as `/proc/net/tcp*` writes it: each 4-byte word in host (little-endian)
/// order, in upper-case hex.
fn proc_hex(octets: &[u8]) -> String {
    octets
        .chunks(4)
        .map(|w| format!("{:02X}{:02X}{:02X}{:02X}", w[3], w[2], w[1], w[0]))
        .collect()
}

/// The forms a host takes in `/proc/net/tcp*`: an IPv4 address also as its IPv6-mapped
/// form (as Ansible's `_convert_host_to_ip`). Names other than `localhost` would need
/// the host's resolver: refused, naming what to write instead.
fn host_forms(host: &str) -> Result<Vec<String>> {
    let ip: IpAddr = match host {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h.parse().map_err(|_| {
            Error::module(format!(
                "wait_for state: drained needs an IP address, not the name '{h}'"
            ))
            .with_help("give the address the host listens on (host: 0.0.0.0 for every address)")
        })?,
    };
    Ok(match ip {
        IpAddr::V4(v4) => vec![
            proc_hex(&v4.octets()),
            proc_hex(&v4.to_ipv6_mapped().octets()),
        ],
        IpAddr::V6(v6) => vec![proc_hex(&v6.octets())],
    })
}

/// The shell condition (true when the port is drained).
pub fn condition(
    host: &str,
    port: i64,
    states: Option<&[String]>,
    exclude_hosts: &[String],
) -> Result<String> {
    let names: Vec<String> = match states {
        Some(s) => s.to_vec(),
        None => DEFAULT_STATES.iter().map(|s| s.to_string()).collect(),
    };
    let codes = names
        .iter()
        .map(|n| {
            state_code(n).ok_or_else(|| {
                Error::module(format!("wait_for: '{n}' is not a TCP connection state"))
                    .with_help("use ESTABLISHED, FIN_WAIT1, FIN_WAIT2, SYN_RECV, SYN_SENT, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN or CLOSING")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let ips = host_forms(host)?;
    let mut excluded = Vec::new();
    for h in exclude_hosts {
        excluded.extend(host_forms(h)?);
    }
    // The wildcard host matches every local address (Ansible's match_all_ips), and its
    // IPv6-mapped form every mapped one.
    let any = proc_hex(&Ipv4Addr::UNSPECIFIED.octets());
    let any_mapped = proc_hex(&Ipv4Addr::UNSPECIFIED.to_ipv6_mapped().octets());
    let all_v6 = proc_hex(&Ipv6Addr::UNSPECIFIED.octets());
    let program = format!(
        "BEGIN {{ n = 0; split(\"{}\", s, \" \"); for (i in s) st[s[i]] = 1; \
         split(\"{}\", a, \" \"); for (i in a) ip[a[i]] = 1; \
         split(\"{}\", e, \" \"); for (i in e) ex[e[i]] = 1 }} \
         $1 != \"sl\" {{ split($2, l, \":\"); split($3, r, \":\"); \
         if (l[2] != \"{port:04X}\" || !($4 in st) || (r[1] in ex)) next; \
         v6 = length(l[1]) == 32; \
         if ((l[1] in ip) || (!v6 && (\"{any}\" in ip)) || (v6 && (\"{all_v6}\" in ip)) || \
             (substr(l[1], 1, 24) == \"0000000000000000FFFF0000\" && (\"{any_mapped}\" in ip))) n++ }} \
         END {{ print n }}",
        codes.join(" "),
        ips.join(" "),
        excluded.join(" "),
    );
    Ok(format!(
        "[ \"$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk {})\" = 0 ]",
        crate::connection::quote(&program)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_the_kernel_writes_them() {
        assert_eq!(
            host_forms("127.0.0.1").unwrap(),
            vec!["0100007F", "0000000000000000FFFF00000100007F"]
        );
        assert_eq!(
            host_forms("::1").unwrap(),
            vec!["00000000000000000000000001000000"]
        );
        assert!(host_forms("example.org").is_err());
    }

    #[test]
    fn the_condition_counts_only_active_connections_to_the_port() {
        let cond = condition("127.0.0.1", 8080, None, &[]).unwrap();
        let table = "  sl  local_address rem_address   st\n\
            0: 0100007F:1F90 00000000:0000 0A 0\n\
            1: 0100007F:1F90 0100007F:C350 01 0\n";
        let run = |table: &str| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(cond.replace(
                    "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null",
                    &format!("printf '%s' {}", crate::connection::quote(table)),
                ))
                .status()
                .unwrap()
                .success()
        };
        // An established connection to 8080 (0x1F90): not drained.
        assert!(!run(table));
        // Only the listening socket: drained.
        assert!(run(
            "  sl  local_address rem_address   st\n0: 0100007F:1F90 00000000:0000 0A 0\n"
        ));
        assert!(condition("127.0.0.1", 80, Some(&["BOGUS".into()]), &[]).is_err());
    }
}
