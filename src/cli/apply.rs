//! `drover apply` and `drover validate`.

use super::load::load_run;
use crate::diagnostics::Result;
use crate::exec::{self, RunOptions};
use crate::output::{
    Event, GithubSink, HumanSink, JsonSink, ProgressSink, ReportFormat, ReportSink, Sink, Tee,
};
use std::path::PathBuf;

/// What `drover apply` and `drover validate` were asked to do, as main.rs parsed it
/// from the command line.
pub struct ApplyArgs {
    /// The playbooks to run, in order.
    pub playbooks: Vec<PathBuf>,
    /// `-i` sources: files, directories or `h1,h2,` lists.
    pub inventory: Vec<String>,
    /// `--check`: plan every task, change nothing.
    pub check: bool,
    /// `--diff`: show what each change does to a file.
    pub diff: bool,
    /// `--limit`: a host pattern narrowing every play.
    pub limit: Option<String>,
    /// `--shard K/N`: only this runner's share of the hosts.
    pub shard: Option<crate::inventory::Shard>,
    /// `--tags`: run only tasks with one of these tags.
    pub tags: Vec<String>,
    /// `--skip-tags`: skip tasks with one of these tags.
    pub skip_tags: Vec<String>,
    /// `-e` values: `k=v` pairs, YAML/JSON text or `@file`.
    pub extra_vars: Vec<String>,
    /// `--forks`: how many hosts run at once.
    pub forks: usize,
    /// The number of `-v` given.
    pub verbosity: u8,
    /// `--roles-path` directories, searched after `roles/` beside the playbook.
    pub roles_path: Vec<PathBuf>,
    /// How events are printed on stdout.
    pub format: OutputFormat,
    /// Colour the human output.
    pub color: bool,
    /// Show the live progress view (a terminal on stderr, not --no-progress).
    pub progress: bool,
    /// `--report` files (Markdown, JSON or JUnit XML, by extension).
    pub reports: Vec<PathBuf>,
    /// `--detailed-exitcode`: exit 2 when something changed (and 1 for any failure).
    pub detailed_exitcode: bool,
    /// How every SSH connection of the run is made.
    pub ssh: crate::connection::ssh::SshOptions,
    /// `--lock-timeout`: how long to wait for another run's host lock.
    pub lock_timeout: std::time::Duration,
    /// `--no-batch-writes`: every change in a round trip of its own.
    pub no_batch_writes: bool,
    /// `-K`: ask for the become password once (no echo on a terminal, a line of stdin
    /// otherwise).
    pub ask_become_pass: bool,
    /// `-k`: ask for the SSH login password once (asked before the become password).
    pub ask_pass: bool,
    /// `[privilege_escalation]` defaults from the configuration.
    pub become_: BecomeDefaults,
    /// `gathering = explicit`: plays without `gather_facts:` gather none.
    pub gather_explicit: bool,
}

/// `become`, `become_user`, `become_method` from `ansible.cfg` / `ANSIBLE_BECOME*`: used
/// where neither a keyword nor an `ansible_become*` variable says.
#[derive(Clone, Debug, Default)]
pub struct BecomeDefaults {
    /// `become`.
    pub become_: Option<bool>,
    /// `become_user`.
    pub user: Option<String>,
    /// `become_method`.
    pub method: Option<String>,
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
    let mut loaded = load_run(&a.playbooks, &a.inventory, &a.extra_vars, &a.roles_path)?;
    if a.verbosity >= 1 {
        for note in &loaded.inventory.notes {
            eprintln!("note: {note}");
        }
    }
    if a.gather_explicit {
        for play in loaded.playbooks.iter_mut().flat_map(|p| p.plays.iter_mut()) {
            if !play.gather_facts_given {
                play.gather_facts = false;
            }
        }
    }
    let checked = crate::preflight::check(
        &loaded.playbooks,
        &loaded.inventory,
        &loaded.extra_vars,
        &loaded.roles_path,
    )?;
    // Dynamic includes with problems run only if a host reaches them: said with -v.
    if a.verbosity > 0 {
        for w in &checked.warnings {
            eprintln!("warning: {}", crate::vault::mask(w));
        }
    }
    let mut ssh = a.ssh.clone();
    if a.ask_pass {
        ssh.password = Some(ask_password("SSH")?);
    }
    let opts = RunOptions {
        check: a.check,
        diff: a.diff,
        limit: a.limit.clone(),
        shard: a.shard,
        tags: split_tags(&a.tags),
        skip_tags: split_tags(&a.skip_tags),
        extra_vars: loaded.extra_vars.clone(),
        forks: a.forks,
        verbosity: a.verbosity,
        roles_path: loaded.roles_path.clone(),
        ssh,
        lock_timeout: a.lock_timeout,
        no_batch_writes: a.no_batch_writes,
        python_fact: checked.reads_python_fact,
        become_defaults: a.become_.clone(),
        become_password: if a.ask_become_pass {
            Some(ask_password("BECOME")?)
        } else {
            None
        },
    };
    let sink = build_sink(&a)?;
    crate::exec::interrupt::install();
    let names: Vec<String> = a
        .playbooks
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    sink.event(&Event::RunStart {
        playbooks: &names,
        check: a.check,
    });
    let summary = exec::run(&loaded.playbooks, loaded.inventory.clone(), &opts, &sink)?;
    sink.finish()
        .map_err(|e| crate::diagnostics::Error::io(format!("cannot write the report: {e}")))?;
    if let Some(code) = crate::exec::interrupt::exit_code() {
        return Ok(code);
    }
    let code = summary.exit_code();
    if code == 0 && a.detailed_exitcode && summary.changed() {
        return Ok(2);
    }
    if a.detailed_exitcode && code != 0 {
        return Ok(1);
    }
    Ok(code)
}

