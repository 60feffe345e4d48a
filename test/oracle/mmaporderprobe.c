// daxsim oracle probe: the order of mmap(2)'s argument checks (issue 17's fuzzer finding): each
// line is one call, its arguments as the API takes them (length and offset as signed 64-bit
// numbers, fd 99 never open, F an O_RDWR file of 8 KiB on DIR), then "ok" or the errno name.
// Build and run: gcc -O2 -o mmaporderprobe mmaporderprobe.c && ./mmaporderprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
static int fd;
static void T(const char* name, long long len, int prot, int flags, int usefd, long long off) {
  void* p = mmap(0, (size_t)len, prot, flags, usefd ? fd : 99, (off_t)off);
  printf("%s len=%lld prot=%d flags=0x%x fd=%s off=%lld: %s\n", name, len, prot, flags, usefd ? "F" : "99", off,
    p == MAP_FAILED ? strerrorname_np(errno) : "ok");
  if (p != MAP_FAILED) munmap(p, (size_t)len);
}
int main(int argc, char** argv) {
  char fn[256]; snprintf(fn, sizeof fn, "%s/mo.dat", argv[1]);
  fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, 8192) != 0) { perror(fn); return 1; }
  const long long M53 = -(1LL << 53);
  T("badfd-neglen-negoff-notype", -1, 0, 0, 0, M53);
  T("badfd-neglen", -1, 0, MAP_PRIVATE, 0, 0);
  T("badfd-zerolen", 0, 0, MAP_PRIVATE, 0, 0);
  T("badfd-unaligned-off", 4096, 0, MAP_PRIVATE, 0, 5);
  T("file-neglen-negoff", -1, 0, MAP_PRIVATE, 1, M53);
  T("file-negoff", 4096, PROT_READ, MAP_PRIVATE, 1, M53);
  T("file-negoff-notype", 4096, PROT_READ, 0, 1, M53);
  T("file-zerolen-negoff", 0, PROT_READ, MAP_PRIVATE, 1, M53);
  T("file-notype", 4096, PROT_READ, 0, 1, 0);
  T("anon-negoff", 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, M53);
  T("anon-unaligned-off", 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 100);
  T("anon-notype", 4096, PROT_READ, MAP_ANONYMOUS, 0, 0);
  T("file-toolong", 1LL << 47, PROT_READ, MAP_PRIVATE, 1, 0);
  unlink(fn);
  return 0;
}
