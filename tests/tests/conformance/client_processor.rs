//! Spec §6.5: `ClientRequestProcessor` and needWaitForService (GET_ROUTEINFO_BY_TOPIC).

use super::*;

// =============================================================================================
// §6.5 ClientRequestProcessor: needWaitForService (cluster-test mode is not supported)

fn waiting_harness(need_wait: bool, wait_seconds: i32) -> Harness {
    let mut h = Harness::with_config(|c| {
        c.need_wait_for_service = need_wait;
        c.wait_seconds_for_service = wait_seconds;
    });
    // Registration is never held back by the startup wait.
    reg_ok(
        &mut h,
        &Reg::new("c", "10.0.0.1:10911", "b", 0).topics(&["rocketmq-topic-test", "x"]),
    );
    h
}

fn ask_route(h: &mut Harness, topic: &str) -> RemotingCommand {
    h.call(
        1,
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic),
    )
}

#[test]
fn cluster_test_request_processor_test_namesrv_ready() {
    let mut h = waiting_harness(true, 0);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv_no_need_wait_for_service() {
    let mut h = waiting_harness(false, 45);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv_not_ready() {
    let mut h = waiting_harness(true, 45);
    let r = ask_route(&mut h, "rocketmq-topic-test");
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("name server not ready"));
    assert_eq!(r.body, None);
    // The wait comes before the lookup: unknown topics get the same answer.
    assert_eq!(ask_route(&mut h, "unknown").code, response::SYSTEM_ERROR);
    // Ready exactly when 45 s have passed since start.
    h.advance(44_999);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SYSTEM_ERROR
    );
    h.advance(1);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

#[test]
fn cluster_test_request_processor_test_namesrv() {
    let mut h = waiting_harness(true, 3);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SYSTEM_ERROR
    );
    h.advance(4_000);
    assert_eq!(
        ask_route(&mut h, "rocketmq-topic-test").code,
        response::SUCCESS
    );
}

fn client_processor_harness() -> Harness {
    let mut h = Harness::new();
    reg_ok(
        &mut h,
        &Reg::new("default-cluster", "127.0.0.1:10911", "broker-a", 0)
            .topic_configs(vec![tc("TestTopic", 4, PERM_RW, 0), tc("x", 4, PERM_RW, 0)]),
    );
    h
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_high_version_client() {
    let mut h = client_processor_harness();
    let mut cmd =
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", "TestTopic");
    cmd.version = 401; // V4_9_4
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS);
    assert!(body_text(&r).contains(r#""brokerAddrs":{"0":"127.0.0.1:10911"}"#));
}

/// Java: `...WithLowVersionClientAndNoStandardJsonFlag`.
#[test]
fn client_request_processor_test_get_route_info_by_topic_with_low_version_client() {
    let mut h = client_processor_harness();
    let mut cmd = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC)
        .with_ext("topic", "TestTopic")
        .with_ext("acceptStandardJsonOnly", "false");
    cmd.version = 400; // V4_9_3
    let r = h.call(1, cmd);
    assert_eq!(r.code, response::SUCCESS);
    assert!(body_text(&r).contains(r#""brokerAddrs":{0:"127.0.0.1:10911"}"#));
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_name_server_not_ready() {
    let mut h = Harness::with_config(|c| {
        c.need_wait_for_service = true;
        c.wait_seconds_for_service = 60;
    });
    let r = ask_route(&mut h, "TestTopic");
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("name server not ready"));
}

#[test]
fn client_request_processor_test_get_route_info_by_topic_with_topic_not_exist() {
    let mut h = client_processor_harness();
    let r = ask_route(&mut h, "NonExistentTopic");
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert!(r
        .remark
        .as_deref()
        .unwrap()
        .starts_with("No topic route info in name server for the topic: NonExistentTopic\n"));
}
