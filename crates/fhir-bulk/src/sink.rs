//! The directory sink: one file per manifest entry, written as `NAME.part` and renamed when
//! complete, the manifest beside them, and a state file so an interrupted run resumes
//! (polling from the saved status URL, completed files skipped, partial files continued with
//! `Range`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::stream::{self, StreamExt as _};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufWriter};

use crate::download::{Batch, BatchSink, Resume, download, file_scope};
use crate::error::BulkError;
use crate::event::Event;
use crate::file::{FileKind, FileRef};
use crate::job::{BulkClient, ExportJob};
use crate::manifest::Manifest;
use crate::record::check_line;
use crate::request::ExportRequest;

/// The state file's name in the output directory.
pub const STATE_FILE: &str = ".fhir-bulk-state.json";
/// The saved manifest's name in the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    status_url: String,
    /// Completed files: name → lines.
    done: BTreeMap<String, u64>,
}

/// What a directory export wrote.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Resources per output type (completed files, this run and earlier ones).
    pub resources_by_type: BTreeMap<String, u64>,
    /// Resources in output files.
    pub resources: u64,
    /// Files complete in the directory.
    pub files: usize,
    /// Files skipped because an earlier run completed them.
    pub skipped: usize,
    /// OperationOutcomes in error files.
    pub errors: u64,
    /// Lines (Bundles of deletions) in deleted files.
    pub deleted: u64,
    /// Files that failed in this run (the rest are complete).
    pub failures: Vec<BulkError>,
}

impl BulkClient {
    /// Exports into `dir`: kicks off `request` (or, when `dir` holds the state of an
    /// interrupted run, resumes that job from its status URL), waits for the manifest, saves
    /// it, and downloads every file not yet complete. Run it again after an interruption.
    ///
    /// # Errors
    ///
    /// Kick-off and job errors, [`BulkError::Io`] and [`BulkError::State`]. File failures
    /// are collected in [`ExportSummary::failures`].
    pub async fn export_to_dir(
        &self,
        request: &ExportRequest,
        dir: &Path,
    ) -> Result<ExportSummary, BulkError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|err| BulkError::io(dir, err))?;
        let job = match read_state(dir).await? {
            Some(state) => self.job(&state.status_url)?,
            None => {
                let job = self.kick_off(request).await?;
                let state = State {
                    status_url: job.status_url().to_string(),
                    done: BTreeMap::new(),
                };
                write_json(&dir.join(STATE_FILE), &state).await?;
                job
            }
        };
        self.save_to_dir(&job, dir).await
    }

    /// Waits for `job` (unless `dir` already holds its manifest) and downloads its files into
    /// `dir`, skipping those an earlier run completed.
    ///
    /// # Errors
    ///
    /// As [`export_to_dir`](Self::export_to_dir).
    pub async fn save_to_dir(
        &self,
        job: &ExportJob,
        dir: &Path,
    ) -> Result<ExportSummary, BulkError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|err| BulkError::io(dir, err))?;
        let mut state = read_state(dir).await?.unwrap_or_default();
        if !state.status_url.is_empty() && state.status_url != job.status_url().as_str() {
            return Err(BulkError::State {
                path: dir.join(STATE_FILE),
                reason: "the directory holds another export".to_owned(),
            });
        }
        state.status_url = job.status_url().to_string();
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = match tokio::fs::read(&manifest_path).await {
            Ok(bytes) => Manifest::from_json_slice(&bytes, job.status_url())?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let manifest = job.wait().await?;
                write_json(&manifest_path, &manifest).await?;
                manifest
            }
            Err(err) => return Err(BulkError::io(&manifest_path, err)),
        };
        write_json(&dir.join(STATE_FILE), &state).await?;
        // Held across each write, so the state file is rewritten by one task at a time.
        let state = tokio::sync::Mutex::new(state);
        let scope = file_scope(self, &manifest);
        let files = manifest.files();
        let results: Vec<(FileRef, bool, Result<u64, BulkError>)> = stream::iter(files)
            .map(|file| {
                let (state, scope) = (&state, &scope);
                async move {
                    let name = file.file_name();
                    let done = state.lock().await.done.get(&name).copied();
                    if let Some(lines) = done {
                        self.config.emit(Event::FileSkipped { file: file.clone() });
                        return (file, true, Ok(lines));
                    }
                    let result = self.save_file(&file, scope, dir).await;
                    if let Ok(lines) = &result {
                        let mut state = state.lock().await;
                        state.done.insert(name, *lines);
                        if let Err(err) = write_json(&dir.join(STATE_FILE), &*state).await {
                            return (file, false, Err(err));
                        }
                    }
                    (file, false, result)
                }
            })
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        Ok(summarize(results))
    }

    async fn save_file(
        &self,
        file: &FileRef,
        scope: &fhir_core::exchange::CredentialScope,
        dir: &Path,
    ) -> Result<u64, BulkError> {
        let final_path = dir.join(file.file_name());
        let part = dir.join(format!("{}.part", file.file_name()));
        let resume = resume_point(&part).await?;
        let handle = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .await
            .map_err(|err| BulkError::io(&part, err))?;
        let mut sink = FileSink {
            writer: BufWriter::with_capacity(256 << 10, handle),
            path: part.clone(),
        };
        let result = download(self, file, scope, resume, &mut sink).await;
        let flushed = sink.writer.flush().await;
        if let Err(err) = result {
            self.config.emit(Event::Error {
                file: Some(file.clone()),
                message: err.to_string(),
            });
            return Err(err);
        }
        flushed.map_err(|err| BulkError::io(&part, err))?;
        sink.writer
            .get_ref()
            .sync_all()
            .await
            .map_err(|err| BulkError::io(&part, err))?;
        tokio::fs::rename(&part, &final_path)
            .await
            .map_err(|err| BulkError::io(&final_path, err))?;
        result.map(|stats| stats.lines)
    }
}

