//! The `drover` command line: parse arguments, call one function per verb.

use clap::{Parser, Subcommand};
use drover::cli;
use drover::diagnostics::render;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "drover",
    version,
    about = "Fast, agentless, Ansible-compatible configuration management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Inventory file, directory or comma list (repeatable)
    #[arg(short = 'i', long = "inventory")]
    inventory: Vec<String>,
    /// Extra variables: key=value, @file.yml or JSON (repeatable)
    #[arg(short = 'e', long = "extra-vars")]
    extra_vars: Vec<String>,
    /// Extra directories to search for roles
    #[arg(long = "roles-path")]
    roles_path: Vec<PathBuf>,
    #[command(flatten)]
    vault: cli::vault::VaultOpts,
}

#[derive(clap::Args)]
struct SshArgs {
    /// known_hosts file to verify host keys against (default ~/.ssh/known_hosts)
    #[arg(long = "known-hosts")]
    known_hosts: Option<PathBuf>,
    /// Host key checking: strict (default), accept-new or off (a changed key is always refused)
    #[arg(long = "host-key-checking", value_parser = ["strict", "accept-new", "off"])]
    host_key_checking: Option<String>,
    /// Private key file for hosts whose inventory names none
    #[arg(long = "private-key")]
    private_key: Option<PathBuf>,
    /// ssh_config file (default ~/.ssh/config)
    #[arg(short = 'F', long = "ssh-config")]
    ssh_config: Option<PathBuf>,
    /// Seconds to wait for a connection (default 10)
    #[arg(long = "timeout")]
    timeout: Option<u64>,
    /// Connection attempts after the first, with backoff
    #[arg(long = "retries", default_value_t = 2)]
    retries: u32,
}

impl SshArgs {
    /// The SSH options: these flags over the configuration (`ansible.cfg`, `ANSIBLE_*`).
    fn options(
        &self,
        cfg: &cli::config::AnsibleConfig,
    ) -> drover::diagnostics::Result<drover::connection::ssh::SshOptions> {
        use drover::connection::ssh::{HostKeyChecking, SshOptions};
        let checking = match self.host_key_checking.as_deref() {
            Some("accept-new") => HostKeyChecking::AcceptNew,
            Some("off") => HostKeyChecking::Off,
            Some(_) => HostKeyChecking::Strict,
            None => match cfg.bool("defaults", "host_key_checking")? {
                Some(false) => HostKeyChecking::Off,
                _ => HostKeyChecking::Strict,
            },
        };
        let timeout = match self.timeout {
            Some(t) => t,
            None => cfg.number("defaults", "timeout")?.unwrap_or(10),
        };
        Ok(SshOptions {
            known_hosts: self.known_hosts.clone(),
            host_key_checking: checking,
            private_key: self.private_key.clone().or_else(|| {
                cfg.paths("defaults", "private_key_file", '\n')
                    .into_iter()
                    .next()
            }),
            config_file: self.ssh_config.clone(),
            connect_timeout: std::time::Duration::from_secs(timeout),
            retries: self.retries,
            remote_user: cfg
                .get("defaults", "remote_user")
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            ssh_args: cfg
                .get("ssh_connection", "ssh_args")
                .map(str::to_string)
                .unwrap_or_default(),
            ..SshOptions::default()
        })
    }
}

impl Common {
    /// Fill what the flags leave unset from the configuration: inventory (only without
    /// `-i`), roles path (after the flags), vault password files and identities (only
    /// without vault flags).
    fn configure(&mut self, cfg: &cli::config::AnsibleConfig) {
        if self.inventory.is_empty() {
            self.inventory = cfg.inventory();
        }
        // ANSIBLE_ROLES_PATH itself is read by the loader (after DROVER_ROLES_PATH).
        if matches!(
            cfg.entry("defaults", "roles_path").map(|e| &e.source),
            Some(cli::config::Source::File(_))
        ) {
            self.roles_path
                .extend(cfg.paths("defaults", "roles_path", ':'));
        }
        let v = &mut self.vault;
        if v.vault_id.is_empty() && v.vault_password_file.is_empty() && !v.ask_vault_pass {
            v.vault_id = cfg.vault_ids();
            v.vault_password_file = cfg.paths("defaults", "vault_password_file", '\n');
        }
    }
}

