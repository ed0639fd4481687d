//! What one plugin instance costs in memory, counted at the allocator (not RSS, which misses
//! allocated pages nobody has touched yet), and whether the audio thread page-faults: every
//! buffer it writes must be mapped before its first `process()` call (`dsp::util::resident`).
//!
//! The instance is created the way a DAW creates it, through the in-process CLAP host
//! (`common/clap_host.rs`): create + init, activate at 48 kHz with 512-frame blocks, process. A
//! first instance warms the process up (the CLAP entry, nice-plug's statics, the code pages of
//! the process path, the stack depth of a process call) and stays alive, so what is measured is
//! what one more insert adds.
//!
//! **How allocations are counted.** A `#[global_allocator]` cannot be used here: in debug builds
//! nice-plug's `assert_process_allocs` installs its own (`vendor/nice-plug/src/wrapper/util.rs`),
//! and a second one does not compile ("the `#[global_allocator]` in this crate conflicts with
//! global allocator in: nice_plug"). Both it and Rust's `System` allocator end in the C
//! library's `malloc` family, so this binary counts one level lower: it defines `malloc`,
//! `calloc`, `realloc`, `free` and the aligned variants itself (an executable's definitions take
//! precedence over glibc's for the whole process, the documented way to replace glibc's
//! allocator) and forwards each call to glibc's own implementation (`__libc_malloc`, ...).
//! Every Rust allocation passes through them, and so does any C library's. Live bytes are
//! glibc's usable sizes (what the allocator really set aside); the table of large allocations
//! keeps the sizes asked for. Linux with glibc only, like the project's CI.
//!
//! **How page faults are made visible.** Whether an allocation lands on pages the process has
//! written before depends on the heap's history, so a buffer left unwritten may or may not
//! fault. The page-fault tests switch the allocator to fresh pages while the measured objects
//! are built ([`counting::fresh_pages`]): every allocation of 1 KiB or more then gets pages no
//! one has touched, as glibc's large (`mmap`ed) allocations do, and whatever the code does not
//! write before `process()` faults there, every time. One limit: debug builds cannot show it
//! for zeroed allocations (`vec![0.0; n]`), because nice-plug's debug allocator has no zeroed
//! path and zeroes by hand, which writes every page; release builds use `calloc`, which does
//! not. The tests therefore see buffers left unwritten after `Vec::with_capacity` or a ring's
//! allocation in debug, and everything in `cargo test --release --test memory`. Measured there
//! before issue 26: 5 faults in the first `process()` call and 118 in the first 4 s of
//! [`sweep_a_then_b`] (the loudness histograms, written bin by bin); after it 0 and 0 (the last
//! two, in the limiters' sliding-minimum index rings, went with the block sliding minimum of
//! `dsp/dynamics/limiter.rs`, whose buffers are written when they are allocated).
//!
//! Run `cargo test --test memory -- --nocapture --test-threads 1` for the figures and the
//! table; add `FAIRMASTER_MEMORY_TRACE=1` to print where each large allocation was made.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use common::clap_host::{ClapParamEvent, ClapTestHost, ParamEvent, PARAM_EVENT_CAPACITY};
use fairmaster::dsp::util::resident::touch_pages;
use fairmaster::reference::align::{AlignCapture, ALIGN_CAPTURE_CAPACITY};
use fairmaster::reference::playback::Transport;
use fairmaster::shared_state::{
    spectrum_rings, MasterTapProducer, SpectrumConsumer, SpectrumProducer, MASTER_TAP_CAPACITY,
    SPECTRUM_RING_CAPACITY,
};

/// The counting replacement of glibc's allocator entry points. Atomics, const thread-locals
/// and fixed tables only: it never allocates itself (except to print a trace, on request).
mod counting {
    use super::*;
    use libc::{c_int, c_void};

    extern "C" {
        // glibc's own allocator, exported under these names so that a replacement can
        // forward to it (GLIBC_2.2.5).
        fn __libc_malloc(size: usize) -> *mut c_void;
        fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
        fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
        fn __libc_free(ptr: *mut c_void);
        fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
        fn __libc_valloc(size: usize) -> *mut c_void;
        fn __libc_pvalloc(size: usize) -> *mut c_void;
    }

