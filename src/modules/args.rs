//! Module arguments: checked against the spec up front, read with typed getters at run
//! time (after templating), with Ansible's type coercions.

use super::spec::{ArgSpec, ArgType, Check, FreeForm, ModuleSpec};
use crate::diagnostics::{did_you_mean, Error, Result, Span};
use crate::template::scope::needs_templating;
use crate::vars::Vars;
use crate::yaml::node::parse_bool_str;
use minijinja::value::{Value, ValueKind};

/// Templated arguments of one module call, keyed by canonical argument name.
pub struct Args {
    /// The module's name, for error messages.
    pub module: &'static str,
    values: Vars,
}

impl Args {
    /// Normalise aliases; unknown names were refused up front but are checked again here
    /// because include_tasks files are loaded at run time.
    pub fn new(spec: &'static ModuleSpec, raw: Vars) -> Result<Args> {
        let mut values = Vars::new();
        for (k, v) in raw {
            let name = if k.starts_with('_') || spec.any_keys {
                k.clone()
            } else {
                match spec.canonical_arg(&k) {
                    Some(a) => a.name.to_string(),
                    None => return Err(unknown_arg(spec, &k, None)),
                }
            };
            values.insert(name, v);
        }
        Ok(Args {
            module: spec.name,
            values,
        })
    }

    /// Every argument by canonical name, as given.
    pub fn raw(&self) -> &Vars {
        &self.values
    }

    /// Was `name` given a value (not null, not undefined)?
    pub fn has(&self, name: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| !v.is_none() && !v.is_undefined())
    }

    /// The value of `name`, if given.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .get(name)
            .filter(|v| !v.is_none() && !v.is_undefined())
    }

    fn bad(&self, name: &str, want: &str, got: &Value) -> Error {
        Error::module(format!(
            "argument '{name}' of {} must be {want}, got {} '{}'",
            self.module,
            got.kind(),
            got
        ))
    }

    /// A string argument; numbers and booleans are taken as Python prints them.
    pub fn str(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => match v.kind() {
                ValueKind::String => Ok(v.as_str().map(str::to_string)),
                ValueKind::Number | ValueKind::Bool => Ok(Some(python_str(v))),
                _ => Err(self.bad(name, "a string", v)),
            },
        }
    }

    /// A string argument the module cannot do without.
    pub fn req_str(&self, name: &str) -> Result<String> {
        self.str(name)?
            .ok_or_else(|| Error::module(format!("missing required arguments: {name}")))
    }

    /// A boolean argument as Ansible reads one (`yes`, `on`, `1` …), or `default`.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => to_bool(v).ok_or_else(|| self.bad(name, "a boolean", v)),
        }
    }

    /// An integer argument (an integer-valued string too).
    pub fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => to_int(v)
                .map(Some)
                .ok_or_else(|| self.bad(name, "an integer", v)),
        }
    }

    /// A number argument (a numeric string too).
    pub fn float(&self, name: &str) -> Result<Option<f64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => {
                if let Ok(f) = f64::try_from(v.clone()) {
                    return Ok(Some(f));
                }
                v.as_str()
                    .and_then(|s| s.trim().parse().ok())
                    .map(Some)
                    .ok_or_else(|| self.bad(name, "a number", v))
            }
        }
    }

    /// A list; a string is split on commas, as Ansible's `type='list'` does.
    pub fn list(&self, name: &str) -> Result<Vec<Value>> {
        match self.value(name) {
            None => Ok(Vec::new()),
            Some(v) if v.kind() == ValueKind::Seq => {
                Ok(v.try_iter().map(|i| i.collect()).unwrap_or_default())
            }
            Some(v) if v.kind() == ValueKind::String => Ok(v
                .as_str()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Value::from)
                .collect()),
            Some(v) => Ok(vec![v.clone()]),
        }
    }

    /// A list argument as strings (a comma-separated string is a list too).
    pub fn str_list(&self, name: &str) -> Result<Vec<String>> {
        Ok(self.list(name)?.iter().map(python_str).collect())
    }

    /// A file mode, normalised for `chmod`: octal digits, or a symbolic mode as given.
    pub fn mode(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => parse_mode(v)
                .map(Some)
                .map_err(|m| Error::module(format!("argument '{name}' of {}: {m}", self.module))),
        }
    }
}

