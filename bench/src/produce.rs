//! The load generator's Kafka side: creates a topic and produces a [`Load`] into it,
//! either as fast as the broker takes it (a backlog) or at a fixed rate, remembering when
//! each record was due so that latency is measured from its schedule (no coordinated
//! omission: a stalled producer does not hide the stall).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};

use crate::events::{Expected, Load};

/// Creates `topic` with `partitions` partitions (it must not exist yet: every run gets
/// fresh topics, so that no run reads another's events).
pub fn create_topic(brokers: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", brokers).create()?;
    let runtime = tokio_free_block_on(admin.create_topics(
        &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
        &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
    ))?;
    for result in runtime {
        if let Err((name, code)) = result {
            if code != RDKafkaErrorCode::TopicAlreadyExists {
                bail!("creating topic {name}: {code}");
            }
        }
    }
    Ok(())
}

/// Deletes `topic` if it exists and creates it empty.
pub fn recreate_topic(brokers: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", brokers).create()?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in tokio_free_block_on(admin.delete_topics(&[topic], &options))? {
        if let Err((name, code)) = result {
            if code != RDKafkaErrorCode::UnknownTopicOrPartition {
                bail!("deleting topic {name}: {code}");
            }
        }
    }
    create_topic(brokers, topic, partitions)
}

/// rdkafka's admin futures need no runtime of their own: they are driven by the client's
/// background thread, so a minimal poll loop waits for them.
fn tokio_free_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context as TaskContext, Poll, Wake, Waker};
    struct Thread(std::thread::Thread);
    impl Wake for Thread {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Thread(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park_timeout(Duration::from_millis(50)),
        }
    }
}

/// Where each record landed and when it was due: per partition, by offset.
#[derive(Default)]
pub struct Schedule {
    /// `due[partition]` holds (offset, due time, acknowledgement time) in delivery order.
    pub due: Vec<Vec<(i64, Instant, Instant)>>,
    /// Deliveries that failed (the run is then invalid).
    pub failed: u64,
}

/// Records each delivery's partition, offset and due time.
struct Deliveries {
    schedule: Arc<Mutex<Schedule>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Instant>;
    fn delivery(&self, result: &DeliveryResult<'_>, due: Self::DeliveryOpaque) {
        let mut s = self.schedule.lock().unwrap();
        match result {
            Ok(m) => {
                let p = m.partition() as usize;
                if s.due.len() <= p {
                    s.due.resize_with(p + 1, Vec::new);
                }
                s.due[p].push((m.offset(), *due, Instant::now()));
            }
            Err(_) => s.failed += 1,
        }
    }
}

/// What producing took.
pub struct Produced {
    /// What a correct read model holds afterwards.
    pub expected: Expected,
    /// Events produced.
    pub events: u64,
    /// Payload bytes produced.
    pub bytes: u64,
    /// From the first send to the last acknowledgement.
    pub elapsed: Duration,
}

/// Produces `events` events of `load` to `topic`; at `rate` events per second, or as fast
/// as possible when `None`. `on_progress` is called about once a second.
pub fn produce(brokers: &str, topic: &str, load: &mut Load, events: u64, rate: Option<f64>, on_progress: &mut dyn FnMut(u64)) -> anyhow::Result<Produced> {
    produce_into(brokers, topic, load, events, rate, BATCH_RECORDS, Arc::new(Mutex::new(Schedule::default())), on_progress)
}

/// Records per record batch at most, as the load generator produces by default.
pub const BATCH_RECORDS: usize = 10_000;

/// [`produce`] with one record per record batch. tansu 0.6.0 answers a fetch that starts
/// inside a record batch with the batches after it (a Kafka broker returns the batch
/// holding the offset), so a consumer that resumes mid-batch, as a partition handed over
/// in a consumer group does, silently skips the rest of that batch. Runs that hand
/// partitions over produce this way, so that they measure the consumers, not that bug.
pub fn produce_unbatched(brokers: &str, topic: &str, load: &mut Load, events: u64) -> anyhow::Result<Produced> {
    produce_into(brokers, topic, load, events, None, 1, Arc::new(Mutex::new(Schedule::default())), &mut |_| {})
}

/// [`produce`] in record batches of at most `records_per_batch`, recording each delivery
/// in `schedule`.
#[allow(clippy::too_many_arguments)]
pub fn produce_into(
    brokers: &str,
    topic: &str,
    load: &mut Load,
    events: u64,
    rate: Option<f64>,
    records_per_batch: usize,
    schedule: Arc<Mutex<Schedule>>,
    on_progress: &mut dyn FnMut(u64),
) -> anyhow::Result<Produced> {
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", if rate.is_some() { "1" } else { "5" })
        .set("batch.num.messages", records_per_batch.to_string())
        .set("queue.buffering.max.messages", "500000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("acks", "all")
        .create_with_context(Deliveries { schedule: schedule.clone() })
        .context("creating the load producer")?;
    let started = Instant::now();
    let mut bytes = 0u64;
    let mut last_progress = Instant::now();
    for i in 0..events {
        let due = match rate {
            Some(r) => {
                let due = started + Duration::from_secs_f64(i as f64 / r);
                // Sleep until due; a late producer does not move the schedule.
                loop {
                    let now = Instant::now();
                    if now >= due {
                        break;
                    }
                    producer.poll(Duration::ZERO);
                    let left = due - now;
                    if left > Duration::from_micros(200) {
                        std::thread::sleep(left - Duration::from_micros(100));
                    } else {
                        std::hint::spin_loop();
                    }
                }
                due
            }
            None => Instant::now(),
        };
        let record = load.next_record();
        bytes += record.payload.len() as u64;
        let mut opaque = Box::new(due);
        loop {
            match producer.send(BaseRecord::with_opaque_to(topic, opaque).key(&record.key).payload(&record.payload)) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    opaque = back.delivery_opaque;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).context("producing the load"),
            }
        }
        producer.poll(Duration::ZERO);
        if last_progress.elapsed() >= Duration::from_secs(1) {
            on_progress(i);
            last_progress = Instant::now();
        }
    }
    producer.flush(Duration::from_secs(120)).context("flushing the load")?;
    let elapsed = started.elapsed();
    let failed = schedule.lock().unwrap().failed;
    if failed > 0 {
        bail!("{failed} of {events} events were not acknowledged by the broker");
    }
    Ok(Produced { expected: load.expected(), events, bytes, elapsed })
}
