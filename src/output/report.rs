//! Reports written after the run: Markdown (also the GitHub step summary), JSON, and
//! JUnit XML (one test case per host × task) for CI systems.

use super::{shown_msg, unified, Event, HostStats, Sink, Status};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Json,
    Junit,
}

impl ReportFormat {
    /// From a file name: `.md`, `.json`, `.xml`.
    pub fn from_path(p: &std::path::Path) -> Option<Self> {
        match p.extension()?.to_str()? {
            "md" | "markdown" => Some(ReportFormat::Markdown),
            "json" => Some(ReportFormat::Json),
            "xml" => Some(ReportFormat::Junit),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
struct Row {
    host: String,
    task: String,
    file: String,
    line: u32,
    status: Status,
    message: Option<String>,
    diffs: Vec<String>,
    duration_ms: u128,
    item: Option<String>,
}

#[derive(Default)]
struct Collected {
    plays: Vec<String>,
    rows: Vec<Row>,
    recap: Vec<(String, HostStats)>,
    duration_ms: u128,
    check: bool,
}

/// Collects events and writes one report when the run ends.
pub struct ReportSink {
    path: PathBuf,
    format: ReportFormat,
    /// Append instead of replacing (GitHub's step summary file is shared by steps).
    append: bool,
    data: Mutex<Collected>,
}

impl ReportSink {
    pub fn new(path: PathBuf, format: ReportFormat, append: bool) -> Self {
        ReportSink {
            path,
            format,
            append,
            data: Mutex::new(Collected::default()),
        }
    }

    fn render(&self, c: &Collected) -> String {
        match self.format {
            ReportFormat::Markdown => markdown(c),
            ReportFormat::Json => json(c),
            ReportFormat::Junit => junit(c),
        }
    }
}

impl Sink for ReportSink {
    fn event(&self, e: &Event<'_>) {
        let Ok(mut c) = self.data.lock() else { return };
        match e {
            Event::RunStart { check, .. } => c.check = *check,
            Event::PlayStart { name, .. } => c.plays.push(name.to_string()),
            Event::Task(t) => c.rows.push(Row {
                host: t.host.to_string(),
                task: t.task.to_string(),
                file: t.source.file.display().to_string(),
                line: t.source.line,
                status: t.status,
                message: shown_msg(t),
                diffs: if t.no_log {
                    Vec::new()
                } else {
                    t.diffs.iter().map(unified).collect()
                },
                duration_ms: t.duration.as_millis(),
                item: t.item.clone(),
            }),
            Event::Recap {
                stats, duration, ..
            } => {
                c.recap = stats.to_vec();
                c.duration_ms = duration.as_millis();
            }
            _ => {}
        }
    }

    fn finish(&self) -> std::io::Result<()> {
        let Ok(c) = self.data.lock() else {
            return Ok(());
        };
        let text = self.render(&c);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.path)?;
        f.write_all(text.as_bytes())
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(c: &Collected) -> String {
    let mut s = String::new();
    let failed: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Unreachable))
        .collect();
    let changed: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.status == Status::Changed)
        .collect();
    let verb = if c.check { "would change" } else { "changed" };
    let title = if !failed.is_empty() {
        "❌ drover run failed"
    } else if !changed.is_empty() {
        if c.check {
            "🟡 drover: changes pending"
        } else {
            "✅ drover run converged (with changes)"
        }
    } else {
        "✅ drover: no changes"
    };
    s.push_str(&format!("## {title}\n\n"));
    if !c.plays.is_empty() {
        s.push_str(&format!(
            "Plays: {}. Duration: {:.1} s.\n\n",
            c.plays
                .iter()
                .map(|p| md_escape(p))
                .collect::<Vec<_>>()
                .join(", "),
            c.duration_ms as f64 / 1000.0
        ));
    }
    s.push_str("| host | ok | changed | unreachable | failed | skipped | rescued | ignored |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (h, st) in &c.recap {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(h),
            st.ok,
            st.changed,
            st.unreachable,
            st.failed,
            st.skipped,
            st.rescued,
            st.ignored
        ));
    }
    if !failed.is_empty() {
        s.push_str("\n### Failures\n\n");
        for r in &failed {
            s.push_str(&format!(
                "- **{}** on `{}` ({}:{}): {}\n",
                md_escape(&r.task),
                md_escape(&r.host),
                r.file,
                r.line,
                md_escape(r.message.as_deref().unwrap_or("failed"))
            ));
        }
    }
    if !changed.is_empty() {
        s.push_str(&format!("\n### Tasks that {verb}\n\n"));
        for r in &changed {
            let item = r
                .item
                .as_ref()
                .map(|i| format!(" (item={})", md_escape(i)))
                .unwrap_or_default();
            if r.diffs.is_empty() {
                s.push_str(&format!(
                    "- {} on `{}`{item}\n",
                    md_escape(&r.task),
                    md_escape(&r.host)
                ));
            } else {
                s.push_str(&format!(
                    "<details><summary>{} on <code>{}</code>{item}</summary>\n\n```diff\n{}```\n</details>\n\n",
                    html_escape(&r.task),
                    html_escape(&r.host),
                    r.diffs.concat().replace("```", "`\u{200b}``")
                ));
            }
        }
    }
    s.push('\n');
    s
}

