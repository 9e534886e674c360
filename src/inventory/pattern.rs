//! Host patterns, as in `hosts:` and `--limit`: `all`, `*`, groups, hosts, globs,
//! `~regex`, subscripts (`web[0]`, `web[1:3]`), and `a:b` (union), `a:&b`
//! (intersection), `a:!b` (exclusion), with `,` accepted as a separator too.

use super::model::Inventory;
use crate::diagnostics::did_you_mean;

/// Why a pattern could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError(pub String, pub Option<String>);

/// The hosts a pattern selects, in inventory order.
pub fn select(inv: &Inventory, pattern: &str) -> Result<Vec<String>, PatternError> {
    select_with(inv, pattern, false)
}

/// [`select`] where a name that is no group or host matches nothing, as Ansible (which
/// only warns): for plays after `add_host`/`group_by`, whose groups exist only once a run
/// made them (`hosts: os_RedHat` on an all-Debian fleet is no typo).
pub fn select_lenient(inv: &Inventory, pattern: &str) -> Result<Vec<String>, PatternError> {
    select_with(inv, pattern, true)
}

fn select_with(inv: &Inventory, pattern: &str, lenient: bool) -> Result<Vec<String>, PatternError> {
    use std::collections::HashSet;
    let terms = split_terms(pattern)?;
    // Hosts in the order the pattern names them (`b:a` lists b's hosts first), as
    // Ansible; sets for membership so large inventories stay linear.
    let mut union: Vec<String> = Vec::new();
    let mut in_union: HashSet<String> = HashSet::new();
    let mut intersections: Vec<HashSet<String>> = Vec::new();
    let mut exclusions: HashSet<String> = HashSet::new();
    for term in &terms {
        if let Some(t) = term.strip_prefix('!') {
            exclusions.extend(match_term(inv, t, lenient)?);
        } else if let Some(t) = term.strip_prefix('&') {
            intersections.push(match_term(inv, t, lenient)?.into_iter().collect());
        } else {
            for h in match_term(inv, term, lenient)? {
                if in_union.insert(h.clone()) {
                    union.push(h);
                }
            }
        }
    }
    // A pattern made only of exclusions/intersections starts from every host.
    if terms
        .iter()
        .all(|t| t.starts_with('!') || t.starts_with('&'))
    {
        union = inv.hosts.keys().cloned().collect();
    }
    let selected: Vec<String> = union
        .into_iter()
        .filter(|h| intersections.iter().all(|set| set.contains(h)))
        .filter(|h| !exclusions.contains(h))
        .collect();
    Ok(selected)
}

/// Split on `:` and `,`, keeping `[a:b]` subscripts and IPv6-looking terms intact.
fn split_terms(pattern: &str) -> Result<Vec<String>, PatternError> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let is_regex = |s: &str| s.trim_start_matches(['!', '&']).starts_with('~');
    for c in pattern.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ':' | ',' if depth == 0 && !(c == ':' && is_regex(&cur)) => {
                push_term(&mut terms, &mut cur);
            }
            _ => cur.push(c),
        }
    }
    if depth != 0 {
        return Err(PatternError(
            format!("host pattern '{pattern}' has an unclosed '['"),
            Some("subscripts look like web[0] or web[1:3]".into()),
        ));
    }
    push_term(&mut terms, &mut cur);
    if terms.is_empty() {
        return Err(PatternError(
            "host pattern is empty".into(),
            Some("use 'all', a group, or a host name".into()),
        ));
    }
    for t in &terms {
        let bare = t.trim_start_matches(['!', '&']);
        if bare.is_empty()
            || t.starts_with("!!")
            || t.starts_with("&&")
            || t.starts_with("!&")
            || t.starts_with("&!")
        {
            return Err(PatternError(
                format!("'{t}' in host pattern '{pattern}' is not a valid term"),
                Some("write a:b for union, a:&b for intersection, a:!b for exclusion".into()),
            ));
        }
    }
    Ok(terms)
}

fn push_term(terms: &mut Vec<String>, cur: &mut String) {
    let t = cur.trim().to_string();
    cur.clear();
    if !t.is_empty() {
        terms.push(t);
    }
}

fn match_term(inv: &Inventory, term: &str, lenient: bool) -> Result<Vec<String>, PatternError> {
    let (base, subscript) = split_subscript(term)?;
    let hosts = match match_base(inv, base) {
        Err(e) if lenient && e.0.ends_with(UNKNOWN_NAME) => Vec::new(),
        other => other?,
    };
    match subscript {
        None => Ok(hosts),
        Some(s) => apply_subscript(&hosts, s, term),
    }
}

fn split_subscript(term: &str) -> Result<(&str, Option<&str>), PatternError> {
    if term.starts_with('~') || !term.ends_with(']') {
        return Ok((term, None));
    }
    match term.rfind('[') {
        Some(i) if i > 0 => Ok((&term[..i], Some(&term[i + 1..term.len() - 1]))),
        _ => Ok((term, None)),
    }
}

