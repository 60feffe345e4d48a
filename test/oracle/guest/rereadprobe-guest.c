// Guest shim: runs test/oracle/rereadprobe.c under ../shared/oracle/guest-harness (Linux 6.1 in
// QEMU with memmap=1G!4G pmem), whose /init calls `/bin/probe meta` and then
// `/bin/probe all FS MNT REPS WHICH` once per filesystem. Each "all" runs the probe for 64 KiB and
// 128 MiB files at VA skew 0 and 4096, REPS reps each, in a child process per case.
// To measure: copy the harness to a writable folder, put this file in its src/probe.c (it
// includes rereadprobe.c by the path below; adjust it to your checkout), and run
//   REPS=3 FSLIST=tmpfs,ext4,ext4-pmem-nodax,ext4-dax,ext4-dax-stripe2m bash run.sh
// then keep the console's {"kernel":...} lines: test/oracle/linux-6.1-guest-reread.jsonl came so
// (TCG: the fault counts are the kernel's, the times are the emulator's and are not used).
#include <sys/wait.h>
#define main reread_main
#include "/work/main/test/oracle/rereadprobe.c"
#undef main
int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "meta")) { printf("{\"scenario\":\"meta\"}\n"); return 0; }
  if (argc >= 5 && !strcmp(argv[1], "all")) {
    const char *sizes[] = { "64", "131072" };
    const char *skews[] = { "0", "4096" };
    for (int s = 0; s < 2; s++) for (int k = 0; k < 2; k++) {
      char *a[] = { argv[0], argv[3], (char *)sizes[s], argv[4], (char *)skews[k], argv[2], NULL };
      pid_t p = fork();
      if (p == 0) { reread_main(6, a); fflush(stdout); _exit(0); }
      int st;
      waitpid(p, &st, 0);
    }
    return 0;
  }
  return 2;
}
