//! The runtime a `no_std` Neon component needs on wasm32-wasip2, and nothing more.
//!
//! Rust std on wasm32-wasip2 makes every component import `wasi:cli/{environment,exit,stderr}`
//! and `wasi:io/{error,streams}` and carry ~40 KB of start-up, formatting and panic code, even
//! when the component never prints. A component that depends on this crate instead (and is
//! `#![no_std]` on wasm) imports only its own contracts. Link it with `use guest_rt as _;`.
//!
//! On native targets (unit tests) this crate is empty and std is used as usual.

#![cfg_attr(target_family = "wasm", no_std)]

#[cfg(target_family = "wasm")]
mod wasm {
    extern crate alloc;

    use alloc::alloc::{alloc, realloc, Layout};

    // memcmp, memcpy and friends come from wasi-libc (as they would with std). Only the
    // objects that define them are linked: they import nothing.
    #[link(name = "c")]
    extern "C" {}

    // The allocator std itself uses on wasm, without the rest of std.
    #[global_allocator]
    static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    // No unwinding on wasm: a panic traps the instance and the host reports the trap.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    /// The canonical ABI's allocator export. std provides it on wasm32-wasip2; without std it is
    /// ours to provide (wit-bindgen ships one only for wasip1 targets).
    ///
    /// # Safety
    /// Called by the host per the canonical ABI: `old_ptr`/`old_len`/`align` describe an
    /// allocation made by this function (or `old_len == 0`), `align` is a power of two.
    #[no_mangle]
    unsafe extern "C" fn cabi_realloc(
        old_ptr: *mut u8,
        old_len: usize,
        align: usize,
        new_len: usize,
    ) -> *mut u8 {
        let ptr = if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        };
        if ptr.is_null() {
            core::arch::wasm32::unreachable();
        }
        ptr
    }
}

/// A global for per-instance state. A component instance runs on one thread and is never
/// re-entered while a call runs, so on wasm a plain `RefCell` is enough; this wrapper says so
/// once instead of `static mut` at each use. Native builds (unit tests) get a real mutex.
pub struct InstanceCell<T> {
    #[cfg(target_family = "wasm")]
    inner: core::cell::RefCell<T>,
    #[cfg(not(target_family = "wasm"))]
    inner: std::sync::Mutex<T>,
}

// SAFETY: wasm32 components have a single thread, so the cell is never shared across threads.
#[cfg(target_family = "wasm")]
unsafe impl<T> Sync for InstanceCell<T> {}

impl<T> InstanceCell<T> {
    pub const fn new(value: T) -> Self {
        Self {
            #[cfg(target_family = "wasm")]
            inner: core::cell::RefCell::new(value),
            #[cfg(not(target_family = "wasm"))]
            inner: std::sync::Mutex::new(value),
        }
    }

    /// Runs `f` with exclusive access to the state.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(target_family = "wasm")]
        let mut guard = self.inner.borrow_mut();
        #[cfg(not(target_family = "wasm"))]
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}
