//! Ansible-compatible Jinja filters (ansible-core 2.17+ semantics).
//!
//! Every filter here is registered by `register::register`.  Filters that
//! minijinja already implements with Ansible's semantics (`default`, `map`,
//! `select`, `sort`, `length`, ...) are not redefined.

use std::cmp::Ordering;
use std::fmt::Write as _;

use crate::pyregex::PyRegex;
use base64::Engine as _;
use fancy_regex::Captures;
use md5::Md5;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use sha1::{Digest, Sha1};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::pycompat;
// `py_str` is re-exported at its old path for src/exec (being restructured, issue #19).
use super::pycompat::py_repr;
pub use super::pycompat::py_str;
use super::yaml_emitter as yaml;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

pub(crate) fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

pub(crate) fn ensure_defined(name: &str, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{name}: the input value is undefined"),
        ))
    } else {
        Ok(())
    }
}

/// Reads an optional parameter given either positionally (`args[idx]`) or by
/// keyword.
pub(crate) fn param(
    args: &[Value],
    kwargs: &Kwargs,
    idx: usize,
    name: &str,
) -> Result<Option<Value>, Error> {
    let kw: Option<Value> = kwargs.get(name)?;
    match (args.get(idx), kw) {
        (Some(_), Some(_)) => Err(fail(format!(
            "argument '{name}' was given both positionally and as a keyword"
        ))),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, kw) => Ok(kw),
    }
}

/// Python-style truthiness of an optional flag (`none`/missing -> default).
pub(crate) fn flag(value: Option<Value>, default: bool) -> bool {
    match value {
        Some(v) if !v.is_none() && !v.is_undefined() => v.is_true(),
        _ => default,
    }
}

fn check_arity(name: &str, args: &[Value], max: usize) -> Result<(), Error> {
    if args.len() > max {
        Err(Error::new(
            ErrorKind::TooManyArguments,
            format!(
                "{name}: takes at most {max} positional argument(s), got {}",
                args.len()
            ),
        ))
    } else {
        Ok(())
    }
}

/// Converts the input of a text filter like Ansible's `to_text`.
fn text_input(name: &str, value: &Value) -> Result<String, Error> {
    ensure_defined(name, value)?;
    Ok(py_str(value))
}

fn str_param(name: &str, what: &str, value: &Value) -> Result<String, Error> {
    match value.as_str() {
        Some(s) => Ok(s.to_string()),
        None if value.is_undefined() => Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{name}: argument '{what}' is undefined"),
        )),
        None if matches!(value.kind(), ValueKind::Number | ValueKind::Bool) => Ok(py_str(value)),
        None => Err(fail(format!(
            "{name}: argument '{what}' must be a string, got {}",
            value.kind()
        ))),
    }
}

/// Collects an iterable input into a vector, rejecting undefined/none.
pub(crate) fn list_input(name: &str, value: &Value) -> Result<Vec<Value>, Error> {
    ensure_defined(name, value)?;
    if value.is_none() {
        return Err(fail(format!("{name}: expected a list, got none")));
    }
    match value.try_iter() {
        Ok(iter) => Ok(iter.collect()),
        Err(_) => Err(fail(format!(
            "{name}: expected a list, got {}",
            value.kind()
        ))),
    }
}

fn is_map(value: &Value) -> bool {
    value.kind() == ValueKind::Map
}

fn is_list(value: &Value) -> bool {
    matches!(value.kind(), ValueKind::Seq | ValueKind::Iterable)
}

fn num_f64(value: &Value) -> Option<f64> {
    match value.kind() {
        ValueKind::Bool => Some(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).ok(),
        _ => None,
    }
}

fn num_i128(value: &Value) -> Option<i128> {
    match value.kind() {
        ValueKind::Bool => Some(i128::from(value.is_true())),
        ValueKind::Number if value.is_integer() => i128::try_from(value.clone()).ok(),
        _ => None,
    }
}

/// Looks up `a.b.0`-style attribute paths like Jinja2's `make_attrgetter`.
pub(crate) fn attr_path(value: &Value, path: &Value) -> Value {
    let Some(path) = path.as_str() else {
        return value.get_item(path).unwrap_or(Value::UNDEFINED);
    };
    let mut current = value.clone();
    for part in path.split('.') {
        let next = match part.parse::<i64>() {
            Ok(idx) if current.kind() == ValueKind::Seq => current.get_item(&Value::from(idx)),
            _ => current.get_item(&Value::from(part)),
        };
        current = next.unwrap_or(Value::UNDEFINED);
        if current.is_undefined() {
            break;
        }
    }
    current
}

fn map_from_pairs(pairs: Vec<(Value, Value)>) -> Value {
    Value::from_iter(pairs)
}

// ---------------------------------------------------------------------------
// Type conversion
// ---------------------------------------------------------------------------

/// `bool`: Ansible's boolean conversion.  Strings must be one of the well
/// known spellings (case-insensitive); anything else is an error rather than
/// silently `false` (ansible-core 2.19 deprecates that coercion).
pub fn bool_filter(value: &Value) -> Result<bool, Error> {
    match value.kind() {
        ValueKind::Undefined => Err(Error::new(
            ErrorKind::UndefinedError,
            "bool: the input value is undefined",
        )),
        ValueKind::Bool => Ok(value.is_true()),
        ValueKind::None => Ok(false),
        ValueKind::Number => Ok(num_f64(value) == Some(1.0)),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match s.to_lowercase().as_str() {
                "yes" | "on" | "1" | "true" | "y" | "t" => Ok(true),
                // Anything else is false, as ansible-core 2.19 computes it.
                _ => Ok(false),
            }
        }
        _ => Ok(false),
    }
}

