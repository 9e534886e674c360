//! authorized_key (ansible.posix): keys in ~USER/.ssh/authorized_keys, parsed and written
//! as Ansible does (options, comments, order, `exclusive`), atomically.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct AuthorizedKey;

static SPEC: ModuleSpec = ModuleSpec {
    name: "authorized_key",
    aliases: &["ansible.posix.authorized_key"],
    args: &[
        arg("user", Str).required(),
        arg("key", Str).required(),
        arg("path", Str),
        arg("manage_dir", Bool),
        arg("state", Str).choices(&["present", "absent"]),
        arg("key_options", Str),
        arg("exclusive", Bool),
        arg("comment", Str),
        arg("validate_certs", Bool),
        arg("follow", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "ssh-ed25519",
    "ssh-dss",
    "ssh-rsa",
];

/// One line of the file: a key (by its base64 blob) or a line kept as it is.
#[derive(Clone, Debug, PartialEq)]
enum Entry {
    Key {
        blob: String,
        kind: String,
        options: Vec<(String, Option<String>)>,
        comment: String,
        rank: usize,
    },
    Kept {
        line: String,
        rank: usize,
    },
}

impl Entry {
    fn id(&self) -> &str {
        match self {
            Entry::Key { blob, .. } => blob,
            Entry::Kept { line, .. } => line,
        }
    }
    fn rank(&self) -> usize {
        match self {
            Entry::Key { rank, .. } | Entry::Kept { rank, .. } => *rank,
        }
    }
    fn with_rank(mut self, r: usize) -> Self {
        match &mut self {
            Entry::Key { rank, .. } | Entry::Kept { rank, .. } => *rank = r,
        }
        self
    }
    /// Everything but the rank (Ansible compares `[:4]`).
    fn same(&self, o: &Entry) -> bool {
        self.clone().with_rank(0) == o.clone().with_rank(0)
    }
}

/// Split options on commas outside quotes (Ansible's parseoptions).
fn parse_options(s: &str) -> Vec<(String, Option<String>)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote_char: Option<char> = None;
    for c in s.chars() {
        match (quote_char, c) {
            (None, '"' | '\'') => {
                quote_char = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote_char = None;
                cur.push(c);
            }
            (None, ',') => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p, None),
        })
        .collect()
}

fn parse_key(raw: &str, rank: usize) -> Option<Entry> {
    let raw = raw.replace("\\#", "#");
    let parts: Vec<&str> = raw.split_whitespace().collect();
    if parts.first() == Some(&"#") {
        return Some(Entry::Kept { line: raw, rank });
    }
    let ti = parts.iter().position(|p| KEY_TYPES.contains(p))?;
    let options = if ti > 0 {
        parse_options(&parts[..ti].join(" "))
    } else {
        Vec::new()
    };
    let blob = parts.get(ti + 1)?.to_string();
    let comment = parts.get(ti + 2..).map(|c| c.join(" ")).unwrap_or_default();
    Some(Entry::Key {
        blob,
        kind: parts[ti].to_string(),
        options,
        comment,
        rank,
    })
}

/// The file's entries keyed by id, in file order (a later duplicate replaces an earlier
/// one in place, as a Python dict does).
fn parse_file(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let e = parse_key(line, i).unwrap_or(Entry::Kept {
            line: line.to_string(),
            rank: i,
        });
        match out.iter_mut().find(|x| x.id() == e.id()) {
            Some(slot) => *slot = e,
            None => out.push(e),
        }
    }
    out
}

fn serialize(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.rank());
    let mut out = String::new();
    for e in sorted {
        match e {
            Entry::Kept { line, .. } => out.push_str(line),
            Entry::Key {
                blob,
                kind,
                options,
                comment,
                ..
            } => {
                let mut opt = options
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => format!("{k}={v}"),
                        None => k.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                if !opt.is_empty() {
                    opt.push(' ');
                }
                out.push_str(&format!("{opt}{kind} {blob} {comment}\n"));
            }
        }
    }
    out
}

