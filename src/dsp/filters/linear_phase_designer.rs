//! Background thread that redesigns the linear-phase EQ kernels off the audio thread.
//!
//! The audio thread pushes the new [`LinearPhaseDesign`] (the EQ settings and the match curve,
//! a `Copy` value, so the push never allocates)
//! into a wait-free `rtrb` ring; this thread polls it, designs the FIRs (a few ms of FFT work and
//! allocation) and hands the prepared kernels back through the convolver's own lock-free
//! hand-over, which also returns retired kernels here to be freed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::dsp::filters::eq::EqSettings;
use crate::dsp::filters::linear_phase::{KernelSender, LinearPhaseKernels};
use crate::dsp::filters::match_curve::MatchCurve;

/// What the linear-phase FIRs realise: the parametric bands and the match EQ's curve, in one
/// kernel per path.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct LinearPhaseDesign {
    pub eq: EqSettings,
    pub curve: MatchCurve,
}

impl LinearPhaseDesign {
    /// Designs the kernels (non-realtime; allocates).
    pub fn kernels(&self, sample_rate: f32) -> LinearPhaseKernels {
        LinearPhaseKernels::for_eq(&self.eq, &self.curve, sample_rate)
    }
}

/// How often the designer looks for work. 10 ms is well below what an engineer perceives as
/// lag while dragging an EQ node, and an idle wake-up every 10 ms costs nothing measurable.
/// (The audio thread cannot wake it: an unpark may be a syscall.) It waits parked, so dropping
/// the designer wakes it at once instead of waiting out the interval.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Requests waiting for the designer; the designer always jumps to the newest.
const REQUEST_QUEUE_CAPACITY: usize = 64;

/// Owns the designer thread; stops and joins it on drop, without waiting for its poll interval
/// (the plugin replaces the designer in every `activate`, on the host's main thread, and a
/// sleeping designer made each reactivation wait up to 10 ms).
pub struct LinearPhaseDesigner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LinearPhaseDesigner {
    /// Spawns a designer for `sample_rate` that sends its kernels through `sender`; returns it
    /// with the producer the audio thread queues designs to (see
    /// `Chain::attach_linear_phase_designer`). Allocates and spawns a thread.
    pub fn spawn(
        sample_rate: f32,
        mut sender: KernelSender,
    ) -> (Self, rtrb::Producer<LinearPhaseDesign>) {
        let (producer, mut consumer) =
            rtrb::RingBuffer::<LinearPhaseDesign>::new(REQUEST_QUEUE_CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fairmaster-linear-phase".into())
            .spawn(move || {
                while !thread_stop.load(Ordering::Acquire) {
                    let mut latest = None;
                    while let Ok(settings) = consumer.pop() {
                        latest = Some(settings);
                    }
                    if let Some(settings) = latest {
                        let kernels = settings.kernels(sample_rate);
                        // A full queue means the audio thread is not running: retry later by
                        // dropping this design; the next request supersedes it anyway.
                        let _ = sender.send(Box::new(kernels));
                    }
                    sender.collect_garbage();
                    if consumer.is_abandoned() {
                        break;
                    }
                    // Returns early when `drop` unparks this thread (or spuriously: the loop
                    // just looks again).
                    std::thread::park_timeout(POLL_INTERVAL);
                }
            })
            .ok();
        (Self { stop, thread }, producer)
    }
}

impl Drop for LinearPhaseDesigner {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use std::time::Instant;

    #[test]
    fn dropping_the_designer_does_not_wait_for_its_poll_interval() {
        // Right after `attach` the thread is in its first wait; with a plain sleep every drop
        // waited for nearly the whole interval (~9 ms here). Parked, it wakes at once. The
        // fastest of 10 drops is compared, not the mean: load on a shared machine only ever
        // lengthens a drop, and the sleeping version is slow on every one of them.
        let mut chain = Chain::new();
        chain.reset(48_000.0);
        let fastest = (0..10)
            .map(|_| {
                let designer = chain.attach_linear_phase_designer();
                std::thread::sleep(Duration::from_millis(1)); // let it reach its wait
                let start = Instant::now();
                drop(designer);
                start.elapsed()
            })
            .min()
            .expect("ten drops");
        assert!(
            fastest < POLL_INTERVAL / 2,
            "the fastest drop took {fastest:?} (poll interval {POLL_INTERVAL:?})"
        );
    }
}
