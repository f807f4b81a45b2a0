//! Bounded waits: the one way Neon polls for a state, so every wait ends and says why.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

/// Calls `probe` every `every` until it returns `Ok`, for at most `limit`. On time-out the error
/// is the probe's last one, prefixed with what was awaited.
pub async fn until<T, F, Fut>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        let last = match probe().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            return Err(anyhow!("{what}: not within {limit:?}: {last:#}"));
        }
        tokio::time::sleep(every).await;
    }
}

/// The same for code that cannot await (drop handlers, blocking tests).
pub fn until_blocking<T>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<T>,
) -> Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        let last = match probe() {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            return Err(anyhow!("{what}: not within {limit:?}: {last:#}"));
        }
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::bail;

    #[tokio::test]
    async fn returns_once_the_probe_succeeds() {
        let mut calls = 0;
        let value = until("third call", Duration::from_secs(5), Duration::ZERO, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    bail!("call {n}");
                }
                Ok(n)
            }
        })
        .await;
        assert_eq!(value.ok(), Some(3));
    }

    #[test]
    fn gives_up_with_the_last_error() {
        let error = until_blocking(
            "never",
            Duration::from_millis(50),
            Duration::from_millis(10),
            || -> Result<()> { bail!("still no") },
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.starts_with("never: not within"), "{error}");
        assert!(error.ends_with("still no"), "{error}");
    }
}