/// Ansible's strict `boolean()` (module_utils): the words and numbers it knows, None as
/// false, and `None` for anything else (where Ansible raises).
pub(crate) fn strict_bool(value: &Value) -> Option<bool> {
    match value.kind() {
        ValueKind::Bool => Some(value.is_true()),
        ValueKind::None => Some(false),
        // Python: 1 == 1.0 == True; only exactly one and zero are booleans.
        ValueKind::Number => match num_f64(value) {
            Some(x) if (x - 1.0).abs() < f64::EPSILON => Some(true),
            Some(x) if x.abs() < f64::EPSILON => Some(false),
            _ => None,
        },
        ValueKind::String => match value
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_lowercase()
            .as_str()
        {
            "yes" | "on" | "1" | "true" | "y" | "t" => Some(true),
            "no" | "off" | "0" | "false" | "n" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses an integer like Python's `int(text, base)` (whitespace, sign,
/// `0x`/`0o`/`0b` prefixes and `_` separators).
pub(crate) fn parse_py_int(text: &str, base: u32) -> Option<i128> {
    let s = text.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let auto = base == 0;
    let lower = s.to_ascii_lowercase();
    let prefixed = |p: &str| lower.starts_with(p);
    let (base, digits, had_prefix) = match base {
        0 if prefixed("0x") => (16, &s[2..], true),
        0 if prefixed("0o") => (8, &s[2..], true),
        0 if prefixed("0b") => (2, &s[2..], true),
        0 => (10, s, false),
        16 if prefixed("0x") => (16, &s[2..], true),
        8 if prefixed("0o") => (8, &s[2..], true),
        2 if prefixed("0b") => (2, &s[2..], true),
        b if (2..=36).contains(&b) => (b, s, false),
        _ => return None,
    };
    let digits = if had_prefix {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    // base 0 (auto-detect) rejects leading zeros like Python does
    if auto
        && !had_prefix
        && clean.len() > 1
        && clean.starts_with('0')
        && clean.chars().any(|c| c != '0')
    {
        return None;
    }
    let magnitude = i128::from_str_radix(&clean, base).ok()?;
    Some(if neg { -magnitude } else { magnitude })
}

/// Parses a float like Python's `float(text)`.
pub(crate) fn parse_py_float(text: &str) -> Option<f64> {
    let s = text.trim();
    if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return clean.parse::<f64>().ok();
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    {
        return None;
    }
    clean.parse::<f64>().ok()
}

/// `int(default=0, base=10)`: Jinja2's `int`, including the fallback through
/// `float` (`"3.7"|int` is 3) and the default on failure.
pub fn int_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("int", value)?;
    check_arity("int", &args, 2)?;
    let default = param(&args, &kwargs, 0, "default")?.unwrap_or(Value::from(0));
    let base = match param(&args, &kwargs, 1, "base")? {
        None => 10,
        Some(b) => match num_i128(&b) {
            Some(b) if b == 0 || (2..=36).contains(&b) => b as u32,
            _ => return Err(fail("int: base must be 0 or between 2 and 36")),
        },
    };
    kwargs.assert_all_used()?;
    let truncate = |f: f64| {
        if f.is_finite() {
            Value::from(f.trunc() as i128)
        } else {
            default.clone()
        }
    };
    Ok(match value.kind() {
        ValueKind::Bool | ValueKind::Number
            if value.is_integer() || value.kind() == ValueKind::Bool =>
        {
            Value::from(num_i128(value).unwrap_or(0))
        }
        ValueKind::Number => num_f64(value).map_or(default.clone(), truncate),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match parse_py_int(s, base) {
                Some(i) => Value::from(i),
                None => parse_py_float(s).map_or(default.clone(), truncate),
            }
        }
        _ => default,
    })
}

/// `float(default=0.0)`: Jinja2's `float`, returning the default on failure.
pub fn float_filter(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("float", value)?;
    check_arity("float", &args, 1)?;
    let default = param(&args, &kwargs, 0, "default")?.unwrap_or(Value::from(0.0));
    kwargs.assert_all_used()?;
    Ok(match value.kind() {
        ValueKind::Bool | ValueKind::Number => num_f64(value).map_or(default, Value::from),
        ValueKind::String => {
            parse_py_float(value.as_str().unwrap_or_default()).map_or(default, Value::from)
        }
        _ => default,
    })
}

/// `string`: Python's `str()` (so `True`, `None`, `['a']`).
pub fn string_filter(value: &Value) -> Result<Value, Error> {
    ensure_defined("string", value)?;
    if value.kind() == ValueKind::String {
        return Ok(value.clone());
    }
    Ok(Value::from(py_str(value)))
}

/// `type_debug`: the Python type name Ansible would report.
pub fn type_debug(value: &Value) -> Result<String, Error> {
    ensure_defined("type_debug", value)?;
    Ok(match value.kind() {
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
    .to_string())
}

// ---------------------------------------------------------------------------
// String filters
// ---------------------------------------------------------------------------

/// `title`: Jinja2's title case — words start after whitespace, `-`, `(`,
/// `{`, `[` or `<` (so `"foo.bar"` stays `"Foo.bar"`, unlike `str.title`).
pub fn title(value: &Value) -> Result<String, Error> {
    let s = text_input("title", value)?;
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if c.is_whitespace() || matches!(c, '-' | '(' | '{' | '[' | '<') {
            out.push(c);
            at_start = true;
        } else if at_start {
            out.extend(c.to_uppercase());
            at_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Ok(out)
}

/// `replace(old, new, count=None)`: Python's `str.replace`.
pub fn replace(
    value: &Value,
    old: &Value,
    new: &Value,
    count: Option<Value>,
) -> Result<String, Error> {
    let s = text_input("replace", value)?;
    let old = str_param("replace", "old", old)?;
    let new = str_param("replace", "new", new)?;
    match count.as_ref().and_then(num_i128) {
        Some(n) if n >= 0 => Ok(s.replacen(&old, &new, usize::try_from(n).unwrap_or(usize::MAX))),
        _ => Ok(s.replace(&old, &new)),
    }
}

/// `join(d='', attribute=None)`: Jinja2's join; items are converted with
/// Python's `str()`.
pub fn join(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    check_arity("join", &args, 2)?;
    let items = list_input("join", value)?;
    let sep = match param(&args, &kwargs, 0, "d")? {
        Some(s) => str_param("join", "d", &s)?,
        None => String::new(),
    };
    let attribute = param(&args, &kwargs, 1, "attribute")?;
    kwargs.assert_all_used()?;
    let parts: Vec<String> = items
        .iter()
        .map(|item| match &attribute {
            Some(attr) => py_str(&attr_path(item, attr)),
            None => py_str(item),
        })
        .collect();
    Ok(parts.join(&sep))
}

/// `quote`: POSIX shell quoting exactly like Python's `shlex.quote`.
pub fn quote(value: &Value) -> Result<String, Error> {
    ensure_defined("quote", value)?;
    let s = if value.is_none() {
        String::new()
    } else {
        py_str(value)
    };
    Ok(shell_quote(&s))
}

pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

/// `b64encode(encoding='utf-8')`.
pub fn b64encode(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let s = text_input("b64encode", value)?;
    let encoding: Option<String> = kwargs.get("encoding")?;
    kwargs.assert_all_used()?;
    let bytes = encode_text("b64encode", &s, encoding.as_deref())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `b64decode(encoding='utf-8')`: like Python's non-validating decoder,
/// characters outside the base64 alphabet are ignored; bad padding fails.
pub fn b64decode(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let s = text_input("b64decode", value)?;
    let encoding: Option<String> = kwargs.get("encoding")?;
    kwargs.assert_all_used()?;
    let cleaned: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| fail(format!("b64decode: input is not valid base64 ({e})")))?;
    decode_text("b64decode", &bytes, encoding.as_deref())
}

fn encode_text(name: &str, s: &str, encoding: Option<&str>) -> Result<Vec<u8>, Error> {
    match encoding
        .map(|e| e.to_ascii_lowercase().replace('_', "-"))
        .as_deref()
    {
        None | Some("utf-8") | Some("utf8") => Ok(s.as_bytes().to_vec()),
        Some("utf-16-le") | Some("utf-16le") => {
            Ok(s.encode_utf16().flat_map(u16::to_le_bytes).collect())
        }
        Some(other) => Err(fail(format!(
            "{name}: unsupported encoding '{other}'; use 'utf-8' or 'utf-16-le'"
        ))),
    }
}

fn decode_text(name: &str, bytes: &[u8], encoding: Option<&str>) -> Result<String, Error> {
    match encoding
        .map(|e| e.to_ascii_lowercase().replace('_', "-"))
        .as_deref()
    {
        None | Some("utf-8") | Some("utf8") => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Some("utf-16-le") | Some("utf-16le") => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| {
                    u16::from_le_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            Ok(String::from_utf16_lossy(&units))
        }
        Some(other) => Err(fail(format!(
            "{name}: unsupported encoding '{other}'; use 'utf-8' or 'utf-16-le'"
        ))),
    }
}

/// `urldecode`: Python's `unquote_plus`.
pub fn urldecode(value: &Value) -> Result<String, Error> {
    let s = text_input("urldecode", value)?;
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

// ---------------------------------------------------------------------------
// Regular expressions
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Lists and sets
// ---------------------------------------------------------------------------

fn fold_case(value: &Value, case_sensitive: bool) -> Value {
    match value.as_str() {
        Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
        _ => value.clone(),
    }
}

fn dedupe(items: Vec<Value>, case_sensitive: bool, attribute: Option<&Value>) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let key = match attribute {
            Some(attr) => attr_path(&item, attr),
            None => item.clone(),
        };
        let key = fold_case(&key, case_sensitive);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    out
}

/// `unique(case_sensitive=False, attribute=None)`: order-preserving; works on
/// lists of dicts too.
pub fn unique(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("unique", value)?;
    let case_sensitive = flag(kwargs.get("case_sensitive")?, false);
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    Ok(Value::from(dedupe(
        items,
        case_sensitive,
        attribute.as_ref(),
    )))
}

pub fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let mut items = list_input("union", a)?;
    items.extend(list_input("union", b)?);
    Ok(Value::from(dedupe(items, true, None)))
}

/// `intersect`: items of the input also in the argument, in input order.
pub fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("intersect", a)?;
    let right = list_input("intersect", b)?;
    let items = left.into_iter().filter(|x| right.contains(x)).collect();
    Ok(Value::from(dedupe(items, true, None)))
}

pub fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("difference", a)?;
    let right = list_input("difference", b)?;
    let items = left.into_iter().filter(|x| !right.contains(x)).collect();
    Ok(Value::from(dedupe(items, true, None)))
}

pub fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("symmetric_difference", a)?;
    let right = list_input("symmetric_difference", b)?;
    let both: Vec<Value> = left.iter().filter(|x| right.contains(x)).cloned().collect();
    let mut all = left;
    all.extend(right);
    let items: Vec<Value> = dedupe(all, true, None)
        .into_iter()
        .filter(|x| !both.contains(x))
        .collect();
    Ok(Value::from(items))
}

