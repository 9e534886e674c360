//! Regular-expression filters (`regex_replace`, `regex_search`, `regex_findall`,
//! `regex_escape`) on Python's `re` semantics ([`crate::pyregex`]).

use crate::pyregex::PyRegex;
use fancy_regex::Captures;
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::Error;

use super::{check_arity, fail, flag, num_i128, param, str_param, text_input};
use crate::template::ansible::pycompat::py_repr;

/// Compiles a Python `re` pattern with drover's one regex layer ([`PyRegex`]: look-around
/// and back-references work as in Python).
pub(crate) fn compile_regex(
    name: &str,
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
) -> Result<PyRegex, Error> {
    PyRegex::new(pattern, ignorecase, multiline).map_err(|detail| {
        fail(format!(
            "{name}: invalid regular expression {pattern:?}: {}",
            detail.lines().last().unwrap_or(&detail).trim()
        ))
    })
}

/// A match that needed more backtracking than the engine allows, as a template error.
fn regex_failed(name: &str) -> impl Fn(String) -> Error + '_ {
    move |e| fail(format!("{name}: {e}"))
}

enum ReplPart {
    Literal(String),
    Group(usize),
}

/// Parses a Python `re.sub` replacement template (`\1`, `\g<name>`,
/// `\g<1>`, `\n`, ...).
fn parse_replacement(name: &str, repl: &str, re: &PyRegex) -> Result<Vec<ReplPart>, Error> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let chars: Vec<char> = repl.chars().collect();
    let groups = re.captures_len();
    let mut i = 0;
    let bad_group = |g: &str| {
        fail(format!(
            "{name}: invalid group reference {g} in replacement {repl:?}"
        ))
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            lit.push(c);
            i += 1;
            continue;
        }
        let Some(&next) = chars.get(i + 1) else {
            return Err(fail(format!(
                "{name}: replacement {repl:?} ends with a lone backslash"
            )));
        };
        i += 2;
        let group = match next {
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err(fail(format!(
                        "{name}: missing '<' after \\g in replacement {repl:?}"
                    )));
                }
                let end = chars[i..].iter().position(|c| *c == '>').map(|p| p + i);
                let Some(end) = end else {
                    return Err(fail(format!(
                        "{name}: missing '>' after \\g< in replacement {repl:?}"
                    )));
                };
                let group_name: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                if let Ok(n) = group_name.parse::<usize>() {
                    if n >= groups {
                        return Err(bad_group(&group_name));
                    }
                    Some(n)
                } else {
                    let idx = re
                        .capture_names()
                        .position(|n| n == Some(group_name.as_str()));
                    match idx {
                        Some(idx) => Some(idx),
                        None => {
                            return Err(fail(format!(
                                "{name}: unknown group name '{group_name}' in replacement {repl:?}"
                            )))
                        }
                    }
                }
            }
            '0' => {
                let mut oct = String::from("0");
                while oct.len() < 3 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                    oct.push(chars[i]);
                    i += 1;
                }
                let code = u32::from_str_radix(&oct, 8).unwrap_or(0) & 0xff;
                lit.push(char::from_u32(code).unwrap_or('\0'));
                None
            }
            '1'..='9' => {
                let mut digits = next.to_string();
                if let Some(&d2) = chars.get(i).filter(|c| c.is_ascii_digit()) {
                    let d3 = chars.get(i + 1).copied();
                    if ('0'..='7').contains(&next)
                        && ('0'..='7').contains(&d2)
                        && d3.is_some_and(|d| ('0'..='7').contains(&d))
                    {
                        let oct: String = [next, d2, d3.unwrap_or('0')].iter().collect();
                        let code = u32::from_str_radix(&oct, 8).unwrap_or(0);
                        if code > 0o377 {
                            return Err(fail(format!(
                                "{name}: octal escape \\{oct} out of range in replacement {repl:?}"
                            )));
                        }
                        lit.push(char::from_u32(code).unwrap_or('\0'));
                        i += 2;
                        continue;
                    }
                    digits.push(d2);
                    i += 1;
                }
                let n: usize = digits.parse().unwrap_or(usize::MAX);
                if n >= groups {
                    return Err(bad_group(&digits));
                }
                Some(n)
            }
            'a' => {
                lit.push('\x07');
                None
            }
            'b' => {
                lit.push('\x08');
                None
            }
            'f' => {
                lit.push('\x0c');
                None
            }
            'n' => {
                lit.push('\n');
                None
            }
            'r' => {
                lit.push('\r');
                None
            }
            't' => {
                lit.push('\t');
                None
            }
            'v' => {
                lit.push('\x0b');
                None
            }
            '\\' => {
                lit.push('\\');
                None
            }
            c if c.is_ascii_alphabetic() => {
                return Err(fail(format!(
                    "{name}: bad escape \\{c} in replacement {repl:?}"
                )));
            }
            c => {
                lit.push('\\');
                lit.push(c);
                None
            }
        };
        if let Some(g) = group {
            if !lit.is_empty() {
                parts.push(ReplPart::Literal(std::mem::take(&mut lit)));
            }
            parts.push(ReplPart::Group(g));
        }
    }
    if !lit.is_empty() {
        parts.push(ReplPart::Literal(lit));
    }
    Ok(parts)
}

fn regex_flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    Ok((
        flag(kwargs.get("ignorecase")?, false),
        flag(kwargs.get("multiline")?, false),
    ))
}

