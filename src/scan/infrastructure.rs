//! Infrastructure code that opens an Atlas project's IP access list to every address: the
//! network-level twin of `tlsAllowInvalidCertificates` (rule `access-list-open-to-world`).
//!
//! Terraform (`mongodbatlas_project_ip_access_list`, `mongodbatlas_access_list_api_key`), the
//! Atlas CLI (`atlas accessLists create 0.0.0.0/0`), Admin API request bodies (v2, v1.0 and the
//! old `/whitelist` paths), the Atlas Kubernetes Operator (`projectIpAccessList`,
//! `AtlasIPAccessList`), CloudFormation (`MongoDB::Atlas::ProjectIpAccessList`) and Pulumi
//! (`ProjectIpAccessList` in every language). A `0.0.0.0/0` anywhere else (AWS security groups
//! and routes, `net.bindIp`) is not Atlas's access list and stays silent.

use std::sync::LazyLock;

use regex::Regex;

use super::family::{FileCtx, Hit};
use super::lang::Lang;
use crate::catalog::rules::Rule;

/// The addresses that mean "every address".
pub const OPEN: &[&str] = &["0.0.0.0/0", "::/0"];
/// How far back the enclosing resource or command is looked for.
const WINDOW: usize = 3000;

/// Where one resource, document or constructor call begins: the access-list markers must sit
/// between the last such start and the address.
static BOUNDARY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?m)\bresource\s+"|\bdata\s+"|\bmodule\s+"|\bvariable\s+"|\boutput\s+"|^\s*---\s*$|\bkind"?\s*:|"?\b[Tt]ype"?\s*:|\bnew\s+[\w.]*[A-Z]\w*\s*[({<]|\b[A-Za-z_][\w]*(?:\.[\w]+)*\.(?:New)?[A-Z]\w*\s*[({]"#,
    )
    .ok()
});

/// An Atlas CLI command that adds an access-list entry (current and legacy spellings).
static CLI: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:atlas|mongocli(?:\s+atlas)?)\s+(?:projects?\s+)?(?:networking\s+)?(?:access-?lists?|whitelists?)\s+create\b",
    )
    .ok()
});

/// Which tool a resource belongs to, from the markers in its text (lower case).
fn tool_of(window: &str) -> Option<Tool> {
    let w = window.to_ascii_lowercase();
    if w.contains("mongodbatlas_project_ip_access_list")
        || w.contains("mongodbatlas_access_list_api_key")
        || w.contains("mongodbatlas_project_ip_whitelist")
    {
        return Some(Tool::Terraform);
    }
    if w.contains("mongodb::atlas::projectipaccesslist") || w.contains("mongodb::atlas::accesslistapikey") {
        return Some(Tool::CloudFormation);
    }
    if w.contains("networkpermissionentry") {
        return Some(Tool::GoSdk);
    }
    if w.contains("ipaccesslistprops") || w.contains("cfnprojectipaccesslist") {
        return Some(Tool::Cdk);
    }
    if w.contains("atlasipaccesslist") || (w.contains("projectipaccesslist") && w.contains("kind")) {
        return Some(Tool::Operator);
    }
    if w.contains("projectipaccesslist") || w.contains("project_ip_access_list") || w.contains("accesslistapikey") {
        return Some(Tool::Pulumi);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Terraform,
    Cli,
    Api,
    Operator,
    CloudFormation,
    Pulumi,
    GoSdk,
    Cdk,
}

impl Tool {
    fn message(self, cidr: &str) -> String {
        let (what, instead) = match self {
            Tool::Terraform => ("a Terraform Atlas access-list resource", ALTERNATIVES[0].1),
            Tool::Cli => ("an Atlas CLI command", ALTERNATIVES[1].1),
            Tool::Api => ("an Atlas Admin API request body", ALTERNATIVES[2].1),
            Tool::Operator => ("an Atlas Kubernetes Operator resource", ALTERNATIVES[3].1),
            Tool::CloudFormation => ("a CloudFormation Atlas access-list resource", ALTERNATIVES[4].1),
            Tool::Pulumi => ("a Pulumi Atlas access-list resource", ALTERNATIVES[5].1),
            Tool::GoSdk => ("an atlas-sdk-go `NetworkPermissionEntry`", ALTERNATIVES[6].1),
            Tool::Cdk => ("an AWS CDK Atlas access list (`ipAccessListProps`)", ALTERNATIVES[7].1),
        };
        format!("`{cidr}` in {what} opens the Atlas project to every address; instead: {instead}")
    }
}

/// The safe alternative per tool, for `explain` and each finding's message.
pub const ALTERNATIVES: &[(&str, &str)] = &[
    (
        "Terraform",
        "list the exact egress ranges (`cidr_block = \"203.0.113.0/24\"`), or give CI temporary access at run time (`mongo-preflight check --atlas-temporary-access 30m`) instead of a permanent entry",
    ),
    (
        "Atlas CLI",
        "add only the runner's own address with an expiry (`atlas accessLists create --currentIp --deleteAfter <RFC 3339 time>`), or `mongo-preflight check --atlas-temporary-access 30m`, which also waits for ACTIVE and deletes the entry",
    ),
    (
        "Admin API",
        "POST the runner's own `ipAddress` with a `deleteAfterDate`, wait for its status to be ACTIVE, and DELETE it afterwards (`mongo-preflight check --atlas-temporary-access 30m` does all three)",
    ),
    (
        "Kubernetes Operator",
        "list the cluster's egress ranges or NAT addresses in `projectIpAccessList` (`cidrBlock: 203.0.113.0/24`), or use private endpoints",
    ),
    (
        "CloudFormation",
        "list the exact egress ranges in `AccessList` (`CIDRBlock: 203.0.113.0/24`), or use private endpoints",
    ),
    (
        "Pulumi",
        "list the exact egress ranges (`cidrBlock: \"203.0.113.0/24\"`), or give CI temporary access at run time (`mongo-preflight check --atlas-temporary-access 30m`)",
    ),
    (
        "atlas-sdk-go",
        "create an entry for the runner's own address with an expiry (`IpAddress: admin.PtrString(ip), DeleteAfterDate: &expiry`), or `mongo-preflight check --atlas-temporary-access 30m`",
    ),
    (
        "AWS CDK",
        "list the exact egress ranges in `ipAccessListProps.accessList` (`{ ipAddress: '203.0.113.0/24' }`), or use private endpoints",
    ),
];

fn is_address_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':' || c == b'/'
}

