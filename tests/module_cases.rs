//! Data-driven module cases: every `tests/modules/<module>/<case>.yml` runs one module
//! against a recording connection (canned host answers, no host, no root) and checks
//! what it planned, what it sent and what it returned. See the README section on tests
//! for the format; [`Case`] below is the reference.
//!
//! The harness drives a module as the engine's `plan_and_apply` does: argument checks
//! as the playbook loader makes them, templating of the arguments, `plan`, then (not in
//! check mode, when the plan is a change) its apply step or op, run at once. It does
//! not prefetch probes: a plan reads what it needs directly, so the scripts a case
//! answers are the ones a module sends when nothing was prefetched.

use drover::connection::recording::{Pattern, Recording, Reply};
use drover::connection::Output;
use drover::diagnostics::{Error, ErrorKind, Span};
use drover::modules::{self, Args, Change, Evaluator, ModuleCtx};
use drover::playbook::Task;
use drover::template::Scope;
use drover::vars::Vars;
use drover::yaml::{Node, NodeKind};
use minijinja::{Environment, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Registered modules that get no cases, each with why. Everything else needs at
/// least [`MIN_CASES`].
const EXEMPT: &[(&str, &str)] = &[(
    "pause",
    "waits on the controller's terminal or clock, never on the host",
)];

const MIN_CASES: usize = 5;

/// Scripts that change a host: none may go out in a case expecting `no_write`.
const WRITE_VERBS: &str = r"(?m)(\bmv -f\b|\brm -r?f\b|\bmkdir\b|\bchmod\b|\bchown\b|\bchgrp\b|\b(user|group)(add|mod|del)\b|\bsystemctl( --no-block| --force)* (daemon-reload|daemon-reexec|start|stop|restart|reload|enable|disable|mask|unmask)\b|\bdpkg -i\b|\bsysctl -w\b|\bhostnamectl (--\S+ )*set-hostname\b|^hostname [a-z0-9']|\bcrontab -\s|\bmount -|\bumount\b|(?m)^c (pull|up|down|stop|restart|rm)\b|\bln -s|\btouch\b|__drover_put_start)";

/// One case, as read from its file.
struct Case {
    file: PathBuf,
    module: String,
    description: String,
    args: Node,
    check: bool,
    diff: bool,
    become_user: Option<String>,
    login_user: String,
    vars: Vars,
    files: Vec<(String, String)>,
    host: Vec<Reply>,
    always: Vec<Reply>,
    expect: Node,
}

/// What running a case gave.
#[derive(Default, Debug)]
struct Outcome {
    /// An argument error (load time), with where it points.
    error: Option<Error>,
    changed: bool,
    failed: bool,
    skipped: bool,
    msg: String,
    result: Vars,
    diffs: Vec<(String, String)>,
    /// The plan's effects on the engine, as `{:?}` shows them.
    effects: String,
}

struct CaseEval {
    env: Arc<Environment<'static>>,
    vars: Vars,
}

impl CaseEval {
    fn ctx(&self) -> Value {
        Value::from_dyn_object(Scope::new(self.env.clone(), self.vars.clone()))
    }
}

impl Evaluator for CaseEval {
    fn render_text(
        &self,
        name: &str,
        text: &str,
        opts: &drover::template::TextOptions,
    ) -> drover::diagnostics::Result<String> {
        drover::template::render_text(&self.env, name, text, &self.ctx(), opts)
    }
    fn eval_expr(&self, expr: &str) -> drover::diagnostics::Result<Value> {
        drover::template::render_str(&self.env, &format!("{{{{ {expr} }}}}"), &self.ctx())
    }
    fn eval_cond(&self, cond: &Value) -> drover::diagnostics::Result<bool> {
        drover::template::eval_condition(&self.env, cond, &self.ctx())
    }
    fn verbosity(&self) -> u8 {
        0
    }
}

fn bad(file: &Path, node: Option<&Node>, msg: &str) -> String {
    match node {
        Some(n) => format!("{}: {msg}", n.span),
        None => format!("{}: {msg}", file.display()),
    }
}

fn str_of(n: &Node) -> Option<String> {
    match &n.kind {
        NodeKind::Str(s) => Some(s.clone()),
        NodeKind::Int(i) => Some(i.to_string()),
        NodeKind::Bool(b) => Some(b.to_string()),
        NodeKind::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn bool_of(n: Option<&Node>, default: bool) -> bool {
    match n.map(|n| &n.kind) {
        Some(NodeKind::Bool(b)) => *b,
        _ => default,
    }
}

/// `"text"` is a substring, `"/re/"` a regular expression.
fn pattern(text: &str) -> Result<Pattern, String> {
    if text.len() > 1 && text.starts_with('/') && text.ends_with('/') {
        regex::Regex::new(&text[1..text.len() - 1])
            .map(Pattern::Regex)
            .map_err(|e| e.to_string())
    } else {
        Ok(Pattern::Contains(text.to_string()))
    }
}

fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(data))
}

/// `stat:` shorthand: `missing`, or the file's type, mode, owner, content …, printed as
/// drover's stat script prints it.
fn stat_reply(n: &Node) -> Result<(String, String), String> {
    if n.as_str() == Some("missing") {
        return Ok(("missing\n".into(), "stat ".into()));
    }
    let get = |k: &str| n.get(k).and_then(str_of);
    let kind = get("type").unwrap_or_else(|| "file".into());
    let content = get("content");
    let size = get("size")
        .or_else(|| content.as_ref().map(|c| c.len().to_string()))
        .unwrap_or_else(|| "4096".into());
    let kind_text = match kind.as_str() {
        "file" if size == "0" => "regular empty file",
        "file" => "regular file",
        "directory" => "directory",
        "link" => "symbolic link",
        other => return Err(format!("unknown stat type {other}")),
    };
    let mode = get("mode").unwrap_or_else(|| {
        if kind == "directory" {
            "755".into()
        } else {
            "644".into()
        }
    });
    let mode = mode.trim_start_matches('0').to_string();
    let owner = get("owner").unwrap_or_else(|| "root".into());
    let group = get("group").unwrap_or_else(|| "root".into());
    let uid = get("uid").unwrap_or_else(|| "0".into());
    let gid = get("gid").unwrap_or_else(|| "0".into());
    let mtime = get("mtime").unwrap_or_else(|| "1700000000".into());
    let links = get("links").unwrap_or_else(|| "1".into());
    let sha1 = match (&content, get("sha1")) {
        (_, Some(s)) => s,
        (Some(c), None) => sha1_hex(c.as_bytes()),
        (None, None) => "-".into(),
    };
    let mut out =
        format!("{kind_text}|{mode}|{owner}|{group}|{uid}|{gid}|{size}|{mtime}|{links}\n{sha1}\n");
    if let Some(t) = get("target") {
        out.push_str(&t);
        out.push('\n');
    }
    Ok((out, "stat ".into()))
}

fn replies(file: &Path, n: Option<&Node>) -> Result<Vec<Reply>, String> {
    let Some(n) = n else { return Ok(Vec::new()) };
    let items = n
        .as_seq()
        .ok_or_else(|| bad(file, Some(n), "replies must be a list"))?;
    let mut out = Vec::new();
    for r in items {
        let get = |k: &str| r.get(k).and_then(str_of);
        let mut stdout = get("stdout").unwrap_or_default();
        let mut rc: i32 = get("rc").and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut default_match: Option<String> = None;
        if let Some(s) = r.get("stat") {
            let (text, m) = stat_reply(s).map_err(|e| bad(file, Some(s), &e))?;
            stdout = text;
            default_match = Some(m);
        }
        if let Some(f) = r.get("file") {
            // A stat and the content in one reply, split by a NUL (the line editors'
            // read of a file they will rewrite).
            let (text, _) = stat_reply(f).map_err(|e| bad(file, Some(f), &e))?;
            stdout = format!(
                "{text}\0{}",
                f.get("content").and_then(str_of).unwrap_or_default()
            );
            default_match = Some("printf '\\000'".into());
        }
        if let Some(c) = r.get("read") {
            default_match = Some("cat -- ".into());
            match str_of(c) {
                Some(text) => stdout = text,
                None => rc = 3,
            }
        }
        let pattern = match (get("match"), get("regex"), default_match) {
            (Some(m), _, _) => Pattern::Contains(m),
            (None, Some(re), _) => Pattern::Regex(
                regex::Regex::new(&re).map_err(|e| bad(file, Some(r), &e.to_string()))?,
            ),
            (None, None, Some(m)) => Pattern::Contains(m),
            (None, None, None) => Pattern::Any,
        };
        out.push(Reply {
            expand: bool_of(r.get("expand"), false),
            pattern,
            output: Output {
                rc,
                stdout: stdout.into_bytes(),
                stderr: get("stderr").unwrap_or_default().into_bytes(),
            },
        });
    }
    Ok(out)
}

fn load_case(file: &Path, module: &str) -> Result<Case, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let docs = drover::yaml::load_str(&text, file).map_err(|e| e.to_string())?;
    let root = docs
        .into_iter()
        .next()
        .ok_or_else(|| bad(file, None, "empty case"))?;
    const KEYS: &[&str] = &[
        "description",
        "args",
        "check",
        "diff",
        "become",
        "login_user",
        "vars",
        "files",
        "host",
        "always",
        "expect",
    ];
    for (k, _) in root
        .as_map()
        .ok_or_else(|| bad(file, Some(&root), "a case is a mapping"))?
    {
        let name = k.as_str().unwrap_or_default();
        if !KEYS.contains(&name) {
            return Err(bad(file, Some(k), &format!("unknown case key '{name}'")));
        }
    }
    let description = root
        .get("description")
        .and_then(str_of)
        .ok_or_else(|| bad(file, Some(&root), "a case needs a description"))?;
    let args = root
        .get("args")
        .cloned()
        .unwrap_or_else(|| Node::new(NodeKind::Map(Vec::new()), root.span.clone()));
    let expect = root
        .get("expect")
        .cloned()
        .ok_or_else(|| bad(file, Some(&root), "a case needs expect"))?;
    let vars = match root.get("vars").map(Node::to_value) {
        Some(v) => v
            .try_iter()
            .map_err(|e| e.to_string())?
            .map(|k| (k.to_string(), v.get_item(&k).unwrap_or_default()))
            .collect(),
        None => Vars::new(),
    };
    let files = match root.get("files").and_then(Node::as_map) {
        Some(m) => m
            .iter()
            .map(|(k, v)| (str_of(k).unwrap_or_default(), str_of(v).unwrap_or_default()))
            .collect(),
        None => Vec::new(),
    };
    Ok(Case {
        file: file.to_path_buf(),
        module: module.to_string(),
        description,
        args,
        check: bool_of(root.get("check"), false),
        diff: bool_of(root.get("diff"), false),
        become_user: root.get("become").and_then(str_of),
        login_user: root
            .get("login_user")
            .and_then(str_of)
            .unwrap_or_else(|| "root".into()),
        vars,
        files,
        host: replies(file, root.get("host"))?,
        always: replies(file, root.get("always"))?,
        expect,
    })
}

