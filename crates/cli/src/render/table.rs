//! Plain aligned text tables for terminal output, laid out by the `tabled` crate: widths are
//! display columns, so a wide character (CJK, most emoji) takes two and a combining mark none.

use tabled::builder::Builder;
use tabled::grid::config::HorizontalLine;
use tabled::settings::object::Columns;
use tabled::settings::themes::Theme;
use tabled::settings::{Alignment, Padding, Style};

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
    /// The table as lines: the header, a rule under it, the rows (and their rules); columns
    /// two spaces apart, no trailing spaces.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut builder = Builder::default();
        // cells hold names and reasons from records and AWS: no control character reaches
        // the terminal
        let safe = |c: &String| super::terminal::printable(c).into_owned();
        builder.push_record(self.header.iter().map(safe));
        // a rule goes above the row that follows it: its index among the records
        let mut rules = vec![1];
        for row in &self.rows {
            match row {
                Some(cells) => builder.push_record(cells.iter().take(n).map(safe)),
                None => rules.push(builder.count_records()),
            }
        }
        let mut table = builder.build();
        let mut theme = Theme::from_style(Style::empty());
        for at in rules {
            theme.insert_horizontal_line(at, HorizontalLine::new(Some('─'), Some('─'), None, None));
        }
        table.with(theme);
        table.with(Padding::new(0, 2, 0, 0));
        table.modify(Columns::last(), Padding::zero());
        for &c in &self.right {
            table.modify(Columns::one(c), Alignment::right());
        }
        let mut out = String::new();
        for line in table.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn a_cell_cannot_drive_the_terminal() {
        // a run record's stack name, as `pipectl runs` prints it
        let mut t = Table::new(&["run", "stack"]);
        t.row(vec!["r1".into(), "s\u{1b}]0;owned\u{7}\u{1b}[2J".into()]);
        let text = t.render();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("s\\u{1b}]0;owned"), "{text}");
    }

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

    #[test]
    fn a_rule_row_spans_every_column_where_it_was_added_and_short_rows_are_filled() {
        let mut t = Table::new(&["item", "qty", "usd"]).right_align(&[2]);
        t.row(vec!["storage".into(), "1.2".into(), "0.48".into()]);
        t.rule();
        t.row(vec!["total".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        let rule = "─".repeat(18);
        assert_eq!(
            lines,
            [
                "item     qty   usd",
                &rule,
                "storage  1.2  0.48",
                &rule,
                "total"
            ]
        );
    }
}
