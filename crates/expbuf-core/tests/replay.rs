//! The replay buffer against a plain model of episodes: every sampled transition,
//! window and episode is what the model says, across interleaved envs, episode ends of
//! both kinds, eviction and wrap-around.

use expbuf_core::input::Value;
use expbuf_core::{Dtype, ErrorCode, Field, Replay, ReplayConfig, RowsRef, Schema};
use proptest::prelude::*;
use std::sync::Arc;

fn schema() -> Arc<Schema> {
    Arc::new(
        Schema::new(vec![
            Field::typed("state", Dtype::Float32, &[2]).expect("state"),
            Field::typed("action", Dtype::Int32, &[]).expect("action"),
            Field::typed("reward", Dtype::Float32, &[]).expect("reward"),
        ])
        .expect("schema"),
    )
}

fn options(entries: &[(&str, Value)]) -> Value {
    Value::object(entries)
}

fn config(max: usize, n_step: usize, extra: &[(&str, Value)]) -> ReplayConfig {
    let mut e = vec![
        ("maxSize", Value::Number(max as f64)),
        ("nStep", Value::Number(n_step as f64)),
        ("gamma", Value::Number(0.5)),
        ("seed", Value::Number(7.0)),
        ("batchSize", Value::Number(4.0)),
    ];
    e.extend_from_slice(extra);
    ReplayConfig::from_options(&options(&e)).expect("config")
}

/// One step as the model keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    env: u32,
    /// 0: goes on, 1: terminated, 2: truncated.
    end: u8,
}

/// The state of step `id` encodes it: [id, env]; its reward is (id mod 7); a final
/// state is [-1 - id, env].
fn state(id: usize, env: u32) -> [f32; 2] {
    [id as f32, env as f32]
}

/// Adds `steps` to `r` in batches of `batch` rows (ids continue from `from`).
fn add(r: &mut Replay, steps: &[Step], from: usize, batch: usize) {
    for chunk_start in (0..steps.len()).step_by(batch.max(1)) {
        let chunk = &steps[chunk_start..(chunk_start + batch).min(steps.len())];
        let mut cols: [Vec<u8>; 7] = Default::default();
        for (k, s) in chunk.iter().enumerate() {
            let id = from + chunk_start + k;
            let next: [f32; 2] = if s.end > 0 {
                [-1.0 - id as f32, s.env as f32]
            } else {
                [0.0, 0.0]
            };
            for v in state(id, s.env) {
                cols[0].extend(v.to_le_bytes());
            }
            cols[1].extend((id as i32).to_le_bytes());
            cols[2].extend(((id % 7) as f32).to_le_bytes());
            for v in next {
                cols[3].extend(v.to_le_bytes());
            }
            cols[4].push(u8::from(s.end == 1));
            cols[5].push(u8::from(s.end == 2));
            cols[6].extend(s.env.to_le_bytes());
        }
        let rows = RowsRef {
            rows: chunk.len(),
            typed: cols.iter().map(|c| &c[..]).collect(),
            any: vec![],
            timestamps: None,
        };
        r.extend(&rows).expect("extend");
    }
}

/// The model: for step `id`, the ids of the rest of its episode (itself first).
fn successors(steps: &[Step], id: usize) -> Vec<usize> {
    let env = steps[id].env;
    let mut out = vec![id];
    if steps[id].end > 0 {
        return out;
    }
    for (j, s) in steps.iter().enumerate().skip(id + 1) {
        if s.env == env {
            out.push(j);
            if s.end > 0 {
                break;
            }
        }
    }
    out
}

/// What a transition from step `id` must be: (reward, next state, done, discount), or
/// None when its window is not known yet.
fn expected(
    steps: &[Step],
    id: usize,
    n_step: usize,
    gamma: f64,
) -> Option<(f64, [f32; 2], u8, f64)> {
    let rest = successors(steps, id);
    let window: Vec<usize> = rest.iter().copied().take(n_step).collect();
    let last = *window.last()?;
    let ended = steps[last].end > 0;
    if !ended && window.len() < n_step {
        return None;
    }
    let ret: f64 = window
        .iter()
        .enumerate()
        .map(|(k, &j)| gamma.powi(k as i32) * (j % 7) as f64)
        .sum();
    let next = if ended {
        [-1.0 - last as f32, steps[last].env as f32]
    } else {
        // The state after `last`: the next step of the episode, if it came, else the
        // next state the step carried, which `add` sets to [0, 0] for steps going on.
        rest.get(window.len())
            .map_or([0.0, 0.0], |&j| state(j, steps[j].env))
    };
    let done = u8::from(ended && steps[last].end == 1);
    Some((ret, next, done, gamma.powi(window.len() as i32)))
}

