//! Ansible's INI inventory format.

use super::model::Inventory;
use crate::diagnostics::{Error, Result, Span};
use minijinja::Value;
use std::path::Path;
use std::sync::Arc;

enum Section {
    Hosts(String),
    Vars(String),
    Children(String),
}

pub fn parse(text: &str, path: &Path, inv: &mut Inventory) -> Result<()> {
    let file: Arc<Path> = Arc::from(path);
    let mut section = Section::Hosts("ungrouped".to_string());
    for (i, raw) in text.lines().enumerate() {
        let span = Span::new(file.clone(), i as u32 + 1, 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(header) = rest.strip_suffix(']') else {
                return Err(Error::syntax(
                    format!("section header '{line}' is missing its closing ']'"),
                    span,
                ));
            };
            let (name, kind) = match header.split_once(':') {
                Some((n, k)) => (n.trim(), Some(k.trim())),
                None => (header.trim(), None),
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(Error::syntax(format!("invalid group name '{name}'"), span)
                    .with_help("group names are single words like [webservers]"));
            }
            inv.group_mut(name);
            section = match kind {
                None | Some("hosts") => Section::Hosts(name.to_string()),
                Some("vars") => Section::Vars(name.to_string()),
                Some("children") => Section::Children(name.to_string()),
                Some(other) => {
                    return Err(
                        Error::syntax(format!("unknown section type ':{other}'"), span)
                            .with_help("use [group], [group:vars] or [group:children]"),
                    )
                }
            };
            continue;
        }
        match &section {
            Section::Hosts(group) => {
                let tokens = split_tokens(line).map_err(|m| Error::syntax(m, span.clone()))?;
                let Some((first, rest)) = tokens.split_first() else {
                    continue;
                };
                let (host_pattern, port) = split_port(first);
                for host in
                    expand_host_range(host_pattern).map_err(|m| Error::syntax(m, span.clone()))?
                {
                    inv.add_host_to_group(&host, group);
                    let h = inv.host_mut(&host);
                    if let Some(p) = port {
                        h.vars.insert("ansible_port".into(), Value::from(p));
                    }
                    for tok in rest {
                        let Some((k, v)) = tok.split_once('=') else {
                            return Err(Error::syntax(
                                format!("expected key=value after the host name, found '{tok}'"),
                                span.clone(),
                            ));
                        };
                        h.vars.insert(k.to_string(), literal_value(v));
                    }
                }
            }
            Section::Vars(group) => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(Error::syntax(
                        format!("expected key=value in [{group}:vars], found '{line}'"),
                        span,
                    ));
                };
                let v = v.trim();
                let value = match split_tokens(v) {
                    Ok(t) if t.len() == 1 => literal_value(&t[0]),
                    _ => literal_value(v),
                };
                inv.group_mut(group)
                    .vars
                    .insert(k.trim().to_string(), value);
            }
            Section::Children(group) => {
                if line.contains(char::is_whitespace) {
                    return Err(Error::syntax(format!("'{line}' is not a group name"), span)
                        .with_help("list one child group per line in a :children section"));
                }
                if line == group {
                    return Err(Error::invalid(
                        format!("group '{group}' cannot be its own child"),
                        &span,
                    ));
                }
                inv.add_child(group, line);
            }
        }
    }
    Ok(())
}

/// `host:port`, but not IPv6 addresses.
fn split_port(token: &str) -> (&str, Option<i64>) {
    if token.matches(':').count() == 1 {
        if let Some((h, p)) = token.rsplit_once(':') {
            if let Ok(port) = p.parse::<i64>() {
                return (h, Some(port));
            }
        }
    }
    (token, None)
}

/// Shell-like tokens: whitespace separates, quotes group (and are removed later by
/// [`literal_value`]).
fn split_tokens(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c == '#' && cur.is_empty() => break,
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    Ok(tokens)
}

/// Values are read as Python literals where they are ones (Ansible uses `literal_eval`):
/// numbers, True/False/None and quoted strings; anything else stays a string.
fn literal_value(v: &str) -> Value {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        return Value::from(&v[1..v.len() - 1]);
    }
    match v {
        "True" => return Value::from(true),
        "False" => return Value::from(false),
        "None" => return Value::from(()),
        _ => {}
    }
    let digits = v.strip_prefix('-').unwrap_or(v);
    if !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'))
    {
        if let Ok(i) = v.parse::<i64>() {
            return Value::from(i);
        }
    }
    if v.contains('.')
        && v.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        if let Ok(f) = v.parse::<f64>() {
            return Value::from(f);
        }
    }
    if (v.starts_with('[') && v.ends_with(']')) || (v.starts_with('{') && v.ends_with('}')) {
        if let Ok(j) = serde_json::from_str::<serde_json::Value>(v) {
            return Value::from_serialize(&j);
        }
    }
    Value::from(v)
}

