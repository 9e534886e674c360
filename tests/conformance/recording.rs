//! Ansible's side of a case, recorded from a real `ansible-playbook` run over SSH and
//! replayed while nothing it depends on has changed.
//!
//! Ansible is the reference, not the code under test: for a given case, ansible-core
//! version and host image it does the same thing every time, and running it is most of
//! the suite's time (a Python start per run, a module upload per task). So a run over SSH
//! compares drover, live, with what `ansible-playbook` did when the recording was made:
//! the same observations (`RunOut`: exit code, events, registered JSON, the end state
//! under the root, `observe.sh` output) the live comparison uses.
//!
//! A recording is used only when its key matches: a SHA-256 over [`FORMAT`], the
//! ansible-core version and the pinned controller requirements, every file of the case,
//! the suite's `lib.sh`, callback plugin and HTTP files, and the host image's package list
//! (`var/lib/dpkg/status`). Anything else runs Ansible live, as before. Recordings are
//! (re)written by a run with `DROVER_CONFORMANCE_RECORD=1`, and ignored with
//! `DROVER_CONFORMANCE_ANSIBLE=live`.

use super::{suite_dir, Case, Entry, RunOut};
use serde_json::{json, Map, Value as J};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bumped when what a recording holds, or how the harness runs Ansible, changes.
const FORMAT: &str = "drover-conformance-recording/1";

/// Stand-ins for the paths and addresses of one run and checkout, put back when a
/// recording is read.
const WORK: &str = "@@WORK@@";
const HTTP: &str = "@@HTTP@@";
/// The checkout the suite runs from (case files named by path: vars files, fileglob items).
const REPO: &str = "@@REPO@@";

fn repo() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// How the suite uses recordings, from the environment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Replay a matching recording, else run Ansible live (the default over SSH).
    Replay,
    /// Always run Ansible live (`DROVER_CONFORMANCE_ANSIBLE=live`, and the local transport).
    Live,
    /// Run Ansible live and write its recording (`DROVER_CONFORMANCE_RECORD=1`).
    Record,
}

impl Mode {
    pub fn from_env(local: bool) -> Mode {
        if local || std::env::var("DROVER_CONFORMANCE_ANSIBLE").as_deref() == Ok("live") {
            Mode::Live
        } else if std::env::var("DROVER_CONFORMANCE_RECORD").as_deref() == Ok("1") {
            Mode::Record
        } else {
            Mode::Replay
        }
    }
}

fn path_of(case: &Case) -> PathBuf {
    suite_dir()
        .join("ansible_recorded")
        .join(format!("{}.json", case.name))
}

/// The host image a case runs on: the rootfs `tests/hosts` boots for it.
fn image_packages(case: &Case) -> Option<Vec<u8>> {
    let (script, args): (&str, &[&str]) = if case.systemd {
        ("nspawn", &["rootfs"])
    } else {
        ("rootfs.sh", &["--python"])
    };
    let out = std::process::Command::new(super::hosts_script(script))
        .args(args)
        .output()
        .ok()?;
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::read(root.join("var/lib/dpkg/status")).ok()
}

fn hash_tree(h: &mut Sha256, dir: &Path) {
    for e in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
            h.update(rel.display().to_string().as_bytes());
            h.update([0]);
            h.update(std::fs::read(e.path()).unwrap_or_default());
            h.update([0]);
        }
    }
}

/// The key of a case's recording; `None` when the host image cannot be identified.
pub fn key(case: &Case, ansible_version: &str) -> Option<String> {
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    h.update(ansible_version.as_bytes());
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/requirements-ansible.txt");
    h.update(std::fs::read(requirements).unwrap_or_default());
    hash_tree(&mut h, &case.dir);
    h.update(std::fs::read(suite_dir().join("lib.sh")).unwrap_or_default());
    hash_tree(&mut h, &suite_dir().join("ansible_callback"));
    if case.uses_http {
        hash_tree(&mut h, &suite_dir().join("http"));
    }
    h.update(image_packages(case)?);
    Some(hex::encode(h.finalize()))
}

fn entry_json(e: &Entry) -> J {
    json!({
        "kind": e.kind, "mode": e.mode, "size": e.size, "sha256": e.sha256,
        "target": e.target, "preview": e.preview, "text": e.text,
    })
}

fn entry_from(v: &J) -> Option<Entry> {
    let kind = match v["kind"].as_str()? {
        "link" => "link",
        "dir" => "dir",
        "file" => "file",
        _ => "other",
    };
    Some(Entry {
        kind,
        mode: v["mode"].as_u64()? as u32,
        size: v["size"].as_u64()?,
        sha256: v["sha256"].as_str()?.to_string(),
        target: v["target"].as_str()?.to_string(),
        preview: v["preview"].as_str()?.to_string(),
        text: v["text"].as_str().map(str::to_string),
    })
}

fn run_json(r: &RunOut) -> J {
    let state: Map<String, J> = r
        .state
        .iter()
        .map(|(p, e)| (p.clone(), entry_json(e)))
        .collect();
    json!({
        "rc": r.rc, "events": r.events, "stderr": r.stderr, "jsons": r.jsons,
        "state": state, "observed": r.observed,
    })
}

fn run_from(v: &J) -> Option<RunOut> {
    let events: Vec<J> = v["events"].as_array()?.clone();
    let stdout = events.iter().map(|e| e.to_string() + "\n").collect();
    let mut state = BTreeMap::new();
    for (p, e) in v["state"].as_object()? {
        state.insert(p.clone(), entry_from(e)?);
    }
    Some(RunOut {
        rc: v["rc"].as_i64()? as i32,
        events,
        stderr: v["stderr"].as_str()?.to_string(),
        stdout,
        jsons: v["jsons"]
            .as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        state,
        observed: v["observed"].as_str()?.to_string(),
    })
}

/// Ansible's recorded runs of `case`, with this run's work directory and HTTP address put
/// back; `None` when there is no recording for exactly this key.
pub fn replay(case: &Case, key: &str, work: &Path, http: Option<&str>) -> Option<Vec<RunOut>> {
    let text = std::fs::read_to_string(path_of(case)).ok()?;
    let text = text
        .replace(WORK, &work.display().to_string())
        .replace(HTTP, http.unwrap_or(HTTP))
        .replace(REPO, repo());
    let doc: J = serde_json::from_str(&text).ok()?;
    if doc["key"] != key {
        return None;
    }
    doc["runs"].as_array()?.iter().map(run_from).collect()
}

/// Write the recording of Ansible's `runs` of `case` under `key`.
pub fn record(
    case: &Case,
    key: &str,
    ansible_version: &str,
    runs: &[RunOut],
    work: &Path,
    http: Option<&str>,
) {
    let doc = json!({
        "key": key,
        "ansible_core": ansible_version,
        "runs": runs.iter().map(run_json).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string(&doc).unwrap();
    text = text.replace(&work.display().to_string(), WORK);
    text = text.replace(&format!("{}/", repo()), &format!("{REPO}/"));
    if let Some(h) = http {
        text = text.replace(h, HTTP);
    }
    let path = path_of(case);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}
