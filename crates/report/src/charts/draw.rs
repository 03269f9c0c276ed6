//! What every chart shares: the chart as the report keeps it, the colours, and bars over
//! named categories (plain, grouped, stacked or as waterfall steps).

use std::fmt::Write;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One chart of the report: inline SVG, title and caption.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chart {
    /// Stable identifier (`timeline`, `scaling`, ...), the HTML element's id.
    pub id: &'static str,
    /// The chart's heading.
    pub title: String,
    /// `None` when there is nothing to draw; the caption says why.
    #[serde(skip)]
    pub svg: Option<String>,
    /// What the chart shows, or why it is empty.
    pub caption: String,
}

pub(super) const QUEUE: RGBColor = RGBColor(0xc6, 0xd4, 0xe1);
pub(super) const RUN: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
pub(super) const FAILED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
pub(super) const INTERRUPTED: RGBColor = RGBColor(0xe6, 0x7e, 0x22);
pub(super) const PLAN: RGBColor = RGBColor(0x95, 0xa5, 0xa6);
pub(super) const UP: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
pub(super) const DOWN: RGBColor = RGBColor(0x27, 0xae, 0x60);
pub(super) const PALETTE: [RGBColor; 4] = [
    RGBColor(0x2b, 0x6c, 0xb0),
    RGBColor(0xe6, 0x7e, 0x22),
    RGBColor(0x27, 0xae, 0x60),
    RGBColor(0x8e, 0x44, 0xad),
];

pub(super) type Res<T> = Result<T, String>;

/// How a legend entry is marked: a filled box (bars) or a line (series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Box,
    Line,
}

/// A legend entry: the series' name, colour and mark.
pub(super) struct Key {
    pub name: String,
    pub color: RGBColor,
    pub mark: Mark,
}

impl Key {
    pub fn new(name: impl Into<String>, color: RGBColor, mark: Mark) -> Key {
        Key {
            name: name.into(),
            color,
            mark,
        }
    }
}

/// Legend font size, the approximate width of one of its characters, and a row's height.
const LEGEND_FONT: u32 = 13;
const LEGEND_CHAR_W: i32 = 7;
const LEGEND_ROW_H: i32 = 22;
/// Where the legend starts: above the plot, right of the value axis's labels.
const LEGEND_LEFT: i32 = 70;
/// Space for the mark before a name, and between entries.
const LEGEND_MARK_W: i32 = 18;
const LEGEND_GAP: i32 = 18;

/// Where each legend entry goes (x, row) in rows from `left` to `right`: entries never
/// overlap, and an entry that does not fit starts a new row.
pub(super) fn legend_layout(names: &[&str], left: i32, right: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(names.len());
    let (mut x, mut row) = (left, 0);
    for name in names {
        let w = LEGEND_MARK_W + LEGEND_CHAR_W * name.chars().count() as i32;
        if x > left && x + w > right {
            x = left;
            row += 1;
        }
        out.push((x, row));
        x += w + LEGEND_GAP;
    }
    out
}

/// The chart's frame: its title, then its legend in rows of their own below the title, so
/// that a legend never covers data. Returns the area left for the plot.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    keys: &[Key],
) -> Res<DrawingArea<DB, plotters::coord::Shift>> {
    let area = root.titled(title, ("sans-serif", 18)).map_err(err)?;
    if keys.is_empty() {
        return Ok(area);
    }
    let width = area.dim_in_pixel().0 as i32;
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let places = legend_layout(&names, LEGEND_LEFT, width - 12);
    let rows = places.iter().map(|&(_, r)| r).max().unwrap_or(0) + 1;
    let (legend, plot) = area.split_vertically(rows * LEGEND_ROW_H + 4);
    let font = ("sans-serif", LEGEND_FONT).into_font();
    for (k, &(x, row)) in keys.iter().zip(&places) {
        let mid = row * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        match k.mark {
            Mark::Box => legend.draw(&Rectangle::new(
                [(x, mid - 6), (x + 12, mid + 6)],
                k.color.filled(),
            )),
            Mark::Line => legend.draw(&PathElement::new(
                [(x, mid), (x + 14, mid)],
                k.color.stroke_width(2),
            )),
        }
        .map_err(err)?;
        let style = TextStyle::from(font.clone()).pos(Pos::new(HPos::Left, VPos::Center));
        legend
            .draw(&Text::new(k.name.clone(), (x + LEGEND_MARK_W, mid), style))
            .map_err(err)?;
    }
    Ok(plot)
}

/// A region of a drawn chart, in pixels, that names what it shows when the pointer rests on
/// it (a bar's category, series and value), so a reader can check a bar.
pub(super) struct Tip {
    pub from: (i32, i32),
    pub to: (i32, i32),
    pub text: String,
}

