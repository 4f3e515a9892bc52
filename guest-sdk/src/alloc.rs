//! A small-object allocator for plugins, over the system one (wasi-libc's dlmalloc).
//!
//! A handler allocates and frees a few small blocks per event (the text of its values, the
//! buffers the bindings lower rows into, the strings a `get` brings back), and dlmalloc
//! spends a few hundred instructions on each pair in Wasm. Here, blocks up to 512 bytes come
//! from free lists, one per size class, that keep what was freed for the next allocation of
//! its class: a pop and a push. Larger blocks, and over-aligned ones, go to the system
//! allocator as before, and so does what a free list would keep beyond 64 KiB.
//!
//! Wasm components run single-threaded (wasip2 has no threads), which is what makes the
//! unsynchronised lists sound; the allocator exists only there. `#[projection]` installs it
//! as the plugin's global allocator unless told `#[projection(system_allocator)]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Block sizes of the classes, in bytes: multiples of 16, each block 16-aligned.
const CLASSES: [usize; 10] = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const LARGEST: usize = 512;
const ALIGN: usize = 16;
/// Bytes a free list keeps at most; frees beyond go back to the system allocator.
const KEEP: usize = 64 << 10;

/// The class of each size in 16-byte steps: `CLASS_OF[(size + 15) / 16]`.
const CLASS_OF: [u8; LARGEST / ALIGN + 1] = {
    let mut table = [0u8; LARGEST / ALIGN + 1];
    let mut step = 0;
    while step < table.len() {
        let mut class = 0;
        while CLASSES[class] < step * ALIGN {
            class += 1;
        }
        table[step] = class as u8;
        step += 1;
    }
    table
};

struct Lists {
    heads: [*mut u8; CLASSES.len()],
    kept: [usize; CLASSES.len()],
}

/// The plugin's allocator; see the module documentation.
pub struct Allocator {
    lists: UnsafeCell<Lists>,
}

// SAFETY: only compiled for single-threaded Wasm (no `atomics` target feature), where no
// two calls into the allocator can overlap.
unsafe impl Sync for Allocator {}

impl Allocator {
    /// An allocator with empty lists.
    pub const fn new() -> Self {
        Allocator { lists: UnsafeCell::new(Lists { heads: [ptr::null_mut(); CLASSES.len()], kept: [0; CLASSES.len()] }) }
    }
}

impl Default for Allocator {
    fn default() -> Self {
        Self::new()
    }
}

/// The class serving `layout`, if a free list does.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= LARGEST && layout.align() <= ALIGN).then(|| CLASS_OF[layout.size().div_ceil(ALIGN)] as usize)
}

#[inline]
fn block(class: usize) -> Layout {
    // SAFETY: sizes are non-zero multiples of the alignment, a power of two.
    unsafe { Layout::from_size_align_unchecked(CLASSES[class], ALIGN) }
}

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class(layout) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: single-threaded (see `Sync`), and no allocation happens in between.
        let lists = unsafe { &mut *self.lists.get() };
        let head = lists.heads[c];
        if head.is_null() {
            // SAFETY: a valid, non-zero layout.
            return unsafe { System.alloc(block(c)) };
        }
        // SAFETY: a block on the list holds the next block's address in its first bytes.
        lists.heads[c] = unsafe { head.cast::<*mut u8>().read() };
        lists.kept[c] -= CLASSES[c];
        head
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(c) = class(layout) else {
            // SAFETY: the block came from `System.alloc(layout)`.
            return unsafe { System.dealloc(ptr, layout) };
        };
        // SAFETY: as in `alloc`.
        let lists = unsafe { &mut *self.lists.get() };
        if lists.kept[c] >= KEEP {
            // SAFETY: blocks of a class come from `System.alloc(block(c))`.
            return unsafe { System.dealloc(ptr, block(c)) };
        }
        // SAFETY: the block is at least 16 bytes, 16-aligned, and no longer in use.
        unsafe { ptr.cast::<*mut u8>().write(lists.heads[c]) };
        lists.heads[c] = ptr;
        lists.kept[c] += CLASSES[c];
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class(layout).is_none() {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: as `alloc`; a non-null block has room for `layout.size()` bytes.
        unsafe {
            let p = self.alloc(layout);
            if !p.is_null() {
                ptr::write_bytes(p, 0, layout.size());
            }
            p
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `layout.align()` with `new_size` is a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new)) {
            (Some(a), Some(b)) if a == b => ptr,
            // SAFETY: both outside the lists: the system allocator's own block.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a fresh block for `new`, the old contents copied, the old freed.
                unsafe {
                    let p = self.alloc(new);
                    if !p.is_null() {
                        ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    p
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_small_size() {
        for size in 1..=LARGEST {
            let c = class(Layout::from_size_align(size, 1).unwrap()).unwrap();
            assert!(CLASSES[c] >= size, "{size}");
            assert!(c == 0 || CLASSES[c - 1] < size, "{size} gets the smallest class that fits");
        }
        assert_eq!(class(Layout::from_size_align(0, 1).unwrap()), Some(0));
        assert_eq!(class(Layout::from_size_align(LARGEST + 1, 1).unwrap()), None);
        assert_eq!(class(Layout::from_size_align(8, 32).unwrap()), None);
    }

    #[test]
    fn allocates_reuses_and_reallocates() {
        let a = Allocator::new();
        unsafe {
            let l = Layout::from_size_align(24, 8).unwrap();
            let p = a.alloc(l);
            p.write_bytes(7, 24);
            a.dealloc(p, l);
            let q = a.alloc(Layout::from_size_align(30, 4).unwrap());
            assert_eq!(p, q, "a freed block serves the next allocation of its class");
            let z = a.alloc_zeroed(l);
            assert!((0..24).all(|i| *z.add(i) == 0));
            // Within a class, across classes, and out to the system allocator and back.
            q.write_bytes(9, 30);
            let r = a.realloc(q, Layout::from_size_align(30, 4).unwrap(), 32);
            assert_eq!(r, q);
            let r = a.realloc(r, Layout::from_size_align(32, 4).unwrap(), 300);
            assert!((0..30).all(|i| *r.add(i) == 9));
            let r = a.realloc(r, Layout::from_size_align(300, 4).unwrap(), 5000);
            assert!((0..30).all(|i| *r.add(i) == 9));
            let r = a.realloc(r, Layout::from_size_align(5000, 4).unwrap(), 20);
            assert!((0..20).all(|i| *r.add(i) == 9));
            a.dealloc(r, Layout::from_size_align(20, 4).unwrap());
            a.dealloc(z, l);
            // A list keeps at most KEEP bytes; the rest goes back.
            let blocks: Vec<*mut u8> = (0..KEEP / 16 + 10).map(|_| a.alloc(Layout::from_size_align(16, 16).unwrap())).collect();
            for b in blocks {
                a.dealloc(b, Layout::from_size_align(16, 16).unwrap());
            }
            assert_eq!((*a.lists.get()).kept[0], KEEP);
        }
    }
}
