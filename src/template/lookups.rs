//! `lookup()` and `query()`/`q()`: env, file, pipe, template, vars, items/list,
//! first_found, fileglob. They run on the controller, as in Ansible.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use std::path::{Path, PathBuf};

/// The lookups drover has (also usable as `with_<name>` loops).
pub const LOOKUPS: &[&str] = &[
    "env",
    "file",
    "template",
    "pipe",
    "lines",
    "vars",
    "varnames",
    "password",
    "items",
    "flattened",
    "list",
    "first_found",
    "fileglob",
];

/// The variable through which a `with_<lookup>` loop tells the lookup which task runs it
/// (first_found searches `templates/`, `vars/` or `files/` after the task's action).
pub const WITH_ACTION_VAR: &str = "__drover_with_action";

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn lookup(state: &State, name: String, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist: Option<bool> = kwargs.get("wantlist")?;
    let Some(items) = tolerated(run(state, &name, &args, &kwargs), &kwargs)? else {
        // errors='ignore'/'warn': a failed lookup gives None (query: an empty list).
        return Ok(if wantlist == Some(true) {
            Value::from(Vec::<Value>::new())
        } else {
            Value::from(())
        });
    };
    if wantlist == Some(true) {
        return Ok(Value::from(items));
    }
    // lookup() joins several results with commas, as Ansible does.
    Ok(match items.len() {
        1 => items.into_iter().next().unwrap_or_default(),
        _ if items.iter().all(|v| v.as_str().is_some()) => Value::from(
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Value::from(items),
    })
}

fn query(state: &State, name: String, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let items = tolerated(run(state, &name, &args, &kwargs), &kwargs)?;
    Ok(Value::from(items.unwrap_or_default()))
}

/// Ansible's `errors=` option of every lookup: `strict` (the default) fails the
/// template; `ignore` and `warn` turn a lookup's own failure into no result (`None`)
/// — never an undefined variable in its arguments, which fails either way.
fn tolerated(r: Result<Vec<Value>, Error>, kwargs: &Kwargs) -> Result<Option<Vec<Value>>, Error> {
    let errors: Option<String> = kwargs.get("errors")?;
    match (r, errors.as_deref()) {
        (Ok(items), _) => Ok(Some(items)),
        (Err(e), Some("ignore" | "warn")) if e.kind() != minijinja::ErrorKind::UndefinedError => {
            if errors.as_deref() == Some("warn") {
                eprintln!("[WARNING]: {e}");
            }
            Ok(None)
        }
        (Err(e), _) => Err(e),
    }
}

fn run(state: &State, name: &str, args: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let name = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name);
    let default: Option<Value> = kwargs.get("default")?;
    // `errors=` is applied around the lookup (see `tolerated`).
    let _: Option<String> = kwargs.get("errors")?;
    let terms: Vec<String> = args
        .iter()
        .map(|a| {
            a.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| a.to_string())
        })
        .collect();
    let mut out = Vec::new();
    match name {
        "env" => {
            for t in &terms {
                match std::env::var(t) {
                    Ok(v) => out.push(Value::from(v)),
                    Err(_) => out.push(default.clone().unwrap_or_else(|| Value::from(""))),
                }
            }
        }
        "file" => {
            for t in &terms {
                let path = find_file(state, "files", t);
                let data = path.and_then(|p| std::fs::read(&p).ok().map(|d| (p, d)));
                // A vault-encrypted file is decrypted, as Ansible's file lookup does.
                let data = match data {
                    Some((p, d)) => Some(
                        crate::vault::read_controller_file(d, &p)
                            .map_err(|e| err(format!("lookup('file'): {}", e.message)))?,
                    ),
                    None => None,
                };
                match data.and_then(|d| String::from_utf8(d).ok()) {
                    Some(text) => {
                        // As Ansible's options: rstrip by default, lstrip when asked.
                        let rstrip: Option<bool> = kwargs.get("rstrip")?;
                        let lstrip: Option<bool> = kwargs.get("lstrip")?;
                        let text = if rstrip.unwrap_or(true) { text.trim_end() } else { &text };
                        let text = if lstrip.unwrap_or(false) { text.trim_start() } else { text };
                        let text = text.to_string();
                        out.push(Value::from(text));
                    }
                    None => return Err(err(format!("lookup('file'): could not find or read '{t}' (searched files/ of the role and playbook)"))),
                }
            }
        }
        "template" => {
            // The lookup's options, as Ansible's template lookup takes them (its
            // trim_blocks defaults to true, the engine's).
            let mut opts = super::TextOptions {
                trim_blocks: kwargs.get::<Option<bool>>("trim_blocks")?,
                ..Default::default()
            };
            for (name, _) in super::text_options::DELIMITERS {
                if let Some(v) = kwargs.get::<Option<String>>(name)? {
                    opts.set_delimiter(name, v);
                }
            }
            let template_vars: Option<Value> = kwargs.get("template_vars")?;
            for t in &terms {
                let Some(path) = find_file(state, "templates", t) else {
                    return Err(err(format!(
                        "lookup('template'): could not find template '{t}'"
                    )));
                };
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    err(format!(
                        "lookup('template'): cannot read {}: {e}",
                        path.display()
                    ))
                })?;
                let name = std::path::absolute(&path)
                    .unwrap_or(path)
                    .display()
                    .to_string();
                // The variables a template sees (Ansible's generate_ansible_template_vars:
                // the term as written and the file found), then `template_vars`, over the
                // task's.
                let mut extra = vec![
                    ("template_path", Value::from(t.as_str())),
                    ("template_fullpath", Value::from(name.as_str())),
                ];
                if state.lookup("ansible_managed").is_none() {
                    extra.push(("ansible_managed", Value::from("Ansible managed")));
                }
                let ctx = minijinja::value::merge_maps([
                    template_vars.clone().unwrap_or_default(),
                    Value::from_iter(extra),
                    state.lookup("vars").unwrap_or_default(),
                ]);
                let text = super::render_text_or_none(state.env(), &name, &text, &ctx, &opts)
                    .map_err(|e| err(e.message.clone()))?;
                out.push(text.map_or(Value::from(()), Value::from));
            }
        }
        // A command's output on the controller: whole (pipe) or a line per result (lines).
        "pipe" | "lines" => {
            for t in &terms {
                let o = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(t)
                    .output()
                    .map_err(|e| err(format!("lookup('{name}'): cannot run '{t}': {e}")))?;
                if !o.status.success() {
                    return Err(err(format!(
                        "lookup('{name}'): '{t}' exited with {}",
                        o.status.code().unwrap_or(-1)
                    )));
                }
                let text = String::from_utf8_lossy(&o.stdout);
                if name == "lines" {
                    out.extend(text.lines().map(Value::from));
                } else {
                    out.push(Value::from(text.trim_end().to_string()));
                }
            }
        }
        "vars" => {
            // Ansible's messages, which playbooks test for.
            if let Some(a) = args.iter().find(|a| a.as_str().is_none()) {
                return Err(err(format!(
                    "Variable name must be 'str' not '{}'",
                    crate::template::ansible::filters::type_debug(a).unwrap_or_default()
                )));
            }
            for t in &terms {
                let v = state.lookup(t).filter(|v| !v.is_undefined());
                match (v, &default) {
                    (Some(v), _) => out.push(v),
                    (None, Some(d)) => out.push(d.clone()),
                    (None, None) => {
                        return Err(Error::new(
                            ErrorKind::UndefinedError,
                            format!("No variable named '{t}' was found"),
                        ))
                    }
                }
            }
        }
        "password" => {
            for t in &terms {
                out.push(Value::from(password(state, t)?));
            }
        }
        // Names of the variables that match each regular expression.
        "varnames" => {
            // In the variables' own order (the scope's `vars`), as Ansible iterates them.
            let names: Vec<String> = match state.lookup("vars").and_then(|v| v.try_iter().ok()) {
                Some(keys) => keys
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect(),
                None => state
                    .known_variables()
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
            };
            // Ansible's messages, which playbooks test for.
            if let Some(a) = args.iter().find(|a| a.as_str().is_none()) {
                return Err(err(format!(
                    "Invalid setting identifier, \"{}\" is not a string, it is a <class '{}'>",
                    crate::template::ansible::pycompat::py_str(a),
                    crate::template::ansible::filters::type_debug(a).unwrap_or_default()
                )));
            }
            for t in &terms {
                // Python's re.search, as Ansible's varnames lookup.
                let re = crate::pyregex::PyRegex::new(t, false, false).map_err(|e| {
                    err(format!("Unable to use \"{t}\" as a search parameter: {e}"))
                })?;
                for n in &names {
                    if re
                        .is_match(n)
                        .map_err(|e| err(format!("lookup('varnames'): {e}")))?
                    {
                        out.push(Value::from(n.as_str()));
                    }
                }
            }
        }
        // `list` returns its terms as they are (Ansible's list lookup).
        "list" => out.extend(args.iter().cloned()),
        "items" | "flattened" => {
            for a in args {
                match a.try_iter() {
                    Ok(it) if a.as_str().is_none() => out.extend(it),
                    _ => out.push(a.clone()),
                }
            }
        }
        "first_found" => {
            if let Some(p) = first_found(state, args, kwargs)? {
                out.push(Value::from(p.display().to_string()));
            }
        }
        "fileglob" => {
            for t in &terms {
                let base = find_base(state);
                // As Ansible: the pattern's directory is looked up in files/, then beside
                // the playbook or role.
                let pattern = if Path::new(t).is_absolute() {
                    PathBuf::from(t)
                } else {
                    let dir = Path::new(t).parent().unwrap_or(Path::new(""));
                    [base.join("files"), base.clone()]
                        .into_iter()
                        .find(|b| b.join(dir).is_dir())
                        .unwrap_or_else(|| base.join("files"))
                        .join(t)
                };
                let glob = globset::Glob::new(&pattern.display().to_string())
                    .map_err(|e| err(format!("lookup('fileglob'): {e}")))?
                    .compile_matcher();
                if let Some(dir) = pattern.parent() {
                    let mut found: Vec<String> = std::fs::read_dir(dir)
                        .map(|rd| {
                            rd.filter_map(|e| e.ok())
                                .map(|e| e.path())
                                .filter(|p| p.is_file() && glob.is_match(p))
                                .map(|p| p.display().to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    found.sort();
                    out.extend(found.into_iter().map(Value::from));
                }
            }
        }
        other => {
            return Err(err(format!(
                "lookup plugin '{other}' is not supported by drover (supported: {})",
                LOOKUPS.join(", ")
            )))
        }
    }
    kwargs.assert_all_used().ok();
    Ok(out)
}

/// Ansible's first_found: each term is a file name, a list of terms, or a mapping with
/// `files`, `paths` and `skip` (which also come as keyword arguments); names and paths
/// given as one string are split on `,;` and `,:;`. The first candidate that exists,
/// searched as Ansible searches (`files/`, or `templates/`/`vars/` when a `with_first_found`
/// loop runs a template or include_vars task); none: an error, or nothing with `skip`.
fn first_found(state: &State, args: &[Value], kwargs: &Kwargs) -> Result<Option<PathBuf>, Error> {
    let direct = Value::from_iter(["files", "paths", "skip"].into_iter().filter_map(|k| {
        kwargs
            .get::<Option<Value>>(k)
            .ok()
            .flatten()
            .map(|v| (k, v))
    }));
    let mut skip = direct.get_attr("skip").ok().is_some_and(|v| v.is_true());
    let mut paths = split(opt(Some(&direct), "paths"), &[',', ':', ';']);
    let mut terms: Vec<Value> = args.iter().filter(|a| !a.is_undefined()).cloned().collect();
    if terms.is_empty() {
        terms = opt(Some(&direct), "files")
            .into_iter()
            .map(Value::from)
            .collect();
    }
    let mut candidates: Vec<String> = Vec::new();
    fn walk(
        terms: &[Value],
        paths: &mut Vec<String>,
        skip: &mut bool,
        out: &mut Vec<String>,
    ) -> Result<(), Error> {
        for term in terms {
            let files = match term.kind() {
                // A mapping's options replace the earlier ones, as Ansible's set_options.
                minijinja::value::ValueKind::Map => {
                    *paths = split(opt(Some(term), "paths"), &[',', ':', ';']);
                    *skip = term.get_attr("skip").ok().is_some_and(|v| v.is_true());
                    split(opt(Some(term), "files"), &[',', ';'])
                }
                minijinja::value::ValueKind::String => split(
                    vec![term.as_str().unwrap_or_default().to_string()],
                    &[',', ';'],
                ),
                minijinja::value::ValueKind::Seq => {
                    let inner: Vec<Value> = term
                        .try_iter()
                        .into_iter()
                        .flatten()
                        .filter(|v| !v.is_undefined())
                        .collect();
                    walk(&inner, paths, skip, out)?;
                    continue;
                }
                _ => {
                    return Err(err(format!(
                        "Invalid term supplied. A string, dict or list is required, not '{}').",
                        crate::template::ansible::filters::type_debug(term).unwrap_or_default()
                    )))
                }
            };
            if paths.is_empty() {
                out.extend(files);
            } else {
                for p in paths.iter() {
                    for f in &files {
                        out.push(Path::new(p).join(f).display().to_string());
                    }
                }
            }
        }
        Ok(())
    }
    walk(&terms, &mut paths, &mut skip, &mut candidates)?;
    let action = state
        .lookup(WITH_ACTION_VAR)
        .and_then(|v| v.as_str().map(str::to_string));
    let sub = match action.as_deref() {
        Some(a) if a.contains("template") => "templates",
        Some(a) if a.contains("var") => "vars",
        _ => "files",
    };
    if let Some(found) = candidates.iter().find_map(|c| find_file(state, sub, c)) {
        // An absolute path, as Ansible's unfrackpath (symlinks kept).
        return Ok(Some(std::path::absolute(&found).unwrap_or(found)));
    }
    if skip {
        return Ok(None);
    }
    Err(err("No file was found when using first_found."))
}

/// A first_found option of a mapping (`files`, `paths`): a string or a list of strings.
fn opt(m: Option<&Value>, k: &str) -> Vec<String> {
    let Some(v) = m
        .and_then(|m| m.get_attr(k).ok())
        .filter(|v| !v.is_undefined() && !v.is_none())
    else {
        return Vec::new();
    };
    match v.as_str() {
        Some(s) => vec![s.to_string()],
        None => v
            .try_iter()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
    }
}

/// Names given as one string hold several (`a.yml,b.yml`), as Ansible still splits them.
fn split(items: Vec<String>, on: &[char]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split(on).map(str::to_string).collect::<Vec<_>>())
        .collect()
}

