"""template.yaml single-region, as the home of a multi-region deployment with
two replica regions, and as a replica region's stack (docs/multi-region.md):
which table exists, where it is replicated, where the signing-key secret is
replicated, what the per-region outputs say, and where the functions send
their table calls. Then cfn-lint on the template with the two replica
regions as its defaults. Run by `make test` with the project venv's python;
evaluates the intrinsics the parameters feed (Ref, Sub, If, Equals, Not, And,
Or, Condition, Join, Select, Split, GetAtt)."""

import os
import re
import subprocess
import sys
import tempfile

from cfnlint.decode import cfn_yaml

template = cfn_yaml.load("template.yaml")
NO_VALUE = object()
PSEUDO = {"AWS::Region": "eu-central-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:SigningKeys-AbCdEf"


def evaluate(value, params, conditions):
    if isinstance(value, list):
        items = [evaluate(v, params, conditions) for v in value]
        return [v for v in items if v is not NO_VALUE]
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            return params.get(arg, f"<{arg}>")
        if key == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return f"<{name}.{attr}>"
        if key == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], {k: evaluate(v, params, conditions) for k, v in arg[1].items()})
            scope = {**params, **names}
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(scope.get(m.group(1), f"<{m.group(1)}>")), text)
        if key == "Fn::If":
            name, yes, no = arg
            return evaluate(yes if conditions[name] else no, params, conditions)
        if key == "Fn::Equals":
            left, right = (evaluate(v, params, conditions) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not evaluate(arg[0], params, conditions)
        if key == "Fn::And":
            return all(evaluate(v, params, conditions) for v in arg)
        if key == "Fn::Or":
            return any(evaluate(v, params, conditions) for v in arg)
        if key == "Condition":
            return conditions[arg]
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(v) for v in evaluate(items, params, conditions))
        if key == "Fn::Split":
            sep, text = arg
            return str(evaluate(text, params, conditions)).split(sep)
        if key == "Fn::Select":
            index, items = arg
            return evaluate(items, params, conditions)[int(index)]
    if isinstance(value, dict):
        return {k: evaluate(v, params, conditions) for k, v in value.items()}
    return value


def render(overrides):
    params = {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}
    for name, spec in template["Parameters"].items():
        if spec["Type"] == "CommaDelimitedList":
            params[name] = [p.strip() for p in str(params[name]).split(",")]
    params.update(overrides)
    params.update(PSEUDO)
    params["SigningKeys"] = SECRET_ARN
    params["GlobalTable"] = "accounts-Table-XYZ"
    params["Table"] = "accounts-Table-XYZ"
    conditions = {}
    pending = dict(template["Conditions"])
    while pending:  # conditions may name conditions defined later
        for name, expression in list(pending.items()):
            try:
                conditions[name] = evaluate(expression, params, conditions)
                del pending[name]
            except KeyError:
                pass
    resources = {name: r for name, r in template["Resources"].items() if conditions.get(r.get("Condition"), True)}
    outputs = {
        name: evaluate(o["Value"], params, conditions)
        for name, o in template["Outputs"].items()
        if conditions.get(o.get("Condition"), True)
    }
    env = evaluate(template["Globals"]["Function"]["Environment"]["Variables"], params, conditions)
    return params, conditions, resources, outputs, env


def check(what, condition):
    if not condition:
        sys.exit(f"template.yaml: {what}")
    print(f"ok   {what}")


