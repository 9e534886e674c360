//! The task keywords `async` and `poll`: their values, and which modules take them.
//!
//! Ansible (`playbook/task.py`) reads both as integers on the task only (blocks and plays
//! do not pass them down). `async: N > 0` runs the task under a limit of N seconds;
//! `poll: P > 0` (default 15) waits for it, `poll: 0` leaves it running in the background
//! and returns its job id at once. Values are checked here when written literally, and
//! again when a templated one renders (`exec::async_job`).

use crate::diagnostics::{Error, Result, Span};
use minijinja::Value;

/// Ansible's `DEFAULT_POLL_INTERVAL`.
pub const DEFAULT_POLL: u64 = 15;

/// The modules whose Ansible action refuses `async` ("This action (copy) does not support
/// async."): their action plugins never set `_supports_async`.
pub const NO_ASYNC: &[&str] = &[
    "copy",
    "template",
    "fetch",
    "unarchive",
    "raw",
    "script",
    "debug",
    "assert",
    "fail",
    "set_fact",
    "include_vars",
    "add_host",
    "group_by",
    "pause",
    "wait_for_connection",
    "meta",
];

/// `async:` / `poll:` as written on a task (templates are rendered when it runs).
#[derive(Clone, Debug)]
pub struct AsyncKw {
    /// `async:` seconds.
    pub limit: Value,
    /// `poll:` seconds (`None`: Ansible's default, 15).
    pub poll: Option<Value>,
    /// Where `async:` is written.
    pub span: Span,
}

/// A keyword's value as a whole number of seconds, 0 or more: Ansible's `isa='int'` (a
/// numeric string is taken), with drover's refusal of negative and fractional values.
pub fn seconds(key: &str, v: &Value, span: &Span) -> Result<u64> {
    let n = i64::try_from(v.clone())
        .ok()
        .filter(|_| !matches!(v.kind(), minijinja::value::ValueKind::Bool))
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<i64>().ok()));
    match n {
        Some(n) if n >= 0 => Ok(n as u64),
        Some(n) => Err(
            Error::invalid(format!("'{key}' must be 0 or more seconds, got {n}"), span).with_help(
                format!(
            "give {key} a whole number of seconds (async: 600 runs the task for up to 10 minutes)"
        ),
            ),
        ),
        None => Err(Error::invalid(
            format!(
                "'{key}' must be a whole number of seconds, got '{}'",
                crate::template::ansible::filters::py_str(v)
            ),
            span,
        )
        .with_help(format!("write {key} as an integer, e.g. {key}: 30"))),
    }
}

/// Whether a value is still a template (checked when the task runs).
pub fn is_template(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.contains("{{") || s.contains("{%"))
}

/// Can `module` run under `async` at all, as Ansible's action for it allows?
pub fn check_module(module: &str, span: &Span) -> Result<()> {
    if NO_ASYNC.contains(&module) {
        return Err(Error::invalid(
            format!("This action ({module}) does not support async."),
            span,
        )
        .with_help(
            "Ansible's action for this module refuses async: remove async/poll from the task",
        ));
    }
    Ok(())
}

/// `poll: 0` (fire and forget) needs a module drover can leave running on the host.
pub fn check_background(module: &str, backgrounds: bool, span: &Span) -> Result<()> {
    if backgrounds {
        return Ok(());
    }
    let can: Vec<&str> = crate::modules::registry()
        .iter()
        .filter(|m| m.can_background())
        .map(|m| m.spec().name)
        .collect();
    Err(Error::invalid(
        format!("'poll: 0' (run in the background) is not supported by drover for the module '{module}'"),
        span,
    )
    .with_help(format!(
        "drover leaves only {} running in the background; give poll a number of seconds to wait for the task instead",
        can.join(" and ")
    )))
}

