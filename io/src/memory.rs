//! Giving memory back to the OS once the route tables have shrunk.
//!
//! glibc's allocator keeps what a program frees for its next allocations: after 300 brokers of
//! 10,000 topics each have gone, their 3 M queue entries and the bodies they were decoded from
//! stay in the process as free chunks scattered over several arenas (one per thread that
//! allocated), and the RSS stays near its peak (1.7 GB of 2.2). `malloc_trim(0)` hands every
//! whole free page of every arena back (`madvise(MADV_DONTNEED)`). It walks the free lists, so
//! it runs only when the tables have halved since the last time: a few times while a big
//! cluster drains away, never in a steady one. mimalloc was measured instead (docs/benchmarks.md)
//! and made registration bursts slower; this keeps glibc's speed and fixes only what it keeps.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many queue entries at their highest, nothing worth a trim was freed.
const TRIM_FROM_ENTRIES: usize = 10_000;

/// When to trim: the highest queue-entry count since the last trim.
#[derive(Debug, Default)]
pub(crate) struct Trimmer {
    high: AtomicUsize,
}

impl Trimmer {
    /// Called after each step with the tables' queue-entry count: trims when it is under half
    /// the highest since the last trim. Returns whether it trimmed.
    pub(crate) fn after_step(&self, entries: usize) -> bool {
        let high = self.high.fetch_max(entries, Ordering::Relaxed).max(entries);
        if high < TRIM_FROM_ENTRIES || entries >= high / 2 {
            return false;
        }
        // Another thread may trim at the same moment; that is harmless, just redundant.
        self.high.store(entries, Ordering::Relaxed);
        give_back();
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
