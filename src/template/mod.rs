//! Templating: minijinja configured as Ansible configures Jinja2 (strict undefined,
//! `trim_blocks`, trailing newlines kept), with Ansible's filters, tests and lookups.
//!
//! A string that is exactly one `{{ expression }}` keeps its native type (a list stays a
//! list, `{{ 1 + 1 }}` is 2), as ansible-core 2.19+ does; anything else renders to text.

mod lookups;
pub mod scope;
pub mod text_options;
pub(crate) use lookups::{LOOKUPS, WITH_ACTION_VAR};

use crate::diagnostics::{Error, Result};
use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
pub use scope::{as_data, as_registered, Scope};
use std::sync::Arc;
pub use text_options::TextOptions;

/// Build the shared template environment.
pub fn environment() -> Arc<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_recursion_limit(200);
    // Ansible never auto-escapes; minijinja's default would by file name (`*.json.j2`
    // JSON-quotes every string, `*.html.j2` HTML-escapes).
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // Values print as Python's str() shows them (`['a', 'b']`, `{'k': True}`), and None
    // as nothing, as ansible-core 2.19 renders them inside text.
    env.set_formatter(|out, state, value| {
        EMITTED.with(|e| {
            if let Some((n, last)) = e.borrow_mut().as_mut() {
                *n += 1;
                *last = value.clone();
            }
        });
        format_value(out, state, value)
    });
    crate::template::ansible::register(&mut env);
    lookups::register(&mut env);
    Arc::new(env)
}

thread_local! {
    /// While a playbook string renders: how many `{{ }}` it printed, and the last value.
    static EMITTED: std::cell::RefCell<Option<(usize, Value)>> = const { std::cell::RefCell::new(None) };
}

fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    crate::vault::undecryptable::ensure_none_in(value)?;
    match value.kind() {
        ValueKind::None => Ok(()),
        ValueKind::Seq
        | ValueKind::Iterable
        | ValueKind::Map
        | ValueKind::Bool
        | ValueKind::Number => out
            .write_str(&crate::template::ansible::pycompat::py_str(value))
            .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "write failed")),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Does a playbook string hold a template (an expression or a statement)?
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// If `s` is a single `{{ expr }}` and nothing else, the expression.
fn single_expression(s: &str) -> Option<&str> {
    // Surrounding text, even whitespace, makes it a string template.
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim_start_matches('-').trim_end_matches('-'))
}

/// Template a value: strings are rendered, lists and mappings recursively.
pub fn render_value(env: &Environment<'static>, v: &Value, ctx: &Value) -> Result<Value> {
    if v.is_safe() {
        // Data (see `vars::as_data`) is never templated again.
        return Ok(v.clone());
    }
    if let Some(s) = v.as_str() {
        return render_str(env, s, ctx);
    }
    match v.kind() {
        ValueKind::Seq => {
            let mut out = Vec::new();
            for item in v.try_iter().map_err(|e| Error::template(e.to_string()))? {
                out.push(render_value(env, &item, ctx)?);
            }
            Ok(Value::from(out))
        }
        ValueKind::Map => {
            let mut out = indexmap::IndexMap::new();
            for key in v.try_iter().map_err(|e| Error::template(e.to_string()))? {
                let item = v.get_item(&key).unwrap_or_default();
                let k = render_value(env, &key, ctx)?;
                out.insert(k, render_value(env, &item, ctx)?);
            }
            Ok(Value::from_iter(out))
        }
        _ => Ok(v.clone()),
    }
}

/// Render one string; see the module docs for when the result keeps its native type.
pub fn render_str(env: &Environment<'static>, s: &str, ctx: &Value) -> Result<Value> {
    if !(s.contains("{{") || s.contains("{%") || s.contains("{#")) {
        return Ok(Value::from(s));
    }
    let escaped = ansible::tags::escape_backslashes(s);
    let rewritten = ansible::percent::rewrite_template(escaped.as_ref());
    render_rewritten(env, rewritten.as_ref(), ctx)
}

