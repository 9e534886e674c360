//! `--format github`: workflow commands for GitHub Actions (`::group::` per play,
//! `::error file=…,line=…::` at the failing task's source line, `::warning` for ignored
//! failures), plain lines otherwise. The step summary is a [`ReportSink`] in Markdown
//! appended to `$GITHUB_STEP_SUMMARY`.

use super::{shown_msg, Event, Sink, Status};
use std::io::Write;
use std::sync::Mutex;

pub struct GithubSink {
    out: Mutex<(Box<dyn Write + Send>, bool)>,
}

impl GithubSink {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        GithubSink {
            out: Mutex::new((out, false)),
        }
    }

    fn write(&self, text: &str) {
        if let Ok(mut o) = self.out.lock() {
            let _ = o.0.write_all(text.as_bytes());
            let _ = o.0.flush();
        }
    }
}

/// Escape a workflow command's message (GitHub's rules).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

impl Sink for GithubSink {
    fn event(&self, e: &Event<'_>) {
        match e {
            Event::PlayStart { name, hosts } => {
                let mut o = match self.out.lock() {
                    Ok(o) => o,
                    Err(_) => return,
                };
                if o.1 {
                    let _ = o.0.write_all(b"::endgroup::\n");
                }
                let _ = writeln!(
                    o.0,
                    "::group::PLAY [{}] ({} hosts)",
                    escape_data(name),
                    hosts.len()
                );
                o.1 = true;
            }
            Event::Task(t) => {
                let item = t
                    .item
                    .as_ref()
                    .map(|i| format!(" (item={i})"))
                    .unwrap_or_default();
                let mut line = format!("{}: [{}] {}{item}\n", t.status.as_str(), t.host, t.task);
                let level = match t.status {
                    Status::Failed | Status::Unreachable => Some("error"),
                    Status::Ignored => Some("warning"),
                    _ => None,
                };
                if let Some(level) = level {
                    let msg = shown_msg(t).unwrap_or_else(|| "failed".into());
                    line.push_str(&format!(
                        "::{level} file={},line={},title={}::{}\n",
                        escape_property(&t.source.file.display().to_string()),
                        t.source.line,
                        escape_property(&format!("{} on {}", t.task, t.host)),
                        escape_data(&format!("[{}] {}: {msg}", t.host, t.task))
                    ));
                }
                self.write(&line);
            }
            Event::Warning { host, message } => {
                let h = host.map(|h| format!("[{h}] ")).unwrap_or_default();
                self.write(&format!(
                    "::warning::{}\n",
                    escape_data(&format!("{h}{message}"))
                ));
            }
            Event::Recap { stats, .. } => {
                let mut s = String::new();
                if let Ok(mut o) = self.out.lock() {
                    if o.1 {
                        s.push_str("::endgroup::\n");
                        o.1 = false;
                    }
                }
                s.push_str("PLAY RECAP\n");
                for (h, st) in stats.iter() {
                    s.push_str(&format!(
                        "{h}: ok={} changed={} unreachable={} failed={} skipped={} rescued={} ignored={}\n",
                        st.ok, st.changed, st.unreachable, st.failed, st.skipped, st.rescued, st.ignored
                    ));
                }
                self.write(&s);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_github() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
