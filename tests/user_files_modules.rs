//! cron and authorized_key over SSH on a real test host: the files as Ansible writes
//! them, check mode, idempotency and removal, read back with plain `ssh`.

mod support;
use support::{apply_on, hosts_dir, play, ssh};

const HOST: &str = "host1";

#[test]
fn cron_jobs_in_a_user_crontab_and_a_cron_file() {
    let Some(dir) = hosts_dir() else { return };
    ssh(
        &dir,
        HOST,
        "useradd -m drover-cron 2>/dev/null; crontab -u drover-cron -r 2>/dev/null; rm -f /etc/cron.d/drover-test; true",
    );
    let job = |hour: u32| {
        play(&format!(
            "    - cron: {{name: backup, user: drover-cron, minute: '0', hour: '{hour}', job: /usr/local/bin/backup}}\n    - cron: {{name: MAILTO, user: drover-cron, env: yes, job: ''}}\n"
        ))
    };
    let (code, changed, text) = apply_on(&dir, HOST, &job(2), &["--check", "--diff"]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert!(text.contains("+0 2 * * * /usr/local/bin/backup"), "{text}");
    assert_eq!(ssh(&dir, HOST, "crontab -u drover-cron -l 2>/dev/null"), "");

    let (code, changed, text) = apply_on(&dir, HOST, &job(2), &[]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "crontab -u drover-cron -l"),
        "MAILTO=\"\"\n#Ansible: backup\n0 2 * * * /usr/local/bin/backup\n"
    );
    let (_, changed, text) = apply_on(&dir, HOST, &job(2), &[]);
    assert_eq!(changed, 0, "{text}");
    let (_, changed, text) = apply_on(&dir, HOST, &job(3), &[]);
    assert_eq!(changed, 1, "{text}");
    assert_eq!(
        ssh(&dir, HOST, "crontab -u drover-cron -l"),
        "MAILTO=\"\"\n#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n"
    );
    let absent = play("    - cron: {name: backup, user: drover-cron, state: absent}\n");
    let (_, changed, _) = apply_on(&dir, HOST, &absent, &[]);
    assert_eq!(changed, 1);
    assert_eq!(
        ssh(&dir, HOST, "crontab -u drover-cron -l"),
        "MAILTO=\"\"\n"
    );
    let (_, changed, _) = apply_on(&dir, HOST, &absent, &[]);
    assert_eq!(changed, 0);

    // A cron_file under /etc/cron.d, removed when its last job goes.
    let file = play("    - cron: {name: at boot, cron_file: drover-test, user: root, special_time: reboot, job: /bin/true}\n    - cron: {name: nightly, cron_file: drover-test, user: root, minute: '30', hour: '1', job: /bin/false, disabled: yes}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &file, &[]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /etc/cron.d/drover-test"),
        "#Ansible: at boot\n@reboot root /bin/true\n#Ansible: nightly\n#30 1 * * * root /bin/false\n"
    );
    let (_, changed, _) = apply_on(&dir, HOST, &file, &[]);
    assert_eq!(changed, 0);
    let gone = play("    - cron: {name: at boot, cron_file: drover-test, state: absent}\n    - cron: {name: nightly, cron_file: drover-test, state: absent}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &gone, &[]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "test -e /etc/cron.d/drover-test || echo gone").trim(),
        "gone"
    );

    // special_time with a time field is refused, naming both.
    let bad = play("    - cron: {name: x, special_time: daily, hour: '1', job: /bin/true}\n");
    let (code, _, text) = apply_on(&dir, HOST, &bad, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("cannot combine special_time"), "{text}");
    ssh(
        &dir,
        HOST,
        "crontab -u drover-cron -r; userdel -r drover-cron 2>/dev/null; true",
    );
}

