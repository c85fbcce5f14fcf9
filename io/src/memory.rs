//! Giving memory back to the OS once the route tables have shrunk.
//!
//! glibc's allocator keeps what a program frees for its next allocations: after 300 brokers of
//! 10,000 topics each have gone, their 3 M queue entries and the bodies they were decoded from
//! stay in the process as free chunks scattered over several arenas (one per thread that
//! allocated), and the RSS stays near its peak (1.7 GB of 2.2). `malloc_trim(0)` hands every
//! whole free page of every arena back (`madvise(MADV_DONTNEED)`). It walks the free lists, so
//! it runs only when the tables have halved since the last time: a few times while a big
//! cluster drains away, never in a steady one. And it runs a second after the shrink that
//! asked for it, on a thread of its own: done in the step, it made "1,000 broker connections
//! closed at once" 15% slower (each trim takes the arena locks the closes free into). mimalloc was measured instead (docs/benchmarks.md)
//! and made registration bursts slower; this keeps glibc's speed and fixes only what it keeps.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Below this many queue entries at their highest, nothing worth a trim was freed.
const TRIM_FROM_ENTRIES: usize = 10_000;

/// How long after the shrink that asks for it a trim runs.
const TRIM_DELAY: Duration = Duration::from_secs(1);

/// When to trim: the highest queue-entry count since the last trim, and whether a trim is
/// already on its way.
#[derive(Debug, Default)]
pub(crate) struct Trimmer {
    high: AtomicUsize,
    pending: Arc<AtomicBool>,
}

impl Trimmer {
    /// Called after each step (from within the runtime) with the tables' queue-entry count:
    /// when it is under half the highest since the last trim, a trim is scheduled
    /// [`TRIM_DELAY`] later, unless one already is. Returns whether it scheduled one.
    pub(crate) fn after_step(&self, entries: usize) -> bool {
        let high = self.high.fetch_max(entries, Ordering::Relaxed).max(entries);
        if high < TRIM_FROM_ENTRIES || entries >= high / 2 {
            return false;
        }
        self.high.store(entries, Ordering::Relaxed);
        if self.pending.swap(true, Ordering::AcqRel) {
            return false;
        }
        let pending = self.pending.clone();
        tokio::spawn(async move {
            tokio::time::sleep(TRIM_DELAY).await;
            pending.store(false, Ordering::Release);
            // Under madsim, spawn_blocking (deprecated there) runs it as a simulated task.
            #[allow(deprecated)]
            let _ = tokio::task::spawn_blocking(give_back).await;
        });
        true
    }
}

/// Returns free memory to the OS, where the allocator can.
fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and releases the allocator's own free memory; it takes
    // the arena locks itself and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
