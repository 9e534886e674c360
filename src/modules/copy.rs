//! copy: a file from the controller, or inline `content`, written atomically.

use super::attrs::Attrs;
use super::probe::Probe;
use super::spec::{arg, ArgType::*, Check, FreeForm, ModuleSpec};
use super::write::{plan_write, ResultShape, WriteRequest};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::{quote, FileKind};
use crate::diagnostics::{Error, Result};

pub struct Copy;

static SPEC: ModuleSpec = ModuleSpec {
    name: "copy",
    aliases: &[],
    args: &[
        arg("src", Str),
        arg("content", Any),
        arg("dest", Str).required(),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("backup", Bool),
        arg("force", Bool).aliases(&["thirsty"]),
        arg("validate", Str),
        arg("remote_src", Bool),
        arg("directory_mode", Mode),
        arg("follow", Bool),
        arg("local_follow", Bool),
        arg("unsafe_writes", Bool),
        arg("decrypt", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[&["src", "content"]],
    mutually_exclusive: &[&["src", "content"]],
    controller_only: false,
    any_keys: false,
    // copy's action plugin checks these before the module, in its words.
    messages: &[
        (Check::Missing("dest"), "dest is required"),
        (Check::NoneOf, "src (or content) is required"),
        (Check::Exclusive, "src and content are mutually exclusive"),
    ],
};

impl Module for Copy {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        let Ok(Some(dest)) = args.str("dest") else {
            return Vec::new();
        };
        let stat = |path: String| Probe::Stat {
            path,
            follow: true,
            checksum: true,
        };
        // `dest/` receives the file under its own name.
        let name = args.str("src").ok().flatten().and_then(|s| {
            std::path::Path::new(&s)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        });
        let mut probes = match (dest.ends_with('/'), name) {
            (false, Some(n)) => vec![
                stat(format!("{}/{n}", dest.trim_end_matches('/'))),
                stat(dest),
            ],
            (false, None) => vec![stat(dest)],
            (true, Some(n)) => vec![stat(format!("{dest}{n}"))],
            (true, None) => Vec::new(),
        };
        // `follow`: whether dest is a link.
        if args.bool("follow", false).unwrap_or(false) {
            if let Ok(Some(d)) = args.str("dest") {
                probes.push(Probe::Stat {
                    path: d,
                    follow: false,
                    checksum: false,
                });
            }
        }
        // A host file or directory: what either plan reads, the listing of a tree too.
        if args.bool("remote_src", false).unwrap_or(false) {
            probes.extend(super::copy_remote_tree::probes(args));
        }
        probes
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let mut dest = args.req_str("dest")?;
        // An empty src (often a variable that came out empty) is no source: Ansible's
        // message, at run time.
        if !args.has("content") && args.str("src")?.is_some_and(|s| s.is_empty()) {
            return Err(Error::module("src (or content) is required")
                .with_help("give src a controller file or directory, or give content"));
        }
        if args.bool("remote_src", false)? {
            let src = args.req_str("src")?;
            return super::copy_tree::plan_remote(ctx, args, &src, &dest);
        }
        let (content, src_name, src_path) = match args.value("content") {
            Some(v) => {
                // Ansible writes a dict or list as json.dumps() and any other value as
                // Python's str() (`False`, `1`).
                let text = match v.kind() {
                    minijinja::value::ValueKind::Map | minijinja::value::ValueKind::Seq => {
                        crate::template::ansible::filters::to_json(
                            v,
                            minijinja::value::Kwargs::from_iter(std::iter::empty::<(
                                String,
                                minijinja::Value,
                            )>()),
                        )
                        .map_err(|e| {
                            Error::module(format!("cannot serialise content: {e}")).caused_by(e)
                        })?
                    }
                    _ => crate::template::ansible::pycompat::py_str(v),
                };
                (text.into_bytes(), None, None)
            }
            None => {
                let src = args.req_str("src")?;
                let path = ctx.find_src("files", &src)?;
                if path.is_dir() {
                    return super::copy_tree::plan_directory(ctx, args, &src, &path, &dest);
                }
                let data = std::fs::read(&path).map_err(|e| {
                    Error::module(format!("cannot read {}: {e}", path.display())).caused_by(e)
                })?;
                // As Ansible: a vault-encrypted src is decrypted on the controller unless
                // `decrypt: false`.
                let data = if args.bool("decrypt", true)? {
                    crate::vault::read_controller_file(data, &path)?
                } else {
                    data
                };
                (
                    data,
                    Some(src),
                    Some(
                        std::fs::canonicalize(&path)
                            .unwrap_or(path)
                            .display()
                            .to_string(),
                    ),
                )
            }
        };
        // content has no file name to put in a directory: Ansible's words.
        let content_into_dir = || {
            Error::module("can not use content with a dir as dest")
                .with_help("give dest the path of the file to write")
        };
        let into_dir = dest.ends_with('/');
        if into_dir {
            let name = src_name
                .as_deref()
                .and_then(|s| std::path::Path::new(s).file_name())
                .and_then(|n| n.to_str())
                .ok_or_else(content_into_dir)?;
            dest = format!("{dest}{name}");
        } else if let Some(name) = src_name
            .as_deref()
            .and_then(|s| std::path::Path::new(s).file_name())
            .and_then(|n| n.to_str())
        {
            // A dest that is an existing directory receives the file inside it.
            let cur = ctx.stat(&dest, true, false)?;
            if cur.kind == FileKind::Directory {
                dest = format!("{}/{name}", dest.trim_end_matches('/'));
            }
        }
        // `follow`: a link at dest stays, and what it points to is written (Ansible's
        // module writes to the link's realpath, and names it as dest).
        if args.bool("follow", false)?
            && ctx.stat(&dest, false, false)?.kind == FileKind::Link
            && ctx.stat(&dest, true, false)?.exists()
        {
            let real = ctx.query(&format!("realpath -- {}", quote(&dest)))?;
            let real = real.trim_end_matches('\n');
            if !real.is_empty() {
                dest = real.to_string();
            }
        }
        // content (no file name to put in a directory): the one stat plan_write needs.
        let current = match src_name {
            Some(_) => None,
            None => {
                let st = ctx.stat(&dest, true, true)?;
                if st.kind == FileKind::Directory {
                    return Err(content_into_dir());
                }
                Some((st, None))
            }
        };
        let attrs = match &src_path {
            Some(p) => Attrs::from_args_copying(args, std::path::Path::new(p))?,
            None => Attrs::from_args(args)?,
        };
        // Ansible's diff names the controller file it copied, or the destination.
        let after_header = src_path.unwrap_or_else(|| dest.clone());
        // `dest/` whose directory is missing: the module makes it, and gives the new
        // directories directory_mode, owner and group.
        let dir = super::copy_remote_tree::py_dirname(&dest);
        let make_parents = into_dir && ctx.stat(&dir, true, false)?.kind == FileKind::Missing;
        let dir_attrs = Attrs {
            mode: args.mode("directory_mode")?,
            ..attrs.clone()
        };
        let mut plan = plan_write(
            ctx,
            WriteRequest {
                make_parents,
                dest,
                content,
                attrs,
                backup: args.bool("backup", false)?,
                validate: args.str("validate")?,
                force: args.bool("force", true)?,
                current,
                shape: ResultShape::File { after_header },
            },
        )?;
        if make_parents && !dir_attrs.script("", false).is_empty() {
            if let Some(op) = plan.op.as_mut() {
                // Before the write, and never failing there: an op reads its stdin first.
                op.script = format!(
                    "( {}) >/dev/null 2>&1\n{}",
                    super::copy_remote_tree::make_dirs_script(&dir, &dir_attrs),
                    op.script
                );
            }
        }
        // As Ansible, only a copy that writes names its source.
        if let (Some(s), true) = (src_name, plan.is_change() && !ctx.check) {
            plan.result.insert("src".into(), minijinja::Value::from(s));
        }
        Ok(plan)
    }
}