#[test]
fn authorized_keys_are_added_replaced_made_exclusive_and_removed() {
    let Some(dir) = hosts_dir() else { return };
    ssh(
        &dir,
        HOST,
        "userdel -r drover-ak 2>/dev/null; useradd -m drover-ak",
    );
    let k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIdroverone one@example";
    let k2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABdrovertwo";
    let two = play(&format!(
        "    - authorized_key:\n        user: drover-ak\n        key: |\n          {k1}\n          {k2}\n"
    ));
    let (code, changed, text) = apply_on(&dir, HOST, &two, &["--check"]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "test -e /home/drover-ak/.ssh || echo none").trim(),
        "none"
    );
    let (code, changed, text) = apply_on(&dir, HOST, &two, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /home/drover-ak/.ssh/authorized_keys"),
        format!("{k1}\n{k2} \n")
    );
    assert_eq!(
        ssh(
            &dir,
            HOST,
            "stat -c '%a %U' /home/drover-ak/.ssh /home/drover-ak/.ssh/authorized_keys"
        ),
        "700 drover-ak\n600 drover-ak\n"
    );
    let (_, changed, text) = apply_on(&dir, HOST, &two, &[]);
    assert_eq!(changed, 0, "{text}");

    // Options on one key: that key is rewritten (at the end, as Ansible orders it).
    let opts = play(&format!(
        "    - authorized_key: {{user: drover-ak, key: '{k1}', key_options: 'no-pty,from=\"10.0.0.1\"'}}\n"
    ));
    let (_, changed, text) = apply_on(&dir, HOST, &opts, &["--diff"]);
    assert_eq!(changed, 1, "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /home/drover-ak/.ssh/authorized_keys"),
        format!("{k2} \nno-pty,from=\"10.0.0.1\" {k1}\n")
    );
    // Exclusive: only the given key stays.
    let excl = play(&format!(
        "    - authorized_key: {{user: drover-ak, key: '{k2}', exclusive: yes}}\n"
    ));
    let (_, changed, _) = apply_on(&dir, HOST, &excl, &[]);
    assert_eq!(changed, 1);
    assert_eq!(
        ssh(&dir, HOST, "cat /home/drover-ak/.ssh/authorized_keys"),
        format!("{k2} \n")
    );
    let absent = play(&format!(
        "    - authorized_key: {{user: drover-ak, key: '{k2}', state: absent}}\n"
    ));
    let (_, changed, _) = apply_on(&dir, HOST, &absent, &[]);
    assert_eq!(changed, 1);
    assert_eq!(
        ssh(&dir, HOST, "cat /home/drover-ak/.ssh/authorized_keys"),
        ""
    );
    let (_, changed, _) = apply_on(&dir, HOST, &absent, &[]);
    assert_eq!(changed, 0);
    // An unknown user fails, naming it.
    let nouser = play(&format!(
        "    - authorized_key: {{user: drover-nobody, key: '{k2}'}}\n"
    ));
    let (code, _, text) = apply_on(&dir, HOST, &nouser, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("Failed to lookup user drover-nobody"),
        "{text}"
    );
    ssh(&dir, HOST, "userdel -r drover-ak 2>/dev/null; true");
}

