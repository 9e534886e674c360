//! get_url: a download ON THE TARGET with its curl (or wget), into a temp file beside
//! the destination, verified (`checksum`), and moved into place only if the content
//! differs.

use super::http::{
    lines_map, HttpRequest, RC_CHECKSUM, RC_HTTP, RC_NO_DIR, RC_NO_TOOL, RC_TRANSFER,
};
use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct GetUrl;

static GET_URL_SPEC: ModuleSpec = ModuleSpec {
    name: "get_url",
    aliases: &[],
    args: &[
        arg("url", Str).required(),
        arg("dest", Str).required(),
        arg("checksum", Str),
        arg("force", Bool),
        arg("backup", Bool),
        arg("mode", Mode),
        arg("owner", Str),
        arg("group", Str),
        arg("headers", Dict),
        arg("timeout", Int),
        arg("url_username", Str).aliases(&["username"]),
        arg("url_password", Str).aliases(&["password"]),
        arg("force_basic_auth", Bool),
        arg("validate_certs", Bool),
        arg("use_proxy", Bool),
        arg("http_agent", Str),
        arg("tmp_dest", Str),
        arg("decompress", Bool),
        arg("use_netrc", Bool),
        arg("unsafe_writes", Bool),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[],
    controller_only: false,
    any_keys: false,
    messages: &[],
};

/// `algo:hex` of get_url's `checksum`.
fn parse_checksum(s: &str) -> Result<(String, String)> {
    let Some((algo, sum)) = s.split_once(':') else {
        return Err(Error::module(
            "The checksum parameter has to be in format <algorithm>:<checksum>",
        ));
    };
    let algo = algo.trim().to_lowercase();
    if !["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(&algo.as_str()) {
        return Err(
            Error::module(format!("checksum algorithm '{algo}' is not supported"))
                .with_help("use md5, sha1, sha224, sha256, sha384 or sha512"),
        );
    }
    Ok((algo, sum.trim().to_string()))
}

fn clean_hex(s: &str) -> Result<String> {
    let hex: String = s
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_lowercase();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::module("The checksum format is invalid"));
    }
    Ok(hex)
}

/// The file name Ansible gives a download into a directory: the URL path's last part.
fn url_filename(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let path = no_query
        .split_once("://")
        .map(|(_, rest)| rest.split_once('/').map(|(_, p)| p).unwrap_or(""))
        .unwrap_or(no_query);
    let name = path.rsplit('/').next().unwrap_or("");
    if name.is_empty() || name == "." || name == ".." {
        "index.html".into()
    } else {
        name.to_string()
    }
}

fn get_url_query(dest: &str, url: &str, algo: Option<&str>) -> String {
    let d = quote(dest);
    let name = quote(&url_filename(url));
    let mut s = format!(
        "p={d}\nif [ -d \"$p\" ]; then echo @dir; p=\"${{p%/}}/\"{name}; fi\necho \"@path $p\"\n\
         if [ -f \"$p\" ]; then echo @exists; echo \"@sha1 $(sha1sum < \"$p\" | cut -d' ' -f1)\"; \
         echo \"@attrs $(stat -c '%a %U %G' -- \"$p\")\"; echo \"@final $(stat -c '%a %U %G %u %g %s' -- \"$p\")\"\n"
    );
    if let Some(a) = algo {
        s.push_str(&format!(
            "  echo \"@sum $({a}sum < \"$p\" | cut -d' ' -f1)\"\n"
        ));
    }
    s.push_str("fi\nif command -v curl >/dev/null 2>&1; then echo @curl; elif command -v wget >/dev/null 2>&1; then echo @wget; fi\n");
    s
}

/// Ansible's path attributes of a result whose `dest` exists (`@final` of the scripts).
fn add_final(r: &mut Vars, m: &BTreeMap<String, String>) {
    let Some(f) = m.get("final") else { return };
    let f: Vec<&str> = f.split_whitespace().collect();
    if f.len() != 6 {
        return;
    }
    let num = |s: &str| s.parse::<i64>().unwrap_or(-1);
    r.insert("mode".into(), Value::from(format!("{:0>4}", f[0])));
    r.insert("owner".into(), Value::from(f[1]));
    r.insert("group".into(), Value::from(f[2]));
    r.insert("uid".into(), Value::from(num(f[3])));
    r.insert("gid".into(), Value::from(num(f[4])));
    r.insert("size".into(), Value::from(num(f[5])));
    r.insert("state".into(), Value::from("file"));
}

