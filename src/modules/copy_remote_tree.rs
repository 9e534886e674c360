//! copy with `remote_src: true` of a directory on the host, as Ansible 2.19's module
//! does it: `src/` copies the directory's contents into dest, `src` the directory
//! itself (dest/basename); a missing copy is made whole (`shutil.copytree`), an existing
//! one is brought up to date as `filecmp.dircmp` sees it (files that differ are copied
//! again with their source's mode, files and directories only in the source are
//! copied, nothing is removed).
//!
//! The host is read with one query (the two trees and a few flags, prefetched with the
//! task's probes) and, only when a file of both trees has the same size but another
//! time stamp, one more that compares their SHA-1s; the copy is one op. Every file
//! goes through a temporary file and a rename, every new tree through a temporary
//! directory and a rename.

use super::attrs::Attrs;
use super::op::{Done, RemoteOp};
use super::probe::Probe;
use super::{Args, Change, ModuleCtx, Plan};
use crate::connection::{quote, FileKind, FileState};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::{BTreeMap, HashMap};

/// Python's `os.path.dirname`.
pub fn py_dirname(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let head = &p[..i];
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// Python's `os.path.basename`.
pub fn py_basename(p: &str) -> &str {
    &p[p.rfind('/').map(|i| i + 1).unwrap_or(0)..]
}

/// Python's `os.path.join` of two parts.
pub fn py_join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_string()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// The paths the module works with, from its arguments alone.
#[derive(Debug, PartialEq)]
pub struct Paths {
    /// `dest`, with `./` before a bare name (the module's own fix-up).
    pub dest: String,
    /// `dest` in a directory: dest/basename(src), `dest/` for `src/`.
    pub joined: String,
    /// Where the tree is copied (`copy_directory`'s destination): dest for `src/`,
    /// dest/basename(src) otherwise.
    pub target: String,
    /// `src` with a trailing slash: the directory whose entries are copied.
    pub src_dir: String,
}

impl Paths {
    pub fn new(src: &str, dest: &str) -> Paths {
        let fixed = if dest.contains('/') {
            dest.to_string()
        } else {
            format!("./{dest}")
        };
        let base = py_basename(src);
        let (target, src_dir) = if src.ends_with('/') {
            (dest.to_string(), src.to_string())
        } else {
            (py_join(dest, base), format!("{src}/"))
        };
        Paths {
            joined: py_join(&fixed, base),
            dest: fixed,
            target,
            src_dir,
        }
    }
}

/// An entry's type as `os.stat` (following links) sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Other,
    /// A link to nothing (or a loop): `os.stat` fails.
    Broken,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// A symbolic link itself (`os.path.islink`).
    pub link: bool,
    pub kind: Kind,
    pub size: u64,
    /// Seconds and nanoseconds.
    pub mtime: (i64, u32),
}

/// The entries of a tree by their path below its top (`a/b`).
pub type Tree = BTreeMap<String, Entry>;

/// What the query found on the host.
#[derive(Debug, Default)]
pub struct Listing {
    pub src: Tree,
    pub target: Tree,
    pub src_readable: bool,
    /// The directories of `dest` and of `joined` writable.
    pub dest_dir_writable: bool,
    pub joined_dir_writable: bool,
    /// `realpath` of dest and joined (asked for with `follow` only).
    pub real_dest: Option<String>,
    pub real_joined: Option<String>,
    /// Something in the target tree is not owned by `owner`/`group` yet.
    pub owner_differs: bool,
}

/// `1796473158.6699996890` (find) or `1796473158.669999689` (stat) as seconds and
/// nanoseconds.
fn parse_time(s: &str) -> (i64, u32) {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    (secs.parse().unwrap_or(0), digits.parse().unwrap_or(0))
}

