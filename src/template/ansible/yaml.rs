//! A small YAML layer for the `to_yaml`, `to_nice_yaml` and `from_yaml` filters.
//!
//! The emitter is a port of the relevant parts of PyYAML/libyaml's emitter so
//! that output matches Ansible byte for byte: sorted keys, YAML 1.1 quoting of
//! strings that would otherwise resolve to bool/null/number, line folding at
//! 80 columns, `indent` handling and `default_flow_style`.
//!
//! The parser covers the YAML people feed to `from_yaml`: block mappings and
//! sequences, flow collections (and so JSON), plain/quoted scalars, literal and
//! folded block scalars and comments, resolved with YAML 1.1 rules like
//! PyYAML's `SafeLoader`.  Anchors, aliases, tags, complex keys and directives
//! are rejected with a clear error instead of being misread.

use std::sync::OnceLock;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};
use regex::Regex;

fn error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

// ---------------------------------------------------------------------------
// YAML 1.1 implicit resolution (PyYAML's `Resolver`).
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implicit {
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    Merge,
    Value,
    Str,
}

/// The patterns are constants that always compile; `Option` merely keeps
/// the code free of panics.
struct Resolvers {
    bool_re: Option<Regex>,
    int_re: Option<Regex>,
    float_re: Option<Regex>,
    null_re: Option<Regex>,
    timestamp_re: Option<Regex>,
}

