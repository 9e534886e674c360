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
            if !present {
                let mut p = Plan::no_change(Default::default());
                p.result
                    .insert("msg".into(), Value::from("File not present"));
                return Ok(p);
            }
            if !args.bool("create", false)? {
                return Err(Error::module(format!("Path {path} does not exist !"))
                    .with_help("set create: yes to create the file"));
            }
        }
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let begin_at = lines.iter().position(|l| l.trim_end() == begin);
        let end_at = lines.iter().position(|l| l.trim_end() == end);
        let block_lines: Vec<String> = if present && !block.is_empty() {
            let mut v = vec![begin.clone()];
            v.extend(block.lines().map(str::to_string));
            v.push(end.clone());
            v
        } else {
            Vec::new()
        };
        let insert_at = match (begin_at, end_at) {
            (Some(b), Some(e)) if b <= e => {
                lines.drain(b..=e);
                b
            }
            _ => {
                if let Some(before) = args.str("insertbefore")? {
                    if before == "BOF" {
                        0
                    } else {
                        let re = compile_regex(&before, "insertbefore", false)?;
                        position_of(&lines, false, |l| re.is_match(l).map_err(regex_failed))?
                            .unwrap_or(lines.len())
                    }
                } else {
                    match args.str("insertafter")?.as_deref() {
                        None | Some("EOF") => lines.len(),
                        Some(a) => {
                            let re = compile_regex(a, "insertafter", false)?;
                            position_of(&lines, false, |l| re.is_match(l).map_err(regex_failed))?
                                .map(|i| i + 1)
                                .unwrap_or(lines.len())
                        }
                    }
                }
            }
        };
        // An empty line before/after the block unless it is at the file's edge or one is
        // already there (so a re-run adds none), as Ansible's prepend/append_newline.
        let mut block_lines = block_lines;
        if !block_lines.is_empty() {
            if args.bool("prepend_newline", false)?
                && insert_at > 0
                && !lines[insert_at - 1].is_empty()
            {
                block_lines.insert(0, String::new());
            }
            if args.bool("append_newline", false)?
                && insert_at < lines.len()
                && !lines[insert_at].is_empty()
            {
                block_lines.push(String::new());
            }
        }
        for (i, l) in block_lines.iter().enumerate() {
            lines.insert(insert_at + i, l.clone());
        }
        let mut new_text = lines.join("\n");
        if !lines.is_empty() {
            new_text.push('\n');
        }
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