/// The read-only script whose output [`parse_listing`] reads.
pub fn listing_script(p: &Paths, follow: bool, owner: Option<&str>, group: Option<&str>) -> String {
    let (s, t) = (quote(&p.src_dir), quote(&p.target));
    let mut sc = String::new();
    sc.push_str(&format!(
        "[ -r {s} ] && printf 'hreadable\\0'\n\
         [ -w {} ] && printf 'hwdest\\0'\n\
         [ -w {} ] && printf 'hwjoined\\0'\n",
        quote(&py_dirname(&p.dest)),
        quote(&py_dirname(&p.joined)),
    ));
    if follow {
        for (k, path) in [("real_dest", &p.dest), ("real_joined", &p.joined)] {
            sc.push_str(&format!(
                "[ -L {q} ] && printf 'h{k}=%s\\0' \"$(realpath -- {q})\"\n",
                q = quote(path.trim_end_matches('/'))
            ));
        }
    }
    let mut not = Vec::new();
    if let Some(o) = owner {
        not.push(format!("! -user {}", quote(o)));
    }
    if let Some(g) = group {
        not.push(format!("! -group {}", quote(g)));
    }
    if !not.is_empty() {
        sc.push_str(&format!(
            "[ -e {t} ] && [ -n \"$(find {t} \\( {} \\) -print -quit 2>/dev/null)\" ] && printf 'howner\\0'\n",
            not.join(" -o ")
        ));
    }
    sc.push_str(&format!(
        "find -L {s} -mindepth 1 \\( -xtype l -printf 'sL' -o -printf 's-' \\) -printf '%y|%s|%T@|%P\\0' 2>/dev/null\n\
         if [ -d {t} ]; then\n\
         (cd -- {s} && find -L . -mindepth 1 -printf '%P\\0' 2>/dev/null) | (cd -- {t} && xargs -0r stat -L --printf 't%f|%s|%.9Y|%n\\0' -- 2>/dev/null)\n\
         (cd -- {s} && find -L . -mindepth 1 -printf '%P\\0' 2>/dev/null) | (cd -- {t} && xargs -0r stat --printf 'u%n\\0' -- 2>/dev/null)\n\
         fi\n"
    ));
    sc.push_str("true\n");
    sc
}

/// Read [`listing_script`]'s output.
pub fn parse_listing(out: &str) -> Listing {
    let mut l = Listing::default();
    let mut present = Vec::new();
    for rec in out.split('\0') {
        let Some(tag) = rec.chars().next() else {
            continue;
        };
        let body = &rec[1..];
        match tag {
            'h' => match body.split_once('=') {
                Some(("real_dest", v)) => l.real_dest = Some(v.to_string()),
                Some(("real_joined", v)) => l.real_joined = Some(v.to_string()),
                _ => match body {
                    "readable" => l.src_readable = true,
                    "wdest" => l.dest_dir_writable = true,
                    "wjoined" => l.joined_dir_writable = true,
                    "owner" => l.owner_differs = true,
                    _ => {}
                },
            },
            's' => {
                let link = body.starts_with('L');
                let f: Vec<&str> = body.get(1..).unwrap_or("").splitn(4, '|').collect();
                if f.len() != 4 || f[3].is_empty() {
                    continue;
                }
                let kind = match f[0] {
                    "f" => Kind::File,
                    "d" => Kind::Dir,
                    "l" | "L" | "N" | "?" => Kind::Broken,
                    _ => Kind::Other,
                };
                l.src.insert(
                    f[3].to_string(),
                    Entry {
                        link,
                        kind,
                        size: f[1].parse().unwrap_or(0),
                        mtime: parse_time(f[2]),
                    },
                );
            }
            't' => {
                let f: Vec<&str> = body.splitn(4, '|').collect();
                if f.len() != 4 {
                    continue;
                }
                let raw = u32::from_str_radix(f[0], 16).unwrap_or(0);
                let kind = match raw & 0o170000 {
                    0o100000 => Kind::File,
                    0o040000 => Kind::Dir,
                    _ => Kind::Other,
                };
                l.target.insert(
                    f[3].to_string(),
                    Entry {
                        link: false,
                        kind,
                        size: f[1].parse().unwrap_or(0),
                        mtime: parse_time(f[2]),
                    },
                );
            }
            'u' => present.push(body.to_string()),
            _ => {}
        }
    }
    // There, but `stat` through it failed: a link to nothing.
    for p in present {
        l.target.entry(p).or_insert(Entry {
            link: true,
            kind: Kind::Broken,
            size: 0,
            mtime: (0, 0),
        });
    }
    l
}

