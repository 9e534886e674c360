//! Python's `%` string formatting in templates (`'%s:%d' % (host, port)`), which Ansible
//! content uses and minijinja's expression language does not have. Before a template or
//! an expression is compiled, a string literal followed by `%` and its operand is
//! rewritten into a call of the [`FILTER`] filter, which formats as Python does. Only a
//! literal on the left is rewritten: `x % 2` stays the modulo of numbers.

use super::pycompat::apply_spec;
use super::pycompat::{py_repr, py_str};
use super::tags::{map_tags, string_end};
use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use std::borrow::Cow;

/// The filter the rewrite calls (not meant to be written by hand).
pub const FILTER: &str = "__drover_percent";

/// Rewrite `%` formatting inside the `{{ }}` and `{% %}` of a template's text; comments
/// and `{% raw %}` blocks are left alone.
pub fn rewrite_template(src: &str) -> Cow<'_, str> {
    if !src.contains('%') {
        return Cow::Borrowed(src);
    }
    map_tags(src, |body, _| rewrite_expression(body))
}

/// Rewrite `'literal' % operand` in one expression.
pub fn rewrite_expression(expr: &str) -> Cow<'_, str> {
    let b = expr.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\'' && b[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i;
        let end = string_end(b, i);
        let j = skip_ws(b, end);
        if j < b.len() && b[j] == b'%' {
            if let Some((operand_end, args)) = operand(expr, skip_ws(b, j + 1)) {
                out.push_str(&expr[last..start]);
                out.push_str(&format!("({} | {FILTER}({args}))", &expr[start..end]));
                last = operand_end;
                i = operand_end;
                continue;
            }
        }
        i = end;
    }
    if last == 0 {
        return Cow::Borrowed(expr);
    }
    out.push_str(&expr[last..]);
    Cow::Owned(out)
}

/// The operand of `%` at `k`: (where it ends, the filter's arguments). A parenthesised
/// tuple gives its items as the arguments, anything else is one argument.
fn operand(expr: &str, k: usize) -> Option<(usize, String)> {
    let b = expr.as_bytes();
    let c = *b.get(k)?;
    if c == b'(' {
        let close = matching(b, k)?;
        let inner = expr[k + 1..close].trim();
        let args = if has_top_level_comma(inner) {
            inner.trim_end_matches(',').trim().to_string()
        } else {
            inner.to_string()
        };
        return (!args.is_empty()).then(|| (close + 1, args));
    }
    let mut i = k;
    if c == b'\'' || c == b'"' {
        i = string_end(b, k);
    } else if c == b'[' || c == b'{' {
        i = matching(b, k)? + 1;
    } else {
        if c == b'-' {
            i += 1;
        }
        let word_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
            i += 1;
        }
        if i == word_start {
            return None;
        }
        // Subscripts and calls: x[0], x.y(1).
        while i < b.len() && (b[i] == b'[' || b[i] == b'(') {
            i = matching(b, i)? + 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
        }
    }
    // Filters bind tighter than `%`: 'x=%s' % name | upper formats the upper-cased name.
    loop {
        let j = skip_ws(b, i);
        if j + 1 < b.len() && b[j] == b'|' && b[j + 1] != b'|' {
            let mut n = skip_ws(b, j + 1);
            let name_start = n;
            while n < b.len() && (b[n].is_ascii_alphanumeric() || b[n] == b'_' || b[n] == b'.') {
                n += 1;
            }
            if n == name_start {
                break;
            }
            if n < b.len() && b[n] == b'(' {
                n = matching(b, n)? + 1;
            }
            i = n;
        } else {
            break;
        }
    }
    Some((i, expr[k..i].to_string()))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index of the bracket closing the one at `open`, skipping strings and nesting.
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn has_top_level_comma(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => match matching(b, i) {
                Some(close) => i = close,
                None => return false,
            },
            b',' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `format % args` as Python computes it (`%s %r %d %i %f %e %g %x %o %c %%` with flags,
/// width and precision; `%(name)s` with one mapping).
pub fn percent_filter(format: String, args: Rest<Value>) -> Result<String, Error> {
    let fail = |msg: &str| Error::new(ErrorKind::InvalidOperation, msg.to_string());
    let mapping = (args.len() == 1 && args[0].kind() == ValueKind::Map).then(|| args[0].clone());
    let mut next = 0;
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let name: String = chars.by_ref().take_while(|c| *c != ')').collect();
            key = Some(name);
        }
        let (mut left, mut zero, mut sign, mut alt) = (false, false, String::new(), false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => sign = "+".into(),
                ' ' if sign.is_empty() => sign = " ".into(),
                ' ' => {}
                '#' => alt = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(*d);
            chars.next();
        }
        let mut precision = String::new();
        if chars.peek() == Some(&'.') {
            chars.next();
            precision.push('.');
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                precision.push(*d);
                chars.next();
            }
            if precision == "." {
                precision.push('0');
            }
        }
        while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let conv = chars.next().ok_or_else(|| fail("incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = match (&key, &mapping) {
            (Some(k), Some(m)) => m
                .get_item(&Value::from(k.as_str()))
                .ok()
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| fail(&format!("KeyError: '{k}'")))?,
            (Some(_), None) => return Err(fail("format requires a mapping")),
            (None, _) => {
                let v = args
                    .get(next)
                    .cloned()
                    .ok_or_else(|| fail("not enough arguments for format string"))?;
                next += 1;
                v
            }
        };
        let numeric = matches!(
            conv,
            'd' | 'i' | 'u' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'x' | 'X' | 'o'
        );
        let align = if left {
            "<"
        } else if numeric {
            ""
        } else {
            ">"
        };
        let zero = if zero && !left && numeric { "0" } else { "" };
        let (value, ty): (Value, String) = match conv {
            's' => (Value::from(py_str(&value)), "s".into()),
            'r' | 'a' => (Value::from(py_repr(&value)), "s".into()),
            'c' => {
                let ch = match value.as_str() {
                    Some(s) if s.chars().count() == 1 => s.to_string(),
                    _ => i64::try_from(value.clone())
                        .ok()
                        .and_then(|n| u32::try_from(n).ok())
                        .and_then(char::from_u32)
                        .map(String::from)
                        .ok_or_else(|| fail("%c requires int or char"))?,
                };
                (Value::from(ch), "s".into())
            }
            'd' | 'i' | 'u' => (Value::from(to_int(&value, conv)?), "d".into()),
            'x' | 'X' | 'o' => (Value::from(to_int(&value, conv)?), conv.to_string()),
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let f = f64::try_from(value.clone())
                    .map_err(|_| fail(&format!("must be real number, not {}", py_type(&value))))?;
                (Value::from(f), conv.to_string())
            }
            other => return Err(fail(&format!("unsupported format character '{other}'"))),
        };
        let precision = if ty == "d" { "" } else { precision.as_str() };
        let prefix = match (alt, conv) {
            (true, 'x') => "0x",
            (true, 'X') => "0X",
            (true, 'o') => "0o",
            _ => "",
        };
        if prefix.is_empty() {
            let spec = format!("{align}{sign}{zero}{width}{precision}{ty}");
            out.push_str(&apply_spec(&value, &spec)?);
        } else {
            // The alternate form's prefix goes inside the padding, as Python puts it.
            let digits = format!("{prefix}{}", apply_spec(&value, &format!("{sign}{ty}"))?);
            let w: usize = width.parse().unwrap_or(0);
            let pad = " ".repeat(w.saturating_sub(digits.chars().count()));
            out.push_str(&if left {
                format!("{digits}{pad}")
            } else {
                format!("{pad}{digits}")
            });
        }
    }
    if mapping.is_none() && next < args.len() {
        return Err(fail("not all arguments converted during string formatting"));
    }
    Ok(out)
}

