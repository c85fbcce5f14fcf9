//! Drives rocketmq-client-rust 1.0.0 against a NameServer for the interop suite.
//!
//! ```text
//! interop-rust-client admin   --namesrv A --topic T
//! interop-rust-client admin-kv --namesrv A [--cluster C]
//! interop-rust-client produce --namesrv 'A;B' --topic T[,T2] --count N [--interval-ms MS] [--tag RUN] [--pause-file F]
//! interop-rust-client consume --namesrv A --topic T --group G --count N --timeout-secs S [--tag RUN]
//! ```
//! Every line printed on stdout is `KEY value...`; the suite parses them. Exit 0 when the
//! operation did what was asked (admin: every call answered; produce: every send SEND_OK;
//! consume: every expected body seen), 1 otherwise.
#![recursion_limit = "512"]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cheetah_string::CheetahString;
use rocketmq_client_rust::{
    ClientError, ClientResult, ClientRuntime, ClientRuntimeConfig, ConsumeConcurrentlyContext,
    ConsumeConcurrentlyStatus, DefaultMQAdminExt, DefaultMQProducer, DefaultMQPushConsumer,
    MQPushConsumer, MessageListenerConcurrently, RouteAdmin, TopicAdmin,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};

struct Args(Vec<String>);

impl Args {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .position(|a| a == key)
            .and_then(|i| self.0.get(i + 1).cloned())
    }
    fn req(&self, key: &str) -> String {
        self.get(key).unwrap_or_else(|| {
            eprintln!("missing {key}");
            std::process::exit(2)
        })
    }
    fn num(&self, key: &str, default: u64) -> u64 {
        self.get(key)
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    }
}

struct Rt {
    owner: RuntimeOwner,
    client_runtime: Arc<ClientRuntime>,
    _telemetry: rocketmq_observability::TelemetryRuntimeGuard,
}

fn runtime(scope: &str) -> ClientResult<Rt> {
    let owner = RuntimeOwner::plan(RuntimeConfig {
        thread_name: format!("interop-{scope}"),
        ..Default::default()
    })
    .expect("runtime configuration")
    .build()
    .map_err(|e| ClientError::internal("create runtime", e))?;
    let telemetry = rocketmq_observability::install_global(
        &rocketmq_observability::TelemetryBootstrapConfig::default(),
    )
    .map_err(|e| ClientError::internal("telemetry", e))?;
    let client_runtime = ClientRuntime::try_new(
        owner.root_context().component("client"),
        ClientRuntimeConfig::default(),
        telemetry.handle(),
    )?;
    Ok(Rt {
        owner,
        client_runtime,
        _telemetry: telemetry,
    })
}

async fn admin(rt: &Rt, args: &Args) -> bool {
    let namesrv = args.req("--namesrv");
    let topic = args.req("--topic");
    let mut admin =
        DefaultMQAdminExt::with_timeout(rt.client_runtime.clone(), Duration::from_millis(5000));
    admin.set_namesrv_addr(namesrv.as_str());
    if let Err(e) = admin.start().await {
        println!("ADMIN_START_ERR {e}");
        return false;
    }
    let mut ok = true;
    match admin.examine_broker_cluster_info().await {
        Ok(ci) => println!("CLUSTER_INFO {}", serde_json::to_string(&ci).unwrap()),
        Err(e) => {
            println!("CLUSTER_INFO_ERR {e}");
            ok = false
        }
    }
    match admin
        .examine_topic_route_info(CheetahString::from(topic.as_str()))
        .await
    {
        Ok(Some(r)) => println!("ROUTE {}", serde_json::to_string(&r).unwrap()),
        Ok(None) => {
            println!("ROUTE_NONE");
            ok = false
        }
        Err(e) => {
            println!("ROUTE_ERR {e}");
            ok = false
        }
    }
    match admin.fetch_all_topic_list().await {
        Ok(tl) => println!(
            "TOPIC_LIST {}",
            serde_json::to_string(&tl.topic_list).unwrap()
        ),
        Err(e) => {
            println!("TOPIC_LIST_ERR {e}");
            ok = false
        }
    }
    match admin
        .examine_topic_route_info(CheetahString::from("NoSuchTopic_interop"))
        .await
    {
        Ok(r) => println!("MISSING_ROUTE_OK {}", r.is_some()),
        Err(e) => println!("MISSING_ROUTE_ERR {e}"),
    }
    admin.shutdown().await;
    ok
}