struct Transitions {
    state: Vec<f32>,
    action: Vec<i32>,
    reward: Vec<f32>,
    next: Vec<f32>,
    done: Vec<u8>,
    discount: Vec<f32>,
    ids: Vec<f64>,
    weights: Vec<f32>,
}

fn sample(r: &mut Replay, n: usize) -> expbuf_core::Result<Transitions> {
    let sizes = r.transition_bytes(n)?;
    let mut cols: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0u8; s]).collect();
    let mut outs: Vec<&mut [u8]> = cols.iter_mut().map(|c| &mut c[..]).collect();
    r.sample_into(n, &mut outs)?;
    let f32s = |b: &[u8]| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<_>>()
    };
    Ok(Transitions {
        state: f32s(&cols[0]),
        action: cols[1]
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        reward: f32s(&cols[2]),
        next: f32s(&cols[3]),
        done: cols[4].clone(),
        discount: f32s(&cols[5]),
        ids: cols[6]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
            .collect(),
        weights: f32s(&cols[7]),
    })
}

fn step_strategy() -> impl Strategy<Value = Step> {
    (
        0u32..4,
        prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
    )
        .prop_map(|(env, end)| Step { env, end })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sampled_transitions_equal_the_model(
        steps in prop::collection::vec(step_strategy(), 1..160),
        max in 1usize..40,
        n_step in 1usize..5,
        batch in 1usize..9,
    ) {
        let mut r = Replay::new(schema(), config(max, n_step, &[])).expect("replay");
        add(&mut r, &steps, 0, batch);
        let held = steps.len().min(max);
        prop_assert_eq!(r.len(), held);
        let oldest = steps.len() - held;
        let sampleable: Vec<usize> = (oldest..steps.len()).filter(|&id| expected(&steps, id, n_step, 0.5).is_some()).collect();
        match sample(&mut r, 64) {
            Err(e) => {
                prop_assert!(sampleable.is_empty(), "refused with {:?} though {:?} are sampleable", e, sampleable);
                prop_assert_eq!(e.code, ErrorCode::Empty);
            }
            Ok(t) => {
                for b in 0..64 {
                    let id = t.ids[b] as usize;
                    prop_assert!(sampleable.contains(&id), "drew {} (sampleable {:?})", id, sampleable);
                    let (ret, next, done, disc) = expected(&steps, id, n_step, 0.5).expect("sampleable");
                    prop_assert_eq!([t.state[2 * b], t.state[2 * b + 1]], state(id, steps[id].env));
                    prop_assert_eq!(t.action[b], id as i32);
                    prop_assert!((t.reward[b] as f64 - ret).abs() < 1e-4, "reward {} vs {}", t.reward[b], ret);
                    prop_assert_eq!([t.next[2 * b], t.next[2 * b + 1]], next, "next state of {}", id);
                    prop_assert_eq!(t.done[b], done);
                    prop_assert!((t.discount[b] as f64 - disc).abs() < 1e-6);
                    prop_assert_eq!(t.weights[b], 1.0);
                }
            }
        }
    }

    #[test]
    fn sequences_stay_in_one_episode_with_masks(
        steps in prop::collection::vec(step_strategy(), 1..120),
        max in 1usize..40,
        length in 1usize..6,
    ) {
        let mut r = Replay::new(schema(), config(max, 1, &[])).expect("replay");
        add(&mut r, &steps, 0, 3);
        let length = length.min(max);
        let sizes = r.sequence_bytes(8, length).expect("sizes");
        let mut cols: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0u8; s]).collect();
        let mut outs: Vec<&mut [u8]> = cols.iter_mut().map(|c| &mut c[..]).collect();
        r.sample_sequences_into(8, length, &mut outs).expect("sequences");
        let ids: Vec<usize> = cols[4].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8")) as usize).collect();
        for (w, &first) in ids.iter().enumerate() {
            let want: Vec<usize> = successors(&steps, first).into_iter().take(length).collect();
            for j in 0..length {
                let cell = w * length + j;
                let mask = cols[3][cell];
                let action = i32::from_le_bytes(cols[1][cell * 4..cell * 4 + 4].try_into().expect("4"));
                match want.get(j) {
                    Some(&id) => {
                        prop_assert_eq!(mask, 1);
                        prop_assert_eq!(action, id as i32);
                    }
                    None => {
                        prop_assert_eq!(mask, 0);
                        prop_assert_eq!(action, 0, "padding is zero");
                    }
                }
            }
        }
    }
}

