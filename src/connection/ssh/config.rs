//! The part of ssh_config(5) drover understands: `Host` blocks (patterns with `*`, `?`
//! and `!negation`), `Match all|host|originalhost`, `Include` (with a `*` glob in the
//! file name), and the keywords in [`HostConfig`]. As in OpenSSH the first obtained value
//! of a keyword wins (`IdentityFile` accumulates), keywords are case-insensitive, `Key
//! value` and `Key=value` both work and arguments may be quoted. Other keywords are
//! ignored; a `Match` criterion drover does not know makes its block never match.

use std::path::{Path, PathBuf};

/// What ssh_config says about one host. `None` means "not set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    /// Raw `ProxyJump` value (`none` kept as is: it disables jumping).
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    pub connect_timeout: Option<u64>,
    pub server_alive_interval: Option<u64>,
    pub server_alive_count_max: Option<u32>,
    pub user_known_hosts_files: Option<Vec<String>>,
    pub global_known_hosts_files: Option<Vec<String>>,
    pub host_key_alias: Option<String>,
    pub hash_known_hosts: Option<bool>,
    /// `StrictHostKeyChecking`: `yes`/`ask` strict, `accept-new`, `no`/`off` off.
    pub strict_host_key_checking: Option<super::HostKeyChecking>,
}

/// A parsed configuration: blocks in file order.
#[derive(Clone, Debug, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

#[derive(Clone, Debug)]
enum Condition {
    /// `Host p1 p2 !p3`: some positive pattern matches and no negated one does.
    Host(Vec<String>),
    /// `Match host a,b`: against the HostName obtained so far (or the name).
    MatchHost(Vec<String>),
    /// `Match originalhost a,b`: against the name as given.
    MatchOriginalHost(Vec<String>),
    /// A `Match` criterion drover does not support.
    Never,
}

#[derive(Clone, Debug, Default)]
struct Block {
    /// All must hold; empty = every host (lines before the first `Host`).
    conds: Vec<Condition>,
    options: Vec<Opt>,
}

#[derive(Clone, Debug)]
struct Opt {
    key: String,
    args: Vec<String>,
}

/// Nesting limit for `Include`, as OpenSSH's.
const MAX_INCLUDE_DEPTH: usize = 16;

