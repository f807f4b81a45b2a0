//! Where the built components are: `build/` at the repository root (scripts/build.sh writes
//! them there), or the directory in `NEON_BUILD_DIR`.

use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Artifact {
    Processor,
    Logger,
    Gateway,
    /// processor + logger composed by `wac plug`.
    Composed,
    /// gateway (built with its `fused` feature) + processor + logger composed by `wac compose`
    /// from components/pipeline.wac: the composed wiring's one component.
    Pipeline,
    /// The logger in Python (components/logger-py, componentize-py). Not in `ALL`: CPython
    /// inside it imports most of WASI, so the capability audit's rules are not its rules.
    PythonLogger,
    /// processor + the Python logger composed by `wac plug`.
    ComposedPython,
}

impl Artifact {
    pub const ALL: [Artifact; 5] = [
        Artifact::Processor,
        Artifact::Logger,
        Artifact::Gateway,
        Artifact::Composed,
        Artifact::Pipeline,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Artifact::Processor => "processor.wasm",
            Artifact::Logger => "logger.wasm",
            Artifact::Gateway => "gateway.wasm",
            Artifact::Composed => "processor-composed.wasm",
            Artifact::Pipeline => "pipeline-composed.wasm",
            Artifact::PythonLogger => "logger-py.wasm",
            Artifact::ComposedPython => "processor-composed-py.wasm",
        }
    }

    pub fn path(self) -> PathBuf {
        build_dir().join(self.file_name())
    }

    pub fn read(self) -> Result<Vec<u8>> {
        let path = self.path();
        std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} (build the components first: scripts/build.sh)",
                path.display()
            )
        })
    }
}

pub fn build_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NEON_BUILD_DIR") {
        return PathBuf::from(dir);
    }
    // Looked up at run time (scripts export NEON_ROOT, `cargo test` sets CARGO_MANIFEST_DIR):
    // the native target dir is shared between checkouts, so a path compiled in could name
    // another checkout's build/.
    match (
        std::env::var_os("NEON_ROOT"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) {
        (Some(root), _) => PathBuf::from(root).join("build"),
        (None, Some(manifest_dir)) => PathBuf::from(manifest_dir).join("../../build"),
        (None, None) => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../build")),
    }
}
