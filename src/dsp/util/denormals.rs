//! Denormal (subnormal) protection for the audio path.
//!
//! Two layers, both used by `Engine::process_*`, so the plugin, the tests and the offline
//! renderer all get them:
//!
//! 1. [`DenormalGuard`]: flush-to-zero (FTZ) and denormals-are-zero (DAZ) in the CPU's
//!    floating-point control register for the duration of one process call, restored when the
//!    guard is dropped. Subnormal arithmetic costs tens to hundreds of cycles per operation on
//!    x86 (a recursive filter decaying into silence, or a host feeding subnormal input, can make
//!    a block many times slower); with FTZ/DAZ it runs at normal speed.
//!    - x86-64: MXCSR bit 15 (FTZ: subnormal results become 0) and bit 6 (DAZ: subnormal
//!      operands read as 0). Intel SDM Vol. 1, 10.2.3.3 and 10.2.3.4. Every x86-64 CPU has
//!      DAZ (it predates x86-64 on Intel's side and AMD64 had it from the start), so setting the
//!      bit cannot fault.
//!    - AArch64: FPCR bit 24 (FZ), which flushes subnormal inputs *and* results for
//!      scalar FP and Advanced SIMD (Arm ARM, FPCR).
//!    - Elsewhere: nothing; layer 2 still holds.
//! 2. [`flush_output`]: a last pass over the output that turns every subnormal or non-finite
//!    sample into 0. FTZ only acts on arithmetic: a plain copy (the delayed original on the B
//!    path, a bypass) passes a subnormal input through unchanged, and a host is entitled to
//!    receive none (clap-validator checks every output sample).

use std::marker::PhantomData;

/// MXCSR flush-to-zero (bit 15).
#[cfg(target_arch = "x86_64")]
const MXCSR_FTZ: u32 = 1 << 15;
/// MXCSR denormals-are-zero (bit 6).
#[cfg(target_arch = "x86_64")]
const MXCSR_DAZ: u32 = 1 << 6;
/// FPCR flush-to-zero (bit 24).
#[cfg(target_arch = "aarch64")]
const FPCR_FZ: u64 = 1 << 24;

/// Sets FTZ and DAZ on the current thread while alive; restores the previous control register
/// value when dropped (so a host that runs other plugins on the same thread sees its own
/// setting again). Not `Send`: the register belongs to the thread that created the guard.
pub struct DenormalGuard {
    /// The control register as found, if the guard changed it.
    #[cfg(target_arch = "x86_64")]
    saved: Option<u32>,
    #[cfg(target_arch = "aarch64")]
    saved: Option<u64>,
    _not_send: PhantomData<*const ()>,
}

impl DenormalGuard {
    /// Enables FTZ/DAZ until the guard is dropped. A few cycles when they are already set,
    /// about two dozen when the register is written.
    #[inline]
    #[must_use = "the flags are restored when the guard is dropped"]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let csr = read_mxcsr();
            let wanted = csr | MXCSR_FTZ | MXCSR_DAZ;
            let saved = (wanted != csr).then(|| {
                write_mxcsr(wanted);
                csr
            });
            Self {
                saved,
                _not_send: PhantomData,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let fpcr = read_fpcr();
            let wanted = fpcr | FPCR_FZ;
            let saved = (wanted != fpcr).then(|| {
                write_fpcr(wanted);
                fpcr
            });
            Self {
                saved,
                _not_send: PhantomData,
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            Self {
                _not_send: PhantomData,
            }
        }
    }
}

impl Default for DenormalGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DenormalGuard {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if let Some(csr) = self.saved {
            write_mxcsr(csr);
        }
        #[cfg(target_arch = "aarch64")]
        if let Some(fpcr) = self.saved {
            write_fpcr(fpcr);
        }
    }
}

