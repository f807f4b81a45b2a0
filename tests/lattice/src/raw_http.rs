//! HTTP/1.x spoken by hand over TCP, for requests a well-behaved client never sends: chunked
//! bodies, HTTP/1.0, pipelined requests, bodies trickled byte by byte, oversized headers, junk.
//! Answers are parsed just enough to check status, body and order.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use neon_ops::load::Reply;

pub struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet parsed into an answer.
    pending: Vec<u8>,
}

impl Connection {
    pub fn open(port: u16) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            pending: Vec::new(),
        })
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).context("sending")
    }

    /// Sends bytes one at a time, `pause` apart.
    pub fn trickle(&mut self, bytes: &[u8], pause: Duration) -> Result<()> {
        for byte in bytes {
            self.send(std::slice::from_ref(byte))?;
            std::thread::sleep(pause);
        }
        Ok(())
    }

    /// The next answer on the connection, within `limit`.
    pub fn answer(&mut self, limit: Duration) -> Result<Reply> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some((answer, used)) = parse(&self.pending)? {
                self.pending.drain(..used);
                return Ok(answer);
            }
            if Instant::now() > deadline {
                bail!(
                    "no whole answer within {limit:?}; got {:?}",
                    String::from_utf8_lossy(&self.pending)
                );
            }
            let mut buffer = [0u8; 64 * 1024];
            match self.stream.read(&mut buffer) {
                Ok(0) => bail!(
                    "connection closed before a whole answer; got {:?}",
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(n) => self.pending.extend_from_slice(&buffer[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e).context("reading the answer"),
            }
        }
    }
}

/// A request with a body and a Content-Length.
pub fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One whole answer at the start of `bytes`, and how many bytes it took; `None` while incomplete.
fn parse(bytes: &[u8]) -> Result<Option<(Reply, usize)>> {
    let Some(head_end) = find(bytes, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&bytes[..head_end]).context("answer head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("no status in {status_line:?}"))?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_ascii_lowercase())
        })
    };
    let start = head_end + 4;
    if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        return Ok(
            dechunk(&bytes[start..]).map(|(body, used)| (reply(status, &body), start + used))
        );
    }
    let length: usize = header("content-length")
        .map_or(Ok(0), |v| v.parse())
        .context("content-length")?;
    if bytes.len() < start + length {
        return Ok(None);
    }
    let body = bytes[start..start + length].to_vec();
    Ok(Some((reply(status, &body), start + length)))
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        body: String::from_utf8_lossy(body).into_owned(),
        request_id: None,
    }
}

fn dechunk(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + find(&bytes[at..], b"\r\n")?;
        let size_text = std::str::from_utf8(&bytes[at..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            let end = at + find(&bytes[at..], b"\r\n")?;
            return Some((body, end + 2));
        }
        if bytes.len() < at + size + 2 {
            return None;
        }
        body.extend_from_slice(&bytes[at..at + size]);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_and_chunked_answers_back_to_back() -> Result<()> {
        let bytes = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nOKHTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 413";
        let (first, used) = parse(bytes)?.context("first")?;
        assert_eq!((first.status, first.body.clone()), (200, "OK".to_string()));
        let (second, used2) = parse(&bytes[used..])?.context("second")?;
        assert_eq!(
            (second.status, second.body.clone()),
            (404, "abc".to_string())
        );
        assert!(parse(&bytes[used + used2..])?.is_none());
        Ok(())
    }
}
