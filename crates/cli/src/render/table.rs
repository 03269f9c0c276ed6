//! Plain aligned text tables for terminal output. Widths are display columns (the
//! `unicode-width` crate): a wide character (CJK, most emoji) takes two, a combining mark none.

use unicode_width::UnicodeWidthStr;

/// Columns are left-aligned unless listed in `right`; a row of `None` draws a rule.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Option<Vec<String>>>,
    right: Vec<usize>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            rows: Vec::new(),
            right: Vec::new(),
        }
    }
    pub fn right_align(mut self, cols: &[usize]) -> Self {
        self.right = cols.to_vec();
        self
    }
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Some(cells));
    }
    pub fn rule(&mut self) {
        self.rows.push(None);
    }
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut width = vec![0usize; n];
        for cells in std::iter::once(&self.header).chain(self.rows.iter().flatten()) {
            for (i, c) in cells.iter().enumerate().take(n) {
                width[i] = width[i].max(c.width());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, w) in width.iter().enumerate() {
                let c = cells.get(i).map_or("", String::as_str);
                let pad = w - c.width();
                if i > 0 {
                    s.push_str("  ");
                }
                if self.right.contains(&i) {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    if i + 1 < n {
                        s.push_str(&" ".repeat(pad));
                    }
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let total: usize = width.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        let mut out = line(&self.header);
        out.push_str(&"─".repeat(total));
        out.push('\n');
        for row in &self.rows {
            match row {
                Some(cells) => out.push_str(&line(cells)),
                None => {
                    out.push_str(&"─".repeat(total));
                    out.push('\n');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_in_display_columns_with_wide_characters() {
        let mut t = Table::new(&["phase", "usd"]).right_align(&[1]);
        t.row(vec!["训练".into(), "1.5".into()]);
        t.row(vec!["infer".into(), "10.25".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        // "训练" is two characters but four columns wide: its row is as wide as "infer"'s
        assert_eq!(lines[2], "训练     1.5");
        assert_eq!(lines[3], "infer  10.25");
        assert_eq!(lines[0].width(), lines[3].width());
        assert_eq!(lines[1], "─".repeat(12));
    }
}