/// The arguments as the loader reads them: a mapping (with each key's span), or
/// free-form text.
fn raw_args(
    case: &Case,
    spec: &'static modules::ModuleSpec,
) -> drover::diagnostics::Result<(Vars, Vec<(String, Span)>)> {
    match &case.args.kind {
        NodeKind::Str(text) => Ok((
            modules::args::parse_free_form(spec, text, &case.args.span)?,
            Vec::new(),
        )),
        NodeKind::Map(entries) => Ok((
            entries
                .iter()
                .map(|(k, v)| (str_of(k).unwrap_or_default(), v.to_value()))
                .collect(),
            entries
                .iter()
                .map(|(k, _)| (str_of(k).unwrap_or_default(), k.span.clone()))
                .collect(),
        )),
        _ => Err(Error::invalid(
            "args must be a mapping or text",
            &case.args.span,
        )),
    }
}

fn task_for(case: &Case, module: &'static str, args: Vars, dir: &Path) -> Task {
    Task {
        name: Some(case.description.clone()),
        args,
        search_dirs: Arc::new(vec![dir.to_path_buf()]),
        ..Task::new(0, module, case.args.span.clone())
    }
}

fn failed_with(out: &mut Outcome, e: Error) {
    out.failed = true;
    out.msg = e.message.clone();
    if let Some(h) = &e.help {
        out.msg.push_str(&format!(" (help: {h})"));
    }
}