#[test]
fn priorities_draw_in_proportion_and_weigh_by_the_formula() {
    let alpha = 0.7;
    let beta = 0.5;
    let prio = options(&[
        ("alpha", Value::Number(alpha)),
        ("beta", Value::Number(beta)),
        ("epsilon", Value::Number(1e-6)),
    ]);
    let mut r = Replay::new(schema(), config(10, 1, &[("priority", prio)])).expect("replay");
    let steps = vec![Step { env: 0, end: 0 }; 10];
    add(&mut r, &steps, 0, 10);
    // Step 9's next state is pending, so all 10 are sampleable at nStep 1.
    let p: Vec<f64> = (0..10).map(|i| (i + 1) as f64).collect();
    let ids: Vec<f64> = (0..10).map(|i| i as f64).collect();
    assert_eq!(r.update_priorities(&ids, &p).expect("update"), 10);
    let mut hits = [0usize; 10];
    let draws = 40_000;
    let t = sample(&mut r, draws).expect("sample");
    let weights: Vec<f64> = (0..10)
        .map(|i| ((p[i] + 1e-6).powf(alpha) / (p[0] + 1e-6).powf(alpha)).powf(-beta))
        .collect();
    for b in 0..draws {
        let id = t.ids[b] as usize;
        hits[id] += 1;
        assert!(
            (t.weights[b] as f64 - weights[id]).abs() < 1e-5,
            "weight of {id}"
        );
    }
    let total: f64 = p.iter().map(|q| (q + 1e-6).powf(alpha)).sum();
    let chi2: f64 = (0..10)
        .map(|i| {
            let e = draws as f64 * (p[i] + 1e-6).powf(alpha) / total;
            (hits[i] as f64 - e).powi(2) / e
        })
        .sum();
    // 9 degrees of freedom: P(χ² > 27.9) = 0.001.
    assert!(chi2 < 27.9, "chi² {chi2}, hits {hits:?}");
    // The largest weight is 1 (the smallest priority).
    assert!((t.weights.iter().cloned().fold(0.0f32, f32::max) - 1.0).abs() < 1e-6);
}

#[test]
fn priority_updates_ignore_overwritten_ids_and_refuse_bad_input() {
    let prio = options(&[]);
    let mut r = Replay::new(schema(), config(4, 1, &[("priority", prio)])).expect("replay");
    add(&mut r, &[Step { env: 0, end: 0 }; 6], 0, 6);
    // Ids 0 and 1 were overwritten: ignored. Id 6 never existed: refused.
    assert_eq!(
        r.update_priorities(&[0.0, 1.0, 2.0], &[5.0, 5.0, 5.0])
            .expect("update"),
        1
    );
    for (ids, ps, what) in [
        (vec![6.0], vec![1.0], "ids[0]"),
        (vec![2.0], vec![-1.0], "priorities[0]"),
        (vec![2.0], vec![f64::NAN], "priorities[0]"),
        (vec![2.0], vec![f64::INFINITY], "priorities[0]"),
        (vec![2.5], vec![1.0], "ids[0]"),
        (vec![2.0, 3.0], vec![1.0], "priorities"),
    ] {
        let e = r.update_priorities(&ids, &ps).expect_err("bad");
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains(what), "{}", e.message);
    }
    assert!(r.set_beta(1.5).is_err());
    assert!(r.set_beta(0.9).is_ok());
}

#[test]
fn the_rate_limiter_refuses_exactly_past_the_formula_and_changes_nothing() {
    let rl = options(&[
        ("minSize", Value::Number(4.0)),
        ("samplesPerInsert", Value::Number(2.0)),
        ("tolerance", Value::Number(3.0)),
    ]);
    let mut r = Replay::new(schema(), config(100, 1, &[("rateLimit", rl)])).expect("replay");
    add(&mut r, &[Step { env: 0, end: 0 }; 3], 0, 3);
    assert_eq!(
        sample(&mut r, 1).err().map(|e| e.code),
        Some(ErrorCode::RateLimited)
    );
    add(&mut r, &[Step { env: 0, end: 0 }], 3, 1);
    // I = 4: S + n ≤ 2·0 + 3.
    assert!(r.can_sample(3) && !r.can_sample(4));
    let rng_before = r.rng().clone();
    assert_eq!(
        sample(&mut r, 4).err().map(|e| e.code),
        Some(ErrorCode::RateLimited)
    );
    assert_eq!(r.rng(), &rng_before, "a refused sample draws nothing");
    sample(&mut r, 3).expect("allowed");
    assert!(!r.can_sample(1));
    add(&mut r, &[Step { env: 0, end: 0 }], 4, 1);
    // I = 5, S = 3: 3 + n ≤ 2 + 3.
    assert!(r.can_sample(2) && !r.can_sample(3));
    // Inserts: 2·(I + 1 − 4) − S ≤ 3 → at I = 5, S = 3: 4 − 3 = 1 ≤ 3.
    assert!(r.can_insert());
}

