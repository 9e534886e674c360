hostname
cat /etc/hostname