/// KV, topics-by-cluster and NameServer configuration calls; prints one line each. The suite
/// checks the values; this returns false only when the client could not start.
async fn admin_kv(rt: &Rt, args: &Args) -> bool {
    let namesrv = args.req("--namesrv");
    let cluster = args
        .get("--cluster")
        .unwrap_or_else(|| "DefaultCluster".into());
    let mut admin =
        DefaultMQAdminExt::with_timeout(rt.client_runtime.clone(), Duration::from_millis(5000));
    admin.set_namesrv_addr(namesrv.as_str());
    if let Err(e) = admin.start().await {
        println!("ADMIN_START_ERR {e}");
        return false;
    }
    let ns = || CheetahString::from("INTEROP_NS");
    let key = || CheetahString::from("interop.key");
    let show = |r: Result<String, String>| match r {
        Ok(v) => format!("ok {v}"),
        Err(e) => format!("err {e}"),
    };
    let r = admin
        .create_and_update_kv_config(ns(), key(), CheetahString::from("v1"))
        .await;
    println!(
        "KV_PUT {}",
        show(r.map(|_| String::new()).map_err(|e| e.to_string()))
    );
    let r = admin.get_kv_config(ns(), key()).await;
    println!(
        "KV_GET {}",
        show(r.map(|v| v.to_string()).map_err(|e| e.to_string()))
    );
    let r = admin.get_kv_list_by_namespace(ns()).await;
    println!(
        "KV_LIST {}",
        show(
            r.map(|t| serde_json::to_string(&t.table).unwrap())
                .map_err(|e| e.to_string())
        )
    );
    let r = admin.delete_kv_config(ns(), key()).await;
    println!(
        "KV_DEL {}",
        show(r.map(|_| String::new()).map_err(|e| e.to_string()))
    );
    let r = admin.get_kv_config(ns(), key()).await;
    println!(
        "KV_GET_AFTER_DEL {}",
        show(r.map(|v| v.to_string()).map_err(|e| e.to_string()))
    );
    let r = admin
        .fetch_topics_by_cluster(CheetahString::from(cluster.as_str()))
        .await;
    println!(
        "TOPICS_BY_CLUSTER {}",
        show(
            r.map(|t| serde_json::to_string(&t.topic_list).unwrap())
                .map_err(|e| e.to_string())
        )
    );
    let servers = vec![CheetahString::from(namesrv.as_str())];
    let get = |m: &std::collections::HashMap<
        CheetahString,
        std::collections::HashMap<CheetahString, CheetahString>,
    >,
               k: &str| {
        m.values()
            .next()
            .and_then(|c| c.get(&CheetahString::from(k)).map(|v| v.to_string()))
            .unwrap_or_default()
    };
    match admin.get_name_server_config(servers.clone()).await {
        Ok(m) => println!(
            "NS_CONFIG listenPort={} orderMessageEnable={}",
            get(&m, "listenPort"),
            get(&m, "orderMessageEnable")
        ),
        Err(e) => println!("NS_CONFIG err {e}"),
    }
    let mut props = std::collections::HashMap::new();
    props.insert(
        CheetahString::from("orderMessageEnable"),
        CheetahString::from("true"),
    );
    let r = admin
        .update_name_server_config(props, Some(servers.clone()))
        .await;
    println!(
        "NS_CONFIG_UPDATE {}",
        show(r.map(|_| String::new()).map_err(|e| e.to_string()))
    );
    match admin.get_name_server_config(servers.clone()).await {
        Ok(m) => println!(
            "NS_CONFIG_AFTER orderMessageEnable={}",
            get(&m, "orderMessageEnable")
        ),
        Err(e) => println!("NS_CONFIG_AFTER err {e}"),
    }
    let mut props = std::collections::HashMap::new();
    props.insert(
        CheetahString::from("orderMessageEnable"),
        CheetahString::from("false"),
    );
    let _ = admin.update_name_server_config(props, Some(servers)).await;
    admin.shutdown().await;
    true
}

