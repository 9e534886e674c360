//! fetch: a file from the host written on the controller, under
//! `dest/INVENTORY_HOSTNAME/SRC` (or `dest` itself with `flat`), relative paths from the
//! playbook's directory, as Ansible's action. The host's sha1 is compared with the
//! controller copy first, so an unchanged file is not transferred; the controller file is
//! written atomically (a temp file beside it, then rename). No check mode (Ansible skips).

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use md5::Digest as _;
use minijinja::Value;
use std::path::{Path, PathBuf};

pub struct Fetch;

static FETCH: ModuleSpec = ModuleSpec {
    name: "fetch",
    aliases: &[],
    args: &[
        arg("src", Str).required(),
        arg("dest", Str).required(),
        arg("flat", Bool),
        arg("fail_on_missing", Bool),
        arg("validate_checksum", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(data))
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(md5::Md5::digest(data))
}

/// Python's `os.path.normpath` (lexical).
fn normpath(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if abs => {}
            _ => parts.push(c),
        }
    }
    let j = parts.join("/");
    if abs {
        format!("/{j}")
    } else if j.is_empty() {
        ".".into()
    } else {
        j
    }
}

/// Where the file goes on the controller, as Ansible computes it.
pub fn local_dest(
    dest: &str,
    src: &str,
    flat: bool,
    host: &str,
    base: &Path,
) -> std::result::Result<String, String> {
    let dwim = |d: &str| -> String {
        if d.starts_with('/') {
            d.to_string()
        } else {
            base.join(d).display().to_string()
        }
    };
    let out = if flat {
        if Path::new(&dwim(dest)).is_dir() && !dest.ends_with('/') {
            return Err("dest is an existing directory, use a trailing slash if you want to fetch src into that directory".into());
        }
        let mut d = dest.to_string();
        if d.ends_with('/') {
            let name = src.rsplit('/').next().unwrap_or(src);
            d = format!("{d}{name}");
            if Path::new(&dwim(&d)).is_dir() {
                return Err(format!("calculated dest '{d}' is an existing directory, use another path that does not point to an existing directory"));
            }
        }
        dwim(&d)
    } else {
        format!("{}/{host}/{src}", dwim(dest))
    };
    Ok(normpath(&out))
}

/// Write `data` to `dest` atomically: a temp file in the same directory, then rename.
fn write_atomic(dest: &str, data: &[u8]) -> Result<()> {
    let path = PathBuf::from(dest);
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::module(format!("fetch: cannot create {}: {e}", dir.display())).caused_by(e)
    })?;
    let mut tmp = ::tempfile::Builder::new()
        .prefix(".drover-fetch.")
        .tempfile_in(&dir)
        .map_err(|e| {
            Error::module(format!("fetch: cannot write in {}: {e}", dir.display())).caused_by(e)
        })?;
    std::io::Write::write_all(&mut tmp, data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::module(format!("fetch: cannot write {dest}: {e}")).caused_by(e))?;
    // A replaced file keeps its mode; a new one is 0644 (what Python's open() gives
    // under the usual umask; the temp file itself is 0600).
    {
        use std::os::unix::fs::PermissionsExt;
        let keep = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777);
        let _ = std::fs::set_permissions(
            tmp.path(),
            std::fs::Permissions::from_mode(keep.unwrap_or(0o644)),
        );
    }
    tmp.persist(&path)
        .map_err(|e| Error::module(format!("fetch: cannot rename into {dest}: {}", e.error)))?;
    Ok(())
}

fn failed(pairs: &[(&str, Value)]) -> Plan {
    let mut p = Plan::no_change(super::result(pairs));
    p.failed = true;
    p
}

