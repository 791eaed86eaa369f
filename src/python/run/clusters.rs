//! The Dask clusters a program uses, watched beside its own threads: the
//! probe's client preload (`_parlab_dask_preload.py`) leaves a file
//! `dask-PID-N.addr` naming each scheduler a client of the program
//! connected to, and each is watched as `parlab dask` watches one, its
//! workers' threads lanes of the same run.

use super::*;
use crate::source::dask::cluster::Numbers;
use crate::source::dask::Watch;
use crate::strategy::{Extension, Failure};

/// The clusters seen so far.
#[derive(Default)]
pub(super) struct Clusters {
    /// The interpreter to watch them with: the program's, which has Dask.
    pub python: String,
    files: std::collections::HashSet<PathBuf>,
    /// Each scheduler's watch (none: it cannot be watched), and the clients
    /// waiting to hear that it is (their `.ready` files, made once it is).
    watches: Vec<(String, Option<Watch>, Vec<PathBuf>)>,
    /// What the watches left, once ended.
    pub ended: Vec<(Extension, Vec<Failure>)>,
}

impl Driver {
    /// Watch the schedulers the program's clients named (`files`, from the
    /// folder's last look) that were not seen before.
    pub(super) fn find_clusters(&mut self, files: Vec<PathBuf>) {
        let new: Vec<PathBuf> = files
            .into_iter()
            .filter(|p| self.clusters.files.insert(p.clone()))
            .collect();
        for path in new {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let address = text.trim().to_string();
            let ready = path.with_extension("ready");
            match self.clusters.watches.iter_mut().find(|w| w.0 == address) {
                Some((_, _, waiting)) => waiting.push(ready),
                None => {
                    let watch = self.watch_cluster(&address);
                    self.clusters.watches.push((address, watch, vec![ready]));
                }
            }
        }
    }

    fn watch_cluster(&mut self, address: &str) -> Option<Watch> {
        let t = self.clock.now();
        let lane = self
            .threads
            .get(&(self.root, self.root as u64))
            .map_or(0, |th| th.lane);
        let (watch, text) = if address.starts_with("inproc://") {
            // Its workers are threads of the program: its own lanes show them.
            (None, format!("the program's Dask cluster runs in its own process ({address}): its workers are its threads"))
        } else {
            match Watch::spawn(&self.clusters.python, address, self.clock, None) {
                Ok(w) => (Some(w), format!("the program uses the Dask scheduler at {address}: its workers are watched too")),
                Err(e) => (None, format!("the Dask scheduler at {address} cannot be watched: {e}")),
            }
        };
        self.push(t, lane, EventKind::Log { text });
        watch
    }

    /// What the clusters said since the last tick, as events; clients
    /// waiting for a watch told once it is on (or will never be).
    pub(super) fn watch_clusters(&mut self) {
        let mut next = self.numbers();
        for (_, watch, waiting) in &mut self.clusters.watches {
            if let Some(w) = watch {
                w.poll(std::time::Duration::ZERO, &mut next, &mut self.batch);
            }
            if !waiting.is_empty()
                && watch
                    .as_ref()
                    .is_none_or(|w| w.attached() || w.lost.is_some())
            {
                for ready in waiting.drain(..) {
                    let _ = std::fs::write(ready, "");
                }
            }
        }
        (self.next_lane, self.next_task) = (next.lane, next.task);
    }

    /// The lanes and tasks numbered so far: a cluster's follow the program's.
    fn numbers(&self) -> Numbers {
        Numbers {
            lane: self.next_lane,
            task: self.next_task,
        }
    }

    /// End every watch (the program has ended): their figures and failures.
    pub(super) fn end_clusters(&mut self, end: u64) {
        let watches = std::mem::take(&mut self.clusters.watches);
        for mut w in watches.into_iter().filter_map(|(_, w, _)| w) {
            // What came while the program ended.
            let mut next = self.numbers();
            w.poll(
                std::time::Duration::from_millis(50),
                &mut next,
                &mut self.batch,
            );
            (self.next_lane, self.next_task) = (next.lane, next.task);
            let ended = w.finish(end, &mut self.batch);
            self.clusters.ended.push(ended);
        }
    }
}
