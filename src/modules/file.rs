//! file: files, directories, symlinks, hard links, absence, touch; attributes, recurse.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{attr_diff, attr_pairs, diff_map, path_state, state_name};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::{octal_mode, quote, FileKind, FileState};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct File;

static SPEC: ModuleSpec = ModuleSpec {
    name: "file",
    aliases: &[],
    args: &[
        arg("path", Str).required().aliases(&["dest", "name"]),
        arg("state", Str).choices(&["file", "directory", "link", "hard", "absent", "touch"]),
        arg("src", Str),
        arg("mode", Mode),
        arg("attributes", Str).aliases(&["attr"]),
        arg("owner", Str),
        arg("group", Str),
        arg("recurse", Bool),
        arg("force", Bool),
        arg("follow", Bool),
        arg("access_time", Str),
        arg("modification_time", Str),
        arg("access_time_format", Str),
        arg("modification_time_format", Str),
        arg("unsafe_writes", Bool),
        // Internal to Ansible's action plugins (is the destination binary?), yet a task
        // may pass it: Ansible's own file target does.
        arg("_diff_peek", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// `attributes` on what touch, file and directory leave at `path` (through a link when
/// following): the flags change joins the plan's work, after it (see file_flags).
fn with_flags(
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    mut plan: Plan,
    attributes: &str,
    path: &str,
    cur: &crate::connection::FileState,
    sets_flags: bool,
) -> Result<Plan> {
    if !sets_flags || plan.failed || plan.skipped {
        return Ok(plan);
    }
    let target = match cur.link_target.as_deref() {
        Some(t) if cur.kind == FileKind::Link && args.bool("follow", true)? => {
            link_target_path(path, t)
        }
        _ => path.to_string(),
    };
    if !cur.exists() {
        // Ansible sets them on the new path; on the test hosts its chattr and drover's
        // gave different results there, so drover refuses rather than differ.
        if ctx.check || attributes.trim_start_matches(['+', '-']).is_empty() {
            return Ok(plan);
        }
        return Err(Error::module(format!(
            "attributes on a path this task creates ({path}) are not supported"
        ))
        .with_help("create the path first, then set attributes in a file task of its own"));
    }
    let Some(flags) = super::file_flags::planned(ctx, attributes, &target)? else {
        return Ok(plan);
    };
    if let Some(op) = plan.op.take() {
        plan.op = Some(flags.append_to(op));
        return Ok(plan);
    }
    if plan.apply.is_some() {
        return Err(Error::module(format!(
            "attributes cannot be combined with this change of {path} yet"
        ))
        .with_help("set the attributes in a file task of their own"));
    }
    let mut changed = Plan::change_op(
        Change::Modify(vec!["attributes".into()]),
        std::mem::take(&mut plan.result),
        flags.op(),
    );
    changed.diff = plan.diff;
    changed.effects = plan.effects;
    Ok(changed.touching(vec![target]))
}

/// As Ansible's `additional_parameter_handling`: with a `src`, a `path` that is a
/// directory (through links) means the entry named like `src` inside it, for every state
/// but `link` and `absent`.
fn path_inside_directory(
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    path: &str,
) -> Result<Option<String>> {
    if matches!(args.str("state")?.as_deref(), Some("link" | "absent")) {
        return Ok(None);
    }
    // Python's os.path.basename: what follows the last slash (nothing for `dir/`).
    let Some(name) = args
        .str("src")?
        .map(|s| s.rsplit('/').next().unwrap_or_default().to_string())
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    if ctx.stat(path, true, false)?.kind != FileKind::Directory {
        return Ok(None);
    }
    let sep = if path.ends_with('/') { "" } else { "/" };
    Ok(Some(format!("{path}{sep}{name}")))
}

impl Module for File {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("path") {
            Ok(Some(path)) => vec![
                Probe::Stat {
                    path: path.clone(),
                    follow: false,
                    checksum: false,
                },
                Probe::Stat {
                    path,
                    follow: true,
                    checksum: false,
                },
            ],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let mut path = args.req_str("path")?;
        if args.has("_diff_peek") {
            return diff_peek(ctx, &path);
        }
        if let Some(inner) = path_inside_directory(ctx, args, &path)? {
            path = inner;
        }
        let mut touched = vec![path.clone()];
        touched.extend(args.str("src")?);
        // Creating a directory or changing its attributes leaves what is below it as it
        // was; removing it, replacing it with a link or `recurse` do not.
        let tree = args.bool("recurse", false)?
            || matches!(
                args.str("state")?.as_deref(),
                Some("absent" | "link" | "hard")
            );
        let cur = ctx.stat(&path, false, false)?;
        // What a link points to may change through it (mode with follow): later reads of
        // the target must not come from before this task.
        if let Some(t) = cur
            .link_target
            .as_deref()
            .filter(|_| cur.kind == FileKind::Link)
        {
            touched.push(link_target_path(&path, t));
        }
        // Ansible's link states and touch name the path `dest` in their result.
        let dest_named = match args.str("state")?.as_deref() {
            Some(s) => matches!(s, "link" | "hard" | "touch"),
            // Without a state an existing link stays one (see plan_file).
            None => cur.kind == FileKind::Link,
        };
        let lookups = if ctx.check && args.str("state")?.as_deref() != Some("absent") {
            super::file_lookups::lookups(ctx, args)?
        } else {
            Default::default()
        };
        let warnings = lookups.warnings;
        // touch, file and directory compare the owner of an existing path: an unknown
        // name fails there, in check mode too (see file_lookups).
        let compares_owner = match args.str("state")?.as_deref() {
            Some(s) => matches!(s, "touch" | "file" | "directory"),
            None => matches!(cur.kind, FileKind::File | FileKind::Directory),
        };
        if let Some(msg) = lookups.failure.filter(|_| compares_owner && cur.exists()) {
            return Err(Error::module(msg)
                .with_result_key("path", path.as_str())
                .with_result_value("warnings", serde_json::json!(warnings)));
        }
        let path_arg = path.clone();
        let mut plan = plan_file(ctx, args, path).map_err(|e| {
            let e = with_path_info(e, &cur);
            if warnings.is_empty() {
                e
            } else {
                e.with_result_value("warnings", serde_json::json!(warnings))
            }
        })?;
        if !warnings.is_empty() {
            plan.result
                .insert("warnings".into(), Value::from_serialize(&warnings));
        }
        if let Some(attributes) = args.str("attributes")? {
            plan = with_flags(
                ctx,
                args,
                plan,
                &attributes,
                &path_arg,
                &cur,
                compares_owner,
            )?;
        }
        if plan.is_change() && ctx.check {
            describe_current(&mut plan.result, &cur);
        }
        // In diff mode the result carries the before/after mappings: Ansible's file
        // module returns them even when nothing changes (but for a path staying absent).
        if ctx.diff {
            let follow = args.bool("follow", true)?;
            let effective = if follow && cur.kind == FileKind::Link {
                ctx.stat(&path_arg, true, false)?
            } else {
                cur.clone()
            };
            let state = resolved_state(args, &cur, &effective)?;
            // `file` and `directory` follow a link to what it points to.
            let prev = if matches!(state.as_str(), "file" | "directory") {
                &effective
            } else {
                &cur
            };
            let p = plan
                .result
                .get("path")
                .and_then(|p| p.as_str().map(str::to_string));
            let base = super::file_diff::unchanged(&p.unwrap_or(path_arg), &state, prev);
            let planned = plan.diff.first().filter(|_| plan.is_change());
            let diff = match (planned, base) {
                (Some(d), base) => super::file_diff::merged(&d.before, &d.after, base),
                (None, base) => base,
            };
            if let Some(d) = diff {
                plan.result.insert("diff".into(), Value::from_serialize(d));
            }
        }
        if dest_named {
            if let Some(p) = plan.result.shift_remove("path") {
                plan.result.insert("dest".into(), p);
            }
        }
        // A recursion through links reaches paths outside the tree: the whole cache goes.
        let through_links = args.bool("recurse", false)? && args.bool("follow", true)?;
        Ok(if through_links {
            plan
        } else if tree {
            plan.touching_tree(touched)
        } else {
            plan.touching_inode(touched, &cur)
        })
    }
}

/// A failure naming the task's path (`path` or `dest`) also describes it, as Ansible's
/// `fail_json` does (its `add_path_info`: owner, mode, size, what it is).
fn with_path_info(e: Error, cur: &FileState) -> Error {
    if !e
        .result_keys
        .iter()
        .any(|(k, _)| k == "path" || k == "dest")
    {
        return e;
    }
    let mut info = Vars::new();
    super::write::add_path_info(&mut info, cur);
    info.into_iter().fold(e, |e, (k, v)| {
        let v = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
        e.with_result_value(&k, v)
    })
}

/// `_diff_peek`: only whether the file looks binary (a NUL byte in its first 8 KiB; an
/// unreadable file counts as text), with the path's attributes, as Ansible's
/// `execute_diff_peek`. Nothing changes.
fn diff_peek(ctx: &mut ModuleCtx<'_>, path: &str) -> Result<Plan> {
    let out = ctx.sh(
        &format!(
            "head -c 8192 -- {} 2>/dev/null | tr -dc '\\000' | wc -c",
            quote(path)
        ),
        None,
    )?;
    let nuls: u64 = out.stdout_str().trim().parse().unwrap_or(0);
    let mut result = Vars::new();
    result.insert("path".into(), Value::from(path));
    result.insert("appears_binary".into(), Value::from(nuls > 0));
    let st = ctx.stat(path, false, false)?;
    super::write::add_path_info(&mut result, &st);
    Ok(Plan::no_change(result))
}

/// Run an apply script and, in the same round trip, describe the path afterwards: the
/// result then carries what Ansible's file module reports (mode, owner, size, state …).
fn apply_describing(script: String, path: &str) -> super::op::RemoteOp {
    let path = path.to_string();
    let mut op = super::op::RemoteOp::script(
        script,
        Box::new({
            let path = path.clone();
            move |out, described| {
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "changing {path} failed: {}",
                        out.stderr_str().trim()
                    )));
                }
                let mut extra = Vars::new();
                if let Some(st) = described {
                    super::write::add_path_info(&mut extra, &st);
                }
                Ok(super::op::Done {
                    extra,
                    known: Vec::new(),
                })
            }
        }),
    );
    op.describe = Some(path);
    op
}