    /// Allocations of at least this size are recorded one by one.
    pub const LARGE: usize = 16 * 1024;
    /// Slots of the table of large live allocations.
    pub const TABLE: usize = 512;

    pub static LIVE: AtomicIsize = AtomicIsize::new(0);
    /// Address (0 = free slot), requested size and sequence number of each recorded large
    /// allocation that is still live.
    pub static LARGE_PTR: [AtomicUsize; TABLE] = [const { AtomicUsize::new(0) }; TABLE];
    pub static LARGE_SIZE: [AtomicUsize; TABLE] = [const { AtomicUsize::new(0) }; TABLE];
    pub static LARGE_SEQ: [AtomicU64; TABLE] = [const { AtomicU64::new(0) }; TABLE];
    pub static SEQ: AtomicU64 = AtomicU64::new(1);
    /// Large allocations that found no free slot (the table would then under-report).
    pub static OVERFLOW: AtomicUsize = AtomicUsize::new(0);
    /// Print a backtrace for each large allocation while set (`FAIRMASTER_MEMORY_TRACE`).
    pub static TRACE: AtomicBool = AtomicBool::new(false);

    thread_local! {
        /// Allocations made by this thread. A const-initialised `Cell` without a destructor
        /// needs no allocation and no registration, so the allocator itself may use it.
        pub static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
        /// Set while this thread prints a trace (whose own allocations are not traced).
        static IN_TRACE: Cell<bool> = const { Cell::new(false) };
    }

    /// Page size the fresh-page mode lays allocations out in (x86-64 and most aarch64 Linux).
    const PAGE: usize = 4096;
    /// Address space reserved for the fresh-page mode (not backed until touched).
    const FRESH_REGION: usize = 1 << 32;
    /// Allocations smaller than this keep coming from glibc in the fresh-page mode.
    const FRESH_MIN: usize = 1024;
    /// While set, allocations of at least [`FRESH_MIN`] bytes get pages nobody has touched.
    static FRESH: AtomicBool = AtomicBool::new(false);
    static FRESH_BASE: AtomicUsize = AtomicUsize::new(0);
    static FRESH_NEXT: AtomicUsize = AtomicUsize::new(0);

