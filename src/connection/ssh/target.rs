//! Where and as whom to connect: inventory variables (Ansible's names win), then the
//! `-o`/`-J`/`-p`/`-l`/`-i` options in `ansible_ssh_common_args`/`ansible_ssh_extra_args`,
//! then ssh_config, then defaults (the local user, port 22), and the ProxyJump chain.

use super::config::{expand_tilde, expand_tokens, home_dir, HostConfig, SshConfig, Tokens};
use super::SshOptions;
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::vars::Vars;
use std::collections::HashMap;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keepalive interval when ssh_config sets no `ServerAliveInterval` (seconds).
pub const DEFAULT_ALIVE_INTERVAL: u64 = 15;
/// Missed keepalives before the connection counts as lost (`ServerAliveCountMax`).
pub const DEFAULT_ALIVE_COUNT_MAX: u32 = 3;
/// ProxyJump chains longer than this are refused (a loop in ssh_config).
const MAX_JUMPS: usize = 8;

/// One SSH endpoint: the target or a jump host.
#[derive(Clone, Debug)]
pub struct Hop {
    /// How messages name it: the inventory host, or the jump spec.
    pub label: String,
    /// The address to connect to (after HostName).
    pub hostname: String,
    pub port: u16,
    pub user: String,
    /// Key files to offer after the agent, in order.
    pub keys: Vec<PathBuf>,
    pub identities_only: bool,
    pub password: Option<String>,
    /// The name its host key is recorded under in known_hosts.
    pub known_hosts_name: String,
    /// Files to check the host key against.
    pub known_hosts_files: Vec<PathBuf>,
    /// Where accept-new records a key.
    pub known_hosts_write: PathBuf,
    pub hash_known_hosts: bool,
    /// `StrictHostKeyChecking` for this host (ssh args or ssh_config), over the run's.
    pub host_key_checking: Option<super::HostKeyChecking>,
    pub connect_timeout: Duration,
    pub alive_interval: u64,
    pub alive_count_max: u32,
}

/// The target and the jump hosts in front of it (first connected first).
#[derive(Clone, Debug)]
pub struct Target {
    pub jumps: Vec<Hop>,
    pub dest: Hop,
}

fn unreachable(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unreachable, msg)
}

/// The local user name ($USER, else the password database, else the uid).
pub fn local_user() -> String {
    if let Some(u) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
        return u;
    }
    // SAFETY: getpwuid returns static storage or null; copied out at once.
    unsafe {
        let uid = libc::geteuid();
        let pw = libc::getpwuid(uid);
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
        uid.to_string()
    }
}

type ConfigCache = Mutex<Option<HashMap<Option<PathBuf>, Arc<SshConfig>>>>;
static CONFIGS: ConfigCache = Mutex::new(None);

/// The run's ssh_config, read once per run: `-F FILE` alone, or `~/.ssh/config` then
/// `/etc/ssh/ssh_config` (each when it exists).
fn config(opts: &SshOptions) -> Result<Arc<SshConfig>> {
    let mut guard = CONFIGS.lock().unwrap_or_else(|p| p.into_inner());
    let cache = guard.get_or_insert_with(HashMap::new);
    if let Some(c) = cache.get(&opts.config_file) {
        return Ok(c.clone());
    }
    let ssh_dir = home_dir().join(".ssh");
    let cfg = match &opts.config_file {
        Some(f) => SshConfig::load(f, &ssh_dir)
            .map_err(|e| unreachable(e).with_help("check the file given with -F/--ssh-config"))?,
        None => {
            let mut cfg = SshConfig::default();
            for (file, base) in [
                (ssh_dir.join("config"), ssh_dir.clone()),
                (
                    PathBuf::from("/etc/ssh/ssh_config"),
                    PathBuf::from("/etc/ssh"),
                ),
            ] {
                if file.is_file() {
                    let c = SshConfig::load(&file, &base).map_err(unreachable)?;
                    cfg = cfg.then(&c);
                }
            }
            cfg
        }
    };
    let cfg = Arc::new(cfg);
    cache.insert(opts.config_file.clone(), cfg.clone());
    Ok(cfg)
}