/// The SVG with a transparent rectangle over each tip's region carrying the tip as its SVG
/// `<title>` (browsers show it on hover; screen readers read it). Added after everything
/// plotters drew, so the tips lie above the data and do not change how it looks.
pub(super) fn with_tips(svg: &str, tips: &[Tip]) -> String {
    let Some(end) = svg.rfind("</svg>") else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + tips.len() * 120);
    out.push_str(&svg[..end]);
    out.push_str("<g class=\"tips\" fill=\"#000\" fill-opacity=\"0\" pointer-events=\"all\">\n");
    for t in tips {
        let (x, y) = (t.from.0.min(t.to.0), t.from.1.min(t.to.1));
        let (w, h) = (
            (t.from.0 - t.to.0).abs().max(2),
            (t.from.1 - t.to.1).abs().max(2),
        );
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"><title>{}</title></rect>",
            crate::html::esc(&t.text)
        );
    }
    out.push_str("</g>\n");
    out.push_str(&svg[end..]);
    out
}

/// A value as a tip shows it: four decimals, never a negative zero.
pub(super) fn tip_value(v: f64) -> String {
    format!("{:.4}", pipectl_metering::money::tidy(v, 4))
}

pub(super) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A bar: category index, span (low, high) of the value axis.
pub(super) struct Series {
    pub name: String,
    pub color: RGBColor,
    pub spans: Vec<(usize, f64, f64)>,
}

/// Bars over named categories; `grouped` puts a category's series side by side, otherwise
/// they overlap (their spans say where: stacked parts, waterfall steps).
pub(super) fn bars(
    title: &str,
    y_desc: &str,
    cats: &[String],
    series: &[Series],
    grouped: bool,
) -> Res<String> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.spans.iter().flat_map(|&(_, a, b)| [a, b]))
        .fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let hi = if hi <= lo {
        lo + 1.0
    } else {
        hi + (hi - lo) * 0.08
    };
    let mut svg = String::new();
    let mut tips = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = cats.len().max(1) as f64;
        let keys: Vec<Key> =
            if series.len() > 1 || series.first().is_some_and(|s| !s.name.is_empty()) {
                series
                    .iter()
                    .map(|s| Key::new(s.name.clone(), s.color, Mark::Box))
                    .collect()
            } else {
                Vec::new()
            };
        let plot = frame(&root, title, &keys)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n - 0.5, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_desc)
            .y_label_formatter(&|v| format!("{v:.3}"))
            .draw()
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        for (si, s) in series.iter().enumerate() {
            let color = s.color;
            let (w, off) = if grouped {
                (0.8 / k, -0.4 + 0.8 / k * si as f64)
            } else {
                (0.6, -0.3)
            };
            chart
                .draw_series(s.spans.iter().map(|&(i, a, b)| {
                    let x = i as f64 + off;
                    Rectangle::new([(x, a), (x + w, b)], color.filled())
                }))
                .map_err(err)?;
            for &(i, a, b) in &s.spans {
                let x = i as f64 + off;
                let cat = cats.get(i).map_or("", String::as_str);
                let name = if s.name.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", s.name)
                };
                tips.push(Tip {
                    from: chart.backend_coord(&(x, a)),
                    to: chart.backend_coord(&(x + w, b)),
                    text: format!("{cat}{name}: {} {y_desc}", tip_value(b - a)),
                });
            }
        }
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, c) in cats.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, lo));
            root.draw(&Text::new(c.clone(), (x, y + 6), style.clone()))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(with_tips(&svg, &tips))
}

pub(super) fn chart(id: &'static str, title: &str, svg: Res<String>, caption: String) -> Chart {
    match svg {
        Ok(svg) => Chart {
            id,
            title: title.into(),
            svg: Some(svg),
            caption,
        },
        Err(e) => Chart {
            id,
            title: title.into(),
            svg: None,
            caption: format!("not drawn: {e}"),
        },
    }
}

pub(super) fn empty(id: &'static str, title: &str, why: String) -> Chart {
    Chart {
        id,
        title: title.into(),
        svg: None,
        caption: why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_entries_never_overlap_and_wrap_at_the_right_edge() {
        let names = ["queue wait", "run", "a much longer series name", "x", "y"];
        let w = |n: &str| LEGEND_MARK_W + LEGEND_CHAR_W * n.len() as i32;
        let places = legend_layout(&names, 70, 300);
        assert_eq!(places[0], (70, 0));
        assert_eq!(places[1], (70 + w(names[0]) + LEGEND_GAP, 0));
        // the long one does not fit after them: a new row, from the left
        assert_eq!(places[2], (70, 1));
        for i in 0..names.len() {
            let (x, row) = places[i];
            // inside the space, unless alone at the start of its row
            assert!(x + w(names[i]) <= 300 || x == 70, "{i}: {places:?}");
            if i > 0 && places[i - 1].1 == row {
                assert!(
                    x >= places[i - 1].0 + w(names[i - 1]),
                    "{i} overlaps: {places:?}"
                );
            }
        }
        assert_eq!(places[3], (70, 2), "{places:?}");
        assert_eq!(places[4], (70 + w("x") + LEGEND_GAP, 2));
        // one entry wider than the space still gets a place (its own row)
        assert_eq!(
            legend_layout(&["x".repeat(80).as_str()], 70, 300),
            vec![(70, 0)]
        );
    }
}
