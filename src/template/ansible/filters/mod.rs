//! Ansible-compatible Jinja filters (ansible-core 2.17+ semantics), one file per kind
//! of filter; this file holds the argument helpers they share.
//!
//! Every filter here is registered by `register::register` (by its path here: each
//! file's filters are re-exported).  Filters that minijinja already implements with
//! Ansible's semantics (`default`, `map`, `select`, `sort`, `length`, ...) are not
//! redefined.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

// `py_str` is re-exported at its old path for src/exec (being restructured, issue #19).
pub(crate) use super::pycompat::py_str;

mod dicts;
mod formats;
mod hashing;
mod lists;
mod logic;
mod math;
mod paths;
mod regex;
mod strings;
mod types;
mod vault;
mod version;

// Every filter at `filters::name`, the path `register` and the rest of the crate use.
pub(crate) use dicts::*;
pub(crate) use formats::*;
pub(crate) use hashing::*;
pub(crate) use lists::*;
pub(crate) use logic::*;
pub(crate) use math::*;
pub(crate) use paths::*;
pub(crate) use regex::*;
pub(crate) use strings::*;
pub(crate) use types::*;
pub(crate) use vault::*;
pub(crate) use version::*;

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
