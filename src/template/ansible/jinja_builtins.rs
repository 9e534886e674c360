//! Jinja2's builtin filters that minijinja lacks or computes differently, written to
//! Jinja2 3.1's definitions (the version ansible-core 2.19 ships with), and Ansible's
//! `comment` filter.

use super::pycompat::py_str;
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// An undefined input is an undefined-variable error, as strict undefined has it (these
/// filters take the value as it is, so minijinja does not check it for them).
fn defined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "undefined value"));
    }
    Ok(())
}

/// Python's `str.splitlines()` (the separators Jinja2's filters split on).
fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' | b'\x0b' | b'\x0c' | b'\x1c' | b'\x1d' | b'\x1e' => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&s[start..i]);
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `indent(width=4, first=False, blank=False)`: a trailing newline is kept, as Jinja2
/// appends one before splitting.
pub fn indent(
    value: Value,
    args: minijinja::value::Rest<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    defined(&value)?;
    let s = py_str(&value);
    let pos = |i: usize, name: &str| -> Result<Option<Value>, Error> {
        match args.get(i) {
            Some(v) => Ok(Some(v.clone())),
            None => kwargs.get::<Option<Value>>(name),
        }
    };
    let width = pos(0, "width")?;
    let first = pos(1, "first")?.is_some_and(|v| v.is_true());
    let blank = pos(2, "blank")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let indention = match &width {
        None => "    ".to_string(),
        Some(w) if w.kind() == ValueKind::String => py_str(w),
        Some(w) => " ".repeat(usize::try_from(w.clone()).unwrap_or(0)),
    };
    let text = format!("{s}\n");
    let lines = splitlines(&text);
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut it = lines.iter();
        let mut rv = it.next().copied().unwrap_or_default().to_string();
        let rest: Vec<String> = it
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !rest.is_empty() {
            rv.push('\n');
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv.insert_str(0, &indention);
    }
    Ok(rv)
}

/// `truncate(length=255, killwords=False, end='...', leeway=5)`.
pub fn truncate(
    value: Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    leeway: Option<usize>,
) -> Result<Value, Error> {
    defined(&value)?;
    // A value short enough comes back as it is (a list stays a list), as in Jinja2.
    if let Some(n) = value.len() {
        if n <= length.unwrap_or(255) + leeway.unwrap_or(5) {
            return Ok(value);
        }
    }
    truncate_text(value, length, killwords, end, leeway).map(Value::from)
}

fn truncate_text(
    value: Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    leeway: Option<usize>,
) -> Result<String, Error> {
    let s: Vec<char> = py_str(&value).chars().collect();
    let length = length.unwrap_or(255);
    let end = end.unwrap_or_else(|| "...".into());
    let leeway = leeway.unwrap_or(5);
    let end_len = end.chars().count();
    if length < end_len {
        return Err(invalid(
            "truncate: length must be at least the length of end",
        ));
    }
    if s.len() <= length + leeway {
        return Ok(s.into_iter().collect());
    }
    let head: String = s[..length - end_len].iter().collect();
    if killwords.unwrap_or(false) {
        return Ok(head + &end);
    }
    let cut = match head.rfind(' ') {
        Some(i) => head[..i].to_string(),
        None => head,
    };
    Ok(cut + &end)
}

/// `wordwrap(width=79, break_long_words=True, wrapstring='\n', break_on_hyphens=True)`:
/// Python's `textwrap.wrap` per line (whitespace kept inside lines, dropped at breaks).
pub fn wordwrap(
    value: Value,
    width: Option<usize>,
    break_long_words: Option<bool>,
    wrapstring: Option<String>,
    break_on_hyphens: Option<bool>,
) -> Result<String, Error> {
    defined(&value)?;
    let s = py_str(&value);
    let width = width.unwrap_or(79);
    if width == 0 {
        return Err(invalid("wordwrap: invalid width 0 (must be > 0)"));
    }
    let wrap = wrapstring.unwrap_or_else(|| "\n".into());
    let (long, hyph) = (
        break_long_words.unwrap_or(true),
        break_on_hyphens.unwrap_or(true),
    );
    let lines: Vec<String> = splitlines(&s)
        .iter()
        .map(|l| wrap_line(l, width, long, hyph).join(&wrap))
        .collect();
    Ok(lines.join(&wrap))
}