fn to_int(value: &Value, conv: char) -> Result<i64, Error> {
    if let Ok(n) = i64::try_from(value.clone()) {
        return Ok(n);
    }
    match f64::try_from(value.clone()) {
        Ok(f) if value.kind() == ValueKind::Number => Ok(f.trunc() as i64),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "%{conv} format: a real number is required, not {}",
                py_type(value)
            ),
        )),
    }
}

fn py_type(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::None | ValueKind::Undefined => "NoneType",
        ValueKind::Bool => "bool",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_a_literal_left_operand_only() {
        assert_eq!(
            rewrite_expression("'port=%s' % port"),
            "('port=%s' | __drover_percent(port))"
        );
        assert_eq!(
            rewrite_expression("'%s-%s' % ('a', b.c[0]) ~ 'x'"),
            "('%s-%s' | __drover_percent('a', b.c[0])) ~ 'x'"
        );
        assert_eq!(
            rewrite_expression("'%s' % name | upper"),
            "('%s' | __drover_percent(name | upper))"
        );
        assert_eq!(rewrite_expression("x % 2 == 0"), "x % 2 == 0");
        assert_eq!(rewrite_expression("'50%'"), "'50%'");
    }

    #[test]
    fn rewrites_inside_tags_but_not_raw_text_or_comments() {
        assert_eq!(
            rewrite_template("a {{ '%d' % n }} {# '%d' % n #} {% raw %}{{ '%d' % n }}{% endraw %} 100%"),
            "a {{ ('%d' | __drover_percent(n)) }} {# '%d' % n #} {% raw %}{{ '%d' % n }}{% endraw %} 100%"
        );
        assert_eq!(
            rewrite_template("{% set x = '%s!' % y %}"),
            "{% set x = ('%s!' | __drover_percent(y)) %}"
        );
    }

    fn fmt(f: &str, args: Vec<Value>) -> String {
        percent_filter(f.to_string(), Rest(args)).unwrap()
    }

    #[test]
    fn multibyte_text_next_to_tags_is_walked_by_bytes() {
        // Found by the `template` fuzz target: a closing tag searched for inside a
        // multi-byte character sliced the string off a character boundary.
        assert_eq!(rewrite_template("{%c\u{70b}%}"), "{%c\u{70b}%}");
        assert_eq!(
            rewrite_template("{{ 'é=%s' % n }}é"),
            "{{ ('é=%s' | __drover_percent(n)) }}é"
        );
    }

    #[test]
    fn formats_as_python() {
        assert_eq!(fmt("port=%s", vec![Value::from(8080)]), "port=8080");
        assert_eq!(fmt("%05.1f", vec![Value::from(2.46)]), "002.5");
        assert_eq!(
            fmt("%-4s|%4s|", vec![Value::from("a"), Value::from("b")]),
            "a   |   b|"
        );
        assert_eq!(
            fmt(
                "%x %#o %+d %03d %r %%",
                vec![255.into(), 8.into(), 5.into(), 7.into(), "q".into()]
            ),
            "ff 0o10 +5 007 'q' %"
        );
        assert_eq!(fmt("%d", vec![Value::from(2.9)]), "2");
        let m = Value::from_iter([("host", Value::from("db")), ("port", Value::from(5432))]);
        assert_eq!(fmt("%(host)s:%(port)d", vec![m]), "db:5432");
        assert!(percent_filter("%s %s".into(), Rest(vec![Value::from(1)])).is_err());
        assert!(percent_filter("%s".into(), Rest(vec![1.into(), 2.into()])).is_err());
    }
}
