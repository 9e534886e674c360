//! What get_url and uri share: the request (URL, headers, credentials) as a curl config
//! that travels on stdin, never on a command line, and the exit codes of their scripts.
//! Both run ON THE TARGET with its own curl (on the controller with `delegate_to:
//! localhost`).

use super::Args;
use crate::diagnostics::{Error, Result};
use minijinja::value::ValueKind;
use std::collections::BTreeMap;

/// A curl config value: double-quoted, with `\` and `"` escaped.
pub(super) fn cfg_str(s: &str) -> String {
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
pub(super) struct HttpRequest {
    pub(super) url: String,
    pub(super) method: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) user: Option<(String, String)>,
    pub(super) insecure: bool,
    pub(super) timeout: i64,
    pub(super) follow: bool,
}

impl HttpRequest {
    pub(super) fn from_args(args: &Args, default_timeout: i64) -> Result<HttpRequest> {
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
    pub(super) fn config(&self) -> String {
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
pub(super) const RC_NO_TOOL: i32 = 90;
pub(super) const RC_TRANSFER: i32 = 91;
pub(super) const RC_HTTP: i32 = 92;
pub(super) const RC_CHECKSUM: i32 = 93;
pub(super) const RC_NO_DIR: i32 = 94;

/// The `@key value` lines a module script prints (get_url's, wait_for's), as a map.
pub(super) fn lines_map(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.strip_prefix('@'))
        .map(|l| match l.split_once(' ') {
            Some((k, v)) => (k.to_string(), v.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_curl_config_values() {
        assert_eq!(cfg_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