impl Module for Fetch {
    fn spec(&self) -> &'static ModuleSpec {
        &FETCH
    }

    fn check_mode(&self) -> super::CheckMode {
        super::CheckMode::Skipped {
            msg: "check mode not (yet) supported for this module",
            by_action: true,
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let src = args.req_str("src")?;
        let dest = args.req_str("dest")?;
        let flat = args.bool("flat", false)?;
        let fail_on_missing = args.bool("fail_on_missing", true)?;
        let validate = args.bool("validate_checksum", true)?;
        let st = ctx.stat(&src, true, true)?;
        let missing = "the remote file does not exist, not transferring, ignored";
        if !st.exists() {
            // As Ansible: `file` only when the miss is ignored.
            return Ok(if fail_on_missing {
                failed(&[("msg", Value::from(missing))])
            } else {
                Plan::no_change(super::result(&[
                    ("msg", Value::from(missing)),
                    ("file", Value::from(src.as_str())),
                ]))
            });
        }
        if st.kind == FileKind::Directory {
            let msg = "remote file is a directory, fetch cannot work on directories";
            return Ok(if fail_on_missing {
                failed(&[("msg", Value::from(msg))])
            } else {
                Plan::no_change(super::result(&[(
                    "msg",
                    Value::from(format!("{msg}, not transferring, ignored")),
                )]))
            });
        }
        let base = ctx
            .eval
            .eval_expr("playbook_dir")
            .ok()
            .and_then(|v| v.as_str().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let local = local_dest(&dest, &src, flat, ctx.host, &base)
            .map_err(|m| Error::module(m).with_help("see fetch's dest and flat"))?;
        let local_data = std::fs::read(&local).ok();
        let local_sum = local_data.as_deref().map(sha1_hex);
        if let (Some(remote), Some(here)) = (&st.sha1, &local_sum) {
            if remote == here {
                return Ok(Plan::no_change(super::result(&[
                    (
                        "md5sum",
                        Value::from(md5_hex(local_data.as_deref().unwrap_or_default())),
                    ),
                    ("file", Value::from(src.as_str())),
                    ("dest", Value::from(local.as_str())),
                    ("checksum", Value::from(here.as_str())),
                ])));
            }
        }
        // Read now (a read is no change on the host); compare what came with the local copy.
        let data = ctx
            .read_file(&src)?
            .ok_or_else(|| Error::module(missing.to_string()))?;
        let remote_sum = sha1_hex(&data);
        if local_sum.as_deref() == Some(remote_sum.as_str()) {
            return Ok(Plan::no_change(super::result(&[
                ("md5sum", Value::from(md5_hex(&data))),
                ("file", Value::from(src.as_str())),
                ("dest", Value::from(local.as_str())),
                ("checksum", Value::from(remote_sum.as_str())),
            ])));
        }
        let expected = st.sha1.clone().unwrap_or_else(|| remote_sum.clone());
        let apply: super::ApplyFn = Box::new(move |_ctx: &mut ModuleCtx<'_>| {
            write_atomic(&local, &data)?;
            let written = std::fs::read(&local).map_err(|e| {
                Error::module(format!("fetch: cannot read back {local}: {e}")).caused_by(e)
            })?;
            let new_sum = sha1_hex(&written);
            let mut r = super::result(&[
                ("md5sum", Value::from(md5_hex(&written))),
                ("dest", Value::from(local.as_str())),
                ("remote_md5sum", Value::from(())),
                ("checksum", Value::from(new_sum.as_str())),
                ("remote_checksum", Value::from(expected.as_str())),
            ]);
            if validate && new_sum != expected {
                r.insert("failed".into(), Value::from(true));
                r.insert("msg".into(), Value::from("checksum mismatch"));
                r.insert("file".into(), Value::from(src.as_str()));
            }
            Ok(r)
        });
        // Nothing on the host changes: the cache keeps everything.
        Ok(Plan::change(Change::Create, Vars::new(), apply).touching(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let base = Path::new("/pb");
        assert_eq!(
            local_dest("out", "/etc/hosts", false, "web1", base).unwrap(),
            "/pb/out/web1/etc/hosts"
        );
        assert_eq!(
            local_dest("/abs/", "/etc/hosts", true, "web1", base).unwrap(),
            "/abs/hosts"
        );
        assert_eq!(
            local_dest("x/y.txt", "/etc/hosts", true, "web1", base).unwrap(),
            "/pb/x/y.txt"
        );
        let d = ::tempfile::tempdir().unwrap();
        let dir = d.path().display().to_string();
        assert!(local_dest(&dir, "/etc/hosts", true, "h", base).is_err());
    }

    #[test]
    fn atomic_write_replaces() {
        let d = ::tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/f");
        let ps = p.display().to_string();
        write_atomic(&ps, b"one").unwrap();
        write_atomic(&ps, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