impl SshConfig {
    /// Read a config file. `include_base` is where relative `Include` paths are looked
    /// up (`~/.ssh` for a user's file, `/etc/ssh` for the system one).
    pub fn load(path: &Path, include_base: &Path) -> Result<SshConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read ssh config {}: {e}", path.display()))?;
        let mut cfg = SshConfig::default();
        cfg.parse_into(&text, path, include_base, &[], 0)?;
        Ok(cfg)
    }

    /// Options that apply to every host, ahead of everything else (command-line `-o`).
    pub fn from_options(opts: &[(String, String)]) -> Result<SshConfig, String> {
        let mut block = Block::default();
        for (k, v) in opts {
            let key = k.to_ascii_lowercase();
            let args = split_args(v).map_err(|e| format!("-o {k}: {e}"))?;
            validate(&key, &args).map_err(|e| format!("-o {k}={v}: {e}"))?;
            block.options.push(Opt { key, args });
        }
        Ok(SshConfig {
            blocks: vec![block],
        })
    }

    /// Parse config text (tests); `Include` is resolved against `include_base`.
    #[cfg(test)]
    pub fn parse(text: &str, file: &Path, include_base: &Path) -> Result<SshConfig, String> {
        let mut cfg = SshConfig::default();
        cfg.parse_into(text, file, include_base, &[], 0)?;
        Ok(cfg)
    }

    /// This config followed by `other` (earlier values win).
    pub fn then(mut self, other: &SshConfig) -> SshConfig {
        self.blocks.extend(other.blocks.iter().cloned());
        self
    }

    fn parse_into(
        &mut self,
        text: &str,
        file: &Path,
        include_base: &Path,
        inherited: &[Condition],
        depth: usize,
    ) -> Result<(), String> {
        let at = |n: usize, msg: String| format!("{}:{}: {msg}", file.display(), n + 1);
        // Lines of an included file start in a block with the includer's conditions.
        self.blocks.push(Block {
            conds: inherited.to_vec(),
            options: Vec::new(),
        });
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = split_keyword(line);
            let key = keyword.to_ascii_lowercase();
            let args = split_args(rest).map_err(|e| at(n, e))?;
            match key.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(at(n, "Host needs at least one pattern".into()));
                    }
                    let mut conds = inherited.to_vec();
                    conds.push(Condition::Host(args));
                    self.blocks.push(Block {
                        conds,
                        options: Vec::new(),
                    });
                }
                "match" => {
                    let mut conds = inherited.to_vec();
                    conds.extend(parse_match(&args).map_err(|e| at(n, e))?);
                    self.blocks.push(Block {
                        conds,
                        options: Vec::new(),
                    });
                }
                "include" => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(at(n, "Include nested too deeply".into()));
                    }
                    let current = self
                        .blocks
                        .last()
                        .map(|b| b.conds.clone())
                        .unwrap_or_default();
                    for pattern in &args {
                        for path in expand_include(pattern, include_base) {
                            let text = std::fs::read_to_string(&path).map_err(|e| {
                                at(n, format!("cannot read included {}: {e}", path.display()))
                            })?;
                            self.parse_into(&text, &path, include_base, &current, depth + 1)?;
                        }
                    }
                    // What follows the Include belongs to the block it was in.
                    self.blocks.push(Block {
                        conds: current,
                        options: Vec::new(),
                    });
                }
                _ => {
                    validate(&key, &args).map_err(|e| at(n, format!("{keyword}: {e}")))?;
                    if let Some(b) = self.blocks.last_mut() {
                        b.options.push(Opt { key, args });
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything the config says about `name` (the host as given to ssh).
    pub fn lookup(&self, name: &str) -> HostConfig {
        let name = name.to_ascii_lowercase();
        let mut hc = HostConfig::default();
        for block in &self.blocks {
            let current = hc.hostname.clone().unwrap_or_else(|| name.clone());
            if block.conds.iter().all(|c| c.holds(&name, &current)) {
                for opt in &block.options {
                    apply(&mut hc, opt);
                }
            }
        }
        hc
    }
}

impl Condition {
    fn holds(&self, original: &str, current: &str) -> bool {
        match self {
            Condition::Host(patterns) => match_list(original, patterns),
            Condition::MatchHost(patterns) => match_list(&current.to_ascii_lowercase(), patterns),
            Condition::MatchOriginalHost(patterns) => match_list(original, patterns),
            Condition::Never => false,
        }
    }
}

/// `Match` criteria: `all`, `host LIST`, `originalhost LIST`; others never match.
fn parse_match(args: &[String]) -> Result<Vec<Condition>, String> {
    if args.is_empty() {
        return Err("Match needs a criterion".into());
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let crit = args[i].to_ascii_lowercase();
        match crit.as_str() {
            "all" => {}
            "host" | "originalhost" => {
                let list = args
                    .get(i + 1)
                    .ok_or_else(|| format!("Match {crit} needs a pattern list"))?;
                let pats: Vec<String> = list.split(',').map(str::to_string).collect();
                out.push(if crit == "host" {
                    Condition::MatchHost(pats)
                } else {
                    Condition::MatchOriginalHost(pats)
                });
                i += 1;
            }
            "canonical" | "final" => out.push(Condition::Never),
            _ => {
                out.push(Condition::Never);
                i += 1; // the criterion's argument
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Some positive pattern matches and no negated one does.
fn match_list(name: &str, patterns: &[String]) -> bool {
    let mut hit = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob_match(&neg.to_ascii_lowercase(), name) {
                return false;
            }
        } else if glob_match(&p.to_ascii_lowercase(), name) {
            hit = true;
        }
    }
    hit
}

/// OpenSSH's `match_pattern`: `*` any run of characters, `?` exactly one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Split `Key value`, `Key=value` and `Key = value`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = &line[..end];
    let mut rest = line[end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    (keyword, rest)
}

/// OpenSSH's argument splitting: whitespace-separated words, `"…"` and `'…'` quoting,
/// backslash escapes, and an unquoted `#` at the start of a word ends the line.
pub fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('#') => break,
            _ => {}
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"' | '\'') => {
                    quote = Some(c);
                    chars.next();
                }
                (Some(q), c) if c == q => {
                    quote = None;
                    chars.next();
                }
                (_, '\\') => {
                    chars.next();
                    match chars.next() {
                        Some(n @ ('\\' | '"' | '\'' | ' ')) => word.push(n),
                        Some(n) => {
                            word.push('\\');
                            word.push(n);
                        }
                        None => word.push('\\'),
                    }
                }
                _ => {
                    word.push(c);
                    chars.next();
                }
            }
        }
        if quote.is_some() {
            return Err("unterminated quote".into());
        }
        out.push(word);
    }
    Ok(out)
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        other => Err(format!("expected yes or no, got '{other}'")),
    }
}

