//! The diff Ansible's file module returns when nothing changes (its `initial_diff`): the
//! path on both sides, and the state when the path's kind is not the one asked for (a
//! `touch` always, a file with more than one hard link under `state: file`).

use crate::connection::FileState;
use serde_json::{json, Value as J};

/// `{before, after}` for a task on `path` with the resolved `state` that changes nothing;
/// `None` for `absent` (Ansible returns no diff when the path was already gone).
pub fn unchanged(path: &str, state: &str, cur: &FileState) -> Option<J> {
    if state == "absent" {
        return None;
    }
    let prev = super::write::path_state(cur);
    let (before, after) = if prev == state {
        (json!({ "path": path }), json!({ "path": path }))
    } else {
        (
            json!({ "path": path, "state": prev }),
            json!({ "path": path, "state": state }),
        )
    };
    Some(json!({ "before": before, "after": after }))
}

/// The result's diff of a change: the planned before/after texts (JSON mappings), with the
/// entries of `base` ([`unchanged`]) they lack (the `touch` state of a touch that only
/// changes attributes); `None` when a side is not a mapping.
pub fn merged(before: &str, after: &str, base: Option<J>) -> Option<J> {
    let mut sides = [before, after].map(|s| serde_json::from_str::<J>(s).ok());
    for (side, key) in sides.iter_mut().zip(["before", "after"]) {
        let (Some(J::Object(m)), Some(J::Object(b))) = (side, base.as_ref().map(|b| &b[key]))
        else {
            continue;
        };
        for (k, v) in b {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    // The times are numbers in Ansible's result (the diff texts hold them as strings).
    for side in sides.iter_mut().flatten() {
        for key in ["mtime", "atime"] {
            if let Some(t) = side[key].as_str().and_then(|t| t.parse::<f64>().ok()) {
                side[key] = json!(t);
            }
        }
    }
    match sides {
        [Some(b @ J::Object(_)), Some(a @ J::Object(_))] => Some(json!({"before": b, "after": a})),
        _ => None,
    }
}
