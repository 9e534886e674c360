//! package_facts: the installed packages as the fact `packages`, shaped as Ansible's apt
//! backend shapes it: name → list of `{name, version, arch, category, origin, source}`.
//! `dpkg-query` lists what is installed; `apt-cache policy` says which archive
//! (`origin`, the Release file's `Origin`) holds each installed version, "" when only
//! dpkg's status file knows it. One round trip.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Effect, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use indexmap::IndexMap;
use minijinja::Value;
use std::collections::HashMap;

pub struct PackageFacts;

static PACKAGE_FACTS: ModuleSpec = ModuleSpec {
    name: "package_facts",
    aliases: &[],
    args: &[
        arg("manager", List),
        arg("strategy", Str).choices(&["first", "all"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

const SEP: &str = "@@drover-policy@@";

/// Installed packages (`dpkg-query`), the native architecture, then `apt-cache policy`
/// of every source and of the installed packages.
const SCRIPT: &str = "command -v dpkg-query >/dev/null || exit 127\n\
LC_ALL=C; export LC_ALL\n\
dpkg --print-architecture\n\
l=$(dpkg-query -W -f='${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${Section}\\n' | awk -F'\\t' '$1==\"installed\"||$1==\"half-configured\"||$1==\"unpacked\"||$1==\"triggers-awaited\"||$1==\"triggers-pending\"')\n\
printf '%s\\n' \"$l\"\n\
echo @@drover-policy@@\n\
if command -v apt-cache >/dev/null; then apt-cache policy; echo @@drover-policy@@; printf '%s\\n' \"$l\" | awk -F'\\t' 'NF==5{print $2\":\"$4}' | xargs -r apt-cache policy; echo @@drover-policy@@; printf '%s\\n' \"$l\" | awk -F'\\t' 'NF==5{print $2\":\"$4\"=\"$3}' | xargs -r apt-cache show 2>/dev/null | grep -E '^(Package|Architecture|Version|Section):'; fi\n";

#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub section: String,
}

/// `dpkg-query` lines: status, package, version, architecture, section.
pub fn parse_installed(text: &str) -> Vec<Installed> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 5).then(|| Installed {
                name: f[1].to_string(),
                version: f[2].to_string(),
                arch: f[3].to_string(),
                section: f[4].to_string(),
            })
        })
        .collect()
}

/// `apt-cache policy` (no arguments): each source line (`500 URI SUITE ARCH Packages`)
/// and the `o=` of the `release` line below it.
pub fn parse_sources(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rel) = t.strip_prefix("release ") {
            if let Some(src) = last.take() {
                let origin = rel
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("o="))
                    .unwrap_or("")
                    .to_string();
                out.insert(src, origin);
            }
        } else if let Some((prio, rest)) = t.split_once(' ') {
            if prio.parse::<i64>().is_ok() && rest.ends_with("Packages") {
                last = Some(rest.trim().to_string());
            }
        }
    }
    out
}

/// `apt-cache policy PKG:ARCH…`: per package block, the source lines under the installed
/// version (`***`), in apt's order. Keyed `name:arch` as asked.
pub fn parse_policy(text: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut pkg: Option<String> = None;
    let mut in_installed = false;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            pkg = Some(line.trim_end_matches(':').to_string());
            in_installed = false;
            continue;
        }
        let t = line.trim();
        if t.starts_with("***") {
            in_installed = true;
            continue;
        }
        // Source lines are indented by 8, version lines by 5 (which end the block).
        let looks_source = line.starts_with("        ");
        if in_installed && looks_source {
            if let Some(p) = &pkg {
                let src = t.split_once(' ').map(|x| x.1.trim()).unwrap_or("");
                out.entry(p.clone()).or_default().push(src.to_string());
            }
        } else if in_installed {
            in_installed = false;
        }
    }
    out
}

/// `apt-cache show NAME:ARCH=VERSION…` reduced to four fields: the section apt's cache
/// holds for each installed version (the archive's, which overrides the package's own,
/// as python-apt reports it). Keyed (name, arch, version).
pub fn parse_sections(text: &str) -> HashMap<(String, String, String), String> {
    let mut out = HashMap::new();
    let mut cur: [String; 4] = Default::default();
    let mut flush = |c: &mut [String; 4]| {
        if !c[0].is_empty() && !c[3].is_empty() {
            out.insert((c[0].clone(), c[1].clone(), c[2].clone()), c[3].clone());
        }
        *c = Default::default();
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once(": ") else {
            continue;
        };
        match k {
            "Package" => {
                flush(&mut cur);
                cur[0] = v.trim().to_string();
            }
            "Architecture" => cur[1] = v.trim().to_string(),
            "Version" => cur[2] = v.trim().to_string(),
            "Section" => cur[3] = v.trim().to_string(),
            _ => {}
        }
    }
    flush(&mut cur);
    out
}