async fn produce(rt: &Rt, args: &Args) -> bool {
    let namesrv = args.req("--namesrv");
    // `--topic A,B`: `--count` messages to A, then (after `--pause-file` exists, when given)
    // `--count` messages to B, whose route is fetched only then.
    let topics: Vec<String> = args.req("--topic").split(',').map(str::to_owned).collect();
    let count = args.num("--count", 10);
    let interval = Duration::from_millis(args.num("--interval-ms", 0));
    let tag = args.get("--tag").unwrap_or_else(|| "run".into());
    let group = args
        .get("--group")
        .unwrap_or_else(|| "interop_rust_producer".into());
    let pause_file = args.get("--pause-file");
    let mut producer = DefaultMQProducer::builder(rt.client_runtime.clone())
        .producer_group(group)
        .name_server_addr(namesrv)
        .build();
    if let Err(e) = producer.start().await {
        println!("PRODUCER_START_ERR {e}");
        return false;
    }
    println!("STARTED");
    let (mut sent, mut failed) = (0u64, 0u64);
    for (ti, topic) in topics.iter().enumerate() {
        if ti > 0 {
            println!("HALF");
            if let Some(f) = &pause_file {
                let start = Instant::now();
                while !std::path::Path::new(f).exists() && start.elapsed() < Duration::from_secs(60)
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        for i in 0..count {
            let body = format!("{tag}-{}{i}", "b".repeat(ti));
            let msg = Message::builder()
                .topic(topic.as_str())
                .tags("interop")
                .body_slice(body.as_bytes())
                .build_unchecked();
            match producer.send_with_timeout(msg, 3000).await {
                Ok(Some(r)) if format!("{:?}", r.send_status) == "SendOk" => {
                    sent += 1;
                    let q = r
                        .message_queue
                        .as_ref()
                        .map(|q| format!("{q:?}"))
                        .unwrap_or_default();
                    println!("SENT {i} {body} {q}");
                }
                Ok(r) => {
                    failed += 1;
                    println!("SEND_FAIL {i} {:?}", r.map(|r| r.send_status));
                }
                Err(e) => {
                    failed += 1;
                    println!("SEND_ERR {i} {e}");
                }
            }
            if !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
        }
    }
    println!("PRODUCED sent={sent} failed={failed}");
    producer.shutdown().await;
    failed == 0
}

struct Counter {
    seen: Arc<Mutex<HashSet<String>>>,
    total: Arc<Mutex<u64>>,
}

impl MessageListenerConcurrently for Counter {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        for m in msgs {
            let body = m
                .body()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            *self.total.lock().unwrap() += 1;
            self.seen.lock().unwrap().insert(body);
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

async fn consume(rt: &Rt, args: &Args) -> bool {
    let namesrv = args.req("--namesrv");
    let topic = args.req("--topic");
    let group = args.req("--group");
    let count = args.num("--count", 10);
    let timeout = Duration::from_secs(args.num("--timeout-secs", 60));
    let tag = args.get("--tag").unwrap_or_else(|| "run".into());
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let total = Arc::new(Mutex::new(0u64));
    let mut consumer = DefaultMQPushConsumer::builder(rt.client_runtime.clone())
        .consumer_group(group)
        .name_server_addr(namesrv)
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .build();
    if let Err(e) = consumer.subscribe(topic.as_str(), "*").await {
        println!("SUBSCRIBE_ERR {e}");
        return false;
    }
    consumer.register_message_listener_concurrently(Counter {
        seen: seen.clone(),
        total: total.clone(),
    });
    if let Err(e) = consumer.start().await {
        println!("CONSUMER_START_ERR {e}");
        return false;
    }
    println!("READY");
    let want: HashSet<String> = (0..count).map(|i| format!("{tag}-{i}")).collect();
    let start = Instant::now();
    loop {
        let got = seen.lock().unwrap().intersection(&want).count();
        if got as u64 >= count || start.elapsed() > timeout {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = seen.lock().unwrap().intersection(&want).count() as u64;
    println!(
        "CONSUMED expected={count} got={got} deliveries={}",
        *total.lock().unwrap()
    );
    consumer.shutdown().await;
    got == count
}

fn main() {
    let args = Args(std::env::args().skip(1).collect());
    let cmd = args.0.first().cloned().unwrap_or_default();
    let hard_timeout = Duration::from_secs(args.num("--hard-timeout-secs", 180));
    let rt = runtime(&cmd).expect("client runtime");
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ok = tokio_rt.block_on(async {
        let work = async {
            match cmd.as_str() {
                "admin" => admin(&rt, &args).await,
                "admin-kv" => admin_kv(&rt, &args).await,
                "produce" => produce(&rt, &args).await,
                "consume" => consume(&rt, &args).await,
                _ => {
                    eprintln!(
                        "usage: interop-rust-client admin|produce|consume --namesrv ADDR ..."
                    );
                    std::process::exit(2)
                }
            }
        };
        match tokio::time::timeout(hard_timeout, work).await {
            Ok(ok) => ok,
            Err(_) => {
                println!("HARD_TIMEOUT");
                false
            }
        }
    });
    // Don't wait on the client's background tasks: the verdict is in.
    let _ = &rt.owner;
    std::process::exit(if ok { 0 } else { 1 });
}