/// Offsets of every open address that stands alone (not `10.0.0.0/0…` or `0.0.0.0/01`).
fn open_addresses(text: &str) -> Vec<(usize, &'static str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for cidr in OPEN {
        let mut from = 0;
        while let Some(i) = text[from..].find(cidr) {
            let at = from + i;
            let end = at + cidr.len();
            let before_ok = at == 0 || !is_address_byte(b[at - 1]);
            let after_ok = end >= b.len() || !(b[end].is_ascii_alphanumeric() || b[end] == b'.' || b[end] == b'/');
            if before_ok && after_ok {
                out.push((at, *cidr));
            }
            from = end;
        }
    }
    out.sort_unstable();
    out
}

/// The key whose value starts at `at`: `cidr_block = "…"`, `cidrBlock: …`, `"cidrBlock": "…"`,
/// `.cidrBlock("…")`, `CidrBlock: pulumi.String("…")`.
fn key_before(text: &str, at: usize) -> String {
    let b = text.as_bytes();
    let mut p = at;
    let skip = |p: &mut usize, set: &[u8]| {
        while *p > 0 && set.contains(&b[*p - 1]) {
            *p -= 1;
        }
    };
    skip(&mut p, b"\"'` \t[(");
    // `.cidrBlock("…")`: the key is the method's name.
    let mut open_call = text[..at].trim_end_matches(['"', '\'', ' ']).ends_with('(');
    // A Pulumi Go or Java wrapper around the literal.
    for wrapper in ["pulumi.String", "pulumi.StringPtr", "Output.of", "pulumi.output", "admin.PtrString", "PtrString"] {
        if text[..p].ends_with(wrapper) {
            p -= wrapper.len();
            skip(&mut p, b" \t");
            open_call = false;
        }
    }
    if !open_call {
        skip(&mut p, b" \t");
        if p == 0 || !matches!(b[p - 1], b':' | b'=') {
            return String::new();
        }
        p -= 1;
        skip(&mut p, b" \t\"'");
    }
    let end = p;
    while p > 0 && (b[p - 1].is_ascii_alphanumeric() || b[p - 1] == b'_') {
        p -= 1;
    }
    text[p..end].to_ascii_lowercase()
}

