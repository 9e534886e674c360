//! get_url, uri and wait_for: HTTP and ports, executed ON THE TARGET with its own curl
//! (or wget for plain downloads) and `sh` (on the controller with `delegate_to:
//! localhost`). Credentials and headers travel in a curl config on stdin, never on a
//! command line.

use super::probe::Probe;
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Change, Module, ModuleCtx, Plan};
use crate::connection::quote;
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::value::ValueKind;
use minijinja::Value;
use std::collections::BTreeMap;

pub struct GetUrl;
pub struct Uri;
pub struct WaitFor;

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
};

static URI_SPEC: ModuleSpec = ModuleSpec {
    name: "uri",
    aliases: &[],
    args: &[
        arg("url", Str).required(),
        arg("method", Str),
        arg("headers", Dict),
        arg("body", Any),
        arg("body_format", Str).choices(&["raw", "json", "form-urlencoded", "form-multipart"]),
        arg("src", Str),
        arg("remote_src", Bool),
        arg("status_code", List),
        arg("return_content", Bool),
        arg("validate_certs", Bool),
        arg("timeout", Int),
        arg("url_username", Str).aliases(&["user"]),
        arg("url_password", Str).aliases(&["password"]),
        arg("force_basic_auth", Bool),
        arg("follow_redirects", Str).choices(&["all", "no", "none", "safe", "urllib2", "yes"]),
        arg("creates", Str),
        arg("removes", Str),
        arg("dest", Str),
        arg("use_proxy", Bool),
        arg("http_agent", Str),
        arg("decompress", Bool),
        arg("use_netrc", Bool),
        arg("unix_socket", Str),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["body", "src"]],
    controller_only: false,
    any_keys: false,
};

static WAIT_FOR_SPEC: ModuleSpec = ModuleSpec {
    name: "wait_for",
    aliases: &[],
    args: &[
        arg("host", Str),
        arg("port", Int),
        arg("path", Str),
        arg("search_regex", Str),
        arg("state", Str).choices(&["started", "stopped", "present", "absent", "drained"]),
        arg("timeout", Int),
        arg("delay", Int),
        arg("sleep", Int),
        arg("connect_timeout", Int),
        arg("msg", Str),
        arg("active_connection_states", List),
        arg("exclude_hosts", List),
    ],
    free_form: FreeForm::KeyValue,
    required_one_of: &[],
    mutually_exclusive: &[&["port", "path"]],
    controller_only: false,
    any_keys: false,
};

/// A curl config value: double-quoted, with `\` and `"` escaped.
fn cfg_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What curl needs besides the script: URL, headers, credentials (a config file).
#[derive(Clone, Debug, Default)]
struct HttpRequest {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    user: Option<(String, String)>,
    insecure: bool,
    timeout: i64,
    follow: bool,
}

