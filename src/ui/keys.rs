//! What a key does: the panels focus moves between, the actions, and
//! which key asks for each.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The panels, in Tab order; in the small layout each is a tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Settings,
    Timeline,
    Queue,
    Amdahl,
    Cache,
    Cpu,
    Log,
    Runs,
    Summary,
    Profile,
}

impl Panel {
    /// Every panel, in Tab order.
    pub const ALL: [Panel; 10] = [
        Panel::Settings,
        Panel::Timeline,
        Panel::Queue,
        Panel::Amdahl,
        Panel::Cache,
        Panel::Cpu,
        Panel::Log,
        Panel::Runs,
        Panel::Summary,
        Panel::Profile,
    ];

    /// The panel's title, exactly as shown.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Settings => "Settings",
            Panel::Timeline => "Timeline",
            Panel::Queue => "Queue",
            Panel::Amdahl => "Amdahl",
            Panel::Cache => "Cache",
            Panel::Cpu => "CPU",
            Panel::Log => "Log",
            Panel::Runs => "Runs",
            Panel::Summary => "Summary",
            Panel::Profile => "Profile",
        }
    }
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fold or unfold a program's helper lanes.
    Helpers,
    Start,
    Stop,
    Pause,
    Quit,
    NextPanel,
    PrevPanel,
    Left,
    Right,
    Up,
    Down,
    MoreWorkers,
    FewerWorkers,
    ToggleGil,
    Sweep,
    ToggleGustafson,
    ZoomIn,
    ZoomOut,
    Freeze,
    ScrollBack,
    ScrollForward,
    Filter,
    Rerun,
    Export,
    Help,
    CloseOverlay,
    /// A key bound to a live knob of the strategy (the queue's `[`, `]`, `<`, `>`).
    Knob(char),
    /// `R`: start or stop recording runs to a file.
    Record,
    /// `E`: export the selected run as a Chrome trace.
    ExportTrace,
    /// `n`: the caption of the moment under the Timeline, on or off.
    Narrate,
    /// `m`: mark or unmark the selected run for comparison.
    Mark,
    /// `c`: show or leave the marked runs stacked on one time axis.
    Compare,
    /// `v`: replay the selected run.
    View,
    /// `o`: the program's source.
    Source,
    /// `l`: the profile by line, or by function again.
    Lines,
    /// `k`: sort the profile by its next key.
    SortKey,
    /// In a replay: `{` slower, `}` faster.
    Slower,
    Faster,
    /// In a replay: `.` one event forward, `,` one back.
    StepForward,
    StepBack,
    /// In a replay: Home and End.
    ToStart,
    ToEnd,
    /// In a replay: `:` opens a prompt for a time to go to.
    GoTo,
    /// Enter in a prompt.
    Submit,
    /// Load preset number n (0-based).
    Preset(u8),
    /// A character typed into the log filter.
    Type(char),
    Backspace,
}

/// Map a key press to an action; while the log filter is open, keys type into it.
pub fn action_for(key: KeyEvent, typing: bool) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if typing {
        return match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::CloseOverlay),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Type(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Enter => Action::Start,
        KeyCode::Char('s') => Action::Stop,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab => Action::NextPanel,
        KeyCode::BackTab => Action::PrevPanel,
        KeyCode::Left => Action::Left,
        KeyCode::Right => Action::Right,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::MoreWorkers,
        KeyCode::Char('-') => Action::FewerWorkers,
        KeyCode::Char('g') => Action::ToggleGil,
        KeyCode::Char('G') => Action::ToggleGustafson,
        KeyCode::Char('w') => Action::Sweep,
        KeyCode::Char('z') => Action::ZoomIn,
        KeyCode::Char('x') => Action::ZoomOut,
        KeyCode::Char(' ') => Action::Freeze,
        KeyCode::PageUp => Action::ScrollBack,
        KeyCode::PageDown => Action::ScrollForward,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('r') => Action::Rerun,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('E') => Action::ExportTrace,
        KeyCode::Char('R') => Action::Record,
        KeyCode::Char('m') => Action::Mark,
        KeyCode::Char('n') => Action::Narrate,
        KeyCode::Char('c') => Action::Compare,
        KeyCode::Char('v') => Action::View,
        KeyCode::Char('o') => Action::Source,
        KeyCode::Char('l') => Action::Lines,
        KeyCode::Char('k') => Action::SortKey,
        KeyCode::Char('h') => Action::Helpers,
        KeyCode::Char('{') => Action::Slower,
        KeyCode::Char('}') => Action::Faster,
        KeyCode::Char('.') => Action::StepForward,
        KeyCode::Char(',') => Action::StepBack,
        KeyCode::Home => Action::ToStart,
        KeyCode::End => Action::ToEnd,
        KeyCode::Char(':') => Action::GoTo,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::CloseOverlay,
        KeyCode::Char(c @ '1'..='9') => Action::Preset(c as u8 - b'1'),
        KeyCode::Char(c) if knob_keys().any(|k| k == c) => Action::Knob(c),
        _ => return None,
    })
}

/// Every key any strategy binds to a knob.
pub fn knob_keys() -> impl Iterator<Item = char> {
    crate::strategy::REGISTRY
        .iter()
        .flat_map(|s| s.knobs.iter().flat_map(|k| [k.up, k.down]))
}
