//! uri: an HTTP request ON THE TARGET with its curl; the body goes on stdin after the
//! curl config, and the response's status, headers and content come back.

use super::http::{HttpRequest, RC_NO_TOOL};
use super::spec::{arg, ArgType::*, FreeForm, ModuleSpec};
use super::{Args, Module, ModuleCtx, Plan};
use crate::diagnostics::{Error, Result};
use crate::vars::Vars;
use minijinja::value::ValueKind;
use minijinja::Value;

pub struct Uri;

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
    messages: &[],
};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urlencodes_mappings() {
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
