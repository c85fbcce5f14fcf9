use namesrv_tests::harness::*;

#[test]
fn register_route_expire() {
    let mut h = Harness::new();
    let r = h.register(&Reg::new("C", "127.0.0.1:10911", "B", 0).topics(&["T1", "T2"]));
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let route = h.route("T1").expect("route");
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "127.0.0.1:10911");
    h.advance(119_999);
    assert!(h.route("T1").is_some());
    h.advance(1);
    assert!(h.route("T1").is_none());
    assert!(h.cluster_info().broker_addr_table.is_empty());
}