// Parsed once per process: the size difference between verbs costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Converge hosts to the playbooks
    Apply {
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// Change nothing; report what would change
        #[arg(short = 'C', long)]
        check: bool,
        /// Show diffs of what changes
        #[arg(short = 'D', long)]
        diff: bool,
        /// Only hosts matching this pattern
        #[arg(short = 'l', long)]
        limit: Option<String>,
        /// Only this runner's share K of N of the selected hosts (a CI matrix of N jobs)
        #[arg(long, value_name = "K/N")]
        shard: Option<drover::inventory::Shard>,
        /// Only tasks with these tags
        #[arg(short = 't', long)]
        tags: Vec<String>,
        /// Skip tasks with these tags
        #[arg(long = "skip-tags")]
        skip_tags: Vec<String>,
        /// Hosts in flight at once (default 50)
        #[arg(short = 'f', long)]
        forks: Option<usize>,
        /// More output (-v, -vv, -vvv)
        #[arg(short = 'v', action = clap::ArgAction::Count)]
        verbose: u8,
        /// Output format
        #[arg(long, value_parser = ["human", "json", "github"], default_value = "human")]
        format: String,
        /// Plain lines even on a terminal
        #[arg(long = "no-progress")]
        no_progress: bool,
        /// Also write a report: FILE.md, FILE.json or FILE.xml (JUnit); repeatable
        #[arg(long)]
        report: Vec<PathBuf>,
        /// Seconds to wait for another drover run to release a host
        #[arg(long = "lock-timeout", default_value_t = 60)]
        lock_timeout: u64,
        /// Send each file change in a round trip of its own instead of batching the
        /// writes of consecutive file tasks (same results, more round trips)
        #[arg(long = "no-batch-writes")]
        no_batch_writes: bool,
        /// Ask for the sudo password once (read from stdin when it is not a terminal)
        #[arg(short = 'K', long = "ask-become-pass")]
        ask_become_pass: bool,
        /// Ask for the SSH login password once (for hosts without keys)
        #[arg(short = 'k', long = "ask-pass")]
        ask_pass: bool,
        /// Colours: auto, always, never (NO_COLOR is honoured)
        #[arg(long, value_parser = ["auto", "always", "never"], default_value = "auto")]
        color: String,
        /// With --check: exit 0 when nothing would change, 2 when changes are pending, 1 on error
        #[arg(long = "detailed-exitcode")]
        detailed_exitcode: bool,
        #[command(flatten)]
        ssh: SshArgs,
    },
    /// Parse and check playbooks, roles and inventory without touching any host
    Validate {
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Print the task graph (DOT, or Mermaid with --format mermaid)
    Graph {
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// Only hosts matching this pattern
        #[arg(short = 'l', long)]
        limit: Option<String>,
        /// dot, mermaid, or json (nodes with the file and line of their task)
        #[arg(long, value_parser = ["dot", "mermaid", "json"], default_value = "dot")]
        format: String,
        /// none: a node per host and task; hosts: a node per task; roles: a node per role
        #[arg(long, value_parser = ["none", "hosts", "roles"], default_value = "none")]
        collapse: String,
        /// Also render an SVG with Graphviz
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Print a JSON Schema (playbook, tasks or inventory) for yaml-language-server
    Schema {
        #[arg(value_parser = ["playbook", "tasks", "inventory"], default_value = "playbook")]
        kind: String,
    },
    /// Print shell completions
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Show the inventory
    Inventory {
        #[command(flatten)]
        common: Common,
        /// All hosts and groups, as ansible-inventory --list prints them
        #[arg(long, group = "mode")]
        list: bool,
        /// The group tree
        #[arg(long, group = "mode")]
        graph: bool,
        /// One host's variables
        #[arg(long, group = "mode")]
        host: Option<String>,
    },
    /// Combine reports: `drover report merge shard-*.json -o run.md -o run.json`
    Report {
        #[command(subcommand)]
        action: ReportCommand,
    },
    /// Encrypt, decrypt, view, edit and rekey Ansible Vault files and strings
    Vault {
        #[command(subcommand)]
        action: cli::vault::VaultCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge the JSON reports of a run's shards (`apply --shard K/N --report F.json`);
    /// exits 0, or 2/4 when a host failed/was unreachable, as `apply` does
    Merge {
        /// JSON reports written by `drover apply --report FILE.json`
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Write FILE.md, FILE.json or FILE.xml (repeatable); Markdown on stdout without
        #[arg(short = 'o', long = "output")]
        outputs: Vec<PathBuf>,
    },
}

/// Write to stdout; a closed pipe (`drover … | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Each host holds a socket (and a few pipes for local commands): raise the soft limit on
/// open files to the hard limit so hundreds of hosts do not exhaust the default 1024.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn main() {
    raise_fd_limit();
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let cfg = match cli::config::AnsibleConfig::load() {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", render(&e, color));
            std::process::exit(1);
        }
    };
    let result = match cli.command {
        Command::Apply {
            playbooks,
            common,
            check,
            diff,
            limit,
            shard,
            tags,
            skip_tags,
            forks,
            verbose,
            format,
            color: c,
            detailed_exitcode,
            ssh,
            no_progress,
            report,
            lock_timeout,
            no_batch_writes,
            ask_become_pass,
            ask_pass,
        } => (|| {
            let mut common = common;
            common.configure(&cfg);
            common.vault.install()?;
            if verbose > 0 {
                eprint!("{}", cfg.describe());
            }
            let color_out = match c.as_str() {
                "always" => true,
                "never" => false,
                _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let become_ = cli::apply::BecomeDefaults {
                become_: cfg.bool("privilege_escalation", "become")?,
                user: cfg
                    .get("privilege_escalation", "become_user")
                    .map(str::to_string),
                method: cfg
                    .get("privilege_escalation", "become_method")
                    .map(str::to_string),
            };
            cli::apply::apply(cli::apply::ApplyArgs {
                playbooks,
                inventory: common.inventory,
                check,
                diff: diff || cfg.bool("diff", "always")?.unwrap_or(false),
                limit,
                shard,
                tags,
                skip_tags,
                extra_vars: common.extra_vars,
                forks: match forks {
                    Some(f) => f,
                    None => cfg.number("defaults", "forks")?.map_or(50, |f| f as usize),
                },
                verbosity: verbose,
                roles_path: common.roles_path,
                format: match format.as_str() {
                    "json" => cli::apply::OutputFormat::Json,
                    "github" => cli::apply::OutputFormat::Github,
                    _ => cli::apply::OutputFormat::Human,
                },
                progress: !no_progress
                    && format == "human"
                    && std::io::stderr().is_terminal()
                    && std::env::var_os("CI").is_none(),
                reports: report,
                color: color_out,
                detailed_exitcode,
                ssh: ssh.options(&cfg)?,
                lock_timeout: std::time::Duration::from_secs(lock_timeout),
                no_batch_writes,
                ask_become_pass: ask_become_pass
                    || cfg
                        .bool("privilege_escalation", "become_ask_pass")?
                        .unwrap_or(false),
                ask_pass,
                become_,
                gather_explicit: match cfg.get("defaults", "gathering").map(str::trim) {
                    None | Some("implicit") | Some("smart") => false,
                    Some("explicit") => true,
                    Some(other) => {
                        return Err(drover::diagnostics::Error::io(format!(
                            "gathering = '{other}' (ansible.cfg or ANSIBLE_GATHERING) is not implicit, explicit or smart"
                        ))
                        .with_help("write gathering = implicit, explicit or smart"))
                    }
                },
            })
        })(),
        Command::Validate {
            playbooks,
            mut common,
        } => {
            common.configure(&cfg);
            common.vault.install()
        }
        .and_then(|()| {
            cli::apply::validate(
                &playbooks,
                &common.inventory,
                &common.extra_vars,
                &common.roles_path,
            )
        })
        .map(|msg| {
            emit(&format!("{msg}\n"));
            0
        }),
        Command::Graph {
            playbooks,
            mut common,
            limit,
            format,
            collapse,
            svg,
        } => {
            // The vault secrets first, as validate and apply: encrypted inventory
            // variables are read while the graph's hosts are resolved.
            common.configure(&cfg);
            common.vault.install()
        }
        .and_then(|()| {
            cli::graph::run(cli::graph::GraphArgs {
                playbooks,
                inventory: common.inventory,
                extra_vars: common.extra_vars,
                roles_path: common.roles_path,
                limit,
                format: match format.as_str() {
                    "mermaid" => cli::graph::Format::Mermaid,
                    "json" => cli::graph::Format::Json,
                    _ => cli::graph::Format::Dot,
                },
                collapse: match collapse.as_str() {
                    "hosts" => drover::graph::Collapse::Hosts,
                    "roles" => drover::graph::Collapse::Roles,
                    _ => drover::graph::Collapse::None,
                },
                svg,
            })
        })
        .map(|out| {
            emit(&out);
            0
        }),
        Command::Schema { kind } => {
            let schema = cli::schema::schema(&kind).unwrap_or_default();
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            ));
            Ok(0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let shell = match shell.as_str() {
                "zsh" => clap_complete::Shell::Zsh,
                "fish" => clap_complete::Shell::Fish,
                _ => clap_complete::Shell::Bash,
            };
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "drover", &mut buf);
            emit(&String::from_utf8_lossy(&buf));
            Ok(0)
        }
        Command::Inventory {
            mut common,
            list,
            graph,
            host,
        } => {
            let mode = if graph {
                "graph"
            } else if host.is_some() {
                "host"
            } else {
                let _ = list;
                "list"
            };
            common.configure(&cfg);
            common
                .vault
                .install()
                .and_then(|()| cli::inventory::run(&common.inventory, mode, host.as_deref()))
                .map(|out| {
                    // Variables decrypted from vault data are masked here too.
                    emit(&format!("{}\n", drover::vault::mask(out.trim_end())));
                    0
                })
        }
        Command::Report {
            action: ReportCommand::Merge { inputs, outputs },
        } => cli::report::merge(&inputs, &outputs).map(|(code, text)| {
            if let Some(t) = text {
                emit(&t);
            }
            code
        }),
        Command::Vault { action } => cli::vault::run(action),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprint!("{}", render(&e, color));
            std::process::exit(1);
        }
    }
}