    /// Switches the fresh-page mode: while on, every allocation of at least 1 KiB is placed at
    /// the start of its own pages, taken from an anonymous mapping no one has written (a
    /// header page before them holds its size): memory the program does not write stays
    /// unmapped, as glibc's own large (`mmap`ed) allocations do, whatever the heap's history.
    /// The pages are never reused; freeing only updates the counts.
    pub fn fresh_pages(on: bool) {
        if on && FRESH_BASE.load(Ordering::Acquire) == 0 {
            // SAFETY: an anonymous private mapping at an address of the kernel's choosing; it
            // overlaps nothing and stays mapped for the rest of the process.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    FRESH_REGION,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            assert_ne!(
                base,
                libc::MAP_FAILED,
                "could not reserve the fresh-page region"
            );
            FRESH_BASE.store(base as usize, Ordering::Release);
        }
        FRESH.store(on, Ordering::SeqCst);
    }

    /// A fresh-page allocation of `size` bytes aligned to `align`, or null when the mode is
    /// off, the request is small or over-aligned, or the region is used up (glibc serves it).
    fn fresh_alloc(size: usize, align: usize) -> *mut c_void {
        if !FRESH.load(Ordering::Relaxed) || size < FRESH_MIN || align > PAGE {
            return std::ptr::null_mut();
        }
        let base = FRESH_BASE.load(Ordering::Acquire);
        let total = (size.div_ceil(PAGE) + 1) * PAGE;
        let offset = FRESH_NEXT.fetch_add(total, Ordering::Relaxed);
        if base == 0 || offset + total > FRESH_REGION {
            return std::ptr::null_mut();
        }
        let header = (base + offset) as *mut usize;
        // SAFETY: `header` is the first word of a page of the region reserved for this
        // allocation alone (the bump offset is never handed out twice), mapped writable.
        unsafe { header.write(size) };
        (base + offset + PAGE) as *mut c_void
    }

    fn is_fresh(ptr: *mut c_void) -> bool {
        let base = FRESH_BASE.load(Ordering::Acquire);
        base != 0 && (ptr as usize).wrapping_sub(base) < FRESH_REGION
    }

    /// Bytes the allocator set aside for `ptr` (non-null, allocated, not yet freed).
    fn usable(ptr: *mut c_void) -> usize {
        if is_fresh(ptr) {
            // SAFETY: a fresh-page allocation has its size in the first word of the page
            // before it, written by `fresh_alloc` and never changed.
            return unsafe { ((ptr as usize - PAGE) as *const usize).read() };
        }
        // SAFETY: every caller passes a non-null pointer that glibc's allocator returned and
        // that has not been freed yet, as `malloc_usable_size` requires.
        unsafe { libc::malloc_usable_size(ptr) }
    }

    fn added(ptr: *mut c_void, requested: usize) {
        if ptr.is_null() {
            return;
        }
        LIVE.fetch_add(usable(ptr) as isize, Ordering::Relaxed);
        let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
        if requested < LARGE {
            return;
        }
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        if TRACE.load(Ordering::Relaxed) {
            trace(seq, requested);
        }
        for i in 0..TABLE {
            if LARGE_PTR[i]
                .compare_exchange(0, ptr as usize, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                LARGE_SIZE[i].store(requested, Ordering::Relaxed);
                LARGE_SEQ[i].store(seq, Ordering::Release);
                return;
            }
        }
        OVERFLOW.fetch_add(1, Ordering::Relaxed);
    }

    /// Prints where allocation `seq` was made: our source lines of the call stack. Allocates
    /// (the backtrace), so it runs only on request and never for its own allocations.
    fn trace(seq: u64, requested: usize) {
        if IN_TRACE.try_with(|t| t.replace(true)).unwrap_or(true) {
            return;
        }
        let backtrace = std::backtrace::Backtrace::force_capture().to_string();
        let ours: Vec<&str> = backtrace
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("at ./src/") || l.starts_with("at ./vendor/"))
            .take(8)
            .collect();
        eprintln!("#{seq} {requested} B\n    {}", ours.join("\n    "));
        let _ = IN_TRACE.try_with(|t| t.set(false));
    }

    /// Accounts for `ptr` (non-null, still allocated) about to be freed.
    fn removing(ptr: *mut c_void) {
        forget(ptr, usable(ptr));
    }

    fn forget(ptr: *mut c_void, size: usize) {
        LIVE.fetch_sub(size as isize, Ordering::Relaxed);
        if size >= LARGE {
            for slot in &LARGE_PTR {
                if slot
                    .compare_exchange(ptr as usize, 0, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
            }
        }
    }

    /// # Safety
    /// As C's `malloc`.
    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        let mut p = fresh_alloc(size, 16);
        if p.is_null() {
            // SAFETY: forwards the caller's arguments to glibc's implementation.
            p = unsafe { __libc_malloc(size) };
        }
        added(p, size);
        p
    }

    /// # Safety
    /// As C's `calloc`.
    #[no_mangle]
    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        // Fresh pages read as zero, as `calloc` promises.
        let mut p = count
            .checked_mul(size)
            .map_or(std::ptr::null_mut(), |bytes| fresh_alloc(bytes, 16));
        if p.is_null() {
            // SAFETY: as for `malloc`.
            p = unsafe { __libc_calloc(count, size) };
        }
        added(p, count.saturating_mul(size));
        p
    }

    /// # Safety
    /// As C's `realloc`.
    #[no_mangle]
    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        if !ptr.is_null() && is_fresh(ptr) {
            // glibc does not know this block: move it by hand.
            // SAFETY: `malloc` takes any size.
            let p = unsafe { malloc(size.max(1)) };
            if !p.is_null() {
                // SAFETY: both blocks are allocated, distinct, and at least this long.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        ptr as *const u8,
                        p as *mut u8,
                        usable(ptr).min(size),
                    )
                };
                // SAFETY: `ptr` is allocated and not used again.
                unsafe { free(ptr) };
            }
            return p;
        }
        // The old block's usable size must be read before glibc may free it.
        let old = (!ptr.is_null()).then(|| usable(ptr));
        // SAFETY: as for `malloc`.
        let p = unsafe { __libc_realloc(ptr, size) };
        // glibc frees `ptr` when it returns a block, and also for a size of 0 (returning null);
        // on failure (null for a non-zero size) `ptr` stays allocated.
        if let Some(old) = old {
            if !p.is_null() || size == 0 {
                forget(ptr, old);
            }
        }
        added(p, size);
        p
    }

    /// # Safety
    /// As C's `reallocarray`.
    #[no_mangle]
    pub unsafe extern "C" fn reallocarray(
        ptr: *mut c_void,
        count: usize,
        size: usize,
    ) -> *mut c_void {
        match count.checked_mul(size) {
            // SAFETY: the caller upholds `realloc`'s contract, which `reallocarray` shares.
            Some(bytes) => unsafe { realloc(ptr, bytes) },
            None => {
                // SAFETY: `__errno_location` returns this thread's `errno`, always valid.
                unsafe { *libc::__errno_location() = libc::ENOMEM };
                std::ptr::null_mut()
            }
        }
    }

    /// # Safety
    /// As C's `free`.
    #[no_mangle]
    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        if ptr.is_null() {
            return;
        }
        removing(ptr);
        if is_fresh(ptr) {
            return; // fresh pages are never reused
        }
        // SAFETY: as for `malloc`.
        unsafe { __libc_free(ptr) }
    }

    /// # Safety
    /// As C's `posix_memalign`.
    #[no_mangle]
    pub unsafe extern "C" fn posix_memalign(
        out: *mut *mut c_void,
        align: usize,
        size: usize,
    ) -> c_int {
        if !align.is_power_of_two() || !align.is_multiple_of(std::mem::size_of::<usize>()) {
            return libc::EINVAL;
        }
        let mut p = fresh_alloc(size, align);
        if p.is_null() {
            // SAFETY: as for `malloc`; `align` was checked as `posix_memalign` requires.
            p = unsafe { __libc_memalign(align, size) };
        }
        if p.is_null() {
            return libc::ENOMEM;
        }
        added(p, size);
        // SAFETY: the caller passes a valid `out`, as `posix_memalign` requires.
        unsafe { *out = p };
        0
    }

    /// # Safety
    /// As C's `aligned_alloc`.
    #[no_mangle]
    pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
        let mut p = fresh_alloc(size, align);
        if p.is_null() {
            // SAFETY: as for `malloc` (glibc's `aligned_alloc` is its `memalign`).
            p = unsafe { __libc_memalign(align, size) };
        }
        added(p, size);
        p
    }

    /// # Safety
    /// As C's `memalign`.
    #[no_mangle]
    pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
        let mut p = fresh_alloc(size, align);
        if p.is_null() {
            // SAFETY: as for `malloc`.
            p = unsafe { __libc_memalign(align, size) };
        }
        added(p, size);
        p
    }

    /// # Safety
    /// As C's `valloc`.
    #[no_mangle]
    pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
        // SAFETY: as for `malloc`.
        let p = unsafe { __libc_valloc(size) };
        added(p, size);
        p
    }

    /// # Safety
    /// As C's `pvalloc`.
    #[no_mangle]
    pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
        // SAFETY: as for `malloc`.
        let p = unsafe { __libc_pvalloc(size) };
        added(p, size);
        p
    }
}