fn extremum(name: &str, value: &Value, kwargs: Kwargs, want: Ordering) -> Result<Value, Error> {
    let items = list_input(name, value)?;
    let case_sensitive = flag(kwargs.get("case_sensitive")?, false);
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let key = |v: &Value| {
        let k = match &attribute {
            Some(attr) => attr_path(v, attr),
            None => v.clone(),
        };
        fold_case(&k, case_sensitive)
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = key(&item);
        let replace = match &best {
            None => true,
            Some((bk, _)) => k.cmp(bk) == want,
        };
        if replace {
            best = Some((k, item));
        }
    }
    Ok(best.map_or(Value::UNDEFINED, |(_, v)| v))
}

/// `min(attribute=None, case_sensitive=False)`.
pub fn min(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extremum("min", value, kwargs, Ordering::Less)
}

/// `max(attribute=None, case_sensitive=False)`.
pub fn max(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extremum("max", value, kwargs, Ordering::Greater)
}

fn py_add(name: &str, a: &Value, b: &Value) -> Result<Value, Error> {
    if let (Some(x), Some(y)) = (num_i128(a), num_i128(b)) {
        if let Some(sum) = x.checked_add(y) {
            return Ok(Value::from(sum));
        }
    }
    if let (Some(x), Some(y)) = (num_f64(a), num_f64(b)) {
        return Ok(Value::from(x + y));
    }
    if is_list(a) && is_list(b) {
        let mut items = list_input(name, a)?;
        items.extend(list_input(name, b)?);
        return Ok(Value::from(items));
    }
    Err(fail(format!(
        "{name}: cannot add {} and {}; use `start=[]` to sum lists",
        a.kind(),
        b.kind()
    )))
}

/// `sum(attribute=None, start=0)`: Jinja2's sum; with `start=[]` it
/// concatenates lists.
pub fn sum(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("sum", value)?;
    let attribute: Option<Value> = kwargs.get("attribute")?;
    let start: Option<Value> = kwargs.get("start")?;
    kwargs.assert_all_used()?;
    let mut total = start.unwrap_or(Value::from(0));
    for item in items {
        let v = match &attribute {
            Some(attr) => attr_path(&item, attr),
            None => item,
        };
        total = py_add("sum", &total, &v)?;
    }
    Ok(total)
}

