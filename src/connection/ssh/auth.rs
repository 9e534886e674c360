//! User authentication, in OpenSSH's order: the agent (when `SSH_AUTH_SOCK` is set and
//! `IdentitiesOnly` is not), the explicit keys (inventory / `--private-key`, then
//! ssh_config `IdentityFile`s), the default keys `~/.ssh/id_ed25519`, `id_ecdsa`,
//! `id_rsa` (unless `IdentitiesOnly`), then a password if one was given. An encrypted
//! key uses the run's passphrase, or asks once on the terminal (never echoed). No
//! secret ever appears in a message.

use super::target::Hop;
use super::SshOptions;
use crate::diagnostics::{Error, ErrorKind, Result};
use base64::Engine as _;
use ssh2::{ErrorCode, KeyboardInteractivePrompt, Prompt, Session};
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The default identities tried when no `IdentitiesOnly` says otherwise.
const DEFAULT_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// Passphrases typed in this run, per key file (`None`: declined or no terminal).
static PASSPHRASES: Mutex<Option<HashMap<PathBuf, Option<String>>>> = Mutex::new(None);

/// Answers every keyboard-interactive prompt with the password.
struct PasswordAnswer<'a>(&'a str);

impl KeyboardInteractivePrompt for PasswordAnswer<'_> {
    fn prompt<'b>(&mut self, _user: &str, _instr: &str, prompts: &[Prompt<'b>]) -> Vec<String> {
        prompts.iter().map(|_| self.0.to_string()).collect()
    }
}

/// Did the server hang up on us (too many failures, or it died)?
fn is_disconnect(e: &ssh2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Session(
            libssh2_sys::LIBSSH2_ERROR_SOCKET_DISCONNECT
                | libssh2_sys::LIBSSH2_ERROR_SOCKET_RECV
                | libssh2_sys::LIBSSH2_ERROR_SOCKET_SEND
        )
    )
}

/// Did the server not answer within the connect timeout (an overloaded host)?
fn is_timeout(e: &ssh2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Session(
            libssh2_sys::LIBSSH2_ERROR_TIMEOUT | libssh2_sys::LIBSSH2_ERROR_SOCKET_TIMEOUT
        )
    )
}

/// Why authentication failed; `timed_out` failures are worth another attempt
/// (`--retries`), real refusals are not.
pub struct AuthFailure {
    pub error: Error,
    pub timed_out: bool,
}

impl From<Error> for AuthFailure {
    fn from(error: Error) -> Self {
        AuthFailure {
            error,
            timed_out: false,
        }
    }
}

/// Is this private key file protected by a passphrase?
pub fn key_is_encrypted(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
    {
        return true;
    }
    let Some(start) = text.find("-----BEGIN OPENSSH PRIVATE KEY-----") else {
        return false;
    };
    let body: String = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect::<Vec<_>>()
        .concat();
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(body.trim()) else {
        return false;
    };
    // "openssh-key-v1\0", then the cipher name as an SSH string.
    let magic = b"openssh-key-v1\0";
    let Some(rest) = raw.strip_prefix(magic.as_slice()) else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    rest.get(4..4 + len).is_some_and(|c| c != b"none")
}

/// The passphrase for `key`: the run's, or asked once on the terminal.
fn passphrase_for(key: &Path, opts: &SshOptions) -> Option<String> {
    if let Some(p) = &opts.key_passphrase {
        return Some(p.clone());
    }
    // Holding the lock while asking keeps concurrent hosts from prompting at once.
    let mut guard = PASSPHRASES.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(v) = map.get(key) {
        return v.clone();
    }
    let answer = if std::io::stdin().is_terminal() {
        prompt_hidden(&format!("Enter passphrase for key {}: ", key.display()))
            .ok()
            .filter(|s| !s.is_empty())
    } else {
        None
    };
    map.insert(key.to_path_buf(), answer.clone());
    answer
}

/// Ask on the controlling terminal with echo off; the terminal is restored even when
/// reading fails.
fn prompt_hidden(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead as _, Write as _};
    use std::os::unix::io::AsRawFd as _;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: valid fd and termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out = &tty;
    let mut line = String::new();
    let r = out
        .write_all(prompt.as_bytes())
        .and_then(|()| out.flush())
        .and_then(|()| std::io::BufReader::new(&tty).read_line(&mut line));
    // SAFETY: restores the settings read above on the same fd.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    r?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(line)
}

