//! Builds [`Node`] trees from yaml-rust2's marked events.

use super::node::{Node, NodeKind};
use super::scalar::resolve_plain;
use crate::diagnostics::{Error, Result, Span};
use crate::vault::{self, Secrets};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Files larger than this are refused: playbooks and vars files are small, and a huge
/// file is almost always a mistake (a binary, a log) that would only waste memory.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Nodes created through aliases are counted so that "billion laughs" documents fail fast.
const MAX_NODES: usize = 2_000_000;
/// Deeper nesting than this is refused, so later recursive walks cannot overflow the stack.
const MAX_DEPTH: usize = 256;

/// Read and parse a YAML file; every document in it is returned. A vault-encrypted file
/// is decrypted first (with the secrets installed by [`crate::vault::install`]), and every
/// string value in it is registered for masking.
pub fn load_file(path: &Path) -> Result<Vec<Node>> {
    let (text, encrypted) = read_source(path)?;
    let docs = load_str(&text, path)?;
    if encrypted {
        docs.iter().for_each(register_strings);
    }
    Ok(docs)
}

/// The text of a YAML (or INI) source file: size-checked, decrypted when it is
/// vault-encrypted, decoded as UTF-8. The flag says whether it was encrypted.
pub fn read_source(path: &Path) -> Result<(String, bool)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io_at(path, &e))?;
    if meta.is_dir() {
        return Err(Error::not_found(format!(
            "{} is a directory, expected a YAML file",
            path.display()
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::syntax(
            format!(
                "file is {} bytes, larger than the {} MiB drover reads",
                meta.len(),
                MAX_FILE_BYTES / 1024 / 1024
            ),
            Span::file(path),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io_at(path, &e))?;
    if vault::is_encrypted(&bytes) {
        let plain = vault::decrypt_file(&bytes, path, vault::installed())?;
        return Ok((decode_utf8(&plain, path)?, true));
    }
    Ok((decode_utf8(&bytes, path)?, false))
}

/// Every string value of a decrypted document is a secret for output purposes.
fn register_strings(node: &Node) {
    match &node.kind {
        NodeKind::Str(s) => vault::register_secret(s),
        NodeKind::Seq(items) => items.iter().for_each(register_strings),
        NodeKind::Map(entries) => entries.iter().for_each(|(_, v)| register_strings(v)),
        _ => {}
    }
}

/// Decode UTF-8 (with or without BOM); an invalid byte is reported with its line.
pub fn decode_utf8(bytes: &[u8], path: &Path) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            if s.contains('\0') {
                let line = s[..s.find('\0').unwrap_or(0)].matches('\n').count() + 1;
                return Err(Error::syntax(
                    "file contains a NUL byte: it looks binary, not YAML",
                    Span::new(Arc::from(path), line as u32, 1),
                ));
            }
            Ok(s.to_string())
        }
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            Err(Error::syntax(
                "file is not valid UTF-8",
                Span::new(Arc::from(path), line as u32, col as u32),
            )
            .with_help("save the file as UTF-8"))
        }
    }
}

/// Parse YAML text; `path` is used for spans only. Inline `!vault` values are decrypted
/// with the installed secrets.
pub fn load_str(text: &str, path: &Path) -> Result<Vec<Node>> {
    load_str_with(text, path, vault::installed())
}

/// [`load_str`] with explicit vault secrets (`None`: an inline `!vault` value is an error).
pub fn load_str_with(text: &str, path: &Path, secrets: Option<&Secrets>) -> Result<Vec<Node>> {
    load(text, path, Some(secrets))
}

/// YAML data as Ansible's `from_yaml` filter reads it (PyYAML's loader without Ansible's
/// playbook tags): anchors, aliases, merge keys and the YAML 1.1 core tags as in a
/// playbook, but a repeated key keeps its last value (Ansible warns, drover's playbook
/// loader refuses) and `!vault`/`!unsafe` are unknown tags. Spans name `<from_yaml>`.
pub fn load_data(text: &str) -> Result<Vec<Node>> {
    load(text, Path::new("<from_yaml>"), None)
}

