//! What a run was asked to do: the command line's options, as the executor reads them.

use crate::vars::Vars;
use std::path::PathBuf;

/// The options of one `drover apply` run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub check: bool,
    pub diff: bool,
    pub limit: Option<String>,
    /// `--shard K/N`: only this runner's share of the selected hosts.
    pub shard: Option<crate::inventory::Shard>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: Vars,
    pub forks: usize,
    pub verbosity: u8,
    pub roles_path: Vec<PathBuf>,
    pub ssh: crate::connection::ssh::SshOptions,
    /// How long to wait for another run's lock on a host.
    pub lock_timeout: std::time::Duration,
    /// Every change in a round trip of its own (`exec::batch` off).
    pub no_batch_writes: bool,
    /// `--ask-become-pass`: the sudo password, asked once.
    pub become_password: Option<String>,
    /// `become*` defaults from `ansible.cfg` / `ANSIBLE_BECOME*`.
    pub become_defaults: crate::cli::apply::BecomeDefaults,
}