/// One step of bringing an existing copy up to date, by the path below both tops.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    /// `shutil.copyfile` (through the links), with the source's mode (`copymode`) or a
    /// new file's.
    File { rel: String, copymode: bool },
    /// `os.symlink` of what the source link points to.
    Link { rel: String },
    /// `shutil.copytree`, following the links in it or copying them as links.
    Tree { rel: String, follow: bool },
}

/// What `copy_directory` does to an existing target: its steps, and whether it
/// reports a change (entries only in the source always do, even those it skips).
#[derive(Debug, Default, PartialEq)]
pub struct TreePlan {
    pub acts: Vec<Act>,
    pub changed: bool,
    /// Files of both trees whose contents must be compared (same size, other time).
    pub compare: Vec<String>,
}

fn children(tree: &Tree) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for k in tree.keys() {
        let (parent, name) = match k.rfind('/') {
            Some(i) => (&k[..i], &k[i + 1..]),
            None => ("", k.as_str()),
        };
        m.entry(parent.to_string())
            .or_default()
            .push(name.to_string());
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

/// Ansible's `copy_diff_files`, `copy_left_only` and `copy_common_dirs` over the two
/// trees. `same(rel)` answers for the files whose contents must be compared: `None`
/// while unknown (they are listed in `compare`, and count as equal).
pub fn plan_tree(
    src: &Tree,
    target: &Tree,
    local_follow: Option<bool>,
    same: &dyn Fn(&str) -> Option<bool>,
) -> TreePlan {
    let (sc, tc) = (children(src), children(target));
    let mut plan = TreePlan::default();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        // dircmp's ignore list (`.git`, `CVS` …) never applies: Ansible's module passes
        // it bytes paths, whose names never equal the list's strings.
        let names = |m: &HashMap<String, Vec<String>>| -> Vec<String> {
            m.get(&dir).cloned().unwrap_or_default()
        };
        let (left, right) = (names(&sc), names(&tc));
        let mut diff = Vec::new();
        let mut left_only = Vec::new();
        let mut common_dirs = Vec::new();
        for n in &left {
            let rel = if dir.is_empty() {
                n.clone()
            } else {
                format!("{dir}/{n}")
            };
            let s = &src[&rel];
            if !right.contains(n) {
                left_only.push((rel, s));
                continue;
            }
            let t = &target[&rel];
            match (s.kind, t.kind) {
                (Kind::Dir, Kind::Dir) => common_dirs.push(rel),
                (Kind::File, Kind::File) => {
                    let differs = if s.size != t.size {
                        true
                    } else if s.mtime == t.mtime {
                        false
                    } else {
                        match same(&rel) {
                            Some(eq) => !eq,
                            None => {
                                plan.compare.push(rel.clone());
                                false
                            }
                        }
                    };
                    if differs {
                        diff.push((rel, s));
                    }
                }
                _ => {}
            }
        }
        if !diff.is_empty() || !left_only.is_empty() {
            plan.changed = true;
        }
        for (rel, s) in diff {
            plan.acts.push(if s.link && local_follow == Some(false) {
                Act::Link { rel }
            } else {
                Act::File {
                    rel,
                    copymode: true,
                }
            });
        }
        for (rel, s) in left_only {
            let act = match (s.link, s.kind, local_follow) {
                (true, Kind::Dir, Some(true)) => Act::Tree { rel, follow: true },
                (true, Kind::Dir | Kind::File, Some(false)) => Act::Link { rel },
                (true, Kind::File, Some(true)) => Act::File {
                    rel,
                    copymode: false,
                },
                (false, Kind::File, _) => Act::File {
                    rel,
                    copymode: true,
                },
                (false, Kind::Dir, lf) => Act::Tree {
                    rel,
                    follow: lf == Some(true),
                },
                // A link without local_follow, a link to nothing, a fifo …: Ansible
                // copies nothing (and still reports a change).
                _ => continue,
            };
            plan.acts.push(act);
        }
        // Depth first, in name order, as copy_common_dirs recurses.
        for d in common_dirs.into_iter().rev() {
            dirs.push(d);
        }
    }
    plan
}

