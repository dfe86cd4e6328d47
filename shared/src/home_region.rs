//! Multi-region (docs/multi-region.md): a table replicated as a DynamoDB
//! global table has one **home region**. Every region runs its own API and
//! functions, but their DynamoDB calls go to the home region's replica, so
//! every condition expression and transaction behind the rules (one account
//! per e-mail, single-use secrets, refresh-token reuse detection, the
//! lock-out budget, the address cap) is decided by one replica, exactly as
//! in a single region. The other replicas are warm copies for failover:
//! moving the home region is the operator's failover step.
//!
//! `DYNAMODB_HOME_REGION` (set by template.yaml's `HomeRegion` in the stacks
//! of the other regions) names it; unset, the table is in the function's own
//! region.

pub const ENV: &str = "DYNAMODB_HOME_REGION";

/// The home region from the environment, when one is set (non-empty).
pub fn from_env() -> Option<String> {
    std::env::var(ENV).ok().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty())
}

/// Sends the DynamoDB client's calls to `home`'s endpoint (and signs them for it).
pub fn route(builder: aws_sdk_dynamodb::config::Builder, home: Option<&str>) -> aws_sdk_dynamodb::config::Builder {
    match home {
        Some(region) => builder.region(aws_sdk_dynamodb::config::Region::new(region.to_owned())),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_region(home: Option<&str>) -> String {
        let base = aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("ap-southeast-1"));
        route(base, home).build().region().map(|r| r.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_home_region_takes_the_table_calls_there() {
        assert_eq!(client_region(Some("eu-west-1")), "eu-west-1");
        assert_eq!(client_region(None), "ap-southeast-1");
    }
}