/// Python's `str()` of a scalar (True/False, not true/false).
pub fn python_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.to_string(),
        ValueKind::None => "None".to_string(),
        _ => v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
    }
}

/// A value as Ansible's boolean conversion reads it (`yes`, `on`, `1`, `true` …); `None` when it is none of them.
pub fn to_bool(v: &Value) -> Option<bool> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true()),
        ValueKind::Number => i64::try_from(v.clone()).ok().and_then(|i| match i {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }),
        ValueKind::String => parse_bool_str(v.as_str().unwrap_or("")),
        _ => None,
    }
}

/// A value as an integer: a number, or a string holding one (`"8080"`).
pub fn to_int(v: &Value) -> Option<i64> {
    if v.kind() == ValueKind::Number {
        if let Ok(i) = i64::try_from(v.clone()) {
            return Some(i);
        }
    }
    v.as_str().and_then(|s| s.trim().parse().ok())
}

/// Modes as Ansible reads them: an integer is taken as the number it is (YAML already
/// read `0644` as octal); a string is octal digits or a symbolic mode.
fn parse_mode(v: &Value) -> std::result::Result<String, String> {
    if v.kind() == ValueKind::Number {
        let i = i64::try_from(v.clone()).map_err(|_| format!("'{v}' is not a valid mode"))?;
        if !(0..=0o7777).contains(&i) {
            return Err(format!("{i} is out of range for a mode"));
        }
        return Ok(format!("{i:04o}"));
    }
    let s = v
        .as_str()
        .ok_or_else(|| format!("'{v}' is not a valid mode"))?
        .trim();
    if s == "preserve" {
        return Ok(s.to_string());
    }
    if !s.is_empty() && s.len() <= 5 && s.chars().all(|c| ('0'..='7').contains(&c)) {
        let n = u32::from_str_radix(s, 8).map_err(|_| format!("'{s}' is not a valid mode"))?;
        return Ok(format!("{n:04o}"));
    }
    let symbolic = regex_lite_symbolic(s);
    if symbolic {
        return Ok(s.to_string());
    }
    Err(format!(
        "'{s}' is not a valid mode; use octal like '0644' or symbolic like 'u=rw,g=r,o=r'"
    ))
}

fn regex_lite_symbolic(s: &str) -> bool {
    !s.is_empty()
        && s.split(',').all(|clause| {
            let ops = clause.find(['=', '+', '-']);
            match ops {
                Some(i) => {
                    clause[..i].chars().all(|c| "ugoa".contains(c))
                        && clause[i..].chars().all(|c| "=+-rwxXstugo".contains(c))
                }
                None => false,
            }
        })
}

fn unknown_arg(spec: &ModuleSpec, name: &str, span: Option<&Span>) -> Error {
    let message = spec
        .messages
        .iter()
        .find(|(c, _)| matches!(c, Check::Unsupported(a) if *a == name))
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| format!("unsupported argument '{name}' for module {}", spec.name));
    let mut e = Error::new(crate::diagnostics::ErrorKind::Invalid, message);
    if let Some(s) = span {
        e = e.at(s.clone());
    }
    let names: Vec<&str> = spec.arg_names().collect();
    match did_you_mean(name, names.iter().copied()) {
        Some(s) => e.with_help(format!("did you mean '{s}'?")),
        None => e.with_help(format!("{} accepts: {}", spec.name, names.join(", "))),
    }
}

