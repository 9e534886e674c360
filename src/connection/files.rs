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
/// The temp file could not take all the bytes (disk full, I/O error): the bytes left on
/// stdin are no longer in step with the script, so a batch stops after this write.
pub const RC_STREAM_LOST: i32 = 74;

/// What follows every put's content on stdin. The script reads it back after the
/// content: a stream that ended early (connection lost) fails there, before the rename,
/// without a `stat` of the temp file to compare sizes.
pub const PUT_SENTINEL: &[u8] = b"@\n";

pub fn put_file(
    conn: &mut (impl Connection + ?Sized),
    dest: &str,
    content: &[u8],
    attrs: &PutAttrs,
    become_: Option<&Become>,
) -> Result<Written> {
    let script = format!(
        "{}( {}\n); __r=$?; [ \"$__r\" = 0 ] && {}\nexit $__r",
        put_prelude(),
        put_script(dest, content.len(), attrs),
        describe_script(&quote(dest))
    );
    let mut stdin = Vec::with_capacity(content.len() + PUT_SENTINEL.len());
    stdin.extend_from_slice(content);
    stdin.extend_from_slice(PUT_SENTINEL);
    let mut out = exec_as(conn, &script, Some(&stdin), become_)?;
    let described = take_described(&mut out.stdout, &[dest.to_string()]);
    put_finish(dest, &out, described.into_iter().next().flatten())
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
    // Every process a write starts on the host is paid once per file and per host: on
    // a first apply of many hosts that is most of the run. So builtins wherever they do
    // the job: a new file is created with its final mode by the umask ($6), the
    // content's arrival is checked by reading the sentinel that follows it, and the
    // result's stat is made once for all the writes of a command (`describe_script`).
    // A new file with a plain mode costs `head` and `mv`.
    // The temp name marks it as drover's and names the writing shell, so a later write
    // into the same directory removes those whose writer is gone (killed with the host or
    // with -9) and leaves those of live writers alone.
    // The bytes are read first, whatever happens next (no directory, no temp file), so
    // several writes can share one stdin stream (`exec::batch`). A failed write of the
    // temp file (disk full) leaves the stream out of step: RC_STREAM_LOST stops the rest.
    // The temp file is made with noclobber (O_EXCL: never through a link someone else
    // placed) under a name unique to this shell and destination; `mktemp` only when
    // that fails (and then `__fresh` stays empty: its mode is not the umask's).
    // With `make_parents` ($5) missing parent directories are made first (a failure
    // still reads the bytes). An existing file's mode, ACLs and extended attributes
    // carry over to the new one (as Python's shutil.copystat in Ansible's atomic_move);
    // a given mode ($4 = 1) is applied after them.
    PRELUDE.get_or_init(|| {
        format!(
            "__drover_put_skip() {{ head -c \"$1\" >/dev/null; IFS= read -r __e; }}\n\
             __drover_put_start() {{\n\
             f=$1; d=$2; t=; __fresh=\n\
             if [ \"$5\" = 1 ] && [ ! -d \"$d\" ]; then mkdir -p -- \"$d\" || {{ __drover_put_skip \"$3\"; exit 70; }}; fi\n\
             if [ -d \"$d\" ]; then\n\
             for s in \"$d\"/.drover-tmp.*; do [ -f \"$s\" ] || continue; p=${{s##*/.drover-tmp.}}; p=${{p%%.*}}; case $p in ''|*[!0-9]*) continue;; esac; [ -d /proc/$p ] || rm -f -- \"$s\"; done\n\
             umask \"$6\"; t=\"$d/.drover-tmp.$$.${{f##*/}}\"; set -C\n\
             if command : 2>/dev/null >\"$t\"; then __fresh=1; else t=$(mktemp \"$d/.drover-tmp.$$.XXXXXXXXXX\") || t=; fi; set +C\n\
             fi\n\
             if [ -z \"$t\" ]; then __drover_put_skip \"$3\"; [ -d \"$d\" ] || exit {RC_NO_DIR}; exit 70; fi\n\
             trap 'rm -f \"$t\"' EXIT HUP INT TERM\n\
             head -c \"$3\" >\"$t\" || exit {RC_STREAM_LOST}\n\
             IFS= read -r __e && [ \"$__e\" = @ ] || exit {RC_SHORT_WRITE}\n\
             if [ -e \"$f\" ]; then __fresh=; {{ cp --attributes-only --preserve=mode,xattr -- \"$f\" \"$t\" 2>/dev/null || [ \"$4\" = 1 ] || chmod --reference=\"$f\" \"$t\"; }} && chown --reference=\"$f\" \"$t\" 2>/dev/null; elif [ \"$4\" != 1 ] && [ -z \"$__fresh\" ]; then chmod 0644 \"$t\" 2>/dev/null; fi\n\
             }}\n\
             __drover_put_end() {{\n\
             mv -f \"$t\" \"$f\" || exit 70\n\
             trap - EXIT\n\
             }}\n"
        )
    })
}

/// The umask that creates a new file with exactly `mode` (files are created 0666 less
/// the umask), when there is one: a plain octal mode without execute or special bits.
fn creating_umask(mode: Option<&str>) -> Option<String> {
    let Some(mode) = mode else {
        return Some("022".into());
    };
    let bits = u32::from_str_radix(mode, 8).ok()?;
    (bits & !0o666 == 0).then(|| format!("{:03o}", 0o777 & !bits))
}

