//! Batched reads of host state. Before a run of tasks, the walker asks each module what
//! it will look at (a stat, a file's content, whether a path exists), fetches every
//! answer it does not have in ONE remote command, and the modules' plans then read from
//! this cache. Any change applied to the host empties it. A no-op converge therefore
//! costs a constant number of round trips per task list, not one or more per task.

use crate::connection::{exec_as, parse_stat, quote, stat_script, Become, Connection, FileState};
use crate::diagnostics::{Error, Result};
use base64::Engine;
use std::collections::HashMap;

mod batch;
use batch::{batch_script, parse_batch};

/// Files larger than this are not read through the batch (the module reads them itself).
pub const MAX_BATCHED_READ: u64 = 1024 * 1024;

/// One piece of host state a plan will read, fetched ahead in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Probe {
    /// The file's type, mode, owner, size (and SHA-1 when `checksum`).
    Stat {
        /// The path on the host.
        path: String,
        /// Follow a symlink (stat its target).
        follow: bool,
        /// Also the SHA-1 of a regular file.
        checksum: bool,
    },
    /// The content of a regular file (following links).
    Read {
        /// The path on the host.
        path: String,
    },
    /// Does any path match this glob (`creates`/`removes`)?
    Exists {
        /// A shell glob.
        pattern: String,
    },
    /// The stdout of a read-only query script (user and group databases, …).
    Query {
        /// The script; it must not change anything.
        script: String,
    },
}

/// What the host answered to a [`Probe`].
#[derive(Clone, Debug)]
pub enum Answer {
    /// A stat (`exists: false` when nothing is there).
    Stat(FileState),
    /// `None`: no regular file there.
    Read(Option<Vec<u8>>),
    /// Not for a batch (too large, or the file cannot be read: the direct read says
    /// why): ask again directly.
    TooLarge,
    /// Whether the glob matched anything.
    Exists(bool),
    /// A query's stdout.
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
    /// Forget every answer (the host changed in a way nobody tracked).
    pub fn clear(&mut self) {
        self.answers.clear();
        self.generation += 1;
    }

