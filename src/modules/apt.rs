//! apt and package: Debian packages through `apt-get`, `apt-cache` and `dpkg-query`.
//!
//! One query round trip reads everything the plan needs (installed versions of every name
//! in one `dpkg-query -W`, candidates from `apt-cache policy`, the cache's age); the work
//! is ONE `apt-get` transaction. Lock contention (`/var/lib/dpkg/lock-frontend`, the lists
//! lock) is waited for (`DPkg::Lock::Timeout` plus a retry loop), not failed.

use super::probe::Probe;
use super::spec::{arg, ArgSpec, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct Apt;
pub struct Package;

macro_rules! apt_args {
    ($($extra:expr),*) => {
        &[
            arg("name", List).aliases(&["pkg", "package"]),
            arg("state", Str).choices(&["present", "absent", "latest", "fixed", "installed", "removed"]),
            arg("update_cache", Bool).aliases(&["update-cache"]),
            arg("cache_valid_time", Int),
            arg("install_recommends", Bool).aliases(&["install-recommends"]),
            arg("default_release", Str).aliases(&["default-release"]),
            arg("allow_downgrade", Bool).aliases(&["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
            arg("allow_unauthenticated", Bool).aliases(&["allow-unauthenticated"]),
            arg("allow_change_held_packages", Bool),
            arg("deb", Str),
            arg("autoremove", Bool),
            arg("purge", Bool),
            arg("force", Bool),
            arg("force_apt_get", Bool),
            arg("only_upgrade", Bool),
            arg("dpkg_options", Str),
            arg("lock_timeout", Int),
            arg("upgrade", Str).choices(&["no", "yes", "safe", "full", "dist"]),
            arg("autoclean", Bool),
            arg("clean", Bool),
            arg("policy_rc_d", Int),
            arg("update_cache_retries", Int),
            arg("update_cache_retry_max_delay", Int),
            arg("fail_on_autoremove", Bool),
            $($extra),*
        ]
    };
}

static APT_ARGS: &[ArgSpec] = apt_args!();
static PACKAGE_ARGS: &[ArgSpec] = apt_args!(arg("use", Str));

static SPEC: ModuleSpec = ModuleSpec {
    name: "apt",
    aliases: &[],
    args: APT_ARGS,
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["deb", "name"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

static PACKAGE_SPEC: ModuleSpec = ModuleSpec {
    name: "package",
    aliases: &[],
    args: PACKAGE_ARGS,
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Exit code of the query script when the host has no apt-get.
const NO_APT: &str = "@noapt";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Present,
    Absent,
    Latest,
    Fixed,
}

/// One requested package: `name`, `name=version`, `name:arch`.
#[derive(Clone, Debug, PartialEq)]
struct Want {
    name: String,
    arch: Option<String>,
    version: Option<String>,
}

impl Want {
    fn parse(s: &str) -> Result<Want> {
        let s = s.trim();
        let (pkg, version) = match s.split_once('=') {
            Some((p, v)) => (p, Some(v.to_string())),
            None => (s, None),
        };
        let (name, arch) = match pkg.split_once(':') {
            Some((n, a)) => (n, Some(a.to_string())),
            None => (pkg, None),
        };
        let ok_name = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        if !ok_name {
            let help = if name.contains(['*', '?', '[']) {
                "drover does not expand package name patterns: list the packages by name"
            } else {
                "a Debian package name is lowercase letters, digits and + - . (optionally :arch and =version)"
            };
            return Err(Error::module(format!("'{s}' is not a valid package name")).with_help(help));
        }
        if let Some(a) = &arch {
            if a.is_empty() || !a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(Error::module(format!("'{s}': bad architecture '{a}'")));
            }
        }
        if let Some(v) = &version {
            if v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.~:*".contains(c))
            {
                return Err(Error::module(format!("'{s}': bad version '{v}'")));
            }
        }
        Ok(Want {
            name: name.to_string(),
            arch,
            version,
        })
    }

    /// The name as dpkg-query and apt-cache take it.
    fn query_name(&self) -> String {
        match &self.arch {
            Some(a) => format!("{}:{a}", self.name),
            None => self.name.clone(),
        }
    }

    /// The argument for `apt-get install`.
    fn install_spec(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.query_name()),
            None => self.query_name(),
        }
    }
}

/// What the host says about the packages.
#[derive(Debug, Default, Clone)]
struct HostState {
    has_apt: bool,
    /// mtime of the cache (update-success-stamp, else the lists directory).
    stamp: i64,
    now: i64,
    /// name → (arch, status abbreviation, version), one entry per installed arch.
    dpkg: BTreeMap<String, Vec<(String, String, String)>>,
    /// name → (installed, candidate) from apt-cache policy.
    policy: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Package and Version of the `deb` file.
    deb: Option<(String, String)>,
}

fn query_script(wants: &[Want], deb: Option<&str>, policy: bool) -> String {
    let names: Vec<String> = wants.iter().map(|w| quote(&w.query_name())).collect();
    let names = names.join(" ");
    let mut s = String::from(
        "command -v apt-get >/dev/null 2>&1 || { echo @noapt; exit 0; }\n\
         echo \"@stamp $(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)\"\n\
         echo \"@now $(date +%s)\"\n",
    );
    if !names.is_empty() {
        s.push_str(&format!(
            "echo @dpkg\ndpkg-query -W -f='${{Package}}\\t${{Architecture}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' {names} 2>/dev/null\n"
        ));
        if policy {
            s.push_str(&format!(
                "echo @policy\nLC_ALL=C apt-cache policy {names} 2>/dev/null\n"
            ));
        }
    }
    if let Some(d) = deb {
        let q = quote(d);
        s.push_str(&format!(
            "echo @deb\nif [ -f {q} ]; then dpkg-deb -f {q} Package Version 2>&1; fi\n"
        ));
        s.push_str(&format!(
            "echo @debinst\np=$(dpkg-deb -f {q} Package 2>/dev/null) && [ -n \"$p\" ] && \
             dpkg-query -W -f='${{Package}}\\t${{Architecture}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' \"$p\" 2>/dev/null\n"
        ));
    }
    s.push_str("echo @end\n");
    s
}

fn parse_query(out: &str) -> HostState {
    let mut st = HostState {
        has_apt: true,
        ..Default::default()
    };
    let mut section = "";
    let mut policy_pkg: Option<String> = None;
    let mut deb_fields: BTreeMap<String, String> = BTreeMap::new();
    for line in out.lines() {
        if line.trim() == NO_APT {
            st.has_apt = false;
            return st;
        }
        if let Some(v) = line.strip_prefix("@stamp ") {
            st.stamp = v.trim().parse().unwrap_or(0);
            continue;
        }
        if let Some(v) = line.strip_prefix("@now ") {
            st.now = v.trim().parse().unwrap_or(0);
            continue;
        }
        if line.starts_with('@') && !line.contains(' ') {
            section = match line {
                "@dpkg" => "dpkg",
                "@policy" => "policy",
                "@deb" => "deb",
                "@debinst" => "dpkg",
                _ => "",
            };
            continue;
        }
        match section {
            "dpkg" => {
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() == 4 {
                    st.dpkg.entry(f[0].to_string()).or_default().push((
                        f[1].to_string(),
                        f[2].trim().to_string(),
                        f[3].to_string(),
                    ));
                }
            }
            "policy" => {
                if !line.starts_with(' ') && line.ends_with(':') {
                    let head = line.trim_end_matches(':');
                    let name = head.split(':').next().unwrap_or(head).to_string();
                    st.policy.entry(name.clone()).or_default();
                    policy_pkg = Some(name);
                } else if let Some(p) = &policy_pkg {
                    let t = line.trim();
                    let val = |v: &str| {
                        let v = v.trim();
                        (v != "(none)" && !v.is_empty()).then(|| v.to_string())
                    };
                    if let Some(v) = t.strip_prefix("Installed:") {
                        st.policy.entry(p.clone()).or_default().0 = val(v);
                    } else if let Some(v) = t.strip_prefix("Candidate:") {
                        st.policy.entry(p.clone()).or_default().1 = val(v);
                    }
                }
            }
            "deb" => {
                if let Some((k, v)) = line.split_once(':') {
                    deb_fields.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            _ => {}
        }
    }
    if let (Some(p), Some(v)) = (deb_fields.get("Package"), deb_fields.get("Version")) {
        st.deb = Some((p.clone(), v.clone()));
    }
    st
}

/// dpkg's status abbreviation says "installed" (including triggers pending).
fn is_installed(abbrev: &str) -> bool {
    matches!(abbrev.chars().nth(1), Some('i' | 't' | 'W'))
}

/// Ansible's version matching: an exact version, or a `*` glob.
fn version_matches(pattern: &str, version: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == version;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = version;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// Everything the task asked for, owned (the apply step may have to decide again after
/// updating the cache).
#[derive(Clone, Debug)]
struct Request {
    wants: Vec<Want>,
    state: State,
    deb: Option<String>,
    purge: bool,
    autoremove: bool,
    only_upgrade: bool,
    options: Vec<String>,
    /// `dpkg_options` as dpkg's own flags (`--force-confdef` …), for `deb`.
    dpkg_flags: Vec<String>,
    lock_timeout: i64,
}

/// The packages the transaction is about.
#[derive(Clone, Debug, Default, PartialEq)]
struct Work {
    install: Vec<String>,
    remove: Vec<String>,
    /// `apt-get autoremove` with no names.
    autoremove_only: bool,
    /// The package a `deb` file holds (`install` then has the file's path).
    deb_package: String,
}

impl Work {
    fn is_empty(&self) -> bool {
        self.install.is_empty() && self.remove.is_empty() && !self.autoremove_only
    }
}

/// The installed version of a wanted package (of its architecture, when it names one).
fn installed_version(st: &HostState, w: &Want) -> Option<String> {
    st.dpkg.get(&w.name).and_then(|entries| {
        entries
            .iter()
            .filter(|(arch, abbrev, _)| {
                is_installed(abbrev)
                    && w.arch
                        .as_deref()
                        .map_or(true, |a| a == arch || arch == "all")
            })
            .map(|(_, _, v)| v.clone())
            .next()
    })
}

/// Whether deciding needs the candidates of `apt-cache policy`, asked for up front:
/// `latest` compares with them.
fn policy_first(req: &Request) -> bool {
    req.state == State::Latest
}

/// Whether deciding needs the candidates after all: a wanted package is missing or at
/// another version (is there one to install?). Packages already installed as asked —
/// the common case — never ask: `apt-cache policy` loads (and on a host without a
/// binary cache, first builds) the whole package cache, the slowest read of a run.
fn needs_policy(req: &Request, st: &HostState) -> bool {
    req.deb.is_none()
        && matches!(req.state, State::Present | State::Fixed)
        && req
            .wants
            .iter()
            .any(|w| match (installed_version(st, w), &w.version) {
                (Some(cur), Some(v)) => !version_matches(v, &cur),
                (Some(_), None) => false,
                (None, _) => true,
            })
}

fn decide(req: &Request, st: &HostState, cache_pending: bool) -> Result<Work> {
    let mut work = Work::default();
    let installed_version = |w: &Want| installed_version(st, w);
    if let Some(path) = &req.deb {
        let Some((pkg, version)) = &st.deb else {
            return Err(Error::module(format!(
                "cannot read the package file {path} on the host"
            ))
            .with_help("give the path of a .deb file that exists on the host (deb: is a path on the target)"));
        };
        let same = st.dpkg.get(pkg).is_some_and(|e| {
            e.iter()
                .any(|(_, abbrev, v)| is_installed(abbrev) && v == version)
        });
        if !same {
            let p = if path.starts_with('/') {
                path.clone()
            } else {
                format!("./{path}")
            };
            work.install.push(p);
            work.deb_package = pkg.clone();
        }
        return Ok(work);
    }
    for w in &req.wants {
        let current = installed_version(w);
        match req.state {
            State::Present | State::Fixed => {
                let ok = match (&current, &w.version) {
                    (Some(cur), Some(v)) => version_matches(v, cur),
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if !ok {
                    if current.is_none() && req.only_upgrade {
                        continue;
                    }
                    let known = st
                        .policy
                        .get(&w.name)
                        .is_some_and(|(_, cand)| cand.is_some());
                    if !known && !cache_pending {
                        return Err(no_package(&w.name));
                    }
                    work.install.push(w.install_spec());
                }
            }
            State::Latest => {
                if w.version.is_some() {
                    return Err(Error::module(format!(
                        "version number inconsistent with state=latest: {}",
                        w.install_spec()
                    ))
                    .with_help("use state: present to pin a version"));
                }
                let candidate = st.policy.get(&w.name).and_then(|(_, c)| c.clone());
                match (&current, &candidate) {
                    (None, None) if !cache_pending => return Err(no_package(&w.name)),
                    (None, _) if req.only_upgrade => {}
                    (None, _) => work.install.push(w.install_spec()),
                    (Some(cur), Some(c)) if cur != c => work.install.push(w.install_spec()),
                    _ => {}
                }
            }
            State::Absent => {
                let present = match (&current, &w.version) {
                    (Some(cur), Some(v)) => version_matches(v, cur),
                    (Some(_), None) => true,
                    // With purge, leftover configuration files count too.
                    (None, _) => {
                        req.purge
                            && w.version.is_none()
                            && st.dpkg.get(&w.name).is_some_and(|e| {
                                e.iter().any(|(_, abbrev, _)| abbrev.starts_with("rc"))
                            })
                    }
                };
                if present {
                    work.remove.push(w.query_name());
                }
            }
        }
    }
    if req.wants.is_empty() && req.autoremove {
        work.autoremove_only = true;
    }
    Ok(work)
}

fn no_package(name: &str) -> Error {
    Error::module(format!("No package matching '{name}' is available"))
        .with_help("check the name (apt-cache search), add the repository that has it, or set update_cache: yes")
}

/// The apt-get command line for the work, `simulate` for check mode's prediction.
fn apt_command(req: &Request, work: &Work, simulate: bool) -> String {
    let mut c = String::from("apt-get -q -y");
    if simulate {
        c.push_str(" -s");
    }
    c.push_str(&format!(" -o DPkg::Lock::Timeout={}", req.lock_timeout));
    for o in &req.options {
        c.push(' ');
        c.push_str(o);
    }
    let names = |v: &[String]| v.iter().map(|n| quote(n)).collect::<Vec<_>>().join(" ");
    if !work.install.is_empty() {
        c.push_str(" install");
        if req.state == State::Fixed {
            c.push_str(" --fix-broken");
        }
        if req.only_upgrade {
            c.push_str(" --only-upgrade");
        }
        c.push(' ');
        c.push_str(&names(&work.install));
    } else if !work.remove.is_empty() {
        c.push_str(" remove");
        if req.purge {
            c.push_str(" --purge");
        }
        if req.autoremove {
            c.push_str(" --auto-remove");
        }
        c.push(' ');
        c.push_str(&names(&work.remove));
    } else {
        c.push_str(" autoremove");
        if req.purge {
            c.push_str(" --purge");
        }
    }
    c
}

/// Marks the end of the dependencies' apt-get output in a `deb` install.
const DEPS_DONE: &str = "@drover-deps-done";

/// A `deb` install as Ansible does it: the package's missing dependencies through apt-get
/// first (when there are any), then `dpkg -i` of the file.
fn deb_command(req: &Request, path: &str, package: &str, simulate: bool) -> String {
    let sim = if simulate { " -s" } else { "" };
    let dpkg_sim = if simulate { " --simulate" } else { "" };
    format!(
        "( f={f}
         deps=$(apt-get -s -q install \"$f\" 2>/dev/null | sed -n 's/^Inst \\([^ ]*\\) .*/\\1/p' | grep -vx -e {pkg} || true)
         if [ -n \"$deps\" ]; then apt-get -y{sim} -o DPkg::Lock::Timeout={t} {opts} install $deps || exit $?; echo {DEPS_DONE}; fi
         dpkg {flags}{dpkg_sim} -i \"$f\" )",
        f = quote(path),
        pkg = quote(package),
        t = req.lock_timeout,
        opts = req.options.join(" "),
        flags = req.dpkg_flags.join(" "),
    )
}

/// The output of [`deb_command`]: (stdout without the marker, Ansible's `prepared` text:
/// apt-get's plan for the dependencies, then dpkg's output).
fn deb_output(stdout: &str) -> (String, String) {
    match stdout.split_once(&format!("{DEPS_DONE}\n")) {
        Some((deps, dpkg)) => (
            format!("{deps}{dpkg}"),
            format!("{}\n\n{dpkg}", prepared(deps)),
        ),
        None => (stdout.to_string(), prepared(stdout)),
    }
}

/// Run an apt command, retrying while another process holds an apt or dpkg lock (up to
/// `timeout` seconds). stdout and stderr are passed through.
fn with_lock_retry(cmd: &str, timeout: i64) -> String {
    format!(
        "export DEBIAN_FRONTEND=noninteractive LC_ALL=C\n\
         t=$(mktemp -d) || exit 70\n\
         trap 'rm -rf \"$t\"' EXIT\n\
         end=$(( $(date +%s) + {timeout} ))\n\
         while :; do\n\
           {cmd} >\"$t/o\" 2>\"$t/e\"; rc=$?\n\
           if [ $rc -ne 0 ] && grep -q -e 'Could not get lock' -e 'Unable to lock' -e 'Unable to acquire' \"$t/e\" && [ \"$(date +%s)\" -lt \"$end\" ]; then sleep 1; continue; fi\n\
           break\n\
         done\n\
         cat \"$t/o\"; cat \"$t/e\" >&2\n\
         exit $rc\n"
    )
}

pub(super) fn update_script(timeout: i64) -> String {
    with_lock_retry("apt-get -q update", timeout)
}

/// What a simulation says: (package, old version, new version) installs and removals.
fn parse_simulation(out: &str) -> (Vec<String>, Vec<String>) {
    let (mut inst, mut remv) = (Vec::new(), Vec::new());
    for line in out.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("Inst") => {
                if let Some(n) = w.next() {
                    let rest: Vec<&str> = w.collect();
                    let rest = rest.join(" ");
                    let old = rest
                        .strip_prefix('[')
                        .and_then(|r| r.split(']').next())
                        .map(str::to_string);
                    let new = rest
                        .split('(')
                        .nth(1)
                        .and_then(|r| r.split_whitespace().next())
                        .unwrap_or("")
                        .to_string();
                    inst.push(match old {
                        Some(o) => format!("{n}: {o} -> {new}"),
                        None => format!("{n}: {new}"),
                    });
                }
            }
            Some("Remv" | "Purg") => {
                if let Some(n) = w.next() {
                    remv.push(n.to_string());
                }
            }
            _ => {}
        }
    }
    (inst, remv)
}

/// `stdout_lines` as Ansible splits it (Python's `splitlines`: dpkg's `\r` progress too).
fn lines(s: &str) -> Value {
    Value::from(crate::template::ansible::pycompat::splitlines(s, false))
}

/// The command of the transaction: [`deb_command`] for a package file, else
/// [`apt_command`].
fn transaction_command(req: &Request, work: &Work, simulate: bool) -> String {
    match (&req.deb, work.install.first()) {
        (Some(_), Some(path)) => deb_command(req, path, &work.deb_package, simulate),
        _ => apt_command(req, work, simulate),
    }
}

/// Ansible's `prepared` text for a transaction's output; for a `deb` install, the output
/// loses drover's marker on the way.
fn described_output(req: &Request, out: &mut crate::connection::Output) -> String {
    let text = out.stdout_str();
    if req.deb.is_none() {
        return prepared(&text);
    }
    let (stdout, plan) = deb_output(&text);
    out.stdout = stdout.into_bytes();
    plan
}

/// Ansible's `prepared` diff text: apt-get's plan, from after "Reading state
/// information..." (or the start) to the "N upgraded, …" line.
fn prepared(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Resolving dependencies...")
        .or_else(|| {
            lines
                .iter()
                .position(|l| *l == "Reading state information...")
        })
        .map_or(0, |i| i + 1);
    let end = lines
        .iter()
        .position(|l| {
            let digits = l.len() - l.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            digits > 0
                && (l[digits..].starts_with(" upgraded")
                    || l[digits..].starts_with(" packages upgraded"))
        })
        .map_or(lines.len(), |i| i + 1);
    lines[start.min(end)..end].join("\n")
}

/// The `diff` key of Ansible's apt results: the plan text with `--diff` (always for a
/// `deb` install), an empty mapping otherwise.
fn diff_key(r: &mut Vars, plan_text: &str, shown: bool) {
    let mut d = Vars::new();
    if shown {
        d.insert("prepared".into(), Value::from(plan_text));
    }
    r.insert("diff".into(), Value::from_serialize(&d));
}

fn output_result(r: &mut Vars, out: &crate::connection::Output) {
    let (o, e) = (out.stdout_str(), out.stderr_str());
    r.insert("stdout_lines".into(), lines(&o));
    r.insert("stderr_lines".into(), lines(&e));
    r.insert("stdout".into(), Value::from(o));
    r.insert("stderr".into(), Value::from(e));
}

/// Run the transaction; an apt-get failure fails the task with apt's own message.
fn run_transaction(ctx: &mut ModuleCtx<'_>, req: &Request, work: &Work) -> Result<Vars> {
    let cmd = transaction_command(req, work, false);
    let mut out = ctx.sh(&with_lock_retry(&cmd, req.lock_timeout), None)?;
    let mut r = Vars::new();
    let plan_text = described_output(req, &mut out);
    output_result(&mut r, &out);
    diff_key(&mut r, &plan_text, ctx.diff || req.deb.is_some());
    if out.rc != 0 {
        let err = out.stderr_str();
        let last = err
            .lines()
            .rev()
            .find(|l| l.starts_with("E:"))
            .unwrap_or(err.trim());
        let hint = if err.contains("downgraded") {
            " (set allow_downgrade: yes to allow it)"
        } else if err.contains("Could not get lock") || err.contains("Unable to acquire") {
            " (another apt/dpkg process held the lock longer than lock_timeout; raise lock_timeout or wait for it)"
        } else {
            ""
        };
        r.insert(
            "msg".into(),
            Value::from(format!("'{cmd}' failed: {last}{hint}")),
        );
        r.insert("rc".into(), Value::from(out.rc));
        r.insert("failed".into(), Value::from(true));
    }
    Ok(r)
}

fn request(args: &Args) -> Result<Request> {
    let state = match args.str("state")?.as_deref() {
        None | Some("present") | Some("installed") => State::Present,
        Some("absent") | Some("removed") => State::Absent,
        Some("latest") => State::Latest,
        Some("fixed") => State::Fixed,
        Some(other) => {
            return Err(Error::module(format!(
                "apt state '{other}' is not supported by drover"
            ))
            .with_help("use present, absent, latest or fixed; for build-dep run apt-get build-dep with command"))
        }
    };
    if let Some(u) = args.str("upgrade")? {
        if !matches!(u.as_str(), "no" | "False" | "false") {
            return Err(Error::module(format!(
                "apt upgrade: {u} is not supported by drover yet"
            ))
            .with_help("run `apt-get -y upgrade` with command (changed_when on its output), or list the packages with state: latest"));
        }
    }
    for a in ["autoclean", "clean"] {
        if args.bool(a, false)? {
            return Err(
                Error::module(format!("apt {a} is not supported by drover yet"))
                    .with_help("run `apt-get clean` / `apt-get autoclean` with command"),
            );
        }
    }
    if args.has("policy_rc_d") {
        return Err(
            Error::module("apt policy_rc_d is not supported by drover yet")
                .with_help("write /usr/sbin/policy-rc.d with copy before the task"),
        );
    }
    let mut wants = Vec::new();
    for n in args.str_list("name")? {
        if n.trim().is_empty() {
            continue;
        }
        wants.push(Want::parse(&n)?);
    }
    let mut options = Vec::new();
    let mut dpkg_flags = Vec::new();
    let dpkg_options = args
        .str("dpkg_options")?
        .unwrap_or_else(|| "force-confdef,force-confold".into());
    for o in dpkg_options
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        options.push(format!("-o {}", quote(&format!("Dpkg::Options::=--{o}"))));
        dpkg_flags.push(quote(&format!("--{o}")));
    }
    match args.value("install_recommends") {
        None => {}
        Some(_) if args.bool("install_recommends", false)? => {
            options.push("-o APT::Install-Recommends=yes".into())
        }
        Some(_) => options.push("--no-install-recommends".into()),
    }
    if let Some(r) = args.str("default_release")? {
        options.push(format!("-t {}", quote(&r)));
    }
    if args.bool("allow_downgrade", false)? {
        options.push("--allow-downgrades".into());
    }
    if args.bool("allow_unauthenticated", false)? {
        options.push("--allow-unauthenticated".into());
    }
    if args.bool("allow_change_held_packages", false)? {
        options.push("--allow-change-held-packages".into());
    }
    if args.bool("force", false)? {
        options.push(
            "--allow-downgrades --allow-remove-essential --allow-change-held-packages".into(),
        );
    }
    let lock_timeout = args.int("lock_timeout")?.unwrap_or(60).max(0);
    Ok(Request {
        wants,
        state,
        deb: args.str("deb")?,
        purge: args.bool("purge", false)?,
        autoremove: args.bool("autoremove", false)?,
        only_upgrade: args.bool("only_upgrade", false)?,
        options,
        dpkg_flags,
        lock_timeout,
    })
}

fn probes_for(args: &Args) -> Vec<Probe> {
    let Ok(req) = request(args) else {
        return Vec::new();
    };
    vec![Probe::Query {
        script: query_script(&req.wants, req.deb.as_deref(), policy_first(&req)),
    }]
}

fn plan_apt(ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
    let req = request(args)?;
    let script = query_script(&req.wants, req.deb.as_deref(), policy_first(&req));
    let mut st = parse_query(&ctx.query(&script)?);
    if st.has_apt && !policy_first(&req) && needs_policy(&req, &st) {
        st = parse_query(&ctx.query(&query_script(&req.wants, req.deb.as_deref(), true))?);
    }
    if !st.has_apt {
        return Err(Error::module("this host has no apt-get")
            .with_help("the apt module manages Debian/Ubuntu hosts; use the host's own package manager with command"));
    }
    let update = args.bool("update_cache", false)?;
    let valid = args.int("cache_valid_time")?.unwrap_or(0);
    // Ansible: cache_valid_time alone also updates a stale cache.
    let wants_update = update || (valid > 0 && args.has("cache_valid_time"));
    let cache_pending = wants_update && (valid <= 0 || st.stamp + valid < st.now);
    let mut result = Vars::new();
    // Ansible reports the cache only on its install path (not for absent, not for deb).
    let reports_cache = req.deb.is_none() && req.state != State::Absent;
    if reports_cache {
        result.insert("cache_updated".into(), Value::from(cache_pending));
        result.insert("cache_update_time".into(), Value::from(st.stamp));
    } else if req.deb.is_some() {
        for k in ["stdout", "stderr", "diff"] {
            result.insert(k.into(), Value::from(""));
        }
        result.insert("stdout_lines".into(), Value::from(Vec::<String>::new()));
        result.insert("stderr_lines".into(), Value::from(Vec::<String>::new()));
    }
    let work = decide(&req, &st, cache_pending)?;
    let nothing_else = req.wants.is_empty() && req.deb.is_none() && !req.autoremove;

    // The cache is updated first, and what to do is decided again on the fresh cache.
    if cache_pending && !ctx.check {
        let req2 = req.clone();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let q = query_script(&req2.wants, req2.deb.as_deref(), true);
            let script = format!(
                "( {} ) >&2 || exit $?\necho @updated\n{q}",
                update_script(req2.lock_timeout)
            );
            let out = ctx.sh(&script, None)?;
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "apt-get update failed: {}",
                    out.stderr_str().trim()
                ))
                .with_help(
                    "check the host's apt sources (/etc/apt/sources.list.d) and its network",
                ));
            }
            let st = parse_query(&out.stdout_str());
            let mut r = Vars::new();
            r.insert("cache_updated".into(), Value::from(true));
            r.insert("cache_update_time".into(), Value::from(st.stamp));
            if nothing_else {
                return Ok(r);
            }
            let work = decide(&req2, &st, false)?;
            if work.is_empty() {
                r.insert("changed".into(), Value::from(false));
                return Ok(r);
            }
            if work.autoremove_only {
                let sim = ctx.sh(&apt_command(&req2, &work, true), None)?;
                if parse_simulation(&sim.stdout_str()).1.is_empty() {
                    r.insert("changed".into(), Value::from(false));
                    return Ok(r);
                }
            }
            r.extend(run_transaction(ctx, &req2, &work)?);
            Ok(r)
        });
        let what = if work.is_empty() {
            vec!["cache".to_string()]
        } else {
            vec!["cache".to_string(), "packages".to_string()]
        };
        return Ok(Plan::change(Change::Modify(what), result, apply));
    }
    if nothing_else {
        // Only the cache: check mode reports the update it would make.
        if cache_pending {
            return Ok(Plan::change(
                Change::Modify(vec!["cache".into()]),
                result,
                Box::new(|_| Ok(Vars::new())),
            ));
        }
        return Ok(Plan::no_change(result));
    }
    if work.is_empty() {
        return Ok(Plan::no_change(result));
    }
    // Check mode and --diff: what apt would do, from its simulation.
    let mut diff = None;
    if ctx.check || ctx.diff || work.autoremove_only {
        let mut sim = ctx.sh(
            &format!(
                "export DEBIAN_FRONTEND=noninteractive LC_ALL=C\n{}",
                transaction_command(&req, &work, true)
            ),
            None,
        )?;
        let plan_text = described_output(&req, &mut sim);
        let (_, remv) = parse_simulation(&sim.stdout_str());
        if work.autoremove_only && remv.is_empty() {
            return Ok(Plan::no_change(result));
        }
        if sim.rc != 0 && ctx.check && !cache_pending {
            let err = sim.stderr_str();
            return Err(Error::module(format!(
                "apt-get would fail: {}",
                err.lines()
                    .rev()
                    .find(|l| l.starts_with("E:") || l.starts_with("dpkg:"))
                    .unwrap_or(err.trim())
            )));
        }
        if ctx.check {
            output_result(&mut result, &sim);
            diff_key(&mut result, &plan_text, ctx.diff || req.deb.is_some());
        }
        // What Ansible shows with --diff: apt-get's own plan (and dpkg's output for a deb).
        diff = Some(Diff::prepared(plan_text));
    }
    let change = if !work.install.is_empty() {
        Change::Modify(work.install.clone())
    } else {
        Change::Remove
    };
    let apply: super::ApplyFn =
        Box::new(move |ctx: &mut ModuleCtx<'_>| run_transaction(ctx, &req, &work));
    Ok(Plan::change(change, result, apply).with_diff(diff))
}

