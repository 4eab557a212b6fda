mod common;

use common::{as_ref, rows, schema, xs};
use expbuf_core::{
    replace_probability_from_survival_length, Buffer, ErrorCode, Policy, Rng, MAX_ROWS,
};
use proptest::prelude::*;

fn seq(max: usize) -> Buffer {
    Buffer::new(schema(), Policy::Sequential, max, 1).expect("buffer")
}

#[test]
fn sequential_keeps_newest_in_order_across_wrap() {
    let mut b = seq(5);
    b.extend(&as_ref(&rows(&[0, 1, 2]))).expect("add");
    assert_eq!(xs(&b.get_data().expect("data")), vec![0, 1, 2]);
    b.extend(&as_ref(&rows(&[3, 4, 5, 6, 7]))).expect("add");
    assert_eq!(xs(&b.get_data().expect("data")), vec![3, 4, 5, 6, 7]);
    assert_eq!(b.len(), 5);
    assert_eq!(b.total_added(), 8);
    b.extend(&as_ref(&rows(&[8]))).expect("add");
    assert_eq!(xs(&b.get_data().expect("data")), vec![4, 5, 6, 7, 8]);
}

#[test]
fn get_data_is_a_copy() {
    let mut b = seq(3);
    b.extend(&as_ref(&rows(&[1, 2]))).expect("add");
    let before = b.get_data().expect("data");
    b.extend(&as_ref(&rows(&[3, 4]))).expect("add");
    assert_eq!(xs(&before), vec![1, 2]);
}

#[test]
fn a_bad_batch_changes_nothing() {
    let mut b = seq(4);
    b.extend(&as_ref(&rows(&[1, 2]))).expect("add");
    let good = rows(&[3, 4]);
    let mut bad = as_ref(&good);
    bad.typed[1] = &bad.typed[1][..12];
    let err = b.extend(&bad).expect_err("short column");
    assert_eq!(err.code, ErrorCode::BadValue);
    assert!(err.message.contains("'v'"), "{}", err.message);
    assert_eq!(xs(&b.get_data().expect("data")), vec![1, 2]);
    assert_eq!(b.total_added(), 2);
}

#[test]
fn max_size_bounds() {
    assert_eq!(
        Buffer::new(schema(), Policy::Sequential, 0, 0)
            .expect_err("0")
            .code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        Buffer::new(schema(), Policy::Sequential, MAX_ROWS + 1, 0)
            .expect_err("huge")
            .code,
        ErrorCode::InvalidArgument
    );
    assert!(expbuf_core::checked_rows(f64::NAN, "maxSize").is_err());
    assert!(expbuf_core::checked_rows(1.5, "maxSize").is_err());
    assert!(expbuf_core::checked_rows(-1.0, "maxSize").is_err());
    assert!(expbuf_core::checked_rows(f64::INFINITY, "maxSize").is_err());
    assert_eq!(expbuf_core::checked_rows(7.0, "maxSize"), Ok(7));
}

#[test]
fn sample_errors_and_distinct_rows_without_replacement() {
    let mut b = seq(10);
    assert_eq!(b.sample(4, true).expect_err("empty").code, ErrorCode::Empty);
    b.extend(&as_ref(&rows(&(0..10).collect::<Vec<_>>())))
        .expect("add");
    assert_eq!(
        b.sample(11, false).expect_err("too many").code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        b.sample(0, true).expect_err("zero").code,
        ErrorCode::InvalidArgument
    );
    let mut got = xs(&b.sample(10, false).expect("sample"));
    got.sort();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    let with = xs(&b.sample(1000, true).expect("sample"));
    assert!(with.iter().all(|x| (0..10).contains(x)));
}

#[test]
fn same_seed_same_samples() {
    let make = || {
        let mut b = Buffer::new(schema(), Policy::Reservoir, 8, 99).expect("buffer");
        b.extend(&as_ref(&rows(&(0..50).collect::<Vec<_>>())))
            .expect("add");
        b
    };
    let (mut a, mut c) = (make(), make());
    assert_eq!(xs(&a.get_data().expect("d")), xs(&c.get_data().expect("d")));
    assert_eq!(
        xs(&a.sample(32, true).expect("s")),
        xs(&c.sample(32, true).expect("s"))
    );
}

#[test]
fn replacement_probability_is_respected() {
    let mut rng = Rng::new(5);
    for p in [0.0, 0.2, 0.5, 0.8, 1.0] {
        let policy = Policy::random_replacement(p).expect("p");
        let n = 100_000;
        let mut replaced = 0;
        let mut per_slot = [0u32; 10];
        for t in 0..n {
            if let expbuf_core::policy::Placement::Replace(i) = policy.place(10, 10, t, &mut rng) {
                replaced += 1;
                per_slot[i] += 1;
            }
        }
        let rate = replaced as f64 / n as f64;
        assert!((rate - p).abs() < 0.01, "p {p}: rate {rate}");
        if replaced > 0 {
            let expected = replaced as f64 / 10.0;
            let chi2: f64 = per_slot
                .iter()
                .map(|&c| (c as f64 - expected).powi(2) / expected)
                .sum();
            // 9 degrees of freedom, p = 0.001
            assert!(chi2 < 27.88, "p {p}: slot chi2 {chi2}");
        }
    }
    assert!(Policy::random_replacement(1.5).is_err());
    assert!(Policy::random_replacement(f64::NAN).is_err());
    assert!(Policy::random_replacement(-0.1).is_err());
}

