account conf-ucreate
stat -c '%n %F %a %U %G' /home/conf-ucreate 2>/dev/null || echo "no home"