impl HttpRequest {
    fn from_args(args: &Args, default_timeout: i64) -> Result<HttpRequest> {
        let url = args.req_str("url")?;
        let scheme_ok = ["http://", "https://", "ftp://", "file://"]
            .iter()
            .any(|p| url.to_ascii_lowercase().starts_with(p));
        if !scheme_ok {
            return Err(Error::module(format!(
                "url '{url}' is not an http, https, ftp or file URL"
            )));
        }
        let mut headers = Vec::new();
        if let Some(h) = args.value("headers") {
            if h.kind() != ValueKind::Map {
                return Err(Error::module(
                    "headers must be a mapping of names to values",
                ));
            }
            if let Ok(keys) = h.try_iter() {
                for k in keys {
                    let v = h.get_item(&k).unwrap_or_default();
                    let (k, v) = (super::args::python_str(&k), super::args::python_str(&v));
                    if k.contains([':', '\n', '\r']) || v.contains(['\n', '\r']) {
                        return Err(Error::module(format!("header '{k}' is not valid")));
                    }
                    headers.push((k, v));
                }
            }
        }
        if let Some(agent) = args.str("http_agent")? {
            headers.push(("User-Agent".into(), agent));
        } else if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            headers.push(("User-Agent".into(), "ansible-httpget".into()));
        }
        let user = match (args.str("url_username")?, args.str("url_password")?) {
            (Some(u), p) => Some((u, p.unwrap_or_default())),
            (None, Some(_)) => {
                return Err(Error::module("url_password needs url_username"));
            }
            (None, None) => None,
        };
        Ok(HttpRequest {
            url,
            method: "GET".into(),
            headers,
            user,
            insecure: !args.bool("validate_certs", true)?,
            timeout: args.int("timeout")?.unwrap_or(default_timeout).max(1),
            follow: true,
        })
    }

    /// The curl config (read from a file the script writes from stdin).
    fn config(&self) -> String {
        let mut c = format!("url = {}\n", cfg_str(&self.url));
        if self.method != "GET" {
            c.push_str(&format!("request = {}\n", cfg_str(&self.method)));
        }
        for (k, v) in &self.headers {
            c.push_str(&format!("header = {}\n", cfg_str(&format!("{k}: {v}"))));
        }
        if let Some((u, p)) = &self.user {
            c.push_str(&format!("user = {}\n", cfg_str(&format!("{u}:{p}"))));
        }
        if self.insecure {
            c.push_str("insecure\n");
        }
        if self.follow {
            c.push_str("location\n");
        }
        c.push_str(&format!("connect-timeout = {}\n", self.timeout));
        c.push_str(&format!("speed-time = {}\nspeed-limit = 1\n", self.timeout));
        c
    }
}

/// Exit codes of the transfer scripts.
const RC_NO_TOOL: i32 = 90;
const RC_TRANSFER: i32 = 91;
const RC_HTTP: i32 = 92;
const RC_CHECKSUM: i32 = 93;
const RC_NO_DIR: i32 = 94;

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

fn lines_map(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.strip_prefix('@'))
        .map(|l| match l.split_once(' ') {
            Some((k, v)) => (k.to_string(), v.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
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

/// `application/x-www-form-urlencoded` encoding of a mapping.
fn form_urlencode(v: &Value) -> Result<String> {
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    o.push(b as char)
                }
                b' ' => o.push('+'),
                _ => o.push_str(&format!("%{b:02X}")),
            }
        }
        o
    };
    match v.kind() {
        ValueKind::Map => {
            let mut parts = Vec::new();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let val = v.get_item(&k).unwrap_or_default();
                    parts.push(format!(
                        "{}={}",
                        enc(&super::args::python_str(&k)),
                        enc(&super::args::python_str(&val))
                    ));
                }
            }
            Ok(parts.join("&"))
        }
        ValueKind::String => Ok(v.as_str().unwrap_or("").to_string()),
        _ => Err(Error::module(
            "failed to parse body as form_urlencoded: give a mapping or a string",
        )),
    }
}

fn to_json_text(v: &Value) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| Error::module(format!("cannot serialise body: {e}")).caused_by(e))
}

/// The request script of uri: body from stdin after the config (`$1` bytes of config).
fn uri_script(config_len: usize) -> String {
    format!(
        "command -v curl >/dev/null 2>&1 || exit {RC_NO_TOOL}\n\
         w=$(mktemp -d) || exit 70\ntrap 'rm -rf \"$w\"' EXIT\n\
         head -c {config_len} > \"$w/c\"; cat > \"$w/b\"\n\
         if [ -s \"$w/b\" ]; then echo 'data-binary = \"@'\"$w\"'/b\"' >> \"$w/c\"; fi\n\
         code=$(curl -sS -K \"$w/c\" -D \"$w/h\" -o \"$w/o\" -w '%{{http_code}} %{{url_effective}}' 2>\"$w/e\"); rc=$?\n\
         printf '%s\\n' \"$code\"; echo \"$rc\"\n\
         base64 -w0 < \"$w/e\"; echo\n\
         base64 -w0 < \"$w/h\" 2>/dev/null; echo\n\
         base64 -w0 < \"$w/o\" 2>/dev/null; echo\n"
    )
}

