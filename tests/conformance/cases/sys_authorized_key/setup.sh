getent passwd conf-akey >/dev/null || useradd -m -s /bin/sh conf-akey
