//! The `to_yaml` and `to_nice_yaml` filters' YAML emitter.
//!
//! A port of the relevant parts of PyYAML/libyaml's emitter so that output matches
//! Ansible byte for byte: sorted keys, YAML 1.1 quoting of strings that would otherwise
//! resolve to bool/null/number (the loader's own resolver, [`crate::yaml::scalar`],
//! decides), line folding at 80 columns, `indent` handling and `default_flow_style`.
//! Reading YAML (`from_yaml`) is the project's loader, [`crate::yaml`].

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::pycompat;
use crate::yaml::scalar::{self, Implicit};

fn error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

// ---------------------------------------------------------------------------
// Value -> node tree (PyYAML's SafeRepresenter).
// ---------------------------------------------------------------------------

/// Options for [`dump`].
#[derive(Debug, Clone, Copy)]
pub struct DumpOptions {
    /// Indentation step (PyYAML accepts 2..=9, anything else means 2).
    pub indent: usize,
    /// `Some(false)`: block style everywhere (`to_nice_yaml`); `None`: flow
    /// style for collections holding only scalars (`to_yaml`); `Some(true)`:
    /// flow style everywhere.
    pub default_flow_style: Option<bool>,
    /// Sort mapping keys (PyYAML's default).
    pub sort_keys: bool,
    /// Preferred line width before plain/quoted scalars are folded.
    pub width: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            indent: 2,
            default_flow_style: None,
            sort_keys: true,
            width: 80,
        }
    }
}

enum Node {
    Scalar {
        text: String,
        implicit: bool,
    },
    Seq {
        items: Vec<Node>,
        flow: bool,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        flow: bool,
    },
}

impl Node {
    fn is_empty_collection(&self) -> bool {
        match self {
            Node::Scalar { .. } => false,
            Node::Seq { items, .. } => items.is_empty(),
            Node::Map { pairs, .. } => pairs.is_empty(),
        }
    }
}

fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        let repr = pycompat::py_float_repr(f).to_lowercase();
        if !repr.contains('.') && repr.contains('e') {
            repr.replacen('e', ".0e", 1)
        } else {
            repr
        }
    }
}

fn scalar(text: impl Into<String>) -> Node {
    Node::Scalar {
        text: text.into(),
        implicit: true,
    }
}

fn represent(value: &Value, opts: &DumpOptions, filter: &str) -> Result<Node, Error> {
    if let Some(u) = crate::vault::undecryptable::as_undecryptable(value) {
        return Err(crate::vault::undecryptable::use_error(u));
    }
    match value.kind() {
        ValueKind::Undefined => Err(Error::new(
            ErrorKind::UndefinedError,
            format!("{filter}: cannot serialize an undefined value"),
        )),
        ValueKind::None => Ok(scalar("null")),
        ValueKind::Bool => Ok(scalar(if value.is_true() { "true" } else { "false" })),
        ValueKind::Number => {
            if value.is_integer() {
                Ok(scalar(value.to_string()))
            } else {
                let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                Ok(scalar(yaml_float(f)))
            }
        }
        ValueKind::String | ValueKind::Bytes | ValueKind::Plain => {
            let text = match (value.as_str(), value.as_bytes()) {
                (Some(s), _) => s.to_string(),
                (None, Some(b)) => String::from_utf8_lossy(b).into_owned(),
                (None, None) => value.to_string(),
            };
            let implicit = scalar::implicit(&text) == Implicit::Str;
            Ok(Node::Scalar { text, implicit })
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items = value
                .try_iter()?
                .map(|item| represent(&item, opts, filter))
                .collect::<Result<Vec<_>, _>>()?;
            let flow = opts
                .default_flow_style
                .unwrap_or_else(|| items.iter().all(|n| matches!(n, Node::Scalar { .. })));
            Ok(Node::Seq { items, flow })
        }
        ValueKind::Map => {
            let mut pairs = pycompat::map_pairs(value)?;
            if opts.sort_keys {
                pycompat::sort_pairs(&mut pairs);
            }
            let pairs = pairs
                .iter()
                .map(|(k, v)| Ok((represent(k, opts, filter)?, represent(v, opts, filter)?)))
                .collect::<Result<Vec<_>, Error>>()?;
            let flow = opts.default_flow_style.unwrap_or_else(|| {
                pairs.iter().all(|(k, v)| {
                    matches!(k, Node::Scalar { .. }) && matches!(v, Node::Scalar { .. })
                })
            });
            Ok(Node::Map { pairs, flow })
        }
        _ => Err(error(format!(
            "{filter}: cannot serialize a value of type {}",
            value.kind()
        ))),
    }
}

