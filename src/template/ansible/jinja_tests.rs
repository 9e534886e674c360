//! Ansible-compatible Jinja tests (`x is defined`, `result is failed`, ...).
//!
//! minijinja's builtins already cover `defined`, `undefined`, `none`,
//! `string`, `integer`, `float`, `boolean`, `mapping`, `iterable`, `in`,
//! `eq`/`ne`/`lt`/..., `divisibleby`, `even`, `odd` and `sameas` with the same
//! semantics; the ones below differ or are Ansible additions.

use std::path::Path;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::filters::{self, fail, flag, list_input, param};
use super::pycompat;

/// `number`: like Jinja2, booleans count as numbers (Python `bool` is an
/// `int`).
pub fn is_number(value: &Value) -> bool {
    matches!(value.kind(), ValueKind::Number | ValueKind::Bool)
}

/// `sequence`: anything with a length and item access — lists, but also
/// strings and dicts, as in Jinja2.
pub fn is_sequence(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::String | ValueKind::Bytes
    )
}

/// `iterable`: lists, dicts and strings.
pub fn is_iterable(value: &Value) -> bool {
    !value.is_undefined() && !value.is_none() && value.try_iter().is_ok()
}

/// `lower`: Python's `str.islower()` — at least one cased character and no
/// uppercase ones (`"hello world"` is lower, `"123"` is not).
pub fn is_lower(value: &Value) -> bool {
    let s = pycompat::py_str(value);
    s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase)
}

/// `upper`: Python's `str.isupper()`.
pub fn is_upper(value: &Value) -> bool {
    let s = pycompat::py_str(value);
    s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)
}

/// `truthy(convert_bool=False)`: Python truthiness, optionally after the
/// `bool` filter's string conversion (`'no' is truthy(convert_bool=True)` is
/// false).
pub fn truthy(value: &Value, kwargs: Kwargs) -> Result<bool, Error> {
    filters::ensure_defined("truthy", value)?;
    let convert = flag(kwargs.get("convert_bool")?, false);
    kwargs.assert_all_used()?;
    if convert
        && matches!(
            value.kind(),
            ValueKind::String | ValueKind::Bool | ValueKind::Number
        )
    {
        // Ansible converts with its strict boolean(): an unknown word keeps its truth.
        if let Some(b) = filters::strict_bool(value) {
            return Ok(b);
        }
    }
    Ok(value.is_true())
}

/// `falsy(convert_bool=False)`.
pub fn falsy(value: &Value, kwargs: Kwargs) -> Result<bool, Error> {
    truthy(value, kwargs).map(|b| !b)
}

fn result_dict<'a>(name: &str, value: &'a Value) -> Result<&'a Value, Error> {
    filters::ensure_defined(name, value)?;
    if value.kind() == ValueKind::Map {
        Ok(value)
    } else {
        Err(fail(format!(
            "The '{name}' test expects a dictionary (a registered task result), got {}",
            value.kind()
        )))
    }
}

fn result_flag(value: &Value, key: &str) -> bool {
    value
        .get_item(&Value::from(key))
        .map(|v| !v.is_undefined() && v.is_true())
        .unwrap_or(false)
}

/// `failed`/`failure`: `result.failed` is true.
pub fn failed(value: &Value) -> Result<bool, Error> {
    Ok(result_flag(result_dict("failed", value)?, "failed"))
}

/// `succeeded`/`success`: not failed.
pub fn succeeded(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag(result_dict("succeeded", value)?, "failed"))
}

/// `changed`/`change`: `result.changed`, or any changed item of a looped
/// result (`result.results`) when the top-level key is missing.
pub fn changed(value: &Value) -> Result<bool, Error> {
    let result = result_dict("changed", value)?;
    let top = result
        .get_item(&Value::from("changed"))
        .unwrap_or(Value::UNDEFINED);
    if !top.is_undefined() {
        return Ok(top.is_true());
    }
    let results = result
        .get_item(&Value::from("results"))
        .unwrap_or(Value::UNDEFINED);
    if results.kind() != ValueKind::Seq {
        return Ok(false);
    }
    Ok(results
        .try_iter()
        .map(|mut it| it.any(|r| r.kind() == ValueKind::Map && result_flag(&r, "changed")))
        .unwrap_or(false))
}

/// `skipped`/`skip`: `result.skipped`.
pub fn skipped(value: &Value) -> Result<bool, Error> {
    Ok(result_flag(result_dict("skipped", value)?, "skipped"))
}

/// `finished`: an async job's result says it ended (`finished` is 1 or true); a result
/// without the key (a task run without async) counts as finished, as in Ansible.
pub fn finished(value: &Value) -> Result<bool, Error> {
    Ok(async_flag(result_dict("finished", value)?, "finished"))
}

/// `started`: an async job's result says it started; without the key, true.
pub fn started(value: &Value) -> Result<bool, Error> {
    Ok(async_flag(result_dict("started", value)?, "started"))
}

/// Python's `result.get(key, 0) == 1` for a key that is there (True == 1), else true.
fn async_flag(value: &Value, key: &str) -> bool {
    match value.get_item(&Value::from(key)) {
        Ok(v) if !v.is_undefined() => match v.kind() {
            ValueKind::Bool => v.is_true(),
            ValueKind::Number => f64::try_from(v).is_ok_and(|n| n == 1.0),
            _ => false,
        },
        _ => true,
    }
}

