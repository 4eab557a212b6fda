//! The raw Node-API layer: every `unsafe` block of the binding lives in this file.
//!
//! Why not napi-rs's `#[napi]` glue: measured on this machine (napi-rs 3.16, Node 20),
//! a `#[napi]` free function with one argument costs ~95 ns per call and a class
//! method ~225–550 ns, most of it napi-rs's per-call borrow-tracking scope; a raw
//! Node-API callback costs ~18 ns, ~32 ns with a type-tag check of its object. Hot
//! calls (`update()`, a collector's publish, `sample`) are made many times a second,
//! so every export is a raw callback built on this module's safe API. napi-rs still
//! registers the module (and loads Node-API's symbols on Windows and wasm).
//!
//! The API: an export is `fn(&mut Cx) -> Result<Val>`. `Cx` reads arguments with
//! checks whose errors name the argument; native objects travel to JS as type-tagged
//! externals (`Native`); errors reach JS as `ExpbufError`s made by the factory the TS
//! layer registers with `init`; a panic becomes `EXPBUF_INTERNAL`, never an abort.

use expbuf_core::input::{whole_in, Value, SAFE_LIMIT};
use expbuf_core::{Error, ErrorCode, Result};
use napi::sys;
use parking_lot::Mutex;
use std::ffi::c_void;
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

/// Most arguments an export reads.
const MAX_ARGS: usize = 12;
/// Deepest nesting, and most elements or keys, `Cx::value` converts.
const MAX_DEPTH: usize = 16;
const MAX_ITEMS: u32 = 1 << 16;

/// A JS value, valid during the call that produced it (it lives in the call's scope).
#[derive(Clone, Copy)]
pub struct Val(sys::napi_value);

/// An export: reads its arguments from the context, returns a value or an error.
pub type Export = fn(&mut Cx) -> Result<Val>;

/// One call's context: the environment and the call's arguments.
pub struct Cx {
    env: sys::napi_env,
    args: [sys::napi_value; MAX_ARGS],
    argc: usize,
    /// Byte ranges of typed-array arguments lent out so far, and whether mutably: a
    /// range lent mutably may overlap no other, so the slices never alias.
    lent: std::cell::RefCell<Vec<(usize, usize, bool)>>,
    /// wasm only: the JS buffers this call wrote. emnapi lends a JS buffer to wasm as a
    /// copy in wasm memory, so what the call wrote is copied back when it ends (`Drop`).
    #[cfg(target_family = "wasm")]
    written: std::cell::RefCell<Vec<sys::napi_value>>,
}

// emnapi's own functions (the wasm build's Node-API is emnapi's, in JS).
#[cfg(target_family = "wasm")]
#[link(wasm_import_module = "emnapi")]
extern "C" {
    /// Copies a JS buffer's lent copy (wasm to JS when `js_to_wasm` is false).
    fn emnapi_sync_memory(
        env: sys::napi_env,
        js_to_wasm: bool,
        arraybuffer_or_view: *mut sys::napi_value,
        byte_offset: usize,
        length: usize,
    ) -> sys::napi_status;
    /// A typed array (`kind` 1: Uint8Array) over wasm memory itself, not a copy.
    fn emnapi_create_memory_view(
        env: sys::napi_env,
        kind: i32,
        external_data: *mut c_void,
        byte_length: usize,
        finalize_cb: sys::napi_finalize,
        finalize_hint: *mut c_void,
        result: *mut sys::napi_value,
    ) -> sys::napi_status;
}

/// What `external_bytes` makes: natively an external ArrayBuffer over the memory.
#[cfg(not(target_family = "wasm"))]
use sys::napi_create_external_arraybuffer as create_external_bytes;

/// What `external_bytes` makes on wasm: emnapi's external ArrayBuffer is a copy, which JS
/// and the core would each write on their own; a Uint8Array over wasm memory is the
/// memory itself. (The wasm memory is shared, so growing it detaches no view.)
///
/// # Safety
/// As `napi_create_external_arraybuffer`'s: `data..data + len` outlives the view.
#[cfg(target_family = "wasm")]
unsafe fn create_external_bytes(
    env: sys::napi_env,
    data: *mut c_void,
    len: usize,
    finalize: sys::napi_finalize,
    hint: *mut c_void,
    result: *mut sys::napi_value,
) -> sys::napi_status {
    // SAFETY: the caller's guarantee, passed on; kind 1 is emnapi_uint8_array.
    unsafe { emnapi_create_memory_view(env, 1, data, len, finalize, hint, result) }
}

#[cfg(target_family = "wasm")]
impl Drop for Cx {
    fn drop(&mut self) {
        for mut v in self.written.take() {
            // SAFETY: `v` is a buffer of this call, still in its scope; emnapi copies its
            // lent block back into it (`usize::MAX`: NAPI_AUTO_LENGTH, the whole view).
            unsafe { emnapi_sync_memory(self.env, false, &mut v, 0, usize::MAX) };
        }
    }
}

/// A native object that JS holds as an external: `TAG` (random, fixed per type) proves
/// on every call that an external is this type, so a foreign or forged value is
/// refused instead of misread.
pub trait Native: 'static {
    const TAG: sys::napi_type_tag;
    /// What it is, for messages ("buffer", "collector").
    const WHAT: &'static str;
}

/// The element type of a typed array argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    I8,
    U8,
    U8Clamped,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
    BigInt,
}

