//! Walking the tags of a template's text (`{{ }}`, `{% %}`, `{# #}`) for the source
//! rewrites that run before minijinja compiles it (Python `%` formatting, Ansible's
//! backslash handling). Comments and `{% raw %}` blocks are left alone.

use std::borrow::Cow;

/// Which kind of tag a body came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tag {
    /// `{{ … }}`
    Variable,
    /// `{% … %}`
    Block,
}

/// Rewrite the body of every `{{ }}` and `{% %}` of `src` with `f`; text, comments and
/// raw blocks are copied unchanged.
pub fn map_tags<'a>(src: &'a str, mut f: impl FnMut(&str, Tag) -> Cow<'_, str>) -> Cow<'a, str> {
    let mut out = String::new();
    let mut last = 0;
    let mut i = 0;
    let mut changed = false;
    while let Some(rel) = src[i..].find('{') {
        let open = i + rel;
        let rest = &src[open..];
        let (close_tag, tag) = if rest.starts_with("{{") {
            ("}}", Some(Tag::Variable))
        } else if rest.starts_with("{%") {
            ("%}", Some(Tag::Block))
        } else if rest.starts_with("{#") {
            ("#}", None)
        } else {
            i = open + 1;
            continue;
        };
        let body_start = open + 2;
        let Some(body_len) = find_outside_strings(&src[body_start..], close_tag) else {
            break;
        };
        let body_end = body_start + body_len;
        let body = &src[body_start..body_end];
        if close_tag == "%}" && is_raw_tag(body) {
            // Everything up to {% endraw %} is text.
            match src[body_end..].find("endraw") {
                Some(k) => {
                    i = body_end + k;
                    continue;
                }
                None => break,
            }
        }
        if let Some(kind) = tag {
            if let Cow::Owned(new) = f(body, kind) {
                out.push_str(&src[last..body_start]);
                out.push_str(&new);
                last = body_end;
                changed = true;
            }
        }
        i = body_end + 2;
    }
    if !changed {
        return Cow::Borrowed(src);
    }
    out.push_str(&src[last..]);
    Cow::Owned(out)
}

fn is_raw_tag(body: &str) -> bool {
    body.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace()) == "raw"
}

/// The index after the string literal that starts at `i` (its quote).
pub fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// `needle` in `s`, not inside a string literal.
pub fn find_outside_strings(s: &str, needle: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' || b[i] == b'"' {
            i = string_end(b, i);
            continue;
        }
        if b[i..].starts_with(needle.as_bytes()) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Ansible's backslash rule for strings written in playbooks (not template files): inside
/// `{{ }}`, a backslash in a string literal is a literal backslash, because YAML already
/// processed the escapes once (`regex_replace('^(\w+)\..*', '\\1')` in a double-quoted
/// scalar means group 1). `{% %}` tags and template files keep Jinja's escapes.
pub fn escape_backslashes(src: &str) -> Cow<'_, str> {
    if !(src.contains('\\') && src.contains("{{")) {
        return Cow::Borrowed(src);
    }
    map_tags(src, |body, kind| {
        if kind != Tag::Variable || !body.contains('\\') {
            return Cow::Borrowed(body);
        }
        let b = body.as_bytes();
        let mut out = String::with_capacity(body.len() + 8);
        let mut last = 0;
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\'' || b[i] == b'"' {
                let end = string_end(b, i);
                out.push_str(&body[last..i]);
                out.push_str(&body[i..end].replace('\\', "\\\\"));
                last = end;
                i = end;
                continue;
            }
            i += 1;
        }
        out.push_str(&body[last..]);
        Cow::Owned(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_in_variable_literals_are_literal() {
        assert_eq!(
            escape_backslashes(r"{{ x | regex_replace('^(\w+)\..*$', '\1') }}"),
            r"{{ x | regex_replace('^(\\w+)\\..*$', '\\1') }}"
        );
        // Outside literals, in block tags and in text: unchanged.
        assert_eq!(escape_backslashes(r"a\b {{ x }}"), r"a\b {{ x }}");
        assert_eq!(
            escape_backslashes(r"{% set q = 'p\n' %}{{ q }}"),
            r"{% set q = 'p\n' %}{{ q }}"
        );
    }

    #[test]
    fn tags_in_raw_blocks_and_comments_are_left_alone() {
        let mut seen = Vec::new();
        map_tags(
            "{# {{ a }} #}{% raw %}{{ b }}{% endraw %}{{ c }}{% if d %}",
            |b, k| {
                seen.push((b.trim().to_string(), k));
                Cow::Borrowed(b)
            },
        );
        assert_eq!(
            seen,
            vec![
                ("c".to_string(), Tag::Variable),
                ("if d".to_string(), Tag::Block)
            ]
        );
    }
}
