//! find: list files on the host by name, type, age, size, mode and content, with stat-like
//! keys for each match (`files`), plus `matched` and `examined`.
//!
//! One `find -printf` per path lists every entry (NUL-separated, in the directory's own
//! order), and the walk Ansible's module does with `os.walk` is replayed here on that
//! listing: per directory its non-directories first, then its directories, hidden
//! directories still walked, `depth` counted in path components. `contains` reads the
//! candidate files in one more round trip, `get_checksum` hashes the matches in another.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use indexmap::IndexMap;
use minijinja::Value;

pub struct Find;

static FIND: ModuleSpec = ModuleSpec {
    name: "find",
    aliases: &[],
    args: &[
        arg("paths", List).required().aliases(&["name", "path"]),
        arg("patterns", List).aliases(&["pattern"]),
        arg("excludes", List).aliases(&["exclude"]),
        arg("contains", Str),
        arg("read_whole_file", Bool),
        arg("file_type", Str).choices(&["any", "directory", "file", "link"]),
        arg("age", Str),
        arg("age_stamp", Str).choices(&["atime", "ctime", "mtime"]),
        arg("size", Str),
        arg("recurse", Bool),
        arg("hidden", Bool),
        arg("follow", Bool),
        arg("get_checksum", Bool),
        arg("checksum_algorithm", Str)
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
            .aliases(&["checksum", "checksum_algo"]),
        arg("use_regex", Bool),
        arg("depth", Int),
        arg("mode", Str),
        arg("exact_mode", Bool),
        arg("encoding", Str),
        arg("limit", Int),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// One entry of a `find -printf` listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// Type of the entry itself (`f`, `d`, `l`, …), as `lstat` sees it.
    pub kind: char,
    /// Is it a directory once symlinks are followed (`os.walk` files it under `dirs`)?
    pub is_dir: bool,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    pub atime: f64,
    pub mtime: f64,
    pub ctime: f64,
    /// Path relative to the searched directory.
    pub rel: String,
}

/// The `-printf` format: one NUL-terminated field each. The first field says whether
/// the entry itself is a symlink when `-L` follows links (then the other fields describe
/// the target), `%l` is the link's target (its length is the link's own size).
const FORMAT: &str =
    "%y\\0%Y\\0%m\\0%U\\0%G\\0%u\\0%g\\0%s\\0%i\\0%D\\0%n\\0%A@\\0%T@\\0%C@\\0%l\\0%P\\0";
const FIELDS: usize = 17;

/// Parse the listing of one path (marker + FORMAT fields per entry).
pub fn parse_listing(fields: &[&[u8]]) -> Vec<Entry> {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let num = |b: &[u8]| s(b).parse::<u64>().unwrap_or(0);
    let float = |b: &[u8]| s(b).parse::<f64>().unwrap_or(0.0);
    fields
        .chunks(FIELDS)
        .filter(|c| c.len() == FIELDS && !c[16].is_empty())
        .map(|c| {
            let link_itself = c[0] == b"L";
            let own = s(c[1]).chars().next().unwrap_or('U');
            let kind = if link_itself { 'l' } else { own };
            let owner = s(c[6]);
            let group = s(c[7]);
            let uid = num(c[4]);
            let gid = num(c[5]);
            Entry {
                kind,
                is_dir: c[2] == b"d",
                // A link's own mode and size (lstat), when -L described the target.
                mode: if link_itself {
                    0o777
                } else {
                    u32::from_str_radix(&s(c[3]), 8).unwrap_or(0)
                },
                // Python reports "" for an id without a name; find prints the number.
                owner: if owner == uid.to_string() {
                    String::new()
                } else {
                    owner
                },
                group: if group == gid.to_string() {
                    String::new()
                } else {
                    group
                },
                uid,
                gid,
                size: if link_itself {
                    c[15].len() as u64
                } else {
                    num(c[8])
                },
                inode: num(c[9]),
                dev: num(c[10]),
                nlink: num(c[11]),
                atime: float(c[12]),
                mtime: float(c[13]),
                ctime: float(c[14]),
                rel: s(c[16]),
            }
        })
        .collect()
}

/// Python's `fnmatch.fnmatch` on POSIX (case-sensitive, `*` matches a leading dot).
pub fn fnmatch_regex(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::from("(?s)^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    let mut class: String = chars[i..j].iter().collect();
                    i = j + 1;
                    let negate = class.starts_with('!');
                    if negate {
                        class.remove(0);
                    }
                    let body: String = class
                        .chars()
                        .map(|ch| match ch {
                            '\\' | '[' | ']' | '^' | '&' | '~' => format!("\\{ch}"),
                            _ => ch.to_string(),
                        })
                        .collect();
                    out.push('[');
                    if negate {
                        out.push('^');
                    }
                    out.push_str(&body);
                    out.push(']');
                }
            }
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

/// A name filter: glob (fnmatch) or Python regexp (`re.match`: anchored at the start).
struct NameFilter {
    patterns: Vec<regex::Regex>,
    excludes: Vec<regex::Regex>,
}

impl NameFilter {
    fn new(patterns: &[String], excludes: &[String], use_regex: bool) -> Result<Self> {
        let compile = |p: &String, what: &str| {
            let re = if use_regex {
                format!("^(?:{p})")
            } else {
                fnmatch_regex(p)
            };
            regex::Regex::new(&re).map_err(|e| {
                Error::module(format!("find: bad {what} '{p}': {e}")).with_help(
                    "use_regex patterns are Python regular expressions without look-around or backreferences",
                )
            })
        };
        Ok(NameFilter {
            patterns: patterns
                .iter()
                .map(|p| compile(p, "pattern"))
                .collect::<Result<_>>()?,
            excludes: excludes
                .iter()
                .map(|p| compile(p, "exclude"))
                .collect::<Result<_>>()?,
        })
    }

    /// Ansible's `pfilter`: a pattern must match, then no exclude may.
    fn matches(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(name))
            && !self.excludes.iter().any(|e| e.is_match(name))
    }
}

