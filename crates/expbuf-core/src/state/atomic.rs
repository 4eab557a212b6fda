//! Durable writes, the one way expbuf makes anything survive a crash.
//!
//! - A file: written to a temporary sibling, fsynced, renamed over the target, and the
//!   directory fsynced (`write_file_atomic`): a crash leaves the old file or the new.
//! - A directory (a state): files go into a temporary sibling and are fsynced; the
//!   manifest is written last; then the directory is fsynced and swapped in with one
//!   atomic rename (an exchange with the old directory on Linux), and the parent
//!   directory is fsynced.

use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An `EXPBUF_IO` error for `path` naming the operation, with the OS error as cause.
pub fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::io(path, what, &e)
}

/// Creates directory `dir` and its missing parents; a failure is `EXPBUF_IO` with the
/// OS error (a read-only filesystem is EROFS, where Node's recursive mkdir says ENOENT).
pub fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, "create directory", e))
}

/// A fresh temporary name beside `target` that names this process, so that a later
/// writer can remove what a dead one left.
fn temp_name(target: &Path) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        Error::invalid_argument(format!("path: '{}' has no file name", target.display()))
    })?;
    Ok(parent_of(target).join(format!(
        "{}{}{}-{}",
        name.to_string_lossy(),
        TMP_MARK,
        crate::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )))
}

/// Writes `bytes` as file `path`, atomically and durably: a crash at any moment leaves
/// the previous file or the new one, whole, and the new one survives once this returns.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = parent_of(path);
    create_dir_all(&parent)?;
    if let Some(name) = path.file_name() {
        remove_stale(&parent, &name.to_string_lossy());
    }
    let tmp = temp_name(path)?;
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| io_error(&tmp, "create", e))?;
        f.write_all(bytes).map_err(|e| io_error(&tmp, "write", e))?;
        sync_file(&mut f, &tmp)?;
        fs::rename(&tmp, path).map_err(|e| io_error(path, "rename", e))?;
        sync_dir(&parent)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A directory being written; `commit` swaps it in for `target`.
pub struct StagingDir {
    pub path: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Prefix of temporary siblings; a loader refuses them.
pub const TMP_MARK: &str = ".expbuf-tmp-";

impl StagingDir {
    pub fn new(target: &Path) -> Result<StagingDir> {
        let name = target.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("dir: '{}' has no name", target.display()))
        })?;
        let parent = parent_of(target);
        create_dir_all(&parent)?;
        remove_stale(&parent, &name.to_string_lossy());
        let path = temp_name(target)?;
        fs::create_dir(&path).map_err(|e| io_error(&path, "create directory", e))?;
        Ok(StagingDir {
            path,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// Makes the staged directory the target, atomically.
    pub fn commit(mut self) -> Result<()> {
        sync_dir(&self.path)?;
        swap_in(&self.path, &self.target)?;
        sync_dir(&parent_of(&self.target))?;
        self.committed = true;
        // After an exchange the old state sits at the staging path: remove it.
        if self.path.exists() {
            fs::remove_dir_all(&self.path)
                .map_err(|e| io_error(&self.path, "remove the old state", e))?;
        }
        Ok(())
    }
}

/// Creates a staging directory for `target` and returns its path; write into it, then
/// `commit_staged` (or `discard_staged` on failure). For composite states written in
/// several steps, possibly by several parties.
pub fn stage(target: &Path) -> Result<PathBuf> {
    let mut s = StagingDir::new(target)?;
    s.committed = true; // ownership passes to the caller
    Ok(s.path.clone())
}

/// Swaps a staged directory in for `target`, atomically.
pub fn commit_staged(staged: &Path, target: &Path) -> Result<()> {
    if !staged
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains(TMP_MARK))
    {
        return Err(Error::invalid_argument(format!(
            "staged: '{}' is not a staging directory",
            staged.display()
        )));
    }
    StagingDir {
        path: staged.to_path_buf(),
        target: target.to_path_buf(),
        committed: false,
    }
    .commit()
}