/// Run one case: what the module did, and the connection that saw it.
fn run(case: &Case) -> Result<(Outcome, Recording), String> {
    let module = modules::find(&case.module)
        .ok_or_else(|| format!("{}: no module {}", case.file.display(), case.module))?;
    let spec = module.spec();
    let mut conn = Recording::new(&case.login_user, case.host.clone(), case.always.clone());
    let mut out = Outcome::default();
    // Load time: the argument checks the playbook loader makes.
    let (raw, key_spans) = match raw_args(case, spec) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(e);
            return Ok((out, conn));
        }
    };
    if let Err(e) = modules::args::validate(spec, &raw, &case.args.span, &key_spans) {
        out.error = Some(e);
        return Ok((out, conn));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (name, content) in &case.files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, content).map_err(|e| e.to_string())?;
    }
    // The case's controller directory, as `playbook_dir` (fetch writes below it).
    let mut vars = case.vars.clone();
    let here = Value::from(dir.path().display().to_string());
    vars.insert("case_dir".into(), here.clone());
    vars.insert("playbook_dir".into(), here);
    let eval = CaseEval {
        env: drover::template::environment(),
        vars,
    };
    // Run time: templating, then the arguments against the spec (aliases, types).
    let mut rendered = Vars::new();
    for (k, v) in &raw {
        match drover::template::render_value(&eval.env, v, &eval.ctx()) {
            Ok(v) => {
                rendered.insert(k.clone(), v);
            }
            Err(e) => {
                out.error = Some(e.at(case.args.span.clone()));
                return Ok((out, conn));
            }
        }
    }
    let args = match Args::new(spec, rendered.clone()) {
        Ok(a) => a,
        Err(e) => {
            out.error = Some(e.at(case.args.span.clone()));
            return Ok((out, conn));
        }
    };
    let task = task_for(case, spec.name, rendered, dir.path());
    let mut cache = modules::probe::ProbeCache::default();
    let become_ = case
        .become_user
        .as_ref()
        .map(|u| drover::connection::Become {
            user: u.clone(),
            method: drover::connection::BecomeMethod::Sudo,
            password: None,
        });
    conn.set_phase("plan");
    let phase = conn.phase();
    {
        let mut ctx = ModuleCtx {
            timeout: None,
            host: "testhost",
            conn: &mut conn,
            become_,
            environment: Vec::new(),
            check: case.check,
            diff: case.diff,
            task: &task,
            eval: &eval,
            cache: &mut cache,
            batch: None,
        };
        // As the engine: a module Ansible does not run in check mode is not planned.
        let skipped = case
            .check
            .then(|| module.check_mode().skipped_plan())
            .flatten();
        let plan = match skipped
            .map(Ok)
            .unwrap_or_else(|| module.plan(&mut ctx, &args))
        {
            Ok(p) => p,
            Err(e) if e.kind == ErrorKind::Unreachable => return Err(e.message.clone()),
            Err(e) => {
                failed_with(&mut out, e);
                drop(ctx);
                return Ok((out, conn));
            }
        };
        out.result = plan.result;
        out.effects = format!("{:?}", plan.effects);
        out.diffs = plan
            .diff
            .iter()
            .map(|d| (d.before.clone(), d.after.clone()))
            .collect();
        if plan.failed {
            out.failed = true;
        } else if plan.skipped {
            out.skipped = true;
        } else {
            out.changed = plan.change != Change::None;
            let silent = plan.silent;
            if out.changed && !case.check {
                phase.set("apply");
                let applied = match (plan.apply, plan.op) {
                    (Some(apply), _) => apply(&mut ctx),
                    (None, Some(op)) => ctx
                        .apply_op(op, plan.touches.clone(), plan.touches_tree)
                        .map(|a| match a {
                            modules::Applied::Now(done) => done.extra,
                            modules::Applied::Queued(_) => Vars::new(),
                        }),
                    (None, None) => Ok(Vars::new()),
                };
                match applied {
                    Ok(mut extra) => {
                        if extra.get("changed").is_some_and(|v| !v.is_true()) {
                            out.changed = false;
                        }
                        extra.shift_remove("changed");
                        out.result.extend(extra);
                    }
                    Err(e) if e.kind == ErrorKind::Unreachable => return Err(e.message.clone()),
                    Err(e) => {
                        out.changed = false;
                        failed_with(&mut out, e);
                    }
                }
            }
            // Work Ansible does without reporting it (the engine does the same).
            if silent {
                out.changed = false;
            }
        }
    }
    if out.result.get("failed").is_some_and(|v| v.is_true()) {
        out.failed = true;
    }
    if out.msg.is_empty() {
        if let Some(m) = out.result.get("msg") {
            out.msg = m.to_string();
        }
    }
    Ok((out, conn))
}