/// `age` and `size` as Ansible reads them: `-?N[unit]`.
pub fn parse_scaled(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.trim().to_lowercase();
    let (num, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], Some(c)),
        _ => (t.as_str(), None),
    };
    let digits = num.strip_prefix('-').unwrap_or(num);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = num.parse().ok()?;
    match unit {
        None => Some(n),
        Some(u) => units
            .iter()
            .find(|(c, _)| *c == u)
            .map(|(_, m)| n.saturating_mul(*m)),
    }
}

const AGE_UNITS: &[(char, i64)] = &[
    ('s', 1),
    ('m', 60),
    ('h', 3600),
    ('d', 86400),
    ('w', 604800),
];
const SIZE_UNITS: &[(char, i64)] = &[
    ('b', 1),
    ('k', 1024),
    ('m', 1024 * 1024),
    ('g', 1024 * 1024 * 1024),
    ('t', 1024 * 1024 * 1024 * 1024),
];

fn age_ok(e: &Entry, now: f64, age: Option<i64>, stamp: &str) -> bool {
    let Some(age) = age else { return true };
    let t = match stamp {
        "atime" => e.atime,
        "ctime" => e.ctime,
        _ => e.mtime,
    };
    let diff = now - t;
    if age >= 0 {
        diff >= age as f64
    } else {
        diff <= age.unsigned_abs() as f64
    }
}

fn size_ok(e: &Entry, size: Option<i64>) -> bool {
    match size {
        None => true,
        Some(s) if s >= 0 => e.size >= s as u64,
        Some(s) => e.size <= s.unsigned_abs(),
    }
}

fn mode_ok(e: &Entry, mode: Option<u32>, exact: bool) -> bool {
    match mode {
        None => true,
        Some(m) if exact => e.mode & 0o7777 == m,
        Some(m) => e.mode & m != 0,
    }
}

/// Python's `os.path.normpath` for the absolute or relative paths find is given.
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
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// What the walk needs to know about the search.
pub struct Criteria<'a> {
    names: &'a NameFilter,
    file_type: &'a str,
    age: Option<i64>,
    age_stamp: &'a str,
    size: Option<i64>,
    mode: Option<u32>,
    exact_mode: bool,
    recurse: bool,
    hidden: bool,
    follow: bool,
    depth: Option<i64>,
    now: f64,
}

