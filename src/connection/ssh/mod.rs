//! SSH transport (libssh2 through the ssh2 crate). One TCP connection and one session
//! per host for the whole play, owned by that host's walker thread; every command is a
//! channel on it running `/bin/sh -c '<script>'`.
//!
//! - `target`: where and as whom (inventory variables, then ssh_config, then defaults)
//! - `config`: the ssh_config subset; `known_hosts`: host key records
//! - `session`: connect, retry, handshake, host key policy; `auth`: authentication
//! - `tunnel`: ProxyJump pumps
//!
//! Liveness: a command may run as long as it likes; the session sends a keepalive every
//! `ServerAliveInterval` seconds (default 15) and counts the connection as lost when the
//! server has sent nothing for `ServerAliveInterval × ServerAliveCountMax` seconds
//! (default 45), or at once when the TCP connection drops. Blocking libssh2 calls
//! (channel open, exec request) use that same limit.

mod auth;
pub(crate) mod config;
pub(crate) mod known_hosts;
mod session;
pub(crate) mod target;
mod tunnel;

use super::{quote, ConnStats, Connection, Output};
use crate::diagnostics::{Error, ErrorKind, Result};
use crate::vars::Vars;
use ssh2::{Channel, ErrorCode, Session};
use std::io::{ErrorKind as IoKind, Read as _, Write as _};
use std::os::unix::io::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// OpenSSH's `StrictHostKeyChecking=no`: an unknown key is accepted and recorded
    /// in the known_hosts file when it can be (a changed key is still refused).
    No,
}

/// Options from the command line that shape every SSH connection of a run.
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// `--known-hosts FILE`; `~/.ssh/known_hosts` when unset.
    pub known_hosts: Option<PathBuf>,
    /// `--host-key-checking`: what to do with an unknown or changed host key.
    pub host_key_checking: HostKeyChecking,
    /// `--private-key FILE`, used when the inventory names none.
    pub private_key: Option<PathBuf>,
    /// `-F FILE`; `~/.ssh/config` when unset.
    pub config_file: Option<PathBuf>,
    /// `--timeout` (else ansible.cfg's `timeout`, else 10 s): how long a connection attempt may take.
    pub connect_timeout: Duration,
    /// Connection attempts after the first, with backoff.
    pub retries: u32,
    /// `--ask-pass`: the login password, asked once.
    pub password: Option<String>,
    /// Passphrase for encrypted keys, asked once when needed.
    pub key_passphrase: Option<String>,
    /// `[defaults] remote_user` / `ANSIBLE_REMOTE_USER`: the login when the inventory
    /// names none (it wins over ssh_config's `User`, as Ansible passes it as `-u`).
    pub remote_user: Option<String>,
    /// `[ssh_connection] ssh_args` / `ANSIBLE_SSH_ARGS`: OpenSSH options for every host
    /// (read before the host's `ansible_ssh_common_args` and `ansible_ssh_extra_args`).
    pub ssh_args: String,
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
            remote_user: None,
            ssh_args: String::new(),
        }
    }
}

/// Connect to inventory host `host` over SSH.
pub fn connect(host: &str, vars: &Vars, opts: &SshOptions) -> Result<Box<dyn Connection>> {
    Ok(Box::new(SshConnection::open(host, vars, opts)?))
}

/// An established SSH connection to one host.
pub struct SshConnection {
    host: String,
    user: String,
    session: Session,
    fd: RawFd,
    stats: ConnStats,
    /// No data from the server for this long: the connection is lost.
    dead_after: Duration,
    /// Why the connection was lost, once it was: every later command fails the same way.
    lost: Option<String>,
    connect_time: Duration,
    _pumps: Vec<std::thread::JoinHandle<()>>,
}

/// Why a command could not complete.
enum ExecFail {
    /// The session is unusable.
    Lost(String),
    /// The server refused the channel or the command; the session may still work.
    Refused(String),
}

fn code_is(e: &ssh2::Error, code: i32) -> bool {
    e.code() == ErrorCode::Session(code)
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), IoKind::WouldBlock | IoKind::Interrupted)
}