impl Elem {
    fn from_raw(t: sys::napi_typedarray_type) -> Elem {
        use sys::TypedarrayType as T;
        match t {
            T::int8_array => Elem::I8,
            T::uint8_array => Elem::U8,
            T::uint8_clamped_array => Elem::U8Clamped,
            T::int16_array => Elem::I16,
            T::uint16_array => Elem::U16,
            T::int32_array => Elem::I32,
            T::uint32_array => Elem::U32,
            T::float32_array => Elem::F32,
            T::float64_array => Elem::F64,
            _ => Elem::BigInt,
        }
    }

    /// The JS constructor's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Elem::I8 => "Int8Array",
            Elem::U8 => "Uint8Array",
            Elem::U8Clamped => "Uint8ClampedArray",
            Elem::I16 => "Int16Array",
            Elem::U16 => "Uint16Array",
            Elem::I32 => "Int32Array",
            Elem::U32 => "Uint32Array",
            Elem::F32 => "Float32Array",
            Elem::F64 => "Float64Array",
            Elem::BigInt => "BigInt64Array",
        }
    }
}

/// A typed array argument: its element type and its bytes.
/// `name[k]`, formatted only when an error names it (a column list is read per call).
#[derive(Clone, Copy)]
struct Indexed<'a>(&'a str, u32);

impl Display for Indexed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

pub struct Typed<'a> {
    pub elem: Elem,
    pub bytes: &'a [u8],
}

/// Status to result: on failure, the pending JS exception (if any) is taken and its
/// message kept, so a failed allocation (a RangeError) comes back as an expbuf error.
fn check(env: sys::napi_env, status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut detail = String::new();
    let mut exc = ptr::null_mut();
    // SAFETY: `env` is the live environment of this call; taking the pending exception
    // (if any) leaves the environment able to go on.
    if unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) } == sys::Status::napi_ok
        && !exc.is_null()
    {
        detail = string_of(env, exc).unwrap_or_default();
    }
    Err(Error::new(
        ErrorCode::Internal,
        format!(
            "{what} failed (Node-API status {status}){}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
    ))
}

/// `String(v)` of a JS value (for messages).
fn string_of(env: sys::napi_env, v: sys::napi_value) -> Option<String> {
    let mut s = ptr::null_mut();
    // SAFETY: live env and value of this call; the result is a new JS string.
    if unsafe { sys::napi_coerce_to_string(env, v, &mut s) } != sys::Status::napi_ok {
        return None;
    }
    read_string(env, s).ok()
}

