//! deb822_repository and apt_repository: apt sources, written byte-for-byte as Ansible
//! writes them (through the shared atomic write plan), keys in /etc/apt/keyrings.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::write::{plan_write, ResultShape, WriteRequest};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::{quote, FileKind};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use base64::Engine;
use minijinja::Value;

pub struct Deb822Repository;
pub struct AptRepository;

static DEB822_SPEC: ModuleSpec = ModuleSpec {
    name: "deb822_repository",
    aliases: &[],
    args: &[
        arg("name", Str).required(),
        arg("types", List),
        arg("uris", List),
        arg("suites", List),
        arg("components", List),
        arg("signed_by", Str),
        arg("architectures", List),
        arg("enabled", Bool),
        arg("trusted", Bool),
        arg("allow_downgrade_to_insecure", Bool),
        arg("allow_insecure", Bool),
        arg("allow_weak", Bool),
        arg("by_hash", Bool),
        arg("check_date", Bool),
        arg("check_valid_until", Bool),
        arg("date_max_future", Int),
        arg("inrelease_path", Str),
        arg("languages", List),
        arg("pdiffs", Bool),
        arg("targets", List),
        arg("mode", Mode),
        arg("state", Str).choices(&["present", "absent"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

static APT_REPO_SPEC: ModuleSpec = ModuleSpec {
    name: "apt_repository",
    aliases: &[],
    args: &[
        arg("repo", Str).required(),
        arg("state", Str).choices(&["present", "absent"]),
        arg("mode", Mode),
        arg("update_cache", Bool).aliases(&["update-cache"]),
        arg("update_cache_retries", Int),
        arg("update_cache_retry_max_delay", Int),
        arg("filename", Str),
        arg("install_python_apt", Bool),
        arg("validate_certs", Bool),
        arg("codename", Str),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

const KEYRINGS: &str = "/etc/apt/keyrings";

/// Ansible's file name for a repository name: lower case, `_` and spaces to `-`, only
/// `[a-z0-9-]` kept.
fn slug(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut dashed = String::new();
    let mut in_run = false;
    for c in lower.chars() {
        if c == '_' || c.is_whitespace() {
            if !in_run {
                dashed.push('-');
            }
            in_run = true;
        } else {
            dashed.push(c);
            in_run = false;
        }
    }
    dashed
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}

/// `signed_by` with a URL scheme (Python's urlparse: letters first, then letters, digits,
/// `+-.`, then `:`).
fn has_scheme(v: &str) -> bool {
    match v.split_once(':') {
        Some((s, _)) => {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn format_multiline(v: &str) -> String {
    let lines: Vec<String> = v
        .trim()
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.is_empty() {
                ".".to_string()
            } else {
                t.to_string()
            }
        })
        .collect();
    let mut out = String::from("\n");
    out.push_str(
        &lines
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    out
}

fn field_name(k: &str) -> String {
    match k {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        _ => k
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// The deb822 stanza as Ansible's Deb822.dump() writes it: fields sorted by argument name.
fn render_deb822(args: &Args, signed_by_value: Option<&str>) -> Result<String> {
    let mut keys: Vec<&str> = DEB822_SPEC
        .args
        .iter()
        .map(|a| a.name)
        .filter(|k| !matches!(*k, "mode" | "state"))
        .collect();
    keys.sort_unstable();
    let mut out = String::new();
    for k in keys {
        let value = match k {
            "signed_by" => match signed_by_value {
                Some(v) => v.to_string(),
                None => continue,
            },
            "types" if !args.has("types") => "deb".to_string(),
            _ => {
                let Some(spec) = DEB822_SPEC.canonical_arg(k) else {
                    continue;
                };
                if !args.has(k) {
                    continue;
                }
                match spec.ty {
                    Bool => if args.bool(k, false)? { "yes" } else { "no" }.to_string(),
                    Int => args.int(k)?.unwrap_or_default().to_string(),
                    List => args.str_list(k)?.join(" "),
                    _ => args.str(k)?.unwrap_or_default(),
                }
            }
        };
        if k == "types" {
            for t in value.split_whitespace() {
                if t != "deb" && t != "deb-src" {
                    return Err(Error::module(format!(
                        "types: '{t}' is not one of deb, deb-src"
                    )));
                }
            }
        }
        let value = if value.contains('\n') {
            format_multiline(&value)
        } else {
            value
        };
        let name = field_name(k);
        if value.is_empty() || value.starts_with('\n') {
            out.push_str(&format!("{name}:{value}\n"));
        } else {
            out.push_str(&format!("{name}: {value}\n"));
        }
    }
    Ok(out)
}

/// Several plans as one: the changes of all, applied in order after `pre` (a script).
fn merge(plans: Vec<Plan>, result: Vars, pre: Option<String>) -> Plan {
    let mut what = Vec::new();
    let mut diffs = Vec::new();
    let mut touches = Vec::new();
    let mut applies = Vec::new();
    let mut create_only = true;
    for mut p in plans {
        match &p.change {
            Change::None => continue,
            Change::Create => what.push("content".to_string()),
            Change::Modify(w) => {
                create_only = false;
                what.extend(w.iter().cloned())
            }
            _ => create_only = false,
        }
        if let Some(a) = p.take_apply() {
            applies.push(a);
        }
        diffs.extend(p.diff);
        touches.extend(p.touches.unwrap_or_default());
    }
    if applies.is_empty() {
        return Plan::no_change(result);
    }
    let change = if create_only {
        Change::Create
    } else {
        Change::Modify(what)
    };
    let mut plan = Plan::change(
        change,
        result,
        Box::new(move |ctx: &mut ModuleCtx<'_>| {
            if let Some(s) = &pre {
                let out = ctx.sh(s, None)?;
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "cannot prepare: {}",
                        out.stderr_str().trim()
                    )));
                }
            }
            let mut r = Vars::new();
            for a in applies {
                r.extend(a(ctx)?);
            }
            Ok(r)
        }),
    )
    .touching(touches);
    plan.diff = diffs;
    plan
}

/// Download a URL on the host (curl or wget), its content base64-encoded on stdout.
pub fn fetch_script(url: &str, timeout: i64) -> String {
    let u = quote(url);
    format!(
        "t=$(mktemp) || exit 70\ntrap 'rm -f \"$t\"' EXIT\n\
         if command -v curl >/dev/null 2>&1; then curl -fsSL --max-time {timeout} -o \"$t\" {u} || exit $?\n\
         elif command -v wget >/dev/null 2>&1; then wget -q -T {timeout} -O \"$t\" {u} || exit $?\n\
         else echo 'neither curl nor wget is installed on the host' >&2; exit 127; fi\n\
         base64 -w0 < \"$t\"\n"
    )
}

impl Module for Deb822Repository {
    fn spec(&self) -> &'static ModuleSpec {
        &DEB822_SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        let Ok(Some(name)) = args.str("name") else {
            return Vec::new();
        };
        let s = slug(&name);
        let stat = |path: String| Probe::Stat {
            path,
            follow: true,
            checksum: true,
        };
        vec![
            stat(format!("/etc/apt/sources.list.d/{s}.sources")),
            stat(format!("{KEYRINGS}/{s}.asc")),
            stat(format!("{KEYRINGS}/{s}.gpg")),
        ]
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let name = args.req_str("name")?;
        let s = slug(&name);
        if s.is_empty() {
            return Err(Error::module(format!(
                "name '{name}' leaves no file name (only a-z, 0-9 and - are kept)"
            )));
        }
        let dest = format!("/etc/apt/sources.list.d/{s}.sources");
        let mut result = Vars::new();
        result.insert("dest".into(), Value::from(dest.as_str()));
        if args.str("state")?.as_deref() == Some("absent") {
            let mut gone = Vec::new();
            for p in [
                dest.clone(),
                format!("{KEYRINGS}/{s}.asc"),
                format!("{KEYRINGS}/{s}.gpg"),
            ] {
                if ctx.stat(&p, false, false)?.exists() {
                    gone.push(p);
                }
            }
            result.insert("repo".into(), Value::from(()));
            result.insert(
                "key_filename".into(),
                Value::from(format!("{KEYRINGS}/{s}.gpg")),
            );
            if gone.is_empty() {
                return Ok(Plan::no_change(result));
            }
            let script = format!(
                "rm -f -- {}",
                gone.iter().map(|p| quote(p)).collect::<Vec<_>>().join(" ")
            );
            let diff = Diff {
                before_header: dest.clone(),
                after_header: dest.clone(),
                before: gone.iter().map(|g| format!("{g}\n")).collect(),
                after: String::new(),
            };
            return Ok(Plan::change(
                Change::Remove,
                result,
                super::run_script(script, "removing the repository".into()),
            )
            .with_diff(Some(diff))
            .touching(gone));
        }
        let mut plans = Vec::new();
        let mut pre = None;
        let mut key_filename: Option<String> = None;
        let signed_by = args.str("signed_by")?;
        let mut signed_value = signed_by.clone();
        if let Some(v) = &signed_by {
            let single = !v.contains('\n');
            let is_file =
                single && v.starts_with('/') && ctx.stat(v, true, false)?.kind == FileKind::File;
            if is_file {
                key_filename = Some(v.clone());
            } else if single && has_scheme(v) {
                if v.starts_with('-') {
                    return Err(Error::module(format!("signed_by '{v}' is not a URL")));
                }
                let out = ctx.sh(&fetch_script(v, 30), None)?;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(out.stdout_str().trim())
                    .unwrap_or_default();
                if out.rc != 0 || data.is_empty() {
                    return Err(Error::module(format!(
                        "Could not fetch signed_by key: {v}: {}",
                        out.stderr_str().trim()
                    ))
                    .with_help("check the URL from the host (curl or wget must be installed there), or give the key inline or as a path on the host"));
                }
                let armored = data
                    .windows(b"-----BEGIN PGP PUBLIC KEY BLOCK-----".len())
                    .any(|w| w == b"-----BEGIN PGP PUBLIC KEY BLOCK-----");
                let file = format!("{KEYRINGS}/{s}.{}", if armored { "asc" } else { "gpg" });
                pre = Some(format!("mkdir -p -m 0755 {KEYRINGS}"));
                plans.push(plan_write(ctx, source_write(&file, data, "0644".into()))?);
                signed_value = Some(file.clone());
                key_filename = Some(file);
            }
        }
        let content = render_deb822(args, signed_value.as_deref())?;
        let mode = args.mode("mode")?.unwrap_or_else(|| "0644".into());
        plans.push(plan_write(
            ctx,
            source_write(&dest, content.clone().into_bytes(), mode),
        )?);
        result.insert("repo".into(), Value::from(content));
        result.insert(
            "key_filename".into(),
            key_filename.map(Value::from).unwrap_or(Value::from(())),
        );
        Ok(merge(plans, result, pre))
    }
}

/// One line of a sources.list file as Ansible's apt_repository reads it.
#[derive(Clone, Debug, PartialEq)]
struct SourceLine {
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

const SOURCE_TYPES: &[&str] = &["deb", "deb-src"];

fn parse_line(line: &str) -> SourceLine {
    let mut line = line.trim();
    let mut enabled = true;
    if let Some(rest) = line.strip_prefix('#') {
        enabled = false;
        line = rest;
    }
    let mut comment = String::new();
    let mut body = line.to_string();
    if let Some(i) = line.find('#') {
        if i > 0 {
            comment = line[i + 1..].trim().to_string();
            body = line[..i].to_string();
        }
    }
    let mut source = body.trim().to_string();
    let mut valid = false;
    if !source.is_empty() {
        let chunks: Vec<&str> = source.split_whitespace().collect();
        if SOURCE_TYPES.contains(&chunks[0]) {
            valid = true;
            source = chunks.join(" ");
        }
    }
    SourceLine {
        valid,
        enabled,
        source,
        comment,
    }
}

fn dump_lines(lines: &[SourceLine]) -> String {
    let mut out = String::new();
    for l in lines {
        if !l.enabled {
            out.push_str("# ");
        }
        out.push_str(&l.source);
        if !l.comment.is_empty() {
            out.push_str(" # ");
            out.push_str(&l.comment);
        }
        out.push('\n');
    }
    out
}

/// Ansible's file name for a new source: the host part of the URI, non-alphanumerics as `_`.
fn suggest_filename(source: &str, filename: Option<&str>) -> String {
    if let Some(f) = filename {
        return format!("{f}.list");
    }
    let mut line = String::new();
    let mut depth = 0;
    for c in source.chars() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => line.push(c),
            _ => {}
        }
    }
    let line = match regex::Regex::new(r"\w+://") {
        Ok(re) => re.replace_all(&line, "").into_owned(),
        Err(_) => line,
    };
    let parts: Vec<&str> = line
        .split_whitespace()
        .filter(|p| !SOURCE_TYPES.contains(p))
        .collect();
    let first = parts.first().copied().unwrap_or("");
    let first = first.split_once('@').map(|(_, h)| h).unwrap_or(first);
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        "{}.list",
        cleaned.split_whitespace().collect::<Vec<_>>().join("_")
    )
}

const SOURCES_QUERY: &str = "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f \"$f\" ] || continue; printf '\\001%s\\n' \"$f\"; cat -- \"$f\"; done";

fn parse_files(out: &str) -> Vec<(String, Vec<SourceLine>)> {
    let mut files: Vec<(String, Vec<SourceLine>)> = Vec::new();
    for line in out.split('\n') {
        if let Some(name) = line.strip_prefix('\u{1}') {
            files.push((name.to_string(), Vec::new()));
        } else if let Some((_, lines)) = files.last_mut() {
            lines.push(parse_line(line));
        }
    }
    // `cat` of a file ending in a newline leaves one empty piece after it.
    for (_, lines) in files.iter_mut() {
        if lines
            .last()
            .is_some_and(|l| l.source.is_empty() && l.enabled)
        {
            lines.pop();
        }
    }
    files
}

impl Module for AptRepository {
    fn spec(&self) -> &'static ModuleSpec {
        &APT_REPO_SPEC
    }

    fn probes(&self, _args: &Args) -> Vec<Probe> {
        vec![Probe::Query {
            script: SOURCES_QUERY.into(),
        }]
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let repo = args.req_str("repo")?;
        if repo.trim().is_empty() {
            return Err(Error::module(
                "Please set argument 'repo' to a non-empty value",
            ));
        }
        if repo.trim_start().starts_with("ppa:") {
            return Err(Error::module("apt_repository: PPAs are not supported by drover")
                .with_help("write the PPA's deb line (and its key with deb822_repository signed_by) instead"));
        }
        let present = args.str("state")?.as_deref() != Some("absent");
        let new = parse_line(&repo);
        if !new.valid || !new.enabled {
            return Err(Error::module(format!("Invalid repository string: {repo}"))
                .with_help("give a one-line source such as 'deb [signed-by=/etc/apt/keyrings/x.asc] https://example.org/debian bookworm main'"));
        }
        let before = parse_files(&ctx.query(SOURCES_QUERY)?);
        let mut after = before.clone();
        if present {
            let mut found = false;
            for (_, lines) in after.iter_mut() {
                for l in lines.iter_mut() {
                    if l.source == new.source {
                        l.enabled = true;
                        found = true;
                    }
                }
            }
            if !found {
                let f = suggest_filename(&new.source, args.str("filename")?.as_deref());
                let path = if f.contains('/') {
                    f
                } else {
                    format!("/etc/apt/sources.list.d/{f}")
                };
                let line = SourceLine {
                    comment: String::new(),
                    ..new.clone()
                };
                match after.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, lines)) => lines.push(line),
                    None => after.push((path, vec![line])),
                }
            }
        } else {
            for (_, lines) in after.iter_mut() {
                lines.retain(|l| !(l.source == new.source && l.enabled));
            }
        }
        let mut result = Vars::new();
        result.insert("repo".into(), Value::from(repo.as_str()));
        result.insert(
            "state".into(),
            Value::from(if present { "present" } else { "absent" }),
        );
        let mut writes = Vec::new();
        let mut removes = Vec::new();
        let mut diffs = Vec::new();
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        for (path, lines) in &after {
            let old = before.iter().find(|(p, _)| p == path).map(|(_, l)| l);
            let new_text = dump_lines(lines);
            let old_text = old.map(|l| dump_lines(l));
            if old_text.as_deref() == Some(new_text.as_str()) {
                continue;
            }
            if lines.is_empty() {
                if old.is_some() {
                    removes.push(path.clone());
                    removed.push(path.clone());
                    diffs.push(Diff {
                        before_header: path.clone(),
                        after_header: "/dev/null".into(),
                        before: old_text.unwrap_or_default(),
                        after: String::new(),
                    });
                }
                continue;
            }
            if old.is_none() {
                added.push(path.clone());
            }
            diffs.push(Diff {
                before_header: if old.is_some() {
                    path.clone()
                } else {
                    "/dev/null".into()
                },
                after_header: path.clone(),
                before: old_text.clone().unwrap_or_default(),
                after: new_text.clone(),
            });
            writes.push((path.clone(), new_text, old.is_none()));
        }
        result.insert("sources_added".into(), Value::from(added));
        result.insert("sources_removed".into(), Value::from(removed));
        if writes.is_empty() && removes.is_empty() {
            return Ok(Plan::no_change(result));
        }
        let mode = args.mode("mode")?.unwrap_or_else(|| "0644".into());
        let update = args.bool("update_cache", true)?;
        let mut touched: Vec<String> = writes.iter().map(|(p, _, _)| p.clone()).collect();
        touched.extend(removes.iter().cloned());
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            for (path, text, is_new) in &writes {
                let attrs = crate::connection::PutAttrs {
                    make_parents: false,
                    mode: is_new.then(|| mode.clone()),
                    ..Default::default()
                };
                ctx.put_file(path, text.as_bytes(), &attrs)?;
            }
            if !removes.is_empty() {
                let out = ctx.sh(
                    &format!(
                        "rm -f -- {}",
                        removes
                            .iter()
                            .map(|p| quote(p))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    None,
                )?;
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "cannot remove {}: {}",
                        removes.join(", "),
                        out.stderr_str().trim()
                    )));
                }
            }
            if update {
                let out = ctx.sh(&super::apt::update_script(60), None)?;
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "the source was written but apt-get update failed: {}",
                        out.stderr_str().trim()
                    ))
                    .with_help("check the repository line (URL, suite, signed-by key); set update_cache: no to skip the update"));
                }
            }
            Ok(Vars::new())
        });
        let mut plan =
            Plan::change(Change::Modify(vec!["sources".into()]), result, apply).touching(touched);
        plan.diff = diffs;
        Ok(plan)
    }
}

