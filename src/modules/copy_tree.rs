//! copy's two other sources: a controller directory (`src: dir` copies the directory,
//! `src: dir/` its contents) and a file already on the host (`remote_src: true`; a
//! directory on the host is `copy_remote_tree`).

use super::attrs::Attrs;
use super::write::{plan_write, ResultShape, WriteRequest};
use super::{Args, Change, ModuleCtx, Plan};
use crate::connection::{quote, FileKind};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::path::Path;

/// Copy a controller directory tree: missing directories are made first, then every file
/// is written atomically as a single `copy` would write it. One change, one diff per file.
/// Symbolic links in the tree are followed (`local_follow`, default true, as in Ansible);
/// a link that is not followed (`local_follow: false`, one whose target is missing, or
/// one back into the tree) is made on the host as the same link (see `copy_walk`).
pub fn plan_directory(
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    src_arg: &str,
    src_dir: &Path,
    dest: &str,
) -> Result<Plan> {
    let base = if src_arg.ends_with('/') {
        dest.trim_end_matches('/').to_string()
    } else {
        let name = src_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{}/{name}", dest.trim_end_matches('/'))
    };
    let local_follow = args.bool("local_follow", true)?;
    let walked = super::copy_walk::walk_dirs(src_dir, local_follow).map_err(|e| {
        Error::module(format!("cannot read {}: {e}", src_dir.display())).caused_by(e)
    })?;
    let at = |rel: &str| format!("{base}/{rel}");
    let mut dirs = vec![base.clone()];
    dirs.extend(walked.dirs.iter().map(|d| at(d)));
    let files: Vec<(std::path::PathBuf, String)> = walked
        .files
        .into_iter()
        .map(|(path, rel)| (path, at(&rel)))
        .collect();
    // (what the link points to, the link's path on the host)
    let links: Vec<(String, String)> = walked
        .links
        .into_iter()
        .map(|(to, rel)| (to, at(&rel)))
        .collect();
    // Links whose host side is not already the same link.
    let mut link_script = String::new();
    for (to, at) in &links {
        let cur = ctx.stat(at, false, false)?;
        if cur.kind == FileKind::Link && cur.link_target.as_deref() == Some(to.as_str()) {
            continue;
        }
        if cur.exists() && cur.kind != FileKind::Link {
            return Err(Error::module(format!(
                "{at} exists as a {} and would be replaced by a link to {to}",
                super::write::state_name(cur.kind)
            ))
            .with_help("remove it first, or copy with local_follow: true"));
        }
        link_script.push_str(&format!(
            "ln -sfn -- {} {} || exit 1\n",
            quote(to),
            quote(at)
        ));
    }
    let mut missing = Vec::new();
    for d in &dirs {
        match ctx.stat(d, true, false)?.kind {
            FileKind::Directory => {}
            FileKind::Missing => missing.push(d.clone()),
            _ => return Err(Error::module(format!("{d} exists and is not a directory"))),
        }
    }
    let mut plans = Vec::new();
    for (src, target) in files {
        let data = std::fs::read(&src).map_err(|e| {
            Error::module(format!("cannot read {}: {e}", src.display())).caused_by(e)
        })?;
        let data = if args.bool("decrypt", true)? {
            crate::vault::read_controller_file(data, &src)?
        } else {
            data
        };
        let after_header = src.display().to_string();
        let plan = plan_write(
            ctx,
            WriteRequest {
                make_parents: false,
                dest: target,
                content: data,
                attrs: Attrs::from_args_copying(args, &src)?,
                backup: false,
                validate: None,
                force: args.bool("force", true)?,
                current: None,
                shape: ResultShape::File { after_header },
            },
        )?;
        if plan.is_change() {
            plans.push(plan);
        }
    }
    let mut result = Vars::new();
    result.insert(
        "dest".into(),
        Value::from(format!("{}/", dest.trim_end_matches('/'))),
    );
    // The source as the action plugin found it (its trailing slash kept).
    let found = std::path::absolute(src_dir)
        .unwrap_or_else(|_| src_dir.to_path_buf())
        .display()
        .to_string();
    let found = match (src_arg.ends_with('/'), found.ends_with('/')) {
        (true, false) => format!("{found}/"),
        (false, true) => found.trim_end_matches('/').to_string(),
        _ => found,
    };
    result.insert("src".into(), Value::from(found));
    if missing.is_empty() && plans.is_empty() && link_script.is_empty() {
        return Ok(Plan::no_change(result));
    }
    let dir_attrs = Attrs {
        mode: args.mode("directory_mode")?,
        ..Attrs::from_args(args)?
    };
    let dest_dir = base.clone();
    let diffs: Vec<_> = plans
        .iter_mut()
        .flat_map(|p| std::mem::take(&mut p.diff))
        .collect();
    let applies: Vec<_> = plans.iter_mut().filter_map(|p| p.take_apply()).collect();
    let mut plan = Plan::change(
        Change::Run,
        result,
        Box::new(move |ctx: &mut ModuleCtx<'_>| {
            if !missing.is_empty() {
                // Each new directory (those above the copy too) gets directory_mode,
                // owner and group, as the module's makedirs and the file module give them.
                let mut script = String::new();
                for d in &missing {
                    script.push_str(&super::copy_remote_tree::make_dirs_script(d, &dir_attrs));
                }
                let out = ctx.sh(&script, None)?;
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "cannot create directories under {}: {}",
                        missing[0],
                        out.stderr_str().trim()
                    )));
                }
            }
            for apply in applies {
                apply(ctx)?;
            }
            if !link_script.is_empty() {
                let out = ctx.sh(&link_script, None)?;
                if out.rc != 0 {
                    return Err(Error::module(format!(
                        "cannot make the links under {}: {}",
                        dest_dir,
                        out.stderr_str().trim()
                    )));
                }
            }
            Ok(Vars::new())
        }),
    )
    .touching_tree(vec![base]);
    plan.diff = diffs;
    Ok(plan)
}