/// Check the literal values of a task's `async`/`poll` for `module`.
pub fn check_literal(kw: &AsyncKw, module: &'static dyn crate::modules::Module) -> Result<()> {
    let name = module.spec().name;
    let limit = if is_template(&kw.limit) {
        None
    } else {
        Some(seconds("async", &kw.limit, &kw.span)?)
    };
    let poll = match &kw.poll {
        Some(p) if !is_template(p) => Some(seconds("poll", p, &kw.span)?),
        _ => None,
    };
    if limit == Some(0) {
        return Ok(());
    }
    check_module(name, &kw.span)?;
    if poll == Some(0) {
        check_background(name, module.can_background(), &kw.span)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> Span {
        Span::file(std::path::Path::new("site.yml"))
    }

    #[test]
    fn seconds_take_integers_and_numeric_strings() {
        let s = sp();
        assert_eq!(seconds("async", &Value::from(10), &s).unwrap(), 10);
        assert_eq!(seconds("async", &Value::from(" 45 "), &s).unwrap(), 45);
        assert_eq!(seconds("poll", &Value::from(0), &s).unwrap(), 0);
    }

    #[test]
    fn seconds_refuse_negative_fractional_and_text() {
        let s = sp();
        let e = seconds("async", &Value::from(-1), &s).unwrap_err();
        assert!(e.message.contains("0 or more"), "{}", e.message);
        assert!(seconds("poll", &Value::from(1.5), &s).is_err());
        assert!(seconds("poll", &Value::from("soon"), &s).is_err());
        assert!(seconds("poll", &Value::from(true), &s).is_err());
    }

    #[test]
    fn copy_refuses_async_as_ansible() {
        let e = check_module("copy", &sp()).unwrap_err();
        assert_eq!(e.message, "This action (copy) does not support async.");
        assert!(check_module("command", &sp()).is_ok());
    }

    /// Load a one-task play.
    fn load(task: &str) -> crate::diagnostics::Result<crate::playbook::Playbook> {
        let text = format!("- hosts: all\n  tasks:\n{task}");
        crate::playbook::load_playbook_str(&text, std::path::Path::new("site.yml"), &[])
    }

    fn first_task(pb: &crate::playbook::Playbook) -> std::sync::Arc<crate::playbook::Task> {
        match &pb.plays[0].tasks[0] {
            crate::playbook::Item::Task(t) => t.clone(),
            other => panic!("not a task: {other:?}"),
        }
    }

    #[test]
    fn literal_values_are_checked_at_load_with_their_place() {
        let e = load("    - command: sleep 1\n      async: -5\n").unwrap_err();
        assert!(e.message.contains("0 or more"), "{}", e.message);
        assert_eq!(e.span.as_ref().map(|s| s.line), Some(4));
        let e = load("    - command: sleep 1\n      async: 10\n      poll: soon\n").unwrap_err();
        assert!(e.message.contains("whole number"), "{}", e.message);
        let ok = load("    - command: sleep 1\n      async: \"{{ t }}\"\n      poll: 0\n").unwrap();
        assert!(first_task(&ok).async_.is_some());
    }

    #[test]
    fn poll_zero_needs_a_module_that_backgrounds() {
        let e =
            load("    - file: path=/x state=touch\n      async: 10\n      poll: 0\n").unwrap_err();
        assert!(e.message.contains("'poll: 0'"), "{}", e.message);
        assert!(e
            .help
            .as_deref()
            .unwrap_or("")
            .contains("command and shell"));
        // Polled, the same module is fine; async 0 is no async at all.
        assert!(load("    - file: path=/x state=touch\n      async: 10\n      poll: 2\n").is_ok());
        assert!(load("    - copy: dest=/x content=y\n      async: 0\n").is_ok());
    }

    #[test]
    fn a_guarded_task_drover_refuses_fails_only_when_reached() {
        let pb = load(
            "    - file: path=/x state=touch\n      async: 10\n      poll: 0\n      when: false\n",
        )
        .unwrap();
        let t = first_task(&pb);
        assert!(t.unsupported.is_some());
        assert!(t.async_.is_none(), "the stand-in carries no async");
    }

    #[test]
    fn async_is_not_a_block_keyword() {
        let e = load("    - block:\n        - debug: msg=x\n      async: 10\n").unwrap_err();
        assert!(
            e.message.contains("not a valid keyword for a block"),
            "{}",
            e.message
        );
    }
}
