//! How a whole template file is read: the options Ansible's `template` module and
//! `template` lookup take (`trim_blocks`, `lstrip_blocks`, and the delimiters
//! `block_start_string` … `comment_end_string`), and a template's own first line
//! `#jinja2: key: value, …`, which wins over them; applied to a copy of the environment.

use crate::diagnostics::{Error, Result};
use minijinja::syntax::SyntaxConfig;
use minijinja::Environment;

/// The option names that set a delimiter, each with Jinja2's default.
pub const DELIMITERS: [(&str, &str); 6] = [
    ("block_start_string", "{%"),
    ("block_end_string", "%}"),
    ("variable_start_string", "{{"),
    ("variable_end_string", "}}"),
    ("comment_start_string", "{#"),
    ("comment_end_string", "#}"),
];

/// Options for one template; `None` keeps the environment's setting.
#[derive(Clone, Debug, Default)]
pub struct TextOptions {
    /// Drop the first newline after a block tag.
    pub trim_blocks: Option<bool>,
    /// Strip the whitespace before a block tag on its line.
    pub lstrip_blocks: Option<bool>,
    /// Keep the template's last newline (drover puts trailing newlines back anyway).
    pub keep_trailing_newline: Option<bool>,
    /// In [`DELIMITERS`] order.
    pub delimiters: [Option<String>; 6],
    /// A line starting with this is a statement (`: if x`).
    pub line_statement_prefix: Option<String>,
    /// A line starting with this is a comment.
    pub line_comment_prefix: Option<String>,
}

/// The header line that sets a template's own options.
pub const HEADER: &str = "#jinja2:";

impl TextOptions {
    /// Read a `#jinja2:` header's rest of line (Ansible's format: `key: value` pairs
    /// separated by commas, each value a Python literal).
    pub fn parse_header(line: &str, name: &str) -> Result<TextOptions> {
        let mut o = TextOptions::default();
        for pair in line.split(',') {
            let Some((k, v)) = pair.split_once(':') else {
                return Err(Error::template(format!(
                    "{name}: Missing key-value separator in the #jinja2: override '{}' (write key: value)",
                    pair.trim()
                )));
            };
            let (key, value) = (k.trim(), v.trim());
            let flag = || match value {
                "True" | "true" => Ok(true),
                "False" | "false" => Ok(false),
                other => Err(Error::template(format!(
                    "{name}: #jinja2: {key} must be True or False, not {other}"
                ))),
            };
            let text = || {
                python_string(value).ok_or_else(|| {
                    Error::template(format!(
                        "{name}: #jinja2: {key} must be a quoted string, not {value}"
                    ))
                })
            };
            match key {
                "trim_blocks" => o.trim_blocks = Some(flag()?),
                "lstrip_blocks" => o.lstrip_blocks = Some(flag()?),
                "keep_trailing_newline" => o.keep_trailing_newline = Some(flag()?),
                "line_statement_prefix" => o.line_statement_prefix = Some(text()?),
                "line_comment_prefix" => o.line_comment_prefix = Some(text()?),
                other => {
                    let value = text();
                    if !o.set_delimiter(other, value.clone().unwrap_or_default()) {
                        return Err(Error::template(format!(
                            "{name}: the #jinja2: override '{other}' is not supported"
                        )));
                    }
                    value?;
                }
            }
        }
        Ok(o)
    }

    /// These options, with those `over` sets replacing them.
    pub fn overlaid(&self, over: &TextOptions) -> TextOptions {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        TextOptions {
            trim_blocks: over.trim_blocks.or(self.trim_blocks),
            lstrip_blocks: over.lstrip_blocks.or(self.lstrip_blocks),
            keep_trailing_newline: over.keep_trailing_newline.or(self.keep_trailing_newline),
            delimiters: std::array::from_fn(|i| pick(&self.delimiters[i], &over.delimiters[i])),
            line_statement_prefix: pick(&self.line_statement_prefix, &over.line_statement_prefix),
            line_comment_prefix: pick(&self.line_comment_prefix, &over.line_comment_prefix),
        }
    }
}

/// A Python string literal's text (`"[%"`, `'x'`).
fn python_string(v: &str) -> Option<String> {
    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = v.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q) && !inner.contains('\\')).then(|| inner.to_string())
}

