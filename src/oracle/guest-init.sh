#!/bin/busybox sh
# /init of daxsim's oracle guest (src/oracle/guest.ts builds the initramfs): loads the modules,
# then for each encoded scenario in /scen makes fresh filesystems (tmpfs, ext4 on the virtio
# disk, ext4 -o dax or xfs -o dax on the emulated pmem), runs /bin/daxsim-runner on it and prints
# its JSON lines on the console between @@RUN markers; powers off at the end.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "@@ORACLE_BEGIN"
for m in $(cat /modules.list); do
	insmod /lib/modules/$m 2>/dev/null || echo "@@WARN insmod $m failed"
done
i=0
while [ $i -lt 100 ] && ! { [ -b /dev/pmem0 ] && [ -b /dev/vda ]; }; do sleep 0.1; i=$((i+1)); done
echo "@@DEVICES pmem0=$([ -b /dev/pmem0 ] && echo yes || echo no) vda=$([ -b /dev/vda ] && echo yes || echo no)"
q=/sys/block/vda/queue
echo "@@QUEUE vda read_ahead_kb=$(cat $q/read_ahead_kb 2>/dev/null) max_sectors_kb=$(cat $q/max_sectors_kb 2>/dev/null) optimal_io_size=$(cat $q/optimal_io_size 2>/dev/null)"

setup_fs() { # kind -> mounts /mnt/kind fresh
	mkdir -p /mnt/$1
	case $1 in
	tmpfs) mount -t tmpfs -o size=2g tmpfs /mnt/$1 ;;
	ext4) mkfs.ext4 -q -F /dev/vda >/dev/null 2>&1 && mount -t ext4 /dev/vda /mnt/$1 ;;
	ext4-dax) mkfs.ext4 -q -F /dev/pmem0 >/dev/null 2>&1 && mount -t ext4 -o dax /dev/pmem0 /mnt/$1 ;;
	xfs-dax) mkfs.xfs -q -f -m reflink=0 /dev/pmem0 >/dev/null 2>&1 && mount -t xfs -o dax /dev/pmem0 /mnt/$1 ;;
	*) return 1 ;;
	esac
}

for f in /scen/*.run; do
	n=${f%.run}
	id=${n##*/}
	kinds=$(cat $n.fs)
	ok=1
	for k in $kinds; do setup_fs $k || { echo "@@RUN $id SETUP-FAILED $k"; ok=0; }; done
	if [ $ok = 1 ]; then
		echo "@@RUN $id BEGIN"
		/bin/daxsim-runner $f "$(echo $kinds | tr ' ' '+')"
		echo "@@RUN $id END rc=$?"
	fi
	for k in $kinds; do umount /mnt/$k 2>/dev/null; done
done
echo "@@ORACLE_END"
sync
poweroff -f