/// [`render_str`] of a string whose source rewrites are done.
fn render_rewritten(env: &Environment<'static>, s: &str, ctx: &Value) -> Result<Value> {
    // Jinja2 drops one trailing newline of the template; ansible-core puts it back on a
    // text result, so `"{{ port }}\n"` is the integer, and `"{{ name }}\n"` the text and
    // its newline.
    if let Some(expr) = s.strip_suffix('\n').and_then(single_expression) {
        let v = render_rewritten(env, &s[..s.len() - 1], ctx)?;
        let _ = expr;
        return Ok(match v.as_str() {
            Some(text) => Value::from(format!("{text}\n")),
            None => v,
        });
    }
    if let Some(expr) = single_expression(s) {
        let compiled = env
            .compile_expression(expr)
            .map_err(|e| template_error(env, &e, s, ctx, None))?;
        let value = compiled.eval(ctx).map_err(|e| {
            template_error(env, &e, s, ctx, Some(&compiled.undeclared_variables(true)))
        })?;
        return defined(env, value, s, ctx, &compiled.undeclared_variables(true));
    }
    let tmpl = env
        .template_from_str(s)
        .map_err(|e| template_error(env, &e, s, ctx, None))?;
    let outer = EMITTED.with(|e| e.replace(Some((0, Value::UNDEFINED))));
    let text = tmpl.render(ctx);
    let emitted = EMITTED.with(|e| e.replace(outer));
    let text =
        text.map_err(|e| template_error(env, &e, s, ctx, Some(&tmpl.undeclared_variables(true))))?;
    // As ansible-core: when the output is one printed value and nothing else
    // (`{% set ns = … %}{{ ns.n }}`), the value keeps its type.
    if let Some((1, value)) = emitted {
        if !matches!(
            value.kind(),
            ValueKind::String | ValueKind::Undefined | ValueKind::None
        ) && crate::template::ansible::pycompat::py_str(&value) == text
        {
            return Ok(value);
        }
    }
    Ok(Value::from(text))
}

/// An expression that evaluated to undefined is an error, as printing it would be (strict
/// undefined only fails when an undefined value is used, and returning it is no use).
fn defined(
    env: &Environment<'static>,
    value: Value,
    source: &str,
    ctx: &Value,
    names: &std::collections::HashSet<String>,
) -> Result<Value> {
    if value.kind() == ValueKind::Iterable {
        // A lazy sequence (`a + b` of lists, `range`) is a list once it is a value.
        return Ok(Value::from(
            value
                .try_iter()
                .map(|i| i.collect::<Vec<_>>())
                .unwrap_or_default(),
        ));
    }
    if !value.is_undefined() {
        return Ok(value);
    }
    let err = minijinja::Error::new(ErrorKind::UndefinedError, "undefined value");
    Err(template_error(env, &err, source, ctx, Some(names)))
}

/// A template file's options (the caller's, then its own `#jinja2:` header's) and its
/// text after the header.
pub fn file_options<'t>(
    name: &str,
    text: &'t str,
    opts: &TextOptions,
) -> Result<(TextOptions, &'t str)> {
    Ok(match text.strip_prefix(text_options::HEADER) {
        Some(rest) => {
            let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (opts.overlaid(&TextOptions::parse_header(line, name)?), body)
        }
        None => (opts.clone(), text),
    })
}

/// Render a whole template file's text to a string (the template module and lookups),
/// with the caller's options (see [`TextOptions`]).
pub fn render_text(
    env: &Environment<'_>,
    name: &str,
    text: &str,
    ctx: &Value,
    opts: &TextOptions,
) -> Result<String> {
    Ok(render_text_or_none(env, name, text, ctx, opts)?.unwrap_or_default())
}