/// The last header block of a `-D` dump (after redirects): status line and headers.
fn parse_headers(raw: &str) -> (String, Vec<(String, String)>) {
    let blocks: Vec<&str> = raw
        .split("\r\n\r\n")
        .flat_map(|b| b.split("\n\n"))
        .filter(|b| !b.trim().is_empty())
        .collect();
    let last = blocks.last().copied().unwrap_or("");
    let mut lines = last.lines();
    let status_line = lines.next().unwrap_or("").trim().to_string();
    let reason = status_line
        .splitn(3, ' ')
        .nth(2)
        .unwrap_or("")
        .trim()
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (reason, headers)
}

impl Module for Uri {
    fn spec(&self) -> &'static ModuleSpec {
        &URI_SPEC
    }

    fn check_mode(&self) -> super::CheckMode {
        super::CheckMode::Skipped {
            msg: "This action (uri) does not support check mode.",
            by_action: true,
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        for (a, help) in [
            ("dest", "download files with get_url"),
            ("unix_socket", "use command: curl --unix-socket …"),
            ("remote_src", "read the file with slurp and give it as body"),
        ] {
            if args.has(a) && (a != "remote_src" || args.bool(a, false)?) {
                return Err(
                    Error::module(format!("uri {a} is not supported by drover")).with_help(help)
                );
            }
        }
        for (a, exists_skips) in [("creates", true), ("removes", false)] {
            if let Some(path) = args.str(a)? {
                let there = ctx.stat(&path, true, false)?.exists();
                if there == exists_skips {
                    let why = if exists_skips {
                        format!("skipped, since '{path}' exists")
                    } else {
                        format!("skipped, since '{path}' does not exist")
                    };
                    return Ok(Plan::no_change(super::result(&[(
                        "stdout",
                        Value::from(why),
                    )])));
                }
            }
        }
        let mut req = HttpRequest::from_args(args, 30)?;
        req.headers
            .retain(|(k, v)| !(k == "User-Agent" && v == "ansible-httpget"));
        req.headers
            .push(("User-Agent".into(), "ansible-httpget".into()));
        req.method = args
            .str("method")?
            .unwrap_or_else(|| "GET".into())
            .to_uppercase();
        if !req.method.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Error::module(format!(
                "method '{}' is not valid",
                req.method
            )));
        }
        req.follow = !matches!(
            args.str("follow_redirects")?.as_deref(),
            Some("no" | "none")
        );
        let format = args.str("body_format")?.unwrap_or_else(|| "raw".into());
        let has_ct = |h: &[(String, String)]| {
            h.iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        };
        let body: Vec<u8> = match (args.value("body"), args.str("src")?) {
            (Some(b), _) => match format.as_str() {
                "json" => {
                    if !has_ct(&req.headers) {
                        req.headers
                            .push(("Content-Type".into(), "application/json".into()));
                    }
                    match b.kind() {
                        ValueKind::String => b.as_str().unwrap_or("").as_bytes().to_vec(),
                        _ => to_json_text(b)?.into_bytes(),
                    }
                }
                "form-urlencoded" => {
                    if !has_ct(&req.headers) {
                        req.headers.push((
                            "Content-Type".into(),
                            "application/x-www-form-urlencoded".into(),
                        ));
                    }
                    form_urlencode(b)?.into_bytes()
                }
                "form-multipart" => {
                    return Err(Error::module(
                        "uri body_format: form-multipart is not supported by drover",
                    )
                    .with_help("use command: curl -F …"))
                }
                _ => super::args::python_str(b).into_bytes(),
            },
            (None, Some(src)) => {
                let p = ctx.find_src("files", &src)?;
                std::fs::read(&p).map_err(|e| {
                    Error::module(format!("cannot read {}: {e}", p.display())).caused_by(e)
                })?
            }
            (None, None) => Vec::new(),
        };
        let status_codes: Vec<i64> = {
            let l = args.list("status_code")?;
            if l.is_empty() {
                vec![200]
            } else {
                l.iter()
                    .map(|v| {
                        super::args::to_int(v).ok_or_else(|| {
                            Error::module(format!("status_code: '{v}' is not an integer"))
                        })
                    })
                    .collect::<Result<_>>()?
            }
        };
        let return_content = args.bool("return_content", false)?;
        let config = req.config();
        let mut stdin = config.clone().into_bytes();
        stdin.extend_from_slice(&body);
        let started = std::time::Instant::now();
        let out = ctx.sh(&uri_script(config.len()), Some(&stdin))?;
        let elapsed = started.elapsed().as_secs();
        if out.rc == RC_NO_TOOL {
            return Err(Error::module("uri needs curl on the host, and it is not installed")
                .with_help("install curl (apt: name=curl), or run the task on the controller with delegate_to: localhost"));
        }
        if out.rc != 0 {
            return Err(Error::module(format!(
                "uri failed: {}",
                out.stderr_str().trim()
            )));
        }
        let text = out.stdout_str();
        let mut it = text.split('\n');
        let first = it.next().unwrap_or("");
        let rc: i32 = it.next().unwrap_or("1").trim().parse().unwrap_or(1);
        use base64::Engine;
        let b64 = |s: Option<&str>| {
            base64::engine::general_purpose::STANDARD
                .decode(s.unwrap_or("").trim())
                .unwrap_or_default()
        };
        let curl_err = String::from_utf8_lossy(&b64(it.next())).into_owned();
        let raw_headers = String::from_utf8_lossy(&b64(it.next())).into_owned();
        let content = b64(it.next());
        let (code, effective) = first.split_once(' ').unwrap_or((first, ""));
        let mut status: i64 = code.trim().parse().unwrap_or(-1);
        if rc != 0 || status == 0 {
            status = -1;
        }
        let mut r = Vars::new();
        let (reason, headers) = parse_headers(&raw_headers);
        let mut content_type = String::new();
        let mut length = None;
        for (k, v) in &headers {
            let key = k.to_lowercase().replace('-', "_");
            if key == "content_type" {
                content_type = v.clone();
            }
            if key == "content_length" {
                length = Some(v.clone());
            }
            r.insert(key, Value::from(v.as_str()));
        }
        let url = if effective.is_empty() {
            req.url.clone()
        } else {
            effective.to_string()
        };
        r.insert("redirected".into(), Value::from(url != req.url));
        r.insert("url".into(), Value::from(url));
        r.insert("status".into(), Value::from(status));
        r.insert("elapsed".into(), Value::from(elapsed));
        // fetch_url reports cookies only for a response that is not an HTTP error.
        if status < 400 {
            r.insert("cookies".into(), Value::from_iter(Vars::new()));
            r.insert("cookies_string".into(), Value::from(""));
        }
        let msg = if status == -1 {
            format!("Request failed: {}", curl_err.trim())
        } else if (200..300).contains(&status) {
            format!("OK ({} bytes)", length.as_deref().unwrap_or("unknown"))
        } else {
            format!("HTTP Error {status}: {reason}")
        };
        let sub = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .split('/')
            .nth(1)
            .unwrap_or("")
            .to_lowercase();
        let sub = sub.rsplit('+').next().unwrap_or("").to_string();
        let maybe_json = sub == "json" || sub == "javascript";
        let content_text = String::from_utf8_lossy(&content).into_owned();
        if maybe_json {
            if let Ok(j) = serde_json::from_str::<serde_json::Value>(&content_text) {
                r.insert("json".into(), Value::from_serialize(&j));
            }
        }
        // Ansible's fetch_url keeps an HTTP error's body as `body`, whatever return_content.
        if status >= 400 {
            r.insert("body".into(), Value::from(content_text.as_str()));
        }
        if return_content {
            r.insert("content".into(), Value::from(content_text));
        }
        if !status_codes.contains(&status) {
            let codes = format!(
                "[{}]",
                status_codes
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            r.insert(
                "msg".into(),
                Value::from(format!("Status code was {status} and not {codes}: {msg}")),
            );
            let mut p = Plan::no_change(r);
            p.failed = true;
            return Ok(p);
        }
        r.insert("msg".into(), Value::from(msg));
        Ok(Plan::no_change(r))
    }
}