impl Module for Apt {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        probes_for(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_apt(ctx, args)
    }
}

impl Module for Package {
    fn spec(&self) -> &'static ModuleSpec {
        &PACKAGE_SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        probes_for(args)
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let chosen = match args.str("use")? {
            Some(u) if u != "auto" => u,
            _ => ctx
                .eval
                .eval_expr("ansible_facts.pkg_mgr | default(ansible_pkg_mgr | default(''))")
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        };
        match chosen.as_str() {
            // Unknown: the query finds out whether apt-get is there.
            "" | "unknown" | "apt" => plan_apt(ctx, args),
            other => Err(Error::module(format!(
                "package: the package manager '{other}' is not supported by drover (only apt)"
            ))
            .with_help(
                "drover manages Debian/Ubuntu hosts; use command with the host's package manager",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_versions_and_arches() {
        assert_eq!(
            Want::parse("nginx=1.2*").unwrap(),
            Want {
                name: "nginx".into(),
                arch: None,
                version: Some("1.2*".into())
            }
        );
        assert_eq!(
            Want::parse("libc6:amd64").unwrap().query_name(),
            "libc6:amd64"
        );
        assert!(Want::parse("-rf").is_err());
        assert!(Want::parse("ngi*").is_err());
        assert!(Want::parse("a;b").is_err());
    }

    #[test]
    fn matches_versions_like_ansible() {
        assert!(version_matches("1.2*", "1.2.3-1"));
        assert!(version_matches("1.2.3-1", "1.2.3-1"));
        assert!(!version_matches("1.2", "1.2.3-1"));
        assert!(version_matches("*-1", "1.2.3-1"));
    }

    #[test]
    fn reads_dpkg_and_policy() {
        let out = "@stamp 100\n@now 200\n@dpkg\nfoo\tamd64\tii \t1.0\nbar\tall\trc \t2.0\n@policy\nfoo:\n  Installed: 1.0\n  Candidate: 2.0\n  Version table:\nbaz:\n  Installed: (none)\n  Candidate: (none)\n@end\n";
        let st = parse_query(out);
        assert_eq!((st.stamp, st.now), (100, 200));
        assert_eq!(
            st.policy["foo"],
            (Some("1.0".to_string()), Some("2.0".to_string()))
        );
        assert_eq!(st.policy["baz"], (None, None));
        let req = Request {
            wants: vec![Want::parse("foo").unwrap(), Want::parse("bar").unwrap()],
            state: State::Latest,
            deb: None,
            purge: true,
            autoremove: false,
            only_upgrade: false,
            options: vec![],
            dpkg_flags: vec![],
            lock_timeout: 5,
        };
        let w = decide(
            &Request {
                wants: vec![Want::parse("foo").unwrap()],
                ..req.clone()
            },
            &st,
            false,
        )
        .unwrap();
        assert_eq!(w.install, ["foo"]);
        let w = decide(
            &Request {
                state: State::Absent,
                ..req.clone()
            },
            &st,
            false,
        )
        .unwrap();
        assert_eq!(
            w.remove,
            ["foo", "bar"],
            "purge removes config-files leftovers"
        );
        assert!(decide(
            &Request {
                wants: vec![Want::parse("baz").unwrap()],
                state: State::Present,
                ..req
            },
            &st,
            false
        )
        .is_err());
    }

    #[test]
    fn reads_a_simulation() {
        let (i, r) = parse_simulation(
            "Inst drover-test-a (1.0 local [all])\nInst drover-test-b [1.0] (2.0 local [all])\nConf x\nRemv old [3]\n",
        );
        assert_eq!(i, ["drover-test-a: 1.0", "drover-test-b: 1.0 -> 2.0"]);
        assert_eq!(r, ["old"]);
    }

    #[test]
    fn prepared_text_is_the_plan_between_state_and_counts() {
        let out = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nThe following NEW packages will be installed:\n  a\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\nInst a (1.0 x [all])\n";
        assert_eq!(
            prepared(out),
            "The following NEW packages will be installed:\n  a\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded."
        );
        // dpkg's output has neither marker: all of it.
        assert_eq!(prepared("Unpacking a (1.0) ...\n"), "Unpacking a (1.0) ...");
    }

    #[test]
    fn a_deb_install_reports_the_dependencies_plan_then_dpkg() {
        let out = format!("Reading state information...\nThe following NEW packages will be installed:\n  dep\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\nSetting up dep\n{DEPS_DONE}\nUnpacking a (1.0) ...\n");
        let (stdout, plan) = deb_output(&out);
        assert!(!stdout.contains(DEPS_DONE));
        assert!(stdout.ends_with("Setting up dep\nUnpacking a (1.0) ...\n"));
        assert!(plan.starts_with("The following NEW packages"));
        assert!(plan.ends_with("not upgraded.\n\nUnpacking a (1.0) ...\n"));
    }
}