/// The atomic write of an apt source or keyring file: root's, with this mode; the
/// module reports its own result.
fn source_write(dest: &str, content: Vec<u8>, mode: String) -> WriteRequest {
    WriteRequest {
        make_parents: false,
        dest: dest.to_string(),
        content,
        attrs: Attrs {
            mode: Some(mode),
            owner: None,
            group: None,
        },
        backup: false,
        validate: None,
        force: true,
        current: None,
        shape: ResultShape::Bare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_like_ansible() {
        assert_eq!(slug("My Repo_name!"), "my-repo-name");
        assert_eq!(
            suggest_filename(
                "deb [arch=amd64] https://user@download.docker.com/linux/debian bookworm stable",
                None
            ),
            "download_docker_com_linux_debian.list"
        );
        assert_eq!(
            suggest_filename("deb http://x y", Some("custom")),
            "custom.list"
        );
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
        assert_eq!(field_name("uris"), "URIs");
    }

    #[test]
    fn reads_and_writes_source_lines() {
        let l = parse_line("deb   http://a  b c # note");
        assert_eq!(
            (l.valid, l.source.as_str(), l.comment.as_str()),
            (true, "deb http://a b c", "note")
        );
        let d = parse_line("# deb http://a b");
        assert!(!d.enabled && d.valid);
        assert_eq!(
            dump_lines(&[l, d]),
            "deb http://a b c # note\n# deb http://a b\n"
        );
        assert_eq!(
            format_multiline("-----BEGIN-----\n\nabc\n-----END-----\n"),
            "\n    -----BEGIN-----\n    .\n    abc\n    -----END-----"
        );
    }
}
