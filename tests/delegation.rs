//! `delegate_to` another inventory host, over real SSH test hosts (`tests/hosts/up 4`):
//! the task runs on the delegate (its files change, not the delegating host's) with the
//! delegating host's variables, its result is registered on the delegating host,
//! `delegate_facts` sends facts to the delegate, the delegate's own later tasks see what
//! a delegated task changed, and an unreachable delegate makes the delegating host's
//! task unreachable with the delegate named.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::{hosts_dir, ssh};

fn apply(dir: &Path, play: &str, limit: &str) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("site.yml");
    std::fs::write(&p, play).unwrap();
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .args(["--limit", limit, "--format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The `msg` of each debug task named `name`, per host.
fn debug_msgs(o: &Output, name: &str) -> std::collections::BTreeMap<String, String> {
    events(o)
        .into_iter()
        .filter(|e| e["event"] == "task_result" && e["task"] == name)
        .map(|e| {
            (
                e["host"].as_str().unwrap_or("").to_string(),
                e["result"]["msg"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_delegated_task_runs_on_the_delegate_with_its_hosts_variables() {
    let Some(dir) = hosts_dir() else { return };
    let id = std::process::id();
    let play = format!(
        r#"- hosts: all
  gather_facts: no
  tasks:
    - name: write on host3
      copy:
        content: "from {{{{ inventory_hostname }}}}\n"
        dest: /tmp/dlg-{id}-{{{{ inventory_hostname }}}}
      delegate_to: host3
    - name: where it ran
      command: hostname
      register: where
      delegate_to: "{{{{ 'host3' }}}}"
      changed_when: false
    - name: a fact for host3
      set_fact:
        told_by: "{{{{ inventory_hostname }}}}"
      delegate_to: host3
      delegate_facts: true
      when: inventory_hostname == 'host1'
    - name: a fact kept
      set_fact:
        mine: "{{{{ inventory_hostname }}}}"
      delegate_to: host3
    - name: show
      debug:
        msg: "{{{{ where.stdout }}}} {{{{ hostvars['host3'].told_by | default('-') }}}} {{{{ mine }}}} {{{{ told_by | default('-') }}}}"
"#
    );
    let out = apply(&dir, &play, "host1,host2");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The files are on host3, written with each delegating host's name, and not on
    // the hosts that delegated.
    for h in ["host1", "host2"] {
        let on3 = ssh(&dir, "host3", &format!("cat /tmp/dlg-{id}-{h}"));
        assert_eq!(on3, format!("from {h}\n"));
        let here = ssh(&dir, h, &format!("ls /tmp/dlg-{id}-{h} 2>&1 || true"));
        assert!(here.contains("No such file"), "{h}: {here}");
    }
    let msgs = debug_msgs(&out, "show");
    // hostname ran on host3; host3 got host1's fact; each host kept its own `mine`.
    assert_eq!(msgs["host1"], "host3 host1 host1 -", "{}", text(&out));
    assert_eq!(msgs["host2"], "host3 host1 host2 -", "{}", text(&out));
    ssh(&dir, "host3", &format!("rm -f /tmp/dlg-{id}-*"));
}

#[test]
fn the_delegates_own_next_task_sees_what_the_delegated_task_changed() {
    let Some(dir) = hosts_dir() else { return };
    let id = std::process::id();
    let f = format!("/tmp/dlg-seen-{id}");
    // host2 reads the file (its state is cached), host1 rewrites it on host2 through
    // delegation, then host2 writes the same content: nothing left to change. A stale
    // cache, or host2 going on before host1's delegated task ran, would change it.
    let play = format!(
        r#"- hosts: all
  gather_facts: no
  tasks:
    - name: first version on host2
      copy:
        content: "one\n"
        dest: {f}
      when: inventory_hostname == 'host2'
    - name: host1 rewrites it there
      shell: sleep 1; echo two > {f}
      delegate_to: host2
      when: inventory_hostname == 'host1'
    - name: host2 wants the second version
      copy:
        content: "two\n"
        dest: {f}
      when: inventory_hostname == 'host2'
      register: again
    - name: show
      debug:
        msg: "changed={{{{ again.changed | default('-') }}}}"
"#
    );
    let out = apply(&dir, &play, "host1,host2");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        debug_msgs(&out, "show")["host2"],
        "changed=False",
        "{}",
        text(&out)
    );
    assert_eq!(ssh(&dir, "host2", &format!("cat {f}; rm -f {f}")), "two\n");
}

#[test]
fn delegating_to_127_0_0_1_is_the_controller_even_where_hosts_have_that_address() {
    let Some(dir) = hosts_dir() else { return };
    // Every test host's ansible_host is 127.0.0.1: Ansible still takes the name as its
    // implicit localhost, not as the first host with that address.
    let out_dir = tempfile::tempdir().unwrap();
    let f = out_dir.path().join("from-host2");
    let play = format!(
        r#"- hosts: all
  gather_facts: no
  tasks:
    - name: on the controller
      copy:
        content: "{{{{ inventory_hostname }}}}\n"
        dest: {}
      delegate_to: 127.0.0.1
"#,
        f.display()
    );
    let out = apply(&dir, &play, "host2");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "host2\n");
}

#[test]
fn an_unreachable_delegate_makes_the_task_unreachable_naming_it() {
    let Some(dir) = hosts_dir() else { return };
    let play = r#"- hosts: all
  gather_facts: no
  tasks:
    - name: to nowhere
      command: "true"
      delegate_to: 127.0.0.1.invalid
    - name: never
      debug:
        msg: not here
"#;
    let out = apply(&dir, play, "host1");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("delegate_to 127.0.0.1.invalid"), "{t}");
    assert!(debug_msgs(&out, "never").is_empty(), "{t}");
}

#[test]
fn an_empty_delegate_fails_the_task_as_ansible_does() {
    let Some(dir) = hosts_dir() else { return };
    let play = r#"- hosts: all
  gather_facts: no
  vars:
    nobody: ""
  tasks:
    - name: to an empty name
      command: "true"
      delegate_to: "{{ nobody }}"
      ignore_errors: true
      register: r
    - name: show
      debug:
        msg: "{{ r.msg }}"
"#;
    let out = apply(&dir, play, "host1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        debug_msgs(&out, "show")["host1"],
        "Task failed: Empty hostname produced from delegate_to: \"{{ nobody }}\""
    );
}
