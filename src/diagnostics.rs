//! Errors that point at their source.
//!
//! Every error a user can cause carries a [`Span`] (file, line, column) when one is
//! known, plus the host and task it happened on. Errors are built as values inside the
//! engine and rendered exactly once, at the edge, by [`render`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A position in a source file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file (shared: every node of a document points at it).
    pub file: Arc<Path>,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl Span {
    /// A position in `file`.
    pub fn new(file: Arc<Path>, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }

    /// A span naming only a file (line 1, column 1), for whole-file problems.
    pub fn file(file: &Path) -> Self {
        Span {
            file: Arc::from(file),
            line: 1,
            col: 1,
        }
    }

    /// Does this name a real place (a file and a line)?
    pub fn is_known(&self) -> bool {
        self.line > 0 && !self.file.as_os_str().is_empty()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// The broad class of an error, used for exit codes and for the differential suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed YAML, INI or JSON.
    Syntax,
    /// Well-formed input that drover refuses (unknown key, wrong type, unsupported feature).
    Invalid,
    /// A template failed to compile or render, or a variable is undefined.
    Template,
    /// A file, role or template that was named does not exist.
    NotFound,
    /// A module failed on a host.
    Module,
    /// The host could not be reached.
    Unreachable,
    /// Local I/O and everything else.
    Io,
}

/// The one error type of the engine: boxed, so that a `Result` stays one pointer wide on
/// the success path (the data lives in [`ErrorData`], reached through `Deref`).
#[derive(Clone, Debug)]
pub struct Error(Box<ErrorData>);

/// What an [`Error`] carries.
#[derive(Clone, Debug)]
pub struct ErrorData {
    /// The broad class (exit codes, the differential suite).
    pub kind: ErrorKind,
    /// What went wrong, in words.
    pub message: String,
    /// Where, in a source file.
    pub span: Option<Span>,
    /// What to do about it.
    pub help: Option<String>,
    /// The host it happened on.
    pub host: Option<String>,
    /// The task it happened in.
    pub task: Option<String>,
    /// Keys a failed module reports beside `msg` (include_vars's `message`, the file
    /// module's `path` and its attributes).
    pub result_keys: Vec<(String, serde_json::Value)>,
    /// The underlying error (I/O, libssh2), kept for `std::error::Error::source`.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl std::ops::Deref for Error {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// drover's result: its [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with its message and nothing else yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorData {
            kind,
            message: message.into(),
            span: None,
            help: None,
            host: None,
            task: None,
            result_keys: Vec::new(),
            source: None,
        }))
    }

    /// Keep `cause` as this error's source (the message already says what it means).
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(cause));
        self
    }

    /// The same error with another message (location, host, task and source kept).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// A key of the failed task's result beside `msg`.
    pub fn with_result_key(self, key: &str, value: impl Into<String>) -> Self {
        self.with_result_value(key, serde_json::Value::String(value.into()))
    }

    /// A key of the failed task's result with any value; a later one replaces an earlier.
    pub fn with_result_value(mut self, key: &str, value: serde_json::Value) -> Self {
        self.result_keys.retain(|(k, _)| k != key);
        self.result_keys.push((key.to_string(), value));
        self
    }

    /// Malformed YAML, INI or JSON at `span`.
    pub fn syntax(message: impl Into<String>, span: Span) -> Self {
        Error::new(ErrorKind::Syntax, message).at(span)
    }

    /// Well-formed input drover refuses (unknown key, wrong type, unsupported feature) at `span`.
    pub fn invalid(message: impl Into<String>, span: &Span) -> Self {
        Error::new(ErrorKind::Invalid, message).at(span.clone())
    }

    /// A template failed to compile or render, or a variable is undefined.
    pub fn template(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Template, message)
    }

    /// A file, role or template that was named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Local I/O, and everything that fits no other kind.
    pub fn io(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Io, message)
    }

    /// A module that failed on its host (the task's `msg`).
    pub fn module(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Module, message)
    }

    /// Attach a span unless a more precise one is already known.
    pub fn at(mut self, span: Span) -> Self {
        if self.span.is_none() && span.is_known() {
            self.span = Some(span);
        }
        self
    }

    /// [`Error::at`] when a span is known.
    pub fn at_opt(self, span: Option<&Span>) -> Self {
        match span {
            Some(s) => self.at(s.clone()),
            None => self,
        }
    }

    /// What to do about it, printed after the message (unless help is already set).
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        if self.help.is_none() {
            self.help = Some(help.into());
        }
        self
    }

    /// The host it happened on (unless already set).
    pub fn on_host(mut self, host: &str) -> Self {
        if self.host.is_none() {
            self.host = Some(host.to_string());
        }
        self
    }

    /// The task it happened in (unless already set).
    pub fn in_task(mut self, task: &str) -> Self {
        if self.task.is_none() {
            self.task = Some(task.to_string());
        }
        self
    }

    /// An I/O error on `path`, located at the file.
    pub fn io_at(path: &Path, err: &std::io::Error) -> Self {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        let cause = std::io::Error::new(err.kind(), err.to_string());
        Error::new(kind, format!("cannot read {}: {}", path.display(), err)).caused_by(cause)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = &self.span {
            write!(f, "{span}: ")?;
        }
        if let Some(host) = &self.host {
            write!(f, "[{host}] ")?;
        }
        if let Some(task) = &self.task {
            write!(f, "task '{task}': ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Render an error for a person: the location, the message, the offending source line
/// with a caret, and the help text.
pub fn render(err: &Error, color: bool) -> String {
    let (red, bold, blue, reset) = if color {
        ("\x1b[31;1m", "\x1b[1m", "\x1b[34m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut out = format!("{red}error{reset}{bold}: {}{reset}\n", err.message);
    if let Some(span) = &err.span {
        out.push_str(&format!("  {blue}-->{reset} {span}\n"));
        if let Some(line) = source_line(&span.file, span.line) {
            let num = span.line.to_string();
            let pad = " ".repeat(num.len());
            let caret_pad: String = line
                .chars()
                .take(span.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("  {pad} {blue}|{reset}\n"));
            out.push_str(&format!("  {blue}{num} |{reset} {line}\n"));
            out.push_str(&format!(
                "  {pad} {blue}|{reset} {caret_pad}{red}^{reset}\n"
            ));
        }
    }
    if let Some(host) = &err.host {
        out.push_str(&format!("  = host: {host}\n"));
    }
    if let Some(task) = &err.task {
        out.push_str(&format!("  = task: {task}\n"));
    }
    if let Some(help) = &err.help {
        out.push_str(&format!("  = help: {help}\n"));
    }
    // Error text can quote decrypted values (a failed task's message, a template error):
    // mask them here, the one place errors become text.
    crate::vault::mask(&out).into_owned()
}

fn source_line(file: &Path, line: u32) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    if crate::vault::is_encrypted(&bytes) {
        // The span refers to the decrypted text; the file on disk is ciphertext.
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    let l = text.lines().nth(line.checked_sub(1)? as usize)?;
    // Long lines (minified JSON, binary junk) are cut so the report stays readable.
    Some(l.chars().take(200).collect())
}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A path as spans share it.
pub fn path_arc(p: &Path) -> Arc<Path> {
    Arc::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("dset", ["dest", "src", "mode"]), Some("dest"));
        assert_eq!(did_you_mean("zzzzzz", ["dest", "src"]), None);
    }

    #[test]
    fn io_errors_keep_their_cause_and_stay_small() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Error::io_at(Path::new("/etc/x"), &io);
        assert_eq!(e.kind, ErrorKind::Io);
        let cause = e.source().expect("the I/O error is kept as the source");
        assert_eq!(cause.to_string(), "denied");
        let e = Error::module("cannot connect").caused_by(io);
        assert!(e.source().is_some());
        // Boxed: a Result<(), Error> is one pointer wide.
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn render_masks_decrypted_vault_values() {
        crate::vault::register_secret("Rnd3r-unit-secret");
        let e = Error::module("task failed: password Rnd3r-unit-secret refused");
        let text = render(&e, false);
        assert!(!text.contains("Rnd3r-unit-secret"), "{text}");
        assert!(text.contains("password ******** refused"), "{text}");
    }

    #[test]
    fn display_includes_location_and_help() {
        let e = Error::invalid("bad key", &Span::new(path_arc(Path::new("a.yml")), 3, 5))
            .with_help("remove it");
        assert_eq!(e.to_string(), "a.yml:3:5: bad key (help: remove it)");
    }
}