    /// Forget what is known about these paths and their parent directories (a change may
    /// have created them: `file state=directory` makes parents), and with `tree` also
    /// everything below them.
    pub fn invalidate(&mut self, paths: &[String], tree: bool) {
        // `dir/` names `dir` too: compare without trailing slashes.
        let norm = |p: &str| -> String {
            let t = p.trim_end_matches('/');
            if t.is_empty() && !p.is_empty() {
                "/".to_string()
            } else {
                t.to_string()
            }
        };
        let below = |p: &str, dir: &str| p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
        let hit = |p: &str| {
            let p = norm(p);
            paths.iter().any(|t| {
                let t = norm(t);
                p == t || (tree && below(&p, &t)) || below(&t, &p)
            })
        };
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

    /// The answer to `p` as `become_` sees it, when fetched and still valid.
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

    /// Record what a change reported about the host (a written file's stat and
    /// content): the next plans read it from here instead of from the host.
    pub fn learn(&mut self, known: Vec<(Probe, Answer)>, become_: Option<&Become>) {
        for (p, a) in known {
            self.answers.insert(Self::key(&p, become_), a);
        }
    }

    /// Is there an answer to `p` for `become_`?
    pub fn contains(&self, p: &Probe, become_: Option<&Become>) -> bool {
        self.get(p, become_).is_some()
    }

    /// Fetch every probe not yet answered, in one remote command. `Ok(true)` when a command
    /// was sent; an error only when the transport (or the run lock riding on it) failed: a
    /// batch that fails on the host answers nothing, and each plan then reads for itself
    /// and reports what went wrong where it belongs.
    pub fn fetch(
        &mut self,
        conn: &mut dyn Connection,
        probes: &[Probe],
        become_: Option<&Become>,
    ) -> Result<bool> {
        let missing = self.missing(probes, become_);
        if missing.is_empty() {
            return Ok(false);
        }
        let out = exec_as(conn, &Self::script(&missing), None, become_)?;
        if out.rc == 0 {
            self.absorb(&missing, &out.stdout, become_);
        }
        Ok(true)
    }

    /// The probes not answered yet, each once.
    pub fn missing(&self, probes: &[Probe], become_: Option<&Become>) -> Vec<Probe> {
        let mut missing: Vec<Probe> = Vec::new();
        for p in probes {
            if !self.contains(p, become_) && !missing.contains(p) {
                missing.push(p.clone());
            }
        }
        missing
    }

    /// The script that answers `missing` (its output goes to [`ProbeCache::absorb`]).
    pub fn script(missing: &[Probe]) -> String {
        batch_script(&missing.iter().collect::<Vec<_>>())
    }

    /// Record the answers of a batch that ran to the end.
    pub fn absorb(&mut self, missing: &[Probe], stdout: &[u8], become_: Option<&Become>) {
        self.batches += 1;
        let missing: Vec<&Probe> = missing.iter().collect();
        if let Ok(answers) = parse_batch(&missing, &String::from_utf8_lossy(stdout)) {
            for (i, answer) in answers {
                self.answers.insert(Self::key(missing[i], become_), answer);
            }
        }
    }
}

/// One probe as a line-oriented shell fragment: `#I <answer>` (binary data base64'd).
/// Stats normally go through [`stat_batch`]; this form is for paths it cannot carry.
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
            // `head` stops one byte past the limit, so a big file is neither read whole
            // nor sent; the parser sees the extra byte and answers TooLarge.
            // A file the user cannot read is not "empty": the direct read reports why.
            let q = quote(path);
            format!(
                "if [ -f {q} ] && [ -r {q} ]; then printf '#{i} data '; head -c {} -- {q} | base64 -w0; echo; elif [ -f {q} ]; then echo '#{i} big'; else echo '#{i} none'; fi",
                MAX_BATCHED_READ + 1
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
        .map_err(|e| Error::module(format!("unexpected probe output: {e}")).caused_by(e))
}

fn parse_answer(p: &Probe, rest: &str) -> Result<Answer> {
    Ok(match p {
        Probe::Stat { .. } => Answer::Stat(parse_stat(&String::from_utf8_lossy(&b64(rest)?))?),
        Probe::Read { .. } => match rest.split_once(' ') {
            Some(("data", d)) => {
                let data = b64(d)?;
                if data.len() as u64 > MAX_BATCHED_READ {
                    Answer::TooLarge
                } else {
                    Answer::Read(Some(data))
                }
            }
            None if rest == "data" => Answer::Read(Some(Vec::new())),
            _ if rest == "big" => Answer::TooLarge,
            _ => Answer::Read(None),
        },
        Probe::Exists { .. } => Answer::Exists(rest.trim() == "yes"),
        Probe::Query { .. } => Answer::Output(String::from_utf8_lossy(&b64(rest)?).into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{FileKind, LocalConnection};

    #[test]
    fn a_change_to_a_directory_forgets_its_path_written_with_a_slash() {
        let stat = |path: &str| Probe::Stat {
            path: path.to_string(),
            follow: true,
            checksum: false,
        };
        let mut cache = ProbeCache::default();
        let known = ["/r/d/", "/r/d", "/r/other/", "/r/d/x"]
            .iter()
            .map(|p| (stat(p), Answer::Stat(FileState::missing())))
            .collect();
        cache.learn(known, None);
        cache.invalidate(&["/r/d".to_string()], false);
        assert!(!cache.contains(&stat("/r/d/"), None));
        assert!(!cache.contains(&stat("/r/d"), None));
        assert!(cache.contains(&stat("/r/other/"), None));
        assert!(cache.contains(&stat("/r/d/x"), None));
        cache.invalidate(&["/r/other/".to_string()], true);
        assert!(!cache.contains(&stat("/r/other/"), None));
    }

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

    /// The batched script answers exactly what a stat of each path on its own answers,
    /// for names the batch has to take apart (bars, spaces, backslashes, newlines) and
    /// for links followed or not.
    #[test]
    fn batched_stats_equal_single_stats() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let names = ["plain", "a|b", "two  spaces", "back\\slash", "new\nline"];
        for n in names {
            std::fs::write(d.join(n), n.as_bytes()).unwrap();
        }
        std::fs::create_dir(d.join("dir")).unwrap();
        std::os::unix::fs::symlink("plain", d.join("link")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
        let mut paths: Vec<String> = names
            .iter()
            .chain(&["dir", "link", "dangling", "missing"])
            .map(|n| d.join(n).display().to_string())
            .collect();
        paths.push(d.join("link").display().to_string() + "/");
        let mut probes = Vec::new();
        for p in &paths {
            for follow in [true, false] {
                for checksum in [true, false] {
                    probes.push(Probe::Stat {
                        path: p.clone(),
                        follow,
                        checksum,
                    });
                }
            }
        }
        let mut conn = LocalConnection::new();
        let mut cache = ProbeCache::default();
        cache.fetch(&mut conn, &probes, None).unwrap();
        assert_eq!(conn.stats().round_trips, 1);
        for p in &probes {
            let Probe::Stat {
                path,
                follow,
                checksum,
            } = p
            else {
                unreachable!()
            };
            let single =
                crate::connection::stat(&mut conn, path, *follow, *checksum, None).unwrap();
            match cache.get(p, None) {
                Some(Answer::Stat(s)) => assert_eq!(
                    (s.kind, s.mode, s.size, &s.sha1, &s.link_target),
                    (
                        single.kind,
                        single.mode,
                        single.size,
                        &single.sha1,
                        &single.link_target
                    ),
                    "{p:?}"
                ),
                other => panic!("{p:?}: {other:?}"),
            }
        }
    }
}