/// The chunks `textwrap` breaks a line into: runs of whitespace, and words (split after
/// hyphens between letters when asked).
fn chunks(line: &str, hyphens: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_ws = false;
    for c in line.chars() {
        let ws = c.is_whitespace();
        if !cur.is_empty() && ws != cur_ws {
            out.push(std::mem::take(&mut cur));
        }
        cur_ws = ws;
        cur.push(c);
        if hyphens && !ws && c == '-' && cur.chars().count() > 1 {
            let prev = cur.chars().rev().nth(1).unwrap_or(' ');
            if prev.is_alphanumeric() {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn wrap_line(line: &str, width: usize, break_long: bool, hyphens: bool) -> Vec<String> {
    let mut chunks: Vec<String> = chunks(line, hyphens);
    chunks.reverse();
    let mut lines = Vec::new();
    let len = |s: &str| s.chars().count();
    while !chunks.is_empty() {
        let mut cur: Vec<String> = Vec::new();
        let mut cur_len = 0;
        // Whitespace at the start of a wrapped line is dropped (not of the first).
        if !lines.is_empty() && chunks.last().is_some_and(|c| c.trim().is_empty()) {
            chunks.pop();
        }
        while let Some(c) = chunks.last() {
            let l = len(c);
            if cur_len + l <= width {
                cur_len += l;
                cur.push(chunks.pop().unwrap_or_default());
            } else {
                break;
            }
        }
        if chunks.last().is_some_and(|c| len(c) > width) {
            let space_left = if width > cur_len { width - cur_len } else { 1 };
            if break_long {
                let c = chunks.pop().unwrap_or_default();
                let head: String = c.chars().take(space_left).collect();
                let tail: String = c.chars().skip(space_left).collect();
                cur.push(head);
                chunks.push(tail);
            } else if cur.is_empty() {
                cur.push(chunks.pop().unwrap_or_default());
            }
        }
        if cur.last().is_some_and(|c| c.trim().is_empty()) {
            cur.pop();
        }
        if !cur.is_empty() {
            lines.push(cur.concat());
        }
    }
    lines
}

/// `center(width=80)`: Python's `str.center`.
pub fn center(value: Value, width: Option<usize>) -> Result<String, Error> {
    defined(&value)?;
    Ok({
        let s = py_str(&value);
        let width = width.unwrap_or(80);
        let n = s.chars().count();
        if width <= n {
            return Ok(s);
        }
        let marg = width - n;
        let left = marg / 2 + (marg & width & 1);
        format!("{}{s}{}", " ".repeat(left), " ".repeat(marg - left))
    })
}

/// `striptags`: tags and comments removed, whitespace collapsed, entities decoded.
pub fn striptags(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok({
        let s = py_str(&value);
        let comments = regex::Regex::new(r"(?s)<!--.*?-->").expect("static regex");
        let tags = regex::Regex::new(r"(?s)<.*?>").expect("static regex");
        let s = comments.replace_all(&s, "");
        let s = tags.replace_all(&s, "");
        let collapsed: Vec<&str> = s.split_whitespace().collect();
        unescape_html(&collapsed.join(" "))
    })
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Jinja2's (markupsafe's) HTML escape.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `forceescape`: HTML-escaped text.
pub fn forceescape(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok(escape_html(&py_str(&value)))
}

/// `filesizeformat(binary=False)`.
pub fn filesizeformat(value: Value, binary: Option<bool>) -> Result<String, Error> {
    defined(&value)?;
    let bytes = match value.kind() {
        ValueKind::Number => f64::try_from(value.clone()).unwrap_or(0.0),
        ValueKind::Bool => f64::from(u8::from(value.is_true())),
        _ => py_str(&value)
            .trim()
            .parse::<f64>()
            .map_err(|_| invalid(format!("filesizeformat: '{value}' is not a number")))?,
    };
    let binary = binary.unwrap_or(false);
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok("1 Byte".into());
    }
    if bytes < base {
        return Ok(format!("{} Bytes", bytes.trunc() as i64));
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i as i32 + 2);
        if bytes < unit {
            return Ok(format!("{:.1} {prefix}", base * bytes / unit));
        }
    }
    Ok(format!("{:.1} {}", base * bytes / unit, prefixes[7]))
}

/// `wordcount`: the number of `\w+` runs.
pub fn wordcount(value: Value) -> Result<usize, Error> {
    defined(&value)?;
    Ok({
        let s = py_str(&value);
        let mut n = 0;
        let mut in_word = false;
        for c in s.chars() {
            let w = c.is_alphanumeric() || c == '_';
            if w && !in_word {
                n += 1;
            }
            in_word = w;
        }
        n
    })
}

/// `xmlattr(autospace=True)`: `key="value"` pairs, HTML-escaped, None values left out.
pub fn xmlattr(value: Value, autospace: Option<bool>) -> Result<String, Error> {
    defined(&value)?;
    if value.kind() != ValueKind::Map {
        return Err(invalid("xmlattr expects a mapping"));
    }
    let mut items = Vec::new();
    for key in value.try_iter()? {
        let v = value.get_item(&key).unwrap_or_default();
        if v.is_none() || v.is_undefined() {
            continue;
        }
        let k = py_str(&key);
        if k.chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '>' | '='))
        {
            return Err(invalid(format!(
                "Invalid character in attribute name: '{k}'"
            )));
        }
        items.push(format!(
            "{}=\"{}\"",
            escape_html(&k),
            escape_html(&py_str(&v))
        ));
    }
    let rv = items.join(" ");
    Ok(if autospace.unwrap_or(true) && !rv.is_empty() {
        format!(" {rv}")
    } else {
        rv
    })
}

