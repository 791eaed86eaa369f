//! A run's profile as the files people open: speedscope JSON (one sampled
//! profile per lane), collapsed stacks (`.folded`, for inferno and
//! flamegraph.pl) and a pstats `.prof` (the lecture's own `snakeviz` and
//! `python -m pstats`). All three are made from the samples the lab holds;
//! none is written by hand elsewhere.

use crate::event::LaneId;
use crate::model::profile::{Counts, Profile};
use crate::UserError;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The profile's file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// speedscope's JSON (https://www.speedscope.app)
    Speedscope,
    /// Collapsed stacks, one line each: `lane;outer;…;inner count`
    Folded,
    /// cProfile's stats file, for snakeviz and python -m pstats
    Pstats,
}

impl Format {
    /// The format a file's name asks for: `.prof`/`.pstats`, `.folded`,
    /// else speedscope JSON (`.json`, `.speedscope.json`).
    pub fn of_path(path: &Path) -> Result<Self, UserError> {
        let name = path.to_string_lossy();
        match path.extension().and_then(|e| e.to_str()) {
            Some("prof" | "pstats") => Ok(Format::Pstats),
            Some("folded" | "txt") => Ok(Format::Folded),
            Some("json") => Ok(Format::Speedscope),
            _ => Err(UserError::new(format!(
                "--profile {name}: its extension does not say a format: use .speedscope.json, \
                 .folded or .prof, or name one with --profile-format speedscope|folded|pstats"
            ))),
        }
    }

    /// The extension a file of this format gets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Speedscope => "speedscope.json",
            Format::Folded => "folded",
            Format::Pstats => "prof",
        }
    }
}

/// The profile in `format`; `names` names lanes; `period_s`: one sample's
/// share of a second (what a pstats time is made of).
pub fn write(
    p: &Profile,
    format: Format,
    names: &dyn Fn(LaneId) -> String,
    period_s: f64,
) -> Vec<u8> {
    match format {
        Format::Speedscope => format!("{}\n", speedscope(p, names)).into_bytes(),
        Format::Folded => folded(p, names).into_bytes(),
        Format::Pstats => pstats(p, period_s),
    }
}

/// Write `f`'s profile to `path` in `format`; the line that says so. A run
/// with no samples is a user's mistake (not profiled: said, exit 2).
pub fn save(f: &crate::headless::Finished, path: &Path, format: Format) -> anyhow::Result<String> {
    let p = &f.lab.profile;
    if p.is_empty() {
        return Err(UserError::new(format!(
            "{}: the run has no stacks to write (a program run by parlab py with --profile-hz above 0 has)",
            path.display()
        ))
        .into());
    }
    let figures = f.outcome.extension(crate::strategy::Figures::Profile);
    let hz = figures
        .and_then(|v| v["hz_achieved"].as_f64().or(v["hz"].as_f64()))
        .filter(|&h| h > 0.0)
        .unwrap_or(crate::python::stacks::DEFAULT_HZ as f64);
    let names = |id: LaneId| {
        f.lab
            .lane(id)
            .map_or(format!("lane-{id}"), |l| l.name.clone())
    };
    let bytes = write(p, format, &names, 1.0 / hz);
    let written = if path == Path::new("-") {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)
    } else {
        std::fs::write(path, &bytes)
    };
    written.map_err(|e| UserError::new(format!("{}: cannot write it: {e}", path.display())))?;
    let note = match format {
        Format::Pstats => format!(
            "; times are samples ÷ {hz:.0} Hz and call counts are 0: samples count no calls"
        ),
        _ => String::new(),
    };
    Ok(format!(
        "wrote the profile ({} samples) to {}{note}",
        p.samples,
        path.display()
    ))
}

/// A frame as flame graphs name it: `function (file:line)`.
fn label(p: &Profile, id: u32) -> String {
    let f = &p.frames[id as usize];
    format!("{} ({}:{})", f.function, f.file, f.line)
}

/// One line per distinct stack of each lane, its lane first.
pub fn folded(p: &Profile, names: &dyn Fn(LaneId) -> String) -> String {
    let mut out = String::new();
    for (lane, _) in p.lanes() {
        for (stack, c) in p.stacks(Some(lane)) {
            let mut parts = vec![names(lane).replace(';', ",")];
            parts.extend(stack.iter().map(|&f| label(p, f).replace(';', ",")));
            out += &format!("{} {}\n", parts.join(";"), c.samples);
        }
    }
    out
}

/// speedscope's file: the frames shared, a sampled profile per lane whose
/// weights are sample counts (unit `none`: samples, not a duration).
pub fn speedscope(p: &Profile, names: &dyn Fn(LaneId) -> String) -> Value {
    let frames: Vec<Value> = p
        .frames
        .iter()
        .map(|f| json!({ "name": f.function, "file": f.file, "line": f.line }))
        .collect();
    let profiles: Vec<Value> = p
        .lanes()
        .map(|(lane, n)| {
            let (samples, weights): (Vec<Value>, Vec<u64>) = p
                .stacks(Some(lane))
                .into_iter()
                .map(|(s, c)| (json!(s), c.samples))
                .unzip();
            json!({
                "type": "sampled", "name": names(lane), "unit": "none",
                "startValue": 0, "endValue": n, "samples": samples, "weights": weights,
            })
        })
        .collect();
    json!({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "version": "0.0.1",
        "exporter": format!("parlab {}", env!("CARGO_PKG_VERSION")),
        "name": "parlab profile",
        "activeProfileIndex": 0,
        "shared": { "frames": frames },
        "profiles": profiles,
    })
}