/// `unreachable`: `result.unreachable`.
pub fn unreachable(value: &Value) -> Result<bool, Error> {
    Ok(result_flag(
        result_dict("unreachable", value)?,
        "unreachable",
    ))
}

/// `reachable`: not unreachable.
pub fn reachable(value: &Value) -> Result<bool, Error> {
    Ok(!result_flag(
        result_dict("reachable", value)?,
        "unreachable",
    ))
}

fn regex_test(
    name: &str,
    value: &Value,
    args: &[Value],
    kwargs: &Kwargs,
    default_type: &str,
) -> Result<bool, Error> {
    filters::ensure_defined(name, value)?;
    let pattern = match param(args, kwargs, 0, "pattern")? {
        Some(p) => pycompat::py_str(&p),
        None => String::new(),
    };
    let ignorecase = flag(param(args, kwargs, 1, "ignorecase")?, false);
    let multiline = flag(param(args, kwargs, 2, "multiline")?, false);
    let match_type = match param(args, kwargs, 3, "match_type")? {
        Some(t) => pycompat::py_str(&t),
        None => default_type.to_string(),
    };
    kwargs.assert_all_used()?;
    let wrapped = match match_type.as_str() {
        "search" => pattern,
        "match" => format!(r"\A(?:{pattern})"),
        "fullmatch" => format!(r"\A(?:{pattern})\z"),
        other => {
            return Err(fail(format!(
                "{name}: invalid match_type '{other}'; use 'search', 'match' or 'fullmatch'"
            )))
        }
    };
    let re = filters::compile_regex(name, &wrapped, ignorecase, multiline)?;
    re.is_match(&pycompat::py_str(value))
        .map_err(|e| fail(format!("{name}: {e}")))
}

/// `match(pattern, ignorecase=False, multiline=False)`: anchored at the
/// start like Python's `re.match`.
pub fn is_match(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("match", value, &args, &kwargs, "match")
}

/// `search(pattern, ignorecase=False, multiline=False)`: `re.search`.
pub fn is_search(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("search", value, &args, &kwargs, "search")
}

/// `regex(pattern, ignorecase=False, multiline=False, match_type='search')`.
pub fn is_regex(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<bool, Error> {
    regex_test("regex", value, &args, &kwargs, "search")
}

/// `version(version, operator='eq', strict=None, version_type=None)`.
pub fn version(
    value: &Value,
    other: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    filters::version_compare_impl("version", value, other, &args, &kwargs)
}

fn contains_value(container: &Value, item: &Value) -> bool {
    match container.kind() {
        ValueKind::String => match (container.as_str(), item.as_str()) {
            (Some(hay), Some(needle)) => hay.contains(needle),
            _ => false,
        },
        ValueKind::Map => container
            .get_item(item)
            .map(|v| !v.is_undefined())
            .unwrap_or(false),
        _ => container
            .try_iter()
            .map(|mut it| it.any(|v| v == *item))
            .unwrap_or(false),
    }
}

/// `contains(item)`: the value (a list, string or dict) contains `item`.
pub fn contains(value: &Value, item: &Value) -> Result<bool, Error> {
    filters::ensure_defined("contains", value)?;
    Ok(contains_value(value, item))
}

/// `subset(other)`: every item of the value is in `other`.
pub fn subset(value: &Value, other: &Value) -> Result<bool, Error> {
    let big = list_input("subset", other)?;
    Ok(list_input("subset", value)?.iter().all(|x| big.contains(x)))
}

/// `superset(other)`: every item of `other` is in the value.
pub fn superset(value: &Value, other: &Value) -> Result<bool, Error> {
    let big = list_input("superset", value)?;
    Ok(list_input("superset", other)?
        .iter()
        .all(|x| big.contains(x)))
}

/// `any`: at least one item is truthy.
pub fn any(value: &Value) -> Result<bool, Error> {
    Ok(list_input("any", value)?.iter().any(Value::is_true))
}

/// `all`: every item is truthy.
pub fn all(value: &Value) -> Result<bool, Error> {
    Ok(list_input("all", value)?.iter().all(Value::is_true))
}

/// `nan`: the value is a float NaN.
pub fn nan(value: &Value) -> bool {
    value.kind() == ValueKind::Number && f64::try_from(value.clone()).is_ok_and(f64::is_nan)
}

fn path_arg(name: &str, value: &Value) -> Result<String, Error> {
    filters::ensure_defined(name, value)?;
    match value.as_str() {
        Some(s) => Ok(s.to_string()),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{name}: expected a path string, got {}", value.kind()),
        )),
    }
}

/// `abs`: the path is absolute (`os.path.isabs`).
pub fn is_abs(value: &Value) -> Result<bool, Error> {
    Ok(path_arg("abs", value)?.starts_with('/'))
}

/// `exists`: the path exists on the controller (symlinks are followed).
pub fn exists(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_arg("exists", value)?).exists())
}

/// `file`: the controller path is a regular file (symlinks are followed).
pub fn is_file(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_arg("file", value)?).is_file())
}

/// `directory`: the controller path is a directory (symlinks are followed).
pub fn is_dir(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_arg("directory", value)?).is_dir())
}

/// `link`: the controller path is a symbolic link.
pub fn is_link(value: &Value) -> Result<bool, Error> {
    Ok(Path::new(&path_arg("link", value)?).is_symlink())
}

/// `link_exists`: the controller path exists without following symlinks.
pub fn link_exists(value: &Value) -> Result<bool, Error> {
    Ok(std::fs::symlink_metadata(path_arg("link_exists", value)?).is_ok())
}
