//! The seed and its EFA variant: up creates what the spec says, a second up changes nothing, down leaves nothing.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn seed_up_creates_what_the_spec_says_a_second_up_changes_nothing_and_down_leaves_nothing() {
    let s = stack("two-hour-pipeline.toml", "seed");
    let aws = aws().await;
    let text = ok(&s.run(&["up", "--yes"]));
    assert!(text.contains("37 created"), "{text}");

    // Every role pipectl created carries the stack's permissions boundary.
    let roles = aws
        .iam
        .list_roles()
        .path_prefix(format!("/pipectl/{}/", s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(roles.roles().len(), 2, "the instance role and the job role");
    let account = aws.account_id().await.unwrap();
    for r in roles.roles() {
        let got = aws
            .iam
            .get_role()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        let boundary = got.role().and_then(|r| r.permissions_boundary());
        assert_eq!(
            boundary.and_then(|b| b.permissions_boundary_arn()),
            Some(
                format!(
                    "arn:aws:iam::{account}:policy/pipectl/pipectl-{}-boundary",
                    s.name
                )
                .as_str()
            ),
            "{}",
            r.role_name()
        );
    }

    // Compute environments and the queues that map them, with the seed's priorities.
    let ces = aws
        .batch
        .describe_compute_environments()
        .compute_environments(format!("{}-training-spot", s.name))
        .compute_environments(format!("{}-inference-ondemand", s.name))
        .compute_environments(format!("{}-documentation", s.name))
        .send()
        .await
        .unwrap();
    let ce: HashMap<String, _> = ces
        .compute_environments()
        .iter()
        .map(|c| {
            (
                c.compute_environment_name()
                    .unwrap()
                    .trim_start_matches(&format!("{}-", s.name))
                    .to_string(),
                c.clone(),
            )
        })
        .collect();
    assert_eq!(ce.len(), 3);
    let cr = |k: &str| ce[k].compute_resources().unwrap().clone();
    assert_eq!(cr("training-spot").r#type().unwrap().as_str(), "SPOT");
    assert_eq!(cr("training-spot").instance_types(), ["g4dn.xlarge"]);
    assert_eq!(
        cr("training-spot").allocation_strategy().unwrap().as_str(),
        "SPOT_PRICE_CAPACITY_OPTIMIZED"
    );
    assert_eq!(cr("inference-ondemand").r#type().unwrap().as_str(), "EC2");
    assert_eq!(cr("inference-ondemand").instance_types(), ["g3s.xlarge"]);
    assert_eq!(cr("documentation").instance_types(), ["t3.medium"]);
    for c in ce.values() {
        assert_eq!(c.status().unwrap().as_str(), "VALID");
        assert_eq!(c.r#type().unwrap().as_str(), "MANAGED");
        assert_eq!(c.tags().unwrap()["pipectl:stack"], s.name);
        let lt = c.compute_resources().unwrap().launch_template().unwrap();
        assert!(
            lt.version().unwrap().parse::<u32>().is_ok(),
            "launch template version pinned, not $Latest: {:?}",
            lt.version()
        );
    }
    let qs = aws
        .batch
        .describe_job_queues()
        .job_queues(format!("{}-training", s.name))
        .job_queues(format!("{}-inference", s.name))
        .job_queues(format!("{}-documentation", s.name))
        .send()
        .await
        .unwrap();
    let q: HashMap<String, _> = qs
        .job_queues()
        .iter()
        .map(|q| {
            (
                q.job_queue_name()
                    .unwrap()
                    .trim_start_matches(&format!("{}-", s.name))
                    .to_string(),
                q.clone(),
            )
        })
        .collect();
    for (queue, priority, env) in [
        ("training", 1, "training-spot"),
        ("inference", 2, "inference-ondemand"),
        ("documentation", 3, "documentation"),
    ] {
        assert_eq!(q[queue].priority(), Some(priority), "{queue}");
        assert_eq!(q[queue].state().unwrap().as_str(), "ENABLED");
        let order = q[queue].compute_environment_order();
        assert_eq!(order.len(), 1);
        assert_eq!(
            order[0].compute_environment(),
            ce[env].compute_environment_arn(),
            "{queue} maps {env}"
        );
    }

    // FSx for Lustre, 1200 GiB, AVAILABLE, with its data repository associations.
    let fs: Vec<_> = aws
        .fsx
        .describe_file_systems()
        .send()
        .await
        .unwrap()
        .file_systems()
        .iter()
        .filter(|f| f.tags().iter().any(|t| t.value() == Some(s.name.as_str())))
        .cloned()
        .collect();
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].storage_capacity(), Some(1200));
    assert_eq!(fs[0].lifecycle().unwrap().as_str(), "AVAILABLE");
    assert_eq!(
        fs[0]
            .lustre_configuration()
            .unwrap()
            .deployment_type()
            .unwrap()
            .as_str(),
        "SCRATCH_2"
    );

    // Four buckets: public access blocked, encrypted, TLS only, owner enforced.
    let account = aws.account_id().await.unwrap();
    for key in ["input-data", "model-weights", "results", "documentation"] {
        let b = format!("pipectl-{}-{key}-{account}", s.name);
        let pab = aws
            .s3
            .get_public_access_block()
            .bucket(&b)
            .send()
            .await
            .unwrap();
        let c = pab.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true)),
            "{b}"
        );
        let enc = aws
            .s3
            .get_bucket_encryption()
            .bucket(&b)
            .send()
            .await
            .unwrap();
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default()
                .unwrap()
                .sse_algorithm()
                .as_str(),
            "AES256"
        );
        let policy = aws.s3.get_bucket_policy().bucket(&b).send().await.unwrap();
        assert!(policy.policy().unwrap().contains("aws:SecureTransport"));
        let tags = aws.s3.get_bucket_tagging().bucket(&b).send().await.unwrap();
        assert!(
            tags.tag_set()
                .iter()
                .any(|t| t.key() == "pipectl:stack" && t.value() == s.name)
        );
    }

    // Launch templates: IMDSv2 required, encrypted root volume; no EFA on these types.
    let lts = aws
        .ec2
        .describe_launch_templates()
        .filters(filter(&s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(lts.launch_templates().len(), 3);
    for lt in lts.launch_templates() {
        let v = aws
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(lt.launch_template_id().unwrap())
            .versions("$Latest")
            .send()
            .await
            .unwrap();
        let data = v.launch_template_versions()[0]
            .launch_template_data()
            .unwrap();
        assert_eq!(
            data.metadata_options()
                .unwrap()
                .http_tokens()
                .unwrap()
                .as_str(),
            "required"
        );
        assert_eq!(
            data.block_device_mappings()[0].ebs().unwrap().encrypted(),
            Some(true)
        );
        assert!(
            data.network_interfaces().is_empty(),
            "g4dn.xlarge, g3s.xlarge and t3.medium have no EFA"
        );
    }
    // The security group: all traffic from itself, nothing from the internet.
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(filter(&s.name))
        .send()
        .await
        .unwrap();
    let sg = &sgs.security_groups()[0];
    let gid = sg.group_id().unwrap();
    assert!(sg.ip_permissions().iter().any(|p| {
        p.ip_protocol() == Some("-1")
            && p.user_id_group_pairs()
                .iter()
                .any(|u| u.group_id() == Some(gid))
    }));
    assert!(!sg.ip_permissions().iter().any(|p| {
        p.ip_ranges()
            .iter()
            .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
    }));
    // and all out to itself: EFA's traffic matches no CIDR rule
    assert!(
        sg.ip_permissions_egress().iter().any(|p| {
            p.ip_protocol() == Some("-1")
                && p.user_id_group_pairs()
                    .iter()
                    .any(|u| u.group_id() == Some(gid))
        }),
        "{sg:?}"
    );
    // The private subnets route out through the NAT gateway; no public IPs.
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(filter(&s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(
        subnets.subnets().len(),
        3,
        "two private, one public for the NAT gateway"
    );
    assert!(
        subnets
            .subnets()
            .iter()
            .all(|s| s.map_public_ip_on_launch() != Some(true))
    );

    // Everything carries the stack's tag: 37 resources in the plan, 37 tagged in AWS.
    let inventory = tagged(&aws, &s.name).await;
    assert_eq!(inventory.len(), 37, "{inventory:#?}");

    // A second `up`, in process so its calls can be counted: no mutating call at all.
    let spec = pipectl_spec::load_file(&s.spec).unwrap().spec;
    let aws2 = stack::aws().await;
    let mut session = Session::open(
        aws2,
        spec,
        &s.dir.path().join(".pipectl/state"),
        Timeouts::default(),
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    let plan = pipectl_provision::plan(&session.ctx).await.unwrap();
    assert!(
        plan.is_noop(),
        "{:?}",
        plan.changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
            .collect::<Vec<_>>()
    );
    pipectl_provision::apply(
        session.ctx.clone(),
        &plan,
        &session.store,
        &mut session.state,
        8,
    )
    .await
    .unwrap();
    let calls = session.ctx.aws.calls.clone();
    assert!(
        calls.total() > 10,
        "the second up read the stack: {:?}",
        calls.operations()
    );
    assert!(
        calls.mutating().is_empty(),
        "a second up made changing calls: {:?}",
        calls.mutating()
    );
    drop(session);
    let again = ok(&s.run(&["up", "--yes"]));
    assert!(
        again.contains("up to date") && again.contains("no create or update call"),
        "{again}"
    );

    // status: every resource exists, none differs.
    let status = s.status();
    assert_eq!(status["resources"].as_array().unwrap().len(), 37);
    assert!(stack::unconverged(&status).is_empty(), "{status:#}");

    // down: nothing tagged with the stack remains; the state file goes; a second down is a no-op.
    let down = ok(&s.run(&["down", "--yes"]));
    assert!(down.contains("is down"), "{down}");
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
    assert!(!s.state_file().exists());
    let second = ok(&s.run(&["down", "--yes"]));
    assert!(second.contains("nothing to do"), "{second}");
}

#[tokio::test(flavor = "multi_thread")]
async fn efa_spec_adds_the_efa_interface_and_the_cluster_placement_group() {
    let s = stack("two-hour-pipeline-efa.toml", "efa");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    let pgs = aws
        .ec2
        .describe_placement_groups()
        .filters(filter(&s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(pgs.placement_groups().len(), 1);
    let pg = &pgs.placement_groups()[0];
    assert_eq!(pg.strategy().unwrap().as_str(), "cluster");
    let ce = aws
        .batch
        .describe_compute_environments()
        .compute_environments(format!("{}-training-efa", s.name))
        .send()
        .await
        .unwrap();
    let ce = &ce.compute_environments()[0];
    assert_eq!(
        ce.compute_resources().unwrap().placement_group(),
        pg.group_name()
    );
    let lt_id = ce
        .compute_resources()
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap();
    let v = aws
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(lt_id)
        .versions("$Latest")
        .send()
        .await
        .unwrap();
    let nic = &v.launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .network_interfaces()[0];
    assert_eq!(nic.interface_type(), Some("efa"));
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(filter(&s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(nic.groups(), [sgs.security_groups()[0].group_id().unwrap()]);
    // The group is on the EFA interface only: Batch refuses a compute environment that also
    // sets securityGroupIds.
    let cr = ce.compute_resources().unwrap();
    assert!(cr.security_group_ids().is_empty(), "{cr:?}");
    let jd = aws
        .batch
        .describe_job_definitions()
        .job_definition_name(format!("{}-training", s.name))
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    let jd = &jd.job_definitions()[0];
    assert_eq!(jd.r#type(), Some("multinode"));
    let node = &jd.node_properties().unwrap().node_range_properties()[0];
    let devices = node
        .container()
        .unwrap()
        .linux_parameters()
        .unwrap()
        .devices();
    assert_eq!(devices[0].host_path(), Some("/dev/infiniband/uverbs0"));
    // memlock unlimited: EFA registers memory, and a container cannot raise its own limit
    let memlock = node.container().unwrap().ulimits();
    assert!(
        memlock.iter().any(|u| u.name() == Some("memlock")
            && u.soft_limit() == Some(-1)
            && u.hard_limit() == Some(-1)),
        "{memlock:?}"
    );
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
