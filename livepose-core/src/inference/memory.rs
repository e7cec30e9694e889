//! Giving the memory freed while loading models back to the operating system.
//!
//! Loading a model allocates several times its size for a moment (the file, ONNX Runtime's
//! parsed copy, graph rewrites) and frees most of it once the session exists. glibc's
//! `malloc` keeps such freed memory in the heap of the thread that freed it for later
//! allocations, so without a trim a server that loads one set of models holds about as much
//! again in freed memory, per thread that loaded. `malloc_trim` returns the free pages of
//! every heap; it runs once after each load, never per frame (and the server runs it after
//! connections close, at most about once a second). Elsewhere than on glibc it does
//! nothing.
//!
//! The only `unsafe` in livepose-core: a call to a C function without arguments that
//! point anywhere.

/// Returns free heap memory to the OS (glibc's `malloc_trim(0)`; elsewhere nothing). For
/// a long-running program after a burst of work has ended (the server calls it after
/// connections close); it takes each heap's lock, so call it now and then, not per frame.
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes a byte count, touches only the allocator's own free
        // lists and is thread-safe (it takes each heap's lock).
        unsafe {
            malloc_trim(0);
        }
    }
}