/// `tojson(indent=None)`: `json.dumps` with sorted keys, ASCII only, and `<>&'` escaped
/// for HTML, as Jinja2's `htmlsafe_json_dumps`.
pub fn tojson(value: Value, indent: Option<Value>) -> Result<String, Error> {
    defined(&value)?;
    let indent = match indent {
        Some(v) if v.is_none() => None,
        Some(v) => {
            Some(usize::try_from(v).map_err(|_| invalid("tojson: indent must be an integer"))?)
        }
        None => None,
    };
    let json = super::filters::py_json_dumps(&value, indent, true)?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027"))
}

/// `round(precision=0, method='common')`: Python's `round` (halves to even, on the
/// exact binary value) for `common`, `math.floor`/`math.ceil` of the scaled value
/// otherwise; always a float, as in Jinja2.
pub fn round(value: Value, precision: Option<i32>, method: Option<String>) -> Result<Value, Error> {
    defined(&value)?;
    // Python's round of an int is the int itself (Jinja2 passes it through); a bool is
    // an int there.
    if value.kind() == ValueKind::Bool && method.as_deref().unwrap_or("common") == "common" {
        return Ok(Value::from(i64::from(value.is_true())));
    }
    if value.is_integer() && method.as_deref().unwrap_or("common") == "common" {
        return Ok(value);
    }
    let x = f64::try_from(value.clone())
        .map_err(|_| invalid(format!("round: '{value}' is not a number")))?;
    let p = precision.unwrap_or(0);
    let scale = 10f64.powi(p);
    let r = match method.as_deref().unwrap_or("common") {
        "common" => python_round(x, p),
        "floor" => (x * scale).floor() / scale,
        "ceil" => (x * scale).ceil() / scale,
        other => {
            return Err(invalid(format!(
                "round: method must be 'common', 'ceil' or 'floor', not '{other}'"
            )))
        }
    };
    Ok(Value::from(r))
}

/// Python's `round(x, n)`: correctly rounded, ties to even on the exact decimal value.
fn python_round(x: f64, n: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if n >= 0 {
        // Formatting rounds the exact binary value to n places, ties to even.
        format!("{:.*}", n as usize, x).parse().unwrap_or(x)
    } else {
        let scale = 10f64.powi(-n);
        let y = x / scale;
        let r = y.round();
        let r = if (y - y.trunc()).abs() == 0.5 {
            2.0 * (y / 2.0).round()
        } else {
            r
        };
        r * scale
    }
}

/// Ansible's `comment(style='plain', **params)`: text wrapped as a comment block.
pub fn comment(text: Value, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    defined(&text)?;
    let text = py_str(&text);
    let style = style.unwrap_or_else(|| "plain".into());
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(invalid(format!("comment: unknown style '{other}'"))),
    };
    let get = |k: &str, d: &str| -> Result<String, Error> {
        Ok(kwargs
            .get::<Option<Value>>(k)?
            .map(|v| py_str(&v))
            .unwrap_or_else(|| d.to_string()))
    };
    let prepostfix = get("decoration", decoration)?;
    let newline = get("newline", "\n")?;
    let beginning = get("beginning", beginning)?;
    let prefix = get("prefix", prepostfix.trim_end())?;
    let postfix = get("postfix", prepostfix.trim_end())?;
    let decoration = get("decoration", decoration)?;
    let end = get("end", end)?;
    let count =
        |k: &str| -> Result<usize, Error> { Ok(kwargs.get::<Option<usize>>(k)?.unwrap_or(1)) };
    let (prefix_count, postfix_count) = (count("prefix_count")?, count("postfix_count")?);
    kwargs.assert_all_used()?;
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        let unit = if prefix != newline {
            format!("{prefix}{newline}")
        } else {
            newline.clone()
        };
        out.push_str(&unit.repeat(prefix_count));
    }
    let body = format!(
        "{decoration}{}",
        text.replace(&newline, &format!("{newline}{decoration}"))
    )
    .replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    );
    out.push_str(&body);
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(out)
}