impl TextOptions {
    /// Set a delimiter by its option name; false when `name` is not one.
    pub fn set_delimiter(&mut self, name: &str, value: String) -> bool {
        match DELIMITERS.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                self.delimiters[i] = Some(value);
                true
            }
            None => false,
        }
    }

    /// Whether any delimiter differs from Jinja2's, or line statements are on.
    pub fn custom_syntax(&self) -> bool {
        self.line_statement_prefix.is_some()
            || self.line_comment_prefix.is_some()
            || self
                .delimiters
                .iter()
                .zip(DELIMITERS)
                .any(|(set, (_, default))| set.as_deref().is_some_and(|s| s != default))
    }

    /// Apply to `env` (a copy made for this template).
    pub fn apply(&self, env: &mut Environment<'_>, name: &str) -> Result<()> {
        if let Some(on) = self.trim_blocks {
            env.set_trim_blocks(on);
        }
        if let Some(on) = self.lstrip_blocks {
            env.set_lstrip_blocks(on);
        }
        if let Some(on) = self.keep_trailing_newline {
            env.set_keep_trailing_newline(on);
        }
        if !self.custom_syntax() {
            return Ok(());
        }
        let d: Vec<&str> = self
            .delimiters
            .iter()
            .zip(DELIMITERS)
            .map(|(set, (_, default))| set.as_deref().unwrap_or(default))
            .collect();
        let mut syntax = SyntaxConfig::builder();
        syntax
            .block_delimiters(d[0].to_string(), d[1].to_string())
            .variable_delimiters(d[2].to_string(), d[3].to_string())
            .comment_delimiters(d[4].to_string(), d[5].to_string());
        if let Some(p) = &self.line_statement_prefix {
            syntax.line_statement_prefix(p.clone());
        }
        if let Some(p) = &self.line_comment_prefix {
            syntax.line_comment_prefix(p.clone());
        }
        let syntax = syntax.build().map_err(|e| {
            Error::template(format!(
                "{name}: these template delimiters cannot be used together ({}): {e}",
                d.join(" ")
            ))
        })?;
        env.set_syntax(syntax);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_delimiters_render() {
        let mut opts = TextOptions::default();
        assert!(opts.set_delimiter("variable_start_string", "[%".into()));
        assert!(opts.set_delimiter("variable_end_string", "%]".into()));
        assert!(opts.set_delimiter("comment_start_string", "[#".into()));
        assert!(opts.set_delimiter("comment_end_string", "#]".into()));
        assert!(!opts.set_delimiter("line_statement_prefix", "#".into()));
        let mut env = Environment::new();
        opts.apply(&mut env, "t").unwrap();
        let out = env
            .render_str(
                "[# gone #]Hello [% who %] {{ kept }}",
                minijinja::context! {who => "world"},
            )
            .unwrap();
        assert_eq!(out, "Hello world {{ kept }}");
    }

    #[test]
    fn a_header_is_read_as_ansible_reads_it_and_wins() {
        let h = TextOptions::parse_header(
            " trim_blocks: False, variable_start_string: '[%', line_statement_prefix:\":\"",
            "t",
        )
        .unwrap();
        assert_eq!(h.trim_blocks, Some(false));
        assert_eq!(h.delimiters[2].as_deref(), Some("[%"));
        assert_eq!(h.line_statement_prefix.as_deref(), Some(":"));
        let mut module = TextOptions {
            trim_blocks: Some(true),
            ..Default::default()
        };
        module.set_delimiter("variable_end_string", "%]".into());
        let both = module.overlaid(&h);
        assert_eq!(both.trim_blocks, Some(false));
        assert_eq!(both.delimiters[3].as_deref(), Some("%]"));
        let e = TextOptions::parse_header(" lstrip_blocks=True", "t").unwrap_err();
        assert!(
            e.message.contains("Missing key-value separator"),
            "{}",
            e.message
        );
        let e = TextOptions::parse_header(" autoescape: True", "t").unwrap_err();
        assert!(
            e.message.contains("'autoescape' is not supported"),
            "{}",
            e.message
        );
    }

    #[test]
    fn line_statements() {
        let opts = TextOptions::parse_header("line_statement_prefix:\":\"", "t").unwrap();
        let mut env = Environment::new();
        opts.apply(&mut env, "t").unwrap();
        let out = env.render_str(": if true\nfoo\n: endif\n", ()).unwrap();
        assert_eq!(out, "foo\n");
    }

    #[test]
    fn defaults_given_explicitly_change_nothing() {
        let mut opts = TextOptions::default();
        opts.set_delimiter("block_start_string", "{%".into());
        assert!(!opts.custom_syntax());
    }

    #[test]
    fn clashing_delimiters_are_an_error_naming_the_template() {
        let mut opts = TextOptions::default();
        opts.set_delimiter("variable_start_string", "{%".into());
        let e = opts.apply(&mut Environment::new(), "t.j2").unwrap_err();
        assert!(
            e.message.contains("t.j2: these template delimiters"),
            "{}",
            e.message
        );
    }
}
