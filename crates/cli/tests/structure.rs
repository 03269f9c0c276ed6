//! The workspace's shape, read from its sources (no build, no AWS): no source file over
//! ~500 lines, no function over ~100 lines outside tests, and no logical resource id taken
//! apart or put together by its prefix outside the graph's id module. A newcomer should be
//! able to hold one file, and one function, in their head.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 100;

/// Files allowed over the limits, each with why; empty is the goal.
const FILE_EXCEPTIONS: &[(&str, &str)] = &[];
const FUNCTION_EXCEPTIONS: &[(&str, &str)] = &[];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under the workspace's crates and examples, as (path from the root, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "target") {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let root = root();
    let mut files = Vec::new();
    for top in ["crates", "examples"] {
        walk(&root.join(top), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The text with comments, string and character literals blanked out (line breaks kept), so
/// that braces can be counted.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && at(&c, i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && at(&c, i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '/' && at(&c, i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(&c, i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (at(&c, i + 1) == '"' || at(&c, i + 1) == '#')
            && !ident_before(&c, i)
        {
            // raw string r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(c[i..j.min(c.len())].iter().map(|&ch| blank(ch)));
            i = j;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.extend(c[i..(j + 1).min(c.len())].iter().map(|&ch| blank(ch)));
            i = j + 1;
        } else if c[i] == '\'' && (at(&c, i + 1) == '\\' || at(&c, i + 2) == '\'') {
            // a character literal (a lifetime has no closing quote)
            let mut j = i + 1;
            while j < c.len() && c[j] != '\'' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.extend(c[i..(j + 1).min(c.len())].iter().map(|&ch| blank(ch)));
            i = j + 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn at(c: &[char], i: usize) -> char {
    c.get(i).copied().unwrap_or('\0')
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// The name of the function a line declares, if it does.
fn declared_fn(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.next() {
        match w {
            "pub" | "async" | "const" | "unsafe" | "extern" | "\"C\"" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let name = words.next()?;
                return Some(name.split(['(', '<']).next().unwrap_or(name));
            }
            _ => return None,
        }
    }
    None
}

/// Functions of `text` longer than `max` lines, outside a `#[cfg(test)]` module, as
/// (line, name, length).
fn long_functions(text: &str, max: usize) -> Vec<(usize, String, usize)> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.trim() == "#[cfg(test)]")
        .unwrap_or(lines.len());
    let mut found = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(name) = declared_fn(lines[i]) else {
            i += 1;
            continue;
        };
        let (mut depth, mut opened, mut j) = (0i32, false, i);
        while j < lines.len() {
            for ch in lines[j].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && lines[j].trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        let length = j - i + 1;
        if length > max {
            found.push((i + 1, name.to_string(), length));
        }
        // nested functions are counted within their parent
        i = if opened { j + 1 } else { i + 1 };
    }
    found
}

fn excepted(list: &[(&str, &str)], what: &str) -> bool {
    list.iter().any(|(w, _)| *w == what)
}

#[test]
fn no_source_file_is_over_500_lines() {
    let over: Vec<String> = sources()
        .into_iter()
        .map(|(p, t)| (p, t.lines().count()))
        .filter(|(p, n)| *n > MAX_FILE_LINES && !excepted(FILE_EXCEPTIONS, p))
        .map(|(p, n)| format!("{p}: {n} lines"))
        .collect();
    assert!(
        over.is_empty(),
        "split these by responsibility (limit {MAX_FILE_LINES}):\n{}",
        over.join("\n")
    );
}

#[test]
fn no_function_outside_tests_is_over_100_lines() {
    let over: Vec<String> = sources()
        .into_iter()
        .filter(|(p, _)| !p.contains("/tests/") && !p.contains("/benches/"))
        .flat_map(|(p, t)| {
            long_functions(&t, MAX_FUNCTION_LINES)
                .into_iter()
                .map(move |(line, name, n)| (format!("{p}:{line}"), name, n))
        })
        .filter(|(at, name, _)| {
            let file = at.split(':').next().unwrap_or("");
            !excepted(FUNCTION_EXCEPTIONS, &format!("{file}::{name}"))
        })
        .map(|(at, name, n)| format!("{at}: fn {name}, {n} lines"))
        .collect();
    assert!(
        over.is_empty(),
        "split these into steps (limit {MAX_FUNCTION_LINES}):\n{}",
        over.join("\n")
    );
}

/// The logical ids' prefixes (`ce-`, `jq-`, ...): only the graph's id module may spell them.
const ID_PREFIXES: &[&str] = &[
    "ce-", "jq-", "jd-", "lt-", "pg-", "dra-", "bucket-", "subnet-", "vpce-", "role-", "rtb-",
];

#[test]
fn no_resource_id_is_parsed_or_built_by_its_prefix_outside_the_graph() {
    let mut found = Vec::new();
    for (p, text) in sources() {
        if p.ends_with("spec/src/graph/id.rs") || p.contains("/tests/") {
            continue;
        }
        let end = text
            .lines()
            .position(|l| l.trim() == "#[cfg(test)]")
            .unwrap_or(usize::MAX);
        for (n, line) in text.lines().enumerate().take(end) {
            let parsing = ["trim_start_matches(\"", "strip_prefix(\"", "format!(\""]
                .iter()
                .any(|call| {
                    ID_PREFIXES
                        .iter()
                        .any(|pre| line.contains(&format!("{call}{pre}")))
                });
            if parsing || line.contains("ctx.setting(") {
                found.push(format!("{p}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "use the graph's typed ids and payloads (spec::graph) instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_above_can_fail() {
    let long = format!(
        "fn long() {{\n{}}}\nfn short() {{ let s = \"}}}}\"; }}\n",
        "    let x = '{';\n".repeat(MAX_FUNCTION_LINES)
    );
    let found = long_functions(&long, MAX_FUNCTION_LINES);
    assert_eq!(found, vec![(1, "long".to_string(), MAX_FUNCTION_LINES + 2)]);
    let lifetimes = "pub fn f<'a>(s: &'a str) -> &'a str {\n    s\n}\n";
    assert_eq!(long_functions(lifetimes, 2), vec![(1, "f".to_string(), 3)]);
    let raw = "fn g() {\n    let j = r#\"{\"a\": {\"#;\n}\nfn h() {}\n";
    assert_eq!(long_functions(raw, 2), vec![(1, "g".to_string(), 3)]);
    let tests_only = format!("#[cfg(test)]\nmod tests {{\n{long}}}\n");
    assert!(long_functions(&tests_only, MAX_FUNCTION_LINES).is_empty());
}
