# Workload (b) for pyinfra: the same role as site.yml + roles/bench, with the same
# templates (roles/bench/templates) and the same per-host variables (pyinfra host data,
# written by bench/run from the same values as host_vars/HOST.yml).
from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.facts.server import Hostname
from pyinfra.operations import apt, files, server

# Mirrors roles/bench/defaults/main.yml.
DIRS = [
    "/etc/bench", "/etc/bench/app", "/etc/bench/web", "/etc/bench/db", "/etc/bench/cache",
    "/etc/bench/queue", "/etc/bench/tls", "/etc/bench/cron", "/var/lib/bench", "/var/log/bench",
]
SRCS = {
    "app": "service.conf.j2", "web": "service.conf.j2", "db": "limits.conf.j2",
    "cache": "limits.conf.j2", "queue": "peers.conf.j2", "cron": "peers.conf.j2",
}
FILES = [
    {"index": i * 5 + k, "name": f"{sub}{k}.conf", "dir": f"/etc/bench/{sub}", "src": src}
    for i, (sub, src) in enumerate(SRCS.items())
    for k in range(5)
]

hv = {
    k: host.data.get(k)
    for k in ("bench_id", "bench_port", "bench_tier", "bench_motd", "bench_peers", "bench_limits")
}
LINES = [
    ("/etc/environment", "^BENCH_ID=", f"BENCH_ID={hv['bench_id']}"),
    ("/etc/environment", "^BENCH_TIER=", f"BENCH_TIER={hv['bench_tier']}"),
    ("/etc/bench/settings.conf", "^port ", f"port {hv['bench_port']}"),
    ("/etc/bench/settings.conf", "^motd ", f"motd {hv['bench_motd']}"),
    ("/etc/bench/settings.conf", "^peers ", "peers " + ",".join(hv["bench_peers"])),
]

# gather_facts: yes in the playbook; the templates use the host name fact.
facts = {"hostname": host.get_fact(Hostname)}

for d in DIRS:
    files.directory(name=f"Directories {d}", path=d, mode="755")

for f in FILES:
    files.template(
        name=f"Templated configuration {f['name']}",
        src=f"./roles/bench/templates/{f['src']}",
        dest=f"{f['dir']}/{f['name']}",
        mode="644",
        # ansible's template module renders with trim_blocks: the same bytes everywhere.
        jinja_env_kwargs={"trim_blocks": True},
        item=f,
        bench_files=FILES,
        inventory_hostname=host.name,
        ansible_facts=facts,
        **hv,
    )

for path, regexp, line in LINES:
    files.line(name=f"Settings lines {regexp}", path=path, line=regexp, replace=line)

apt.packages(name="openssh-server is installed", packages=["openssh-server"], present=True)

if host.get_fact(File, path="/etc/bench/tls/service_key") is None:
    server.shell(
        name="Service key",
        commands=[
            f"ssh-keygen -q -t ed25519 -N '' -C 'bench@{host.name}' -f /etc/bench/tls/service_key"
        ],
    )
