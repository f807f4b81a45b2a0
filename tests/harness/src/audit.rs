//! Capability audit: what a built component imports and exports, read from the binary itself.
//!
//! The seed's promise "a dependency cannot reach the network" made a check: a component can only
//! call what it imports, so an import list without wasi:sockets, wasi:http/outgoing-handler or
//! wasi:filesystem proves it cannot open a connection or a file, whatever its code does.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use wit_component::DecodedWasm;
use wit_parser::{Resolve, WorldItem, WorldKey};

/// Interfaces a component imports and exports, as `namespace:package/interface` (no version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    pub imports: BTreeSet<String>,
    pub exports: BTreeSet<String>,
}

/// What Rust std on wasm32-wasip2 imports even when the code never prints (start-up and panic
/// code). Listed so that anything beyond it is a capability the component's code asked for.
pub const RUST_STD_WASIP2: [&str; 5] = [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stderr",
    "wasi:io/error",
    "wasi:io/streams",
];

/// Interfaces that reach the network or the file system: no Neon component may import these.
pub const FORBIDDEN_PREFIXES: [&str; 3] = [
    "wasi:sockets/",
    "wasi:http/outgoing-handler",
    "wasi:filesystem/",
];

pub fn surface(wasm: &[u8]) -> Result<Surface> {
    let DecodedWasm::Component(resolve, world) = wit_component::decode(wasm)? else {
        bail!("not a component: a WIT package");
    };
    let world = &resolve.worlds[world];
    Ok(Surface {
        imports: world
            .imports
            .iter()
            .map(|(key, item)| name(&resolve, key, item))
            .collect(),
        exports: world
            .exports
            .iter()
            .map(|(key, item)| name(&resolve, key, item))
            .collect(),
    })
}

fn name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    match (key, item) {
        (WorldKey::Interface(id), _) => {
            let interface = &resolve.interfaces[*id];
            let package = interface.package.map(|p| resolve.packages[p].name.clone());
            match (package, &interface.name) {
                (Some(package), Some(iface)) => {
                    format!("{}:{}/{}", package.namespace, package.name, iface)
                }
                _ => resolve.name_world_key(key),
            }
        }
        (WorldKey::Name(name), _) => name.clone(),
    }
}

/// Imports outside `allowed`; empty when the component keeps to its capabilities.
pub fn unexpected_imports(surface: &Surface, allowed: &[&str]) -> Vec<String> {
    surface
        .imports
        .iter()
        .filter(|import| !allowed.contains(&import.as_str()))
        .cloned()
        .collect()
}

/// Imports that would give the component the network or the file system.
pub fn forbidden_imports(surface: &Surface) -> Vec<String> {
    surface
        .imports
        .iter()
        .filter(|import| FORBIDDEN_PREFIXES.iter().any(|p| import.starts_with(p)))
        .cloned()
        .collect()
}