/// The loader. `playbook` holds the vault secrets when the text is playbook content
/// (`!vault`/`!unsafe` understood, duplicate keys refused); `None` reads plain data.
fn load(text: &str, path: &Path, playbook: Option<Option<&Secrets>>) -> Result<Vec<Node>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file: Arc<Path> = Arc::from(path);
    let mut builder = Builder {
        file: file.clone(),
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        error: None,
        secrets: playbook.flatten(),
        playbook: playbook.is_some(),
    };
    // yaml-rust2's own `load` recurses once per nesting level before our depth limit can
    // stop it (a thousand nested block mappings overflow a thread's stack); its event
    // stream does not, so the tree is built from that.
    let mut parser = Parser::new_from_str(text);
    let parsed = loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break Ok(()),
            // Anchors belong to their document.
            Ok((Event::DocumentStart, _)) => builder.anchors.clear(),
            Ok((ev, mark)) => {
                builder.on_event(ev, mark);
                if builder.error.is_some() {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Some(err) = builder.error {
        return Err(err);
    }
    if let Err(e) = parsed {
        let m = e.marker();
        let info = if e.info().contains("recursion limit") {
            format!("nesting deeper than the parser's limit ({})", e.info())
        } else {
            e.info().to_string()
        };
        return Err(Error::syntax(
            format!("YAML syntax error: {info}"),
            Span::new(file, m.line() as u32, m.col() as u32 + 1),
        )
        .with_help("check indentation and quoting near this position"));
    }
    Ok(builder.docs)
}

enum Frame {
    Seq {
        anchor: usize,
        span: Span,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        span: Span,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        /// Keys that came from `<<` merges: explicit keys may override them.
        merged: Vec<String>,
    },
}

struct Builder<'s> {
    file: Arc<Path>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<Error>,
    secrets: Option<&'s Secrets>,
    /// Playbook content (`!vault`, `!unsafe`, duplicate keys refused), not `from_yaml` data.
    playbook: bool,
}

