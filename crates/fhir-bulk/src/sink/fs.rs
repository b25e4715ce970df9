//! The file system side of the directory sink: the directory lock, owner-only files and
//! directories, atomic and durable JSON writes, directory syncs.

use super::*;

/// Takes `dir`'s lock (released when the returned file is dropped), or fails at once when
/// another run holds it.
pub(super) fn lock_dir(dir: &Path) -> Result<std::fs::File, BulkError> {
    let path = dir.join(LOCK_FILE);
    // A symlink planted under the name is not ours to lock (or create through).
    if std::fs::symlink_metadata(&path).is_ok_and(|meta| !meta.file_type().is_file()) {
        return Err(BulkError::io(
            &path,
            std::io::Error::other("not a regular file"),
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .map_err(|err| BulkError::io(&path, err))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BulkError::State {
            path,
            reason: "another run is exporting into this directory (it holds the lock)".to_owned(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(BulkError::io(&path, err)),
    }
}

/// Makes the renames in `dir` durable (Unix; elsewhere the rename is all there is).
pub(super) async fn sync_dir(dir: &Path) -> Result<(), BulkError> {
    #[cfg(unix)]
    {
        let handle = tokio::fs::File::open(dir)
            .await
            .map_err(|err| BulkError::io(dir, err))?;
        match handle.sync_all().await {
            Ok(()) => {}
            // Some network and FUSE file systems cannot sync a directory: the rename is all
            // there is, as elsewhere.
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::Unsupported | std::io::ErrorKind::InvalidInput
                ) => {}
            Err(err) => return Err(BulkError::io(dir, err)),
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Creates `dir` (and its parents) when missing, readable by the owner only.
pub(super) async fn create_private_dir(dir: &Path) -> Result<(), BulkError> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder
        .create(dir)
        .await
        .map_err(|err| BulkError::io(dir, err))
}

pub(super) async fn remove_if_present(path: &Path) -> Result<(), BulkError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(BulkError::io(path, err)),
    }
}

/// Options for the files of an export: created when missing, readable by the owner only
/// (they hold patient data).
pub(super) fn private_file() -> tokio::fs::OpenOptions {
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

pub(super) async fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BulkError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|err| BulkError::State {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    write_atomic(path, &bytes, false).await
}

/// Writes `value` as [`write_json`] does, synced to disk with its rename in `dir`: the state
/// file and the manifest must survive a power loss whole (a progress record may be lost,
/// and then the file restarts from an earlier point).
pub(super) async fn write_durable<T: Serialize>(
    path: &Path,
    value: &T,
    dir: &Path,
) -> Result<(), BulkError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|err| BulkError::State {
        path: path.to_owned(),
        reason: err.to_string(),
    })?;
    write_atomic(path, &bytes, true).await?;
    sync_dir(dir).await
}

pub(super) async fn write_state(dir: &Path, state: &State) -> Result<(), BulkError> {
    write_durable(&dir.join(STATE_FILE), state, dir).await
}

/// Writes `bytes` to a temporary file beside `path` (synced first when `durable`) and
/// renames it over `path`.
pub(super) async fn write_atomic(
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> Result<(), BulkError> {
    let temporary = path.with_extension("tmp");
    let mut handle = private_file()
        .write(true)
        .truncate(true)
        .open(&temporary)
        .await
        .map_err(|err| BulkError::io(&temporary, err))?;
    handle
        .write_all(bytes)
        .await
        .map_err(|err| BulkError::io(&temporary, err))?;
    // tokio finishes a write in the background: wait for it before the rename.
    handle
        .flush()
        .await
        .map_err(|err| BulkError::io(&temporary, err))?;
    if durable {
        handle
            .sync_all()
            .await
            .map_err(|err| BulkError::io(&temporary, err))?;
    }
    drop(handle);
    tokio::fs::rename(&temporary, path)
        .await
        .map_err(|err| BulkError::io(path, err))
}