fn parse_port(v: &str) -> Result<u16, String> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("'{v}' is not a port number")),
    }
}

fn parse_secs(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| format!("'{v}' is not a number of seconds"))
}

/// Check the value of a keyword drover uses, so a typo fails with file:line.
fn validate(key: &str, args: &[String]) -> Result<(), String> {
    let first = || args.first().ok_or_else(|| "missing argument".to_string());
    match key {
        "hostname" | "user" | "identityfile" | "proxyjump" | "hostkeyalias" => {
            first()?;
        }
        "port" => {
            parse_port(first()?)?;
        }
        "identitiesonly" | "hashknownhosts" => {
            parse_yes_no(first()?)?;
        }
        "connecttimeout" | "serveraliveinterval" => {
            let v = first()?;
            if !v.eq_ignore_ascii_case("none") {
                parse_secs(v)?;
            }
        }
        "serveralivecountmax" => {
            let v = first()?;
            v.parse::<u32>()
                .map_err(|_| format!("'{v}' is not a number"))?;
        }
        "userknownhostsfile" | "globalknownhostsfile" | "proxycommand" => {
            first()?;
        }
        "stricthostkeychecking" => {
            parse_strict_host_key_checking(first()?)?;
        }
        _ => {}
    }
    Ok(())
}

/// OpenSSH's `StrictHostKeyChecking` values. `ask` cannot ask during a run: strict. `no`
/// accepts an unknown key and records it when it can, as OpenSSH; a changed key is
/// refused whatever the setting.
fn parse_strict_host_key_checking(v: &str) -> Result<super::HostKeyChecking, String> {
    use super::HostKeyChecking as H;
    match v.to_ascii_lowercase().as_str() {
        "yes" | "ask" | "true" => Ok(H::Strict),
        "accept-new" => Ok(H::AcceptNew),
        "no" | "off" | "false" => Ok(H::No),
        _ => Err(format!(
            "StrictHostKeyChecking '{v}' is not yes, accept-new, no, off or ask"
        )),
    }
}

/// Record a keyword unless an earlier block already set it (IdentityFile accumulates).
fn apply(hc: &mut HostConfig, opt: &Opt) {
    let Some(first) = opt.args.first().cloned() else {
        return;
    };
    fn set<T>(slot: &mut Option<T>, v: Option<T>) {
        if slot.is_none() {
            *slot = v;
        }
    }
    match opt.key.as_str() {
        "hostname" => set(&mut hc.hostname, Some(first)),
        "user" => set(&mut hc.user, Some(first)),
        "port" => set(&mut hc.port, parse_port(&first).ok()),
        "identityfile" if !hc.identity_files.contains(&first) => hc.identity_files.push(first),
        "identitiesonly" => set(&mut hc.identities_only, parse_yes_no(&first).ok()),
        "proxyjump" => set(&mut hc.proxy_jump, Some(first)),
        "proxycommand" => set(&mut hc.proxy_command, Some(opt.args.join(" "))),
        "connecttimeout" => set(&mut hc.connect_timeout, parse_secs(&first).ok()),
        "serveraliveinterval" => set(&mut hc.server_alive_interval, parse_secs(&first).ok()),
        "serveralivecountmax" => set(&mut hc.server_alive_count_max, first.parse().ok()),
        "userknownhostsfile" => set(&mut hc.user_known_hosts_files, Some(opt.args.clone())),
        "globalknownhostsfile" => set(&mut hc.global_known_hosts_files, Some(opt.args.clone())),
        "hostkeyalias" => set(&mut hc.host_key_alias, Some(first)),
        "hashknownhosts" => set(&mut hc.hash_known_hosts, parse_yes_no(&first).ok()),
        "stricthostkeychecking" => set(
            &mut hc.strict_host_key_checking,
            parse_strict_host_key_checking(&first).ok(),
        ),
        _ => {}
    }
}