impl Builder<'_> {
    fn span(&self, mark: Marker) -> Span {
        Span::new(self.file.clone(), mark.line() as u32, mark.col() as u32 + 1)
    }

    fn fail(&mut self, err: Error) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        tag: Option<Tag>,
        span: Span,
    ) -> Result<Node> {
        let quoted = style != TScalarStyle::Plain;
        let kind = match tag {
            None if quoted => NodeKind::Str(text),
            None => resolve_plain(&text),
            Some(tag) => match (core_tag(&tag), tag.handle.as_str(), tag.suffix.as_str()) {
                // The YAML 1.1 core tags, as PyYAML constructs them.
                (Some("str"), ..) => NodeKind::Str(text),
                (Some("int"), ..) => NodeKind::Int(crate::yaml::scalar::parse_int(&text).ok_or_else(
                    || Error::syntax(format!("'{text}' is not an integer (tagged !!int)"), span.clone()).with_help(TAG_HELP),
                )?),
                // `!!float 1` is 1.0 (Python's float() of the text).
                (Some("float"), ..) => NodeKind::Float(
                    crate::yaml::scalar::parse_float(&text)
                        .or_else(|| crate::yaml::scalar::parse_int(&text).map(|i| i as f64))
                        .ok_or_else(|| {
                            Error::syntax(format!("'{text}' is not a float (tagged !!float)"), span.clone()).with_help(TAG_HELP)
                        })?,
                ),
                (Some("bool"), ..) => match resolve_plain(&text) {
                    NodeKind::Bool(b) => NodeKind::Bool(b),
                    _ => {
                        return Err(Error::syntax(
                            format!("'{text}' is not a boolean (tagged !!bool)"),
                            span,
                        )
                        .with_help(TAG_HELP))
                    }
                },
                // PyYAML ignores the text of a `!!null` scalar.
                (Some("null"), ..) => NodeKind::Null,
                (Some("binary"), ..) => {
                    use base64::Engine;
                    let clean: String = text.split_whitespace().collect();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(clean.as_bytes())
                        .map_err(|e| Error::syntax(format!("not base64 (tagged !!binary): {e}"), span.clone()).with_help(TAG_HELP))?;
                    NodeKind::Str(String::from_utf8_lossy(&bytes).into_owned())
                }
                // A timestamp stays its text (drover has no date type).
                (Some("timestamp"), ..) => NodeKind::Str(text),
                // Decrypted at load time; one no password opens stays encrypted and
                // fails where it is used, as in ansible-core 2.19.
                (None, "!", "vault") if self.playbook => match vault::open_inline(&text, &span, self.secrets)? {
                    Some(plain) => NodeKind::Str(plain),
                    None => NodeKind::Vault(text),
                },
                // `!unsafe` marks a string that must never be templated: wrapping it in a
                // raw block gives exactly that under lazy templating.
                (None, "!", "unsafe") if self.playbook => NodeKind::Str(format!("{{% raw %}}{text}{{% endraw %}}")),
                (_, h, s) => {
                    return Err(Error::syntax(format!("unsupported YAML tag '{h}{s}'"), span)
                        .with_help("drover understands !vault, !unsafe and the !!str/!!int/!!float/!!bool/!!null tags"))
                }
            },
        };
        let mut node = Node::new(kind, span);
        node.quoted = quoted;
        Ok(node)
    }

    fn push_value(&mut self, node: Node) -> Result<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error::syntax(
                format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
                node.span,
            ));
        }
        match self.stack.last_mut() {
            None => {
                self.docs.push(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                pending_key,
                merged,
                ..
            }) => match pending_key.take() {
                None => {
                    *pending_key = Some(node);
                    Ok(())
                }
                Some(key) => {
                    if key.as_str() == Some("<<") && !key.quoted {
                        return merge_into(entries, merged, node);
                    }
                    if !self.playbook {
                        replace_entry(entries, key, node);
                        return Ok(());
                    }
                    insert_entry(entries, merged, key, node)
                }
            },
        }
    }
}

fn insert_entry(
    entries: &mut Vec<(Node, Node)>,
    merged: &mut Vec<String>,
    key: Node,
    value: Node,
) -> Result<()> {
    if let Some(text) = key.key_text() {
        if let Some(pos) = entries
            .iter()
            .position(|(k, _)| k.key_text().as_deref() == Some(&text))
        {
            if let Some(m) = merged.iter().position(|m| m == &text) {
                // An explicit key overrides one that came from a `<<` merge.
                merged.remove(m);
                entries[pos] = (key, value);
                return Ok(());
            }
            let first = entries[pos].0.span.line;
            return Err(Error::syntax(
                format!("duplicate key '{text}' (first defined on line {first})"),
                key.span,
            )
            .with_help("remove one of the two; Ansible would silently keep only the last"));
        }
    }
    entries.push((key, value));
    Ok(())
}

