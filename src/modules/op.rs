//! A change as data rather than as a call: the `sh` fragment that makes it, the bytes it
//! reads from stdin, and how to read its output. A module whose apply step is a
//! [`RemoteOp`] can be run on its own (one round trip) or shipped with the ops of the
//! tasks around it in one command (`exec::batch`): the same script and the same reading
//! of its output either way, so a batched task reports exactly what it would alone.

use super::probe::{Answer, Probe};
use crate::connection::{FileState, Output};
use crate::diagnostics::Result;
use crate::vars::Vars;

/// What a finished op reports: result keys for the task, and host state it now knows
/// for certain (a written file's stat and content), so nothing has to read it again.
#[derive(Default)]
pub struct Done {
    pub extra: Vars,
    pub known: Vec<(Probe, Answer)>,
}

/// Reads an op's output; the second argument is the state of its [`RemoteOp::describe`]
/// path after it ran (`None` when it asked for none, failed, or the path is gone).
pub type FinishFn = Box<dyn FnOnce(&Output, Option<FileState>) -> Result<Done> + Send>;

pub struct RemoteOp {
    /// Runs in a subshell of its own. Contract: it reads exactly `payload.len()` bytes
    /// from stdin before anything else can fail, and nothing more, so ops can share one
    /// stdin stream.
    pub script: String,
    pub payload: Vec<u8>,
    /// Shell functions the script calls: sent once per command, however many ops of
    /// the batch use them.
    pub prelude: &'static str,
    /// Whether the task's `environment:` is exported for it (scripts that run commands
    /// a user may tune; a plain file write never did).
    pub with_env: bool,
    pub finish: FinishFn,
    /// What the host will hold once it ran, when that is known exactly beforehand, for
    /// the plans queued after it; replaced by what it reports once it ran.
    pub expect: Vec<(Probe, Answer)>,
    /// The path whose state the result reports once the op succeeded. Not stat'ed by
    /// the op itself: a batch stats the paths of all its ops with one `stat` process.
    pub describe: Option<String>,
}

impl RemoteOp {
    /// An op that reads no stdin.
    pub fn script(script: String, finish: FinishFn) -> Self {
        RemoteOp {
            script,
            payload: Vec::new(),
            prelude: "",
            with_env: true,
            finish,
            expect: Vec::new(),
            describe: None,
        }
    }
}