/// `%F|%a|%U|%G|%u|%g|%s|%h` as Ansible's `add_path_info` names it.
pub(super) fn path_info(line: &str) -> Vars {
    let f: Vec<&str> = line.split('|').collect();
    let mut r = Vars::new();
    if f.len() != 8 {
        return r;
    }
    let num = |s: &str| s.parse::<u64>().unwrap_or(0);
    let state = match f[0] {
        "symbolic link" => "link",
        "directory" => "directory",
        _ if num(f[7]) > 1 => "hard",
        _ => "file",
    };
    r.insert("state".into(), Value::from(state));
    r.insert(
        "mode".into(),
        Value::from(octal_mode(u32::from_str_radix(f[1], 8).unwrap_or(0))),
    );
    r.insert("owner".into(), Value::from(f[2]));
    r.insert("group".into(), Value::from(f[3]));
    r.insert("uid".into(), Value::from(num(f[4])));
    r.insert("gid".into(), Value::from(num(f[5])));
    r.insert("size".into(), Value::from(num(f[6])));
    r
}

/// In check mode a change reports the path as it is now, as Ansible does: its attributes
/// when it exists, nothing more than its name when it does not.
fn describe_current(result: &mut Vars, cur: &FileState) {
    for k in ["state", "mode", "owner", "group", "uid", "gid", "size"] {
        result.shift_remove(k);
    }
    if cur.exists() {
        add_state(result, cur, &Attrs::default(), true);
        result.insert("state".into(), Value::from(path_state(cur)));
    }
}

