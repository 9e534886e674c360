account conf-umod
[ -d /home/conf-umod ] && echo "home kept" || echo "no home"
