//! Storage's nodes: the FSx for Lustre file system, the buckets, and the data repository
//! associations between them.

use super::build::{Builder, node};
use super::{Kind, Payload, ResourceId as Id};

/// The file system (first in plan order: it is the slowest to become available).
pub(super) fn file_system(b: &mut Builder, subnets: &[Id]) {
    let Some(f) = &b.spec.fsx else { return };
    let mut deps = vec![Id::SecurityGroup];
    deps.extend(subnets.first().cloned());
    let perf = crate::fsx::performance(f);
    let zone = b
        .spec
        .network
        .availability_zones
        .first()
        .cloned()
        .unwrap_or_else(|| "first subnet's".into());
    b.add(
        node(Id::FileSystem, Kind::FileSystem, b.prefixed("lustre"))
            .after(deps)
            .show(vec![
                ("deployment", f.deployment_type.as_aws().into()),
                ("Lustre", f.effective_lustre_version().as_aws().into()),
                ("capacity", f.capacity.to_string()),
                (
                    "throughput",
                    format!("{} MB/s/TiB ({:.0} MB/s)", perf.per_tib, perf.baseline_mb_s),
                ),
                ("zone", zone),
                ("mount", f.mount_path.clone()),
            ]),
    );
}

pub(super) fn buckets(b: &mut Builder) {
    let stack = &b.spec.stack.name;
    for (key, bucket) in &b.spec.buckets {
        b.add(
            node(
                Id::Bucket(key.clone()),
                Kind::Bucket,
                format!("pipectl-{stack}-{key}-<account-id>"),
            )
            .show(vec![
                ("expected size", bucket.size.to_string()),
                ("public access", "blocked".into()),
                ("encryption", "SSE-S3 (AES256), TLS-only policy".into()),
                (
                    "versioning",
                    if bucket.versioning { "on" } else { "off" }.into(),
                ),
            ])
            .payload(Payload::Bucket { key: key.clone() }),
        );
    }
}

/// The file system's links to its buckets, each after the one before it.
pub(super) fn data_repositories(b: &mut Builder) {
    let Some(f) = &b.spec.fsx else { return };
    for (i, repo) in f.data_repositories.iter().enumerate() {
        let bucket = Id::Bucket(repo.bucket.clone());
        let dirs = match (repo.import, repo.export) {
            (true, true) => "import + export",
            (true, false) => "import",
            (false, true) => "export",
            (false, false) => "link only",
        };
        b.add(
            node(
                Id::DataRepositoryAssociation(i),
                Kind::DataRepositoryAssociation,
                format!("{} ↔ {}", repo.file_system_path, repo.bucket),
            )
            .after([Id::FileSystem, bucket.clone()])
            // one at a time: FSx may refuse or time out concurrent association changes on one
            // file system (Terraform AWS provider issue 24678, ParallelCluster PR 6649)
            .after((i > 0).then(|| Id::DataRepositoryAssociation(i - 1)))
            .show(vec![("direction", dirs.into())])
            .payload(Payload::DataRepositoryAssociation { index: i, bucket }),
        );
    }
}
