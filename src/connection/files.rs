//! File primitives built on `exec`: atomic put, read, stat. One round trip each.

use super::quote::quote;
use super::{exec_as, Become, Connection};
use crate::diagnostics::{Error, Result};

/// Attributes applied to the temp file before it is renamed into place.
#[derive(Clone, Debug, Default)]
pub struct PutAttrs {
    /// Octal mode string such as `0644`, or a symbolic mode for `chmod`.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Keep a timestamped copy of the old file (`backup: yes`); its path is printed.
    pub backup: bool,
    /// A validation command with `%s`, run on the temp file before the rename.
    pub validate: Option<String>,
    /// Create missing parent directories (lineinfile/blockinfile `create: yes`).
    pub make_parents: bool,
}

/// What a write left on the host, read in the same round trip.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// The copy of the old file `backup: yes` made.
    pub backup: Option<String>,
    /// The new file's attributes (results report its owner, group and mode).
    pub state: Option<FileState>,
}

/// Exit codes of the put script that mean a specific failure.
const RC_NO_DIR: i32 = 71;
const RC_SHORT_WRITE: i32 = 72;
const RC_VALIDATE: i32 = 73;

pub fn put_file(
    conn: &mut (impl Connection + ?Sized),
    dest: &str,
    content: &[u8],
    attrs: &PutAttrs,
    become_: Option<&Become>,
) -> Result<Written> {
    let script = format!(
        "{}{}",
        put_prelude(),
        put_script(dest, content.len(), attrs)
    );
    let out = exec_as(conn, &script, Some(content), become_)?;
    put_finish(dest, &out)
}

fn parent_dir(dest: &str) -> String {
    match dest.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => dest[..i].to_string(),
        None => ".".to_string(),
    }
}

/// The shell functions [`put_script`] calls, defined once per command (a batch of
/// many writes carries them once).
pub fn put_prelude() -> &'static str {
    static PRELUDE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // The temp name marks it as drover's and names the writing shell, so a later write
    // into the same directory removes those whose writer is gone (killed with the host or
    // with -9) and leaves those of live writers alone. Only shell builtins: no cost.
    // The bytes are read first, whatever happens next (no directory, no temp file), so
    // several writes can share one stdin stream (`exec::batch`); `tee` keeps reading
    // when the disk is full, so the stream stays in step, and the size check then
    // refuses the short file.
    // The temp file is made with noclobber (O_EXCL: never through a link someone else
    // placed) under a name unique to this shell and destination; `mktemp` only when
    // that fails. A few processes per file: the host's work is what a batch of many
    // writes costs.
    // With `make_parents` ($5) missing parent directories are made first (a failure
    // still reads the bytes). An existing file's mode, ACLs and extended attributes
    // carry over to the new one (as Python's shutil.copystat in Ansible's atomic_move);
    // a given mode ($4) is applied after them.
    PRELUDE.get_or_init(|| {
        format!(
            "__drover_put_start() {{\n\
             f=$1; d=$2; t=\n\
             if [ \"$5\" = 1 ] && [ ! -d \"$d\" ]; then mkdir -p -- \"$d\" || {{ head -c \"$3\" >/dev/null; exit 70; }}; fi\n\
             if [ -d \"$d\" ]; then\n\
             for s in \"$d\"/.drover-tmp.*; do [ -f \"$s\" ] || continue; p=${{s##*/.drover-tmp.}}; p=${{p%%.*}}; case $p in ''|*[!0-9]*) continue;; esac; [ -d /proc/$p ] || rm -f -- \"$s\"; done\n\
             t=\"$d/.drover-tmp.$$.${{f##*/}}\"; set -C; command : 2>/dev/null >\"$t\" || t=$(mktemp \"$d/.drover-tmp.$$.XXXXXXXXXX\") || t=; set +C\n\
             fi\n\
             if [ -n \"$t\" ]; then trap 'rm -f \"$t\"' EXIT HUP INT TERM; head -c \"$3\" | tee \"$t\" >/dev/null || exit 70; else head -c \"$3\" >/dev/null; [ -d \"$d\" ] || exit {RC_NO_DIR}; exit 70; fi\n\
             if [ -e \"$f\" ]; then {{ cp --attributes-only --preserve=mode,xattr -- \"$f\" \"$t\" 2>/dev/null || [ \"$4\" = 1 ] || chmod --reference=\"$f\" \"$t\"; }} && chown --reference=\"$f\" \"$t\" 2>/dev/null; elif [ \"$4\" != 1 ]; then chmod 0644 \"$t\" 2>/dev/null; fi\n\
             }}\n\
             __drover_put_end() {{\n\
             s=$(stat -c '%s {STAT_FIELDS}' -- \"$t\") || exit 70\n\
             [ \"${{s%% *}}\" -eq \"$1\" ] || exit {RC_SHORT_WRITE}\n\
             mv -f \"$t\" \"$f\" || exit 70\n\
             trap - EXIT\n\
             printf 'stat=%s\\n' \"${{s#* }}\"\n\
             }}\n"
        )
    })
}

