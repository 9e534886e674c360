//! unarchive: tar archives (plain, gzip, xz, bzip2, zstd as the host's GNU tar reads them)
//! and zip (with the host's unzip), from the controller or already on the host. Whether
//! anything would change is decided by the host's own comparison (`tar --diff`, unzip's
//! CRC listing against the files), so a converged directory is not extracted again.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct Unarchive;

static SPEC: ModuleSpec = ModuleSpec {
    name: "unarchive",
    aliases: &[],
    args: &[
        arg("src", Str).required(),
        arg("dest", Str).required(),
        arg("remote_src", Bool),
        arg("copy", Bool),
        arg("creates", Str),
        arg("extra_opts", List),
        arg("include", List),
        arg("exclude", List),
        arg("list_files", Bool),
        arg("keep_newer", Bool),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("decrypt", Bool),
        arg("validate_certs", Bool),
        arg("io_buffer_size", Int),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["include", "exclude"], &["remote_src", "copy"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tar,
    Zip,
}

fn kind_of(name: &str) -> Kind {
    if name.to_ascii_lowercase().ends_with(".zip") {
        Kind::Zip
    } else {
        Kind::Tar
    }
}

/// Ansible's handler for a tar archive and the compression flag it passes to tar, by name.
fn tar_flavour(name: &str) -> (&'static str, Option<&'static str>) {
    let n = name.to_ascii_lowercase();
    if n.ends_with(".tar.gz") || n.ends_with(".tgz") || n.ends_with(".gz") {
        ("TgzArchive", Some("-z"))
    } else if n.ends_with(".tar.bz2") || n.ends_with(".tbz2") || n.ends_with(".bz2") {
        ("TarBzipArchive", Some("-j"))
    } else if n.ends_with(".tar.xz") || n.ends_with(".txz") || n.ends_with(".xz") {
        ("TarXzArchive", Some("-J"))
    } else {
        ("TarArchive", None)
    }
}

/// The commands for one archive at `"$a"` into `"$d"`.
struct Commands {
    list: String,
    diff: String,
    extract: String,
}

fn commands(kind: Kind, src: &str, args: &Args) -> Result<Commands> {
    let include = args.str_list("include")?;
    let exclude = args.str_list("exclude")?;
    let extra: Vec<String> = args
        .str_list("extra_opts")?
        .iter()
        .map(|o| quote(o))
        .collect();
    let extra = extra.join(" ");
    let keep_newer = args.bool("keep_newer", false)?;
    match kind {
        Kind::Tar => {
            let ex: String = exclude
                .iter()
                .map(|e| format!(" --exclude={}", quote(e)))
                .collect();
            let inc: String = include.iter().map(|i| format!(" {}", quote(i))).collect();
            let newer = if keep_newer {
                " --keep-newer-files"
            } else {
                ""
            };
            Ok(Commands {
                list: format!("tar -tf \"$a\"{ex} {extra}{inc}"),
                diff: format!("tar -C \"$d\" -df \"$a\"{ex} {extra}{inc}"),
                // Ansible's argument order, which its result reports (extract_results.cmd).
                extract: format!(
                    "tar --extract -C \"$d\"{}{newer}{ex} {extra} -f \"$a\"{inc}",
                    tar_flavour(src)
                        .1
                        .map(|z| format!(" {z}"))
                        .unwrap_or_default()
                ),
            })
        }
        Kind::Zip => {
            let ex = if exclude.is_empty() {
                String::new()
            } else {
                format!(
                    " -x {}",
                    exclude
                        .iter()
                        .map(|e| quote(e))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            let inc: String = include.iter().map(|i| format!(" {}", quote(i))).collect();
            let newer = if keep_newer { "-n" } else { "-o" };
            // unzip -Z -v is verbose; compare each file's content through unzip -p.
            let list = format!("unzip -Z1 \"$a\"{inc}{ex} {extra}");
            let diff = format!(
                "{list} | while IFS= read -r f; do case \"$f\" in */) [ -d \"$d/$f\" ] || exit 1; continue ;; esac; \
                 [ -f \"$d/$f\" ] || exit 1; \
                 [ \"$(unzip -p \"$a\" \"$f\" | cksum)\" = \"$(cksum < \"$d/$f\")\" ] || exit 1; done"
            );
            Ok(Commands {
                list,
                diff,
                extract: format!("unzip -q {newer} {extra} \"$a\"{inc}{ex} -d \"$d\""),
            })
        }
    }
}

/// The script that checks (and, with `extract`, extracts) the archive `"$a"`.
fn script(
    c: &Commands,
    kind: Kind,
    upload: bool,
    dest: &str,
    src: &str,
    extract: bool,
    attrs: &super::attrs::Attrs,
) -> String {
    let mut s = format!("d={}\n", quote(dest));
    s.push_str("[ -d \"$d\" ] || { echo @nodest; exit 0; }\n");
    if kind == Kind::Zip {
        s.push_str("command -v unzip >/dev/null 2>&1 || { echo @nounzip; exit 0; }\n");
    }
    if upload {
        s.push_str("a=$(mktemp) || exit 70\ntrap 'rm -f \"$a\"' EXIT\ncat > \"$a\" || exit 70\n");
    } else {
        s.push_str(&format!(
            "a={}\n[ -f \"$a\" ] || {{ echo @nosrc; exit 0; }}\n",
            quote(src)
        ));
    }
    s.push_str(&format!(
        "files=$({} 2>/dev/null) || {{ echo @badarchive; {} 2>&1 >/dev/null | head -n 5; exit 0; }}\n\
         printf '%s\\n' \"$files\" | sed 's/^/@file /'\n",
        c.list, c.list
    ));
    let attr_check = attr_check(attrs);
    // The destination as Ansible's result describes it (add_path_info), at the end.
    let describe = "printf '@path '; stat -c '%F|%a|%U|%G|%u|%g|%s|%h' -- \"$d\"";
    s.push_str(&format!(
        "if ( {} ) >/dev/null 2>&1{attr_check}; then {describe}; echo @same; exit 0; fi\necho @differs\n",
        c.diff
    ));
    if !extract {
        s.push_str(describe);
        s.push('\n');
    }
    if extract {
        s.push_str(&format!(
            "out=$({} 2>&1); rc=$?\necho \"@rc $rc\"\nprintf '%s\\n' \"$out\" | sed 's/^/@out /'\n[ $rc -eq 0 ] || exit 0\n",
            c.extract
        ));
        let set = attrs.script("\"$d/$f\"", false);
        if !set.trim().is_empty() {
            s.push_str(&format!(
                "printf '%s\\n' \"$files\" | while IFS= read -r f; do [ -n \"$f\" ] || continue\n{set}done\n"
            ));
        }
        s.push_str(&format!(
            "printf '@tar %s\\n' \"$(command -v tar)\"\n{describe}\n"
        ));
    }
    s
}

/// With mode/owner/group: every member must also have them.
fn attr_check(attrs: &super::attrs::Attrs) -> String {
    let mut checks = Vec::new();
    if let Some(m) = &attrs.mode {
        if m.chars().all(|c| c.is_ascii_digit()) {
            let n = u32::from_str_radix(m, 8).unwrap_or(0);
            checks.push(format!("[ \"$(stat -c %a \"$d/$f\")\" = {:o} ]", n));
        }
    }
    if let Some(o) = &attrs.owner {
        checks.push(format!(
            "[ \"$(stat -c %U \"$d/$f\")\" = {} ] || [ \"$(stat -c %u \"$d/$f\")\" = {} ]",
            quote(o),
            quote(o)
        ));
    }
    if let Some(g) = &attrs.group {
        checks.push(format!(
            "[ \"$(stat -c %G \"$d/$f\")\" = {} ] || [ \"$(stat -c %g \"$d/$f\")\" = {} ]",
            quote(g),
            quote(g)
        ));
    }
    if checks.is_empty() {
        return String::new();
    }
    format!(
        " && printf '%s\\n' \"$files\" | {{ while IFS= read -r f; do [ -n \"$f\" ] || continue; {{ {}; }} || exit 1; done; }}",
        checks.join(" && ")
    )
}

fn parse(out: &str) -> (BTreeMap<String, String>, Vec<String>, Vec<String>) {
    let mut flags = BTreeMap::new();
    let mut files = Vec::new();
    let mut outl = Vec::new();
    for l in out.lines() {
        if let Some(f) = l.strip_prefix("@file ") {
            files.push(f.to_string());
        } else if let Some(o) = l.strip_prefix("@out ") {
            outl.push(o.to_string());
        } else if let Some(rest) = l.strip_prefix('@') {
            let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
            flags.insert(k.to_string(), v.to_string());
        } else {
            outl.push(l.to_string());
        }
    }
    (flags, files, outl)
}

fn check_flags(
    flags: &BTreeMap<String, String>,
    dest: &str,
    src: &str,
    out: &[String],
) -> Result<()> {
    if flags.contains_key("nodest") {
        return Err(
            Error::module(format!("dest '{dest}' must be an existing dir"))
                .with_help("create it first with file: state=directory"),
        );
    }
    if flags.contains_key("nosrc") {
        return Err(Error::module(format!(
            "Source '{src}' does not exist on the host"
        ))
        .with_help("with remote_src: yes, src is a path on the host; without it, a file on the controller"));
    }
    if flags.contains_key("nounzip") {
        return Err(
            Error::module("Unable to find required 'unzip' binary in the path")
                .with_help("install unzip on the host (apt: name=unzip)"),
        );
    }
    if flags.contains_key("badarchive") {
        return Err(Error::module(format!(
            "Failed to find handler for \"{src}\": cannot list it ({})",
            out.join(" ").trim()
        ))
        .with_help("drover reads tar archives (gz, xz, bz2, zst) and .zip"));
    }
    Ok(())
}

impl Module for Unarchive {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("creates") {
            Ok(Some(c)) => vec![Probe::Exists { pattern: c }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let src = args.req_str("src")?;
        let dest = args.req_str("dest")?;
        let remote = match (args.value("remote_src"), args.value("copy")) {
            (Some(_), _) => args.bool("remote_src", false)?,
            (None, Some(_)) => !args.bool("copy", true)?,
            _ => false,
        };
        if src.contains("://") {
            return Err(
                Error::module("unarchive from a URL is not supported by drover").with_help(
                    "download it with get_url first, then unarchive with remote_src: yes",
                ),
            );
        }
        let mut result = Vars::new();
        result.insert("dest".into(), Value::from(dest.as_str()));
        result.insert("src".into(), Value::from(src.as_str()));
        if let Some(c) = args.str("creates")? {
            let there = match ctx.cached_exists(&c) {
                Some(b) => b,
                None => ctx.stat(&c, false, false)?.exists(),
            };
            if there {
                // Ansible's action skips the task, with only the reason.
                let mut r = Vars::new();
                r.insert(
                    "msg".into(),
                    Value::from(format!("skipped, since {c} exists")),
                );
                let mut plan = Plan::no_change(r);
                plan.skipped = true;
                plan.skipped_by_action = true;
                return Ok(plan);
            }
        }
        let kind = kind_of(&src);
        result.insert(
            "handler".into(),
            Value::from(match kind {
                Kind::Tar => tar_flavour(&src).0,
                Kind::Zip => "ZipArchive",
            }),
        );
        let data = if remote {
            None
        } else {
            let path = ctx.find_src("files", &src)?;
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::module(format!("cannot read {}: {e}", path.display())).caused_by(e)
            })?;
            let bytes = if args.bool("decrypt", true)? {
                crate::vault::read_controller_file(bytes, &path)?
            } else {
                bytes
            };
            Some(bytes)
        };
        let attrs = super::attrs::Attrs::from_args(args)?;
        let cmds = commands(kind, &src, args)?;
        let check_script = script(&cmds, kind, data.is_some(), &dest, &src, false, &attrs);
        let out = ctx.sh(&check_script, data.as_deref())?;
        let (flags, files, outl) = parse(&out.stdout_str());
        check_flags(&flags, &dest, &src, &outl)?;
        if args.bool("list_files", false)? {
            result.insert("files".into(), Value::from(files.clone()));
        }
        if let Some(p) = flags.get("path") {
            result.extend(super::file::path_info(p));
        }
        if flags.contains_key("same") {
            return Ok(Plan::no_change(result));
        }
        let apply_script = script(&cmds, kind, data.is_some(), &dest, &src, true, &attrs);
        let extract_cmd = cmds
            .extract
            .replace("\"$a\"", &quote(&src))
            .replace("\"$d\"", &quote(&dest));
        let touched = vec![dest.clone()];
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let out = ctx.sh(&apply_script, data.as_deref())?;
            let (flags, _, outl) = parse(&out.stdout_str());
            check_flags(&flags, &dest, &src, &outl)?;
            let mut r = Vars::new();
            if let Some(p) = flags.get("path") {
                r.extend(super::file::path_info(p));
            }
            if flags.contains_key("same") {
                r.insert("changed".into(), Value::from(false));
                return Ok(r);
            }
            let rc: i64 = flags.get("rc").and_then(|v| v.parse().ok()).unwrap_or(-1);
            let mut er = Vars::new();
            // As Ansible reports it: the argument vector, with the tar it found.
            let cmd: Vec<String> = match (kind, flags.get("tar")) {
                (Kind::Tar, Some(tar)) if !tar.is_empty() => {
                    shell_words(&extract_cmd.replacen("tar", tar, 1))
                }
                _ => shell_words(&extract_cmd),
            };
            er.insert("cmd".into(), Value::from(cmd));
            er.insert("rc".into(), Value::from(rc));
            er.insert("out".into(), Value::from(outl.join("\n")));
            er.insert("err".into(), Value::from(""));
            r.insert("extract_results".into(), Value::from_iter(er));
            if rc != 0 || out.rc != 0 {
                r.insert("failed".into(), Value::from(true));
                r.insert(
                    "msg".into(),
                    Value::from(format!(
                        "failed to unpack {src} to {dest}: {}{}",
                        outl.join(" ").trim(),
                        out.stderr_str().trim()
                    )),
                );
            }
            Ok(r)
        });
        Ok(
            Plan::change(Change::Modify(vec!["files".into()]), result, apply)
                .touching_tree(touched),
        )
    }
}

/// The words of a command line drover built (each argument quoted by [`quote`] or bare).
fn shell_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut started = false;
    let mut quoted = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_check_output() {
        let (f, files, out) = parse("@file a/\n@file a/b\n@differs\n@rc 0\n@out x\n");
        assert!(f.contains_key("differs"));
        assert_eq!(files, ["a/", "a/b"]);
        assert_eq!(out, ["x"]);
        assert_eq!(kind_of("x.ZIP"), Kind::Zip);
        assert_eq!(kind_of("x.tar.gz"), Kind::Tar);
    }

    #[test]
    fn reports_the_extract_command_as_words() {
        assert_eq!(
            super::shell_words("tar --extract -C '/a b'  -z -f /x.tgz"),
            ["tar", "--extract", "-C", "/a b", "-z", "-f", "/x.tgz"]
        );
    }
}
