//! Buffers the audio thread writes must be *resident* before its first `process()` call, not
//! just allocated: a first write to a page nobody has touched is a page fault (the kernel maps
//! a zeroed page then), a few microseconds each, on the audio thread.
//!
//! Allocation alone does not map pages. `vec![0.0; n]` asks for zeroed memory, which the C
//! allocator serves without writing when it knows the pages are fresh from the kernel (glibc:
//! every allocation of 128 KiB and more, which is `mmap`ed, and the part of a small one that
//! just grew the heap); `Vec::with_capacity` and ring buffers (`rtrb`) leave memory
//! unwritten anyway. A `fill(0.0)` after `vec![0.0; n]` is not a reliable fix either: the
//! compiler may remove a store of zeros into memory it knows came zeroed from the allocator.
//!
//! [`touch_pages`] writes one element per page with volatile accesses, which the compiler must
//! keep (reading and writing back the same value, so the content is unchanged); the pages are
//! then mapped and stay so for the buffer's life. [`resident_vec`] is `vec![value; len]` plus
//! that. Debug builds happen to zero by hand (nice-plug's `assert_process_allocs` allocator has
//! no zeroed path), which hides the problem in tests; release builds do not.

/// Bytes per step of [`touch_pages`]: the smallest page size of the platforms we build for
/// (4 KiB on x86-64; aarch64 pages are 4, 16 or 64 KiB, each touched at least once).
const PAGE_BYTES: usize = 4096;

/// Makes every page of `buffer` resident by writing it (its content is unchanged). Off the
/// audio thread: it is what spares the audio thread the page faults.
pub fn touch_pages<T: Copy>(buffer: &mut [T]) {
    let size = std::mem::size_of::<T>();
    if size == 0 || buffer.is_empty() {
        return;
    }
    let stride = (PAGE_BYTES / size).max(1);
    let ptr = buffer.as_mut_ptr();
    // The last element too, so a buffer's final page is covered whatever its alignment.
    let last = buffer.len() - 1;
    for i in (0..buffer.len())
        .step_by(stride)
        .chain(std::iter::once(last))
    {
        // SAFETY: `i < buffer.len()`, so `ptr.add(i)` is in bounds of the exclusively borrowed
        // slice and points to an initialised, properly aligned `T` (`T: Copy`, so reading it
        // out and writing it back has no ownership effect). Volatile keeps both accesses.
        unsafe {
            let element = ptr.add(i);
            element.write_volatile(element.read_volatile());
        }
    }
}

/// `vec![value; len]` with every page resident ([`touch_pages`]). Off the audio thread.
pub fn resident_vec<T: Copy>(value: T, len: usize) -> Vec<T> {
    let mut v = vec![value; len];
    touch_pages(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_keeps_the_content() {
        let mut v: Vec<f32> = (0..10_000).map(|i| i as f32).collect();
        touch_pages(&mut v);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
        let r = resident_vec(1.5f64, 3000);
        assert_eq!(r.len(), 3000);
        assert!(r.iter().all(|&x| x == 1.5));
        touch_pages::<f32>(&mut []);
        touch_pages(&mut [(); 4]);
    }
}
