mod common;

use common::{as_ref, rows, schema, xs};
use expbuf_core::counters::{slot, QUEUE};
use expbuf_core::{AnyColumn, Buffer, ErrorCode, Policy, Queue, Ring, TimestampLog};
use std::sync::Arc;

fn buffer() -> Buffer {
    Buffer::new(schema(), Policy::Sequential, 100_000, 0).expect("buffer")
}

fn drain_xs(q: &Queue) -> Vec<i32> {
    let mut b = buffer();
    q.drain_into(&mut b, &mut |_| {}).expect("drain");
    xs(&b.get_data().expect("data"))
}

/// Writes rows `xs` into `ring` from counter `tail` on, as JS does through its views
/// (x, v = [x, -x], the collect time = x), and returns their `any` tags.
fn write(ring: &Ring, tail: u32, values: &[i32]) -> AnyColumn {
    let l = ring.layout();
    let (base, _) = ring.memory();
    let mut tags = AnyColumn::with_rows(values.len()).expect("tags");
    for (k, &x) in values.iter().enumerate() {
        let slot = tail.wrapping_add(k as u32) as usize & (l.capacity - 1);
        // SAFETY: the slots written are past the ring's tail, which this test (the only
        // writer) has not published, and within its capacity of the reader's head.
        unsafe {
            *base.add(l.columns[0]).cast::<i32>().add(slot) = x;
            let v = base.add(l.columns[1]).cast::<f32>().add(slot * 2);
            *v = x as f32;
            *v.add(1) = -(x as f32);
            *base.add(l.timestamps).cast::<f64>().add(slot) = x as f64;
        }
        tags.push(x.to_string().as_bytes(), "tag").expect("tag");
    }
    tags
}

/// Collects `values` through `ring` and publishes them; returns the new tail.
fn collect(q: &Queue, ring: &Ring, tail: u32, values: &[i32]) -> u32 {
    let tags = write(ring, tail, values);
    let end = tail.wrapping_add(values.len() as u32);
    q.publish(ring, end, &[tags.as_ref()]).expect("publish");
    end
}

