//! The one place the chain asks the CPU what it can do.
//!
//! Hot kernels (K-weighting, correlation sums, the true-peak interpolator) have an explicit
//! vector version compiled with `#[target_feature]` and a portable twin that is the reference:
//! each pair sits side by side in its own module (`meters/k_weighting.rs`,
//! `meters/correlation.rs`, `meters/true_peak.rs`) with a test that the two agree. Which one
//! runs is decided here, by [`supports`], and nowhere else.
//!
//! Detection uses `std::arch::is_x86_feature_detected!`, which caches its answer in an atomic
//! after the first query: no syscall, lock or allocation on the audio thread.

/// Instruction-set levels the kernels are written for, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain Rust; what the compiler's baseline target gives (SSE2 on x86-64).
    Portable,
    /// x86-64 AVX with FMA (Intel Sandy Bridge+Haswell FMA3 / AMD Piledriver and later).
    AvxFma,
    /// x86-64 AVX2 with FMA (Intel Haswell / AMD Excavator and later).
    Avx2Fma,
    /// x86-64 AVX-512 Foundation on top of AVX2 and FMA (Intel Skylake-SP / AMD Zen 4 and
    /// later): 16 f32 lanes and 32 vector registers.
    Avx512,
}

/// The highest [`Level`] this CPU supports.
#[inline]
pub fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("fma");
        if fma && std::arch::is_x86_feature_detected!("avx2") {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Level::Avx512;
            }
            return Level::Avx2Fma;
        }
        if fma && std::arch::is_x86_feature_detected!("avx") {
            return Level::AvxFma;
        }
    }
    Level::Portable
}

/// True if the CPU can run code compiled for `needed`: the single dispatch check of the crate.
///
/// This is the safety contract of every `#[target_feature]` kernel: it is called only inside
/// `if simd::supports(L) { ... }` where `L` names exactly the features the kernel is compiled
/// for, so it only ever runs on a CPU that has them.
#[inline]
pub fn supports(needed: Level) -> bool {
    level() >= needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_support_follows_the_cpu() {
        assert!(Level::Portable < Level::AvxFma && Level::AvxFma < Level::Avx2Fma);
        assert!(Level::Avx2Fma < Level::Avx512);
        assert!(supports(Level::Portable));
        let cpu = level();
        for needed in [
            Level::Portable,
            Level::AvxFma,
            Level::Avx2Fma,
            Level::Avx512,
        ] {
            assert_eq!(
                supports(needed),
                cpu >= needed,
                "{needed:?} on a {cpu:?} CPU"
            );
        }
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            supports(Level::Avx2Fma),
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        );
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            supports(Level::Avx512),
            supports(Level::Avx2Fma) && std::arch::is_x86_feature_detected!("avx512f")
        );
        eprintln!("this CPU: {cpu:?}");
    }
}
