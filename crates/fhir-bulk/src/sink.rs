//! The directory sink: one file per manifest entry, written as `NAME.part` and renamed when
//! complete, the manifest beside them, and a state file so an interrupted run resumes
//! (polling from the saved status URL, completed files skipped, partial files continued with
//! `Range`).
//!
//! Lines are written normalized (no `\r`, no blank lines), so a `.part` file's length is not
//! the server's offset: after each batch `NAME.part.progress` records both, and a resumed
//! download cuts the `.part` to what the record vouches for and asks the server for the bytes
//! after the offset it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::stream::{self, StreamExt as _};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWriteExt as _, BufWriter};

use crate::download::{Batch, BatchSink, FilePolicy, Resume, download};
use crate::error::BulkError;
use crate::event::Event;
use crate::file::{FileKind, FileRef};
use crate::job::{BulkClient, ExportJob};
use crate::manifest::Manifest;
use crate::record::check_line;
use crate::request::ExportRequest;
use crate::requested::Requested;

mod fs;

use fs::*;

/// The state file's name in the output directory.
pub const STATE_FILE: &str = ".fhir-bulk-state.json";
/// The saved manifest's name in the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The lock file's name in the output directory: held while a run writes there, so two runs
/// (two processes, or two calls) never write one export at once.
pub const LOCK_FILE: &str = ".fhir-bulk.lock";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    status_url: String,
    /// Completed files: name → lines.
    done: BTreeMap<String, u64>,
    /// Where each file name's data came from (its URL without query or fragment): a
    /// manifest fetched again that maps a name elsewhere (servers promise no order) makes
    /// that file start over instead of mixing two files.
    #[serde(default)]
    sources: BTreeMap<String, String>,
    /// What the kick-off asked, for the checks of ignored parameters when a later run
    /// resumes the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested: Option<Requested>,
}