/// [`render_text`], `None` when the template renders nothing at all (a comment, an
/// empty `if`), trailing newlines aside: Ansible's template lookup then gives None.
pub fn render_text_or_none(
    env: &Environment<'_>,
    name: &str,
    text: &str,
    ctx: &Value,
    opts: &TextOptions,
) -> Result<Option<String>> {
    // A first line `#jinja2: lstrip_blocks: True, trim_blocks: False` overrides the
    // caller's options for this template, as Ansible's template module does.
    // As Ansible's template engine: Jinja2 drops the template's last newline (and each
    // included template's), the trailing newlines are put back below; `{% include %}`
    // and `{% import %}` find templates beside this one.
    let mut e = env.clone();
    e.set_keep_trailing_newline(false);
    if let Some(dir) = std::path::Path::new(name).parent() {
        let dir = dir.to_path_buf();
        e.set_loader(move |n| {
            let p = dir.join(n);
            match std::fs::read_to_string(&p) {
                Ok(t) => Ok(Some(t)),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot read {}: {err}", p.display()),
                )),
            }
        });
    }
    let (opts, text) = file_options(name, text, opts)?;
    opts.apply(&mut e, name)?;
    let env = &e;
    // The `%` rewrite reads `{{ }}`; with other delimiters the text is left as written.
    let text = if opts.custom_syntax() {
        std::borrow::Cow::Borrowed(text)
    } else {
        ansible::percent::rewrite_template(text)
    };
    let text = text.as_ref();
    let tmpl = env
        .template_from_named_str(name, text)
        .map_err(|e| template_error(env, &e, text, ctx, None))?;
    let mut out = tmpl
        .render(ctx)
        .map_err(|e| template_error(env, &e, text, ctx, Some(&tmpl.undeclared_variables(true))))?;
    // Ansible keeps as many trailing newlines as the template has, even when a block tag
    // at the end (with trim_blocks) took one.
    if out.is_empty() {
        return Ok(None);
    }
    let want = text.len() - text.trim_end_matches('\n').len();
    let have = out.len() - out.trim_end_matches('\n').len();
    for _ in have..want {
        out.push('\n');
    }
    Ok(Some(out))
}

