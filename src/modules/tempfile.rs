//! tempfile: a new temporary file (0600) or directory (0700) on the host, named as
//! Python's `mkstemp`/`mkdtemp` name them (`PREFIX` + 8 of `[a-z0-9_]` + `SUFFIX`), in
//! `path` or the host's temporary directory. Always a change; no check mode (Ansible's
//! module has none: the task is skipped).

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct TempFile;

static TEMPFILE: ModuleSpec = ModuleSpec {
    name: "tempfile",
    aliases: &[],
    args: &[
        arg("state", Str).choices(&["file", "directory"]),
        arg("path", Str),
        arg("prefix", Str),
        arg("suffix", Str),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Python's `tempfile` name alphabet.
const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
/// Candidate names tried on the host, in case one is taken.
const ATTEMPTS: usize = 8;

fn random_part() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    b.iter()
        .map(|x| NAME_CHARS[*x as usize % NAME_CHARS.len()] as char)
        .collect()
}

/// A prefix or suffix must be a single file name component (no `/`), as Ansible checks.
fn check_component(what: &str, v: &str) -> Result<()> {
    if v.contains('/') {
        return Err(Error::module(format!(
            "{what} must be a valid file name component, got '{v}'"
        ))
        .with_help(format!("put directories in path:, not in {what}:")));
    }
    Ok(())
}

/// The script: resolve the directory (`path`, else `$TMPDIR`/`$TEMP`/`$TMP`/`/tmp` as
/// Python's `gettempdir`), then create the first candidate that does not exist yet,
/// exclusively (`set -C` is O_EXCL for files; `mkdir` fails on an existing name).
fn script(dir: Option<&str>, directory: bool, names: &[String]) -> String {
    let mut s = String::from("umask 077\n");
    match dir {
        Some(d) => s.push_str(&format!("d={}\n", quote(d))),
        None => s.push_str("d=${TMPDIR:-${TEMP:-${TMP:-/tmp}}}\n"),
    }
    s.push_str(
        "d=$(CDPATH= cd -- \"$d\" && pwd && printf x) || exit 3\n\
         d=${d%x}; d=${d%?}\n\
         case $d in */) ;; *) d=$d/ ;; esac\n",
    );
    for n in names {
        let create = if directory {
            "mkdir -- \"$d$n\" 2>/dev/null"
        } else {
            "( set -C; : > \"$d$n\" ) 2>/dev/null"
        };
        s.push_str(&format!(
            "n={}; if {create}; then printf '%s\\n' \"$d$n\"; stat -c '%u|%g|%U|%G|%a|%s' -- \"$d$n\"; exit 0; fi\n",
            quote(n)
        ));
    }
    // Why nothing was created: the last attempt again, with its error.
    let last = if directory {
        "mkdir -- \"$d$n\""
    } else {
        "( set -C; : > \"$d$n\" )"
    };
    s.push_str(&format!("{last}\nexit 4\n"));
    s
}

/// The result: `path` and the attributes Ansible adds to any result naming a path (its
/// `add_path_info`): uid, gid, owner, group, mode, size, state.
fn path_info(out: &str, directory: bool) -> Vars {
    // The path (which may itself hold a newline), then the stat line.
    let t = out.strip_suffix('\n').unwrap_or(out);
    let (path, st) = t.rsplit_once('\n').unwrap_or((t, ""));
    let f: Vec<&str> = st.trim().split('|').collect();
    let mut r = Vars::new();
    if f.len() == 6 {
        let num = |s: &str| s.parse::<u64>().unwrap_or(0);
        let mode = u32::from_str_radix(f[4], 8).unwrap_or(0);
        r.insert("gid".into(), Value::from(num(f[1])));
        r.insert("group".into(), Value::from(f[3]));
        r.insert(
            "mode".into(),
            Value::from(crate::connection::octal_mode(mode)),
        );
        r.insert("owner".into(), Value::from(f[2]));
        r.insert("path".into(), Value::from(path));
        r.insert("size".into(), Value::from(num(f[5])));
        r.insert(
            "state".into(),
            Value::from(if directory { "directory" } else { "file" }),
        );
        r.insert("uid".into(), Value::from(num(f[0])));
    } else {
        r.insert("path".into(), Value::from(path));
    }
    r
}

impl Module for TempFile {
    fn spec(&self) -> &'static ModuleSpec {
        &TEMPFILE
    }

    fn check_mode(&self) -> super::CheckMode {
        super::CheckMode::Skipped {
            msg: "remote module (tempfile) does not support check mode",
            by_action: false,
        }
    }

    fn plan(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let directory = args.str("state")?.as_deref() == Some("directory");
        let prefix = args.str("prefix")?.unwrap_or_else(|| "ansible.".into());
        let suffix = args.str("suffix")?.unwrap_or_default();
        check_component("prefix", &prefix)?;
        check_component("suffix", &suffix)?;
        let dir = args.str("path")?;
        let touched: Vec<String> = dir.iter().cloned().collect();
        let names: Vec<String> = (0..ATTEMPTS)
            .map(|_| format!("{prefix}{}{suffix}", random_part()))
            .collect();
        let script = script(dir.as_deref(), directory, &names);
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let out = ctx.sh(&script, None)?;
            if out.rc != 0 {
                let err = out.stderr_str();
                let err = err.trim();
                return Err(Error::module(if out.rc == 3 {
                    format!(
                        "tempfile: the directory {} cannot be used: {err}",
                        dir.as_deref().unwrap_or("$TMPDIR")
                    )
                } else {
                    format!("tempfile: cannot create a temporary file: {err}")
                })
                .with_help("give path: a writable directory on the host"));
            }
            Ok(path_info(&out.stdout_str(), directory))
        });
        // The new name is only known once made: nothing cached names it; the directory
        // itself (when given) leaves the cache.
        Ok(Plan::change(Change::Create, Vars::new(), apply).touching(touched))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_pythons() {
        let r = random_part();
        assert_eq!(r.len(), 8);
        assert!(r.bytes().all(|b| NAME_CHARS.contains(&b)));
        assert!(check_component("prefix", "a/b").is_err());
        assert!(check_component("suffix", ".txt").is_ok());
    }

    #[test]
    fn creates_exclusively_on_a_real_shell() {
        let dir = ::tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("taken"), "x").unwrap();
        let s = script(Some(&d), false, &["taken".into(), "free".into()]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&s)
            .output()
            .unwrap();
        let r = path_info(&String::from_utf8_lossy(&out.stdout), false);
        assert_eq!(r["path"].as_str(), Some(format!("{d}/free").as_str()));
        assert_eq!(r["mode"].as_str(), Some("0600"));
        assert_eq!(r["size"], Value::from(0));
        assert_eq!(std::fs::read(dir.path().join("taken")).unwrap(), b"x");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("free"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let s = script(Some(&d), true, &["sub".into()]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&s)
            .output()
            .unwrap();
        let r = path_info(&String::from_utf8_lossy(&out.stdout), true);
        assert_eq!(r["path"].as_str(), Some(format!("{d}/sub").as_str()));
        assert_eq!(r["state"].as_str(), Some("directory"));
        assert!(dir.path().join("sub").is_dir());
    }
}
