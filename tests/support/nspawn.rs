//! systemd + Docker test hosts (`tests/hosts/nspawn`): Debian booted with systemd as PID 1
//! under systemd-nspawn, one per test, reached over SSH on a 127.0.0.1 port.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

pub const NSPAWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hosts/nspawn");

/// A booted host, stopped when dropped.
pub struct NspawnHost {
    pub name: String,
    /// Its state directory: `ssh_config`, `known_hosts`, `inventory.yml`.
    pub dir: PathBuf,
    pub port: u16,
}

impl NspawnHost {
    /// Boot host `name` on the base port + `offset`; `None` (test skipped) only when the
    /// hosts are unavailable and DROVER_SKIP_NSPAWN_TESTS=1, otherwise a failure.
    pub fn up(name: &str, offset: u16) -> Option<NspawnHost> {
        // DROVER_NSPAWN_BASE_PORT moves the ports when another checkout runs these tests
        // at the same time (with its own DROVER_NSPAWN_DIR).
        let port = std::env::var("DROVER_NSPAWN_BASE_PORT")
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(22600)
            + offset;
        let skip = std::env::var("DROVER_SKIP_NSPAWN_TESTS").is_ok_and(|v| v == "1");
        let t = Instant::now();
        let out = Command::new(NSPAWN)
            .args(["up", name, &port.to_string()])
            .output();
        let ok = matches!(&out, Ok(o) if o.status.success());
        if !ok {
            let why = match &out {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            if skip {
                eprintln!("skipped: systemd-nspawn test host unavailable (DROVER_SKIP_NSPAWN_TESTS=1): {why}");
                return None;
            }
            panic!("cannot start the nspawn test host {name} (`tests/hosts/nspawn up {name} {port}` as root; DROVER_SKIP_NSPAWN_TESTS=1 skips): {why}");
        }
        let dir = PathBuf::from(String::from_utf8_lossy(&out.unwrap().stdout).trim());
        eprintln!("{name}: up in {:.1}s", t.elapsed().as_secs_f64());
        Some(NspawnHost {
            name: name.to_string(),
            dir,
            port,
        })
    }

    /// Run a command over plain ssh (never drover); returns trimmed stdout.
    pub fn ssh(&self, cmd: &str) -> String {
        self.ssh_stdin(cmd, &[])
    }

    /// [`NspawnHost::ssh`] with data on the command's stdin.
    pub fn ssh_stdin(&self, cmd: &str, stdin: &[u8]) -> String {
        use std::io::Write;
        let mut child = Command::new("ssh")
            .arg("-F")
            .arg(self.dir.join("ssh_config"))
            .arg(&self.name)
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("ssh");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin).unwrap();
        drop(input);
        let out = child.wait_with_output().expect("ssh");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for NspawnHost {
    fn drop(&mut self) {
        let _ = Command::new(NSPAWN).args(["down", &self.name]).status();
    }
}