#[test]
fn random_replacement_fills_then_keeps_size() {
    let mut b =
        Buffer::new(schema(), Policy::random_replacement(1.0).expect("p"), 4, 3).expect("buffer");
    b.extend(&as_ref(&rows(&[0, 1, 2]))).expect("add");
    assert!(!b.is_full());
    assert_eq!(xs(&b.get_data().expect("d")), vec![0, 1, 2]);
    b.extend(&as_ref(&rows(&[3, 4, 5, 6]))).expect("add");
    assert!(b.is_full());
    let held = xs(&b.get_data().expect("d"));
    assert_eq!(held.len(), 4);
    // every newer row replaced some row: the newest one is always held with p = 1
    assert!(held.contains(&6), "{held:?}");
}

#[test]
fn reservoir_is_uniform_by_chi_square() {
    let (max, stream, trials) = (10usize, 100i32, 3000u64);
    let mut counts = vec![0u64; stream as usize];
    let all: Vec<i32> = (0..stream).collect();
    let data = rows(&all);
    for seed in 0..trials {
        let mut b = Buffer::new(schema(), Policy::Reservoir, max, seed).expect("buffer");
        b.extend(&as_ref(&data)).expect("add");
        assert_eq!(b.total_added(), stream as u64);
        for x in xs(&b.get_data().expect("d")) {
            counts[x as usize] += 1;
        }
    }
    let expected = trials as f64 * max as f64 / stream as f64;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    // 99 degrees of freedom, p = 0.001
    assert!(chi2 < 148.23, "chi2 {chi2}, counts {counts:?}");
}

#[test]
fn survival_length_formula() {
    let p = replace_probability_from_survival_length(100, 1000.0).expect("p");
    assert!((p - 0.1 * (100f64.ln() + 0.577_215_664_901_532_9)).abs() < 1e-12);
    assert_eq!(
        replace_probability_from_survival_length(1000, 10.0).expect("p"),
        1.0
    );
    assert!(replace_probability_from_survival_length(10, 0.0).is_err());
    assert!(replace_probability_from_survival_length(10, f64::NAN).is_err());
}

proptest! {
    /// Any sequence of batches leaves the newest min(total, max) rows, oldest first.
    #[test]
    fn sequential_matches_a_model(max in 1usize..20, batches in prop::collection::vec(0usize..25, 0..12)) {
        let mut b = seq(max);
        let mut next = 0i32;
        let mut all = Vec::new();
        for n in batches {
            let batch: Vec<i32> = (next..next + n as i32).collect();
            next += n as i32;
            all.extend(&batch);
            b.extend(&as_ref(&rows(&batch))).expect("add");
            let want: Vec<i32> = all[all.len().saturating_sub(max)..].to_vec();
            prop_assert_eq!(xs(&b.get_data().expect("data")), want);
        }
    }

    /// Every sampled row is a held row, for every buffer kind.
    #[test]
    fn samples_are_held_rows(kind in 0u8..3, max in 1usize..30, n in 1usize..100, k in 1usize..40, seed in 0u64..1000) {
        let policy = match kind { 0 => Policy::Sequential, 1 => Policy::random_replacement(0.7).expect("p"), _ => Policy::Reservoir };
        let mut b = Buffer::new(schema(), policy, max, seed).expect("buffer");
        b.extend(&as_ref(&rows(&(0..n as i32).collect::<Vec<_>>()))).expect("add");
        let held = xs(&b.get_data().expect("data"));
        prop_assert_eq!(held.len(), n.min(max));
        let s = xs(&b.sample(k, true).expect("sample"));
        prop_assert!(s.iter().all(|x| held.contains(x)));
        if k <= held.len() {
            let mut d = xs(&b.sample(k, false).expect("sample"));
            d.sort();
            d.dedup();
            prop_assert_eq!(d.len(), k);
        }
    }
}

#[test]
fn row_into_reads_storage_order_across_the_wrap_and_clear_empties() {
    let mut b = seq(4);
    b.extend(&as_ref(&rows(&[0, 1, 2, 3, 4, 5]))).expect("add");
    let mut x = [0u8; 4];
    let mut v = [0u8; 8];
    let any = b.row_into(1, &mut [&mut x, &mut v]).expect("row");
    assert_eq!(i32::from_le_bytes(x), 3);
    assert_eq!(any[0].as_ref().value(0), b"3");
    assert_eq!(
        b.row_into(4, &mut [&mut x, &mut v])
            .expect_err("out of range")
            .code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        b.row_into(0, &mut [&mut x])
            .expect_err("one column short")
            .code,
        ErrorCode::InvalidArgument
    );
    b.clear();
    assert_eq!((b.len(), b.total_added()), (0, 0));
    assert_eq!(b.sample(1, true).expect_err("empty").code, ErrorCode::Empty);
    b.extend(&as_ref(&rows(&[9, 10]))).expect("add");
    assert_eq!(xs(&b.get_data().expect("data")), vec![9, 10]);
}

#[test]
fn counters_follow_every_change() {
    use expbuf_core::counters::{slot, BUFFER};
    let mut b = Buffer::new(schema(), Policy::Reservoir, 3, 4).expect("buffer");
    let c = b.counters().clone();
    let read = |name: &str| c.get(slot(BUFFER, name));
    assert_eq!(
        (read("size"), read("maxSize"), read("totalAdded")),
        (0.0, 3.0, 0.0)
    );
    b.extend(&as_ref(&rows(&[1, 2, 3, 4, 5]))).expect("add");
    assert_eq!((read("size"), read("totalAdded")), (3.0, 5.0));
    b.clear();
    assert_eq!((read("size"), read("totalAdded")), (0.0, 0.0));
}
