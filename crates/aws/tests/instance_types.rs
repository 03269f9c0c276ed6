//! The instance type names pipectl-spec validates against (it has no AWS SDK) are exactly the
//! AWS SDK's own `InstanceType` values, so an SDK upgrade cannot leave them behind unseen.

use aws_sdk_ec2::types::InstanceType;

#[test]
fn instance_type_names_match_the_sdk() {
    let mut sdk: Vec<&str> = InstanceType::values().to_vec();
    sdk.sort_unstable();
    sdk.dedup();
    let mut ours: Vec<&str> = pipectl_spec::instances::ec2_names().collect();
    ours.sort_unstable();
    let missing: Vec<_> = sdk.iter().filter(|n| !ours.contains(n)).collect();
    let extra: Vec<_> = ours.iter().filter(|n| !sdk.contains(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "regenerate crates/spec/src/ec2-instance-types.txt from aws_sdk_ec2::types::InstanceType::values(): missing {missing:?}, extra {extra:?}"
    );
    assert!(ours.contains(&"g3s.xlarge") && ours.contains(&"g4dn.xlarge"));
}