/// The "before" of removing a directory as Ansible shows it: with the tree's contents
/// (`path_content`), read only in diff mode.
fn tree_before(ctx: &mut ModuleCtx<'_>, path: &str, kind: FileKind) -> Result<String> {
    let out = ctx.sh(
        &format!(
            "find {} -mindepth 1 \\( -type d -printf 'd %p\\n' \\) -o -printf 'f %p\\n'",
            quote(path)
        ),
        None,
    )?;
    let text = out.stdout_str();
    let mut dirs: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("d ")).collect();
    let mut files: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("f ")).collect();
    dirs.sort_unstable();
    files.sort_unstable();
    let before = serde_json::json!({
        "path": path,
        "path_content": {"directories": dirs, "files": files},
        "state": state_name(kind),
    });
    // Python's json.dumps(indent=4, sort_keys=True), as the default callback prints it.
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&before, &mut ser)
        .map_err(|e| Error::module(format!("cannot show the diff: {e}")).caused_by(e))?;
    Ok(format!("{}\n", String::from_utf8_lossy(&buf)))
}

/// The state the task asks for, as Ansible's `additional_parameter_handling` resolves a
/// missing one: a path that exists keeps its kind (a link stays a link: `get_state` looks
/// with lstat); otherwise `recurse` means a directory, and anything else a file.
fn resolved_state(args: &Args, cur: &FileState, effective: &FileState) -> Result<String> {
    Ok(match args.str("state")? {
        Some(s) => s,
        None if cur.kind == FileKind::Link => "link".to_string(),
        None if cur.exists() => match effective.kind {
            FileKind::Directory => "directory".to_string(),
            _ => "file".to_string(),
        },
        None if args.bool("recurse", false)? => "directory".to_string(),
        None => "file".to_string(),
    })
}

