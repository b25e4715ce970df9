//! Reading a response body within bounds: a maximum decoded size and a maximum wait for each
//! piece, so a hostile or broken server cannot exhaust memory or hold a call forever.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

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
/// Chunks are kept as they arrive and joined once at the end, so memory never holds more than
/// about twice the limit, however the body is compressed or chunked.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: Option<usize>,
    idle: Option<Duration>,
) -> Result<Bytes, BodyError> {
    let limit = limit.unwrap_or(usize::MAX);
    // A declared length is the encoded size: decisive only without content coding.
    if response
        .headers()
        .get(http::header::CONTENT_ENCODING)
        .is_none()
        && let Some(length) = response.content_length()
        && usize::try_from(length).map_or(true, |length| length > limit)
    {
        return Err(BodyError::TooLarge(limit));
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
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
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(BodyError::TooLarge(limit));
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
    }
    let body = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut joined = BytesMut::with_capacity(total);
            for chunk in &chunks {
                joined.extend_from_slice(chunk);
            }
            drop(chunks);
            joined.freeze()
        }
    };
    Ok(strip_bom(body))
}

/// `body` without a leading UTF-8 byte-order mark.
fn strip_bom(body: Bytes) -> Bytes {
    if body.starts_with(BOM) {
        body.slice(BOM.len()..)
    } else {
        body
    }
}