/// Renames a staged directory to `target`, which must not exist: for a directory
/// that is new (an export), where replacing what is there would destroy it. Atomic:
/// on Linux one `renameat2(RENAME_NOREPLACE)`, elsewhere a check before the rename.
pub fn commit_staged_new(staged: &Path, target: &Path) -> Result<()> {
    if !staged
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains(TMP_MARK))
    {
        return Err(Error::invalid_argument(format!(
            "staged: '{}' is not a staging directory",
            staged.display()
        )));
    }
    sync_dir(staged)?;
    rename_new(staged, target)?;
    sync_dir(&parent_of(target))
}

/// `renameat2(2)` of `staged` onto `target` with `flags` (`RENAME_NOREPLACE` or
/// `RENAME_EXCHANGE`). The outer error is a path holding a NUL byte; the inner one the
/// OS error of the call.
#[cfg(target_os = "linux")]
fn renameat2(
    staged: &Path,
    target: &Path,
    flags: libc::c_uint,
) -> Result<std::result::Result<(), std::io::Error>> {
    let (a, b) = (c_path(staged)?, c_path(target)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call;
    // AT_FDCWD makes them relative to the working directory like any path here.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    Ok(if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    })
}

#[cfg(target_os = "linux")]
fn rename_new(staged: &Path, target: &Path) -> Result<()> {
    match renameat2(staged, target, libc::RENAME_NOREPLACE)? {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists(target)),
        Err(e) => Err(io_error(target, "rename", e)),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_new(staged: &Path, target: &Path) -> Result<()> {
    if target.symlink_metadata().is_ok() {
        return Err(exists(target));
    }
    fs::rename(staged, target).map_err(|e| io_error(target, "rename", e))
}

/// The error for a new directory's target that exists.
pub fn exists(target: &Path) -> Error {
    Error::invalid_argument(format!(
        "dir: '{}' already exists (this writes a new directory; remove it or choose another)",
        target.display()
    ))
}

#[cfg(target_os = "linux")]
fn c_path(p: &Path) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::invalid_argument(format!("dir: '{}' contains a NUL byte", p.display())))
}

/// Removes a staged directory that will not be committed.
pub fn discard_staged(staged: &Path) {
    if staged
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains(TMP_MARK))
    {
        let _ = fs::remove_dir_all(staged);
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes temporaries of `name` (files or directories) left by writers that died
/// mid-write (a crash leaves them; they never hold the current state).
fn remove_stale(parent: &Path, name: &str) {
    let prefix = format!("{name}{TMP_MARK}");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| p != crate::process::id() && !process_alive(p)) {
            let p = e.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(p)
            } else {
                fs::remove_file(p)
            };
        }
    }
}

/// Whether process `pid` exists (a lock's or a temporary's owner may have died).
#[cfg(unix)]
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks whether the process exists; it sends
    // nothing and touches no memory.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether process `pid` exists; without a way to ask, assume it does.
#[cfg(not(unix))]
pub fn process_alive(_pid: u32) -> bool {
    true
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn sync_file(f: &mut File, path: &Path) -> Result<()> {
    f.flush().map_err(|e| io_error(path, "write", e))?;
    f.sync_all().map_err(|e| io_error(path, "fsync", e))
}

/// Makes a directory's entries durable. Windows cannot open a directory as a file; its
/// renames are durable once `MoveFileEx` returns with write-through, which std uses.
pub fn sync_dir(dir: &Path) -> Result<()> {
    if cfg!(windows) {
        return Ok(());
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, "fsync", e))
}

#[cfg(target_os = "linux")]
fn swap_in(staged: &Path, target: &Path) -> Result<()> {
    if !target.exists() {
        return fs::rename(staged, target).map_err(|e| io_error(target, "rename", e));
    }
    renameat2(staged, target, libc::RENAME_EXCHANGE)?
        .map_err(|e| io_error(target, "exchange with the new state", e))
}

#[cfg(not(target_os = "linux"))]
fn swap_in(staged: &Path, target: &Path) -> Result<()> {
    // Without an atomic exchange: move the old state aside first. A crash between the
    // two renames leaves the old state whole at `<target>.old`.
    let old = target.with_extension("old");
    if target.exists() {
        let _ = fs::remove_dir_all(&old);
        fs::rename(target, &old).map_err(|e| io_error(target, "rename", e))?;
    }
    fs::rename(staged, target).map_err(|e| io_error(target, "rename", e))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}
