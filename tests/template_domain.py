"""template.yaml with and without a custom domain: which resources exist and
what the functions are told their issuer is, for each set of parameters.
Run by `make test` with the project venv's python (cfn-lint's YAML loader
reads the CloudFormation tags); evaluates the few intrinsics the parameters
feed (Ref, Sub, If, Equals, Not, And, Condition)."""

import re
import sys

from cfnlint.decode import cfn_yaml

template = cfn_yaml.load("template.yaml")


def evaluate(value, params, conditions):
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return params.get(arg, f"<{arg}>")
        if key == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(params.get(m.group(1), f"<{m.group(1)}>")), arg)
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
        if key == "Condition":
            return conditions[arg]
    return value


def render(overrides):
    params = {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}
    params.update(overrides)
    conditions = {}
    for name, expression in template["Conditions"].items():
        conditions[name] = evaluate(expression, params, conditions)
    resources = {name for name, r in template["Resources"].items() if conditions.get(r.get("Condition"), True)}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    issuer = evaluate(variables["ISSUER_BASE_URL"], params, conditions)
    api = template["Resources"]["HttpApi"]["Properties"]
    execute_api_off = evaluate(api["DisableExecuteApiEndpoint"], params, conditions)
    output = evaluate(template["Outputs"]["IssuerBaseUrl"]["Value"], {**params, "HttpApi": "abc123", "AWS::Region": "eu-central-1", "AWS::URLSuffix": "amazonaws.com"}, conditions)
    return resources, issuer, execute_api_off, output


def check(what, condition):
    if not condition:
        sys.exit(f"template.yaml: {what}")
    print(f"ok   {what}")


domain_parts = {"ApiDomain", "ApiMapping", "ApiRecord"}
resources, issuer, off, output = render({})
check("without a domain: no domain resources", not (resources & domain_parts))
check("without a domain: the functions learn the API's own URL", issuer == "")
check("without a domain: the output names the execute-api URL", output == "https://abc123.execute-api.eu-central-1.amazonaws.com")
check("without a domain: the execute-api endpoint stays on", off is False)

cert = "arn:aws:acm:eu-central-1:123456789012:certificate/abc"
resources, issuer, off, output = render({"DomainName": "accounts.shop.test", "CertificateArn": cert})
check("with a domain: domain name and mapping, no record without a zone", {"ApiDomain", "ApiMapping"} <= resources and "ApiRecord" not in resources)
check("with a domain: it is the issuer", issuer == "https://accounts.shop.test" and output == issuer)
domain = template["Resources"]["ApiDomain"]["Properties"]
check("with a domain: its certificate", domain["DomainNameConfigurations"][0]["CertificateArn"] == {"Ref": "CertificateArn"})

resources, issuer, off, _ = render({"DomainName": "accounts.shop.test", "CertificateArn": cert, "HostedZoneId": "Z123", "DisableExecuteApiEndpoint": "true"})
check("with a domain and a zone: the alias record", domain_parts <= resources)
record = template["Resources"]["ApiRecord"]["Properties"]
check("the record aliases the domain's regional name", record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]})
check("the execute-api endpoint can be turned off", off is True)

resources, issuer, _, output = render({"IssuerBaseUrl": "https://cdn.shop.test"})
check("an explicit issuer base (no domain) is used as given", issuer == "https://cdn.shop.test" and output == issuer)

pages = {"AccountPagesBucket", "AccountPagesBucketPolicy", "AccountPagesOriginAccess", "AccountPagesIndex", "AccountPagesHeaders", "AccountPagesDistribution"}
resources, *_ = render({})
check("without account pages: none of their resources", not (resources & pages))
resources, *_ = render({"AccountPages": "true"})
check("with account pages: bucket, distribution, headers", pages <= resources)
csp = template["Resources"]["AccountPagesHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
served = re.search(r'CONTENT_SECURITY_POLICY: &str = "(.*?)";', open("cli/src/pages.rs").read().replace("\\\n     ", "")).group(1)
check("the pages' CSP in AWS is the local server's", csp == served)