/// The script of an atomic write of `len` bytes read from stdin (after
/// [`put_prelude`]): a temp file in the destination's directory, mode and owner set,
/// validated, size-checked, renamed over the destination.
pub fn put_script(dest: &str, len: usize, attrs: &PutAttrs) -> String {
    let mut s = format!(
        "__drover_put_start {} {} {len} {} {}\n",
        quote(dest),
        quote(&parent_dir(dest)),
        u8::from(attrs.mode.is_some()),
        u8::from(attrs.make_parents)
    );
    if let Some(mode) = &attrs.mode {
        s.push_str(&format!("chmod {} \"$t\" || exit 70\n", quote(mode)));
    }
    match (&attrs.owner, &attrs.group) {
        (Some(o), Some(g)) => s.push_str(&format!(
            "chown {}:{} \"$t\" || exit 70\n",
            quote(o),
            quote(g)
        )),
        (Some(o), None) => s.push_str(&format!("chown {} \"$t\" || exit 70\n", quote(o))),
        (None, Some(g)) => s.push_str(&format!("chgrp {} \"$t\" || exit 70\n", quote(g))),
        (None, None) => {}
    }
    if let Some(v) = &attrs.validate {
        // `%s` is the temporary file; exported too, so a quoted `sh -c '… %s'` sees it.
        // Its stdin is not the stream the next write reads.
        let cmd = v.replace("%s", "\"$t\"");
        s.push_str(&format!(
            "( export t; {cmd} ) </dev/null >&2 || exit {RC_VALIDATE}\n"
        ));
    }
    if attrs.backup {
        s.push_str("if [ -f \"$f\" ]; then b=\"$f.$$.$(date +%Y-%m-%d@%H:%M:%S~)\"; cp -p \"$f\" \"$b\" && echo \"backup=$b\"; fi\n");
    }
    s.push_str(&format!("__drover_put_end {len}\n"));
    s
}

/// Read the output of [`put_script`].
pub fn put_finish(dest: &str, out: &super::Output) -> Result<Written> {
    let dir = parent_dir(dest);
    match out.rc {
        0 => {
            let text = out.stdout_str();
            let mut written = Written::default();
            for line in text.lines() {
                if let Some(b) = line.strip_prefix("backup=") {
                    written.backup = Some(b.to_string());
                } else if let Some(st) = line.strip_prefix("stat=") {
                    written.state = parse_stat(st).ok();
                }
            }
            Ok(written)
        }
        RC_NO_DIR => Err(Error::module(format!(
            "cannot write {dest}: directory {dir} does not exist"
        ))
        .with_help("create the directory first (file: state=directory)")),
        RC_SHORT_WRITE => Err(Error::module(format!(
            "writing {dest} was cut short (disk full or connection lost); the old file was kept"
        ))),
        RC_VALIDATE => Err(Error::module(format!(
            "validation failed for {dest}, the file was not changed: {}",
            out.stderr_str().trim()
        ))),
        _ => Err(Error::module(format!(
            "cannot write {dest}: {}",
            out.stderr_str().trim()
        ))),
    }
}

/// Exit code the read script uses for "no such file".
const RC_MISSING: i32 = 3;