/// `regex_replace(pattern, replacement='', ignorecase=False, multiline=False,
/// count=0, mandatory_count=0)`: Python `re.subn`; the replacement uses
/// Python syntax (`\1`, `\g<name>`), not Rust's `$1`.
pub fn regex_replace(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    const NAME: &str = "regex_replace";
    check_arity(NAME, &args, 4)?;
    let text = text_input(NAME, value)?;
    let pattern = match param(&args, &kwargs, 0, "pattern")? {
        Some(p) => str_param(NAME, "pattern", &p)?,
        None => String::new(),
    };
    let replacement = match param(&args, &kwargs, 1, "replacement")? {
        Some(r) => str_param(NAME, "replacement", &r)?,
        None => String::new(),
    };
    let ignorecase = flag(param(&args, &kwargs, 2, "ignorecase")?, false);
    let multiline = flag(param(&args, &kwargs, 3, "multiline")?, false);
    let count = kwargs
        .get::<Option<Value>>("count")?
        .as_ref()
        .and_then(num_i128)
        .unwrap_or(0);
    let mandatory = kwargs
        .get::<Option<Value>>("mandatory_count")?
        .as_ref()
        .and_then(num_i128)
        .unwrap_or(0);
    kwargs.assert_all_used()?;
    let re = compile_regex(NAME, &pattern, ignorecase, multiline)?;
    let parts = parse_replacement(NAME, &replacement, &re)?;
    let mut subs = 0usize;
    let limit = usize::try_from(count.max(0)).unwrap_or(0);
    let out = re
        .replacen_with(&text, limit, |caps: &Captures<'_, str>| {
            subs += 1;
            let mut s = String::new();
            for part in &parts {
                match part {
                    ReplPart::Literal(l) => s.push_str(l),
                    ReplPart::Group(g) => s.push_str(caps.get(*g).map_or("", |m| m.as_str())),
                }
            }
            s
        })
        .map_err(regex_failed(NAME))?;
    if mandatory != 0 && i128::try_from(subs).unwrap_or(i128::MAX) != mandatory {
        return Err(fail(format!(
            "{NAME}: pattern {pattern:?} should match {mandatory} times, but matches {subs} times in {text:?}"
        )));
    }
    Ok(out)
}

/// `regex_search(pattern, *groups, ignorecase=False, multiline=False)`: the
/// first match, `none` when nothing matches, or a list of the requested groups
/// (`'\\1'`, `'\\g<name>'`).
pub fn regex_search(
    value: &Value,
    pattern: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    const NAME: &str = "regex_search";
    let text = text_input(NAME, value)?;
    let pattern = str_param(NAME, "pattern", pattern)?;
    let (ignorecase, multiline) = regex_flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile_regex(NAME, &pattern, ignorecase, multiline)?;
    let mut groups = Vec::new();
    for arg in args.iter() {
        let a = arg.as_str().unwrap_or_default();
        if let Some(name) = a.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
            match name.parse::<usize>() {
                Ok(n) => groups.push(n),
                Err(_) => match re.capture_names().position(|n| n == Some(name)) {
                    Some(idx) => groups.push(idx),
                    None => return Err(fail(format!("{NAME}: unknown group name '{name}'"))),
                },
            }
        } else if let Some(n) = a.strip_prefix('\\').and_then(|d| d.parse::<usize>().ok()) {
            groups.push(n);
        } else {
            return Err(fail(format!(
                "{NAME}: unknown argument {}; group arguments look like '\\\\1' or '\\\\g<name>'",
                py_repr(arg)
            )));
        }
    }
    if let Some(g) = groups.iter().find(|g| **g >= re.captures_len()) {
        return Err(fail(format!(
            "{NAME}: no such group {g} in pattern {pattern:?}"
        )));
    }
    let Some(caps) = re.captures(&text).map_err(regex_failed(NAME))? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    Ok(Value::from(
        groups
            .iter()
            .map(|g| {
                caps.get(*g)
                    .map_or(Value::from(()), |m| Value::from(m.as_str()))
            })
            .collect::<Vec<_>>(),
    ))
}

/// `regex_findall(pattern, multiline=False, ignorecase=False)`: Python's
/// `re.findall` (whole matches, the single group, or lists of groups).
pub fn regex_findall(value: &Value, pattern: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    const NAME: &str = "regex_findall";
    let text = text_input(NAME, value)?;
    let pattern = str_param(NAME, "pattern", pattern)?;
    let (ignorecase, multiline) = regex_flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile_regex(NAME, &pattern, ignorecase, multiline)?;
    let ngroups = re.captures_len() - 1;
    let group =
        |caps: &Captures<'_, str>, g: usize| Value::from(caps.get(g).map_or("", |m| m.as_str()));
    let items: Vec<Value> = re
        .captures_all(&text)
        .map_err(regex_failed(NAME))?
        .iter()
        .map(|caps| match ngroups {
            0 => group(caps, 0),
            1 => group(caps, 1),
            n => Value::from((1..=n).map(|g| group(caps, g)).collect::<Vec<_>>()),
        })
        .collect();
    Ok(Value::from(items))
}

/// `regex_escape(re_type='python')`: Python's `re.escape`, or the POSIX
/// basic variant.
pub fn regex_escape(value: &Value, re_type: Option<String>) -> Result<String, Error> {
    let s = text_input("regex_escape", value)?;
    let special = match re_type.as_deref().unwrap_or("python") {
        "python" => "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c",
        "posix_basic" => "].[^$*\\",
        "posix_extended" => {
            return Err(fail(
                "regex_escape: re_type 'posix_extended' is not implemented",
            ))
        }
        other => {
            return Err(fail(format!(
                "regex_escape: invalid re_type '{other}'; use 'python' or 'posix_basic'"
            )))
        }
    };
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}