#[test]
fn unarchive_extracts_once_and_repairs_drift() {
    let Some(dir) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("app/conf")).unwrap();
    std::fs::write(tree.join("app/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    std::fs::write(tree.join("app/conf/a.conf"), "a=1\n").unwrap();
    let archive = tmp.path().join("app.tar.gz");
    let st = std::process::Command::new("tar")
        .args(["--owner=0", "--group=0", "-czf"])
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .arg("app")
        .status()
        .unwrap();
    assert!(st.success());
    ssh(
        &dir,
        HOST,
        "rm -rf /tmp/drover-unarchive && mkdir -p /tmp/drover-unarchive",
    );
    let task = play(&format!(
        "    - unarchive: {{src: '{}', dest: /tmp/drover-unarchive, list_files: yes}}\n      register: u\n    - assert: {{that: [\"'app/run.sh' in u.files\"]}}\n",
        archive.display()
    ));
    let (code, changed, text) = apply_on(&dir, HOST, &task, &["--check"]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(ssh(&dir, HOST, "ls -A /tmp/drover-unarchive").trim(), "");
    let (code, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(
            &dir,
            HOST,
            "cat /tmp/drover-unarchive/app/conf/a.conf /tmp/drover-unarchive/app/run.sh"
        ),
        "a=1\n#!/bin/sh\necho run\n"
    );
    let (code, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!((code, changed), (0, 0), "{text}");
    // Drift on the host is repaired.
    ssh(
        &dir,
        HOST,
        "echo changed > /tmp/drover-unarchive/app/conf/a.conf",
    );
    let (_, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!(changed, 1, "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /tmp/drover-unarchive/app/conf/a.conf"),
        "a=1\n"
    );
    // The same archive already on the host (remote_src), and creates.
    support::ssh_stdin(
        &dir,
        HOST,
        "cat > /tmp/drover-app.tar.gz",
        &std::fs::read(&archive).unwrap(),
    );
    let remote = play("    - unarchive: {src: /tmp/drover-app.tar.gz, dest: /tmp/drover-unarchive, remote_src: yes}\n    - unarchive: {src: /tmp/nonexistent.tgz, dest: /tmp/drover-unarchive, remote_src: yes, creates: /tmp/drover-unarchive/app}\n");
    let (code, changed, text) = apply_on(&dir, HOST, &remote, &[]);
    assert_eq!((code, changed), (0, 0), "{text}");
    // A missing dest is an error that says what to do.
    let bad = play("    - unarchive: {src: /tmp/drover-app.tar.gz, dest: /tmp/drover-no-such-dir, remote_src: yes}\n");
    let (code, _, text) = apply_on(&dir, HOST, &bad, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("must be an existing dir"), "{text}");
    ssh(
        &dir,
        HOST,
        "rm -rf /tmp/drover-unarchive /tmp/drover-app.tar.gz",
    );
}

#[test]
fn unarchive_a_zip_with_the_hosts_unzip() {
    let Some(dir) = hosts_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("site.zip");
    let st = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('site/', '')\nz.writestr('site/index.html', '<h1>hi</h1>\\n')\nz.writestr('site/css/a.css', 'body{}\\n')\nz.close()")
        .arg(&zip)
        .status()
        .expect("python3 builds the test zip");
    assert!(st.success());
    ssh(
        &dir,
        HOST,
        "rm -rf /tmp/drover-unzip && mkdir -p /tmp/drover-unzip",
    );
    let task = play(&format!(
        "    - unarchive: {{src: '{}', dest: /tmp/drover-unzip, mode: '0640'}}\n",
        zip.display()
    ));
    let (code, changed, text) = apply_on(&dir, HOST, &task, &["--check"]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(ssh(&dir, HOST, "ls -A /tmp/drover-unzip").trim(), "");
    let (code, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(
            &dir,
            HOST,
            "cat /tmp/drover-unzip/site/index.html; stat -c %a /tmp/drover-unzip/site/css/a.css"
        ),
        "<h1>hi</h1>\n640\n"
    );
    let (code, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!((code, changed), (0, 0), "{text}");
    ssh(&dir, HOST, "echo drift > /tmp/drover-unzip/site/css/a.css");
    let (_, changed, text) = apply_on(&dir, HOST, &task, &[]);
    assert_eq!(changed, 1, "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /tmp/drover-unzip/site/css/a.css"),
        "body{}\n"
    );
    ssh(&dir, HOST, "rm -rf /tmp/drover-unzip");
}

#[test]
fn cron_without_a_crontab_binary_writes_the_spool_file() {
    let Some(dir) = hosts_dir() else { return };
    // host2: the other cron test uses crontab on host1 at the same time.
    let host = "host2";
    ssh(
        &dir,
        host,
        "useradd -m drover-spool 2>/dev/null; rm -f /var/spool/cron/crontabs/drover-spool; \
         [ -e /usr/bin/crontab ] && mv /usr/bin/crontab /usr/bin/crontab.drover-hidden; true",
    );
    let task =
        play("    - cron: {name: tick, user: drover-spool, minute: '*/5', job: /bin/true}\n");
    let (code, changed, text) = apply_on(&dir, host, &task, &[]);
    let spool = ssh(
        &dir,
        host,
        "cat /var/spool/cron/crontabs/drover-spool; stat -c '%a %U' /var/spool/cron/crontabs/drover-spool",
    );
    let (_, changed2, _) = apply_on(&dir, host, &task, &[]);
    ssh(
        &dir,
        host,
        "mv /usr/bin/crontab.drover-hidden /usr/bin/crontab; rm -f /var/spool/cron/crontabs/drover-spool; userdel -r drover-spool 2>/dev/null; true",
    );
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        spool,
        "#Ansible: tick\n*/5 * * * * /bin/true\n600 drover-spool\n"
    );
    assert_eq!(changed2, 0);
}