/// The argument that holds a template standing for the whole set of arguments
/// (`assert: '{{ item }}'`, `args: '{{ opts }}'`): Ansible renders it to a mapping when the
/// task runs, and the arguments written beside it win over its keys.
pub const VARIABLE_PARAMS: &str = "_variable_params";

/// Is the text one Jinja expression and nothing else (`{{ item }}`)? Ansible accepts such
/// a text where a module takes no free-form text, as a template for the arguments.
pub fn is_all_template(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("{{") && t.ends_with("}}") && t[2..].find("}}") == Some(t.len() - 4)
}

/// Split Ansible's `key=value key2="value two"` free-form arguments as its `parse_kv`
/// does, on the raw text before any templating: a word's key is what precedes its first
/// `=` (not the first character, not escaped), whatever it holds (set_fact's
/// `'{{ item }}=moo'` names the variable with a template). With [`FreeForm::RawParams`],
/// words that are not known `key=value` arguments stay in `_raw_params` verbatim; a
/// module without free-form text accepts only a template of the whole arguments
/// ([`VARIABLE_PARAMS`]).
pub fn parse_free_form(spec: &ModuleSpec, text: &str, span: &Span) -> Result<Vars> {
    let tokens = split_args(text).map_err(|m| Error::invalid(m, span))?;
    let mut vars = Vars::new();
    let mut raw: Vec<String> = Vec::new();
    for tok in tokens {
        if spec.free_form == FreeForm::KeyValue && tok.trim().is_empty() {
            continue;
        }
        // Ansible reads the key and value from the word with its backslash escapes
        // decoded (`regexp='\b'` is a backspace, `'\\b'` a word boundary); the words
        // left as free-form text keep them.
        let decoded = decode_escapes(&tok);
        let kv = key_value(&decoded);
        match (spec.free_form, kv) {
            (FreeForm::RawParams, Some((k, v)))
                if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && spec.canonical_arg(k).is_some()
                    && k != "cmd" =>
            {
                vars.insert(k.to_string(), Value::from(unquote(v)));
            }
            (FreeForm::RawParams, _) => raw.push(tok),
            (FreeForm::KeyValue, Some((k, v))) => {
                vars.insert(k.to_string(), Value::from(unquote(v)));
            }
            (FreeForm::KeyValue, None) => raw.push(tok),
        }
    }
    if raw.is_empty() {
        return Ok(vars);
    }
    let joined = join_args(&raw);
    if spec.free_form == FreeForm::RawParams {
        vars.insert("_raw_params".into(), Value::from(joined));
    } else if is_all_template(&joined) {
        vars.insert(VARIABLE_PARAMS.into(), Value::from(joined.trim()));
    } else {
        return Err(Error::invalid(
            format!(
                "'{}' is not a key=value argument for {}",
                raw[0].trim(),
                spec.name
            ),
            span,
        )
        .with_help("write arguments as key=value, or as a YAML mapping under the module name"));
    }
    Ok(vars)
}

