//! Batched reads of host state. Before a run of tasks, the walker asks each module what
//! it will look at (a stat, a file's content, whether a path exists), fetches every
//! answer it does not have in ONE remote command, and the modules' plans then read from
//! this cache. Any change applied to the host empties it. A no-op converge therefore
//! costs a constant number of round trips per task list, not one or more per task.

use crate::connection::{
    exec_as, parse_stat, quote, stat_script, Become, Connection, FileKind, FileState,
};
use crate::diagnostics::{Error, Result};
use base64::Engine;
use std::collections::HashMap;

/// Files larger than this are not read through the batch (the module reads them itself).
const MAX_BATCHED_READ: u64 = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Probe {
    Stat {
        path: String,
        follow: bool,
        checksum: bool,
    },
    /// The content of a regular file (following links).
    Read { path: String },
    /// Does any path match this glob (`creates`/`removes`)?
    Exists { pattern: String },
    /// The stdout of a read-only query script (user and group databases, …).
    Query { script: String },
}

#[derive(Clone, Debug)]
pub enum Answer {
    Stat(FileState),
    /// `None`: no regular file there.
    Read(Option<Vec<u8>>),
    /// Too large to batch: ask again directly.
    TooLarge,
    Exists(bool),
    Output(String),
}

/// Answers for one host, valid until something on the host changes.
#[derive(Default)]
pub struct ProbeCache {
    answers: HashMap<(Probe, Option<String>), Answer>,
    /// Bumped on every clear, so the walker knows when to fetch again.
    pub generation: u64,
    /// How many batches were fetched (for tests and `-v`).
    pub batches: u64,
}

impl ProbeCache {
    pub fn clear(&mut self) {
        self.answers.clear();
        self.generation += 1;
    }

    /// Forget what is known about these paths, everything below them, and their parent
    /// directories (a change may have created them: `file state=directory` makes parents).
    pub fn invalidate(&mut self, paths: &[String]) {
        let below = |p: &str, dir: &str| p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
        let hit = |p: &str| paths.iter().any(|t| p == t || below(p, t) || below(t, p));
        self.answers.retain(|(probe, _), _| match probe {
            Probe::Stat { path, .. } | Probe::Read { path } => !hit(path),
            // A glob may match anything that changed: drop them all.
            // Queries read system state a change may have touched: drop them too.
            Probe::Exists { .. } | Probe::Query { .. } => false,
        });
    }

    fn key(p: &Probe, become_: Option<&Become>) -> (Probe, Option<String>) {
        (p.clone(), become_.map(|b| b.user.clone()))
    }

    pub fn get(&self, p: &Probe, become_: Option<&Become>) -> Option<&Answer> {
        if let Some(a) = self.answers.get(&Self::key(p, become_)) {
            return Some(a);
        }
        // A stat with a checksum also answers the same stat without one.
        if let Probe::Stat {
            path,
            follow,
            checksum: false,
        } = p
        {
            let with = Probe::Stat {
                path: path.clone(),
                follow: *follow,
                checksum: true,
            };
            return self.answers.get(&Self::key(&with, become_));
        }
        None
    }

    pub fn contains(&self, p: &Probe, become_: Option<&Become>) -> bool {
        self.get(p, become_).is_some()
    }