/// What in a script changes the host, if anything.
fn write_in(writes: &regex::Regex, script: &str) -> Option<String> {
    // A read may clean up its own temporary file: that is no write.
    let script = ["\"$t\"", "\"$e\"", "\"$a\"", "\"$c\"", "\"$w\""]
        .iter()
        .fold(script.to_string(), |acc, t| {
            acc.replace(&format!("rm -f {t}"), "")
                .replace(&format!("rm -rf {t}"), "")
        });
    // apt-get changes the host unless it only simulates (`-s`).
    let apt = script.lines().find(|l| {
        l.contains("apt-get ")
            && !l.contains(" -s ")
            && [
                " install",
                " remove",
                " purge",
                " update",
                " upgrade",
                " autoremove",
            ]
            .iter()
            .any(|v| l.contains(v))
    });
    if let Some(l) = apt {
        return Some(format!("runs `{}`", l.trim()));
    }
    writes
        .find(&script)
        .map(|m| format!("runs `{}`", m.as_str()))
}

/// Does `got` hold what `want` says? Mappings may have more keys than the case names
/// (a result carries many); everything else must be equal.
fn subset(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    match (want, got) {
        (serde_json::Value::Object(w), serde_json::Value::Object(g)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| subset(wv, gv))),
        _ => want == got,
    }
}