/// What a libssh2 failure means, in words (its own messages are terse).
fn describe(sess: &Session, fallback: &dyn std::fmt::Display) -> String {
    use libssh2_sys as r;
    let Some(e) = ssh2::Error::last_session_error(sess) else {
        return fallback.to_string();
    };
    match e.code() {
        ErrorCode::Session(r::LIBSSH2_ERROR_SOCKET_DISCONNECT) => {
            "the server closed the connection".into()
        }
        ErrorCode::Session(r::LIBSSH2_ERROR_SOCKET_RECV) => {
            "cannot read from the server (connection reset?)".into()
        }
        ErrorCode::Session(r::LIBSSH2_ERROR_SOCKET_SEND) => {
            "cannot send to the server (connection reset?)".into()
        }
        ErrorCode::Session(r::LIBSSH2_ERROR_TIMEOUT | r::LIBSSH2_ERROR_SOCKET_TIMEOUT) => {
            "the server did not answer in time".into()
        }
        _ => fallback.to_string(),
    }
}

impl SshConnection {
    /// Resolve, connect, verify and authenticate.
    pub fn open(host: &str, vars: &Vars, opts: &SshOptions) -> Result<SshConnection> {
        let target = target::resolve(host, vars, opts)?;
        let est = session::establish(&target, opts)?;
        let dead_after = Duration::from_secs(
            target
                .dest
                .alive_interval
                .saturating_mul(u64::from(target.dest.alive_count_max)),
        );
        Ok(SshConnection {
            host: host.to_string(),
            user: target.dest.user.clone(),
            session: est.session,
            fd: est.fd,
            stats: ConnStats {
                connects: est.connects,
                ..ConnStats::default()
            },
            dead_after,
            lost: None,
            connect_time: est.elapsed,
            _pumps: est.pumps,
        })
    }

    /// Time taken to connect (all attempts, jump hosts included).
    pub fn connect_time(&self) -> Duration {
        self.connect_time
    }