/// Replay `os.walk` over one path's listing: the candidates in Ansible's order, and how
/// many entries the walk looked at.
fn walk(entries: &[Entry], c: &Criteria<'_>) -> (Vec<usize>, usize) {
    let mut children: IndexMap<&str, Vec<usize>> = IndexMap::new();
    for (i, e) in entries.iter().enumerate() {
        let parent = e.rel.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        children.entry(parent).or_default().push(i);
    }
    let mut out = Vec::new();
    let mut looked = 0usize;
    let mut stack: Vec<&str> = vec![""];
    // Depth-first, in order: a stack of directories still to walk, pushed reversed.
    while let Some(dir) = stack.pop() {
        let list = children.get(dir).cloned().unwrap_or_default();
        let (dirs, files): (Vec<usize>, Vec<usize>) =
            list.into_iter().partition(|i| entries[*i].is_dir);
        looked += dirs.len() + files.len();
        let mut prune = false;
        for &i in files.iter().chain(dirs.iter()) {
            let e = &entries[i];
            if let Some(d) = c.depth.filter(|d| *d != 0) {
                let depth = e.rel.split('/').count() as i64;
                if depth > d {
                    prune = true;
                    continue;
                }
            }
            let base = e.rel.rsplit('/').next().unwrap_or("");
            if base.starts_with('.') && !c.hidden {
                continue;
            }
            if candidate(e, base, c) {
                out.push(i);
            }
        }
        if !c.recurse {
            break;
        }
        if !prune {
            for &i in dirs.iter().rev() {
                let e = &entries[i];
                if e.kind != 'l' || c.follow {
                    stack.push(e.rel.as_str());
                }
            }
        }
    }
    (out, looked)
}

/// The filters of one entry but `contains` (which needs the file's text).
fn candidate(e: &Entry, base: &str, c: &Criteria<'_>) -> bool {
    let common = || {
        c.names.matches(base)
            && age_ok(e, c.now, c.age, c.age_stamp)
            && mode_ok(e, c.mode, c.exact_mode)
    };
    match c.file_type {
        "any" => common() && (e.kind != 'f' || size_ok(e, c.size)),
        "directory" => e.kind == 'd' && common(),
        "link" => e.kind == 'l' && common(),
        _ => e.kind == 'f' && common() && size_ok(e, c.size),
    }
}

fn statinfo(path: &str, e: &Entry) -> Vars {
    let m = e.mode;
    let b = |bit: u32| Value::from(m & bit != 0);
    let mut r = Vars::new();
    r.insert("path".into(), Value::from(path));
    for (k, v) in [
        ("mode", Value::from(format!("{:04o}", m & 0o7777))),
        ("isdir", Value::from(e.kind == 'd')),
        ("ischr", Value::from(e.kind == 'c')),
        ("isblk", Value::from(e.kind == 'b')),
        ("isreg", Value::from(e.kind == 'f')),
        ("isfifo", Value::from(e.kind == 'p')),
        ("islnk", Value::from(e.kind == 'l')),
        ("issock", Value::from(e.kind == 's')),
        ("uid", Value::from(e.uid)),
        ("gid", Value::from(e.gid)),
        ("size", Value::from(e.size)),
        ("inode", Value::from(e.inode)),
        ("dev", Value::from(e.dev)),
        ("nlink", Value::from(e.nlink)),
        ("atime", Value::from(e.atime)),
        ("mtime", Value::from(e.mtime)),
        ("ctime", Value::from(e.ctime)),
        ("gr_name", Value::from(e.group.as_str())),
        ("pw_name", Value::from(e.owner.as_str())),
        ("wusr", b(0o200)),
        ("rusr", b(0o400)),
        ("xusr", b(0o100)),
        ("wgrp", b(0o020)),
        ("rgrp", b(0o040)),
        ("xgrp", b(0o010)),
        ("woth", b(0o002)),
        ("roth", b(0o004)),
        ("xoth", b(0o001)),
        ("isuid", b(0o4000)),
        ("isgid", b(0o2000)),
    ] {
        r.insert(k.into(), v);
    }
    r
}