/// Download into a temp file beside `$p`, verify, and move into place if the content
/// differs. stdin: the curl config.
fn download_script(
    tool: &str,
    req: &HttpRequest,
    checksum: Option<&(String, String)>,
    conditional: bool,
    attrs: &super::attrs::Attrs,
    backup: bool,
) -> String {
    let mut s = format!(
        "p=\"$1\"; d=$(dirname -- \"$p\")\n[ -d \"$d\" ] || exit {RC_NO_DIR}\n\
         t=$(mktemp \"$d/.drover-tmp.XXXXXXXXXX\") || exit 70\n\
         c=$(mktemp) || exit 70\ntrap 'rm -f \"$t\" \"$c\"' EXIT\ncat > \"$c\"\n"
    );
    if tool == "curl" {
        let cond = if conditional { " -z \"$p\"" } else { "" };
        s.push_str(&format!(
            "code=$(curl -sS -K \"$c\" -o \"$t\" -w '%{{http_code}}'{cond}) || {{ rc=$?; echo \"@status -1\"; exit {RC_TRANSFER}; }}\n"
        ));
    } else {
        let insecure = if req.insecure {
            " --no-check-certificate"
        } else {
            ""
        };
        let headers: String = req
            .headers
            .iter()
            .map(|(k, v)| format!(" --header={}", quote(&format!("{k}: {v}"))))
            .collect();
        s.push_str(&format!(
            "if wget -q -T {}{insecure}{headers} -O \"$t\" {}; then code=200; else rc=$?; [ $rc -eq 8 ] && {{ echo \"@status 400\"; exit {RC_HTTP}; }}; echo \"@status -1\"; exit {RC_TRANSFER}; fi\n",
            req.timeout,
            quote(&req.url)
        ));
    }
    s.push_str(&format!(
        "echo \"@status $code\"\n[ \"$code\" = 304 ] && exit 0\n\
         case \"$code\" in 2*|0*) ;; *) exit {RC_HTTP} ;; esac\n\
         echo \"@size $(wc -c < \"$t\")\"\n"
    ));
    if let Some((algo, sum)) = checksum {
        s.push_str(&format!(
            "s=$({algo}sum < \"$t\" | cut -d' ' -f1)\nif [ \"$s\" != {} ]; then echo \"@badsum $s\"; echo \"@src $(sha1sum < \"$t\" | cut -d' ' -f1)\"; exit {RC_CHECKSUM}; fi\n",
            quote(sum)
        ));
    }
    s.push_str(
        "new=$(sha1sum < \"$t\" | cut -d' ' -f1); echo \"@src $new\"\n\
         old=''; if [ -f \"$p\" ]; then old=$(sha1sum < \"$p\" | cut -d' ' -f1); echo \"@dest $old\"; fi\n\
         before=$(stat -c '%a %U %G' -- \"$p\" 2>/dev/null)\n\
         if [ \"$new\" != \"$old\" ]; then\n\
           if [ -e \"$p\" ]; then chmod --reference=\"$p\" \"$t\" && chown --reference=\"$p\" \"$t\" 2>/dev/null; else chmod 0644 \"$t\"; fi\n",
    );
    if backup {
        s.push_str("  if [ -f \"$p\" ]; then b=\"$p.$$.$(date +%Y-%m-%d@%H:%M:%S~)\"; cp -p \"$p\" \"$b\" && echo \"@backup $b\"; fi\n");
    }
    s.push_str("  mv -f \"$t\" \"$p\" || exit 70\n  echo @moved\nfi\n");
    let attr_script = attrs.script("\"$p\"", false);
    if !attr_script.trim().is_empty() {
        s.push_str(&attr_script);
        s.push('\n');
    }
    s.push_str(
        "[ \"$(stat -c '%a %U %G' -- \"$p\")\" = \"$before\" ] || echo @attrs_changed\n\
         echo \"@md5 $(md5sum < \"$p\" | cut -d' ' -f1)\"\n\
         echo \"@final $(stat -c '%a %U %G %u %g %s' -- \"$p\")\"\n",
    );
    s
}

