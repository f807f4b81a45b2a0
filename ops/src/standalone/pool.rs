//! The Wasmtime instance pool both runtimes serve from, sized for the component they serve.
//!
//! `wasmtime serve` and wash 2.x instantiate the component afresh for every request, and take
//! its core instances, linear memories and tables from a pool that holds 1000 of each by default.
//! The standalone pipeline takes 16 core instances, 5 memories and 10 tables per request, so the
//! default holds 62 requests at once, and 100 with only the core instances raised. Past what the
//! pool holds, wash 2.10.3 answers an empty 500 ("oneshot channel closed but no response was
//! sent" in its log): measured with 128 clients, 338 of 18,078 requests failed with the default
//! pool and 9 of 16,406 with only the core instances raised. (`wasmtime serve` answered 512
//! clients without a 500 even with the default pool; it gets the same sizes.)

use std::path::Path;

use anyhow::{Context, Result};
use wasmparser::{Instance, Parser, Payload};

/// Requests at once the pool is sized for. An instance goes back to the pool a little after its
/// answer, so clients need headroom: sized for 256, wash 2.10.3 failed requests from 256 clients;
/// sized for 512, none from 384 (wrk, 3 s each), three times the runtimes' load test.
pub const REQUESTS_AT_ONCE: u32 = 512;

/// Each runtime's pool size of each kind; a pool is never made smaller than this.
pub const DEFAULT_TOTAL: u32 = 1000;

/// What one instance of a component takes from the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Footprint {
    /// Counts, through every nested component, the core modules instantiated and the memories
    /// and tables the modules define (imported ones are another module's). A module
    /// instantiated twice counts its memories and tables once: wac and wit-component, which
    /// make Neon's components, instantiate each module once.
    pub fn of(wasm: &[u8]) -> Result<Footprint> {
        let mut footprint = Footprint::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::InstanceSection(instances) => {
                    for instance in instances {
                        if matches!(instance?, Instance::Instantiate { .. }) {
                            footprint.core_instances += 1;
                        }
                    }
                }
                Payload::MemorySection(memories) => footprint.memories += memories.count(),
                Payload::TableSection(tables) => footprint.tables += tables.count(),
                _ => {}
            }
        }
        Ok(footprint)
    }

    /// Requests at once a pool of `total` of each kind holds.
    pub fn requests_held_by(&self, total: u32) -> u32 {
        let largest = self.core_instances.max(self.memories).max(self.tables);
        total.checked_div(largest).unwrap_or(u32::MAX)
    }

    pub fn of_file(path: &Path) -> Result<Footprint> {
        let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Footprint::of(&wasm).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Pool totals that hold `REQUESTS_AT_ONCE` instances of one component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Pool {
    pub fn for_component(footprint: Footprint) -> Pool {
        let total = |per_request: u32| (per_request * REQUESTS_AT_ONCE).max(DEFAULT_TOTAL);
        Pool {
            core_instances: total(footprint.core_instances),
            memories: total(footprint.memories),
            tables: total(footprint.tables),
        }
    }

    /// `wasmtime serve`'s options for it.
    pub fn wasmtime_options(&self) -> Vec<String> {
        self.totals()
            .map(|(kind, total)| format!("-Opooling-total-{}={total}", kind.replace('_', "-")))
            .collect()
    }

    /// wash 2.x's environment variables for it.
    pub fn wash_env(&self) -> Vec<(String, String)> {
        self.totals()
            .map(|(kind, total)| {
                (
                    format!("WASMTIME_POOLING_TOTAL_{}", kind.to_uppercase()),
                    total.to_string(),
                )
            })
            .collect()
    }

    fn totals(&self) -> impl Iterator<Item = (&'static str, u32)> {
        [
            ("core_instances", self.core_instances),
            ("memories", self.memories),
            ("tables", self.tables),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component holding a component: three modules instantiated, two memories and three
    /// tables defined, one memory and one table only imported.
    const NESTED: &str = r#"
        (component
          (core module $owner
            (memory (export "memory") 1)
            (table (export "table") 1 funcref)
            (table 2 funcref))
          (core module $borrower
            (import "owner" "memory" (memory 1))
            (import "owner" "table" (table 1 funcref)))
          (core instance $owner (instantiate $owner))
          (core instance (instantiate $borrower (with "owner" (instance $owner))))
          (component $inner
            (core module $own (memory 1) (table 1 funcref))
            (core instance (instantiate $own)))
          (instance (instantiate $inner)))
    "#;

    #[test]
    fn counts_what_an_instance_takes_through_nested_components() -> Result<()> {
        let wasm = wat::parse_str(NESTED)?;
        assert_eq!(
            Footprint::of(&wasm)?,
            Footprint {
                core_instances: 3,
                memories: 2,
                tables: 3
            }
        );
        Ok(())
    }

    #[test]
    fn a_pool_holds_the_requests_and_never_shrinks_below_the_default() {
        let pool = Pool::for_component(Footprint {
            core_instances: 16,
            memories: 1,
            tables: 10,
        });
        assert_eq!(pool.core_instances, 16 * REQUESTS_AT_ONCE);
        assert_eq!(pool.tables, 10 * REQUESTS_AT_ONCE);
        assert_eq!(pool.memories, DEFAULT_TOTAL);
        let footprint = Footprint {
            core_instances: 16,
            memories: 5,
            tables: 10,
        };
        assert_eq!(footprint.requests_held_by(DEFAULT_TOTAL), 62);
        assert_eq!(
            Footprint::default().requests_held_by(DEFAULT_TOTAL),
            u32::MAX
        );
        assert_eq!(
            pool.wasmtime_options(),
            [
                format!("-Opooling-total-core-instances={}", 16 * REQUESTS_AT_ONCE),
                "-Opooling-total-memories=1000".to_string(),
                format!("-Opooling-total-tables={}", 10 * REQUESTS_AT_ONCE)
            ]
        );
        assert_eq!(
            pool.wash_env()[2],
            (
                "WASMTIME_POOLING_TOTAL_TABLES".to_string(),
                (10 * REQUESTS_AT_ONCE).to_string()
            )
        );
    }

    #[test]
    fn what_is_not_wasm_is_an_error() {
        assert!(Footprint::of(b"not wasm").is_err());
    }
}