use counting::{LARGE, LARGE_PTR, LARGE_SEQ, LARGE_SIZE, LIVE, OVERFLOW, SEQ, TABLE};

/// The tests of this file read process-wide counters: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn thread_allocs() -> u64 {
    counting::THREAD_ALLOCS.with(Cell::get)
}

/// The large allocations still live that were made since `SEQ` read `since`, as (sequence,
/// requested size), in the order they were made.
fn large_since(since: u64) -> Vec<(u64, usize)> {
    let mut v: Vec<(u64, usize)> = (0..TABLE)
        .filter(|&i| LARGE_PTR[i].load(Ordering::Acquire) != 0)
        .map(|i| {
            (
                LARGE_SEQ[i].load(Ordering::Acquire),
                LARGE_SIZE[i].load(Ordering::Relaxed),
            )
        })
        .filter(|&(seq, _)| seq >= since)
        .collect();
    v.sort_unstable();
    v
}

/// Minor page faults of the calling thread so far (`getrusage(RUSAGE_THREAD)`).
fn thread_minor_faults() -> i64 {
    // SAFETY: `rusage` is plain C data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_THREAD) failed");
    usage.ru_minflt
}

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

/// What a large allocation of `size` bytes is, by the sizes the code gives them (48 kHz,
/// 512-frame blocks); `None` for a size not listed (`FAIRMASTER_MEMORY_TRACE=1` tells).
fn what(size: usize) -> Option<&'static str> {
    let f32s = |n: usize| n * 4;
    Some(match size {
        s if s == f32s(ALIGN_CAPTURE_CAPACITY) => "AlignCapture buffer (reference::align)",
        s if s == f32s(MASTER_TAP_CAPACITY) => "master tap ring (shared_state)",
        s if s == f32s(MASTER_TAP_CAPACITY / 2) => "master tap drain buffer, editor side",
        s if s == f32s(SPECTRUM_RING_CAPACITY) => "spectrum ring (shared_state)",
        80_000 => "loudness histogram: 10 000 bins x 8 B (dsp::meters::loudness_histogram)",
        262_144 => "A/B dry delay line: one channel of a 65 536-frame ring (dsp::util::delay)",
        65_536 => {
            "A/B dry delay line: one channel of a 16 384-frame ring; or the test host's event \
             log (PARAM_EVENT_CAPACITY x 16 B); or a tonal-analyser buffer (editor side)"
        }
        49_200 => {
            "linear-phase EQ: a convolver's delay line (re or im) or a unity kernel's spectra, \
             12 partitions x 1025 bins x 4 B (dsp::filters::partitioned_convolver)"
        }
        49_148 => "linear-phase EQ: a unity FIR being partitioned (12 287 taps x 4 B)",
        24_576 | 98_304 => "nice-plug's CLAP wrapper: event and task queues",
        49_152 => "nice-plug's CLAP wrapper: a queue; or an FFT plan of the tonal analyser",
        38_912 | 39_040 => "nice-plug's CLAP wrapper (Arc<Wrapper>, the plugin struct inline)",
        32_760 | 32_772 | 262_176 | 65_544 => "tonal analyser (analysis::tonal), editor side",
        16_384 | 16_392 => "spectrum analyzer FFT buffers (editor::spectrum)",
        _ => return None,
    })
}

