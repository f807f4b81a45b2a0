//! A record the sink refuses fails its request, on every wiring, through the real lattice.
//!
//! The logging provider writes to a small tmpfs of the test's own that fills up while requests
//! come in one at a time: a real "No space left on device", not a mock. Every 200 must have its
//! records in the sink, every other answer must be a 5xx that names the refusal, and once the
//! disk has room again the app must serve with nothing failed. Requests are sequential and
//! nothing else writes to the sink, so each request's records are known exactly: the processor
//! logs "Initiating..." then "Sequence complete."; a 200 must have both, a refused request may
//! have left the first (written before the second was refused) but never the second.
//!
//! On the linked and direct wirings a refused record reaches the caller as a failed
//! `logging.log`, a function without results; over the lattice such a failure used to look like
//! a return, and these wirings answered 200 for records never written.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use neon_lattice_tests::deploy::deploy_wiring_in;
use neon_lattice_tests::records::{self, Record};
use neon_lattice_tests::semantics::{completed, started};
use neon_lattice_tests::small_disk::SmallDisk;
use neon_ops::load::{Client, Reply};
use neon_ops::{Lattice, Wiring};
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The sink's disk: room for the deployment's own records and then some.
const DISK_BYTES: u64 = 1 << 20;
/// Room left when it fills: a few requests' records (about 250 bytes each) fit, then none do.
const ROOM_BYTES: u64 = 8 << 10;
/// Requests sent while the disk fills: several times what fits in the room left.
const FILLING_REQUESTS: usize = 60;
/// Requests sent once the disk has room again.
const RECOVERED_REQUESTS: usize = 30;

/// What the requests of one phase got, and what the sink holds for them.
struct Phase {
    replies: Vec<Reply>,
    records: Vec<Record>,
}

impl Phase {
    fn ok(&self) -> usize {
        self.replies.iter().filter(|r| r.status == 200).count()
    }

    fn refused(&self) -> usize {
        self.replies.len() - self.ok()
    }

    /// Checks each request against its records, in order: a 200 has "Initiating..." and
    /// "Sequence complete."; any other answer is a 5xx naming the refusal and has at most the
    /// first of them. Nothing may be left over.
    fn check(&self, phase: &str) -> Result<()> {
        let mut records = self.records.iter().peekable();
        for (i, reply) in self.replies.iter().enumerate() {
            if reply.status == 200 {
                ensure!(
                    reply.body.starts_with("REQUEST "),
                    "{phase}: request {i}: 200 with {:?}",
                    reply.body
                );
                let got: Vec<_> = records.by_ref().take(2).cloned().collect();
                ensure!(
                    got == [started(), completed()],
                    "{phase}: request {i} answered 200 but its records are {got:?}"
                );
            } else {
                ensure!(
                    (500..600).contains(&reply.status) && names_the_refusal(&reply.body),
                    "{phase}: request {i}: expected 200, or a 5xx naming the refusal; got {} {:?}",
                    reply.status,
                    reply.body
                );
                if records.peek() == Some(&&started()) {
                    records.next();
                }
                ensure!(
                    records.peek() != Some(&&completed()),
                    "{phase}: request {i} failed, yet its \"Sequence complete.\" was written"
                );
            }
        }
        let left: Vec<_> = records.collect();
        ensure!(
            left.is_empty(),
            "{phase}: records no request accounts for: {left:?}"
        );
        Ok(())
    }
}

/// The answer says why: the file system's own words reach the client through every hop.
fn names_the_refusal(body: &str) -> bool {
    body.contains("No space left on device")
}

async fn send(client: &Client, log: &std::path::Path, count: usize) -> Result<Phase> {
    let before = records::read(log)?.len();
    let mut replies = Vec::with_capacity(count);
    for i in 0..count {
        let reply = client
            .post("/process", format!("request {i}"))
            .await
            .with_context(|| format!("request {i} got no HTTP answer"))?;
        replies.push(reply);
    }
    // Every write was awaited before its answer; a moment more for anything late to show up
    // (it would then count as left over).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let records = records::read(log)?.split_off(before);
    Ok(Phase { replies, records })
}

async fn refused_records_fail_their_requests(lattice: &Lattice, wiring: Wiring) -> Result<()> {
    let disk = SmallDisk::mount(&lattice.work_dir().join("small-disk"), DISK_BYTES)?;
    let app = format!("neon-refused-{}", wiring.name());
    let (rendered, client) = deploy_wiring_in(lattice, wiring, &app, disk.path()).await?;
    let log = &rendered.log_file;

    disk.fill_leaving(ROOM_BYTES)?;
    let room = disk.free_bytes()?;
    let filling = send(&client, log, FILLING_REQUESTS).await?;
    eprintln!(
        "{}: {} requests while the disk filled ({room} bytes were free): {} x 200, {} refused, {} records written; first refusal: {:?}",
        wiring.name(),
        filling.replies.len(),
        filling.ok(),
        filling.refused(),
        filling.records.len(),
        filling
            .replies
            .iter()
            .find(|r| r.status != 200)
            .map(|r| (r.status, &r.body))
    );
    filling.check("disk filling")?;
    ensure!(
        filling.refused() > 0,
        "no request was refused: the full disk was not felt"
    );

    disk.free()?;
    let recovered = send(&client, log, RECOVERED_REQUESTS).await?;
    eprintln!(
        "{}: {} requests with room again: {} x 200, {} failed",
        wiring.name(),
        recovered.replies.len(),
        recovered.ok(),
        recovered.refused()
    );
    recovered.check("room again")?;
    ensure!(
        recovered.ok() == RECOVERED_REQUESTS,
        "with room again, {} of {RECOVERED_REQUESTS} requests failed",
        recovered.refused()
    );
    Ok(())
}

async fn run(wiring: Wiring) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let lattice = match Lattice::start(&format!("refused-{}", wiring.name())).await {
        Ok(lattice) => lattice,
        Err(e) => panic!("{} wiring: starting the lattice: {e:#}", wiring.name()),
    };
    if let Err(e) = refused_records_fail_their_requests(&lattice, wiring).await {
        panic!(
            "{} wiring: {e:#} (lattice files: {})",
            wiring.name(),
            lattice.work_dir().display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_refused_record_fails_its_request() {
    run(Wiring::Linked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_refused_record_fails_its_request() {
    run(Wiring::Direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_refused_record_fails_its_request() {
    run(Wiring::Composed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logger_refused_record_fails_its_request() {
    run(Wiring::PythonLogger).await;
}