/// The logical line holding `at`, up to `at` (shell continuation lines joined).
fn logical_line_before(text: &str, at: usize) -> &str {
    let mut start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    while start > 0 {
        let previous_end = start - 1;
        let line_before = &text[..previous_end];
        if line_before.trim_end_matches([' ', '\t', '\r']).ends_with('\\') {
            start = line_before.rfind('\n').map_or(0, |i| i + 1);
        } else {
            break;
        }
    }
    &text[start..at]
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The text of the resource around `at`: from the last resource start before it.
fn resource_before(text: &str, at: usize) -> &str {
    let from = floor_boundary(text, at.saturating_sub(WINDOW));
    let window = &text[from..at];
    let start = BOUNDARY
        .as_ref()
        .and_then(|re| {
            re.find_iter(window)
                .filter(|m| {
                    let m = m.as_str();
                    !m.starts_with("pulumi.") && !m.starts_with("Output.") && !m.contains("PtrString")
                })
                // A call counts only while its arguments are still open at the address
                // (`project.ID()` before it is not the resource).
                .filter(|m| !m.as_str().ends_with(['(', '{', '<']) || still_open(&window[m.end()..]))
                .last()
                .map(|m| m.start())
        })
        .unwrap_or(0);
    &window[start..]
}

/// Whether the bracket opened just before `rest` is still open at its end.
fn still_open(rest: &str) -> bool {
    let mut depth: i32 = 1;
    for c in rest.bytes() {
        match c {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            _ => {}
        }
        if depth <= 0 {
            return false;
        }
    }
    true
}

/// An Admin API access-list path near the body: `/groups/{id}/accessList` (v2 and v1.0) or
/// the old `/whitelist`.
fn near_api_path(text: &str, at: usize) -> bool {
    let from = floor_boundary(text, at.saturating_sub(WINDOW));
    let to = floor_boundary(text, (at + WINDOW).min(text.len()));
    let around = text[from..to].to_ascii_lowercase();
    around.contains("/accesslist") || around.contains("/whitelist")
}

/// Keys of an Admin API access-list entry (`NetworkPermissionEntry`): a JSON object with these
/// keys only is an entry, wherever the body is sent from (`atlas api … --file body.json`).
const ENTRY_KEYS: &[&str] = &["cidrBlock", "comment", "deleteAfterDate", "ipAddress", "awsSecurityGroup", "groupId"];

/// Whether the JSON object around `at` has only the keys of an access-list entry.
fn in_entry_object(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let Some(open) = super::bytes::enclosing_openers(b, at, 2000).find(|&o| b[o] == b'{') else { return false };
    let mut depth = 0usize;
    let mut close = None;
    for (i, c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = close else { return false };
    let object = &text[open + 1..close];
    if object.contains(['{', '[']) {
        return false;
    }
    let keys: Vec<&str> = object
        .split(',')
        .filter_map(|member| member.split_once(':').map(|(k, _)| k.trim().trim_matches('"')))
        .collect();
    keys.contains(&"cidrBlock") && keys.iter().all(|k| ENTRY_KEYS.contains(k))
}

pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    // The server's own TLS settings are infrastructure too, written in every format.
    super::server_tls::scan(ctx, out);
    let text = ctx.text;
    for (at, cidr) in open_addresses(text) {
        let key = key_before(text, at);
        let tool = if CLI.as_ref().is_some_and(|re| re.is_match(logical_line_before(text, at))) {
            Some(Tool::Cli)
        } else if matches!(key.as_str(), "cidr_block" | "cidrblock") {
            tool_of(resource_before(text, at))
                .or_else(|| near_api_path(text, at).then_some(Tool::Api))
                .or_else(|| (ctx.lang == Lang::Json && in_entry_object(text, at)).then_some(Tool::Api))
        } else if key == "setcidrblock" {
            let from = floor_boundary(text, at.saturating_sub(WINDOW));
            text[from..at].to_ascii_lowercase().contains("networkpermissionentry").then_some(Tool::GoSdk)
        } else if matches!(key.as_str(), "ipaddress" | "ip_address") {
            tool_of(resource_before(text, at)).filter(|t| *t == Tool::Cdk)
        } else {
            None
        };
        if let Some(tool) = tool {
            out.push(Hit { rule: Rule::AccessListOpenToWorld, offset: at, message: tool.message(cidr) });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;
    use crate::scan::scan_text;

    fn lines(path: &str, text: &str) -> Vec<u32> {
        scan_text(path, text).into_iter().filter(|h| h.rule == Rule::AccessListOpenToWorld).map(|h| h.line).collect()
    }

    #[test]
    fn terraform_both_resources_and_their_look_alikes() {
        let tf = r#"
resource "mongodbatlas_project_ip_access_list" "ci" {
  project_id = var.project_id
  cidr_block = "0.0.0.0/0"   # allow all
  comment    = "TEMP - DEBUG ONLY"
}
resource "aws_route_table" "public" {
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}
resource "aws_security_group" "mongo" {
  ingress { cidr_blocks = ["0.0.0.0/0"] }
}
resource "mongodbatlas_access_list_api_key" "key" {
  org_id     = var.org_id
  cidr_block = "::/0"
  api_key_id = mongodbatlas_api_key.ci.api_key_id
}
resource "mongodbatlas_project_ip_access_list" "office" {
  project_id = var.project_id
  cidr_block = "10.0.0.0/0"
}
"#;
        assert_eq!(lines("atlas.tf", tf), vec![4, 18]);
        assert!(lines("atlas.tf", "resource \"mongodbatlas_project_ip_access_list\" \"x\" {\n  # cidr_block = \"0.0.0.0/0\"\n  cidr_block = var.cidr\n}\n").is_empty());
    }

    #[test]
    fn the_cli_in_scripts_and_workflows() {
        assert_eq!(lines("ci.sh", "atlas accessLists create 0.0.0.0/0 --type cidrBlock --projectId \"$P\"\n"), vec![1]);
        assert_eq!(lines("open.sh", "mongocli atlas whitelist create \\\n  0.0.0.0/0 --type cidrBlock\n"), vec![2]);
        let workflow = "on:\n  schedule: [{cron: '0 0 * * 1'}]\njobs:\n  open:\n    steps:\n      - run: atlas accessList create 0.0.0.0/0 --comment weekly\n";
        assert_eq!(lines(".github/workflows/weekly.yml", workflow), vec![6]);
        assert!(
            lines("ci.sh", "atlas accessLists create --currentIp --deleteAfter \"$(date -d '+1 hour' -Iseconds)\"\n")
                .is_empty()
        );
        assert!(lines("ci.sh", "atlas accessLists create 203.0.113.7 --type ipAddress\n").is_empty());
        assert!(lines("ci.sh", "atlas accessLists delete 0.0.0.0/0 --force\n").is_empty());
    }

    #[test]
    fn admin_api_bodies_v2_v1_and_whitelist() {
        let v2 = "curl --digest -u \"$PUB:$PRIV\" -X POST \\\n  \"https://cloud.mongodb.com/api/atlas/v2/groups/$GROUP/accessList\" \\\n  -d '[{\"cidrBlock\": \"0.0.0.0/0\", \"comment\": \"anywhere\"}]'\n";
        assert_eq!(lines("open.sh", v2), vec![3]);
        let v1 = "requests.post(f\"{BASE}/api/atlas/v1.0/groups/{gid}/whitelist\", auth=digest, json=[{\"cidrBlock\": \"0.0.0.0/0\"}])\n";
        assert_eq!(lines("open.py", v1), vec![1]);
        assert!(lines("open.py", "requests.post(f\"{BASE}/api/atlas/v2/groups/{gid}/accessList\", json=[{\"cidrBlock\": \"203.0.113.0/24\"}])\n").is_empty());
        assert!(
            lines("route.json", "{\"Routes\": [{\"cidrBlock\": \"0.0.0.0/0\", \"target\": \"igw\"}]}\n").is_empty()
        );
    }

    #[test]
    fn the_operator_cloudformation_and_pulumi() {
        let ako = "apiVersion: atlas.mongodb.com/v1\nkind: AtlasProject\nmetadata:\n  name: p\nspec:\n  projectIpAccessList:\n    - cidrBlock: \"0.0.0.0/0\"\n      comment: everyone\n";
        assert_eq!(lines("project.yaml", ako), vec![7]);
        let entries =
            "apiVersion: atlas.mongodb.com/v1\nkind: AtlasIPAccessList\nspec:\n  entries:\n    - cidrBlock: ::/0\n";
        assert_eq!(lines("access.yaml", entries), vec![5]);
        let cfn = "Resources:\n  AccessList:\n    Type: MongoDB::Atlas::ProjectIpAccessList\n    Properties:\n      AccessList:\n        - CIDRBlock: 0.0.0.0/0\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n        - CidrIp: 0.0.0.0/0\n";
        assert_eq!(lines("stack.yaml", cfn), vec![6]);
        let ts = "const open = new mongodbatlas.ProjectIpAccessList(\"open\", {\n  projectId: project.id,\n  cidrBlock: \"0.0.0.0/0\",\n});\nconst acl = new aws.ec2.NetworkAclRule(\"r\", { cidrBlock: \"0.0.0.0/0\", ruleNumber: 100 });\n";
        assert_eq!(lines("index.ts", ts), vec![3]);
        let py = "mongodbatlas.ProjectIpAccessList(\"open\", project_id=project.id, cidr_block=\"0.0.0.0/0\")\n";
        assert_eq!(lines("__main__.py", py), vec![1]);
        let go = "_, err = mongodbatlas.NewProjectIpAccessList(ctx, \"open\", &mongodbatlas.ProjectIpAccessListArgs{\n\tProjectId: project.ID(),\n\tCidrBlock: pulumi.String(\"0.0.0.0/0\"),\n})\n";
        assert_eq!(lines("main.go", go), vec![3]);
        let java = "var open = new ProjectIpAccessList(\"open\", ProjectIpAccessListArgs.builder()\n    .projectId(project.id())\n    .cidrBlock(\"0.0.0.0/0\")\n    .build());\n";
        assert_eq!(lines("App.java", java), vec![3]);
        let cs = "var open = new Mongodbatlas.ProjectIpAccessList(\"open\", new Mongodbatlas.ProjectIpAccessListArgs\n{\n    ProjectId = project.Id,\n    CidrBlock = \"0.0.0.0/0\",\n});\n";
        assert_eq!(lines("Program.cs", cs), vec![4]);
        let yaml = "resources:\n  open:\n    type: mongodbatlas:ProjectIpAccessList\n    properties:\n      projectId: ${project.id}\n      cidrBlock: 0.0.0.0/0\n";
        assert_eq!(lines("Pulumi.yaml", yaml), vec![6]);
    }

    #[test]
    fn sdk_request_bodies_cdk_and_api_body_files() {
        let go = "entries := []admin.NetworkPermissionEntry{\n\t{\n\t\tCidrBlock: admin.PtrString(\"0.0.0.0/0\"),\n\t\tComment:   admin.PtrString(\"CI\"),\n\t},\n}\n_, _, err := client.ProjectIPAccessListApi.CreateProjectIpAccessList(ctx, groupID, &entries).Execute()\nfunc open(e *admin.NetworkPermissionEntry) { e.SetCidrBlock(\"::/0\") }\n";
        assert_eq!(lines("access.go", go), vec![3, 8]);
        let node = "const body = [\n  { cidrBlock: \"0.0.0.0/0\", comment: \"CI\" },\n];\nawait client.fetch(`${BASE}/api/atlas/v2/groups/${groupId}/accessList`, { method: \"POST\", body: JSON.stringify(body) });\n";
        assert_eq!(lines("open.js", node), vec![2]);
        let cdk = "new AtlasBasic(this, 'AtlasBasic', {\n  ipAccessListProps: {\n    accessList: [\n      { ipAddress: '0.0.0.0/0', comment: 'allow all' },\n    ],\n  },\n});\n";
        assert_eq!(lines("stack.ts", cdk), vec![4]);
        let body = "[\n  {\n    \"cidrBlock\": \"0.0.0.0/0\",\n    \"comment\": \"load test\"\n  }\n]\n";
        assert_eq!(lines("access-list.json", body), vec![3]);
        let route = "[\n  {\n    \"cidrBlock\": \"0.0.0.0/0\",\n    \"gatewayId\": \"igw-1\"\n  }\n]\n";
        assert!(lines("routes.json", route).is_empty());
        let sg = "new ec2.CfnSecurityGroupIngress(this, 'in', { ipProtocol: 'tcp', cidrIp: '0.0.0.0/0' });\nconst ipAddress = '0.0.0.0/0';\n";
        assert!(lines("net.ts", sg).is_empty());
    }

    #[test]
    fn bind_addresses_and_docs_stay_silent() {
        assert!(lines("mongod.conf", "net:\n  bindIp: 0.0.0.0\n  port: 27017\n").is_empty());
        assert!(
            lines(
                "README.md",
                "resource \"mongodbatlas_project_ip_access_list\" \"x\" {\n  cidr_block = \"0.0.0.0/0\"\n}\n"
            )
            .is_empty()
        );
        assert!(lines("sg.tf", "resource \"aws_security_group_rule\" \"mongo\" {\n  cidr_blocks = [\"0.0.0.0/0\"]\n  from_port = 27017\n}\n").is_empty());
    }
}
