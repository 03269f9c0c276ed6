//! Reading a spec file: bytes → UTF-8 → TOML → model → validation, failing with located
//! findings at each step and never with a panic.

use std::path::{Path as FsPath, PathBuf};

use serde::de::DeserializeOwned;
use toml::de::DeTable;

use crate::diag::{Diagnostics, Finding, Level};
use crate::model::Spec;
use crate::source::{LineCol, SourceMap};

/// Specs are hand-written files of a few kilobytes; anything far larger is a mistake (a data
/// file passed by accident), and refusing it early bounds memory and time.
pub const MAX_SPEC_BYTES: usize = 4 * 1024 * 1024;

/// A spec that parsed and passed validation (it may still carry warnings and notes).
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The parsed model, free of errors.
    pub spec: Spec,
    /// The warnings and notes validation found (never an error).
    pub diagnostics: Diagnostics,
    /// Where each key and value is in the file, to locate findings made later.
    pub map: SourceMap,
}

/// Why a spec file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read (missing, unreadable, not a file).
    #[error("failed to read spec {}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has errors (size, encoding, TOML syntax, schema or validation).
    #[error("spec {} is invalid: {} error(s)", .0.file.display(), .0.count(Level::Error))]
    Invalid(Box<Diagnostics>),
}

impl LoadError {
    /// The located findings of an invalid spec; None for an I/O error.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            LoadError::Invalid(d) => Some(d),
            LoadError::Io { .. } => None,
        }
    }
}

/// Reads and validates the spec at `path`.
pub fn load_file(path: &FsPath) -> Result<LoadedSpec, LoadError> {
    load_str(path, read_text(path)?)
}

/// Parses and validates spec bytes; `path` is used only to name the file in findings.
pub fn load_bytes(path: &FsPath, bytes: Vec<u8>) -> Result<LoadedSpec, LoadError> {
    load_str(path, decode(path, bytes)?)
}

/// Parses and validates spec text.
pub fn load_str(path: &FsPath, text: String) -> Result<LoadedSpec, LoadError> {
    let (spec, map, text) = parse_toml::<Spec>(path, text)?;
    let mut findings = crate::validate::validate(&spec);
    for f in &mut findings {
        f.locate(&map, &text);
    }
    findings.sort_by_key(|f| (std::cmp::Reverse(f.level), f.span.as_ref().map(|s| s.start)));
    let diagnostics = Diagnostics {
        file: path.into(),
        text,
        findings,
    };
    if diagnostics.has_errors() {
        return Err(LoadError::Invalid(Box::new(diagnostics)));
    }
    Ok(LoadedSpec {
        spec,
        diagnostics,
        map,
    })
}

/// Reads a TOML input file (spec or price sheet) as UTF-8 text, refusing oversized files
/// before reading them.
pub fn read_text(path: &FsPath) -> Result<String, LoadError> {
    let io = |source| LoadError::Io {
        path: path.into(),
        source,
    };
    // At most the cap plus one byte is read: a device (`/dev/zero`) reports no size and never
    // ends, so the reported size decides nothing.
    match pipectl_files::read_capped(path, MAX_SPEC_BYTES as u64) {
        Ok(bytes) => decode(path, bytes),
        Err(pipectl_files::ReadError::TooLarge { .. }) => {
            Err(too_large(path, MAX_SPEC_BYTES as u64 + 1))
        }
        Err(pipectl_files::ReadError::Io(e)) => Err(io(e)),
    }
}

fn decode(path: &FsPath, bytes: Vec<u8>) -> Result<String, LoadError> {
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
        let finding = Finding::at_span(
            Level::Error,
            "not-utf8",
            valid..valid,
            format!("invalid UTF-8 at byte {valid}"),
        )
        .with_hint("pipectl reads UTF-8 text; re-save the file as UTF-8");
        invalid(path, text, vec![finding])
    })
}

/// Parses TOML text into `T` with a source map; syntax and schema errors come back located.
pub fn parse_toml<T: DeserializeOwned>(
    path: &FsPath,
    text: String,
) -> Result<(T, SourceMap, String), LoadError> {
    let parsed = match DeTable::parse(&text) {
        Ok(doc) => {
            let map = SourceMap::build(&doc);
            T::deserialize(toml::de::Deserializer::from(doc))
                .map(|v| (v, map))
                .map_err(|e| (e, true))
        }
        Err(e) => Err((e, false)),
    };
    match parsed {
        Ok((value, map)) => Ok((value, map, text)),
        Err((e, schema)) => {
            let finding = if schema {
                // The map is rebuilt only on this error path, to point at keys.
                let map = DeTable::parse(&text)
                    .map(|d| SourceMap::build(&d))
                    .unwrap_or_default();
                schema_finding(&e, &map)
            } else {
                Finding::at_span(
                    Level::Error,
                    "toml-syntax",
                    e.span().unwrap_or(0..0),
                    first_line(e.message()),
                )
                .with_hint("the file is not valid TOML; check quotes, brackets and `=` near here")
            };
            Err(invalid(path, text, vec![finding]))
        }
    }
}

fn too_large(path: &FsPath, len: u64) -> LoadError {
    let finding = Finding::at_span(
        Level::Error,
        "too-large",
        0..0,
        format!("file holds at least {len} bytes, over the {MAX_SPEC_BYTES}-byte limit"),
    )
    .with_hint("a spec or price sheet is a few kilobytes of TOML; is this the right file?");
    invalid(path, String::new(), vec![finding])
}

fn invalid(path: &FsPath, text: String, mut findings: Vec<Finding>) -> LoadError {
    for f in &mut findings {
        if let Some(span) = &f.span {
            f.line_col = Some(LineCol::of(&text, span.start));
        }
    }
    LoadError::Invalid(Box::new(Diagnostics {
        file: path.into(),
        text,
        findings,
    }))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// Turns a deserialization error (unknown key, wrong type, bad unit, missing key) into a
/// finding pointing at the most precise place known.
fn schema_finding(e: &toml::de::Error, map: &SourceMap) -> Finding {
    let message = first_line(e.message());
    let mut span = e.span().unwrap_or(0..0);
    let (code, hint) = if let Some(name) = between(&message, "unknown field `", "`") {
        if let Some(key) = map.find_key_within(name, &span) {
            span = key;
        }
        let expected = message
            .split_once("expected ")
            .map(|(_, rest)| rest.to_string());
        let hint = match expected {
            Some(list) => format!("known keys here: {}", list.replace('`', "")),
            None => "remove the key or check its spelling".to_string(),
        };
        ("unknown-key", hint)
    } else if let Some(name) = between(&message, "missing field `", "`") {
        ("missing-key", format!("add `{name} = ...` to this table"))
    } else if message.starts_with("invalid duration")
        || message.starts_with("invalid size")
        || message.starts_with("invalid data rate")
        || message.contains("has no unit")
    {
        (
            "bad-unit",
            "durations: \"35m\", \"1h30m\"; sizes: \"1200GiB\", \"2GB\"; rates: \"1.2GB/s\""
                .to_string(),
        )
    } else if message.starts_with("unknown variant") {
        ("bad-value", "use one of the values listed".to_string())
    } else {
        (
            "bad-type",
            "check the value's type against the spec reference in docs/spec.md".to_string(),
        )
    };
    Finding::at_span(Level::Error, code, span, message).with_hint(hint)
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}