/// A quiet stereo tone, `blocks` blocks long.
fn tone(blocks: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    (0..blocks)
        .map(|b| {
            let l: Vec<f32> = (0..BLOCK)
                .map(|i| 0.1 * (((b * BLOCK + i) as f32) * 0.05).sin())
                .collect();
            (l.clone(), l)
        })
        .collect()
}

/// A host that has created, activated and run one instance, so that what the process sets up
/// once (the CLAP entry, statics, the code pages of the process path) is not counted against
/// the next one.
fn warmed_up() -> ClapTestHost {
    let mut host = ClapTestHost::new(FS, 1, BLOCK as u32, 2);
    for (l, r) in &mut tone(32) {
        host.process(l, Some(r), &[]);
    }
    host
}

/// A default insert (no reference loaded, Align never used, editor never opened) allocates
/// what it uses: measured as live bytes after create + init + activate and after processing,
/// with its large allocations listed. Before the lazy allocations of issue 26 it held
/// 11 343 904 bytes (the 3 MB AlignCapture, 4.2 MB of master tap, 256 KiB of spectrum rings,
/// 0.8 MB of editor analysers, 640 KB of loss-meter histograms, a 512 KiB dry delay line).
#[test]
fn a_default_insert_allocates_only_what_it_uses() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _warm = warmed_up();
    let mut blocks = tone(16);

    counting::TRACE.store(
        std::env::var_os("FAIRMASTER_MEMORY_TRACE").is_some(),
        Ordering::Relaxed,
    );
    let before = live();
    let mark = SEQ.load(Ordering::Relaxed);
    let mut host = ClapTestHost::new_inactive(2);
    let created = live();
    host.activate(FS, 1, BLOCK as u32);
    let activated = live();
    let allocs_before_process = thread_allocs();
    for (l, r) in &mut blocks {
        host.process(l, Some(r), &[]);
    }
    let process_allocs = thread_allocs() - allocs_before_process;
    let processed = live();
    counting::TRACE.store(false, Ordering::Relaxed);

    let host_own = PARAM_EVENT_CAPACITY * std::mem::size_of::<ParamEvent>() + 4 * BLOCK * 4;
    let mib = |b: isize| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "live bytes one instance added (the test host's own ~{} KB included):",
        host_own / 1000
    );
    for (step, at) in [
        ("after create + init", created),
        ("after activate (48 kHz)", activated),
        ("after 16 process() calls", processed),
    ] {
        eprintln!(
            "  {step:<26} {:>10} B  {:>7.3} MiB",
            at - before,
            mib(at - before)
        );
    }
    let large = large_since(mark);
    eprintln!(
        "its large live allocations (>= {} KiB), in order:",
        LARGE / 1024
    );
    for (seq, size) in &large {
        eprintln!("  #{seq:<6} {size:>9} B  {}", what(*size).unwrap_or("?"));
    }
    eprintln!(
        "  total    {:>9} B",
        large.iter().map(|&(_, s)| s).sum::<usize>()
    );

    assert_eq!(OVERFLOW.load(Ordering::Relaxed), 0, "the table overflowed");
    assert_eq!(process_allocs, 0, "process() allocated on the audio thread");
    // Allocated on first use only, on the editor's thread.
    for (buffer, size) in [
        ("the AlignCapture buffer", ALIGN_CAPTURE_CAPACITY * 4),
        ("the master tap ring", MASTER_TAP_CAPACITY * 4),
        ("a spectrum ring", SPECTRUM_RING_CAPACITY * 4),
    ] {
        assert!(
            !large.iter().any(|&(_, s)| s == size),
            "a default insert allocated {buffer} ({size} B)"
        );
    }
    // 2.57 MiB today: 1.84 MB after issue 26 (11.3 MB before, see above), plus issue 27's
    // stages, allocated at construction so the audio thread never allocates even when they
    // are switched on: the saturation's and the clipper's oversamplers (12 of them, ~20 KB
    // each), the crossover's band buffers, the stage audition's delay line (sized for the
    // longest chain latency) and loudness matchers. The bound leaves room for a few more DSP
    // buffers, not for another multi-megabyte preallocation. Issue 28 added 0.6 MiB (3.18
    // MiB measured): the multiband dynamics, ready to switch on without allocating (its
    // linear-phase crossover's kernel spectra and convolver delay lines, 16 x 16.4 KB, its
    // band and lookahead buffers, five band matchers) and the dynamic EQ's design tables.
    const BOUND: isize = 3 * 1024 * 1024 + 512 * 1024;
    assert!(
        processed - before <= BOUND,
        "one instance holds {} B, more than {BOUND} B",
        processed - before
    );
}

