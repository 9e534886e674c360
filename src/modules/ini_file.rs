//! ini_file (community.general): one option of one section of an INI file, edited on the
//! controller with community.general's rules (commented-out options are reused, several
//! `values` for one option, `exclusive`, a missing section appended at the end, a file
//! that does not end in a newline gets one) and written back atomically.

use super::attrs::Attrs;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{plan_write, read_with_state, ResultShape, WriteRequest};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct IniFile;

static INI_FILE: ModuleSpec = ModuleSpec {
    name: "ini_file",
    aliases: &["community.general.ini_file"],
    args: &[
        arg("path", Str).required().aliases(&["dest"]),
        arg("section", Str),
        arg("option", Str),
        arg("value", Str),
        arg("values", List),
        arg("backup", Bool),
        arg("state", Str).choices(&["absent", "present"]),
        arg("exclusive", Bool),
        arg("no_extra_spaces", Bool),
        arg("ignore_spaces", Bool),
        arg("allow_no_value", Bool),
        arg("modify_inactive_option", Bool),
        arg("create", Bool),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["value", "values"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// The section name community.general uses for "no section" (the lines before the first
/// header): a name no real file has.
const NO_SECTION: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

/// What to do, as the module's parameters say it.
pub struct Edit<'a> {
    pub section: Option<&'a str>,
    pub option: Option<&'a str>,
    pub values: Vec<String>,
    pub present: bool,
    pub exclusive: bool,
    pub no_extra_spaces: bool,
    pub ignore_spaces: bool,
    pub allow_no_value: bool,
    pub modify_inactive_option: bool,
}

/// `OPTION = value` at the start of a line, possibly commented out (`#`/`;`) when
/// `inactive` is allowed: (commented, value).
fn match_opt(option: &str, line: &str, inactive: bool) -> Option<(bool, String)> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let comment = if inactive { "([#;]?)" } else { "()" };
    let re = regex::Regex::new(&format!(
        "^[ \\t]*{comment}[ \\t]*({})[ \\t]*(=|$)[ \\t]*(.*)",
        regex::escape(option)
    ))
    .ok()?;
    let c = re.captures(line)?;
    Some((
        c.get(1).is_some_and(|m| !m.as_str().is_empty()),
        c.get(4).map(|m| m.as_str().to_string()).unwrap_or_default(),
    ))
}

fn blank_or_comment(line: &str) -> bool {
    let l = line.strip_suffix('\n').unwrap_or(line);
    let t = l.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

/// Apply the edit to the file's text (`None`: no file yet): the new text and the message.
pub fn edit(text: Option<&str>, e: &Edit<'_>) -> (String, &'static str) {
    let text = text.map(|t| {
        t.strip_prefix('\u{feff}')
            .unwrap_or(t)
            .replace("\r\n", "\n")
    });
    let mut lines: Vec<String> = text
        .as_deref()
        .unwrap_or("")
        .split_inclusive('\n')
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        lines.push("\n".into());
    }
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    lines.insert(0, format!("[{NO_SECTION}]"));
    lines.push("[".into());
    let section = e.section.filter(|s| !s.is_empty()).unwrap_or(NO_SECTION);
    let header = regex::Regex::new(&format!(r"^\[\s*{}\s*]", regex::escape(section.trim())))
        .expect("an escaped name is a valid regex");
    let (mut within, mut start, mut end) = (false, 0usize, 0usize);
    for (i, line) in lines.iter().enumerate() {
        if within && line.starts_with('[') {
            end = i;
            break;
        }
        if header.is_match(line) {
            within = true;
            start = i;
        }
    }
    let after: Vec<String> = lines[end..].to_vec();
    let before: Vec<String> = lines[..start].to_vec();
    let mut sec: Vec<String> = lines[start..end].to_vec();
    let mut touched = vec![false; sec.len()];
    let mut values = e.values.clone();
    let mut msg = "OK";
    let fmt = |o: &str, v: &str| {
        if e.no_extra_spaces {
            format!("{o}={v}\n")
        } else {
            format!("{o} = {v}\n")
        }
    };
    let inactive = e.modify_inactive_option;
    // Replace line `i` by `new`; whether it counts as a change (ignore_spaces compares
    // the values of active lines only).
    let update = |sec: &mut Vec<String>,
                  touched: &mut Vec<bool>,
                  i: usize,
                  new: String,
                  o: &str,
                  msg: &mut &'static str| {
        let mut changed = None;
        if e.ignore_spaces {
            if let Some((false, old_v)) = match_opt(o, &sec[i], true) {
                let new_v = match_opt(o, &new, true).map(|m| m.1).unwrap_or_default();
                changed = Some(old_v != new_v);
            }
        }
        let changed = changed.unwrap_or(sec[i] != new);
        if changed {
            sec[i] = new;
            *msg = "option changed";
        }
        touched[i] = true;
    };
    let mut no_value_present = false;
    if let (true, Some(o)) = (e.present, e.option) {
        for i in 0..sec.len() {
            let Some((_, v)) = match_opt(o, &sec[i], inactive) else {
                continue;
            };
            if !values.is_empty() && values.contains(&v) {
                let new = if v.is_empty() && e.allow_no_value {
                    no_value_present = true;
                    format!("{o}\n")
                } else {
                    fmt(o, &v)
                };
                update(&mut sec, &mut touched, i, new, o, &mut msg);
                if let Some(p) = values.iter().position(|x| *x == v) {
                    values.remove(p);
                }
            } else if values.is_empty() && e.allow_no_value {
                update(&mut sec, &mut touched, i, format!("{o}\n"), o, &mut msg);
                no_value_present = true;
                break;
            }
        }
        if e.exclusive && !e.allow_no_value {
            if !values.is_empty() {
                for i in 0..sec.len() {
                    if !touched[i] && match_opt(o, &sec[i], inactive).is_some() {
                        let v = values.remove(0);
                        update(&mut sec, &mut touched, i, fmt(o, &v), o, &mut msg);
                        if values.is_empty() {
                            break;
                        }
                    }
                }
            }
            // Other lines of the option go (the header line is never one).
            for i in (1..sec.len()).rev() {
                if !touched[i] && match_opt(o, &sec[i], inactive).is_some() {
                    sec.remove(i);
                    touched.remove(i);
                    msg = "option changed";
                }
            }
        }
    }
    if e.present {
        // New lines go after the section's last line that is neither blank nor a comment.
        for i in (1..=sec.len()).rev() {
            if blank_or_comment(&sec[i - 1]) {
                continue;
            }
            if let Some(o) = e.option {
                if !values.is_empty() {
                    for v in values.iter().rev() {
                        sec.insert(i, fmt(o, v));
                        msg = "option added";
                    }
                } else if e.allow_no_value && !no_value_present {
                    sec.insert(i, format!("{o}\n"));
                    msg = "option added";
                }
            }
            break;
        }
    } else {
        match e.option {
            Some(o) if e.exclusive => {
                let n = sec.len();
                sec.retain(|l| match_opt(o, l, false).is_none());
                if sec.len() != n {
                    msg = "option changed";
                }
            }
            Some(o) if !values.is_empty() => {
                let n = sec.len();
                sec.retain(|l| !match_opt(o, l, false).is_some_and(|(_, v)| values.contains(&v)));
                if sec.len() != n {
                    msg = "option changed";
                }
            }
            Some(_) => {}
            None => {
                if !sec.is_empty() {
                    sec.clear();
                    msg = "section removed";
                }
            }
        }
    }
    let mut out: Vec<String> = before;
    out.extend(sec);
    out.extend(after);
    // Drop the two marker lines (the first and last line, whatever they are by now: as
    // community.general does).
    if !out.is_empty() {
        out.remove(0);
    }
    out.pop();
    if !within && e.present {
        out.push(format!("[{section}]\n"));
        msg = "section and option added";
        match e.option {
            Some(o) if !values.is_empty() => {
                for v in &values {
                    out.push(fmt(o, v));
                }
            }
            Some(o) if e.allow_no_value => out.push(format!("{o}\n")),
            _ => msg = "only section added",
        }
    }
    (out.concat(), msg)
}

