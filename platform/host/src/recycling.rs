//! How the host recycles a finished instance's memories and tables for the next one: wasmtime's
//! pooling allocator, tuned from the command line.
//!
//! Every invocation runs in a fresh instance, so this cost is paid per request, by every
//! component the request crosses. The published runtime keeps 10 KiB of each memory resident
//! and hands the rest back to the kernel with `madvise`, so the next instance faults every page
//! in again, and each `madvise` shoots down the TLBs of every core running the host. Keeping the
//! pages a request touched resident and resetting only those (Linux's `PAGEMAP_SCAN`) trades
//! that for resident memory: at most the bytes below per idle instance slot, and only the pages
//! instances actually touched. Measured with `scripts/profile.sh` (README, "Benchmarks"): 2 MiB
//! serves the composed pipeline as fast as 8 MiB did.

use clap::{ArgAction, Args};
use wasmcloud_runtime::InstanceRecycling;

#[derive(Args, Debug, Clone)]
pub struct RecyclingArgs {
    /// Bytes at the start of each instance memory reset in place for the next instance instead
    /// of being handed back to the kernel. 10240 is the published host's choice.
    #[arg(
        long = "memory-keep-resident-bytes",
        env = "NEON_MEMORY_KEEP_RESIDENT_BYTES",
        default_value_t = 2 << 20
    )]
    memory_keep_resident: usize,
    /// The same for each table.
    #[arg(
        long = "table-keep-resident-bytes",
        env = "NEON_TABLE_KEEP_RESIDENT_BYTES",
        default_value_t = 1 << 20
    )]
    table_keep_resident: usize,
    /// Reset only the pages an instance touched, found with Linux's PAGEMAP_SCAN ioctl (Linux
    /// 6.7 and later; without it, the kept bytes are reset whole).
    #[arg(
        long = "pagemap-scan",
        env = "NEON_PAGEMAP_SCAN",
        default_value_t = true,
        action = ArgAction::Set
    )]
    pagemap_scan: bool,
    /// Memories handed back to the kernel gathered into one batch.
    #[arg(
        long = "decommit-batch-size",
        env = "NEON_DECOMMIT_BATCH_SIZE",
        default_value_t = 16
    )]
    decommit_batch_size: usize,
    /// Guard each instance memory with inaccessible pages so compiled code skips its bounds
    /// checks. Every reuse then protects the pages the last instance grew into again (an
    /// `mprotect` and a TLB shootdown on every core, per memory, per request); without guards
    /// a recycled memory stays read/write and each access is checked instead.
    #[arg(
        long = "memory-guard-pages",
        env = "NEON_MEMORY_GUARD_PAGES",
        default_value_t = false,
        action = ArgAction::Set
    )]
    guard_pages: bool,
}

impl RecyclingArgs {
    pub fn config(&self) -> InstanceRecycling {
        InstanceRecycling {
            memory_keep_resident: self.memory_keep_resident,
            table_keep_resident: self.table_keep_resident,
            pagemap_scan: self.pagemap_scan,
            decommit_batch_size: self.decommit_batch_size,
            guard_pages: self.guard_pages,
        }
    }
}
