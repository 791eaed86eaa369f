//! The few chart pieces the Queue and Amdahl panels share: a line, a set of
//! points, an axis from 0 (or 1) to a top with its two labels.

use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::widgets::{Axis, Dataset, GraphType};

/// A named line through `data`.
pub fn line<'a>(name: impl Into<String>, style: Style, data: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name.into())
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

/// An unnamed line (kept out of the legend): an error bar.
pub fn segment(style: Style, data: &[(f64, f64)]) -> Dataset<'_> {
    Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

/// Named points, each a block.
pub fn points<'a>(name: &'static str, style: Style, data: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(Marker::Block)
        .graph_type(GraphType::Scatter)
        .style(style)
        .data(data)
}

/// An axis over `[low, high]` labelled at both ends.
pub fn axis<'a>(bounds: [f64; 2], labels: [String; 2], style: Style) -> Axis<'a> {
    Axis::default().bounds(bounds).labels(labels).style(style)
}
