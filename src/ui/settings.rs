//! The Settings panel: draws the form (`form.rs` holds its logic), every
//! field on as many lines as it takes, the selected one highlighted.

use super::form::{fields, label, value};

/// Draw the settings form: every field on as many lines as it takes, the
/// selected one highlighted when the form has focus.
pub fn render(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    app: &super::app::App,
    theme: &super::theme::Theme,
    block: ratatui::widgets::Block,
) {
    use ratatui::text::{Line, Span};
    let focused = app.focus == super::app::Panel::Settings;
    let fields = fields(&app.spec, app.program.as_ref());
    let spans: Vec<Span> = fields
        .iter()
        .enumerate()
        .flat_map(|(i, &f)| {
            let style = if focused && i == app.field.min(fields.len() - 1) {
                theme.selected()
            } else {
                theme.accent()
            };
            [
                Span::styled(format!(" {} ", label(f)), theme.dim()),
                Span::styled(
                    format!("‹{}›", value(f, &app.spec, app.program.as_ref())),
                    style,
                ),
            ]
        })
        .collect();
    let mut lines = vec![Line::from(spans)];
    if app.program.is_some() {
        lines.push(Line::styled(
            " a real Python program under parlab's probe: Enter runs it · o shows its source",
            theme.dim(),
        ));
    }
    // A run from a source of its own (a Dask cluster) has none of these
    // settings: say what is shown, and that the fields are the next run's.
    if let Some(info) = app
        .info
        .as_ref()
        .filter(|i| i.spec.is_none() && i.program.is_none())
    {
        let now = if app.running() { "watching" } else { "shown" };
        // First, so a small screen (two rows at 80x24) still says it.
        lines.insert(
            0,
            Line::styled(
                format!(
                    " {now}: {} · the fields below are for the next run (Enter)",
                    info.headline()
                ),
                theme.accent(),
            ),
        );
    }
    let para = ratatui::widgets::Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .block(block);
    frame.render_widget(para, area);
}