fn resolvers() -> &'static Resolvers {
    static RESOLVERS: OnceLock<Resolvers> = OnceLock::new();
    RESOLVERS.get_or_init(|| {
        let build = |re: &str| Regex::new(re).ok();
        Resolvers {
            bool_re: build(
                r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            ),
            int_re: build(
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
            float_re: build(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
            null_re: build(r"^(?:~|null|Null|NULL|)$"),
            timestamp_re: build(
                r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            ),
        }
    })
}

fn resolve(text: &str) -> Implicit {
    let r = resolvers();
    let matches = |re: &Option<Regex>| re.as_ref().is_some_and(|re| re.is_match(text));
    if matches(&r.bool_re) {
        Implicit::Bool
    } else if matches(&r.int_re) {
        Implicit::Int
    } else if matches(&r.float_re) {
        Implicit::Float
    } else if matches(&r.null_re) {
        Implicit::Null
    } else if matches(&r.timestamp_re) {
        Implicit::Timestamp
    } else if text == "<<" {
        Implicit::Merge
    } else if text == "=" {
        Implicit::Value
    } else {
        Implicit::Str
    }
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

/// Formats a float like Python's `repr()`.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    if (-4..16).contains(&exp) {
        let fixed = format!("{f}");
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
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
        let repr = py_float_repr(f).to_lowercase();
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

/// Orders keys like Python's `sorted()` would: all-strings or all-numbers are
/// sorted, anything mixed keeps its original order (PyYAML swallows the
/// `TypeError` the same way).
pub(crate) fn sort_pairs(pairs: &mut [(Value, Value)]) {
    if pairs.iter().all(|(k, _)| k.kind() == ValueKind::String) {
        pairs.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
    } else if pairs
        .iter()
        .all(|(k, _)| matches!(k.kind(), ValueKind::Number | ValueKind::Bool))
    {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

/// Collects the key/value pairs of a map-like value.
pub(crate) fn map_pairs(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    let mut pairs = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        pairs.push((key, item));
    }
    Ok(pairs)
}

fn represent(value: &Value, opts: &DumpOptions, filter: &str) -> Result<Node, Error> {
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
            let implicit = resolve(&text) == Implicit::Str;
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
            let mut pairs = map_pairs(value)?;
            if opts.sort_keys {
                sort_pairs(&mut pairs);
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

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// YAML whitespace (a non-breaking space is content, not whitespace).
const WS: [char; 2] = [' ', '\t'];

/// Parses a YAML document (see the module docs for the supported subset).
pub fn parse(src: &str) -> Result<Value, Error> {
    let docs = parse_all(src)?;
    Ok(docs.into_iter().next().unwrap_or(Value::from(())))
}

/// Parses every document of a YAML stream.
pub fn parse_all(src: &str) -> Result<Vec<Value>, Error> {
    let mut docs = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut seen_content = false;
    for raw in src.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed_end = line.trim_end_matches(WS);
        if trimmed_end == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
            if seen_content || !current.iter().all(|l| is_blank_or_comment(l)) {
                docs.push(std::mem::take(&mut current));
            } else {
                current.clear();
            }
            seen_content = true;
            let rest = line.get(3..).unwrap_or("").trim_start_matches(WS);
            if !rest.is_empty() && !rest.starts_with('#') {
                current.push(format!("    {rest}"));
            }
            continue;
        }
        if trimmed_end == "..." {
            docs.push(std::mem::take(&mut current));
            seen_content = false;
            continue;
        }
        if line.starts_with('%') && current.iter().all(|l| is_blank_or_comment(l)) {
            return Err(error(
                "from_yaml: YAML directives (%YAML/%TAG) are not supported",
            ));
        }
        current.push(line.to_string());
    }
    if seen_content || !current.iter().all(|l| is_blank_or_comment(l)) {
        docs.push(current);
    }
    docs.into_iter()
        .map(|lines| {
            let mut parser = Parser {
                lines,
                pos: 0,
                depth: 0,
            };
            parser.parse_document()
        })
        .collect()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches(WS);
    t.is_empty() || t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

struct Parser {
    lines: Vec<String>,
    pos: usize,
    depth: usize,
}

/// Nesting limit that keeps hostile input from overflowing the stack.
const MAX_DEPTH: usize = 200;

impl Parser {
    fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && is_blank_or_comment(&self.lines[self.pos]) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<(usize, String)> {
        self.skip_blank();
        self.lines
            .get(self.pos)
            .map(|line| (indent_of(line), line.trim_start_matches(' ').to_string()))
    }

    fn line_no(&self) -> usize {
        self.pos + 1
    }

    fn parse_document(&mut self) -> Result<Value, Error> {
        let value = match self.peek() {
            None => return Ok(Value::from(())),
            Some((indent, _)) => self.parse_block(indent)?,
        };
        if let Some((_, rest)) = self.peek() {
            return Err(error(format!(
                "from_yaml: unexpected content at line {}: {rest:?}",
                self.line_no()
            )));
        }
        Ok(value)
    }

    /// Parses the block node whose first line is the next non-blank line, which
    /// is known to be indented by `indent`.
    fn parse_block(&mut self, indent: usize) -> Result<Value, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(error(format!(
                "from_yaml: document is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let rv = self.parse_block_inner(indent);
        self.depth -= 1;
        rv
    }

    fn parse_block_inner(&mut self, indent: usize) -> Result<Value, Error> {
        let Some((_, content)) = self.peek() else {
            return Ok(Value::from(()));
        };
        if content == "-" || content.starts_with("- ") || content.starts_with("-\t") {
            return self.parse_sequence(indent);
        }
        let complex_key = content == "?" || content.starts_with("? ") || content.starts_with("?\t");
        if complex_key || find_mapping_colon(&content)?.is_some() {
            return self.parse_mapping(indent);
        }
        // a lone scalar / flow collection spanning possibly several lines
        self.pos += 1;
        let parent = indent.checked_sub(1);
        self.parse_inline_value(&content, parent)
    }

    fn parse_sequence(&mut self, indent: usize) -> Result<Value, Error> {
        let mut items = Vec::new();
        while let Some((line_indent, content)) = self.peek() {
            if line_indent != indent
                || !(content == "-" || content.starts_with("- ") || content.starts_with("-\t"))
            {
                if line_indent > indent {
                    return Err(error(format!(
                        "from_yaml: bad indentation of a sequence entry at line {}",
                        self.line_no()
                    )));
                }
                break;
            }
            let rest = content.get(1..).unwrap_or("");
            let rest_trimmed = rest.trim_start_matches(WS);
            if rest_trimmed.is_empty() || rest_trimmed.starts_with('#') {
                self.pos += 1;
                match self.peek() {
                    Some((child, _)) if child > indent => items.push(self.parse_block(child)?),
                    _ => items.push(Value::from(())),
                }
            } else {
                // Re-read the remainder as if it started its own line at the
                // column after "- ", so nested mappings/sequences line up.
                let column = indent + 1 + (rest.len() - rest_trimmed.len());
                if let Some(line) = self.lines.get_mut(self.pos) {
                    *line = format!("{}{}", " ".repeat(column), rest_trimmed);
                }
                items.push(self.parse_block(column)?);
            }
        }
        Ok(Value::from(items))
    }

    fn parse_mapping(&mut self, indent: usize) -> Result<Value, Error> {
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        while let Some((line_indent, content)) = self.peek() {
            if line_indent != indent {
                if line_indent > indent {
                    return Err(error(format!(
                        "from_yaml: bad indentation of a mapping entry at line {}",
                        self.line_no()
                    )));
                }
                break;
            }
            if content == "?" || content.starts_with("? ") || content.starts_with("?\t") {
                let (key, value) = self.parse_complex_entry(indent, &content)?;
                upsert(&mut pairs, key, value);
                continue;
            }
            let Some(colon) = find_mapping_colon(&content)? else {
                return Err(error(format!(
                    "from_yaml: expected a 'key: value' entry at line {}, got {content:?}",
                    self.line_no()
                )));
            };
            let key_text = content.get(..colon).unwrap_or("").trim_end_matches(WS);
            let key = parse_key(key_text)?;
            let rest = content
                .get(colon + 1..)
                .unwrap_or("")
                .trim_start_matches(WS);
            self.pos += 1;
            let value = if rest.is_empty() || rest.starts_with('#') {
                match self.peek() {
                    Some((child, _)) if child > indent => self.parse_block(child)?,
                    Some((child, c))
                        if child == indent
                            && (c == "-" || c.starts_with("- ") || c.starts_with("-\t")) =>
                    {
                        self.parse_sequence(indent)?
                    }
                    _ => Value::from(()),
                }
            } else {
                self.parse_inline_value(rest, Some(indent))?
            };
            upsert(&mut pairs, key, value);
        }
        Ok(Value::from_iter(pairs))
    }

    /// Parses the node that starts after an indicator (`? `, `: `) at column
    /// `indent` on the current line, or on the following deeper lines.
    fn parse_after_indicator(&mut self, indent: usize, content: &str) -> Result<Value, Error> {
        let rest = content.get(1..).unwrap_or("");
        let rest_trimmed = rest.trim_start_matches(WS);
        if rest_trimmed.is_empty() || rest_trimmed.starts_with('#') {
            self.pos += 1;
            return match self.peek() {
                Some((child, _)) if child > indent => self.parse_block(child),
                _ => Ok(Value::from(())),
            };
        }
        let column = indent + 1 + (rest.len() - rest_trimmed.len());
        if let Some(line) = self.lines.get_mut(self.pos) {
            *line = format!("{}{}", " ".repeat(column), rest_trimmed);
        }
        self.parse_block(column)
    }

    /// Parses a `? key` / `: value` entry of a block mapping.
    fn parse_complex_entry(
        &mut self,
        indent: usize,
        content: &str,
    ) -> Result<(Value, Value), Error> {
        let key = self.parse_after_indicator(indent, content)?;
        let value = match self.peek() {
            Some((i, c))
                if i == indent && (c == ":" || c.starts_with(": ") || c.starts_with(":\t")) =>
            {
                self.parse_after_indicator(indent, &c)?
            }
            _ => Value::from(()),
        };
        Ok((key, value))
    }

    /// Parses a value that starts inline (after `key:` or `- `, or a lone
    /// scalar).  `parent` is the indentation of the owning block, continuation
    /// lines must be indented deeper.
    fn parse_inline_value(&mut self, text: &str, parent: Option<usize>) -> Result<Value, Error> {
        let min_indent = parent.map_or(0, |p| p + 1);
        let first = text.chars().next().unwrap_or(' ');
        match first {
            '&' => Err(error("from_yaml: anchors (&name) are not supported")),
            '*' => Err(error("from_yaml: aliases (*name) are not supported")),
            '!' => Err(error("from_yaml: tags (!tag) are not supported")),
            '|' | '>' => self.parse_block_scalar(text, parent),
            '[' | '{' | '"' | '\'' => {
                // Gather lines until brackets and quotes balance, then parse
                // once (re-parsing after every line would be quadratic).
                let mut buf = text.to_string();
                let mut scan = FlowScan::default();
                scan.feed(text);
                while !scan.complete() {
                    let Some(line) = self.lines.get(self.pos) else {
                        break;
                    };
                    scan.feed(line);
                    buf.push('\n');
                    buf.push_str(line);
                    self.pos += 1;
                }
                match FlowParser::new(&buf).parse_complete() {
                    Ok(value) => Ok(value),
                    Err(FlowError::Incomplete) => Err(error(format!(
                        "from_yaml: unterminated flow collection or quoted string starting with {:?}",
                        truncate(text)
                    ))),
                    Err(FlowError::Invalid(msg)) => Err(error(format!("from_yaml: {msg}"))),
                }
            }
            _ => {
                // multi-line plain scalar: fold continuation lines
                let mut value = strip_comment(text).trim_end_matches(WS).to_string();
                while let Some(line) = self.lines.get(self.pos) {
                    if is_blank_or_comment(line) {
                        // blank lines inside a plain scalar become newlines if
                        // more continuation follows; a comment ends the scalar
                        let mut look = self.pos;
                        while look < self.lines.len()
                            && self.lines[look].trim_matches(WS).is_empty()
                        {
                            look += 1;
                        }
                        match self.lines.get(look) {
                            Some(l)
                                if !is_blank_or_comment(l)
                                    && indent_of(l) >= min_indent
                                    && parent.is_some()
                                    && look > self.pos =>
                            {
                                let blanks = look - self.pos;
                                value.push_str(&"\n".repeat(blanks));
                                self.pos = look;
                                let l = self.lines[self.pos].trim_matches(WS).to_string();
                                value.push_str(strip_comment(&l).trim_end_matches(WS));
                                self.pos += 1;
                                continue;
                            }
                            _ => break,
                        }
                    }
                    if indent_of(line) < min_indent || parent.is_none() && indent_of(line) == 0 {
                        break;
                    }
                    let trimmed = line.trim_matches(WS);
                    if find_mapping_colon(trimmed)?.is_some() || trimmed.starts_with("- ") {
                        break;
                    }
                    value.push(' ');
                    value.push_str(strip_comment(trimmed).trim_end_matches(WS));
                    self.pos += 1;
                }
                Ok(resolve_plain(&value))
            }
        }
    }

    fn parse_block_scalar(&mut self, header: &str, parent: Option<usize>) -> Result<Value, Error> {
        let literal = header.starts_with('|');
        let mut chomp = ' ';
        let mut explicit_indent = None;
        for c in strip_comment(header).trim_end_matches(WS).chars().skip(1) {
            match c {
                '+' | '-' => chomp = c,
                '1'..='9' => explicit_indent = c.to_digit(10).map(|d| d as usize),
                _ => {
                    return Err(error(format!(
                        "from_yaml: invalid block scalar header {header:?}"
                    )))
                }
            }
        }
        let parent_indent = parent.map_or(0, |p| p);
        let mut block_indent = explicit_indent.map(|i| parent_indent + i);
        let mut raw: Vec<String> = Vec::new();
        while let Some(line) = self.lines.get(self.pos) {
            if line.trim_matches(WS).is_empty() {
                raw.push(String::new());
                self.pos += 1;
                continue;
            }
            let ind = indent_of(line);
            let needed = match block_indent {
                Some(b) => b,
                None => {
                    if parent.is_some() && ind <= parent_indent {
                        break;
                    }
                    block_indent = Some(ind);
                    ind
                }
            };
            if ind < needed {
                break;
            }
            raw.push(line.get(needed..).unwrap_or("").to_string());
            self.pos += 1;
        }
        // trailing blank lines belong to the chomping logic
        let trailing_blank = raw.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &raw[..raw.len() - trailing_blank];
        let mut text = String::new();
        if literal {
            for line in content {
                text.push_str(line);
                text.push('\n');
            }
        } else {
            let mut prev_more_indented = false;
            for (i, line) in content.iter().enumerate() {
                let more_indented = line.starts_with(' ') || line.starts_with('\t');
                if i > 0 {
                    let prev_empty = content.get(i - 1).is_some_and(|l| l.is_empty());
                    if line.is_empty() || more_indented || prev_more_indented {
                        text.push('\n');
                    } else if !prev_empty {
                        text.push(' ');
                    }
                }
                text.push_str(line);
                prev_more_indented = more_indented;
            }
            if !content.is_empty() {
                text.push('\n');
            }
        }
        match chomp {
            '-' => {
                while text.ends_with('\n') {
                    text.pop();
                }
            }
            '+' => text.push_str(&"\n".repeat(trailing_blank)),
            _ => {}
        }
        Ok(Value::from(text))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Removes a trailing ` # comment` from a plain scalar.
fn strip_comment(s: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in s.char_indices() {
        if c == '#' && prev_space {
            return s.get(..i).unwrap_or(s);
        }
        prev_space = c == ' ' || c == '\t';
    }
    s
}

/// Finds the byte offset of the `:` separating a block mapping key from its
/// value, skipping quoted keys.  Returns `None` when the line is no mapping
/// entry.
fn find_mapping_colon(line: &str) -> Result<Option<usize>, Error> {
    let bytes = line.as_bytes();
    let mut i = 0;
    match bytes.first() {
        Some(b'"') | Some(b'\'') => {
            let quote = bytes[0];
            i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\\' && quote == b'"' {
                    i += 2;
                    continue;
                }
                if bytes[i] == quote {
                    if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            return Ok(
                if bytes.get(i) == Some(&b':')
                    && bytes.get(i + 1).map_or(true, |b| *b == b' ' || *b == b'\t')
                {
                    Some(i)
                } else {
                    None
                },
            );
        }
        Some(b'[') | Some(b'{') => return Ok(None),
        _ => {}
    }
    let mut prev_space = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' && prev_space {
            return Ok(None);
        }
        if b == b':' && bytes.get(i + 1).map_or(true, |n| *n == b' ' || *n == b'\t') {
            return Ok(Some(i));
        }
        prev_space = b == b' ' || b == b'\t';
        i += 1;
    }
    Ok(None)
}

fn parse_key(text: &str) -> Result<Value, Error> {
    match text.chars().next() {
        Some('"') | Some('\'') | Some('[') | Some('{') => {
            FlowParser::new(text).parse_complete().map_err(|e| match e {
                FlowError::Incomplete => error(format!("from_yaml: unterminated key {text:?}")),
                FlowError::Invalid(msg) => error(format!("from_yaml: {msg}")),
            })
        }
        Some('&') | Some('*') | Some('!') => Err(error(format!(
            "from_yaml: anchors, aliases and tags are not supported (key {text:?})"
        ))),
        _ => Ok(resolve_plain(text)),
    }
}

/// Turns a plain scalar into a value following YAML 1.1 (PyYAML SafeLoader).
pub(crate) fn resolve_plain(text: &str) -> Value {
    match resolve(text) {
        Implicit::Null => Value::from(()),
        Implicit::Bool => Value::from(matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "true" | "on"
        )),
        Implicit::Int => parse_yaml_int(text).unwrap_or_else(|| Value::from(text)),
        Implicit::Float => parse_yaml_float(text).unwrap_or_else(|| Value::from(text)),
        _ => Value::from(text),
    }
}

fn parse_yaml_int(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, cleaned.trim_start_matches('+').to_string()),
    };
    let magnitude: i128 = if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.contains(':') {
        let mut acc: i128 = 0;
        for part in digits.split(':') {
            acc = acc
                .checked_mul(60)?
                .checked_add(part.parse::<i128>().ok()?)?;
        }
        acc
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(Value::from(if neg { -magnitude } else { magnitude }))
}

fn parse_yaml_float(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    let f = match lower.as_str() {
        ".nan" => f64::NAN,
        ".inf" | "+.inf" => f64::INFINITY,
        "-.inf" => f64::NEG_INFINITY,
        _ if lower.contains(':') => {
            let (neg, body) = match lower.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, lower.trim_start_matches('+')),
            };
            let mut acc = 0.0;
            for part in body.split(':') {
                acc = acc * 60.0 + part.parse::<f64>().ok()?;
            }
            if neg {
                -acc
            } else {
                acc
            }
        }
        _ => lower.parse::<f64>().ok()?,
    };
    Some(Value::from(f))
}

enum FlowError {
    Incomplete,
    Invalid(String),
}

/// Recursive-descent parser for flow collections and quoted scalars (a
/// superset of JSON).
struct FlowParser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl FlowParser {
    fn new(text: &str) -> Self {
        FlowParser {
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    fn parse_complete(mut self) -> Result<Value, FlowError> {
        let value = self.parse_node(false)?;
        self.skip_ws();
        if self.pos < self.chars.len() {
            let rest: String = self.chars[self.pos..].iter().take(40).collect();
            return Err(FlowError::Invalid(format!(
                "unexpected text after value: {rest:?}"
            )));
        }
        Ok(value)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Skips whitespace, line breaks and comments between flow tokens.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else if is_yaml_space(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn parse_node(&mut self, in_flow: bool) -> Result<Value, FlowError> {
        if self.depth >= MAX_DEPTH {
            return Err(FlowError::Invalid(format!(
                "document is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let rv = self.parse_node_inner(in_flow);
        self.depth -= 1;
        rv
    }

    fn parse_node_inner(&mut self, in_flow: bool) -> Result<Value, FlowError> {
        self.skip_ws();
        match self.peek() {
            None => Err(FlowError::Incomplete),
            Some('[') => self.parse_seq(),
            Some('{') => self.parse_map(),
            Some('"') => self.parse_double().map(Value::from),
            Some('\'') => self.parse_single().map(Value::from),
            Some('&') | Some('*') | Some('!') => Err(FlowError::Invalid(
                "anchors, aliases and tags are not supported".into(),
            )),
            Some(_) => self.parse_plain(in_flow).map(|s| resolve_plain(&s)),
        }
    }

    fn parse_seq(&mut self) -> Result<Value, FlowError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(FlowError::Incomplete),
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::from(items));
                }
                _ => {}
            }
            let item = self.parse_node(true)?;
            self.skip_ws();
            // single-pair mapping inside a flow sequence: [a: 1]
            if self.peek() == Some(':') {
                self.pos += 1;
                let value = self.parse_node(true)?;
                items.push(Value::from_iter([(item, value)]));
                self.skip_ws();
            } else {
                items.push(item);
            }
            match self.peek() {
                None => return Err(FlowError::Incomplete),
                Some(',') => self.pos += 1,
                Some(']') => {}
                Some(c) => {
                    return Err(FlowError::Invalid(format!(
                        "expected ',' or ']' in flow sequence, found {c:?}"
                    )))
                }
            }
        }
    }

    fn parse_map(&mut self) -> Result<Value, FlowError> {
        self.pos += 1;
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(FlowError::Incomplete),
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::from_iter(pairs));
                }
                _ => {}
            }
            if self.peek() == Some('?')
                && self
                    .chars
                    .get(self.pos + 1)
                    .map_or(true, |c| is_yaml_space(*c))
            {
                self.pos += 1;
            }
            let key = self.parse_node(true)?;
            self.skip_ws();
            let value = if self.peek() == Some(':') {
                self.pos += 1;
                self.skip_ws();
                if matches!(self.peek(), Some(',') | Some('}')) {
                    Value::from(())
                } else {
                    self.parse_node(true)?
                }
            } else {
                Value::from(())
            };
            upsert(&mut pairs, key, value);
            self.skip_ws();
            match self.peek() {
                None => return Err(FlowError::Incomplete),
                Some(',') => self.pos += 1,
                Some('}') => {}
                Some(c) => {
                    return Err(FlowError::Invalid(format!(
                        "expected ',' or '}}' in flow mapping, found {c:?}"
                    )))
                }
            }
        }
    }

    fn parse_plain(&mut self, in_flow: bool) -> Result<String, FlowError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if in_flow && matches!(c, ',' | '[' | ']' | '{' | '}') {
                break;
            }
            if c == ':' {
                let next = self.chars.get(self.pos + 1).copied();
                if next.map_or(true, |n| {
                    is_yaml_space(n) || (in_flow && matches!(n, ',' | ']' | '}'))
                }) {
                    break;
                }
            }
            if c == '#' && self.pos > start && is_yaml_space(self.chars[self.pos - 1]) {
                break;
            }
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        // fold line breaks inside multi-line plain scalars
        let folded = raw
            .split('\n')
            .map(|l| l.trim_matches(WS))
            .collect::<Vec<_>>()
            .join(" ");
        Ok(folded.trim_matches(WS).to_string())
    }

    fn parse_single(&mut self) -> Result<String, FlowError> {
        self.pos += 1;
        let mut raw = String::new();
        loop {
            match self.peek() {
                None => return Err(FlowError::Incomplete),
                Some('\'') => {
                    if self.chars.get(self.pos + 1) == Some(&'\'') {
                        raw.push('\'');
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        return Ok(fold_quoted(&raw));
                    }
                }
                Some(c) => {
                    raw.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn parse_double(&mut self) -> Result<String, FlowError> {
        self.pos += 1;
        let mut out = String::new();
        let mut segment = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(FlowError::Incomplete);
            };
            self.pos += 1;
            match c {
                '"' => {
                    out.push_str(&fold_quoted(&segment));
                    return Ok(out);
                }
                '\\' => {
                    out.push_str(&fold_quoted(&segment));
                    segment.clear();
                    let Some(e) = self.peek() else {
                        return Err(FlowError::Incomplete);
                    };
                    self.pos += 1;
                    let simple = match e {
                        '0' => Some('\0'),
                        'a' => Some('\x07'),
                        'b' => Some('\x08'),
                        't' | '\t' => Some('\t'),
                        'n' => Some('\n'),
                        'v' => Some('\x0B'),
                        'f' => Some('\x0C'),
                        'r' => Some('\r'),
                        'e' => Some('\x1B'),
                        ' ' => Some(' '),
                        '"' => Some('"'),
                        '/' => Some('/'),
                        '\\' => Some('\\'),
                        'N' => Some('\u{85}'),
                        '_' => Some('\u{A0}'),
                        'L' => Some('\u{2028}'),
                        'P' => Some('\u{2029}'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        continue;
                    }
                    let width = match e {
                        'x' => 2,
                        'u' => 4,
                        'U' => 8,
                        '\n' => {
                            // escaped line break: join without space
                            while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
                                self.pos += 1;
                            }
                            continue;
                        }
                        other => {
                            return Err(FlowError::Invalid(format!(
                                "invalid escape '\\{other}' in double-quoted string"
                            )))
                        }
                    };
                    let hex: String = self.chars.iter().skip(self.pos).take(width).collect();
                    self.pos += width;
                    let ch = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| {
                            FlowError::Invalid(format!("invalid escape '\\{e}{hex}'"))
                        })?;
                    out.push(ch);
                }
                other => segment.push(other),
            }
        }
    }
}

/// Applies YAML line folding to the raw text of a quoted scalar: a single
/// line break becomes a space, `n` consecutive breaks become `n - 1` newlines,
/// and whitespace around breaks is dropped.
fn fold_quoted(raw: &str) -> String {
    if !raw.contains('\n') {
        return raw.to_string();
    }
    let lines: Vec<&str> = raw.split('\n').collect();
    let mut out = String::new();
    let last = lines.len() - 1;
    let mut pending_breaks = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let mut part: &str = line;
        if i > 0 {
            part = part.trim_start_matches([' ', '\t']);
        }
        if i < last {
            part = part.trim_end_matches([' ', '\t']);
        }
        if i > 0 && i < last && part.is_empty() {
            pending_breaks += 1;
            continue;
        }
        if i > 0 {
            if pending_breaks == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(pending_breaks));
            }
            pending_breaks = 0;
        }
        out.push_str(part);
    }
    out
}

fn upsert(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = pairs.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        pairs.push((key, value));
    }
}

/// Whitespace and line breaks as YAML sees them (not Unicode spaces).
fn is_yaml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Incremental scanner that tells when a flow collection or quoted scalar
/// spanning several lines is closed.
#[derive(Default)]
struct FlowScan {
    depth: i64,
    quote: Option<char>,
    escape: bool,
    started: bool,
}

impl FlowScan {
    fn feed(&mut self, line: &str) {
        let mut prev_space = true;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match self.quote {
                Some('"') if self.escape => self.escape = false,
                Some('"') if c == '\\' => self.escape = true,
                Some(q) if c == q => {
                    if q == '\'' && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        self.quote = None;
                    }
                }
                Some(_) => {}
                None => match c {
                    '#' if prev_space => break,
                    '"' | '\'' => {
                        self.quote = Some(c);
                        self.started = true;
                    }
                    '[' | '{' => {
                        self.depth += 1;
                        self.started = true;
                    }
                    ']' | '}' => self.depth -= 1,
                    _ => {}
                },
            }
            prev_space = is_yaml_space(c);
        }
    }

    fn complete(&self) -> bool {
        self.started && self.depth <= 0 && self.quote.is_none()
    }
}
