//! lineinfile: make sure one line is present (or absent), edited on the controller and
//! written back atomically.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{
    compile_regex, plan_write, position_of, python_replacement, read_with_state, regex_failed,
    ResultShape, WriteRequest,
};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use minijinja::Value;

pub struct LineInFile;

static SPEC: ModuleSpec = ModuleSpec {
    name: "lineinfile",
    aliases: &[],
    args: &[
        arg("path", Str)
            .required()
            .aliases(&["dest", "destfile", "name"]),
        arg("regexp", Str).aliases(&["regex"]),
        arg("search_string", Str),
        arg("state", Str).choices(&["present", "absent"]),
        arg("line", Str).aliases(&["value"]),
        arg("backrefs", Bool),
        arg("insertafter", Str),
        arg("insertbefore", Str),
        arg("create", Bool),
        arg("backup", Bool),
        arg("firstmatch", Bool),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("validate", Str),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[
        &["insertbefore", "insertafter"],
        &["regexp", "search_string"],
    ],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

enum Matcher {
    Regex(crate::pyregex::PyRegex),
    Substring(String),
    Exact(String),
}

impl Matcher {
    fn matches(&self, line: &str) -> Result<bool> {
        Ok(match self {
            Matcher::Regex(r) => r.is_match(line).map_err(regex_failed)?,
            Matcher::Substring(s) => line.contains(s.as_str()),
            Matcher::Exact(s) => line == s,
        })
    }
}

impl Module for LineInFile {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        super::write::edit_probes(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        let present = args.str("state")?.as_deref() != Some("absent");
        let line = args.str("line")?;
        let backrefs = args.bool("backrefs", false)?;
        let regexp_text = args.str("regexp")?;
        let regexp = match args.str("regexp")? {
            Some(r) => Some(compile_regex(&r, "regexp", false)?),
            None => None,
        };
        let search = args.str("search_string")?;
        if present && line.is_none() {
            return Err(Error::module("lineinfile with state=present needs 'line'"));
        }
        if backrefs && regexp.is_none() {
            return Err(Error::module("backrefs: yes needs regexp"));
        }
        let (state, content) = read_with_state(ctx, &path)?;
        if state.kind == FileKind::Directory {
            return Err(Error::module(format!("Path {path} is a directory !")));
        }
        let exists = state.exists();
        if !exists && present && !args.bool("create", false)? {
            return Err(
                Error::module(format!("Destination {path} does not exist !"))
                    .with_help("set create: yes to create the file"),
            );
        }
        if !exists && !present {
            let mut p = Plan::no_change(Default::default());
            p.result
                .insert("msg".into(), Value::from("file not present"));
            return Ok(p);
        }
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        let mut lines: Vec<String> = split_keep_ends(&text);
        let matcher = match (&regexp, &search, &line) {
            (Some(r), _, _) => Matcher::Regex(r.clone()),
            (None, Some(s), _) => Matcher::Substring(s.clone()),
            (None, None, Some(l)) => Matcher::Exact(l.clone()),
            (None, None, None) => {
                return Err(Error::module(
                    "lineinfile needs one of regexp, search_string or line",
                ))
            }
        };
        let msg: &str;
        let mut found: Option<usize> = None;
        let removed_msg: String;
        if present {
            let line = line.unwrap_or_default();
            let firstmatch = args.bool("firstmatch", false)?;
            let found = find(&lines, &matcher, firstmatch)?;
            if let Some(i) = found {
                let new_line = if backrefs {
                    let re = regexp
                        .as_ref()
                        .ok_or_else(|| Error::module("backrefs needs regexp"))?;
                    let cur = strip_eol(&lines[i]);
                    match re.captures(cur).map_err(regex_failed)? {
                        Some(caps) => {
                            let mut out = String::new();
                            caps.expand(&python_replacement(&line), &mut out);
                            out
                        }
                        None => cur.to_string(),
                    }
                } else {
                    line.clone()
                };
                let eol = eol_of(&lines[i]);
                if strip_eol(&lines[i]) != new_line {
                    lines[i] = format!("{new_line}{eol}");
                    msg = "line replaced";
                } else {
                    msg = "";
                }
            } else if backrefs || lines.iter().any(|l| strip_eol(l) == line) {
                // With backrefs an unmatched regexp changes nothing; an exact copy of
                // the line anywhere also satisfies "present".
                msg = "";
            } else {
                let pos = insert_position(&lines, args, firstmatch)?;
                if pos > 0 && !lines[pos - 1].ends_with('\n') {
                    lines[pos - 1].push('\n');
                }
                lines.insert(pos, format!("{line}\n"));
                msg = "line added";
            }
        } else {
            let before = lines.len();
            let mut kept = Vec::with_capacity(before);
            for l in lines {
                if !matcher.matches(strip_eol(&l))? {
                    kept.push(l);
                }
            }
            lines = kept;
            let removed = before - lines.len();
            found = Some(removed);
            removed_msg = format!("{removed} line(s) removed");
            msg = if removed > 0 { &removed_msg } else { "" };
        }
        let new_content = lines.concat();
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: true,
                dest: path.clone(),
                content: new_content.into_bytes(),
                attrs: Attrs::from_args(args)?,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: true,
                current: Some((state, content)),
                shape: ResultShape::LineEdit { backup_key: true },
            },
        )?;
        let msg = if msg.is_empty() && plan.is_change() {
            "ownership, perms or SE linux context changed"
        } else {
            msg
        };
        if let Some(n) = found {
            plan.result.insert("found".into(), Value::from(n));
        }
        // Ansible's warnings for a pattern that matches every line.
        let warning = match (&regexp_text, &search) {
            (Some(r), _) if r.is_empty() => Some(
                "The regular expression is an empty string, which will match every line in the file. \
                 This may have unintended consequences, such as replacing the last line in the file rather than appending. \
                 If this is desired, use '^' to match every line in the file and avoid this warning.",
            ),
            (_, Some(s)) if s.is_empty() => Some(
                "The search string is an empty string, which will match every line in the file. \
                 This may have unintended consequences, such as replacing the last line in the file rather than appending.",
            ),
            _ => None,
        };
        if let Some(w) = warning {
            plan.result
                .insert("warnings".into(), Value::from(vec![w.to_string()]));
        }
        plan.result.insert(
            "msg".into(),
            Value::from(if exists || !present {
                msg.to_string()
            } else {
                "line added".to_string()
            }),
        );
        Ok(plan)
    }
}

