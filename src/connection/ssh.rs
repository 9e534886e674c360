//! SSH transport (ssh2). One session per host for the whole run, owned by that host's
//! walker thread. Placeholder until the transport lands: hosts that need SSH are reported
//! unreachable with this reason, and the other hosts run.

use super::Connection;
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::inventory::Vars;
use std::path::PathBuf;
use std::time::Duration;

/// How host keys are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostKeyChecking {
    /// Unknown and changed keys are refused (the default).
    #[default]
    Strict,
    /// Unknown keys are recorded in the known_hosts file; changed keys are refused.
    AcceptNew,
    /// No checking (a changed key is still refused).
    Off,
}

/// Options from the command line that shape every SSH connection of a run.
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// `--known-hosts FILE`; `~/.ssh/known_hosts` when unset.
    pub known_hosts: Option<PathBuf>,
    pub host_key_checking: HostKeyChecking,
    /// `--private-key FILE`, used when the inventory names none.
    pub private_key: Option<PathBuf>,
    /// `-F FILE`; `~/.ssh/config` when unset.
    pub config_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// Connection attempts after the first, with backoff.
    pub retries: u32,
    /// `--ask-pass`: the login password, asked once.
    pub password: Option<String>,
    /// Passphrase for encrypted keys, asked once when needed.
    pub key_passphrase: Option<String>,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            known_hosts: None,
            host_key_checking: HostKeyChecking::Strict,
            private_key: None,
            config_file: None,
            connect_timeout: Duration::from_secs(10),
            retries: 2,
            password: None,
            key_passphrase: None,
        }
    }
}

pub fn connect(host: &str, _vars: &Vars, _opts: &SshOptions) -> Result<Box<dyn Connection>> {
    Err(Error::new(
        ErrorKind::Unreachable,
        format!("{host}: the SSH transport is not available in this build yet"),
    )
    .with_help("set ansible_connection: local for hosts drover should manage on this machine"))
}