/// `flatten(levels=None, skip_nulls=True)`: nulls (and the strings
/// `'None'`/`'null'`) are dropped by default, like Ansible.
pub fn flatten(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("flatten", value)?;
    let levels: Option<Value> = kwargs.get("levels")?;
    let levels = match levels {
        None => None,
        Some(l) if l.is_none() => None,
        Some(l) => Some(num_i128(&l).ok_or_else(|| fail("flatten: levels must be an integer"))?),
    };
    let skip_nulls = flag(kwargs.get("skip_nulls")?, true);
    kwargs.assert_all_used()?;
    fn walk(items: Vec<Value>, levels: Option<i128>, skip_nulls: bool, out: &mut Vec<Value>) {
        for item in items {
            let is_null = item.is_none() || matches!(item.as_str(), Some("None") | Some("null"));
            if skip_nulls && is_null {
                continue;
            }
            let descend = is_list(&item) && levels.map_or(true, |l| l >= 1);
            match item.try_iter() {
                Ok(iter) if descend => {
                    walk(iter.collect(), levels.map(|l| l - 1), skip_nulls, out);
                }
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(items, levels, skip_nulls, &mut out);
    Ok(Value::from(out))
}

/// `zip(*others)`: a concrete list of lists (stops at the shortest input).
pub fn zip(value: &Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut lists = vec![list_input("zip", value)?];
    for other in others.iter() {
        lists.push(list_input("zip", other)?);
    }
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .filter_map(|l| l.get(i).cloned())
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `zip_longest(*others, fillvalue=None)`.
pub fn zip_longest(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let fill = fill.unwrap_or(Value::from(()));
    let mut lists = vec![list_input("zip_longest", value)?];
    for other in others.iter() {
        lists.push(list_input("zip_longest", other)?);
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `product(*others, repeat=1)`: the cartesian product as a list of lists.
pub fn product(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let repeat: Option<Value> = kwargs.get("repeat")?;
    kwargs.assert_all_used()?;
    let repeat = match repeat {
        None => 1,
        Some(r) => usize::try_from(num_i128(&r).unwrap_or(-1))
            .map_err(|_| fail("product: repeat must be a non-negative integer"))?,
    };
    let mut pools = vec![list_input("product", value)?];
    for other in others.iter() {
        pools.push(list_input("product", other)?);
    }
    let pools: Vec<Vec<Value>> = (0..repeat).flat_map(|_| pools.iter().cloned()).collect();
    let mut result: Vec<Vec<Value>> = vec![Vec::new()];
    for pool in &pools {
        let mut next = Vec::with_capacity(result.len() * pool.len());
        for prefix in &result {
            for item in pool {
                let mut combo = prefix.clone();
                combo.push(item.clone());
                next.push(combo);
            }
        }
        result = next;
    }
    Ok(Value::from(
        result.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// `subelements(path, skip_missing=False)`: pairs of (item, subitem) for each
/// element of the list found at `path` (a dotted string or list of keys).
pub fn subelements(value: &Value, path: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    const NAME: &str = "subelements";
    ensure_defined(NAME, value)?;
    let skip_missing = flag(kwargs.get("skip_missing")?, false);
    kwargs.assert_all_used()?;
    let elements = if is_map(value) {
        pycompat::map_pairs(value)?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    } else if is_list(value) {
        list_input(NAME, value)?
    } else {
        return Err(fail(format!(
            "{NAME}: input must be a list of dicts or a nested dict, got {}",
            value.kind()
        )));
    };
    let keys: Vec<Value> = if let Some(s) = path.as_str() {
        s.split('.').map(Value::from).collect()
    } else if is_list(path) {
        list_input(NAME, path)?
    } else {
        return Err(fail(format!(
            "{NAME}: subelements must be a list or a string, got {}",
            path.kind()
        )));
    };
    let mut results = Vec::new();
    for element in elements {
        let mut values = element.clone();
        let mut missing = false;
        for key in &keys {
            if !is_map(&values) {
                return Err(fail(format!(
                    "{NAME}: the key {} should point to a dictionary, got {}",
                    py_repr(key),
                    py_repr(&values)
                )));
            }
            match values.get_item(key) {
                Ok(v) if !v.is_undefined() => values = v,
                _ if skip_missing => {
                    missing = true;
                    break;
                }
                _ => {
                    return Err(fail(format!(
                        "{NAME}: could not find {} key in iterated item {}",
                        py_repr(key),
                        py_repr(&values)
                    )))
                }
            }
        }
        if missing {
            continue;
        }
        if !is_list(&values) {
            return Err(fail(format!(
                "{NAME}: the key {} should point to a list, got {}",
                keys.last().map(py_repr).unwrap_or_default(),
                py_repr(&values)
            )));
        }
        for sub in list_input(NAME, &values)? {
            results.push(Value::from(vec![element.clone(), sub]));
        }
    }
    Ok(Value::from(results))
}

// ---------------------------------------------------------------------------
// Dictionaries
// ---------------------------------------------------------------------------

/// `dict2items(key_name='key', value_name='value')`.
pub fn dict2items(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("dict2items", value)?;
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    if !is_map(value) {
        return Err(fail(format!(
            "dict2items: requires a dictionary, got {}",
            value.kind()
        )));
    }
    let key_name = key_name.unwrap_or_else(|| "key".into());
    let value_name = value_name.unwrap_or_else(|| "value".into());
    let items = pycompat::map_pairs(value)?
        .into_iter()
        .map(|(k, v)| {
            map_from_pairs(vec![
                (Value::from(key_name.as_str()), k),
                (Value::from(value_name.as_str()), v),
            ])
        })
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

/// `items2dict(key_name='key', value_name='value')`.
pub fn items2dict(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("items2dict", value)?;
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    if !is_list(value) {
        return Err(fail(format!(
            "items2dict: requires a list, got {}",
            value.kind()
        )));
    }
    let key_name = Value::from(key_name.unwrap_or_else(|| "key".into()));
    let value_name = Value::from(value_name.unwrap_or_else(|| "value".into()));
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for item in list_input("items2dict", value)? {
        if !is_map(&item) {
            return Err(fail(format!(
                "items2dict: requires a list of dictionaries, got an item of type {}",
                item.kind()
            )));
        }
        let k = item.get_item(&key_name).unwrap_or(Value::UNDEFINED);
        let v = item.get_item(&value_name).unwrap_or(Value::UNDEFINED);
        if k.is_undefined() || v.is_undefined() {
            return Err(fail(format!(
                "items2dict: each dictionary must contain the keys {} and {}, got {}",
                py_repr(&key_name),
                py_repr(&value_name),
                py_repr(&item)
            )));
        }
        upsert(&mut pairs, k, v);
    }
    Ok(map_from_pairs(pairs))
}

fn upsert(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = pairs.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        pairs.push((key, value));
    }
}

/// `items`: a concrete list of `[key, value]` pairs.
pub fn items(value: &Value) -> Result<Value, Error> {
    ensure_defined("items", value)?;
    if !is_map(value) {
        return Err(fail(format!(
            "items: requires a dictionary, got {}",
            value.kind()
        )));
    }
    Ok(Value::from(
        pycompat::map_pairs(value)?
            .into_iter()
            .map(|(k, v)| Value::from(vec![k, v]))
            .collect::<Vec<_>>(),
    ))
}

const LIST_MERGE: [&str; 6] = [
    "replace",
    "keep",
    "append",
    "prepend",
    "append_rp",
    "prepend_rp",
];

/// Ansible's `merge_hash(x, y)`: `y` wins.
fn merge_hash(x: &Value, y: &Value, recursive: bool, list_merge: &str) -> Result<Value, Error> {
    let mut out = pycompat::map_pairs(x)?;
    for (key, y_value) in pycompat::map_pairs(y)? {
        let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) else {
            out.push((key, y_value));
            continue;
        };
        let x_value = slot.1.clone();
        slot.1 = if is_map(&x_value) && is_map(&y_value) {
            if recursive {
                merge_hash(&x_value, &y_value, recursive, list_merge)?
            } else {
                y_value
            }
        } else if x_value.kind() == ValueKind::Seq && y_value.kind() == ValueKind::Seq {
            let xs = list_input("combine", &x_value)?;
            let ys = list_input("combine", &y_value)?;
            let kept = || xs.iter().filter(|z| !ys.contains(z)).cloned();
            match list_merge {
                "append" => Value::from(xs.iter().chain(ys.iter()).cloned().collect::<Vec<_>>()),
                "prepend" => Value::from(ys.iter().chain(xs.iter()).cloned().collect::<Vec<_>>()),
                "append_rp" => Value::from(kept().chain(ys.iter().cloned()).collect::<Vec<_>>()),
                "prepend_rp" => Value::from(ys.iter().cloned().chain(kept()).collect::<Vec<_>>()),
                "keep" => x_value,
                _ => y_value,
            }
        } else {
            y_value
        };
    }
    Ok(map_from_pairs(out))
}

/// `combine(*dicts, recursive=False, list_merge='replace')`: later dicts
/// win; a list of dicts as input is flattened one level.
pub fn combine(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive = flag(kwargs.get("recursive")?, false);
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    kwargs.assert_all_used()?;
    let list_merge = list_merge.unwrap_or_else(|| "replace".into());
    if !LIST_MERGE.contains(&list_merge.as_str()) {
        return Err(fail(format!(
            "combine: 'list_merge' must be one of 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', got '{list_merge}'"
        )));
    }
    let mut dicts = Vec::new();
    for term in std::iter::once(value).chain(others.iter()) {
        ensure_defined("combine", term)?;
        if is_list(term) {
            dicts.extend(list_input("combine", term)?);
        } else {
            dicts.push(term.clone());
        }
    }
    if let Some(bad) = dicts.iter().find(|d| !is_map(d)) {
        return Err(fail(format!(
            "combine: expected dictionaries, got a {}",
            bad.kind()
        )));
    }
    let mut iter = dicts.into_iter().rev();
    let Some(mut result) = iter.next() else {
        return Ok(map_from_pairs(Vec::new()));
    };
    for lower in iter {
        result = merge_hash(&lower, &result, recursive, &list_merge)?;
    }
    Ok(result)
}

/// `extract(container, morekeys=None)`: `container[item]`, then each of
/// `morekeys`; missing keys give undefined.
pub fn extract(item: &Value, container: &Value, morekeys: Option<Value>) -> Result<Value, Error> {
    ensure_defined("extract", item)?;
    ensure_defined("extract", container)?;
    let mut keys = vec![item.clone()];
    match morekeys {
        None => {}
        Some(m) if m.kind() == ValueKind::Seq => keys.extend(list_input("extract", &m)?),
        Some(m) => keys.push(m),
    }
    let mut current = container.clone();
    for key in keys {
        current = current.get_item(&key).unwrap_or(Value::UNDEFINED);
        if current.is_undefined() {
            break;
        }
    }
    Ok(current)
}

/// The `dict()` global: accepts a mapping, a list of pairs and/or keyword
/// arguments, like Python's `dict`.
pub fn dict_function(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_arity("dict", &args, 1)?;
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    if let Some(source) = args.first() {
        if is_map(source) {
            pairs = pycompat::map_pairs(source)?;
        } else if source.is_undefined() || source.is_none() {
            return Err(fail("dict: argument is undefined or none"));
        } else {
            for item in list_input("dict", source)? {
                let pair = list_input("dict", &item)
                    .ok()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| {
                        fail(format!(
                            "dict: sequence elements must be [key, value] pairs, got {}",
                            py_repr(&item)
                        ))
                    })?;
                let mut it = pair.into_iter();
                if let (Some(k), Some(v)) = (it.next(), it.next()) {
                    upsert(&mut pairs, k, v);
                }
            }
        }
    }
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let v: Value = kwargs.get(&key)?;
        upsert(&mut pairs, Value::from(key), v);
    }
    Ok(map_from_pairs(pairs))
}

// ---------------------------------------------------------------------------
// JSON / YAML
// ---------------------------------------------------------------------------

struct JsonOpts {
    indent: Option<usize>,
    sort_keys: bool,
    ensure_ascii: bool,
    item_sep: &'static str,
    key_sep: &'static str,
}

fn json_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !(' '..='~').contains(&c)) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        pycompat::py_float_repr(f)
    }
}

fn json_key(name: &str, key: &Value) -> Result<String, Error> {
    Ok(match key.kind() {
        ValueKind::String => key.as_str().unwrap_or_default().to_string(),
        ValueKind::Bool => if key.is_true() { "true" } else { "false" }.into(),
        ValueKind::None => "null".into(),
        ValueKind::Number if key.is_integer() => key.to_string(),
        ValueKind::Number => json_float(num_f64(key).unwrap_or(f64::NAN)),
        kind => {
            return Err(fail(format!(
                "{name}: dictionary keys must be strings or numbers, got {kind}"
            )))
        }
    })
}

fn write_json(
    out: &mut String,
    value: &Value,
    opts: &JsonOpts,
    level: usize,
    name: &str,
) -> Result<(), Error> {
    let newline = |out: &mut String, level: usize| {
        if let Some(indent) = opts.indent {
            out.push('\n');
            out.push_str(&" ".repeat(indent * level));
        }
    };
    match value.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                format!("{name}: cannot serialize an undefined value"),
            ))
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number if value.is_integer() => out.push_str(&value.to_string()),
        ValueKind::Number => out.push_str(&json_float(num_f64(value).unwrap_or(f64::NAN))),
        ValueKind::String | ValueKind::Bytes => json_string(out, &py_str(value), opts.ensure_ascii),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(opts.item_sep);
                }
                newline(out, level + 1);
                write_json(out, item, opts, level + 1, name)?;
            }
            newline(out, level);
            out.push(']');
        }
        ValueKind::Map => {
            let mut pairs = pycompat::map_pairs(value)?;
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if opts.sort_keys {
                pycompat::sort_pairs(&mut pairs);
            }
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(opts.item_sep);
                }
                newline(out, level + 1);
                json_string(out, &json_key(name, k)?, opts.ensure_ascii);
                out.push_str(opts.key_sep);
                write_json(out, v, opts, level + 1, name)?;
            }
            newline(out, level);
            out.push('}');
        }
        kind => {
            return Err(fail(format!(
                "{name}: cannot serialize a value of type {kind}"
            )))
        }
    }
    Ok(())
}

