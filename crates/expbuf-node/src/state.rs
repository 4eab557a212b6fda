//! Saved state, off the JS thread: buffers, users, and the staging directories that
//! make a composite state (a user, a dict of users) atomic; durable single files.
//!
//! Each task runs on libuv's thread pool and settles a promise; a failure rejects it
//! with the `ExpbufError` of the core's error (`EXPBUF_IO` with the OS error as cause,
//! `EXPBUF_CORRUPT_STATE` naming the file, …).

use crate::buffer::BufferObj;
use crate::ffi::{Cx, Native, Val};
use crate::user::UserObj;
use expbuf_core::input::{whole_in, SAFE_LIMIT};
use expbuf_core::state::{
    commit_staged, create_dir_all, discard_staged, load_buffer, process_alive, read_user,
    save_buffer, stage, sync_dir, write_buffer, write_file_atomic, write_user, Target,
};
use expbuf_core::user::SavedUser;
use expbuf_core::{Buffer, Error, Result};
use napi::sys::napi_type_tag;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// A checked state waiting to be put in place by an `…ApplyLoad` call.
pub struct Prepared<T>(RefCell<Option<T>>);

impl<T> Prepared<T> {
    fn take(&self) -> Result<T> {
        self.0
            .borrow_mut()
            .take()
            .ok_or_else(|| Error::closed("prepared state (already applied)"))
    }
}

impl Native for Prepared<Buffer> {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0006,
        upper: 0x38d1_6a2f_94be_0c75,
    };
    const WHAT: &'static str = "prepared buffer state";
}

impl Native for Prepared<SavedUser> {
    const TAG: napi_type_tag = napi_type_tag {
        lower: 0x6578_7062_7566_0007,
        upper: 0xe45a_0b73_c19f_2d68,
    };
    const WHAT: &'static str = "prepared user state";
}

fn resolved(cx: &Cx, _: ()) -> Result<Val> {
    Ok(cx.undefined())
}

/// `makeDir(dir)`: creates a directory and its missing parents (`EXPBUF_IO` with the OS error).
fn make_dir(cx: &mut Cx) -> Result<Val> {
    create_dir_all(&PathBuf::from(cx.str(0, "dir")?))?;
    Ok(cx.undefined())
}

/// `bufferSave(buffer, dir)`: saves crash-safely. The save reads the rows in place,
/// under the buffer's lock: `update()` and `sample()` on this buffer wait meanwhile;
/// collectors do not (they never take a buffer's lock).
fn buffer_save(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(move || save_buffer(&shared.data.lock(), &dir), resolved)
}

/// `bufferWrite(buffer, dir)`: writes the state into `dir` (created), a part of a
/// staged composite state.
fn buffer_write(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(
        move || {
            create_dir_all(&dir)?;
            write_buffer(&shared.data.lock(), &dir)
        },
        resolved,
    )
}

/// `bufferPrepareLoad(buffer, dir)`: reads and checks the state in `dir` into a new
/// buffer, without the lock; resolves to a prepared state.
fn buffer_prepare_load(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(
        move || {
            let (schema, kind, max_size) = {
                let b = shared.data.lock();
                (b.schema().clone(), b.policy().kind(), b.max_size())
            };
            load_buffer(
                &dir,
                &Target {
                    schema: &schema,
                    kind,
                    max_size,
                },
            )
        },
        |cx, loaded| cx.external(Prepared(RefCell::new(Some(loaded)))),
    )
}

/// `bufferApplyLoad(buffer, prepared)`: swaps a prepared state in (cannot fail).
fn buffer_apply_load(cx: &mut Cx) -> Result<Val> {
    let shared = cx.obj::<BufferObj>(0)?.shared()?.clone();
    let loaded = cx.obj::<Prepared<Buffer>>(1)?.take()?;
    shared.data.lock().replace_with(loaded);
    Ok(cx.undefined())
}