/// Files named by one `Include` argument: `~` expanded, relative to `base`, and a glob
/// (`*`, `?`) allowed in the file name; sorted, as glob(3) returns them.
fn expand_include(pattern: &str, base: &Path) -> Vec<PathBuf> {
    let expanded = expand_tilde(pattern);
    let path = if Path::new(&expanded).is_absolute() {
        PathBuf::from(expanded)
    } else {
        base.join(expanded)
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return if path.is_file() { vec![path] } else { vec![] };
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| glob_match(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The user's home directory ($HOME, else the password database).
pub fn home_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy out at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_dir.is_null() {
            let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
            return PathBuf::from(dir.to_string_lossy().into_owned());
        }
    }
    PathBuf::from("/")
}

/// `~` and `~/…` become the home directory.
pub fn expand_tilde(p: &str) -> String {
    if p == "~" {
        return home_dir().to_string_lossy().into_owned();
    }
    if let Some(rest) = p.strip_prefix("~/") {
        return home_dir().join(rest).to_string_lossy().into_owned();
    }
    p.to_string()
}

/// Values for the `%` tokens of IdentityFile, UserKnownHostsFile and friends.
pub struct Tokens<'a> {
    /// %h: the remote host name (after HostName).
    pub host: &'a str,
    /// %n: the name as given.
    pub original: &'a str,
    /// %p
    pub port: u16,
    /// %r: the remote user.
    pub remote_user: &'a str,
    /// %u: the local user.
    pub local_user: &'a str,
}

