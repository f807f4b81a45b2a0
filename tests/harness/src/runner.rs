//! Instantiates Neon's components and drives one call through each, the way a host would.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi_http::bindings::http::types::Scheme;
use wasmtime_wasi_http::bindings::Proxy;
use wasmtime_wasi_http::WasiHttpView;

use crate::artifacts::Artifact;
use crate::bindings::{logger::Logger, processor::DataProcessor, Entry, Level};
use crate::host::{engine, linker, HostState};

/// An engine, a linker and the compiled components, shared by every call.
pub struct Harness {
    engine: Engine,
    linker: Linker<HostState>,
    compiled: Mutex<HashMap<Artifact, Component>>,
    /// The logger the logger calls go to.
    logger: Artifact,
}

/// What the gateway answered, and the host state after the call.
pub struct HttpReply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
    pub state: HostState,
}

impl HttpReply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Harness {
    /// `NEON_HARNESS_LOGGER=python` sends the logger calls to the Python logger instead of the
    /// Rust one: the same tests hold both to the same behaviour.
    pub fn new() -> Result<Self> {
        let engine = engine()?;
        let linker = linker(&engine)?;
        let logger = match std::env::var("NEON_HARNESS_LOGGER").as_deref() {
            Err(_) | Ok("rust") => Artifact::Logger,
            Ok("python") => Artifact::PythonLogger,
            Ok(other) => anyhow::bail!("NEON_HARNESS_LOGGER must be rust or python, not {other}"),
        };
        Ok(Self {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
            logger,
        })
    }

    /// The compiled component, compiled once per harness.
    pub fn component(&self, artifact: Artifact) -> Result<Component> {
        let mut compiled = self
            .compiled
            .lock()
            .map_err(|_| anyhow!("component cache poisoned"))?;
        if let Some(component) = compiled.get(&artifact) {
            return Ok(component.clone());
        }
        let component = Component::new(&self.engine, artifact.read()?)
            .with_context(|| format!("compiling {}", artifact.file_name()))?;
        compiled.insert(artifact, component.clone());
        Ok(component)
    }

    /// Calls `processing.process` on a fresh instance of `artifact` (the processor or the
    /// composed component).
    pub async fn process(
        &self,
        artifact: Artifact,
        state: HostState,
        data: &[u8],
    ) -> Result<(Result<String, String>, HostState)> {
        let component = self.component(artifact)?;
        let mut store = Store::new(&self.engine, state);
        let instance = DataProcessor::instantiate_async(&mut store, &component, &self.linker)
            .await
            .with_context(|| format!("instantiating {}", artifact.file_name()))?;
        let result = instance
            .cyber_core_processing()
            .call_process(&mut store, data)
            .await?;
        Ok((result, store.into_data()))
    }

    /// A fresh logger instance, in a store of its own holding `state`.
    async fn logger(&self, state: HostState) -> Result<(Store<HostState>, Logger)> {
        let component = self.component(self.logger)?;
        let mut store = Store::new(&self.engine, state);
        let instance = Logger::instantiate_async(&mut store, &component, &self.linker)
            .await
            .with_context(|| format!("instantiating {}", self.logger.file_name()))?;
        Ok((store, instance))
    }

    /// Calls `logging.log` once per record on one fresh logger instance.
    pub async fn log(&self, state: HostState, calls: &[(String, Level)]) -> Result<HostState> {
        let (mut store, instance) = self.logger(state).await?;
        for (message, level) in calls {
            instance
                .cyber_system_logging()
                .call_log(&mut store, message, *level)
                .await?;
        }
        Ok(store.into_data())
    }

    /// One `logging.log` call on a fresh logger instance, and the host state whatever it gave:
    /// after a trap the instance is gone, but what it wrote to stderr is not.
    pub async fn try_log(
        &self,
        state: HostState,
        message: &str,
        level: Level,
    ) -> Result<(HostState, Result<()>)> {
        let (mut store, instance) = self.logger(state).await?;
        let outcome = instance
            .cyber_system_logging()
            .call_log(&mut store, message, level)
            .await;
        Ok((store.into_data(), outcome))
    }

