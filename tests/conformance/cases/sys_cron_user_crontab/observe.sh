crontab -l -u nobody 2>&1 | grep -v '^# DO NOT EDIT\|^# (\|^# (Cron' || true