/// Expand `~` and the `%h %n %p %r %u %d %%` tokens; unknown tokens are kept.
pub fn expand_tokens(s: &str, t: &Tokens<'_>) -> String {
    let s = expand_tilde(s);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(t.host),
            Some('n') => out.push_str(t.original),
            Some('p') => out.push_str(&t.port.to_string()),
            Some('r') => out.push_str(t.remote_user),
            Some('u') => out.push_str(t.local_user),
            Some('d') => out.push_str(&home_dir().to_string_lossy()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> SshConfig {
        SshConfig::parse(text, Path::new("test_config"), Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let c = cfg("Host web*\n  User alice\n  IdentityFile ~/.ssh/web\n\
             Host *\n  User bob\n  Port 2222\n  IdentityFile ~/.ssh/id_all\n");
        let h = c.lookup("web1");
        assert_eq!(h.user.as_deref(), Some("alice"));
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.identity_files, ["~/.ssh/web", "~/.ssh/id_all"]);
        let h = c.lookup("db1");
        assert_eq!(h.user.as_deref(), Some("bob"));
        assert_eq!(h.identity_files, ["~/.ssh/id_all"]);
    }

    #[test]
    fn patterns_question_mark_and_negation() {
        let c = cfg("Host web? !web3\n  HostName %h.example.com\nHost *\n  HostName fallback\n");
        assert_eq!(c.lookup("web1").hostname.as_deref(), Some("%h.example.com"));
        assert_eq!(c.lookup("web3").hostname.as_deref(), Some("fallback"));
        assert_eq!(c.lookup("web10").hostname.as_deref(), Some("fallback"));
        // Host names are matched case-insensitively, as ssh lower-cases them.
        assert_eq!(c.lookup("WEB2").hostname.as_deref(), Some("%h.example.com"));
        // A block of negations alone never matches.
        let c = cfg("Host !a\n  User x\n");
        assert_eq!(c.lookup("b").user, None);
    }

    #[test]
    fn glob() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("10.0.?.*", "10.0.1.77"));
        assert!(!glob_match("10.0.?.*", "10.0.11.77"));
        assert!(glob_match("*.example.com", "a.b.example.com"));
    }

    #[test]
    fn equals_quotes_comments_and_case() {
        let c = cfg(
            "# comment\nHOST=db\n  port = 2200\n  user=\"svc user\" # trailing\n  \
             IDENTITYFILE '/k/my key'\n  ProxyJump bastion1,bastion2\n  \
             ConnectTimeout 7\n  ServerAliveInterval 5\n  ServerAliveCountMax 2\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile /a /b\n  HostKeyAlias dbkey\n",
        );
        let h = c.lookup("db");
        assert_eq!(h.port, Some(2200));
        assert_eq!(h.user.as_deref(), Some("svc user"));
        assert_eq!(h.identity_files, ["/k/my key"]);
        assert_eq!(h.proxy_jump.as_deref(), Some("bastion1,bastion2"));
        assert_eq!(h.connect_timeout, Some(7));
        assert_eq!(h.server_alive_interval, Some(5));
        assert_eq!(h.server_alive_count_max, Some(2));
        assert_eq!(h.identities_only, Some(true));
        assert_eq!(
            h.user_known_hosts_files,
            Some(vec!["/a".to_string(), "/b".to_string()])
        );
        assert_eq!(h.host_key_alias.as_deref(), Some("dbkey"));
    }

    #[test]
    fn options_before_any_host_apply_to_all() {
        let c = cfg("User global\nHost x\n  User local\n");
        assert_eq!(c.lookup("x").user.as_deref(), Some("global"));
        assert_eq!(c.lookup("y").user.as_deref(), Some("global"));
    }

    #[test]
    fn match_blocks() {
        let c = cfg(
            "Host alias\n  HostName real.example\nMatch host real.*\n  User r\n\
             Match originalhost alias\n  Port 1022\nMatch exec \"true\"\n  IdentityFile x\n\
             Match all\n  IdentitiesOnly no\n",
        );
        let h = c.lookup("alias");
        assert_eq!(h.user.as_deref(), Some("r"));
        assert_eq!(h.port, Some(1022));
        assert!(
            h.identity_files.is_empty(),
            "Match exec is unsupported: never matches"
        );
        assert_eq!(h.identities_only, Some(false));
    }

    #[test]
    fn bad_values_name_file_and_line() {
        let e = SshConfig::parse("Host a\n  Port seventy\n", Path::new("cfg"), Path::new("/"))
            .unwrap_err();
        assert!(e.starts_with("cfg:2:"), "{e}");
        assert!(e.contains("Port"), "{e}");
        let e = SshConfig::parse(
            "Host a\n IdentitiesOnly maybe\n",
            Path::new("cfg"),
            Path::new("/"),
        )
        .unwrap_err();
        assert!(e.contains("yes or no"), "{e}");
        let e = SshConfig::parse("Host a\n User \"open\n", Path::new("cfg"), Path::new("/"))
            .unwrap_err();
        assert!(e.contains("quote"), "{e}");
        // Unknown keywords are ignored, as drover does not use them.
        assert!(SshConfig::parse(
            "Host a\n ForwardAgent yes\n Ciphers x\n",
            Path::new("c"),
            Path::new("/")
        )
        .is_ok());
    }

    #[test]
    fn include_with_glob_inside_host_block() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/10-a.conf"), "User from_a\n").unwrap();
        std::fs::write(
            dir.path().join("conf.d/20-b.conf"),
            "User from_b\nHost other\n  Port 2\n",
        )
        .unwrap();
        let c = SshConfig::parse(
            "Host inc\n  Include conf.d/*.conf\n  Port 1\nHost *\n  Port 3\n",
            Path::new("main"),
            dir.path(),
        )
        .unwrap();
        let h = c.lookup("inc");
        assert_eq!(h.user.as_deref(), Some("from_a"));
        assert_eq!(h.port, Some(1));
        // The included `Host other` is nested in `Host inc`: never both.
        assert_eq!(c.lookup("other").port, Some(3));
        assert_eq!(c.lookup("other").user, None);
    }

    #[test]
    fn command_line_options_come_first() {
        let o = SshConfig::from_options(&[
            ("UserKnownHostsFile".into(), "/tmp/kh".into()),
            ("Port".into(), "2022".into()),
        ])
        .unwrap();
        let c = o.then(&cfg("Host *\n  Port 22\n  User u\n"));
        let h = c.lookup("any");
        assert_eq!(h.port, Some(2022));
        assert_eq!(h.user.as_deref(), Some("u"));
        assert!(SshConfig::from_options(&[("Port".into(), "x".into())]).is_err());
    }

    #[test]
    fn tokens() {
        let t = Tokens {
            host: "10.0.0.1",
            original: "web",
            port: 2222,
            remote_user: "deploy",
            local_user: "me",
        };
        assert_eq!(
            expand_tokens("/keys/%n-%h-%p-%r-%u-%%-%x", &t),
            "/keys/web-10.0.0.1-2222-deploy-me-%-%x"
        );
        assert!(expand_tokens("~/k", &t).ends_with("/k"));
        assert!(!expand_tokens("~/k", &t).starts_with('~'));
    }
}
