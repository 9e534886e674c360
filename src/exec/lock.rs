//! One run per host at a time. The first command a run sends to a host takes an
//! exclusive `flock` on a lock file named after the inventory host, held by a small
//! background process that lives exactly as long as this run's connection (it watches
//! the process that started it: sshd's session, or drover itself for local hosts). A
//! second run waits up to `--lock-timeout`, then fails naming the holder; a lock left by
//! a run that died is released within a tenth of a second (the holder is a `tail --pid`
//! watching the connection's process). The lock is taken by
//! prefixing the first command of the run (no extra round trip), outside any `sudo`, so
//! the holder watches the connection and not a short-lived command.

use crate::connection::quote;
use crate::diagnostics::{Error, ErrorKind, Result};
use std::time::Duration;

const MARKER: &str = "drover-lock:";

/// The shell fragment that takes the lock; its output holds one marker line. It starts
/// two processes on the host (more cost the run, as for the facts): `flock` locks the
/// shell's descriptor 9 (the lock belongs to the open file, so it outlives `flock`), the
/// background `tail` inherits the descriptor and keeps the lock, and the shell closes its
/// own so that nothing else the command starts holds it. The files are created once, open
/// to every user (`umask 000` in a subshell, the only other fork, on the first run only).
/// The lock file is opened read-only (flock needs no more): an open that may create
/// is refused in a sticky directory for a file another user made (`protected_regular`),
/// so a run as one login would fail where a run as another made the file; the holder
/// line is best effort for the same reason.
pub fn script(inventory_host: &str, timeout: Duration, holder: &str) -> String {
    use sha1::Digest;
    let digest = hex::encode(sha1::Sha1::digest(inventory_host.as_bytes()));
    let name = format!("drover-{}", &digest[..16]);
    format!(
        r#"__d=/run/lock; [ -d "$__d" ] && [ -w "$__d" ] || __d=${{TMPDIR:-/tmp}}
__l="$__d/{name}.lock"; __i="$__d/{name}.holder"
[ -e "$__l" ] && [ -e "$__i" ] || (umask 000; : >> "$__l"; : >> "$__i") 2>/dev/null
exec 9<"$__l"
if flock -w {secs} 9; then {{ printf '%s\n' {holder} > "$__i"; }} 2>/dev/null
  tail --pid="$PPID" -s 0.1 -f /dev/null </dev/null >/dev/null 2>&1 &
  exec 9>&-; echo "{MARKER} ok"
else exec 9>&-; __h=; read -r __h 2>/dev/null < "$__i"; echo "{MARKER} busy $__h"; exit 75; fi
"#,
        secs = timeout.as_secs().max(1),
        holder = quote(holder),
    )
}

/// Read the marker line out of a command's stdout; the rest is returned untouched.
pub fn take_result(stdout: &str, host: &str, timeout: Duration) -> Result<String> {
    let mut rest = String::new();
    let mut outcome = None;
    for line in stdout.split_inclusive('\n') {
        match line.trim_end().strip_prefix(MARKER) {
            Some(r) => outcome = Some(r.trim().to_string()),
            None => rest.push_str(line),
        }
    }
    match outcome.as_deref() {
        Some("ok") => Ok(rest),
        Some(busy) => {
            let holder = busy.strip_prefix("busy").unwrap_or("").trim();
            let holder = if holder.is_empty() {
                "an unknown process"
            } else {
                holder
            };
            Err(Error::new(
                ErrorKind::Module,
                format!(
                    "{host} is locked by another drover run ({holder}); gave up after {} s",
                    timeout.as_secs()
                ),
            )
            .with_help("wait for that run to finish, or raise --lock-timeout"))
        }
        None => Err(Error::new(
            ErrorKind::Module,
            format!("could not take the run lock on {host}"),
        )
        .with_help("the host needs flock(1) from util-linux")),
    }
}

/// Who holds the lock, as shown to a run that has to wait.
pub fn holder_description() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let user = std::env::var("USER").unwrap_or_else(|_| "?".into());
    format!(
        "drover pid {} by {user}@{} since {}",
        std::process::id(),
        host.trim(),
        crate::clock::format_timestamp(std::time::SystemTime::now())
    )
}

/// Takes the host lock with the first command sent through it.
pub struct Locking {
    pub inner: Box<dyn crate::connection::Connection>,
    pub host: String,
    pub timeout: Duration,
    pub locked: bool,
}

impl crate::connection::Connection for Locking {
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<crate::connection::Output> {
        if self.locked {
            return self.inner.exec(script, stdin);
        }
        let full = format!(
            "{}{script}",
            self::script(&self.host, self.timeout, &holder_description())
        );
        let mut out = self.inner.exec(&full, stdin)?;
        // The marker is the first line; what follows is the command's own output, bytes
        // kept as they are.
        let end = out
            .stdout
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(out.stdout.len());
        let first = String::from_utf8_lossy(&out.stdout[..end]).into_owned();
        take_result(&first, &self.host, self.timeout)?;
        self.locked = true;
        out.stdout.drain(..end);
        Ok(out)
    }

    fn login_user(&self) -> &str {
        self.inner.login_user()
    }

    fn stats(&self) -> crate::connection::ConnStats {
        self.inner.stats()
    }
}
