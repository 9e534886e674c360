//! blockinfile: a block of lines between marker lines, inserted, updated or removed.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{
    compile_regex, plan_write, position_of, read_with_state, regex_failed, ResultShape,
    WriteRequest,
};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use minijinja::Value;

pub struct BlockInFile;

static SPEC: ModuleSpec = ModuleSpec {
    name: "blockinfile",
    aliases: &[],
    args: &[
        arg("path", Str)
            .required()
            .aliases(&["dest", "destfile", "name"]),
        arg("block", Str).aliases(&["content"]),
        arg("marker", Str),
        arg("marker_begin", Str),
        arg("marker_end", Str),
        arg("state", Str).choices(&["present", "absent"]),
        arg("insertafter", Str),
        arg("insertbefore", Str),
        arg("create", Bool),
        arg("backup", Bool),
        arg("append_newline", Bool),
        arg("prepend_newline", Bool),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("validate", Str),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["insertbefore", "insertafter"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

impl Module for BlockInFile {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        super::write::edit_probes(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        let present = args.str("state")?.as_deref() != Some("absent");
        let block = args.str("block")?.unwrap_or_default();
        let marker = args
            .str("marker")?
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".to_string());
        let begin = marker.replace(
            "{mark}",
            &args.str("marker_begin")?.unwrap_or_else(|| "BEGIN".into()),
        );
        let end = marker.replace(
            "{mark}",
            &args.str("marker_end")?.unwrap_or_else(|| "END".into()),
        );
        let (state, content) = read_with_state(ctx, &path)?;
        let existed = state.exists();
        if state.kind == FileKind::Directory {
            return Err(Error::module(format!("Path {path} is a directory !")));
        }
        if !state.exists() {
            // Ansible asks for `create` before it looks at the state.
            if !args.bool("create", false)? {
                return Err(Error::module(format!("Path {path} does not exist !"))
                    .with_help("set create: yes to create the file"));
            }
            if !present {
                let mut p = Plan::no_change(Default::default());
                p.result.insert(
                    "msg".into(),
                    Value::from(format!("File {path} not present")),
                );
                return Ok(p);
            }
        }
        // Ansible works on the file's lines with their own endings (`splitlines(True)`), so
        // CRLF lines elsewhere in the file, and in the block, stay as they are.
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        let mut lines = split_keep_ends(&text);
        let marker0 = format!("{begin}\n");
        let marker1 = format!("{end}\n");
        let block_lines: Vec<String> = if present && !block.is_empty() {
            let mut block = block.clone();
            if !block.ends_with('\n') {
                block.push('\n');
            }
            let mut v = vec![marker0.clone()];
            v.extend(split_keep_ends(&block));
            v.push(marker1.clone());
            v
        } else {
            Vec::new()
        };
        // The last line equal to each marker, ending included, as Ansible compares them.
        let n0 = lines.iter().rposition(|l| *l == marker0);
        let n1 = lines.iter().rposition(|l| *l == marker1);
        let mut n0 = match (n0, n1) {
            (Some(b), Some(e)) => {
                let (lo, hi) = if b < e { (b, e) } else { (e, b) };
                lines.drain(lo..=hi);
                lo
            }
            _ => insert_position(args, &text, &lines)?,
        };
        if n0 > 0 && !lines[n0 - 1].ends_with('\n') {
            lines[n0 - 1].push('\n');
        }
        // An empty line before/after the block unless it is at the file's edge or one is
        // already there (so a re-run adds none), as Ansible's prepend/append_newline.
        if present && args.bool("prepend_newline", false)? && n0 != 0 && lines[n0 - 1] != "\n" {
            lines.insert(n0, "\n".into());
            n0 += 1;
        }
        let after = n0 + block_lines.len();
        lines.splice(n0..n0, block_lines);
        if present
            && args.bool("append_newline", false)?
            && after < lines.len()
            && lines[after] != "\n"
        {
            lines.insert(after, "\n".into());
        }
        let new_text = lines.concat();
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: true,
                dest: path,
                content: new_text.into_bytes(),
                attrs: Attrs::from_args(args)?,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: true,
                current: Some((state, content)),
                shape: ResultShape::LineEdit { backup_key: false },
            },
        )?;
        // Ansible says "inserted" for an updated block too.
        let msg = match (plan.is_change(), present && !block.is_empty()) {
            (false, _) => "",
            (true, _) if !existed => "File created",
            (true, true) => "Block inserted",
            (true, false) => "Block removed",
        };
        plan.result.insert("msg".into(), Value::from(msg));
        Ok(plan)
    }
}

/// Python's `bytes.splitlines(True)`: lines split after `\n`, `\r\n` or a lone `\r`,
/// each keeping its ending.
fn split_keep_ends(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let end = match b[i] {
            b'\n' => Some(i + 1),
            b'\r' if b.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\r' => Some(i + 1),
            _ => None,
        };
        match end {
            Some(e) => {
                out.push(text[start..e].to_string());
                start = e;
                i = e;
            }
            None => i += 1,
        }
    }
    if start < text.len() {
        out.push(text[start..].to_string());
    }
    out
}

/// Where the block goes when the file has no markers yet: after the last line
/// `insertafter` matches (or the end), before the last line `insertbefore` matches (or
/// the start for `BOF`). A pattern with the `(?m)` flag is searched in the whole text, and
/// its match's line is the one counted, as Ansible does.
fn insert_position(args: &Args, text: &str, lines: &[String]) -> Result<usize> {
    let after = args.str("insertafter")?;
    let before = args.str("insertbefore")?;
    let (pattern, arg, is_after) = match (&after, &before) {
        (Some(a), _) if a != "EOF" => (a.as_str(), "insertafter", true),
        (None, Some(b)) if b != "BOF" => (b.as_str(), "insertbefore", false),
        (None, Some(_)) => return Ok(0),
        _ => return Ok(lines.len()),
    };
    let re = compile_regex(pattern, arg, false)?;
    let found = if has_multiline_flag(pattern) {
        re.find(text).map_err(regex_failed)?.map(|m| {
            let at = if is_after { m.end() } else { m.start() };
            text[..at].matches('\n').count()
        })
    } else {
        // Searched without the line's `\n`: Python's `$` matches just before it.
        position_of(lines, false, |l| {
            re.is_match(l.strip_suffix('\n').unwrap_or(l))
                .map_err(regex_failed)
        })?
    };
    Ok(match found {
        None => lines.len(),
        Some(i) if is_after => i + 1,
        Some(i) => i,
    })
}

/// Whether a pattern turns on Python's `re.MULTILINE` with a leading inline flag group
/// (`(?m)`, `(?im)`).
fn has_multiline_flag(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(r) = rest.strip_prefix("(?") {
        let Some(close) = r.find(')') else {
            return false;
        };
        let flags = &r[..close];
        if !flags.chars().all(|c| "aiLmsux".contains(c)) {
            return false;
        }
        if flags.contains('m') {
            return true;
        }
        rest = &r[close + 1..];
    }
    false
}
