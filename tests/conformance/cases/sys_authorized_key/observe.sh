f=/home/conf-akey/.ssh/authorized_keys
stat -c '%n %a %U %G' /home/conf-akey/.ssh "$f" 2>/dev/null || echo "no $f"
cat "$f" 2>/dev/null || true
