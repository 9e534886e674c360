//! known_hosts: one host's key in an OpenSSH known_hosts file, as Ansible's module: the
//! host's own `ssh-keygen -F` finds the entries (hashed names, `[host]:port`), a key of
//! the same type is replaced in place of the old line, `state: absent` removes the
//! entries. The file is edited on the controller and written back atomically.

use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Diff, Module, ModuleCtx, Plan};
use crate::connection::{quote, PutAttrs};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;

pub struct KnownHosts;

static KNOWN_HOSTS: ModuleSpec = ModuleSpec {
    name: "known_hosts",
    aliases: &[],
    args: &[
        arg("name", Str).required().aliases(&["host"]),
        arg("key", Str),
        arg("path", Str),
        arg("hash_host", Bool),
        arg("state", Str).choices(&["absent", "present"]),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

#[derive(Debug, PartialEq, Clone)]
struct KeyLine {
    options: Option<String>,
    host: String,
    kind: String,
    key: String,
}

/// A known_hosts line or a user's key, reduced to what is compared (a trailing comment
/// is left out, as Ansible's `normalize_known_hosts_key`).
fn normalize(line: &str) -> Option<KeyLine> {
    let w: Vec<&str> = line.split_whitespace().collect();
    if w.first()?.starts_with('@') {
        Some(KeyLine {
            options: Some(w[0].to_string()),
            host: w.get(1)?.to_string(),
            kind: w.get(2)?.to_string(),
            key: w.get(3)?.to_string(),
        })
    } else {
        Some(KeyLine {
            options: None,
            host: w.first()?.to_string(),
            kind: w.get(1)?.to_string(),
            key: w.get(2)?.to_string(),
        })
    }
}

/// `ssh-keygen -F` output → (found, replace_or_add, found_line), as Ansible reads it.
fn search(out: &str, key: Option<&str>) -> (bool, bool, Option<usize>) {
    if out.trim().is_empty() {
        return (false, false, None);
    }
    let Some(key) = key else {
        return (true, false, None);
    };
    let Some(mut new) = normalize(key) else {
        return (true, true, None);
    };
    let mut found_line = None;
    for l in out.split('\n') {
        if l.is_empty() {
            continue;
        }
        if l.starts_with('#') {
            found_line = l
                .split("found: line ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok());
            continue;
        }
        let Some(found) = normalize(l) else { continue };
        let special = found
            .options
            .as_deref()
            .is_some_and(|o| o.starts_with("@cert-authority") || o.starts_with("@revoke"));
        if special {
            if new == found {
                return (true, false, found_line);
            }
            continue;
        }
        // A hashed name stays as it is when the user's key is hashed too.
        if new.host.starts_with("|1|") && found.host.starts_with("|1|") {
            new.host = found.host.clone();
        }
        if new == found {
            return (true, false, found_line);
        }
        if new.kind == found.kind {
            return (true, true, found_line);
        }
    }
    (true, true, None)
}

/// `hash_host`: the name replaced by `|1|SALT|HMAC-SHA1(SALT, name)`, as ssh does.
fn hash_host(host: &str, key: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut salt = [0u8; 20];
    let _ = getrandom::fill(&mut salt);
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&salt).expect("any key length");
    mac.update(host.as_bytes());
    let digest = mac.finalize().into_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut parts: Vec<String> = key.split_whitespace().map(str::to_string).collect();
    let i = usize::from(parts.first().is_some_and(|p| p.starts_with('@')));
    if let Some(p) = parts.get_mut(i) {
        *p = format!("|1|{}|{}", b64.encode(salt), b64.encode(digest));
    }
    parts.join(" ")
}

/// The file's lines less `found_line` (when replaced or removed), plus the key.
fn new_content(
    before: &str,
    found_line: Option<usize>,
    replace: bool,
    present: bool,
    key: Option<&str>,
) -> String {
    let mut lines: Vec<&str> = before.split_inclusive('\n').collect();
    if let Some(n) = found_line.filter(|n| (replace || !present) && *n >= 1 && *n <= lines.len()) {
        lines.remove(n - 1);
    }
    let mut out = lines.concat();
    if present && (replace || found_line.is_none()) {
        out.push_str(key.unwrap_or_default());
    }
    out
}

impl Module for KnownHosts {
    fn spec(&self) -> &'static ModuleSpec {
        &KNOWN_HOSTS
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let host = args.req_str("name")?.to_lowercase();
        let present = args.str("state")?.as_deref() != Some("absent");
        let hash = args.bool("hash_host", false)?;
        let mut key = args.str("key")?.filter(|k| !k.is_empty());
        if key.is_none() && present {
            return Err(Error::module("No key specified when adding a host"));
        }
        if let (Some(k), true) = (&key, hash) {
            key = Some(hash_host(&host, k));
        }
        if let Some(k) = key.as_mut() {
            if !k.ends_with('\n') {
                k.push('\n');
            }
        }
        if key.is_some() && regex::Regex::new(r"\S+(\s+)?,(\s+)?").is_ok_and(|r| r.is_match(&host))
        {
            return Err(Error::module("Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file."));
        }
        let raw_path = args
            .str("path")?
            .unwrap_or_else(|| "~/.ssh/known_hosts".into());
        // One round trip: the home for `~`, the key's own check (its name matches the
        // host), and ssh-keygen's search of the file.
        let path_expr = match raw_path.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("\"$HOME\"{}", quote(rest))
            }
            _ => quote(&raw_path),
        };
        let check_key = match &key {
            Some(k) => format!(
                "t=$(mktemp) || exit 3; printf '%s' {} > \"$t\"; o=$(ssh-keygen -F {h} -f \"$t\" 2>/dev/null); rm -f \"$t\"; [ -n \"$o\" ] || echo '@@nomatch'\n",
                quote(k),
                h = quote(&host)
            ),
            None => String::new(),
        };
        let script = format!(
            "command -v ssh-keygen >/dev/null || exit 127\n\
             p={path_expr}; printf '%s\\0' \"$p\"\n{check_key}\
             if [ -e \"$p\" ]; then echo '@@exists'; ssh-keygen -F {h} -f \"$p\"; echo \"@@rc $?\"; fi\n",
            h = quote(&host)
        );
        let out = ctx.sh(&script, None)?;
        if out.rc == 127 {
            return Err(Error::module(format!(
                "known_hosts: the host {} has no ssh-keygen",
                ctx.host
            ))
            .with_help("install openssh-client on it"));
        }
        let all = out.stdout_str();
        // The path first, NUL-terminated (it may hold a newline), then the rest.
        let (path, text) = all.split_once('\0').unwrap_or(("", all.as_str()));
        let (path, text) = (path.to_string(), text.to_string());
        if text.contains("@@nomatch\n") {
            return Err(Error::module(
                "Host parameter does not match hashed host field in supplied key",
            ));
        }
        let exists = text.contains("@@exists\n");
        let (found, replace, found_line) = match text.split_once("@@exists\n") {
            Some((_, rest)) => {
                let (listing, rc) = rest.rsplit_once("@@rc ").unwrap_or((rest, "0"));
                let rc = rc.trim();
                let err = out.stderr_str();
                if listing.trim().is_empty() && err.trim().is_empty() && (rc == "0" || rc == "1") {
                    (false, false, None)
                } else if rc != "0" {
                    return Err(Error::module(format!(
                        "ssh-keygen failed (rc={rc}, stdout='{listing}',stderr='{}')",
                        err.trim()
                    )));
                } else {
                    search(listing, key.as_deref())
                }
            }
            None => (false, false, None),
        };
        let before = if exists {
            ctx.read_file(&path)?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let after = new_content(&before, found_line, replace, present, key.as_deref());
        // Ansible's module returns its parameters, but ansible-core 2.19 reports only
        // `changed` and `diff` (and `invocation`) for it.
        // ansible-core returns the module's parameters (with `path` expanded) and, as
        // for any result naming a path, the file's attributes, `state` included (which
        // overwrites the parameter); a check-mode run returns `changed` and `diff` alone.
        let mut params = Vars::new();
        params.insert(
            "key".into(),
            args.str("key")?.map(Value::from).unwrap_or(Value::from(())),
        );
        params.insert("name".into(), Value::from(args.req_str("name")?));
        params.insert("path".into(), Value::from(path.as_str()));
        params.insert("hash_host".into(), Value::from(hash));
        params.insert(
            "state".into(),
            Value::from(if present { "present" } else { "absent" }),
        );
        let mut result = Vars::new();
        result.insert(
            "diff".into(),
            Value::from_serialize(serde_json::json!({
                "before_header": if exists { path.as_str() } else { "/dev/null" },
                "after_header": path,
                "before": before,
                "after": after,
            })),
        );
        let with_params = |ctx: &mut ModuleCtx<'_>, mut r: Vars| -> Result<Vars> {
            r.extend(params.clone());
            let st = ctx.stat(&path, false, false)?;
            super::write::add_path_info(&mut r, &st);
            Ok(r)
        };
        if !present && found_line.is_none() && key.is_some() {
            return Ok(Plan::no_change(with_params(ctx, result)?));
        }
        let change = replace || found != present;
        let remove_all = found && key.is_none() && !present;
        if !change && !remove_all {
            let r = if ctx.check {
                result
            } else {
                with_params(ctx, result)?
            };
            return Ok(Plan::no_change(r));
        }
        if !ctx.check {
            result.extend(params.clone());
        }
        let diff = Diff {
            before_header: path.clone(),
            after_header: path.clone(),
            before: before.clone(),
            after: after.clone(),
        };
        let p = path.clone();
        let h = host.clone();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            if remove_all {
                // Every entry of the host, hashed or not: ssh-keygen's own removal.
                super::sh_checked(
                    ctx,
                    &format!(
                        "ssh-keygen -R {} -f {} >/dev/null 2>&1",
                        quote(&h),
                        quote(&p)
                    ),
                    "ssh-keygen -R",
                )?;
                // ssh-keygen leaves the old file as `PATH.old`, as with Ansible; the
                // file it wrote is what Ansible then writes back unchanged.
            }
            if change && !remove_all {
                ctx.put_file(&p, after.as_bytes(), &PutAttrs::default())?;
            }
            let mut extra = Vars::new();
            let b = ctx.become_.clone();
            let st = crate::connection::stat(ctx.conn, &p, false, false, b.as_ref())?;
            super::write::add_path_info(&mut extra, &st);
            Ok(extra)
        });
        Ok(Plan::change(Change::Modify(vec![host]), result, apply)
            .touching(vec![path.clone(), format!("{path}.old")])
            .with_diff(Some(diff)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

    #[test]
    fn search_as_ansible_reads_ssh_keygen() {
        assert_eq!(search("", Some(KEY)), (false, false, None));
        let same = format!("# Host example.com found: line 3 \n{KEY}");
        assert_eq!(search(&same, Some(KEY)), (true, false, Some(3)));
        let other = "# Host example.com found: line 2 \nexample.com ssh-ed25519 AAAAother\n";
        assert_eq!(search(other, Some(KEY)), (true, true, Some(2)));
        let rsa = "# Host example.com found: line 2 \nexample.com ssh-rsa AAAAother\n";
        assert_eq!(search(rsa, Some(KEY)), (true, true, None));
        assert_eq!(search(rsa, None), (true, false, None));
    }

    #[test]
    fn content_replaces_in_place() {
        let before = "a ssh-rsa X\nexample.com ssh-ed25519 OLD\nb ssh-rsa Y\n";
        assert_eq!(
            new_content(before, Some(2), true, true, Some(KEY)),
            format!("a ssh-rsa X\nb ssh-rsa Y\n{KEY}")
        );
        assert_eq!(
            new_content(before, Some(2), false, false, Some(KEY)),
            "a ssh-rsa X\nb ssh-rsa Y\n"
        );
        assert_eq!(new_content("", None, false, true, Some(KEY)), KEY);
    }

    #[test]
    fn hashed_names_verify_with_ssh_keygen_shape() {
        let h = hash_host("example.com", KEY);
        assert!(h.starts_with("|1|"));
        assert_eq!(h.split_whitespace().count(), 3);
    }
}
