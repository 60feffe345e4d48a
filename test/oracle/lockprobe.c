// daxsim oracle probe: MAP_LOCKED populates like MAP_POPULATE (do_mmap -> mm_populate). A cached
// 64 MiB ext4 file (4 KiB pwrites, fsync) mapped read-only MAP_SHARED|MAP_LOCKED, then read;
// mapped read-write MAP_SHARED|MAP_LOCKED, then written; and 64 MiB of private anonymous memory
// mapped MAP_LOCKED, then written. Prints the faults of each step as one JSON line (run as root,
// or with RLIMIT_MEMLOCK above 64 MiB).
// Build and run: gcc -O2 -o lockprobe lockprobe.c && ./lockprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
static long F(void){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_minflt+r.ru_majflt;}
int main(int argc,char**argv){
  char fn[4096]; snprintf(fn,sizeof fn,"%s/lk.dat",argv[1]); size_t len=64<<20;
  int fd=open(fn,O_RDWR|O_CREAT|O_TRUNC,0644); static char b[4096]; memset(b,3,sizeof b);
  for(size_t o=0;o<len;o+=4096) pwrite(fd,b,4096,o);
  fsync(fd);
  long f0=F(); char*p=mmap(NULL,len,PROT_READ,MAP_SHARED|MAP_LOCKED,fd,0); long d=F()-f0;
  if (p == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); return 1; } long mmap_faults = d;
  volatile unsigned long s=0; f0=F(); for(size_t o=0;o<len;o+=4096) s+=p[o]; long read_after = F()-f0;
  munmap(p,len);
  p=mmap(NULL,len,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_LOCKED,fd,0); f0=F(); for(size_t o=0;o<len;o+=4096) p[o]=1; long shared_write = F()-f0;
  munmap(p,len);
  p=mmap(NULL,len,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_LOCKED,-1,0); f0=F(); for(size_t o=0;o<len;o+=4096) p[o]=1; long anon_write = F()-f0;
  printf("{\"locked_mmap\":%ld,\"read_after\":%ld,\"locked_shared_rw_write\":%ld,\"locked_anon_write\":%ld}\n", mmap_faults, read_after, shared_write, anon_write);
  unlink(fn); return 0;
}
