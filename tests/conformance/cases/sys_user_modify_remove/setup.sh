getent group conf-umod-g1 >/dev/null || groupadd conf-umod-g1
getent group conf-umod-g2 >/dev/null || groupadd conf-umod-g2
getent passwd conf-umod >/dev/null || useradd -m -s /bin/bash -G conf-umod-g1 conf-umod
