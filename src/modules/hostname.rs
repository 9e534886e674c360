//! hostname: the host's name, live and persistent. With systemd (`use: systemd`, or
//! auto-detected as Ansible does on a systemd-managed Linux) through `hostnamectl`;
//! otherwise `/etc/hostname` is written atomically and `hostname NAME` sets the live name.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Effect, Module, ModuleCtx, Plan};
use crate::connection::{quote, PutAttrs};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct Hostname;

static SPEC: ModuleSpec = ModuleSpec {
    name: "hostname",
    aliases: &[],
    args: &[
        arg("name", Str).required(),
        arg("use", Str).choices(&[
            "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd",
            "openrc", "redhat", "sles", "solaris", "systemd",
        ]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

const QUERY: &str = "echo \"live=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)\"\n\
    if [ -r /etc/hostname ]; then echo \"file=$(head -n 1 /etc/hostname)\"; else echo nofile; fi\n\
    if [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null 2>&1; then echo systemd; fi";

#[derive(Debug, Default, PartialEq)]
struct Current {
    live: String,
    file: Option<String>,
    systemd: bool,
}

fn parse(out: &str) -> Current {
    let mut c = Current::default();
    for line in out.lines() {
        if let Some(v) = line.strip_prefix("live=") {
            c.live = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("file=") {
            c.file = Some(v.trim().to_string());
        } else if line.trim() == "systemd" {
            c.systemd = true;
        }
    }
    c
}

/// RFC 1123 labels joined by dots (what `hostname` and hostnamectl accept).
fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl Module for Hostname {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, _args: &Args) -> Vec<super::probe::Probe> {
        vec![super::probe::Probe::Query {
            script: QUERY.into(),
        }]
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let name = args.req_str("name")?.trim().to_string();
        if !valid(&name) {
            return Err(Error::module(format!("'{name}' is not a valid host name"))
                .with_help("use letters, digits and '-' in dot-separated labels"));
        }
        let cur = parse(&ctx.query(QUERY)?);
        let strategy = match args.str("use")?.as_deref() {
            None => {
                if cur.systemd {
                    "systemd"
                } else {
                    "file"
                }
            }
            Some("systemd") => {
                if !cur.systemd {
                    return Err(Error::module(
                        "hostname: use=systemd but the host is not running systemd (or has no hostnamectl)",
                    )
                    .with_help("drop `use:` to let drover pick, or use: debian"));
                }
                "systemd"
            }
            Some("debian" | "generic" | "alpine" | "openrc" | "sles" | "redhat") => "file",
            Some(other) => {
                return Err(Error::module(format!(
                    "hostname: use={other} is not supported by drover (only systemd, debian, generic, alpine, openrc, sles, redhat)"
                )))
            }
        };
        let short = name.split('.').next().unwrap_or(&name).to_string();
        let mut result = Vars::new();
        result.insert("name".into(), Value::from(name.as_str()));
        let facts: Vars = [
            ("ansible_hostname", Value::from(short.as_str())),
            ("ansible_nodename", Value::from(name.as_str())),
            // Ansible reads the FQDN back from the resolver: in check mode, nothing was
            // renamed yet, so it is still the current name's.
            (
                "ansible_fqdn",
                Value::from(if ctx.check && cur.live != name {
                    cur.live.as_str()
                } else {
                    name.as_str()
                }),
            ),
            (
                "ansible_domain",
                Value::from(name.split_once('.').map(|(_, d)| d).unwrap_or("")),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let update: Vars = facts
            .iter()
            .map(|(k, v)| (k.trim_start_matches("ansible_").to_string(), v.clone()))
            .collect();
        result.insert("ansible_facts".into(), Value::from_iter(facts));
        let file_ok = cur.file.as_deref() == Some(name.as_str());
        if cur.live == name && file_ok {
            let mut plan = Plan::no_change(result);
            plan.effects.push(Effect::UpdateFacts(update));
            return Ok(plan);
        }
        let diff = Diff {
            before_header: "hostname".into(),
            after_header: "hostname".into(),
            before: format!("hostname = {}\n", cur.live),
            after: format!("hostname = {name}\n"),
        };
        // Ansible's result carries its before/after whenever the name changes.
        result.insert(
            "diff".into(),
            Value::from_serialize(serde_json::json!({"before": diff.before, "after": diff.after})),
        );
        let mut what = Vec::new();
        if cur.live != name {
            what.push("live".to_string());
        }
        if !file_ok {
            what.push("/etc/hostname".to_string());
        }
        let apply: super::ApplyFn = if strategy == "systemd" {
            let q = quote(&name);
            super::run_script(
                format!("hostnamectl --static set-hostname {q} && hostnamectl --transient set-hostname {q}"),
                "hostnamectl set-hostname".into(),
            )
        } else {
            let set_live = cur.live != name;
            let write_file = !file_ok;
            Box::new(move |ctx: &mut ModuleCtx<'_>| {
                if write_file {
                    ctx.put_file(
                        "/etc/hostname",
                        format!("{name}\n").as_bytes(),
                        &PutAttrs::default(),
                    )?;
                }
                if set_live {
                    let out = ctx.sh(&format!("hostname {}", quote(&name)), None)?;
                    if out.rc != 0 {
                        return Err(Error::module(format!(
                            "hostname {name} failed: {}",
                            out.stderr_str().trim()
                        ))
                        .with_help(
                            "setting the live host name needs root (become: yes) and CAP_SYS_ADMIN",
                        ));
                    }
                }
                Ok(Vars::new())
            })
        };
        let mut plan = Plan::change(Change::Modify(what), result, apply)
            .touching(vec!["/etc/hostname".into()])
            .with_diff(Some(diff));
        plan.effects.push(Effect::UpdateFacts(update));
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_current_name() {
        assert_eq!(
            parse("live=web1\nfile=web1\nsystemd\n"),
            Current {
                live: "web1".into(),
                file: Some("web1".into()),
                systemd: true
            }
        );
        assert_eq!(parse("live=x\nnofile\n").file, None);
        assert!(valid("web-1.example.com"));
        assert!(!valid("-web") && !valid("a..b") && !valid("a b") && !valid(""));
    }
}