/// Authenticate `hop.user` on an established session.
pub fn authenticate(
    sess: &Session,
    hop: &Hop,
    opts: &SshOptions,
) -> std::result::Result<(), AuthFailure> {
    let who = format!("{}@{}", hop.user, hop.label);
    let fail = |msg: String| Error::new(ErrorKind::Unreachable, msg);
    let waited = hop.connect_timeout.as_secs_f64();
    let methods = match sess.auth_methods(&hop.user) {
        Ok(m) => m.to_string(),
        // `none` authentication succeeded.
        Err(_) if sess.authenticated() => return Ok(()),
        Err(e) => {
            return Err(AuthFailure {
                error: fail(format!(
                    "authentication failed for {who}: the server did not answer ({})",
                    e.message()
                )),
                timed_out: is_timeout(&e),
            })
        }
    };
    let accepts = |m: &str| methods.split(',').any(|x| x == m);
    let mut tried: Vec<String> = Vec::new();
    let mut hung_up = false;
    let mut timed_out = false;

    if accepts("publickey") {
        if !hop.identities_only {
            if let Some(desc) = try_agent(sess, &hop.user)? {
                tried.push(desc);
            } else if sess.authenticated() {
                return Ok(());
            }
        }
        let mut keys: Vec<(PathBuf, bool)> = hop.keys.iter().map(|k| (k.clone(), true)).collect();
        if !hop.identities_only {
            let dir = super::config::home_dir().join(".ssh");
            for k in DEFAULT_KEYS {
                let p = dir.join(k);
                if !keys.iter().any(|(q, _)| q == &p) {
                    keys.push((p, false));
                }
            }
        }
        for (key, explicit) in keys {
            let shown = key.display().to_string();
            let data = match std::fs::read(&key) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if explicit {
                        tried.push(format!("key {shown} (file not found)"));
                    }
                    continue;
                }
                Err(e) => {
                    tried.push(format!("key {shown} (cannot read: {e})"));
                    continue;
                }
            };
            let encrypted = key_is_encrypted(&data);
            let pass = if encrypted {
                match passphrase_for(&key, opts) {
                    Some(p) => Some(p),
                    None => {
                        tried.push(format!(
                            "key {shown} (encrypted, no passphrase: run drover on a terminal to be asked)"
                        ));
                        continue;
                    }
                }
            } else {
                None
            };
            match sess.userauth_pubkey_file(&hop.user, None, &key, pass.as_deref()) {
                Ok(()) if sess.authenticated() => return Ok(()),
                Ok(()) => tried.push(format!("key {shown} (partial success only)")),
                Err(e) if is_disconnect(&e) => {
                    tried.push(format!("key {shown} (the server closed the connection)"));
                    hung_up = true;
                    break;
                }
                Err(e) if is_timeout(&e) => {
                    tried.push(format!("key {shown} (no answer within {waited}s)"));
                    timed_out = true;
                    break;
                }
                Err(e) => {
                    let why = match e.code() {
                        ErrorCode::Session(
                            libssh2_sys::LIBSSH2_ERROR_FILE
                            | libssh2_sys::LIBSSH2_ERROR_KEYFILE_AUTH_FAILED,
                        ) if encrypted => "wrong passphrase, or a key format libssh2 cannot read",
                        ErrorCode::Session(libssh2_sys::LIBSSH2_ERROR_FILE) => {
                            "cannot load it (unsupported key format?)"
                        }
                        _ => "rejected",
                    };
                    tried.push(format!("key {shown} ({why})"));
                }
            }
        }
    }

    if let (Some(pw), false) = (&hop.password, hung_up || timed_out) {
        let r = if accepts("password") {
            Some(sess.userauth_password(&hop.user, pw))
        } else if accepts("keyboard-interactive") {
            Some(sess.userauth_keyboard_interactive(&hop.user, &mut PasswordAnswer(pw)))
        } else {
            None
        };
        match r {
            Some(Ok(())) if sess.authenticated() => return Ok(()),
            Some(_) => tried.push("password (rejected)".into()),
            None => tried.push("password (the server does not accept passwords)".into()),
        }
    }

    if tried.is_empty() {
        tried.push("nothing: no agent, no key file found, no password".into());
    }
    let mut msg = format!(
        "authentication failed for {who} (tried: {}; the server accepts: {methods})",
        tried.join(", ")
    );
    if hung_up {
        msg.push_str(
            "; the server closed the connection, too many failed attempts? (MaxAuthTries)",
        );
    }
    if timed_out {
        msg.push_str("; the server did not answer in time: is the host overloaded?");
        return Err(AuthFailure {
            error: fail(msg).with_help(
                "raise --timeout (or ConnectTimeout in ssh_config); with --retries drover tries again",
            ),
            timed_out: true,
        });
    }
    Err(fail(msg).with_help(
        "check ansible_user, the key (ansible_ssh_private_key_file, --private-key, IdentityFile) \
         and that its public half is in the user's ~/.ssh/authorized_keys",
    )
    .into())
}

/// Try every agent identity. `Ok(None)` when one worked, `Ok(Some(what was tried))`
/// otherwise (no agent is not an error).
fn try_agent(sess: &Session, user: &str) -> Result<Option<String>> {
    if std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .is_none()
    {
        return Ok(Some("agent (SSH_AUTH_SOCK not set)".into()));
    }
    let mut agent = match sess.agent() {
        Ok(a) => a,
        Err(e) => return Ok(Some(format!("agent (unavailable: {})", e.message()))),
    };
    if let Err(e) = agent.connect() {
        return Ok(Some(format!("agent (cannot connect: {})", e.message())));
    }
    let ids = match agent.list_identities().and_then(|()| agent.identities()) {
        Ok(ids) => ids,
        Err(e) => {
            let _ = agent.disconnect();
            return Ok(Some(format!("agent (cannot list keys: {})", e.message())));
        }
    };
    for id in &ids {
        if agent.userauth(user, id).is_ok() && sess.authenticated() {
            let _ = agent.disconnect();
            return Ok(None);
        }
    }
    let _ = agent.disconnect();
    Ok(Some(format!("agent ({} keys rejected)", ids.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encrypted_keys() {
        let dir = tempfile::tempdir().unwrap();
        for (name, pass) in [("plain", ""), ("enc", "secret phrase")] {
            let p = dir.path().join(name);
            let ok = std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", pass, "-f"])
                .arg(&p)
                .status();
            if !matches!(ok, Ok(s) if s.success()) {
                eprintln!("ssh-keygen not available; skipping");
                return;
            }
        }
        assert!(!key_is_encrypted(
            &std::fs::read(dir.path().join("plain")).unwrap()
        ));
        assert!(key_is_encrypted(
            &std::fs::read(dir.path().join("enc")).unwrap()
        ));
        assert!(key_is_encrypted(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n"
        ));
        assert!(!key_is_encrypted(b"not a key"));
    }
}
