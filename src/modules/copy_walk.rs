//! The walk of a controller directory that copy sends, as Ansible's action plugin does it
//! (`_walk_dirs`): with `local_follow` a link to a file sends the file it points to and a
//! link to a directory sends that directory's tree, except a link back into the tree
//! being copied (a loop), which is sent as the link; a link to nothing is sent as the
//! link; without `local_follow` every link is sent as the link.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What to send, each with its path below the copy's top (`a/b`).
#[derive(Debug, Default, PartialEq)]
pub struct Walked {
    /// (the controller file to read, where it goes)
    pub files: Vec<(PathBuf, String)>,
    pub dirs: Vec<String>,
    /// (what the link points to, where it goes)
    pub links: Vec<(String, String)>,
}

type Ino = (u64, u64);

fn ino(p: &Path) -> std::io::Result<Ino> {
    let m = std::fs::metadata(p)?;
    Ok((m.dev(), m.ino()))
}

fn rel_join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

fn read_link(p: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_link(p)?.to_string_lossy().into_owned())
}

/// Walk `top` (a directory) as `_walk_dirs` does.
pub fn walk_dirs(top: &Path, local_follow: bool) -> std::io::Result<Walked> {
    let mut out = Walked::default();
    let parents: HashSet<Ino> = [ino(top)?].into_iter().collect();
    walk(top, "", &parents, local_follow, &mut out)?;
    Ok(out)
}

/// `os.walk(dir)` (not into linked directories) with `_recurse`'s handling of links.
fn walk(
    dir: &Path,
    rel: &str,
    parents: &HashSet<Ino>,
    local_follow: bool,
    out: &mut Walked,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut real_subdirs = Vec::new();
    let mut subdirs = Vec::new();
    for e in &entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let target = rel_join(rel, &name);
        let is_link = e.file_type()?.is_symlink();
        // os.walk puts what `is_dir()` (through links) says is a directory with the
        // directories, everything else (a link to nothing too) with the files.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            subdirs.push((path, target, is_link));
            continue;
        }
        if is_link {
            let real = std::fs::canonicalize(&path).ok();
            match real {
                Some(r) if local_follow && r.is_file() => out.files.push((r, target)),
                _ => out.links.push((read_link(&path)?, target)),
            }
        } else {
            out.files.push((path, target));
        }
    }
    for (path, target, is_link) in subdirs {
        if !is_link {
            out.dirs.push(target.clone());
            real_subdirs.push((path, target));
            continue;
        }
        if !local_follow {
            out.links.push((read_link(&path)?, target));
            continue;
        }
        let real = std::fs::canonicalize(&path)?;
        let real_ino = ino(&real)?;
        if parents.contains(&real_ino) {
            out.links.push((read_link(&path)?, target));
            continue;
        }
        // The directories from the link up to the part of the tree already known.
        let mut new_parents = HashSet::new();
        let mut up = path.parent();
        while let Some(p) = up {
            let Ok(i) = ino(p) else { break };
            if parents.contains(&i) {
                break;
            }
            new_parents.insert(i);
            up = p.parent();
        }
        if new_parents.contains(&real_ino) {
            // A loop: sent as the link.
            out.links.push((read_link(&path)?, target));
            continue;
        }
        out.dirs.push(target.clone());
        let all: HashSet<Ino> = parents.union(&new_parents).copied().collect();
        walk(&real, &target, &all, local_follow, out)?;
    }
    for (path, target) in real_subdirs {
        walk(&path, &target, parents, local_follow, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn follows_links_but_keeps_loops_and_dangling_links() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("top");
        std::fs::create_dir_all(top.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(d.path().join("outside")).unwrap();
        std::fs::write(d.path().join("outside/o.txt"), "o").unwrap();
        std::fs::write(top.join("sub/f.txt"), "f").unwrap();
        symlink("../", top.join("sub/circles")).unwrap();
        symlink("nothing", top.join("sub/dangling")).unwrap();
        symlink("f.txt", top.join("sub/lf")).unwrap();
        symlink("../../outside", top.join("sub/out")).unwrap();
        let w = walk_dirs(&top, true).unwrap();
        assert_eq!(w.dirs, vec!["sub", "sub/deeper", "sub/out"]);
        assert_eq!(
            w.links,
            vec![
                ("nothing".to_string(), "sub/dangling".to_string()),
                ("../".to_string(), "sub/circles".to_string()),
            ]
        );
        let files: Vec<&str> = w.files.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(files, vec!["sub/f.txt", "sub/lf", "sub/out/o.txt"]);
        assert!(w.files[1].0.ends_with("sub/f.txt"));

        let w = walk_dirs(&top, false).unwrap();
        assert_eq!(w.dirs, vec!["sub", "sub/deeper"]);
        assert_eq!(w.links.len(), 4);
        let files: Vec<&str> = w.files.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(files, vec!["sub/f.txt"]);
    }
}