fn json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Compare a case's outcome with its `expect:`; the mismatches.
fn check(case: &Case, out: &Outcome, conn: &Recording) -> Vec<String> {
    let e = &case.expect;
    let mut problems = Vec::new();
    let file = &case.file;
    for (k, _) in e.as_map().unwrap_or_default() {
        let k = k.as_str().unwrap_or_default();
        if ![
            "changed",
            "failed",
            "skipped",
            "error",
            "msg",
            "sent",
            "not_sent",
            "no_write",
            "result",
            "absent",
            "diff",
            "unused_replies",
            "effects",
            "plan_writes",
        ]
        .contains(&k)
        {
            problems.push(bad(file, Some(e), &format!("unknown expect key '{k}'")));
        }
    }
    if let Some(want) = e.get("error").and_then(str_of) {
        match &out.error {
            None => problems.push(format!(
                "expected an argument error containing {want:?}, the module ran (failed: {}, msg: {:?})",
                out.failed, out.msg
            )),
            Some(err) => {
                if !err.message.contains(&want) {
                    problems.push(format!(
                        "argument error {:?} does not contain {want:?}",
                        err.message
                    ));
                }
                // Located: the error points into the case's own file.
                match &err.span {
                    Some(s) if *s.file == *file.as_path() => {}
                    other => problems.push(format!(
                        "argument error {:?} is not located in the case (span {other:?})",
                        err.message
                    )),
                }
            }
        }
        if !conn.sent.is_empty() {
            problems.push(format!(
                "an argument error must come before any command; {} were sent",
                conn.sent.len()
            ));
        }
        return problems;
    }
    if let Some(err) = &out.error {
        problems.push(format!(
            "unexpected argument error: {} {}",
            err.span.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            err.message
        ));
        return problems;
    }
    let want_msg = e.get("msg").and_then(str_of);
    let flag = |key: &str, default: bool| bool_of(e.get(key), default);
    let want_failed = flag("failed", false);
    for (key, got, want) in [
        ("failed", out.failed, want_failed),
        ("changed", out.changed, flag("changed", false)),
        ("skipped", out.skipped, flag("skipped", false)),
    ] {
        if got != want {
            problems.push(format!(
                "{key}: expected {want}, got {got} (msg: {:?})",
                out.msg
            ));
        }
    }
    if let Some(m) = want_msg {
        if !out.msg.contains(&m) {
            problems.push(format!("msg {:?} does not contain {m:?}", out.msg));
        }
    }
    // The commands sent, in order (each pattern after the previous one's match).
    if let Some(list) = e.get("sent").and_then(Node::as_seq) {
        let mut at = 0;
        for p in list {
            let text = str_of(p).unwrap_or_default();
            let pat = match pattern(&text) {
                Ok(p) => p,
                Err(err) => {
                    problems.push(bad(file, Some(p), &err));
                    continue;
                }
            };
            // Several patterns may match the same command, in order.
            match conn.sent[at..].iter().position(|s| pat.matches(&s.script)) {
                Some(i) => at += i,
                None => {
                    problems.push(format!(
                        "no command after #{at} matches {} (sent: {})",
                        pat.describe(),
                        summary(conn)
                    ));
                    break;
                }
            }
        }
    }
    if let Some(list) = e.get("not_sent").and_then(Node::as_seq) {
        for p in list {
            let text = str_of(p).unwrap_or_default();
            if let Ok(pat) = pattern(&text) {
                if let Some(s) = conn.sent.iter().find(|s| pat.matches(&s.script)) {
                    problems.push(format!(
                        "a command matches {} but none should: {}",
                        pat.describe(),
                        first_line(&s.script)
                    ));
                }
            }
        }
    }
    // The module contract: a plan changes nothing, in every case (a module that knowingly
    // writes while it plans names why with `plan_writes:`).
    let plan_writes = e.get("plan_writes").and_then(str_of);
    let writes = regex::Regex::new(WRITE_VERBS).unwrap();
    if plan_writes.is_none() {
        for s in conn.sent.iter().filter(|s| s.phase == "plan") {
            if let Some(why) = write_in(&writes, &s.script) {
                problems.push(format!(
                    "the plan sent a write ({why}): {}",
                    first_line(&s.script)
                ));
            }
        }
    }
    if flag("no_write", false) {
        for s in &conn.sent {
            let why = if s.phase == "apply" {
                Some("sent by the apply step".to_string())
            } else {
                write_in(&writes, &s.script)
            };
            if let Some(why) = why {
                problems.push(format!(
                    "expected no write command, but one {why}: {}",
                    first_line(&s.script)
                ));
            }
        }
    }
    if let Some(NodeKind::Map(entries)) = e.get("result").map(|n| &n.kind) {
        for (k, v) in entries {
            let key = str_of(k).unwrap_or_default();
            match out.result.get(&key) {
                None => problems.push(format!("result has no key '{key}'")),
                Some(got) => {
                    let (got, want) = (json(got), json(&v.to_value()));
                    if !subset(&want, &got) {
                        problems.push(format!("result '{key}': expected {want}, got {got}"));
                    }
                }
            }
        }
    }
    if let Some(list) = e.get("absent").and_then(Node::as_seq) {
        for k in list.iter().filter_map(str_of) {
            if out.result.contains_key(&k) {
                problems.push(format!("result has '{k}', which it should not"));
            }
        }
    }
    for want in e.get("effects").and_then(Node::as_seq).unwrap_or_default() {
        let want = str_of(want).unwrap_or_default();
        if !out.effects.contains(&want) {
            problems.push(format!("effects {} do not mention {want:?}", out.effects));
        }
    }
    if let Some(d) = e.get("diff") {
        let (before, after): (String, String) = out
            .diffs
            .iter()
            .fold((String::new(), String::new()), |(b, a), (db, da)| {
                (b + db, a + da)
            });
        for (key, text) in [("before", &before), ("after", &after)] {
            if let Some(want) = d.get(key).and_then(str_of) {
                if !text.contains(&want) {
                    problems.push(format!("diff {key} {text:?} does not contain {want:?}"));
                }
            }
        }
    }
    if !conn.unexpected.is_empty() {
        problems.extend(conn.unexpected.iter().cloned());
    }
    if !flag("unused_replies", false) && !conn.unused().is_empty() {
        problems.push(format!(
            "{} canned replies were never asked for (first: {})",
            conn.unused().len(),
            conn.unused()[0].pattern.describe()
        ));
    }
    problems
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect()
}

