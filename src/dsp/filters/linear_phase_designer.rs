//! Background thread that redesigns the linear-phase EQ kernels off the audio thread.
//!
//! The audio thread pushes the new [`LinearPhaseDesign`] (the EQ settings and the match curve,
//! a `Copy` value, so the push never allocates)
//! into a wait-free `rtrb` ring; this thread polls it, designs the FIRs (a few ms of FFT work and
//! allocation) and hands the prepared kernels back through the convolver's own lock-free
//! hand-over, which also returns retired kernels here to be freed.

use crate::dsp::filters::eq::EqSettings;
use crate::dsp::filters::linear_phase::{KernelSender, LinearPhaseKernels};
use crate::dsp::filters::match_curve::MatchCurve;
use crate::dsp::util::designer_thread::DesignerThread;

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

/// Requests waiting for the designer; the designer always jumps to the newest.
const REQUEST_QUEUE_CAPACITY: usize = 64;

/// Owns the designer thread ([`DesignerThread`]: stopped and joined on drop, at once).
pub struct LinearPhaseDesigner {
    _thread: DesignerThread,
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
        let thread = DesignerThread::spawn("fairmaster-linear-phase", move || {
            let mut latest = None;
            while let Ok(settings) = consumer.pop() {
                latest = Some(settings);
            }
            if let Some(settings) = latest {
                let kernels = settings.kernels(sample_rate);
                // A full queue means the audio thread is not running: retry later by dropping
                // this design; the next request supersedes it anyway.
                let _ = sender.send(Box::new(kernels));
            }
            sender.collect_garbage();
            !consumer.is_abandoned()
        });
        (Self { _thread: thread }, producer)
    }
}

#[cfg(test)]
mod tests {
    use crate::chain::Chain;
    use crate::dsp::util::designer_thread::POLL_INTERVAL;
    use std::time::{Duration, Instant};

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