/// A Python dict's `d[key] = value`: a repeated key keeps its first place and its last value.
fn replace_entry(entries: &mut Vec<(Node, Node)>, key: Node, value: Node) {
    match entries.iter_mut().find(|(k, _)| k.kind == key.kind) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

fn merge_into(
    entries: &mut Vec<(Node, Node)>,
    merged: &mut Vec<String>,
    value: Node,
) -> Result<()> {
    let sources: Vec<Node> = match value.kind {
        NodeKind::Map(_) => vec![value],
        NodeKind::Seq(items) => items,
        _ => {
            return Err(Error::syntax(
                "a '<<' merge key needs a mapping or a list of mappings",
                value.span,
            ))
        }
    };
    for src in sources {
        let NodeKind::Map(src_entries) = src.kind else {
            return Err(Error::syntax("a '<<' merge key needs mappings", src.span));
        };
        for (k, v) in src_entries {
            let text = k.key_text();
            let exists = entries.iter().any(|(ek, _)| ek.key_text() == text);
            if !exists {
                if let Some(t) = text {
                    merged.push(t);
                }
                entries.push((k, v));
            }
        }
    }
    Ok(())
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let span = self.span(mark);
        let result = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(text, style, tag, span).and_then(|node| {
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push_value(node)
                })
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    self.nodes += count_nodes(&node);
                    self.push_value(node)
                }
                None => Err(Error::syntax("alias refers to an unknown anchor", span)),
            },
            // `!!seq`, `!!map` and `!!set` (a mapping: PyYAML's set of its keys) are
            // the collections themselves.
            // A collection tag that names the other kind: PyYAML's "expected a mapping
            // node, but found sequence".
            Event::SequenceStart(_, Some(ref t)) if matches!(core_tag(t), Some("map" | "set")) => {
                Err(Error::syntax(
                    format!(
                        "a sequence tagged '{}{}' (a mapping tag)",
                        t.handle, t.suffix
                    ),
                    span,
                )
                .with_help(TAG_HELP))
            }
            Event::MappingStart(_, Some(ref t)) if core_tag(t) == Some("seq") => {
                Err(Error::syntax(
                    format!(
                        "a mapping tagged '{}{}' (a sequence tag)",
                        t.handle, t.suffix
                    ),
                    span,
                )
                .with_help(TAG_HELP))
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag)
                if tag
                    .as_ref()
                    .is_some_and(|t| !matches!(core_tag(t), Some("seq" | "map" | "set"))) =>
            {
                let t = tag.unwrap_or_else(|| Tag {
                    handle: String::new(),
                    suffix: String::new(),
                });
                let _ = anchor;
                Err(Error::syntax(
                    format!(
                        "unsupported YAML tag '{}{}' on a collection",
                        t.handle, t.suffix
                    ),
                    span,
                ))
            }
            Event::SequenceStart(anchor, _) => self.open(Frame::Seq {
                anchor,
                span,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.open(Frame::Map {
                anchor,
                span,
                entries: Vec::new(),
                pending_key: None,
                merged: Vec::new(),
            }),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.fail(e);
        }
    }
}