/// Whether flush-to-zero is in effect on this thread right now (for tests).
pub fn flush_to_zero_active() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & (MXCSR_FTZ | MXCSR_DAZ) == MXCSR_FTZ | MXCSR_DAZ
    }
    #[cfg(target_arch = "aarch64")]
    {
        read_fpcr() & FPCR_FZ != 0
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn read_mxcsr() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: `stmxcsr` stores the 32-bit MXCSR to the address given, which is a valid,
    // aligned, writable `u32` on our stack; it changes no register and no flag. SSE is part of
    // the x86-64 baseline, so the instruction always exists.
    unsafe {
        std::arch::asm!(
            "stmxcsr [{}]",
            in(reg) &mut csr,
            options(nostack, preserves_flags)
        );
    }
    csr
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn write_mxcsr(csr: u32) {
    // SAFETY: `ldmxcsr` loads MXCSR from a valid, aligned `u32` on our stack. The only values
    // written are the register as read by `read_mxcsr` with FTZ and DAZ added (both supported by
    // every x86-64 CPU, so no #GP from reserved bits), or that original value restored; the
    // exception masks and the rounding mode are never touched. Rust's documentation calls a
    // non-default FTZ/DAZ undefined behaviour because the compiler assumes IEEE semantics (it
    // may constant-fold a subnormal that the CPU would flush). What that allows here is limited
    // to values in the subnormal range (smaller than 1.2e-38) coming out as themselves or as 0:
    // exactly the difference this guard is for, which `flush_output` removes from the output
    // either way. No memory access in this crate depends on such a value.
    unsafe {
        std::arch::asm!(
            "ldmxcsr [{}]",
            in(reg) &csr,
            options(nostack, preserves_flags, readonly)
        );
    }
}

#[cfg(target_arch = "aarch64")]
#[inline]
fn read_fpcr() -> u64 {
    let fpcr: u64;
    // SAFETY: reading FPCR is allowed at EL0 and has no side effects.
    unsafe {
        std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
    }
    fpcr
}

#[cfg(target_arch = "aarch64")]
#[inline]
fn write_fpcr(fpcr: u64) {
    // SAFETY: writing FPCR is allowed at EL0. The only values written are the register as read
    // by `read_fpcr` with FZ added, or that original value restored; rounding mode and trap
    // enables are never touched. On what Rust's floating-point model says about FZ, see
    // `write_mxcsr`: the effect is limited to subnormal values, which is the point.
    unsafe {
        std::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags));
    }
}

/// Replaces every subnormal and every non-finite sample (NaN, ±Inf) by 0; normal values and
/// (signed) zeros pass unchanged, bit for bit. Integer compares and a select per sample
/// (vectorised).
///
/// Works on the bits, not with float comparisons: under DAZ (inside a [`DenormalGuard`]) a
/// subnormal operand *compares* equal to zero, so `x == 0.0` would keep it.
#[inline]
pub fn flush_output(samples: &mut [f32]) {
    const EXPONENT: u32 = 0x7f80_0000;
    for x in samples.iter_mut() {
        let bits = x.to_bits();
        let exponent = bits & EXPONENT;
        // Exponent 0: zero or subnormal; all ones: Inf or NaN (IEEE 754 binary32).
        let normal = exponent != 0 && exponent != EXPONENT;
        let zero = bits & !(1 << 31) == 0;
        *x = f32::from_bits(if normal || zero { bits } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subnormal produced by arithmetic the optimiser cannot fold (the operands come through
    /// `black_box`).
    fn halve(x: f32) -> f32 {
        std::hint::black_box(x) * std::hint::black_box(0.5)
    }

    #[test]
    fn guard_flushes_subnormal_results_and_inputs_and_restores_the_register() {
        let smallest_normal = f32::MIN_POSITIVE;
        assert!(
            halve(smallest_normal).is_subnormal(),
            "IEEE default outside the guard"
        );
        assert!(!flush_to_zero_active());
        {
            let _guard = DenormalGuard::new();
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert!(flush_to_zero_active());
                // FTZ: a result below the normal range becomes 0.
                assert_eq!(halve(smallest_normal), 0.0);
                // DAZ: a subnormal operand reads as 0, so 1e-39 * 2^20 is 0, not 1.05e-33.
                let sub = std::hint::black_box(1e-39f32);
                assert!(sub.is_subnormal());
                assert_eq!(sub * std::hint::black_box(1048576.0f32), 0.0);
                // Nested guards leave the outer one's setting in place.
                {
                    let _inner = DenormalGuard::new();
                }
                assert!(flush_to_zero_active());
            }
        }
        assert!(
            !flush_to_zero_active(),
            "the guard must restore the register"
        );
        assert!(halve(smallest_normal).is_subnormal());
    }

    #[test]
    fn flush_output_zeroes_subnormals_and_non_finite_and_keeps_the_rest() {
        let mut x = [
            1.0e-39,
            -1.0e-45,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            -0.0,
            0.25,
            -3.0,
        ];
        let mut under_guard = x;
        flush_output(&mut x);
        {
            // Inside the guard (DAZ on), as the engine calls it.
            let _guard = DenormalGuard::new();
            flush_output(&mut under_guard);
        }
        let expected = [
            0.0,
            0.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            0.0,
            0.0,
            0.0,
            f32::MAX,
            -0.0,
            0.25,
            -3.0,
        ];
        for (got, want) in x.iter().chain(&under_guard).zip(expected.iter().cycle()) {
            assert_eq!(got.to_bits(), want.to_bits(), "{got} vs {want}");
        }
    }
}
