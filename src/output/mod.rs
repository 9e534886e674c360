//! Output: events from the executor, rendered for people (human) or programs (json).

mod github;
mod human;
mod json;
mod progress;
mod report;
mod tee;

pub(crate) use github::GithubSink;
pub(crate) use human::HumanSink;
pub(crate) use json::JsonSink;
pub(crate) use progress::ProgressSink;
pub(crate) use report::{MergedReport, ReportFormat, ReportSink};
pub(crate) use tee::Tee;

use crate::modules::Diff;
use crate::vars::Vars;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
    Ignored,
    Rescued,
    Unreachable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Ignored => "ignored",
            Status::Rescued => "rescued",
            Status::Unreachable => "unreachable",
        }
    }
}

/// Per-host counts for the PLAY RECAP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

pub struct TaskEvent<'a> {
    pub host: &'a str,
    pub task: &'a str,
    pub source: &'a crate::diagnostics::Span,
    pub status: Status,
    pub changed: bool,
    pub result: &'a Vars,
    pub diffs: &'a [Diff],
    pub duration: Duration,
    pub item: Option<String>,
    pub handler: bool,
    pub no_log: bool,
    /// The module's canonical name (debug output is always shown).
    pub module: &'a str,
    /// Where a failure happened and what to do, shown with its message; the result's
    /// own `msg` stays the bare message, as Ansible's (a playbook may compare it).
    pub note: Option<&'a FailureNote>,
}

/// drover's additions to a failure's message: where, and what to do.
#[derive(Clone, Debug, Default)]
pub struct FailureNote {
    /// `file:line:column` of what failed (an argument, a condition), when known.
    pub at: Option<String>,
    pub help: Option<String>,
}

pub enum Event<'a> {
    RunStart {
        playbooks: &'a [String],
        check: bool,
    },
    PlayStart {
        name: &'a str,
        hosts: &'a [String],
    },
    TaskStart {
        host: &'a str,
        task: &'a str,
        source: &'a crate::diagnostics::Span,
    },
    Task(TaskEvent<'a>),
    /// A host finished the play (whatever the outcome).
    HostDone {
        host: &'a str,
    },
    Included {
        host: &'a str,
        file: &'a str,
    },
    Warning {
        host: Option<&'a str>,
        message: &'a str,
    },
    Recap {
        stats: &'a [(String, HostStats)],
        duration: Duration,
        round_trips: u64,
    },
}

/// Where events go. Implementations must be safe to call from every host's thread.
pub trait Sink: Send + Sync {
    fn event(&self, e: &Event<'_>);
    /// Called once after the recap: write files, clear progress bars.
    fn finish(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The message of a task result as shown to people (censored for no_log).
pub fn shown_msg(t: &TaskEvent<'_>) -> Option<String> {
    if t.no_log {
        return Some(NO_LOG_MSG.to_string());
    }
    let msg = result_msg(t.result)?;
    let Some(note) = t.note else {
        return Some(msg);
    };
    let mut shown = match &note.at {
        Some(at) => format!("{at}: {msg}"),
        None => msg,
    };
    if let Some(h) = &note.help {
        shown.push_str(&format!(" (help: {h})"));
    }
    Some(shown)
}

pub const NO_LOG_MSG: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// The message of a result, as Ansible shows it.
pub fn result_msg(result: &Vars) -> Option<String> {
    result
        .get("msg")
        .map(|m| {
            m.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| m.to_string())
        })
        .filter(|s| !s.is_empty())
}

/// Unified diff text of one [`Diff`].
pub fn unified(d: &Diff) -> String {
    if d.before_header == crate::modules::PREPARED {
        return format!("{}\n", d.after.trim_end_matches('\n'));
    }
    similar::TextDiff::from_lines(&d.before, &d.after)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("before: {}", d.before_header),
            &format!("after: {}", d.after_header),
        )
        .to_string()
}
