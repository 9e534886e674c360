getent group conf-ucreate-g >/dev/null || groupadd conf-ucreate-g