fn apply_subscript(hosts: &[String], sub: &str, term: &str) -> Result<Vec<String>, PatternError> {
    let bad = || {
        PatternError(
            format!("subscript in '{term}' must be [N], [-N] or [A:B]"),
            Some("for example web[0] or web[1:3]".into()),
        )
    };
    let index = |s: &str, len: usize| -> Result<usize, PatternError> {
        let n: i64 = s.trim().parse().map_err(|_| bad())?;
        let i = if n < 0 { len as i64 + n } else { n };
        usize::try_from(i).map_err(|_| bad())
    };
    let len = hosts.len();
    match sub.split_once(':') {
        None => {
            let i = index(sub, len)?;
            Ok(hosts.get(i).cloned().into_iter().collect())
        }
        Some((a, b)) => {
            let start = if a.trim().is_empty() {
                0
            } else {
                index(a, len)?
            };
            // Ansible's ranges are inclusive of the end.
            let end = if b.trim().is_empty() {
                len.saturating_sub(1)
            } else {
                index(b, len)?
            };
            Ok(hosts
                .iter()
                .enumerate()
                .filter(|(i, _)| *i >= start && *i <= end)
                .map(|(_, h)| h.clone())
                .collect())
        }
    }
}

fn match_base(inv: &Inventory, base: &str) -> Result<Vec<String>, PatternError> {
    if base == "all" || base == "*" {
        return Ok(inv.hosts.keys().cloned().collect());
    }
    if let Some(re) = base.strip_prefix('~') {
        // Python's re.match, as Ansible's inventory: anchored at the start of the name.
        let re =
            crate::pyregex::PyRegex::new(&format!(r"\A(?:{re})"), false, false).map_err(|e| {
                PatternError(
                    format!("bad regular expression in host pattern '{base}': {e}"),
                    None,
                )
            })?;
        let mut out = Vec::new();
        let matches = |name: &str| re.is_match(name).unwrap_or(false);
        for g in inv.groups.keys().filter(|g| matches(g)) {
            out.extend(inv.group_hosts(g));
        }
        out.extend(inv.hosts.keys().filter(|h| matches(h)).cloned());
        return Ok(dedup(out));
    }
    if inv.groups.contains_key(base) {
        return Ok(inv.group_hosts(base));
    }
    if inv.hosts.contains_key(base) {
        return Ok(vec![base.to_string()]);
    }
    if base.contains(['*', '?', '[']) {
        let glob = globset::Glob::new(base)
            .map_err(|e| PatternError(format!("bad glob in host pattern '{base}': {e}"), None))?
            .compile_matcher();
        let mut out = Vec::new();
        for g in inv.groups.keys().filter(|g| glob.is_match(g.as_str())) {
            out.extend(inv.group_hosts(g));
        }
        out.extend(
            inv.hosts
                .keys()
                .filter(|h| glob.is_match(h.as_str()))
                .cloned(),
        );
        return Ok(dedup(out));
    }
    // Ansible warns and matches nothing; drover refuses, since a typo here silently
    // skips hosts.
    let candidates = inv
        .groups
        .keys()
        .chain(inv.hosts.keys())
        .map(String::as_str);
    let help = did_you_mean(base, candidates)
        .map(|s| format!("did you mean '{s}'?"))
        .or_else(|| {
            Some("name a group or host from the inventory, or use a glob like 'web*'".into())
        });
    Err(PatternError(format!("'{base}'{UNKNOWN_NAME}"), help))
}

const UNKNOWN_NAME: &str = " matches no group or host in the inventory";

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter().filter(|h| seen.insert(h.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> Inventory {
        let mut inv = Inventory::new();
        for (h, g) in [
            ("web1", "web"),
            ("web2", "web"),
            ("db1", "db"),
            ("db2", "db"),
            ("lb", "edge"),
        ] {
            inv.add_host_to_group(h, g);
        }
        inv.add_host_to_group("web1", "prod");
        inv.add_host_to_group("db1", "prod");
        inv.finish();
        inv
    }

    fn sel(p: &str) -> Vec<String> {
        select(&inv(), p).unwrap()
    }

    #[test]
    fn basic_terms() {
        assert_eq!(sel("all").len(), 5);
        assert_eq!(sel("*").len(), 5);
        assert_eq!(sel("web"), ["web1", "web2"]);
        assert_eq!(sel("db1"), ["db1"]);
        assert_eq!(sel("web*"), ["web1", "web2"]);
        assert_eq!(sel("~db[0-9]"), ["db1", "db2"]);
        // Python's re.match: anchored at the start, look-ahead allowed.
        assert_eq!(sel("~b[0-9]"), Vec::<String>::new());
        assert_eq!(sel("~(?!web)[a-z]+1"), ["db1"]);
    }

    #[test]
    fn set_operations() {
        assert_eq!(sel("web:db"), ["web1", "web2", "db1", "db2"]);
        assert_eq!(sel("web,db"), ["web1", "web2", "db1", "db2"]);
        assert_eq!(sel("web:&prod"), ["web1"]);
        assert_eq!(sel("all:!web"), ["db1", "db2", "lb"]);
        assert_eq!(sel("web:db:&prod:!db1"), ["web1"]);
        assert_eq!(sel("!web"), ["db1", "db2", "lb"]);
    }

    #[test]
    fn subscripts() {
        assert_eq!(sel("web[0]"), ["web1"]);
        assert_eq!(sel("web[-1]"), ["web2"]);
        assert_eq!(sel("all[1:2]"), ["web2", "db1"]);
    }

    #[test]
    fn errors_are_helpful() {
        let e = select(&inv(), "wbe").unwrap_err();
        assert!(e.0.contains("'wbe' matches no group"));
        assert_eq!(e.1.as_deref(), Some("did you mean 'web'?"));
        assert!(select(&inv(), "web[0").is_err());
        assert!(select(&inv(), "").is_err());
        assert!(select(&inv(), "web:!!db").is_err());
        assert!(select(&inv(), "~(").is_err());
    }
}