fn plan_file(ctx: &mut ModuleCtx<'_>, args: &Args, path: String) -> Result<Plan> {
    let attrs = Attrs::from_args(args)?;
    let follow = args.bool("follow", true)?;
    let cur = ctx.stat(&path, false, false)?;
    // Attributes of a symlink's target when following it.
    let effective = if follow && cur.kind == FileKind::Link {
        ctx.stat(&path, true, false)?
    } else {
        cur.clone()
    };
    let recurse = args.bool("recurse", false)?;
    let state = resolved_state(args, &cur, &effective)?;
    if recurse && state != "directory" {
        return Err(
            Error::module("recurse option requires state to be 'directory'")
                .with_result_key("path", path.as_str()),
        );
    }
    if args.has("src") && !matches!(state.as_str(), "link" | "hard") {
        return Err(
            Error::module("src option requires state to be 'link' or 'hard'")
                .with_result_key("path", path.as_str()),
        );
    }
    let mut result = Vars::new();
    result.insert("path".into(), Value::from(path.as_str()));
    let q = quote(&path);
    match state.as_str() {
        "absent" => {
            result.insert("state".into(), Value::from("absent"));
            if !cur.exists() {
                return Ok(Plan::no_change(result));
            }
            let before = if ctx.diff && cur.kind == FileKind::Directory {
                tree_before(ctx, &path, cur.kind)?
            } else {
                diff_map(&[
                    ("path", path.clone()),
                    ("state", state_name(cur.kind).into()),
                ])
            };
            let diff = Diff {
                before_header: path.clone(),
                after_header: path.clone(),
                before,
                after: diff_map(&[("path", path.clone()), ("state", "absent".into())]),
            };
            let script = format!("rm -rf -- {q}");
            Ok(Plan::change_op(
                Change::Remove,
                result,
                super::script_op(script, format!("changing {path}")),
            )
            .with_diff(Some(diff)))
        }
        "directory" => {
            let tree = match (recurse, follow) {
                (false, _) => Tree::No,
                (true, false) => Tree::Physical,
                (true, true) => Tree::Following,
            };
            plan_directory(&path, &cur, &effective, &attrs, tree, ctx, result)
        }
        "file" => {
            // Ansible's result names the path and what it is.
            let cannot = |what: &str| {
                Error::module(format!("file ({path}) is {what}, cannot continue"))
                    .with_result_key("path", path.as_str())
                    .with_result_key("state", what)
            };
            if !cur.exists() {
                return Err(cannot("absent").with_help(
                    "use state: touch to create an empty file, or copy/template to write one",
                ));
            }
            if effective.kind == FileKind::Directory {
                return Err(cannot("directory")
                    .with_help("use state: directory for a directory, or remove it first"));
            }
            match super::file_times::plan(args, &path, ctx)? {
                None => plan_attrs(&path, &effective, &attrs, result, "file", ctx.check),
                Some(times) => plan_attrs_and_times(
                    &path, &effective, &attrs, result, "file", times, ctx.check,
                ),
            }
        }
        "touch" => {
            // Ansible: touch sets both times to `now` unless told otherwise; an existing
            // path whose times are kept (`preserve`) or fixed changes only when they
            // differ (the attributes aside).
            if super::file_times::touch_keeps_times(args)? && cur.exists() {
                let kind = match effective.kind {
                    FileKind::Directory => "directory",
                    _ => "file",
                };
                return match super::file_times::plan(args, &path, ctx)? {
                    None => plan_attrs(&path, &effective, &attrs, result, kind, ctx.check),
                    Some(times) => plan_attrs_and_times(
                        &path, &effective, &attrs, result, kind, times, ctx.check,
                    ),
                };
            }
            result.insert("state".into(), Value::from("file"));
            let change = if cur.exists() {
                Change::Modify(vec!["times".into()])
            } else {
                Change::Create
            };
            let mut script = format!("touch -- {q} || exit 1\n");
            let mut rest = super::file_times::explicit_script(args, &path)?;
            rest.push_str(&attrs.script(&q, false));
            if cur.exists() || rest.is_empty() {
                script.push_str(&rest);
            } else {
                // As Ansible's touch: a file it just created goes again when its
                // attributes cannot be set.
                script.push_str(&format!("(\n{rest}) || {{ rm -f -- {q}; exit 1; }}\n"));
            }
            let mut before = vec![
                ("path", path.clone()),
                ("state", state_name(cur.kind).to_string()),
            ];
            let mut after = vec![("path", path.clone()), ("state", "touch".to_string())];
            if cur.exists() {
                // The attributes it changes too, as Ansible's diff shows them.
                let (b, a) = attr_pairs(&effective, &attrs, &attrs.differences(&effective));
                before.extend(b);
                after.extend(a);
            }
            let diff = Diff {
                before_header: path.clone(),
                after_header: path.clone(),
                before: diff_map(&before),
                after: diff_map(&after),
            };
            Ok(
                Plan::change_op(change, result, apply_describing(script, &path))
                    .with_diff(Some(diff)),
            )
        }
        "link" | "hard" => plan_link(&state, &path, &cur, &attrs, args, ctx, result),
        other => Err(Error::module(format!("unknown state '{other}'"))),
    }
}

