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

/// JSON reports of several runs (the shards of a CI matrix) read back and combined into
/// one, for `drover report merge`.
pub struct MergedReport {
    data: Collected,
}

impl MergedReport {
    /// Read `drover apply --report FILE.json` outputs. The shards of one run touch
    /// different hosts: a host recapped by two reports is refused, naming both.
    pub fn read(paths: &[PathBuf]) -> crate::diagnostics::Result<Self> {
        use crate::diagnostics::{Error, Span};
        let mut merged = Collected::default();
        let mut owner: std::collections::HashMap<String, &PathBuf> = Default::default();
        for path in paths {
            let at = Span::file(path);
            let text = std::fs::read_to_string(path).map_err(|e| Error::io_at(path, &e))?;
            let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Error::invalid(format!("not a JSON report: {e}"), &at)
                    .with_help("pass the files written by `drover apply --report FILE.json`")
            })?;
            let c = collected_from_json(&doc).map_err(|e| {
                Error::invalid(format!("not a drover JSON report: {e}"), &at)
                    .with_help("pass the files written by `drover apply --report FILE.json`")
            })?;
            for (host, _) in &c.recap {
                if let Some(first) = owner.insert(host.clone(), path) {
                    return Err(Error::invalid(
                        format!(
                            "host {host} is in {} and in {}",
                            first.display(),
                            path.display()
                        ),
                        &at,
                    )
                    .with_help("merge the reports of one run's shards: each host in one of them"));
                }
            }
            merged.check |= c.check;
            for p in c.plays {
                if !merged.plays.contains(&p) {
                    merged.plays.push(p);
                }
            }
            // Shards run side by side: the run took as long as the slowest.
            merged.duration_ms = merged.duration_ms.max(c.duration_ms);
            merged.rows.extend(c.rows);
            merged.recap.extend(c.recap);
        }
        merged.recap.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(MergedReport { data: merged })
    }

    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Markdown => markdown(&self.data),
            ReportFormat::Json => json(&self.data),
            ReportFormat::Junit => junit(&self.data),
        }
    }

    /// ansible-playbook's exit code for the merged recap (0, 2 failed, 4 unreachable).
    pub fn exit_code(&self) -> i32 {
        let mut code = 0;
        for (_, s) in &self.data.recap {
            if s.failed > 0 {
                code |= 2;
            }
            if s.unreachable > 0 {
                code |= 4;
            }
        }
        code
    }
}

fn collected_from_json(doc: &serde_json::Value) -> Result<Collected, String> {
    if doc["version"] != 1 {
        return Err(format!("unknown version {}", doc["version"]));
    }
    let str_of = |v: &serde_json::Value, k: &str| -> Result<String, String> {
        v[k].as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("'{k}' missing or not a string"))
    };
    let num = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    let mut c = Collected {
        check: doc["check"].as_bool().unwrap_or(false),
        duration_ms: u128::from(num(doc, "duration_ms")),
        ..Default::default()
    };
    for p in doc["plays"].as_array().ok_or("'plays' missing")? {
        c.plays.push(p.as_str().unwrap_or_default().to_string());
    }
    for r in doc["results"].as_array().ok_or("'results' missing")? {
        let status = str_of(r, "status")?;
        let status = STATUSES
            .iter()
            .copied()
            .find(|s| s.as_str() == status)
            .ok_or_else(|| format!("unknown status '{status}'"))?;
        c.rows.push(Row {
            host: str_of(r, "host")?,
            task: str_of(r, "task")?,
            file: str_of(r, "file")?,
            line: num(r, "line") as u32,
            status,
            message: r["message"].as_str().map(str::to_string),
            diffs: r["diff"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            duration_ms: u128::from(num(r, "duration_ms")),
            item: r["item"].as_str().map(str::to_string),
        });
    }
    for (host, s) in doc["recap"].as_object().ok_or("'recap' missing")? {
        let n = |k: &str| num(s, k) as u32;
        c.recap.push((
            host.clone(),
            HostStats {
                ok: n("ok"),
                changed: n("changed"),
                unreachable: n("unreachable"),
                failed: n("failed"),
                skipped: n("skipped"),
                rescued: n("rescued"),
                ignored: n("ignored"),
            },
        ));
    }
    Ok(c)
}

const STATUSES: [Status; 7] = [
    Status::Ok,
    Status::Changed,
    Status::Skipped,
    Status::Failed,
    Status::Ignored,
    Status::Rescued,
    Status::Unreachable,
];
