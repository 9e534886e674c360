//! Data-format filters: JSON as Python's `json.dumps` writes it, YAML through the
//! emitter ([`super::super::yaml_emitter`]) and the project's loader ([`crate::yaml`]).

use std::fmt::Write as _;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::{check_arity, ensure_defined, fail, flag, num_f64, num_i128, param};
use crate::template::ansible::pycompat::{self, py_str};
use crate::template::ansible::yaml_emitter as yaml;

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
    if let Some(u) = crate::vault::undecryptable::as_undecryptable(value) {
        return Err(crate::vault::undecryptable::use_error(u));
    }
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
