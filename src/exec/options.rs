//! What a run was asked to do: the command line's options, as the executor reads them.

use crate::vars::Vars;
use std::path::PathBuf;

/// The options of one `drover apply` run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `--check`: plan every task, change nothing.
    pub check: bool,
    /// `--diff`: show what changes (or would).
    pub diff: bool,
    /// `--limit`: a host pattern every play is narrowed to.
    pub limit: Option<String>,
    /// `--shard K/N`: only this runner's share of the selected hosts.
    pub shard: Option<crate::inventory::Shard>,
    /// `--tags`: only tasks with one of these run.
    pub tags: Vec<String>,
    /// `--skip-tags`: tasks with one of these do not run.
    pub skip_tags: Vec<String>,
    /// `-e`: variables above every other source.
    pub extra_vars: Vars,
    /// `--forks`: hosts walked at once.
    pub forks: usize,
    /// `-v` count.
    pub verbosity: u8,
    /// `--roles-path` and `ANSIBLE_ROLES_PATH`: where roles are looked for.
    pub roles_path: Vec<PathBuf>,
    /// Host key checking, known_hosts and the other SSH settings.
    pub ssh: crate::connection::ssh::SshOptions,
    /// How long to wait for another run's lock on a host.
    pub lock_timeout: std::time::Duration,
    /// Every change in a round trip of its own (`exec::batch` off).
    pub no_batch_writes: bool,
    /// Gather `ansible_python` (a Python start per host): the run's content reads it.
    pub python_fact: bool,
    /// `--ask-become-pass`: the sudo password, asked once.
    pub become_password: Option<String>,
    /// `become*` defaults from `ansible.cfg` / `ANSIBLE_BECOME*`.
    pub become_defaults: crate::cli::apply::BecomeDefaults,
}
