//! wait_for: waits ON THE TARGET, with `sh`, for a port to open or close, a file to
//! appear or vanish, or a pattern in a file, or simply for a delay.

use super::http::lines_map;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct WaitFor;

static WAIT_FOR_SPEC: ModuleSpec = ModuleSpec {
    name: "wait_for",
    aliases: &[],
    args: &[
        arg("host", Str),
        arg("port", Int),
        arg("path", Str),
        arg("search_regex", Str),
        arg("state", Str).choices(&["started", "stopped", "present", "absent", "drained"]),
        arg("timeout", Int),
        arg("delay", Int),
        arg("sleep", Int),
        arg("connect_timeout", Int),
        arg("msg", Str),
        arg("active_connection_states", List),
        arg("exclude_hosts", List),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["port", "path"]],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

impl Module for WaitFor {
    fn spec(&self) -> &'static ModuleSpec {
        &WAIT_FOR_SPEC
    }

    fn check_mode(&self) -> super::CheckMode {
        super::CheckMode::Skipped {
            msg: "remote module (wait_for) does not support check mode",
            by_action: false,
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let host = args.str("host")?.unwrap_or_else(|| "127.0.0.1".into());
        let port = args.int("port")?;
        let path = args.str("path")?;
        let regex = args.str("search_regex")?;
        let state = args.str("state")?.unwrap_or_else(|| "started".into());
        let timeout = args.int("timeout")?.unwrap_or(300).max(0);
        let delay = args.int("delay")?.unwrap_or(0).max(0);
        let sleep = args.int("sleep")?.unwrap_or(1).max(1);
        let connect_timeout = args.int("connect_timeout")?.unwrap_or(5).max(1);
        let drained = state == "drained";
        if drained && path.is_some() {
            return Err(Error::module(
                "state=drained should only be used for checking a port in the wait_for module",
            ));
        }
        let exclude_hosts = args.str_list("exclude_hosts")?;
        if args.value("exclude_hosts").is_some() && !drained {
            return Err(Error::module(
                "exclude_hosts should only be with state=drained",
            ));
        }
        if port.is_some() && regex.is_some() {
            return Err(Error::module(
                "wait_for search_regex on a port is not supported by drover",
            )
            .with_help("use uri with until: (HTTP), or search_regex with path"));
        }
        if let Some(p) = port {
            if !(1..=65535).contains(&p) {
                return Err(Error::module(format!("port {p} is out of range")));
            }
            if !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
            {
                return Err(Error::module(format!(
                    "host '{host}' is not a host name or address"
                )));
            }
        }
        let stopping = matches!(state.as_str(), "stopped" | "absent");
        if path.is_some() && state == "stopped" {
            return Err(Error::module(
                "state=stopped should only be used for checking a port in the wait_for module",
            ));
        }
        let (check, what) = match (&path, port) {
            (Some(p), _) => {
                let q = quote(p);
                match (&regex, stopping) {
                    (_, true) => (format!("[ ! -e {q} ]"), format!("{p} to be absent")),
                    (Some(re), false) => (
                        format!("grep -Pq -- {} {q} 2>/dev/null", quote(re)),
                        format!("search string {re} in {p}"),
                    ),
                    (None, false) => (format!("[ -e {q} ]"), format!("file {p}")),
                }
            }
            (None, Some(port)) if drained => {
                let states = args
                    .value("active_connection_states")
                    .is_some()
                    .then(|| args.str_list("active_connection_states"))
                    .transpose()?;
                (
                    super::wait_for_drain::condition(
                        &host,
                        port,
                        states.as_deref(),
                        &exclude_hosts,
                    )?,
                    format!("{host}:{port} to drain"),
                )
            }
            (None, Some(port)) => {
                let probe = format!(
                    "timeout {connect_timeout} bash -c 'exec 3<>/dev/tcp/\"$1\"/\"$2\"' _ {} {port} 2>/dev/null",
                    quote(&host)
                );
                if stopping {
                    (format!("! {probe}"), format!("{host}:{port} to stop"))
                } else {
                    (probe, format!("{host}:{port}"))
                }
            }
            (None, None) => ("false".into(), String::new()),
        };
        let needs_bash = path.is_none() && port.is_some() && !drained;
        // With nothing to wait for, Ansible sleeps the delay and then the whole timeout;
        // otherwise the timeout counts from the start, delay included.
        let limit = if path.is_none() && port.is_none() {
            delay + timeout
        } else {
            timeout
        };
        let script = format!(
            "{}start=$(date +%s)\nsleep {delay}\nend=$((start + {limit}))\n\
             while :; do\n  if {check}; then echo \"@ok $(( $(date +%s) - start ))\"; exit 0; fi\n\
               now=$(date +%s); if [ \"$now\" -ge \"$end\" ]; then echo \"@timeout $((now - start))\"; exit 0; fi\n\
               sleep {sleep}\ndone\n",
            if needs_bash {
                "command -v bash >/dev/null 2>&1 || { echo @nobash; exit 0; }\n"
            } else {
                ""
            },
        );
        let out = ctx.sh(&script, None)?;
        let m = lines_map(&out.stdout_str());
        if m.contains_key("nobash") {
            return Err(Error::module("wait_for on a port needs bash on the host")
                .with_help("install bash, or poll with command and until:"));
        }
        let mut r = Vars::new();
        r.insert("state".into(), Value::from(state.as_str()));
        r.insert("port".into(), Value::from(port));
        r.insert("path".into(), Value::from(path.clone()));
        r.insert("search_regex".into(), Value::from(regex.clone()));
        r.insert("match_groups".into(), Value::from(Vec::<Value>::new()));
        r.insert("match_groupdict".into(), Value::from_iter(Vars::new()));
        if let Some(e) = m.get("ok") {
            r.insert("elapsed".into(), Value::from(e.parse::<i64>().unwrap_or(0)));
            // Ansible adds the path's attributes to a result with an existing `path`.
            if let Some(p) = &path {
                let st = ctx.stat(p, true, false)?;
                if st.exists() {
                    r.insert(
                        "state".into(),
                        Value::from(super::write::state_name(st.kind)),
                    );
                    r.insert("mode".into(), Value::from(st.mode_string()));
                    r.insert("owner".into(), Value::from(st.owner.as_str()));
                    r.insert("group".into(), Value::from(st.group.as_str()));
                    r.insert("uid".into(), Value::from(st.uid));
                    r.insert("gid".into(), Value::from(st.gid));
                    r.insert("size".into(), Value::from(st.size));
                }
            }
            // The groups of the match, as Python's re.search over the whole file.
            if let (Some(re), Some(p), false) = (&regex, &path, stopping) {
                if let (Ok(Some(text)), Ok(rx)) = (
                    ctx.read_file(p),
                    super::write::compile_regex(re, "search_regex", false),
                ) {
                    let text = String::from_utf8_lossy(&text);
                    if let Ok(Some(c)) = rx.captures(&text) {
                        let groups: Vec<Value> = c
                            .iter()
                            .skip(1)
                            .map(|g| {
                                g.map(|m| Value::from(m.as_str()))
                                    .unwrap_or(Value::from(()))
                            })
                            .collect();
                        let named: Vars = rx
                            .capture_names()
                            .flatten()
                            .map(|n| {
                                (
                                    n.to_string(),
                                    c.name(n)
                                        .map(|m| Value::from(m.as_str()))
                                        .unwrap_or(Value::from(())),
                                )
                            })
                            .collect();
                        r.insert("match_groups".into(), Value::from(groups));
                        r.insert("match_groupdict".into(), Value::from_iter(named));
                    }
                }
            }
            return Ok(Plan::no_change(r));
        }
        let elapsed: i64 = m
            .get("timeout")
            .and_then(|e| e.parse().ok())
            .unwrap_or(timeout);
        r.insert("elapsed".into(), Value::from(elapsed));
        if what.is_empty() {
            // No port and no path: Ansible just waits for the timeout.
            return Ok(Plan::no_change(r));
        }
        // Ansible's bare message (targets compare it); how long was waited is `elapsed`.
        let msg = args
            .str("msg")?
            .unwrap_or_else(|| format!("Timeout when waiting for {what}"));
        r.insert("msg".into(), Value::from(msg));
        let mut p = Plan::no_change(r);
        p.failed = true;
        Ok(p)
    }
}