fn summarize(results: Vec<(FileRef, bool, Result<u64, BulkError>)>) -> ExportSummary {
    let mut summary = ExportSummary::default();
    for (file, skipped, result) in results {
        let lines = match result {
            Ok(lines) => lines,
            Err(err) => {
                summary.failures.push(err);
                continue;
            }
        };
        summary.files += 1;
        summary.skipped += usize::from(skipped);
        match file.kind() {
            FileKind::Output => {
                summary.resources += lines;
                *summary
                    .resources_by_type
                    .entry(file.resource_type().to_owned())
                    .or_default() += lines;
            }
            FileKind::Deleted => summary.deleted += lines,
            FileKind::Error => summary.errors += lines,
        }
    }
    summary
}

/// Where a partial file continues: after its last complete line (anything after it is cut).
async fn resume_point(part: &Path) -> Result<Resume, BulkError> {
    let mut handle = match tokio::fs::File::open(part).await {
        Ok(handle) => handle,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Resume::default()),
        Err(err) => return Err(BulkError::io(part, err)),
    };
    let mut buffer = vec![0u8; 256 << 10];
    let (mut offset, mut lines, mut last_end) = (0u64, 0u64, 0u64);
    loop {
        let read = handle
            .read(&mut buffer)
            .await
            .map_err(|err| BulkError::io(part, err))?;
        if read == 0 {
            break;
        }
        for at in memchr::memchr_iter(b'\n', &buffer[..read]) {
            lines += 1;
            last_end = offset + at as u64 + 1;
        }
        offset += read as u64;
    }
    drop(handle);
    if last_end != offset {
        let handle = tokio::fs::OpenOptions::new()
            .write(true)
            .open(part)
            .await
            .map_err(|err| BulkError::io(part, err))?;
        handle
            .set_len(last_end)
            .await
            .map_err(|err| BulkError::io(part, err))?;
    }
    Ok(Resume {
        offset: last_end,
        lines,
    })
}

struct FileSink {
    writer: BufWriter<tokio::fs::File>,
    path: PathBuf,
}

impl BatchSink for FileSink {
    async fn accept(&mut self, batch: Batch) -> Result<(), BulkError> {
        for (line, number) in batch.lines.iter().zip(batch.first_line..) {
            check_line(&batch.file, number, line)?;
        }
        for line in &batch.lines {
            self.writer
                .write_all(line)
                .await
                .map_err(|err| BulkError::io(&self.path, err))?;
            self.writer
                .write_all(b"\n")
                .await
                .map_err(|err| BulkError::io(&self.path, err))?;
        }
        Ok(())
    }
}

async fn read_state(dir: &Path) -> Result<Option<State>, BulkError> {
    let path = dir.join(STATE_FILE);
    match tokio::fs::read(&path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| BulkError::State {
                path,
                reason: err.to_string(),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(BulkError::io(path, err)),
    }
}

async fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BulkError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|err| BulkError::State {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    write_atomic(path, &bytes).await
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BulkError> {
    let temporary = path.with_extension("tmp");
    tokio::fs::write(&temporary, bytes)
        .await
        .map_err(|err| BulkError::io(&temporary, err))?;
    tokio::fs::rename(&temporary, path)
        .await
        .map_err(|err| BulkError::io(path, err))
}
