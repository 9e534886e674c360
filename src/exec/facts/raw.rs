//! The fact command's output taken apart: its `key=value` lines, the files `grep`
//! printed and the other commands' sections, turned into `key=value` pairs (what the
//! host-side `cat`, `cut`, `awk` and `sed` of earlier versions printed).

/// The script's output taken apart: its own `key=value` lines, the files `grep` printed
/// (path → raw lines, in `grep`'s order) and the other commands' sections (name → lines).
#[derive(Default)]
pub(super) struct Output<'t> {
    pub(super) kv: Vec<(&'t str, &'t str)>,
    pub(super) files: indexmap::IndexMap<&'t str, Vec<&'t str>>,
    pub(super) sections: std::collections::HashMap<&'t str, Vec<&'t str>>,
}

impl<'t> Output<'t> {
    pub(super) fn parse(text: &'t str) -> Output<'t> {
        let mut out = Output::default();
        let mut section: Option<(&str, Vec<&str>)> = None;
        for line in text.split('\n') {
            match section.as_mut() {
                Some(_) if line == "@" => {
                    let (name, lines) = section.take().unwrap_or_default();
                    if name == "files" {
                        for l in lines {
                            let Some((path, rest)) = grep_line(l) else {
                                continue;
                            };
                            out.files.entry(path).or_default().push(rest);
                        }
                    } else {
                        out.sections.insert(name, lines);
                    }
                }
                Some((_, lines)) => lines.push(line),
                None => match line.strip_prefix('@') {
                    Some(name) if !name.is_empty() => section = Some((name, Vec::new())),
                    // As `str::lines` reads a line: without the `\r` of a `\r\n`.
                    _ => {
                        if let Some(kv) = line.strip_suffix('\r').unwrap_or(line).split_once('=') {
                            out.kv.push(kv);
                        }
                    }
                },
            }
        }
        out
    }

    /// A file's whole content as `$(cat file)` gives it (trailing newlines dropped).
    pub(super) fn cat(&self, path: &str) -> Option<String> {
        let lines = self.files.get(path)?;
        Some(lines.join("\n").trim_end_matches('\n').to_string())
    }

    /// A file's first line (as `echo "key=$(cat file)"` then `str::lines` read it: without
    /// the `\r` of a `\r\n`).
    pub(super) fn first_line(&self, path: &str) -> Option<&'t str> {
        let l = *self.files.get(path)?.first()?;
        Some(l.strip_suffix('\r').unwrap_or(l))
    }

    pub(super) fn lines(&self, path: &str) -> &[&'t str] {
        self.files.get(path).map_or(&[], |l| l.as_slice())
    }
}

/// `path:line` as `grep -H` prints it. No path the script reads holds a `:` (interface
/// names cannot) but a host key's file name might.
pub(super) fn grep_line(l: &str) -> Option<(&str, &str)> {
    if l.starts_with("/etc/ssh/ssh_host_") {
        if let Some(i) = l.find("_key.pub:") {
            let end = i + "_key.pub".len();
            return Some((&l[..end], &l[end + 1..]));
        }
    }
    l.split_once(':')
}

/// awk's fields (runs of blanks split, leading and trailing ones dropped).
pub(super) fn awk_fields(l: &str) -> Vec<&str> {
    l.split([' ', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .collect()
}

/// `cut -d' ' -f FROM-TO` of one line (a line without a space is printed whole).
pub(super) fn cut(l: &str, from: usize, to: usize) -> String {
    if !l.contains(' ') {
        return l.to_string();
    }
    let f: Vec<&str> = l.split(' ').collect();
    f[(from - 1).min(f.len())..to.min(f.len())].join(" ")
}

/// The `$2` of awk `-F': *'`: after the first `:` and its spaces, up to the next `:`.
pub(super) fn colon_field(l: &str) -> &str {
    let Some((_, rest)) = l.split_once(':') else {
        return "";
    };
    let rest = rest.trim_start_matches(' ');
    rest.split(':').next().unwrap_or("")
}

/// POSIX `[[:space:]]` in the C locale.
pub(super) fn posix_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// How many CPUs a `Cpus_allowed_list` (`0-3,8`) names: `nproc`'s answer (the
/// scheduler's affinity mask, as Ansible's `processor_nproc`).
pub(super) fn cpu_count(list: &str) -> Option<i64> {
    let mut n = 0;
    for part in list.trim().split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<i64>().ok()? - a.parse::<i64>().ok()? + 1,
            None => {
                part.parse::<i64>().ok()?;
                1
            }
        };
    }
    Some(n)
}

