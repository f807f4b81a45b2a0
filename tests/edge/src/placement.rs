//! What manifests/edge.wadm.yaml asks for, checked against the hosts' inventories: where each
//! piece must run, how many instances, and that nothing runs twice or where it should not.

use crate::edge::HostInventory;

/// max_instances per spread: `instances: 4` split 50/50 over rings a and b.
const PER_RING: u64 = 2;

/// The ring label edge.sh gives edge node i.
pub fn ring_of(host: &HostInventory) -> Option<char> {
    host.edge_index()
        .map(|i| if i % 2 == 1 { 'a' } else { 'b' })
}

/// Everything that differs from the desired placement on these live hosts (empty: converged).
/// `hosts_expected`: how many hosts should be in the lattice.
pub fn problems(hosts: &[HostInventory], hosts_expected: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if hosts.len() != hosts_expected {
        problems.push(format!("{} hosts, expected {hosts_expected}", hosts.len()));
    }
    for host in hosts {
        let loggings = host.providers.iter().filter(|p| *p == "logging").count();
        if loggings != 1 {
            problems.push(format!(
                "{}: {loggings} logging providers, expected 1",
                host.zone
            ));
        }
        let on_hub = host.zone == "hub";
        let has_http = host.providers.iter().any(|p| p == "httpserver");
        if on_hub != has_http {
            problems.push(format!(
                "{}: httpserver {}",
                host.zone,
                if has_http { "present" } else { "missing" }
            ));
        }
        if on_hub != (host.count("gateway") > 0) {
            problems.push(format!("{}: gateway x{}", host.zone, host.count("gateway")));
        }
        if on_hub {
            for component in ["processor", "logger"] {
                if host.count(component) > 0 {
                    problems.push(format!("hub runs {component}"));
                }
            }
        }
    }
    for component in ["processor", "logger"] {
        for ring in ['a', 'b'] {
            let holders: Vec<&HostInventory> = hosts
                .iter()
                .filter(|h| ring_of(h) == Some(ring) && h.count(component) > 0)
                .collect();
            let total: u64 = holders.iter().map(|h| h.count(component)).sum();
            if holders.len() != 1 || total != PER_RING {
                let at: Vec<String> = holders
                    .iter()
                    .map(|h| format!("{}x{}", h.zone, h.count(component)))
                    .collect();
                problems.push(format!(
                    "{component} ring {ring}: on [{}], expected one host with {PER_RING} instances",
                    at.join(", ")
                ));
            }
        }
    }
    problems
}

/// One line per host: zone, components with instances, providers.
pub fn describe(hosts: &[HostInventory]) -> String {
    hosts
        .iter()
        .map(|h| {
            let components: Vec<String> = h
                .components
                .iter()
                .map(|(name, n)| format!("{name}x{n}"))
                .collect();
            format!(
                "  {:8} components [{}] providers [{}]",
                h.zone,
                components.join(", "),
                h.providers.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The edge node (its index) whose host runs `component` for `ring`, if any.
pub fn holder(hosts: &[HostInventory], component: &str, ring: char) -> Option<usize> {
    hosts
        .iter()
        .find(|h| ring_of(h) == Some(ring) && h.count(component) > 0)
        .and_then(HostInventory::edge_index)
}
