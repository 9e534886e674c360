//! Regular expressions as Ansible content writes them (Python's `re`): backreferences
//! (`^(REF) .* \1$`) and look-around are common in lineinfile/replace patterns, and
//! Rust's `regex` crate has neither, so patterns go through fancy-regex, which hands
//! what it can to `regex` and backtracks only where a pattern needs it. The one regex
//! layer for modules and for the template layer's tests, filters and lookups.

use fancy_regex::{Captures, Match, RegexBuilder};

/// A compiled pattern. Matching cannot fail but for fancy-regex's backtrack limit (a
/// pathological pattern); that case is an error the caller reports, never a silent
/// "no match".
#[derive(Debug, Clone)]
pub struct PyRegex(fancy_regex::Regex);

impl PyRegex {
    pub fn new(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Self, String> {
        RegexBuilder::new(&python_syntax(pattern))
            .case_insensitive(ignorecase)
            .multi_line(multiline)
            .build()
            .map(PyRegex)
            .map_err(python_message)
    }

    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        self.0.is_match(text).map_err(too_complex)
    }

    /// The first match (tests).
    pub fn find<'t>(&self, text: &'t str) -> Result<Option<fancy_regex::Match<'t>>, String> {
        self.0.find(text).map_err(too_complex)
    }

    pub fn captures<'t>(&self, text: &'t str) -> Result<Option<Captures<'t, str>>, String> {
        self.0.captures(text).map_err(too_complex)
    }

    /// The names of the named groups, in order.
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.0.capture_names()
    }

    /// Every non-overlapping match, left to right.
    pub fn find_all<'t>(&self, text: &'t str) -> Result<Vec<Match<'t>>, String> {
        self.0
            .find_iter(text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(too_complex)
    }

    /// The number of groups, counting the whole match (group 0).
    pub fn captures_len(&self) -> usize {
        self.0.captures_len()
    }

    /// The groups of every non-overlapping match, left to right.
    pub fn captures_all<'t>(&self, text: &'t str) -> Result<Vec<Captures<'t, str>>, String> {
        self.0
            .captures_iter(text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(too_complex)
    }

    /// Replace the first `limit` matches (0: all) with what `rep` makes of each.
    pub fn replacen_with(
        &self,
        text: &str,
        limit: usize,
        rep: impl FnMut(&Captures<'_, str>) -> String,
    ) -> Result<String, String> {
        self.0
            .try_replacen(text, limit, rep)
            .map(|c| c.into_owned())
            .map_err(too_complex)
    }

    /// Replace every match; `rep` uses `$1`/`${name}` (see `python_replacement`).
    pub fn replace_all(&self, text: &str, rep: &str) -> Result<String, String> {
        self.0
            .try_replacen(text, 0, rep)
            .map(|c| c.into_owned())
            .map_err(too_complex)
    }
}

/// Python's spellings that mean something else here: `\Z` is the very end of the text in
/// Python, `\z` in fancy-regex (whose `\Z` also matches before final newlines).
fn python_syntax(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push('z'),
                Some(n) => out.push(n),
                None => {}
            }
        }
    }
    out
}

/// A pattern error worded as Python's `re.error` where the two mean the same (Ansible's
/// messages quote it: `nothing to repeat at position 0`), else fancy-regex's own.
fn python_message(e: fancy_regex::Error) -> String {
    use fancy_regex::ParseError as P;
    if let fancy_regex::Error::ParseError(pos, kind) = &e {
        let said = match kind {
            P::TargetNotRepeatable | P::InvalidRepeat => "nothing to repeat",
            P::UnclosedOpenParen => "missing ), unterminated subpattern",
            P::TrailingBackslash => "bad escape (end of pattern)",
            P::InvalidBackref => "invalid group reference",
            _ => return e.to_string(),
        };
        return format!("{said} at position {pos}");
    }
    e.to_string()
}

fn too_complex(e: fancy_regex::Error) -> String {
    format!("the pattern needs too much backtracking on this input ({e}); simplify it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backreferences_and_lookaround_as_python() {
        let r = PyRegex::new(r"^(REF) .* \1$", false, false).unwrap();
        assert!(r.is_match("REF a b REF").unwrap());
        assert!(!r.is_match("REF a b FER").unwrap());
        let l = PyRegex::new(r"foo(?=bar)", false, false).unwrap();
        assert_eq!(l.find("foobaz foobar").unwrap().unwrap().start(), 7);
    }

    #[test]
    fn python_end_of_text() {
        let r = PyRegex::new(r"a\Z", false, false).unwrap();
        assert!(r.is_match("xa").unwrap());
        assert!(!r.is_match("xa\n").unwrap());
        assert!(PyRegex::new(r"a\\Z", false, false)
            .unwrap()
            .is_match("a\\Z")
            .unwrap());
    }

    #[test]
    fn flags_and_replacement() {
        let r = PyRegex::new(r"^a(\d)", true, true).unwrap();
        assert_eq!(r.replace_all("A1\na2\nb3", "x$1").unwrap(), "x1\nx2\nb3");
        assert_eq!(r.find_all("A1\na2").unwrap().len(), 2);
    }
}
