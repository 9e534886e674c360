//! A connection that runs nothing: it answers each script from canned outputs and
//! records what it was asked, so a module can be exercised without a host
//! (`tests/module_cases.rs`).
//!
//! Replies come in two kinds. Ordered replies are consumed one after the other: the
//! next one answers the next script if its pattern matches. Standing replies answer any
//! script their pattern matches, as often as asked. A script that neither the next
//! ordered reply nor a standing one matches is an error naming the script (of kind
//! `Unreachable`, so the engine and modules pass it up rather than read it as a failing
//! command), and it is also kept in [`Recording::unexpected`] in case a module swallows
//! the error.

use super::{ConnStats, Connection, Output};
use crate::diagnostics::{Error, ErrorKind, Result};
use std::sync::{Arc, Mutex};

/// What a canned reply answers.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// Any script.
    Any,
    /// Scripts containing this text.
    Contains(String),
    /// Scripts this regular expression matches (anywhere).
    Regex(regex::Regex),
}

impl Pattern {
    /// Does the script match?
    pub fn matches(&self, script: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Contains(s) => script.contains(s.as_str()),
            Pattern::Regex(r) => r.is_match(script),
        }
    }

    /// The pattern as written, for messages.
    pub fn describe(&self) -> String {
        match self {
            Pattern::Any => "any script".into(),
            Pattern::Contains(s) => format!("a script containing {s:?}"),
            Pattern::Regex(r) => format!("a script matching /{}/", r.as_str()),
        }
    }
}

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Which script it answers.
    pub pattern: Pattern,
    /// What the script "printed" and its exit code.
    pub output: Output,
    /// With a [`Pattern::Regex`]: `$1`, `${name}` … in stdout are the script's captures
    /// (to echo back a value the module made up, such as a random marker).
    pub expand: bool,
}

impl Reply {
    /// The output for `script`, captures expanded when asked.
    fn answer(&self, script: &str) -> Output {
        let mut out = self.output.clone();
        if let (true, Pattern::Regex(re)) = (self.expand, &self.pattern) {
            if let Some(caps) = re.captures(script) {
                let mut text = String::new();
                caps.expand(&String::from_utf8_lossy(&self.output.stdout), &mut text);
                out.stdout = text.into_bytes();
            }
        }
        out
    }
}

/// One script the connection was asked to run.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The script, as the module built it.
    pub script: String,
    /// The size of what came on stdin (`None`: no stdin). Never its content: it may be
    /// a password.
    pub stdin_len: Option<usize>,
    /// The phase the caller had set when it was sent (see [`Recording::set_phase`]).
    pub phase: &'static str,
}

/// The label of the scripts being sent, shared with whoever drives the module.
#[derive(Clone, Default, Debug)]
pub struct Phase(Arc<Mutex<&'static str>>);

impl Phase {
    /// Label the scripts sent from now on (`"plan"`, `"apply"`).
    pub fn set(&self, phase: &'static str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }
    /// The current label.
    pub fn get(&self) -> &'static str {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The recording connection.
pub struct Recording {
    user: String,
    ordered: Vec<Reply>,
    next: usize,
    standing: Vec<Reply>,
    phase: Phase,
    /// Every script asked, in order, answered or not.
    pub sent: Vec<Sent>,
    /// The messages of the scripts nothing answered.
    pub unexpected: Vec<String>,
    stats: ConnStats,
}

impl Recording {
    /// A connection logged in as `user`, with ordered and standing replies.
    pub fn new(user: &str, ordered: Vec<Reply>, standing: Vec<Reply>) -> Self {
        Recording {
            user: user.to_string(),
            ordered,
            next: 0,
            standing,
            phase: Phase::default(),
            sent: Vec::new(),
            unexpected: Vec::new(),
            stats: ConnStats {
                connects: 1,
                ..ConnStats::default()
            },
        }
    }

    /// Label the scripts sent from now on (`plan`, `apply`), so a test can tell what a
    /// module read from what it changed.
    pub fn set_phase(&self, phase: &'static str) {
        self.phase.set(phase);
    }

    /// A handle that sets the phase while the connection is lent out (as a
    /// `&mut dyn Connection` in a module's context).
    pub fn phase(&self) -> Phase {
        self.phase.clone()
    }

    /// The ordered replies no script has consumed yet.
    pub fn unused(&self) -> &[Reply] {
        &self.ordered[self.next..]
    }
}

/// The first lines of a script, for an error message.
fn head(script: &str) -> String {
    let lines: Vec<&str> = script.lines().take(6).collect();
    let more = script.lines().count() > lines.len();
    format!("{}{}", lines.join("\n  "), if more { "\n  …" } else { "" })
}

impl Connection for Recording {
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output> {
        self.stats.round_trips += 1;
        self.stats.channels += 1;
        self.sent.push(Sent {
            script: script.to_string(),
            stdin_len: stdin.map(<[u8]>::len),
            phase: self.phase.get(),
        });
        if let Some(r) = self.ordered.get(self.next) {
            if r.pattern.matches(script) {
                self.next += 1;
                return Ok(r.answer(script));
            }
        }
        if let Some(r) = self.standing.iter().find(|r| r.pattern.matches(script)) {
            return Ok(r.answer(script));
        }
        let expected = match self.ordered.get(self.next) {
            Some(r) => format!("the next reply answers {}", r.pattern.describe()),
            None => "no ordered reply is left".into(),
        };
        let msg = format!(
            "recording connection: unexpected command #{} ({expected}):\n  {}",
            self.sent.len(),
            head(script)
        );
        self.unexpected.push(msg.clone());
        Err(Error::new(ErrorKind::Unreachable, msg))
    }

    fn login_user(&self) -> &str {
        &self.user
    }

    fn stats(&self) -> ConnStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(s: &str) -> Output {
        Output {
            rc: 0,
            stdout: s.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    #[test]
    fn answers_in_order_then_by_pattern_and_refuses_the_rest() {
        let mut c = Recording::new(
            "root",
            vec![
                Reply {
                    pattern: Pattern::Contains("one".into()),
                    output: out("1"),
                    expand: false,
                },
                Reply {
                    pattern: Pattern::Any,
                    output: out("2"),
                    expand: false,
                },
            ],
            vec![Reply {
                pattern: Pattern::Regex(regex::Regex::new("^uname (-.)").unwrap()),
                output: out("Linux $1"),
                expand: true,
            }],
        );
        // Out of order: the standing reply answers, the ordered one waits.
        assert_eq!(c.exec("uname -s", None).unwrap().stdout_str(), "Linux -s");
        assert!(c.exec("two", None).is_err());
        assert_eq!(c.exec("one", Some(b"abc")).unwrap().stdout_str(), "1");
        assert_eq!(c.exec("two", None).unwrap().stdout_str(), "2");
        let e = c.exec("three", None).unwrap_err();
        assert!(e.message.contains("unexpected command #5"), "{}", e.message);
        assert!(e.message.contains("three"));
        assert_eq!(c.unexpected.len(), 2);
        assert_eq!(c.sent[2].stdin_len, Some(3));
        assert!(c.unused().is_empty());
    }
}
