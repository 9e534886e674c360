//! `ansible.cfg` and the `ANSIBLE_*` environment variables, for the settings that change
//! a run. Found where Ansible looks (`ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`,
//! `/etc/ansible/ansible.cfg`; the first found wins, no merging). Precedence: drover's
//! flags > `ANSIBLE_*` > the file > defaults; the caller applies the flags.

use crate::diagnostics::{Error, Result, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The settings drover reads: (section, key, environment variable).
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("defaults", "inventory", "ANSIBLE_INVENTORY"),
    ("defaults", "roles_path", "ANSIBLE_ROLES_PATH"),
    ("defaults", "remote_user", "ANSIBLE_REMOTE_USER"),
    ("defaults", "private_key_file", "ANSIBLE_PRIVATE_KEY_FILE"),
    ("defaults", "host_key_checking", "ANSIBLE_HOST_KEY_CHECKING"),
    ("defaults", "forks", "ANSIBLE_FORKS"),
    ("defaults", "timeout", "ANSIBLE_TIMEOUT"),
    ("defaults", "gathering", "ANSIBLE_GATHERING"),
    (
        "defaults",
        "vault_password_file",
        "ANSIBLE_VAULT_PASSWORD_FILE",
    ),
    (
        "defaults",
        "vault_identity_list",
        "ANSIBLE_VAULT_IDENTITY_LIST",
    ),
    ("privilege_escalation", "become", "ANSIBLE_BECOME"),
    (
        "privilege_escalation",
        "become_method",
        "ANSIBLE_BECOME_METHOD",
    ),
    ("privilege_escalation", "become_user", "ANSIBLE_BECOME_USER"),
    (
        "privilege_escalation",
        "become_ask_pass",
        "ANSIBLE_BECOME_ASK_PASS",
    ),
    ("diff", "always", "ANSIBLE_DIFF_ALWAYS"),
    ("ssh_connection", "ssh_args", "ANSIBLE_SSH_ARGS"),
];

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An `ANSIBLE_*` environment variable.
    Env(&'static str),
    /// The configuration file, at this line.
    File(u32),
}

/// One value read, with its origin.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The text as written (comments and surrounding blanks removed).
    pub value: String,
    /// Environment or file line.
    pub source: Source,
}

/// The configuration of a run: the file used (if any), every setting drover reads that
/// is set, and the keys of the file it does not read.
#[derive(Clone, Debug, Default)]
pub struct AnsibleConfig {
    /// The `ansible.cfg` used.
    pub file: Option<PathBuf>,
    values: HashMap<(String, String), Entry>,
    /// `section.key (line N)` of every file key drover does not read.
    pub ignored: Vec<String>,
}

fn split_list(v: &str, sep: char) -> Vec<String> {
    v.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn expand_tilde(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ if p == "~" && home.is_some() => home.unwrap_or(Path::new("/")).to_path_buf(),
        _ => PathBuf::from(p),
    }
}

