//! Writing files so that a failure never leaves half a file, and the one error type for "this
//! file, this reason". Shared by the editor (user presets, snapshot exports) and the offline
//! application (masters, reports, disc images), so neither imports the other.
//!
//! Writing is atomic: the bytes go to a hidden temporary file in the output's folder, which is
//! renamed over the final name only when complete (a rename within one file system is atomic);
//! an existing output is replaced only with `force`.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, and with which file when there is one. Never a panic: every bad input ends
/// here, and the caller shows it (the editor in its status line, the command line on stderr).
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub path: Option<PathBuf>,
    pub reason: String,
}

impl FileError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            path: None,
            reason: reason.into(),
        }
    }

    pub fn file(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: Some(path.to_path_buf()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

impl std::error::Error for FileError {}

/// Fails when `path` exists and `force` is off (checked before a long job, so no time is
/// wasted, and again just before the rename).
pub fn check_output_free(path: &Path, force: bool) -> Result<(), FileError> {
    if !force && path.exists() {
        return Err(FileError::file(
            path,
            "output exists; pass --force to overwrite it",
        ));
    }
    Ok(())
}

/// The one way outputs are written: refused if `path` exists (without `force`), written to a
/// temporary file in the same folder by `write`, checked again and renamed into place (atomic
/// on one file system); the temporary file is removed on any failure.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&Path) -> Result<(), FileError>,
) -> Result<(), FileError> {
    check_output_free(path, force)?;
    let temp = temp_path_for(path);
    let result = write(&temp).and_then(|()| {
        check_output_free(path, force)?;
        std::fs::rename(&temp, path)
            .map_err(|e| FileError::file(path, format!("cannot move the file in place: {e}")))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`write_atomic`]).
pub fn write_bytes_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), FileError> {
    write_atomic(path, force, |temp| {
        std::fs::write(temp, bytes).map_err(|e| FileError::file(path, format!("cannot write: {e}")))
    })
}

/// `dir/.name.fairmaster-tmp-<pid>`: hidden, same directory (so the rename is atomic), unique
/// per process.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.fairmaster-tmp-{}", std::process::id()))
}

/// Removes a file or folder; absent is fine.
pub fn remove_path(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

/// Renames the finished folder `partial` (written beside `dir`) to `dir`: the folder outputs'
/// counterpart of [`write_atomic`] (the listening pack, the DDP image). With `force`, an
/// existing `dir` is first moved aside and deleted only once the new one is in place (and put
/// back if that fails); without, an existing `dir` is refused. `what` names it in errors
/// ("pack folder").
pub fn replace_dir(partial: &Path, dir: &Path, force: bool, what: &str) -> Result<(), FileError> {
    let exists = std::fs::symlink_metadata(dir).is_ok();
    if exists && !force {
        return Err(FileError::file(
            dir,
            format!("{what} appeared while it was written; pass --force to replace it"),
        ));
    }
    let moved_aside = if exists {
        let aside = partial.with_file_name(format!(
            "{}.old-{}",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        remove_path(&aside).map_err(|e| FileError::file(&aside, format!("cannot remove: {e}")))?;
        std::fs::rename(dir, &aside)
            .map_err(|e| FileError::file(dir, format!("cannot move the old {what} aside: {e}")))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(partial, dir) {
        if let Some(aside) = &moved_aside {
            let _ = std::fs::rename(aside, dir);
        }
        return Err(FileError::file(
            dir,
            format!("cannot move the {what} in place: {e}"),
        ));
    }
    if let Some(aside) = moved_aside {
        remove_path(&aside).map_err(|e| {
            FileError::file(
                &aside,
                format!("the new {what} is in place, but the old one could not be removed: {e}"),
            )
        })?;
    }
    Ok(())
}
