//! stat and slurp: read-only modules.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use crate::inventory::Vars;
use base64::Engine;
use minijinja::Value;

pub struct Stat;
pub struct Slurp;

static STAT: ModuleSpec = ModuleSpec {
    name: "stat",
    aliases: &[],
    args: &[
        arg("path", Str).required().aliases(&["dest", "name"]),
        arg("follow", Bool),
        arg("get_checksum", Bool),
        arg("checksum_algorithm", Str)
            .choices(&["sha1"])
            .aliases(&["checksum", "checksum_algo"]),
        arg("get_mime", Bool).aliases(&["mime", "mime_type", "mime-type"]),
        arg("get_attributes", Bool).aliases(&["attr", "attributes"]),
        arg("get_md5", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
};

static SLURP: ModuleSpec = ModuleSpec {
    name: "slurp",
    aliases: &[],
    args: &[arg("src", Str).required().aliases(&["path"])],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
};

impl Module for Stat {
    fn spec(&self) -> &'static ModuleSpec {
        &STAT
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match (
            args.str("path"),
            args.bool("follow", false),
            args.bool("get_checksum", true),
        ) {
            (Ok(Some(path)), Ok(follow), Ok(checksum)) => vec![Probe::Stat {
                path,
                follow,
                checksum,
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        let follow = args.bool("follow", false)?;
        let checksum = args.bool("get_checksum", true)?;
        let st = ctx.stat(&path, follow, checksum)?;
        let mut s = Vars::new();
        s.insert("exists".into(), Value::from(st.exists()));
        if st.exists() {
            s.insert("path".into(), Value::from(path.as_str()));
            s.insert("mode".into(), Value::from(st.mode_string()));
            s.insert("isdir".into(), Value::from(st.kind == FileKind::Directory));
            s.insert("isreg".into(), Value::from(st.kind == FileKind::File));
            s.insert("islnk".into(), Value::from(st.kind == FileKind::Link));
            s.insert("uid".into(), Value::from(st.uid));
            s.insert("gid".into(), Value::from(st.gid));
            s.insert("pw_name".into(), Value::from(st.owner.as_str()));
            s.insert("gr_name".into(), Value::from(st.group.as_str()));
            s.insert("size".into(), Value::from(st.size));
            s.insert("mtime".into(), Value::from(st.mtime));
            s.insert("xusr".into(), Value::from(st.mode & 0o100 != 0));
            s.insert("wusr".into(), Value::from(st.mode & 0o200 != 0));
            s.insert("rusr".into(), Value::from(st.mode & 0o400 != 0));
            if let Some(t) = &st.link_target {
                s.insert("lnk_target".into(), Value::from(t.as_str()));
                s.insert("lnk_source".into(), Value::from(t.as_str()));
            }
            if let Some(c) = &st.sha1 {
                s.insert("checksum".into(), Value::from(c.as_str()));
            }
        }
        let mut r = Vars::new();
        r.insert("stat".into(), Value::from_iter(s));
        Ok(Plan::no_change(r))
    }
}

impl Module for Slurp {
    fn spec(&self) -> &'static ModuleSpec {
        &SLURP
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("src") {
            Ok(Some(path)) => vec![Probe::Read { path }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let src = args.req_str("src")?;
        let data = ctx
            .read_file(&src)?
            .ok_or_else(|| Error::module(format!("file not found: {src}")))?;
        let mut r = Vars::new();
        r.insert(
            "content".into(),
            Value::from(base64::engine::general_purpose::STANDARD.encode(data)),
        );
        r.insert("encoding".into(), Value::from("base64"));
        r.insert("source".into(), Value::from(src));
        Ok(Plan::no_change(r))
    }
}
