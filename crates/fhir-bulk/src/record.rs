//! What a line becomes: a [`Line`] (raw), or a [`Record`] (a typed resource, a
//! [`Deletion`], an OperationOutcome), each checked against its file's type.

use std::borrow::Cow;

use bytes::Bytes;
use fhir_core::{DecodeError, DecodeErrorKind, OperationOutcome, Resource};
use serde::Deserialize;

use crate::download::Batch;
use crate::error::BulkError;
use crate::event::bounded_text;
use crate::file::{FileKind, FileRef};

/// One raw NDJSON line, its `resourceType` checked.
#[derive(Debug, Clone)]
pub struct Line {
    /// The file.
    pub file: FileRef,
    /// The line number (1-based; blank lines are not counted).
    pub number: u64,
    /// The line's bytes, without the newline.
    pub bytes: Bytes,
}

/// One deleted resource, from an entry of a `deleted` file's Bundle (`request.url` of a
/// `DELETE`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deletion {
    /// The resource type (`Patient`).
    pub resource_type: String,
    /// The id.
    pub id: String,
    /// The entry's `request.url` as sent (`Patient/123`).
    pub url: String,
}

/// One typed line of an export.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Record<T> {
    /// A resource of an `output` file.
    Resource {
        /// The file.
        file: FileRef,
        /// The line number.
        line: u64,
        /// The resource.
        resource: T,
    },
    /// A deleted resource (one per entry of a `deleted` file's Bundle).
    Deleted {
        /// The file.
        file: FileRef,
        /// The line number.
        line: u64,
        /// What was deleted.
        deletion: Deletion,
    },
    /// An OperationOutcome of an `error` file.
    Outcome {
        /// The file.
        file: FileRef,
        /// The line number.
        line: u64,
        /// The outcome.
        outcome: OperationOutcome,
    },
}

impl<T> Record<T> {
    /// The resource, for output lines.
    pub fn resource(&self) -> Option<&T> {
        match self {
            Self::Resource { resource, .. } => Some(resource),
            _ => None,
        }
    }

    /// The resource, for output lines, by value.
    pub fn into_resource(self) -> Option<T> {
        match self {
            Self::Resource { resource, .. } => Some(resource),
            _ => None,
        }
    }

    /// The file.
    pub fn file(&self) -> &FileRef {
        match self {
            Self::Resource { file, .. }
            | Self::Deleted { file, .. }
            | Self::Outcome { file, .. } => file,
        }
    }

    /// The line number.
    pub fn line(&self) -> u64 {
        match self {
            Self::Resource { line, .. }
            | Self::Deleted { line, .. }
            | Self::Outcome { line, .. } => *line,
        }
    }
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "resourceType", borrow, default)]
    resource_type: Option<Cow<'a, str>>,
}

/// Checks that `line` is a JSON object whose `resourceType` is the file's line type.
pub(crate) fn check_line(file: &FileRef, number: u64, line: &[u8]) -> Result<(), BulkError> {
    let peek: Peek<'_> = serde_json::from_slice(line).map_err(|err| {
        decode_error(
            file,
            number,
            DecodeError::from_serde_json(err, ".".to_owned()),
        )
    })?;
    expect_type(file, number, peek.resource_type.as_deref())
}

fn expect_type(file: &FileRef, number: u64, found: Option<&str>) -> Result<(), BulkError> {
    if found == Some(file.line_type()) {
        Ok(())
    } else {
        Err(BulkError::WrongResourceType {
            file: file.clone(),
            line: number,
            expected: file.line_type().to_owned(),
            // The server's text: masked and bounded, as it reaches error text and logs.
            found: found.map(bounded_text),
        })
    }
}

/// A decoding error of line `number`, with the server's text in its path and message
/// (property names, values the decoder quotes) masked and bounded.
fn decode_error(file: &FileRef, number: u64, mut source: DecodeError) -> BulkError {
    source.path = bounded_text(&source.path);
    source.message = bounded_text(&source.message);
    BulkError::Decode {
        file: file.clone(),
        line: number,
        source,
    }
}

