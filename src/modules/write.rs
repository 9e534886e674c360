//! The plan shared by every module that writes a whole file (copy, template,
//! lineinfile, blockinfile, replace): compare checksums and attributes, show a diff,
//! and write atomically only when something differs.

use super::attrs::Attrs;
use super::op::{Done, RemoteOp};
use super::probe::{Answer, Probe};
use super::{Change, Diff, ModuleCtx, Plan};
use crate::connection::{FileKind, FileState, PutAttrs};
use crate::diagnostics::{Error, Result};
use crate::pyregex::PyRegex;
use crate::vars::Vars;
use minijinja::Value;
use sha1::{Digest, Sha1};

/// Files larger than this are not shown in diffs.
const MAX_DIFF_BYTES: u64 = 256 * 1024;

pub struct WriteRequest {
    pub dest: String,
    pub content: Vec<u8>,
    pub attrs: Attrs,
    pub backup: bool,
    pub validate: Option<String>,
    /// `force: no` — never replace an existing file.
    pub force: bool,
    /// Already-known current state and content (line editors read the file anyway).
    pub current: Option<(FileState, Option<Vec<u8>>)>,
    /// Which of Ansible's result shapes to report.
    pub shape: ResultShape,
    /// Create missing parent directories, as lineinfile and blockinfile do.
    pub make_parents: bool,
}

/// The registered result of a module that writes a file has the keys Ansible's module
/// returns, which differ between modules and between changed, unchanged and check mode.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultShape {
    /// copy and template: the file's attributes and checksums, a `diff` list. The string
    /// is the diff's `after_header` (the controller source, or the destination).
    File { after_header: String },
    /// lineinfile (with a `backup` key) and blockinfile: a content and an attributes diff.
    LineEdit { backup_key: bool },
    /// replace: `rc`, and a `diff` only in diff mode.
    Replace,
    /// A module that reports its own result and uses only the write and its diff
    /// (sysctl, the apt source modules).
    Bare,
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

