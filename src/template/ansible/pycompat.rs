//! Values as Python sees them: `str()` and `repr()` of a value, a float's `repr()`, a
//! dict's pairs and `sorted()` key order; and the Python method shims (`"a,b".split(",")`,
//! `d.items()`, `d.get("k", 1)`) installed as minijinja's unknown-method callback.

use std::fmt::Write as _;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::filters::{self, fail};

/// Python's `str()` of a value.
pub fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        ValueKind::Bytes => {
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned()
        }
        _ => py_repr(value),
    }
}

/// Python's `repr()` of a value (strings quoted, `True`, `None`, ...).
pub fn py_repr(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".into(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.into(),
        ValueKind::Number => {
            if value.is_integer() {
                value.to_string()
            } else {
                py_float_repr(f64::try_from(value.clone()).unwrap_or(f64::NAN))
            }
        }
        ValueKind::String | ValueKind::Bytes => {
            let s = py_str(value);
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::with_capacity(s.len() + 2);
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        let _ = write!(out, "\\x{:02x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<String> = value
                .try_iter()
                .map(|it| it.map(|v| py_repr(&v)).collect())
                .unwrap_or_default();
            format!("[{}]", items.join(", "))
        }
        ValueKind::Map => {
            let items: Vec<String> = map_pairs(value)
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        _ => value.to_string(),
    }
}

/// Formats a float like Python's `repr()`.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    if (-4..16).contains(&exp) {
        let fixed = format!("{f}");
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Orders keys like Python's `sorted()` would: all-strings or all-numbers are
/// sorted, anything mixed keeps its original order (PyYAML swallows the
/// `TypeError` the same way).
pub(crate) fn sort_pairs(pairs: &mut [(Value, Value)]) {
    if pairs.iter().all(|(k, _)| k.kind() == ValueKind::String) {
        pairs.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
    } else if pairs
        .iter()
        .all(|(k, _)| matches!(k.kind(), ValueKind::Number | ValueKind::Bool))
    {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

/// Collects the key/value pairs of a map-like value.
pub(crate) fn map_pairs(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    let mut pairs = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        pairs.push((key, item));
    }
    Ok(pairs)
}

/// Installs [`call_method`] as the environment's unknown-method callback.
pub fn register(env: &mut Environment<'static>) {
    env.set_unknown_method_callback(call_method);
}

/// Splits method arguments into positional values and keyword arguments.
fn split_args(args: &[Value]) -> Result<(&[Value], Kwargs), Error> {
    minijinja::value::from_args(args)
}

fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(fail(format!(
            "{method}() takes {expected} argument(s), {} given",
            args.len()
        )));
    }
    Ok(())
}

fn str_arg(method: &str, value: &Value) -> Result<String, Error> {
    value.as_str().map(str::to_string).ok_or_else(|| {
        fail(format!(
            "{method}(): expected a string argument, got {}",
            value.kind()
        ))
    })
}

fn int_arg(method: &str, value: Option<&Value>) -> Result<Option<i64>, Error> {
    match value {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            fail(format!(
                "{method}(): expected an integer argument, got {}",
                v.kind()
            ))
        }),
    }
}

/// The unknown-method callback: Python `str`, `dict` and `list` methods.
pub fn call_method(
    _state: &State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::String => str_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => dict_method(value, method, args),
        ValueKind::Seq => list_method(value, method, args),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

/// Resolves Python's optional `start`/`end` slice arguments to char indices.
fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let clamp = |i: i64| -> usize {
        if i < 0 {
            usize::try_from(i64::try_from(len).unwrap_or(i64::MAX) + i).unwrap_or(0)
        } else {
            usize::try_from(i).unwrap_or(usize::MAX).min(len)
        }
    };
    let s = start.map_or(0, clamp);
    let e = end.map_or(len, clamp);
    (s, e.max(s))
}