/// `dictsort`: minijinja's, except that an undefined input is reported as undefined
/// (naming the variable) rather than as a value that is not a mapping.
pub fn dictsort(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "dictsort of an undefined value",
        ));
    }
    minijinja::filters::dictsort(value, kwargs)
}

/// Ansible's `random(start=0, step=1, seed=None)`: an element of a list, or a number in
/// `range(start, end, step)`. A seed makes it repeatable (not Python's sequence).
pub fn random(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(&value)?;
    let start = kwargs.get::<Option<i64>>("start")?.unwrap_or(0);
    let step = kwargs.get::<Option<i64>>("step")?.unwrap_or(1).max(1);
    let seed = kwargs.get::<Option<Value>>("seed")?;
    kwargs.assert_all_used()?;
    let pick = |n: u64| -> u64 {
        let r = match &seed {
            Some(s) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                py_str(s).hash(&mut h);
                h.finish()
            }
            None => {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).ok();
                u64::from_le_bytes(b)
            }
        };
        if n == 0 {
            0
        } else {
            r % n
        }
    };
    match value.kind() {
        ValueKind::Number => {
            let end = i64::try_from(value.clone())
                .map_err(|_| invalid("random: end must be an integer"))?;
            let count = ((end - start).max(0) + step - 1) / step;
            if count == 0 {
                return Err(invalid("random: empty range"));
            }
            Ok(Value::from(start + step * pick(count as u64) as i64))
        }
        _ => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                return Err(invalid("random: empty sequence"));
            }
            Ok(items[pick(items.len() as u64) as usize].clone())
        }
    }
}

/// `upper`, `lower`, `capitalize`, `trim`: Jinja2 applies them to `str(value)`, so a
/// list is upper-cased in its Python form (`['A', 'B']`).
pub fn upper(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok(py_str(&value).to_uppercase())
}

/// See [`upper`].
pub fn lower(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok(py_str(&value).to_lowercase())
}

/// See [`upper`]: first character upper-cased, the rest lower-cased.
pub fn capitalize(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok({
        let s = py_str(&value);
        let mut chars = s.chars();
        match chars.next() {
            Some(c) => c
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        }
    })
}

/// See [`upper`]: `trim(chars=None)`.
pub fn trim(value: Value, chars: Option<String>) -> Result<String, Error> {
    defined(&value)?;
    Ok({
        let s = py_str(&value);
        match chars {
            Some(c) => s.trim_matches(|x| c.contains(x)).to_string(),
            None => s.trim().to_string(),
        }
    })
}

/// The `callable` test: data values are never callable.
pub fn is_callable(value: Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.repr() == minijinja::value::ObjectRepr::Plain)
        && value.kind() == ValueKind::Plain
}

/// `urlize(trim_url_limit=None, nofollow=False, target=None, rel=None)`: http(s) and
/// `www.` URLs and e-mail addresses in the text become links (Jinja2's rules, simplified:
/// trailing punctuation stays outside the link).
pub fn urlize(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    defined(&value)?;
    let nofollow = kwargs.get::<Option<bool>>("nofollow")?.unwrap_or(false);
    let target = kwargs.get::<Option<String>>("target")?;
    let rel = kwargs.get::<Option<String>>("rel")?;
    let limit = kwargs.get::<Option<usize>>("trim_url_limit")?;
    kwargs.assert_all_used()?;
    let mut rel_words: Vec<String> = rel
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    if nofollow {
        rel_words.push("nofollow".into());
    }
    rel_words.push("noopener".into());
    rel_words.sort();
    rel_words.dedup();
    let attrs = format!(
        " rel=\"{}\"{}",
        rel_words.join(" "),
        target
            .map(|t| format!(" target=\"{}\"", escape_html(&t)))
            .unwrap_or_default()
    );
    let text = py_str(&value);
    let mut out = String::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_end_matches(['.', ',', ')', '>', '\n', '!', ':', ';']);
        let tail = &word[core.len()..];
        let shown = |u: &str| match limit {
            Some(n) if u.chars().count() > n => {
                format!("{}...", u.chars().take(n).collect::<String>())
            }
            _ => u.to_string(),
        };
        let link = if core.starts_with("http://") || core.starts_with("https://") {
            Some((core.to_string(), shown(core), attrs.clone()))
        } else if core.starts_with("www.") {
            Some((format!("https://{core}"), shown(core), attrs.clone()))
        } else if core.contains('@')
            && !core.starts_with('@')
            && core.rsplit('@').next().is_some_and(|d| d.contains('.'))
        {
            Some((format!("mailto:{core}"), core.to_string(), String::new()))
        } else {
            None
        };
        match link {
            Some((href, label, a)) => out.push_str(&format!(
                "<a href=\"{}\"{a}>{}</a>{}",
                escape_html(&href),
                escape_html(&label),
                escape_html(tail)
            )),
            None => out.push_str(&escape_html(word)),
        }
    }
    Ok(out)
}

