//! Text from outside pipectl (names in records, AWS's reasons, jobs' log lines) made safe to
//! print: a control character (an escape sequence could move the cursor, rewrite the screen or
//! set the window title) or a bidirectional override is shown escaped (`\u{1b}`), never sent.

use std::borrow::Cow;

fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character escaped; borrowed when there is none.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_reach_the_terminal_as_text() {
        assert_eq!(printable("plain – ok\ttab"), "plain – ok\ttab");
        let title = "\u{1b}]0;owned\u{7}";
        assert_eq!(printable(title), "\\u{1b}]0;owned\\u{7}");
        assert_eq!(printable("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\u{d}\\u{a}");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
        assert!(
            !printable("\u{9b}31m").contains('\u{9b}'),
            "C1 controls too"
        );
    }
}
