systemctl is-active conf-demo || true
systemctl is-enabled conf-demo || true
