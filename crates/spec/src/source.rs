//! Where things are in a spec file: byte spans for every key and value, by key path, and
//! line:column for a byte offset. Validation names places with paths
//! (`compute_environments.training.efa`); this turns them into file:line:col.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A table key, unquoted.
    Key(String),
    /// A 0-based array index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<&String> for Seg {
    fn from(s: &String) -> Self {
        Seg::Key(s.clone())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A key path such as `phases[0].depends_on[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The empty path: the whole document.
    pub fn root() -> Self {
        Path(Vec::new())
    }
    /// This path extended by one step.
    pub fn at(&self, seg: impl Into<Seg>) -> Path {
        let mut v = self.0.clone();
        v.push(seg.into());
        Path(v)
    }
    /// The path one step shorter; None for the root.
    pub fn parent(&self) -> Option<Path> {
        (!self.0.is_empty()).then(|| Path(self.0[..self.0.len() - 1].to_vec()))
    }
}

/// Builds a path from steps: `path!["phases", 0, "depends_on"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        $crate::source::Path(vec![$($crate::source::Seg::from($seg)),*])
    };
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Entry {
    key: Option<Range<usize>>,
    value: Range<usize>,
}

/// Spans of every key and value of a parsed document.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    entries: HashMap<Path, Entry>,
}

impl SourceMap {
    /// Records the span of every key and value of a parsed document.
    pub fn build(root: &Spanned<DeTable<'_>>) -> Self {
        let mut map = SourceMap::default();
        map.entries.insert(
            Path::root(),
            Entry {
                key: None,
                value: root.span(),
            },
        );
        map.walk_table(&Path::root(), root.get_ref());
        map
    }

    fn walk_table(&mut self, at: &Path, table: &DeTable<'_>) {
        for (key, value) in table {
            let path = at.at(key.get_ref().as_ref());
            self.entries.insert(
                path.clone(),
                Entry {
                    key: Some(key.span()),
                    value: value.span(),
                },
            );
            self.walk_value(&path, value.get_ref());
        }
    }

    fn walk_value(&mut self, at: &Path, value: &DeValue<'_>) {
        match value {
            DeValue::Table(t) => self.walk_table(at, t),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = at.at(i);
                    self.entries.insert(
                        path.clone(),
                        Entry {
                            key: None,
                            value: item.span(),
                        },
                    );
                    self.walk_value(&path, item.get_ref());
                }
            }
            _ => {}
        }
    }

    /// The span of the value at `path`, or of its nearest ancestor that is in the file (a
    /// missing key is best shown at the table that lacks it).
    pub fn value_span(&self, path: &Path) -> Option<Range<usize>> {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(e) = self.entries.get(&cur) {
                return Some(e.value.clone());
            }
            p = cur.parent();
        }
        None
    }

    /// The span of the key at `path` (for unknown or duplicated keys), else its value's.
    pub fn key_span(&self, path: &Path) -> Option<Range<usize>> {
        match self.entries.get(path) {
            Some(Entry { key: Some(k), .. }) => Some(k.clone()),
            _ => self.value_span(path),
        }
    }

    /// The innermost key named `name` whose span lies inside `within` (used to point an
    /// "unknown field" error at the key itself rather than at its table).
    pub fn find_key_within(&self, name: &str, within: &Range<usize>) -> Option<Range<usize>> {
        self.entries
            .iter()
            .filter(|(p, _)| matches!(p.0.last(), Some(Seg::Key(k)) if k == name))
            .filter_map(|(_, e)| e.key.clone())
            .filter(|k| k.start >= within.start && k.end <= within.end)
            .min_by_key(|k| k.start)
    }
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
}

impl LineCol {
    /// The line and column of byte `offset` in `text` (clamped to the text and a char boundary).
    pub fn of(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let offset = (0..=offset)
            .rev()
            .find(|&o| text.is_char_boundary(o))
            .unwrap_or(0);
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        LineCol { line, col }
    }
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(LineCol::of(text, 0), LineCol { line: 1, col: 1 });
        assert_eq!(LineCol::of(text, 6), LineCol { line: 2, col: 1 });
        // "bé = " is 6 bytes but 5 characters
        assert_eq!(LineCol::of(text, 12), LineCol { line: 2, col: 6 });
        assert_eq!(LineCol::of(text, 999), LineCol { line: 3, col: 1 });
    }

    #[test]
    fn map_finds_keys_values_and_array_items() {
        let text = "[stack]\nname = \"x\"\n[[phases]]\nname = \"a\"\ndepends_on = [\"b\", \"c\"]\n";
        let doc = DeTable::parse(text).unwrap();
        let map = SourceMap::build(&doc);
        let v = map.value_span(&path!["stack", "name"]).unwrap();
        assert_eq!(&text[v], "\"x\"");
        let k = map.key_span(&path!["stack", "name"]).unwrap();
        assert_eq!(&text[k], "name");
        let item = map
            .value_span(&path!["phases", 0, "depends_on", 1])
            .unwrap();
        assert_eq!(&text[item], "\"c\"");
        // a missing key falls back to its table, shown at the table's header
        let missing = map.value_span(&path!["stack", "region"]).unwrap();
        assert_eq!(&text[missing], "[stack]");
    }

    #[test]
    fn paths_display_like_toml_keys() {
        assert_eq!(
            path!["phases", 0, "depends_on"].to_string(),
            "phases[0].depends_on"
        );
        assert_eq!(
            path!["compute_environments", "g4dn.x"].to_string(),
            "compute_environments.\"g4dn.x\""
        );
    }
}