/// Evaluate a condition (`when`, `failed_when` …). A literal boolean is itself; a string
/// is a Jinja expression (surrounding `{{ }}` tolerated). The result must be a boolean,
/// as ansible-core 2.19+ requires.
pub fn eval_condition(env: &Environment<'static>, cond: &Value, ctx: &Value) -> Result<bool> {
    if let Some(b) = as_bool(cond) {
        return Ok(b);
    }
    let Some(text) = cond.as_str() else {
        return Err(Error::template(format!(
            "a condition must be a string or a boolean, found {}",
            cond.kind()
        )));
    };
    let expr = single_expression(text.trim()).unwrap_or(text).trim();
    let value = if expr.contains("{{") || expr.contains("{%") {
        render_str(env, expr, ctx)?
    } else {
        let rewritten = ansible::percent::rewrite_expression(expr);
        let expr = rewritten.as_ref();
        let compiled = env
            .compile_expression(expr)
            .map_err(|e| template_error(env, &e, expr, ctx, None))?;
        let v = compiled.eval(ctx).map_err(|e| {
            template_error(
                env,
                &e,
                expr,
                ctx,
                Some(&compiled.undeclared_variables(true)),
            )
        })?;
        defined(env, v, expr, ctx, &compiled.undeclared_variables(true))?
    };
    match as_bool(&value) {
        Some(b) => Ok(b),
        None if value
            .as_str()
            .is_some_and(|s| matches!(s, "True" | "False" | "true" | "false")) =>
        {
            Ok(matches!(value.as_str(), Some("True" | "true")))
        }
        None => Err(Error::template(format!(
            "conditional '{expr}' gave {} ({}), not a boolean",
            short(&value),
            value.kind()
        ))
        .with_help("compare explicitly (`x | length > 0`) or convert with `| bool`")),
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    if v.kind() == ValueKind::Bool {
        return Some(v.is_true());
    }
    None
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Turn a minijinja error into a drover error that names the undefined variable, when
/// that is what went wrong.
fn template_error(
    env: &Environment<'_>,
    e: &minijinja::Error,
    source: &str,
    ctx: &Value,
    undeclared: Option<&std::collections::HashSet<String>>,
) -> Error {
    let scope_err = ctx
        .downcast_object_ref::<Scope>()
        .and_then(|s| s.take_error());
    if let Some(msg) = scope_err {
        return Error::template(msg);
    }
    let line = e
        .line()
        .map(|l| format!(" (line {l} of the template)"))
        .unwrap_or_default();
    let snippet = if source.len() > 120 {
        format!(
            "{}…",
            &source[..source
                .char_indices()
                .nth(117)
                .map(|(i, _)| i)
                .unwrap_or(source.len())]
        )
    } else {
        source.to_string()
    };
    match e.kind() {
        ErrorKind::UndefinedError => {
            // A function or filter that says what was undefined (`lookup('vars', …)`)
            // is believed; otherwise the first name the context cannot resolve (not a
            // global function such as `lookup`, which the context does not hold).
            let told = e.detail().filter(|d| *d != "undefined value");
            let name = undeclared.and_then(|u| first_undefined(env, u, ctx));
            let what = match (told, name) {
                (Some(d), _) => d.to_string(),
                (None, Some(n)) => n,
                (None, None) => "undefined variable or attribute".to_string(),
            };
            Error::template(format!("{what} in '{snippet}'{line}")).with_help(
                "define it (vars, group_vars, -e) or guard it with `| default(...)` / `is defined`",
            )
        }
        ErrorKind::SyntaxError => Error::template(format!(
            "template syntax error in '{snippet}'{line}: {}",
            e.detail().unwrap_or("invalid syntax")
        )),
        _ => {
            let detail = e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.kind().to_string());
            // Ansible's wording first (playbooks match it), then where.
            Error::template(format!(
                "Error rendering template: {detail} (in '{snippet}'{line})"
            ))
        }
    }
}

/// What is undefined of the first name (or dotted path) in `names` that the context
/// cannot resolve.
fn first_undefined(
    env: &Environment<'_>,
    names: &std::collections::HashSet<String>,
    ctx: &Value,
) -> Option<String> {
    let mut sorted: Vec<&String> = names
        .iter()
        .filter(|n| {
            let root = n.split('.').next().unwrap_or(n);
            env.globals().all(|(g, _)| g != root)
        })
        .collect();
    sorted.sort();
    for path in sorted {
        let mut cur = ctx.clone();
        let mut walked = Vec::new();
        for part in path.split('.') {
            walked.push(part);
            match cur.get_attr(part) {
                Ok(v) if !v.is_undefined() => cur = v,
                // A key missing from a dict gets Ansible's wording too (playbooks match
                // `no attribute 'x'` in registered messages).
                _ if walked.len() > 1 && cur.kind() == minijinja::value::ValueKind::Map => {
                    return Some(format!(
                        "'{}' is undefined: object of type 'dict' has no attribute '{part}'",
                        walked.join(".")
                    ))
                }
                _ => return Some(format!("'{}' is undefined", walked.join("."))),
            }
        }
    }
    None
}

pub mod ansible;

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(s: &str) -> String {
        let env = environment();
        let ctx = Value::from_iter([("x", Value::from(1))]);
        render_str(&env, s, &ctx).unwrap_err().message.clone()
    }

    #[test]
    fn a_key_missing_from_a_dict_is_named_as_ansible_does() {
        let env = environment();
        let ctx = Value::from_iter([("r", Value::from_iter([("rc", Value::from(0))]))]);
        let m = render_str(&env, "{{ r.stdout }}", &ctx)
            .unwrap_err()
            .message
            .clone();
        assert!(
            m.starts_with(
                "'r.stdout' is undefined: object of type 'dict' has no attribute 'stdout'"
            ),
            "{m}"
        );
    }

    #[test]
    fn an_undefined_error_from_a_lookup_keeps_its_own_message() {
        let m = err_of("{{ lookup('vars', 'nope') }}");
        assert!(m.starts_with("No variable named 'nope' was found"), "{m}");
    }

    #[test]
    fn a_global_function_is_never_named_as_the_undefined_variable() {
        let m = err_of("{{ query('vars', 'x') if zz.a else 1 }}");
        assert!(m.starts_with("'zz' is undefined"), "{m}");
    }

    /// Issue #19: an undefined value piped into a builtin filter is reported as undefined,
    /// not as the filter's type error ("cannot convert value to list").
    #[test]
    fn an_undefined_input_to_any_filter_names_the_variable() {
        for f in [
            "length", "first", "list", "sort", "abs", "split", "dictsort", "to_json",
        ] {
            let m = err_of(&format!("{{{{ zz.a | {f} }}}}"));
            assert!(m.starts_with("'zz' is undefined"), "{f}: {m}");
        }
        // default and mandatory are made to receive one.
        let env = environment();
        let ctx = Value::from(());
        assert_eq!(
            render_str(&env, "{{ zz | default(3) }}", &ctx)
                .unwrap()
                .to_string(),
            "3"
        );
        assert!(err_of("{{ zz | mandatory('say so') }}").contains("say so"));
    }

    #[test]
    fn query_and_q_return_lists() {
        let env = environment();
        let ctx = Value::from_iter([("x", Value::from(1))]);
        for s in ["{{ query('vars', 'x') }}", "{{ q('vars', 'x') }}"] {
            let v = render_str(&env, s, &ctx).unwrap();
            assert_eq!(v.to_string(), "[1]", "{s}");
        }
    }
}