    fn lost_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Unreachable,
            format!("connection to {} lost: {why}", self.host),
        )
        .with_help("the host or its sshd went away; run again once it is back")
    }

    /// Open a channel and start `command` on it (blocking calls, bounded by the
    /// session timeout).
    fn start(&mut self, command: &str) -> std::result::Result<Channel, ExecFail> {
        self.session.set_blocking(true);
        let sess = self.session.clone();
        let classify = |what: &str, e: ssh2::Error| {
            let msg = format!("{what}: {}", describe(&sess, &e.message()));
            if code_is(&e, libssh2_sys::LIBSSH2_ERROR_CHANNEL_FAILURE)
                || code_is(&e, libssh2_sys::LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
            {
                ExecFail::Refused(msg)
            } else {
                ExecFail::Lost(msg)
            }
        };
        let mut ch = self
            .session
            .channel_session()
            .map_err(|e| classify("cannot open a channel", e))?;
        self.stats.channels += 1;
        ch.exec(command)
            .map_err(|e| classify("cannot start the command", e))?;
        Ok(ch)
    }

    /// Feed stdin, read stdout and stderr until the channel closes, without blocking on
    /// any one of them (non-blocking session, `poll` on the socket when idle).
    fn run(&mut self, ch: &mut Channel, stdin: &[u8]) -> std::result::Result<Output, ExecFail> {
        self.session.set_blocking(false);
        let r = self.run_nonblocking(ch, stdin);
        self.session.set_blocking(true);
        r
    }

    fn run_nonblocking(
        &mut self,
        ch: &mut Channel,
        stdin: &[u8],
    ) -> std::result::Result<Output, ExecFail> {
        let sess = self.session.clone();
        let lost = |what: &str, e: &dyn std::fmt::Display| {
            ExecFail::Lost(format!("{what}: {}", describe(&sess, e)))
        };
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut pos = 0;
        let mut eof_sent = false;
        let mut remote_eof = false;
        let mut last_rx = Instant::now();
        loop {
            let mut progress = false;
            // stdin, then EOF
            if !eof_sent {
                if pos < stdin.len() && !remote_eof {
                    match ch.write(&stdin[pos..]) {
                        Ok(n) => {
                            pos += n;
                            progress |= n > 0;
                        }
                        Err(e) if would_block(&e) => {}
                        // The command exited without reading all of its input.
                        Err(_) if ch.eof() => remote_eof = true,
                        Err(e) => return Err(lost("writing stdin", &e)),
                    }
                }
                if pos >= stdin.len() || remote_eof {
                    match ch.send_eof() {
                        Ok(()) => eof_sent = true,
                        Err(e) if code_is(&e, libssh2_sys::LIBSSH2_ERROR_EAGAIN) => {}
                        Err(_) if ch.eof() => eof_sent = true,
                        Err(e) => return Err(lost("sending EOF", &e.message())),
                    }
                }
            }
            // stdout and stderr, as much as there is
            for (stream_id, sink) in [(0, &mut stdout), (1, &mut stderr)] {
                let mut s = ch.stream(stream_id);
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            sink.extend_from_slice(&buf[..n]);
                            progress = true;
                            last_rx = Instant::now();
                        }
                        Err(e) if would_block(&e) => break,
                        Err(e) => return Err(lost("reading output", &e)),
                    }
                }
            }
            // EOF masks pending data in libssh2: true only once both streams are drained.
            if ch.eof() {
                remote_eof = true;
                if eof_sent {
                    match ch.wait_close() {
                        Ok(()) => break,
                        Err(e) if code_is(&e, libssh2_sys::LIBSSH2_ERROR_EAGAIN) => {}
                        Err(e) => {
                            return Err(lost("waiting for the command to finish", &e.message()))
                        }
                    }
                }
            }
            if progress {
                continue;
            }
            tunnel::keepalive(&self.session);
            // Reading one stream may have queued data of the other inside libssh2: then
            // only glance at the socket before reading again.
            let wait = if ch.read_window().available > 0 {
                Duration::from_millis(5)
            } else {
                Duration::from_millis(1000)
            };
            let mut fds = [tunnel::pollfd(
                self.fd,
                tunnel::session_events(&self.session),
            )];
            tunnel::poll(&mut fds, wait).map_err(|e| lost("poll", &e))?;
            if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                last_rx = Instant::now();
            }
            if last_rx.elapsed() > self.dead_after {
                return Err(ExecFail::Lost(format!(
                    "no answer from the server for {}s (ServerAliveInterval × ServerAliveCountMax)",
                    self.dead_after.as_secs()
                )));
            }
        }
        let rc = match ch.exit_signal() {
            Ok(sig) if sig.exit_signal.is_some() => -1,
            _ => ch.exit_status().unwrap_or(-1),
        };
        Ok(Output { rc, stdout, stderr })
    }
}

impl Connection for SshConnection {
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output> {
        if let Some(why) = &self.lost {
            return Err(self.lost_error(why));
        }
        self.stats.round_trips += 1;
        // Many sshd refuse setenv; the locale is set in the script instead.
        let command = format!(
            "/bin/sh -c {}",
            quote(&format!("export LANG=C LC_ALL=C\n{script}"))
        );
        let result = match self.start(&command) {
            Ok(mut ch) => {
                let r = self.run(&mut ch, stdin.unwrap_or_default());
                if r.is_ok() {
                    let _ = ch.close();
                }
                r
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(out) => Ok(out),
            Err(ExecFail::Refused(why)) => Err(Error::new(
                ErrorKind::Unreachable,
                format!("{}: the server refused the command: {why}", self.host),
            )
            .with_help(
                "the server may limit sessions (MaxSessions) or forbid commands for this user",
            )),
            Err(ExecFail::Lost(why)) => {
                let e = self.lost_error(&why);
                self.lost = Some(why);
                Err(e)
            }
        }
    }

    fn login_user(&self) -> &str {
        &self.user
    }

    fn stats(&self) -> ConnStats {
        self.stats
    }
}

impl Drop for SshConnection {
    fn drop(&mut self) {
        if self.lost.is_none() {
            self.session.set_blocking(true);
            self.session.set_timeout(2000);
            let _ = self.session.disconnect(None, "bye", None);
        }
    }
}
