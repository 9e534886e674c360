//! Write batching: the changes of consecutive file tasks on one host go to the host in
//! ONE command. Each queued [`RemoteOp`] keeps its own script, stdin bytes and output
//! reader; the batch runs them in order in subshells of one `sh`, with all their
//! payloads on one stdin stream, and a marker after each op carries its exit code, so
//! every op is read exactly as if it had run alone.
//!
//! Ops are grouped by task. An op that fails lets the rest of its own task run (a loop
//! goes on past a failed item, as Ansible's does) and stops every later task's ops,
//! which are reported as not run: a failure inside a batch fails its own task only.
//! What a finished op knows about the host (a written file's stat and content) goes
//! into the probe cache in op order, so the next plans need not read it again.

use crate::connection::{
    exec_as, parse_described, quote, split_described, Become, Connection, FileState, Output,
    RC_STREAM_LOST,
};
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::modules::op::{FinishFn, RemoteOp};
use crate::modules::probe::ProbeCache;
use crate::vars::Vars;
use std::collections::HashMap;

/// A batch is sent before its script or its payloads grow past these sizes: what a
/// host's batch holds in memory (the queued bytes, then the one command built from
/// them) stays within about 1 MiB per host, whatever the number of hosts.
const MAX_SCRIPT: usize = 256 * 1024;
const MAX_PAYLOAD: usize = 1024 * 1024;
/// An op at least this big is sent at once (with what is queued before it), so a long
/// write shows its progress as it goes.
pub const SEND_AT_ONCE: usize = 1024 * 1024;

const MARK: &[u8] = b"\0@drover-op ";
const ERR_MARK: &[u8] = b"\0@drover-op\0";
const READS: &[u8] = b"\0@drover-reads\0";
const END: &[u8] = b"\0@drover-end\0";

/// What became of a queued op.
pub enum OpResult {
    /// The keys it adds to the task's result.
    Done(Vars),
    Failed(Error),
    /// An earlier task of the batch failed (or the run stopped) before it was sent.
    NotRun,
}

struct Queued {
    id: usize,
    group: usize,
    prelude: &'static str,
    script: String,
    payload: Vec<u8>,
    finish: FinishFn,
    touches: Option<Vec<String>>,
    tree: bool,
    describe: Option<String>,
}

#[derive(Default)]
pub struct WriteBatch {
    queued: Vec<Queued>,
    become_: Option<Become>,
    script_len: usize,
    payload_len: usize,
    results: HashMap<usize, OpResult>,
    next_id: usize,
    /// The first task (group) with a failed op: later groups do not run.
    failed_group: Option<usize>,
}

impl WriteBatch {
    pub fn is_idle(&self) -> bool {
        self.queued.is_empty() && self.results.is_empty() && self.failed_group.is_none()
    }

    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Whether a task before `group` failed (so `group` must not change anything).
    pub fn failed_before(&self, group: usize) -> bool {
        self.failed_group.is_some_and(|g| g < group)
    }

    pub fn has_failure(&self) -> bool {
        self.failed_group.is_some()
    }

    /// A task failed without an op of its own (its plan failed): later ones do not run.
    pub fn fail_group(&mut self, group: usize) {
        if !self.failed_group.is_some_and(|g| g <= group) {
            self.failed_group = Some(group);
        }
    }

