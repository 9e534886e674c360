//! `drover apply` and `drover validate`.

use super::load::load_run;
use crate::diagnostics::Result;
use crate::exec::{self, RunOptions};
use crate::output::{Event, HumanSink, JsonSink, Sink};
use std::path::PathBuf;

pub struct ApplyArgs {
    pub playbooks: Vec<PathBuf>,
    pub inventory: Vec<String>,
    pub check: bool,
    pub diff: bool,
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: Vec<String>,
    pub forks: usize,
    pub verbosity: u8,
    pub roles_path: Vec<PathBuf>,
    pub json: bool,
    pub color: bool,
    pub detailed_exitcode: bool,
    pub ssh: crate::connection::ssh::SshOptions,
}

fn split_tags(t: &[String]) -> Vec<String> {
    t.iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Run playbooks; returns the process exit code.
pub fn apply(a: ApplyArgs) -> Result<i32> {
    let loaded = load_run(&a.playbooks, &a.inventory, &a.extra_vars, &a.roles_path)?;
    crate::preflight::check(
        &loaded.playbooks,
        &loaded.inventory,
        &loaded.extra_vars,
        &loaded.roles_path,
    )?;
    let opts = RunOptions {
        check: a.check,
        diff: a.diff,
        limit: a.limit.clone(),
        tags: split_tags(&a.tags),
        skip_tags: split_tags(&a.skip_tags),
        extra_vars: loaded.extra_vars.clone(),
        forks: a.forks,
        verbosity: a.verbosity,
        roles_path: loaded.roles_path.clone(),
        ssh: a.ssh.clone(),
    };
    let sink: Box<dyn Sink> = if a.json {
        Box::new(JsonSink::new(Box::new(std::io::stdout())))
    } else {
        Box::new(HumanSink::new(
            Box::new(std::io::stdout()),
            a.color,
            a.verbosity,
        ))
    };
    let names: Vec<String> = a
        .playbooks
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    sink.event(&Event::RunStart {
        playbooks: &names,
        check: a.check,
    });
    let summary = exec::run(
        &loaded.playbooks,
        loaded.inventory.clone(),
        &opts,
        sink.as_ref(),
    )?;
    let code = summary.exit_code();
    if code == 0 && a.detailed_exitcode && summary.changed() {
        return Ok(2);
    }
    if a.detailed_exitcode && code != 0 {
        return Ok(1);
    }
    Ok(code)
}

/// Parse and check everything without touching a host.
pub fn validate(
    playbooks: &[PathBuf],
    inventory: &[String],
    extra: &[String],
    roles: &[PathBuf],
) -> Result<String> {
    let loaded = load_run(playbooks, inventory, extra, roles)?;
    crate::preflight::check(
        &loaded.playbooks,
        &loaded.inventory,
        &loaded.extra_vars,
        &loaded.roles_path,
    )?;
    let plays: usize = loaded.playbooks.iter().map(|p| p.plays.len()).sum();
    // Host patterns must resolve, too.
    for pb in &loaded.playbooks {
        for play in &pb.plays {
            if let Some(p) = play.hosts.as_str().filter(|p| !p.contains("{{")) {
                crate::inventory::pattern::select(&loaded.inventory, p).map_err(|e| {
                    crate::diagnostics::Error::invalid(e.0, &play.hosts_span)
                        .with_help(e.1.unwrap_or_default())
                })?;
            }
        }
    }
    Ok(format!(
        "ok: {} playbook(s), {plays} play(s), {} host(s) in the inventory",
        loaded.playbooks.len(),
        loaded.inventory.hosts.len()
    ))
}
