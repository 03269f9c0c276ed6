//! The call log counts operations and attempts through the interceptor on every client.
//! Uses the local endpoint when it answers; skipped (with a message) when it does not.

#[tokio::test]
async fn operations_are_counted() {
    let aws = pipectl_aws::connect(
        &pipectl_aws::AwsOptions {
            max_attempts: 1,
            ..Default::default()
        },
        "us-east-1",
    )
    .await;
    let _ = aws.sts.get_caller_identity().send().await;
    let _ = aws.ec2.describe_vpcs().send().await;
    let ops = aws.calls.operations();
    eprintln!("{ops:?} attempts={}", aws.calls.attempts());
    assert_eq!(ops.get("sts:GetCallerIdentity"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("ec2:DescribeVpcs"), Some(&1), "{ops:?}");
    assert!(aws.calls.attempts() >= 2);
}