/// `userWrite(user, dir, cursor)`: writes the queued rows, the collect-time log and the
/// pool cursor into `dir` (created), copying the queued rows under the queue's lock.
fn user_write(cx: &mut Cx) -> Result<Val> {
    let user = cx.obj::<UserObj>(0)?.user()?;
    let dir = PathBuf::from(cx.str(1, "dir")?);
    let cursor = cx.f64(2, "cursor")?;
    if !whole_in(cursor, 0.0..=SAFE_LIMIT - 1.0) {
        return Err(Error::invalid_argument(format!(
            "cursor: {cursor} is not a pool sequence number"
        )));
    }
    cx.promise(
        move || {
            let saved = user.snapshot(cursor as u64)?;
            create_dir_all(&dir)?;
            write_user(&dir, user.queue().schema(), &saved)
        },
        resolved,
    )
}

/// `userPrepareLoad(user, dir)`: reads and checks a user state; resolves to it prepared.
fn user_prepare_load(cx: &mut Cx) -> Result<Val> {
    let user = cx.obj::<UserObj>(0)?.user()?;
    let dir = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(
        move || read_user(&dir, user.queue().schema()),
        |cx, saved| cx.external(Prepared(RefCell::new(Some(saved)))),
    )
}

/// `userApplyLoad(user, prepared)`: puts a prepared user state in place; returns its
/// pool cursor.
fn user_apply_load(cx: &mut Cx) -> Result<Val> {
    let user = cx.obj::<UserObj>(0)?.user()?;
    let saved = cx.obj::<Prepared<SavedUser>>(1)?.take()?;
    let cursor = saved.cursor;
    user.apply(saved);
    cx.number(cursor as f64)
}

/// `stageDir(target)`: a staging directory beside `target` for a composite state.
fn stage_dir(cx: &mut Cx) -> Result<Val> {
    let staged = stage(Path::new(&cx.str(0, "dir")?))?;
    let s = staged
        .into_os_string()
        .into_string()
        .map_err(|_| Error::invalid_argument("dir: not valid UTF-8"))?;
    cx.string(&s)
}

/// `commitDir(staged, target)`: swaps a staged directory in for `target`, atomically.
fn commit_dir(cx: &mut Cx) -> Result<Val> {
    let staged = PathBuf::from(cx.str(0, "staged")?);
    let target = PathBuf::from(cx.str(1, "dir")?);
    cx.promise(move || commit_staged(&staged, &target), resolved)
}

/// `discardDir(staged)`: removes a staged directory that will not be committed.
fn discard_dir(cx: &mut Cx) -> Result<Val> {
    discard_staged(Path::new(&cx.str(0, "staged")?));
    Ok(cx.undefined())
}

/// `writeFileAtomic(path, bytes)`: writes a file atomically and durably.
fn write_file(cx: &mut Cx) -> Result<Val> {
    let path = PathBuf::from(cx.str(0, "path")?);
    let bytes = cx.typed(1, "data")?.bytes.to_vec();
    cx.promise(move || write_file_atomic(&path, &bytes), resolved)
}

/// `syncDir(dir)`: makes a directory's entries durable (after creating one in it).
fn sync(cx: &mut Cx) -> Result<Val> {
    let dir = PathBuf::from(cx.str(0, "dir")?);
    cx.promise(move || sync_dir(&dir), resolved)
}

/// `processAlive(pid)`: whether process `pid` exists.
fn alive(cx: &mut Cx) -> Result<Val> {
    let pid = cx.f64(0, "pid")?;
    let ok = whole_in(pid, 1.0..=u32::MAX as f64) && process_alive(pid as u32);
    cx.boolean(ok)
}

pub const EXPORTS: &[(&str, crate::ffi::Export)] = &[
    ("bufferSave", buffer_save),
    ("bufferWrite", buffer_write),
    ("bufferPrepareLoad", buffer_prepare_load),
    ("bufferApplyLoad", buffer_apply_load),
    ("userWrite", user_write),
    ("userPrepareLoad", user_prepare_load),
    ("userApplyLoad", user_apply_load),
    ("stageDir", stage_dir),
    ("commitDir", commit_dir),
    ("discardDir", discard_dir),
    ("writeFileAtomic", write_file),
    ("syncDir", sync),
    ("processAlive", alive),
    ("makeDir", make_dir),
];