fn dump_json(
    name: &str,
    value: &Value,
    kwargs: &Kwargs,
    default_indent: Option<usize>,
    default_sort: bool,
) -> Result<String, Error> {
    let indent = match kwargs.get::<Option<Value>>("indent")? {
        Some(v) if !v.is_none() => Some(
            num_i128(&v)
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| fail(format!("{name}: indent must be a non-negative integer")))?,
        ),
        Some(_) => None,
        None => default_indent,
    };
    let sort_keys = flag(kwargs.get("sort_keys")?, default_sort);
    let ensure_ascii = flag(kwargs.get("ensure_ascii")?, true);
    kwargs.assert_all_used()?;
    let opts = JsonOpts {
        indent,
        sort_keys,
        ensure_ascii,
        item_sep: if indent.is_some() { "," } else { ", " },
        key_sep: ": ",
    };
    let mut out = String::new();
    write_json(&mut out, value, &opts, 0, name)?;
    Ok(out)
}

/// Python's `json.dumps(value, indent=indent, sort_keys=sort_keys)`.
pub(crate) fn py_json_dumps(
    value: &Value,
    indent: Option<usize>,
    sort_keys: bool,
) -> Result<String, Error> {
    let opts = JsonOpts {
        indent,
        sort_keys,
        ensure_ascii: true,
        item_sep: if indent.is_some() { "," } else { ", " },
        key_sep: ": ",
    };
    let mut out = String::new();
    write_json(&mut out, value, &opts, 0, "tojson")?;
    Ok(out)
}

/// `to_json(indent=None, sort_keys=False, ensure_ascii=True)`: Python's
/// `json.dumps` formatting (`", "` separators, `\uXXXX` escapes).
pub fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    dump_json("to_json", value, &kwargs, None, false)
}

/// `to_nice_json(indent=4, sort_keys=True)`.
pub fn to_nice_json(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    check_arity("to_nice_json", &args, 1)?;
    if let Some(indent) = args.first() {
        if kwargs.has("indent") {
            return Err(fail("to_nice_json: indent given twice"));
        }
        let merged = Kwargs::from_iter(
            kwargs
                .args()
                .filter_map(|k| kwargs.peek::<Value>(k).ok().map(|v| (k.to_string(), v)))
                .chain(std::iter::once(("indent".to_string(), indent.clone()))),
        );
        return dump_json("to_nice_json", value, &merged, Some(4), true);
    }
    dump_json("to_nice_json", value, &kwargs, Some(4), true)
}

/// `from_json`: parses a JSON string.
pub fn from_json(value: &Value) -> Result<Value, Error> {
    ensure_defined("from_json", value)?;
    let Some(s) = value.as_str() else {
        return Err(fail(format!(
            "from_json: expected a JSON string, got {}",
            value.kind()
        )));
    };
    let parsed: serde_json::Value = serde_json::from_str(s)
        .map_err(|e| fail(format!("from_json: input is not valid JSON: {e}")))?;
    Ok(Value::from_serialize(parsed))
}