/// The listing script: the host's clock, then per path a status and its entries.
fn list_script(paths: &[String], follow: bool, maxdepth: Option<i64>) -> String {
    let l = if follow { "-L " } else { "" };
    let marker = if follow {
        "\\( -xtype l -printf 'L\\0' -o -printf 'N\\0' \\)"
    } else {
        "-printf 'N\\0'"
    };
    let depth = maxdepth
        .map(|d| format!("-maxdepth {d} "))
        .unwrap_or_default();
    let mut s = String::from("date +%s.%N; printf '\\0'\n");
    for p in paths {
        // `~` as Python's expanduser: the (become) user's home.
        let p = match p.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("\"$HOME\"{}", quote(rest))
            }
            _ => quote(p),
        };
        s.push_str(&format!(
            "p={p}; if [ -d \"$p\" ]; then printf 'DIR\\0'; find {l}\"$p\" -mindepth 1 {depth}{marker} -printf '{FORMAT}'; printf 'END\\0'; else printf 'NOTDIR\\0'; fi\n"
        ));
    }
    s
}

/// The files' contents in one round trip: per file its size, a NUL, then its bytes.
fn read_script(files: &[String]) -> String {
    let mut s = String::new();
    for f in files {
        s.push_str(&format!(
            "f={}; if [ -r \"$f\" ]; then wc -c < \"$f\" | tr -d ' \\n'; printf '\\0'; cat -- \"$f\"; else printf 'x\\0'; fi\n",
            quote(f)
        ));
    }
    s
}

/// Split `READ_SCRIPT` output into each file's bytes (`None`: unreadable).
fn split_contents(out: &[u8], n: usize) -> Vec<Option<Vec<u8>>> {
    let mut res = Vec::new();
    let mut pos = 0;
    for _ in 0..n {
        let Some(nul) = out[pos.min(out.len())..].iter().position(|b| *b == 0) else {
            res.push(None);
            continue;
        };
        let head = String::from_utf8_lossy(&out[pos..pos + nul]).into_owned();
        pos += nul + 1;
        match head.parse::<usize>() {
            Ok(len) => {
                let end = (pos + len).min(out.len());
                res.push(Some(out[pos..end].to_vec()));
                pos = end;
            }
            Err(_) => res.push(None),
        }
    }
    res
}

/// Does the text match `contains`, as Ansible's `contentfilter` (line by line with
/// `re.match`, or `re.search` over the whole file)? `Err` for text that is not UTF-8.
fn content_matches(
    re_line: &regex::Regex,
    re_whole: &regex::Regex,
    data: &[u8],
    whole: bool,
) -> std::result::Result<bool, ()> {
    let text = std::str::from_utf8(data).map_err(|_| ())?;
    if whole {
        return Ok(re_whole.is_match(text));
    }
    // Python's universal newlines: \n, \r\n and \r end lines. The line's end is left off
    // so that `$` matches before it, as Python's does.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Ok(text.split_inclusive('\n').any(|l| {
        let l = l.strip_suffix('\n').unwrap_or(l);
        re_line.is_match(l)
    }))
}

/// A list argument as Ansible's `type='list'` reads a string: split on commas, each part
/// kept as written (a path may end in a space).
fn untrimmed_list(args: &Args, name: &str) -> Result<Vec<String>> {
    match args.value(name) {
        Some(v) if v.kind() == minijinja::value::ValueKind::String => Ok(v
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect()),
        _ => args.str_list(name),
    }
}