fn summary(conn: &Recording) -> String {
    conn.sent
        .iter()
        .enumerate()
        .map(|(i, s)| format!("#{} [{}] {}", i + 1, s.phase, first_line(&s.script)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn main() {
    let t0 = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/modules");
    let only = std::env::var("MODULE_CASES").ok();
    let trace = std::env::var("MODULE_CASES_TRACE").is_ok();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/modules")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let module = dir.file_name().unwrap().to_string_lossy().to_string();
        match modules::find(&module) {
            Some(m) if m.spec().name == module => {}
            _ => {
                failures.push(format!(
                    "{}: not the name of a registered module",
                    dir.display()
                ));
                continue;
            }
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yml"))
            .collect();
        files.sort();
        for f in files {
            if only
                .as_deref()
                .is_some_and(|o| !f.to_string_lossy().contains(o))
            {
                continue;
            }
            *counts.entry(module.clone()).or_default() += 1;
            let case = match load_case(&f, &module) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            let problems = match run(&case) {
                Ok((out, conn)) => {
                    if trace {
                        eprintln!("== {}: {out:?}", f.display());
                        for (i, s) in conn.sent.iter().enumerate() {
                            eprintln!(
                                "-- #{} [{}] stdin={:?}\n{}",
                                i + 1,
                                s.phase,
                                s.stdin_len,
                                s.script
                            );
                        }
                    }
                    check(&case, &out, &conn)
                }
                Err(e) => vec![e],
            };
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({}):\n    {}",
                    f.display(),
                    case.description,
                    problems.join("\n    ")
                ));
            }
        }
    }
    let total: usize = counts.values().sum();
    println!(
        "module cases: {total} in {:.2}s",
        t0.elapsed().as_secs_f64()
    );
    for (m, n) in &counts {
        println!("  {m:<22} {n}");
    }
    if only.is_none() {
        for m in modules::registry() {
            let name = m.spec().name;
            let n = counts.get(name).copied().unwrap_or(0);
            if let Some((_, why)) = EXEMPT.iter().find(|(e, _)| *e == name) {
                println!("  {name:<22} exempt: {why}");
                continue;
            }
            if n < MIN_CASES {
                failures.push(format!(
                    "module {name} has {n} cases, fewer than {MIN_CASES} (add tests/modules/{name}/*.yml)"
                ));
            }
        }
    }
    if !failures.is_empty() {
        eprintln!("{} problem(s):\n{}", failures.len(), failures.join("\n"));
        std::process::exit(1);
    }
}