/// The script that compares the contents of `rels` in both trees: `sha1sum` once a side.
fn compare_script(p: &Paths, rels: &[String]) -> String {
    let list: String = rels.iter().map(|r| format!(" {}", quote(r))).collect();
    format!(
        "(cd -- {} && sha1sum -z --{list}) 2>/dev/null; printf '\\0@@\\0'; (cd -- {} && sha1sum -z --{list}) 2>/dev/null; true",
        quote(&p.src_dir),
        quote(&p.target)
    )
}

fn parse_sums(part: &str) -> HashMap<String, String> {
    part.split('\0')
        .filter_map(|r| {
            let (sum, name) = r.split_once("  ")?;
            Some((name.to_string(), sum.to_string()))
        })
        .collect()
}

/// Which of `rels` have the same content in both trees (a few hundred names a query).
fn compare(ctx: &mut ModuleCtx<'_>, p: &Paths, rels: &[String]) -> Result<HashMap<String, bool>> {
    let mut same = HashMap::new();
    for chunk in rels.chunks(256) {
        let out = ctx.query(&compare_script(p, chunk))?;
        let (a, b) = out.split_once("\0@@\0").unwrap_or((&out, ""));
        let (a, b) = (parse_sums(a), parse_sums(b));
        for r in chunk {
            let eq = matches!((a.get(r), b.get(r)), (Some(x), Some(y)) if x == y);
            same.insert(r.clone(), eq);
        }
    }
    Ok(same)
}

/// The probes of a `remote_src` copy: the stats its plan reads and the listing.
pub fn probes(args: &Args) -> Vec<Probe> {
    let (Ok(Some(src)), Ok(Some(dest))) = (args.str("src"), args.str("dest")) else {
        return Vec::new();
    };
    let p = Paths::new(&src, &dest);
    let stat = |path: String| Probe::Stat {
        path,
        follow: true,
        checksum: false,
    };
    let mut out = vec![
        Probe::Stat {
            path: src.clone(),
            follow: true,
            checksum: true,
        },
        stat(p.dest.clone()),
        stat(py_dirname(&p.dest)),
        stat(p.joined.clone()),
        stat(p.target.clone()),
    ];
    if let Ok(Some(script)) = listing_for(args, &p) {
        out.push(Probe::Query { script });
    }
    out.push(Probe::Query {
        script: super::copy_tree::md5_script(&src),
    });
    out
}

fn listing_for(args: &Args, p: &Paths) -> Result<Option<String>> {
    Ok(Some(listing_script(
        p,
        args.bool("follow", false)?,
        args.str("owner")?.as_deref(),
        args.str("group")?.as_deref(),
    )))
}

/// The shell lines that copy the tree `from` to the missing `to` through a temporary
/// directory beside it, then rename it.
fn tree_copy_script(from: &str, to: &str, follow: bool) -> String {
    let (f, t) = (
        quote(from.trim_end_matches('/')),
        quote(to.trim_end_matches('/')),
    );
    let deref = if follow { "-L" } else { "-P" };
    format!(
        "d=$(mktemp -d \"$(dirname -- {t})/.drover-tmp.XXXXXXXXXX\") || exit 1\n\
         cp -R {deref} --preserve=mode,timestamps -- {f}/. \"$d\" || {{ rm -rf -- \"$d\"; exit 1; }}\n\
         mv -T -- \"$d\" {t} || {{ rm -rf -- \"$d\"; exit 1; }}\n"
    )
}

/// A file copied through a temporary file in the destination's directory: contents
/// through links, the source's mode (`copymode`) or a new file's, the owner of the
/// file it replaces.
fn file_copy_script(from: &str, to: &str, copymode: bool) -> String {
    let (f, t) = (quote(from), quote(to));
    let mode = if copymode {
        format!("chmod --reference={f} \"$x\" || {{ rm -f -- \"$x\"; exit 1; }}\n")
    } else {
        "chmod \"$newmode\" \"$x\" || { rm -f -- \"$x\"; exit 1; }\n".to_string()
    };
    format!(
        "x=$(mktemp \"$(dirname -- {t})/.drover-tmp.XXXXXXXXXX\") || exit 1\n\
         cat -- {f} > \"$x\" || {{ rm -f -- \"$x\"; exit 1; }}\n\
         {mode}\
         [ -e {t} ] && chown --reference={t} \"$x\" 2>/dev/null\n\
         mv -f -- \"$x\" {t} || {{ rm -f -- \"$x\"; exit 1; }}\n"
    )
}

