//! script: a controller file (`files/` of the role or playbook) copied to a private
//! temporary directory on the host and run there with the rest of the command line, as
//! Ansible's `script` action does; the directory is removed afterwards, whatever the
//! outcome. `creates`/`removes` name one path (not a glob); `chdir` must be absolute.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::{quote, PutAttrs};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Script;

static SCRIPT: ModuleSpec = ModuleSpec {
    name: "script",
    aliases: &[],
    args: &[
        arg("cmd", Str),
        arg("creates", Str),
        arg("removes", Str),
        arg("chdir", Str),
        arg("executable", Str),
        arg("decrypt", Bool),
    ],
    free_form: FreeForm::RawParams,
    required_one_of: &[&["_raw_params", "cmd"]],
    mutually_exclusive: &[&["_raw_params", "cmd"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

fn skipped(msg: &str) -> Plan {
    let mut p = Plan::no_change(super::result(&[("msg", Value::from(msg))]));
    p.skipped = true;
    p.skipped_by_action = true;
    p
}

/// The command that runs the uploaded script: the user's command line with the script's
/// name replaced by its path on the host (every occurrence, as Ansible's action does),
/// after `executable` when given. The rest of the line is shell text the user wrote.
fn command_line(raw: &str, source: &str, remote: &str, executable: Option<&str>) -> String {
    let line = raw.trim().replace(source, &quote(remote));
    match executable {
        Some(e) => format!("{e} {line}"),
        None => line,
    }
}

impl Module for Script {
    fn spec(&self) -> &'static ModuleSpec {
        &SCRIPT
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let raw = match args.str("_raw_params")? {
            Some(r) => r,
            None => args.str("cmd")?.ok_or_else(|| {
                Error::module("script needs the script to run (free-form or cmd)")
            })?,
        };
        let parts = shlex::split(raw.trim()).ok_or_else(|| {
            Error::module(format!("script: cannot split '{raw}': unbalanced quotes"))
        })?;
        let Some(source) = parts.first().cloned() else {
            return Err(Error::module("script: the command line is empty"));
        };
        if let Some(c) = args.str("creates")? {
            if ctx.stat(&c, false, false)?.exists() {
                return Ok(skipped(&format!("{c} exists, matching creates option")));
            }
        }
        if let Some(r) = args.str("removes")? {
            if !ctx.stat(&r, false, false)?.exists() {
                return Ok(skipped(&format!(
                    "{r} does not exist, matching removes option"
                )));
            }
        }
        let chdir = args.str("chdir")?;
        if let Some(c) = chdir.as_deref().filter(|c| !c.starts_with('/')) {
            return Err(Error::module(format!(
                "chdir {c} must be an absolute path for a Unix-aware remote node"
            )));
        }
        let path = ctx.find_src("files", &source)?;
        let data = std::fs::read(&path).map_err(|e| {
            Error::module(format!("cannot read {}: {e}", path.display())).caused_by(e)
        })?;
        let data = if args.bool("decrypt", true)? {
            crate::vault::read_controller_file(data, &path)?
        } else {
            data
        };
        if ctx.check {
            if args.has("creates") || args.has("removes") {
                return Ok(Plan::change(
                    Change::Run,
                    Vars::new(),
                    Box::new(|_| Ok(Vars::new())),
                ));
            }
            return Ok(skipped("Check mode is not supported for this task."));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        let executable = args.str("executable")?;
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let dir = super::sh_checked(
                ctx,
                "umask 077; mktemp -d \"${TMPDIR:-/tmp}/drover-script.XXXXXXXXXX\"",
                "creating the script's temporary directory",
            )?
            .stdout_str()
            .trim_end_matches('\n')
            .to_string();
            let remote = format!("{dir}/{name}");
            let put = ctx.put_file(
                &remote,
                &data,
                &PutAttrs {
                    mode: Some("0700".into()),
                    ..PutAttrs::default()
                },
            );
            if let Err(e) = put {
                let _ = ctx.sh(&format!("rm -rf -- {}", quote(&dir)), None);
                return Err(e);
            }
            let line = command_line(&raw, &source, &remote, executable.as_deref());
            let cd = match &chdir {
                Some(c) => format!("cd {} || exit 1\n", quote(c)),
                None => String::new(),
            };
            // The directory goes whatever the script does; its exit code is kept.
            let script = format!(
                "trap 'rm -rf -- {d}' EXIT\n( {cd}{line}\n)",
                d = quote(&dir).replace('\'', "'\\''")
            );
            let t0 = std::time::Instant::now();
            let out = match ctx.timeout {
                Some(secs) => {
                    let out = ctx.sh(&super::timeout::wrap(&script, secs), None)?;
                    if super::timeout::expired(out.rc, t0.elapsed(), secs) {
                        return Ok(super::timeout::result_for(secs));
                    }
                    out
                }
                None => ctx.sh(&script, None)?,
            };
            let lines =
                |s: &str| Value::from(crate::template::ansible::pycompat::splitlines(s, false));
            let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
            let mut r = super::result(&[
                ("rc", Value::from(out.rc)),
                ("stdout", Value::from(stdout.as_str())),
                ("stdout_lines", lines(&stdout)),
                ("stderr", Value::from(stderr.as_str())),
                ("stderr_lines", lines(&stderr)),
            ]);
            if out.rc != 0 {
                r.insert("msg".into(), Value::from("non-zero return code"));
                r.insert("failed".into(), Value::from(true));
            }
            Ok(r)
        });
        Ok(Plan::change(Change::Run, Vars::new(), apply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        assert_eq!(
            command_line("run.sh --x 'a b'", "run.sh", "/tmp/d/run.sh", None),
            "/tmp/d/run.sh --x 'a b'"
        );
        assert_eq!(
            command_line("run.sh", "run.sh", "/tmp/it's/run.sh", Some("bash")),
            "bash '/tmp/it'\"'\"'s/run.sh'"
        );
    }

    #[test]
    fn the_trap_removes_the_directory() {
        let dir = ::tempfile::tempdir().unwrap();
        let d = dir.path().join("x y");
        std::fs::create_dir(&d).unwrap();
        let q = quote(&d.display().to_string()).replace('\'', "'\\''");
        let s = format!("trap 'rm -rf -- {q}' EXIT\n( exit 3\n)");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&s)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert!(!d.exists());
    }
}
