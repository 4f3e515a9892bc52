//! Which Kafka APIs a broker serves, asked with the protocol's own `ApiVersions` request
//! (version 0, which every broker answers). librdkafka keeps this to itself and reports
//! a missing transaction API only when a transaction commits; weir asks first, so an
//! `exactly_once` pipeline on a broker without transactions (tansu) fails at start, with
//! a message that says why.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

/// The APIs a transactional producer needs: InitProducerId, AddPartitionsToTxn,
/// AddOffsetsToTxn, EndTxn and TxnOffsetCommit, with their names.
pub const TRANSACTION_APIS: [(i16, &str); 5] =
    [(22, "InitProducerId"), (24, "AddPartitionsToTxn"), (25, "AddOffsetsToTxn"), (26, "EndTxn"), (28, "TxnOffsetCommit")];

const API_VERSIONS: i16 = 18;

/// The API keys the first reachable broker of `bootstrap` (comma-separated `host:port`)
/// serves.
pub fn supported_apis(bootstrap: &str, timeout: Duration) -> anyhow::Result<Vec<i16>> {
    let mut last = None;
    for server in bootstrap.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let server = server.rsplit_once("://").map_or(server, |(_, s)| s);
        match ask(server, timeout) {
            Ok(apis) => return Ok(apis),
            Err(e) => last = Some(e.context(format!("asking {server} for its API versions"))),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no bootstrap servers in `{bootstrap}`")))
}

/// The transaction APIs `bootstrap`'s broker lacks, by name (empty: it has them all).
pub fn missing_transaction_apis(bootstrap: &str, timeout: Duration) -> anyhow::Result<Vec<&'static str>> {
    let apis = supported_apis(bootstrap, timeout)?;
    Ok(TRANSACTION_APIS.iter().filter(|(key, _)| !apis.contains(key)).map(|(_, name)| *name).collect())
}

fn ask(server: &str, timeout: Duration) -> anyhow::Result<Vec<i16>> {
    let addr = server.to_socket_addrs()?.next().context("the address resolves to nothing")?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let client_id = b"weir";
    let correlation_id: i32 = 1;
    let mut request = Vec::with_capacity(32);
    request.extend_from_slice(&API_VERSIONS.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&correlation_id.to_be_bytes());
    request.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    request.extend_from_slice(client_id);
    stream.write_all(&(request.len() as i32).to_be_bytes())?;
    stream.write_all(&request)?;

    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    if !(10..=1 << 20).contains(&size) {
        bail!("implausible ApiVersions response size {size}");
    }
    let mut body = vec![0u8; size as usize];
    stream.read_exact(&mut body)?;
    parse_response(&body, correlation_id)
}

/// Parses an ApiVersions v0 response body (after the size).
fn parse_response(body: &[u8], correlation_id: i32) -> anyhow::Result<Vec<i16>> {
    let i16_at = |at: usize| body.get(at..at + 2).map(|b| i16::from_be_bytes([b[0], b[1]]));
    let i32_at = |at: usize| body.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if i32_at(0) != Some(correlation_id) {
        bail!("the response does not answer the request");
    }
    let error = i16_at(4).context("truncated response")?;
    if error != 0 {
        bail!("the broker answered with error code {error}");
    }
    let count = i32_at(6).context("truncated response")?;
    let mut keys = Vec::with_capacity(count.max(0) as usize);
    for k in 0..count.max(0) as usize {
        keys.push(i16_at(10 + 6 * k).context("truncated response")?);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn parses_a_version_0_response() {
        let mut body = Vec::new();
        body.extend_from_slice(&7i32.to_be_bytes());
        body.extend_from_slice(&0i16.to_be_bytes());
        body.extend_from_slice(&2i32.to_be_bytes());
        for (key, min, max) in [(0i16, 0i16, 9i16), (26, 0, 3)] {
            body.extend_from_slice(&key.to_be_bytes());
            body.extend_from_slice(&min.to_be_bytes());
            body.extend_from_slice(&max.to_be_bytes());
        }
        assert_eq!(parse_response(&body, 7).unwrap(), vec![0, 26]);
        assert!(parse_response(&body, 8).is_err());
        assert!(parse_response(&body[..12], 7).is_err());
    }
}
