//! stat and slurp: read-only modules.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::FileKind;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
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
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
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
    messages: &[],
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
    messages: &[],
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
            Details::from_args(args),
        ) {
            (Ok(Some(path)), Ok(follow), Ok(checksum), Ok(details)) => vec![
                Probe::Query {
                    script: details.script(&path, follow),
                },
                Probe::Stat {
                    path,
                    follow,
                    checksum: checksum && details.checksum.is_none(),
                },
            ],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let path = args.req_str("path")?;
        let follow = args.bool("follow", false)?;
        let details = Details::from_args(args)?;
        // The stat reads sha1; another digest comes with the details.
        let sha1 = args.bool("get_checksum", true)? && details.checksum.is_none();
        let st = ctx.stat(&path, follow, sha1)?;
        let mut s = Vars::new();
        s.insert("exists".into(), Value::from(st.exists()));
        if st.exists() {
            s.insert("path".into(), Value::from(path.as_str()));
            // stat's own format: '%04o' (`1777`, not `01777`).
            s.insert("mode".into(), Value::from(format!("{:04o}", st.mode)));
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
            }
            if let Some(c) = st.sha1.as_ref().filter(|_| sha1) {
                s.insert("checksum".into(), Value::from(c.as_str()));
            }
            let out = ctx.query(&details.script(&path, follow))?;
            details.add(&mut s, st.mode, st.kind == FileKind::Link, &out);
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
        let data = match ctx.read_file(&src) {
            Ok(Some(d)) => d,
            Err(e) if e.kind == crate::diagnostics::ErrorKind::Unreachable => return Err(e),
            Ok(None) | Err(_) => return Err(Error::module(slurp_failure(ctx, &src)?)),
        };
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

/// Why a file could not be slurped, in Ansible's words: the reason `open` gives, asked
/// of the host only when the read failed (as the user the task runs as).
fn slurp_failure(ctx: &mut ModuleCtx<'_>, src: &str) -> Result<String> {
    let why = ctx.query(&format!(
        "LC_ALL=C cat -- {} 2>&1 >/dev/null",
        crate::connection::quote(src)
    ))?;
    Ok(
        if why.contains("No such file or directory") || why.trim().is_empty() {
            format!("File not found: {src}")
        } else if why.contains("Permission denied") {
            format!("File is not readable: {src}")
        } else if why.contains("Is a directory") {
            format!("Source is a directory and must be a file: {src}")
        } else {
            let reason = why.trim().rsplit(": ").next().unwrap_or_default();
            format!("Unable to slurp file: {src}: {reason}")
        },
    )
}

/// What `stat` reports beyond the attributes drover batches for every module: the raw
/// mode bits, link count, blocks, access for the connecting user, MIME type (`file`) and
/// ext2 attributes (`lsattr`), read in one query.
struct Details {
    mime: bool,
    attributes: bool,
    /// A digest other than sha1 (which the batched stat probe reads): coreutils' NAMEsum.
    checksum: Option<String>,
}

/// lsattr's letters and the names Ansible gives them.
const ATTRIBUTE_NAMES: &[(char, &str)] = &[
    ('A', "noatime"),
    ('a', "append"),
    ('c', "compressed"),
    ('C', "nocow"),
    ('d', "nodump"),
    ('D', "dirsync"),
    ('e', "extents"),
    ('E', "encrypted"),
    ('h', "blocksize"),
    ('i', "immutable"),
    ('I', "indexed"),
    ('j', "journalled"),
    ('N', "inline"),
    ('s', "zero"),
    ('S', "synchronous"),
    ('t', "notail"),
    ('T', "blockroot"),
    ('u', "undelete"),
    ('X', "compressedraw"),
    ('Z', "compresseddirty"),
];

impl Details {
    fn from_args(args: &Args) -> Result<Self> {
        let algorithm = args
            .str("checksum_algorithm")?
            .unwrap_or_else(|| "sha1".to_string());
        Ok(Details {
            mime: args.bool("get_mime", true)?,
            attributes: args.bool("get_attributes", true)?,
            checksum: (args.bool("get_checksum", true)? && algorithm != "sha1")
                .then_some(algorithm),
        })
    }

    fn script(&self, path: &str, follow: bool) -> String {
        let l = if follow { "-L " } else { "" };
        let mut s = format!(
            "p={}; stat {l}-c '%f|%h|%b|%o|%t|%T|%.9X|%.9Y|%.9Z|%d|%i' -- \"$p\" || exit 0\n\
             a=; [ -r \"$p\" ] && a=r; [ -w \"$p\" ] && a=${{a}}w; [ -x \"$p\" ] && a=${{a}}x; echo \"access=$a\"\n\
             printf 'real='; readlink -f -- \"$p\" || echo\n",
            crate::connection::quote(path)
        );
        if self.mime {
            s.push_str(&format!(
                "printf 'mime='; file -b {l}--mime -- \"$p\" 2>/dev/null || echo\n"
            ));
        }
        if self.attributes {
            s.push_str("printf 'attr='; lsattr -vd -- \"$p\" 2>/dev/null || echo\n");
        }
        if let Some(algorithm) = &self.checksum {
            // As Ansible: a readable regular file (a link only when followed).
            let not_link = if follow { "" } else { "[ ! -L \"$p\" ] && " };
            s.push_str(&format!(
                "{not_link}[ -f \"$p\" ] && [ -r \"$p\" ] && {{ printf 'sum='; {algorithm}sum < \"$p\"; }}\n"
            ));
        }
        s
    }

    fn add(&self, s: &mut Vars, mode: u32, is_link: bool, out: &str) {
        let mut lines = out.lines();
        let Some(first) = lines.next() else { return };
        let f: Vec<&str> = first.split('|').collect();
        if f.len() != 11 {
            return;
        }
        // Times as Python's os.stat gives them: seconds as a float.
        let time = |x: &str| x.parse::<f64>().map(Value::from).unwrap_or(Value::from(0));
        let raw = u32::from_str_radix(f[0], 16).unwrap_or(0);
        let kind = raw & 0o170000;
        let num = |x: &str| x.parse::<u64>().unwrap_or(0);
        let hex = |x: &str| u64::from_str_radix(x, 16).unwrap_or(0);
        let bit = |b: u32| Value::from(mode & b != 0);
        for (k, v) in [
            ("isblk", Value::from(kind == 0o060000)),
            ("ischr", Value::from(kind == 0o020000)),
            ("isfifo", Value::from(kind == 0o010000)),
            ("issock", Value::from(kind == 0o140000)),
            ("isuid", Value::from(raw & 0o4000 != 0)),
            ("isgid", Value::from(raw & 0o2000 != 0)),
            ("rgrp", bit(0o040)),
            ("wgrp", bit(0o020)),
            ("xgrp", bit(0o010)),
            ("roth", bit(0o004)),
            ("woth", bit(0o002)),
            ("xoth", bit(0o001)),
            ("nlink", Value::from(num(f[1]))),
            ("blocks", Value::from(num(f[2]))),
            ("block_size", Value::from(num(f[3]))),
            ("device_type", Value::from((hex(f[4]) << 8) | hex(f[5]))),
            ("atime", time(f[6])),
            ("mtime", time(f[7])),
            ("ctime", time(f[8])),
            ("dev", Value::from(num(f[9]))),
            ("inode", Value::from(num(f[10]))),
        ] {
            s.insert(k.into(), v);
        }
        for line in lines {
            if let Some(a) = line.strip_prefix("access=") {
                s.insert("readable".into(), Value::from(a.contains('r')));
                s.insert("writeable".into(), Value::from(a.contains('w')));
                s.insert("executable".into(), Value::from(a.contains('x')));
            } else if let Some(r) = line.strip_prefix("real=") {
                if is_link && !r.is_empty() {
                    s.insert("lnk_source".into(), Value::from(r));
                }
            } else if let Some(m) = line.strip_prefix("mime=") {
                // As Ansible: "unknown" without the `file` command.
                let (mime, charset) = match m.split_once("; charset=") {
                    Some((t, c)) => (t.trim(), c.trim()),
                    None => ("unknown", "unknown"),
                };
                s.insert("mimetype".into(), Value::from(mime));
                s.insert("charset".into(), Value::from(charset));
            } else if let Some(sum) = line.strip_prefix("sum=") {
                let digest = sum.split_whitespace().next().unwrap_or_default();
                s.insert("checksum".into(), Value::from(digest));
            } else if let Some(a) = line.strip_prefix("attr=") {
                // `VERSION FLAGS PATH`; nothing for a link (lsattr cannot read one).
                let mut w = a.split_whitespace();
                let (version, flags) = (w.next(), w.next());
                let flags: String = flags.unwrap_or("").chars().filter(|c| *c != '-').collect();
                let names: Vec<Value> = flags
                    .chars()
                    .filter_map(|c| ATTRIBUTE_NAMES.iter().find(|(l, _)| *l == c))
                    .map(|(_, n)| Value::from(*n))
                    .collect();
                s.insert("attr_flags".into(), Value::from(flags.as_str()));
                s.insert("attributes".into(), Value::from(names));
                s.insert(
                    "version".into(),
                    version.map(Value::from).unwrap_or(Value::from(())),
                );
            }
        }
    }
}