fn origin_of(
    p: &Installed,
    policy: &HashMap<String, Vec<String>>,
    sources: &HashMap<String, String>,
) -> String {
    let key = format!("{}:{}", p.name, p.arch);
    let srcs = policy.get(&key).or_else(|| policy.get(&p.name));
    srcs.and_then(|s| s.first())
        .filter(|s| !s.starts_with("/var/lib/dpkg/status"))
        .and_then(|s| sources.get(s).cloned())
        .unwrap_or_default()
}

impl Module for PackageFacts {
    fn spec(&self) -> &'static ModuleSpec {
        &PACKAGE_FACTS
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        for m in args.str_list("manager")? {
            if !matches!(m.to_lowercase().as_str(), "auto" | "apt") {
                return Err(Error::module(format!(
                    "package_facts: manager '{m}' is not supported (drover reads apt/dpkg only)"
                ))
                .with_help("use manager: auto or apt"));
            }
        }
        let out = ctx.sh(SCRIPT, None)?;
        if out.rc == 127 {
            let mut p = Plan::no_change(super::result(&[("msg", Value::from(
                "Could not detect a supported package manager from the following list: ['apt'], or the required Python library is not installed. Check warnings for details.",
            ))]));
            p.failed = true;
            return Ok(p);
        }
        let text = out.stdout_str();
        let sep = format!("{SEP}\n");
        let mut parts = text.split(sep.as_str());
        let head = parts.next().unwrap_or("");
        let sources = parse_sources(parts.next().unwrap_or(""));
        let policy = parse_policy(parts.next().unwrap_or(""));
        let sections = parse_sections(parts.next().unwrap_or(""));
        let (native, listing) = head.split_once('\n').unwrap_or(("", ""));
        let native = native.trim();
        let mut packages: IndexMap<String, Vec<Value>> = IndexMap::new();
        for p in parse_installed(listing) {
            // python-apt names a foreign-architecture package `name:arch`.
            let name = if p.arch != native && p.arch != "all" {
                format!("{}:{}", p.name, p.arch)
            } else {
                p.name.clone()
            };
            let origin = origin_of(&p, &policy, &sources);
            let section = sections
                .get(&(p.name.clone(), p.arch.clone(), p.version.clone()))
                .unwrap_or(&p.section);
            let details = Value::from_iter([
                ("arch", Value::from(p.arch.as_str())),
                ("category", Value::from(section.as_str())),
                ("name", Value::from(name.as_str())),
                ("origin", Value::from(origin)),
                ("source", Value::from("apt")),
                ("version", Value::from(p.version.as_str())),
            ]);
            packages.entry(name).or_default().push(details);
        }
        if packages.is_empty() {
            let mut p = Plan::no_change(super::result(&[("msg", Value::from(
                "Could not detect a supported package manager from the following list: ['apt'], or the required Python library is not installed. Check warnings for details.",
            ))]));
            p.failed = true;
            return Ok(p);
        }
        let facts = Vars::from_iter([(
            "packages".to_string(),
            Value::from_iter(packages.into_iter().map(|(k, v)| (k, Value::from(v)))),
        )]);
        let mut p = Plan::no_change(Vars::from_iter([(
            "ansible_facts".to_string(),
            Value::from_iter(facts.clone()),
        )]));
        p.effects.push(Effect::ModuleFacts(facts));
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dpkg_and_policy() {
        let inst = parse_installed("installed\tbash\t5.2.15-2+b8\tamd64\tshells\ninstalled\tadduser\t3.134\tall\tadmin\nbad line\n");
        assert_eq!(inst.len(), 2);
        assert_eq!(inst[0].section, "shells");
        let sources = parse_sources(
            "Package files:\n 100 /var/lib/dpkg/status\n     release a=now\n 500 http://deb.debian.org/debian bookworm/main amd64 Packages\n     release v=12.12,o=Debian,a=stable,n=bookworm,l=Debian,c=main,b=amd64\n     origin deb.debian.org\nPinned packages:\n",
        );
        assert_eq!(
            sources["http://deb.debian.org/debian bookworm/main amd64 Packages"],
            "Debian"
        );
        let policy = parse_policy(
            "adduser:all:\n  Installed: 3.134\n  Candidate: 3.134\n  Version table:\n *** 3.134 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n        100 /var/lib/dpkg/status\nbash:amd64:\n  Installed: 5.2.15-2+b8\n  Candidate: 5.2.15-2+b8\n  Version table:\n *** 5.2.15-2+b8 100\n        100 /var/lib/dpkg/status\n     5.2.15-2+b2 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n",
        );
        assert_eq!(origin_of(&inst[1], &policy, &sources), "Debian");
        assert_eq!(origin_of(&inst[0], &policy, &sources), "");
        let s = parse_sections("Package: a\nVersion: 1\nArchitecture: all\nSection: devel\nPackage: b\nVersion: 2\nArchitecture: amd64\nSection: libs\n");
        assert_eq!(s[&("a".into(), "all".into(), "1".into())], "devel");
        assert_eq!(s.len(), 2);
    }
}
