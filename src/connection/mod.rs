//! Connections to hosts. Everything a module does on a host is a POSIX `sh` script run
//! through [`Connection::exec`], so the local and SSH transports behave the same, and the
//! file primitives (atomic put, read, stat) are built once on top of it.

pub(crate) mod expand;
mod files;
mod local;
pub(crate) mod quote;
pub mod recording;
pub mod ssh;
pub(crate) mod traced;

pub(crate) use files::{
    describe_script, octal_mode, parse_described, parse_stat, put_finish, put_prelude, put_script,
    split_described, stat, stat_script, take_described, FileKind, FileState, PUT_SENTINEL,
    RC_STREAM_LOST, STAT_FIELDS,
};
pub(crate) use local::LocalConnection;
pub(crate) use quote::quote;

use crate::diagnostics::{Error, ErrorKind, Result};

/// The result of one remote command: stdout and stderr kept apart, and the exit code.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// The exit code.
    pub rc: i32,
    /// Everything the command wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote on stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr as text (invalid UTF-8 replaced), for error messages.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Counters the benchmark and `-v` output read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnStats {
    /// Remote commands run (each one is a round trip).
    pub round_trips: u64,
    /// SSH channels opened (equal to round trips for now: one channel per command).
    pub channels: u64,
    /// Connection set-ups (handshakes).
    pub connects: u64,
}

/// How to become another user for a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Become {
    /// The user to become.
    pub user: String,
    /// How to become them.
    pub method: BecomeMethod,
    /// The sudo password (`--ask-become-pass`, `ansible_become_password`). It only ever
    /// travels on the command's stdin, never in the script.
    pub password: Option<String>,
}

/// The `become_method`s drover supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BecomeMethod {
    /// `sudo -u USER`.
    Sudo,
    /// `su USER`.
    Su,
}

/// A transport to one host. Implementations own their session; one per host per run.
pub trait Connection: Send {
    /// Run a `sh` script with optional stdin. Err only when the transport failed (the
    /// host is unreachable or the session died); a failing command is `Ok` with its rc.
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output>;

    /// The login user on the host (used to skip `sudo` when it is already that user).
    fn login_user(&self) -> &str;

    /// What this connection has cost so far (round trips, channels, handshakes).
    fn stats(&self) -> ConnStats;

    /// Write `content` to `dest` atomically: a temp file in the same directory, mode and
    /// owner set, size verified, then renamed over the destination.
    fn put_file(
        &mut self,
        dest: &str,
        content: &[u8],
        attrs: &files::PutAttrs,
        become_: Option<&Become>,
    ) -> Result<files::Written> {
        files::put_file(self, dest, content, attrs, become_)
    }

    /// Read a whole file; `Ok(None)` when it does not exist.
    fn read_file(&mut self, path: &str, become_: Option<&Become>) -> Result<Option<Vec<u8>>> {
        files::read_file(self, path, become_)
    }
}

pub(crate) use files::{PutAttrs, Written};

/// Wrap a script so that it runs as the `become` user, if it must.
pub fn wrap_become(script: &str, become_: Option<&Become>, login_user: &str) -> String {
    match become_ {
        Some(b) if b.user != login_user => match (b.method, &b.password) {
            (BecomeMethod::Sudo, None) => format!("sudo -H -n -u {} -- /bin/sh -c {}", quote(&b.user), quote(script)),
            // The first stdin line is the password: it validates sudo's credentials, then
            // the command runs with -n and the rest of stdin.
            (BecomeMethod::Sudo, Some(_)) => format!(
                "IFS= read -r __drover_pw; printf '%s\\n' \"$__drover_pw\" | sudo -S -p '' -v >/dev/null 2>&1; unset __drover_pw; sudo -H -n -u {} -- /bin/sh -c {}",
                quote(&b.user),
                quote(script)
            ),
            (BecomeMethod::Su, _) => format!("su -s /bin/sh -c {} {}", quote(script), quote(&b.user)),
        },
        _ => script.to_string(),
    }
}

/// A script longer than this travels on stdin ahead of the command's own input, not as
/// the command: an SSH channel request (and one `sh -c` argument) has a size limit.
pub const INLINE_SCRIPT: usize = 16 * 1024;

/// The command that reads a script of `len` bytes from stdin and runs it (the rest of
/// stdin stays for the script).
pub fn script_from_stdin(len: usize) -> String {
    format!("__drover_s=$(head -c {len}) || exit 70\neval \"$__drover_s\"")
}

/// Run a script as the become user through any connection.
pub fn exec_as(
    conn: &mut (impl Connection + ?Sized),
    script: &str,
    stdin: Option<&[u8]>,
    become_: Option<&Become>,
) -> Result<Output> {
    if script.len() > INLINE_SCRIPT {
        // (Write batches build their input this way themselves, without the copy.)
        let mut input = Vec::with_capacity(script.len() + stdin.map_or(0, <[u8]>::len));
        input.extend_from_slice(script.as_bytes());
        input.extend_from_slice(stdin.unwrap_or_default());
        return exec_as(
            conn,
            &script_from_stdin(script.len()),
            Some(&input),
            become_,
        );
    }
    let wrapped = wrap_become(script, become_, conn.login_user());
    let password = become_
        .filter(|b| b.user != conn.login_user())
        .and_then(|b| b.password.as_deref());
    let out = match password {
        Some(pw) => {
            let mut input = format!("{pw}\n").into_bytes();
            input.extend_from_slice(stdin.unwrap_or_default());
            conn.exec(&wrapped, Some(&input))?
        }
        None => conn.exec(&wrapped, stdin)?,
    };
    if become_.is_some() && out.rc == 1 && out.stderr_str().contains("sudo: a password is required")
    {
        let (msg, help) = if password.is_some() {
            (
                "become failed: sudo rejected the become password",
                "check the password given to --ask-become-pass / ansible_become_password",
            )
        } else {
            (
                "become failed: sudo needs a password for this user",
                "allow NOPASSWD sudo for the login user, or pass --ask-become-pass",
            )
        };
        return Err(Error::new(ErrorKind::Module, msg).with_help(help));
    }
    Ok(out)
}
