//! sysctl: a kernel parameter in a sysctl file (edited on the controller and written
//! back atomically, like lineinfile), optionally set live with `sysctl -w` and applied
//! with `sysctl -p FILE`, as Ansible's `ansible.posix.sysctl`.

use super::attrs::Attrs;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{plan_write, read_with_state, ResultShape, WriteRequest};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::{quote, FileKind};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;

pub struct Sysctl;

static SPEC: ModuleSpec = ModuleSpec {
    name: "sysctl",
    aliases: &["ansible.posix.sysctl"],
    args: &[
        arg("name", Str).required().aliases(&["key"]),
        arg("value", Str).aliases(&["val"]),
        arg("state", Str).choices(&["present", "absent"]),
        arg("sysctl_file", Str),
        arg("reload", Bool),
        arg("sysctl_set", Bool),
        arg("ignoreerrors", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Ansible's value normalisation: booleans become 1/0, strings are stripped.
fn normalize_value(v: &str) -> String {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => "1".into(),
        "no" | "false" | "off" => "0".into(),
        _ => v.trim().to_string(),
    }
}

/// Values compare equal when their whitespace-separated words are equal
/// (`sysctl -n` prints tabs where the file has spaces).
fn same_value(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

fn is_setting(line: &str) -> Option<(String, String)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    Some((k.trim().to_string(), v.trim().to_string()))
}

/// The file's value for `name` (the last setting wins, as `sysctl -p` applies them).
fn file_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(is_setting)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The new file as Ansible writes it: comments and blank lines kept, settings as
/// `key=value`, the first occurrence of `name` replaced (later ones dropped), appended
/// when missing; with `value` None the key is removed.
fn rewrite(text: &str, name: &str, value: Option<&str>) -> String {
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        match is_setting(line) {
            None => {
                out.push_str(line);
                if !line.ends_with('\n') {
                    out.push('\n');
                }
            }
            Some((k, v)) => {
                if seen.contains(&k) {
                    continue;
                }
                seen.push(k.clone());
                if k == name {
                    if let Some(val) = value {
                        out.push_str(&format!("{k}={val}\n"));
                    }
                } else {
                    out.push_str(&format!("{k}={v}\n"));
                }
            }
        }
    }
    if let Some(val) = value {
        if !seen.iter().any(|k| k == name) {
            out.push_str(&format!("{name}={val}\n"));
        }
    }
    out
}

impl Module for Sysctl {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let name = args.req_str("name")?.trim().replace('/', ".");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*' | ':'))
        {
            return Err(Error::module(format!("'{name}' is not a valid sysctl key"))
                .with_help("keys look like net.ipv4.ip_forward or kernel/domainname"));
        }
        let present = args.str("state")?.as_deref() != Some("absent");
        let value = match args.str("value")? {
            Some(v) => Some(normalize_value(&v)),
            None if present => {
                return Err(Error::module("sysctl with state=present needs 'value'"))
            }
            None => None,
        };
        if value.as_deref().is_some_and(|v| v.contains('\n')) {
            return Err(Error::module("a sysctl value cannot contain a newline"));
        }
        let file = args
            .str("sysctl_file")?
            .unwrap_or_else(|| "/etc/sysctl.conf".into());
        let reload = args.bool("reload", true)?;
        let sysctl_set = args.bool("sysctl_set", false)?;
        let ignore = args.bool("ignoreerrors", false)?;

        let (state, content) = read_with_state(ctx, &file)?;
        if state.kind == FileKind::Directory {
            return Err(Error::module(format!("sysctl_file {file} is a directory")));
        }
        let text = String::from_utf8_lossy(content.as_deref().unwrap_or(b"")).into_owned();
        let current = file_value(&text, &name);
        let file_change = match (&value, present) {
            (Some(v), true) => !current.as_deref().is_some_and(|c| same_value(c, v)),
            _ => current.is_some(),
        };

        // The live value, only when the task asks to set it.
        let mut live_change: Option<(String, String)> = None;
        if present && sysctl_set {
            let want = value.clone().unwrap_or_default();
            let out = ctx.sh(&format!("sysctl -n -- {}", quote(&name)), None)?;
            if out.rc != 0 && !ignore {
                return Err(Error::module(format!(
                    "sysctl: cannot read {name}: {}",
                    out.stderr_str().trim()
                ))
                .with_help(
                    "check the key name with `sysctl -a` on the host, or set ignoreerrors: yes",
                ));
            }
            let live = out.stdout_str().trim().to_string();
            if !same_value(&live, &want) {
                live_change = Some((live, want));
            }
        }

        // Ansible's sysctl reports nothing but `changed`.
        let result = Vars::new();
        if !file_change && live_change.is_none() {
            return Ok(Plan::no_change(result));
        }

        let mut what: Vec<String> = Vec::new();
        let mut diffs: Vec<Diff> = Vec::new();
        let mut file_apply = None;
        if file_change {
            let new_text = rewrite(&text, &name, if present { value.as_deref() } else { None });
            let mut plan = plan_write(
                ctx,
                WriteRequest {
                    make_parents: false,
                    dest: file.clone(),
                    content: new_text.into_bytes(),
                    attrs: Attrs::default(),
                    backup: false,
                    validate: None,
                    force: true,
                    current: Some((state, content)),
                    shape: ResultShape::Bare,
                },
            )?;
            file_apply = plan.take_apply();
            diffs.extend(plan.diff);
            what.push(file.clone());
        }
        if let Some((live, want)) = &live_change {
            what.push("live value".into());
            diffs.push(Diff {
                before_header: format!("{name} (live)"),
                after_header: format!("{name} (live)"),
                before: format!("{live}\n"),
                after: format!("{want}\n"),
            });
        }
        let set_cmd =
            live_change.map(|(_, want)| format!("sysctl -w {}", quote(&format!("{name}={want}"))));
        let reload_cmd = (reload && (file_change || set_cmd.is_some())).then(|| {
            format!(
                "sysctl {}-p {}",
                if ignore { "-e " } else { "" },
                quote(&file)
            )
        });
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            if let Some(cmd) = &set_cmd {
                let out = ctx.sh(cmd, None)?;
                if out.rc != 0 && !ignore {
                    return Err(Error::module(format!(
                        "{cmd} failed: {}",
                        out.stderr_str().trim()
                    ))
                    .with_help("the key may not exist or be read-only on this host (containers often cannot set kernel keys); set ignoreerrors: yes to go on"));
                }
            }
            if let Some(f) = file_apply {
                f(ctx)?;
            }
            if let Some(cmd) = &reload_cmd {
                let out = ctx.sh(cmd, None)?;
                let err = out.stderr_str();
                if (out.rc != 0 || err.contains("Invalid argument")) && !ignore {
                    return Err(Error::module(format!(
                        "Failed to reload sysctl: {}",
                        err.trim()
                    ))
                    .with_help("fix the failing setting in the file, or set reload: no / ignoreerrors: yes"));
                }
            }
            Ok(Vars::new())
        });
        let mut plan = Plan::change(Change::Modify(what), result, apply).touching(vec![file]);
        plan.diff = diffs;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_like_ansible() {
        let text =
            "# comment\nnet.ipv4.ip_forward = 0\nvm.swappiness=10\n\nnet.ipv4.ip_forward=0\n";
        assert_eq!(
            file_value(text, "net.ipv4.ip_forward").as_deref(),
            Some("0")
        );
        assert_eq!(
            rewrite(text, "net.ipv4.ip_forward", Some("1")),
            "# comment\nnet.ipv4.ip_forward=1\nvm.swappiness=10\n\n"
        );
        assert_eq!(
            rewrite(text, "net.ipv4.ip_forward", None),
            "# comment\nvm.swappiness=10\n\n"
        );
        assert_eq!(
            rewrite("a=1", "kernel.domainname", Some("x")),
            "a=1\nkernel.domainname=x\n"
        );
        assert_eq!(normalize_value(" yes "), "1");
        assert!(same_value("4096\t87380 6291456", "4096 87380  6291456"));
        assert_eq!(file_value("; x=1\n", "x"), None);
    }
}