fn query_script(user: &str, path: Option<&str>) -> String {
    let p = match path {
        Some(p) => quote(p),
        None => "\"$h/.ssh/authorized_keys\"".into(),
    };
    format!(
        "e=$(getent passwd {u}) || {{ echo @nouser; exit 0; }}\n\
         h=$(printf '%s' \"$e\" | cut -d: -f6); echo \"@ids $(printf '%s' \"$e\" | cut -d: -f3,4)\"\n\
         p={p}; echo \"@path $p\"\nif [ -f \"$p\" ]; then echo @file; cat -- \"$p\"; fi",
        u = quote(user)
    )
}

impl Module for AuthorizedKey {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match (args.str("user"), args.str("path")) {
            (Ok(Some(u)), Ok(p)) => vec![Probe::Query {
                script: query_script(&u, p.as_deref()),
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let user = args.req_str("user")?;
        let mut key = args.req_str("key")?;
        let path = args.str("path")?;
        let present = args.str("state")?.as_deref() != Some("absent");
        let exclusive = args.bool("exclusive", false)?;
        let manage_dir = args.bool("manage_dir", true)?;
        let key_options = args.str("key_options")?;
        let comment = args.str("comment")?;
        if args.bool("follow", false)? {
            return Err(
                Error::module("authorized_key follow is not supported by drover yet")
                    .with_help("give the link's target as path"),
            );
        }
        if key.starts_with("http") {
            let out = ctx.sh(&super::repo::fetch_script(&key, 10), None)?;
            use base64::Engine;
            let data = base64::engine::general_purpose::STANDARD
                .decode(out.stdout_str().trim())
                .unwrap_or_default();
            if out.rc != 0 || data.is_empty() {
                return Err(
                    Error::module(format!("Error getting key from: {key}")).with_help(
                        "check the URL from the host (curl or wget must be installed there)",
                    ),
                );
            }
            key = String::from_utf8_lossy(&data).into_owned();
        }
        let out = ctx.query(&query_script(&user, path.as_deref()))?;
        if out.trim() == "@nouser" {
            return Err(Error::module(format!(
                "Failed to lookup user {user}: no such user on this host"
            ))
            .with_help("create the user first (user: module) or check the name"));
        }
        let mut ids = String::new();
        let mut keyfile = String::new();
        let mut existing = String::new();
        let mut rest = out.as_str();
        while let Some((line, tail)) = rest.split_once('\n') {
            if let Some(v) = line.strip_prefix("@ids ") {
                ids = v.to_string();
            } else if let Some(v) = line.strip_prefix("@path ") {
                keyfile = v.to_string();
            } else if line == "@file" {
                existing = tail.to_string();
                break;
            }
            rest = tail;
        }
        let mut entries = parse_file(&existing);
        let max_rank = entries.len();
        let mut do_write = false;
        let mut keep: Vec<String> = Vec::new();
        let new_keys: Vec<&str> = key
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        for (rank, nk) in new_keys.iter().enumerate() {
            let Some(Entry::Key {
                blob,
                kind,
                options,
                comment: c,
                ..
            }) = parse_key(nk, rank)
            else {
                return Err(Error::module(format!("invalid key specified: {nk}"))
                    .with_help("a key line is [options] TYPE BASE64 [comment], TYPE one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 …"));
            };
            let parsed = Entry::Key {
                blob: blob.clone(),
                kind,
                options: match &key_options {
                    Some(o) => parse_options(o),
                    None => options,
                },
                comment: comment.clone().unwrap_or(c),
                rank,
            };
            let pos = entries.iter().position(|e| e.id() == blob);
            let matched = match pos {
                Some(i) => !present || entries[i].same(&parsed),
                None => false,
            };
            if present {
                keep.push(blob.clone());
                if let (Some(i), false) = (pos, matched) {
                    entries.remove(i);
                    do_write = true;
                }
                if !matched {
                    entries.push(parsed.with_rank(max_rank + rank));
                    do_write = true;
                }
            } else if matched {
                if let Some(i) = pos {
                    entries.remove(i);
                    do_write = true;
                }
            }
        }
        if present && exclusive {
            let before = entries.len();
            entries.retain(|e| keep.iter().any(|k| k == e.id()));
            do_write |= entries.len() != before;
        }
        let mut result = Vars::new();
        for (k, v) in [
            ("user", Value::from(user.as_str())),
            ("key", Value::from(key.as_str())),
            ("keyfile", Value::from(keyfile.as_str())),
            (
                "state",
                Value::from(if present { "present" } else { "absent" }),
            ),
            ("exclusive", Value::from(exclusive)),
            ("manage_dir", Value::from(manage_dir)),
            ("key_options", Value::from(key_options.clone())),
            ("comment", Value::from(comment.clone())),
            ("path", Value::from(path.clone())),
            (
                "validate_certs",
                Value::from(args.bool("validate_certs", true)?),
            ),
            ("follow", Value::from(args.bool("follow", false)?)),
        ] {
            result.insert(k.into(), v);
        }
        if !do_write {
            return Ok(Plan::no_change(result));
        }
        let new_content = serialize(&entries);
        let diff = Diff {
            before_header: keyfile.clone(),
            after_header: keyfile.clone(),
            before: existing.clone(),
            after: new_content.clone(),
        };
        if ctx.diff {
            // Ansible's result carries the diff it shows.
            result.insert(
                "diff".into(),
                Value::from_serialize(serde_json::json!({
                    "before_header": diff.before_header,
                    "after_header": diff.after_header,
                    "before": diff.before,
                    "after": diff.after,
                })),
            );
        }
        let (uid, gid) = ids.split_once(':').unwrap_or(("0", "0"));
        let (uid, gid) = (uid.to_string(), gid.to_string());
        let dir = keyfile
            .rsplit_once('/')
            .map(|(d, _)| if d.is_empty() { "/" } else { d })
            .unwrap_or(".")
            .to_string();
        let is_default_path = path.is_none();
        let kf = keyfile.clone();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let d = quote(&dir);
            let prep = if manage_dir {
                format!("mkdir -p -m 0700 {d} && chown {uid}:{gid} {d} && chmod 0700 {d}")
            } else if is_default_path {
                format!("[ -d {d} ] || mkdir -p {d}")
            } else {
                format!("mkdir -p {d}")
            };
            let out = ctx.sh(&prep, None)?;
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "Failed to create directory {dir} : {}",
                    out.stderr_str().trim()
                )));
            }
            let attrs = crate::connection::PutAttrs {
                make_parents: false,
                mode: Some("0600".into()),
                owner: Some(uid.clone()),
                group: Some(gid.clone()),
                ..Default::default()
            };
            ctx.put_file(&kf, new_content.as_bytes(), &attrs)?;
            Ok(Vars::new())
        });
        Ok(
            Plan::change(Change::Modify(vec!["keys".into()]), result, apply)
                .with_diff(Some(diff))
                .touching(vec![keyfile]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_keys_like_ansible() {
        let e = parse_key("no-pty,command=\"a,b\" ssh-ed25519 AAAA me@x", 0).unwrap();
        assert_eq!(
            serialize(&[e]),
            "no-pty,command=\"a,b\" ssh-ed25519 AAAA me@x\n"
        );
        let e = parse_key("ssh-rsa BBBB", 1).unwrap();
        assert_eq!(
            serialize(&[e]),
            "ssh-rsa BBBB \n",
            "Ansible's trailing space"
        );
        assert!(parse_key("garbage", 0).is_none());
        let f = parse_file("# c\nssh-rsa A x\nssh-rsa A y\n");
        assert_eq!(f.len(), 2);
        assert_eq!(serialize(&f), "# c\nssh-rsa A y\n");
    }
}
