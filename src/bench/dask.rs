//! What watching a Dask cluster adds to what the class sees: from a task's
//! compute end on a worker to its event in parlab (median ≤ 10 ms), on a
//! scheduler and one worker started on this machine. Needs a Python with
//! Dask (`python3`, or `PARLAB_DASK_PYTHON`); without one, says so.

use super::Scale;
use anyhow::Result;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The budget for the median latency (ms).
pub const BUDGET_MS: f64 = 10.0;

/// The section's figures, or why there are none.
pub fn measure(scale: Scale) -> Result<Value> {
    let python = std::env::var("PARLAB_DASK_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_dask = Command::new(&python)
        .args(["-c", "import distributed"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_dask {
        return Ok(json!({ "note": format!(
            "{python} has no Dask: not measured ({}; or name one in PARLAB_DASK_PYTHON)",
            crate::source::dask::INSTALL
        ) }));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let address = format!("tcp://127.0.0.1:{port}");
    let mut cluster = Cluster(Vec::new());
    cluster.start(
        &python,
        &[
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--no-dashboard",
        ],
    )?;
    cluster.start(
        &python,
        &[
            "distributed.cli.dask_worker",
            &address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
        ],
    )?;
    client(&python, &address, "c.wait_for_workers(1, timeout=30)")?;
    let source = crate::source::dask::start(&["--python".into(), python.clone(), address.clone()])?;
    let tasks = if scale.quick { 20 } else { 200 };
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let (py, addr) = (python.clone(), address.clone());
    // Tasks of about 10 ms, one after another on the one worker thread: long
    // enough that their starts are seen, which carry the worker's clock.
    let submit = std::thread::spawn(move || {
        let r = client(&py, &addr, &format!(
            "import time\ndef f(i):\n    t = time.perf_counter()\n    while time.perf_counter() - t < 0.01: pass\n    return i\n\
             assert sorted(c.gather(c.map(f, range({tasks})))) == list(range({tasks}))"
        ));
        // The last ends reach parlab a few ms later.
        std::thread::sleep(std::time::Duration::from_millis(300));
        d.store(true, Ordering::Relaxed);
        r
    });
    let finished = crate::headless::drain(source, || done.load(Ordering::Relaxed), None, None)?;
    submit
        .join()
        .map_err(|_| anyhow::anyhow!("the submitting thread panicked"))??;
    let dask = finished
        .outcome
        .extension(crate::strategy::Figures::Dask)
        .cloned()
        .unwrap_or(Value::Null);
    Ok(json!({
        "tasks": tasks,
        "end_latency_ms": dask["end_latency_ms"],
        "budget_ms": BUDGET_MS,
        "version": dask["version"],
    }))
}

/// Run `code` with a client `c` of the cluster at `address`.
fn client(python: &str, address: &str, code: &str) -> Result<()> {
    let ok = Command::new(python)
        .arg("-c")
        .arg(format!(
            "from distributed import Client\nc = Client({address:?}, timeout=20)\n{code}"
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?
        .success();
    anyhow::ensure!(ok, "the bench's Dask client failed ({code})");
    Ok(())
}

/// A scheduler and a worker, killed when dropped.
struct Cluster(Vec<Child>);

impl Cluster {
    fn start(&mut self, python: &str, args: &[&str]) -> Result<()> {
        let mut cmd = Command::new(python);
        cmd.arg("-m")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        crate::child::in_own_group(&mut cmd, libc::SIGKILL);
        self.0.push(cmd.spawn()?);
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.0 {
            crate::child::kill_group(c);
            let _ = c.wait();
        }
    }
}
