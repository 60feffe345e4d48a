// daxsim oracle probe: MAP_SHARED|MAP_ANONYMOUS memory (shmem-backed in Linux), 128 MiB one byte per page: a read
// pass then a write pass, and on a fresh mapping a write pass then a read pass; prints the faults.
// Build and run: gcc -O2 -o shanonprobe shanonprobe.c && ./shanonprobe
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
static long F(void){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_minflt+r.ru_majflt;}
int main(void){
  size_t len=128<<20;
  char*r=mmap(NULL,len+(8<<20),PROT_NONE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
  char*a=(char*)(((unsigned long)r+(2<<20)-1)&~((2UL<<20)-1));
  char*p=mmap(a,len,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED,-1,0);
  volatile unsigned long s=0; long f0;
  f0=F(); for(size_t o=0;o<len;o+=4096) s+=p[o]; long rd=F()-f0;
  f0=F(); for(size_t o=0;o<len;o+=4096) p[o]=1; long wr=F()-f0;
  munmap(p,len);
  p=mmap(a,len,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED,-1,0);
  f0=F(); for(size_t o=0;o<len;o+=4096) p[o]=1; long wr2=F()-f0;
  f0=F(); for(size_t o=0;o<len;o+=4096) s+=p[o]; long rd2=F()-f0;
  printf("{\"read\":%ld,\"write_after_read\":%ld,\"write\":%ld,\"read_after_write\":%ld}\n",rd,wr,wr2,rd2);
  return 0;
}
