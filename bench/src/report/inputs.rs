//! The JSON files a report is made from. A file that is missing or unreadable is a figure
//! "not measured", never a failed report: the report says which and why.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::machine::Machine;
use crate::schema::{self, CallcostComposed, CallcostLinked, Coldstart, Deploy, Http, Sizes};

pub enum Input<T> {
    Measured(T),
    Missing,
    Unreadable(String),
}

impl<T> Input<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Input::Measured(value) => Some(value),
            _ => None,
        }
    }

    /// Why there is no figure, for the report.
    pub fn absence(&self) -> String {
        match self {
            Input::Measured(_) => String::new(),
            Input::Missing => "not measured".to_string(),
            Input::Unreadable(why) => format!("not measured ({why})"),
        }
    }
}

fn load<T: DeserializeOwned>(dir: &Path, file: &str) -> Input<T> {
    let path = dir.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Input::Missing,
        Err(e) => return Input::Unreadable(format!("cannot read {file}: {e}")),
    };
    match serde_json::from_str(&text) {
        Ok(value) => Input::Measured(value),
        Err(e) => Input::Unreadable(format!("{file} does not match its schema: {e}")),
    }
}

pub struct Inputs {
    /// machine.json when `neon-bench machine` wrote one, else this machine now.
    pub machine: Machine,
    pub sizes: Input<Sizes>,
    pub coldstart: Input<Coldstart>,
    pub callcost_composed: Input<CallcostComposed>,
    pub callcost_linked: Input<CallcostLinked>,
    pub http: Input<Http>,
    pub deploy: Input<Deploy>,
}

impl Inputs {
    pub fn load(dir: &Path) -> Self {
        let machine = match load::<Machine>(dir, schema::MACHINE) {
            Input::Measured(machine) => machine,
            _ => Machine::detect(),
        };
        Self {
            machine,
            sizes: load(dir, schema::SIZES),
            coldstart: load(dir, schema::COLDSTART),
            callcost_composed: load(dir, schema::CALLCOST_COMPOSED),
            callcost_linked: load(dir, schema::CALLCOST_LINKED),
            http: load(dir, schema::HTTP),
            deploy: load(dir, schema::DEPLOY),
        }
    }
}
