//! Findings: what validation has to say about a spec, each with a level, a stable code, the
//! place in the file it concerns and, where one is known, a hint.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::source::{LineCol, Path, SourceMap};

/// How serious a finding is; a single `Error` makes the spec invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; nothing is wrong.
    Note,
    /// AWS would accept it, but it will not do what the spec seems to want.
    Warning,
    /// AWS would reject it, or pipectl cannot act on it.
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        })
    }
}

/// One thing validation says about a spec: level, rule code, message, hint and place.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `Error` refuses the spec; `Warning` and `Note` are shown and let it load.
    pub level: Level,
    /// Stable, kebab-case identifier of the rule (`efa-unsupported`, `fsx-capacity`, ...).
    pub code: &'static str,
    /// What is wrong, in one sentence that names the offending value.
    pub message: String,
    /// How to fix it; None when no fix is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The key path the finding is about, when it is about one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub path: Option<Path>,
    /// Byte range in the file, filled in by [`Finding::locate`].
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// 1-based line:column of the span's start; None until located (or when nothing is).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub line_col: Option<LineCol>,
    /// Point at the key rather than the value (unknown or duplicated keys).
    #[serde(skip)]
    pub at_key: bool,
}

fn display_opt<T: fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

impl Finding {
    fn new(
        level: Level,
        code: &'static str,
        path: Option<Path>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            level,
            code,
            message: message.into(),
            hint: None,
            path,
            span: None,
            line_col: None,
            at_key: false,
        }
    }
    /// An error about the value at `path`: AWS would reject it or pipectl cannot act on it.
    pub fn error(code: &'static str, path: Path, message: impl Into<String>) -> Self {
        Self::new(Level::Error, code, Some(path), message)
    }
    /// A warning about the value at `path`: AWS accepts it, but it will not do what was meant.
    pub fn warning(code: &'static str, path: Path, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, code, Some(path), message)
    }
    /// A note about the value at `path`: worth knowing, nothing is wrong.
    pub fn note(code: &'static str, path: Path, message: impl Into<String>) -> Self {
        Self::new(Level::Note, code, Some(path), message)
    }
    /// A finding about a byte range rather than a key path (syntax errors).
    pub fn at_span(
        level: Level,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let mut f = Self::new(level, code, None, message);
        f.span = Some(span);
        f
    }
    /// Adds how to fix it (shown as `(hint: ...)`).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Points the finding at the key rather than its value (unknown, duplicated or bad names).
    pub fn on_key(mut self) -> Self {
        self.at_key = true;
        self
    }

    /// Fills in the span and line:column from the source map.
    pub fn locate(&mut self, map: &SourceMap, text: &str) {
        if self.span.is_none()
            && let Some(path) = &self.path
        {
            self.span = if self.at_key {
                map.key_span(path)
            } else {
                map.value_span(path)
            };
        }
        if let Some(span) = &self.span {
            self.line_col = Some(LineCol::of(text, span.start));
        }
    }
}

/// All findings for one file, with the text they point into.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// The spec file's path as given; only used to name it in each line.
    pub file: std::path::PathBuf,
    /// The file's text, for source lines (its valid prefix for `not-utf8`; empty if too large).
    pub text: String,
    /// Errors first, then warnings and notes, each by position in the file.
    pub findings: Vec<Finding>,
}

impl Diagnostics {
    /// Whether any finding is an error, i.e. the spec is refused.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
    /// How many findings have `level`.
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }
}

/// One line per finding, compiler style: `file:line:col: level[code]: message (hint: ...)`.
impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.findings {
            write!(f, "{}", self.file.display())?;
            if let Some(lc) = d.line_col {
                write!(f, ":{lc}")?;
            }
            write!(f, ": {}[{}]: {}", d.level, d.code, d.message)?;
            if let Some(h) = &d.hint {
                write!(f, " (hint: {h})")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
