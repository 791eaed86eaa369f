//! Where the time went: Python stacks sampled from outside, counted per
//! lane, with what each lane was doing as its stack was read (holding the
//! GIL, waiting for it, in io, ...). Panels and files read it; it knows
//! nothing of either.

use crate::event::{LaneId, WorkerState};
use std::collections::{BTreeMap, HashMap};

/// A frame: a function at a line of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub function: String,
    pub file: String,
    pub line: u32,
}

/// Samples, and of them: holding the GIL, running without it (C code that
/// let it go, as `hashlib` does), and in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub samples: u64,
    pub held: u64,
    pub free: u64,
    pub by_state: [u64; WorkerState::COUNT],
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.samples += other.samples;
        self.held += other.held;
        self.free += other.free;
        for (a, b) in self.by_state.iter_mut().zip(other.by_state) {
            *a += b;
        }
    }

    /// The share of these samples in `state`.
    pub fn share(&self, state: WorkerState) -> f64 {
        self.by_state[state.index()] as f64 / self.samples.max(1) as f64
    }

    /// The share of these samples that held the GIL.
    pub fn held_share(&self) -> f64 {
        self.held as f64 / self.samples.max(1) as f64
    }

    /// The share of these samples running without the GIL.
    pub fn free_share(&self) -> f64 {
        self.free as f64 / self.samples.max(1) as f64
    }
}

/// How rows are made: a row per function, or per line (`line_profiler`'s view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Grain {
    #[default]
    Function,
    Line,
}

impl Grain {
    /// By line if by function, and back.
    pub fn other(self) -> Self {
        match self {
            Grain::Function => Grain::Line,
            Grain::Line => Grain::Function,
        }
    }
}

/// What the table is sorted by, most first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Samples where it was the innermost frame (self time).
    #[default]
    Own,
    /// Samples where it was anywhere on the stack (total time).
    Total,
    /// Samples of it holding the GIL.
    Held,
    /// Samples of it waiting for the GIL.
    GilWait,
}

impl SortKey {
    /// Every key, in the order `s` steps through them.
    pub const ALL: [SortKey; 4] = [
        SortKey::Own,
        SortKey::Total,
        SortKey::Held,
        SortKey::GilWait,
    ];

    /// The key's word in a title.
    pub fn word(self) -> &'static str {
        match self {
            SortKey::Own => "self",
            SortKey::Total => "total",
            SortKey::Held => "held",
            SortKey::GilWait => "gil wait",
        }
    }

    /// The key after this one.
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|&k| k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    fn of(self, r: &Row) -> u64 {
        match self {
            SortKey::Own => r.own.samples,
            SortKey::Total => r.total.samples,
            SortKey::Held => r.total.held,
            SortKey::GilWait => r.total.by_state[WorkerState::GilWait.index()],
        }
    }
}

/// One row of the table: a function (or a line), the samples where it was
/// the innermost frame (`own`) and those where it was anywhere on the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub function: String,
    pub file: String,
    /// Per line: the line. Per function: its line that took the most samples.
    pub line: u32,
    pub own: Counts,
    pub total: Counts,
}

/// A node of the icicle: a function, its samples, its callees widest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub function: String,
    pub samples: u64,
    pub children: Vec<Node>,
}

/// Every sample of a run.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Frames by id, as the stream defined them.
    pub frames: Vec<Frame>,
    stacks: HashMap<Vec<u32>, u32>,
    stack_list: Vec<Vec<u32>>,
    lanes: BTreeMap<LaneId, HashMap<u32, Counts>>,
    /// Samples taken, and when the first and the last were.
    pub samples: u64,
    pub first: Option<u64>,
    pub last: u64,
}

impl Profile {
    /// Frame `id` is this one.
    pub fn define(&mut self, id: u32, frame: Frame) {
        let i = id as usize;
        if i >= self.frames.len() {
            self.frames.resize(
                i + 1,
                Frame {
                    function: "?".into(),
                    file: String::new(),
                    line: 0,
                },
            );
        }
        self.frames[i] = frame;
    }