    /// `batch.begin`, one `logging.log` per record, then `batch.flush`, on one fresh logger
    /// instance: what a fused pipeline does around each request.
    pub async fn log_batch(
        &self,
        state: HostState,
        calls: &[(String, Level)],
    ) -> Result<(HostState, Result<(), String>)> {
        let (mut store, instance) = self.logger(state).await?;
        let batch = instance.cyber_system_batch();
        batch.call_begin(&mut store).await?;
        for (message, level) in calls {
            instance
                .cyber_system_logging()
                .call_log(&mut store, message, *level)
                .await?;
        }
        let flushed = batch.call_flush(&mut store).await?;
        Ok((store.into_data(), flushed))
    }

    /// processor -> logger -> sink, wired the way separate components are linked on a lattice:
    /// the processor's log calls are replayed, in order, into one logger instance.
    pub async fn linked(
        &self,
        logger_config: &[(&str, &str)],
        data: &[u8],
    ) -> Result<(Result<String, String>, Vec<Entry>)> {
        let (result, processor) = self
            .process(Artifact::Processor, HostState::new(&[]), data)
            .await?;
        let logger = self
            .log(HostState::new(logger_config), &processor.logs)
            .await?;
        Ok((result, logger.sink))
    }

    /// The same pipeline as one component: processor-composed.wasm straight onto the sink.
    pub async fn composed(
        &self,
        logger_config: &[(&str, &str)],
        data: &[u8],
    ) -> Result<(Result<String, String>, Vec<Entry>)> {
        self.composed_as(Artifact::Composed, logger_config, data)
            .await
    }

    /// A composed pipeline (`Composed` or `ComposedPython`) straight onto the sink.
    pub async fn composed_as(
        &self,
        artifact: Artifact,
        logger_config: &[(&str, &str)],
        data: &[u8],
    ) -> Result<(Result<String, String>, Vec<Entry>)> {
        let (result, state) = self
            .process(artifact, HostState::new(logger_config), data)
            .await?;
        Ok((result, state.sink))
    }

    /// Sends one HTTP request through a fresh gateway instance.
    pub async fn http<B>(&self, state: HostState, request: hyper::Request<B>) -> Result<HttpReply>
    where
        B: Body<Data = Bytes, Error = hyper::Error> + Send + Sync + 'static,
    {
        self.http_to(Artifact::Gateway, state, request).await
    }

    /// Sends one HTTP request through a fresh instance of `artifact` (the gateway or the fused
    /// pipeline, both `wasi:http/incoming-handler`).
    pub async fn http_to<B>(
        &self,
        artifact: Artifact,
        state: HostState,
        request: hyper::Request<B>,
    ) -> Result<HttpReply>
    where
        B: Body<Data = Bytes, Error = hyper::Error> + Send + Sync + 'static,
    {
        let component = self.component(artifact)?;
        let mut store = Store::new(&self.engine, state);
        let proxy = Proxy::instantiate_async(&mut store, &component, &self.linker)
            .await
            .with_context(|| format!("instantiating {}", artifact.file_name()))?;
        let request = store
            .data_mut()
            .new_incoming_request(Scheme::Http, request)?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().new_response_outparam(sender)?;
        // The guest streams the body after handing over the response: read it while the call
        // runs, as a server does, or a large body would wait for a reader forever.
        let call = tokio::spawn(async move {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
                .map(|()| store.into_data())
        });
        let response = match receiver.await {
            Ok(response) => {
                response.map_err(|code| anyhow!("the component answered with error {code:?}"))?
            }
            // No response was set: the call's own error (a trap) says why.
            Err(_) => {
                call.await??;
                return Err(anyhow!("the component returned without setting a response"));
            }
        };
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|code| anyhow!("reading the response body: {code:?}"))?
            .to_bytes();
        let state = call.await??;
        Ok(HttpReply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            state,
        })
    }
}
