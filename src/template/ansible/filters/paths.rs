//! Path filters: `basename`, `dirname`, `expanduser`, `realpath`, `splitext`,
//! `path_join`, as Python's `os.path` computes them.

use super::{ensure_defined, fail, is_list, list_input, str_param, text_input};
use minijinja::value::Value;
use minijinja::Error;

pub fn basename(value: &Value) -> Result<String, Error> {
    let p = text_input("basename", value)?;
    Ok(p.rsplit('/').next().unwrap_or_default().to_string())
}

/// `dirname`: Python's `os.path.dirname` (trailing slashes of the head are
/// stripped unless it is all slashes).
pub fn dirname(value: &Value) -> Result<String, Error> {
    let p = text_input("dirname", value)?;
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    if !head.is_empty() && !head.chars().all(|c| c == '/') {
        Ok(head.trim_end_matches('/').to_string())
    } else {
        Ok(head.to_string())
    }
}

/// `expanduser`: expands a leading `~` or `~/` with `$HOME`; other forms
/// (`~user`) are returned unchanged.
pub fn expanduser(value: &Value) -> Result<String, Error> {
    let p = text_input("expanduser", value)?;
    if p == "~" || p.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            let rest = &p[1..];
            let home = if rest.is_empty() {
                home.as_str()
            } else {
                home.trim_end_matches('/')
            };
            return Ok(format!("{home}{rest}"));
        }
    }
    Ok(p)
}

/// Python's `posixpath.normpath`.
pub(crate) fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
                    comps.push("..");
                } else {
                    comps.pop();
                }
            }
            c => comps.push(c),
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), comps.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `realpath`: makes the path absolute (relative to the controller's working
/// directory) and normalises `.`/`..`; symlinks are not resolved.
pub fn realpath(value: &Value) -> Result<String, Error> {
    let p = text_input("realpath", value)?;
    if p.starts_with('/') {
        return Ok(normpath(&p));
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(normpath(&format!("{cwd}/{p}")))
}

/// `splitext`: Python's `os.path.splitext` as a two-item list; leading dots
/// of the file name do not start an extension.
pub fn splitext(value: &Value) -> Result<Value, Error> {
    let p = text_input("splitext", value)?;
    let sep = p.rfind('/').map_or(0, |i| i + 1);
    if let Some(dot) = p.rfind('.') {
        if dot > sep && p[sep..dot].chars().any(|c| c != '.') {
            return Ok(Value::from(vec![
                Value::from(&p[..dot]),
                Value::from(&p[dot..]),
            ]));
        }
    }
    Ok(Value::from(vec![Value::from(p), Value::from("")]))
}

/// `path_join`: Python's `os.path.join` over a list (an absolute component
/// discards everything before it).
pub fn path_join(value: &Value) -> Result<String, Error> {
    ensure_defined("path_join", value)?;
    if let Some(s) = value.as_str() {
        return Ok(s.to_string());
    }
    if !is_list(value) {
        return Err(fail(format!(
            "path_join: expects a string or a list of strings, got {}",
            value.kind()
        )));
    }
    let mut path = String::new();
    for part in list_input("path_join", value)? {
        let part = str_param("path_join", "path component", &part)?;
        if part.starts_with('/') {
            path = part;
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(&part);
        } else {
            path.push('/');
            path.push_str(&part);
        }
    }
    Ok(path)
}
