//! Network facts: interfaces, addresses, default routes.

use super::all_values;
use crate::vars::Vars;
use minijinja::Value;

/// Dotted netmask of a prefix length.
pub(super) fn netmask(prefix: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0))
}

/// Ansible's interface `type`, from the kernel's ARPHRD number.
pub(super) fn link_type(arphrd: &str) -> &'static str {
    match arphrd {
        "1" => "ether",
        "32" => "infiniband",
        "512" => "ppp",
        "772" => "loopback",
        "65534" => "tunnel",
        _ => "unknown",
    }
}

/// `interfaces`, one fact per interface, `all_ipv4_addresses`, `all_ipv6_addresses`,
/// `default_ipv4` and `default_ipv6` with the interface's details.
pub(super) fn network_facts(
    f: &mut Vars,
    get: &dyn Fn(&str) -> String,
    lines: &[(String, String)],
) {
    let all = |key: &str| all_values(lines, key);
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