pub fn plan_write(ctx: &mut ModuleCtx<'_>, req: WriteRequest) -> Result<Plan> {
    if let Some(v) = req.validate.as_deref().filter(|v| !v.contains("%s")) {
        return Err(Error::module(format!("validate must contain %s: {v}")));
    }
    let (cur, known_content) = match req.current.clone() {
        Some(c) => c,
        None => (ctx.stat(&req.dest, true, true)?, None),
    };
    if cur.kind == FileKind::Directory {
        return Err(Error::module(format!(
            "{} is a directory, not a file",
            req.dest
        )));
    }
    let new_sum = sha1_hex(&req.content);
    let content_same = cur.exists() && cur.sha1.as_deref() == Some(new_sum.as_str());
    let attr_diffs = if cur.exists() {
        req.attrs.differences(&cur)
    } else {
        Vec::new()
    };
    let unchanged_content = content_same || (cur.exists() && !req.force);
    let before_text = |ctx: &mut ModuleCtx<'_>| -> Result<String> {
        Ok(if !cur.exists() {
            String::new()
        } else if let Some(c) = &known_content {
            text_or_note(c)
        } else if cur.size <= MAX_DIFF_BYTES {
            ctx.read_file(&req.dest)?
                .map(|c| text_or_note(&c))
                .unwrap_or_default()
        } else {
            format!("(file of {} bytes not shown)\n", cur.size)
        })
    };
    // What the result's `diff` shows: the contents only in diff mode, as Ansible.
    let (before, after) = if ctx.diff {
        let after = if unchanged_content && !content_same {
            before_text(ctx)?
        } else {
            text_or_note(&req.content)
        };
        (before_text(ctx)?, after)
    } else {
        (String::new(), String::new())
    };
    let mut result = match &req.shape {
        ResultShape::File { .. } => {
            let mut r = base_result(&req.dest, &cur, &new_sum, req.content.len());
            if let Some(m) = &req.attrs.mode {
                // The mode it ends up with, as Ansible reads it back ('0%03o').
                let numeric = m.chars().all(|c| c.is_ascii_digit());
                let shown = (cur.exists() || numeric)
                    .then(|| super::attrs::target_mode(m, cur.mode, false))
                    .flatten()
                    .map(crate::connection::octal_mode)
                    .unwrap_or_else(|| m.clone());
                r.insert("mode".into(), Value::from(shown));
            }
            r
        }
        ResultShape::LineEdit { backup_key } => {
            let mut r = Vars::new();
            if *backup_key {
                r.insert("backup".into(), Value::from(""));
            }
            let content = serde_json::json!({
                "before": before, "after": after,
                "before_header": format!("{} (content)", req.dest),
                "after_header": format!("{} (content)", req.dest),
            });
            let attributes = serde_json::json!({
                "before_header": format!("{} (file attributes)", req.dest),
                "after_header": format!("{} (file attributes)", req.dest),
            });
            // Ansible's quirk: creating a file in check mode reports the content part
            // alone, not the list.
            let diff = if ctx.check && !cur.exists() {
                content
            } else {
                serde_json::json!([content, attributes])
            };
            r.insert("diff".into(), Value::from_serialize(&diff));
            r
        }
        ResultShape::Bare => Vars::new(),
        ResultShape::Replace => {
            let mut r = Vars::new();
            r.insert("rc".into(), Value::from(0));
            if ctx.diff && !unchanged_content {
                let diff = serde_json::json!({
                    "before": before, "after": after,
                    "before_header": req.dest, "after_header": req.dest,
                });
                r.insert("diff".into(), Value::from_serialize(&diff));
            }
            r
        }
    };
    let mut hard_link_diff = None;
    if let ResultShape::File { after_header } = &req.shape {
        if cur.exists() && !req.force {
            // force: no on an existing file (whatever its content): Ansible reports the
            // destination only.
            result = Vars::new();
            result.insert("dest".into(), Value::from(req.dest.as_str()));
        } else if unchanged_content {
            result.insert("path".into(), Value::from(req.dest.as_str()));
            // Unchanged: the file module's attribute diff in diff mode, empty but for a
            // destination with other hard links, whose state Ansible reads as `hard`.
            let diff = if ctx.diff {
                let side = serde_json::json!({"path": req.dest});
                let (mut before, mut after) = (side.clone(), side);
                if cur.kind == FileKind::File && cur.links > 1 {
                    before["state"] = "hard".into();
                    after["state"] = "file".into();
                    hard_link_diff = Some(Diff {
                        before_header: req.dest.clone(),
                        after_header: req.dest.clone(),
                        before: diff_map(&[("path", req.dest.clone()), ("state", "hard".into())]),
                        after: diff_map(&[("path", req.dest.clone()), ("state", "file".into())]),
                    });
                }
                Value::from_serialize(serde_json::json!({"before": before, "after": after}))
            } else {
                Value::from(Vec::<Value>::new())
            };
            result.insert("diff".into(), diff);
        } else if ctx.check {
            // A copy that would change reports nothing but its diff in check mode.
            result = Vars::new();
            result.insert(
                "diff".into(),
                file_diff(ctx.diff, &cur, &req.dest, after_header, &before, &after),
            );
        } else {
            result.insert("md5sum".into(), Value::from(md5_hex(&req.content)));
            result.insert(
                "diff".into(),
                file_diff(ctx.diff, &cur, &req.dest, after_header, &before, &after),
            );
        }
    }
    // copy and template with `force: no` leave an existing file alone, its attributes
    // too: Ansible's action plugin skips it before any module runs.
    let skipped = cur.exists() && !req.force && matches!(req.shape, ResultShape::File { .. });
    if unchanged_content {
        if attr_diffs.is_empty() || skipped {
            return Ok(Plan::no_change(result).with_diff(hard_link_diff));
        }
        let diff = attr_diff(&req.dest, &cur, &req.attrs, &attr_diffs);
        let op = req.attrs.op(&req.dest);
        return Ok(Plan::change_op(Change::Modify(attr_diffs), result, op)
            .touching_inode(vec![req.dest.clone()], &cur)
            .with_diff(Some(diff)));
    }
    let change = if cur.exists() {
        let mut what = vec!["content".to_string()];
        what.extend(attr_diffs);
        Change::Modify(what)
    } else {
        Change::Create
    };
    let diff = ctx.diff.then(|| Diff {
        before_header: req.dest.clone(),
        after_header: req.dest.clone(),
        before: before.clone(),
        after: text_or_note(&req.content),
    });
    let reports_attrs = matches!(req.shape, ResultShape::File { .. });
    // lineinfile names the backup `backup`; the other modules `backup_file`.
    let backup_key = match req.shape {
        ResultShape::LineEdit { backup_key: true } => "backup",
        _ => "backup_file",
    };
    let put = PutAttrs {
        mode: req.attrs.mode.clone(),
        owner: req.attrs.owner.clone(),
        group: req.attrs.group.clone(),
        backup: req.backup,
        validate: req.validate.clone(),
        make_parents: req.make_parents,
    };
    let touched = req.dest.clone();
    let expect = expected_state(&cur, &req);
    let mut op = write_op(req.dest, req.content, &put, reports_attrs, backup_key);
    op.expect = expect;
    Ok(Plan::change_op(change, result, op)
        .touching(vec![touched])
        .with_diff(diff))
}