fn var_str(vars: &Vars, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        let v = vars.get(*n)?;
        if v.is_none() || v.is_undefined() {
            return None;
        }
        let s = match v.as_str() {
            Some(s) => s.to_string(),
            None => v.to_string(),
        };
        Some(s).filter(|s| !s.is_empty())
    })
}

fn var_port(vars: &Vars, names: &[&str]) -> Result<Option<u16>> {
    match var_str(vars, names) {
        None => Ok(None),
        Some(s) => match s.trim().parse::<u16>() {
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => Err(unreachable(format!(
                "{}: '{s}' is not a port number",
                names[0]
            ))),
        },
    }
}

/// Command-line style options from `ansible_ssh_common_args` and
/// `ansible_ssh_extra_args`, as ssh_config keyword/value pairs. Options drover has no
/// use for (ControlMaster, -C, -v …) are ignored.
fn ssh_args_options(vars: &Vars, cfg_args: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    // As Ansible's command line: ansible.cfg's ssh_args first (the first value wins).
    let sources = [
        (
            "ssh_args (ansible.cfg or ANSIBLE_SSH_ARGS)",
            Some(cfg_args.to_string()),
        ),
        (
            "ansible_ssh_common_args",
            var_str(vars, &["ansible_ssh_common_args"]),
        ),
        (
            "ansible_ssh_extra_args",
            var_str(vars, &["ansible_ssh_extra_args"]),
        ),
    ];
    for (var, text) in sources {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let words = shlex::split(&text)
            .ok_or_else(|| unreachable(format!("{var}: unbalanced quotes in '{text}'")))?;
        let mut it = words.into_iter();
        while let Some(w) = it.next() {
            let (flag, attached) = if w.len() > 2
                && w.starts_with('-')
                && !w.starts_with("--")
                && w.is_char_boundary(2)
            {
                (w[..2].to_string(), Some(w[2..].to_string()))
            } else {
                (w.clone(), None)
            };
            let mut value = || attached.clone().or_else(|| it.next());
            match flag.as_str() {
                "-o" => {
                    let Some(v) = value() else { break };
                    let (k, val) = match v.split_once('=') {
                        Some((k, val)) => (k.trim().to_string(), val.trim().to_string()),
                        None => match v.trim().split_once(char::is_whitespace) {
                            Some((k, val)) => (k.to_string(), val.trim().to_string()),
                            None => (v.clone(), String::new()),
                        },
                    };
                    out.push((k, val));
                }
                "-J" => {
                    if let Some(v) = value() {
                        out.push(("ProxyJump".into(), v));
                    }
                }
                "-p" => {
                    if let Some(v) = value() {
                        out.push(("Port".into(), v));
                    }
                }
                "-l" => {
                    if let Some(v) = value() {
                        out.push(("User".into(), v));
                    }
                }
                "-i" => {
                    if let Some(v) = value() {
                        out.push(("IdentityFile".into(), v));
                    }
                }
                // Flags with an argument drover does not use: skip the argument too.
                "-F" | "-b" | "-c" | "-D" | "-E" | "-e" | "-L" | "-m" | "-O" | "-Q" | "-R"
                | "-S" | "-W" | "-w" | "-B" | "-I" => {
                    let _ = value();
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Everything needed to reach `host` (an inventory host).
pub fn resolve(host: &str, vars: &Vars, opts: &SshOptions) -> Result<Target> {
    let base = config(opts)?;
    resolve_in(host, vars, opts, &base)
}

/// Variables that name the login user; any of them wins over `remote_user:` keywords.
pub(crate) const LOGIN_USER_VARS: &[&str] =
    &["ansible_user", "ansible_ssh_user", "ansible_remote_user"];

/// Whether a host's variables name its login user (then `remote_user:` keywords change
/// nothing for it, as in Ansible, where the variable has the higher precedence).
pub(crate) fn login_user_from_vars(vars: &Vars) -> bool {
    LOGIN_USER_VARS.iter().any(|k| vars.contains_key(*k))
}

fn resolve_in(host: &str, vars: &Vars, opts: &SshOptions, base: &SshConfig) -> Result<Target> {
    let cli = SshConfig::from_options(&ssh_args_options(vars, &opts.ssh_args)?)
        .map_err(|e| unreachable(format!("{host}: {e}")))?;
    let name = var_str(vars, &["ansible_host", "ansible_ssh_host"]).unwrap_or_else(|| host.into());
    let cfg = cli.then(base);
    let hc = cfg.lookup(&name);
    let key = var_str(
        vars,
        &["ansible_ssh_private_key_file", "ansible_private_key_file"],
    )
    .map(|k| PathBuf::from(expand_tilde(&k)))
    .or_else(|| opts.private_key.clone());
    let over = Overrides {
        port: var_port(vars, &["ansible_port", "ansible_ssh_port"])?,
        user: var_str(vars, LOGIN_USER_VARS).or_else(|| opts.remote_user.clone()),
        key,
        password: var_str(
            vars,
            &[
                "ansible_password",
                "ansible_ssh_pass",
                "ansible_ssh_password",
            ],
        )
        .or_else(|| opts.password.clone()),
    };
    let dest = hop(host, &name, &hc, &over, opts)?;
    let jumps = match hc.proxy_jump.as_deref() {
        None => Vec::new(),
        Some(pj) if pj.eq_ignore_ascii_case("none") => Vec::new(),
        Some(pj) => jump_chain(pj, base, opts, 0).map_err(|e| {
            let msg = format!("{host}: ProxyJump {pj}: {}", e.message);
            e.with_message(msg)
        })?,
    };
    Ok(Target { jumps, dest })
}

/// What the inventory (or the command line) says, ahead of ssh_config.
#[derive(Default)]
struct Overrides {
    port: Option<u16>,
    user: Option<String>,
    key: Option<PathBuf>,
    password: Option<String>,
}

fn hop(
    label: &str,
    name: &str,
    hc: &HostConfig,
    over: &Overrides,
    opts: &SshOptions,
) -> Result<Hop> {
    if let Some(pc) = hc
        .proxy_command
        .as_deref()
        .filter(|p| !p.eq_ignore_ascii_case("none"))
    {
        return Err(
            unreachable(format!("{label}: ProxyCommand is not supported ('{pc}')"))
                .with_help("use ProxyJump (ssh -J) instead"),
        );
    }
    let local = local_user();
    let original_tokens = Tokens {
        host: name,
        original: name,
        port: 22,
        remote_user: "",
        local_user: &local,
    };
    let hostname = hc
        .hostname
        .as_deref()
        .map(|h| expand_tokens(h, &original_tokens))
        .unwrap_or_else(|| name.to_string());
    // No whitespace or control characters: the name ends up in known_hosts lines.
    if hostname.is_empty()
        || hostname.starts_with('-')
        || hostname
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(unreachable(format!(
            "{label}: invalid host name {hostname:?}"
        )));
    }
    let port = over.port.or(hc.port).unwrap_or(22);
    let user = over
        .user
        .clone()
        .or_else(|| hc.user.clone())
        .unwrap_or_else(|| local.clone());
    if user.is_empty() || user.chars().any(char::is_control) {
        return Err(unreachable(format!("{label}: invalid user name {user:?}")));
    }
    let tokens = Tokens {
        host: &hostname,
        original: name,
        port,
        remote_user: &user,
        local_user: &local,
    };
    let mut keys: Vec<PathBuf> = over.key.iter().cloned().collect();
    for f in &hc.identity_files {
        if f.eq_ignore_ascii_case("none") {
            continue;
        }
        let p = PathBuf::from(expand_tokens(f, &tokens));
        if !keys.contains(&p) {
            keys.push(p);
        }
    }
    let ssh_dir = home_dir().join(".ssh");
    let expand_list = |files: &[String]| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|f| !f.eq_ignore_ascii_case("none"))
            .map(|f| PathBuf::from(expand_tokens(f, &tokens)))
            .collect()
    };
    let (known_hosts_files, known_hosts_write) = match &opts.known_hosts {
        Some(f) => (vec![f.clone()], f.clone()),
        None => {
            let user_files = match &hc.user_known_hosts_files {
                Some(files) => expand_list(files),
                None => vec![ssh_dir.join("known_hosts"), ssh_dir.join("known_hosts2")],
            };
            let global = match &hc.global_known_hosts_files {
                Some(files) => expand_list(files),
                None => vec![
                    PathBuf::from("/etc/ssh/ssh_known_hosts"),
                    PathBuf::from("/etc/ssh/ssh_known_hosts2"),
                ],
            };
            let write = user_files
                .first()
                .cloned()
                .unwrap_or_else(|| ssh_dir.join("known_hosts"));
            (user_files.into_iter().chain(global).collect(), write)
        }
    };
    let known_hosts_name = match &hc.host_key_alias {
        Some(alias) => alias.to_ascii_lowercase(),
        None => super::known_hosts::lookup_name(&hostname, port),
    };
    Ok(Hop {
        label: label.to_string(),
        hostname,
        port,
        user,
        keys,
        identities_only: hc.identities_only.unwrap_or(false),
        password: over.password.clone(),
        known_hosts_name,
        known_hosts_files,
        known_hosts_write,
        hash_known_hosts: hc.hash_known_hosts.unwrap_or(false),
        host_key_checking: hc.strict_host_key_checking,
        connect_timeout: hc
            .connect_timeout
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(opts.connect_timeout),
        alive_interval: hc
            .server_alive_interval
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_ALIVE_INTERVAL),
        alive_count_max: hc
            .server_alive_count_max
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_ALIVE_COUNT_MAX),
    })
}

