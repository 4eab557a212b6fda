//! This process's id, which temporaries' names and default seeds carry.

/// The OS's process id; under WASI, which has none (std's `process::id` panics there), a
/// random id drawn once per instance, so two instances' temporaries still differ.
pub fn id() -> u32 {
    #[cfg(not(target_os = "wasi"))]
    {
        std::process::id()
    }
    #[cfg(target_os = "wasi")]
    {
        use std::hash::BuildHasher;
        static ID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        *ID.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0u8) as u32)
    }
}
