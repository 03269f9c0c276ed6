//! Facts about EC2 instance types that validation needs before any AWS call: vCPUs, memory,
//! GPUs and EFA support.
//!
//! Source: EC2 `DescribeInstanceTypes` in us-east-1 (`VCpuInfo.DefaultVCpus`,
//! `MemoryInfo.SizeInMiB`, `GpuInfo`, `NetworkInfo.EfaSupported`) and the EC2 instance-type
//! pages for the accelerated-computing, general-purpose, compute- and memory-optimized
//! families; checked 2026-11. Covers the types pipectl's specs use and their families. A type
//! not listed here is not an error: validation says it cannot check it.

use serde::Serialize;

/// Published facts about one EC2 instance type (from `DescribeInstanceTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InstanceType {
    /// EC2 API name, e.g. `g4dn.xlarge`.
    pub name: &'static str,
    /// Default vCPUs (`VCpuInfo.DefaultVCpus`).
    pub vcpus: u32,
    /// Memory in MiB (`MemoryInfo.SizeInMiB`), of which ~1 GiB goes to the ECS agent and OS.
    pub memory_mib: u64,
    /// GPUs per instance; 0 for CPU-only types.
    pub gpus: u32,
    /// GPU model, e.g. "NVIDIA T4"; None for CPU-only types.
    pub gpu_model: Option<&'static str>,
    /// Whether it supports an Elastic Fabric Adapter (`NetworkInfo.EfaSupported`).
    pub efa: bool,
}

const fn it(
    name: &'static str,
    vcpus: u32,
    memory_gib: u64,
    gpus: u32,
    gpu_model: Option<&'static str>,
    efa: bool,
) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        memory_mib: memory_gib * 1024,
        gpus,
        gpu_model,
        efa,
    }
}

const T4: Option<&str> = Some("NVIDIA T4");
const M60: Option<&str> = Some("NVIDIA M60");
const A10G: Option<&str> = Some("NVIDIA A10G");
const V100: Option<&str> = Some("NVIDIA V100");
const A100: Option<&str> = Some("NVIDIA A100");

/// The table, sorted by family then size.
pub static INSTANCE_TYPES: &[InstanceType] = &[
    it("g4dn.xlarge", 4, 16, 1, T4, false),
    it("g4dn.2xlarge", 8, 32, 1, T4, false),
    it("g4dn.4xlarge", 16, 64, 1, T4, false),
    it("g4dn.8xlarge", 32, 128, 1, T4, true),
    it("g4dn.12xlarge", 48, 192, 4, T4, true),
    it("g4dn.16xlarge", 64, 256, 1, T4, true),
    it("g4dn.metal", 96, 384, 8, T4, true),
    // g3s.xlarge has 30.5 GiB
    InstanceType {
        name: "g3s.xlarge",
        vcpus: 4,
        memory_mib: 31_232,
        gpus: 1,
        gpu_model: M60,
        efa: false,
    },
    it("g3.4xlarge", 16, 122, 1, M60, false),
    it("g3.8xlarge", 32, 244, 2, M60, false),
    it("g3.16xlarge", 64, 488, 4, M60, false),
    it("g5.xlarge", 4, 16, 1, A10G, false),
    it("g5.2xlarge", 8, 32, 1, A10G, false),
    it("g5.4xlarge", 16, 64, 1, A10G, false),
    it("g5.8xlarge", 32, 128, 1, A10G, true),
    it("g5.12xlarge", 48, 192, 4, A10G, true),
    it("g5.16xlarge", 64, 256, 1, A10G, true),
    it("g5.24xlarge", 96, 384, 4, A10G, true),
    it("g5.48xlarge", 192, 768, 8, A10G, true),
    it("p3.2xlarge", 8, 61, 1, V100, false),
    it("p3dn.24xlarge", 96, 768, 8, V100, true),
    it("p4d.24xlarge", 96, 1152, 8, A100, true),
    // t3.nano and t3.micro have 0.5 and 1 GiB
    InstanceType {
        name: "t3.nano",
        vcpus: 2,
        memory_mib: 512,
        gpus: 0,
        gpu_model: None,
        efa: false,
    },
    it("t3.micro", 2, 1, 0, None, false),
    it("t3.small", 2, 2, 0, None, false),
    it("t3.medium", 2, 4, 0, None, false),
    it("t3.large", 2, 8, 0, None, false),
    it("t3.xlarge", 4, 16, 0, None, false),
    it("t3.2xlarge", 8, 32, 0, None, false),
    it("c6i.xlarge", 4, 8, 0, None, false),
    it("c6i.2xlarge", 8, 16, 0, None, false),
    it("c6i.32xlarge", 128, 256, 0, None, true),
    it("r6i.xlarge", 4, 32, 0, None, false),
    it("r6i.2xlarge", 8, 64, 0, None, false),
    it("c5n.18xlarge", 72, 192, 0, None, true),
];