#[test]
fn whole_episodes_are_drawn_with_their_end_and_clear_starts_over() {
    let mut r = Replay::new(schema(), config(100, 1, &[])).expect("replay");
    let steps = [
        Step { env: 0, end: 0 },
        Step { env: 1, end: 0 },
        Step { env: 0, end: 2 },
        Step { env: 1, end: 0 },
        Step { env: 1, end: 1 },
        Step { env: 0, end: 0 },
    ];
    add(&mut r, &steps, 0, 2);
    assert_eq!(r.episodes(), 2);
    let eps = r.draw_episodes(20).expect("episodes");
    for e in &eps {
        assert!(e.len() == 2 || e.len() == 3);
    }
    let sizes = r.episode_bytes(eps.len(), 3).expect("sizes");
    let mut cols: Vec<Vec<u8>> = sizes.iter().map(|&s| vec![0u8; s]).collect();
    let mut outs: Vec<&mut [u8]> = cols.iter_mut().map(|c| &mut c[..]).collect();
    r.episodes_into(&eps, 3, &mut outs).expect("into");
    for (i, e) in eps.iter().enumerate() {
        let terminated = cols[5][i];
        // env 0's episode (2 steps) was truncated, env 1's (3 steps) terminated.
        assert_eq!(terminated, u8::from(e.len() == 3));
    }
    r.clear();
    assert_eq!((r.len(), r.episodes()), (0, 0));
    assert_eq!(
        sample(&mut r, 1).err().map(|e| e.code),
        Some(ErrorCode::Empty)
    );
    add(&mut r, &[Step { env: 0, end: 1 }], 6, 1);
    let t = sample(&mut r, 1).expect("after clear");
    assert_eq!(t.ids[0], 6.0, "ids go on after clear");
}

#[test]
fn a_saved_state_loads_whole_and_then_behaves_as_the_never_saved_twin() {
    use expbuf_core::state::{load_replay, save_replay};
    let extra = || {
        vec![
            ("priority", options(&[("alpha", Value::Number(0.6))])),
            (
                "rateLimit",
                options(&[
                    ("minSize", Value::Number(5.0)),
                    ("samplesPerInsert", Value::Number(4.0)),
                    ("tolerance", Value::Number(64.0)),
                ]),
            ),
        ]
    };
    let make = || Replay::new(schema(), config(23, 3, &extra())).expect("replay");
    let mut a = make();
    let mut twin = make();
    // 61 steps over 4 envs into 23 slots: wrapped, with evicted episode parts.
    let mut rng = expbuf_core::Rng::new(5);
    let steps: Vec<Step> = (0..61)
        .map(|_| Step {
            env: rng.below(4) as u32,
            end: [0, 0, 0, 0, 1, 2][rng.below(6) as usize],
        })
        .collect();
    for r in [&mut a, &mut twin] {
        add(r, &steps, 0, 5);
        let t = sample(r, 16).expect("sample");
        let ps: Vec<f64> = (0..16).map(|i| (i % 5) as f64 + 0.5).collect();
        r.update_priorities(&t.ids, &ps).expect("update");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("replay");
    save_replay(&a, &path).expect("save");
    let mut b = load_replay(&path, make()).expect("load");
    assert_eq!(b.len(), twin.len());
    assert_eq!(b.episodes(), twin.episodes());
    let more: Vec<Step> = (0..30)
        .map(|i| Step {
            env: (i % 3) as u32,
            end: if i % 7 == 6 { 1 } else { 0 },
        })
        .collect();
    for r in [&mut b, &mut twin] {
        add(r, &more, 61, 4);
    }
    for _ in 0..3 {
        let (x, y) = (
            sample(&mut b, 12).expect("b"),
            sample(&mut twin, 12).expect("twin"),
        );
        assert_eq!(x.ids, y.ids);
        assert_eq!(x.state, y.state);
        assert_eq!(x.reward, y.reward);
        assert_eq!(x.next, y.next);
        assert_eq!(x.done, y.done);
        assert_eq!(x.weights, y.weights);
    }
    // Another nStep is a mismatch, named.
    let other = Replay::new(schema(), config(23, 2, &extra())).expect("other");
    let e = load_replay(&path, other).expect_err("nStep");
    assert_eq!(e.code, ErrorCode::SchemaMismatch);
    assert!(e.message.contains("nStep"), "{}", e.message);
}