impl Module for WaitFor {
    fn spec(&self) -> &'static ModuleSpec {
        &WAIT_FOR_SPEC
    }

    fn check_mode(&self) -> super::CheckMode {
        super::CheckMode::Skipped {
            msg: "remote module (wait_for) does not support check mode",
            by_action: false,
        }
    }

    fn plan(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> Result<Plan> {
        let host = args.str("host")?.unwrap_or_else(|| "127.0.0.1".into());
        let port = args.int("port")?;
        let path = args.str("path")?;
        let regex = args.str("search_regex")?;
        let state = args.str("state")?.unwrap_or_else(|| "started".into());
        let timeout = args.int("timeout")?.unwrap_or(300).max(0);
        let delay = args.int("delay")?.unwrap_or(0).max(0);
        let sleep = args.int("sleep")?.unwrap_or(1).max(1);
        let connect_timeout = args.int("connect_timeout")?.unwrap_or(5).max(1);
        if state == "drained" {
            return Err(
                Error::module("wait_for state: drained is not supported by drover")
                    .with_help("poll `ss -tn state established` with command and until:"),
            );
        }
        if port.is_some() && regex.is_some() {
            return Err(Error::module(
                "wait_for search_regex on a port is not supported by drover",
            )
            .with_help("use uri with until: (HTTP), or search_regex with path"));
        }
        if let Some(p) = port {
            if !(1..=65535).contains(&p) {
                return Err(Error::module(format!("port {p} is out of range")));
            }
            if !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
            {
                return Err(Error::module(format!(
                    "host '{host}' is not a host name or address"
                )));
            }
        }
        let stopping = matches!(state.as_str(), "stopped" | "absent");
        if path.is_some() && state == "stopped" {
            return Err(Error::module(
                "state=stopped should only be used for checking a port in the wait_for module",
            ));
        }
        let (check, what) = match (&path, port) {
            (Some(p), _) => {
                let q = quote(p);
                match (&regex, stopping) {
                    (_, true) => (format!("[ ! -e {q} ]"), format!("{p} to be absent")),
                    (Some(re), false) => (
                        format!("grep -Pq -- {} {q} 2>/dev/null", quote(re)),
                        format!("search string {re} in {p}"),
                    ),
                    (None, false) => (format!("[ -e {q} ]"), format!("file {p}")),
                }
            }
            (None, Some(port)) => {
                let probe = format!(
                    "timeout {connect_timeout} bash -c 'exec 3<>/dev/tcp/\"$1\"/\"$2\"' _ {} {port} 2>/dev/null",
                    quote(&host)
                );
                if stopping {
                    (format!("! {probe}"), format!("{host}:{port} to stop"))
                } else {
                    (probe, format!("{host}:{port}"))
                }
            }
            (None, None) => ("false".into(), String::new()),
        };
        let needs_bash = path.is_none() && port.is_some();
        let script = format!(
            "{}start=$(date +%s)\nsleep {delay}\nend=$((start + {timeout}))\n\
             while :; do\n  if {check}; then echo \"@ok $(( $(date +%s) - start ))\"; exit 0; fi\n\
               now=$(date +%s); if [ \"$now\" -ge \"$end\" ]; then echo \"@timeout $((now - start))\"; exit 0; fi\n\
               sleep {sleep}\ndone\n",
            if needs_bash {
                "command -v bash >/dev/null 2>&1 || { echo @nobash; exit 0; }\n"
            } else {
                ""
            },
        );
        let out = ctx.sh(&script, None)?;
        let m = lines_map(&out.stdout_str());
        if m.contains_key("nobash") {
            return Err(Error::module("wait_for on a port needs bash on the host")
                .with_help("install bash, or poll with command and until:"));
        }
        let mut r = Vars::new();
        r.insert("state".into(), Value::from(state.as_str()));
        r.insert("port".into(), Value::from(port));
        r.insert("path".into(), Value::from(path.clone()));
        r.insert("search_regex".into(), Value::from(regex.clone()));
        r.insert("match_groups".into(), Value::from(Vec::<Value>::new()));
        r.insert("match_groupdict".into(), Value::from_iter(Vars::new()));
        if let Some(e) = m.get("ok") {
            r.insert("elapsed".into(), Value::from(e.parse::<i64>().unwrap_or(0)));
            // Ansible adds the path's attributes to a result with an existing `path`.
            if let Some(p) = &path {
                let st = ctx.stat(p, true, false)?;
                if st.exists() {
                    r.insert(
                        "state".into(),
                        Value::from(super::write::state_name(st.kind)),
                    );
                    r.insert("mode".into(), Value::from(st.mode_string()));
                    r.insert("owner".into(), Value::from(st.owner.as_str()));
                    r.insert("group".into(), Value::from(st.group.as_str()));
                    r.insert("uid".into(), Value::from(st.uid));
                    r.insert("gid".into(), Value::from(st.gid));
                    r.insert("size".into(), Value::from(st.size));
                }
            }
            // The groups of the match, as Python's re.search over the whole file.
            if let (Some(re), Some(p), false) = (&regex, &path, stopping) {
                if let (Ok(Some(text)), Ok(rx)) = (
                    ctx.read_file(p),
                    super::write::compile_regex(re, "search_regex", false),
                ) {
                    let text = String::from_utf8_lossy(&text);
                    if let Ok(Some(c)) = rx.captures(&text) {
                        let groups: Vec<Value> = c
                            .iter()
                            .skip(1)
                            .map(|g| {
                                g.map(|m| Value::from(m.as_str()))
                                    .unwrap_or(Value::from(()))
                            })
                            .collect();
                        let named: Vars = rx
                            .capture_names()
                            .flatten()
                            .map(|n| {
                                (
                                    n.to_string(),
                                    c.name(n)
                                        .map(|m| Value::from(m.as_str()))
                                        .unwrap_or(Value::from(())),
                                )
                            })
                            .collect();
                        r.insert("match_groups".into(), Value::from(groups));
                        r.insert("match_groupdict".into(), Value::from_iter(named));
                    }
                }
            }
            return Ok(Plan::no_change(r));
        }
        let elapsed: i64 = m
            .get("timeout")
            .and_then(|e| e.parse().ok())
            .unwrap_or(timeout);
        r.insert("elapsed".into(), Value::from(elapsed));
        if what.is_empty() {
            // No port and no path: Ansible just waits for the timeout.
            return Ok(Plan::no_change(r));
        }
        // Ansible's message, plus how long was waited.
        let msg = args.str("msg")?.unwrap_or_else(|| {
            format!("Timeout when waiting for {what} (waited {elapsed} seconds)")
        });
        r.insert("msg".into(), Value::from(msg));
        let mut p = Plan::no_change(r);
        p.failed = true;
        Ok(p)
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

    #[test]
    fn quotes_curl_config_values() {
        assert_eq!(cfg_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            form_urlencode(&Value::from_serialize(serde_json::json!({"a b": "c&d"}))).unwrap(),
            "a+b=c%26d"
        );
    }

    #[test]
    fn reads_the_last_header_block() {
        let (reason, h) = parse_headers(
            "HTTP/1.0 301 Moved\r\nLocation: /x\r\n\r\nHTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n",
        );
        assert_eq!(reason, "Not Found");
        assert_eq!(h, [("Content-Type".to_string(), "text/html".to_string())]);
    }
}