/// The path a link at `link` holding `target` names: relative to the link's directory,
/// `.` and `..` resolved by name (as the kernel would for a chain of plain directories).
fn link_target_path(link: &str, target: &str) -> String {
    let joined = if target.starts_with('/') {
        target.to_string()
    } else {
        match link.rfind('/') {
            Some(i) => format!("{}/{target}", &link[..i]),
            None => target.to_string(),
        }
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let rel = parts.join("/");
    if joined.starts_with('/') {
        format!("/{rel}")
    } else {
        rel
    }
}

/// `/a/b/c` → `/a`, `/a/b`, `/a/b/c` (relative paths likewise), outermost first.
fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    if path.starts_with('/') {
        cur.push('/');
    }
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if !cur.is_empty() && !cur.ends_with('/') {
            cur.push('/');
        }
        cur.push_str(part);
        out.push(cur.clone());
    }
    out
}

fn plan_attrs(
    path: &str,
    cur: &FileState,
    attrs: &Attrs,
    mut result: Vars,
    state: &str,
    check: bool,
) -> Result<Plan> {
    result.insert("state".into(), Value::from(reported_state(state, cur)));
    add_state(&mut result, cur, attrs, check);
    let diffs = attrs.differences(cur);
    if diffs.is_empty() {
        return Ok(Plan::no_change(result));
    }
    let diff = attr_diff(path, cur, attrs, &diffs);
    let script = attrs.script(&quote(path), false);
    Ok(Plan::change_op(
        Change::Modify(diffs),
        result,
        apply_describing(script, path),
    )
    .with_diff(Some(diff)))
}

/// [`plan_attrs`] plus the times `modification_time`/`access_time` ask for, in one op;
/// the diff shows the times (Ansible's `mtime`/`atime` entries).
fn plan_attrs_and_times(
    path: &str,
    cur: &FileState,
    attrs: &Attrs,
    mut result: Vars,
    state: &str,
    times: super::file_times::Times,
    check: bool,
) -> Result<Plan> {
    result.insert("state".into(), Value::from(reported_state(state, cur)));
    add_state(&mut result, cur, attrs, check);
    let mut changed = attrs.differences(cur);
    changed.push("times".into());
    let mut script = attrs.script(&quote(path), false);
    script.push_str(&times.script);
    let side = |t: &[(&'static str, String)]| {
        let mut pairs = vec![("path", path.to_string())];
        pairs.extend(t.iter().cloned());
        diff_map(&pairs)
    };
    let diff = Diff {
        before_header: path.to_string(),
        after_header: path.to_string(),
        before: side(&times.before),
        after: side(&times.after),
    };
    Ok(Plan::change_op(
        Change::Modify(changed),
        result,
        apply_describing(script, path),
    )
    .with_diff(Some(diff)))
}

/// The state a result reports for an existing `file`: Ansible's `add_path_info` reads it
/// back from the path, so a file with more than one hard link is `hard`.
fn reported_state<'a>(state: &'a str, cur: &FileState) -> &'a str {
    if state == "file" {
        path_state(cur)
    } else {
        state
    }
}

/// The path's attributes in the result, as Ansible reports them after the module ran:
/// the mode it ends up with (a symbolic mode resolved to octal); in check mode, what is
/// there now (nothing for a path that does not exist yet).
fn add_state(result: &mut Vars, cur: &FileState, attrs: &Attrs, check: bool) {
    if check && !cur.exists() {
        return;
    }
    let mode = match (&attrs.mode, check) {
        (Some(m), false) => super::attrs::target_mode(m, cur.mode, cur.kind == FileKind::Directory)
            .map(octal_mode)
            .unwrap_or_else(|| m.clone()),
        _ => cur.mode_string(),
    };
    result.insert("mode".into(), Value::from(mode));
    let pick = |want: &Option<String>, have: &String| match (want, check) {
        (Some(w), false) => w.clone(),
        _ => have.clone(),
    };
    result.insert("owner".into(), Value::from(pick(&attrs.owner, &cur.owner)));
    result.insert("group".into(), Value::from(pick(&attrs.group, &cur.group)));
    result.insert("uid".into(), Value::from(cur.uid));
    result.insert("gid".into(), Value::from(cur.gid));
    result.insert("size".into(), Value::from(cur.size));
}

/// The attributes on a directory and below it.
fn tree_script(attrs: &Attrs, q: &str, tree: Tree) -> String {
    match tree {
        Tree::Following => attrs.following_tree_script(q),
        _ => attrs.script(q, true),
    }
}

