//! Criterion benchmarks of the lab's own costs: recording an event, moving
//! events through the pipeline into the model, framing them for a worker's
//! pipe, and drawing a full frame. `parlab bench` measures the whole-run figures.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parlab::clock::Clock;
use parlab::event::{Batch, BatchSink, CacheOp, Event, EventKind, Probe, WorkerState};
use parlab::ipc::{read_frame, write_frame, FromWorker};
use std::hint::black_box;
use std::sync::Arc;

/// A sink that drops batches: the cost of recording alone.
struct Drop;
impl BatchSink for Drop {
    fn deliver(&self, batch: Batch) {
        black_box(batch);
    }
}

fn record(c: &mut Criterion) {
    let mut probe = Probe::new(0, Clock::start(), Arc::new(Drop), true);
    let mut g = c.benchmark_group("probe");
    g.throughput(Throughput::Elements(1));
    g.bench_function("record one event", |b| {
        b.iter(|| {
            probe.record(black_box(EventKind::Cache {
                op: CacheOp::Hit,
                currsize: 7,
            }))
        })
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    const PER_WORKER: u64 = 250_000;
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(2 * PER_WORKER));
    g.sample_size(10);
    g.bench_function("2 workers into the model", |b| {
        b.iter(|| {
            let (sent, received, _) = parlab::bench::pipeline_once(PER_WORKER);
            assert_eq!(sent, received);
        })
    });
    g.finish();
}

fn frames(c: &mut Criterion) {
    let batch: Batch = (0..256u32)
        .map(|i| Event {
            t: i as u64 * 1000,
            lane: 1,
            kind: EventKind::State(WorkerState::ALL[i as usize % WorkerState::COUNT]),
        })
        .collect();
    let msg = FromWorker::Events(batch);
    let mut g = c.benchmark_group("worker pipe");
    g.throughput(Throughput::Elements(256));
    g.bench_function("postcard frame of 256 events, write and read", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            write_frame(&mut buf, &msg).unwrap();
            black_box(read_frame::<_, FromWorker>(&mut buf.as_slice()).unwrap());
        })
    });
    g.bench_function("JSON line of 256 events, write and read", |b| {
        let mut buf = Vec::with_capacity(16384);
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(&mut buf, &msg).unwrap();
            black_box(serde_json::from_slice::<FromWorker>(&buf).unwrap());
        })
    });
    g.finish();
}

fn draw(c: &mut Criterion) {
    use parlab::ui::{app::App, draw, theme::Theme};
    use ratatui::{backend::TestBackend, Terminal};
    let mut spec = parlab::engine::RunSpec::new(
        parlab::workload::find("fib").unwrap(),
        parlab::strategy::find("queue").unwrap(),
    );
    spec.workload.set("inputs", vec![20u64; 16]);
    spec.workers = Some(2);
    let f = parlab::headless::run(spec.clone()).unwrap();
    let mut app = App::new(spec, 30);
    app.lab = f.lab;
    app.info = Some(f.meta);
    app.outcome = Some(f.outcome);
    let theme = Theme {
        color: true,
        light: false,
    };
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("full frame at 200x60", |b| {
        b.iter(|| {
            terminal.draw(|fr| draw(fr, &app, &theme)).unwrap();
        })
    });
}

/// Keeping a batch: one frame of 256 events into a recording in memory,
/// then reading the recording back and decoding its events.
fn recording(c: &mut Criterion) {
    use parlab::recording::{read::parse, Recorder};
    let spec = parlab::engine::RunSpec::new(
        parlab::workload::find("collatz").unwrap(),
        parlab::strategy::find("pool").unwrap(),
    );
    let workload = parlab::workload::build(&spec.workload).unwrap();
    let meta = parlab::source::Meta::native(
        &spec,
        workload.as_ref(),
        workload.tasks(),
        2,
        Clock::start(),
    );
    let batch: Batch = (0..256u32)
        .map(|i| Event {
            t: 1_000_000 + i as u64 * 25_000,
            lane: 1,
            kind: EventKind::State(WorkerState::ALL[i as usize % WorkerState::COUNT]),
        })
        .collect();
    let mut g = c.benchmark_group("recording");
    g.throughput(Throughput::Elements(256));
    let mut rec = Recorder::memory();
    rec.begin(&meta);
    g.bench_function("a batch of 256 events written", |b| {
        b.iter(|| rec.events(black_box(&batch)))
    });
    let mut small = Recorder::memory();
    small.begin(&meta);
    for _ in 0..64 {
        small.events(&batch);
    }
    let bytes: std::sync::Arc<[u8]> = small.into_bytes().unwrap().into();
    g.throughput(Throughput::Elements(64 * 256));
    g.bench_function("64 batches read back and decoded", |b| {
        b.iter(|| {
            let r = parse(std::path::Path::new("bench"), bytes.clone()).unwrap();
            black_box(r.runs[0].events().count())
        })
    });
    g.finish();
}

criterion_group!(benches, record, pipeline, frames, draw, recording);
criterion_main!(benches);