/// The script of an atomic write of `len` bytes read from stdin (after
/// [`put_prelude`]), followed on stdin by [`PUT_SENTINEL`]: a temp file in the
/// destination's directory, mode and owner set, validated, renamed over the
/// destination. Its stat is for [`describe_script`] to report.
pub fn put_script(dest: &str, len: usize, attrs: &PutAttrs) -> String {
    let umask = creating_umask(attrs.mode.as_deref());
    let mut s = format!(
        "__drover_put_start {} {} {len} {} {} {}\n",
        quote(dest),
        quote(&parent_dir(dest)),
        u8::from(attrs.mode.is_some()),
        u8::from(attrs.make_parents),
        umask.as_deref().unwrap_or("022")
    );
    if let Some(mode) = &attrs.mode {
        // A new file already has it when the umask could give it.
        let skip = if umask.is_some() {
            "[ -n \"$__fresh\" ] || "
        } else {
            ""
        };
        s.push_str(&format!("{skip}chmod {} \"$t\" || exit 70\n", quote(mode)));
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
    s.push_str("__drover_put_end\n");
    s
}

/// Read the output of [`put_script`], with the destination's state once written (from
/// [`describe_script`]).
pub fn put_finish(
    dest: &str,
    out: &super::Output,
    described: Option<FileState>,
) -> Result<Written> {
    let dir = parent_dir(dest);
    match out.rc {
        0 => {
            let text = out.stdout_str();
            let backup = text
                .lines()
                .find_map(|l| l.strip_prefix("backup="))
                .map(str::to_string);
            Ok(Written {
                backup,
                state: described,
            })
        }
        RC_NO_DIR => Err(Error::module(format!(
            "cannot write {dest}: directory {dir} does not exist"
        ))
        .with_help("create the directory first (file: state=directory)")),
        RC_SHORT_WRITE => Err(Error::module(format!(
            "writing {dest} was cut short (connection lost); the old file was kept"
        ))),
        RC_STREAM_LOST => Err(Error::module(format!(
            "cannot write {dest}: {}; {dest} was left as it was",
            out.stderr_str().trim()
        ))
        .with_help("free space on the host's file system, then run again")),
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

/// Marks the start of [`describe_script`]'s output on stdout.
pub const DESCRIBED_MARK: &[u8] = b"\0@drover-described\0";

/// The shell fragment that prints the state of the paths in `quoted_paths` (one `stat`
/// for all of them, after [`DESCRIBED_MARK`]); [`take_described`] reads it back.
pub fn describe_script(quoted_paths: &str) -> String {
    format!(
        "{{ printf '\\000@drover-described\\000'; stat -c '{STAT_FIELDS}|%n' -- {quoted_paths} 2>/dev/null; }}"
    )
}

/// Cut [`describe_script`]'s output off the end of `stdout` and read the state of each
/// of `paths` from it (`None` for a path `stat` could not read: it is gone).
pub fn take_described(stdout: &mut Vec<u8>, paths: &[String]) -> Vec<Option<FileState>> {
    let (rest, described) = split_described(stdout);
    let states = parse_described(&described.unwrap_or_default(), paths);
    let keep = rest.len();
    stdout.truncate(keep);
    states
}

/// `stdout` without [`describe_script`]'s output, and that output when there is one.
pub fn split_described(stdout: &[u8]) -> (&[u8], Option<String>) {
    match stdout
        .windows(DESCRIBED_MARK.len())
        .rposition(|w| w == DESCRIBED_MARK)
    {
        Some(at) => (
            &stdout[..at],
            Some(String::from_utf8_lossy(&stdout[at + DESCRIBED_MARK.len()..]).into_owned()),
        ),
        None => (stdout, None),
    }
}

/// `stat -c 'STAT_FIELDS|%n'` lines, one per path that still exists, in `paths` order.
/// A name may hold `|` or a newline: each line is matched against the path it should
/// name, so a missing path never shifts the others.
pub fn parse_described(mut text: &str, paths: &[String]) -> Vec<Option<FileState>> {
    let fields = STAT_FIELDS.split('|').count();
    paths
        .iter()
        .map(|path| {
            let mut cut = text.splitn(fields + 1, '|');
            let head: Vec<&str> = cut.by_ref().take(fields).collect();
            let rest = cut.next()?;
            let after = rest.strip_prefix(path.as_str())?.strip_prefix('\n')?;
            let state = parse_stat(&head.join("|")).ok()?;
            text = after;
            Some(state)
        })
        .collect()
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

    #[test]
    fn described_states_follow_their_paths_past_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("a|b\nc");
        std::fs::write(&odd, b"12345").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let paths: Vec<String> = [odd.clone(), dir.path().join("gone"), dir.path().join("d")]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let quoted: Vec<String> = paths.iter().map(|p| quote(p)).collect();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo before; {}",
                describe_script(&quoted.join(" "))
            ))
            .output()
            .unwrap();
        let mut stdout = out.stdout;
        let states = take_described(&mut stdout, &paths);
        assert_eq!(stdout, b"before\n");
        assert_eq!(
            states[0].as_ref().map(|s| (s.kind, s.size)),
            Some((FileKind::File, 5))
        );
        assert!(states[1].is_none());
        assert_eq!(
            states[2].as_ref().map(|s| s.kind),
            Some(FileKind::Directory)
        );
    }

    #[test]
    fn a_new_file_gets_a_plain_mode_from_the_umask() {
        assert_eq!(creating_umask(Some("0644")).as_deref(), Some("133"));
        assert_eq!(creating_umask(Some("600")).as_deref(), Some("177"));
        assert_eq!(creating_umask(None).as_deref(), Some("022"));
        // Execute and special bits, symbolic modes: chmod sets them.
        assert_eq!(creating_umask(Some("0755")), None);
        assert_eq!(creating_umask(Some("04644")), None);
        assert_eq!(creating_umask(Some("u=rw,go=r")), None);
    }
}