/// How `recurse` walks below a directory.
#[derive(Clone, Copy, PartialEq)]
enum Tree {
    No,
    /// `follow: false`: links below are left as they are.
    Physical,
    /// `follow: true` (the default): as Ansible's `recursive_set_attributes`, what a link
    /// below points to changes too, and a linked directory is walked.
    Following,
}

fn plan_directory(
    path: &str,
    cur: &FileState,
    effective: &FileState,
    attrs: &Attrs,
    tree: Tree,
    ctx: &mut ModuleCtx<'_>,
    mut result: Vars,
) -> Result<Plan> {
    result.insert("state".into(), Value::from("directory"));
    let q = quote(path);
    if cur.exists() && effective.kind != FileKind::Directory {
        return Err(Error::module(format!(
            "{path} already exists as a {}",
            path_state(effective)
        ))
        .with_result_key("path", path)
        .with_help("remove it first (state: absent) if it should be a directory"));
    }
    if !cur.exists() {
        // Like Ansible, apply the attributes to every directory that gets created. The
        // ancestors are listed here, each quoted, so no name is ever split or re-parsed.
        // Another process (or another inventory alias of the same machine) may create an
        // ancestor between the test and mkdir: a directory that exists by then is fine.
        // A plain octal mode alone goes to mkdir itself (one process less per directory);
        // the second mkdir of a failure is only there to print why.
        let mut script = String::new();
        let octal = attrs.mode.as_deref().filter(|m| {
            attrs.owner.is_none() && attrs.group.is_none() && u32::from_str_radix(m, 8).is_ok()
        });
        for dir in ancestors(path) {
            let qd = quote(&dir);
            let (make, then) = match octal {
                Some(m) => (format!("mkdir -m {} --", quote(m)), String::new()),
                None => ("mkdir --".to_string(), attrs.script(&qd, false)),
            };
            script.push_str(&format!(
                "if [ ! -e {qd} ]; then\n\
                 if {make} {qd} 2>/dev/null; then :; elif [ -d {qd} ]; then {race}; else mkdir -- {qd}; exit 1; fi\n{then}fi\n",
                race = match octal {
                    Some(_) => attrs.script(&qd, false).trim_end().to_string(),
                    None => ":".to_string(),
                },
            ));
        }
        if tree != Tree::No {
            script.push_str(&tree_script(attrs, &q, tree));
        }
        let diff = Diff {
            before_header: path.to_string(),
            after_header: path.to_string(),
            before: diff_map(&[("path", path.to_string()), ("state", "absent".into())]),
            after: diff_map(&[("path", path.to_string()), ("state", "directory".into())]),
        };
        if let Some(m) = &attrs.mode {
            result.insert("mode".into(), Value::from(m.as_str()));
        }
        return Ok(
            Plan::change_op(Change::Create, result, apply_describing(script, path))
                .with_diff(Some(diff)),
        );
    }
    add_state(&mut result, effective, attrs, ctx.check);
    let mut diffs = attrs.differences(effective);
    // `find -L` looks through the links below when they are followed.
    // (a dangling link, `-type l` under `-L`, is left alone).
    let find = if tree == Tree::Following {
        "find -L {q} -mindepth 1 ! -type l"
    } else {
        "find {q} -mindepth 1"
    }
    .replace("{q}", &q);
    if tree != Tree::No && (attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some())
    {
        // Anything below that differs? One `find` answers it.
        let mut conds = Vec::new();
        if let Some(o) = &attrs.owner {
            conds.push(format!("! -user {}", quote(o)));
        }
        if let Some(g) = &attrs.group {
            conds.push(format!("! -group {}", quote(g)));
        }
        let symbolic = attrs
            .mode
            .as_ref()
            .filter(|m| !m.chars().all(|c| c.is_ascii_digit()));
        if let Some(m) = attrs.mode.as_ref().filter(|_| symbolic.is_none()) {
            conds.push(format!("! -perm {}", quote(m)));
        }
        let mut differs = false;
        if !conds.is_empty() {
            let script = format!(
                "{find} \\( {} \\) -print -quit 2>/dev/null",
                conds.join(" -o ")
            );
            differs |= !ctx.sh(&script, None)?.stdout.is_empty();
        }
        if let (Some(m), false) = (symbolic, differs) {
            // A symbolic mode's result depends on each entry's mode and type: the distinct
            // (mode, type) pairs below the directory decide it.
            let script = format!("{find} -printf '%m %y\\n' 2>/dev/null | sort -u");
            let out = ctx.sh(&script, None)?;
            differs = out.stdout_str().lines().any(|l| {
                let (mode, kind) = l.split_once(' ').unwrap_or((l, ""));
                let cur = u32::from_str_radix(mode, 8).unwrap_or(0);
                super::attrs::target_mode(m, cur, kind == "d") != Some(cur & 0o7777)
            });
        }
        if differs && !diffs.contains(&"recurse".to_string()) {
            diffs.push("recurse".to_string());
        }
    }
    if diffs.is_empty() {
        return Ok(Plan::no_change(result));
    }
    let diff = attr_diff(path, effective, attrs, &diffs);
    let script = if tree == Tree::No {
        attrs.script(&q, false)
    } else {
        tree_script(attrs, &q, tree)
    };
    Ok(Plan::change_op(
        Change::Modify(diffs),
        result,
        apply_describing(script, path),
    )
    .with_diff(Some(diff)))
}