def policy_resources(resources, params, conditions, sid):
    found = []
    for name, r in resources.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        for policy in r["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if statement.get("Sid") == sid:
                    found.append(evaluate(statement["Resource"], params, conditions))
    return found


# Single region: the table as before, nothing replicated.
params, conditions, resources, outputs, env = render({})
check("single region: a Table, no GlobalTable", "Table" in resources and "GlobalTable" not in resources)
check("single region: the secret is not replicated", resources["SigningKeys"]["Properties"].get("ReplicaRegions") is None
      or evaluate(resources["SigningKeys"]["Properties"]["ReplicaRegions"], params, conditions) is NO_VALUE)
check("single region: no per-region outputs", not any(name.startswith("Replica") for name in outputs))
check("single region: the functions use the table in their own region", env["DYNAMODB_HOME_REGION"] == "" and outputs["HomeRegion"] == "eu-central-1")
tables = policy_resources(resources, params, conditions, "TableAccess")
check("single region: every role names the table", tables and all(t == "<Table.Arn>" for t in tables))

# The home stack with two replica regions.
home = {"ReplicaRegions": ["eu-west-1", "ap-southeast-1"], "DomainName": "accounts.shop.test"}
params, conditions, resources, outputs, env = render(home)
check("home with replicas: a GlobalTable, no Table", "GlobalTable" in resources and "Table" not in resources)
table = evaluate(resources["GlobalTable"]["Properties"], params, conditions)
regions = [r["Region"] for r in table["Replicas"]]
check("home with replicas: replicas in the home region and the two others", regions == ["eu-central-1", "eu-west-1", "ap-southeast-1"])
check("home with replicas: every replica has point-in-time recovery and deletion protection",
      all(r["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True and r["DeletionProtectionEnabled"] is True for r in table["Replicas"]))
check("home with replicas: streams on (global tables replicate through them), TTL on ttl",
      table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and table["TimeToLiveSpecification"]["AttributeName"] == "ttl")
check("home with replicas: same key schema as the single-region table",
      table["KeySchema"] == template["Resources"]["Table"]["Properties"]["KeySchema"])
secret = evaluate(resources["SigningKeys"]["Properties"], params, conditions)
check("home with replicas: the signing-key secret is replicated to both", secret["ReplicaRegions"] == [{"Region": "eu-west-1"}, {"Region": "ap-southeast-1"}])
check("home with replicas: outputs per replica region",
      outputs["Replica1Region"] == "eu-west-1" and outputs["Replica2Region"] == "ap-southeast-1" and "Replica3Region" not in outputs)
check("home with replicas: each replica's table ARN",
      outputs["Replica1TableArn"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/accounts-Table-XYZ"
      and outputs["Replica2TableArn"] == "arn:aws:dynamodb:ap-southeast-1:123456789012:table/accounts-Table-XYZ")
check("home with replicas: each replica's secret ARN (same name, that region)",
      outputs["Replica1SigningKeysSecretArn"] == SECRET_ARN.replace("eu-central-1", "eu-west-1")
      and outputs["Replica2SigningKeysSecretArn"] == SECRET_ARN.replace("eu-central-1", "ap-southeast-1"))
check("home with replicas: the functions use the global table here", env["TABLE_NAME"] == "accounts-Table-XYZ" and env["DYNAMODB_HOME_REGION"] == "")
tables = policy_resources(resources, params, conditions, "TableAccess")
check("home with replicas: every role names the global table", tables and all(t == "<GlobalTable.Arn>" for t in tables))

# A replica region's stack, from the home stack's outputs.
replica = {"HomeRegion": "eu-central-1", "GlobalTableName": "accounts-Table-XYZ",
           "ReplicaSigningKeysSecretArn": SECRET_ARN.replace("eu-central-1", "eu-west-1"), "DomainName": "accounts.shop.test"}
params, conditions, resources, outputs, env = render({**replica})
params["AWS::Region"] = "eu-west-1"
check("replica region: no table and no secret of its own", not {"Table", "GlobalTable", "SigningKeys"} & set(resources))
check("replica region: its functions send table calls to the home region", env["DYNAMODB_HOME_REGION"] == "eu-central-1" and env["TABLE_NAME"] == "accounts-Table-XYZ")
check("replica region: they read the secret's replica in their region", env["SIGNING_KEYS_SECRET_ARN"] == replica["ReplicaSigningKeysSecretArn"])
tables = policy_resources(resources, params, conditions, "TableAccess")
check("replica region: every role names the table in the home region",
      tables and all(t == "arn:aws:dynamodb:eu-central-1:123456789012:table/accounts-Table-XYZ" for t in tables))
check("replica region: outputs name the home region", outputs["HomeRegion"] == "eu-central-1" and not any(n.startswith("Replica") for n in outputs))
check("replica region: the same issuer as the home stack", env["ISSUER_BASE_URL"] == "https://accounts.shop.test")

# cfn-lint with the two replica regions as the defaults (it lints against defaults).
text = open("template.yaml").read()
with_replicas = re.sub(r"(  ReplicaRegions:\n    Type: CommaDelimitedList\n    Default: )\"\"", r'\1"eu-west-1,ap-southeast-1"', text)
with_replicas = re.sub(r"(  DomainName:\n    Type: String\n    Default: )\"\"", r'\1"accounts.shop.test"', with_replicas)
check("the variant with replicas differs", with_replicas != text and '"eu-west-1,ap-southeast-1"' in with_replicas)
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    f.write(with_replicas)
lint = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--include-checks", "I", "--", f.name],
                      capture_output=True, text=True)
os.unlink(f.name)
check(f"cfn-lint clean with two replica regions{': ' + lint.stdout if lint.returncode else ''}", lint.returncode == 0)
