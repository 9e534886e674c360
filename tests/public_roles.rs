//! Roles written in the style of the most used public roles (`tests/fixtures/public_roles`:
//! OS-specific `include_vars`, `set_fact` when undefined, `include_tasks` with `when`,
//! apt + template + notify + service, a `version` test on `ansible_version.full`) converge
//! twin systemd hosts (`tests/hosts/nspawn`), one with `ansible-playbook` and one with
//! drover, to the same end state, read with plain `ssh`; each tool's second run changes
//! nothing. The package the role installs comes from a local apt repository built here.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/public_roles");

mod support;
use support::nspawn::NspawnHost as Host;

impl Host {
    /// An inventory naming this host `web1`, so both tools render the same templates.
    fn inventory(&self, dir: &Path, extra: &str) -> PathBuf {
        let key = self.dir.parent().unwrap().join("id_ed25519");
        let p = dir.join(format!("{}.yml", self.name));
        std::fs::write(
            &p,
            format!(
                "all:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_user: root\n      ansible_ssh_private_key_file: {}\n      ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\"\n{extra}",
                self.port,
                key.display(),
                self.dir.join("known_hosts").display()
            ),
        )
        .unwrap();
        p
    }
}

/// A tiny package with a long-running program, and its repository index, as a tar.
fn repository() -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("pkg");
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(pkg.join("usr/bin")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: drover-demo\nVersion: 1.0\nArchitecture: all\nMaintainer: drover tests <t@example.invalid>\nDescription: drover demo daemon\n",
    )
    .unwrap();
    let bin = pkg.join("usr/bin/drover-demo");
    std::fs::write(&bin, "#!/bin/sh\n# Reads its configuration, then idles.\n[ -r \"$1\" ] || exit 1\nexec sleep infinity\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let st = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&pkg)
        .arg(repo.join("drover-demo_1.0_all.deb"))
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let idx = Command::new("dpkg-scanpackages")
        .args([".", "/dev/null"])
        .current_dir(&repo)
        .output()
        .expect("dpkg-scanpackages (dpkg-dev)");
    std::fs::write(repo.join("Packages"), idx.stdout).unwrap();
    Command::new("tar")
        .arg("-C")
        .arg(&repo)
        .args(["-cf", "-", "."])
        .output()
        .unwrap()
        .stdout
}

/// What a user can observe on the host after the roles ran.
fn end_state(h: &Host) -> String {
    let paths = "/etc/apt/sources.list.d/drover-demo.list /etc/drover-demo /etc/drover-demo/app.conf /etc/systemd/system/drover-demo.service /etc/motd /etc/ssh/sshd_config /etc/sysctl.d/90-hardening.conf /etc/drover-cron.d /etc/drover-cron.daily";
    h.ssh(&format!(
            "for p in {paths}; do stat -c '%n %F %a %U %G %s' \"$p\"; [ -f \"$p\" ] && sha256sum \"$p\"; done; \
             dpkg-query -W -f='${{Package}} ${{Version}} ${{db:Status-Abbrev}}\\n' drover-demo; \
             getent passwd demoapp; getent group demoapp; \
             echo active=$(systemctl is-active drover-demo) enabled=$(systemctl is-enabled drover-demo); \
             systemctl show -p User -p ExecStart drover-demo | sed 's/start_time=[^;]*;//; s/pid=[^;]*;//'; \
             sshd -T | grep -Ei '^(maxauthtries|clientaliveinterval) '"
    ))
}

fn recap_changed(text: &str) -> Option<u64> {
    let line = text.lines().rev().find(|l| l.contains("changed="))?;
    let v = line.split("changed=").nth(1)?;
    v.split_whitespace().next()?.parse().ok()
}

#[test]
fn public_style_roles_converge_like_ansible_playbook() {
    let venv = std::env::var_os("DROVER_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/drover-test/venv"));
    if !venv.join("bin/ansible-playbook").exists() {
        assert!(
            std::env::var("DROVER_SKIP_ANSIBLE_TESTS").is_ok_and(|v| v == "1"),
            "{} is missing (run .ci/run, or DROVER_SKIP_ANSIBLE_TESTS=1)",
            venv.display()
        );
        return;
    }
    let Some(a) = Host::up("roles-ansible", 10) else {
        return;
    };
    let Some(d) = Host::up("roles-drover", 11) else {
        return;
    };
    let repo = repository();
    for h in [&a, &d] {
        h.ssh_stdin(
            "rm -rf /srv/drover-repo && mkdir -p /srv/drover-repo && tar -xf - -C /srv/drover-repo",
            &repo,
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let inv_a = a.inventory(
        tmp.path(),
        "      ansible_python_interpreter: /usr/bin/python3\n",
    );
    let inv_d = d.inventory(tmp.path(), "");
    let ansible = || {
        let out = Command::new(venv.join("bin/ansible-playbook"))
            .current_dir(FIXTURE)
            .args(["site.yml", "-i"])
            .arg(&inv_a)
            .env("ANSIBLE_CONFIG", "/nonexistent/ansible.cfg")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_PIPELINING", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-local"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let drover = || {
        let out = Command::new(env!("CARGO_BIN_EXE_drover"))
            .current_dir(FIXTURE)
            .args(["apply", "site.yml", "-i"])
            .arg(&inv_d)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "drover failed:\n{text}");
        text
    };
    let first_a = ansible();
    let first_d = drover();
    let (sa, sd) = (end_state(&a), end_state(&d));
    assert!(sa.contains("active=active enabled=enabled"), "{sa}");
    assert_eq!(
        sa, sd,
        "end state differs (left ansible-playbook, right drover)"
    );
    assert_eq!(
        recap_changed(&first_a),
        recap_changed(&first_d),
        "changed counts of the first run:\n{first_a}\n{first_d}"
    );
    assert_eq!(recap_changed(&ansible()), Some(0), "ansible's second run");
    assert_eq!(recap_changed(&drover()), Some(0), "drover's second run");
}