/// `pprint`: Python's `pprint.pformat` (its repr, for values that fit on a line).
pub fn pprint(value: Value) -> Result<String, Error> {
    defined(&value)?;
    Ok(super::pycompat::py_repr(&value))
}

/// The `filter` test: is the value the name of a filter?
pub fn is_filter(state: &State, value: Value) -> bool {
    let Some(name) = value.as_str() else {
        return false;
    };
    !matches!(
        state.apply_filter(name, &[Value::UNDEFINED]),
        Err(e) if e.kind() == ErrorKind::UnknownFilter
    )
}

/// The `test` test: is the value the name of a test?
pub fn is_test(state: &State, value: Value) -> bool {
    let Some(name) = value.as_str() else {
        return false;
    };
    !matches!(
        state.perform_test(name, &[Value::UNDEFINED]),
        Err(e) if e.kind() == ErrorKind::UnknownTest
    )
}

/// Registers the filters of this file, replacing minijinja's versions.
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_filter("indent", indent);
    env.add_filter("truncate", truncate);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("center", center);
    env.add_filter("striptags", striptags);
    env.add_filter("forceescape", forceescape);
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("wordcount", wordcount);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("tojson", tojson);
    env.add_filter("round", round);
    env.add_filter("comment", comment);
    env.add_filter("dictsort", dictsort);
    env.add_filter("random", random);
    env.add_filter("upper", upper);
    env.add_filter("lower", lower);
    env.add_filter("capitalize", capitalize);
    env.add_filter("trim", trim);
    env.add_test("callable", is_callable);
    env.add_filter("urlize", urlize);
    env.add_filter("pprint", pprint);
    env.add_test("filter", is_filter);
    env.add_test("test", is_test);
    env.add_filter("ansible.builtin.comment", comment);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_keeps_a_trailing_newline_as_jinja2() {
        let none = Kwargs::from_iter(Vec::<(&str, Value)>::new());
        assert_eq!(
            indent(
                Value::from("a\nb\n"),
                minijinja::value::Rest(vec![Value::from(2)]),
                none
            )
            .unwrap(),
            "a\n  b\n"
        );
    }

    #[test]
    fn python_rounding_is_half_to_even() {
        assert_eq!(python_round(2.5, 0), 2.0);
        assert_eq!(python_round(3.5, 0), 4.0);
        assert_eq!(python_round(0.125, 2), 0.12);
        assert_eq!(python_round(2.675, 2), 2.67);
        assert_eq!(python_round(-2.5, 0), -2.0);
    }

    #[test]
    fn python_text_helpers() {
        assert_eq!(center(Value::from("x"), Some(4)).unwrap(), " x  ");
        assert_eq!(center(Value::from("ab"), Some(5)).unwrap(), "  ab ");
        assert_eq!(wordcount(Value::from("a b_c, d")).unwrap(), 3);
        assert_eq!(
            truncate(
                Value::from("The quick brown fox jumps over"),
                Some(20),
                None,
                None,
                None
            )
            .unwrap(),
            Value::from("The quick brown...")
        );
        assert_eq!(
            striptags(Value::from("<p>a  <b>b</b>&amp;</p>")).unwrap(),
            "a b&"
        );
        assert_eq!(
            filesizeformat(Value::from(1500000), None).unwrap(),
            "1.5 MB"
        );
        assert_eq!(
            wordwrap(Value::from("aaa bbb ccc"), Some(7), None, None, None).unwrap(),
            "aaa bbb\nccc"
        );
    }
}