/// Python's `unicode-escape` decoding of the escapes Ansible's `_decode_escapes` picks
/// out: `\\`, `\'`, `\"`, `\a \b \f \n \r \t \v`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`. (`\N{name}`
/// stays as written: drover has no Unicode name table.)
fn decode_escapes(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let esc = &rest[at + 1..];
        let simple = match esc.chars().next() {
            Some(c @ ('\\' | '\'' | '"')) => Some(c),
            Some('a') => Some('\x07'),
            Some('b') => Some('\x08'),
            Some('f') => Some('\x0c'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('v') => Some('\x0b'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            rest = &esc[1..];
            continue;
        }
        let digits = match esc.chars().next() {
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        let hex = esc.get(1..1 + digits).filter(|h| {
            digits > 0 && h.len() == digits && h.chars().all(|c| c.is_ascii_hexdigit())
        });
        match hex.and_then(|h| u32::from_str_radix(h, 16).ok().and_then(char::from_u32)) {
            Some(c) => {
                out.push(c);
                rest = &esc[1 + digits..];
            }
            None => {
                out.push('\\');
                rest = esc;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A word's key and value: split at its first `=` that is neither its first character
/// nor escaped with a backslash (Ansible's `parse_kv`).
fn key_value(tok: &str) -> Option<(&str, &str)> {
    let bytes = tok.as_bytes();
    let pos = (1..bytes.len()).find(|&i| bytes[i] == b'=' && bytes[i - 1] != b'\\')?;
    let key = tok[..pos].trim();
    (!key.is_empty()).then(|| (key, tok[pos + 1..].trim()))
}

fn unquote(v: &str) -> String {
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// Split on whitespace outside quotes and outside `{{ }}` / `{% %}`, keeping quotes.
/// Ansible's `split_args`: splits on single spaces, keeps quoted strings and Jinja blocks
/// together, and keeps the rest of the whitespace (runs of spaces, tabs, newlines) in the
/// tokens, so that [`join_args`] gives back a multi-line `shell` script as written.
fn split_args(text: &str) -> std::result::Result<Vec<String>, String> {
    fn quote_state(token: &str, mut quote: Option<char>) -> Option<char> {
        let chars: Vec<char> = token.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            if (c == '"' || c == '\'') && prev != Some('\\') {
                match quote {
                    Some(q) if q == c => quote = None,
                    Some(_) => {}
                    None => quote = Some(c),
                }
            }
        }
        quote
    }
    fn depth(token: &str, cur: i64, open: &str, close: &str) -> i64 {
        let (o, c) = (
            token.matches(open).count() as i64,
            token.matches(close).count() as i64,
        );
        if o != c {
            (cur + o - c).max(0)
        } else {
            cur
        }
    }
    let mut params: Vec<String> = Vec::new();
    if text.is_empty() {
        return Ok(params);
    }
    let items: Vec<&str> = text.split('\n').collect();
    let mut quote: Option<char> = None;
    let (mut print, mut block, mut comment) = (0i64, 0i64, 0i64);
    for (item_idx, item) in items.iter().enumerate() {
        let mut continuation = false;
        for (idx, token) in item.split(' ').enumerate() {
            if token.is_empty() && idx != 0 {
                if params.is_empty() {
                    params.push(String::new());
                }
                params.last_mut().unwrap().push(' ');
                continue;
            }
            if token == "\\" && quote.is_none() {
                continuation = true;
                continue;
            }
            let was_inside = quote.is_some();
            quote = quote_state(token, quote);
            let inside = quote.is_some();
            let mut appended = false;
            let nested = print > 0 || block > 0 || comment > 0;
            if inside && !was_inside && !nested {
                params.push(token.to_string());
                appended = true;
            } else if nested || inside || was_inside {
                let last = match params.last_mut() {
                    Some(l) => l,
                    None => {
                        params.push(String::new());
                        params.last_mut().unwrap()
                    }
                };
                if !(idx == 0 && was_inside) && idx > 0 {
                    last.push(' ');
                }
                last.push_str(token);
                appended = true;
            }
            for (open, close, d) in [
                ("{{", "}}", &mut print),
                ("{%", "%}", &mut block),
                ("{#", "#}", &mut comment),
            ] {
                let before = *d;
                *d = depth(token, *d, open, close);
                if *d != before && !appended {
                    params.push(token.to_string());
                    appended = true;
                }
            }
            if print == 0
                && block == 0
                && comment == 0
                && quote.is_none()
                && !appended
                && !token.is_empty()
            {
                params.push(token.to_string());
            }
        }
        if items.len() > 1 && item_idx != items.len() - 1 && !continuation {
            if params.is_empty() {
                params.push(String::new());
            }
            params.last_mut().unwrap().push('\n');
        }
    }
    if quote.is_some() {
        return Err(format!("unbalanced quotes in '{text}'"));
    }
    if print > 0 || block > 0 || comment > 0 {
        return Err(format!("unbalanced Jinja braces in '{text}'"));
    }
    Ok(params)
}

/// Ansible's `join_args`: tokens joined by a space, except after a newline.
fn join_args(tokens: &[String]) -> String {
    let mut out = String::new();
    for t in tokens {
        if !(out.is_empty() || out.ends_with('\n')) {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// A value against its argument's choices, if it has any.
fn check_choice(spec: &ModuleSpec, a: &ArgSpec, k: &str, v: &Value, span: &Span) -> Result<()> {
    if a.choices.is_empty() || v.is_none() {
        return Ok(());
    }
    let s = python_str(v);
    if a.choices.contains(&s.as_str()) {
        return Ok(());
    }
    Err(Error::invalid(
        format!(
            "argument '{k}' of {} must be one of {}, got '{s}'",
            spec.name,
            a.choices.join(", ")
        ),
        span,
    ))
}

/// The choices of templated arguments, once rendered (the rest was checked up front by
/// [`validate`]).
pub fn validate_rendered_choices(
    spec: &'static ModuleSpec,
    args: &Vars,
    span: &Span,
) -> Result<()> {
    for (k, v) in args {
        if let Some(a) = spec.canonical_arg(k) {
            check_choice(spec, a, k, v, span)?;
        }
    }
    Ok(())
}

/// Check arguments before any host is touched: names, required ones, literal types and
/// choices. Templated values' choices are checked at run time
/// ([`validate_rendered_choices`]).
pub fn validate(
    spec: &'static ModuleSpec,
    args: &Vars,
    span: &Span,
    key_spans: &[(String, Span)],
) -> Result<()> {
    let span_of = |k: &str| {
        key_spans
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| span.clone())
    };
    let mut present: Vec<&'static str> = Vec::new();
    for (k, v) in args {
        if k == "_raw_params" {
            if spec.free_form != FreeForm::RawParams {
                return Err(Error::invalid(
                    format!("{} does not take free-form text", spec.name),
                    span,
                ));
            }
            // Free-form text counts as given for the spec's groups (script's `cmd`
            // and free-form text are mutually exclusive).
            present.push("_raw_params");
            continue;
        }
        if k == VARIABLE_PARAMS {
            continue;
        }
        if spec.any_keys {
            // set_fact alone templates its variables' names (when the task runs).
            if !(spec.name == "set_fact" && needs_templating(&Value::from(k.as_str()))) {
                crate::vars::file::check_var_name(k, &span_of(k))?;
            }
            continue;
        }
        let Some(a) = spec.canonical_arg(k) else {
            return Err(unknown_arg(spec, k, Some(&span_of(k))));
        };
        present.push(a.name);
        if needs_templating(v) || v.is_none() {
            continue;
        }
        let type_ok = match a.ty {
            ArgType::Str => matches!(
                v.kind(),
                ValueKind::String | ValueKind::Number | ValueKind::Bool
            ),
            ArgType::Bool => to_bool(v).is_some(),
            ArgType::Int => to_int(v).is_some(),
            ArgType::Float => {
                to_int(v).is_some()
                    || f64::try_from(v.clone()).is_ok()
                    || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok())
            }
            ArgType::Mode => parse_mode(v).is_ok(),
            ArgType::List => true,
            ArgType::Dict => v.kind() == ValueKind::Map,
            ArgType::Any => true,
        };
        if !type_ok {
            let detail = if a.ty == ArgType::Mode {
                parse_mode(v).err().unwrap_or_default()
            } else {
                String::new()
            };
            return Err(Error::invalid(
                format!(
                    "argument '{k}' of {} must be {}, got {} '{}'{}",
                    spec.name,
                    a.ty.describe(),
                    v.kind(),
                    v,
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({detail})")
                    }
                ),
                &span_of(k),
            ));
        }
        check_choice(spec, a, k, v, &span_of(k))?;
    }
    if args.contains_key(VARIABLE_PARAMS) {
        // What the template gives is checked when the task runs.
        return Ok(());
    }
    let has_raw = args.contains_key("_raw_params");
    // Ansible's own words (a playbook may test them, `ignore_errors` then `msg ==`), with
    // drover's help on what to do.
    let help = format!("see the arguments of {} in the README", spec.name);
    let mut missing: Vec<&str> = spec
        .args
        .iter()
        .filter(|a| a.required)
        .filter(|a| {
            !(present.contains(&a.name) || has_raw && matches!(a.name, "cmd" | "_raw_params"))
        })
        .map(|a| a.name)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        let own = match missing.as_slice() {
            [only] => spec.message(Check::Missing(only)),
            _ => None,
        };
        let msg = own
            .map(str::to_string)
            .unwrap_or_else(|| format!("missing required arguments: {}", missing.join(", ")));
        return Err(Error::invalid(msg, span).with_help(help));
    }
    for group in spec.required_one_of {
        let any = group
            .iter()
            .any(|g| present.contains(g) || (has_raw && matches!(*g, "cmd" | "argv")));
        if !any {
            let msg = spec
                .message(Check::NoneOf)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("one of the following is required: {}", group.join(", "))
                });
            return Err(Error::invalid(msg, span).with_help(help));
        }
    }
    for group in spec.mutually_exclusive {
        let given: Vec<&str> = group
            .iter()
            .copied()
            .filter(|g| present.contains(g))
            .collect();
        if given.len() > 1 {
            // Ansible names the whole group, as declared.
            let msg = spec
                .message(Check::Exclusive)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!("parameters are mutually exclusive: {}", group.join("|"))
                });
            return Err(Error::invalid(msg, span).with_help(help));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_splits_at_the_first_unescaped_equals_sign_as_parse_kv() {
        assert_eq!(key_value("{{ item }}=moo"), Some(("{{ item }}", "moo")));
        assert_eq!(key_value("msg=a=b"), Some(("msg", "a=b")));
        assert_eq!(key_value("a\\=b=c"), Some(("a\\=b", "c")));
        assert_eq!(key_value("=x"), None);
        assert_eq!(key_value("{{ item }}"), None);
    }

    #[test]
    fn a_whole_template_is_all_the_arguments() {
        assert!(is_all_template("{{ item }}"));
        assert!(is_all_template(" {{ a | b }} "));
        assert!(!is_all_template("{{ a }} {{ b }}"));
        assert!(!is_all_template("x {{ a }}"));
    }

    #[test]
    fn splits_free_form_respecting_quotes_and_jinja() {
        assert_eq!(
            split_args("a=1 b='x y' c={{ foo | default('a b') }}").unwrap(),
            ["a=1", "b='x y'", "c={{ foo | default('a b') }}"]
        );
        assert!(split_args("a='x").is_err());
        // Whitespace is kept as Ansible keeps it: a multi-line shell script survives.
        let script = "n=$(cat f || echo 0)\nn=$((n+1))  # two spaces\necho $n\n";
        assert_eq!(join_args(&split_args(script).unwrap()), script);
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode(&Value::from(420)).unwrap(), "0644");
        assert_eq!(parse_mode(&Value::from("0755")).unwrap(), "0755");
        assert_eq!(parse_mode(&Value::from("644")).unwrap(), "0644");
        assert_eq!(
            parse_mode(&Value::from("u=rw,g=r,o=r")).unwrap(),
            "u=rw,g=r,o=r"
        );
        assert!(parse_mode(&Value::from("rwxr")).is_err());
        assert!(parse_mode(&Value::from("0999")).is_err());
    }

    #[test]
    fn booleans_like_ansible() {
        for t in ["yes", "on", "true", "True", "1"] {
            assert_eq!(to_bool(&Value::from(t)), Some(true));
        }
        assert_eq!(to_bool(&Value::from("maybe")), None);
        assert_eq!(to_bool(&Value::from(0)), Some(false));
    }
}
