//! Reading a response body within bounds: a maximum decoded size and a maximum wait for each
//! piece, so a hostile or broken server cannot exhaust memory or hold a call forever.

use std::time::Duration;

use bytes::Bytes;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The decoded body grew past the limit (bytes).
    TooLarge(usize),
    /// No data arrived for the idle timeout.
    Idle(Duration),
    /// The connection or the decoder failed.
    Transport(reqwest::Error),
}

use crate::resource::BOM;

/// Reads the whole (decompressed) body of `response`, failing as soon as it exceeds `limit`
/// bytes or a piece takes longer than `idle` to arrive. A leading byte-order mark is dropped.
///
/// `declared` is the length of a body without content coding: over the limit, it fails before
/// anything is read. Every chunk is copied into one buffer that grows by
/// doubling but never past the limit, so memory holds at most twice the limit (while the
/// buffer moves), however the body is compressed or chunked: a server sending one byte per
/// chunk cannot make the client keep a buffer per byte.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    declared: Option<u64>,
    limit: Option<usize>,
    idle: Option<Duration>,
) -> Result<Bytes, BodyError> {
    let limit = limit.unwrap_or(usize::MAX);
    let declared = declared.map(|length| usize::try_from(length).unwrap_or(usize::MAX));
    if declared.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    // A declared length is trusted for the first allocation only up to 8 MiB: a server may lie.
    let mut body: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(8 << 20));
    loop {
        let next = match idle {
            Some(idle) => match tokio::time::timeout(idle, response.chunk()).await {
                Ok(next) => next,
                Err(_) => return Err(BodyError::Idle(idle)),
            },
            None => response.chunk().await,
        };
        let Some(chunk) = next.map_err(BodyError::Transport)? else {
            break;
        };
        let needed = body.len().saturating_add(chunk.len());
        if needed > limit {
            return Err(BodyError::TooLarge(limit));
        }
        if needed > body.capacity() {
            let grown = body.capacity().saturating_mul(2).max(needed).max(8 * 1024);
            body.reserve_exact(grown.min(limit) - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(strip_bom(Bytes::from(body)))
}

/// `body` without a leading UTF-8 byte-order mark.
fn strip_bom(body: Bytes) -> Bytes {
    if body.starts_with(BOM) {
        body.slice(BOM.len()..)
    } else {
        body
    }
}