/// Expand `web[01:03].example.com` and `db-[a:c]` host ranges (with an optional step).
pub fn expand_host_range(pattern: &str) -> std::result::Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![pattern.to_string()]);
    };
    let Some(close_rel) = pattern[open..].find(']') else {
        return Err(format!(
            "host range in '{pattern}' is missing its closing ']'"
        ));
    };
    let close = open + close_rel;
    let (head, body, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let mut parts = body.split(':');
    let (start, end) = match (parts.next(), parts.next()) {
        (Some(s), Some(e)) => (s, e),
        _ => {
            return Err(format!(
                "host range '[{body}]' must look like [1:3] or [a:c]"
            ))
        }
    };
    let step: usize = match parts.next() {
        Some(s) => s
            .parse()
            .map_err(|_| format!("bad step '{s}' in host range"))?,
        None => 1,
    };
    if step == 0 {
        return Err("host range step cannot be 0".into());
    }
    let mut items = Vec::new();
    if let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) {
        if b < a || b - a > 100_000 {
            return Err(format!("host range [{body}] is empty or too large"));
        }
        let width = if start.starts_with('0') {
            start.len()
        } else {
            0
        };
        for n in (a..=b).step_by(step) {
            items.push(format!("{n:0width$}"));
        }
    } else if start.len() == 1 && end.len() == 1 {
        let (a, b) = (start.as_bytes()[0], end.as_bytes()[0]);
        if !a.is_ascii_alphabetic() || !b.is_ascii_alphabetic() || b < a {
            return Err(format!("host range [{body}] is not a valid letter range"));
        }
        for c in (a..=b).step_by(step) {
            items.push((c as char).to_string());
        }
    } else {
        return Err(format!(
            "host range [{body}] must be numbers or single letters"
        ));
    }
    let rests = expand_host_range(tail)?;
    if items.len().saturating_mul(rests.len()) > MAX_RANGE_HOSTS {
        return Err(format!(
            "host range '{pattern}' expands to {} hosts, more than drover's limit of {MAX_RANGE_HOSTS}; split it into several lines or groups",
            items.len().saturating_mul(rests.len())
        ));
    }
    let mut out = Vec::with_capacity(items.len() * rests.len());
    for item in items {
        for rest in &rests {
            out.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(out)
}

/// The most hosts one range line may expand to (a typo like `[1:100000][1:100000]`
/// would otherwise fill the memory).
const MAX_RANGE_HOSTS: usize = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand() {
        assert_eq!(
            expand_host_range("web[01:03]").unwrap(),
            ["web01", "web02", "web03"]
        );
        assert_eq!(
            expand_host_range("db-[a:c].x").unwrap(),
            ["db-a.x", "db-b.x", "db-c.x"]
        );
        assert!(expand_host_range("web[1:").is_err());
        // The product of ranges is bounded, and checked before anything is expanded.
        let e = expand_host_range("w[1:100000][1:100000]").unwrap_err();
        assert!(e.contains("more than drover's limit"), "{e}");
        assert_eq!(
            expand_host_range("w[1:1000][1:1000]").unwrap().len(),
            1_000_000
        );
    }

    #[test]
    fn ini_sections_and_literals() {
        let text = "h0\n[web]\nweb1 ansible_port=2222 flag=True name='a b'\nweb2:2200\n[web:vars]\nx=1\n[prod:children]\nweb\n";
        let mut inv = Inventory::new();
        parse(text, Path::new("hosts"), &mut inv).unwrap();
        inv.finish();
        let w1 = &inv.hosts["web1"];
        assert_eq!(w1.vars["ansible_port"], Value::from(2222));
        assert_eq!(w1.vars["flag"], Value::from(true));
        assert_eq!(w1.vars["name"], Value::from("a b"));
        assert_eq!(inv.hosts["web2"].vars["ansible_port"], Value::from(2200));
        assert_eq!(inv.groups["web"].vars["x"], Value::from(1));
        assert_eq!(inv.group_hosts("prod"), ["web1", "web2"]);
        assert_eq!(inv.group_hosts("ungrouped"), ["h0"]);
    }

    #[test]
    fn ini_errors_have_lines() {
        let mut inv = Inventory::new();
        let err = parse("[web\nh1\n", Path::new("hosts"), &mut inv).unwrap_err();
        assert_eq!(err.span.as_ref().unwrap().line, 1);
        let err = parse("[web]\nh1 novalue\n", Path::new("hosts"), &mut inv).unwrap_err();
        assert_eq!(err.span.as_ref().unwrap().line, 2);
    }
}