/// The largest written content the host-state cache keeps (for the next edit of the
/// same file, usually a small config file): a copy of every file a task list writes
/// would stay in memory per host until the list ends. Bigger ones are read again if a
/// later plan needs them.
const KNOWN_CONTENT_MAX: usize = 64 * 1024;

/// What a write over an existing regular file leaves, known before it runs: the old
/// file's owner and group (copied by the write), its mode or the one asked for, the new
/// content. Nothing is predicted for a new file (its owner is the remote user's) or a
/// change of owner or group. The time stamps are not known: no writing module reads them.
/// Nor for a validated write: validation may refuse it, and the next edit of the same
/// file must then start from what is really there, as it would without batching (other
/// failures, a full disk or a missing directory, fail the next write of the path too).
fn expected_state(cur: &FileState, req: &WriteRequest) -> Vec<(Probe, Answer)> {
    if cur.kind != FileKind::File
        || req.attrs.owner.is_some()
        || req.attrs.group.is_some()
        || req.validate.is_some()
    {
        return Vec::new();
    }
    let mode = match &req.attrs.mode {
        None => cur.mode,
        Some(m) => match super::attrs::target_mode(m, cur.mode, false) {
            Some(n) => n,
            None => return Vec::new(),
        },
    };
    let st = FileState {
        kind: FileKind::File,
        mode,
        size: req.content.len() as u64,
        sha1: Some(sha1_hex(&req.content)),
        link_target: None,
        links: 1,
        ..cur.clone()
    };
    let mut out: Vec<(Probe, Answer)> = [true, false]
        .into_iter()
        .map(|follow| {
            let p = Probe::Stat {
                path: req.dest.clone(),
                follow,
                checksum: true,
            };
            (p, Answer::Stat(st.clone()))
        })
        .collect();
    if req.content.len() <= KNOWN_CONTENT_MAX {
        out.push((
            Probe::Read {
                path: req.dest.clone(),
            },
            Answer::Read(Some(req.content.clone())),
        ));
    }
    out
}

