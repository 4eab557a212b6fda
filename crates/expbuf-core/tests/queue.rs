mod common;

use common::{as_ref, rows, schema, xs};
use expbuf_core::{Buffer, ErrorCode, Policy, RowQueue, TimestampLog};

fn drain_xs(q: &mut RowQueue) -> Vec<i32> {
    let d = q.drain();
    let mut b = Buffer::new(schema(), Policy::Sequential, 1000, 0).expect("buffer");
    for part in d.parts() {
        b.extend(&part).expect("add");
    }
    xs(&b.get_data().expect("data"))
}

#[test]
fn unbounded_queue_keeps_everything_in_order() {
    let mut q = RowQueue::new(schema(), None).expect("queue");
    q.push(&as_ref(&rows(&[1, 2, 3]))).expect("push");
    q.push(&as_ref(&rows(&[4]))).expect("push");
    assert_eq!(q.len(), 4);
    assert_eq!(drain_xs(&mut q), vec![1, 2, 3, 4]);
    assert_eq!(q.len(), 0);
    assert_eq!(q.dropped(), 0);
}

#[test]
fn bounded_queue_drops_oldest_and_counts() {
    let mut q = RowQueue::new(schema(), Some(5)).expect("queue");
    q.push(&as_ref(&rows(&[1, 2, 3]))).expect("push");
    q.push(&as_ref(&rows(&[4, 5, 6, 7]))).expect("push");
    assert_eq!(q.len(), 5);
    assert_eq!(q.dropped(), 2);
    q.push(&as_ref(&rows(&(10..20).collect::<Vec<_>>())))
        .expect("push");
    assert_eq!(q.dropped(), 2 + 5 + 5);
    let d = q.drain();
    let ts: Vec<f64> = d
        .parts()
        .flat_map(|p| p.timestamps.expect("ts").to_vec())
        .collect();
    assert_eq!(ts, vec![15.0, 16.0, 17.0, 18.0, 19.0]);
    assert_eq!(d.rows(), 5);
}

#[test]
fn a_bad_push_changes_nothing() {
    let mut q = RowQueue::new(schema(), Some(3)).expect("queue");
    q.push(&as_ref(&rows(&[1, 2, 3]))).expect("push");
    let good = rows(&[4, 5]);
    let mut bad = as_ref(&good);
    bad.timestamps = None;
    assert_eq!(
        q.push(&bad).expect_err("no ts").code,
        ErrorCode::InvalidArgument
    );
    let mut bad = as_ref(&good);
    bad.typed[0] = &bad.typed[0][..4];
    assert_eq!(q.push(&bad).expect_err("short").code, ErrorCode::BadValue);
    assert_eq!(q.len(), 3);
    assert_eq!(q.dropped(), 0);
    assert_eq!(drain_xs(&mut q), vec![1, 2, 3]);
}

#[test]
fn timestamp_log_counts_strictly_later_and_keeps_last_capacity() {
    let mut log = TimestampLog::new(4);
    log.extend(&[1.0, 2.0, 3.0]);
    assert_eq!(log.count_after(0.0), 3);
    assert_eq!(log.count_after(2.0), 1);
    assert_eq!(log.count_after(3.0), 0);
    log.extend(&[4.0, 5.0]);
    assert_eq!(log.len(), 4);
    assert_eq!(log.count_after(1.0), 4);
    log.extend(&[10.0, 11.0, 12.0, 13.0, 14.0]);
    assert_eq!(
        log.times().collect::<Vec<_>>(),
        vec![11.0, 12.0, 13.0, 14.0]
    );
}

#[test]
fn snapshot_copies_and_prepend_puts_rows_first_within_the_bound() {
    let mut q = RowQueue::new(schema(), Some(5)).expect("queue");
    q.push(&as_ref(&rows(&[1, 2]))).expect("push");
    let snap = q.snapshot().expect("snapshot");
    assert_eq!(xs(&snap), vec![1, 2]);
    assert_eq!(q.len(), 2);
    q.prepend(rows(&[-3, -2, -1, 0]));
    assert_eq!(q.len(), 5);
    assert_eq!(q.dropped(), 1);
    assert_eq!(drain_xs(&mut q), vec![-2, -1, 0, 1, 2]);
}