fn yaml_opts(
    name: &str,
    kwargs: &Kwargs,
    indent: Option<Value>,
    nice: bool,
) -> Result<yaml::DumpOptions, Error> {
    let mut opts = yaml::DumpOptions {
        indent: if nice { 4 } else { 2 },
        default_flow_style: if nice { Some(false) } else { None },
        ..yaml::DumpOptions::default()
    };
    if let Some(i) = indent.filter(|v| !v.is_none()) {
        opts.indent = num_i128(&i)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| fail(format!("{name}: indent must be a positive integer")))?;
    }
    if let Some(w) = kwargs.get::<Option<Value>>("width")? {
        opts.width = num_i128(&w)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| fail(format!("{name}: width must be a positive integer")))?;
    }
    if let Some(f) = kwargs.get::<Option<Value>>("default_flow_style")? {
        opts.default_flow_style = if f.is_none() { None } else { Some(f.is_true()) };
    }
    opts.sort_keys = flag(kwargs.get("sort_keys")?, true);
    kwargs.assert_all_used()?;
    Ok(opts)
}

/// `to_yaml(indent=2, default_flow_style=None, width=80, sort_keys=True)`:
/// PyYAML's `dump` — collections of scalars are written in flow style.
pub fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<Value>>("indent")?;
    let opts = yaml_opts("to_yaml", &kwargs, indent, false)?;
    yaml::dump(value, &opts, "to_yaml")
}

/// `to_nice_yaml(indent=4)`: block style, sorted keys, like Ansible.
pub fn to_nice_yaml(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    check_arity("to_nice_yaml", &args, 1)?;
    let indent = param(&args, &kwargs, 0, "indent")?;
    let opts = yaml_opts("to_nice_yaml", &kwargs, indent, true)?;
    yaml::dump(value, &opts, "to_nice_yaml")
}

/// Reads YAML text with the project's loader ([`crate::yaml::load_data`]); its located
/// error becomes the filter's error.
fn load_yaml(name: &str, text: &str) -> Result<Vec<Value>, Error> {
    let docs = crate::yaml::load_data(text).map_err(|e| {
        let at = e
            .span
            .as_ref()
            .map(|s| format!(" (line {}, column {})", s.line, s.col))
            .unwrap_or_default();
        fail(format!("{name}: {}{at}", e.message))
    })?;
    Ok(docs.iter().map(crate::yaml::Node::to_value).collect())
}

/// `from_yaml`: parses a YAML string as PyYAML's loader does (the first document);
/// non-string input is returned unchanged like Ansible does.
pub fn from_yaml(value: &Value) -> Result<Value, Error> {
    ensure_defined("from_yaml", value)?;
    match value.as_str() {
        Some(s) => Ok(load_yaml("from_yaml", s)?
            .into_iter()
            .next()
            .unwrap_or(Value::from(()))),
        None => Ok(value.clone()),
    }
}

/// `from_yaml_all`: a list with one entry per YAML document.
pub fn from_yaml_all(value: &Value) -> Result<Value, Error> {
    ensure_defined("from_yaml_all", value)?;
    match value.as_str() {
        Some(s) => Ok(Value::from(load_yaml("from_yaml_all", s)?)),
        None => Ok(value.clone()),
    }
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

pub fn basename(value: &Value) -> Result<String, Error> {
    let p = text_input("basename", value)?;
    Ok(p.rsplit('/').next().unwrap_or_default().to_string())
}

/// `dirname`: Python's `os.path.dirname` (trailing slashes of the head are
/// stripped unless it is all slashes).
pub fn dirname(value: &Value) -> Result<String, Error> {
    let p = text_input("dirname", value)?;
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    if !head.is_empty() && !head.chars().all(|c| c == '/') {
        Ok(head.trim_end_matches('/').to_string())
    } else {
        Ok(head.to_string())
    }
}

/// `expanduser`: expands a leading `~` or `~/` with `$HOME`; other forms
/// (`~user`) are returned unchanged.
pub fn expanduser(value: &Value) -> Result<String, Error> {
    let p = text_input("expanduser", value)?;
    if p == "~" || p.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            let rest = &p[1..];
            let home = if rest.is_empty() {
                home.as_str()
            } else {
                home.trim_end_matches('/')
            };
            return Ok(format!("{home}{rest}"));
        }
    }
    Ok(p)
}

/// Python's `posixpath.normpath`.
pub(crate) fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
                    comps.push("..");
                } else {
                    comps.pop();
                }
            }
            c => comps.push(c),
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), comps.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `realpath`: makes the path absolute (relative to the controller's working
/// directory) and normalises `.`/`..`; symlinks are not resolved.
pub fn realpath(value: &Value) -> Result<String, Error> {
    let p = text_input("realpath", value)?;
    if p.starts_with('/') {
        return Ok(normpath(&p));
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(normpath(&format!("{cwd}/{p}")))
}

/// `splitext`: Python's `os.path.splitext` as a two-item list; leading dots
/// of the file name do not start an extension.
pub fn splitext(value: &Value) -> Result<Value, Error> {
    let p = text_input("splitext", value)?;
    let sep = p.rfind('/').map_or(0, |i| i + 1);
    if let Some(dot) = p.rfind('.') {
        if dot > sep && p[sep..dot].chars().any(|c| c != '.') {
            return Ok(Value::from(vec![
                Value::from(&p[..dot]),
                Value::from(&p[dot..]),
            ]));
        }
    }
    Ok(Value::from(vec![Value::from(p), Value::from("")]))
}

/// `path_join`: Python's `os.path.join` over a list (an absolute component
/// discards everything before it).
pub fn path_join(value: &Value) -> Result<String, Error> {
    ensure_defined("path_join", value)?;
    if let Some(s) = value.as_str() {
        return Ok(s.to_string());
    }
    if !is_list(value) {
        return Err(fail(format!(
            "path_join: expects a string or a list of strings, got {}",
            value.kind()
        )));
    }
    let mut path = String::new();
    for part in list_input("path_join", value)? {
        let part = str_param("path_join", "path component", &part)?;
        if part.starts_with('/') {
            path = part;
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(&part);
        } else {
            path.push('/');
            path.push_str(&part);
        }
    }
    Ok(path)
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

pub(crate) fn hash_hex(name: &str, data: &[u8], algo: &str) -> Result<String, Error> {
    Ok(match algo.to_ascii_lowercase().as_str() {
        "md5" => hex::encode(Md5::digest(data)),
        "sha1" => hex::encode(Sha1::digest(data)),
        "sha224" => hex::encode(Sha224::digest(data)),
        "sha256" => hex::encode(Sha256::digest(data)),
        "sha384" => hex::encode(Sha384::digest(data)),
        "sha512" => hex::encode(Sha512::digest(data)),
        other => {
            return Err(fail(format!(
                "{name}: unsupported hash type '{other}'; use md5, sha1, sha224, sha256, sha384 or sha512"
            )))
        }
    })
}

/// `hash(hashtype='sha1')`.
pub fn hash(value: &Value, algo: Option<String>) -> Result<String, Error> {
    let data = text_input("hash", value)?;
    hash_hex("hash", data.as_bytes(), algo.as_deref().unwrap_or("sha1"))
}

/// `checksum`: the SHA-1 of the string, like Ansible's `checksum_s`.
pub fn checksum(value: &Value) -> Result<String, Error> {
    let data = text_input("checksum", value)?;
    hash_hex("checksum", data.as_bytes(), "sha1")
}

pub fn md5(value: &Value) -> Result<String, Error> {
    let data = text_input("md5", value)?;
    hash_hex("md5", data.as_bytes(), "md5")
}

pub fn sha1(value: &Value) -> Result<String, Error> {
    let data = text_input("sha1", value)?;
    hash_hex("sha1", data.as_bytes(), "sha1")
}

// ---------------------------------------------------------------------------
// Logic and misc
// ---------------------------------------------------------------------------

/// `mandatory(msg=None)`: fails when the value is undefined.  minijinja does
/// not tell filters the variable name, so the default message cannot name it
/// (the error location points at the expression instead).
pub fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        // Ansible reports this as the filter's failure, not as an undefined variable.
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            msg.unwrap_or_else(|| "Mandatory variable not defined.".into()),
        ));
    }
    Ok(value.clone())
}

