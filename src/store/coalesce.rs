//! Writes of many callers coalesced into shared statements (the producers' enqueues, the
//! endings of jobs).
//!
//! Policy: a write goes to the database at once when fewer than [`MAX_RUNNING`]
//! statements of its coalescer are out (so a lone write waits for nothing); otherwise it
//! waits, and the next statement to finish takes every waiting write that may share it
//! (up to the writer's weight limit) into one statement. Under load the database commits
//! one statement per batch instead of one per caller. Each write still gets its own
//! answer; when a shared statement fails, each of its writes is tried again alone, so one
//! write's error is never another's.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::StoreError;

/// Statements of one coalescer out at once. One: the writes waiting meanwhile share the
/// next statement, and a statement's cost is mostly its own, not its rows' (W3 alternated
/// against two: 2,811 / 2,386 jobs/s against 2,397 / 2,194; docs/scale-out.md).
pub const MAX_RUNNING: usize = 1;

/// What a coalescer writes: one statement for several callers' items.
pub trait Writer: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Answer: Send + 'static;

    /// A batch holds items of at most this much weight in all (a lone item may weigh more).
    const MAX_WEIGHT: usize;

    /// How much `item` weighs against [`MAX_WEIGHT`](Self::MAX_WEIGHT).
    fn weight(item: &Self::Item) -> usize;

    /// Whether `item` may share a statement with `batch` (e.g. not a second write of the
    /// same row).
    fn fits(batch: &[&Self::Item], item: &Self::Item) -> bool;

    /// Writes `items` in one statement; answers one entry per item, in order.
    fn write(
        &self,
        items: &[&Self::Item],
    ) -> impl Future<Output = Result<Vec<Self::Answer>, StoreError>> + Send;
}

type Reply<W> = oneshot::Sender<Result<<W as Writer>::Answer, StoreError>>;

/// A coalescing writer (cheap to clone).
pub struct Coalescer<W: Writer>(Arc<Inner<W>>);

impl<W: Writer> Clone for Coalescer<W> {
    fn clone(&self) -> Self {
        Coalescer(self.0.clone())
    }
}

struct Inner<W: Writer> {
    writer: W,
    waiting: Mutex<Vec<(W::Item, Reply<W>)>>,
    running: AtomicUsize,
}

impl<W: Writer> Coalescer<W> {
    /// A coalescer over `writer`.
    pub fn new(writer: W) -> Coalescer<W> {
        Coalescer(Arc::new(Inner {
            writer,
            waiting: Mutex::new(Vec::new()),
            running: AtomicUsize::new(0),
        }))
    }

    /// The writer's statements run through.
    pub fn writer(&self) -> &W {
        &self.0.writer
    }

    /// Writes `item` (with the items waiting meanwhile); answers its own answer.
    pub async fn write(&self, item: W::Item) -> Result<W::Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.0
            .waiting
            .lock()
            .expect("coalescer lock")
            .push((item, reply));
        let start = self
            .0
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            });
        if start.is_ok() {
            tokio::spawn(run(Running(self.0.clone())));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }
}

/// A running task, counted out when it ends however it ends.
struct Running<W: Writer>(Arc<Inner<W>>);

impl<W: Writer> Drop for Running<W> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs statements while writes wait, then stops.
async fn run<W: Writer>(running: Running<W>) {
    let inner = &running.0;
    loop {
        let batch = take_batch::<W>(&mut inner.waiting.lock().expect("coalescer lock"));
        if batch.is_empty() {
            return;
        }
        let items: Vec<&W::Item> = batch.iter().map(|(item, _)| item).collect();
        let written = inner.writer.write(&items).await;
        match written {
            Ok(answers) if answers.len() == batch.len() => {
                for ((_, reply), answer) in batch.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Ok(_) | Err(_) if batch.len() > 1 => {
                for (item, reply) in batch {
                    let alone = inner.writer.write(&[&item]).await;
                    let _ = reply.send(alone.and_then(first));
                }
            }
            result => {
                if let Some((_, reply)) = batch.into_iter().next() {
                    let _ = reply.send(result.and_then(first));
                }
            }
        }
    }
}

/// The one answer of a lone item's statement.
fn first<A>(answers: Vec<A>) -> Result<A, StoreError> {
    answers
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("a write answered nothing".to_owned()))
}

/// The waiting items that fit one statement, in arrival order; the others keep waiting.
fn take_batch<W: Writer>(waiting: &mut Vec<(W::Item, Reply<W>)>) -> Vec<(W::Item, Reply<W>)> {
    let mut batch: Vec<(W::Item, Reply<W>)> = Vec::new();
    let mut kept = Vec::new();
    let mut weight = 0;
    for entry in waiting.drain(..) {
        let heavy = weight + W::weight(&entry.0) > W::MAX_WEIGHT;
        let items: Vec<&W::Item> = batch.iter().map(|(item, _)| item).collect();
        if batch.is_empty() || (!heavy && W::fits(&items, &entry.0)) {
            weight += W::weight(&entry.0);
            batch.push(entry);
        } else {
            kept.push(entry);
        }
    }
    *waiting = kept;
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items are numbers: a batch weighs their sum and holds no number twice.
    struct Numbers;

    impl Writer for Numbers {
        type Item = usize;
        type Answer = usize;
        const MAX_WEIGHT: usize = 10;

        fn weight(item: &usize) -> usize {
            *item
        }

        fn fits(batch: &[&usize], item: &usize) -> bool {
            !batch.contains(&item)
        }

        async fn write(&self, items: &[&usize]) -> Result<Vec<usize>, StoreError> {
            Ok(items.iter().map(|n| **n * 2).collect())
        }
    }

    fn waiting(items: &[usize]) -> Vec<(usize, Reply<Numbers>)> {
        items.iter().map(|&n| (n, oneshot::channel().0)).collect()
    }

    fn items(entries: &[(usize, Reply<Numbers>)]) -> Vec<usize> {
        entries.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn an_item_that_does_not_fit_waits_for_the_next_statement() {
        let mut queue = waiting(&[1, 2, 1, 3, 2]);
        assert_eq!(items(&take_batch::<Numbers>(&mut queue)), [1, 2, 3]);
        assert_eq!(items(&queue), [1, 2]);
        assert_eq!(items(&take_batch::<Numbers>(&mut queue)), [1, 2]);
        assert!(take_batch::<Numbers>(&mut queue).is_empty());
    }

    #[test]
    fn a_batch_stays_within_its_weight_but_a_heavy_item_goes_alone() {
        let mut queue = waiting(&[4, 5, 3, 12, 1]);
        assert_eq!(items(&take_batch::<Numbers>(&mut queue)), [4, 5, 1]);
        assert_eq!(items(&take_batch::<Numbers>(&mut queue)), [3]);
        assert_eq!(items(&take_batch::<Numbers>(&mut queue)), [12]);
    }

    #[tokio::test]
    async fn each_write_gets_its_own_answer() {
        let coalescer = Coalescer::new(Numbers);
        let answers = futures_util::future::join_all((1..=6).map(|n| coalescer.write(n))).await;
        let answers: Vec<usize> = answers.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers, [2, 4, 6, 8, 10, 12]);
    }
}