fn split_keep_ends(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn strip_eol(l: &str) -> &str {
    l.trim_end_matches(['\n', '\r'])
}

fn eol_of(l: &str) -> &str {
    &l[strip_eol(l).len()..]
}

fn find(lines: &[String], m: &Matcher, first: bool) -> Result<Option<usize>> {
    position_of(lines, first, |l| m.matches(strip_eol(l)))
}

/// Where a new line goes: after the last (or first) match of `insertafter`, before the
/// match of `insertbefore`, at BOF/EOF; EOF when the anchor is not found.
fn insert_position(lines: &[String], args: &Args, first: bool) -> Result<usize> {
    if let Some(before) = args.str("insertbefore")? {
        if before == "BOF" {
            return Ok(0);
        }
        let re = compile_regex(&before, "insertbefore", false)?;
        return Ok(find(lines, &Matcher::Regex(re), first)?.unwrap_or(lines.len()));
    }
    match args.str("insertafter")? {
        None => Ok(lines.len()),
        Some(a) if a == "EOF" => Ok(lines.len()),
        Some(a) => {
            let re = compile_regex(&a, "insertafter", false)?;
            Ok(find(lines, &Matcher::Regex(re), first)?
                .map(|i| i + 1)
                .unwrap_or(lines.len()))
        }
    }
}
