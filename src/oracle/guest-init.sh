#!/bin/busybox sh
# /init of daxsim's oracle guest (src/oracle/guest.ts builds the initramfs): loads the modules,
# then for each encoded scenario in /scen makes fresh filesystems (tmpfs, ext4 on the virtio
# disk, ext4 -o dax or xfs -o dax on the emulated pmem), runs /bin/daxsim-runner on it and prints
# its JSON lines on the console between @@RUN markers; powers off at the end. When
# /scen/trace.events lists tracepoints (events/ paths: fs_dax, exceptions/page_fault_user, ...),
# tracefs is mounted, those events are enabled around each run, the runner marks its steps in
# trace_marker, and the trace follows the run between @@TRACE markers (each event's format file
# is printed once, between @@FORMAT markers, for test/trace-formats/).
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

T=
if [ -s /scen/trace.events ]; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	if [ -w /sys/kernel/tracing/trace_marker ]; then
		T=/sys/kernel/tracing
		echo 0 > $T/tracing_on
		echo 16384 > $T/buffer_size_kb
		for e in $(cat /scen/trace.events); do
			echo 1 > $T/events/$e/enable 2>/dev/null || echo "@@TRACE-WARN no event $e"
		done
		# The format files of every event daxsim prints (jbd2 too, not enabled), for test/trace-formats/.
		for e in $(cat /scen/trace.events) jbd2; do
			for f in $T/events/$e/format $T/events/$e/*/format; do
				[ -f $f ] && { echo "@@FORMAT ${f#$T/events/}"; cat $f; echo "@@FORMAT-END"; }
			done
		done
	else
		echo "@@TRACE-WARN tracefs is not available in the guest"
	fi
fi

setup_fs() { # kind, scenario path without .run -> mounts /mnt/kind fresh ($2.xfs: extra mkfs.xfs arguments,
	# $2.tmpfs: the scenario's tmpfs size options, size=2g when it has none)
	mkdir -p /mnt/$1
	case $1 in
	tmpfs) o=$(cat $2.tmpfs 2>/dev/null); mount -t tmpfs -o ${o:-size=2g} tmpfs /mnt/$1 ;;
	ext4) mkfs.ext4 -q -F /dev/vda >/dev/null 2>&1 && mount -t ext4 /dev/vda /mnt/$1 ;;
	ext4-dax) mkfs.ext4 -q -F /dev/pmem0 >/dev/null 2>&1 && mount -t ext4 -o dax /dev/pmem0 /mnt/$1 ;;
	xfs-dax) mkfs.xfs -q -f -m reflink=0 $(cat $2.xfs 2>/dev/null) /dev/pmem0 >/dev/null 2>&1 &&
		mount -t xfs -o dax /dev/pmem0 /mnt/$1 ;;
	*) return 1 ;;
	esac
}

for f in /scen/*.run; do
	n=${f%.run}
	id=${n##*/}
	kinds=$(cat $n.fs)
	ok=1
	for k in $kinds; do setup_fs $k $n || { echo "@@RUN $id SETUP-FAILED $k"; ok=0; }; done
	if [ $ok = 1 ]; then
		echo "@@RUN $id BEGIN"
		if [ -n "$T" ]; then
			echo > $T/trace
			echo 1 > $T/tracing_on
			DAXSIM_TRACE_MARKER=$T/trace_marker /bin/daxsim-runner $f "$(echo $kinds | tr ' ' '+')"
			rc=$?
			echo 0 > $T/tracing_on
		else
			/bin/daxsim-runner $f "$(echo $kinds | tr ' ' '+')"
			rc=$?
		fi
		echo "@@RUN $id END rc=$rc"
		if [ -n "$T" ]; then
			echo "@@TRACE $id BEGIN"
			grep -e '^# entries-in-buffer' -e '^[^#]' $T/trace
			echo "@@TRACE $id END"
		fi
		# Where xfs put each file's blocks (not compared; read when modelling the allocator).
		for k in $kinds; do [ $k = xfs-dax ] && [ -x /sbin/xfs_io ] &&
			for p in $(find /mnt/$k -type f); do echo "@@BMAP $id $p"; xfs_io -r -c 'bmap -vp' $p; done; done
	fi
	for k in $kinds; do umount /mnt/$k 2>/dev/null; done
done
echo "@@ORACLE_END"
sync
poweroff -f
