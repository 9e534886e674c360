//! systemd_service (alias systemd) and service: units through `systemctl`.
//!
//! One query reads everything (`systemctl show` of the unit plus `systemctl is-enabled`);
//! the plan compares masked / enabled / active state with what the task asks for; the
//! apply step is one `sh` script running the `systemctl` verbs in Ansible's order
//! (daemon-reload, daemon-reexec, mask/unmask, enable/disable, start/stop/…).
//! `daemon_reload` and `daemon_reexec` are part of that step, so the plan reads and
//! changes nothing; as in Ansible (ansible-core 2.19) they are not reported as a change
//! by themselves ([`Plan::silently`]), and they do not run in check mode. The state the
//! plan compares is the one before the reload: `systemctl show` loads a new unit file
//! on demand, and what `is-enabled` reports is read from the unit files, so the reload
//! rarely matters to the comparison; a unit systemd still knows as not found is assumed
//! to be found by the reload.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct SystemdService;
pub struct Service;

static SPEC: ModuleSpec = ModuleSpec {
    name: "systemd_service",
    aliases: &[
        "systemd",
        "ansible.builtin.systemd",
        "ansible.builtin.systemd_service",
        "ansible.legacy.systemd",
    ],
    args: &[
        arg("name", Str).aliases(&["service", "unit"]),
        arg("state", Str).choices(&["started", "stopped", "restarted", "reloaded"]),
        arg("enabled", Bool),
        arg("masked", Bool),
        arg("daemon_reload", Bool).aliases(&["daemon-reload"]),
        arg("daemon_reexec", Bool).aliases(&["daemon-reexec"]),
        arg("scope", Str).choices(&["system", "user", "global"]),
        arg("no_block", Bool),
        arg("force", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

static SERVICE_SPEC: ModuleSpec = ModuleSpec {
    name: "service",
    aliases: &[],
    args: &[
        arg("name", Str).required(),
        arg("state", Str).choices(&["started", "stopped", "restarted", "reloaded"]),
        arg("enabled", Bool),
        arg("use", Str),
        // Passed on to the systemd backend, as Ansible's service action passes every
        // argument to the module of the host's service manager.
        arg("daemon_reload", Bool).aliases(&["daemon-reload"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// What systemd says about a unit.
#[derive(Debug, Default, Clone)]
struct UnitState {
    /// Every `systemctl show` property (Ansible's `status`).
    props: BTreeMap<String, String>,
    /// `systemctl is-enabled` output (enabled, disabled, static, masked, …).
    is_enabled: String,
    /// False when the target is not booted with systemd.
    systemd: bool,
}

impl UnitState {
    fn get(&self, k: &str) -> &str {
        self.props.get(k).map(String::as_str).unwrap_or("")
    }
    fn found(&self) -> bool {
        !matches!(self.get("LoadState"), "" | "not-found")
            || self.get("UnitFileState") == "masked"
            || self.is_enabled == "masked"
    }
    fn masked(&self) -> bool {
        self.get("LoadState") == "masked"
            || self.get("UnitFileState") == "masked"
            || self.is_enabled.starts_with("masked")
    }
    /// As Ansible: `systemctl is-enabled` succeeding (static/indirect/alias/generated
    /// units count as enabled).
    fn enabled(&self) -> bool {
        matches!(
            self.is_enabled.as_str(),
            "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
        )
    }
    fn active(&self) -> bool {
        matches!(
            self.get("ActiveState"),
            "active" | "activating" | "reloading"
        )
    }
}

/// Brackets the unit's properties read again after a daemon reload, in the apply output.
const STATUS_MARK: &str = "@@drover-unit-status@@";

fn query_script(unit: &str) -> String {
    let q = quote(unit);
    format!(
        "if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then echo 'nosystemd'; exit 0; fi\n\
         systemctl show --no-pager -- {q} 2>/dev/null\n\
         echo \"drover-is-enabled=$(systemctl is-enabled -- {q} 2>/dev/null)\""
    )
}

/// The daemon actions asked for, in Ansible's order, each failing with Ansible's
/// message (`failure RC during daemon-reload: …`).
fn daemon_steps(reload: bool, reexec: bool) -> Vec<String> {
    [(reload, "daemon-reload"), (reexec, "daemon-reexec")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, verb)| {
            format!("{{ systemctl {verb} || {{ rc=$?; echo \"failure $rc during {verb}\" >&2; exit $rc; }}; }}")
        })
        .collect()
}

fn parse(out: &str) -> UnitState {
    let mut st = UnitState {
        systemd: true,
        ..Default::default()
    };
    for line in out.lines() {
        if line.trim() == "nosystemd" {
            st.systemd = false;
            continue;
        }
        if let Some(v) = line.strip_prefix("drover-is-enabled=") {
            st.is_enabled = v.trim().to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            st.props.insert(k.to_string(), v.to_string());
        }
    }
    st
}

/// The unit name as systemctl completes it (`nginx` → `nginx.service`), for messages.
fn unit_name(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        ".service",
        ".socket",
        ".timer",
        ".target",
        ".mount",
        ".path",
        ".slice",
        ".scope",
        ".device",
        ".swap",
        ".automount",
    ];
    if SUFFIXES.iter().any(|s| name.ends_with(s)) {
        name.to_string()
    } else {
        format!("{name}.service")
    }
}

impl Module for SystemdService {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("name") {
            Ok(Some(n)) => vec![Probe::Query {
                script: query_script(&n),
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        plan_systemd(ctx, args)
    }
}

fn plan_systemd(ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
    match args.str("scope")?.as_deref() {
        None | Some("system") => {}
        Some(other) => {
            return Err(Error::module(format!(
                "systemd_service: scope '{other}' is not supported by drover (only 'system')"
            ))
            .with_help("manage user units with a command task running `systemctl --user`"))
        }
    }
    let name = args.str("name")?;
    let state = args.str("state")?;
    let enabled = if args.has("enabled") {
        Some(args.bool("enabled", false)?)
    } else {
        None
    };
    let masked = if args.has("masked") {
        Some(args.bool("masked", false)?)
    } else {
        None
    };
    let daemon_reload = args.bool("daemon_reload", false)?;
    let daemon_reexec = args.bool("daemon_reexec", false)?;
    let no_block = if args.bool("no_block", false)? {
        " --no-block"
    } else {
        ""
    };
    let force = if args.bool("force", false)? {
        " --force"
    } else {
        ""
    };
    let mut result = Vars::new();
    let Some(name) = name else {
        if state.is_some() || enabled.is_some() || masked.is_some() {
            return Err(Error::module(
                "systemd_service needs 'name' with state, enabled or masked",
            ));
        }
        if !daemon_reload && !daemon_reexec {
            return Err(Error::module(
                "systemd_service needs one of name, daemon_reload or daemon_reexec",
            ));
        }
        // Only the daemon actions: applied (not in check mode) and, as Ansible
        // (ansible-core 2.19) reports them, not a change.
        let script = daemon_steps(daemon_reload, daemon_reexec).join(" &&\n");
        let what: Vec<String> = [
            (daemon_reload, "daemon_reload"),
            (daemon_reexec, "daemon_reexec"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| w.to_string())
        .collect();
        return Ok(Plan::change(
            Change::Modify(what),
            result,
            super::run_script(script, "systemctl".into()),
        )
        .silently());
    };
    if name.is_empty() || name.starts_with('-') || name.contains(['\n', '/', ' ']) {
        return Err(Error::module(format!("'{name}' is not a valid unit name")));
    }
    result.insert("name".into(), Value::from(name.as_str()));
    let cur = parse(&ctx.query(&query_script(&name))?);
    if !cur.systemd {
        return Err(Error::module(format!(
            "the host is not running systemd (no /run/systemd/system or no systemctl), so unit '{name}' cannot be managed"
        ))
        .with_help("use the service module with a host that has systemd as PID 1, or manage the daemon with a command task"));
    }
    let unit = unit_name(&name);
    let found = cur.found();
    let mut notes: Vec<String> = Vec::new();
    if !found && masked != Some(true) {
        if ctx.check && (state.is_some() || enabled.is_some()) {
            // A unit file written by an earlier task of this check run does not exist
            // yet: predict the change instead of failing the preview.
            notes.push(format!(
                "unit {unit} not found; assuming an earlier task installs it"
            ));
        } else if daemon_reload && (state.is_some() || enabled.is_some()) {
            // The reload runs first (in the apply step, as Ansible runs it before it
            // looks): a unit systemd does not know yet is expected to be found by it; if
            // it is not, the systemctl verb fails and says so.
        } else if state.is_some() || enabled.is_some() {
            return Err(Error::module(format!(
                "Could not find the requested service {name}: host"
            ))
            .with_help(format!(
                "install the unit file first (e.g. template it to /etc/systemd/system/{unit}) and set daemon_reload: yes; `systemctl list-unit-files` on the host lists the known units"
            )));
        }
    }
    let status: Vars = cur
        .props
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    result.insert("status".into(), Value::from_iter(status));

    let mut verbs: Vec<String> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let (mut before, mut after) = (String::new(), String::new());
    if let Some(m) = masked {
        result.insert("masked".into(), Value::from(m));
        if m != cur.masked() {
            let verb = if m { "mask" } else { "unmask" };
            verbs.push(format!(
                "systemctl{no_block}{force} {verb} -- {}",
                quote(&name)
            ));
            what.push("masked".into());
            before.push_str(&format!("masked: {}\n", cur.masked()));
            after.push_str(&format!("masked: {m}\n"));
        }
    }
    // After an unmask the unit's enabled state is whatever it was before the mask.
    if let Some(e) = enabled {
        result.insert("enabled".into(), Value::from(e));
        let now = cur.enabled() && !(cur.masked() && masked != Some(false));
        if e != now || !found {
            let verb = if e { "enable" } else { "disable" };
            verbs.push(format!("systemctl{force} {verb} -- {}", quote(&name)));
            what.push("enabled".into());
            before.push_str(&format!("enabled: {now}\n"));
            after.push_str(&format!("enabled: {e}\n"));
        }
    }
    if let Some(s) = state.as_deref() {
        result.insert("state".into(), Value::from(s));
        let active = cur.active();
        let verb = match s {
            "started" if !active || !found => Some("start"),
            "stopped" if active => Some("stop"),
            "restarted" => Some("restart"),
            // Ansible: reloading a stopped unit starts it.
            "reloaded" => Some(if active { "reload" } else { "start" }),
            _ => None,
        };
        if let Some(verb) = verb {
            verbs.push(format!("systemctl{no_block} {verb} -- {}", quote(&name)));
            what.push(format!("state ({verb})"));
            let was = if found {
                cur.get("ActiveState").to_string()
            } else {
                "not-found".into()
            };
            let will = if s == "stopped" { "inactive" } else { "active" };
            before.push_str(&format!("ActiveState: {was}\n"));
            after.push_str(&format!(
                "ActiveState: {will}{}\n",
                match verb {
                    "restart" => " (restarted)",
                    "reload" => " (reloaded)",
                    _ => "",
                }
            ));
        }
    }
    if !notes.is_empty() {
        result.insert("msg".into(), Value::from(notes.join("; ")));
    }
    let daemon = daemon_steps(daemon_reload, daemon_reexec);
    // Nothing but the daemon actions: applied, not reported (as Ansible reports them).
    let silent = verbs.is_empty();
    if silent && daemon.is_empty() {
        return Ok(Plan::no_change(result));
    }
    if silent {
        what.extend(
            [
                (daemon_reload, "daemon_reload"),
                (daemon_reexec, "daemon_reexec"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, w)| w.to_string()),
        );
    }
    let host = ctx.host.to_string();
    // As Ansible: after a daemon reload the unit is read again, and that is the
    // `status` the task reports (a changed unit file shows its new properties).
    let reread = !daemon.is_empty();
    let show = format!(
        "{{ printf '{STATUS_MARK}\\n'; systemctl show --no-pager -- {} 2>/dev/null; printf '{STATUS_MARK}\\n'; }}",
        quote(&unit)
    );
    let script = daemon
        .into_iter()
        .chain(reread.then_some(show))
        .chain(verbs)
        .collect::<Vec<_>>()
        .join(" &&\n");
    let unit_for_err = unit.clone();
    let diff = Diff {
        before_header: format!("{unit} (before)"),
        after_header: format!("{unit} (after)"),
        before,
        after,
    };
    let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
        let out = ctx.sh(&script, None)?;
        if out.rc != 0 {
            return Err(Error::module(format!(
                "systemctl failed for {unit_for_err}: {}",
                out.stderr_str().trim()
            ))
            .with_help(format!(
                "see `systemctl status {unit_for_err}` and `journalctl -xeu {unit_for_err}` on {host}"
            )));
        }
        let stdout = out.stdout_str();
        let mut extra = Vars::new();
        if let Some(shown) = stdout.split(STATUS_MARK).nth(1) {
            let st = parse(shown);
            let status: Vars = st
                .props
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            extra.insert("status".into(), Value::from_iter(status));
        }
        Ok(extra)
    });
    let plan = Plan::change(Change::Modify(what), result, apply);
    Ok(if silent {
        plan.silently()
    } else {
        plan.with_diff(Some(diff))
    })
}

impl Module for Service {
    fn spec(&self) -> &'static ModuleSpec {
        &SERVICE_SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        match args.str("name") {
            Ok(Some(n)) => vec![Probe::Query {
                script: query_script(&n),
            }],
            _ => Vec::new(),
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let wanted = match args.str("use")?.as_deref() {
            None | Some("auto") => ctx
                .eval
                .eval_expr("ansible_facts.service_mgr | default('')")
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            Some(other) => other.to_string(),
        };
        let mgr = if wanted.is_empty() {
            // Facts not gathered: ask the host (the same query systemd would make).
            let name = args.req_str("name")?;
            if parse(&ctx.query(&query_script(&name))?).systemd {
                "systemd".to_string()
            } else {
                String::new()
            }
        } else {
            wanted
        };
        if mgr != "systemd" {
            if matches!(
                mgr.as_str(),
                "openrc" | "upstart" | "runit" | "launchd" | "bsdinit" | "smf" | "src"
            ) {
                return Err(Error::module(format!(
                    "service: service manager '{mgr}' on {} is not supported by drover (systemd and SysV init scripts are)",
                    ctx.host
                ))
                .with_help("manage the daemon with a command task"));
            }
            if args.has("daemon_reload") {
                return Err(Error::module(
                    "Unsupported parameters for (sysvinit) module: daemon_reload. Supported parameters include: arguments, daemonize, enabled, name, pattern, runlevels, sleep, state.",
                )
                .with_help("daemon_reload is systemd's: guard it with `ansible_service_mgr == 'systemd'` (or omit)"));
            }
            return plan_sysv(ctx, args, &mgr);
        }
        let mut raw = args.raw().clone();
        raw.shift_remove("use");
        let sd_args = Args::new(&SPEC, raw)?;
        plan_systemd(ctx, &sd_args)
    }
}

fn sysv_query(name: &str) -> String {
    let q = quote(name);
    format!(
        "if [ -x /etc/init.d/{q} ]; then echo script; /etc/init.d/{q} status >/dev/null 2>&1; echo \"rc=$?\"; \
         echo \"start_links=$(ls /etc/rc[2345].d/S[0-9][0-9]{q} 2>/dev/null | wc -l)\"; \
         echo \"links=$(ls /etc/rc[0-6S].d/[SK][0-9][0-9]{q} 2>/dev/null | wc -l)\"; fi; \
         command -v update-rc.d >/dev/null 2>&1 && echo update-rc.d"
    )
}

#[derive(Debug, Default, PartialEq)]
struct SysvState {
    script: bool,
    running: bool,
    enabled: bool,
    any_links: bool,
    update_rc_d: bool,
}

fn parse_sysv(out: &str) -> SysvState {
    let mut st = SysvState::default();
    for line in out.lines() {
        let num = |v: &str| v.trim().parse::<i64>().unwrap_or(-1);
        match line.trim() {
            "script" => st.script = true,
            "update-rc.d" => st.update_rc_d = true,
            l => {
                if let Some(v) = l.strip_prefix("rc=") {
                    st.running = num(v) == 0;
                } else if let Some(v) = l.strip_prefix("start_links=") {
                    st.enabled = num(v) > 0;
                } else if let Some(v) = l.strip_prefix("links=") {
                    st.any_links = num(v) > 0;
                }
            }
        }
    }
    st
}

/// service on a host without systemd: the SysV init script `/etc/init.d/NAME` (through
/// `service` when it exists), `status` for the running state, the `rc?.d` links and
/// `update-rc.d` for enabled.
fn plan_sysv(ctx: &mut ModuleCtx<'_>, args: &Args, mgr: &str) -> Result<Plan> {
    let name = args.req_str("name")?;
    if name.is_empty() || name.starts_with('-') || name.contains(['\n', '/', ' ']) {
        return Err(Error::module(format!(
            "'{name}' is not a valid service name"
        )));
    }
    let cur = parse_sysv(&ctx.query(&sysv_query(&name))?);
    let what_mgr = if mgr.is_empty() {
        "no systemd".to_string()
    } else {
        format!("service manager '{mgr}' (not systemd)")
    };
    if !cur.script {
        return Err(Error::module(format!(
            "service: {what_mgr} on {} and no init script /etc/init.d/{name}",
            ctx.host
        ))
        .with_help("drover's service module drives systemd units and SysV init scripts; install the service first, or manage the daemon with a command task"));
    }
    let state = args.str("state")?;
    let enabled = if args.has("enabled") {
        Some(args.bool("enabled", false)?)
    } else {
        None
    };
    let mut result = Vars::new();
    result.insert("name".into(), Value::from(name.as_str()));
    let q = quote(&name);
    let run = |verb: &str| {
        format!("if command -v service >/dev/null 2>&1; then service {q} {verb}; else /etc/init.d/{q} {verb}; fi")
    };
    let mut steps: Vec<String> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let (mut before, mut after) = (String::new(), String::new());
    if let Some(e) = enabled {
        result.insert("enabled".into(), Value::from(e));
        if e != cur.enabled {
            if !cur.update_rc_d {
                return Err(Error::module(format!(
                    "service: cannot change whether {name} starts at boot on {}: no update-rc.d",
                    ctx.host
                ))
                .with_help("drover enables SysV services with Debian's update-rc.d only"));
            }
            if e && !cur.any_links {
                steps.push(format!("update-rc.d {q} defaults"));
            }
            steps.push(format!(
                "update-rc.d {q} {}",
                if e { "enable" } else { "disable" }
            ));
            what.push("enabled".into());
            before.push_str(&format!("enabled: {}\n", cur.enabled));
            after.push_str(&format!("enabled: {e}\n"));
        }
    }
    if let Some(s) = state.as_deref() {
        result.insert("state".into(), Value::from(s));
        let verb = match s {
            "started" if !cur.running => Some("start"),
            "stopped" if cur.running => Some("stop"),
            "restarted" => Some("restart"),
            "reloaded" => Some(if cur.running { "reload" } else { "start" }),
            _ => None,
        };
        if let Some(verb) = verb {
            steps.push(run(verb));
            what.push(format!("state ({verb})"));
            before.push_str(&format!(
                "running: {}\n",
                if cur.running { "yes" } else { "no" }
            ));
            after.push_str(&format!(
                "running: {}\n",
                if s == "stopped" { "no" } else { "yes" }
            ));
        }
    }
    if steps.is_empty() {
        return Ok(Plan::no_change(result));
    }
    // A daemon started by the init script must not hold drover's channel open: its
    // stdout goes to /dev/null and stderr to a file shown when the step fails.
    let script = format!(
        "e=$(mktemp) || exit 1\n( {} ) </dev/null >/dev/null 2>\"$e\"\nrc=$?\ncat \"$e\" >&2\nrm -f \"$e\"\nexit $rc",
        steps.join(" &&\n")
    );
    let diff = Diff {
        before_header: format!("service {name} (before)"),
        after_header: format!("service {name} (after)"),
        before,
        after,
    };
    Ok(Plan::change(
        Change::Modify(what),
        result,
        super::run_script(script, format!("service {name}")),
    )
    .with_diff(Some(diff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_systemctl_show() {
        let st = parse("Id=nginx.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\nExecStart={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -g daemon on; }\ndrover-is-enabled=enabled\n");
        assert!(st.systemd && st.found() && st.active() && st.enabled() && !st.masked());
        assert!(st.get("ExecStart").contains("daemon on;"));
        let st =
            parse("Id=x.service\nLoadState=not-found\nActiveState=inactive\ndrover-is-enabled=\n");
        assert!(!st.found() && !st.active() && !st.enabled());
        let st = parse("LoadState=masked\nUnitFileState=masked\ndrover-is-enabled=masked\n");
        assert!(st.found() && st.masked() && !st.enabled());
        assert!(!parse("nosystemd\n").systemd);
        assert!(parse("drover-is-enabled=static\n").enabled());
    }

    #[test]
    fn reads_sysv_state() {
        let st = parse_sysv("script\nrc=0\nstart_links=4\nlinks=7\nupdate-rc.d\n");
        assert!(st.script && st.running && st.enabled && st.any_links && st.update_rc_d);
        let st = parse_sysv("script\nrc=3\nstart_links=0\nlinks=0\n");
        assert!(st.script && !st.running && !st.enabled && !st.any_links && !st.update_rc_d);
        assert!(!parse_sysv("").script);
    }

    #[test]
    fn completes_unit_names() {
        assert_eq!(unit_name("nginx"), "nginx.service");
        assert_eq!(unit_name("docker.socket"), "docker.socket");
        assert_eq!(unit_name("backup.timer"), "backup.timer");
    }
}