impl Module for Find {
    fn spec(&self) -> &'static ModuleSpec {
        &FIND
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let paths = untrimmed_list(args, "paths")?;
        if paths.is_empty() {
            return Err(Error::module("missing required arguments: paths"));
        }
        let use_regex = args.bool("use_regex", false)?;
        let mut patterns = args.str_list("patterns")?;
        if patterns.is_empty() {
            patterns.push(if use_regex { ".*" } else { "*" }.into());
        }
        let excludes = args.str_list("excludes")?;
        let names = NameFilter::new(&patterns, &excludes, use_regex)?;
        if let Some(enc) = args.str("encoding")? {
            let e = enc.to_lowercase().replace(['-', '_'], "");
            if e != "utf8" {
                return Err(Error::module(format!(
                    "find: encoding '{enc}' is not supported (drover reads files as UTF-8)"
                ))
                .with_help("leave encoding out, or use encoding: utf-8"));
            }
        }
        let age = match args.str("age")? {
            Some(a) => Some(parse_scaled(&a, AGE_UNITS).ok_or_else(|| {
                Error::module(format!("failed to process age '{a}'")).with_help(
                    "age is a number with an optional unit s, m, h, d or w (-1d: newer than a day)",
                )
            })?),
            None => None,
        };
        let size = match args.str("size")? {
            Some(a) => Some(parse_scaled(&a, SIZE_UNITS).ok_or_else(|| {
                Error::module(format!("failed to process size '{a}'"))
                    .with_help("size is a number with an optional unit b, k, m, g or t (-1m: at most a megabyte)")
            })?),
            None => None,
        };
        let mode = match args.str("mode")? {
            Some(m) => Some(u32::from_str_radix(m.trim(), 8).map_err(|_| {
                Error::module(format!("find: mode '{m}' is not an octal mode"))
                    .with_help("drover's find takes octal modes such as '0644' (symbolic modes are not supported)")
            })? & 0o7777),
            None => None,
        };
        let limit = args.int("limit")?;
        if let Some(l) = limit.filter(|l| *l <= 0) {
            return Err(Error::module(format!(
                "limit cannot be {l} (use None for unlimited)"
            )));
        }
        let contains = args.str("contains")?;
        let contains_re = match &contains {
            Some(c) => {
                let bad = |e: regex::Error| Error::module(format!("find: bad contains '{c}': {e}"));
                Some((
                    regex::Regex::new(&format!("^(?:{c})")).map_err(bad)?,
                    regex::Regex::new(c).map_err(bad)?,
                ))
            }
            None => None,
        };
        let recurse = args.bool("recurse", false)?;
        let depth = args.int("depth")?;
        let follow = args.bool("follow", false)?;
        let file_type = args.str("file_type")?.unwrap_or_else(|| "file".into());
        let age_stamp = args.str("age_stamp")?.unwrap_or_else(|| "mtime".into());
        let maxdepth = if !recurse {
            Some(1)
        } else {
            depth.filter(|d| *d > 0).map(|d| d + 1)
        };
        let out = ctx.sh(&list_script(&paths, follow, maxdepth), None)?;
        let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        let now: f64 = fields
            .first()
            .and_then(|f| String::from_utf8_lossy(f).trim().parse().ok())
            .unwrap_or(0.0);
        let criteria = Criteria {
            names: &names,
            file_type: &file_type,
            age,
            age_stamp: &age_stamp,
            size,
            mode,
            exact_mode: args.bool("exact_mode", true)?,
            recurse,
            hidden: args.bool("hidden", false)?,
            follow,
            depth,
            now,
        };
        let stderr = out.stderr_str();
        let mut files: Vec<Value> = Vec::new();
        let mut skipped: Vars = Vars::new();
        let mut warnings: Vec<Value> = Vec::new();
        let mut looked = 0usize;
        let mut msg = "All paths examined";
        let mut pos = 1;
        let whole = args.bool("read_whole_file", false)?;
        for p in &paths {
            let status = fields.get(pos).copied().unwrap_or_default();
            pos += 1;
            if status != b"DIR" {
                let why = format!("'{p}' is not a directory");
                warnings.push(Value::from(format!(
                    "Skipped '{p}' path due to this access issue: {why}\n"
                )));
                skipped.insert(p.clone(), Value::from(why));
                continue;
            }
            let end = fields[pos..]
                .iter()
                .position(|f| *f == b"END")
                .map(|e| pos + e)
                .unwrap_or(fields.len());
            let entries = parse_listing(&fields[pos..end]);
            pos = end + 1;
            let root = normpath(p);
            let (cands, n) = walk(&entries, &criteria);
            looked += n;
            let full = |e: &Entry| {
                if root == "/" {
                    format!("/{}", e.rel)
                } else {
                    format!("{root}/{}", e.rel)
                }
            };
            // `contains` applies to regular files only (file_type: file), as Ansible's.
            let texts = match (&contains_re, file_type.as_str()) {
                (Some(_), "file") => {
                    let names: Vec<String> = cands.iter().map(|i| full(&entries[*i])).collect();
                    let o = ctx.sh(&read_script(&names), None)?;
                    Some(split_contents(&o.stdout, names.len()))
                }
                _ => None,
            };
            for (k, &i) in cands.iter().enumerate() {
                let e = &entries[i];
                let path = full(e);
                if let (Some((line, whole_re)), Some(texts)) = (&contains_re, &texts) {
                    match texts.get(k).cloned().flatten() {
                        // An unreadable file does not match (Ansible ignores the error).
                        None => continue,
                        Some(data) => match content_matches(line, whole_re, &data, whole) {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(()) => {
                                let why = format!("Failed to read the file {path} due to an encoding error. current encoding: None (default determined by the Python built-in function \"open\")");
                                warnings.push(Value::from(format!(
                                    "Skipped '{p}' path due to this access issue: {why}\n"
                                )));
                                skipped.insert(p.clone(), Value::from(why));
                                break;
                            }
                        },
                    }
                }
                files.push(Value::from_iter(statinfo(&path, e)));
                if limit.is_some_and(|l| files.len() as i64 == l) {
                    msg = "Limit of matches reached";
                    break;
                }
            }
            // Directories find could not read (os.walk's errors are recorded, not warned).
            for line in stderr.lines() {
                if let Some(rest) = line.strip_prefix("find: ") {
                    if let Some((q, why)) = rest.rsplit_once(": ") {
                        let q = q.trim_matches(|c| c == '‘' || c == '’' || c == '\'');
                        if q.starts_with(root.as_str()) && why == "Permission denied" {
                            skipped.insert(
                                q.to_string(),
                                Value::from(format!("[Errno 13] Permission denied: '{q}'")),
                            );
                        }
                    }
                }
            }
        }
        if args.bool("get_checksum", false)? {
            add_checksums(ctx, args, &mut files)?;
        }
        if !warnings.is_empty() {
            msg = "Not all paths examined, check warnings for details";
        }
        let mut r = Vars::new();
        r.insert("files".into(), Value::from(files.clone()));
        r.insert("msg".into(), Value::from(msg));
        r.insert("matched".into(), Value::from(files.len()));
        r.insert("examined".into(), Value::from(looked));
        r.insert("skipped_paths".into(), Value::from_iter(skipped));
        if !warnings.is_empty() {
            r.insert("warnings".into(), Value::from(warnings));
        }
        Ok(Plan::no_change(r))
    }
}