/// Parse and check everything without touching a host. The text to print: a
/// `warning:` line for each problem in dynamically included content, then the summary.
pub fn validate(
    playbooks: &[PathBuf],
    inventory: &[String],
    extra: &[String],
    roles: &[PathBuf],
) -> Result<String> {
    let loaded = load_run(playbooks, inventory, extra, roles)?;
    let warnings = crate::preflight::check(
        &loaded.playbooks,
        &loaded.inventory,
        &loaded.extra_vars,
        &loaded.roles_path,
    )?
    .warnings;
    let plays: usize = loaded.playbooks.iter().map(|p| p.plays.len()).sum();
    // Host patterns must resolve, too (leniently after add_host/group_by: see exec::run).
    let mut inventory_may_change = false;
    for pb in &loaded.playbooks {
        for play in &pb.plays {
            let select = if inventory_may_change {
                crate::inventory::pattern::select_lenient
            } else {
                crate::inventory::pattern::select
            };
            inventory_may_change |= crate::modules::inventory::play_changes_inventory(play);
            if let Some(p) = play.hosts.as_str().filter(|p| !p.contains("{{")) {
                select(&loaded.inventory, p).map_err(|e| {
                    crate::diagnostics::Error::invalid(e.0, &play.hosts_span)
                        .with_help(e.1.unwrap_or_default())
                })?;
            }
        }
    }
    let mut out = String::new();
    for w in &warnings {
        out.push_str(&format!("warning: {}\n", crate::vault::mask(w)));
    }
    Ok(format!(
        "{out}ok: {} playbook(s), {plays} play(s), {} host(s) in the inventory",
        loaded.playbooks.len(),
        loaded.inventory.hosts.len()
    ))
}

/// The `--format` of the events printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// Lines for people, as ansible-playbook prints them.
    Human,
    /// One JSON event per line (the schema `drover schema` prints).
    Json,
    /// GitHub Actions workflow commands: groups and annotations.
    Github,
}

/// The output channels of a run: the chosen format, plus reports.
fn build_sink(a: &ApplyArgs) -> Result<Tee> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    match a.format {
        OutputFormat::Human if a.progress => {
            sinks.push(Box::new(ProgressSink::new(a.color, a.verbosity)))
        }
        OutputFormat::Human => sinks.push(Box::new(HumanSink::new(
            Box::new(std::io::stdout()),
            a.color,
            a.verbosity,
        ))),
        OutputFormat::Json => {
            sinks.push(Box::new(JsonSink::new(Box::new(std::io::stdout()))));
            // People still see what happens, on stderr.
            sinks.push(Box::new(HumanSink::new(
                Box::new(std::io::stderr()),
                false,
                a.verbosity,
            )));
        }
        OutputFormat::Github => {
            sinks.push(Box::new(GithubSink::new(Box::new(std::io::stdout()))));
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
            {
                sinks.push(Box::new(ReportSink::new(
                    PathBuf::from(summary),
                    ReportFormat::Markdown,
                    true,
                )));
            }
        }
    }
    for r in &a.reports {
        let format = ReportFormat::from_path(r).ok_or_else(|| {
            crate::diagnostics::Error::io(format!("--report {}: unknown report type", r.display()))
                .with_help("name the file .md, .json or .xml (JUnit)")
        })?;
        sinks.push(Box::new(ReportSink::new(r.clone(), format, false)));
    }
    Ok(Tee(sinks))
}

/// Read a password once, before any host is touched: without echo on a terminal, else
/// one line of stdin (so CI can pipe it).
fn ask_password(what: &str) -> Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{what} password: ")).map_err(|e| {
            crate::diagnostics::Error::io(format!("cannot read the {what} password: {e}"))
        })?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| {
            crate::diagnostics::Error::io(format!(
                "cannot read the {what} password from stdin: {e}"
            ))
        })?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    // Never printed anywhere: every output channel masks it.
    crate::vault::register_secret(&password);
    Ok(password)
}