/// `remote_src: true`: copy a file that is already on the host (checksums compared on
/// the host; the copy goes through a temporary file and a rename).
pub fn plan_remote(ctx: &mut ModuleCtx<'_>, args: &Args, src: &str, dest: &str) -> Result<Plan> {
    let from = ctx.stat(src, true, true)?;
    match from.kind {
        FileKind::File => {}
        FileKind::Missing => return Err(Error::module(format!("Source {src} not found"))),
        FileKind::Directory => return super::copy_remote_tree::plan(ctx, args, src, &from),
        // Ansible's words (a device, a fifo …).
        _ => {
            return Err(Error::module(format!(
                "Cannot copy invalid source '{src}': not a file"
            )))
        }
    }
    let mut dest = dest.to_string();
    let name = Path::new(src)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let attrs = Attrs::from_args(args)?;
    // `dest/`: its missing directories are made first, with directory_mode (check
    // mode stops there, as the module does).
    let mut make_dirs = String::new();
    if dest.ends_with('/') {
        let dir = super::copy_remote_tree::py_dirname(&dest);
        if ctx.stat(&dir, true, false)?.kind == FileKind::Missing {
            if ctx.check {
                return Ok(super::copy_remote_tree::would_make_dirs(src, &dir));
            }
            let dir_attrs = Attrs {
                mode: args.mode("directory_mode")?,
                ..attrs.clone()
            };
            make_dirs = super::copy_remote_tree::make_dirs_script(&dir, &dir_attrs);
        }
    }
    if dest.ends_with('/') || ctx.stat(&dest, true, false)?.kind == FileKind::Directory {
        dest = format!("{}/{name}", dest.trim_end_matches('/'));
    }
    let cur = if make_dirs.is_empty() {
        ctx.stat(&dest, true, true)?
    } else {
        crate::connection::FileState::missing()
    };
    // Ansible's words for a file whose directory is missing.
    if !cur.exists() && make_dirs.is_empty() {
        let dir = super::copy_remote_tree::py_dirname(&dest);
        if !dir.is_empty() && ctx.stat(&dir, true, false)?.kind == FileKind::Missing {
            return Err(Error::module(format!(
                "Destination directory {dir} does not exist"
            )));
        }
    }
    let same = cur.exists() && cur.sha1 == from.sha1;
    let attr_diffs = if cur.exists() {
        attrs.differences(&cur)
    } else {
        Vec::new()
    };
    let mut result = Vars::new();
    result.insert("dest".into(), Value::from(dest.as_str()));
    result.insert("src".into(), Value::from(src));
    result.insert(
        "checksum".into(),
        Value::from(from.sha1.clone().unwrap_or_default()),
    );
    // `force: no` and something there: the module stops, unchanged.
    if cur.exists() && !args.bool("force", true)? {
        let mut r = Vars::new();
        r.insert("msg".into(), Value::from("file already exists"));
        r.insert("src".into(), Value::from(src));
        r.insert("dest".into(), Value::from(dest.as_str()));
        super::write::add_path_info(&mut r, &cur);
        return Ok(Plan::no_change(r));
    }
    // The module's md5sum of the source (its backwards-compatible key).
    let md5 = ctx.query(&md5_script(src))?;
    let md5 = md5.trim();
    if md5.len() == 32 {
        result.insert("md5sum".into(), Value::from(md5));
    }
    if same && attr_diffs.is_empty() {
        // The module names the file it left, as it does after a copy.
        super::write::add_path_info(&mut result, &cur);
        return Ok(Plan::no_change(result));
    }
    let (s, d) = (quote(src), quote(&dest));
    // `mode: preserve`: the copy gets the source's mode, over an existing file too.
    let preserve = u8::from(args.mode("mode")?.as_deref() == Some("preserve"));
    let mut script = make_dirs;
    if !same {
        script.push_str(&format!(
            "t=$(mktemp \"$(dirname -- {d})/.drover-tmp.$$.XXXXXXXXXX\") || exit 1\n\
             trap 'rm -f \"$t\"' EXIT\n\
             cp -- {s} \"$t\" || exit 1\n\
             if [ -e {d} ] && [ {preserve} = 0 ]; then chmod --reference={d} \"$t\"; else chmod --reference={s} \"$t\"; fi\n\
             mv -f \"$t\" {d} || exit 1\ntrap - EXIT\n"
        ));
    }
    script.push_str(&attrs.script(&d, false));
    // The result describes the copy, as Ansible's does (mode, owner, size …).
    script.push_str(&format!(
        "printf '@drover-path '; stat -c '%F|%a|%U|%G|%u|%g|%s|%h' -- {d} 2>/dev/null || echo\n"
    ));
    let what = dest.clone();
    Ok(Plan::change(
        Change::Run,
        result,
        Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let out = ctx.sh(&script, None)?;
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "cannot copy to {what}: {}",
                    out.stderr_str().trim()
                )));
            }
            Ok(out
                .stdout_str()
                .lines()
                .find_map(|l| l.strip_prefix("@drover-path "))
                .map(super::file::path_info)
                .unwrap_or_default())
        }),
    )
    .touching(vec![dest]))
}

/// The query for the MD5 of a host file (read-only; prefetched with copy's probes).
pub fn md5_script(src: &str) -> String {
    format!("md5sum < {} | cut -d' ' -f1", quote(src))
}
