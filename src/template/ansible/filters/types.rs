//! Type conversion filters: `bool`, `int`, `float`, `string`, `type_debug`, and the
//! Python `int()`/`float()` parsing they share with the tests.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::{check_arity, ensure_defined, fail, num_f64, num_i128, param};
use crate::template::ansible::pycompat::py_str;

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