impl Builder<'_> {
    fn open(&mut self, frame: Frame) -> Result<()> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { span, .. } | Frame::Map { span, .. } => span.clone(),
            };
            return Err(Error::syntax(
                format!("nesting deeper than {MAX_DEPTH} levels"),
                span,
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (anchor, node) = match frame {
            Frame::Seq {
                anchor,
                span,
                items,
            } => (anchor, Node::new(NodeKind::Seq(items), span)),
            Frame::Map {
                anchor,
                span,
                entries,
                ..
            } => (anchor, Node::new(NodeKind::Map(entries), span)),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push_value(node)
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// The name of a YAML 1.1 core tag (`!!null`, or `tag:yaml.org,2002:null` as the parser
/// resolves the `!!` handle, or the verbatim `!<tag:yaml.org,2002:null>`); None for any
/// other tag.
/// What to do about a value its YAML tag does not fit.
const TAG_HELP: &str =
    "remove the tag, or write a value of the tagged type (PyYAML, and so Ansible, refuses it too)";

fn core_tag(tag: &Tag) -> Option<&str> {
    const PREFIX: &str = "tag:yaml.org,2002:";
    match tag.handle.as_str() {
        "!!" | PREFIX => Some(tag.suffix.as_str()),
        "" | "!" => tag.suffix.strip_prefix(PREFIX),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Node> {
        load_str(text, Path::new("t.yml")).map(|mut d| d.remove(0))
    }

    #[test]
    fn spans_are_one_based() {
        let doc = parse("a: 1\nb:\n  c: yes\n").unwrap();
        let b = doc.get("b").unwrap();
        let c = b.get("c").unwrap();
        assert_eq!((c.span.line, c.span.col), (3, 6));
        assert_eq!(c.kind, NodeKind::Bool(true));
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let doc = parse("a: 'yes'\nb: \"0644\"\nc: 0644\n").unwrap();
        assert_eq!(doc.get("a").unwrap().kind, NodeKind::Str("yes".into()));
        assert_eq!(doc.get("b").unwrap().kind, NodeKind::Str("0644".into()));
        assert_eq!(doc.get("c").unwrap().kind, NodeKind::Int(420));
    }

    #[test]
    fn duplicate_keys_are_refused_with_location() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate key 'a'"), "{}", err.message);
        let span = err.span.clone().unwrap();
        assert_eq!((span.line, span.col), (3, 1));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = parse("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n").unwrap();
        let d = doc.get("d").unwrap();
        assert_eq!(d.get("x").unwrap().kind, NodeKind::Int(1));
        assert_eq!(d.get("y").unwrap().kind, NodeKind::Int(3));
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.is_some());
        assert!(err.message.starts_with("YAML syntax error"));
    }

    #[test]
    fn yaml_core_tags_as_pyyaml() {
        let doc = parse(
            "n: !!null\nn2: !!null ''\ns: !!str 5\ni: !!int '0x10'\nf: !!float 1\nf2: !!float 1_0.5\nb: !!bool yes\nbin: !!binary aGk=\nl: !!seq [1]\nm: !!map {a: 1}\nv: !<tag:yaml.org,2002:str> 7\n",
        )
        .unwrap();
        let k = |key: &str| doc.get(key).unwrap().kind.clone();
        assert_eq!(k("n"), NodeKind::Null);
        assert_eq!(k("n2"), NodeKind::Null);
        assert_eq!(k("s"), NodeKind::Str("5".into()));
        assert_eq!(k("i"), NodeKind::Int(16));
        assert_eq!(k("f"), NodeKind::Float(1.0));
        assert_eq!(k("f2"), NodeKind::Float(10.5));
        assert_eq!(k("b"), NodeKind::Bool(true));
        assert_eq!(k("bin"), NodeKind::Str("hi".into()));
        assert!(matches!(k("l"), NodeKind::Seq(_)));
        assert!(matches!(k("m"), NodeKind::Map(_)));
        assert_eq!(k("v"), NodeKind::Str("7".into()));
        let err = parse("x: !!int nope\n").unwrap_err();
        assert!(err.message.contains("not an integer"), "{}", err.message);
        assert!(parse("x: !custom 1\n").is_err());
    }

    #[test]
    fn data_reads_anchors_tags_and_repeated_keys_as_pyyaml() {
        let doc = load_data("b: &b {x: 1}\nd: {<<: *b, y: !!str 2}\nx: 1\nx: 2\n").unwrap();
        let d = doc[0].get("d").unwrap();
        assert_eq!(d.get("x").unwrap().kind, NodeKind::Int(1));
        assert_eq!(d.get("y").unwrap().kind, NodeKind::Str("2".into()));
        // The last value, in the first key's place (a Python dict's assignment).
        let keys: Vec<_> = doc[0]
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_text())
            .collect();
        assert_eq!(keys, [Some("b".into()), Some("d".into()), Some("x".into())]);
        assert_eq!(doc[0].get("x").unwrap().kind, NodeKind::Int(2));
        // Playbook tags are not data tags.
        let err = load_data("u: !unsafe x\n").unwrap_err();
        assert!(
            err.message.contains("unsupported YAML tag '!unsafe'"),
            "{}",
            err.message
        );
        // The playbook loader still refuses the repeated key.
        assert!(parse("x: 1\nx: 2\n").is_err());
    }

    #[test]
    fn unsafe_tag() {
        let doc = parse("u: !unsafe '{{ x }}'\n").unwrap();
        assert_eq!(
            doc.get("u").unwrap().as_str(),
            Some("{% raw %}{{ x }}{% endraw %}")
        );
    }

    fn vault_secrets() -> Secrets {
        let pw =
            vault::secrets::VaultSecret::new("default", "test", b"unit-test-pw".to_vec()).unwrap();
        Secrets::new(vec![pw])
    }

    fn vault_doc(plain: &str) -> String {
        let secrets = vault_secrets();
        let secret = secrets.iter().next().unwrap();
        let blob = vault::secrets::encrypt(plain.as_bytes(), secret).unwrap();
        let indented: String = blob.lines().map(|l| format!("  {l}\n")).collect();
        format!("a: 1\ns: !vault |\n{indented}")
    }

    #[test]
    fn inline_vault_is_decrypted_to_a_string() {
        let text = vault_doc("0644-Lw8-unit");
        let doc = load_str_with(&text, Path::new("t.yml"), Some(&vault_secrets())).unwrap();
        let s = doc[0].get("s").unwrap();
        assert_eq!(s.as_str(), Some("0644-Lw8-unit"));
        assert_eq!(vault::mask("x 0644-Lw8-unit"), "x ********");
    }

    /// As in ansible-core 2.19, a value no password opens loads; it fails where it is
    /// used, naming where it was written.
    #[test]
    fn inline_vault_without_password_stays_encrypted() {
        let text = vault_doc("whatever");
        for secrets in [
            None,
            Some(Secrets::new(vec![vault::secrets::VaultSecret::new(
                "default",
                "test",
                b"other".to_vec(),
            )
            .unwrap()])),
        ] {
            let doc = load_str_with(&text, Path::new("t.yml"), secrets.as_ref()).unwrap();
            let value = doc[0].get("s").unwrap().to_value();
            let u = vault::undecryptable::as_undecryptable(&value).expect("kept encrypted");
            assert!(u.ciphertext.starts_with("$ANSIBLE_VAULT;1.1;AES256"));
            // A block scalar is located at its first line: the vault header.
            assert_eq!((u.origin.line, u.origin.col), (3, 3));
            let err = vault::undecryptable::use_error(u).to_string();
            assert!(
                err.contains("undecryptable variable") && err.contains("t.yml:3:3"),
                "{err}"
            );
        }
    }

    #[test]
    fn damaged_inline_vault_is_a_located_error() {
        let text = "a: 1\ns: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  zz-not-hex\n";
        let err = load_str_with(text, Path::new("t.yml"), None).unwrap_err();
        assert!(err.message.contains("vault"), "{}", err.message);
        assert_eq!(err.span.as_ref().unwrap().line, 3);
    }

    /// PyYAML ignores indentation inside flow collections (vendor/yaml-rust2/PATCH.md).
    #[test]
    fn flow_collections_ignore_indentation_as_pyyaml() {
        let doc = parse("k: {\n  \"a\": [\n    1\n]\n}\nz: 2\n").unwrap();
        assert_eq!(doc.to_value().to_string(), r#"{"k": {"a": [1]}, "z": 2}"#);
        let doc = parse("k: {\na: 1,\nb: [x,\ny]\n}\n").unwrap();
        assert_eq!(
            doc.to_value().to_string(),
            r#"{"k": {"a": 1, "b": ["x", "y"]}}"#
        );
        // Block context keeps its checks.
        assert!(parse("a:\n    b: 1\n  c: 2\n").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let block: String = (0..1000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let err = parse(&block).unwrap_err();
        assert!(
            err.message.contains("nesting deeper than 256"),
            "{}",
            err.message
        );
        let err = parse(&"[".repeat(100_000)).unwrap_err();
        assert!(
            err.message.contains("nesting deeper than"),
            "{}",
            err.message
        );
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }
}