impl AnsibleConfig {
    /// Find and read the configuration from this process's environment, current
    /// directory and home.
    pub fn load() -> Result<Self> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Self::load_from(
            |k| std::env::var(k).ok(),
            &cwd,
            home.as_deref(),
            Path::new("/etc/ansible/ansible.cfg"),
        )
    }

    /// [`AnsibleConfig::load`] with the environment, directories and system file given.
    pub fn load_from(
        env: impl Fn(&str) -> Option<String>,
        cwd: &Path,
        home: Option<&Path>,
        system: &Path,
    ) -> Result<Self> {
        let file = Self::find(&env, cwd, home, system);
        let mut cfg = AnsibleConfig::default();
        if let Some(f) = &file {
            let text = std::fs::read_to_string(f).map_err(|e| Error::io_at(f, &e))?;
            cfg.parse(&text, f)?;
        }
        cfg.file = file;
        for (section, key, var) in SETTINGS {
            if let Some(v) = env(var) {
                cfg.values.insert(
                    (section.to_string(), key.to_string()),
                    Entry {
                        value: v,
                        source: Source::Env(var),
                    },
                );
            }
        }
        Ok(cfg)
    }

    /// The first of `ANSIBLE_CONFIG` (a file, or a directory holding `ansible.cfg`),
    /// `./ansible.cfg` (not in a world-writable directory, as Ansible), `~/.ansible.cfg`,
    /// the system file.
    fn find(
        env: &impl Fn(&str) -> Option<String>,
        cwd: &Path,
        home: Option<&Path>,
        system: &Path,
    ) -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = env("ANSIBLE_CONFIG").filter(|p| !p.is_empty()) {
            let p = expand_tilde(&p, home);
            let p = if p.is_relative() { cwd.join(p) } else { p };
            candidates.push(if p.is_dir() { p.join("ansible.cfg") } else { p });
        }
        if !world_writable(cwd) {
            candidates.push(cwd.join("ansible.cfg"));
        }
        if let Some(h) = home {
            candidates.push(h.join(".ansible.cfg"));
        }
        candidates.push(system.to_path_buf());
        candidates.into_iter().find(|c| c.is_file())
    }

    /// Ansible's INI: `[section]`, `key = value` or `key: value`, whole-line `#` and `;`
    /// comments, `;` after a blank ends a value; indented lines continue the value.
    fn parse(&mut self, text: &str, file: &Path) -> Result<()> {
        let at = |line: usize| Span::new(crate::diagnostics::path_arc(file), line as u32, 1);
        let mut section: Option<String> = None;
        let mut last: Option<(String, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                if let Some(k) = &last {
                    if let Some(e) = self.values.get_mut(k) {
                        e.value.push('\n');
                        e.value.push_str(strip_inline(trimmed));
                    }
                    continue;
                }
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| {
                    Error::invalid("a section header needs its closing ']'", &at(n))
                        .with_help("write [defaults]")
                })?;
                section = Some(name.trim().to_string());
                last = None;
                continue;
            }
            let cut = trimmed.find(['=', ':']).ok_or_else(|| {
                Error::invalid(format!("expected 'key = value', found '{trimmed}'"), &at(n))
                    .with_help(
                        "ansible.cfg lines are 'key = value' (or 'key: value') under a [section]",
                    )
            })?;
            let key = trimmed[..cut].trim().to_lowercase();
            let value = strip_inline(trimmed[cut + 1..].trim()).to_string();
            let Some(sec) = &section else {
                return Err(
                    Error::invalid(format!("'{key}' comes before any [section]"), &at(n))
                        .with_help("put it under [defaults] (or the section it belongs to)"),
                );
            };
            let known = SETTINGS.iter().any(|(s, k, _)| s == sec && *k == key);
            if known {
                let id = (sec.clone(), key);
                self.values.insert(
                    id.clone(),
                    Entry {
                        value,
                        source: Source::File(n as u32),
                    },
                );
                last = Some(id);
            } else {
                self.ignored.push(format!("{sec}.{key} (line {n})"));
                last = None;
            }
        }
        Ok(())
    }

    /// A setting's value and where it came from.
    pub fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        self.values.get(&(section.to_string(), key.to_string()))
    }

    /// A setting's text.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entry(section, key).map(|e| e.value.as_str())
    }

    /// Where to point at when a value is wrong.
    fn origin(&self, section: &str, key: &str) -> String {
        match self.entry(section, key).map(|e| &e.source) {
            Some(Source::Env(v)) => format!("environment variable {v}"),
            Some(Source::File(line)) => format!(
                "{}:{line}: [{section}] {key}",
                self.file
                    .as_deref()
                    .unwrap_or(Path::new("ansible.cfg"))
                    .display()
            ),
            None => format!("[{section}] {key}"),
        }
    }

    /// A boolean setting, as Ansible reads them (`yes/no`, `true/false`, `on/off`, `1/0`).
    pub fn bool(&self, section: &str, key: &str) -> Result<Option<bool>> {
        let Some(v) = self.get(section, key) else {
            return Ok(None);
        };
        match v.trim().to_lowercase().as_str() {
            "yes" | "y" | "true" | "t" | "on" | "1" => Ok(Some(true)),
            "no" | "n" | "false" | "f" | "off" | "0" | "" => Ok(Some(false)),
            _ => Err(Error::io(format!(
                "{}: '{v}' is not a boolean",
                self.origin(section, key)
            ))
            .with_help("write true or false")),
        }
    }

    /// A whole-number setting.
    pub fn number(&self, section: &str, key: &str) -> Result<Option<u64>> {
        let Some(v) = self.get(section, key) else {
            return Ok(None);
        };
        v.trim().parse().map(Some).map_err(|_| {
            Error::io(format!(
                "{}: '{v}' is not a whole number",
                self.origin(section, key)
            ))
            .with_help("write a number such as 10")
        })
    }

    /// Paths from a setting (split on `sep`): `~` expanded, relative paths taken from the
    /// configuration file's directory (from the current directory for a variable).
    pub fn paths(&self, section: &str, key: &str, sep: char) -> Vec<PathBuf> {
        let Some(e) = self.entry(section, key) else {
            return Vec::new();
        };
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let base = match e.source {
            Source::File(_) => self
                .file
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
            Source::Env(_) => None,
        };
        split_list(&e.value, sep)
            .iter()
            .map(|p| {
                let p = expand_tilde(p, home.as_deref());
                match (&base, p.is_relative()) {
                    (Some(b), true) => b.join(p),
                    _ => p,
                }
            })
            .collect()
    }

    /// The inventory sources (`[defaults] inventory`, comma-separated). A source with a
    /// comma inside (`h1,h2,`) comes from the variable as one host list.
    pub fn inventory(&self) -> Vec<String> {
        match self.entry("defaults", "inventory") {
            Some(e) if matches!(e.source, Source::Env(_)) && !Path::new(&e.value).exists() => {
                let v = e.value.trim();
                // ANSIBLE_INVENTORY=h1,h2 names paths unless none exists: a host list.
                let parts = split_list(v, ',');
                if parts.iter().any(|p| Path::new(p).exists()) {
                    parts
                } else if v.contains(',') {
                    vec![if v.ends_with(',') {
                        v.to_string()
                    } else {
                        format!("{v},")
                    }]
                } else {
                    parts
                }
            }
            Some(_) => self
                .paths("defaults", "inventory", ',')
                .into_iter()
                .map(|p| p.display().to_string())
                .collect(),
            None => Vec::new(),
        }
    }

    /// `[defaults] vault_identity_list` (comma-separated `label@source`).
    pub fn vault_ids(&self) -> Vec<String> {
        self.get("defaults", "vault_identity_list")
            .map(|v| split_list(v, ','))
            .unwrap_or_default()
    }

    /// What `-v` prints: the file used, the settings read (with their origin), the keys
    /// ignored.
    pub fn describe(&self) -> String {
        let mut out = match &self.file {
            Some(f) => format!("config file: {}\n", f.display()),
            None => "config file: none found (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg)\n".to_string(),
        };
        let mut read: Vec<String> = Vec::new();
        for (section, key, _) in SETTINGS {
            if let Some(e) = self.entry(section, key) {
                let from = match &e.source {
                    Source::Env(v) => v.to_string(),
                    Source::File(l) => format!("line {l}"),
                };
                read.push(format!("{section}.{key} ({from})"));
            }
        }
        if !read.is_empty() {
            out.push_str(&format!("config keys read: {}\n", read.join(", ")));
        }
        if !self.ignored.is_empty() {
            out.push_str(&format!(
                "config keys ignored (not used by drover): {}\n",
                self.ignored.join(", ")
            ));
        }
        out
    }
}

