use super::mock::*;
use crate::*;

#[test]
fn smoke() {
    ExtBuilder::default().build_and_execute(|| {
        let net = add_subnet(1, 2);
        assert_eq!(net, NetUid(1));
        register(net, 3, 4);
        run_to_block(10);
    });
}
