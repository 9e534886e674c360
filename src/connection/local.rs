//! The local connection: scripts run with `sh -c` on the controller.

use super::{ConnStats, Connection, Output};
use crate::diagnostics::{Error, Result};
use std::io::Write;
use std::process::{Command, Stdio};

pub struct LocalConnection {
    user: String,
    stats: ConnStats,
}

impl LocalConnection {
    pub fn new() -> Self {
        // SAFETY-free: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() };
        let user = if uid == 0 {
            "root".to_string()
        } else {
            std::env::var("USER").unwrap_or_else(|_| uid.to_string())
        };
        LocalConnection {
            user,
            stats: ConnStats {
                connects: 1,
                ..ConnStats::default()
            },
        }
    }
}

impl Default for LocalConnection {
    fn default() -> Self {
        Self::new()
    }
}

impl Connection for LocalConnection {
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output> {
        self.stats.round_trips += 1;
        // Its own process group: Ctrl-C reaches drover, which lets this command finish.
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("/bin/sh")
            .process_group(0)
            .arg("-c")
            .arg(script)
            .env("LANG", "C")
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(format!("cannot start /bin/sh: {e}")).caused_by(e))?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let data = data.to_vec();
            // Feed stdin from a thread so a script that writes a lot before reading
            // cannot deadlock against us.
            let feeder = std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
            let out = child
                .wait_with_output()
                .map_err(|e| Error::io(format!("local command failed: {e}")).caused_by(e))?;
            let _ = feeder.join();
            return Ok(to_output(out));
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::io(format!("local command failed: {e}")).caused_by(e))?;
        Ok(to_output(out))
    }

    fn login_user(&self) -> &str {
        &self.user
    }

    fn stats(&self) -> ConnStats {
        self.stats
    }
}

fn to_output(out: std::process::Output) -> Output {
    Output {
        rc: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}
