//! The guest's global allocator: dlmalloc (the standard library's own allocator for this
//! target) whose first region is an arena inside the module's initial memory.
//!
//! Why: std's dlmalloc gets every region from `memory.grow`, so each fresh instance grew its
//! memory on its first allocation, and wasmtime's pooling allocator pays two `mprotect`
//! calls for that (the grow, and shrinking the slot back on reuse) — half of the cost of a
//! fresh instance (measured 13.6 µs → see the host crate's README). With the arena, an
//! instance that needs less than [`ARENA_BYTES`] never grows; larger rule sets grow as before.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};
use core::ptr;
use dlmalloc::Dlmalloc;

/// Enough for a one-shot decision over a few hundred rules; the arena is zero-initialized
/// memory (`.bss`), so it adds nothing to the component's size.
const ARENA_BYTES: usize = 192 << 10;
const WASM_PAGE: usize = 64 << 10;

struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: the arena is only ever handed out once, to the allocator below, which owns it.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));

/// Where dlmalloc gets its regions: the arena first, then `memory.grow`.
struct ArenaThenGrow {
    arena_taken: Cell<bool>,
}

// SAFETY: regions are valid, disjoint and never returned: the arena is handed out once,
// grown pages belong to this allocator alone, and `free`/`free_part`/`remap` refuse.
unsafe impl dlmalloc::Allocator for ArenaThenGrow {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        if !self.arena_taken.get() && size <= ARENA_BYTES {
            self.arena_taken.set(true);
            return (ARENA.0.get().cast(), ARENA_BYTES, 0);
        }
        let pages = size.div_ceil(WASM_PAGE);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            return (ptr::null_mut(), 0, 0);
        }
        // Linear-memory addresses are offsets from 0: the new pages start at the old size.
        (ptr::with_exposed_provenance_mut(previous * WASM_PAGE), pages * WASM_PAGE, 0)
    }

    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        ptr::null_mut()
    }

    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }

    fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }

    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        WASM_PAGE
    }
}

struct Global(UnsafeCell<Dlmalloc<ArenaThenGrow>>);

// SAFETY: this target has no threads (the guest is built without the `atomics` feature,
// checked below), so the allocator is never entered concurrently; dlmalloc never calls
// back into the global allocator, so it is never re-entered either.
unsafe impl Sync for Global {}

#[cfg(target_feature = "atomics")]
compile_error!("the guest allocator assumes a single-threaded wasm32 target");

// SAFETY: each method forwards to dlmalloc with the layout's size and alignment, as its
// API requires; exclusive access holds because the guest is single-threaded (above).
unsafe impl GlobalAlloc for Global {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).free(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Global =
    Global(UnsafeCell::new(Dlmalloc::new_with_allocator(ArenaThenGrow { arena_taken: Cell::new(false) })));
