//! The host's memory allocator: mimalloc instead of glibc's malloc.
//!
//! Every request allocates and frees thousands of small objects across the runtime's worker
//! threads (instance state, wRPC frames, HTTP buffers, tracing spans), often freeing on another
//! thread than the one that allocated. glibc's malloc took a tenth of the machine for this in a
//! profile of the composed pipeline under load (`scripts/profile.sh --symbols`); mimalloc's
//! per-thread free lists make the same work cheaper.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