/// A file's URL without what changes between signings of the same file.
fn source_key(file: &FileRef) -> String {
    let mut url = file.url().clone();
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

/// Fails when `dir` holds what an export leaves (a manifest, partial or finished files) but
/// no state file: another export's remains, which a new one must not mix with.
async fn refuse_leftovers(dir: &Path) -> Result<(), BulkError> {
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(|err| BulkError::io(dir, err))?;
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|err| BulkError::io(dir, err))?
    {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == MANIFEST_FILE || name.ends_with(".ndjson") || name.ends_with(".part") {
            return Err(BulkError::State {
                path: dir.join(STATE_FILE),
                reason: format!(
                    "the directory holds files of another export ({name}) but no state file; empty it or choose another"
                ),
            });
        }
    }
    Ok(())
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
        create_private_dir(dir).await?;
        let _lock = lock_dir(dir)?;
        let job = match read_state(dir).await? {
            // What the first run asked, not this call's request (it may have changed).
            Some(state) => match state.requested {
                Some(requested) => self.job(&state.status_url)?.with_requested(requested),
                None => self.job(&state.status_url)?.with_request(request),
            },
            None => {
                refuse_leftovers(dir).await?;
                let job = self.kick_off(request).await?;
                let state = State {
                    status_url: job.status_url().to_string(),
                    requested: Some(Requested::from(request)),
                    ..State::default()
                };
                write_state(dir, &state).await?;
                job
            }
        };
        self.save_locked(&job, dir).await
    }

    /// Waits for `job` (unless `dir` already holds its manifest) and downloads its files into
    /// `dir`, skipping those an earlier run completed. A completed file that is no longer in
    /// `dir` is fetched again (a crash may have undone its rename): move finished files
    /// elsewhere only once the export is done, or start a new directory.
    ///
    /// # Errors
    ///
    /// As [`export_to_dir`](Self::export_to_dir).
    pub async fn save_to_dir(
        &self,
        job: &ExportJob,
        dir: &Path,
    ) -> Result<ExportSummary, BulkError> {
        create_private_dir(dir).await?;
        let _lock = lock_dir(dir)?;
        self.save_locked(job, dir).await
    }

    /// [`save_to_dir`](Self::save_to_dir) with the directory's lock held.
    async fn save_locked(&self, job: &ExportJob, dir: &Path) -> Result<ExportSummary, BulkError> {
        let mut state = match read_state(dir).await? {
            Some(state) => state,
            None => {
                refuse_leftovers(dir).await?;
                State::default()
            }
        };
        if !state.status_url.is_empty() && state.status_url != job.status_url().as_str() {
            return Err(BulkError::State {
                path: dir.join(STATE_FILE),
                reason: "the directory holds another export".to_owned(),
            });
        }
        state.status_url = job.status_url().to_string();
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = match tokio::fs::read(&manifest_path).await {
            Ok(bytes) => {
                let mut manifest = Manifest::from_json_slice(&bytes, job.status_url())?;
                job.attach_requested(&mut manifest);
                manifest
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let manifest = job.wait().await?;
                write_durable(&manifest_path, &manifest, dir).await?;
                manifest
            }
            Err(err) => return Err(BulkError::io(&manifest_path, err)),
        };
        for file in manifest.files() {
            let name = file.file_name();
            let source = source_key(&file);
            if state
                .sources
                .get(&name)
                .is_some_and(|known| *known != source)
            {
                state.done.remove(&name);
                remove_if_present(&dir.join(&name)).await?;
                remove_if_present(&dir.join(format!("{name}.part"))).await?;
                remove_if_present(&dir.join(format!("{name}.part.progress"))).await?;
            }
            // Recorded complete but gone (removed by hand, or a rename a crash undid): fetched
            // again rather than skipped.
            if state.done.contains_key(&name)
                && !tokio::fs::try_exists(dir.join(&name))
                    .await
                    .map_err(|err| BulkError::io(dir.join(&name), err))?
            {
                state.done.remove(&name);
            }
            state.sources.insert(name, source);
        }
        write_state(dir, &state).await?;
        // Held across each write, so the state file is rewritten by one task at a time.
        let state = tokio::sync::Mutex::new(state);
        let policy = FilePolicy::new(self, &manifest);
        let files = manifest.files();
        let results: Vec<(FileRef, bool, Result<u64, BulkError>)> = stream::iter(files)
            .map(|file| {
                let (state, policy) = (&state, &policy);
                async move {
                    let name = file.file_name();
                    let done = state.lock().await.done.get(&name).copied();
                    if let Some(lines) = done {
                        self.config.emit(Event::FileSkipped { file: file.clone() });
                        return (file, true, Ok(lines));
                    }
                    let result = self.save_file(&file, policy, dir).await;
                    if let Ok(lines) = &result {
                        let mut state = state.lock().await;
                        state.done.insert(name, *lines);
                        if let Err(err) = write_state(dir, &state).await {
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
        policy: &FilePolicy,
        dir: &Path,
    ) -> Result<u64, BulkError> {
        let final_path = dir.join(file.file_name());
        let part = dir.join(format!("{}.part", file.file_name()));
        let progress = dir.join(format!("{}.part.progress", file.file_name()));
        let (resume, written) = resume_point(&part, &progress).await?;
        let handle = private_file()
            .append(true)
            .open(&part)
            .await
            .map_err(|err| BulkError::io(&part, err))?;
        let mut sink = FileSink {
            writer: BufWriter::with_capacity(256 << 10, handle),
            path: part.clone(),
            progress: progress.clone(),
            written,
        };
        let result = download(self, file, policy, resume, &mut sink).await;
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
        // The rename reaches the disk before the state file says the file is complete.
        sync_dir(dir).await?;
        remove_if_present(&progress).await?;
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

/// How far a `.part` file got: its bytes on disk and the server's offset and line count
/// they correspond to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Progress {
    written: u64,
    offset: u64,
    lines: u64,
}

/// Where a partial file continues: the last progress record, with the `.part` cut to the
/// bytes it vouches for. Without a usable record (none, unreadable, or a `.part` shorter than
/// it says) the file starts again from its first byte. Returns the resume point and the
/// bytes kept.
async fn resume_point(part: &Path, progress: &Path) -> Result<(Resume, u64), BulkError> {
    let part_len = match tokio::fs::symlink_metadata(part).await {
        Ok(meta) if meta.file_type().is_file() => Some(meta.len()),
        // A symlink or anything else planted under the name is not ours to append to.
        Ok(_) => {
            return Err(BulkError::io(
                part,
                std::io::Error::other("not a regular file"),
            ));
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(BulkError::io(part, err)),
    };
    let record = match tokio::fs::read(progress).await {
        Ok(bytes) => serde_json::from_slice::<Progress>(&bytes).ok(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(BulkError::io(progress, err)),
    };
    let Some(part_len) = part_len else {
        remove_if_present(progress).await?;
        return Ok((Resume::default(), 0));
    };
    let (resume, keep) = match record {
        Some(record) if record.written <= part_len => (
            Resume {
                offset: record.offset,
                lines: record.lines,
            },
            record.written,
        ),
        _ => (Resume::default(), 0),
    };
    if keep != part_len {
        let handle = tokio::fs::OpenOptions::new()
            .write(true)
            .open(part)
            .await
            .map_err(|err| BulkError::io(part, err))?;
        handle
            .set_len(keep)
            .await
            .map_err(|err| BulkError::io(part, err))?;
    }
    Ok((resume, keep))
}

struct FileSink {
    writer: BufWriter<tokio::fs::File>,
    path: PathBuf,
    progress: PathBuf,
    /// Bytes in the `.part` file.
    written: u64,
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
            self.written += line.len() as u64 + 1;
        }
        // The data reaches the file before the record that vouches for it.
        self.writer
            .flush()
            .await
            .map_err(|err| BulkError::io(&self.path, err))?;
        let record = Progress {
            written: self.written,
            offset: batch.end_offset,
            lines: batch.first_line - 1 + batch.lines.len() as u64,
        };
        write_json(&self.progress, &record).await
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
