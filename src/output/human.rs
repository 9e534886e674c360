//! Line output for terminals and logs: one line per task per host, diffs, PLAY RECAP.

use super::{result_msg, unified, Event, Sink, Status};

use std::io::Write;
use std::sync::Mutex;

pub struct HumanSink {
    out: Mutex<Box<dyn Write + Send>>,
    /// (seconds, host, task) of the slowest results, for the recap.
    slowest: Mutex<Vec<(f64, String, String)>>,
    color: bool,
    verbosity: u8,
}

impl HumanSink {
    pub fn new(out: Box<dyn Write + Send>, color: bool, verbosity: u8) -> Self {
        HumanSink {
            out: Mutex::new(out),
            slowest: Mutex::new(Vec::new()),
            color,
            verbosity,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Every line of human output goes through here: decrypted vault values are masked.
    fn write(&self, text: &str) {
        let text = crate::vault::mask(text);
        if let Ok(mut o) = self.out.lock() {
            let _ = o.write_all(text.as_bytes());
            let _ = o.flush();
        }
    }
}

fn color_of(s: Status) -> &'static str {
    match s {
        Status::Ok => "32",
        Status::Changed => "33",
        Status::Skipped => "36",
        Status::Failed | Status::Unreachable => "31",
        Status::Ignored | Status::Rescued => "35",
    }
}

impl Sink for HumanSink {
    fn event(&self, e: &Event<'_>) {
        match e {
            Event::RunStart { .. } | Event::TaskStart { .. } | Event::HostDone { .. } => {}
            Event::PlayStart { name, hosts } => {
                self.write(&format!(
                    "\nPLAY [{name}] ({} host{}) {}\n",
                    hosts.len(),
                    if hosts.len() == 1 { "" } else { "s" },
                    "*".repeat(40)
                ));
            }
            Event::Task(t) => {
                if let Ok(mut slow) = self.slowest.lock() {
                    slow.push((
                        t.duration.as_secs_f64(),
                        t.host.to_string(),
                        t.task.to_string(),
                    ));
                    slow.sort_by(|a, b| b.0.total_cmp(&a.0));
                    slow.truncate(10);
                }
                let status = if t.status == Status::Ignored {
                    "failed (ignored)"
                } else {
                    t.status.as_str()
                };
                let mut line = format!(
                    "{}: [{}] {}{}{}",
                    self.paint(color_of(t.status), status),
                    t.host,
                    if t.handler { "HANDLER " } else { "" },
                    t.task,
                    t.item
                        .as_ref()
                        // As Ansible's default callback: a hidden result hides its item.
                        .map(|i| if t.no_log {
                            " => (item=(censored due to no_log))".to_string()
                        } else {
                            format!(" => (item={i})")
                        })
                        .unwrap_or_default()
                );
                if self.verbosity > 0 {
                    line.push_str(&format!(" ({:.2}s)", t.duration.as_secs_f64()));
                }
                line.push('\n');
                if matches!(
                    t.status,
                    Status::Failed | Status::Ignored | Status::Unreachable
                ) {
                    let msg = super::shown_msg(t).unwrap_or_else(|| "failed".into());
                    line.push_str(&format!("  {} {msg}\n", self.paint("31", "=>")));
                    if !t.no_log {
                        if let Some(stderr) = t
                            .result
                            .get("stderr")
                            .and_then(|s| s.as_str())
                            .filter(|s| !s.is_empty())
                        {
                            line.push_str(&format!("  stderr: {}\n", stderr.trim_end()));
                        }
                        // Which condition of an `assert` was false.
                        if let Some(a) = t.result.get("assertion").filter(|a| !a.is_undefined()) {
                            line.push_str(&format!("  assertion: {a}\n"));
                        }
                    }
                } else if t.module == "debug" || t.result.contains_key("msg") && self.verbosity > 0
                {
                    if let Some(msg) = result_msg(t.result) {
                        if !t.no_log {
                            line.push_str(&format!("  => {msg}\n"));
                        }
                    } else if t.module == "debug" && !t.no_log {
                        // `debug: var=x` shows the variable, as JSON.
                        for (k, v) in t.result.iter().filter(|(k, _)| {
                            !matches!(k.as_str(), "changed" | "failed" | "skipped" | "msg")
                        }) {
                            let json = serde_json::to_string_pretty(v).unwrap_or_default();
                            line.push_str(&format!(
                                "  => {k}: {}\n",
                                json.replace('\n', "\n     ")
                            ));
                        }
                    }
                }
                for d in t.diffs {
                    if t.no_log {
                        line.push_str("  (diff hidden: no_log)\n");
                        continue;
                    }
                    for l in unified(d).lines() {
                        let colored = if !self.color {
                            l.to_string()
                        } else if l.starts_with('+') && !l.starts_with("+++") {
                            self.paint("32", l)
                        } else if l.starts_with('-') && !l.starts_with("---") {
                            self.paint("31", l)
                        } else if l.starts_with("@@") {
                            self.paint("36", l)
                        } else {
                            l.to_string()
                        };
                        line.push_str(&format!("  {colored}\n"));
                    }
                }
                self.write(&line);
            }
            Event::Included { host, file } => self.write(&format!("included: {file} for {host}\n")),
            Event::Warning { host, message } => {
                let h = host.map(|h| format!("[{h}] ")).unwrap_or_default();
                self.write(&format!(
                    "{}: {h}{message}\n",
                    self.paint("35", "[WARNING]")
                ));
            }
            Event::Recap {
                stats,
                duration,
                round_trips,
            } => {
                let mut s = format!("\nPLAY RECAP {}\n", "*".repeat(60));
                for (host, st) in stats.iter() {
                    let bad = st.failed > 0 || st.unreachable > 0;
                    let name = self.paint(
                        if bad {
                            "31"
                        } else if st.changed > 0 {
                            "33"
                        } else {
                            "32"
                        },
                        &format!("{host:<26}"),
                    );
                    s.push_str(&format!(
                        "{name}: ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={}\n",
                        st.ok, st.changed, st.unreachable, st.failed, st.skipped, st.rescued, st.ignored
                    ));
                }
                let slowest = self.slowest.lock().map(|v| v.clone()).unwrap_or_default();
                if slowest.iter().any(|(secs, _, _)| *secs >= 0.5) || self.verbosity > 0 {
                    s.push_str("\nSlowest tasks:\n");
                    for (secs, host, task) in
                        slowest.iter().take(if self.verbosity > 0 { 10 } else { 3 })
                    {
                        s.push_str(&format!("  {secs:>7.2}s  [{host}] {task}\n"));
                    }
                }
                let hosts = stats.len().max(1) as f64;
                s.push_str(&format!(
                    "\n{:.2}s, {round_trips} remote round trips ({:.1} per host)\n",
                    duration.as_secs_f64(),
                    *round_trips as f64 / hosts
                ));
                self.write(&s);
            }
        }
    }
}