/// Runs the page-fault scenario on `host`: 2 s of A with a tone rising from -80 to 0 dBFS
/// (the loudness histograms fill bin after bin), then 2 s of B (the safety limiter and its
/// loss meters start). Returns the minor page faults of each `process()` call.
fn sweep_a_then_b(host: &mut ClapTestHost) -> Vec<i64> {
    let blocks = 4 * 48_000 / BLOCK;
    let mut audio: Vec<(Vec<f32>, Vec<f32>)> = (0..blocks)
        .map(|b| {
            let gain = 10f32.powf((-80.0 + 80.0 * b as f32 / blocks as f32) / 20.0);
            let l: Vec<f32> = (0..BLOCK)
                .map(|i| gain * (((b * BLOCK + i) as f32) * 0.05).sin())
                .collect();
            (l.clone(), l)
        })
        .collect();
    // Converted before the clock starts: the host allocates for it.
    let to_b = [ClapParamEvent {
        id: "ab_bypass",
        clap_value: host.plain_to_clap("ab_bypass", 1.0),
        time: 0,
    }];
    let mut faults = Vec::with_capacity(blocks);
    for (k, (l, r)) in audio.iter_mut().enumerate() {
        let events: &[_] = if k == blocks / 2 { &to_b } else { &[] };
        let start = thread_minor_faults();
        host.process_clap(l, Some(r), events);
        faults.push(thread_minor_faults() - start);
    }
    faults
}

/// The audio thread does not page-fault in its first `process()` calls, nor later on the
/// paths [`sweep_a_then_b`] takes. The instance is built on fresh pages (see the file's doc
/// for what a debug build can see, and the figures of a release build). A first instance
/// runs the same scenario before: what it maps for the whole process (code run for the first
/// time, this thread's deeper stack) is not the instance's doing.
#[test]
fn the_audio_thread_does_not_page_fault() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut warm = warmed_up();
    sweep_a_then_b(&mut warm);

    counting::fresh_pages(true);
    let mut host = ClapTestHost::new(FS, 1, BLOCK as u32, 2);
    counting::fresh_pages(false);
    let faults = sweep_a_then_b(&mut host);
    let total: i64 = faults.iter().sum();
    eprintln!(
        "minor page faults in process(): first call {}, first 4 s {total} (per call: {:?})",
        faults[0],
        faults
            .iter()
            .enumerate()
            .filter(|(_, &f)| f > 0)
            .collect::<Vec<_>>()
    );
    assert_eq!(total, 0, "the audio thread page-faulted");
}