/// The checked raw lines of a batch.
pub(crate) fn check_batch(batch: Batch) -> Vec<Result<Line, BulkError>> {
    let Batch {
        file,
        first_line,
        lines,
        ..
    } = batch;
    lines
        .into_iter()
        .zip(first_line..)
        .map(|(bytes, number)| {
            check_line(&file, number, &bytes)?;
            Ok(Line {
                file: file.clone(),
                number,
                bytes,
            })
        })
        .collect()
}

/// The typed records of a batch.
pub(crate) fn decode_batch<T: Resource>(batch: Batch) -> Vec<Result<Record<T>, BulkError>> {
    let mut records = Vec::with_capacity(batch.lines.len());
    for (bytes, number) in batch.lines.iter().zip(batch.first_line..) {
        let file = &batch.file;
        let decode_error = |source| decode_error(file, number, source);
        match file.kind() {
            FileKind::Output => records.push(
                T::from_json_slice(bytes)
                    .map_err(decode_error)
                    .and_then(|resource| {
                        expect_type(file, number, resource.resource_type())?;
                        Ok(Record::Resource {
                            file: file.clone(),
                            line: number,
                            resource,
                        })
                    }),
            ),
            FileKind::Error => records.push(check_line(file, number, bytes).and_then(|()| {
                let outcome = OperationOutcome::from_json_slice(bytes).map_err(decode_error)?;
                Ok(Record::Outcome {
                    file: file.clone(),
                    line: number,
                    outcome,
                })
            })),
            FileKind::Deleted => match deletions(file, number, bytes) {
                Ok(deletions) => records.extend(deletions.into_iter().map(|deletion| {
                    Ok(Record::Deleted {
                        file: file.clone(),
                        line: number,
                        deletion,
                    })
                })),
                Err(err) => records.push(Err(err)),
            },
        }
    }
    records
}

#[derive(Deserialize)]
struct DeletedBundle<'a> {
    #[serde(rename = "resourceType", borrow, default)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    bundle_type: Option<Cow<'a, str>>,
    #[serde(default)]
    entry: Vec<DeletedEntry>,
}

#[derive(Deserialize)]
struct DeletedEntry {
    request: Option<DeletedRequest>,
}

#[derive(Deserialize)]
struct DeletedRequest {
    #[serde(default)]
    method: Option<String>,
    url: String,
}

/// The deletions a `deleted` file's Bundle lists: a `transaction` Bundle (the IG's type;
/// `batch` is taken too) whose entries are `DELETE`s of `Type/id`. An entry with another
/// method is not a deletion and is refused rather than read as one.
pub(crate) fn deletions(
    file: &FileRef,
    number: u64,
    line: &[u8],
) -> Result<Vec<Deletion>, BulkError> {
    let decode_error = |source| decode_error(file, number, source);
    let invalid = |path: String, message: &str| {
        decode_error(DecodeError::new(
            DecodeErrorKind::InvalidValue,
            path,
            message,
        ))
    };
    let bundle: DeletedBundle<'_> = serde_json::from_slice(line)
        .map_err(|err| decode_error(DecodeError::from_serde_json(err, ".".to_owned())))?;
    expect_type(file, number, bundle.resource_type.as_deref())?;
    if let Some(kind) = bundle.bundle_type.as_deref()
        && kind != "transaction"
        && kind != "batch"
    {
        return Err(invalid(
            "type".to_owned(),
            "a Bundle of deletions is a transaction",
        ));
    }
    bundle
        .entry
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let request = entry.request.ok_or_else(|| {
                invalid(
                    format!("entry[{index}].request"),
                    "a deleted entry needs a request (DELETE Type/id)",
                )
            })?;
            if let Some(method) = &request.method
                && method != "DELETE"
            {
                return Err(invalid(
                    format!("entry[{index}].request.method"),
                    "a deleted entry's method is DELETE",
                ));
            }
            let url = request.url;
            let path = url.split(['?', '#']).next().unwrap_or_default();
            let mut parts = path.rsplit('/');
            match (parts.next(), parts.next()) {
                (Some(id), Some(resource_type)) if !id.is_empty() && !resource_type.is_empty() => {
                    Ok(Deletion {
                        resource_type: resource_type.to_owned(),
                        id: id.to_owned(),
                        url: url.clone(),
                    })
                }
                _ => Err(invalid(
                    format!("entry[{index}].request.url"),
                    "a deleted entry needs a request.url of the form Type/id",
                )),
            }
        })
        .collect()
}