fn plan_link(
    state: &str,
    path: &str,
    cur: &FileState,
    attrs: &Attrs,
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    mut result: Vars,
) -> Result<Plan> {
    // Without src, an existing link is kept as it points (Ansible reads it back).
    let src = match (args.str("src")?, &cur.link_target) {
        (Some(s), _) => s,
        (None, Some(t)) if state == "link" => t.clone(),
        (None, _) => {
            let kind = if state == "link" { "sym" } else { "hard" };
            return Err(Error::module(format!(
                "src is required for creating new {kind}links"
            )));
        }
    };
    let force = args.bool("force", false)?;
    let follow = args.bool("follow", true)?;
    result.insert("state".into(), Value::from(state));
    // Ansible reads an unnamed source back only when following the link.
    let shown_src = if args.has("src") || follow {
        Value::from(src.as_str())
    } else {
        Value::from(())
    };
    result.insert("src".into(), shown_src);
    let (q, qs) = (quote(path), quote(&src));
    // Check mode cannot tell: a task before this one may create the source (nothing was
    // written), and check mode must predict the apply (a deliberate difference: Ansible
    // fails in check mode too).
    if state == "link" && !force && !ctx.check {
        // Ansible refuses a link to nothing without `force`, even one already there; a
        // relative src is taken from the link's directory (or the directory `path` is).
        let absrc = if src.starts_with('/') {
            src.clone()
        } else if cur.kind == FileKind::Directory {
            format!("{}/{src}", path.trim_end_matches('/'))
        } else {
            match path.rfind('/') {
                Some(0) => format!("/{src}"),
                Some(i) => format!("{}/{src}", &path[..i]),
                None => src.clone(),
            }
        };
        let out = ctx.sh(&format!("[ -e {} ] && echo ok", quote(&absrc)), None)?;
        if out.stdout_str().trim() != "ok" {
            return Err(Error::module(format!(
                "src file does not exist, use 'force=yes' if you really want to create the link: {absrc}"
            ))
            .with_result_key("path", path)
            .with_result_key("src", src.as_str()));
        }
    }
    let up_to_date = if state == "link" {
        cur.kind == FileKind::Link && cur.link_target.as_deref() == Some(src.as_str())
    } else {
        let out = ctx.sh(
            &format!("[ {q} -ef {qs} ] && [ ! -L {q} ] && echo same"),
            None,
        )?;
        out.stdout_str().trim() == "same"
    };
    // Linux has no lchmod: Ansible's chmod of a link reaches its target, or fails and is
    // ignored, so a link's own mode never changes. Without `follow` only its owner and
    // group are set; with it, the target's attributes, and none for a missing target.
    let own_attrs = Attrs {
        mode: None,
        ..attrs.clone()
    };
    if up_to_date {
        if state == "link" && !follow {
            return plan_attrs(path, cur, &own_attrs, result, state, ctx.check);
        }
        if state == "link" {
            // Attributes of the link's target, as Ansible applies them by default.
            let target = ctx.stat(path, true, false)?;
            if target.exists() {
                let mut plan = plan_attrs(path, &target, attrs, result, state, ctx.check)?;
                if !plan.is_change() {
                    // The result describes the link itself (Ansible's lstat).
                    add_state(&mut plan.result, cur, &Attrs::default(), true);
                }
                return Ok(plan);
            }
        }
        if state == "hard" {
            add_state(&mut result, cur, &Attrs::default(), true);
        }
        return Ok(Plan::no_change(result));
    }
    // Ansible's ensure_hardlink checks the source before what the destination holds.
    if state == "hard" && !ctx.check {
        let out = ctx.sh(&format!("[ -e {qs} ] && echo ok"), None)?;
        if out.stdout_str().trim() != "ok" {
            return Err(Error::module("src does not exist")
                .with_result_key("dest", path)
                .with_result_key("src", src.as_str()));
        }
    }
    // What Ansible's ensure_symlink/ensure_hardlink refuse to replace, in its words.
    let refuse = |msg: String| Err(Error::module(msg).with_result_key("path", path));
    match (state, cur.kind) {
        ("link", FileKind::Directory) => {
            if !force {
                return refuse(format!(
                    "refusing to convert from directory to symlink for {path}"
                ));
            }
            let empty = ctx
                .sh(&format!("[ -z \"$(ls -A -- {q})\" ] && echo empty"), None)?
                .stdout_str()
                .trim()
                == "empty";
            if !empty {
                return refuse(format!(
                    "the directory {path} is not empty, refusing to convert it"
                ));
            }
        }
        ("link", FileKind::File | FileKind::Other) if !force => {
            return refuse(format!(
                "refusing to convert from {} to symlink for {path}",
                path_state(cur)
            ));
        }
        ("hard", FileKind::File) if !force => {
            // A file with other links is Ansible's `hard` state, refused in other words.
            let msg = if cur.links > 1 {
                "Cannot link, different hard link exists at destination"
            } else {
                "Cannot link, file exists at destination"
            };
            return Err(Error::module(msg)
                .with_result_key("dest", path)
                .with_result_key("src", src.as_str()));
        }
        ("hard", FileKind::Directory) if !force => {
            return Err(
                Error::module("Cannot link: different hard link exists at destination")
                    .with_result_key("dest", path)
                    .with_result_key("src", src.as_str()),
            );
        }
        _ => {}
    }
    let script = if state == "link" {
        let attrs_script = if follow {
            let on_target = attrs.script("\"$r\"", false);
            if on_target.is_empty() {
                on_target
            } else {
                format!("if [ -e {q} ]; then r=$(readlink -f -- {q})\n{on_target}fi\n")
            }
        } else {
            own_attrs.script(&q, false)
        };
        // Atomic replacement: make the link beside it, then rename over the old one.
        format!(
            "d=$(dirname -- {q}); t=\"$d/.drover-tmp.$$\"; {} ln -s -- {qs} \"$t\" || exit 1; mv -Tf -- \"$t\" {q} || {{ rm -f -- \"$t\"; exit 1; }}\n{attrs_script}",
            if cur.kind == FileKind::Directory { format!("rmdir -- {q} || exit 1;") } else { String::new() },
        )
    } else {
        format!("d=$(dirname -- {q}); t=\"$d/.drover-tmp.$$\"; ln -f -- {qs} \"$t\" || exit 1; mv -Tf -- \"$t\" {q} || {{ rm -f -- \"$t\"; exit 1; }}\n{}", attrs.script(&q, false))
    };
    let diff = Diff {
        before_header: path.to_string(),
        after_header: path.to_string(),
        // As Ansible's file module: `src` shows only when a link is re-pointed, the
        // state only when it is not a link already.
        before: match &cur.link_target {
            Some(t) if state == "link" => {
                diff_map(&[("path", path.to_string()), ("src", t.clone())])
            }
            Some(t) => diff_map(&[
                ("path", path.to_string()),
                ("state", "link".into()),
                ("src", t.clone()),
            ]),
            None => diff_map(&[
                ("path", path.to_string()),
                ("state", state_name(cur.kind).into()),
            ]),
        },
        after: match &cur.link_target {
            Some(_) if state == "link" => {
                diff_map(&[("path", path.to_string()), ("src", src.to_string())])
            }
            Some(_) => diff_map(&[
                ("path", path.to_string()),
                ("state", state.to_string()),
                ("src", src.to_string()),
            ]),
            None => diff_map(&[("path", path.to_string()), ("state", state.to_string())]),
        },
    };
    let change = if cur.exists() {
        Change::Modify(vec!["src".into()])
    } else {
        Change::Create
    };
    Ok(Plan::change_op(change, result, apply_describing(script, path)).with_diff(Some(diff)))
}

#[cfg(test)]
mod tests {
    use super::ancestors;

    #[test]
    fn link_targets_resolved_beside_the_link() {
        use super::link_target_path as t;
        assert_eq!(t("/d/link", "./f"), "/d/f");
        assert_eq!(t("/d/e/link", "../f"), "/d/f");
        assert_eq!(t("/d/link", "/abs/x"), "/abs/x");
        assert_eq!(t("link", "f"), "f");
    }

    #[test]
    fn ancestors_outermost_first() {
        assert_eq!(ancestors("/a/b/c"), ["/a", "/a/b", "/a/b/c"]);
        assert_eq!(ancestors("a//b/"), ["a", "a/b"]);
        assert_eq!(ancestors("/x\ny/z"), ["/x\ny", "/x\ny/z"]);
    }
}