fn find_base(state: &State) -> PathBuf {
    state
        .lookup("playbook_dir")
        .and_then(|v| v.as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Find a relative file as Ansible's `path_dwim_relative_stack` does, over the task's
/// `ansible_search_path` (role directory, task file directory), then the playbook's
/// directory: in each, `SUB/name` then `name`.
fn find_file(state: &State, sub: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let mut paths: Vec<PathBuf> = match state.lookup("ansible_search_path") {
        Some(v) if v.kind() == minijinja::value::ValueKind::Seq => v
            .try_iter()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(PathBuf::from))
            .collect(),
        _ => state
            .lookup("role_path")
            .and_then(|v| v.as_str().map(PathBuf::from))
            .into_iter()
            .collect(),
    };
    paths.push(find_base(state));
    let names_sub = name.split('/').next() == Some(sub);
    let mut candidates = Vec::new();
    for path in &paths {
        // A directory below a role's `tasks/` also looks in the role's SUB and in tasks/.
        if let Some(tasks) = path.parent().filter(|d| d.ends_with("tasks")) {
            if let Some(role) = tasks.parent() {
                candidates.push(role.join(sub).join(name));
            }
            candidates.push(tasks.join(name));
        }
        if !names_sub {
            candidates.push(path.join(sub).join(name));
        }
        candidates.push(path.join(name));
    }
    candidates.into_iter().find(|c| c.exists())
}

/// `lookup('password', 'path length=N chars=ascii_letters,digits')`: the password stored
/// in the controller file `path`, generated (and stored, mode 0600) the first time;
/// `/dev/null` generates without storing. As Ansible's password lookup, without `encrypt`.
fn password(state: &State, term: &str) -> Result<String, Error> {
    let mut parts = term.split_whitespace();
    let path = parts
        .next()
        .ok_or_else(|| err("lookup('password') needs a path"))?;
    let (mut length, mut chars) = (20usize, vec!["ascii_letters", "digits", ".,:-_"]);
    let mut spec_chars = String::new();
    for p in parts {
        match p.split_once('=') {
            Some(("length", n)) => {
                length = n
                    .parse()
                    .map_err(|_| err(format!("lookup('password'): length '{n}' is not a number")))?
            }
            Some(("chars", c)) => spec_chars = c.to_string(),
            Some((k @ ("encrypt" | "ident" | "salt" | "seed"), _)) => {
                return Err(err(format!(
                    "lookup('password'): '{k}' is not supported by drover"
                )))
            }
            _ => return Err(err(format!("lookup('password'): unknown option '{p}'"))),
        }
    }
    if !spec_chars.is_empty() {
        chars = spec_chars.split(',').collect();
    }
    let mut alphabet = String::new();
    for c in chars {
        alphabet.push_str(match c {
            "ascii_letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "ascii_lowercase" => "abcdefghijklmnopqrstuvwxyz",
            "ascii_uppercase" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "digits" => "0123456789",
            "hexdigits" => "0123456789abcdefABCDEF",
            "octdigits" => "01234567",
            "punctuation" => "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            literal => literal,
        });
    }
    let alphabet: Vec<char> = alphabet.chars().collect();
    if alphabet.is_empty() || length == 0 {
        return Err(err("lookup('password'): no characters to choose from"));
    }
    let file = if path == "/dev/null" {
        None
    } else if Path::new(path).is_absolute() {
        Some(PathBuf::from(path))
    } else {
        Some(find_base(state).join(path))
    };
    if let Some(f) = &file {
        if let Ok(text) = std::fs::read_to_string(f) {
            return Ok(stored_password(&text));
        }
    }
    let mut bytes = vec![0u8; length * 4];
    getrandom::fill(&mut bytes)
        .map_err(|e| err(format!("lookup('password'): no randomness: {e}")))?;
    let secret: String = bytes
        .chunks(4)
        .map(|c| alphabet[(u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize) % alphabet.len()])
        .collect();
    if let Some(f) = &file {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = f.parent() {
            // Directories it makes are private (0700), as Ansible's makedirs_safe.
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| {
                    err(format!(
                        "lookup('password'): cannot create {}: {e}",
                        dir.display()
                    ))
                })?;
        }
        let mut fh = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(f)
        {
            Ok(fh) => fh,
            // Another host's task made it first: that one is the password.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                return Ok(stored_password(
                    &std::fs::read_to_string(f).unwrap_or_default(),
                ));
            }
            Err(e) => {
                return Err(err(format!(
                    "lookup('password'): cannot write {}: {e}",
                    f.display()
                )))
            }
        };
        writeln!(fh, "{secret}").map_err(|e| {
            err(format!(
                "lookup('password'): cannot write {}: {e}",
                f.display()
            ))
        })?;
    }
    Ok(secret)
}

/// The password in a password file: the first word of its first line (Ansible appends
/// ` salt=…` when `encrypt` is used).
fn stored_password(text: &str) -> String {
    text.lines()
        .next()
        .and_then(|l| l.split(' ').next())
        .unwrap_or_default()
        .to_string()
}