    /// A placeholder for an item that could not run because an earlier task failed.
    pub fn not_run(&mut self) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        self.results.insert(id, OpResult::NotRun);
        id
    }

    pub fn take(&mut self, id: usize) -> Option<OpResult> {
        self.results.remove(&id)
    }

    pub fn resolved(&self, id: usize) -> bool {
        self.results.contains_key(&id)
    }

    /// Whether the op ran and succeeded.
    pub fn succeeded(&self, id: usize) -> bool {
        matches!(self.results.get(&id), Some(OpResult::Done(_)))
    }

    /// The run stops: what was never sent is not run.
    pub fn drop_queued(&mut self) {
        for q in self.queued.drain(..) {
            self.results.insert(q.id, OpResult::NotRun);
        }
        self.script_len = 0;
        self.payload_len = 0;
    }

    /// Forget every result and failure (after the walker has reported them), and drop
    /// what was never sent (the run stops).
    pub fn reset(&mut self) {
        for q in self.queued.drain(..) {
            self.results.insert(q.id, OpResult::NotRun);
        }
        self.results.clear();
        self.failed_group = None;
        self.script_len = 0;
        self.payload_len = 0;
    }

    /// Queue an op of task `group`; returns its id. What is already queued is sent first
    /// when the op runs as another user or would make the command too big.
    #[allow(clippy::too_many_arguments)]
    pub fn queue(
        &mut self,
        conn: &mut dyn Connection,
        cache: &mut ProbeCache,
        become_: Option<&Become>,
        group: usize,
        op: RemoteOp,
        env: &str,
        touches: Option<Vec<String>>,
        tree: bool,
    ) -> Result<usize> {
        let script = if op.with_env {
            format!("{env}{}", op.script)
        } else {
            op.script
        };
        let full = !self.queued.is_empty()
            && (self.become_.as_ref() != become_
                || self.script_len + script.len() > MAX_SCRIPT
                || self.payload_len + op.payload.len() > MAX_PAYLOAD);
        if full {
            self.flush(conn, cache)?;
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.failed_before(group) {
            self.results.insert(id, OpResult::NotRun);
            return Ok(id);
        }
        // Later plans must not read what this op is about to change, unless it is known
        // exactly what it will leave.
        if let Some(paths) = &touches {
            cache.invalidate(paths, tree);
        } else {
            cache.clear();
        }
        cache.learn(op.expect, become_);
        self.become_ = become_.cloned();
        self.script_len += script.len();
        self.payload_len += op.payload.len();
        let big = op.payload.len() >= SEND_AT_ONCE;
        self.queued.push(Queued {
            id,
            group,
            prelude: op.prelude,
            script,
            payload: op.payload,
            finish: op.finish,
            touches,
            tree,
            describe: op.describe,
        });
        if big {
            self.flush(conn, cache)?;
        }
        Ok(id)
    }

    /// Send what is queued, in one command. `Err` only when the transport failed (the
    /// host is unreachable); anything else is the result of the op it belongs to.
    pub fn flush(&mut self, conn: &mut dyn Connection, cache: &mut ProbeCache) -> Result<bool> {
        self.flush_then(conn, cache, None).map(|r| r.is_some())
    }

    /// The user the queued ops run as (`None` when nothing is queued).
    pub fn queued_as(&self) -> Option<Option<&Become>> {
        (!self.queued.is_empty()).then_some(self.become_.as_ref())
    }

    /// [`WriteBatch::flush`], then the read-only `reads` script in the same command
    /// (the reads the next plans need, after the writes). `Some(stdout of the reads)`
    /// when anything was sent; that output is empty unless the reads ran to the end.
    pub fn flush_then(
        &mut self,
        conn: &mut dyn Connection,
        cache: &mut ProbeCache,
        reads: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        if self.queued.is_empty() {
            return Ok(None);
        }
        let mut ops = std::mem::take(&mut self.queued);
        let payload_len = self.payload_len;
        self.script_len = 0;
        self.payload_len = 0;
        let become_ = self.become_.take();
        // Each op's script and payload are moved into the command as it is built, and
        // dropped there: nothing queued is held twice while the command runs.
        let mut script = String::new();
        let mut preludes: Vec<&str> = Vec::new();
        for q in &ops {
            if !preludes.contains(&q.prelude) {
                preludes.push(q.prelude);
                script.push_str(q.prelude);
            }
        }
        // The paths the ops that succeeded ask to describe collect in "$@"; one `stat`
        // describes them all at the end, or where the batch stops early.
        script.push_str(&format!(
            "set --\n__g=0\n__drover_described() {{ [ $# = 0 ] || {}; }}\n",
            crate::connection::describe_script("\"$@\"")
        ));
        let stop = "{ cat >/dev/null; __drover_described \"$@\"; exit 0; }";
        for i in 0..ops.len() {
            if i > 0 && ops[i - 1].group != ops[i].group {
                // A failed task stops the later ones; the rest of stdin is drained so the
                // sender is never left writing to a closed stream.
                script.push_str(&format!("[ \"$__g\" = 0 ] || {stop}\n"));
            }
            let own = std::mem::take(&mut ops[i].script);
            script.push_str("(\n");
            script.push_str(&own);
            script.push_str("\n); __r=$?; printf '\\000@drover-op %s\\000' \"$__r\"; printf '\\000@drover-op\\000' >&2; [ \"$__r\" = 0 ] || __g=1\n");
            if let Some(path) = &ops[i].describe {
                script.push_str(&format!(
                    "[ \"$__r\" = 0 ] && set -- \"$@\" {}\n",
                    quote(path)
                ));
            }
            if !ops[i].payload.is_empty() {
                // Its bytes were not all taken: what is left on stdin is out of step.
                script.push_str(&format!("[ \"$__r\" = {RC_STREAM_LOST} ] && {stop}\n"));
            }
        }
        script.push_str("__drover_described \"$@\"\n");
        if let Some(r) = reads {
            script.push_str(&format!(
                "printf '\\000@drover-reads\\000'\n(\n{r}\n) && printf '\\000@drover-end\\000'\n"
            ));
        }
        // A long script goes ahead of the payloads on stdin (as `exec_as` would send it,
        // but without copying the payloads once more).
        let (script, mut payload) = if script.len() > crate::connection::INLINE_SCRIPT {
            let mut input = Vec::with_capacity(script.len() + payload_len);
            input.extend_from_slice(script.as_bytes());
            let command = crate::connection::script_from_stdin(script.len());
            drop(script);
            (command, input)
        } else {
            (script, Vec::with_capacity(payload_len))
        };
        for q in &mut ops {
            payload.extend_from_slice(&std::mem::take(&mut q.payload));
        }
        let stdin = (!payload.is_empty()).then_some(payload.as_slice());
        let out = match exec_as(conn, &script, stdin, become_.as_ref()) {
            Ok(out) => out,
            Err(e) if e.kind == ErrorKind::Unreachable => {
                for q in ops {
                    self.results.insert(q.id, OpResult::NotRun);
                }
                cache.clear();
                return Err(e);
            }
            // The batch could not start (become refused): each op of the first task fails
            // with that error, as it would have alone.
            Err(e) => {
                let first = ops[0].group;
                for q in ops {
                    let r = if q.group == first {
                        OpResult::Failed(e.clone())
                    } else {
                        OpResult::NotRun
                    };
                    self.results.insert(q.id, r);
                }
                self.fail_group(first);
                cache.clear();
                return Ok(Some(Vec::new()));
            }
        };
        let (ops_out, reads_out) = match find(&out.stdout, READS) {
            Some(at) => {
                let tail = &out.stdout[at + READS.len()..];
                let done = tail.strip_suffix(END).filter(|_| out.rc == 0);
                (&out.stdout[..at], done.unwrap_or_default().to_vec())
            }
            None => (&out.stdout[..], Vec::new()),
        };
        let (ops_out, described) = split_described(ops_out);
        let outs = split_stdout(ops_out);
        // Which op each described state belongs to: those that asked and succeeded, in
        // order, as the script collected them.
        let asked: Vec<(usize, String)> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, q)| {
                let path = q.describe.clone()?;
                outs.get(i).filter(|(_, rc)| *rc == 0).map(|_| (i, path))
            })
            .collect();
        let paths: Vec<String> = asked.iter().map(|(_, p)| p.clone()).collect();
        let mut states: HashMap<usize, FileState> = asked
            .iter()
            .map(|(i, _)| *i)
            .zip(parse_described(&described.unwrap_or_default(), &paths))
            .filter_map(|(i, st)| Some((i, st?)))
            .collect();
        let errs = split(&out.stderr, ERR_MARK);
        let mut stopped = false;
        // The task whose op stopped the batch (its shell died, or its write left stdin
        // out of step): the task's later items fail with that reason instead of
        // vanishing as not run, so the task still shows, failed.
        let mut stopped_in: Option<(usize, String)> = None;
        for (i, q) in ops.into_iter().enumerate() {
            let unreached = match &stopped_in {
                Some((g, why)) if *g == q.group => OpResult::Failed(Error::module(format!(
                    "not attempted: an earlier item of this task stopped the host's batch of changes ({why})"
                ))),
                _ => OpResult::NotRun,
            };
            if stopped {
                self.results.insert(q.id, unreached);
                continue;
            }
            let own = match outs.get(i) {
                Some((stdout, rc)) => Output {
                    rc: *rc,
                    stdout: stdout.to_vec(),
                    stderr: errs.get(i).map(|e| e.to_vec()).unwrap_or_default(),
                },
                None if self.failed_before(q.group) || out.rc == 0 => {
                    // Not reached: an earlier task failed, or an op of this one stopped
                    // the batch.
                    self.results.insert(q.id, unreached);
                    continue;
                }
                // The shell itself died here: this op gets the batch's exit and what was
                // left on stderr; the ones after it did not run.
                None => {
                    stopped = true;
                    stopped_in = Some((q.group, format!("exit code {}", out.rc)));
                    Output {
                        rc: out.rc,
                        stdout: Vec::new(),
                        stderr: errs.get(i).map(|e| e.to_vec()).unwrap_or_default(),
                    }
                }
            };
            let failed = own.rc != 0;
            if own.rc == RC_STREAM_LOST {
                stopped_in = Some((q.group, own.stderr_str().trim().to_string()));
            }
            match (q.finish)(&own, states.remove(&i)) {
                Ok(done) if !failed => {
                    match &q.touches {
                        Some(paths) => cache.invalidate(paths, q.tree),
                        None => cache.clear(),
                    }
                    cache.learn(done.known, become_.as_ref());
                    self.results.insert(q.id, OpResult::Done(done.extra));
                }
                Ok(_) => {
                    cache.clear();
                    self.fail_group(q.group);
                    self.results.insert(
                        q.id,
                        OpResult::Failed(Error::module(format!(
                            "the change failed: {}",
                            own.stderr_str().trim()
                        ))),
                    );
                }
                Err(e) => {
                    cache.clear();
                    self.fail_group(q.group);
                    self.results.insert(q.id, OpResult::Failed(e));
                }
            }
        }
        Ok(Some(reads_out))
    }
}