/// A value without its inline `;` comment (a `;` after a blank, as Python's configparser
/// with `inline_comment_prefixes=(';',)`).
fn strip_inline(v: &str) -> &str {
    let b = v.as_bytes();
    for i in 1..b.len() {
        if b[i] == b';' && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return v[..i].trim_end();
        }
    }
    v
}

fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir)
        .map(|m| m.permissions().mode() & 0o002 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg_in(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("ansible.cfg");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn parses_ansible_ini_and_lists_ignored_keys() {
        let d = tempfile::tempdir().unwrap();
        cfg_in(
            d.path(),
            "# comment\n; comment\n[defaults]\ninventory = hosts.ini ; inline\nforks: 7\nnocows = 1\n[diff]\nalways = yes\n",
        );
        let c =
            AnsibleConfig::load_from(|_| None, d.path(), None, Path::new("/nonexistent")).unwrap();
        assert_eq!(c.get("defaults", "inventory"), Some("hosts.ini"));
        assert_eq!(
            c.inventory(),
            vec![d.path().join("hosts.ini").display().to_string()]
        );
        assert_eq!(c.number("defaults", "forks").unwrap(), Some(7));
        assert_eq!(c.bool("diff", "always").unwrap(), Some(true));
        assert_eq!(c.ignored, vec!["defaults.nocows (line 6)".to_string()]);
        let text = c.describe();
        assert!(text.contains("defaults.forks (line 5)"), "{text}");
        assert!(text.contains("defaults.nocows (line 6)"), "{text}");
    }

    #[test]
    fn discovery_order_and_env_over_file() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        let cwd = d.path().join("cwd");
        let other = d.path().join("other");
        for p in [&home, &cwd, &other] {
            std::fs::create_dir_all(p).unwrap();
        }
        std::fs::write(home.join(".ansible.cfg"), "[defaults]\nforks = 1\n").unwrap();
        let sys = d.path().join("system.cfg");
        std::fs::write(&sys, "[defaults]\nforks = 4\n").unwrap();
        let none = |_: &str| None;
        let load = |env: &dyn Fn(&str) -> Option<String>| {
            AnsibleConfig::load_from(env, &cwd, Some(&home), &sys).unwrap()
        };
        assert_eq!(load(&none).file, Some(home.join(".ansible.cfg")));
        cfg_in(&cwd, "[defaults]\nforks = 2\n");
        assert_eq!(load(&none).file, Some(cwd.join("ansible.cfg")));
        let explicit = cfg_in(&other, "[defaults]\nforks = 3\n");
        let env_cfg = |k: &str| (k == "ANSIBLE_CONFIG").then(|| explicit.display().to_string());
        let c = load(&env_cfg);
        assert_eq!(c.file, Some(explicit.clone()));
        assert_eq!(c.number("defaults", "forks").unwrap(), Some(3));
        let env_forks = |k: &str| match k {
            "ANSIBLE_CONFIG" => Some(explicit.display().to_string()),
            "ANSIBLE_FORKS" => Some("9".into()),
            _ => None,
        };
        assert_eq!(
            load(&env_forks).number("defaults", "forks").unwrap(),
            Some(9)
        );
        std::fs::remove_file(home.join(".ansible.cfg")).unwrap();
        std::fs::remove_file(cwd.join("ansible.cfg")).unwrap();
        assert_eq!(load(&none).file, Some(sys));
    }

    #[test]
    fn bad_values_say_where() {
        let d = tempfile::tempdir().unwrap();
        cfg_in(d.path(), "[defaults]\nhost_key_checking = maybe\n");
        let c =
            AnsibleConfig::load_from(|_| None, d.path(), None, Path::new("/nonexistent")).unwrap();
        let e = c.bool("defaults", "host_key_checking").unwrap_err();
        assert!(
            e.to_string()
                .contains("ansible.cfg:2: [defaults] host_key_checking"),
            "{e}"
        );
        cfg_in(d.path(), "forks = 2\n");
        let e = AnsibleConfig::load_from(|_| None, d.path(), None, Path::new("/nonexistent"))
            .unwrap_err();
        assert!(e.to_string().contains("before any [section]"), "{e}");
    }
}
