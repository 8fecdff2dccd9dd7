//! Latency statistics and report printing shared by the benchmarks.
//!
//! Every benchmark prints its report through [`say!`]; `ttx-bench all` captures those lines
//! (and the key figures given to [`figure`]) for the Markdown report while they are printed.
use std::sync::Mutex;
use std::time::Duration;

/// What a benchmark printed and its key figures, while captured.
#[derive(Debug, Default)]
pub struct Captured {
    pub text: String,
    /// (measure, value) in the order given.
    pub figures: Vec<(String, String)>,
}

static CAPTURE: Mutex<Option<Captured>> = Mutex::new(None);

/// Prints a line of a report (and keeps it while captured).
pub fn emit(line: String) {
    println!("{line}");
    if let Some(c) = CAPTURE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        c.text.push_str(&line);
        c.text.push('\n');
    }
}

/// Prints a report line: `println!` that `ttx-bench all` also captures.
macro_rules! say {
    () => {
        $crate::report::emit(String::new())
    };
    ($($t:tt)*) => {
        $crate::report::emit(format!($($t)*))
    };
}
pub(crate) use say;

/// Records a key figure of the running benchmark for the summary table of `ttx-bench all`
/// (nothing happens when not captured: the printed report carries the figure already).
pub fn figure(measure: impl Into<String>, value: impl Into<String>) {
    if let Some(c) = CAPTURE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        c.figures.push((measure.into(), value.into()));
    }
}

/// Starts capturing report lines and figures.
pub fn capture() {
    *CAPTURE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Captured::default());
}

/// Stops capturing; returns what was captured.
pub fn take() -> Captured {
    CAPTURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone)]
pub struct Latencies {
    sorted_ms: Vec<f64>,
}

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Latencies {
            sorted_ms: samples
                .into_iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
        }
    }
    pub fn count(&self) -> usize {
        self.sorted_ms.len()
    }
    /// Nearest-rank percentile in milliseconds (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> f64 {
        if self.sorted_ms.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.sorted_ms.len() as f64).ceil() as usize;
        self.sorted_ms[rank.clamp(1, self.sorted_ms.len()) - 1]
    }
    pub fn mean(&self) -> f64 {
        self.sorted_ms.iter().sum::<f64>() / self.sorted_ms.len().max(1) as f64
    }
    pub fn line(&self) -> String {
        format!(
            "n={} mean={:.2}ms p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
            self.count(),
            self.mean(),
            self.percentile(50.0),
            self.percentile(95.0),
            self.percentile(99.0),
            self.percentile(100.0)
        )
    }
}

/// Resident memory of this process in MiB (Linux), for reports of an in-process server.
pub fn rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The CPU model (Linux `/proc/cpuinfo`).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Total memory of the machine in GiB (Linux `/proc/meminfo`).
pub fn memory_gib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0 / 1024.0)
}

/// Total size of a directory tree in bytes.
pub fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let l = Latencies::new((1..=100).map(Duration::from_millis).collect());
        assert_eq!(l.percentile(50.0), 50.0);
        assert_eq!(l.percentile(95.0), 95.0);
        assert_eq!(l.percentile(99.0), 99.0);
        assert_eq!(l.percentile(100.0), 100.0);
    }
}