/// `dest/`'s missing directories made one by one from the top, each new one with
/// `attrs` (directory_mode, owner, group), as the module's `os.makedirs` and
/// `adjust_recursive_directory_permissions`.
pub fn make_dirs_script(dir: &str, attrs: &Attrs) -> String {
    let mut script = String::new();
    let mut prefix = String::new();
    for (i, part) in dir.split('/').enumerate() {
        if i > 0 {
            prefix.push('/');
        }
        prefix.push_str(part);
        if part.is_empty() || part == "." {
            continue;
        }
        let q = quote(&prefix);
        script.push_str(&format!(
            "if [ ! -d {q} ]; then mkdir -- {q} || exit 1\n{}fi\n",
            attrs.script(&q, false)
        ));
    }
    script
}

/// Check mode when `dest/` does not exist: the module stops there, changed.
pub fn would_make_dirs(src: &str, dir: &str) -> Plan {
    let mut r = Vars::new();
    r.insert(
        "msg".into(),
        Value::from(format!("dest directory {dir} would be created")),
    );
    r.insert("src".into(), Value::from(src));
    Plan::change(
        Change::Create,
        r,
        Box::new(|_: &mut ModuleCtx<'_>| Ok(Vars::new())),
    )
}

/// The result Ansible's module returns for a directory: src, dest, null checksums.
fn base_result(src: &str, dest: &str) -> Vars {
    let mut r = Vars::new();
    r.insert("dest".into(), Value::from(dest));
    r.insert("src".into(), Value::from(src));
    r.insert("md5sum".into(), Value::from(()));
    r.insert("checksum".into(), Value::from(()));
    r
}

/// Plan the copy of the directory `src` (already known to be one) on the host.
pub fn plan(
    ctx: &mut ModuleCtx<'_>,
    args: &Args,
    src: &str,
    src_state: &FileState,
) -> Result<Plan> {
    let dest_arg = args.req_str("dest")?;
    let p = Paths::new(src, &dest_arg);
    let follow = args.bool("follow", false)?;
    let force = args.bool("force", true)?;
    let local_follow = if args.has("local_follow") {
        Some(args.bool("local_follow", true)?)
    } else {
        None
    };
    let script = listing_for(args, &p)?.unwrap_or_default();
    let listing = parse_listing(&ctx.query(&script)?);
    if !listing.src_readable {
        return Err(Error::module(format!("Source {src} not readable")));
    }
    let mut attrs = Attrs::from_args(args)?;
    if args.mode("mode")?.as_deref() == Some("preserve") {
        attrs.mode = Some(crate::connection::octal_mode(src_state.mode & 0o7777));
    }
    let mut script = String::new();
    let mut touched = Vec::new();
    // `dest/`: its missing directories are made first, with directory_mode.
    let mut made_dest = false;
    if p.dest.ends_with('/') {
        let dir = py_dirname(&p.dest);
        if ctx.stat(&dir, true, false)?.kind == FileKind::Missing {
            if ctx.check {
                return Ok(would_make_dirs(src, &dir));
            }
            let dir_attrs = Attrs {
                mode: args.mode("directory_mode")?,
                owner: attrs.owner.clone(),
                group: attrs.group.clone(),
            };
            script.push_str(&make_dirs_script(&dir, &dir_attrs));
            touched.push(dir.clone());
            made_dest = true;
        }
    }
    let dest_state = ctx.stat(&p.dest, true, false)?;
    let dest_is_dir = made_dest || dest_state.kind == FileKind::Directory;
    let mut reported = if dest_is_dir {
        p.joined.clone()
    } else {
        p.dest.clone()
    };
    let reported_state = if made_dest {
        // Made just now: `dest/` itself is there (and empty), dest/name is not.
        if src.ends_with('/') {
            FileState {
                kind: FileKind::Directory,
                ..FileState::missing()
            }
        } else {
            FileState::missing()
        }
    } else {
        ctx.stat(&reported, true, false)?
    };
    let mut writable = if dest_is_dir {
        listing.joined_dir_writable || made_dest
    } else {
        listing.dest_dir_writable
    };
    if reported_state.exists() {
        let was = if dest_is_dir {
            &listing.real_joined
        } else {
            &listing.real_dest
        };
        if follow {
            if let Some(r) = was {
                reported = r.clone();
                writable = true;
            }
        }
        if !force {
            let mut r = Vars::new();
            r.insert("msg".into(), Value::from("file already exists"));
            r.insert("src".into(), Value::from(src));
            r.insert("dest".into(), Value::from(reported.as_str()));
            let now = ctx.stat(&reported, false, false)?;
            super::write::add_path_info(&mut r, &now);
            if script.is_empty() {
                return Ok(Plan::no_change(r));
            }
            return Ok(
                Plan::change_op(Change::Create, r, run_op(script, src, &reported))
                    .touching_tree(touched)
                    .silently(),
            );
        }
        if reported_state.kind == FileKind::File {
            // Ansible's module then renames the source directory over the file.
            let e = format!("[Errno 20] Not a directory: b'{src}' -> b'{reported}'");
            return Err(Error::module(format!(
                "Could not replace file: b'{src}' to {reported}: {e}"
            )));
        }
    } else {
        let dir = py_dirname(&reported);
        if !made_dest && ctx.stat(&dir, true, false)?.kind == FileKind::Missing {
            return Err(Error::module(format!(
                "Destination directory {dir} does not exist"
            )));
        }
    }
    if !writable && !args.bool("unsafe_writes", false)? {
        return Err(Error::module(format!(
            "Destination {} not writable",
            py_dirname(&reported)
        )));
    }
    let mut changed = made_dest;
    // Both directories (or dest to be made): copy_directory.
    let both = matches!(dest_state.kind, FileKind::Directory | FileKind::Missing) || made_dest;
    if both {
        let copies;
        let target_state = if made_dest {
            reported_state.clone()
        } else {
            ctx.stat(&p.target, true, false)?
        };
        if !target_state.exists() {
            // copytree makes the missing directories above the copy too.
            let parent = py_dirname(p.target.trim_end_matches('/'));
            if !parent.is_empty() {
                script.push_str(&format!("mkdir -p -- {} || exit 1\n", quote(&parent)));
            }
            script.push_str(&tree_copy_script(
                &p.src_dir,
                &p.target,
                local_follow == Some(true),
            ));
            copies = true;
            changed = true;
        } else {
            let mut tree = plan_tree(&listing.src, &listing.target, local_follow, &|_| None);
            if !tree.compare.is_empty() {
                let same = compare(ctx, &p, &tree.compare)?;
                tree = plan_tree(&listing.src, &listing.target, local_follow, &|r| {
                    same.get(r).copied()
                });
            }
            changed |= tree.changed;
            if tree.acts.iter().any(|a| {
                matches!(
                    a,
                    Act::File {
                        copymode: false,
                        ..
                    }
                )
            }) {
                // A new file's mode: 0666 less the umask.
                script.push_str(
                    "newmode=$(umask); newmode=$(( 0666 & ~newmode )); newmode=$(printf '%o' \"$newmode\")\n",
                );
            }
            for act in &tree.acts {
                let rel = match act {
                    Act::File { rel, .. } | Act::Link { rel } | Act::Tree { rel, .. } => rel,
                };
                let (from, to) = (py_join(&p.src_dir, rel), py_join(&p.target, rel));
                match act {
                    Act::File { copymode, .. } => {
                        script.push_str(&file_copy_script(&from, &to, *copymode))
                    }
                    Act::Link { .. } => script.push_str(&format!(
                        "ln -s -- \"$(readlink -- {})\" {} || exit 1\n",
                        quote(&from),
                        quote(&to)
                    )),
                    Act::Tree { follow, .. } => {
                        script.push_str(&tree_copy_script(&from, &to, *follow))
                    }
                }
            }
            copies = !tree.acts.is_empty();
            changed |= listing.owner_differs;
        }
        if attrs.owner.is_some() || attrs.group.is_some() {
            let owners = Attrs {
                mode: None,
                ..attrs.clone()
            };
            if copies || listing.owner_differs || !target_state.exists() {
                script.push_str(&owners.script(&quote(&p.target), true));
            }
        }
        touched.push(p.target.clone());
    }
    // The attributes asked for, on the destination the result names.
    if reported_state.exists() && !changed {
        let now = ctx.stat(&reported, true, false)?;
        if !attrs.differences(&now).is_empty() {
            changed = true;
        }
    } else if attrs.mode.is_some() || attrs.owner.is_some() || attrs.group.is_some() {
        changed = true;
    }
    let mut result = base_result(src, &reported);
    if !changed {
        let now = ctx.stat(&reported, false, false)?;
        super::write::add_path_info(&mut result, &now);
        return Ok(Plan::no_change(result));
    }
    script.push_str(&attrs.script(&quote(&reported), false));
    touched.push(reported.clone());
    if ctx.check {
        let now = ctx.stat(&reported, false, false)?;
        super::write::add_path_info(&mut result, &now);
    }
    Ok(Plan::change_op(Change::Run, result, run_op(script, src, &reported)).touching_tree(touched))
}

/// The copy as one op; the result describes `reported` once it ran.
fn run_op(mut script: String, src: &str, reported: &str) -> RemoteOp {
    // A change with nothing to do (entries Ansible skips yet counts): still a command.
    if script.trim().is_empty() {
        script.push_str(":\n");
    }
    let what = format!("cannot copy {src} to {reported}");
    let mut op = RemoteOp::script(
        script,
        Box::new(move |out, described| {
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "{what}: {}",
                    out.stderr_str().trim()
                )));
            }
            let mut done = Done::default();
            if let Some(st) = described {
                super::write::add_path_info(&mut done.extra, &st);
            }
            Ok(done)
        }),
    );
    op.with_env = false;
    op.describe = Some(reported.to_string());
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_path_helpers() {
        assert_eq!(py_dirname("a/b/"), "a/b");
        assert_eq!(py_dirname("/a"), "/");
        assert_eq!(py_dirname("/"), "/");
        assert_eq!(py_dirname("a"), "");
        assert_eq!(py_dirname("a//b"), "a");
        assert_eq!(py_basename("/x/src/"), "");
        assert_eq!(py_basename("/x/src"), "src");
        assert_eq!(py_join("/d", ""), "/d/");
        assert_eq!(py_join("/d/", "s"), "/d/s");
        assert_eq!(py_join("/d", "/abs"), "/abs");
    }

    #[test]
    fn paths_with_and_without_trailing_slashes() {
        let p = Paths::new("/s/src/", "/d/dest");
        assert_eq!(
            p,
            Paths {
                dest: "/d/dest".into(),
                joined: "/d/dest/".into(),
                target: "/d/dest".into(),
                src_dir: "/s/src/".into(),
            }
        );
        let p = Paths::new("/s/src", "dest");
        assert_eq!(p.dest, "./dest");
        assert_eq!(p.joined, "./dest/src");
        assert_eq!(p.target, "dest/src");
        assert_eq!(p.src_dir, "/s/src/");
    }

    #[test]
    fn listing_is_read_with_links_and_broken_entries() {
        let out = "hreadable\0hwjoined\0hreal_dest=/real/d\0\
                   s-f|4|1700000000.1234567890|a file\0sLf|3|1700000000.0000000000|link\0\
                   s-d|4096|1700000000.5000000000|sub\0sLl|7|1700000000.0000000000|dangling\0\
                   t81a4|4|1700000000.123456789|a file\0t41ed|4096|1.0|sub\0\
                   ua file\0usub\0udangling\0";
        let l = parse_listing(out);
        assert!(l.src_readable && l.joined_dir_writable && !l.dest_dir_writable);
        assert_eq!(l.real_dest.as_deref(), Some("/real/d"));
        assert_eq!(
            l.src["a file"],
            Entry {
                link: false,
                kind: Kind::File,
                size: 4,
                mtime: (1700000000, 123456789)
            }
        );
        assert!(l.src["link"].link);
        assert_eq!(l.src["dangling"].kind, Kind::Broken);
        assert_eq!(l.target["a file"].mtime, l.src["a file"].mtime);
        assert_eq!(l.target["sub"].kind, Kind::Dir);
        // Listed by lstat, not by stat through it: a link to nothing.
        assert_eq!(l.target["dangling"].kind, Kind::Broken);
    }

    fn entry(kind: Kind, size: u64, secs: i64) -> Entry {
        Entry {
            link: false,
            kind,
            size,
            mtime: (secs, 0),
        }
    }

    #[test]
    fn an_existing_copy_is_updated_as_dircmp_sees_it() {
        let mut src = Tree::new();
        src.insert("same".into(), entry(Kind::File, 3, 10));
        src.insert("bigger".into(), entry(Kind::File, 5, 10));
        src.insert("touched".into(), entry(Kind::File, 3, 20));
        src.insert("new".into(), entry(Kind::File, 1, 10));
        src.insert("newdir".into(), entry(Kind::Dir, 0, 10));
        src.insert("newdir/x".into(), entry(Kind::File, 1, 10));
        src.insert("d".into(), entry(Kind::Dir, 0, 10));
        src.insert("d/inner".into(), entry(Kind::File, 2, 10));
        src.insert(".git".into(), entry(Kind::Dir, 0, 10));
        src.insert(
            "link".into(),
            Entry {
                link: true,
                ..entry(Kind::File, 1, 10)
            },
        );
        let mut dst = Tree::new();
        dst.insert("same".into(), entry(Kind::File, 3, 10));
        dst.insert("bigger".into(), entry(Kind::File, 3, 10));
        dst.insert("touched".into(), entry(Kind::File, 3, 99));
        dst.insert("d".into(), entry(Kind::Dir, 0, 10));

        // Same size, another time: the contents decide.
        let first = plan_tree(&src, &dst, None, &|_| None);
        assert_eq!(first.compare, vec!["touched".to_string()]);
        let plan = plan_tree(&src, &dst, None, &|r| Some(r != "touched"));
        assert!(plan.changed);
        assert_eq!(
            plan.acts,
            vec![
                Act::File {
                    rel: "bigger".into(),
                    copymode: true
                },
                Act::File {
                    rel: "touched".into(),
                    copymode: true
                },
                // dircmp's ignore list never applies (bytes paths).
                Act::Tree {
                    rel: ".git".into(),
                    follow: false
                },
                // `link` is only in the source: without local_follow nothing is copied.
                Act::File {
                    rel: "new".into(),
                    copymode: true
                },
                Act::Tree {
                    rel: "newdir".into(),
                    follow: false
                },
                Act::File {
                    rel: "d/inner".into(),
                    copymode: true
                },
            ]
        );
        let plan = plan_tree(&src, &dst, Some(false), &|_| Some(true));
        assert!(plan.acts.contains(&Act::Link { rel: "link".into() }));
        let plan = plan_tree(&src, &dst, Some(true), &|_| Some(true));
        assert!(plan.acts.contains(&Act::File {
            rel: "link".into(),
            copymode: false
        }));

        // Up to date: nothing to do, no change.
        let mut done = dst.clone();
        for (k, v) in &src {
            if k != "link" {
                done.insert(k.clone(), v.clone());
            }
        }
        let mut src_no_link = src.clone();
        src_no_link.remove("link");
        let plan = plan_tree(&src_no_link, &done, None, &|_| Some(true));
        assert_eq!(plan, TreePlan::default());
    }

    #[test]
    fn scripts_quote_paths() {
        let s = tree_copy_script("/s/a b/", "/d/it's", false);
        assert!(s.contains("cp -R -P --preserve=mode,timestamps -- '/s/a b'/. \"$d\""));
        assert!(s.contains("mv -T -- \"$d\" '/d/it'\"'\"'s'"));
        let f = file_copy_script("/s/f", "/d/f", true);
        assert!(f.contains("chmod --reference=/s/f"));
        let m = make_dirs_script("./a/b", &Attrs::default());
        assert!(m.contains("mkdir -- ./a ") && m.contains("mkdir -- ./a/b "));
    }
}
