//! Every default value, once. The binding hands this table to the TS layer, which
//! documents the same numbers and never spells its own.

/// `RandomReplacementBuffer`: probability that a new row replaces one once full.
pub const REPLACE_PROBABILITY: f64 = 1.0;

/// Items per page when a pool is read page by page (`iterate`, `ReplayBuffer.load`,
/// `DataUser.follow`).
pub const PAGE_SIZE: usize = 256;

/// Most items one pool page may hold (a page is one allocation of the items' rows).
pub const MAX_PAGE_SIZE: usize = 65_536;

/// Bytes of a collector's ring (a thread's stage on a queue), before it spills.
pub const RING_BYTES: usize = 4 << 20;

/// Most rows of a collector's ring; a power of two.
pub const RING_ROWS: usize = 4096;

/// Rows a collector stages before it publishes them without waiting for a microtask.
pub const PUBLISH_EVERY: usize = 256;

/// `ReplayBuffer`: steps per `sample()` when no `batchSize` is given.
pub const BATCH_SIZE: usize = 256;

/// `ReplayBuffer`: n-step return length and discount.
pub const N_STEP: usize = 1;
pub const GAMMA: f64 = 0.99;

/// `ReplayBuffer` priorities (Schaul et al. 2016, proportional).
pub const PRIORITY_ALPHA: f64 = 0.6;
pub const PRIORITY_BETA: f64 = 0.4;
pub const PRIORITY_EPSILON: f64 = 1e-6;

/// `StateStore`: complete states kept, and minimum ms between `saveIfDue` saves.
pub const STATES_KEPT: usize = 3;
pub const SAVE_INTERVAL_MS: f64 = 600_000.0;

/// How long a pool waits for its server before giving up (ms).
pub const CONNECT_TIMEOUT_MS: f64 = 5_000.0;