/// The stdout of each op that ran, with its exit code.
fn split_stdout(out: &[u8]) -> Vec<(&[u8], i32)> {
    let mut res = Vec::new();
    let mut rest = out;
    while let Some(at) = find(rest, MARK) {
        let (own, tail) = rest.split_at(at);
        let tail = &tail[MARK.len()..];
        let Some(end) = tail.iter().position(|b| *b == 0) else {
            break;
        };
        let rc = std::str::from_utf8(&tail[..end])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1);
        res.push((own, rc));
        rest = &tail[end + 1..];
    }
    res
}

fn split<'b>(data: &'b [u8], mark: &[u8]) -> Vec<&'b [u8]> {
    let mut res = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, mark) {
        res.push(&rest[..at]);
        rest = &rest[at + mark.len()..];
    }
    res.push(rest);
    res
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::LocalConnection;
    use crate::modules::op::Done;

    fn op(script: &str, payload: &[u8]) -> RemoteOp {
        RemoteOp {
            script: script.to_string(),
            payload: payload.to_vec(),
            prelude: "",
            with_env: false,
            expect: Vec::new(),
            describe: None,
            finish: Box::new(|o: &Output, _| {
                if o.rc != 0 {
                    return Err(Error::module(format!("rc {}: {}", o.rc, o.stderr_str())));
                }
                let mut v = Vars::new();
                v.insert("out".into(), minijinja::Value::from(o.stdout_str()));
                Ok(Done {
                    extra: v,
                    known: Vec::new(),
                })
            }),
        }
    }

    fn out_of(r: Option<OpResult>) -> String {
        match r {
            Some(OpResult::Done(v)) => v["out"].to_string(),
            Some(OpResult::Failed(e)) => format!("failed: {}", e.message),
            Some(OpResult::NotRun) => "not run".into(),
            None => "none".into(),
        }
    }

    #[test]
    fn a_long_batch_sends_its_script_on_stdin() {
        let mut conn = LocalConnection::new();
        let mut cache = ProbeCache::default();
        let mut b = WriteBatch::default();
        let pad = format!("# {}\n", "x".repeat(1000));
        let ids: Vec<usize> = (0..40)
            .map(|i| {
                let s = format!("{pad}head -c 2");
                let p = format!("{i:02}");
                b.queue(
                    &mut conn,
                    &mut cache,
                    None,
                    1,
                    op(&s, p.as_bytes()),
                    "",
                    Some(vec![]),
                    false,
                )
                .unwrap()
            })
            .collect();
        assert!(b.flush(&mut conn, &mut cache).unwrap());
        for (i, id) in ids.into_iter().enumerate() {
            assert_eq!(out_of(b.take(id)), format!("{i:02}"));
        }
    }

    #[test]
    fn ops_share_stdin_and_a_failure_stops_later_tasks_only() {
        let mut conn = LocalConnection::new();
        let mut cache = ProbeCache::default();
        let mut b = WriteBatch::default();
        let mut q = |b: &mut WriteBatch, g, s: &str, p: &[u8]| {
            b.queue(
                &mut conn,
                &mut cache,
                None,
                g,
                op(s, p),
                "",
                Some(vec![]),
                false,
            )
            .unwrap()
        };
        let a = q(&mut b, 1, "head -c 3", b"abc");
        let f = q(
            &mut b,
            2,
            "head -c 2 >/dev/null; echo no >&2; exit 3",
            b"xy",
        );
        let same_task = q(&mut b, 2, "head -c 1", b"z");
        let later = q(&mut b, 3, "head -c 1", b"q");
        let mut conn = LocalConnection::new();
        let mut cache = ProbeCache::default();
        assert!(b.flush(&mut conn, &mut cache).unwrap());
        assert_eq!(out_of(b.take(a)), "abc");
        assert_eq!(out_of(b.take(f)), "failed: rc 3: no\n");
        assert_eq!(out_of(b.take(same_task)), "z");
        assert_eq!(out_of(b.take(later)), "not run");
        assert!(b.failed_before(3) && !b.failed_before(2));
    }
}