/// What the editor creates when its window first opens (the spectrum rings and the master
/// tap) and on the Align button (the capture's buffer), as `spectrum_rings` and
/// `AlignCapture::request` build them for it.
fn editor_taps() -> (
    SpectrumProducer,
    MasterTapProducer,
    SpectrumConsumer,
    AlignCapture,
) {
    let (mut producer, consumer) = spectrum_rings(SPECTRUM_RING_CAPACITY);
    let tap = producer.take_master_tap().expect("a master tap");
    let capture = AlignCapture::new();
    capture.request(FS as f32);
    (producer, tap, consumer, capture)
}

/// The audio thread's side of [`editor_taps`], with the editor not draining: each ring filled
/// once round, a whole capture taken. Returns the minor page faults it cost.
fn fill_editor_taps(
    producer: &mut SpectrumProducer,
    tap: &mut MasterTapProducer,
    capture: &AlignCapture,
) -> i64 {
    let block = vec![0.25f32; BLOCK];
    let start = thread_minor_faults();
    for _ in 0..SPECTRUM_RING_CAPACITY / BLOCK {
        producer.push_input(&block, &block);
        producer.push_output(&block, &block);
    }
    for _ in 0..MASTER_TAP_CAPACITY / (2 * BLOCK) {
        tap.push(&block, &block);
    }
    for k in 0..ALIGN_CAPTURE_CAPACITY / BLOCK {
        let transport = Transport {
            playing: true,
            position_samples: Some((k * BLOCK) as i64),
        };
        capture.write(&block, &block, transport);
    }
    let faults = thread_minor_faults() - start;
    assert!(capture.take().is_some(), "the capture completed");
    faults
}

/// The editor's listening taps and the auto-align capture, created on first use by the
/// editor, are resident before the audio thread writes them: filling the spectrum rings and
/// the master tap once round, and a whole capture, costs the audio thread no page fault.
/// (`rtrb` allocates a ring without writing it; before issue 26 this was 576 faults.) A first
/// set, filled before, maps the code this takes for the whole process.
#[test]
fn what_the_editor_creates_for_the_audio_thread_is_resident() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (mut producer, mut tap, _consumer, capture) = editor_taps();
    fill_editor_taps(&mut producer, &mut tap, &capture);

    counting::fresh_pages(true);
    let (mut producer, mut tap, _consumer, capture) = editor_taps();
    counting::fresh_pages(false);
    let faults = fill_editor_taps(&mut producer, &mut tap, &capture);
    eprintln!("minor page faults filling the editor's rings and an align capture: {faults}");
    assert_eq!(faults, 0, "the audio thread page-faulted");
}

/// `dsp::util::resident::touch_pages` maps every page: writing a fresh buffer all over after
/// it costs no fault, where an untouched one faults once per page (the control).
#[test]
fn touched_pages_are_resident() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let floats = 1 << 20; // 4 MiB, 1024 pages
    let fresh = || -> &'static mut [f32] {
        // SAFETY: a fresh anonymous private mapping (checked below), readable and writable,
        // holding zeros (valid `f32`s); it is never unmapped, so it lives for `'static`, and
        // each call returns a distinct one.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                floats * 4,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            std::slice::from_raw_parts_mut(p as *mut f32, floats)
        }
    };
    let write_all = |buffer: &mut [f32]| {
        let start = thread_minor_faults();
        buffer.fill(0.5);
        std::hint::black_box(&buffer);
        thread_minor_faults() - start
    };
    let untouched = fresh();
    let control = write_all(untouched);
    let touched = fresh();
    touch_pages(touched);
    let faults = write_all(touched);
    eprintln!("faults writing 1024 fresh pages: untouched {control}, touched first {faults}");
    assert!(
        control >= 1000,
        "the control should fault once per page: {control}"
    );
    assert_eq!(faults, 0);
}
