//! The one remote script that answers a batch of probes.
//!
//! Stats are grouped so that a batch costs a constant number of processes on the host
//! (one `stat` per follow mode, one `sha1sum`), not several per path: with many hosts on
//! shared cores, the host side is what a no-op converge spends its time on.

use super::{parse_answer, probe_script, Answer, Probe};
use crate::connection::{parse_stat, quote};
use crate::diagnostics::Result;
use std::collections::{HashMap, HashSet};

/// `stat` fields as [`parse_stat`] reads them, then the name to match answers to paths.
fn stat_format() -> String {
    format!("{}|%n", crate::connection::STAT_FIELDS)
}

/// How many `|`-separated fields come before the name.
const STAT_FIELD_COUNT: usize = 9;

/// The stats of one follow mode, deduplicated by path.
struct StatGroup<'a> {
    follow: bool,
    paths: Vec<&'a str>,
    checksum: HashSet<&'a str>,
}

fn stat_groups<'a>(probes: &[&'a Probe]) -> [StatGroup<'a>; 2] {
    let mut groups = [true, false].map(|follow| StatGroup {
        follow,
        paths: Vec::new(),
        checksum: HashSet::new(),
    });
    for p in probes {
        if let Probe::Stat {
            path,
            follow,
            checksum,
        } = p
        {
            if !batchable(path) {
                continue;
            }
            let g = &mut groups[usize::from(!*follow)];
            if !g.paths.contains(&path.as_str()) {
                g.paths.push(path);
            }
            if *checksum {
                g.checksum.insert(path);
            }
        }
    }
    groups
}

/// Answers are matched to paths by name, one per line: a path with a newline in it
/// cannot be, and goes through the per-probe script instead.
fn batchable(path: &str) -> bool {
    !path.contains('\n')
}

fn mode_flag(follow: bool) -> &'static str {
    if follow {
        "L"
    } else {
        "P"
    }
}

pub(super) fn batch_script(probes: &[&Probe]) -> String {
    let mut s = String::new();
    for g in stat_groups(probes) {
        if g.paths.is_empty() {
            continue;
        }
        let m = mode_flag(g.follow);
        // Following a dangling symlink finds nothing: "missing", not a failed `stat -L`.
        let (l, or_link, not_link) = if g.follow {
            ("-L ", "", "")
        } else {
            ("", " || [ -L \"$p\" ]", " && [ ! -L \"$p\" ]")
        };
        s.push_str("set --\n");
        for (k, path) in g.paths.iter().enumerate() {
            s.push_str(&format!(
                "p={}; if [ -e \"$p\" ]{or_link}; then set -- \"$@\" \"$p\"; else echo '@missing {m} {k}'; fi\n",
                quote(path)
            ));
        }
        s.push_str(&format!(
            "echo '@stat {m}'; [ $# -eq 0 ] || stat {l}-c '{}' -- \"$@\"; echo '@end'\n",
            stat_format()
        ));
        if !g.checksum.is_empty() {
            s.push_str("set --\n");
            for path in g.paths.iter().filter(|p| g.checksum.contains(*p)) {
                s.push_str(&format!(
                    "p={}; if [ -f \"$p\" ]{not_link} && [ -r \"$p\" ]; then set -- \"$@\" \"$p\"; fi\n",
                    quote(path)
                ));
            }
            s.push_str(&format!(
                "echo '@sum {m}'; [ $# -eq 0 ] || sha1sum -- \"$@\"; echo '@end'\n"
            ));
        }
        if !g.follow {
            for (k, path) in g.paths.iter().enumerate() {
                s.push_str(&format!(
                    "p={}; if [ -L \"$p\" ]; then printf '@link {k} '; readlink -- \"$p\" | base64 -w0; echo; fi\n",
                    quote(path)
                ));
            }
        }
    }
    for (i, p) in probes.iter().enumerate() {
        let batched = matches!(p, Probe::Stat { path, .. } if batchable(path));
        if !batched {
            s.push_str(&probe_script(i, p));
            s.push('\n');
        }
    }
    s
}

/// What the stat sections said, per follow mode and path.
#[derive(Default)]
struct StatAnswers {
    stat: HashMap<String, String>,
    sum: HashMap<String, String>,
    link: HashMap<usize, String>,
    missing: HashSet<usize>,
}