/// The atomic write of `content` to `dest` as an op. Once done, the file's stat and
/// content are known: the write's own report says what it left.
fn write_op(
    dest: String,
    content: Vec<u8>,
    put: &PutAttrs,
    reports_attrs: bool,
    backup_key: &'static str,
) -> RemoteOp {
    let script = crate::connection::put_script(&dest, content.len(), put);
    let sum = sha1_hex(&content);
    let readable = content.len() <= KNOWN_CONTENT_MAX;
    let mut known_content = readable.then(|| content.clone());
    let mut payload = content;
    payload.extend_from_slice(crate::connection::PUT_SENTINEL);
    RemoteOp {
        script,
        payload,
        prelude: crate::connection::put_prelude(),
        with_env: false,
        expect: Vec::new(),
        describe: Some(dest.clone()),
        finish: Box::new(move |out, described| {
            let written = crate::connection::put_finish(&dest, out, described)?;
            let mut done = Done::default();
            if let Some(b) = written.backup {
                done.extra.insert(backup_key.into(), Value::from(b));
            }
            if let Some(st) = written.state {
                if reports_attrs {
                    let extra = &mut done.extra;
                    extra.insert("mode".into(), Value::from(st.mode_string()));
                    extra.insert("owner".into(), Value::from(st.owner.as_str()));
                    extra.insert("group".into(), Value::from(st.group.as_str()));
                    extra.insert("uid".into(), Value::from(st.uid));
                    extra.insert("gid".into(), Value::from(st.gid));
                }
                if st.kind == FileKind::File {
                    let st = FileState {
                        sha1: Some(sum),
                        ..st
                    };
                    for follow in [true, false] {
                        done.known.push((
                            Probe::Stat {
                                path: dest.clone(),
                                follow,
                                checksum: true,
                            },
                            Answer::Stat(st.clone()),
                        ));
                    }
                    if let Some(c) = known_content.take() {
                        done.known
                            .push((Probe::Read { path: dest.clone() }, Answer::Read(Some(c))));
                    }
                }
            }
            Ok(done)
        }),
    }
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Md5;
    hex::encode(Md5::digest(data))
}

/// copy/template's `diff` result: `[]` outside diff mode, else one before/after entry.
fn file_diff(
    diff_mode: bool,
    cur: &FileState,
    dest: &str,
    after_header: &str,
    before: &str,
    after: &str,
) -> Value {
    if !diff_mode {
        return Value::from(Vec::<Value>::new());
    }
    let mut d = serde_json::json!({"before": before, "after": after, "after_header": after_header});
    if cur.exists() {
        d["before_header"] = serde_json::Value::from(dest);
    }
    Value::from_serialize([d])
}

fn text_or_note(data: &[u8]) -> String {
    if data.len() as u64 > MAX_DIFF_BYTES {
        return format!("(content of {} bytes not shown)\n", data.len());
    }
    match std::str::from_utf8(data) {
        Ok(s) if !s.contains('\0') => s.to_string(),
        _ => format!("(binary content, {} bytes)\n", data.len()),
    }
}

fn base_result(dest: &str, cur: &FileState, checksum: &str, size: usize) -> Vars {
    let mut r = Vars::new();
    r.insert("dest".into(), Value::from(dest));
    r.insert("checksum".into(), Value::from(checksum));
    r.insert("size".into(), Value::from(size));
    r.insert("state".into(), Value::from("file"));
    if cur.exists() {
        r.insert("mode".into(), Value::from(cur.mode_string()));
        r.insert("owner".into(), Value::from(cur.owner.as_str()));
        r.insert("group".into(), Value::from(cur.group.as_str()));
        r.insert("uid".into(), Value::from(cur.uid));
        r.insert("gid".into(), Value::from(cur.gid));
    }
    r
}

/// One side of a file diff as Ansible's default callback shows it: the module's mapping
/// (`path`, `state`, `mode` …) as JSON with sorted keys and an indent of 4.
pub fn diff_map(pairs: &[(&str, String)]) -> String {
    let m: std::collections::BTreeMap<&str, &str> =
        pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from("{\n");
    for (i, (k, v)) in m.iter().enumerate() {
        let comma = if i + 1 < m.len() { "," } else { "" };
        out.push_str(&format!("    {}: {}{comma}\n", q(k), q(v)));
    }
    out.push_str("}\n");
    out
}

