//! `-vvv`: every remote command, its exit code and time, printed to stderr. Data sent on
//! stdin (file contents, passwords) is never shown, only its size.

use super::{ConnStats, Connection, Output};
use crate::diagnostics::Result;
use std::io::Write;
use std::time::Instant;

pub struct Traced {
    pub inner: Box<dyn Connection>,
    pub host: String,
}

impl Connection for Traced {
    fn exec(&mut self, script: &str, stdin: Option<&[u8]>) -> Result<Output> {
        let t0 = Instant::now();
        let result = self.inner.exec(script, stdin);
        let status = match &result {
            Ok(o) => format!("rc={}", o.rc),
            Err(e) => format!("error: {}", e.message),
        };
        let input = stdin
            .map(|d| format!(", {} bytes on stdin", d.len()))
            .unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "<{}> EXEC ({status}, {:.3}s{input})",
            self.host,
            t0.elapsed().as_secs_f64()
        );
        for line in script.lines() {
            let _ = writeln!(err, "<{}>   {line}", self.host);
        }
        result
    }

    fn login_user(&self) -> &str {
        self.inner.login_user()
    }

    fn stats(&self) -> ConnStats {
        self.inner.stats()
    }
}
