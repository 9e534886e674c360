//! Terraform and the workflows (issue #22): the module's static checks and mocked tests,
//! checkov, actionlint, a real apply against moto's EC2 emulator read back as a drover
//! inventory, Terraform outputs as an inventory (equal to the hand-written example), and
//! the exact drover commands of `.github/workflows/preview.yml` and `deploy.yml` against
//! the real SSH test hosts with a Terraform-output inventory.
//!
//! The tool steps run `tests/infra/check STEP`; a step whose tool is missing prints
//! `SKIP` and passes, unless `DROVER_REQUIRE_INFRA_TOOLS=1` (as `.ci/run` sets).

mod support;

use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn drover(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
    c.current_dir(root())
        .args(args)
        .env_remove("DROVER_TF_ADDRESS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json_of(o: &Output) -> J {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// Run `tests/infra/check ARGS`; `false` (after a visible SKIP line) when a tool is
/// missing and skipping is allowed.
fn check(args: &[&str]) -> bool {
    check_env(args, &[])
}

fn check_env(args: &[&str], env: &[(&str, String)]) -> bool {
    let start = std::time::Instant::now();
    let mut c = Command::new(root().join("tests/infra/check"));
    c.args(args).env("DROVER", env!("CARGO_BIN_EXE_drover"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let all = text(&out);
    if out.status.code() == Some(77) {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let reason = stdout.trim().trim_start_matches("SKIP: ").to_string();
        assert!(
            std::env::var("DROVER_REQUIRE_INFRA_TOOLS").as_deref() != Ok("1"),
            "tests/infra/check {}: {reason} (DROVER_REQUIRE_INFRA_TOOLS=1)",
            args[0]
        );
        eprintln!("SKIP tests/infra/check {}: {reason}", args[0]);
        println!("SKIP tests/infra/check {}: {reason}", args[0]);
        return false;
    }
    assert!(
        out.status.success(),
        "tests/infra/check {args:?} failed:\n{all}"
    );
    eprintln!(
        "tests/infra/check {} passed in {:.1} s",
        args[0],
        start.elapsed().as_secs_f64()
    );
    true
}

#[test]
fn terraform_fmt_init_validate() {
    check(&["fmt"]);
}

#[test]
fn terraform_test_with_a_mocked_provider() {
    if check(&["test"]) {
        // The promises the brief asks of the mocked tests are really there.
        let t =
            std::fs::read_to_string(root().join("terraform/tests/defaults.tftest.hcl")).unwrap();
        for run in [
            "nothing_is_open_to_the_world_by_default",
            "three_kafka_brokers",
            "every_instance_encrypted_and_imdsv2_only",
            "world_admin_access_is_refused",
            "inventory_output_public_layout",
            "inventory_output_private_layout",
        ] {
            assert!(t.contains(&format!("run \"{run}\"")), "{run}");
        }
    }
}

#[test]
fn checkov_passes() {
    check(&["checkov"]);
}

#[test]
fn workflows_pass_actionlint() {
    check(&["actionlint"]);
}

/// `inventory/example/hosts.yml` alone, in a directory of its own: the hosts and groups
/// the Terraform output must give (the example's group_vars hold the platform's settings,
/// which a Terraform inventory does not carry; they come from a second `-i`).
fn example_hosts() -> String {
    let dir = std::env::temp_dir().join(format!("drover-example-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hosts.yml");
    std::fs::copy(root().join("inventory/example/hosts.yml"), &file).unwrap();
    file.display().to_string()
}

/// The `--list` output normalised for comparison (serde_json sorts object keys).
fn list(args: &[&str], env: &[(&str, &str)]) -> J {
    let mut a = vec!["inventory"];
    a.extend_from_slice(args);
    a.push("--list");
    json_of(&drover(&a, env))
}

#[test]
fn moto_apply_gives_the_expected_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    if !check(&["moto", out.to_str().unwrap()]) {
        return;
    }
    eprintln!(
        "{}",
        std::fs::read_to_string(out.join("times")).unwrap_or_default()
    );
    let read = |f: &str| -> J {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
    };
    let from_json = read("list-json.json");
    // The module directory (its terraform.tfstate) gives what the saved output gives.
    assert_eq!(read("list-dir.json"), from_json);
    let note = std::fs::read_to_string(out.join("list-dir.stderr")).unwrap();
    assert!(note.contains("terraform.tfstate"), "{note}");
    // Groups and hosts as the contract says.
    let static_list = list(&["-i", &example_hosts()], &[]);
    for g in [
        "logging",
        "kafka",
        "web",
        "monitoring",
        "forwarders",
        "node_exporters",
    ] {
        assert_eq!(from_json[g], static_list[g], "group {g}");
    }
    assert_eq!(from_json["all"], static_list["all"]);
    // Public addresses by default; the private ones are the example's 10.0.1.10-13.
    for h in ["logging-1", "kafka-1", "web-1", "monitoring-1"] {
        let vars = &from_json["_meta"]["hostvars"][h];
        assert_eq!(vars["ansible_user"], "ubuntu");
        let addr = vars["ansible_host"].as_str().unwrap();
        assert!(!addr.starts_with("10.0."), "{h}: {addr}");
    }
    assert_eq!(read("list-json-private.json"), static_list);
}

/// The private layout (bastion, NAT gateway, private subnet) applied against moto: every
/// host by its private address, through the bastion. Its own moto server, one port up.
#[test]
fn moto_apply_private_layout_jumps_through_the_bastion() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let port: u16 = std::env::var("DROVER_MOTO_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(22480)
        + 1;
    if !check_env(
        &["moto", out.to_str().unwrap(), "private"],
        &[("DROVER_MOTO_PORT", port.to_string())],
    ) {
        return;
    }
    eprintln!(
        "{}",
        std::fs::read_to_string(out.join("times")).unwrap_or_default()
    );
    let tf: J =
        serde_json::from_str(&std::fs::read_to_string(out.join("tf.json")).unwrap()).unwrap();
    let bastion = tf["bastion_address"]["value"].as_str().unwrap().to_string();
    let list: J =
        serde_json::from_str(&std::fs::read_to_string(out.join("list-json.json")).unwrap())
            .unwrap();
    for (i, h) in ["logging-1", "kafka-1", "web-1", "monitoring-1"]
        .iter()
        .enumerate()
    {
        let vars = &list["_meta"]["hostvars"][h];
        assert_eq!(vars["ansible_host"], format!("10.0.2.{}", 10 + i), "{h}");
        assert_eq!(
            vars["ansible_ssh_common_args"],
            format!("-o ProxyJump=ubuntu@{bastion}"),
            "{h}"
        );
    }
    assert_eq!(list["forwarders"]["hosts"].as_array().unwrap().len(), 4);
}

#[test]
fn terraform_output_lists_like_the_static_inventory() {
    // tests/fixtures/terraform/tf.json is a real `terraform output -json` of terraform/
    // (applied against moto; public addresses replaced by documentation ones).
    let tf = "tests/fixtures/terraform/tf.json";
    let private = list(&["-i", tf], &[("DROVER_TF_ADDRESS", "private")]);
    let static_list = list(&["-i", &example_hosts()], &[]);
    assert_eq!(private, static_list);
    // The group tree too, byte for byte.
    let graph = |args: &[&str]| {
        let o = drover(args, &[]);
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(
        graph(&["inventory", "-i", tf, "--graph"]),
        graph(&["inventory", "-i", &example_hosts(), "--graph"])
    );
    // By default the public addresses, as the output's "address" says.
    let public = list(&["-i", tf], &[]);
    assert_eq!(
        public["_meta"]["hostvars"]["web-1"]["ansible_host"],
        "203.0.113.12"
    );
    // `terraform output -json inventory` (the value alone) is read as well.
    let tmp = tempfile::tempdir().unwrap();
    let only = tmp.path().join("inventory.json");
    let outputs: J =
        serde_json::from_str(&std::fs::read_to_string(root().join(tf)).unwrap()).unwrap();
    std::fs::write(&only, outputs["inventory"]["value"].to_string()).unwrap();
    let alone = list(
        &["-i", only.to_str().unwrap()],
        &[("DROVER_TF_ADDRESS", "private")],
    );
    assert_eq!(alone, static_list);
    // A note on stderr says where the hosts came from.
    let o = drover(&["inventory", "-i", tf, "--graph"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("saved `terraform output -json`"));
}

#[test]
fn a_module_directory_reads_its_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("terraform");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), "# a module\n").unwrap();
    // *.tfvars in the module are not read as inventories.
    std::fs::write(dir.join("prod.tfvars"), "name = \"x\"\n").unwrap();
    let outputs: J = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/terraform/tf.json")).unwrap(),
    )
    .unwrap();
    let state = serde_json::json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "x",
        "outputs": outputs, "resources": [], "check_results": null
    });
    std::fs::write(
        dir.join("terraform.tfstate"),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let from_dir = list(&["-i", d], &[("DROVER_TF_ADDRESS", "private")]);
    let static_list = list(&["-i", &example_hosts()], &[]);
    assert_eq!(from_dir, static_list);
    let o = drover(&["inventory", "-i", d, "--graph"], &[]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("terraform.tfstate"),
        "{}",
        text(&o)
    );
    // After `terraform destroy` the state has no outputs: a located error that says what
    // to do, exit 1, no panic.
    let empty = serde_json::json!({"version": 4, "terraform_version": "1.11.4", "serial": 4,
        "lineage": "x", "outputs": {}, "resources": []});
    std::fs::write(
        dir.join("terraform.tfstate"),
        serde_json::to_string_pretty(&empty).unwrap(),
    )
    .unwrap();
    let o = drover(&["inventory", "-i", d, "--list"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no Terraform output named 'inventory'"),
        "{err}"
    );
    assert!(err.contains("terraform.tfstate"), "{err}");
    assert!(err.contains("outputs.tf"), "{err}");
}

#[test]
fn bad_terraform_outputs_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("tf.json");
    std::fs::write(
        &f,
        "{\n  \"inventory\": {\n    \"sensitive\": false,\n    \"type\": \"dynamic\",\n    \"value\": {\n      \"hosts\": [\n        {\"name\": \"web-1\", \"groups\": \"web\", \"private_address\": \"10.0.1.12\"}\n      ]\n    }\n  }\n}\n",
    )
    .unwrap();
    let o = drover(&["inventory", "-i", f.to_str().unwrap(), "--list"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tf.json:7:"), "{err}");
    assert!(
        err.contains("host 'web-1': 'groups' must be a list"),
        "{err}"
    );
    // A bad DROVER_TF_ADDRESS is refused, not ignored.
    let o = drover(
        &[
            "inventory",
            "-i",
            "tests/fixtures/terraform/tf.json",
            "--list",
        ],
        &[("DROVER_TF_ADDRESS", "internal")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("DROVER_TF_ADDRESS='internal'"));
}

/// The host ports of the test hosts, from their inventory.yml.
fn test_host_ports(dir: &Path) -> Vec<u16> {
    std::fs::read_to_string(dir.join("inventory.yml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ansible_port:"))
        .map(|p| p.trim().parse().unwrap())
        .collect()
}

#[test]
fn workflow_commands_against_test_hosts() {
    let Some(hosts) = support::hosts_dir() else {
        println!("SKIP workflow commands: DROVER_SKIP_SSH_TESTS=1");
        return;
    };
    let ports = test_host_ports(&hosts);
    assert!(ports.len() >= 2, "need 2 test hosts in {}", hosts.display());
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let remote_root = format!("/tmp/drover-tf-workflow-{}-{stamp}", std::process::id());
    // A `terraform output -json` whose hosts are the test hosts (the private layout's
    // shape: private addresses, no jump host as they are on this machine).
    let host = |name: &str, group: &str, port: u16| {
        serde_json::json!({"name": name, "groups": [group, "forwarders", "node_exporters"],
            "public_address": null, "private_address": "127.0.0.1", "user": "root",
            "port": port, "proxy_jump": null, "vars": {}})
    };
    let tf = serde_json::json!({
        "inventory": {"sensitive": false, "type": "dynamic", "value": {
            "version": 1, "address": "private", "vars": {"root": remote_root},
            "hosts": [host("logging-1", "logging", ports[0]), host("kafka-1", "kafka", ports[1])]
        }},
        "vpc_id": {"sensitive": false, "type": "string", "value": "vpc-0123"}
    });
    let tf_json = t.join("tf.json");
    std::fs::write(&tf_json, serde_json::to_string_pretty(&tf).unwrap()).unwrap();
    // The workflows' secrets, written as they write them.
    let key = t.join("id_deploy");
    std::fs::copy(hosts.join("id_ed25519"), &key).unwrap();
    let vault = t.join("vault-pass");
    std::fs::write(&vault, "not-a-real-vault-password\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [&key, &vault] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let known = hosts.join("known_hosts");
    let playbook = root().join("tests/fixtures/terraform/site.yml");
    let common = |summary: &Path| -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_drover"));
        c.arg("apply")
            .arg(&playbook)
            .arg("-i")
            .arg(&tf_json)
            // The workflows' second inventory source: group variables only.
            .arg("-i")
            .arg(root().join("tests/fixtures/terraform/production"))
            .env("GITHUB_STEP_SUMMARY", summary)
            .env_remove("DROVER_TF_ADDRESS");
        c
    };
    let tail = |c: &mut Command| {
        c.arg("--private-key")
            .arg(&key)
            .arg("--known-hosts")
            .arg(&known)
            .args(["--host-key-checking", "strict"])
            .arg("--vault-password-file")
            .arg(&vault);
    };
    // preview.yml's command.
    let preview = |summary: &Path| -> Output {
        let mut c = common(summary);
        c.args([
            "--check",
            "--diff",
            "--detailed-exitcode",
            "--format",
            "github",
        ]);
        tail(&mut c);
        c.output().unwrap()
    };
    let summary1 = t.join("summary1.md");
    let o = preview(&summary1);
    assert_eq!(o.status.code(), Some(2), "changes pending: {}", text(&o));
    let s = std::fs::read_to_string(&summary1).unwrap();
    assert!(s.contains("outputs.conf"), "{s}");
    assert!(
        s.contains("Brokers kafka-1"),
        "the diff is in the summary: {s}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("::group::"));
    // Check mode changed nothing.
    let o = Command::new("ssh")
        .arg("-F")
        .arg(hosts.join("ssh_config"))
        .args([
            "host1",
            &format!("test -e {remote_root} && echo present || echo absent"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "absent");
    // deploy.yml's command (no --limit/--tags given: the inputs were empty).
    let summary2 = t.join("summary2.md");
    let report = t.join("deploy-report.json");
    let mut c = common(&summary2);
    c.args(["--diff", "--format", "github", "--report"])
        .arg(&report);
    tail(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "deploy: {}", text(&o));
    let r: J = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for h in ["logging-1", "kafka-1"] {
        assert_eq!(r["recap"][h]["changed"], 2, "{h}: {r}");
    }
    assert_eq!(
        support::ssh(&hosts, "host2", &format!("cat {remote_root}/outputs.conf")),
        "[OUTPUT]\n    Name    kafka\n    Match   *\n    Brokers kafka-1\n"
    );
    // The preview again: converged, exit 0.
    let o = preview(&t.join("summary3.md"));
    assert_eq!(o.status.code(), Some(0), "converged: {}", text(&o));
    // The sharded variant of deploy.yml: two shards, each host converged by one.
    let mut seen = Vec::new();
    for k in 1..=2 {
        let rep = t.join(format!("shard-{k}.json"));
        let mut c = common(&t.join("summary-shard.md"));
        c.args(["--shard", &format!("{k}/2"), "--diff", "--format", "github"])
            .arg("--report")
            .arg(&rep);
        tail(&mut c);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "shard {k}: {}", text(&o));
        let r: J = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
        seen.extend(r["recap"].as_object().unwrap().keys().cloned());
    }
    seen.sort();
    assert_eq!(seen, ["kafka-1", "logging-1"]);
    support::ssh(&hosts, "host1", &format!("rm -rf {remote_root}"));
    support::ssh(&hosts, "host2", &format!("rm -rf {remote_root}"));
}

/// The private layout: hosts reached by their private address through the bastion named
/// in `proxy_jump` (here host1 is the bastion and host2 the private host; both listen on
/// 127.0.0.1, which the bastion reaches as well).
#[test]
fn private_layout_jumps_through_the_bastion() {
    let Some(hosts) = support::hosts_dir() else {
        println!("SKIP private layout: DROVER_SKIP_SSH_TESTS=1");
        return;
    };
    let ports = test_host_ports(&hosts);
    assert!(ports.len() >= 2, "need 2 test hosts in {}", hosts.display());
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf = serde_json::json!({
        "inventory": {"sensitive": false, "type": "dynamic", "value": {
            "version": 1, "address": "private", "vars": {},
            "hosts": [{"name": "web-1", "groups": ["web", "forwarders", "node_exporters"],
                "public_address": null, "private_address": "127.0.0.1", "user": "root",
                "port": ports[1], "proxy_jump": format!("root@127.0.0.1:{}", ports[0]),
                "vars": {}}]
        }}
    });
    let tf_json = t.join("tf.json");
    std::fs::write(&tf_json, serde_json::to_string_pretty(&tf).unwrap()).unwrap();
    let list = list(&["-i", tf_json.to_str().unwrap()], &[]);
    assert_eq!(
        list["_meta"]["hostvars"]["web-1"]["ansible_ssh_common_args"],
        format!("-o ProxyJump=root@127.0.0.1:{}", ports[0])
    );
    let play = t.join("p.yml");
    std::fs::write(
        &play,
        "- hosts: web\n  gather_facts: no\n  tasks:\n    - command: cat /etc/hostname\n      register: h\n    - assert:\n        that: h.stdout == 'host2'\n",
    )
    .unwrap();
    let bastion_log = hosts.join("host1/log");
    let accepted = || {
        std::fs::read_to_string(&bastion_log)
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    };
    let before = accepted();
    let o = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&play)
        .arg("-i")
        .arg(&tf_json)
        .arg("--private-key")
        .arg(hosts.join("id_ed25519"))
        .arg("--known-hosts")
        .arg(hosts.join("known_hosts"))
        .args(["--host-key-checking", "strict"])
        .env_remove("DROVER_TF_ADDRESS")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        accepted() > before,
        "the bastion (host1) saw no login: the jump was not used"
    );
}