/// Before/after of attributes, in the shape Ansible's diff shows them.
pub fn attr_diff(path: &str, cur: &FileState, attrs: &Attrs, which: &[String]) -> Diff {
    let (mut before, mut after) = attr_pairs(cur, attrs, which);
    before.insert(0, ("path", path.to_string()));
    after.insert(0, ("path", path.to_string()));
    let (before, after) = (diff_map(&before), diff_map(&after));
    Diff {
        before_header: format!("{path} (attributes)"),
        after_header: format!("{path} (attributes)"),
        before,
        after,
    }
}

/// The entries of [`attr_diff`] for the attributes `which`, before and after.
pub type DiffPairs = Vec<(&'static str, String)>;
pub fn attr_pairs(cur: &FileState, attrs: &Attrs, which: &[String]) -> (DiffPairs, DiffPairs) {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for w in which {
        let (k, b, a) = match w.as_str() {
            // A symbolic mode shows as the octal mode it results in, as in Ansible.
            "mode" => (
                "mode",
                cur.mode_string(),
                attrs
                    .mode
                    .as_deref()
                    .map(|m| {
                        super::attrs::target_mode(m, cur.mode, cur.kind == FileKind::Directory)
                            .map(crate::connection::octal_mode)
                            .unwrap_or_else(|| m.to_string())
                    })
                    .unwrap_or_default(),
            ),
            "owner" => (
                "owner",
                cur.owner.clone(),
                attrs.owner.clone().unwrap_or_default(),
            ),
            "group" => (
                "group",
                cur.group.clone(),
                attrs.group.clone().unwrap_or_default(),
            ),
            "state" => ("state", state_name(cur.kind).to_string(), String::new()),
            _ => continue,
        };
        before.push((k, b));
        after.push((k, a));
    }
    (before, after)
}

pub fn state_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Missing => "absent",
        FileKind::File => "file",
        FileKind::Directory => "directory",
        FileKind::Link => "link",
        FileKind::Other => "other",
    }
}

/// Ansible's `get_state` of a path that is there: its kind, a regular file with more than
/// one link `hard`.
pub fn path_state(st: &FileState) -> &'static str {
    // Ansible's: link, directory, hard (more than one link), else file (a fifo, a
    // socket or a device too).
    match st.kind {
        FileKind::Missing => "absent",
        FileKind::Link => "link",
        FileKind::Directory => "directory",
        _ if st.links > 1 => "hard",
        _ => "file",
    }
}

/// Stat a file and read its content in one round trip (the line editors need both).
pub fn read_with_state(
    ctx: &mut ModuleCtx<'_>,
    path: &str,
) -> Result<(FileState, Option<Vec<u8>>)> {
    let stat = Probe::Stat {
        path: path.to_string(),
        follow: true,
        checksum: true,
    };
    let read = Probe::Read {
        path: path.to_string(),
    };
    for _ in 0..2 {
        if let (Some(Answer::Stat(st)), Some(Answer::Read(content))) = (
            ctx.cache.get(&stat, ctx.become_.as_ref()),
            ctx.cache.get(&read, ctx.become_.as_ref()),
        ) {
            let content = if st.kind == FileKind::File {
                content.clone()
            } else {
                None
            };
            return Ok((st.clone(), content));
        }
        // Writes queued before this task may be what it reads: they report it.
        if !ctx.settle()? {
            break;
        }
    }
    let q = crate::connection::quote(path);
    let script = format!(
        "{}\nprintf '\\000'\nif [ -f {q} ]; then cat -- {q} || exit 1; fi",
        crate::connection::stat_script(&q, true, true)
    );
    let out = ctx.sh(&script, None)?;
    if out.rc != 0 {
        return Err(Error::module(format!(
            "cannot read {path}: {}",
            out.stderr_str().trim()
        )));
    }
    let nul = out
        .stdout
        .iter()
        .position(|b| *b == 0)
        .ok_or_else(|| Error::module(format!("cannot read {path}: unexpected output")))?;
    let state = crate::connection::parse_stat(&String::from_utf8_lossy(&out.stdout[..nul]))?;
    let content = if state.kind == FileKind::File {
        Some(out.stdout[nul + 1..].to_vec())
    } else {
        None
    };
    Ok((state, content))
}

