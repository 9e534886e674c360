//! The live view on a terminal: a header bar (hosts done / in play, elapsed) and a line
//! per host in flight with its current task; result lines scroll above the bars.

use super::{Event, HumanSink, Sink};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct ProgressSink {
    mp: MultiProgress,
    total: ProgressBar,
    hosts: Mutex<HashMap<String, ProgressBar>>,
    lines: HumanSink,
}

/// Hands HumanSink's text to the progress view, so lines print above the bars.
struct AboveBars {
    mp: MultiProgress,
    buf: Arc<Mutex<Vec<u8>>>,
}

impl Write for AboveBars {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.buf.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let text = match self.buf.lock() {
            Ok(mut b) => String::from_utf8_lossy(&std::mem::take(&mut *b)).into_owned(),
            Err(_) => return Ok(()),
        };
        let text = text.trim_end_matches('\n');
        if !text.is_empty() {
            self.mp.println(text)?;
        }
        Ok(())
    }
}

impl ProgressSink {
    pub fn new(color: bool, verbosity: u8) -> Self {
        let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let total = mp.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix} [{elapsed_precise}] {pos}/{len} hosts done",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        total.enable_steady_tick(Duration::from_millis(120));
        let writer = AboveBars {
            mp: mp.clone(),
            buf: Arc::new(Mutex::new(Vec::new())),
        };
        ProgressSink {
            mp,
            total,
            hosts: Mutex::new(HashMap::new()),
            lines: HumanSink::new(Box::new(writer), color, verbosity),
        }
    }

    fn host_bar(&self, host: &str) -> Option<ProgressBar> {
        let mut hosts = self.hosts.lock().ok()?;
        if let Some(b) = hosts.get(host) {
            return Some(b.clone());
        }
        let b = self.mp.add(ProgressBar::new_spinner());
        b.set_style(
            ProgressStyle::with_template("  {prefix:.bold} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_prefix(host.to_string());
        hosts.insert(host.to_string(), b.clone());
        Some(b)
    }
}

impl Sink for ProgressSink {
    fn event(&self, e: &Event<'_>) {
        match e {
            Event::PlayStart { name, hosts } => {
                self.total.set_length(hosts.len() as u64);
                self.total.set_position(0);
                self.total.set_prefix(format!("PLAY {name}"));
            }
            Event::TaskStart { host, task, .. } => {
                if let Some(b) = self.host_bar(host) {
                    b.set_message(task.to_string());
                }
            }
            Event::HostDone { host } => {
                if let Some(b) = self.hosts.lock().ok().and_then(|mut h| h.remove(*host)) {
                    b.finish_and_clear();
                    self.mp.remove(&b);
                }
                self.total.inc(1);
            }
            Event::Recap { .. } => {
                if let Ok(mut h) = self.hosts.lock() {
                    for (_, b) in h.drain() {
                        b.finish_and_clear();
                    }
                }
                self.total.finish_and_clear();
                let _ = self.mp.clear();
            }
            _ => {}
        }
        self.lines.event(e);
    }
}
