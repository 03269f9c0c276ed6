//! What every chart shares: the chart as the report keeps it, the colours, and bars over
//! named categories (plain, grouped, stacked or as waterfall steps).

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
    {
        let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = cats.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
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
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        if series.len() > 1 || series.first().is_some_and(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
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
    Ok(svg)
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