/// Translate a Python regex replacement (`\1`, `\g<name>`) to Rust's (`${1}`, `${name}`).
pub fn python_replacement(rep: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' {
            out.push_str("$$");
        } else if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                out.push_str(&format!("${{{num}}}"));
                i = j;
                continue;
            } else if n == 'g' && chars.get(i + 2) == Some(&'<') {
                if let Some(end) = chars[i + 3..].iter().position(|c| *c == '>') {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    out.push_str(&format!("${{{name}}}"));
                    i += 4 + end;
                    continue;
                }
            } else if let Some(e) = template_escape(n) {
                out.push(e);
                i += 2;
                continue;
            } else if n == '\\' {
                out.push('\\');
                i += 2;
                continue;
            }
            out.push(c);
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// The character a one-letter escape of a replacement template stands for.
fn template_escape(c: char) -> Option<char> {
    Some(match c {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        _ => return None,
    })
}

/// Python's `re` refuses a replacement template with an escaped ASCII letter it does not
/// know (`\D`): its message, as `re.error` words it (`bad escape \D at position 0`).
pub fn check_replacement(rep: &str) -> std::result::Result<(), String> {
    let chars: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '\\' {
            let n = chars[i + 1];
            if n.is_ascii_alphabetic() && n != 'g' && template_escape(n).is_none() {
                return Err(format!("bad escape \\{n} at position {i}"));
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Compile a Python-style regular expression, with a message that says what to change.
pub fn compile_regex(pattern: &str, arg: &str, multiline: bool) -> Result<PyRegex> {
    PyRegex::new(pattern, false, multiline).map_err(|e| {
        Error::module(format!(
            "{arg} '{pattern}' is not a valid regular expression: {e}"
        ))
    })
}

/// The index of the first (or last) line the predicate accepts.
pub fn position_of<L: AsRef<str>>(
    lines: &[L],
    first: bool,
    mut pred: impl FnMut(&str) -> Result<bool>,
) -> Result<Option<usize>> {
    let order: Box<dyn Iterator<Item = (usize, &L)>> = if first {
        Box::new(lines.iter().enumerate())
    } else {
        Box::new(lines.iter().enumerate().rev())
    };
    for (i, l) in order {
        if pred(l.as_ref())? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// A regular expression's matching error (backtracking limit) as a module error.
pub fn regex_failed(e: String) -> Error {
    Error::module(e)
}

/// What a module that edits the file at `path` reads: its stat with checksum, and its
/// content (lineinfile, blockinfile, replace).
pub fn edit_probes(args: &super::Args) -> Vec<super::probe::Probe> {
    use super::probe::Probe;
    match args.str("path") {
        Ok(Some(path)) => vec![
            Probe::Stat {
                path: path.clone(),
                follow: true,
                checksum: true,
            },
            Probe::Read { path },
        ],
        _ => Vec::new(),
    }
}

/// Ansible's `add_path_info` for a result naming a path.
pub fn add_path_info(r: &mut Vars, st: &crate::connection::FileState) {
    // Nothing for a path that does not exist (yet).
    if !st.exists() {
        return;
    }
    r.insert("gid".into(), Value::from(st.gid));
    r.insert("group".into(), Value::from(st.group.as_str()));
    r.insert("mode".into(), Value::from(st.mode_string()));
    r.insert("owner".into(), Value::from(st.owner.as_str()));
    r.insert("size".into(), Value::from(st.size));
    r.insert("state".into(), Value::from(path_state(st)));
    r.insert("uid".into(), Value::from(st.uid));
}