fn read_string(env: sys::napi_env, v: sys::napi_value) -> Result<String> {
    let mut len = 0usize;
    // SAFETY: a null buffer asks only for the length in bytes.
    let status = unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) };
    check(env, status, "string length")?;
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` has room for `len` bytes plus the NUL Node-API writes.
    let status = unsafe {
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut written)
    };
    check(env, status, "string")?;
    buf.truncate(written);
    String::from_utf8(buf).map_err(|_| Error::invalid_argument("string: not valid UTF-8"))
}

/// What the TS layer registered with `init`, per environment (per thread).
struct Instance {
    /// `(code, message, errno, osMessage) => ExpbufError`.
    make_error: sys::napi_ref,
}

unsafe extern "C" fn finalize_instance(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<Instance> `set_instance` leaked for this env; Node calls
    // this once, when the env is torn down.
    let inst = unsafe { Box::from_raw(data.cast::<Instance>()) };
    // SAFETY: the reference was created in this env and is deleted once.
    unsafe { sys::napi_delete_reference(env, inst.make_error) };
}

/// Throws `e` as the `ExpbufError` the registered factory makes (a plain `Error` with
/// `code` if `init` has not run in this environment).
fn throw(env: sys::napi_env, e: &Error) {
    let thrown = make_error(env, e);
    // SAFETY: live env; throwing a value we created leaves one pending exception.
    unsafe {
        match thrown {
            Some(v) => {
                sys::napi_throw(env, v);
            }
            None => {
                let code = std::ffi::CString::new(e.code.as_str()).unwrap_or_default();
                let msg = std::ffi::CString::new(e.message.replace('\0', " ")).unwrap_or_default();
                sys::napi_throw_error(env, code.as_ptr(), msg.as_ptr());
            }
        }
    }
}

/// The JS error for `e`, made by the registered factory.
fn make_error(env: sys::napi_env, e: &Error) -> Option<sys::napi_value> {
    let mut data = ptr::null_mut();
    // SAFETY: live env; the instance data is ours (or null before `init`).
    if unsafe { sys::napi_get_instance_data(env, &mut data) } != sys::Status::napi_ok
        || data.is_null()
    {
        return None;
    }
    // SAFETY: the instance data is the Instance `set_instance` stored; it lives until
    // the env's teardown, after which no call runs.
    let inst = unsafe { &*data.cast::<Instance>() };
    let cx = Cx::bare(env);
    let mut f = ptr::null_mut();
    // SAFETY: the reference belongs to this env.
    if unsafe { sys::napi_get_reference_value(env, inst.make_error, &mut f) }
        != sys::Status::napi_ok
        || f.is_null()
    {
        return None;
    }
    let args = [
        cx.string(e.code.as_str()).ok()?.0,
        cx.string(&e.message).ok()?.0,
        e.cause.as_ref().and_then(|c| c.errno).map_or_else(
            || cx.undefined().0,
            |n| cx.number(n as f64).map(|v| v.0).unwrap_or(ptr::null_mut()),
        ),
        e.cause.as_ref().map_or_else(
            || cx.undefined().0,
            |c| {
                cx.string(&c.message)
                    .map(|v| v.0)
                    .unwrap_or(ptr::null_mut())
            },
        ),
    ];
    if args.iter().any(|a| a.is_null()) {
        return None;
    }
    let mut out = ptr::null_mut();
    // SAFETY: calling the registered TS function with four values of this call's scope.
    let status = unsafe {
        sys::napi_call_function(
            env,
            cx.undefined().0,
            f,
            args.len(),
            args.as_ptr(),
            &mut out,
        )
    };
    (status == sys::Status::napi_ok).then_some(out)
}

/// The C callback every export goes through; its `data` is the `Export` to run.
unsafe extern "C" fn trampoline(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut cx = Cx {
        env,
        args: [ptr::null_mut(); MAX_ARGS],
        argc: MAX_ARGS,
        lent: Default::default(),
        #[cfg(target_family = "wasm")]
        written: Default::default(),
    };
    let mut data = ptr::null_mut();
    // SAFETY: `info` is this call's callback info; `args` has room for MAX_ARGS values
    // (Node-API fills missing ones with undefined).
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut cx.argc,
            cx.args.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if status != sys::Status::napi_ok || data.is_null() {
        throw(
            env,
            &Error::new(ErrorCode::Internal, "call: no callback info"),
        );
        return ptr::null_mut();
    }
    cx.argc = cx.argc.min(MAX_ARGS);
    // SAFETY: `data` is the `Export` fn pointer `register` stored for this function.
    let f: Export = unsafe { std::mem::transmute::<*mut c_void, Export>(data) };
    match catch_unwind(AssertUnwindSafe(|| f(&mut cx))) {
        Ok(Ok(v)) => v.0,
        Ok(Err(e)) => {
            throw(env, &e);
            ptr::null_mut()
        }
        Err(panic) => {
            throw(env, &internal(panic));
            ptr::null_mut()
        }
    }
}

/// A caught panic as an `EXPBUF_INTERNAL` error.
pub fn internal(panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    Error::new(
        ErrorCode::Internal,
        format!("internal error (please report it): {what}"),
    )
}

/// Adds the exports `list` to the module's `exports` object.
pub fn register(
    env: sys::napi_env,
    exports: sys::napi_value,
    list: &[(&str, Export)],
) -> Result<()> {
    for (name, f) in list {
        let mut fun = ptr::null_mut();
        // SAFETY: `name` outlives the call (Node copies it); `data` is a fn pointer that
        // lives for the program; `trampoline` reads it back as the same type.
        let status = unsafe {
            sys::napi_create_function(
                env,
                name.as_ptr().cast(),
                name.len() as isize,
                Some(trampoline),
                *f as *mut c_void,
                &mut fun,
            )
        };
        check(env, status, "create function")?;
        let cname =
            std::ffi::CString::new(*name).map_err(|_| Error::invalid_argument("export name"))?;
        // SAFETY: live env, exports object and the new function.
        let status = unsafe { sys::napi_set_named_property(env, exports, cname.as_ptr(), fun) };
        check(env, status, "set export")?;
    }
    Ok(())
}

unsafe extern "C" fn finalize_box<T>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box<T> leaked by `external` (or `external_bytes`); Node calls
    // the finalizer once, on this thread.
    drop(unsafe { Box::from_raw(data.cast::<T>()) });
}

impl Cx {
    /// A context without arguments (async completions, error building).
    fn bare(env: sys::napi_env) -> Cx {
        Cx {
            env,
            args: [ptr::null_mut(); MAX_ARGS],
            argc: 0,
            lent: Default::default(),
            #[cfg(target_family = "wasm")]
            written: Default::default(),
        }
    }

    /// Notes that this call writes the bytes of JS buffer `v` (see `written`).
    fn wrote(&self, v: sys::napi_value) {
        #[cfg(target_family = "wasm")]
        self.written.borrow_mut().push(v);
        #[cfg(not(target_family = "wasm"))]
        let _ = v;
    }

    /// Records that bytes `data..data + len` are lent (mutably or not); refuses a loan
    /// that would alias a mutable one.
    fn lend(&self, data: *mut u8, len: usize, mutable: bool, name: impl Display) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        let (s, e) = (data as usize, data as usize + len);
        let mut lent = self.lent.borrow_mut();
        if lent
            .iter()
            .any(|&(ls, le, m)| (m || mutable) && s < le && ls < e)
        {
            return Err(Error::invalid_argument(format!(
                "{name}: shares memory with another array argument"
            )));
        }
        lent.push((s, e, mutable));
        Ok(())
    }

    fn arg(&self, i: usize) -> sys::napi_value {
        self.args[i]
    }

    fn type_of(&self, v: sys::napi_value) -> sys::napi_valuetype {
        let mut t = 0;
        // SAFETY: live env and value of this call.
        let status = unsafe { sys::napi_typeof(self.env, v, &mut t) };
        if status == sys::Status::napi_ok {
            t
        } else {
            sys::ValueType::napi_undefined
        }
    }

    /// Argument `i` as an input value (for messages and option parsing).
    pub fn value(&self, i: usize) -> Result<Value> {
        self.to_value(self.arg(i), 0)
    }

    /// Converts a JS value: plain data in full, anything else by its kind.
    fn to_value(&self, v: sys::napi_value, depth: usize) -> Result<Value> {
        use sys::ValueType as T;
        if depth > MAX_DEPTH {
            return Err(Error::invalid_argument("value: nested too deeply"));
        }
        let env = self.env;
        Ok(match self.type_of(v) {
            T::napi_undefined => Value::Undefined,
            T::napi_null => Value::Null,
            T::napi_boolean => {
                let mut b = false;
                // SAFETY: a boolean value of this call.
                let status = unsafe { sys::napi_get_value_bool(env, v, &mut b) };
                check(env, status, "boolean")?;
                Value::Bool(b)
            }
            T::napi_number => {
                let mut n = 0.0;
                // SAFETY: a number value of this call.
                let status = unsafe { sys::napi_get_value_double(env, v, &mut n) };
                check(env, status, "number")?;
                Value::Number(n)
            }
            T::napi_string => Value::String(read_string(env, v)?),
            T::napi_symbol => Value::Other("symbol"),
            T::napi_function => Value::Other("function"),
            T::napi_external => Value::Other("native object"),
            T::napi_object => self.object_value(v, depth)?,
            _ => Value::Other("bigint"),
        })
    }

    fn object_value(&self, v: sys::napi_value, depth: usize) -> Result<Value> {
        let env = self.env;
        let mut is = false;
        // SAFETY: an object value of this call.
        let status = unsafe { sys::napi_is_typedarray(env, v, &mut is) };
        check(env, status, "typedarray check")?;
        if is {
            return Ok(Value::Other("typed array"));
        }
        // SAFETY: as above.
        let status = unsafe { sys::napi_is_arraybuffer(env, v, &mut is) };
        check(env, status, "arraybuffer check")?;
        if is {
            return Ok(Value::Other("ArrayBuffer"));
        }
        // SAFETY: as above.
        let status = unsafe { sys::napi_is_array(env, v, &mut is) };
        check(env, status, "array check")?;
        if is {
            let len = self.array_len(v)?;
            let mut items = Vec::with_capacity(len as usize);
            for k in 0..len {
                items.push(self.to_value(self.element(v, k)?, depth + 1)?);
            }
            return Ok(Value::Array(items));
        }
        let mut keys = ptr::null_mut();
        // SAFETY: own, enumerable, string-keyed properties of an object of this call.
        let status = unsafe {
            sys::napi_get_all_property_names(
                env,
                v,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys,
            )
        };
        check(env, status, "property names")?;
        let n = self.array_len(keys)?;
        let mut entries = Vec::with_capacity(n as usize);
        for k in 0..n {
            let key = self.element(keys, k)?;
            let mut val = ptr::null_mut();
            // SAFETY: reading an own property of an object of this call.
            let status = unsafe { sys::napi_get_property(env, v, key, &mut val) };
            check(env, status, "property")?;
            entries.push((read_string(env, key)?, self.to_value(val, depth + 1)?));
        }
        Ok(Value::Object(entries))
    }

    fn array_len(&self, v: sys::napi_value) -> Result<u32> {
        let mut len = 0u32;
        // SAFETY: an array value of this call.
        let status = unsafe { sys::napi_get_array_length(self.env, v, &mut len) };
        check(self.env, status, "array length")?;
        if len > MAX_ITEMS {
            return Err(Error::invalid_argument(format!(
                "value: more than {MAX_ITEMS} elements"
            )));
        }
        Ok(len)
    }

    fn element(&self, v: sys::napi_value, k: u32) -> Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        // SAFETY: an array value of this call.
        let status = unsafe { sys::napi_get_element(self.env, v, k, &mut out) };
        check(self.env, status, "element")?;
        Ok(out)
    }

    fn expected(&self, v: sys::napi_value, name: &str, want: &str) -> Error {
        let got = self.to_value(v, MAX_DEPTH).unwrap_or(Value::Other("value"));
        expbuf_core::input::expected(name, want, &got)
    }

    /// Argument `i` as a number; `name` is the argument's name in the error.
    pub fn f64(&self, i: usize, name: &str) -> Result<f64> {
        let v = self.arg(i);
        let mut n = 0.0;
        // SAFETY: a value of this call; a non-number gives a status, not UB.
        if unsafe { sys::napi_get_value_double(self.env, v, &mut n) } != sys::Status::napi_ok {
            return Err(self.expected(v, name, "a number"));
        }
        Ok(n)
    }

    /// Argument `i` as a u32 counter (a ring's tail), taken modulo 2^32.
    pub fn counter(&self, i: usize, name: &str) -> Result<u32> {
        let n = self.f64(i, name)?;
        if !whole_in(n, 0.0..=SAFE_LIMIT - 1.0) {
            return Err(Error::invalid_argument(format!(
                "{name}: {n} is not a counter"
            )));
        }
        Ok((n as u64 & u32::MAX as u64) as u32)
    }

    /// Argument `i` as a string.
    pub fn str(&self, i: usize, name: &str) -> Result<String> {
        let v = self.arg(i);
        if self.type_of(v) != sys::ValueType::napi_string {
            return Err(self.expected(v, name, "a string"));
        }
        read_string(self.env, v)
    }

    /// Whether argument `i` is undefined or null.
    pub fn is_nullish(&self, i: usize) -> bool {
        matches!(
            self.type_of(self.arg(i)),
            sys::ValueType::napi_undefined | sys::ValueType::napi_null
        )
    }

    /// Argument `i` as the native object `T` it wraps.
    pub fn obj<T: Native>(&self, i: usize) -> Result<&T> {
        self.obj_of(self.arg(i))
    }

    fn obj_of<T: Native>(&self, v: sys::napi_value) -> Result<&T> {
        let mut ok = false;
        // SAFETY: a value of this call; a non-object gives a status or `false`.
        let status = unsafe { sys::napi_check_object_type_tag(self.env, v, &T::TAG, &mut ok) };
        if status != sys::Status::napi_ok || !ok {
            return Err(Error::invalid_argument(format!(
                "{}: not an expbuf {}",
                T::WHAT,
                T::WHAT
            )));
        }
        let mut data = ptr::null_mut();
        // SAFETY: tagged with T::TAG, so `external` made it: an external over a Box<T>.
        let status = unsafe { sys::napi_get_value_external(self.env, v, &mut data) };
        check(self.env, status, "external")?;
        // SAFETY: `data` is the live Box<T> of that external. The external is an argument
        // of this call, so it cannot be collected (and the box freed) before the call
        // returns, which the borrow of `self` ensures for the reference.
        Ok(unsafe { &*data.cast::<T>() })
    }

    /// Argument `i` as a typed array (its bytes, read-only).
    pub fn typed(&self, i: usize, name: &str) -> Result<Typed<'_>> {
        self.typed_of(self.arg(i), name)
    }

    fn typed_of(&self, v: sys::napi_value, name: impl Display + Copy) -> Result<Typed<'_>> {
        let (elem, data, bytes) = self.typed_raw(v, name)?;
        self.lend(data, bytes, false, name)?;
        // SAFETY: the typed array is a value of this call, so its backing store stays
        // alive and attached (nothing in the call detaches it) while `self` is borrowed;
        // no mutable loan overlaps it (`lend`).
        let bytes = unsafe { slice(data, bytes) };
        Ok(Typed { elem, bytes })
    }

    fn typed_raw(&self, v: sys::napi_value, name: impl Display) -> Result<(Elem, *mut u8, usize)> {
        let mut is = false;
        // SAFETY: a value of this call.
        let status = unsafe { sys::napi_is_typedarray(self.env, v, &mut is) };
        check(self.env, status, "typedarray check")?;
        if !is {
            return Err(self.expected(v, &name.to_string(), "a typed array"));
        }
        let (mut t, mut len, mut data, mut off) = (0, 0usize, ptr::null_mut(), 0usize);
        let mut ab = ptr::null_mut();
        // SAFETY: a typed array of this call.
        let status = unsafe {
            sys::napi_get_typedarray_info(
                self.env, v, &mut t, &mut len, &mut data, &mut ab, &mut off,
            )
        };
        check(self.env, status, "typedarray info")?;
        let elem = Elem::from_raw(t);
        let size = match elem {
            Elem::I8 | Elem::U8 | Elem::U8Clamped => 1,
            Elem::I16 | Elem::U16 => 2,
            Elem::I32 | Elem::U32 | Elem::F32 => 4,
            Elem::F64 | Elem::BigInt => 8,
        };
        Ok((elem, data.cast(), len * size))
    }

    /// Argument `i`, an array of typed arrays (one per output column, each named in
    /// errors), to write: refused when one shares bytes with any array argument lent
    /// before or with each other, so the returned slices never alias.
    // The slices point into JS memory lent to this call, not into `self`; `lend` makes
    // sure no two loans overlap.
    #[allow(clippy::mut_from_ref)]
    pub fn typed_out(&self, i: usize, names: &[String]) -> Result<Vec<(Elem, &mut [u8])>> {
        let list = self.arg(i);
        let mut is = false;
        // SAFETY: a value of this call.
        let status = unsafe { sys::napi_is_array(self.env, list, &mut is) };
        check(self.env, status, "array check")?;
        if !is || self.array_len(list)? as usize != names.len() {
            return Err(self.expected(
                list,
                "out",
                &format!("an array of {} typed arrays", names.len()),
            ));
        }
        let mut out = Vec::with_capacity(names.len());
        for (k, name) in names.iter().enumerate() {
            let v = self.element(list, k as u32)?;
            let (elem, data, bytes) = self.typed_raw(v, name)?;
            self.lend(data, bytes, true, name)?;
            self.wrote(v);
            // SAFETY: the array is a value of this call (alive and attached while `self`
            // is borrowed), and `lend` refused any overlap with another loan.
            out.push((elem, unsafe { slice_mut(data, bytes) }));
        }
        Ok(out)
    }

    /// Argument `i` as an array of typed arrays (read-only bytes), e.g. columns.
    pub fn typed_list(&self, i: usize, name: &str) -> Result<Vec<Typed<'_>>> {
        self.typed_list_of(self.arg(i), name)
    }

    /// Argument `i` as an array of arrays of typed arrays (read-only bytes), e.g. each
    /// field's column as one array per item.
    pub fn typed_lists(&self, i: usize, name: &str) -> Result<Vec<Vec<Typed<'_>>>> {
        let v = self.arg(i);
        if !self.is_array(v)? {
            return Err(self.expected(v, name, "an array of arrays of typed arrays"));
        }
        let n = self.array_len(v)?;
        (0..n)
            .map(|k| self.typed_list_of(self.element(v, k)?, &format!("{name}[{k}]")))
            .collect()
    }

    fn is_array(&self, v: sys::napi_value) -> Result<bool> {
        let mut is = false;
        // SAFETY: a value of this call.
        let status = unsafe { sys::napi_is_array(self.env, v, &mut is) };
        check(self.env, status, "array check")?;
        Ok(is)
    }

    fn typed_list_of(&self, v: sys::napi_value, name: &str) -> Result<Vec<Typed<'_>>> {
        let mut is = false;
        // SAFETY: a value of this call.
        let status = unsafe { sys::napi_is_array(self.env, v, &mut is) };
        check(self.env, status, "array check")?;
        if !is {
            return Err(self.expected(v, name, "an array of typed arrays"));
        }
        let n = self.array_len(v)?;
        (0..n)
            .map(|k| self.typed_of(self.element(v, k)?, Indexed(name, k)))
            .collect()
    }

    pub fn undefined(&self) -> Val {
        let mut v = ptr::null_mut();
        // SAFETY: live env.
        unsafe { sys::napi_get_undefined(self.env, &mut v) };
        Val(v)
    }

    pub fn number(&self, n: f64) -> Result<Val> {
        let mut v = ptr::null_mut();
        // SAFETY: live env.
        let status = unsafe { sys::napi_create_double(self.env, n, &mut v) };
        check(self.env, status, "number")?;
        Ok(Val(v))
    }

    pub fn boolean(&self, b: bool) -> Result<Val> {
        let mut v = ptr::null_mut();
        // SAFETY: live env.
        let status = unsafe { sys::napi_get_boolean(self.env, b, &mut v) };
        check(self.env, status, "boolean")?;
        Ok(Val(v))
    }

    pub fn string(&self, s: &str) -> Result<Val> {
        let mut v = ptr::null_mut();
        // SAFETY: `s` is valid UTF-8 of the given length for the duration of the call.
        let status = unsafe {
            sys::napi_create_string_utf8(self.env, s.as_ptr().cast(), s.len() as isize, &mut v)
        };
        check(self.env, status, "string")?;
        Ok(Val(v))
    }

    pub fn array(&self, items: &[Val]) -> Result<Val> {
        let mut arr = ptr::null_mut();
        // SAFETY: live env.
        let status = unsafe { sys::napi_create_array_with_length(self.env, items.len(), &mut arr) };
        check(self.env, status, "array")?;
        for (k, it) in items.iter().enumerate() {
            // SAFETY: a new array and values of this call.
            let status = unsafe { sys::napi_set_element(self.env, arr, k as u32, it.0) };
            check(self.env, status, "array element")?;
        }
        Ok(Val(arr))
    }

    pub fn object(&self, entries: &[(&str, Val)]) -> Result<Val> {
        let mut obj = ptr::null_mut();
        // SAFETY: live env.
        let status = unsafe { sys::napi_create_object(self.env, &mut obj) };
        check(self.env, status, "object")?;
        for (k, v) in entries {
            let key = self.string(k)?;
            // SAFETY: a new object and values of this call.
            let status = unsafe { sys::napi_set_property(self.env, obj, key.0, v.0) };
            check(self.env, status, "property")?;
        }
        Ok(Val(obj))
    }

    /// A JS value for a core input value (plain data).
    pub fn js_value(&self, v: &Value) -> Result<Val> {
        match v {
            Value::Undefined | Value::Other(_) => Ok(self.undefined()),
            Value::Null => {
                let mut out = ptr::null_mut();
                // SAFETY: live env.
                let status = unsafe { sys::napi_get_null(self.env, &mut out) };
                check(self.env, status, "null")?;
                Ok(Val(out))
            }
            Value::Bool(b) => self.boolean(*b),
            Value::Number(n) => self.number(*n),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                let vals = items
                    .iter()
                    .map(|x| self.js_value(x))
                    .collect::<Result<Vec<_>>>()?;
                self.array(&vals)
            }
            Value::Object(entries) => {
                let vals = entries
                    .iter()
                    .map(|(k, x)| Ok((k.as_str(), self.js_value(x)?)))
                    .collect::<Result<Vec<_>>>()?;
                self.object(&vals)
            }
        }
    }

    /// A new JS ArrayBuffer of `len` zero bytes, and its bytes to fill.
    #[allow(clippy::mut_from_ref)]
    pub fn array_buffer(&self, len: usize) -> Result<(Val, &mut [u8])> {
        let mut data = ptr::null_mut();
        let mut v = ptr::null_mut();
        // SAFETY: live env; V8 allocates (or fails, leaving a pending RangeError that
        // `check` takes).
        let status = unsafe { sys::napi_create_arraybuffer(self.env, len, &mut data, &mut v) };
        check(self.env, status, "allocating an ArrayBuffer").map_err(|e| {
            Error::invalid_argument(format!("cannot allocate {len} bytes ({})", e.message))
        })?;
        self.wrote(v);
        // SAFETY: the new ArrayBuffer lives in this call's scope and nobody else has its
        // bytes; each call returns a distinct allocation, so the slices never alias.
        Ok((Val(v), unsafe { slice_mut(data.cast(), len) }))
    }

    /// A new JS ArrayBuffer holding a copy of `bytes`.
    pub fn array_buffer_from(&self, bytes: &[u8]) -> Result<Val> {
        let (v, dst) = self.array_buffer(bytes.len())?;
        dst.copy_from_slice(bytes);
        Ok(v)
    }

    /// An external wrapping `value`, tagged as `T`; freed when JS collects it.
    pub fn external<T: Native>(&self, value: T) -> Result<Val> {
        let data = Box::into_raw(Box::new(value));
        let mut v = ptr::null_mut();
        // SAFETY: `data` is a leaked Box<T> that `finalize_box::<T>` frees once.
        let status = unsafe {
            sys::napi_create_external(
                self.env,
                data.cast(),
                Some(finalize_box::<T>),
                ptr::null_mut(),
                &mut v,
            )
        };
        if let Err(e) = check(self.env, status, "create external") {
            // SAFETY: the external was not created, so the box is still ours.
            drop(unsafe { Box::from_raw(data) });
            return Err(e);
        }
        // SAFETY: a new external of this call, tagged once.
        let status = unsafe { sys::napi_type_tag_object(self.env, v, &T::TAG) };
        check(self.env, status, "tag external")?;
        Ok(Val(v))
    }

    /// An ArrayBuffer over native memory `ptr..ptr + len` that `keep` keeps alive: JS
    /// reads and writes it directly (counters, rings). `keep` is dropped when JS
    /// collects the buffer. On wasm, a Uint8Array over that range of wasm memory.
    ///
    /// # Safety
    /// `ptr..ptr + len` must stay valid for as long as `keep` lives, and the memory's
    /// other users must follow a protocol that tolerates JS reading and writing it.
    pub unsafe fn external_bytes<K: Send + 'static>(
        &self,
        ptr_: *mut u8,
        len: usize,
        keep: K,
    ) -> Result<Val> {
        let hint = Box::into_raw(Box::new(keep));
        let mut v = ptr::null_mut();
        // SAFETY: the caller guarantees the memory outlives `keep`, which the finalizer
        // drops only when the ArrayBuffer is collected.
        let status = unsafe {
            create_external_bytes(
                self.env,
                ptr_.cast(),
                len,
                Some(finalize_hint::<K>),
                hint.cast(),
                &mut v,
            )
        };
        if let Err(e) = check(self.env, status, "create external ArrayBuffer") {
            // SAFETY: not created: the box is still ours.
            drop(unsafe { Box::from_raw(hint) });
            return Err(e);
        }
        Ok(Val(v))
    }

    /// Registers `make_error` (argument `i`, a function) for this environment.
    pub fn set_error_factory(&self, i: usize) -> Result<()> {
        let f = self.arg(i);
        if self.type_of(f) != sys::ValueType::napi_function {
            return Err(self.expected(f, "makeError", "a function"));
        }
        let mut r = ptr::null_mut();
        // SAFETY: a strong reference to a function of this call, deleted at teardown.
        let status = unsafe { sys::napi_create_reference(self.env, f, 1, &mut r) };
        check(self.env, status, "reference")?;
        let inst = Box::into_raw(Box::new(Instance { make_error: r }));
        // SAFETY: instance data is freed by `finalize_instance` at env teardown. A second
        // `init` replaces it: Node-API does not run the old finalizer, so free it here.
        unsafe {
            let mut old = ptr::null_mut();
            sys::napi_get_instance_data(self.env, &mut old);
            check(
                self.env,
                sys::napi_set_instance_data(
                    self.env,
                    inst.cast(),
                    Some(finalize_instance),
                    ptr::null_mut(),
                ),
                "instance data",
            )?;
            if !old.is_null() {
                finalize_instance(self.env, old, ptr::null_mut());
            }
        }
        Ok(())
    }

    /// Runs `work` on libuv's thread pool and resolves the returned promise with
    /// `done(result)` on this thread, or rejects it with the error.
    pub fn promise<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
        done: fn(&Cx, T) -> Result<Val>,
    ) -> Result<Val> {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: live env.
        let status = unsafe { sys::napi_create_promise(self.env, &mut deferred, &mut promise) };
        check(self.env, status, "promise")?;
        let task = Box::new(Task::<T> {
            work: Some(Box::new(work)),
            result: None,
            done,
            deferred,
            handle: ptr::null_mut(),
        });
        let name = self.string("expbuf")?;
        let data = Box::into_raw(task);
        let mut handle = ptr::null_mut();
        // SAFETY: `data` is a leaked Box<Task<T>> that `task_complete::<T>` frees once.
        let status = unsafe {
            sys::napi_create_async_work(
                self.env,
                ptr::null_mut(),
                name.0,
                Some(task_execute::<T>),
                Some(task_complete::<T>),
                data.cast(),
                &mut handle,
            )
        };
        if let Err(e) = check(self.env, status, "async work") {
            // SAFETY: not created: the box is ours.
            drop(unsafe { Box::from_raw(data) });
            return Err(e);
        }
        // SAFETY: `data` is alive until `task_complete` runs, which is after queueing.
        unsafe { (*data).handle = handle };
        // SAFETY: a new async work of this env.
        let status = unsafe { sys::napi_queue_async_work(self.env, handle) };
        check(self.env, status, "queue async work")?;
        Ok(Val(promise))
    }
    /// A waker that calls the function in argument `i` on this thread whenever it is
    /// woken, from any thread. It does not keep the event loop alive until
    /// `keep_alive(true)`.
    pub fn waker(&self, i: usize) -> Result<Arc<Waker>> {
        let f = self.arg(i);
        if self.type_of(f) != sys::ValueType::napi_function {
            return Err(self.expected(f, "callback", "a function"));
        }
        let name = self.string("expbuf wake")?;
        let waker = Arc::new(Waker {
            tsfn: Mutex::new(None),
        });
        // The finalizer's own reference, given back in `finalize_waker`.
        let data = Arc::into_raw(waker.clone()).cast_mut().cast::<c_void>();
        let mut tsfn = ptr::null_mut();
        // SAFETY: a function of this call; the default call_js calls it with no
        // arguments; `data` lives until `finalize_waker` takes it back.
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                self.env,
                f,
                ptr::null_mut(),
                name.0,
                0,
                1,
                data,
                Some(finalize_waker),
                ptr::null_mut(),
                None,
                &mut tsfn,
            )
        };
        if let Err(e) = check(self.env, status, "threadsafe function") {
            // SAFETY: not created, so the finalizer will never run: the reference is ours.
            drop(unsafe { Arc::from_raw(data.cast_const().cast::<Waker>()) });
            return Err(e);
        }
        *waker.tsfn.lock() = Some(Tsfn(tsfn));
        self.keep_alive(&waker, false);
        Ok(waker)
    }

    /// Whether `waker` (made on this thread) keeps the event loop alive: while a wait is on.
    pub fn keep_alive(&self, waker: &Waker, on: bool) {
        if let Some(t) = &*waker.tsfn.lock() {
            // SAFETY: a live tsfn of this env, on its thread (ref/unref are env-thread calls).
            unsafe {
                if on {
                    sys::napi_ref_threadsafe_function(self.env, t.0);
                } else {
                    sys::napi_unref_threadsafe_function(self.env, t.0);
                }
            }
        }
    }
}

struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: a threadsafe function may be called from any thread; that is what Node-API
// makes it for. Its end is guarded by `Waker::tsfn`'s lock.
unsafe impl Send for Tsfn {}

/// Calls a JS function on its thread, from any thread, for as long as that thread's
/// environment lives.
///
/// Soundness: the tsfn is only called with `tsfn`'s lock held, and it is `None` from
/// the moment it is released (`release`, on its thread) or finalized by Node (its
/// environment's teardown, e.g. a worker exiting: `finalize_waker` runs before Node
/// frees it and takes the same lock), so no call reaches a freed tsfn.
pub struct Waker {
    tsfn: Mutex<Option<Tsfn>>,
}

impl Waker {
    /// Queues a call of the function on its thread (nothing once it is gone).
    pub fn wake(&self) {
        if let Some(t) = &*self.tsfn.lock() {
            // SAFETY: live (see the type's soundness note); a nonblocking call only queues.
            unsafe {
                sys::napi_call_threadsafe_function(
                    t.0,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                );
            }
        }
    }

    /// Ends the waker (on its thread): later wakes do nothing.
    pub fn release(&self) {
        let taken = self.tsfn.lock().take();
        if let Some(t) = taken {
            // SAFETY: the one thread count this waker holds, released once (taken above).
            unsafe {
                sys::napi_release_threadsafe_function(
                    t.0,
                    sys::ThreadsafeFunctionReleaseMode::release,
                );
            }
        }
    }
}

unsafe extern "C" fn finalize_waker(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the reference `Cx::waker` leaked for this finalizer, taken back once.
    let waker = unsafe { Arc::from_raw(data.cast_const().cast::<Waker>()) };
    waker.tsfn.lock().take();
}

unsafe extern "C" fn finalize_hint<K>(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<K> `external_bytes` leaked; freed once, here.
    drop(unsafe { Box::from_raw(hint.cast::<K>()) });
}

/// An async task: `work` on the pool, `done` back on the JS thread.
struct Task<T> {
    work: Option<Box<dyn FnOnce() -> Result<T> + Send>>,
    result: Option<std::thread::Result<Result<T>>>,
    done: fn(&Cx, T) -> Result<Val>,
    deferred: sys::napi_deferred,
    handle: sys::napi_async_work,
}

unsafe extern "C" fn task_execute<T>(_env: sys::napi_env, data: *mut c_void) {
    // SAFETY: `data` is the Task<T> of this work; only this callback touches it until
    // `task_complete`, which Node calls after this returns.
    let task = unsafe { &mut *data.cast::<Task<T>>() };
    if let Some(work) = task.work.take() {
        task.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
}

unsafe extern "C" fn task_complete<T>(
    env: sys::napi_env,
    status: sys::napi_status,
    data: *mut c_void,
) {
    // SAFETY: the Task<T> box leaked by `Cx::promise`; completion runs once, on the JS
    // thread, after `task_execute`.
    let mut task = unsafe { Box::from_raw(data.cast::<Task<T>>()) };
    let cx = Cx::bare(env);
    let outcome = match (status, task.result.take()) {
        (sys::Status::napi_ok, Some(Ok(Ok(v)))) => (task.done)(&cx, v),
        (sys::Status::napi_ok, Some(Ok(Err(e)))) => Err(e),
        (sys::Status::napi_ok, Some(Err(panic))) => Err(internal(panic)),
        _ => Err(Error::new(ErrorCode::Closed, "task: cancelled")),
    };
    // SAFETY: the deferred and the work belong to this env; each is settled or deleted
    // once, here.
    unsafe {
        match outcome {
            Ok(v) => {
                sys::napi_resolve_deferred(env, task.deferred, v.0);
            }
            Err(e) => match make_error(env, &e) {
                Some(err) => {
                    sys::napi_reject_deferred(env, task.deferred, err);
                }
                None => {
                    let mut code = ptr::null_mut();
                    let mut msg = ptr::null_mut();
                    let mut err = ptr::null_mut();
                    let c = e.code.as_str();
                    sys::napi_create_string_utf8(
                        env,
                        c.as_ptr().cast(),
                        c.len() as isize,
                        &mut code,
                    );
                    sys::napi_create_string_utf8(
                        env,
                        e.message.as_ptr().cast(),
                        e.message.len() as isize,
                        &mut msg,
                    );
                    sys::napi_create_error(env, code, msg, &mut err);
                    sys::napi_reject_deferred(env, task.deferred, err);
                }
            },
        }
        sys::napi_delete_async_work(env, task.handle);
    }
}

/// # Safety
/// `data..data + len` must be valid, initialized, and not written while the slice lives.
unsafe fn slice<'a>(data: *mut u8, len: usize) -> &'a [u8] {
    if len == 0 || data.is_null() {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(data, len) }
}

/// # Safety
/// `data..data + len` must be valid, initialized, and accessed by no one else while the
/// slice lives.
unsafe fn slice_mut<'a>(data: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 || data.is_null() {
        return &mut [];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(data, len) }
}
