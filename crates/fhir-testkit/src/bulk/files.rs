//! Serving an export's NDJSON files: the token or the URL signature checked, `Range`
//! honoured, and the injected failures (expired, cut short, slow).

use super::*;

/// `GET /bulk-files/{job}/{n}.ndjson` on the FHIR origin or the storage origin.
pub(crate) fn download(
    state: &mut State,
    request: &Request,
    job_id: &str,
    file: &str,
    origin: FileOrigin,
) -> ResponseTemplate {
    record(state, request, ExportRequestKind::File);
    let not_found = || outcome(404, "not-found", "no such export file");
    let Some(requires_token) = state
        .export
        .jobs
        .get(job_id)
        .map(|job| job.requires_access_token)
    else {
        return not_found();
    };
    match origin {
        FileOrigin::Fhir if !requires_token => return not_found(),
        FileOrigin::Storage if requires_token => return not_found(),
        FileOrigin::Fhir => {
            if let Err(response) = authenticate(state, request) {
                return response;
            }
        }
        FileOrigin::Storage => {
            if request.headers.contains_key("authorization") {
                // As object stores answer a signed URL that also carries a token.
                return ResponseTemplate::new(400).set_body_raw(
                    "Only one auth mechanism allowed: the signature in the URL or an Authorization header",
                    "text/plain",
                );
            }
        }
    }
    let truncate = state.export.truncations > 0;
    let Some(job) = state.export.jobs.get(job_id) else {
        return not_found();
    };
    let Some(file) = file
        .strip_suffix(".ndjson")
        .and_then(|index| index.parse::<usize>().ok())
        .and_then(|index| job.files.get(index))
    else {
        return not_found();
    };
    if origin == FileOrigin::Storage {
        let signature = request
            .url
            .query_pairs()
            .find(|(name, _)| name == "sig")
            .map(|(_, value)| value.into_owned());
        if signature.as_deref() != Some(file.signature.as_str()) {
            return ResponseTemplate::new(403)
                .set_body_raw("The signature does not match", "text/plain");
        }
    }
    if job.expired {
        return outcome(410, "expired", "the export's files have expired");
    }
    let length = file.body.len();
    let start = match header(request, "range").map(range_start) {
        None => None,
        Some(Some(start)) if start < length => Some(start),
        Some(Some(_)) => {
            return ResponseTemplate::new(416)
                .insert_header("content-range", format!("bytes */{length}"));
        }
        // A form the sandbox does not serve: the whole file, as servers that ignore Range do.
        Some(None) => None,
    };
    let body = &file.body[start.unwrap_or(0)..];
    let response = match start {
        Some(start) => ResponseTemplate::new(206).insert_header(
            "content-range",
            format!("bytes {start}-{}/{length}", length.saturating_sub(1)),
        ),
        None => ResponseTemplate::new(200),
    }
    .insert_header("accept-ranges", "bytes")
    .set_delay(state.export.settings.download_delay);
    if truncate && body.len() > 1 {
        state.export.truncations -= 1;
        // The first half, ending inside a line: what a client sees of a response whose
        // connection closed early when nothing declared its length.
        return response.set_body_raw(body[..body.len() / 2].to_vec(), NDJSON);
    }
    response.set_body_raw(body.to_vec(), NDJSON)
}

/// The start of `bytes=START-` or `bytes=START-END` (the end is not honoured: the sandbox
/// always sends to the end of the file).
pub(super) fn range_start(value: &str) -> Option<usize> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (start, _) = spec.split_once('-')?;
    start.trim().parse().ok()
}