impl Module for IniFile {
    fn spec(&self) -> &'static ModuleSpec {
        &INI_FILE
    }

    fn probes(&self, args: &Args) -> Vec<super::probe::Probe> {
        super::write::edit_probes(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        let present = args.str("state")?.as_deref() != Some("absent");
        let allow_no_value = args.bool("allow_no_value", false)?;
        let value = args.str("value")?;
        let mut values: Vec<String> = match value {
            Some(v) => vec![v],
            None => args.str_list("values")?,
        };
        if present && !allow_no_value && values.is_empty() {
            return Err(Error::module(
                "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.",
            ));
        }
        let mut seen = Vec::new();
        values.retain(|v| {
            let new = !seen.contains(v);
            seen.push(v.clone());
            new
        });
        let section = args.str("section")?;
        let option = args.str("option")?;
        let (state, content) = read_with_state(ctx, &path)?;
        if state.kind == FileKind::Directory {
            return Err(Error::module(format!("{path} is a directory")));
        }
        if !state.exists() && !args.bool("create", true)? {
            let mut p = Plan::no_change(super::result(&[
                ("rc", Value::from(257)),
                (
                    "msg",
                    Value::from(format!("Destination {path} does not exist!")),
                ),
            ]));
            p.failed = true;
            return Ok(p);
        }
        let old = content
            .as_deref()
            .map(|c| String::from_utf8_lossy(c).into_owned());
        let (new, msg) = edit(
            old.as_deref(),
            &Edit {
                section: section.as_deref(),
                option: option.as_deref(),
                values,
                present,
                exclusive: args.bool("exclusive", true)?,
                no_extra_spaces: args.bool("no_extra_spaces", false)?,
                ignore_spaces: args.bool("ignore_spaces", false)?,
                allow_no_value,
                modify_inactive_option: args.bool("modify_inactive_option", true)?,
            },
        );
        // Nothing to write for a missing file that would stay empty (state=absent).
        let would_write = state.exists() || new != old.clone().unwrap_or_default();
        let before = if ctx.diff {
            old.clone().unwrap_or_default()
        } else {
            String::new()
        };
        let after = if ctx.diff { new.clone() } else { String::new() };
        let mut result = Vars::new();
        result.insert(
            "diff".into(),
            Value::from_serialize(serde_json::json!({
                "before": before, "after": after,
                "before_header": format!("{path} (content)"),
                "after_header": format!("{path} (content)"),
            })),
        );
        result.insert("msg".into(), Value::from(msg));
        result.insert("path".into(), Value::from(path.as_str()));
        if !would_write {
            super::write::add_path_info(&mut result, &state);
            return Ok(Plan::no_change(result));
        }
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: true,
                dest: path.clone(),
                content: new.into_bytes(),
                attrs: Attrs::from_args(args)?,
                backup: args.bool("backup", false)?,
                validate: None,
                force: true,
                current: Some((state.clone(), content)),
                shape: ResultShape::Bare,
            },
        )?;
        // The result's `path` brings the file's attributes (Ansible's add_path_info):
        // now when nothing is written, read again after a write.
        super::write::add_path_info(&mut result, &state);
        let msg_kept = msg;
        // The stat after the write is its own round trip: ini_file is not batched (it
        // is a barrier for the write batch), its change runs at once.
        if let Some(inner) = plan.take_apply() {
            let p = path.clone();
            plan.apply = Some(Box::new(move |ctx: &mut ModuleCtx<'_>| {
                let mut extra = inner(ctx)?;
                let b = ctx.become_.clone();
                let st = crate::connection::stat(ctx.conn, &p, false, false, b.as_ref())?;
                super::write::add_path_info(&mut extra, &st);
                // A change of attributes only says so, as Ansible's message does not.
                extra.insert("msg".into(), Value::from(msg_kept));
                Ok(extra)
            }));
        }
        plan.result.extend(result);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed<'a>(
        section: Option<&'a str>,
        option: Option<&'a str>,
        values: &[&str],
        present: bool,
    ) -> Edit<'a> {
        Edit {
            section,
            option,
            values: values.iter().map(|v| v.to_string()).collect(),
            present,
            exclusive: true,
            no_extra_spaces: false,
            ignore_spaces: false,
            allow_no_value: false,
            modify_inactive_option: true,
        }
    }

    #[test]
    fn adds_changes_and_removes() {
        let (t, m) = edit(None, &ed(Some("main"), Some("a"), &["1"], true));
        assert_eq!(t, "\n[main]\na = 1\n");
        assert_eq!(m, "section and option added");
        let (t2, m) = edit(Some(&t), &ed(Some("main"), Some("a"), &["1"], true));
        assert_eq!((t2.as_str(), m), (t.as_str(), "OK"));
        let (t3, m) = edit(
            Some("[main]\n# a = 0\nb = 2\n\n[other]\n"),
            &ed(Some("main"), Some("a"), &["1"], true),
        );
        assert_eq!(t3, "[main]\na = 1\nb = 2\n\n[other]\n");
        assert_eq!(m, "option changed");
        let (t4, m) = edit(
            Some("[main]\nb = 2\n\n[other]\nx=1"),
            &ed(Some("main"), Some("a"), &["1"], true),
        );
        assert_eq!(t4, "[main]\nb = 2\na = 1\n\n[other]\nx=1\n");
        assert_eq!(m, "option added");
        let (t5, m) = edit(Some(&t4), &ed(Some("main"), Some("b"), &[], false));
        assert_eq!(t5, "[main]\na = 1\n\n[other]\nx=1\n");
        assert_eq!(m, "option changed");
        let (t6, m) = edit(Some(&t5), &ed(Some("other"), None, &[], false));
        assert_eq!(t6, "[main]\na = 1\n\n");
        assert_eq!(m, "section removed");
    }

    #[test]
    fn several_values_and_no_section() {
        let (t, _) = edit(
            Some("[s]\nk = a\nk = b\nk = c\n"),
            &ed(Some("s"), Some("k"), &["c", "d"], true),
        );
        assert_eq!(t, "[s]\nk = d\nk = c\n");
        let (t, m) = edit(Some("top = 1\n[s]\n"), &ed(None, Some("top"), &["2"], true));
        assert_eq!((t.as_str(), m), ("top = 2\n[s]\n", "option changed"));
    }
}