impl Module for GetUrl {
    fn spec(&self) -> &'static ModuleSpec {
        &GET_URL_SPEC
    }

    fn probes(&self, args: &Args) -> Vec<Probe> {
        let (Ok(Some(dest)), Ok(Some(url))) = (args.str("dest"), args.str("url")) else {
            return Vec::new();
        };
        let algo = args
            .str("checksum")
            .ok()
            .flatten()
            .and_then(|c| parse_checksum(&c).ok())
            .map(|(a, _)| a);
        vec![Probe::Query {
            script: get_url_query(&dest, &url, algo.as_deref()),
        }]
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        if args.has("tmp_dest") {
            return Err(Error::module("get_url tmp_dest is not supported by drover")
                .with_help("drover always downloads to a temporary file beside dest"));
        }
        let req = HttpRequest::from_args(args, 10)?;
        let dest = args.req_str("dest")?;
        let force = args.bool("force", false)?;
        let attrs = super::attrs::Attrs::from_args(args)?;
        let backup = args.bool("backup", false)?;
        let mut checksum = match args.str("checksum")? {
            Some(c) if !c.trim().is_empty() => Some(parse_checksum(&c)?),
            _ => None,
        };
        // `algo:URL`: the sum is the line of that file naming the download.
        if let Some((algo, sum)) = checksum.clone() {
            if sum.contains("://") {
                let out = ctx.sh(&super::repo::fetch_script(&sum, req.timeout), None)?;
                use base64::Engine;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(out.stdout_str().trim())
                    .unwrap_or_default();
                let name = url_filename(&req.url);
                let text = String::from_utf8_lossy(&data);
                let found = text.lines().find_map(|l| {
                    let mut parts = l.split_whitespace();
                    let (s, f) = (parts.next()?, parts.next());
                    match f {
                        Some(f) if f.trim_start_matches(['*', '.', '/']) == name => {
                            Some(s.to_string())
                        }
                        None => Some(s.to_string()),
                        _ => None,
                    }
                });
                let Some(found) = found else {
                    return Err(Error::module(format!(
                        "Unable to find a checksum for file '{name}' in '{sum}'"
                    )));
                };
                checksum = Some((algo, found));
            }
        }
        let checksum = match checksum {
            Some((a, s)) => Some((a, clean_hex(&s)?)),
            None => None,
        };
        let st = lines_map(&ctx.query(&get_url_query(
            &dest,
            &req.url,
            checksum.as_ref().map(|(a, _)| a.as_str()),
        ))?);
        let path = st.get("path").cloned().unwrap_or(dest.clone());
        let exists = st.contains_key("exists");
        let tool = if st.contains_key("curl") {
            "curl"
        } else if st.contains_key("wget") {
            "wget"
        } else {
            return Err(Error::module(format!(
                "cannot download {}: the host has neither curl nor wget",
                req.url
            ))
            .with_help("install curl on the host (apt: name=curl), or download on the controller with delegate_to: localhost and copy the file"));
        };
        if tool == "wget" && req.user.is_some() {
            return Err(Error::module(
                "url_username/url_password need curl on the host (only wget is installed)",
            )
            .with_help("install curl on the host (apt: name=curl)"));
        }
        let mut result = Vars::new();
        result.insert("dest".into(), Value::from(path.as_str()));
        result.insert("url".into(), Value::from(req.url.as_str()));
        result.insert("checksum_dest".into(), Value::from(()));
        result.insert("checksum_src".into(), Value::from(()));
        result.insert("elapsed".into(), Value::from(0));
        let attrs_differ = |st: &BTreeMap<String, String>| -> bool {
            let Some(cur) = st.get("attrs") else {
                return false;
            };
            let f: Vec<&str> = cur.split_whitespace().collect();
            if f.len() != 3 {
                return false;
            }
            let mode = u32::from_str_radix(f[0], 8).unwrap_or(0);
            let fs = crate::connection::FileState {
                kind: crate::connection::FileKind::File,
                mode,
                owner: f[1].to_string(),
                group: f[2].to_string(),
                ..crate::connection::FileState::missing()
            };
            !attrs.differences(&fs).is_empty()
        };
        let sum_matches = checksum
            .as_ref()
            .is_some_and(|(_, want)| st.get("sum") == Some(want));
        if exists && !force && sum_matches {
            result.insert("msg".into(), Value::from("file already exists"));
            add_final(&mut result, &st);
            if !attrs_differ(&st) {
                return Ok(Plan::no_change(result));
            }
            let (a, p) = (attrs.clone(), path.clone());
            return Ok(Plan::change(
                Change::Modify(vec!["attributes".into()]),
                result,
                Box::new(move |ctx: &mut ModuleCtx<'_>| {
                    a.apply(ctx, &p)?;
                    Ok(Vars::new())
                }),
            )
            .touching(vec![path]));
        }
        // Without a checksum an existing file is fetched only if the server says it is
        // newer (If-Modified-Since, as Ansible's get_url does).
        // (HTTP only: for file:// and ftp:// curl skips the transfer without saying so.)
        let http = req.url.to_ascii_lowercase().starts_with("http");
        let conditional = exists && !force && checksum.is_none() && tool == "curl" && http;
        let config = req.config();
        if ctx.check && conditional {
            let mut head = req.clone();
            head.method = "HEAD".into();
            let script = format!(
                "c=$(mktemp) || exit 70\ntrap 'rm -f \"$c\"' EXIT\ncat > \"$c\"\ncurl -sS -I -K \"$c\" -o /dev/null -w '%{{http_code}}' -z {}",
                quote(&path)
            );
            let out = ctx.sh(&script, Some(head.config().as_bytes()))?;
            if out.stdout_str().trim() == "304" && !attrs_differ(&st) {
                result.insert("status_code".into(), Value::from(304));
                return Ok(Plan::no_change(result));
            }
        }
        let script = format!(
            "set -- {}\n{}",
            quote(&path),
            download_script(tool, &req, checksum.as_ref(), conditional, &attrs, backup)
        );
        let url = req.url.clone();
        let expected = checksum.clone();
        let p2 = path.clone();
        let apply: super::ApplyFn = Box::new(move |ctx: &mut ModuleCtx<'_>| {
            let out = ctx.sh(&script, Some(config.as_bytes()))?;
            let m = lines_map(&out.stdout_str());
            let err = out.stderr_str();
            let status = m
                .get("status")
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(-1);
            match out.rc {
                0 => {}
                RC_NO_DIR => {
                    return Err(Error::module(format!(
                        "Destination {} does not exist",
                        p2.rsplit_once('/').map(|(d, _)| d).unwrap_or(".")
                    ))
                    .with_help("create the directory first (file: state=directory)"))
                }
                RC_CHECKSUM => {
                    // A failed result with the keys Ansible's has (checksum_src: the SHA-1
                    // of what was downloaded, then thrown away).
                    let (algo, want) = expected.clone().unwrap_or_default();
                    let mut r = Vars::new();
                    if let Some(v) = m.get("src") {
                        r.insert("checksum_src".into(), Value::from(v.as_str()));
                    }
                    r.insert("changed".into(), Value::from(false));
                    r.insert("failed".into(), Value::from(true));
                    r.insert(
                        "msg".into(),
                        Value::from(format!(
                            "The {algo} checksum of {url} did not match {want}; it was {}. Nothing was written to {p2} (check the checksum argument, or whether the file at the URL changed)",
                            m.get("badsum").cloned().unwrap_or_default()
                        )),
                    );
                    return Ok(r);
                }
                RC_HTTP => {
                    let mut r = Vars::new();
                    r.insert("status_code".into(), Value::from(status));
                    r.insert("changed".into(), Value::from(false));
                    r.insert("failed".into(), Value::from(true));
                    r.insert(
                        "msg".into(),
                        Value::from(format!("Request failed: HTTP status {status} for {url}")),
                    );
                    return Ok(r);
                }
                RC_NO_TOOL => return Err(Error::module("the host has neither curl nor wget")),
                RC_TRANSFER => {
                    let mut r = Vars::new();
                    r.insert("status_code".into(), Value::from(-1));
                    r.insert("changed".into(), Value::from(false));
                    r.insert("failed".into(), Value::from(true));
                    r.insert(
                        "msg".into(),
                        Value::from(format!("Request failed: {}", err.trim())),
                    );
                    return Ok(r);
                }
                _ => {
                    return Err(Error::module(format!(
                        "downloading {url} to {p2} failed: {}",
                        err.trim()
                    )))
                }
            }
            let mut r = Vars::new();
            // file:// has no status (curl says 000): Ansible's is None.
            r.insert(
                "status_code".into(),
                if status == 0 {
                    Value::from(())
                } else {
                    Value::from(status)
                },
            );
            for (k, key) in [("src", "checksum_src"), ("dest", "checksum_dest")] {
                if let Some(v) = m.get(k) {
                    r.insert(key.into(), Value::from(v.as_str()));
                }
            }
            if let Some(v) = m.get("md5") {
                r.insert("md5sum".into(), Value::from(v.as_str()));
            }
            if let Some(b) = m.get("backup") {
                r.insert("backup_file".into(), Value::from(b.as_str()));
            }
            let size = m.get("size").and_then(|s| s.parse::<i64>().ok());
            if let Some(s) = size {
                r.insert("size".into(), Value::from(s));
            }
            r.insert(
                "msg".into(),
                Value::from(match (status, size) {
                    (304, _) => "Not Modified".to_string(),
                    (_, Some(s)) => format!("OK ({s} bytes)"),
                    _ => "OK (unknown bytes)".to_string(),
                }),
            );
            add_final(&mut r, &m);
            if !m.contains_key("moved") && !m.contains_key("attrs_changed") {
                r.insert("changed".into(), Value::from(false));
            }
            Ok(r)
        });
        let change = if exists {
            Change::Modify(vec!["content".into()])
        } else {
            Change::Create
        };
        Ok(Plan::change(change, result, apply).touching(vec![path]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_downloads_and_reads_checksums() {
        assert_eq!(url_filename("http://h/a/b.tar.gz?x=1"), "b.tar.gz");
        assert_eq!(url_filename("http://h/"), "index.html");
        assert_eq!(url_filename("http://h"), "index.html");
        assert_eq!(
            parse_checksum("sha256:ABC").unwrap(),
            ("sha256".into(), "ABC".into())
        );
        assert!(parse_checksum("crc:1").is_err());
        assert!(clean_hex("xyz").is_err());
        assert_eq!(clean_hex("AB cd").unwrap(), "abcd");
    }
}
