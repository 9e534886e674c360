//! async_status: the state of a job left running with `poll: 0`, read from its status
//! file on the host (`modules::background` writes it) with `sh` and parsed here, as
//! Ansible's async_status action and module report it; `mode: cleanup` removes the file.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{background, Args, Change, Evaluator, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct AsyncStatus;

static ASYNC_STATUS: ModuleSpec = ModuleSpec {
    name: "async_status",
    aliases: &[],
    args: &[
        arg("jid", Str).required(),
        arg("mode", Str).choices(&["status", "cleanup"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Ansible's async directory for a task: the `ansible_async_dir` variable, else the
/// controller's `ANSIBLE_ASYNC_DIR`, else `~/.ansible_async` (the shell plugin's
/// `async_dir` option; the task's own `environment:` does not set it, as in Ansible,
/// whose action puts its own `ANSIBLE_ASYNC_DIR` after the task's).
pub fn async_dir(eval: &dyn Evaluator) -> Result<String> {
    if eval
        .eval_expr("ansible_async_dir is defined")
        .is_ok_and(|v| v.is_true())
    {
        let v = eval.eval_expr("ansible_async_dir")?;
        return Ok(crate::template::ansible::filters::py_str(&v));
    }
    Ok(std::env::var("ANSIBLE_ASYNC_DIR").unwrap_or_else(|_| "~/.ansible_async".into()))
}

/// What a job's status file holds.
#[derive(Debug, PartialEq)]
pub enum JobFile {
    /// There is no such file.
    Missing,
    /// Its content: JSON, or not yet (empty, half-written).
    Content(String),
}

/// async_status's result for a job (Ansible's action merged with its module's output);
/// `Err` carries the failed result ("could not find job").
pub fn status_result(
    jid: &str,
    results_file: &str,
    file: &JobFile,
) -> std::result::Result<Vars, Vars> {
    let mut r = base(jid);
    r.insert("results_file".into(), Value::from(results_file));
    r.insert("started".into(), Value::from(true));
    let text = match file {
        JobFile::Missing => return Err(not_found(r, jid)),
        JobFile::Content(t) => t,
    };
    // As Ansible's module: what does not parse (yet) is a job still running.
    let data = match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => {
            r.insert("finished".into(), Value::from(false));
            return Ok(r);
        }
    };
    let has_started = data.contains_key("started");
    let has_finished = data.contains_key("finished");
    let has_lines = |k: &str| data.contains_key(k);
    let (stdout_lines, stderr_lines) = (has_lines("stdout_lines"), has_lines("stderr_lines"));
    for (k, v) in data {
        r.insert(k, Value::from_serialize(&v));
    }
    if !has_started {
        r.insert("finished".into(), Value::from(true));
        r.insert("ansible_job_id".into(), Value::from(jid));
    } else if !has_finished {
        r.insert("finished".into(), Value::from(false));
    }
    // The controller splits a module's output into lines when the module did not.
    for (key, lines, given) in [
        ("stdout", "stdout_lines", stdout_lines),
        ("stderr", "stderr_lines", stderr_lines),
    ] {
        if !given {
            if let Some(s) = r.get(key) {
                let text = s.as_str().map(str::to_string).unwrap_or_default();
                r.insert(
                    lines.into(),
                    Value::from(crate::template::ansible::pycompat::splitlines(&text, false)),
                );
            }
        }
    }
    // Ansible's action turns both into booleans (`finished: 1` from older wrappers).
    for k in ["started", "finished"] {
        let b = r.get(k).is_some_and(|v| v.is_true());
        r.insert(k.into(), Value::from(b));
    }
    Ok(r)
}

/// The keys Ansible's action starts every result with.
fn base(jid: &str) -> Vars {
    let empty = || Value::from(Vec::<Value>::new());
    super::result(&[
        ("started", Value::from(false)),
        ("finished", Value::from(false)),
        ("stdout", Value::from("")),
        ("stderr", Value::from("")),
        ("stdout_lines", empty()),
        ("stderr_lines", empty()),
        ("ansible_job_id", Value::from(jid)),
    ])
}

/// Ansible's failure for a job id whose file is not there.
fn not_found(mut r: Vars, jid: &str) -> Vars {
    r.insert("msg".into(), Value::from("could not find job"));
    r.insert("ansible_job_id".into(), Value::from(jid));
    r.insert("started".into(), Value::from(true));
    r.insert("finished".into(), Value::from(true));
    r
}

/// Read the status file `DIR/JID`: `found` or `missing`, the path, then the content.
fn read(ctx: &mut ModuleCtx<'_>, dir: &str, jid: &str) -> Result<(String, JobFile)> {
    let script = format!(
        "d={}\nf=$d/{}\nif [ -e \"$f\" ]; then echo found; else echo missing; fi\nprintf '%s\\n' \"$f\"\n[ -e \"$f\" ] && cat -- \"$f\"\nexit 0",
        background::dir_word(dir),
        quote(jid)
    );
    let out = ctx.sh(&script, None)?;
    let text = out.stdout_str();
    let (state, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let (path, content) = rest.split_once('\n').unwrap_or((rest, ""));
    match state {
        "found" => Ok((path.to_string(), JobFile::Content(content.to_string()))),
        "missing" => Ok((path.to_string(), JobFile::Missing)),
        _ => Err(Error::module(format!(
            "could not read the async status file: {}",
            out.stderr_str().trim()
        ))),
    }
}

impl Module for AsyncStatus {
    fn spec(&self) -> &'static ModuleSpec {
        &ASYNC_STATUS
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let jid = args.req_str("jid")?;
        let cleanup = args.str("mode")?.as_deref() == Some("cleanup");
        let dir = async_dir(ctx.eval)?;
        let (path, file) = read(ctx, &dir, &jid)?;
        if cleanup {
            let mut r = base(&jid);
            r.insert("erased".into(), Value::from(path.as_str()));
            if file == JobFile::Missing {
                let mut p = Plan::no_change(not_found(r, &jid));
                p.failed = true;
                return Ok(p);
            }
            // Removing the file is not reported as a change, as in Ansible.
            let script = format!("rm -f -- {}", quote(&path));
            return Ok(Plan::change(Change::Remove, r, super::run_named(script)).silently());
        }
        match status_result(&jid, &path, &file) {
            Err(r) => {
                let mut p = Plan::no_change(r);
                p.failed = true;
                Ok(p)
            }
            // The job's own `changed` is the task's (a finished command is a change).
            Ok(mut r) if r.get("changed").is_some_and(|v| v.is_true()) => {
                r.shift_remove("changed");
                Ok(Plan::change(
                    Change::Run,
                    r,
                    Box::new(|_: &mut ModuleCtx<'_>| Ok(Vars::new())),
                ))
            }
            Ok(mut r) => {
                r.shift_remove("changed");
                // A job that skipped itself (a command in check mode) skips this task.
                let skipped = r.get("skipped").is_some_and(|v| v.is_true());
                let mut p = Plan::no_change(r);
                p.skipped = skipped;
                Ok(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(r: &'a Vars, k: &str) -> &'a Value {
        r.get(k).unwrap_or_else(|| panic!("no {k} in {r:?}"))
    }

    #[test]
    fn a_missing_file_is_ansibles_could_not_find_job() {
        let r = status_result("j1.2", "/root/.ansible_async/j1.2", &JobFile::Missing).unwrap_err();
        assert_eq!(get(&r, "msg").as_str(), Some("could not find job"));
        assert!(get(&r, "finished").is_true() && get(&r, "started").is_true());
    }

    #[test]
    fn the_first_record_is_a_running_job() {
        let f = JobFile::Content(
            r#"{"started": true, "finished": false, "ansible_job_id": "j1.2"}"#.into(),
        );
        let r = status_result("j1.2", "/f", &f).unwrap();
        assert!(!get(&r, "finished").is_true());
        assert!(get(&r, "started").is_true());
        assert_eq!(get(&r, "results_file").as_str(), Some("/f"));
    }

    #[test]
    fn unparsable_or_empty_content_is_still_running() {
        for t in ["", "{\"started\": tr"] {
            let r = status_result("j1.2", "/f", &JobFile::Content(t.into())).unwrap();
            assert!(!get(&r, "finished").is_true(), "{t}");
        }
    }

    #[test]
    fn a_module_result_is_finished_with_its_keys_and_lines() {
        let f = JobFile::Content(
            r#"{"changed": true, "stdout": "a\nb", "stderr": "", "rc": 0, "cmd": "echo"}"#.into(),
        );
        let r = status_result("j1.2", "/f", &f).unwrap();
        assert!(get(&r, "finished").is_true());
        assert_eq!(get(&r, "rc"), &Value::from(0));
        assert_eq!(get(&r, "stdout_lines"), &Value::from(vec!["a", "b"]));
        assert_eq!(get(&r, "ansible_job_id").as_str(), Some("j1.2"));
    }

    #[test]
    fn the_watchers_timeout_record_is_a_finished_failure() {
        let f = JobFile::Content(
            r#"{"msg": "Timeout exceeded", "failed": true, "child_pid": 7}"#.into(),
        );
        let r = status_result("j1.2", "/f", &f).unwrap();
        assert!(get(&r, "finished").is_true() && get(&r, "failed").is_true());
    }
}
