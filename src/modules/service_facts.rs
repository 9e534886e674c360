//! service_facts: the host's services as the fact `services`, as Ansible's module builds
//! it on Linux: SysV scripts from `service --status-all` (`name`, `state`, `source:
//! sysv`), then systemd's units (`NAME.service` with `state`, `status`, `source:
//! systemd`) from `list-units` and `list-unit-files`. Upstart, chkconfig and OpenRC hosts
//! are not read.

use super::spec::{FreeForm, ModuleSpec};
use super::{Args, Effect, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::Result;
use crate::vars::Vars;
use indexmap::IndexMap;
use minijinja::Value;

pub struct ServiceFacts;

static SERVICE_FACTS: ModuleSpec = ModuleSpec {
    name: "service_facts",
    aliases: &[],
    args: &[],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// Everything in one round trip; each section starts with a marker line.
const SCRIPT: &str = "LC_ALL=C; export LC_ALL\n\
if command -v service >/dev/null && ! command -v chkconfig >/dev/null && ! command -v rc-status >/dev/null; then\n\
  echo @@SYSV; service --status-all 2>/dev/null\n\
fi\n\
if command -v systemctl >/dev/null && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ] || [ \"$(cat /proc/1/comm 2>/dev/null)\" = systemd ]; }; then\n\
  echo @@UNITS; systemctl list-units --no-pager --type service --all --plain 2>/dev/null\n\
  echo @@FILES; systemctl list-unit-files --no-pager --type service --all 2>/dev/null\n\
fi\n";

const BAD_STATES: &[&str] = &["not-found", "masked", "failed"];

type Services = IndexMap<String, IndexMap<&'static str, Value>>;

fn service(
    name: &str,
    state: &str,
    status: Option<&str>,
    source: &'static str,
) -> IndexMap<&'static str, Value> {
    let mut m = IndexMap::new();
    m.insert("name", Value::from(name));
    m.insert("state", Value::from(state));
    if let Some(s) = status {
        m.insert("status", Value::from(s));
    }
    m.insert("source", Value::from(source));
    m
}

/// `service --status-all`: ` [ + ]  name` is running, ` [ - ]` stopped (` [ ? ]` is
/// not reported, as in Ansible).
pub fn parse_sysv(text: &str, out: &mut Services) {
    for line in text.lines() {
        let t = line.trim_start();
        let (state, rest) = if let Some(r) = t.strip_prefix("[ + ]") {
            ("running", r)
        } else if let Some(r) = t.strip_prefix("[ - ]") {
            ("stopped", r)
        } else {
            continue;
        };
        let name = rest.trim_start();
        if rest.len() == name.len() || name.is_empty() {
            continue;
        }
        out.insert(name.to_string(), service(name, state, None, "sysv"));
    }
}

/// `systemctl list-units --plain`: UNIT LOAD ACTIVE SUB DESCRIPTION.
pub fn parse_units(text: &str, out: &mut Services) {
    for line in text.lines().filter(|l| l.contains(".service")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        // As Ansible: a bad state anywhere but the last word wins over ACTIVE.
        let status = BAD_STATES
            .iter()
            .find(|b| f[..f.len() - 1].contains(b))
            .copied()
            .unwrap_or(f[2]);
        let state = if f[3] == "running" {
            "running"
        } else {
            "stopped"
        };
        out.insert(
            f[0].to_string(),
            service(f[0], state, Some(status), "systemd"),
        );
    }
}

/// `systemctl list-unit-files`: UNIT STATE [PRESET]. Returns the units list-units did not
/// show (their state is asked separately).
pub fn parse_unit_files(text: &str, out: &mut Services) -> Vec<(String, String)> {
    let mut missing = Vec::new();
    for line in text.lines().filter(|l| l.contains(".service")) {
        let mut w = line.split_whitespace();
        let (Some(name), Some(status)) = (w.next(), w.next()) else {
            continue;
        };
        match out.get_mut(name) {
            None => missing.push((name.to_string(), status.to_string())),
            Some(s) => {
                let bad = s
                    .get("status")
                    .and_then(|v| v.as_str().map(|x| BAD_STATES.contains(&x)))
                    .unwrap_or(false);
                if !bad {
                    s.insert("status", Value::from(status));
                }
            }
        }
    }
    missing
}

impl Module for ServiceFacts {
    fn spec(&self) -> &'static ModuleSpec {
        &SERVICE_FACTS
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, _args: &Args) -> Result<Plan> {
        let text = ctx.sh(SCRIPT, None)?.stdout_str();
        let mut services = Services::new();
        let mut section = "";
        let mut parts: IndexMap<&str, String> = IndexMap::new();
        for line in text.lines() {
            if let Some(s) = line.strip_prefix("@@") {
                if matches!(s, "SYSV" | "UNITS" | "FILES") {
                    section = match s {
                        "SYSV" => "sysv",
                        "UNITS" => "units",
                        _ => "files",
                    };
                    parts.entry(section).or_default();
                    continue;
                }
            }
            if let Some(p) = parts.get_mut(section) {
                p.push_str(line);
                p.push('\n');
            }
        }
        if let Some(t) = parts.get("sysv") {
            parse_sysv(t, &mut services);
        }
        if let Some(t) = parts.get("units") {
            parse_units(t, &mut services);
        }
        if let Some(t) = parts.get("files") {
            let missing = parse_unit_files(t, &mut services);
            if !missing.is_empty() {
                // One more round trip for the units systemd has not loaded.
                let mut script = String::from("LC_ALL=C; export LC_ALL\n");
                for (name, _) in &missing {
                    script.push_str(&format!(
                        "systemctl show {} --property=ActiveState 2>/dev/null; echo \"@@rc $?\"\n",
                        quote(name)
                    ));
                }
                let out = ctx.sh(&script, None)?.stdout_str();
                let mut answers: Vec<String> = Vec::new();
                let mut cur = String::new();
                for line in out.lines() {
                    if let Some(rc) = line.strip_prefix("@@rc ") {
                        let state = cur.replace("ActiveState=", "").trim_end().to_string();
                        answers.push(if rc == "0" && !cur.is_empty() {
                            state
                        } else {
                            "unknown".into()
                        });
                        cur.clear();
                    } else {
                        cur.push_str(line);
                        cur.push('\n');
                    }
                }
                for (i, (name, status)) in missing.iter().enumerate() {
                    let state = answers.get(i).map(String::as_str).unwrap_or("unknown");
                    services.insert(name.clone(), service(name, state, Some(status), "systemd"));
                }
            }
        }
        if services.is_empty() {
            let mut p = Plan::no_change(super::result(&[(
                "msg",
                Value::from("Failed to find any services. This can be due to privileges or some other configuration issue."),
            )]));
            p.skipped = true;
            return Ok(p);
        }
        let value = Value::from_iter(services.into_iter().map(|(k, v)| {
            (
                k,
                Value::from_iter(v.into_iter().map(|(a, b)| (a.to_string(), b))),
            )
        }));
        let facts = Vars::from_iter([("services".to_string(), value)]);
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
    fn parses_sysv_and_systemd() {
        let mut s = Services::new();
        parse_sysv(" [ + ]  cron\n [ - ]  procps\n [ ? ]  weird\n", &mut s);
        assert_eq!(s["cron"]["state"].as_str(), Some("running"));
        assert_eq!(s["procps"]["state"].as_str(), Some("stopped"));
        assert!(!s.contains_key("weird"));
        parse_units(
            "ssh.service loaded active running OpenBSD Secure Shell server\nfoo.service not-found inactive dead foo.service\nbar.service loaded failed failed Bar\n",
            &mut s,
        );
        assert_eq!(s["ssh.service"]["status"].as_str(), Some("active"));
        assert_eq!(s["ssh.service"]["state"].as_str(), Some("running"));
        assert_eq!(s["foo.service"]["status"].as_str(), Some("not-found"));
        assert_eq!(s["bar.service"]["status"].as_str(), Some("failed"));
        let missing = parse_unit_files(
            "UNIT FILE STATE PRESET\nssh.service enabled enabled\nbar.service enabled enabled\ngetty@.service enabled enabled\n\n3 unit files listed.\n",
            &mut s,
        );
        assert_eq!(s["ssh.service"]["status"].as_str(), Some("enabled"));
        assert_eq!(s["bar.service"]["status"].as_str(), Some("failed"));
        assert_eq!(
            missing,
            vec![("getty@.service".to_string(), "enabled".to_string())]
        );
    }
}