fn json(c: &Collected) -> String {
    let rows: Vec<serde_json::Value> = c
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({"host": r.host, "task": r.task, "file": r.file, "line": r.line, "status": r.status.as_str(),
                "message": r.message, "diff": r.diffs, "duration_ms": r.duration_ms as u64, "item": r.item})
        })
        .collect();
    let recap: serde_json::Map<String, serde_json::Value> = c
        .recap
        .iter()
        .map(|(h, s)| (h.clone(), serde_json::json!({"ok": s.ok, "changed": s.changed, "unreachable": s.unreachable, "failed": s.failed, "skipped": s.skipped, "rescued": s.rescued, "ignored": s.ignored})))
        .collect();
    let doc = serde_json::json!({"version": 1, "check": c.check, "plays": c.plays, "duration_ms": c.duration_ms as u64, "results": rows, "recap": recap});
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(c: &Collected) -> String {
    let failures = c
        .rows
        .iter()
        .filter(|r| matches!(r.status, Status::Failed | Status::Unreachable))
        .count();
    let skipped = c
        .rows
        .iter()
        .filter(|r| r.status == Status::Skipped)
        .count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"drover\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
        c.rows.len(),
        c.duration_ms as f64 / 1000.0
    );
    let mut hosts: Vec<&str> = c.rows.iter().map(|r| r.host.as_str()).collect();
    hosts.sort();
    hosts.dedup();
    for h in hosts {
        let rows: Vec<&Row> = c.rows.iter().filter(|r| r.host == h).collect();
        let f = rows
            .iter()
            .filter(|r| matches!(r.status, Status::Failed | Status::Unreachable))
            .count();
        let sk = rows.iter().filter(|r| r.status == Status::Skipped).count();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{sk}\">\n",
            html_escape(h),
            rows.len()
        ));
        for r in rows {
            let name = match &r.item {
                Some(i) => format!("{} (item={i})", r.task),
                None => r.task.clone(),
            };
            s.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\">",
                html_escape(h),
                html_escape(&name),
                html_escape(&r.file),
                r.line,
                r.duration_ms as f64 / 1000.0
            ));
            match r.status {
                Status::Failed | Status::Unreachable => s.push_str(&format!(
                    "<failure type=\"{}\" message=\"{}\"/>",
                    r.status.as_str(),
                    html_escape(r.message.as_deref().unwrap_or("failed"))
                )),
                Status::Skipped => s.push_str("<skipped/>"),
                Status::Changed if !r.diffs.is_empty() => s.push_str(&format!(
                    "<system-out>{}</system-out>",
                    html_escape(&r.diffs.concat())
                )),
                _ => {}
            }
            s.push_str("</testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    let _ = skipped;
    s.push_str("</testsuites>\n");
    s
}