/// The facts for `name`; None when the table does not know the type (validation then warns).
pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.name == name)
}

/// The family part of a type name: `g4dn` for `g4dn.xlarge`.
pub fn family(name: &str) -> &str {
    name.split_once('.').map_or(name, |(f, _)| f)
}

/// EFA-capable sizes of the same family, smallest first; empty when the family has none known.
pub fn efa_capable_in_family(name: &str) -> Vec<&'static str> {
    let fam = family(name);
    INSTANCE_TYPES
        .iter()
        .filter(|t| family(t.name) == fam && t.efa)
        .map(|t| t.name)
        .collect()
}

/// The known type closest in spelling to `name`, when one is close (for "did you mean").
pub fn suggest(name: &str) -> Option<&'static str> {
    INSTANCE_TYPES
        .iter()
        .map(|t| (edit_distance(name, t.name), t.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance, for suggestions among short names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// Every instance type name EC2 has: the values of the AWS SDK's `InstanceType` (a test in
/// pipectl-aws checks this list against the SDK, so it cannot fall behind it unseen).
static EC2_NAMES: &str = include_str!("ec2-instance-types.txt");

/// The names in [`EC2_NAMES`].
pub fn ec2_names() -> impl Iterator<Item = &'static str> {
    EC2_NAMES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Whether Batch accepts `name` in a compute environment's `instanceTypes`: an EC2 instance
/// type, a family of them (`c5`), or `optimal`.
pub fn batch_accepts(name: &str) -> bool {
    name == "optimal"
        || ec2_names().any(|n| n == name)
        || (!name.contains('.') && ec2_names().any(|n| family(n) == name))
}

/// Up to three EC2 names closest to `name`, closest first.
pub fn closest_ec2_names(name: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = ec2_names()
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, _)| *d <= 3)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// GPU families whose NVIDIA driver is not on Batch's `ECS_AL2023_NVIDIA` image
/// (Ec2Configuration: "ECS_AL2023_NVIDIA doesn't support p3 and g3 instance types").
pub fn needs_own_gpu_image(name: &str) -> bool {
    matches!(family(name), "g3" | "g3s" | "p3" | "p3dn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_types_have_their_published_facts() {
        let g4 = lookup("g4dn.xlarge").unwrap();
        assert_eq!(
            (g4.vcpus, g4.memory_mib, g4.gpus, g4.efa),
            (4, 16_384, 1, false)
        );
        let g3 = lookup("g3s.xlarge").unwrap();
        assert_eq!(
            (g3.vcpus, g3.memory_mib, g3.gpus, g3.efa),
            (4, 31_232, 1, false)
        );
        let t3 = lookup("t3.medium").unwrap();
        assert_eq!((t3.vcpus, t3.memory_mib, t3.gpus), (2, 4096, 0));
    }

    #[test]
    fn efa_sizes_of_g4dn_are_8xlarge_and_up() {
        assert_eq!(
            efa_capable_in_family("g4dn.xlarge"),
            vec![
                "g4dn.8xlarge",
                "g4dn.12xlarge",
                "g4dn.16xlarge",
                "g4dn.metal"
            ]
        );
        assert!(efa_capable_in_family("g3s.xlarge").is_empty());
    }

    #[test]
    fn table_has_no_duplicates() {
        let mut names: Vec<_> = INSTANCE_TYPES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), INSTANCE_TYPES.len());
    }

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("g4dn.xlarg"), Some("g4dn.xlarge"));
        assert_eq!(suggest("g4d.xlarge"), Some("g4dn.xlarge"));
        assert_eq!(suggest("m7a.metal-48xl"), None);
    }
}
