//! `--format json`: one JSON object per line (schema version 1).

use super::{unified, Event, Sink};
use serde_json::{json, Value as J};
use std::io::Write;
use std::sync::Mutex;

pub struct JsonSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonSink {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        JsonSink {
            out: Mutex::new(out),
        }
    }

    /// Every JSON line goes through here: decrypted vault values are masked in every
    /// string, number and nested key, so the line stays valid JSON and the event schema's
    /// own keys are never touched.
    fn emit(&self, mut v: J) {
        mask_json(&mut v, true);
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{v}");
            let _ = o.flush();
        }
    }
}

fn mask_json(v: &mut J, top: bool) {
    use crate::vault::mask;
    use std::borrow::Cow;
    match v {
        J::String(s) => {
            if let Cow::Owned(m) = mask(s) {
                *s = m;
            }
        }
        J::Number(n) => {
            let text = n.to_string();
            if let Cow::Owned(m) = mask(&text) {
                *v = J::String(m);
            }
        }
        J::Array(items) => items.iter_mut().for_each(|i| mask_json(i, false)),
        J::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut val) in entries {
                mask_json(&mut val, false);
                let k = if top { k } else { mask(&k).into_owned() };
                map.insert(k, val);
            }
        }
        J::Null | J::Bool(_) => {}
    }
}

impl Sink for JsonSink {
    fn event(&self, e: &Event<'_>) {
        let v = match e {
            Event::RunStart { playbooks, check } => {
                json!({"event": "run_start", "version": 1, "playbooks": playbooks, "check": check})
            }
            Event::PlayStart { name, hosts } => {
                json!({"event": "play_start", "name": name, "hosts": hosts})
            }
            Event::Task(t) => {
                let result = if t.no_log {
                    json!({"censored": super::NO_LOG_MSG})
                } else {
                    serde_json::to_value(t.result).unwrap_or(J::Null)
                };
                json!({
                    "event": if t.handler { "handler_result" } else { "task_result" },
                    "host": t.host,
                    "task": t.task,
                    "module": t.module,
                    "file": t.source.file.display().to_string(),
                    "line": t.source.line,
                    "status": t.status.as_str(),
                    "changed": t.changed,
                    // A hidden result hides its item too (Ansible's result has no label).
                    "item": if t.no_log { None } else { t.item.as_ref() },
                    "duration_ms": t.duration.as_millis() as u64,
                    "diff": if t.no_log { vec![] } else { t.diffs.iter().map(unified).collect::<Vec<_>>() },
                    "message": super::shown_msg(t),
                    "result": result,
                })
            }
            Event::TaskStart { host, task, source } => {
                json!({"event": "task_start", "host": host, "task": task, "file": source.file.display().to_string(), "line": source.line})
            }
            Event::HostDone { host } => json!({"event": "host_done", "host": host}),
            Event::Included { host, file } => {
                json!({"event": "included", "host": host, "file": file})
            }
            Event::Warning { host, message } => {
                json!({"event": "warning", "host": host, "message": message})
            }
            Event::Recap {
                stats,
                duration,
                round_trips,
            } => {
                let hosts: serde_json::Map<String, J> = stats
                    .iter()
                    .map(|(h, s)| {
                        (h.clone(), json!({"ok": s.ok, "changed": s.changed, "unreachable": s.unreachable, "failed": s.failed, "skipped": s.skipped, "rescued": s.rescued, "ignored": s.ignored}))
                    })
                    .collect();
                json!({"event": "recap", "hosts": hosts, "duration_ms": duration.as_millis() as u64, "round_trips": round_trips})
            }
        };
        self.emit(v);
    }
}
