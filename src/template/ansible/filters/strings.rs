//! String filters: `title`, `replace`, `join`, `quote`, base64 and URL decoding.

use base64::Engine as _;
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::Error;

use super::{
    attr_path, check_arity, ensure_defined, fail, list_input, num_i128, param, str_param,
    text_input,
};
use crate::template::ansible::pycompat::py_str;

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