pub fn read_file(
    conn: &mut (impl Connection + ?Sized),
    path: &str,
    become_: Option<&Become>,
) -> Result<Option<Vec<u8>>> {
    let q = quote(path);
    let script = format!("if [ -e {q} ]; then cat -- {q}; else exit {RC_MISSING}; fi");
    let out = exec_as(conn, &script, None, become_)?;
    match out.rc {
        0 => Ok(Some(out.stdout)),
        RC_MISSING => Ok(None),
        _ => Err(Error::module(format!(
            "cannot read {path}: {}",
            out.stderr_str().trim()
        ))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Missing,
    File,
    Directory,
    Link,
    Other,
}

/// What `stat` says about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileState {
    pub kind: FileKind,
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub sha1: Option<String>,
    pub link_target: Option<String>,
    /// Hard links to the inode (Ansible's file state `hard` when a file has more than one).
    pub links: u64,
}

/// The `stat -c` fields [`parse_stat`] reads, in order.
pub const STAT_FIELDS: &str = "%F|%a|%U|%G|%u|%g|%s|%Y|%h";

impl FileState {
    pub fn missing() -> Self {
        FileState {
            kind: FileKind::Missing,
            mode: 0,
            owner: String::new(),
            group: String::new(),
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            sha1: None,
            link_target: None,
            links: 0,
        }
    }

    pub fn exists(&self) -> bool {
        self.kind != FileKind::Missing
    }

    /// The mode as Ansible's results and diffs show it (`add_path_info`'s `'0%03o'`):
    /// `0644`, `01777`.
    pub fn mode_string(&self) -> String {
        octal_mode(self.mode)
    }
}

/// Ansible's `'0%03o' % mode`: a leading zero before at least three octal digits.
pub fn octal_mode(mode: u32) -> String {
    format!("0{mode:03o}")
}

/// The shell fragment that prints a path's state; `{p}` must be a quoted path.
pub fn stat_script(quoted_path: &str, follow: bool, checksum: bool) -> String {
    // Following a dangling symlink finds nothing: "missing", not a failed `stat -L`.
    let (l, or_link) = if follow {
        ("-L ", "")
    } else {
        ("", " || [ -L \"$p\" ]")
    };
    let mut s = format!(
        "p={quoted_path}; if [ -e \"$p\" ]{or_link}; then stat {l}-c '{STAT_FIELDS}' -- \"$p\";"
    );
    if checksum {
        let test = if follow {
            "[ -f \"$p\" ]"
        } else {
            "[ -f \"$p\" ] && [ ! -L \"$p\" ]"
        };
        s.push_str(&format!(
            " if {test} && [ -r \"$p\" ]; then sha1sum < \"$p\" | cut -d' ' -f1; else echo -; fi;"
        ));
    } else {
        s.push_str(" echo -;");
    }
    s.push_str(" if [ -L \"$p\" ]; then readlink -- \"$p\"; fi; else echo missing; fi");
    s
}

/// Parse the output of [`stat_script`].
pub fn parse_stat(out: &str) -> Result<FileState> {
    let mut lines = out.splitn(3, '\n');
    let first = lines.next().unwrap_or("");
    if first == "missing" {
        return Ok(FileState::missing());
    }
    let f: Vec<&str> = first.split('|').collect();
    if f.len() != 9 {
        return Err(Error::module(format!("unexpected stat output: {first:?}")));
    }
    let kind = match f[0] {
        "regular file" | "regular empty file" => FileKind::File,
        "directory" => FileKind::Directory,
        "symbolic link" => FileKind::Link,
        _ => FileKind::Other,
    };
    let sha1 = lines
        .next()
        .filter(|s| *s != "-" && !s.is_empty())
        .map(str::to_string);
    let link_target = lines
        .next()
        .map(|s| s.strip_suffix('\n').unwrap_or(s).to_string())
        .filter(|s| !s.is_empty());
    let num = |s: &str| s.parse::<u64>().unwrap_or(0);
    Ok(FileState {
        kind,
        mode: u32::from_str_radix(f[1], 8).unwrap_or(0),
        owner: f[2].to_string(),
        group: f[3].to_string(),
        uid: num(f[4]) as u32,
        gid: num(f[5]) as u32,
        size: num(f[6]),
        mtime: f[7].parse().unwrap_or(0),
        links: num(f[8]),
        sha1,
        link_target: if kind == FileKind::Link {
            link_target
        } else {
            None
        },
    })
}

/// Stat a path on the host (one round trip).
pub fn stat(
    conn: &mut (impl Connection + ?Sized),
    path: &str,
    follow: bool,
    checksum: bool,
    become_: Option<&Become>,
) -> Result<FileState> {
    let out = exec_as(
        conn,
        &stat_script(&quote(path), follow, checksum),
        None,
        become_,
    )?;
    if out.rc != 0 {
        return Err(Error::module(format!(
            "cannot stat {path}: {}",
            out.stderr_str().trim()
        )));
    }
    parse_stat(&out.stdout_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_local(path: &std::path::Path, follow: bool) -> FileState {
        let script = stat_script(&quote(&path.display().to_string()), follow, true);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        parse_stat(&String::from_utf8_lossy(&out.stdout)).unwrap()
    }

    #[test]
    fn dangling_symlink_followed_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        assert_eq!(stat_local(&link, true).kind, FileKind::Missing);
        let s = stat_local(&link, false);
        assert_eq!(s.kind, FileKind::Link);
        assert_eq!(
            s.link_target.as_deref(),
            Some(dir.path().join("nowhere").to_str().unwrap())
        );
    }
}
