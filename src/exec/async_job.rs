//! A task under `async` (Ansible's `async_val` / `poll`), as the engine runs it:
//!
//! - `poll: P > 0`: the module runs in the foreground, bounded by the async limit, and
//!   the result carries the keys Ansible's polled result has. command and shell are
//!   killed at the limit, and the task fails with the record Ansible's watcher leaves
//!   then ("Timeout exceeded"); any other module cannot be stopped half-way, and one that
//!   ends after the limit fails with the message of Ansible's poll loop ("async task did
//!   not complete within the requested time"). Ansible polls the job's status file every
//!   P seconds; drover answers as soon as the work ends.
//! - `poll: 0`: command and shell are left running on the host (`modules::background`)
//!   and the task returns the job's id at once, as Ansible's `async_wrapper` does.
//!
//! The values are rendered here, for each run of the task (they may be templates).

use super::play::PlayRun;
use crate::diagnostics::Result;
use crate::modules::background::Started;
use crate::playbook::async_kw::{self, DEFAULT_POLL};
use crate::playbook::Task;
use crate::vars::Vars;
use minijinja::Value;
use std::time::Duration;

/// A task's async settings for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `async:` seconds (more than 0).
    pub limit: u64,
    /// `poll:` seconds; 0 leaves the job in the background.
    pub poll: u64,
}

/// The task's `async`/`poll` rendered with its variables: `None` when it does not run
/// under async (`async` absent or 0). A value that is no whole number of seconds, or a
/// module that cannot take what is asked, is a located error.
pub fn settings(run: &PlayRun<'_>, task: &Task, vars: &Vars) -> Result<Option<Settings>> {
    let Some(kw) = &task.async_ else {
        return Ok(None);
    };
    let render = |v: &Value, key: &str| -> Result<u64> {
        let r = run
            .render(v, vars.clone())
            .map_err(|e| e.at(kw.span.clone()))?;
        async_kw::seconds(key, &r, &kw.span)
    };
    let limit = render(&kw.limit, "async")?;
    if limit == 0 {
        return Ok(None);
    }
    let poll = match &kw.poll {
        Some(p) => render(p, "poll")?,
        None => DEFAULT_POLL,
    };
    async_kw::check_module(task.module, &kw.span)?;
    if poll == 0 {
        let backgrounds = crate::modules::find(task.module).is_some_and(|m| m.can_background());
        async_kw::check_background(task.module, backgrounds, &kw.span)?;
    }
    Ok(Some(Settings { limit, poll }))
}

/// The result of a job left running (`poll: 0`), as Ansible's `async_wrapper` reports it.
pub fn started_result(s: &Started) -> Vars {
    crate::modules::result(&[
        ("ansible_job_id", Value::from(s.jid.as_str())),
        ("results_file", Value::from(s.results_file.as_str())),
        ("started", Value::from(true)),
        ("finished", Value::from(false)),
        ("changed", Value::from(true)),
        ("failed", Value::from(false)),
    ])
}

/// The keys Ansible's async_status adds to every polled result (the job's own keys win).
pub fn add_polled_keys(result: &mut Vars, s: &Started) {
    for (k, v) in async_status_keys(s, true) {
        if matches!(
            k.as_str(),
            "started" | "finished" | "ansible_job_id" | "results_file"
        ) {
            result.insert(k, v);
        } else {
            result.entry(k).or_insert(v);
        }
    }
}

/// What Ansible's async_status says about the job: finished or still running.
fn async_status_keys(s: &Started, finished: bool) -> Vars {
    let empty = || Value::from(Vec::<Value>::new());
    crate::modules::result(&[
        ("ansible_job_id", Value::from(s.jid.as_str())),
        ("finished", Value::from(finished)),
        ("results_file", Value::from(s.results_file.as_str())),
        ("started", Value::from(true)),
        ("stderr", Value::from("")),
        ("stderr_lines", empty()),
        ("stdout", Value::from("")),
        ("stdout_lines", empty()),
    ])
}

/// Was a command killed at the limit (`timeout(1)`, which reports `timedout` with the
/// period)? Ansible's watcher kills the job then, and the status file it leaves is
/// what its poll reads.
pub fn killed(result: &Vars, limit: u64) -> bool {
    result
        .get("timedout")
        .and_then(|t| t.get_attr("period").ok())
        .and_then(|p| u64::try_from(p).ok())
        == Some(limit)
}

/// Did a module that cannot be stopped run past the limit?
pub fn late(elapsed: Duration, limit: u64) -> bool {
    elapsed > Duration::from_secs(limit)
}

/// The job's result when Ansible's watcher killed it at the limit ("Timeout exceeded"),
/// as the poll that reads it reports it.
pub fn killed_result(s: &Started) -> Vars {
    let mut r = async_status_keys(s, true);
    r.insert("msg".into(), Value::from("Timeout exceeded"));
    r.insert("failed".into(), Value::from(true));
    r.insert("changed".into(), Value::from(false));
    r
}

/// Ansible's failure for a polled task still running when its time ran out (with the
/// last status its poll read).
pub fn timed_out_result(limit: u64, s: &Started) -> Vars {
    crate::modules::result(&[
        ("failed", Value::from(true)),
        (
            "msg",
            Value::from(format!(
                "async task did not complete within the requested time - {limit}s"
            )),
        ),
        (
            "async_result",
            Value::from_iter(async_status_keys(s, false)),
        ),
        ("changed", Value::from(false)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started() -> Started {
        Started {
            jid: "j12.34".into(),
            results_file: "/root/.ansible_async/j12.34".into(),
        }
    }

    #[test]
    fn a_command_killed_at_the_limit_is_told_from_a_late_module() {
        let r = crate::modules::timeout::result_for(5);
        assert!(killed(&r, 5));
        assert!(!killed(&r, 6) && !killed(&Vars::new(), 5));
        assert!(!late(Duration::from_millis(4900), 5));
        assert!(late(Duration::from_millis(5100), 5));
        let k = killed_result(&started());
        assert_eq!(
            k.get("msg").and_then(|v| v.as_str()),
            Some("Timeout exceeded")
        );
        assert!(k.get("finished").is_some_and(|v| v.is_true()));
    }

    #[test]
    fn polled_keys_keep_the_jobs_own_output() {
        let mut r = Vars::new();
        r.insert("stdout".into(), Value::from("hi"));
        add_polled_keys(&mut r, &started());
        assert_eq!(r.get("stdout").and_then(|v| v.as_str()), Some("hi"));
        assert!(r.get("finished").is_some_and(|v| v.is_true()));
        assert_eq!(
            r.get("ansible_job_id").and_then(|v| v.as_str()),
            Some("j12.34")
        );
    }

    #[test]
    fn the_timeout_message_is_ansibles() {
        let r = timed_out_result(3, &started());
        assert_eq!(
            r.get("msg").and_then(|v| v.as_str()),
            Some("async task did not complete within the requested time - 3s")
        );
    }
}
