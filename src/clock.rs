//! One clock per run, shared by every thread and every worker process.
//!
//! Timestamps are nanoseconds since the run's origin on the machine-wide
//! monotonic clock, so a child process can stamp its own events on the same
//! axis as parlab: it is told the origin and reads the same clock.

/// Nanoseconds on the machine-wide monotonic clock (the same value in every process).
#[cfg(unix)]
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on Linux and macOS.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Portable fallback: the system clock is shared by processes, though not monotonic.
#[cfg(not(unix))]
pub fn monotonic_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// CPU time of the calling thread, in nanoseconds (0 where not measured).
#[cfg(unix)]
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-parameter; the clock exists on Linux and macOS.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CPU time of the calling thread: not measured on this platform.
#[cfg(not(unix))]
pub fn thread_cpu_ns() -> u64 {
    0
}

/// The run's clock: nanoseconds since its origin.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Clock {
    origin: u64,
}

impl Clock {
    /// A clock whose origin is now.
    pub fn start() -> Self {
        Self {
            origin: monotonic_ns(),
        }
    }

    /// A clock on an origin received from elsewhere (a worker process).
    pub fn from_origin(origin: u64) -> Self {
        Self { origin }
    }

    /// The origin, to hand to a worker process.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Nanoseconds since the origin.
    pub fn now(&self) -> u64 {
        monotonic_ns().saturating_sub(self.origin)
    }
}

/// Milliseconds as a float, the unit of every `*_ms` field.
pub fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Wall-clock `HH:MM:SS.mmm` in local time, like Python's logging.
pub fn wall_clock_hms(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let millis = since.subsec_millis();
    let (h, m, s) = local_hms(secs);
    format!("{h:02}:{m:02}:{s:02}.{millis:03}")
}

/// `YYYY-MM-DD HH:MM UTC` of `secs` since the Unix epoch (a recording's date).
pub fn utc_minute(secs: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min, _) = utc_hms(secs as i64);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02} UTC")
}

#[cfg(unix)]
fn local_hms(secs: i64) -> (i32, i32, i32) {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: zeroed `tm` is a valid out-parameter; localtime_r is thread-safe.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        (tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        utc_hms(secs)
    }
}

#[cfg(not(unix))]
fn local_hms(secs: i64) -> (i32, i32, i32) {
    utc_hms(secs)
}

fn utc_hms(secs: i64) -> (i32, i32, i32) {
    let day = secs.rem_euclid(86_400) as i32;
    (day / 3600, day / 60 % 60, day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_starts_near_zero() {
        let c = Clock::start();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(a < 1_000_000_000);
    }

    #[test]
    fn utc_minute_is_the_calendar_date() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_796_472_000), "2026-12-05 12:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn hms_is_well_formed() {
        let s = wall_clock_hms(std::time::SystemTime::now());
        assert_eq!(s.len(), 12);
        assert_eq!(&s[2..3], ":");
        assert_eq!(&s[8..9], ".");
    }
}