    /// A stack of `lane`, read at `t` while it was in `state`.
    pub fn sample(
        &mut self,
        t: u64,
        lane: LaneId,
        frames: Vec<u32>,
        held: bool,
        state: WorkerState,
    ) {
        if frames.iter().any(|&f| f as usize >= self.frames.len()) {
            return; // a frame never defined: a cut stream
        }
        let id = match self.stacks.get(&frames) {
            Some(&id) => id,
            None => {
                let id = self.stack_list.len() as u32;
                self.stack_list.push(frames.clone());
                self.stacks.insert(frames, id);
                id
            }
        };
        let c = self.lanes.entry(lane).or_default().entry(id).or_default();
        c.samples += 1;
        c.held += held as u64;
        c.free += (!held && state == WorkerState::Running) as u64;
        c.by_state[state.index()] += 1;
        self.samples += 1;
        self.first.get_or_insert(t);
        self.last = self.last.max(t);
    }

    /// Whether anything was sampled.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// The lanes sampled, and each one's samples.
    pub fn lanes(&self) -> impl Iterator<Item = (LaneId, u64)> + '_ {
        self.lanes
            .iter()
            .map(|(&l, s)| (l, s.values().map(|c| c.samples).sum()))
    }

    /// Each distinct stack of `lane` (all lanes: none) with its counts.
    pub fn stacks(&self, lane: Option<LaneId>) -> Vec<(&[u32], Counts)> {
        let mut merged: HashMap<u32, Counts> = HashMap::new();
        for (_, per) in self
            .lanes
            .iter()
            .filter(|(l, _)| lane.is_none_or(|x| x == **l))
        {
            for (&s, c) in per {
                merged.entry(s).or_default().add(c);
            }
        }
        let mut out: Vec<(&[u32], Counts)> = merged
            .into_iter()
            .map(|(s, c)| (self.stack_list[s as usize].as_slice(), c))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// The samples of `lane` (all lanes: none), counted once each.
    pub fn counts(&self, lane: Option<LaneId>) -> Counts {
        let mut all = Counts::default();
        for (_, c) in self.stacks(lane) {
            all.add(&c);
        }
        all
    }

    /// The table's rows for `lane` (all lanes: none), by `key`, most first.
    pub fn rows(&self, lane: Option<LaneId>, grain: Grain, key: SortKey) -> Vec<Row> {
        let mut rows = self.unsorted_rows(lane, grain);
        rows.sort_by(|a, b| {
            key.of(b)
                .cmp(&key.of(a))
                .then(b.total.samples.cmp(&a.total.samples))
                .then(a.function.cmp(&b.function))
                .then(a.file.cmp(&b.file))
                .then(a.line.cmp(&b.line))
        });
        rows
    }

    fn unsorted_rows(&self, lane: Option<LaneId>, grain: Grain) -> Vec<Row> {
        let key = |f: &Frame| match grain {
            Grain::Function => (f.function.clone(), f.file.clone(), 0),
            Grain::Line => (f.function.clone(), f.file.clone(), f.line),
        };
        let mut rows: HashMap<(String, String, u32), Row> = HashMap::new();
        let mut lines: HashMap<(String, String, u32), BTreeMap<u32, u64>> = HashMap::new();
        for (stack, c) in self.stacks(lane) {
            let mut seen = Vec::with_capacity(stack.len());
            for (depth, &fid) in stack.iter().enumerate() {
                let f = &self.frames[fid as usize];
                let k = key(f);
                let row = rows.entry(k.clone()).or_insert_with(|| Row {
                    function: f.function.clone(),
                    file: f.file.clone(),
                    line: f.line,
                    own: Counts::default(),
                    total: Counts::default(),
                });
                let innermost = depth + 1 == stack.len();
                if innermost {
                    row.own.add(&c);
                    *lines
                        .entry(k.clone())
                        .or_default()
                        .entry(f.line)
                        .or_default() += c.samples;
                }
                // A recursive function is counted once a sample.
                if !seen.contains(&k) {
                    row.total.add(&c);
                    seen.push(k);
                }
            }
        }
        rows.into_iter()
            .map(|(k, mut row)| {
                if let Some(hot) = lines.get(&k).and_then(|l| l.iter().max_by_key(|e| *e.1)) {
                    row.line = *hot.0;
                }
                row
            })
            .collect()
    }

    /// `lane`'s stacks (all lanes: none) as a tree of functions from the
    /// root, widest callee first: the icicle.
    pub fn tree(&self, lane: Option<LaneId>) -> Node {
        let mut root = Node {
            function: "all".into(),
            ..Node::default()
        };
        for (stack, c) in self.stacks(lane) {
            root.samples += c.samples;
            let mut node = &mut root;
            for &fid in stack {
                let name = &self.frames[fid as usize].function;
                let i = match node.children.iter().position(|n| &n.function == name) {
                    Some(i) => i,
                    None => {
                        node.children.push(Node {
                            function: name.clone(),
                            ..Node::default()
                        });
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i];
                node.samples += c.samples;
            }
        }
        sort_widest(&mut root);
        root
    }
}

fn sort_widest(n: &mut Node) {
    n.children
        .sort_by(|a, b| b.samples.cmp(&a.samples).then(a.function.cmp(&b.function)));
    for c in &mut n.children {
        sort_widest(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, line: u32) -> Frame {
        Frame {
            function: function.into(),
            file: "p.py".into(),
            line,
        }
    }

    /// main → work (line 5, 6) and main → wait: self and total shares, the
    /// hot line, and the state of each sample.
    fn profile() -> Profile {
        let mut p = Profile::default();
        p.define(0, frame("main", 1));
        p.define(1, frame("work", 5));
        p.define(2, frame("work", 6));
        p.define(3, frame("wait", 9));
        for _ in 0..3 {
            p.sample(1, 0, vec![0, 1], true, WorkerState::Running);
        }
        p.sample(2, 0, vec![0, 2], false, WorkerState::GilWait);
        p.sample(3, 1, vec![0, 3], false, WorkerState::Io);
        p.sample(4, 1, vec![0], true, WorkerState::Running);
        p
    }

    #[test]
    fn rows_count_own_and_total_samples_per_function() {
        let p = profile();
        let rows = p.rows(None, Grain::Function, SortKey::Total);
        let names: Vec<&str> = rows.iter().map(|r| r.function.as_str()).collect();
        assert_eq!(names, ["main", "work", "wait"]);
        let (main, work) = (&rows[0], &rows[1]);
        assert_eq!((main.total.samples, main.own.samples), (6, 1));
        assert_eq!((work.total.samples, work.own.samples, work.line), (4, 4, 5));
        assert_eq!(work.total.held, 3);
        assert_eq!(work.total.by_state[WorkerState::GilWait.index()], 1);
        assert_eq!(rows[2].total.by_state[WorkerState::Io.index()], 1);
    }

    #[test]
    fn lines_split_a_function_and_a_lane_keeps_its_own() {
        let p = profile();
        let lines = p.rows(Some(0), Grain::Line, SortKey::Own);
        let work: Vec<(u32, u64)> = lines
            .iter()
            .filter(|r| r.function == "work")
            .map(|r| (r.line, r.own.samples))
            .collect();
        assert_eq!(work, [(5, 3), (6, 1)]);
        assert!(lines.iter().all(|r| r.function != "wait"));
        assert_eq!(p.counts(Some(1)).samples, 2);
    }

    #[test]
    fn the_icicle_is_widest_first_and_sums_its_children() {
        let t = profile().tree(None);
        assert_eq!(t.samples, 6);
        let main = &t.children[0];
        assert_eq!((main.function.as_str(), main.samples), ("main", 6));
        let kids: Vec<(&str, u64)> = main
            .children
            .iter()
            .map(|n| (n.function.as_str(), n.samples))
            .collect();
        assert_eq!(kids, [("work", 4), ("wait", 1)]);
    }

    #[test]
    fn a_sample_naming_an_undefined_frame_is_dropped() {
        let mut p = profile();
        p.sample(9, 0, vec![0, 42], true, WorkerState::Running);
        assert_eq!(p.samples, 6);
    }
}