fn char_slice(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

fn prefixes(method: &str, value: &Value) -> Result<Vec<String>, Error> {
    if value.kind() == ValueKind::Seq {
        value.try_iter()?.map(|v| str_arg(method, &v)).collect()
    } else {
        Ok(vec![str_arg(method, value)?])
    }
}

/// Python's `str.split`/`str.rsplit`.
fn py_split(
    s: &str,
    sep: Option<&str>,
    maxsplit: i64,
    from_right: bool,
) -> Result<Vec<String>, Error> {
    let limit = usize::try_from(maxsplit).ok();
    match sep {
        Some("") => Err(fail("split(): empty separator")),
        Some(sep) => {
            let parts: Vec<String> = match (limit, from_right) {
                (None, _) => s.split(sep).map(str::to_string).collect(),
                (Some(n), false) => s.splitn(n + 1, sep).map(str::to_string).collect(),
                (Some(n), true) => {
                    let mut v: Vec<String> = s.rsplitn(n + 1, sep).map(str::to_string).collect();
                    v.reverse();
                    v
                }
            };
            Ok(parts)
        }
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            let Some(n) = limit.filter(|n| *n < words.len()) else {
                return Ok(words.into_iter().map(str::to_string).collect());
            };
            // keep the unsplit remainder verbatim (minus surrounding whitespace)
            let mut out = Vec::new();
            if from_right {
                let mut rest = s.trim_end();
                for _ in 0..n {
                    let cut = rest.rfind(char::is_whitespace).map_or(0, |i| i);
                    let word = rest[cut..].trim_start();
                    out.push(word.to_string());
                    rest = rest[..cut].trim_end();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
                out.reverse();
            } else {
                let mut rest = s.trim_start();
                for _ in 0..n {
                    let cut = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    out.push(rest[..cut].to_string());
                    rest = rest[cut..].trim_start();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
            }
            Ok(out)
        }
    }
}

fn strip_chars<'a>(
    s: &'a str,
    chars: Option<&Value>,
    left: bool,
    right: bool,
) -> Result<&'a str, Error> {
    let set: Option<Vec<char>> = match chars {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => Some(str_arg("strip", v)?.chars().collect()),
    };
    let matcher = |c: char| match &set {
        None => c.is_whitespace(),
        Some(set) => set.contains(&c),
    };
    let mut out = s;
    if left {
        out = out.trim_start_matches(matcher);
    }
    if right {
        out = out.trim_end_matches(matcher);
    }
    Ok(out)
}

/// Python's `str.title()`: a letter after a non-letter is uppercased.
fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

