//! Rendering spec findings for people (miette snippets with file:line:col) and machines (JSON).

use std::fmt;
use std::io::IsTerminal;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity,
    SourceCode,
};
use pipectl_spec::{Diagnostics, Finding, Level};

/// One finding as a miette diagnostic over the file's text.
struct Located<'a> {
    finding: &'a Finding,
    source: &'a NamedSource<String>,
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}
impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}
impl std::error::Error for Located<'_> {}

impl Diagnostic for Located<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        None // the header line written by `render` carries the code
    }
    fn severity(&self) -> Option<Severity> {
        Some(match self.finding.level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Note => Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.finding
            .span
            .as_ref()
            .map(|_| self.source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.finding.span.clone()?;
        let label = self
            .finding
            .path
            .as_ref()
            .map(std::string::ToString::to_string)
            .unwrap_or_else(|| "here".into());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label),
            span,
        ))))
    }
}

/// Every finding, each headed by a grep-friendly `file:line:col: level[code]: message` line
/// and followed by the source snippet.
pub fn render(d: &Diagnostics, min_level: Level) -> String {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let source = NamedSource::new(d.file.display().to_string(), d.text.clone());
    let mut out = String::new();
    for f in d.findings.iter().filter(|f| f.level >= min_level) {
        let place = match f.line_col {
            Some(lc) => format!("{}:{lc}", d.file.display()),
            None => d.file.display().to_string(),
        };
        out.push_str(&format!(
            "{place}: {}[{}]: {}\n",
            f.level, f.code, f.message
        ));
        let _ = handler.render_report(
            &mut out,
            &Located {
                finding: f,
                source: &source,
            },
        );
        out.push('\n');
    }
    out
}

pub fn json(d: &Diagnostics) -> serde_json::Value {
    serde_json::json!({
        "file": d.file.display().to_string(),
        "valid": !d.has_errors(),
        "errors": d.count(Level::Error),
        "warnings": d.count(Level::Warning),
        "findings": d.findings,
    })
}