pub(super) fn parse_batch(probes: &[&Probe], out: &str) -> Result<Vec<(usize, Answer)>> {
    let groups = stat_groups(probes);
    let mut found: [StatAnswers; 2] = Default::default();
    let mut answers = Vec::new();
    let mut section: Option<(&str, usize)> = None;
    for line in out.lines() {
        if line == "@end" {
            section = None;
            continue;
        }
        if let Some((kind, g)) = section {
            let a = &mut found[g];
            if kind == "stat" {
                if let Some((fields, name)) = split_stat_line(line) {
                    a.stat.insert(name.to_string(), fields.to_string());
                }
            } else if let Some((sum, name)) = parse_sum_line(line) {
                a.sum.insert(name, sum);
            }
            continue;
        }
        let words: Vec<&str> = line.splitn(3, ' ').collect();
        match words.as_slice() {
            ["@stat", m] => section = Some(("stat", group_index(m))),
            ["@sum", m] => section = Some(("sum", group_index(m))),
            ["@missing", m, k] => {
                if let Ok(k) = k.parse() {
                    found[group_index(m)].missing.insert(k);
                }
            }
            ["@link", k, data] => {
                if let (Ok(k), Ok(target)) = (k.parse(), super::b64(data)) {
                    found[1]
                        .link
                        .insert(k, String::from_utf8_lossy(&target).into_owned());
                }
            }
            ["@link", k] => {
                if let Ok(k) = k.parse() {
                    found[1].link.insert(k, String::new());
                }
            }
            _ => {
                let Some((head, rest)) = line.split_once(' ') else {
                    continue;
                };
                let Some(i) = head.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) else {
                    continue;
                };
                if let Some(p) = probes.get(i) {
                    answers.push((i, parse_answer(p, rest)?));
                }
            }
        }
    }
    for (i, p) in probes.iter().enumerate() {
        let Probe::Stat {
            path,
            follow,
            checksum,
        } = p
        else {
            continue;
        };
        let gi = usize::from(!*follow);
        let Some(k) = groups[gi].paths.iter().position(|q| q == path) else {
            continue;
        };
        let a = &found[gi];
        let text = if a.missing.contains(&k) {
            "missing".to_string()
        } else if let Some(fields) = a.stat.get(path.as_str()) {
            let sum = match a.sum.get(path.as_str()) {
                Some(sum) if *checksum => sum.as_str(),
                _ => "-",
            };
            let link = a.link.get(&k).map_or("", String::as_str);
            format!("{fields}\n{sum}\n{link}")
        } else {
            // Vanished or unreadable between the test and `stat`: no answer, the module
            // asks again on its own.
            continue;
        };
        answers.push((i, super::Answer::Stat(parse_stat(&text)?)));
    }
    Ok(answers)
}

fn group_index(mode: &str) -> usize {
    usize::from(mode != "L")
}

/// A line of [`stat_format`] → (the [`STAT_FIELD_COUNT`] fields, the name).
fn split_stat_line(line: &str) -> Option<(&str, &str)> {
    let mut cut = 0;
    for _ in 0..STAT_FIELD_COUNT {
        cut += line[cut..].find('|')? + 1;
    }
    Some((&line[..cut - 1], &line[cut..]))
}

/// A `sha1sum` line: `HASH  NAME`, or `\HASH  NAME` with `\\` and `\n` escaped in NAME.
fn parse_sum_line(line: &str) -> Option<(String, String)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (sum, name) = line.split_once("  ")?;
    let name = if escaped {
        let mut out = String::new();
        let mut chars = name.chars();
        while let Some(c) = chars.next() {
            match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                (c, false) => out.push(c),
            }
        }
        out
    } else {
        name.to_string()
    };
    Some((sum.to_string(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_keep_bars_in_names() {
        let (f, n) = split_stat_line("regular file|644|root|root|0|0|3|1|2|/a|b").unwrap();
        assert_eq!(f, "regular file|644|root|root|0|0|3|1|2");
        assert_eq!(n, "/a|b");
        assert!(split_stat_line("garbage").is_none());
    }

    #[test]
    fn escaped_sha1sum_names_are_restored() {
        assert_eq!(
            parse_sum_line("\\abc  /x\\\\y"),
            Some(("abc".into(), "/x\\y".into()))
        );
        assert_eq!(
            parse_sum_line("abc  /p  q"),
            Some(("abc".into(), "/p  q".into()))
        );
    }
}