/// `ternary(true_val, false_val, none_val=None)`: `none_val` is used only
/// when given and the value is `none`.
pub fn ternary(
    value: &Value,
    true_val: Value,
    false_val: Value,
    none_val: Option<Value>,
) -> Result<Value, Error> {
    ensure_defined("ternary", value)?;
    match none_val {
        Some(n) if value.is_none() && !n.is_none() => Ok(n),
        _ if value.is_true() => Ok(true_val),
        _ => Ok(false_val),
    }
}

/// `json_query` needs JMESPath (community.general), which drover does not ship.
pub fn json_query(_value: &Value, _args: Rest<Value>) -> Result<Value, Error> {
    Err(fail(
        "json_query (community.general, JMESPath) is not supported by drover; rewrite the expression with selectattr/map/dict2items",
    ))
}

const SIZE_UNITS: [(char, u32); 9] = [
    ('Y', 80),
    ('Z', 70),
    ('E', 60),
    ('P', 50),
    ('T', 40),
    ('G', 30),
    ('M', 20),
    ('K', 10),
    ('B', 0),
];

/// `human_readable(isbits=False, unit=None)`: `1024` → `"1.00 KB"`.
pub fn human_readable(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    ensure_defined("human_readable", value)?;
    let isbits = flag(kwargs.get("isbits")?, false);
    let unit: Option<String> = kwargs.get("unit")?;
    kwargs.assert_all_used()?;
    let size = match value.as_str() {
        Some(s) => parse_py_float(s),
        None => num_f64(value),
    }
    .ok_or_else(|| {
        fail(format!(
            "human_readable: expected a number, got {}",
            py_repr(value)
        ))
    })?;
    let base = if isbits { "bits" } else { "Bytes" };
    let mut chosen = ('B', 0u32);
    for (suffix, shift) in SIZE_UNITS {
        chosen = (suffix, shift);
        let limit = 2f64.powi(shift as i32);
        let hit = match &unit {
            None => size >= limit,
            Some(u) => u.to_uppercase().starts_with(suffix),
        };
        if hit {
            break;
        }
    }
    let (suffix, shift) = chosen;
    let limit = 2f64.powi(shift as i32);
    let label = if shift == 0 {
        base.to_string()
    } else {
        format!("{suffix}{}", &base[..1])
    };
    Ok(format!("{:.2} {label}", size / limit))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `"1.5M"` → 1572864.
pub fn human_to_bytes(value: &Value, kwargs: Kwargs) -> Result<i128, Error> {
    const NAME: &str = "human_to_bytes";
    let text = text_input(NAME, value)?;
    let default_unit: Option<String> = kwargs.get("default_unit")?;
    let isbits = flag(kwargs.get("isbits")?, false);
    kwargs.assert_all_used()?;
    let trimmed = text.trim_end();
    let num_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (num_part, rest) = trimmed.split_at(num_end);
    let unit_part = rest.trim_start();
    let valid_num =
        !num_part.is_empty() && num_part.matches('.').count() <= 1 && !num_part.ends_with('.');
    if !valid_num || !unit_part.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(fail(format!("{NAME}: cannot interpret {text:?} as a size")));
    }
    let num: f64 = num_part
        .parse()
        .map_err(|_| fail(format!("{NAME}: cannot interpret {text:?} as a size")))?;
    let unit = if unit_part.is_empty() {
        default_unit
    } else {
        Some(unit_part.to_string())
    };
    let Some(unit) = unit else {
        return Ok(num.round_ties_even() as i128);
    };
    let range_key = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let Some((_, shift)) = SIZE_UNITS.iter().find(|(s, _)| *s == range_key) else {
        return Err(fail(format!(
            "{NAME}: cannot convert {text:?}: the unit must start with one of Y, Z, E, P, T, G, M, K, B"
        )));
    };
    let (class, class_name) = if isbits { ('b', "bit") } else { ('B', "byte") };
    if unit.chars().count() > 1
        && !unit.to_lowercase().contains(class_name)
        && unit.chars().nth(1) != Some(class)
    {
        let expect = if range_key == 'B' {
            format!("{class} or {class_name}")
        } else {
            format!("{range_key}{class} or {range_key}")
        };
        return Err(fail(format!(
            "{NAME}: cannot convert {text:?}: expected {expect}"
        )));
    }
    Ok((num * 2f64.powi(*shift as i32)).round_ties_even() as i128)
}

/// `log(base=e)`.
pub fn log(value: &Value, base: Option<Value>) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("log: expected a number"))?;
    if x <= 0.0 {
        return Err(fail("log: math domain error"));
    }
    match base {
        None => Ok(x.ln()),
        Some(b) => Ok(x.ln()
            / num_f64(&b)
                .ok_or_else(|| fail("log: base must be a number"))?
                .ln()),
    }
}

/// `pow(y)`: always a float, like Python's `math.pow`.
pub fn pow(value: &Value, y: &Value) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("pow: expected a number"))?;
    Ok(x.powf(num_f64(y).ok_or_else(|| fail("pow: exponent must be a number"))?))
}

/// `root(base=2)`.
pub fn root(value: &Value, base: Option<Value>) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("root: expected a number"))?;
    match base.as_ref().and_then(num_f64) {
        None => Ok(x.sqrt()),
        Some(2.0) => Ok(x.sqrt()),
        Some(b) => Ok(x.powf(1.0 / b)),
    }
}

// ---------------------------------------------------------------------------
// Version comparison (shared with the `version` test)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum LoosePart {
    Num(String),
    Str(String),
}

fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Splits like distutils' `LooseVersion`: runs of digits, runs of lowercase
/// letters, dots (dropped) and everything else.
fn loose_parts(v: &str) -> Vec<LoosePart> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Digit,
        Lower,
        Dot,
        Other,
    }
    let class = |c: char| {
        if c.is_ascii_digit() {
            Class::Digit
        } else if c.is_ascii_lowercase() {
            Class::Lower
        } else if c == '.' {
            Class::Dot
        } else {
            Class::Other
        }
    };
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_class = None;
    let flush = |current: &mut String, cls: Option<Class>, parts: &mut Vec<LoosePart>| {
        if current.is_empty() {
            return;
        }
        let text = std::mem::take(current);
        match cls {
            Some(Class::Digit) => parts.push(LoosePart::Num(text)),
            Some(Class::Dot) | None => {}
            _ => parts.push(LoosePart::Str(text)),
        }
    };
    for c in v.chars() {
        let cls = class(c);
        if Some(cls) != current_class || cls == Class::Dot {
            flush(&mut current, current_class, &mut parts);
            current_class = Some(cls);
        }
        current.push(c);
    }
    flush(&mut current, current_class, &mut parts);
    parts
}

fn cmp_loose(a: &str, b: &str) -> Result<Ordering, String> {
    let pa = loose_parts(a);
    let pb = loose_parts(b);
    if pa == pb {
        return Ok(Ordering::Equal);
    }
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x, y) {
            (LoosePart::Num(x), LoosePart::Num(y)) => cmp_digits(x, y),
            (LoosePart::Str(x), LoosePart::Str(y)) => x.cmp(y),
            (LoosePart::Num(_), LoosePart::Str(_)) => {
                return Err("'<' not supported between instances of 'int' and 'str'".into())
            }
            (LoosePart::Str(_), LoosePart::Num(_)) => {
                return Err("'<' not supported between instances of 'str' and 'int'".into())
            }
        };
        if ord != Ordering::Equal {
            return Ok(ord);
        }
    }
    Ok(pa.len().cmp(&pb.len()))
}

/// `(major, minor, patch, prerelease)` of a distutils `StrictVersion`.
type StrictVersion = (u64, u64, u64, Option<(char, u64)>);

fn strict_parse(v: &str) -> Result<StrictVersion, String> {
    let invalid = || format!("invalid version number '{v}'");
    let (core, pre) = match v.find(['a', 'b']) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if !(2..=3).contains(&nums.len())
        || nums
            .iter()
            .any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid());
    }
    let num = |s: &str| s.parse::<u64>().map_err(|_| invalid());
    let patch = match nums.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    let pre = match pre {
        None => None,
        Some(p) => {
            let letter = p.chars().next().unwrap_or('a');
            let digits = &p[1..];
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            Some((letter, num(digits)?))
        }
    };
    Ok((num(nums[0])?, num(nums[1])?, patch, pre))
}

fn cmp_strict(a: &str, b: &str) -> Result<Ordering, String> {
    let (a1, a2, a3, apre) = strict_parse(a)?;
    let (b1, b2, b3, bpre) = strict_parse(b)?;
    Ok((a1, a2, a3)
        .cmp(&(b1, b2, b3))
        .then_with(|| match (apre, bpre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => x.cmp(&y),
        }))
}

fn semver_parse(v: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let invalid = || format!("invalid semantic version '{v}'");
    let without_build = v.split_once('+').map_or(v, |(core, _)| core);
    let (core, pre) = match without_build.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (without_build, None),
    };
    let nums: Vec<String> = core.split('.').map(str::to_string).collect();
    let valid_num = |n: &str| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    if nums.len() != 3 || !nums.iter().all(|n| valid_num(n)) {
        return Err(invalid());
    }
    let pre: Vec<String> = match pre {
        None => Vec::new(),
        Some(p) => {
            let ids: Vec<String> = p.split('.').map(str::to_string).collect();
            if ids
                .iter()
                .any(|i| i.is_empty() || !i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            {
                return Err(invalid());
            }
            ids
        }
    };
    Ok((nums, pre))
}

fn cmp_semver(a: &str, b: &str) -> Result<Ordering, String> {
    let (an, ap) = semver_parse(a)?;
    let (bn, bp) = semver_parse(b)?;
    for (x, y) in an.iter().zip(bn.iter()) {
        let o = cmp_digits(x, y);
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(match (ap.is_empty(), bp.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in ap.iter().zip(bp.iter()) {
                let xn = x.chars().all(|c| c.is_ascii_digit());
                let yn = y.chars().all(|c| c.is_ascii_digit());
                let o = match (xn, yn) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            ap.len().cmp(&bp.len())
        }
    })
}

/// Implements Ansible's `version_compare`: loose (distutils `LooseVersion`)
/// by default, `strict=true` or `version_type` = loose/strict/semver.
pub(crate) fn version_compare_impl(
    name: &str,
    value: &Value,
    version: &Value,
    args: &[Value],
    kwargs: &Kwargs,
) -> Result<bool, Error> {
    ensure_defined(name, value)?;
    check_arity(name, args, 3)?;
    let operator = param(args, kwargs, 0, "operator")?;
    let strict = param(args, kwargs, 1, "strict")?;
    let version_type = param(args, kwargs, 2, "version_type")?;
    kwargs.assert_all_used()?;
    let a = py_str(value);
    let b = if version.is_undefined() {
        String::new()
    } else {
        py_str(version)
    };
    if a.is_empty() {
        return Err(fail(format!("{name}: input version value cannot be empty")));
    }
    if b.is_empty() {
        return Err(fail(format!(
            "{name}: version parameter to compare against cannot be empty"
        )));
    }
    let strict_flag = strict.as_ref().filter(|v| !v.is_none()).map(Value::is_true);
    let vtype = version_type.as_ref().filter(|v| !v.is_none()).map(py_str);
    if strict_flag.is_some() && vtype.is_some() {
        return Err(fail(format!(
            "{name}: cannot specify both 'strict' and 'version_type'"
        )));
    }
    let kind = match (strict_flag, vtype.as_deref()) {
        (Some(true), _) => "strict",
        (_, Some(t)) => t,
        _ => "loose",
    };
    let op = operator.map_or_else(|| "eq".to_string(), |o| py_str(&o));
    let ordering = match kind {
        "loose" => cmp_loose(&a, &b),
        "strict" => cmp_strict(&a, &b),
        "semver" | "semantic" => cmp_semver(&a, &b),
        "pep440" => return Err(fail(format!("{name}: version_type 'pep440' is not supported by drover"))),
        other => {
            return Err(fail(format!(
                "{name}: invalid version type ({other}); must be one of loose, strict, semver, semantic"
            )))
        }
    };
    let check: fn(Ordering) -> bool = match op.as_str() {
        "==" | "=" | "eq" => |o| o == Ordering::Equal,
        "<" | "lt" => |o| o == Ordering::Less,
        "<=" | "le" => |o| o != Ordering::Greater,
        ">" | "gt" => |o| o == Ordering::Greater,
        ">=" | "ge" => |o| o != Ordering::Less,
        "!=" | "<>" | "ne" => |o| o != Ordering::Equal,
        other => {
            return Err(fail(format!(
                "{name}: invalid operator type ({other}); must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge', '!=', '<>', 'ne'"
            )))
        }
    };
    let ordering = ordering.map_err(|e| fail(format!("{name}: version comparison failed: {e}")))?;
    Ok(check(ordering))
}

/// `version_compare(version, operator='eq', strict=None, version_type=None)`
/// as a filter (Ansible only ships it as a test; kept for old playbooks).
pub fn version_compare(
    value: &Value,
    version: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    version_compare_impl("version_compare", value, version, &args, &kwargs)
}
