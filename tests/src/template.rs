//! template.yaml as the tests read it. The file uses CloudFormation tags
//! (`!Ref`, `!Sub`), so it is read line by line, for the few shapes it has.

use std::collections::{BTreeMap, BTreeSet};

pub fn text() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
        .expect("template.yaml is readable")
}

/// One IAM policy statement of a function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    pub actions: BTreeSet<String>,
    /// Each resource line as written (e.g. `!GetAtt Table.Arn`).
    pub resources: Vec<String>,
    /// The statement's `Condition` block, lines trimmed.
    pub condition: Vec<String>,
}

/// The policy statements of every `AWS::Serverless::Function`, by logical id.
pub fn function_policies() -> BTreeMap<String, Vec<Statement>> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Action,
        Resource,
        Condition,
    }
    let mut policies: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    let mut function: Option<String> = None;
    let mut field = Field::None;
    for line in text().lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent == 2 && trimmed.ends_with(':') {
            let name = trimmed.trim_end_matches(':');
            function = name.ends_with("Function").then(|| name.to_owned());
            field = Field::None;
            continue;
        }
        let Some(name) = &function else { continue };
        if let Some(sid) = trimmed.strip_prefix("- Sid: ") {
            policies.entry(name.clone()).or_default().push(Statement { sid: sid.to_owned(), ..Default::default() });
            field = Field::None;
            continue;
        }
        let Some(statement) = policies.get_mut(name).and_then(|s| s.last_mut()) else { continue };
        if indent <= 8 {
            // Left the policy (Events:, Metadata:, the next property).
            field = Field::None;
            if !trimmed.starts_with("- ") {
                continue;
            }
        }
        match trimmed.split_once(':').map(|(k, v)| (k, v.trim())) {
            Some(("Action", "")) => field = Field::Action,
            Some(("Action", value)) => {
                statement.actions.insert(value.to_owned());
                field = Field::None;
            }
            Some(("Resource", "")) => field = Field::Resource,
            Some(("Resource", value)) => {
                statement.resources.push(value.to_owned());
                field = Field::None;
            }
            Some(("Condition", _)) => field = Field::Condition,
            Some(("Effect", _)) => field = Field::None,
            _ => match field {
                Field::Action => {
                    statement.actions.insert(trimmed.trim_start_matches("- ").to_owned());
                }
                Field::Resource => statement.resources.push(trimmed.trim_start_matches("- ").to_owned()),
                Field::Condition => statement.condition.push(trimmed.to_owned()),
                Field::None => {}
            },
        }
    }
    policies
}
