//! A background thread for work the audio thread must not do (designing FIR kernels: FFTs and
//! allocation), shared by the linear-phase EQ's designer and the multiband's linear-phase
//! crossover designer.
//!
//! The audio thread never wakes it (an unpark may be a syscall): the thread polls its work
//! every [`POLL_INTERVAL`], waiting parked, so dropping the handle wakes it at once instead of
//! waiting out the interval (the plugin replaces its designers in every `activate`, on the
//! host's main thread).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a designer looks for work. 10 ms is well below what an engineer perceives as lag
/// while dragging an EQ node or a crossover, and an idle wake-up every 10 ms costs nothing
/// measurable.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Owns a designer thread; stops and joins it on drop without waiting for its poll interval.
pub struct DesignerThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DesignerThread {
    /// Spawns a thread named `name` that calls `poll` every [`POLL_INTERVAL`] until `poll`
    /// returns `false` (its work source is gone) or the handle is dropped. If the thread
    /// cannot be spawned the handle is inert (the caller's audio side keeps what it has).
    pub fn spawn(name: &str, mut poll: impl FnMut() -> bool + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !thread_stop.load(Ordering::Acquire) {
                    if !poll() {
                        break;
                    }
                    // Returns early when `drop` unparks this thread (or spuriously: the loop
                    // just looks again).
                    std::thread::park_timeout(POLL_INTERVAL);
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for DesignerThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // The park token makes the thread's next (or current) `park_timeout` return at once,
            // so it sees `stop` without a race.
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
