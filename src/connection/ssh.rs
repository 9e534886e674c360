//! SSH transport. The ssh2-based transport (one session per host, host-key checking,
//! ProxyJump) is the SSH issue's work; until it lands, hosts that need SSH are reported
//! unreachable with this reason, and the other hosts run.

use super::Connection;
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::inventory::Vars;

pub fn connect(host: &str, _vars: &Vars) -> Result<Box<dyn Connection>> {
    Err(Error::new(
        ErrorKind::Unreachable,
        format!("{host}: the SSH transport is not available in this build yet"),
    )
    .with_help("set ansible_connection: local for hosts drover should manage on this machine"))
}