fn str_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    if method == "format" {
        return py_format(s, args);
    }
    let (pos, kwargs) = split_args(args)?;
    let rv = match method {
        "lower" => {
            arity(method, pos, 0, 0)?;
            Value::from(s.to_lowercase())
        }
        "upper" => {
            arity(method, pos, 0, 0)?;
            Value::from(s.to_uppercase())
        }
        "title" => {
            arity(method, pos, 0, 0)?;
            Value::from(py_title(s))
        }
        "capitalize" => {
            arity(method, pos, 0, 0)?;
            let mut chars = s.chars();
            Value::from(match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.as_str().to_lowercase().chars())
                    .collect::<String>(),
                None => String::new(),
            })
        }
        "startswith" | "endswith" => {
            arity(method, pos, 1, 3)?;
            let len = s.chars().count();
            let (start, end) = slice_bounds(
                len,
                int_arg(method, pos.get(1))?,
                int_arg(method, pos.get(2))?,
            );
            let sub = char_slice(s, start, end);
            let candidates = prefixes(method, &pos[0])?;
            Value::from(candidates.iter().any(|p| {
                if method == "startswith" {
                    sub.starts_with(p.as_str())
                } else {
                    sub.ends_with(p.as_str())
                }
            }))
        }
        "split" | "rsplit" => {
            arity(method, pos, 0, 2)?;
            let sep = match pos.first().cloned().or(kwargs.get::<Option<Value>>("sep")?) {
                Some(v) if !v.is_none() => Some(str_arg(method, &v)?),
                _ => None,
            };
            let maxsplit = match pos
                .get(1)
                .cloned()
                .or(kwargs.get::<Option<Value>>("maxsplit")?)
            {
                Some(v) => int_arg(method, Some(&v))?.unwrap_or(-1),
                None => -1,
            };
            Value::from(py_split(s, sep.as_deref(), maxsplit, method == "rsplit")?)
        }
        "strip" | "lstrip" | "rstrip" => {
            arity(method, pos, 0, 1)?;
            Value::from(strip_chars(
                s,
                pos.first(),
                method != "rstrip",
                method != "lstrip",
            )?)
        }
        "replace" => {
            arity(method, pos, 2, 3)?;
            let old = str_arg(method, &pos[0])?;
            let new = str_arg(method, &pos[1])?;
            match int_arg(method, pos.get(2))? {
                Some(n) if n >= 0 => {
                    Value::from(s.replacen(&old, &new, usize::try_from(n).unwrap_or(0)))
                }
                _ => Value::from(s.replace(&old, &new)),
            }
        }
        "join" => {
            arity(method, pos, 1, 1)?;
            let items = filters::list_input("join", &pos[0])?;
            let parts = items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        fail(format!(
                            "join(): sequence item must be a string, got {}",
                            v.kind()
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Value::from(parts.join(s))
        }
        "find" | "rfind" | "index" | "rindex" | "count" => {
            arity(method, pos, 1, 3)?;
            let needle = str_arg(method, &pos[0])?;
            let len = s.chars().count();
            let (start, end) = slice_bounds(
                len,
                int_arg(method, pos.get(1))?,
                int_arg(method, pos.get(2))?,
            );
            let hay = char_slice(s, start, end);
            if method == "count" {
                let n = if needle.is_empty() {
                    hay.chars().count() + 1
                } else {
                    hay.matches(needle.as_str()).count()
                };
                return Ok(Value::from(n));
            }
            let found = if method.starts_with('r') {
                hay.rfind(needle.as_str())
            } else {
                hay.find(needle.as_str())
            };
            match found {
                Some(byte_idx) => Value::from(start + hay[..byte_idx].chars().count()),
                None if method.ends_with("index") => {
                    return Err(fail(format!("{method}(): substring not found")))
                }
                None => Value::from(-1),
            }
        }
        "isdigit" | "isnumeric" | "isdecimal" => {
            arity(method, pos, 0, 0)?;
            Value::from(!s.is_empty() && s.chars().all(|c| c.is_numeric()))
        }
        "isalpha" => {
            arity(method, pos, 0, 0)?;
            Value::from(!s.is_empty() && s.chars().all(char::is_alphabetic))
        }
        "isalnum" => {
            arity(method, pos, 0, 0)?;
            Value::from(!s.is_empty() && s.chars().all(char::is_alphanumeric))
        }
        "isspace" => {
            arity(method, pos, 0, 0)?;
            Value::from(!s.is_empty() && s.chars().all(char::is_whitespace))
        }
        "islower" => {
            arity(method, pos, 0, 0)?;
            Value::from(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }
        "isupper" => {
            arity(method, pos, 0, 0)?;
            Value::from(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }
        "splitlines" => {
            arity(method, pos, 0, 1)?;
            let keepends = pos.first().is_some_and(Value::is_true);
            Value::from(splitlines(s, keepends))
        }
        "zfill" => {
            arity(method, pos, 1, 1)?;
            let width = usize::try_from(int_arg(method, pos.first())?.unwrap_or(0)).unwrap_or(0);
            let len = s.chars().count();
            if len >= width {
                Value::from(s)
            } else {
                let (sign, rest) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                Value::from(format!("{sign}{}{rest}", "0".repeat(width - len)))
            }
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    };
    kwargs.assert_all_used()?;
    Ok(rv)
}

fn dict_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, _kwargs) = split_args(args)?;
    match method {
        "keys" => {
            arity(method, pos, 0, 0)?;
            Ok(Value::from(
                map_pairs(value)?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            ))
        }
        "values" => {
            arity(method, pos, 0, 0)?;
            Ok(Value::from(
                map_pairs(value)?
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            ))
        }
        "items" => {
            arity(method, pos, 0, 0)?;
            filters::items(value)
        }
        "get" => {
            arity(method, pos, 1, 2)?;
            let found = value.get_item(&pos[0]).unwrap_or(Value::UNDEFINED);
            if found.is_undefined() {
                Ok(pos.get(1).cloned().unwrap_or(Value::from(())))
            } else {
                Ok(found)
            }
        }
        "copy" => {
            arity(method, pos, 0, 0)?;
            Ok(Value::from_iter(map_pairs(value)?))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn list_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, _kwargs) = split_args(args)?;
    let items: Vec<Value> = value.try_iter()?.collect();
    match method {
        "index" => {
            arity(method, pos, 1, 1)?;
            items
                .iter()
                .position(|v| *v == pos[0])
                .map(Value::from)
                .ok_or_else(|| fail(format!("index(): {} is not in list", py_repr(&pos[0]))))
        }
        "count" => {
            arity(method, pos, 1, 1)?;
            Ok(Value::from(items.iter().filter(|v| **v == pos[0]).count()))
        }
        "copy" => {
            arity(method, pos, 0, 0)?;
            Ok(Value::from(items))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

/// One `{...}` replacement field's format spec (`[[fill]align][sign][0][width][,][.precision][type]`).
pub(crate) fn apply_spec(value: &Value, spec: &str) -> Result<String, Error> {
    if spec.is_empty() {
        return Ok(py_str(value));
    }
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        fill = chars[0];
        align = Some(chars[1]);
        i = 2;
    } else if matches!(chars.first(), Some('<' | '>' | '^' | '=')) {
        align = chars.first().copied();
        i = 1;
    }
    let mut sign = '-';
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        sign = c;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        if align.is_none() {
            fill = '0';
            align = Some('=');
        }
        i += 1;
    }
    let mut width = String::new();
    while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
        width.push(*c);
        i += 1;
    }
    let grouping = chars.get(i) == Some(&',');
    if grouping {
        i += 1;
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = String::new();
        while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            p.push(*c);
            i += 1;
        }
        precision = p.parse::<usize>().ok();
    }
    let ty = chars.get(i).copied();
    if chars.len() > i + 1 {
        return Err(fail(format!("format(): invalid format specifier '{spec}'")));
    }
    let bad_type = || {
        fail(format!(
            "format(): unknown format code for value {}",
            py_repr(value)
        ))
    };
    let number = || -> Result<f64, Error> {
        match value.kind() {
            ValueKind::Number | ValueKind::Bool => f64::try_from(value.clone())
                .or_else(|_| Ok(if value.is_true() { 1.0 } else { 0.0 })),
            _ => Err(bad_type()),
        }
    };
    let int = || -> Result<i128, Error> {
        if value.is_integer() || value.kind() == ValueKind::Bool {
            Ok(i128::try_from(value.clone()).unwrap_or(i128::from(value.is_true())))
        } else {
            Err(bad_type())
        }
    };
    let (body, negative, numeric) = match ty {
        None if matches!(value.kind(), ValueKind::Number) && value.is_integer() => {
            let n = int()?;
            (n.unsigned_abs().to_string(), n < 0, true)
        }
        None if matches!(value.kind(), ValueKind::Number) => {
            let f = number()?;
            let s = match precision {
                Some(p) => format!("{:.*}", p, f.abs()),
                None => py_float_repr(f.abs()),
            };
            (s, f.is_sign_negative(), true)
        }
        None | Some('s') => {
            let mut s = py_str(value);
            if let Some(p) = precision {
                s = s.chars().take(p).collect();
            }
            (s, false, false)
        }
        Some('d') => {
            let n = int()?;
            (n.unsigned_abs().to_string(), n < 0, true)
        }
        Some('x') => {
            let n = int()?;
            (format!("{:x}", n.unsigned_abs()), n < 0, true)
        }
        Some('X') => {
            let n = int()?;
            (format!("{:X}", n.unsigned_abs()), n < 0, true)
        }
        Some('o') => {
            let n = int()?;
            (format!("{:o}", n.unsigned_abs()), n < 0, true)
        }
        Some('b') => {
            let n = int()?;
            (format!("{:b}", n.unsigned_abs()), n < 0, true)
        }
        Some('f') | Some('F') => {
            let f = number()?;
            (
                format!("{:.*}", precision.unwrap_or(6), f.abs()),
                f.is_sign_negative() && f != 0.0,
                true,
            )
        }
        Some('e') => {
            let f = number()?;
            let s = format!("{:.*e}", precision.unwrap_or(6), f.abs());
            let s = match s.split_once('e') {
                Some((m, e)) => {
                    let exp: i32 = e.parse().unwrap_or(0);
                    format!(
                        "{m}e{}{:02}",
                        if exp < 0 { '-' } else { '+' },
                        exp.unsigned_abs()
                    )
                }
                None => s,
            };
            (s, f.is_sign_negative() && f != 0.0, true)
        }
        Some('%') => {
            let f = number()? * 100.0;
            (
                format!("{:.*}%", precision.unwrap_or(6), f.abs()),
                f < 0.0,
                true,
            )
        }
        Some(_) => {
            return Err(fail(format!(
                "format(): unsupported format specifier '{spec}'"
            )))
        }
    };
    let body = if grouping && numeric {
        let (int_part, frac) = match body.find('.') {
            Some(idx) => (&body[..idx], &body[idx..]),
            None => (body.as_str(), ""),
        };
        let digits: Vec<char> = int_part.chars().collect();
        let mut grouped = String::new();
        for (idx, c) in digits.iter().enumerate() {
            if idx > 0 && (digits.len() - idx) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(*c);
        }
        format!("{grouped}{frac}")
    } else {
        body
    };
    let sign_str = match (numeric, negative, sign) {
        (true, true, _) => "-",
        (true, false, '+') => "+",
        (true, false, ' ') => " ",
        _ => "",
    };
    let width: usize = width.parse().unwrap_or(0);
    let len = sign_str.chars().count() + body.chars().count();
    let pad = width.saturating_sub(len);
    let padding = |n: usize| fill.to_string().repeat(n);
    let align = align.unwrap_or(if numeric { '>' } else { '<' });
    Ok(match align {
        '<' => format!("{sign_str}{body}{}", padding(pad)),
        '^' => format!(
            "{}{sign_str}{body}{}",
            padding(pad / 2),
            padding(pad - pad / 2)
        ),
        '=' => format!("{sign_str}{}{body}", padding(pad)),
        _ => format!("{}{sign_str}{body}", padding(pad)),
    })
}

/// Python's `str.format` with positional (`{}`, `{0}`) and keyword (`{name}`)
/// fields, `!s`/`!r` conversions and common format specs.
fn py_format(template: &str, args: &[Value]) -> Result<Value, Error> {
    let (pos, kwargs) = split_args(args)?;
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut auto_index = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(fail("format(): single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                let mut depth = 1;
                for n in chars.by_ref() {
                    match n {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    field.push(n);
                }
                if depth != 0 {
                    return Err(fail("format(): unmatched '{' in format string"));
                }
                let (name_conv, spec) = field.split_once(':').unwrap_or((field.as_str(), ""));
                let (name, conv) = name_conv.split_once('!').unwrap_or((name_conv, ""));
                let (base, attr) = match name.find(['.', '[']) {
                    Some(i) => (&name[..i], &name[i..]),
                    None => (name, ""),
                };
                let mut value = if base.is_empty() {
                    let v = pos.get(auto_index).cloned();
                    auto_index += 1;
                    v.ok_or_else(|| {
                        fail(format!(
                            "format(): replacement index {} out of range",
                            auto_index - 1
                        ))
                    })?
                } else if let Ok(idx) = base.parse::<usize>() {
                    pos.get(idx).cloned().ok_or_else(|| {
                        fail(format!("format(): replacement index {idx} out of range"))
                    })?
                } else {
                    if !kwargs.has(base) {
                        return Err(fail(format!("format(): missing keyword argument '{base}'")));
                    }
                    kwargs.get::<Value>(base)?
                };
                for part in attr.split(['.', '[']).filter(|p| !p.is_empty()) {
                    let key = part.trim_end_matches(']');
                    let key_value = match key.parse::<i64>() {
                        Ok(i) if part.ends_with(']') => Value::from(i),
                        _ => Value::from(key),
                    };
                    value = value.get_item(&key_value).unwrap_or(Value::UNDEFINED);
                }
                let value = match conv {
                    "" | "s" => value,
                    "r" | "a" => Value::from(py_repr(&value)),
                    other => {
                        return Err(fail(format!(
                            "format(): unknown conversion specifier '{other}'"
                        )))
                    }
                };
                out.push_str(&apply_spec(&value, spec)?);
            }
            c => out.push(c),
        }
    }
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let _: Value = kwargs.get(&key)?;
    }
    Ok(Value::from(out))
}

/// Python's `str.splitlines`: every line boundary Python knows (`\r` alone too, which
/// is how Ansible's `stdout_lines` splits progress output).
pub fn splitlines(s: &str, keepends: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        ) {
            if keepends {
                current.push(c);
            }
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
                if keepends {
                    current.push('\n');
                }
            }
            lines.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}