/// A function as pstats keys it: (file, line, name); its line is the
/// lowest one sampled (samples do not say where it begins).
type Key = (String, u32, String);

/// Self and cumulative samples of a function, and of each caller's calls.
#[derive(Default)]
struct Stat {
    own: u64,
    cum: u64,
    callers: BTreeMap<Key, (u64, u64)>,
}

/// cProfile's stats, marshalled as `pstats` reads them: times are samples
/// × `period_s`; call counts are 0, for samples count no calls.
pub fn pstats(p: &Profile, period_s: f64) -> Vec<u8> {
    let mut first_line: HashMap<(&str, &str), u32> = HashMap::new();
    for f in &p.frames {
        let l = first_line.entry((&f.function, &f.file)).or_insert(f.line);
        *l = (*l).min(f.line);
    }
    let key = |id: u32| -> Key {
        let f = &p.frames[id as usize];
        (
            f.file.clone(),
            first_line[&(f.function.as_str(), f.file.as_str())],
            f.function.clone(),
        )
    };
    let mut stats: BTreeMap<Key, Stat> = BTreeMap::new();
    for (stack, Counts { samples: n, .. }) in p.stacks(None) {
        let keys: Vec<Key> = stack.iter().map(|&f| key(f)).collect();
        let mut seen: Vec<&Key> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let inner = i + 1 == keys.len();
            let s = stats.entry(k.clone()).or_default();
            if inner {
                s.own += n;
            }
            if !seen.contains(&k) {
                s.cum += n;
                seen.push(k);
            }
            if let Some(caller) = i.checked_sub(1).map(|j| keys[j].clone()) {
                let e = s.callers.entry(caller).or_default();
                e.0 += if inner { n } else { 0 };
                e.1 += n;
            }
        }
    }
    let mut m = Marshal::default();
    m.dict();
    for (k, s) in &stats {
        m.key(k);
        m.tuple(5);
        m.int(0);
        m.int(0);
        m.float(s.own as f64 * period_s);
        m.float(s.cum as f64 * period_s);
        m.dict();
        for (c, (own, cum)) in &s.callers {
            m.key(c);
            m.tuple(4);
            m.int(0);
            m.int(0);
            m.float(*own as f64 * period_s);
            m.float(*cum as f64 * period_s);
        }
        m.end_dict();
    }
    m.end_dict();
    m.out
}

/// Python's `marshal` format, the few types pstats needs.
#[derive(Default)]
struct Marshal {
    out: Vec<u8>,
}

impl Marshal {
    fn dict(&mut self) {
        self.out.push(b'{');
    }

    fn end_dict(&mut self) {
        self.out.push(b'0');
    }

    fn tuple(&mut self, n: u8) {
        self.out.extend([b')', n]);
    }

    fn int(&mut self, v: i32) {
        self.out.push(b'i');
        self.out.extend(v.to_le_bytes());
    }

    fn float(&mut self, v: f64) {
        self.out.push(b'g');
        self.out.extend(v.to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.out.push(b'u');
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend(s.as_bytes());
    }

    fn key(&mut self, (file, line, name): &Key) {
        self.tuple(3);
        self.text(file);
        self.int(*line as i32);
        self.text(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::WorkerState;
    use crate::model::profile::Frame;

    fn profile() -> Profile {
        let mut p = Profile::default();
        for (id, (function, line)) in [("main", 3), ("work", 7), ("work", 8)]
            .into_iter()
            .enumerate()
        {
            p.define(
                id as u32,
                Frame {
                    function: function.into(),
                    file: "/p/a;b.py".into(),
                    line,
                },
            );
        }
        for _ in 0..2 {
            p.sample(1, 0, vec![0, 1], true, WorkerState::Running);
        }
        p.sample(2, 1, vec![0, 2], false, WorkerState::GilWait);
        p
    }

    #[test]
    fn folded_lines_name_the_lane_then_each_frame() {
        let text = folded(&profile(), &|l| format!("T{l}"));
        assert_eq!(
            text,
            "T0;main (/p/a,b.py:3);work (/p/a,b.py:7) 2\nT1;main (/p/a,b.py:3);work (/p/a,b.py:8) 1\n"
        );
    }

    #[test]
    fn speedscope_has_a_sampled_profile_per_lane() {
        let v = speedscope(&profile(), &|l| format!("T{l}"));
        assert_eq!(v["shared"]["frames"].as_array().unwrap().len(), 3);
        let p = &v["profiles"][0];
        assert_eq!(
            (p["type"].as_str(), p["endValue"].as_u64()),
            (Some("sampled"), Some(2))
        );
        assert_eq!(p["samples"], json!([[0, 1]]));
        assert_eq!(p["weights"], json!([2]));
    }

    #[test]
    fn pstats_is_a_marshalled_dict_ending_where_it_should() {
        let b = pstats(&profile(), 0.01);
        assert_eq!((b[0], *b.last().unwrap()), (b'{', b'0'));
        // Two functions: "main" and "work" (its two lines are one function).
        let keys = b
            .windows(4)
            .filter(|w| w == b"main" || w == b"work")
            .count();
        assert_eq!(keys, 3, "main, work, and main as work's caller");
    }
}
