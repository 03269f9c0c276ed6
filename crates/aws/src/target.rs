//! Which AWS a command talks to, said on its first line so that nobody changes the wrong
//! account: the endpoint (the local AWS by default), or on AWS the account, region and profile.

use std::fmt;
use std::path::PathBuf;

use crate::clients::Aws;
use crate::error::AwsError;

/// Where the calls of a command go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An endpoint override: the local AWS (LocalStack) unless the user named another.
    Endpoint {
        /// The endpoint URL every call goes to.
        url: String,
        /// The region the calls name.
        region: String,
        /// Whether the endpoint is on this machine.
        local: bool,
    },
    /// AWS itself.
    Aws {
        /// The account the credentials belong to (STS GetCallerIdentity).
        account: String,
        /// The region the calls go to.
        region: String,
        /// The named profile (`--profile` or `AWS_PROFILE`), if any.
        profile: Option<String>,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Endpoint {
                url,
                region,
                local: true,
            } => write!(
                f,
                "target: local AWS at {url}, region {region} (--aws for AWS)"
            ),
            Target::Endpoint { url, region, .. } => {
                write!(f, "target: endpoint {url}, region {region}")
            }
            Target::Aws {
                account,
                region,
                profile,
            } => write!(
                f,
                "target: AWS account {account}, region {region}, {}",
                match profile {
                    Some(p) => format!("profile {p}"),
                    None => "default credentials".to_string(),
                }
            ),
        }
    }
}

impl Aws {
    /// Where this connection's calls go; on AWS this asks STS for the account (one call, which
    /// also proves the credentials before anything else is done).
    pub async fn target(&self, profile: Option<&str>) -> Result<Target, AwsError> {
        match &self.endpoint {
            Some(url) => Ok(Target::Endpoint {
                url: url.clone(),
                region: self.region.clone(),
                local: self.is_local(),
            }),
            None => Ok(Target::Aws {
                account: self.account_id().await?,
                region: self.region.clone(),
                profile: profile
                    .map(str::to_string)
                    .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty())),
            }),
        }
    }
}

/// Whether AWS credentials look configured on this machine (the environment, or the shared
/// config and credentials files, when not empty), judged without a call: a hint may then name `--aws`.
pub fn credentials_configured() -> bool {
    const VARS: &[&str] = &[
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ];
    if VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
    {
        return true;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    [
        file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        file("AWS_CONFIG_FILE", "config"),
    ]
    .into_iter()
    .flatten()
    .any(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_line_names_endpoint_or_account_region_and_profile() {
        let local = Target::Endpoint {
            url: "http://127.0.0.1:4566".into(),
            region: "us-east-1".into(),
            local: true,
        };
        assert_eq!(
            local.to_string(),
            "target: local AWS at http://127.0.0.1:4566, region us-east-1 (--aws for AWS)"
        );
        let other = Target::Endpoint {
            url: "https://vpce.example".into(),
            region: "eu-west-1".into(),
            local: false,
        };
        assert_eq!(
            other.to_string(),
            "target: endpoint https://vpce.example, region eu-west-1"
        );
        let aws = Target::Aws {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            profile: Some("prod".into()),
        };
        assert_eq!(
            aws.to_string(),
            "target: AWS account 123456789012, region eu-west-1, profile prod"
        );
    }
}