/// One ProxyJump element: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
pub fn parse_jump(
    spec: &str,
) -> std::result::Result<(Option<String>, String, Option<u16>), String> {
    let s = spec.trim();
    let s = s.strip_prefix("ssh://").unwrap_or(s);
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, s),
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        // [v6addr]:port
        let (h, after) = r
            .split_once(']')
            .ok_or_else(|| format!("'{spec}': unbalanced '['"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
            _ => (rest.to_string(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => return Err(format!("'{spec}': '{p}' is not a port number")),
        },
    };
    if host.is_empty() || user.as_deref() == Some("") {
        return Err(format!("'{spec}' is not [user@]host[:port]"));
    }
    Ok((user, host, port))
}

/// The hops of a ProxyJump value, expanding the first hop's own ProxyJump (as `ssh -J`
/// does when it connects to it).
fn jump_chain(value: &str, cfg: &SshConfig, opts: &SshOptions, depth: usize) -> Result<Vec<Hop>> {
    if depth > MAX_JUMPS {
        return Err(unreachable(
            "ProxyJump chain too long (a loop in ssh_config?)",
        ));
    }
    let mut out = Vec::new();
    for (i, spec) in value.split(',').enumerate() {
        let (user, name, port) = parse_jump(spec).map_err(unreachable)?;
        let hc = cfg.lookup(&name);
        if i == 0 {
            if let Some(pj) = hc
                .proxy_jump
                .as_deref()
                .filter(|p| !p.eq_ignore_ascii_case("none"))
            {
                out.extend(jump_chain(pj, cfg, opts, depth + 1)?);
            }
        }
        let over = Overrides {
            port,
            user,
            key: None,
            password: None,
        };
        let mut h = hop(
            &format!("jump host {}", spec.trim()),
            &name,
            &hc,
            &over,
            opts,
        )?;
        if let Some(k) = &opts.private_key {
            if !h.keys.contains(k) {
                h.keys.push(k.clone());
            }
        }
        out.push(h);
    }
    if out.len() > MAX_JUMPS {
        return Err(unreachable(
            "ProxyJump chain too long (a loop in ssh_config?)",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Value;

    /// Resolve against a given config text instead of the run's files.
    fn resolve_with(host: &str, vars: &Vars, opts: &SshOptions, text: &str) -> Result<Target> {
        let cfg = SshConfig::parse(text, Path::new("cfg"), Path::new("/")).unwrap();
        resolve_in(host, vars, opts, &cfg)
    }

    fn vars(pairs: &[(&str, Value)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    const CFG: &str = "Host web\n  HostName 10.1.1.1\n  Port 2201\n  User cfguser\n  \
        IdentityFile /keys/%h-%r\n  ProxyJump ops@bastion:2222,inner\n\
        Host bastion\n  HostName bastion.example\n  IdentityFile /keys/bastion\n\
        Host inner\n  User inneruser\n  ProxyJump nope\n\
        Host loop1\n  ProxyJump loop2\nHost loop2\n  ProxyJump loop1\n\
        Host pc\n  ProxyCommand ssh -W %h:%p gw\n";

    #[test]
    fn inventory_wins_over_config() {
        let o = SshOptions::default();
        let t = resolve_with(
            "web",
            &vars(&[
                ("ansible_user", Value::from("invuser")),
                ("ansible_port", Value::from(2022)),
            ]),
            &o,
            CFG,
        )
        .unwrap();
        assert_eq!(t.dest.hostname, "10.1.1.1");
        assert_eq!(t.dest.port, 2022);
        assert_eq!(t.dest.user, "invuser");
        assert_eq!(t.dest.keys, [PathBuf::from("/keys/10.1.1.1-invuser")]);
        assert_eq!(t.dest.known_hosts_name, "[10.1.1.1]:2022");
        // The chain: bastion (its own settings), then inner (whose ProxyJump is ignored).
        assert_eq!(t.jumps.len(), 2);
        assert_eq!(t.jumps[0].hostname, "bastion.example");
        assert_eq!(t.jumps[0].user, "ops");
        assert_eq!(t.jumps[0].port, 2222);
        assert_eq!(t.jumps[0].keys, [PathBuf::from("/keys/bastion")]);
        assert_eq!(t.jumps[1].hostname, "inner");
        assert_eq!(t.jumps[1].user, "inneruser");
    }

    #[test]
    fn ansible_host_is_the_name_ssh_config_sees() {
        let o = SshOptions {
            private_key: Some(PathBuf::from("/cli/key")),
            ..SshOptions::default()
        };
        // ansible_host = web: the `Host web` block applies, not one for the inventory name.
        let t = resolve_with(
            "alias",
            &vars(&[("ansible_host", Value::from("web"))]),
            &o,
            CFG,
        )
        .unwrap();
        assert_eq!(t.dest.hostname, "10.1.1.1");
        assert_eq!(t.dest.port, 2201);
        assert_eq!(t.dest.user, "cfguser");
        assert_eq!(
            t.dest.keys,
            [
                PathBuf::from("/cli/key"),
                PathBuf::from("/keys/10.1.1.1-cfguser")
            ]
        );
        // Unknown to the config: defaults.
        let t = resolve_with("plain", &Vars::new(), &o, CFG).unwrap();
        assert_eq!(t.dest.hostname, "plain");
        assert_eq!(t.dest.port, 22);
        assert_eq!(t.dest.user, local_user());
        assert_eq!(t.dest.known_hosts_name, "plain");
        assert!(t.jumps.is_empty());
    }

    #[test]
    fn strict_host_key_checking_from_ssh_args_first_value_wins() {
        use super::super::HostKeyChecking as H;
        let o = SshOptions {
            ssh_args: "-C -o ControlMaster=auto -o StrictHostKeyChecking=accept-new".into(),
            ..SshOptions::default()
        };
        let v = vars(&[(
            "ansible_ssh_extra_args",
            Value::from("-o StrictHostKeyChecking=no"),
        )]);
        // ansible.cfg's ssh_args come first on Ansible's command line: they win.
        let t = resolve_with("web", &v, &o, CFG).unwrap();
        assert_eq!(t.dest.host_key_checking, Some(H::AcceptNew));
        let t = resolve_with("web", &v, &SshOptions::default(), CFG).unwrap();
        assert_eq!(t.dest.host_key_checking, Some(H::No));
        let t = resolve_with("web", &Vars::new(), &SshOptions::default(), CFG).unwrap();
        assert_eq!(t.dest.host_key_checking, None);
        let bad = vars(&[(
            "ansible_ssh_common_args",
            Value::from("-o StrictHostKeyChecking=maybe"),
        )]);
        let e = resolve_with("web", &bad, &SshOptions::default(), CFG).unwrap_err();
        assert!(
            e.message.contains("StrictHostKeyChecking 'maybe'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn ssh_common_args_are_command_line_options() {
        let o = SshOptions::default();
        let v = vars(&[(
            "ansible_ssh_common_args",
            Value::from("-o UserKnownHostsFile=/kh/file -o StrictHostKeyChecking=yes -oPort=2300 -J jumper -C -é"),
        )]);
        let t = resolve_with("web", &v, &o, CFG).unwrap();
        assert_eq!(t.dest.port, 2300);
        assert_eq!(
            t.dest.host_key_checking,
            Some(super::super::HostKeyChecking::Strict)
        );
        // The user file named by -o, then the system-wide ones (read only).
        assert_eq!(t.dest.known_hosts_files[0], PathBuf::from("/kh/file"));
        assert_eq!(t.dest.known_hosts_files.len(), 3);
        assert_eq!(t.dest.known_hosts_write, PathBuf::from("/kh/file"));
        assert_eq!(t.jumps.len(), 1);
        assert_eq!(t.jumps[0].hostname, "jumper");
        // --known-hosts wins over everything.
        let o = SshOptions {
            known_hosts: Some(PathBuf::from("/cli/kh")),
            ..SshOptions::default()
        };
        let t = resolve_with("web", &v, &o, CFG).unwrap();
        assert_eq!(t.dest.known_hosts_files, [PathBuf::from("/cli/kh")]);
    }

    #[test]
    fn refusals() {
        let o = SshOptions::default();
        let e = resolve_with("loop1", &Vars::new(), &o, CFG).unwrap_err();
        assert!(e.message.contains("too long"), "{}", e.message);
        let e = resolve_with("pc", &Vars::new(), &o, CFG).unwrap_err();
        assert!(e.message.contains("ProxyCommand"), "{}", e.message);
        let e = resolve_with(
            "x",
            &vars(&[("ansible_host", Value::from("evil\n* ssh-ed25519 AAAA"))]),
            &o,
            CFG,
        )
        .unwrap_err();
        assert!(e.message.contains("invalid host name"), "{}", e.message);
        let e = resolve_with(
            "x",
            &vars(&[("ansible_port", Value::from("http"))]),
            &o,
            CFG,
        )
        .unwrap_err();
        assert!(e.message.contains("not a port"), "{}", e.message);
        assert_eq!(e.kind, ErrorKind::Unreachable);
    }

    #[test]
    fn jump_specs() {
        assert_eq!(
            parse_jump("u@h:2").unwrap(),
            (Some("u".into()), "h".into(), Some(2))
        );
        assert_eq!(parse_jump("h").unwrap(), (None, "h".into(), None));
        assert_eq!(
            parse_jump("ssh://a@[::1]:22").unwrap(),
            (Some("a".into()), "::1".into(), Some(22))
        );
        assert!(parse_jump("h:port").is_err());
        assert!(parse_jump("@h").is_err());
    }
}
