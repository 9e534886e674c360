//! docker_compose_v2 (`community.docker.docker_compose_v2`): a Compose project on the
//! host, through `docker compose` (v2 plugin) when `docker compose version` works there,
//! else the Python `docker-compose` v1 (Debian bookworm ships only v1).
//!
//! The plan is exact, so check mode previews what `up`/`down`/`stop` would do: one query
//! asks compose for the desired configuration hash of every service (`config --hash=*`,
//! the value both v1 and v2 put in the `com.docker.compose.config-hash` label) and lists
//! the project's containers with their labels; a service with no container is created,
//! one whose hash differs is recreated, a stopped one started, an orphan removed (with
//! `remove_orphans`). Nothing runs when everything matches.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct DockerCompose;

static SPEC: ModuleSpec = ModuleSpec {
    name: "docker_compose_v2",
    aliases: &["community.docker.docker_compose_v2"],
    args: &[
        arg("project_src", Str).required(),
        arg("files", List),
        arg("project_name", Str),
        arg("state", Str).choices(&["present", "absent", "stopped", "restarted"]),
        arg("pull", Str).choices(&["always", "missing", "never", "policy"]),
        arg("recreate", Str).choices(&["always", "never", "auto"]),
        arg("remove_orphans", Bool),
        arg("services", List),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

#[derive(Debug, Clone, PartialEq)]
struct Container {
    id: String,
    name: String,
    state: String,
    service: String,
    hash: String,
    image: String,
    oneoff: bool,
    status: String,
}

impl Container {
    fn running(&self) -> bool {
        self.state == "running" || self.status.starts_with("Up")
    }
    fn to_value(&self, project: &str) -> Value {
        let m: Vars = [
            ("ID", self.id.as_str()),
            ("Name", self.name.as_str()),
            ("Image", self.image.as_str()),
            ("Service", self.service.as_str()),
            ("State", self.state.as_str()),
            ("Status", self.status.as_str()),
            ("Project", project),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
        Value::from_iter(m)
    }
}

#[derive(Debug, Default)]
struct Current {
    version: Option<u8>,
    nodir: bool,
    /// service → desired config hash
    hashes: BTreeMap<String, String>,
    config_error: Option<String>,
    containers: Vec<Container>,
}

const PS_FORMAT: &str = "C:{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label \"com.docker.compose.service\"}}\t{{.Label \"com.docker.compose.config-hash\"}}\t{{.Image}}\t{{.Label \"com.docker.compose.oneoff\"}}\t{{.Status}}";

/// The shell function `c` running the compose that exists on the host, with the
/// project's files and name.
fn compose_fn(files: &[String], project: &str) -> String {
    let mut opts = String::new();
    for f in files {
        opts.push_str(&format!(" -f {}", quote(f)));
    }
    opts.push_str(&format!(" -p {}", quote(project)));
    format!(
        "if docker compose version >/dev/null 2>&1; then v=2; c() {{ docker compose{opts} \"$@\"; }}\n\
         elif command -v docker-compose >/dev/null 2>&1; then v=1; c() {{ docker-compose{opts} \"$@\"; }}\n\
         else v=none; fi\n"
    )
}

fn ps_script(project: &str) -> String {
    format!(
        "docker ps -a --filter {} --format {}",
        quote(&format!("label=com.docker.compose.project={project}")),
        quote(PS_FORMAT)
    )
}

fn query_script(src: &str, files: &[String], project: &str, pull_first: bool) -> String {
    let pull = if pull_first {
        "c pull -q >/dev/null 2>&1 || c pull >/dev/null 2>&1\n"
    } else {
        ""
    };
    format!(
        "cd -- {} 2>/dev/null || {{ echo NODIR; exit 0; }}\n{}echo \"V:$v\"\n[ \"$v\" = none ] && exit 0\n{pull}\
         if out=$(c config --hash='*' 2>&1); then printf '%s\\n' \"$out\" | sed 's/^/H:/'; \
         else printf '%s\\n' \"$out\" | sed 's/^/E:/'; exit 0; fi\n{}\n",
        quote(src),
        compose_fn(files, project),
        ps_script(project)
    )
}

fn parse_containers(out: &str) -> Vec<Container> {
    out.lines()
        .filter_map(|l| l.strip_prefix("C:"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 8).then(|| Container {
                id: f[0].into(),
                name: f[1].into(),
                state: f[2].into(),
                service: f[3].into(),
                hash: f[4].into(),
                image: f[5].into(),
                oneoff: f[6].eq_ignore_ascii_case("true"),
                status: f[7].into(),
            })
        })
        .collect()
}

fn parse(out: &str) -> Current {
    let mut c = Current {
        containers: parse_containers(out),
        ..Default::default()
    };
    let mut errors = Vec::new();
    for line in out.lines() {
        if line == "NODIR" {
            c.nodir = true;
        } else if let Some(v) = line.strip_prefix("V:") {
            c.version = v.trim().parse().ok();
        } else if let Some(h) = line.strip_prefix("H:") {
            if let Some((s, hash)) = h.trim().split_once(' ') {
                c.hashes.insert(s.to_string(), hash.trim().to_string());
            }
        } else if let Some(e) = line.strip_prefix("E:") {
            errors.push(e.to_string());
        }
    }
    if !errors.is_empty() {
        c.config_error = Some(errors.join("\n").trim().to_string());
    }
    c
}

/// The project name compose derives from the directory (v1 and v2 agree for usual
/// names): lower case, only `[a-z0-9_-]`, starting with a letter or digit.
fn default_project(src: &str) -> String {
    let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let name: String = base
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    name.trim_start_matches(['_', '-']).to_string()
}

/// One action as Ansible's module reports it.
#[derive(Debug, Clone, PartialEq)]
struct Action {
    status: &'static str,
    id: String,
    service: String,
}

impl Action {
    fn value(&self) -> Value {
        let m: Vars = [
            ("what", "container"),
            ("id", self.id.as_str()),
            ("status", self.status),
            ("service", self.service.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
        Value::from_iter(m)
    }
}

struct Desired<'a> {
    state: &'a str,
    recreate: &'a str,
    remove_orphans: bool,
    /// Only these services (empty: all).
    services: &'a [String],
}

/// What compose would do, per container; empty when the project is converged.
fn actions(cur: &Current, d: &Desired<'_>) -> Vec<Action> {
    let mut out = Vec::new();
    let wanted = |s: &str| d.services.is_empty() || d.services.iter().any(|x| x == s);
    let conts = |s: &str| {
        cur.containers
            .iter()
            .filter(move |c| c.service == s && !c.oneoff)
            .collect::<Vec<_>>()
    };
    match d.state {
        "absent" => {
            for c in cur.containers.iter().filter(|c| wanted(&c.service)) {
                if c.running() {
                    out.push(act("Stopping", &c.name, &c.service));
                }
                out.push(act("Removing", &c.name, &c.service));
            }
        }
        "stopped" => {
            for (s, _) in cur.hashes.iter().filter(|(s, _)| wanted(s)) {
                let cs = conts(s);
                if cs.is_empty() {
                    out.push(act("Creating", s, s));
                }
                for c in cs.into_iter().filter(|c| c.running()) {
                    out.push(act("Stopping", &c.name, s));
                }
            }
        }
        _ => {
            for (s, hash) in cur.hashes.iter().filter(|(s, _)| wanted(s)) {
                let cs = conts(s);
                if cs.is_empty() {
                    out.push(act("Creating", s, s));
                    continue;
                }
                for c in cs {
                    let stale = match d.recreate {
                        "always" => true,
                        "never" => false,
                        _ => &c.hash != hash,
                    };
                    if stale {
                        out.push(act("Recreating", &c.name, s));
                    } else if d.state == "restarted" {
                        out.push(act("Restarting", &c.name, s));
                    } else if !c.running() {
                        out.push(act("Starting", &c.name, s));
                    }
                }
            }
            if d.remove_orphans && d.services.is_empty() {
                for c in cur
                    .containers
                    .iter()
                    .filter(|c| !c.oneoff && !cur.hashes.contains_key(&c.service))
                {
                    out.push(act("Removing", &c.name, &c.service));
                }
            }
        }
    }
    out
}

fn act(status: &'static str, id: &str, service: &str) -> Action {
    Action {
        status,
        id: id.to_string(),
        service: service.to_string(),
    }
}

impl Module for DockerCompose {
    fn spec(&self) -> &'static ModuleSpec {
        &SPEC
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let src = args.req_str("project_src")?;
        let files = args.str_list("files")?;
        let state = args.str("state")?.unwrap_or_else(|| "present".into());
        let recreate = args.str("recreate")?.unwrap_or_else(|| "auto".into());
        let pull = args.str("pull")?.unwrap_or_else(|| "policy".into());
        let remove_orphans = args.bool("remove_orphans", false)?;
        let services = args.str_list("services")?;
        let project = match args.str("project_name")? {
            Some(p) => p,
            None => default_project(&src),
        };
        if project.is_empty() {
            return Err(Error::module(format!(
                "cannot derive a Compose project name from project_src '{src}'"
            ))
            .with_help("set project_name"));
        }
        // pull: always pulls during the query (not in check mode), so that a new image
        // shows up as a changed configuration hash, as with daemon_reload.
        let pull_first = pull == "always" && !ctx.check && state != "absent";
        let out = ctx.sh(&query_script(&src, &files, &project, pull_first), None)?;
        let cur = parse(&out.stdout_str());
        if cur.nodir {
            return Err(Error::module(format!(
                "project_src {src} does not exist or is not a directory"
            ))
            .with_help("copy or template the compose file to the host first"));
        }
        let Some(version) = cur.version else {
            return Err(Error::module(
                "neither `docker compose` (v2 plugin) nor `docker-compose` (v1) works on the host",
            )
            .with_help("install docker-compose-plugin or docker-compose (Debian: apt install docker-compose)"));
        };
        if let Some(e) = &cur.config_error {
            if state != "absent" || cur.containers.is_empty() {
                return Err(Error::module(format!(
                    "docker compose config failed in {src}: {e}"
                ))
                .with_help("check the compose file with `docker compose config` (or `docker-compose config`) on the host"));
            }
        }
        for s in &services {
            if !cur.hashes.contains_key(s) && state != "absent" {
                return Err(Error::module(format!(
                    "service '{s}' is not defined in the compose project in {src}"
                )));
            }
        }
        let acts = actions(
            &cur,
            &Desired {
                state: &state,
                recreate: &recreate,
                remove_orphans,
                services: &services,
            },
        );
        let mut result = Vars::new();
        result.insert(
            "containers".into(),
            Value::from(
                cur.containers
                    .iter()
                    .map(|c| c.to_value(&project))
                    .collect::<Vec<_>>(),
            ),
        );
        result.insert(
            "actions".into(),
            Value::from(acts.iter().map(Action::value).collect::<Vec<_>>()),
        );
        result.insert(
            "compose".into(),
            Value::from(if version == 2 {
                "docker compose"
            } else {
                "docker-compose"
            }),
        );
        if acts.is_empty() {
            return Ok(Plan::no_change(result));
        }
        let mut svc_args = String::new();
        for s in &services {
            svc_args.push(' ');
            svc_args.push_str(&quote(s));
        }
        let mut up = String::from("c up -d");
        if remove_orphans {
            up.push_str(" --remove-orphans");
        }
        match recreate.as_str() {
            "always" => up.push_str(" --force-recreate"),
            "never" => up.push_str(" --no-recreate"),
            _ => {}
        }
        if version == 2 && matches!(pull.as_str(), "always" | "missing" | "never") {
            up.push_str(&format!(" --pull {pull}"));
        }
        up.push_str(&svc_args);
        let needs_up = acts.iter().any(|a| {
            matches!(
                a.status,
                "Creating" | "Recreating" | "Starting" | "Removing"
            )
        });
        let verb = match state.as_str() {
            "absent" => {
                let mut s = String::from("c down");
                if remove_orphans {
                    s.push_str(" --remove-orphans");
                }
                if !services.is_empty() {
                    // `down` takes no services: stop and remove just those.
                    s = format!("c rm -s -f{svc_args}");
                }
                s
            }
            "stopped" => {
                let mut s = String::new();
                if acts.iter().any(|a| a.status == "Creating") {
                    s.push_str(&format!("c up --no-start{svc_args} && "));
                }
                s.push_str(&format!("c stop{svc_args}"));
                s
            }
            "restarted" => {
                if needs_up {
                    format!("{up} && c restart{svc_args}")
                } else {
                    format!("c restart{svc_args}")
                }
            }
            _ => up,
        };
        let script = format!(
            "cd -- {} || exit 1\n{}{verb}\nrc=$?\n{}\nexit $rc\n",
            quote(&src),
            compose_fn(&files, &project),
            ps_script(&project)
        );
        let diff = Diff {
            before_header: format!("compose project {project}"),
            after_header: format!("compose project {project}"),
            before: cur
                .containers
                .iter()
                .map(|c| format!("{}: {} ({})\n", c.service, c.name, c.state))
                .collect(),
            after: acts
                .iter()
                .map(|a| format!("{}: {} {}\n", a.service, a.status, a.id))
                .collect(),
        };
        let host = ctx.host.to_string();
        let proj = project.clone();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let out = ctx.sh(&script, None)?;
            if out.rc != 0 {
                return Err(Error::module(format!(
                    "compose failed for project {proj}: {}",
                    out.stderr_str().trim()
                ))
                .with_help(format!(
                    "run the same compose command in {src} on {host} to see the full output"
                )));
            }
            let mut r = Vars::new();
            r.insert(
                "containers".into(),
                Value::from(
                    parse_containers(&out.stdout_str())
                        .iter()
                        .map(|c| c.to_value(&proj))
                        .collect::<Vec<_>>(),
                ),
            );
            Ok(r)
        });
        Ok(
            Plan::change(Change::Modify(vec!["containers".into()]), result, apply)
                .with_diff(Some(diff)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "V:1\nH:web aaa\nH:worker bbb\nC:1\tapp_web_1\trunning\tweb\taaa\tdrover/busybox\tFalse\tUp 2 seconds\nC:2\tapp_worker_1\texited\tworker\tbbb\tdrover/busybox\tFalse\tExited (0)\nC:3\tapp_old_1\trunning\told\tccc\tdrover/busybox\tFalse\tUp 1 hour\n";

    fn desired<'a>(state: &'a str, recreate: &'a str, orphans: bool) -> Desired<'a> {
        Desired {
            state,
            recreate,
            remove_orphans: orphans,
            services: &[],
        }
    }

    #[test]
    fn plans_exactly_what_compose_would_do() {
        let cur = parse(OUT);
        assert_eq!(cur.version, Some(1));
        assert_eq!(cur.hashes.len(), 2);
        assert_eq!(cur.containers.len(), 3);
        let a = actions(&cur, &desired("present", "auto", false));
        assert_eq!(a, vec![act("Starting", "app_worker_1", "worker")]);
        let a = actions(&cur, &desired("present", "auto", true));
        assert_eq!(a.len(), 2);
        assert_eq!(a[1], act("Removing", "app_old_1", "old"));
        let mut changed = parse(&OUT.replace("H:web aaa", "H:web zzz"));
        let a = actions(&changed, &desired("present", "auto", false));
        assert_eq!(a[0], act("Recreating", "app_web_1", "web"));
        assert!(actions(&changed, &desired("present", "never", false))
            .iter()
            .all(|a| a.status != "Recreating"));
        changed.containers.clear();
        let a = actions(&changed, &desired("present", "auto", false));
        assert_eq!(
            a,
            vec![
                act("Creating", "web", "web"),
                act("Creating", "worker", "worker")
            ]
        );
        assert!(actions(&changed, &desired("absent", "auto", false)).is_empty());
        let a = actions(&cur, &desired("absent", "auto", false));
        assert_eq!(a.iter().filter(|a| a.status == "Removing").count(), 3);
        let a = actions(&cur, &desired("stopped", "auto", false));
        assert_eq!(a, vec![act("Stopping", "app_web_1", "web")]);
    }

    #[test]
    fn reads_errors_and_names() {
        let cur = parse("V:1\nE:ERROR: yaml.scanner.ScannerError\nE:  in line 3\n");
        assert_eq!(
            cur.config_error.as_deref(),
            Some("ERROR: yaml.scanner.ScannerError\n  in line 3")
        );
        assert!(parse("NODIR\n").nodir);
        assert_eq!(parse("V:none\n").version, None);
        assert_eq!(default_project("/srv/My App.v2/"), "myappv2");
        assert_eq!(default_project("/srv/_x"), "x");
    }
}
