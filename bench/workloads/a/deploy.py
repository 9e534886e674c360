# Workload (a) for pyinfra: the same four tasks as site.yml (see the comments there and
# bench/RESULTS.md for the deviations from the original pyinfra-performance deploy).
from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

# `creates: /home/pyinfra`: a fact read (None: the path does not exist), then the
# command only if the path is absent.
if host.get_fact(File, path="/home/pyinfra") is None:
    server.shell(
        name="Add pyinfra user",
        commands=["useradd --create-home --home-dir /home/pyinfra --shell /bin/bash pyinfra"],
    )

# state: touch with preserved times == "present", no touch of an existing file.
files.file(name="Add log file", path="/var/log/pyinfra.log", user="pyinfra", mode="777")

files.put(
    name="Copy a file",
    src="./files/test_file.txt",
    dest="/home/pyinfra/test_file.txt",
    user="pyinfra",
)

server.shell(name="Run some shell", commands=['echo "hi!"'])