/// `get_checksum`: the digest of every regular file matched, in one round trip.
fn add_checksums(ctx: &mut ModuleCtx<'_>, args: &Args, files: &mut [Value]) -> Result<()> {
    let algo = args
        .str("checksum_algorithm")?
        .unwrap_or_else(|| "sha1".into());
    let tool = format!("{algo}sum");
    let regular: Vec<usize> = (0..files.len())
        .filter(|i| files[*i].get_attr("isreg").is_ok_and(|v| v.is_true()))
        .collect();
    if regular.is_empty() {
        return Ok(());
    }
    let mut script = String::new();
    for i in &regular {
        let path = files[*i]
            .get_attr("path")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        script.push_str(&format!(
            "{tool} < {} 2>/dev/null | cut -d' ' -f1 || echo\n",
            quote(&path)
        ));
    }
    let out = ctx.sh(&script, None)?.stdout_str();
    let sums: Vec<&str> = out.lines().collect();
    for (k, i) in regular.iter().enumerate() {
        let mut m: Vars = files[*i]
            .try_iter()
            .map(|keys| {
                keys.map(|key| {
                    let v = files[*i].get_item(&key).unwrap_or_default();
                    (key.as_str().unwrap_or_default().to_string(), v)
                })
                .collect()
            })
            .unwrap_or_default();
        m.insert(
            "checksum".into(),
            Value::from(sums.get(k).copied().unwrap_or_default()),
        );
        files[*i] = Value::from_iter(m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_fnmatch() {
        let m = |p: &str, s: &str| regex::Regex::new(&fnmatch_regex(p)).unwrap().is_match(s);
        assert!(m("*.conf", "a.conf"));
        assert!(m("*.conf", ".hidden.conf"));
        assert!(!m("*.conf", "a.conf.bak"));
        assert!(m("a?c", "abc"));
        assert!(m("[!x]*", "abc"));
        assert!(!m("[!a]*", "abc"));
        assert!(m("[a-c]x", "bx"));
        assert!(m("a[b", "a[b"));
        assert!(m("a.b", "a.b") && !m("a.b", "axb"));
    }

    #[test]
    fn regex_matches_at_the_start_only() {
        let f = NameFilter::new(&["conf".into()], &[], true).unwrap();
        assert!(f.matches("conf.d") && !f.matches("a.conf"));
        let f = NameFilter::new(&["*".into()], &["*.bak".into()], false).unwrap();
        assert!(f.matches("a") && !f.matches("a.bak"));
    }

    #[test]
    fn ages_and_sizes() {
        assert_eq!(parse_scaled("2d", AGE_UNITS), Some(172800));
        assert_eq!(parse_scaled("-1W", AGE_UNITS), Some(-604800));
        assert_eq!(parse_scaled("10", AGE_UNITS), Some(10));
        assert_eq!(parse_scaled("1x", AGE_UNITS), None);
        assert_eq!(parse_scaled("abc", SIZE_UNITS), None);
        assert_eq!(parse_scaled("3k", SIZE_UNITS), Some(3072));
    }

    #[test]
    fn normpaths() {
        assert_eq!(normpath("/a//b/"), "/a/b");
        assert_eq!(normpath("/"), "/");
        assert_eq!(normpath("a/./b/../c"), "a/c");
    }

    fn entry(rel: &str, kind: char) -> Entry {
        Entry {
            kind,
            is_dir: kind == 'd',
            mode: 0o644,
            rel: rel.into(),
            ..Entry::default()
        }
    }

    #[test]
    fn walks_like_os_walk() {
        // find's order: d1 (and its content), f1, .h (hidden dir), d1 sorted by readdir.
        let entries = vec![
            entry("d1", 'd'),
            entry("d1/x", 'f'),
            entry("d1/d2", 'd'),
            entry("d1/d2/y", 'f'),
            entry("f1", 'f'),
            entry(".h", 'd'),
            entry(".h/z", 'f'),
        ];
        let names = NameFilter::new(&["*".into()], &[], false).unwrap();
        let mut c = Criteria {
            names: &names,
            file_type: "file",
            age: None,
            age_stamp: "mtime",
            size: None,
            mode: None,
            exact_mode: true,
            recurse: true,
            hidden: false,
            follow: false,
            depth: None,
            now: 0.0,
        };
        let (found, looked) = walk(&entries, &c);
        let rels: Vec<&str> = found.iter().map(|i| entries[*i].rel.as_str()).collect();
        // Top files, then d1's, then d2's, then the hidden directory's (still walked).
        assert_eq!(rels, ["f1", "d1/x", "d1/d2/y", ".h/z"]);
        assert_eq!(looked, 7);
        c.depth = Some(1);
        let (found, looked) = walk(&entries, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(looked, 3 + 2 + 1);
        c.recurse = false;
        c.depth = None;
        c.file_type = "any";
        let (found, looked) = walk(&entries, &c);
        let rels: Vec<&str> = found.iter().map(|i| entries[*i].rel.as_str()).collect();
        assert_eq!(rels, ["f1", "d1"]);
        assert_eq!(looked, 3);
    }

    #[test]
    fn contents_split_and_matched() {
        let out = b"5\0hello2\0hix\0";
        let parts = split_contents(out, 3);
        assert_eq!(parts[0].as_deref(), Some(&b"hello"[..]));
        assert_eq!(parts[1].as_deref(), Some(&b"hi"[..]));
        assert_eq!(parts[2], None);
        let line = regex::Regex::new("^(?:port=)").unwrap();
        let whole = regex::Regex::new("port=").unwrap();
        assert_eq!(
            content_matches(&line, &whole, b"a\nport=1\n", false),
            Ok(true)
        );
        assert_eq!(
            content_matches(&line, &whole, b"a port=1\n", false),
            Ok(false)
        );
        assert_eq!(
            content_matches(&line, &whole, b"a port=1\n", true),
            Ok(true)
        );
        assert!(content_matches(&line, &whole, b"\xff\xfe", false).is_err());
    }

    #[test]
    fn parses_a_real_listing() {
        let dir = ::tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "abc").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("a.txt", dir.path().join("ln")).unwrap();
        let script = list_script(&[dir.path().display().to_string()], false, None);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        assert_eq!(fields[1], b"DIR");
        let end = fields.iter().position(|f| *f == b"END").unwrap();
        let mut entries = parse_listing(&fields[2..end]);
        entries.sort_by(|a, b| a.rel.cmp(&b.rel));
        let kinds: Vec<(String, char, u64)> = entries
            .iter()
            .map(|e| (e.rel.clone(), e.kind, e.size))
            .collect();
        assert_eq!(kinds[0], ("a.txt".into(), 'f', 3));
        assert_eq!(kinds[1].1, 'l');
        assert_eq!(kinds[2].1, 'd');
        assert!(entries[2].is_dir);
    }
}
