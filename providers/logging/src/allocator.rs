//! The provider's memory allocator: mimalloc instead of glibc's malloc.
//!
//! Every sink call allocates and frees small objects on the runtime's worker threads (wRPC
//! frames, decoded entries, serialised records), and the writer task frees on another thread
//! than the one that allocated. Under load glibc's malloc took several percent of the machine in
//! the provider alone (`scripts/profile.sh`); mimalloc's per-thread free lists make it cheaper.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
