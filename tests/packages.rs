//! apt and package over SSH on a real test host, against a local apt repository of tiny
//! .deb packages built here with `dpkg-deb` (served from a `file:` source on the host:
//! nothing leaves the machine). The host's state is read back with plain `ssh`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod support;
use support::{apply_on, hosts_dir, play, ssh, ssh_stdin};

const HOST: &str = "host2";

/// Build `name_version_all.deb` into `pool`.
fn build_deb(pool: &Path, name: &str, version: &str, depends: &str, preinst: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let mut control = format!(
        "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: drover tests <t@example.invalid>\nDescription: drover test package\n"
    );
    if !depends.is_empty() {
        control.push_str(&format!("Depends: {depends}\n"));
    }
    std::fs::write(root.join("DEBIAN/control"), control).unwrap();
    // A conffile, so purge has something to remove.
    std::fs::write(
        root.join(format!("etc/{name}.conf")),
        format!("{version}\n"),
    )
    .unwrap();
    std::fs::write(root.join("DEBIAN/conffiles"), format!("/etc/{name}.conf\n")).unwrap();
    if !preinst.is_empty() {
        use std::os::unix::fs::PermissionsExt;
        let p = root.join("DEBIAN/preinst");
        std::fs::write(&p, format!("#!/bin/sh\n{preinst}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&root)
        .arg(pool.join(format!("{name}_{version}_all.deb")))
        .output()
        .expect("dpkg-deb (package dpkg) is needed for the apt tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Index the repository and copy it to /srv/drover-repo on the host.
fn publish(dir: &Path, repo: &Path) {
    let out = Command::new("dpkg-scanpackages")
        .args(["--multiversion", ".", "/dev/null"])
        .current_dir(repo)
        .output()
        .expect("dpkg-scanpackages (package dpkg-dev) is needed for the apt tests");
    assert!(out.status.success());
    std::fs::write(repo.join("Packages"), &out.stdout).unwrap();
    let tar = Command::new("tar")
        .arg("-C")
        .arg(repo)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    ssh_stdin(
        dir,
        HOST,
        "rm -rf /srv/drover-repo && mkdir -p /srv/drover-repo && tar -xf - -C /srv/drover-repo",
        &tar.stdout,
    );
}

fn dpkg_status(dir: &Path, pkgs: &str) -> String {
    ssh(
        dir,
        HOST,
        &format!("dpkg-query -W -f='${{Package}} ${{db:Status-Abbrev}}${{Version}}\\n' {pkgs} 2>/dev/null; true"),
    )
}

#[test]
fn apt_installs_upgrades_pins_removes_and_waits_for_the_lock() {
    let Some(dir) = hosts_dir() else { return };
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = repo_dir.path();
    build_deb(repo, "drover-test-a", "1.0", "", "");
    build_deb(repo, "drover-test-b", "1.0", "drover-test-a", "");
    build_deb(repo, "drover-test-slow", "1.0", "", "sleep 6");
    publish(&dir, repo);
    // Only the local repository: nothing may reach the internet.
    ssh(
        &dir,
        HOST,
        "mkdir -p /etc/apt/disabled-by-drover-tests; \
         for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do [ -e \"$f\" ] && mv \"$f\" /etc/apt/disabled-by-drover-tests/; done; \
         echo 'deb [trusted=yes] file:/srv/drover-repo ./' > /etc/apt/sources.list.d/drover-test.list; \
         dpkg --purge drover-test-a drover-test-b drover-test-slow drover-test-c drover-test-d drover-test-e >/dev/null 2>&1; true",
    );

    // The cache alone: changed when updated.
    let (code, changed, text) =
        apply_on(&dir, HOST, &play("    - apt: {update_cache: yes}\n"), &[]);
    assert_eq!((code, changed), (0, 1), "{text}");

    // Check mode predicts the dependency and installs nothing.
    let install = play("    - ansible.builtin.apt: {name: drover-test-b}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &install, &["--check", "--diff"]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert!(
        text.contains(
            "The following NEW packages will be installed:\n    drover-test-a drover-test-b"
        ),
        "the prediction (apt-get's plan, as Ansible's diff shows it) names the dependency: {text}"
    );
    assert!(
        text.contains("Inst drover-test-b"),
        "the simulation is the stdout: {text}"
    );
    assert_eq!(dpkg_status(&dir, "drover-test-a drover-test-b").trim(), "");

    let (code, changed, text) = apply_on(&dir, HOST, &install, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        dpkg_status(&dir, "drover-test-a drover-test-b"),
        "drover-test-a ii 1.0\ndrover-test-b ii 1.0\n"
    );
    // Idempotent, also when the cache is refreshed in the same task.
    let again = play("    - apt: {name: [drover-test-a, drover-test-b], update_cache: yes}\n    - apt: {name: []}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &again, &[]);
    assert_eq!((code, changed), (0, 0), "{text}");

    // A fresh cache is not updated again within cache_valid_time; package dispatches on
    // the gathered ansible_pkg_mgr.
    let fresh = "- hosts: all\n  tasks:\n    - apt: {update_cache: yes, cache_valid_time: 3600}\n      register: c\n    - assert: {that: [c.cache_updated == false, c.cache_update_time > 0]}\n    - package: {name: drover-test-a}\n";
    let (code, changed, text) = apply_on(&dir, HOST, fresh, &[]);
    assert_eq!((code, changed), (0, 0), "{text}");

    // A new version: latest upgrades, after refreshing the cache.
    build_deb(repo, "drover-test-a", "2.0", "", "");
    publish(&dir, repo);
    let latest = play("    - apt: {name: drover-test-a, state: latest, update_cache: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &latest, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-a"), "drover-test-a ii 2.0\n");
    let (_, changed, text) = apply_on(&dir, HOST, &latest, &[]);
    assert_eq!(changed, 0, "{text}");

    // A pinned older version needs allow_downgrade.
    let pin = play("    - apt: {name: drover-test-a=1.0}\n");
    let (code, _, text) = apply_on(&dir, HOST, &pin, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("allow_downgrade"),
        "the error says what to do: {text}"
    );
    let pin = play("    - apt: {name: drover-test-a=1.0, allow_downgrade: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &pin, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-a"), "drover-test-a ii 1.0\n");
    let (_, changed, _) = apply_on(&dir, HOST, &pin, &[]);
    assert_eq!(changed, 0);

    // An unknown package fails naming it.
    let (code, _, text) = apply_on(
        &dir,
        HOST,
        &play("    - apt: {name: drover-test-nonesuch}\n"),
        &[],
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("No package matching 'drover-test-nonesuch'"),
        "{text}"
    );

    // Removal (check mode first), then purge of the left-over conffile.
    let remove = play("    - package: {name: drover-test-b, state: absent}\n");
    let (_, changed, _) = apply_on(&dir, HOST, &remove, &["--check"]);
    assert_eq!(changed, 1);
    assert_eq!(dpkg_status(&dir, "drover-test-b"), "drover-test-b ii 1.0\n");
    let (code, changed, text) = apply_on(&dir, HOST, &remove, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-b"), "drover-test-b rc 1.0\n");
    let (_, changed, _) = apply_on(&dir, HOST, &remove, &[]);
    assert_eq!(changed, 0, "removed stays removed");
    let purge = play("    - apt: {name: drover-test-b, state: absent, purge: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &purge, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-b"), "");
    assert_eq!(
        ssh(&dir, HOST, "test -e /etc/drover-test-b.conf || echo gone").trim(),
        "gone"
    );

    // A local .deb on the host.
    build_deb(repo, "drover-test-c", "1.0", "drover-test-a", "");
    ssh_stdin(
        &dir,
        HOST,
        "cat > /tmp/drover-test-c_1.0_all.deb",
        &std::fs::read(repo.join("drover-test-c_1.0_all.deb")).unwrap(),
    );
    let deb = play("    - apt: {deb: /tmp/drover-test-c_1.0_all.deb}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &deb, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-c"), "drover-test-c ii 1.0\n");
    let (_, changed, _) = apply_on(&dir, HOST, &deb, &[]);
    assert_eq!(changed, 0);

    // autoremove: removing a package also removes the dependency it pulled in.
    build_deb(repo, "drover-test-e", "1.0", "", "");
    build_deb(repo, "drover-test-d", "1.0", "drover-test-e", "");
    publish(&dir, repo);
    let d = play("    - apt: {name: drover-test-d, update_cache: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &d, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        dpkg_status(&dir, "drover-test-d drover-test-e"),
        "drover-test-d ii 1.0\ndrover-test-e ii 1.0\n"
    );
    let d_gone =
        play("    - apt: {name: drover-test-d, state: absent, autoremove: yes, purge: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &d_gone, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(dpkg_status(&dir, "drover-test-d drover-test-e"), "");

    // Another apt-get holds the dpkg lock for ~6 s (its package's preinst sleeps): the
    // task waits for it instead of failing.
    ssh(
        &dir,
        HOST,
        "DEBIAN_FRONTEND=noninteractive nohup apt-get install -y drover-test-slow >/tmp/slow.log 2>&1 </dev/null & \
         for i in $(seq 50); do pgrep -f 'preinst' >/dev/null && break; sleep 0.1; done",
    );
    let started = Instant::now();
    let (code, changed, text) = apply_on(
        &dir,
        HOST,
        &play("    - apt: {name: drover-test-b, lock_timeout: 60}\n"),
        &[],
    );
    assert_eq!((code, changed), (0, 1), "{text}");
    assert!(
        started.elapsed().as_secs() >= 2,
        "the lock was waited for ({:?})",
        started.elapsed()
    );
    assert_eq!(
        dpkg_status(&dir, "drover-test-b drover-test-slow"),
        "drover-test-b ii 1.0\ndrover-test-slow ii 1.0\n"
    );

    ssh(
        &dir,
        HOST,
        "dpkg --purge drover-test-a drover-test-b drover-test-slow drover-test-c drover-test-d drover-test-e >/dev/null 2>&1; \
         rm -f /etc/apt/sources.list.d/drover-test.list; \
         mv /etc/apt/disabled-by-drover-tests/sources.list /etc/apt/ 2>/dev/null; true",
    );
}
