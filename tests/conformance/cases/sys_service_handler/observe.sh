systemctl is-active conf-web || true
systemctl is-enabled conf-web || true
systemctl show -p Environment --value conf-web