/// Serializes a value as YAML the way Ansible's `to_yaml`/`to_nice_yaml` do.
pub fn dump(value: &Value, opts: &DumpOptions, filter: &str) -> Result<String, Error> {
    let node = represent(value, opts, filter)?;
    let best_indent = if opts.indent > 1 && opts.indent < 10 {
        opts.indent
    } else {
        2
    };
    let best_width = if opts.width > best_indent * 2 {
        opts.width
    } else {
        80
    };
    let mut emitter = Emitter {
        out: String::new(),
        best_indent,
        best_width,
        indent: None,
        indents: Vec::new(),
        column: 0,
        whitespace: true,
        indention: true,
        flow_level: 0,
        root_context: false,
        mapping_context: false,
        simple_key_context: false,
    };
    emitter.expect_node(&node, true, false, false);
    // expect_document_end
    emitter.write_indent();
    Ok(emitter.out)
}

// ---------------------------------------------------------------------------
// Emitter (port of PyYAML's emitter.py, restricted to what we generate).
// ---------------------------------------------------------------------------

struct Emitter {
    out: String,
    best_indent: usize,
    best_width: usize,
    indent: Option<usize>,
    indents: Vec<Option<usize>>,
    column: usize,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
    root_context: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

#[derive(Debug)]
struct Analysis {
    empty: bool,
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn is_break(ch: char) -> bool {
    matches!(ch, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_space_or_break(ch: char) -> bool {
    matches!(
        ch,
        '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// libyaml's notion of a printable non-ASCII character (Ansible uses the
/// libyaml emitter): the BMP minus surrogates and the BOM; NEL and characters
/// outside the BMP are escaped.
fn is_printable_unicode(ch: char) -> bool {
    (('\u{A0}'..='\u{D7FF}').contains(&ch) || ('\u{E000}'..='\u{FFFD}').contains(&ch))
        && ch != '\u{FEFF}'
}

fn analyze_scalar(text: &[char]) -> Analysis {
    if text.is_empty() {
        return Analysis {
            empty: true,
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;

    let starts_with = |p: &str| {
        let p: Vec<char> = p.chars().collect();
        text.len() >= p.len() && text[..p.len()] == p[..]
    };
    if starts_with("---") || starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }

    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace =
        text.len() == 1 || text.get(1).is_some_and(|c| is_space_or_break(*c));
    let mut previous_space = false;
    let mut previous_break = false;
    let last = text.len() - 1;

    for (index, &ch) in text.iter().enumerate() {
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_indicators = true;
                block_indicators = true;
            }
            if ch == '?' || ch == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if ch == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(ch) {
                flow_indicators = true;
            }
            if ch == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if ch == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch) || is_printable_unicode(ch)) {
            special_characters = true;
        }
        if ch == ' ' {
            if index == 0 {
                leading_space = true;
            }
            if index == last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            if index == 0 {
                leading_break = true;
            }
            if index == last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_space_or_break(ch);
        followed_by_whitespace = text.get(index + 2).map_or(true, |c| is_space_or_break(*c));
    }

    let mut allow_flow_plain = true;
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if break_space {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special_characters {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if line_breaks {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if flow_indicators {
        allow_flow_plain = false;
    }
    if block_indicators {
        allow_block_plain = false;
    }
    Analysis {
        empty: false,
        multiline: line_breaks,
        allow_flow_plain,
        allow_block_plain,
        allow_single_quoted,
    }
}

impl Emitter {
    fn push(&mut self, data: &str) {
        self.column += data.chars().count();
        self.out.push_str(data);
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        match self.indent {
            None => self.indent = Some(if flow { self.best_indent } else { 0 }),
            Some(indent) if !indentless => self.indent = Some(indent + self.best_indent),
            Some(_) => {}
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(None);
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        whitespace: bool,
        indention: bool,
    ) {
        if self.whitespace || !need_whitespace {
            self.push(indicator);
        } else {
            self.push(&format!(" {indicator}"));
        }
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.write_line_break(None);
        }
        if self.column < indent {
            self.whitespace = true;
            let pad = " ".repeat(indent - self.column);
            self.out.push_str(&pad);
            self.column = indent;
        }
    }

    fn write_line_break(&mut self, data: Option<char>) {
        self.whitespace = true;
        self.indention = true;
        self.column = 0;
        self.out.push(data.unwrap_or('\n'));
    }

    fn check_simple_key(node: &Node) -> bool {
        match node {
            Node::Scalar { text, .. } => {
                let chars: Vec<char> = text.chars().collect();
                let analysis = analyze_scalar(&chars);
                // libyaml (unlike pure-Python PyYAML) accepts empty simple keys
                chars.len() < 128 && !analysis.multiline
            }
            other => other.is_empty_collection(),
        }
    }

    fn expect_node(&mut self, node: &Node, root: bool, mapping: bool, simple_key: bool) {
        self.root_context = root;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match node {
            Node::Scalar { text, implicit } => {
                self.increase_indent(true, false);
                self.process_scalar(text, *implicit);
                self.pop_indent();
            }
            Node::Seq { items, flow } => {
                if self.flow_level > 0 || *flow || items.is_empty() {
                    self.expect_flow_sequence(items);
                } else {
                    self.expect_block_sequence(items);
                }
            }
            Node::Map { pairs, flow } => {
                if self.flow_level > 0 || *flow || pairs.is_empty() {
                    self.expect_flow_mapping(pairs);
                } else {
                    self.expect_block_mapping(pairs);
                }
            }
        }
    }

    fn expect_flow_sequence(&mut self, items: &[Node]) {
        self.write_indicator("[", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            self.expect_node(item, false, false, false);
        }
        self.pop_indent();
        self.flow_level -= 1;
        self.write_indicator("]", false, false, false);
    }

    fn expect_flow_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.write_indicator("{", true, true, false);
        self.flow_level += 1;
        self.increase_indent(true, false);
        for (i, (key, value)) in pairs.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            if Self::check_simple_key(key) {
                self.expect_node(key, false, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.expect_node(key, false, true, false);
                if self.column > self.best_width {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.expect_node(value, false, true, false);
        }
        self.pop_indent();
        self.flow_level -= 1;
        self.write_indicator("}", false, false, false);
    }

    fn expect_block_sequence(&mut self, items: &[Node]) {
        let indentless = self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.expect_node(item, false, false, false);
        }
        self.pop_indent();
    }

    fn expect_block_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.increase_indent(false, false);
        for (key, value) in pairs {
            self.write_indent();
            if Self::check_simple_key(key) {
                self.expect_node(key, false, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.expect_node(key, false, true, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.expect_node(value, false, true, false);
        }
        self.pop_indent();
    }

    fn process_scalar(&mut self, text: &str, implicit: bool) {
        let chars: Vec<char> = text.chars().collect();
        let analysis = analyze_scalar(&chars);
        let style = self.choose_scalar_style(&analysis, implicit);
        let split = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(&chars, split),
            Style::Single => self.write_single_quoted(&chars, split),
            Style::Double => self.write_double_quoted(&chars, split),
        }
    }

    fn choose_scalar_style(&self, analysis: &Analysis, implicit: bool) -> Style {
        if implicit
            && !(self.simple_key_context && (analysis.empty || analysis.multiline))
            && ((self.flow_level > 0 && analysis.allow_flow_plain)
                || (self.flow_level == 0 && analysis.allow_block_plain))
        {
            return Style::Plain;
        }
        if analysis.allow_single_quoted && !(self.simple_key_context && analysis.multiline) {
            return Style::Single;
        }
        Style::Double
    }

    fn write_str(&mut self, chars: &[char]) {
        let data: String = chars.iter().collect();
        self.push(&data);
    }

    fn write_breaks(&mut self, breaks: &[char]) {
        if breaks.first() == Some(&'\n') {
            self.write_line_break(None);
        }
        for &br in breaks {
            self.write_line_break(Some(br));
        }
    }

    fn write_plain(&mut self, text: &[char], split: bool) {
        if text.is_empty() {
            return;
        }
        if !self.whitespace {
            self.push(" ");
        }
        self.whitespace = false;
        self.indention = false;
        let mut spaces = false;
        let mut breaks = false;
        let mut start = 0;
        let mut end = 0;
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end && self.column > self.best_width && split {
                        self.write_indent();
                        self.whitespace = false;
                        self.indention = false;
                    } else {
                        self.write_str(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    self.whitespace = false;
                    self.indention = false;
                    start = end;
                }
            } else if ch.map_or(true, |c| c == ' ' || is_break(c)) {
                self.write_str(&text[start..end]);
                start = end;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
    }

    fn write_single_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut start = 0;
        let mut end = 0;
        while end <= text.len() {
            let ch = text.get(end).copied();
            if spaces {
                if ch != Some(' ') {
                    if start + 1 == end
                        && self.column > self.best_width
                        && split
                        && start != 0
                        && end != text.len()
                    {
                        self.write_indent();
                    } else {
                        self.write_str(&text[start..end]);
                    }
                    start = end;
                }
            } else if breaks {
                if !ch.is_some_and(is_break) {
                    self.write_breaks(&text[start..end]);
                    self.write_indent();
                    start = end;
                }
            } else if ch.map_or(true, |c| c == ' ' || c == '\'' || is_break(c)) && start < end {
                self.write_str(&text[start..end]);
                start = end;
            }
            if ch == Some('\'') {
                self.push("''");
                start = end + 1;
            }
            if let Some(c) = ch {
                spaces = c == ' ';
                breaks = is_break(c);
            }
            end += 1;
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &[char], split: bool) {
        self.write_indicator("\"", true, false, false);
        let mut start = 0;
        let mut end = 0;
        while end <= text.len() {
            let ch = text.get(end).copied();
            let needs_escape = match ch {
                None => true,
                Some(c) => {
                    "\"\\\u{85}\u{2028}\u{2029}\u{FEFF}".contains(c)
                        || !((' '..='~').contains(&c)
                            || ('\u{A0}'..='\u{D7FF}').contains(&c)
                            || ('\u{E000}'..='\u{FFFD}').contains(&c))
                }
            };
            if needs_escape {
                if start < end {
                    self.write_str(&text[start..end]);
                    start = end;
                }
                if let Some(c) = ch {
                    let data = match c {
                        '\0' => "\\0".to_string(),
                        '\x07' => "\\a".to_string(),
                        '\x08' => "\\b".to_string(),
                        '\t' => "\\t".to_string(),
                        '\n' => "\\n".to_string(),
                        '\x0B' => "\\v".to_string(),
                        '\x0C' => "\\f".to_string(),
                        '\r' => "\\r".to_string(),
                        '\x1B' => "\\e".to_string(),
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\u{85}' => "\\N".to_string(),
                        '\u{A0}' => "\\_".to_string(),
                        '\u{2028}' => "\\L".to_string(),
                        '\u{2029}' => "\\P".to_string(),
                        c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                        c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                        c => format!("\\U{:08X}", c as u32),
                    };
                    self.push(&data);
                    start = end + 1;
                }
            }
            if end > 0
                && end + 1 < text.len()
                && (ch == Some(' ') || start >= end)
                && self.column as isize + end as isize - start as isize > self.best_width as isize
                && split
            {
                let mut data: String = text.get(start..end).unwrap_or_default().iter().collect();
                data.push('\\');
                if start < end {
                    start = end;
                }
                self.push(&data);
                self.write_indent();
                self.whitespace = false;
                self.indention = false;
                if text.get(start) == Some(&' ') {
                    self.push("\\");
                }
            }
            end += 1;
        }
        self.write_indicator("\"", false, false, false);
    }
}