    /// Fetch every probe not yet answered, in one remote command.
    pub fn fetch(
        &mut self,
        conn: &mut dyn Connection,
        probes: &[Probe],
        become_: Option<&Become>,
    ) -> Result<()> {
        let mut missing: Vec<&Probe> = Vec::new();
        for p in probes {
            if !self.contains(p, become_) && !missing.contains(&p) {
                missing.push(p);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let mut script = String::new();
        for (i, p) in missing.iter().enumerate() {
            script.push_str(&probe_script(i, p));
            script.push('\n');
        }
        let out = exec_as(conn, &script, None, become_)?;
        if out.rc != 0 {
            return Err(Error::module(format!(
                "reading the host's state failed: {}",
                out.stderr_str().trim()
            )));
        }
        self.batches += 1;
        let text = out.stdout_str();
        for line in text.lines() {
            let Some((head, rest)) = line.split_once(' ') else {
                continue;
            };
            let Some(i) = head.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            let Some(p) = missing.get(i) else { continue };
            let answer = parse_answer(p, rest)?;
            self.answers.insert(Self::key(p, become_), answer);
        }
        Ok(())
    }
}

/// One probe as a line-oriented shell fragment: `#I <answer>` (binary data base64'd).
fn probe_script(i: usize, p: &Probe) -> String {
    match p {
        Probe::Stat {
            path,
            follow,
            checksum,
        } => {
            format!(
                "printf '#{i} '; ( {} ) | base64 -w0; echo",
                stat_script(&quote(path), *follow, *checksum)
            )
        }
        Probe::Read { path } => {
            let q = quote(path);
            format!(
                "if [ -f {q} ]; then if [ \"$(stat -L -c %s -- {q})\" -le {MAX_BATCHED_READ} ]; then printf '#{i} data '; base64 -w0 < {q}; echo; else echo '#{i} big'; fi; else echo '#{i} none'; fi"
            )
        }
        Probe::Query { script } => {
            format!("printf '#{i} '; ( {script} ) 2>/dev/null | base64 -w0; echo")
        }
        Probe::Exists { pattern } => {
            format!(
                "r=no; for p in {}; do [ -e \"$p\" ] && r=yes; done; echo \"#{i} $r\"",
                glob_word(pattern)
            )
        }
    }
}

/// Quote a path for the shell but keep its glob characters live.
pub fn glob_word(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        if matches!(c, '*' | '?' | '[' | ']') {
            out.push(c);
        } else {
            out.push_str(&quote(&c.to_string()));
        }
    }
    out
}

fn b64(s: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| Error::module(format!("unexpected probe output: {e}")))
}

fn parse_answer(p: &Probe, rest: &str) -> Result<Answer> {
    Ok(match p {
        Probe::Stat { .. } => Answer::Stat(parse_stat(&String::from_utf8_lossy(&b64(rest)?))?),
        Probe::Read { .. } => match rest.split_once(' ') {
            Some(("data", d)) => Answer::Read(Some(b64(d)?)),
            None if rest == "data" => Answer::Read(Some(Vec::new())),
            _ if rest == "big" => Answer::TooLarge,
            _ => Answer::Read(None),
        },
        Probe::Exists { .. } => Answer::Exists(rest.trim() == "yes"),
        Probe::Query { .. } => Answer::Output(String::from_utf8_lossy(&b64(rest)?).into_owned()),
    })
}

/// Convenience for modules: is this a regular file per a cached stat?
pub fn is_file(a: &Answer) -> bool {
    matches!(a, Answer::Stat(s) if s.kind == FileKind::File)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::LocalConnection;

    #[test]
    fn one_batch_answers_stats_reads_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a file");
        std::fs::write(&f, b"hello\0world").unwrap();
        let fs = f.display().to_string();
        let probes = vec![
            Probe::Stat {
                path: fs.clone(),
                follow: true,
                checksum: true,
            },
            Probe::Read { path: fs.clone() },
            Probe::Read {
                path: format!("{fs}.missing"),
            },
            Probe::Exists {
                pattern: format!("{}/a *", dir.path().display()),
            },
            Probe::Exists {
                pattern: format!("{}/zz*", dir.path().display()),
            },
        ];
        let mut conn = LocalConnection::new();
        let mut cache = ProbeCache::default();
        cache.fetch(&mut conn, &probes, None).unwrap();
        assert_eq!(conn.stats().round_trips, 1);
        match cache.get(&probes[0], None) {
            Some(Answer::Stat(s)) => {
                assert_eq!(s.kind, FileKind::File);
                assert_eq!(s.size, 11);
                assert_eq!(
                    s.sha1.as_deref(),
                    Some("f85b420f1e43ebf88649dfcab302b898d889606c")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(cache.get(&probes[1], None), Some(Answer::Read(Some(d))) if d == b"hello\0world")
        );
        assert!(matches!(
            cache.get(&probes[2], None),
            Some(Answer::Read(None))
        ));
        assert!(matches!(
            cache.get(&probes[3], None),
            Some(Answer::Exists(true))
        ));
        assert!(matches!(
            cache.get(&probes[4], None),
            Some(Answer::Exists(false))
        ));
        // Already answered: no second round trip; a checksum stat answers a plain one.
        cache.fetch(&mut conn, &probes, None).unwrap();
        assert!(cache.contains(
            &Probe::Stat {
                path: fs,
                follow: true,
                checksum: false
            },
            None
        ));
        assert_eq!(conn.stats().round_trips, 1);
    }
}