#[test]
fn ring_rows_and_batches_arrive_in_collect_order() {
    let q = Queue::new(schema(), None).expect("queue");
    let ring = q.ring().expect("ring");
    let mut tail = collect(&q, &ring, 0, &[1, 2, 3]);
    // A batch after unpublished ring rows: the push publishes and spills them first.
    let tags = write(&ring, tail, &[4]);
    tail += 1;
    q.push(
        Some((&ring, tail, &[tags.as_ref()])),
        &as_ref(&rows(&[5, 6])),
    )
    .expect("push");
    collect(&q, &ring, tail, &[7]);
    assert_eq!(q.len(), 7);
    assert_eq!(drain_xs(&q), vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(q.len(), 0);
    assert_eq!(q.dropped(), 0);
}

#[test]
fn a_full_ring_spills_and_the_writer_gets_its_slots_back() {
    let q = Queue::new(schema(), Some(8)).expect("queue");
    let ring = q.ring().expect("ring");
    assert_eq!(ring.layout().capacity, 8);
    let mut tail = collect(&q, &ring, 0, &(0..8).collect::<Vec<_>>());
    assert!(q
        .publish(
            &ring,
            tail + 1,
            &[AnyColumn::with_rows(1).expect("a").as_ref()]
        )
        .is_err());
    assert_eq!(
        q.spill(&ring).expect("spill"),
        8,
        "head moved past the spilled rows"
    );
    tail = collect(&q, &ring, tail, &[8, 9]);
    assert_eq!(q.dropped(), 2);
    assert_eq!(drain_xs(&q), (2..10).collect::<Vec<_>>());
    assert_eq!(tail, 10);
}

#[test]
fn bounded_queue_drops_the_oldest_over_blocks_and_rings_and_counts() {
    let q = Queue::new(schema(), Some(5)).expect("queue");
    let counters = q.counters().clone();
    let a = q.ring().expect("ring a");
    let b = q.ring().expect("ring b");
    q.push(None, &as_ref(&rows(&[10, 30]))).expect("push");
    collect(&q, &a, 0, &[20, 40, 60]);
    collect(&q, &b, 0, &[25, 50]);
    // 7 rows for 5 places: the two oldest by collect time (10, 20) go.
    assert_eq!(q.dropped(), 2);
    assert_eq!(counters.get(slot(QUEUE, "dropped")), 2.0);
    assert_eq!(counters.get(slot(QUEUE, "queued")), 5.0);
    let mut got = drain_xs(&q);
    got.sort();
    assert_eq!(got, vec![25, 30, 40, 50, 60]);
    assert_eq!(counters.get(slot(QUEUE, "queued")), 0.0);
    // A batch larger than the bound keeps its newest rows.
    q.push(None, &as_ref(&rows(&(0..9).collect::<Vec<_>>())))
        .expect("push");
    assert_eq!(q.dropped(), 2 + 4);
    assert_eq!(drain_xs(&q), vec![4, 5, 6, 7, 8]);
}

#[test]
fn a_bad_push_or_publish_changes_nothing() {
    let q = Queue::new(schema(), Some(3)).expect("queue");
    q.push(None, &as_ref(&rows(&[1, 2, 3]))).expect("push");
    let good = rows(&[4, 5]);
    let mut bad = as_ref(&good);
    bad.timestamps = None;
    assert_eq!(
        q.push(None, &bad).expect_err("no ts").code,
        ErrorCode::InvalidArgument
    );
    let mut bad = as_ref(&good);
    bad.typed[0] = &bad.typed[0][..4];
    assert_eq!(
        q.push(None, &bad).expect_err("short").code,
        ErrorCode::BadValue
    );
    let ring = q.ring().expect("ring");
    let tags = write(&ring, 0, &[9]);
    assert_eq!(
        q.publish(&ring, 1, &[]).expect_err("no any column").code,
        ErrorCode::InvalidArgument
    );
    assert!(
        q.publish(&ring, 2, &[tags.as_ref()]).is_err(),
        "two rows, one tag"
    );
    assert_eq!(q.len(), 3);
    assert_eq!(q.dropped(), 0);
    assert_eq!(drain_xs(&q), vec![1, 2, 3]);
}

#[test]
fn snapshot_copies_and_prepend_puts_rows_first_within_the_bound() {
    let q = Queue::new(schema(), Some(5)).expect("queue");
    let ring = q.ring().expect("ring");
    q.push(None, &as_ref(&rows(&[1]))).expect("push");
    collect(&q, &ring, 0, &[2]);
    let snap = q.snapshot().expect("snapshot");
    assert_eq!(xs(&snap), vec![1, 2]);
    assert_eq!(snap.timestamps, vec![1.0, 2.0]);
    assert_eq!(q.len(), 2);
    q.prepend(rows(&[-3, -2, -1, 0]));
    assert_eq!(q.len(), 5);
    assert_eq!(q.dropped(), 1);
    let drained = q.drain().expect("drain");
    assert_eq!(xs(&drained), vec![-2, -1, 0, 1, 2]);
    assert_eq!(q.len(), 0);
}

#[test]
fn a_ring_whose_writers_are_gone_is_dropped_once_empty() {
    let q = Queue::new(schema(), None).expect("queue");
    let ring = q.ring().expect("ring");
    collect(&q, &ring, 0, &[1, 2]);
    let weak = Arc::downgrade(&ring);
    drop(ring);
    assert_eq!(drain_xs(&q), vec![1, 2], "its published rows still arrive");
    assert!(weak.upgrade().is_none());
}

#[test]
fn writers_on_four_threads_and_a_concurrent_reader_see_each_row_once_in_order() {
    let q = Arc::new(Queue::new(schema(), None).expect("queue"));
    const PER: i32 = 20_000;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let q = q.clone();
            std::thread::spawn(move || {
                let ring = q.ring().expect("ring");
                let cap = ring.layout().capacity as u32;
                let mut tail = 0u32;
                let mut head = 0u32;
                let mut i = 0;
                while i < PER {
                    let free = cap - tail.wrapping_sub(head);
                    if free == 0 {
                        head = q.spill(&ring).expect("spill");
                        continue;
                    }
                    let n = (free as i32).min(PER - i).min(37);
                    let values: Vec<i32> = (i..i + n).map(|k| w * 1_000_000 + k).collect();
                    let tags = write(&ring, tail, &values);
                    tail = tail.wrapping_add(n as u32);
                    head = q.publish(&ring, tail, &[tags.as_ref()]).expect("publish");
                    i += n;
                }
            })
        })
        .collect();
    let mut b = buffer();
    let mut log = TimestampLog::new(200_000);
    let mut seen = Vec::new();
    while seen.len() < 4 * PER as usize {
        let before = b.len();
        q.drain_into(&mut b, &mut |t| log.extend(t)).expect("drain");
        if b.len() > before {
            seen = xs(&b.get_data().expect("data"));
        }
    }
    for w in writers {
        w.join().expect("writer");
    }
    for w in 0..4 {
        let own: Vec<i32> = seen
            .iter()
            .copied()
            .filter(|x| x / 1_000_000 == w)
            .collect();
        assert_eq!(own, (0..PER).map(|k| w * 1_000_000 + k).collect::<Vec<_>>());
    }
    assert_eq!(log.len(), 4 * PER as usize);
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