/// Which of `ip -o -batch`'s lines are the addresses, the main table's first IPv4 default
/// route and its first IPv6 one. The batch is `address show` (lines `N: dev    inet …`),
/// `route show default` (the main table's IPv4 ones), `link show lo` (`N: lo: <…>`, the
/// separator), `route show table all exact ::/0` (IPv6 ones of every table; `table X`
/// names the tables other than main).
pub(super) fn split_ip_batch<'a>(
    lines: &[&'a str],
) -> (Vec<&'a str>, Option<&'a str>, Option<&'a str>) {
    let (mut addrs, mut v4, mut v6) = (Vec::new(), None, None);
    let mut after_separator = false;
    for line in lines.iter().copied().filter(|l| !l.is_empty()) {
        let w = awk_fields(line);
        let numbered = w
            .first()
            .and_then(|f| f.strip_suffix(':'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if numbered && w.get(1).is_some_and(|d| d.ends_with(':')) {
            after_separator = true;
        } else if numbered && !after_separator {
            addrs.push(line);
        } else if !after_separator {
            v4.get_or_insert(line);
        } else if !w
            .iter()
            .enumerate()
            .any(|(i, x)| *x == "table" && (i == 0 || w[i - 1] != "dev"))
        {
            v6.get_or_insert(line);
        }
    }
    (addrs, v4, v6)
}

/// The interface and gateway of a default route's line: the words after `dev` and `via` of
/// the route's first line (`-o` puts a multipath route's next hops on the same line, each
/// after a `\`; without `-o` they are lines of their own: not read).
pub(super) fn default_route(line: &str, prefix: &str, kv: &mut Vec<(String, String)>) {
    let line = line.split('\\').next().unwrap_or("");
    let w = awk_fields(line);
    for (i, x) in w.iter().enumerate() {
        let next = w.get(i + 1).copied().unwrap_or("").to_string();
        match *x {
            "dev" => kv.push((format!("{prefix}_if"), next)),
            "via" => kv.push((format!("{prefix}_gw"), next)),
            _ => {}
        }
    }
}

pub(super) const DMI: [&str; 17] = [
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
    "sys_vendor",
];

/// The `key=value` lines the facts are built from (keys repeat for lists: `if`, `addr`,
/// `mount`, `cpu_*`, `dns_*`, `hostkey`): what the files, the commands' sections and the
/// script's own lines say. The files are read as `cat`, `cut`, `awk` and `sed` read them
/// when they ran on the host (a value is a file's first line, a `\r` before its newline
/// dropped), so that the facts stay the same to the byte.
pub(super) fn key_values(out: &Output) -> Vec<(String, String)> {
    let mut kv: Vec<(String, String)> = Vec::new();
    pub(super) fn put(kv: &mut Vec<(String, String)>, k: &str, v: &str) {
        kv.push((k.to_string(), v.to_string()));
    }
    let strip_cr = |l: &str| l.strip_suffix('\r').unwrap_or(l).to_string();
    for (key, path) in [
        ("system", "/proc/sys/kernel/ostype"),
        ("kernel", "/proc/sys/kernel/osrelease"),
        ("kernel_version", "/proc/sys/kernel/version"),
        ("architecture", "/proc/sys/kernel/arch"),
        ("hostname", "/proc/sys/kernel/hostname"),
        ("uptime", "/proc/uptime"),
        ("loadavg", "/proc/loadavg"),
    ] {
        if let Some(l) = out.first_line(path) {
            let v = match key {
                "uptime" => cut(l, 1, 1),
                "loadavg" => cut(l, 1, 3),
                _ => l.to_string(),
            };
            put(&mut kv, key, &v);
        }
    }
    put(
        &mut kv,
        "pid1",
        out.first_line("/proc/1/comm").unwrap_or(""),
    );
    if let Some(l) = out.first_line("/etc/debian_version") {
        put(&mut kv, "debian_version", l);
    }
    for l in out.lines("/etc/os-release") {
        if let Some((k, v)) = l.split_once('=') {
            if matches!(
                k,
                "ID" | "VERSION_ID" | "VERSION_CODENAME" | "NAME" | "PRETTY_NAME" | "ID_LIKE"
            ) {
                kv.push((format!("os_{k}"), strip_cr(v)));
            }
        }
    }
    for l in out.lines("/proc/meminfo") {
        let w = awk_fields(l);
        let value = w.get(1).copied().unwrap_or("");
        match w.first().copied() {
            Some("MemTotal:") => put(&mut kv, "memtotal_kb", value),
            Some("MemFree:") => put(&mut kv, "memfree_kb", value),
            Some("SwapTotal:") => put(&mut kv, "swaptotal_kb", value),
            _ => {}
        }
        if let Some(name) = w.first().and_then(|f| f.strip_suffix(':')) {
            if matches!(
                name,
                "MemTotal"
                    | "MemFree"
                    | "Buffers"
                    | "Cached"
                    | "SwapTotal"
                    | "SwapFree"
                    | "SwapCached"
            ) {
                put(&mut kv, &format!("mem_{name}"), value);
            }
        }
    }
    for l in out.lines("/proc/cpuinfo") {
        for (prefix, key) in [
            ("processor", "cpu_index"),
            ("vendor_id", "cpu_vendor"),
            ("model name", "cpu_model"),
            ("physical id", "cpu_socket"),
            ("cpu cores", "cpu_cores"),
            ("siblings", "cpu_siblings"),
        ] {
            if l.starts_with(prefix) {
                put(&mut kv, key, colon_field(l));
            }
        }
    }
    for l in out.lines("/etc/resolv.conf") {
        let s = l.trim_start_matches(posix_space);
        for word in ["nameserver", "domain", "search", "options", "sortlist"] {
            if let Some(rest) = s.strip_prefix(word) {
                if rest.starts_with(posix_space) {
                    kv.push((
                        format!("dns_{word}"),
                        strip_cr(rest.trim_start_matches(posix_space)),
                    ));
                }
            }
        }
    }
    for (path, lines) in &out.files {
        let Some(name) = path.strip_prefix("/etc/ssh/") else {
            continue;
        };
        if let Some(first) = lines.first() {
            // `cut -d' ' -f1,2`: the key's type and the key, without the comment.
            kv.push((
                "hostkey".into(),
                strip_cr(&format!("{name} {}", cut(first, 1, 2))),
            ));
        }
    }
    if out.cat("/proc/sys/crypto/fips_enabled").as_deref() == Some("1") {
        put(&mut kv, "fips", "1");
    }
    for f in DMI {
        let v = out.first_line(&format!("/sys/devices/virtual/dmi/id/{f}"));
        put(&mut kv, &format!("dmi_{f}"), v.unwrap_or("NA"));
    }
    // The script's own lines; interfaces and mounts get the files' and `stat`'s values.
    let statfs: std::collections::HashMap<&str, &str> = out
        .sections
        .get("statfs")
        .into_iter()
        .flatten()
        .filter_map(|l| {
            // "%S %b %f %a %c %d %n": six numbers, then the mount point.
            let mut at = 0;
            for _ in 0..6 {
                at += l[at..].find(' ')? + 1;
            }
            Some((&l[at..], &l[..at - 1]))
        })
        .collect();
    for &(k, v) in &out.kv {
        match k {
            "if" => {
                let (name, pci) = v.split_once(' ').unwrap_or((v, ""));
                let attr = |a: &str| {
                    out.first_line(&format!("/sys/class/net/{name}/{a}"))
                        .unwrap_or("")
                };
                let line = format!(
                    "{name} {} {} {} {} {} {pci}",
                    attr("type"),
                    attr("flags"),
                    attr("mtu"),
                    attr("address"),
                    attr("speed")
                );
                put(&mut kv, "if", &line);
            }
            "mount" => {
                let mnt = v.split(' ').nth(1).unwrap_or("");
                let stat = statfs.get(mnt).copied().unwrap_or("");
                put(&mut kv, "mount", &format!("{v} {stat}"));
            }
            "passwd" => {
                // name:password:uid:gid:gecos:home:shell
                let f: Vec<&str> = v.split(':').collect();
                let field = |i: usize| f.get(i).copied().unwrap_or("");
                put(&mut kv, "user_id", field(0));
                put(
                    &mut kv,
                    "user_gecos",
                    field(4).split(',').next().unwrap_or(""),
                );
                put(&mut kv, "user_shell", field(6));
            }
            "cpus_allowed" => {
                if let Some(n) = cpu_count(v) {
                    put(&mut kv, "nproc", &n.to_string());
                }
            }
            _ => put(&mut kv, k, v),
        }
    }
    // `date -f -`: now, then January 1st and July 1st of this year (the zone's two names).
    if let Some(rows) = out.sections.get("date") {
        let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.split(' ').collect()).collect();
        if let Some(now) = rows.first().filter(|r| r.len() >= 13) {
            put(&mut kv, "date_epoch", now[0]);
            put(&mut kv, "date_now", &now[1..].join(" "));
            let utc = now[0]
                .parse::<i64>()
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default();
            put(&mut kv, "date_utc", &format!("{utc} {}", now[12]));
        }
        if let [_, jan, jul, ..] = &rows[..] {
            let zone =
                |r: &Vec<&str>| format!("{} {}", r.get(7).unwrap_or(&""), r.get(8).unwrap_or(&""));
            put(&mut kv, "tz_names", &format!("{} {}", zone(jan), zone(jul)));
        }
    }
    let (addrs, v4, v6) = match out.sections.get("ip") {
        Some(lines) => split_ip_batch(lines),
        None => {
            let first = |s: &str| {
                out.sections
                    .get(s)
                    .and_then(|l| l.first().copied())
                    .filter(|l| !l.is_empty())
            };
            let addrs = out.sections.get("addr").cloned().unwrap_or_default();
            (addrs, first("route4"), first("route6"))
        }
    };
    if let Some(l) = v4 {
        default_route(l, "default", &mut kv);
    }
    for l in addrs.iter().filter(|l| !l.is_empty()) {
        // dev family address/prefix scope broadcast
        let w = awk_fields(l);
        let (mut brd, mut scope) = ("", "");
        for i in 4..w.len() {
            let next = w.get(i + 1).copied().unwrap_or("");
            match w[i] {
                "brd" => brd = next,
                "scope" => scope = next,
                _ => {}
            }
        }
        let field = |i: usize| w.get(i).copied().unwrap_or("");
        let line = format!("{} {} {} {scope} {brd}", field(1), field(2), field(3));
        put(&mut kv, "addr", &line);
    }
    if let Some(l) = v6 {
        default_route(l, "default6", &mut kv);
    }
    if let Some(lines) = out.sections.get("lsb") {
        let value = |label: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(label))
                .map(|v| v.strip_prefix('\t').unwrap_or(v.trim_start()))
                .unwrap_or("")
        };
        let lsb = format!(
            "{}|{}|{}|{}",
            value("Distributor ID:"),
            value("Release:"),
            value("Codename:"),
            value("Description:")
        );
        // One line as the script printed it; `str::lines` dropped a last `\r`.
        put(&mut kv, "lsb", lsb.strip_suffix('\r').unwrap_or(&lsb));
    }
    kv
}
